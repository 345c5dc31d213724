//! Partitions as the domain names them.

/// A topic's partition: `(topic, partition)`.
pub type TopicPartition = (String, i32);

/// A partition's log start and end offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PartitionRange {
    pub partition: i32,
    /// The first offset still in the log.
    pub start: i64,
    /// The offset the next record will get.
    pub end: i64,
}
