//! Consumer groups that fail over exactly: each group's committed offset on the replicated
//! cluster translated, record by record, to the offset of the same record's copy on the data
//! cluster, and written there as the group's offset and as MM2's own checkpoint.
//!
//! MM2's checkpoint connector translates only through the offset syncs its own copying writes;
//! for data the old tool copied there are none, and a group behind MM2's first copy gets no
//! checkpoint until it catches up. The copies themselves say where each record went: the same
//! matching as the seam check ([`crate::matching`]) places every committed offset among them.
//!
//! Data flows one way: [`plan`] reads (groups, commits, copies, the target's state) and decides
//! every entry's action; [`run`] refuses what is unsafe, then writes exactly the plan's writes
//! and reads them back; [`differences`] is what `groups verify` reports.

mod model;
mod plan;
pub mod position;
mod read;
mod write;

use crate::kafka::{self, Connection, KafkaError};
use crate::mm2config::Flow;
use crate::model::ReplicationPolicy;
pub use model::{Action, ActiveGroup, CheckpointAction, Excluded, GroupEntry, GroupsPlan, Selection, refusals};
pub(crate) use model::kebab;
pub use plan::plan;
pub use position::{Position, Status};
pub use write::{FollowSummary, GroupsRun, follow, run};

/// Everything the groups commands need, resolved from the command line and the job file.
#[derive(Debug, Clone)]
pub struct GroupsOptions {
    /// Where the groups commit: the cluster the old tool copied from (MM2's source).
    pub replicated: Connection,
    /// Where the copies are, and where group offsets and checkpoints are written.
    pub data: Connection,
    pub policy: ReplicationPolicy,
    pub flow: Option<Flow>,
    /// The source alias (the flow's, or `--source-alias`): names the checkpoints topic and,
    /// with DefaultReplicationPolicy, the data topics.
    pub source_alias: Option<String>,
    /// `--group`: whole-name patterns; empty for the flow's (or MM2's default) selection.
    pub patterns: Vec<String>,
    pub skip_active: bool,
    pub allow_rewind: bool,
    /// Write MM2's checkpoints too (not `--no-checkpoints`).
    pub checkpoints: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum GroupsError {
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    #[error(transparent)]
    Write(#[from] kafka::WriteFailure),
    /// The operator's selection or configuration cannot work (exit 2).
    #[error("{0}")]
    Usage(String),
    /// A `--group` pattern that matches no group (exit 1).
    #[error("{0}")]
    NoMatch(String),
    /// Unsafe to write (exit 3); nothing was written.
    #[error("refused: {} problem(s); nothing was written:\n{}", .0.len(), .0.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n"))]
    Refused(Vec<String>),
    #[error("written group offsets or checkpoints are missing when read back: {}", .0.join(", "))]
    NotConfirmed(Vec<String>),
    /// Any other failure of the groups target (exit 1).
    #[error(transparent)]
    Target(crate::target::TargetError),
}

impl From<crate::target::TargetError> for GroupsError {
    /// The groups target's errors, under the groups commands' own names and exit statuses.
    fn from(e: crate::target::TargetError) -> GroupsError {
        use crate::target::TargetError;
        match e {
            TargetError::Kafka(k) => GroupsError::Kafka(k),
            TargetError::Write(w) => GroupsError::Write(w),
            TargetError::GroupsNotConfirmed(missing) => GroupsError::NotConfirmed(missing),
            refused @ TargetError::CheckpointsNotCompacted { .. } => GroupsError::Refused(vec![refused.to_string()]),
            other => GroupsError::Target(other),
        }
    }
}

/// Entries where the data cluster differs from the plan: what `groups verify` reports. Groups
/// skipped as active, and unproven entries, are not differences.
pub fn differences(plan: &GroupsPlan) -> Vec<&GroupEntry> {
    plan.entries
        .iter()
        .filter(|e| matches!(e.action, Action::Commit | Action::Rewind) || e.checkpoint_action == CheckpointAction::Write)
        .collect()
}
