//! Where MM2's offsets live: its offsets topic (dedicated mode, or the topic a Connect worker
//! loads), or a MirrorSourceConnector's offsets behind a Connect cluster's REST API. The live
//! commands reach MM2's offsets through [`Target`] only, so every batch (a run's snapshot, each of
//! `--follow`'s rounds) is read and written the same way. Adding a target is a new file here and
//! one arm in each match below.

mod connect;
mod error;
mod groups;
mod topic;

pub use connect::{ConnectRun, ConnectSource};
pub use error::TargetError;
pub use groups::{GroupsReady, GroupsTarget};
pub use topic::OffsetsTopic;

use std::borrow::Borrow;

use crate::connect::ConnectTarget;
use crate::kafka::{Connection, Delivered, Writer};
use crate::model::{MappedRecord, TargetRecord, TargetState};

/// Where MM2's offsets are read and written.
#[derive(Debug, Clone)]
pub enum Target {
    /// MM2's offsets topic, written with an idempotent producer and read back.
    Topic(OffsetsTopic),
    /// A MirrorSourceConnector's offsets through Connect's offsets API (KIP-875).
    Connect(ConnectTarget),
}

/// MM2's offsets as the target holds them when a batch is admitted (in a plan's JSON, its
/// `target_*` and `connect` fields).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Current {
    /// The offsets topic the batch goes to (`None` through Connect, or when nothing names one).
    #[serde(rename = "target_topic")]
    pub topic: Option<String>,
    #[serde(rename = "target_exists")]
    pub exists: bool,
    /// The partitions records are placed over: the topic's, the count `run` would create it with,
    /// or Connect's one logical partition.
    #[serde(rename = "target_partitions")]
    pub partitions: u32,
    #[serde(skip)]
    pub state: TargetState,
    /// MM2's offsets as read through Connect's REST API (instead of a topic).
    pub connect: Option<ConnectSource>,
}

/// A target made ready to take a write before its state is read: a producer connected (with its
/// producer id), or a connector stopped (stopping commits its last offsets, which the plan reads).
pub enum Ready<'t> {
    Topic(Writer<'t>),
    Connect { stopped_by_run: bool },
}

/// What a confirmed write did.
#[derive(Debug, Clone, Default)]
pub struct Written {
    pub created_topic: bool,
    /// The records the offsets topic acknowledged.
    pub delivered: Vec<Delivered>,
    /// What Connect altered.
    pub connect: Option<ConnectRun>,
}

/// The source offsets topic, which no target may be.
#[derive(Debug, Clone, Copy)]
pub struct SourceTopic<'a> {
    pub connection: &'a Connection,
    pub topic: &'a str,
}

impl Target {
    /// What `run` does before the plan: connects the producer, or stops the connector (refused
    /// unless it is stopped or `--stop-connector` says to stop it).
    pub fn prepare(&self) -> Result<Ready<'_>, TargetError> {
        match self {
            Target::Topic(topic) => Ok(Ready::Topic(Writer::start(&topic.connection)?)),
            Target::Connect(connect) => Ok(Ready::Connect { stopped_by_run: connect::ensure_stopped(connect)? }),
        }
    }

    /// MM2's current offsets where `records` would go, after checking that they may go there.
    pub fn current(&self, records: &[MappedRecord], source: SourceTopic<'_>) -> Result<Current, TargetError> {
        match self {
            Target::Topic(topic) => topic.current(records, source),
            Target::Connect(connect) => connect::current(connect),
        }
    }

    /// Writes `to_write` where `current` was read, then confirms every record by reading back.
    pub fn write<R: Borrow<TargetRecord>>(&self, ready: &Ready<'_>, current: &Current, to_write: &[R]) -> Result<Written, TargetError> {
        match (self, ready) {
            (Target::Topic(topic), Ready::Topic(writer)) => topic.write(writer, current, to_write),
            (Target::Connect(connect), Ready::Connect { stopped_by_run }) => connect::write(connect, *stopped_by_run, to_write),
            _ => unreachable!("a target is written with the Ready it prepared"),
        }
    }

    /// This target with its offsets topic fixed to `topic` (when there is one): what `--follow`
    /// writes after a run, so that a plugin naming another topic later is refused, not followed.
    pub fn pinned_to(&self, topic: Option<&str>) -> Target {
        match (self, topic) {
            (Target::Topic(t), Some(topic)) => Target::Topic(OffsetsTopic { named: Some(topic.to_owned()), ..t.clone() }),
            (other, _) => other.clone(),
        }
    }

    /// The offsets topic, when MM2's offsets are in one.
    pub fn topic(&self) -> Option<&OffsetsTopic> {
        match self {
            Target::Topic(topic) => Some(topic),
            Target::Connect(_) => None,
        }
    }

    /// Whether MM2's offsets go through Connect's REST API.
    pub fn is_connect(&self) -> bool {
        matches!(self, Target::Connect(_))
    }
}
