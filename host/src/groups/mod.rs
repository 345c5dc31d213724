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

pub mod position;
mod read;

use std::collections::{BTreeMap, HashMap};

use connect_offsets::checkpoint::{Checkpoint, checkpoints_topic};
use connect_offsets::topics::TopicFilter;

use crate::kafka::{self, Committed, Connection, GroupListing, KafkaError, TopicPartition, TopicSetup, Windows};
use crate::mm2config::{DEFAULT_GROUPS_EXCLUDE, DEFAULT_TOPICS_EXCLUDE, Flow, split_list};
use crate::record::TargetRecord;
use crate::seam::ReplicationPolicy;
pub use position::{Position, Status};

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
}

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
    fn checkpoint(&self) -> Option<Checkpoint> {
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
    fn forward_only(&mut self) {
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
    fn commits(&self, allow_rewind: bool) -> BTreeMap<&str, Vec<Committed>> {
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
    fn checkpoint_records(&self) -> Result<Vec<TargetRecord>, GroupsError> {
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

/// Whole-name patterns as MM2's filters read them.
fn filter(include: &[String], exclude: &[String]) -> Result<TopicFilter, GroupsError> {
    TopicFilter::new(include, exclude).map_err(GroupsError::Usage)
}

/// Selects the groups to translate from those listed on the replicated cluster.
fn select(options: &GroupsOptions, listed: &[GroupListing]) -> Result<Selection, GroupsError> {
    let mut excluded = Vec::new();
    let (selected_by, include, exclude) = match (&options.patterns[..], &options.flow) {
        ([], Some(flow)) => (
            format!("{} ({}), {} ({})", flow.groups.value.join(", "), flow.groups.from, flow.groups_exclude.value.join(", "), flow.groups_exclude.from),
            flow.groups.value.clone(),
            flow.groups_exclude.value.clone(),
        ),
        ([], None) => (format!("MM2's default groups (every group but {DEFAULT_GROUPS_EXCLUDE})"), vec![".*".to_owned()], split_list(DEFAULT_GROUPS_EXCLUDE)),
        (patterns, _) => ("--group".to_owned(), patterns.to_vec(), Vec::new()),
    };
    let selection = filter(&include, &exclude)?;
    // Each --group pattern must find a group: a typo must not pass for "nothing to do".
    for pattern in &options.patterns {
        let one = filter(std::slice::from_ref(pattern), &[])?;
        if !listed.iter().any(|g| one.accepts(&g.name)) {
            return Err(GroupsError::NoMatch(format!(
                "--group {pattern:?} matches no consumer group on the replicated cluster {} ({} group(s) listed; a group the \
                 principal may not Describe is not listed: the group Describe ACL is needed)",
                options.replicated.bootstrap,
                listed.len()
            )));
        }
    }
    let mut groups = Vec::new();
    for g in listed {
        if !selection.accepts(&g.name) {
            if options.patterns.is_empty() {
                excluded.push(Excluded { group: g.name.clone(), reason: format!("not selected by {selected_by}") });
            }
            continue;
        }
        // Kafka Connect workers (MM2's dedicated mode, Replicator's and Mirus's workers) form
        // groups of protocol type `connect`: they are not consumers of the replicated data.
        if g.protocol_type == "connect" {
            excluded.push(Excluded { group: g.name.clone(), reason: "a Kafka Connect worker group (protocol type connect)".into() });
            continue;
        }
        if g.name == kafka::CONSUMER_GROUP {
            excluded.push(Excluded { group: g.name.clone(), reason: "mm2-migrate's own".into() });
            continue;
        }
        groups.push(g.name.clone());
    }
    Ok(Selection { selected_by, groups, excluded })
}

/// The replicated partitions MM2 replicates: the flow's topic filter, else MM2's defaults.
fn replicated_partitions(options: &GroupsOptions) -> Result<Vec<TopicPartition>, GroupsError> {
    let (include, exclude) = match &options.flow {
        Some(flow) => (flow.topics.value.clone(), flow.topics_exclude.value.clone()),
        None => (vec![".*".to_owned()], split_list(DEFAULT_TOPICS_EXCLUDE)),
    };
    let topics = filter(&include, &exclude)?;
    let mut partitions: Vec<TopicPartition> = Windows::new(&options.replicated)?
        .all_topics()?
        .into_iter()
        .filter(|(t, _)| topics.accepts(t))
        .flat_map(|(t, ps)| ps.into_iter().map(move |p| (t.clone(), p)))
        .collect();
    partitions.sort_unstable();
    Ok(partitions)
}

/// Reads the groups, their commits, the copies and the target's state; decides every entry.
pub fn plan(options: &GroupsOptions) -> Result<GroupsPlan, GroupsError> {
    if matches!(options.policy, ReplicationPolicy::Default { .. }) && options.source_alias.is_none() {
        return Err(GroupsError::Usage(
            "with --replication-policy default the data topics are named after the source alias: give --source-alias, \
             or --mm2-config / --strimzi / --connect-url"
                .into(),
        ));
    }
    let started = std::time::Instant::now();
    let phase = |what: &str| tracing::debug!("groups plan: {what} after {:?}", started.elapsed());
    // 1. The groups, and each one's commits on the topics MM2 replicates.
    let listed = kafka::list_groups(&options.replicated)?;
    let mut selection = select(options, &listed)?;
    let partitions = replicated_partitions(options)?;
    let replicated: std::collections::HashSet<&TopicPartition> = partitions.iter().collect();
    let mut found = kafka::fetch_group_offsets(&options.replicated, &selection.groups)?;
    let mut commits: Vec<(String, Committed)> = Vec::new();
    let mut kept = Vec::new();
    for group in std::mem::take(&mut selection.groups) {
        let on_replicated = found.remove(&group).map(|all| all.into_iter().filter(|c| replicated.contains(&c.partition)).collect::<Vec<_>>());
        match on_replicated.filter(|c| !c.is_empty()) {
            Some(group_commits) => {
                commits.extend(group_commits.into_iter().map(|c| (group.clone(), c)));
                kept.push(group);
            }
            None => selection.excluded.push(Excluded { group, reason: "no commits on the topics MM2 replicates".into() }),
        }
    }
    selection.groups = kept;
    phase("groups and commits read");

    // 2. Where each commit lies among the copies.
    let alias = options.source_alias.as_deref().unwrap_or_default();
    let data_partition = |tp: &TopicPartition| (options.policy.data_topic(alias, &tp.0), tp.1);
    let mut positions_wanted: HashMap<TopicPartition, Vec<i64>> = HashMap::new();
    for (_, c) in &commits {
        positions_wanted.entry(c.partition.clone()).or_default().push(c.offset);
    }
    let pairs = read::read_pairs(options, &positions_wanted, &data_partition)?;
    let last_copies = read::last_copies(&pairs);
    phase("copies read");

    // 3. The target's state: members, current offsets, checkpoints.
    let data_groups: HashMap<String, GroupListing> = kafka::list_groups(&options.data)?.into_iter().map(|g| (g.name.clone(), g)).collect();
    let (checkpoints_topic, checkpoints_note) = match (options.checkpoints, &options.source_alias) {
        (false, _) => (None, "not written (--no-checkpoints)".to_owned()),
        (true, None) => (None, "not written: no source alias names the checkpoints topic (--source-alias or --mm2-config)".to_owned()),
        (true, Some(alias)) => {
            let topic = checkpoints_topic(alias);
            let note = format!("{topic} on the data cluster");
            (Some(topic), note)
        }
    };
    let current_checkpoints = match &checkpoints_topic {
        Some(topic) => match kafka::read_back(&options.data, topic) {
            Ok(read) => Some(read),
            Err(KafkaError::TopicMissing { .. }) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    phase("target state read");
    let mut entries = Vec::with_capacity(commits.len());
    let mut active = Vec::new();
    let mut by_group: BTreeMap<&str, Vec<&Committed>> = BTreeMap::new();
    for (group, c) in &commits {
        by_group.entry(group).or_default().push(c);
    }
    let mut currents = kafka::fetch_group_offsets(&options.data, &by_group.keys().collect::<Vec<_>>())?;
    let mut translations: HashMap<(&TopicPartition, i64), Position> = HashMap::new();
    let mut targets_of: HashMap<&TopicPartition, TopicPartition> = HashMap::new();
    for (group, found) in by_group {
        let current: HashMap<TopicPartition, i64> =
            currents.remove(group).unwrap_or_default().into_iter().map(|c| (c.partition, c.offset)).collect();
        let members = data_groups.get(group).filter(|g| g.members > 0);
        if let Some(g) = members {
            active.push(ActiveGroup { group: group.to_owned(), members: g.members, state: g.state.clone() });
        }
        for c in found {
            let target = targets_of.entry(&c.partition).or_insert_with(|| data_partition(&c.partition)).clone();
            // Groups at the same offset share one translation.
            let position = translations.entry((&c.partition, c.offset)).or_insert_with(|| read::translate(&pairs, &c.partition, c.offset)).clone();
            let mut entry = GroupEntry {
                group: group.to_owned(),
                source_topic: c.partition.0.clone(),
                partition: c.partition.1,
                source_offset: c.offset,
                target_topic: target.0.clone(),
                position,
                current_offset: current.get(&target).copied(),
                current_checkpoint: None,
                action: Action::None,
                checkpoint_action: CheckpointAction::None,
                metadata: c.metadata.clone(),
            };
            let existing = current_checkpoints.as_ref().zip(entry.checkpoint()).and_then(|(current, cp)| {
                let key = cp.key().ok()?;
                let value = current.get(0, &key)?;
                Checkpoint::decode(&key, value).ok().map(|found| (cp, found))
            });
            entry.current_checkpoint = existing.as_ref().map(|(_, found)| found.downstream_offset);
            entry.action = action(&entry, members.is_some());
            entry.checkpoint_action = match (&checkpoints_topic, entry.action, existing) {
                (None, _, _) | (_, Action::None | Action::Active, _) => CheckpointAction::None,
                (Some(_), _, Some((wanted, found))) if wanted == found => CheckpointAction::Unchanged,
                (Some(_), _, _) => CheckpointAction::Write,
            };
            entries.push(entry);
        }
    }
    phase("entries decided");
    let mut statuses = BTreeMap::new();
    let mut actions = BTreeMap::new();
    for e in &entries {
        *statuses.entry(kebab(&e.position.status)).or_insert(0) += 1;
        *actions.entry(kebab(&e.action)).or_insert(0) += 1;
    }
    Ok(GroupsPlan {
        replicated: options.replicated.bootstrap.clone(),
        data: options.data.bootstrap.clone(),
        replication_policy: options.policy.clone(),
        selection,
        checkpoints_topic,
        checkpoints_note,
        active,
        statuses,
        actions,
        entries,
        last_copies,
    })
}

/// A serde enum's name: `exact`, `commit`, ...
pub(crate) fn kebab(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The rule for an entry's group offset.
fn action(entry: &GroupEntry, active: bool) -> Action {
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

/// What `groups run` wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupsRun {
    pub plan: GroupsPlan,
    pub groups_committed: usize,
    pub offsets_committed: usize,
    pub checkpoints_written: usize,
    pub checkpoints_topic_created: bool,
}

/// Plans, refuses what is unsafe, writes checkpoints then group offsets, and reads both back.
pub fn run(options: &GroupsOptions) -> Result<GroupsRun, GroupsError> {
    if options.checkpoints && options.source_alias.is_none() {
        return Err(GroupsError::Usage(
            "writing MM2's checkpoints needs the source alias that names <alias>.checkpoints.internal: give --source-alias, \
             or --mm2-config / --strimzi / --connect-url (or leave checkpoints alone with --no-checkpoints)"
                .into(),
        ));
    }
    write(options, plan(options)?)
}

/// The one gate of every groups write (`run` and each `--follow` round): refuses what is unsafe,
/// then writes exactly the plan's writes and reads them back.
fn write(options: &GroupsOptions, plan: GroupsPlan) -> Result<GroupsRun, GroupsError> {
    let refused = refusals(&plan, options);
    if !refused.is_empty() {
        return Err(GroupsError::Refused(refused));
    }
    let commits = plan.commits(options.allow_rewind);
    let checkpoints = plan.checkpoint_records()?;
    // The checkpoints topic first: one that MM2 would not keep (not compacted) refuses the whole
    // run before any group moves.
    let mut created = false;
    if let (Some(topic), false) = (&plan.checkpoints_topic, checkpoints.is_empty()) {
        let setup = TopicSetup { create: true, partitions: 1, replication_factor: -1, check_compaction: true };
        created = match kafka::ensure_topic(&options.data, topic, &setup) {
            Ok((_, created)) => created,
            Err(KafkaError::NotCompacted { topic, policy, .. }) => {
                return Err(GroupsError::Refused(vec![format!(
                    "MM2's checkpoints topic {topic:?} has cleanup.policy={policy}: MM2 creates it compacted and reads the \
                     last checkpoint per key, which only compaction keeps; set cleanup.policy=compact on it, or pass \
                     --no-checkpoints"
                )]));
            }
            Err(e) => return Err(e.into()),
        };
    }
    let writer = match checkpoints.is_empty() {
        true => None,
        false => Some(kafka::Writer::start(&options.data)?),
    };
    let _graceful = crate::interrupt::Graceful::begin();
    // Checkpoints before commits: a checkpoints topic the principal may not write stops the run
    // before any group moves. A commit that fails after them (a group that gained a member, a
    // missing group ACL) leaves checkpoints naming the planned offsets, which a second run
    // commits without writing them again.
    if let Some(writer) = &writer {
        writer.write(&checkpoints)?;
    }
    kafka::commit_group_offsets(&options.data, &commits)?;
    tracing::info!("committed {} offset(s) for {} group(s)", commits.values().map(Vec::len).sum::<usize>(), commits.len());
    // Read back: every commit and every checkpoint as written.
    let mut missing = Vec::new();
    let mut read = kafka::fetch_group_offsets(&options.data, &commits.keys().collect::<Vec<_>>())?;
    for (group, offsets) in &commits {
        let now: HashMap<TopicPartition, i64> = read.remove(*group).unwrap_or_default().into_iter().map(|c| (c.partition, c.offset)).collect();
        for c in offsets.iter().filter(|c| now.get(&c.partition) != Some(&c.offset)) {
            missing.push(format!("group {group}: {}/{} offset {}", c.partition.0, c.partition.1, c.offset));
        }
    }
    if let (Some(topic), false) = (&plan.checkpoints_topic, checkpoints.is_empty()) {
        let read = kafka::read_back(&options.data, topic)?;
        for r in checkpoints.iter().filter(|r| read.get(0, &r.key) != r.value.as_ref()) {
            missing.push(format!("checkpoint of {}", r.origin));
        }
    }
    if !missing.is_empty() {
        return Err(GroupsError::NotConfirmed(missing));
    }
    Ok(GroupsRun {
        groups_committed: commits.len(),
        offsets_committed: commits.values().map(Vec::len).sum(),
        checkpoints_written: checkpoints.len(),
        checkpoints_topic_created: created,
        plan,
    })
}

/// What `groups run --follow` did after the run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FollowSummary {
    pub rounds: u64,
    pub offsets_committed: usize,
    pub checkpoints_written: usize,
    /// Every group passed the seam on every partition: MM2's checkpoints take over.
    pub all_passed: bool,
    /// Group partitions still behind the seam when it stopped.
    pub behind_seam: Vec<String>,
}

/// After a run: keeps translating as the groups commit on the replicated cluster, every `interval`,
/// forward only and active groups skipped, until every group has passed the seam (the last copy
/// when the run planned) or SIGINT/SIGTERM.
pub fn follow(options: &GroupsOptions, first: &GroupsRun, interval: std::time::Duration) -> Result<FollowSummary, GroupsError> {
    let options = GroupsOptions { skip_active: true, allow_rewind: false, ..options.clone() };
    let seams = &first.plan.last_copies;
    let mut summary = FollowSummary::default();
    let mut behind: Vec<String> = first.plan.behind_seam(seams).map(GroupEntry::name).collect();
    let _graceful = crate::interrupt::Graceful::begin();
    while !behind.is_empty() && !crate::interrupt::requested() {
        let until = std::time::Instant::now() + interval;
        while std::time::Instant::now() < until && !crate::interrupt::requested() {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        if crate::interrupt::requested() {
            break;
        }
        let mut plan = plan(&options)?;
        plan.forward_only();
        let round = write(&options, plan)?;
        summary.rounds += 1;
        summary.offsets_committed += round.offsets_committed;
        summary.checkpoints_written += round.checkpoints_written;
        behind = round.plan.behind_seam(seams).map(GroupEntry::name).collect();
        tracing::info!(
            "round {}: {} offset(s) committed, {} checkpoint(s); {} group partition(s) behind the seam",
            summary.rounds,
            round.offsets_committed,
            round.checkpoints_written,
            behind.len()
        );
    }
    summary.all_passed = behind.is_empty();
    summary.behind_seam = behind;
    Ok(summary)
}

/// Entries where the data cluster differs from the plan: what `groups verify` reports. Groups
/// skipped as active, and unproven entries, are not differences.
pub fn differences(plan: &GroupsPlan) -> Vec<&GroupEntry> {
    plan.entries
        .iter()
        .filter(|e| matches!(e.action, Action::Commit | Action::Rewind) || e.checkpoint_action == CheckpointAction::Write)
        .collect()
}
