//! What can go wrong reading or writing MM2's offsets where they live.

use crate::connect::ConnectError;
use crate::kafka::{KafkaError, WriteFailure};

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    #[error(transparent)]
    Write(#[from] WriteFailure),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(
        "refused: connector {connector:?} at {url} is {state} with {tasks} task(s); Connect alters the offsets of a \
         STOPPED connector only, and MM2 reads them only when its tasks start. Stop it with `{stop_command}` \
         (Strimzi: set the mirror's sourceConnector state: stopped), or pass --stop-connector; nothing was written"
    )]
    ConnectorRunning { connector: String, url: String, state: String, tasks: usize, stop_command: String },
    #[error("the target topic {topic:?} is the source topic on the same cluster; mm2-migrate never writes to its source")]
    TargetIsSource { topic: String },
    #[error("the plugin writes to {found} but the target topic is {named}; set the plugin's target topic to match")]
    TargetTopicMismatch { found: String, named: String },
    #[error("target topic {topic:?} has {found} partitions, the plan was made for {planned}; run again")]
    PartitionsChanged { topic: String, found: u32, planned: u32 },
    #[error("written records are missing from {topic} when read back: {}", missing.join(", "))]
    NotConfirmed { topic: String, missing: Vec<String> },
    #[error(
        "MM2's checkpoints topic {topic:?} has cleanup.policy={policy}: MM2 creates it compacted and reads the last \
         checkpoint per key, which only compaction keeps; set cleanup.policy=compact on it, or pass --no-checkpoints"
    )]
    CheckpointsNotCompacted { topic: String, policy: String },
    #[error("written group offsets or checkpoints are missing when read back: {}", .0.join(", "))]
    GroupsNotConfirmed(Vec<String>),
}
