//! What MM2 will do at start on every partition it will replicate, under its own topic filter and
//! replication policy: resume after a migrated offset, or copy from the start (duplicating what
//! the target already holds); and what the old tool replicated that MM2 will not.

use std::collections::{BTreeMap, HashMap};

use connect_offsets::connect::parse_mm2_source_key;
use connect_offsets::topics::TopicFilter;

use crate::kafka::{PartitionRange, TopicPartition};
use crate::mm2config::Flow;
use crate::plan::PlanEntry;
use crate::seam::SeamStatus;

/// What MM2 does at start on one partition.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Start {
    /// Resumes at `next` (V+1), from a migrated offset.
    Resume { next: i64, seam: Option<SeamStatus> },
    /// No migrated offset: MM2 follows `auto.offset.reset` (earliest) and copies the partition
    /// again; the target already holds `duplicates` records of it.
    FromStart { duplicates: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartitionStart {
    pub topic: String,
    pub partition: i32,
    #[serde(flatten)]
    pub start: Start,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CoverageTotals {
    pub resume: u64,
    pub from_start: u64,
    /// Records MM2 will copy again into partitions that start from the beginning.
    pub duplicates: u64,
    /// Migrated partitions of topics MM2 will not replicate.
    pub not_replicated: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Coverage {
    pub partitions: Vec<PartitionStart>,
    /// `topic/partition` the old tool replicated (an offset record exists) that MM2 will not.
    pub not_replicated: Vec<String>,
    pub totals: CoverageTotals,
}

/// Whether MM2's MirrorSourceConnector replicates `topic`: its filter, and the topics every
/// replication policy treats as internal (`__*`, `.*`, MM2's own `mm2*.internal`).
pub fn replicates(filter: &TopicFilter, topic: &str) -> bool {
    let internal = topic.starts_with("__") || topic.starts_with('.') || (topic.starts_with("mm2") && topic.ends_with(".internal"));
    !internal && filter.accepts(topic)
}

/// The coverage of `flow` over the replicated cluster's `topics`, given the plan's `entries` and
/// the data topics' ranges (`data_ranges`, by data topic-partition).
pub fn build(
    flow: &Flow,
    filter: &TopicFilter,
    topics: &HashMap<String, Vec<i32>>,
    entries: &[PlanEntry],
    data_ranges: &HashMap<TopicPartition, PartitionRange>,
) -> Coverage {
    let migrated: BTreeMap<(String, i32), &PlanEntry> = entries
        .iter()
        .filter_map(|e| {
            let (_, cluster, topic, partition) = parse_mm2_source_key(&e.record.key)?;
            (cluster == flow.source).then_some(((topic, partition), e))
        })
        .collect();
    let mut coverage = Coverage::default();
    let mut names: Vec<&String> = topics.keys().filter(|t| replicates(filter, t)).collect();
    names.sort();
    for topic in names {
        for &partition in &topics[topic] {
            let start = match migrated.get(&(topic.clone(), partition)).and_then(|e| e.offset.map(|v| (v, e))) {
                Some((v, e)) => Start::Resume { next: v + 1, seam: e.seam.as_ref().map(|s| s.status) },
                None => {
                    let data = (flow.replication_policy.value.data_topic(&flow.source, topic), partition);
                    Start::FromStart { duplicates: data_ranges.get(&data).map_or(0, |r| r.end - r.start) }
                }
            };
            match &start {
                Start::Resume { .. } => coverage.totals.resume += 1,
                Start::FromStart { duplicates } => {
                    coverage.totals.from_start += 1;
                    coverage.totals.duplicates += *duplicates as u64;
                }
            }
            coverage.partitions.push(PartitionStart { topic: topic.clone(), partition, start });
        }
    }
    for (topic, partition) in migrated.keys() {
        if !topics.contains_key(topic) || !replicates(filter, topic) {
            coverage.not_replicated.push(format!("{topic}/{partition}"));
        }
    }
    coverage.totals.not_replicated = coverage.not_replicated.len() as u64;
    coverage
}

/// The data topic-partitions whose record counts the from-start partitions need.
pub fn data_partitions(flow: &Flow, filter: &TopicFilter, topics: &HashMap<String, Vec<i32>>) -> Vec<TopicPartition> {
    topics
        .iter()
        .filter(|(t, _)| replicates(filter, t))
        .flat_map(|(t, ps)| {
            let data = flow.replication_policy.value.data_topic(&flow.source, t);
            ps.iter().map(move |p| (data.clone(), *p))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_topics_are_never_replicated() {
        let filter = TopicFilter::new(&[".*".to_owned()], &[]).unwrap();
        assert!(replicates(&filter, "orders"));
        for internal in ["__consumer_offsets", ".hidden", "mm2-offsets.a.internal"] {
            assert!(!replicates(&filter, internal), "{internal}");
        }
    }
}
