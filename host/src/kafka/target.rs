//! What the plan needs to know of the clusters: MM2's offsets topic as Connect would load it, the
//! log ranges of the replicated partitions, and the read-back that confirms a write.

use std::collections::{BTreeMap, BTreeSet};

use connect_offsets::connect::parse_mm2_source_key;

use super::window::{TopicPartition, Unauthorized, Window, Windows};
use super::{Connection, Delivered, KafkaError, read_snapshot};
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

/// [`read_back`] of what a write just delivered: only the partitions it wrote, each from the
/// first offset it landed at. A record before that offset cannot be the latest of a key the
/// write wrote, so the rest of a large offsets topic is not read again after every write.
pub fn read_back_since(connection: &Connection, topic: &str, delivered: &[Delivered]) -> Result<ReadBack, KafkaError> {
    let mut first: BTreeMap<i32, i64> = BTreeMap::new();
    for d in delivered {
        first.entry(d.partition).and_modify(|o| *o = (*o).min(d.offset)).or_insert(d.offset);
    }
    let reader = Windows::new(connection)?;
    let ranges = reader.ranges(&first.keys().map(|p| (topic.to_owned(), *p)).collect::<Vec<_>>())?;
    let windows: Vec<Window> = first
        .iter()
        .filter_map(|(partition, from)| {
            let range = ranges.get(&(topic.to_owned(), *partition))?;
            Some(Window { topic: topic.to_owned(), partition: *partition, from: (*from).max(range.start), to: range.end })
        })
        .collect();
    let mut latest = ReadBack::default();
    reader.read(&windows, "the read-back", |m| {
        if let Some(key) = rdkafka::Message::key(m) {
            latest.apply(rdkafka::Message::partition(m), key.to_vec(), rdkafka::Message::payload(m).map(<[u8]>::to_vec));
        }
    })?;
    Ok(latest)
}
