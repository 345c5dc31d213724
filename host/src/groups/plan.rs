//! `groups plan`: the groups and their commits on the replicated cluster, where each commit lies
//! among the copies, and the target's state, read; every entry decided by the rules of `model`.

use std::collections::{BTreeMap, HashMap};

use connect_offsets::checkpoint::{Checkpoint, checkpoints_topic};
use connect_offsets::topics::TopicFilter;

use super::model::{Action, ActiveGroup, CheckpointAction, Excluded, GroupEntry, GroupsPlan, Selection, action, kebab};
use super::{GroupsError, GroupsOptions, Position, read};
use crate::kafka::{self, Committed, GroupListing, KafkaError, ReadBack, TopicPartition, Windows};
use crate::model::ReplicationPolicy;
use crate::mm2config::{DEFAULT_GROUPS_EXCLUDE, DEFAULT_TOPICS_EXCLUDE, split_list};

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
    let (selection, commits) = group_commits(options)?;
    phase("groups and commits read");

    let alias = options.source_alias.as_deref().unwrap_or_default();
    let data_partition = |tp: &TopicPartition| (options.policy.data_topic(alias, &tp.0), tp.1);
    let mut positions_wanted: HashMap<TopicPartition, Vec<i64>> = HashMap::new();
    for (_, c) in &commits {
        positions_wanted.entry(c.partition.clone()).or_default().push(c.offset);
    }
    let pairs = read::read_pairs(options, &positions_wanted, &data_partition)?;
    phase("copies read");

    let target = target_state(options, &selection.groups)?;
    phase("target state read");
    let (entries, active) = decide(&commits, &|tp, g| read::translate(&pairs, tp, g), &data_partition, &target);
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
        checkpoints_topic: target.checkpoints_topic,
        checkpoints_note: target.checkpoints_note,
        active,
        statuses,
        actions,
        entries,
        last_copies: read::last_copies(&pairs),
    })
}

/// The groups selected, and each one's commits on the topics MM2 replicates (a group without
/// any is left out, named).
fn group_commits(options: &GroupsOptions) -> Result<(Selection, Vec<(String, Committed)>), GroupsError> {
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
    Ok((selection, commits))
}

/// The data cluster's state for the groups: their members, current offsets and checkpoints.
#[derive(Default)]
struct DataClusterState {
    groups: HashMap<String, GroupListing>,
    offsets: BTreeMap<String, Vec<Committed>>,
    /// MM2's checkpoints topic, `None` when none is written, with why.
    checkpoints_topic: Option<String>,
    checkpoints_note: String,
    /// Its records now; `None` while it does not exist.
    checkpoints: Option<ReadBack>,
}

