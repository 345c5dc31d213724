//! Records as the host moves them between sources, plugins and sinks.

use crate::plugin::wit;

/// A record read from an offsets topic or a dump of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    /// Where it came from, for messages: `line 12`, `connect-offsets/3@1207`.
    pub origin: String,
    pub topic: Option<String>,
    pub partition: Option<i32>,
    pub offset: Option<i64>,
    pub timestamp: Option<i64>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
}

impl SourceRecord {
    /// The record as it crosses the contract, and its origin (kept for messages).
    pub(crate) fn into_wit(self) -> (String, wit::KafkaRecord) {
        let record = wit::KafkaRecord {
            topic: self.topic.unwrap_or_default(),
            partition: self.partition,
            offset: self.offset,
            timestamp: self.timestamp,
            key: self.key,
            value: self.value,
            headers: Vec::new(),
        };
        (self.origin, record)
    }
}

/// A plugin's output record, admitted (`plugin::output`) but not yet partitioned: the partition is
/// computed once, when the target topic's partition count is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedRecord {
    pub topic: String,
    pub key: Vec<u8>,
    /// `None` is a tombstone.
    pub value: Option<Vec<u8>>,
    /// The partition the plugin named, if any: it must be the key's.
    pub declared_partition: Option<i32>,
    /// The source record it was mapped from.
    pub origin: String,
}

/// A record to write to the target offsets topic, partitioned as Kafka's Java producer would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRecord {
    pub topic: String,
    pub partition: i32,
    pub key: Vec<u8>,
    /// `None` is a tombstone.
    pub value: Option<Vec<u8>>,
    /// The source record it was mapped from.
    pub origin: String,
}
