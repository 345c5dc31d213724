//! MirrorMaker 2's checkpoint records (`Checkpoint` in mirror-client), byte for byte: the records
//! `MirrorCheckpointTask` writes to `<source alias>.checkpoints.internal` and that
//! `RemoteClusterUtils.translateOffsets` reads back. Kafka protocol types, big-endian:
//!
//! - key: STRING group, STRING topic (the downstream topic), INT32 partition;
//! - value: INT16 version (0), INT64 upstream offset, INT64 downstream offset, STRING metadata.
//!
//! A STRING is an INT16 length and that many UTF-8 bytes; it is never null (empty is `00 00`).

/// The only value version MM2 writes and reads (`Checkpoint.VERSION`).
pub const VERSION: i16 = 0;

/// One consumer group's translated position on one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub group: String,
    /// The downstream topic (the one MM2 writes to, after its replication policy).
    pub topic: String,
    pub partition: i32,
    pub upstream_offset: i64,
    pub downstream_offset: i64,
    pub metadata: String,
}

/// The checkpoints topic of a source alias (`MirrorClientConfig.checkpointsTopic` with the
/// default replication policies: `<alias>.checkpoints.internal`).
pub fn checkpoints_topic(source_alias: &str) -> String {
    format!("{source_alias}.checkpoints.internal")
}

fn write_string(out: &mut Vec<u8>, s: &str, field: &str) -> Result<(), String> {
    let length = i16::try_from(s.len()).map_err(|_| format!("the {field} is {} bytes long; Kafka's STRING holds at most 32767", s.len()))?;
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

impl Checkpoint {
    /// The record key (`Checkpoint.recordKey`).
    pub fn key(&self) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(8 + self.group.len() + self.topic.len());
        write_string(&mut out, &self.group, "group name")?;
        write_string(&mut out, &self.topic, "topic name")?;
        out.extend_from_slice(&self.partition.to_be_bytes());
        Ok(out)
    }

    /// The record value (`Checkpoint.recordValue`).
    pub fn value(&self) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(20 + self.metadata.len());
        out.extend_from_slice(&VERSION.to_be_bytes());
        out.extend_from_slice(&self.upstream_offset.to_be_bytes());
        out.extend_from_slice(&self.downstream_offset.to_be_bytes());
        write_string(&mut out, &self.metadata, "metadata")?;
        Ok(out)
    }

    /// A record as `Checkpoint.deserializeRecord` reads it; every byte must be accounted for.
    pub fn decode(key: &[u8], value: &[u8]) -> Result<Checkpoint, String> {
        let mut k = Reader { bytes: key, at: 0, what: "key" };
        let (group, topic, partition) = (k.string()?, k.string()?, k.i32()?);
        k.end()?;
        let mut v = Reader { bytes: value, at: 0, what: "value" };
        let version = v.i16()?;
        if version != VERSION {
            return Err(format!("checkpoint value version {version}; MM2 writes version {VERSION}"));
        }
        let (upstream_offset, downstream_offset, metadata) = (v.i64()?, v.i64()?, v.string()?);
        v.end()?;
        Ok(Checkpoint { group, topic, partition, upstream_offset, downstream_offset, metadata })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    what: &'static str,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.bytes.len()).ok_or_else(|| {
            format!("checkpoint {} ends after {} bytes, {} more expected", self.what, self.bytes.len(), n)
        })?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn i16(&mut self) -> Result<i16, String> {
        Ok(i16::from_be_bytes(self.take(2)?.try_into().map_err(|_| "length")?))
    }

    fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_be_bytes(self.take(4)?.try_into().map_err(|_| "length")?))
    }

    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_be_bytes(self.take(8)?.try_into().map_err(|_| "length")?))
    }

    fn string(&mut self) -> Result<String, String> {
        let length = self.i16()?;
        let length = usize::try_from(length).map_err(|_| format!("checkpoint {} holds a null or negative string length {length}", self.what))?;
        let what = self.what;
        String::from_utf8(self.take(length)?.to_vec()).map_err(|_| format!("checkpoint {what} holds a string that is not UTF-8"))
    }

    fn end(&self) -> Result<(), String> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(format!("checkpoint {} has {} bytes after its last field", self.what, self.bytes.len() - self.at))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            group: "g1".into(),
            topic: "orders".into(),
            partition: 2,
            upstream_offset: 1000,
            downstream_offset: 977,
            metadata: String::new(),
        }
    }

    #[test]
    fn bytes_are_mm2s() {
        // Written out by hand from Checkpoint.KEY_SCHEMA / VALUE_SCHEMA_V0 and Type.STRING.
        let c = checkpoint();
        assert_eq!(c.key().unwrap(), [&[0, 2][..], b"g1", &[0, 6], b"orders", &[0, 0, 0, 2]].concat());
        assert_eq!(
            c.value().unwrap(),
            [&[0, 0][..], &1000i64.to_be_bytes(), &977i64.to_be_bytes(), &[0, 0]].concat(),
            "version 0, upstream, downstream, empty metadata as 00 00"
        );
        assert_eq!(Checkpoint::decode(&c.key().unwrap(), &c.value().unwrap()).unwrap(), c);
        assert_eq!(checkpoints_topic("primary"), "primary.checkpoints.internal");
    }

    #[test]
    fn malformed_records_are_named() {
        let c = checkpoint();
        let (key, value) = (c.key().unwrap(), c.value().unwrap());
        assert!(Checkpoint::decode(&key[..key.len() - 1], &value).unwrap_err().contains("key ends"));
        assert!(Checkpoint::decode(&key, &[value.clone(), vec![0]].concat()).unwrap_err().contains("after its last field"));
        let mut v1 = value.clone();
        v1[1] = 1;
        assert!(Checkpoint::decode(&key, &v1).unwrap_err().contains("version 1"));
        let long = Checkpoint { metadata: "m".repeat(40_000), ..c };
        assert!(long.value().unwrap_err().contains("32767"));
    }
}
