//! Kafka's Java producer partitioning for keyed records: `toPositive(murmur2(key)) % partitions`
//! (clients `Utils.murmur2`, `BuiltInPartitioner.partitionForKey`). librdkafka's default
//! partitioner differs, and a record in the wrong partition of an offsets topic is never
//! compacted away, so the partition is always computed here.

/// Kafka's `Utils.murmur2`, bit for bit (seed 0x9747b28c, little-endian 4-byte blocks).
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;

    let mut h: u32 = SEED ^ data.len() as u32;
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = blocks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Kafka's `Utils.toPositive`: clears the sign bit (not `abs`, which differs for i32::MIN).
pub fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// The partition Kafka's Java producer picks for `key` in a topic of `partitions` partitions.
pub fn partition_for_key(key: &[u8], partitions: u32) -> i32 {
    assert!(partitions > 0, "a topic has at least one partition");
    (to_positive(murmur2(key)) as u32 % partitions) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectors of Kafka's clients `UtilsTest.testMurmur2`.
    #[test]
    fn matches_kafka_utils_test_vectors() {
        let cases: &[(&[u8], i32)] = &[
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            (b"abc", 479_470_107),
        ];
        for (input, expected) in cases {
            assert_eq!(murmur2(input), *expected, "{}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn bytes_above_0x7f_are_unsigned_as_in_java_masking() {
        // Java masks each byte with 0xff; a sign-extension bug would change these.
        assert_ne!(murmur2(&[0xff, 0xfe, 0xfd]), murmur2(&[0x7f, 0x7e, 0x7d]));
        assert_eq!(murmur2("ü".as_bytes()), murmur2(&[0xc3, 0xbc]));
    }

    #[test]
    fn to_positive_clears_the_sign_bit() {
        assert_eq!(to_positive(-1), i32::MAX);
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(42), 42);
    }

    #[test]
    fn partition_is_in_range() {
        assert_eq!(partition_for_key(b"foobar", 1), 0);
        // -790332482 & 0x7fffffff = 1357151166; % 25 = 16
        assert_eq!(partition_for_key(b"foobar", 25), 16);
        for n in 1..50 {
            assert!((0..n as i32).contains(&partition_for_key(b"21", n)));
        }
    }
}