fn target_state(options: &GroupsOptions, groups: &[String]) -> Result<DataClusterState, GroupsError> {
    let listed = kafka::list_groups(&options.data)?.into_iter().map(|g| (g.name.clone(), g)).collect();
    let (checkpoints_topic, checkpoints_note) = match (options.checkpoints, &options.source_alias) {
        (false, _) => (None, "not written (--no-checkpoints)".to_owned()),
        (true, None) => (None, "not written: no source alias names the checkpoints topic (--source-alias or --mm2-config)".to_owned()),
        (true, Some(alias)) => {
            let topic = checkpoints_topic(alias);
            let note = format!("{topic} on the data cluster");
            (Some(topic), note)
        }
    };
    let checkpoints = match &checkpoints_topic {
        Some(topic) => match kafka::read_back(&options.data, topic) {
            Ok(read) => Some(read),
            Err(KafkaError::TopicMissing { .. }) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let offsets = kafka::fetch_group_offsets(&options.data, groups)?;
    Ok(DataClusterState { groups: listed, offsets, checkpoints_topic, checkpoints_note, checkpoints })
}

/// Every entry and its actions, from the commits, their translations and the target's state:
/// pure. Groups at the same offset share one translation.
fn decide(
    commits: &[(String, Committed)],
    translate: &dyn Fn(&TopicPartition, i64) -> Position,
    data_partition: &dyn Fn(&TopicPartition) -> TopicPartition,
    target: &DataClusterState,
) -> (Vec<GroupEntry>, Vec<ActiveGroup>) {
    let mut entries = Vec::with_capacity(commits.len());
    let mut active = Vec::new();
    let mut by_group: BTreeMap<&str, Vec<&Committed>> = BTreeMap::new();
    for (group, c) in commits {
        by_group.entry(group).or_default().push(c);
    }
    let mut translations: HashMap<(&TopicPartition, i64), Position> = HashMap::new();
    let mut targets_of: HashMap<&TopicPartition, TopicPartition> = HashMap::new();
    for (group, found) in by_group {
        let current: HashMap<&TopicPartition, i64> =
            target.offsets.get(group).into_iter().flatten().map(|c| (&c.partition, c.offset)).collect();
        let members = target.groups.get(group).filter(|g| g.members > 0);
        if let Some(g) = members {
            active.push(ActiveGroup { group: group.to_owned(), members: g.members, state: g.state.clone() });
        }
        for c in found {
            let data = targets_of.entry(&c.partition).or_insert_with(|| data_partition(&c.partition)).clone();
            let position = translations.entry((&c.partition, c.offset)).or_insert_with(|| translate(&c.partition, c.offset)).clone();
            let mut entry = GroupEntry {
                group: group.to_owned(),
                source_topic: c.partition.0.clone(),
                partition: c.partition.1,
                source_offset: c.offset,
                target_topic: data.0.clone(),
                position,
                current_offset: current.get(&data).copied(),
                current_checkpoint: None,
                action: Action::None,
                checkpoint_action: CheckpointAction::None,
                metadata: c.metadata.clone(),
            };
            let existing = target.checkpoints.as_ref().zip(entry.checkpoint()).and_then(|(current, cp)| {
                let key = cp.key().ok()?;
                let value = current.get(0, &key)?;
                Checkpoint::decode(&key, value).ok().map(|found| (cp, found))
            });
            entry.current_checkpoint = existing.as_ref().map(|(_, found)| found.downstream_offset);
            entry.action = action(&entry, members.is_some());
            entry.checkpoint_action = match (&target.checkpoints_topic, entry.action, existing) {
                (None, _, _) | (_, Action::None | Action::Active, _) => CheckpointAction::None,
                (Some(_), _, Some((wanted, found))) if wanted == found => CheckpointAction::Unchanged,
                (Some(_), _, _) => CheckpointAction::Write,
            };
            entries.push(entry);
        }
    }
    (entries, active)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::groups::Status;

    fn committed(topic: &str, partition: i32, offset: i64) -> Committed {
        Committed { partition: (topic.to_owned(), partition), offset, metadata: String::new() }
    }

    fn listing(name: &str, members: usize) -> GroupListing {
        let state = if members > 0 { "Stable" } else { "Empty" };
        GroupListing { name: name.into(), state: state.into(), protocol_type: "consumer".into(), members }
    }

    #[test]
    fn decide_applies_the_rules_and_translates_each_position_once() {
        let commits = vec![
            ("g1".to_owned(), committed("t", 0, 5)),
            ("g1".to_owned(), committed("t", 1, 3)),
            ("g2".to_owned(), committed("t", 1, 3)),
            ("g3".to_owned(), committed("t", 0, 5)),
        ];
        let calls = Cell::new(0);
        let translate = |_: &TopicPartition, g: i64| {
            calls.set(calls.get() + 1);
            Position { status: Status::Exact, target_offset: Some(g + 2), records: 0, records_estimated: false, detail: String::new() }
        };
        let data_partition = |tp: &TopicPartition| (format!("src.{}", tp.0), tp.1);
        let target = DataClusterState {
            groups: [listing("g1", 0), listing("g2", 1), listing("g3", 0)].into_iter().map(|g| (g.name.clone(), g)).collect(),
            offsets: BTreeMap::from([
                ("g1".to_owned(), vec![committed("src.t", 1, 5)]),
                ("g3".to_owned(), vec![committed("src.t", 0, 9)]),
            ]),
            checkpoints_topic: Some("src.checkpoints.internal".into()),
            ..DataClusterState::default()
        };
        let (entries, active) = decide(&commits, &translate, &data_partition, &target);
        assert_eq!(calls.get(), 2, "one translation per partition and offset");
        let got: Vec<_> = entries
            .iter()
            .map(|e| (e.group.as_str(), e.target_topic.as_str(), e.partition, e.position.target_offset, e.action, e.checkpoint_action))
            .collect();
        assert_eq!(
            got,
            [
                ("g1", "src.t", 0, Some(7), Action::Commit, CheckpointAction::Write),
                ("g1", "src.t", 1, Some(5), Action::Unchanged, CheckpointAction::Write),
                ("g2", "src.t", 1, Some(5), Action::Active, CheckpointAction::None),
                ("g3", "src.t", 0, Some(7), Action::Rewind, CheckpointAction::Write),
            ]
        );
        assert_eq!(active.iter().map(|a| (a.group.as_str(), a.members)).collect::<Vec<_>>(), [("g2", 1)]);
    }
}
