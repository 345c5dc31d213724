//! What the plan needs to know of the clusters: MM2's offsets topic as Connect would load it, the
//! log ranges of the replicated partitions, and the read-back that confirms a write.

use std::collections::BTreeSet;

use connect_offsets::connect::parse_mm2_source_key;

use super::window::{TopicPartition, Unauthorized, Windows};
use super::{Connection, KafkaError, read_snapshot};
use crate::model::{ReadBack, ReplicatedRanges, TargetState};
use crate::model::compaction::Compactor;
use crate::model::TargetRecord;

/// Reads MM2's offsets topic as a snapshot, with its partition count; a missing topic is an
/// empty state and `None`.
pub fn read_target_state(connection: &Connection, topic: &str) -> Result<(TargetState, Option<u32>), KafkaError> {
    let mut compactor = Compactor::new();
    match read_snapshot(connection, topic, |r| {
        let _ = compactor.add(r);
    }) {
        Ok(ranges) => Ok((TargetState::from_compactor(compactor), Some(ranges.len() as u32))),
        Err(KafkaError::TopicMissing { .. }) => Ok((TargetState::default(), None)),
        Err(e) => Err(e),
    }
}

/// Looks up the log ranges of every replicated partition the records name, in batched rounds.
pub fn replicated_ranges(connection: &Connection, records: &[TargetRecord]) -> Result<ReplicatedRanges, KafkaError> {
    let topics: BTreeSet<String> =
        records.iter().filter_map(|r| parse_mm2_source_key(&r.key)).map(|(_, _, topic, _)| topic).collect();
    let topics: Vec<String> = topics.into_iter().collect();
    let reader = Windows::new(connection)?;
    let partitions: Vec<TopicPartition> = reader
        .topic_partitions(&topics, Unauthorized::Fail)?
        .into_iter()
        .flat_map(|(topic, partitions)| partitions.into_iter().map(move |p| (topic.clone(), p)))
        .collect();
    reader.ranges(&partitions)
}

/// The latest value per (partition, key) of a topic: what a run checks its writes against, in the
/// very partition it wrote (a stray copy elsewhere must not hide or fake a write).
pub fn read_back(connection: &Connection, topic: &str) -> Result<ReadBack, KafkaError> {
    let mut latest = ReadBack::default();
    read_snapshot(connection, topic, |r| {
        if let (Some(partition), Some(key)) = (r.partition, r.key) {
            latest.apply(partition, key, r.value);
        }
    })?;
    Ok(latest)
}
