//! The domain, at the bottom of the host: records, MM2's offsets topic as Connect loads it,
//! partitions, the replication policy and the resume choice. Nothing here does I/O, parses a
//! command line or knows the plugin contract; every other module may use it.

pub mod compaction;
mod partition;
mod record;
mod replication;
mod resume;
mod target;

pub use partition::{PartitionRange, TopicPartition};
pub use record::{MappedRecord, Origin, SourceRecord, TargetRecord};
pub use replication::ReplicationPolicy;
pub use resume::ResumeAt;
pub use target::{ExistingRecord, ReadBack, ReplicatedRanges, TargetState};

/// Records per plugin call unless `--batch-size` says otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 256;
/// MM2's offsets topic's partitions, as MM2 creates it (`offset.storage.partitions`).
pub const DEFAULT_PARTITIONS: u32 = 25;
