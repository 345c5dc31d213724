//! MM2's offsets topic: the topic a batch goes to, its state as Connect would load it, and the
//! write confirmed by reading the topic back.

use super::{Current, SourceTopic, TargetError, Written};
use crate::kafka::{self, Connection, TopicSetup, Writer};
use std::borrow::Borrow;

use crate::model::{MappedRecord, TargetRecord};
use crate::plan;

/// MM2's offsets topic on the target cluster.
#[derive(Debug, Clone)]
pub struct OffsetsTopic {
    pub connection: Connection,
    /// The topic named by `--target-topic` or MM2's configuration; `None`: the one topic every
    /// output record names.
    pub named: Option<String>,
    pub setup: TopicSetup,
}

impl OffsetsTopic {
    /// The one topic `records` go to, checked against the named one and the source.
    fn topic(&self, records: &[MappedRecord], source: SourceTopic<'_>) -> Result<Option<String>, TargetError> {
        let mut topics: Vec<&str> = records.iter().map(|r| r.topic.as_str()).collect();
        topics.sort_unstable();
        topics.dedup();
        let topic = match (&self.named, topics.as_slice()) {
            (Some(named), []) => Some(named.clone()),
            (Some(named), [one]) if named == one => Some(named.clone()),
            (None, []) => None,
            (None, [one]) => Some((*one).to_owned()),
            (named, found) => {
                return Err(TargetError::TargetTopicMismatch {
                    found: found.join(", "),
                    named: named.as_deref().unwrap_or("not named").to_owned(),
                });
            }
        };
        if let Some(topic) = &topic
            && topic == source.topic
            && source.connection.same_cluster(&self.connection)?
        {
            return Err(TargetError::TargetIsSource { topic: topic.clone() });
        }
        Ok(topic)
    }

    pub(super) fn current(&self, records: &[MappedRecord], source: SourceTopic<'_>) -> Result<Current, TargetError> {
        let Some(topic) = self.topic(records, source)? else {
            return Ok(Current { partitions: self.setup.partitions, ..Current::default() });
        };
        let (state, partitions) = crate::timed("read MM2's offsets", || kafka::read_target_state(&self.connection, &topic))?;
        Ok(Current {
            exists: partitions.is_some(),
            // A topic to create gets the partitions `run` would create it with.
            partitions: partitions.unwrap_or(self.setup.partitions),
            topic: Some(topic),
            state,
            connect: None,
        })
    }

    /// Creates the topic if needed (refusing one that is not compacted, or whose partition count is
    /// not the one planned for), writes, and confirms every record in the partition it was written to.
    pub(super) fn write<R: Borrow<TargetRecord>>(&self, writer: &Writer<'_>, current: &Current, to_write: &[R]) -> Result<Written, TargetError> {
        let Some(topic) = &current.topic else { return Ok(Written::default()) };
        if to_write.is_empty() && !current.exists {
            return Ok(Written::default());
        }
        // Also for an existing topic with nothing to write: a non-compacted offsets topic is an error.
        let (partitions, created_topic) = kafka::ensure_topic(&self.connection, topic, &self.setup)?;
        if partitions != current.partitions {
            // The topic appeared (or was created) with another partition count than planned for.
            return Err(TargetError::PartitionsChanged { topic: topic.clone(), found: partitions, planned: current.partitions });
        }
        if to_write.is_empty() {
            return Ok(Written { created_topic, ..Written::default() });
        }
        let delivered = {
            let _graceful = crate::interrupt::Graceful::begin();
            crate::timed("wrote the records", || writer.write(to_write))?
        };
        let read_back = crate::timed("read the records back", || kafka::read_back_since(&self.connection, topic, &delivered))?;
        let missing = plan::unconfirmed(to_write, &read_back);
        if !missing.is_empty() {
            return Err(TargetError::NotConfirmed { topic: format!("{topic:?}"), missing });
        }
        Ok(Written { created_topic, delivered, connect: None })
    }
}
