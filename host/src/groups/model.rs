//! What a groups plan is made of, and the pure rules over it: each entry's action, what `run`
//! refuses, what it writes. No I/O.

use std::collections::{BTreeMap, HashMap};

use connect_offsets::checkpoint::Checkpoint;

use super::{GroupsError, GroupsOptions, Position, Status};
use crate::kafka::{Committed, TopicPartition};
use crate::model::TargetRecord;
use crate::model::ReplicationPolicy;

/// A group left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Excluded {
    pub group: String,
    pub reason: String,
}

/// Which groups are translated.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Selection {
    /// What selected them: `--group`, the flow's `groups`, or MM2's defaults.
    pub selected_by: String,
    pub groups: Vec<String>,
    pub excluded: Vec<Excluded>,
}

/// What `groups run` does with an entry's group offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Commit the translated offset (new, or forward).
    Commit,
    /// The group is already there.
    Unchanged,
    /// The translated offset is below what the target holds: refused without --allow-rewind.
    Rewind,
    /// The group has members on the data cluster: refused without --skip-active, then skipped.
    Active,
    /// Unproven: nothing is written.
    None,
}

/// What `groups run` does with an entry's checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckpointAction {
    Write,
    Unchanged,
    /// Not written: checkpoints are off, or the group offset is not written.
    None,
}

/// One group on one partition.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupEntry {
    pub group: String,
    pub source_topic: String,
    pub partition: i32,
    /// G: the group's committed offset on the replicated cluster.
    pub source_offset: i64,
    pub target_topic: String,
    #[serde(flatten)]
    pub position: Position,
    /// The group's committed offset on the data cluster now.
    pub current_offset: Option<i64>,
    /// The downstream offset of MM2's checkpoint for it now.
    pub current_checkpoint: Option<i64>,
    pub action: Action,
    pub checkpoint_action: CheckpointAction,
    /// The commit's metadata on the replicated cluster (MM2 copies it into checkpoints).
    #[serde(skip)]
    pub metadata: String,
}

impl GroupEntry {
    pub(super) fn checkpoint(&self) -> Option<Checkpoint> {
        Some(Checkpoint {
            group: self.group.clone(),
            topic: self.target_topic.clone(),
            partition: self.partition,
            upstream_offset: self.source_offset,
            downstream_offset: self.position.target_offset?,
            metadata: self.metadata.clone(),
        })
    }

    /// `group g1: orders/0 -> orders/0`.
    pub fn name(&self) -> String {
        format!("group {}: {}/{} -> {}/{}", self.group, self.source_topic, self.partition, self.target_topic, self.partition)
    }
}

/// A group with members on the data cluster.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ActiveGroup {
    pub group: String,
    pub members: usize,
    pub state: String,
}

/// The computed plan.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupsPlan {
    pub replicated: String,
    pub data: String,
    pub replication_policy: ReplicationPolicy,
    pub selection: Selection,
    /// MM2's checkpoints topic on the data cluster; `None` when none is written, with why.
    pub checkpoints_topic: Option<String>,
    pub checkpoints_note: String,
    pub active: Vec<ActiveGroup>,
    /// Entries per status (`exact`, `end`, ...) and per action.
    pub statuses: BTreeMap<String, u64>,
    pub actions: BTreeMap<String, u64>,
    pub entries: Vec<GroupEntry>,
    /// Per replicated partition, the source offset of its last copy when planned: the seam
    /// `groups run --follow` waits for every group to pass.
    #[serde(skip)]
    pub last_copies: HashMap<TopicPartition, i64>,
}

impl GroupsPlan {
    /// `--follow`'s rounds move groups forward only: an entry the target already holds further
    /// on (MM2's checkpoints, or its consumers, moved it) is left alone rather than refused.
    pub(super) fn forward_only(&mut self) {
        for e in self.entries.iter_mut().filter(|e| e.action == Action::Rewind) {
            e.action = Action::None;
            e.checkpoint_action = CheckpointAction::None;
        }
    }

