//! The one way mm2-migrate tells a copy from its original: equal key bytes, value bytes and
//! timestamp (headers are ignored: replicators add provenance headers), and never one record
//! alone: a run of consecutive records must match one for one, so a repeated payload cannot fake
//! a match. The seam check (where the copies end) and the consumer-group translation (where a
//! group's position lies among the copies) both match through this module.

use rdkafka::Message;
use rdkafka::message::{BorrowedMessage, Timestamp};
use sha2::{Digest, Sha256};

/// Consecutive records that must match: one record alone could be a repeated payload.
pub const RUN: usize = 5;

/// A record's identity for matching: timestamp and a digest of key and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    pub timestamp: i64,
    pub digest: [u8; 32],
}

impl Fingerprint {
    pub fn new(key: Option<&[u8]>, value: Option<&[u8]>, timestamp: i64) -> Fingerprint {
        let mut hash = Sha256::new();
        for part in [key, value] {
            match part {
                None => hash.update([0u8]),
                Some(bytes) => {
                    hash.update([1u8]);
                    hash.update((bytes.len() as u64).to_be_bytes());
                    hash.update(bytes);
                }
            }
        }
        Fingerprint { timestamp, digest: hash.finalize().into() }
    }

    /// A message's fingerprint, and its timestamp as the topic gives it (its type says whether
    /// the broker rewrote it).
    pub fn of(message: &BorrowedMessage<'_>) -> (Fingerprint, Timestamp) {
        let timestamp = message.timestamp();
        (Fingerprint::new(message.key(), message.payload(), timestamp.to_millis().unwrap_or(-1)), timestamp)
    }
}

/// A record read from a log: its offset and fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Logged {
    pub offset: i64,
    pub fingerprint: Fingerprint,
}

/// Finds, in a stream of records (log order), the runs that equal the expected fingerprints.
#[derive(Debug)]
pub struct Matcher {
    expected: Vec<Fingerprint>,
    ring: std::collections::VecDeque<(i64, Fingerprint)>,
    /// (offset of the run's first record, offset of its last), in log order.
    pub matches: Vec<(i64, i64)>,
}

impl Matcher {
    pub fn new(expected: Vec<Fingerprint>) -> Matcher {
        Matcher { ring: std::collections::VecDeque::with_capacity(expected.len()), expected, matches: Vec::new() }
    }

    pub fn push(&mut self, offset: i64, fingerprint: Fingerprint) {
        if self.ring.len() == self.expected.len() {
            self.ring.pop_front();
        }
        self.ring.push_back((offset, fingerprint));
        if self.ring.len() == self.expected.len() && self.ring.iter().map(|(_, f)| f).eq(self.expected.iter()) {
            let first = self.ring.front().map_or(offset, |r| r.0);
            self.matches.push((first, offset));
        }
    }
}

/// Where a source record's copy is, among the records of a data window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Located {
    /// The copy's index in the data window.
    At(usize),
    /// No data record has the source record's fingerprint.
    Absent,
    /// Records with its fingerprint exist, but none (or several) with a run of `needed`
    /// consecutive records around it matching the source's, one for one.
    Unverified { candidates: usize, verified: usize },
}

/// Locates the copy of `source[i]` in `data` (both windows in log order). A candidate counts
/// when the records around it match: the run of equal pairs through it, at most `RUN - 1` either
/// way, is at least `needed` long (`RUN`, or fewer where fewer copies exist at all).
pub fn locate(source: &[Logged], data: &[Logged], i: usize, needed: usize) -> Located {
    let wanted = source[i].fingerprint;
    let mut candidates = 0;
    let mut verified = Vec::new();
    for (j, d) in data.iter().enumerate() {
        if d.fingerprint != wanted {
            continue;
        }
        candidates += 1;
        let back = (1..RUN).take_while(|k| k <= &i && k <= &j && source[i - k].fingerprint == data[j - k].fingerprint).count();
        let ahead =
            (1..RUN).take_while(|k| i + k < source.len() && j + k < data.len() && source[i + k].fingerprint == data[j + k].fingerprint).count();
        if back + 1 + ahead >= needed {
            verified.push(j);
        }
    }
    match (candidates, verified.as_slice()) {
        (0, _) => Located::Absent,
        (_, [j]) => Located::At(*j),
        (_, several) => Located::Unverified { candidates, verified: several.len() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(n: u8) -> Fingerprint {
        Fingerprint { timestamp: 1000, digest: [n; 32] }
    }

    fn log(first: i64, ns: &[u8]) -> Vec<Logged> {
        ns.iter().enumerate().map(|(i, n)| Logged { offset: first + i as i64, fingerprint: fp(*n) }).collect()
    }

    #[test]
    fn a_run_matches_only_when_every_record_of_it_does() {
        let mut m = Matcher::new(vec![fp(1), fp(2), fp(3)]);
        for (offset, n) in [(10, 3), (11, 1), (12, 2), (13, 3), (14, 9), (15, 2), (16, 3)] {
            m.push(offset, fp(n));
        }
        // 16 ends a run (9, 2, 3) that does not match: one equal record is no proof.
        assert_eq!(m.matches, [(11, 13)]);
    }

    #[test]
    fn fingerprints_tell_key_from_value_and_null_from_empty() {
        let f = |k: Option<&[u8]>, v: Option<&[u8]>| Fingerprint::new(k, v, 1);
        assert_ne!(f(Some(b"ab"), Some(b"c")), f(Some(b"a"), Some(b"bc")));
        assert_ne!(f(None, Some(b"")), f(Some(b""), Some(b"")));
        assert_ne!(Fingerprint::new(None, None, 1), Fingerprint::new(None, None, 2));
    }

    #[test]
    fn a_copy_is_located_by_the_run_around_it() {
        // Source 100..110; the copies start at data offset 50, after foreign records 1, 2.
        let source = log(100, &[10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
        let data = log(48, &[1, 2, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
        assert_eq!(locate(&source, &data, 3, RUN), Located::At(5), "source 103 is data 53");
        // Near the ends the run extends the other way.
        assert_eq!(locate(&source, &data, 9, RUN), Located::At(11));
        assert_eq!(locate(&source, &data, 0, RUN), Located::At(2));
        // A record with no copy.
        let gapped = log(50, &[10, 11, 12, 14, 15, 16, 17]);
        assert_eq!(locate(&source, &gapped, 3, RUN), Located::Absent);
    }

    #[test]
    fn a_repeated_payload_is_not_a_match() {
        // Source 7 7 7 7 7 7 7 7: every candidate but the first (only 3 records of context after
        // it where the source has them) has a full run around it.
        let source = log(0, &[7; 8]);
        let data = log(0, &[7; 8]);
        assert_eq!(locate(&source, &data, 4, RUN), Located::Unverified { candidates: 8, verified: 7 });
        // One equal record with different neighbours is not verified.
        let source = log(0, &[1, 2, 3, 4, 5, 6, 7]);
        let data = log(0, &[9, 9, 9, 4, 9, 9, 9]);
        assert_eq!(locate(&source, &data, 3, RUN), Located::Unverified { candidates: 1, verified: 0 });
        // ... unless fewer copies exist than a run: then all of them must match.
        let data = log(0, &[4]);
        assert_eq!(locate(&source, &data, 3, 1), Located::At(0));
    }
}
