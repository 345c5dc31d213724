//! Where translated consumer groups go: their offsets on the data cluster, and MM2's checkpoints
//! topic there (compacted, or refused before any group moves), written and read back.

use std::collections::{BTreeMap, HashMap};

use super::TargetError;
use crate::kafka::{self, Committed, Connection, KafkaError, TopicPartition, TopicSetup, Writer};
use crate::model::TargetRecord;

/// The data cluster's group offsets and MM2's checkpoints topic (when checkpoints are written).
#[derive(Debug, Clone, Copy)]
pub struct GroupsTarget<'a> {
    pub data: &'a Connection,
    pub checkpoints_topic: Option<&'a str>,
}

/// A groups target made ready: its checkpoints topic checked (or created), a producer connected.
pub struct GroupsReady<'a> {
    writer: Option<Writer<'a>>,
    pub created_topic: bool,
}

impl<'a> GroupsTarget<'a> {
    /// Before any group moves: the checkpoints topic made, or refused when MM2 would not keep it.
    pub fn prepare(&self) -> Result<GroupsReady<'a>, TargetError> {
        let Some(topic) = self.checkpoints_topic else {
            return Ok(GroupsReady { writer: None, created_topic: false });
        };
        let setup = TopicSetup { create: true, partitions: 1, replication_factor: -1, check_compaction: true };
        let created_topic = match kafka::ensure_topic(self.data, topic, &setup) {
            Ok((_, created)) => created,
            Err(KafkaError::NotCompacted { topic, policy, .. }) => return Err(TargetError::CheckpointsNotCompacted { topic, policy }),
            Err(e) => return Err(e.into()),
        };
        Ok(GroupsReady { writer: Some(Writer::start(self.data)?), created_topic })
    }

    /// Writes the checkpoints, then commits the group offsets, then reads both back. Checkpoints
    /// first: a checkpoints topic the principal may not write stops the run before any group
    /// moves; a commit that fails after them leaves checkpoints naming the planned offsets, which
    /// a second run commits without writing them again.
    pub fn write(&self, ready: &GroupsReady<'_>, checkpoints: &[TargetRecord], commits: &BTreeMap<&str, Vec<Committed>>) -> Result<(), TargetError> {
        if let Some(writer) = &ready.writer {
            writer.write(checkpoints)?;
        }
        kafka::commit_group_offsets(self.data, commits)?;
        let mut missing = Vec::new();
        let mut read = kafka::fetch_group_offsets(self.data, &commits.keys().collect::<Vec<_>>())?;
        for (group, offsets) in commits {
            let now: HashMap<TopicPartition, i64> = read.remove(*group).unwrap_or_default().into_iter().map(|c| (c.partition, c.offset)).collect();
            for c in offsets.iter().filter(|c| now.get(&c.partition) != Some(&c.offset)) {
                missing.push(format!("group {group}: {}/{} offset {}", c.partition.0, c.partition.1, c.offset));
            }
        }
        if let (Some(topic), Some(_)) = (self.checkpoints_topic, &ready.writer) {
            let read = kafka::read_back(self.data, topic)?;
            for r in checkpoints.iter().filter(|r| read.get(0, &r.key) != r.value.as_ref()) {
                missing.push(format!("checkpoint of {}", r.origin));
            }
        }
        if !missing.is_empty() {
            return Err(TargetError::GroupsNotConfirmed(missing));
        }
        Ok(())
    }
}