    /// Entries still behind their partition's seam (`last_copies`): those MM2's own checkpoints
    /// cannot translate yet. Unproven entries and active groups are not waited for.
    pub fn behind_seam<'a>(&'a self, seams: &'a HashMap<TopicPartition, i64>) -> impl Iterator<Item = &'a GroupEntry> + 'a {
        self.entries.iter().filter(move |e| {
            let seam = seams.get(&(e.source_topic.clone(), e.partition));
            e.position.status != Status::Unproven && e.action != Action::Active && seam.is_some_and(|w| e.source_offset <= *w)
        })
    }

    /// The group offsets to commit, by group.
    pub(super) fn commits(&self, allow_rewind: bool) -> BTreeMap<&str, Vec<Committed>> {
        let mut out: BTreeMap<&str, Vec<Committed>> = BTreeMap::new();
        for e in &self.entries {
            let write = match e.action {
                Action::Commit => true,
                Action::Rewind => allow_rewind,
                _ => false,
            };
            if let (true, Some(offset)) = (write, e.position.target_offset) {
                out.entry(&e.group).or_default().push(Committed {
                    partition: (e.target_topic.clone(), e.partition),
                    offset,
                    metadata: e.metadata.clone(),
                });
            }
        }
        out
    }

    /// The checkpoint records to write, with their entries' names.
    pub(super) fn checkpoint_records(&self) -> Result<Vec<TargetRecord>, GroupsError> {
        let Some(topic) = &self.checkpoints_topic else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for e in self.entries.iter().filter(|e| e.checkpoint_action == CheckpointAction::Write) {
            let Some(c) = e.checkpoint() else { continue };
            let bad = |m: String| GroupsError::Usage(format!("{}: {m}", e.name()));
            out.push(TargetRecord { topic: topic.clone(), partition: 0, key: c.key().map_err(bad)?, value: Some(c.value().map_err(bad)?), origin: e.name() });
        }
        Ok(out)
    }
}

/// A serde enum's name: `exact`, `commit`, ...
pub(crate) fn kebab(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The rule for an entry's group offset.
pub(super) fn action(entry: &GroupEntry, active: bool) -> Action {
    let Some(target) = entry.position.target_offset else { return Action::None };
    if active {
        return Action::Active;
    }
    // MM2 never moves a checkpoint back; a lower one written here would.
    let ahead = entry.current_offset.into_iter().chain(entry.current_checkpoint).any(|current| current > target);
    match entry.current_offset {
        _ if ahead => Action::Rewind,
        Some(current) if current == target => Action::Unchanged,
        _ => Action::Commit,
    }
}

/// What `groups run` refuses, as sentences: active groups (without --skip-active) and rewinds
/// (without --allow-rewind).
pub fn refusals(plan: &GroupsPlan, options: &GroupsOptions) -> Vec<String> {
    let mut out = Vec::new();
    if !options.skip_active {
        for a in &plan.active {
            out.push(format!(
                "group {:?} is active on the data cluster ({} member(s), {}): the broker accepts its offsets only while it has \
                 no members; stop its consumers there, or pass --skip-active to leave it out",
                a.group, a.members, a.state
            ));
        }
    }
    if !options.allow_rewind {
        for e in plan.entries.iter().filter(|e| e.action == Action::Rewind) {
            out.push(format!(
                "{}: the translated offset {} is below the target's {} (group offset {}, checkpoint {}): consumers would read \
                 records again; pass --allow-rewind to write it",
                e.name(),
                e.position.target_offset.unwrap_or_default(),
                e.current_offset.max(e.current_checkpoint).unwrap_or_default(),
                e.current_offset.map_or("none".into(), |o| o.to_string()),
                e.current_checkpoint.map_or("none".into(), |o| o.to_string()),
            ));
        }
    }
    out
}
