//! Consumer-group progress as a source: the committed offsets of a group (MirrorMaker 1 and
//! Brooklin commit theirs on the source cluster), read with OffsetFetch, never joining the group.
//! Each commit becomes the record `["<group>",{"topic":T,"partition":P}]` → `{"offset":N}` of the
//! virtual topic `__consumer_offsets`, the shape `group-to-mm2` reads.

use rdkafka::consumer::Consumer;
use rdkafka::{Offset, TopicPartitionList};

use connect_offsets::jackson::{self, Scalar};

use super::{Connection, KafkaError};
use crate::record::{Origin, SourceRecord};

/// The topic consumer-group records are presented under.
pub const GROUP_RECORDS_TOPIC: &str = "__consumer_offsets";

/// The record for one committed offset.
pub fn group_record(group: &str, topic: &str, partition: i32, offset: i64, origin: Origin) -> SourceRecord {
    SourceRecord {
        origin,
        topic: Some(GROUP_RECORDS_TOPIC.into()),
        partition: None,
        offset: None,
        timestamp: None,
        key: Some(jackson::connect_key(group, &[("topic", Scalar::Str(topic)), ("partition", Scalar::Int(i64::from(partition)))])),
        value: Some(jackson::offset_value(offset)),
    }
}

/// Every committed offset of `group`, over all topics of the cluster (Kafka's own internal topics
/// excluded). A group with no commit at all is an error: nothing could be migrated.
pub fn read_group_offsets(connection: &Connection, group: &str) -> Result<Vec<SourceRecord>, KafkaError> {
    // The topics from a client outside the group: a group the principal may not describe must
    // fail on its commits, by name, not stall the metadata request.
    let topics = connection.client(None)?;
    let metadata = topics.fetch_metadata(None, connection.timeout).map_err(|e| connection.fail(&topics, e))?;
    let consumer = connection.client(Some(group))?;
    let mut partitions = TopicPartitionList::new();
    for topic in metadata.topics().iter().filter(|t| !t.name().starts_with("__")) {
        for p in topic.partitions() {
            partitions.add_partition(topic.name(), p.id());
        }
    }
    let committed = consumer.committed_offsets(partitions, connection.timeout).map_err(|e| {
        // Without the group's Describe ACL the coordinator lookup is refused and the fetch only
        // times out; librdkafka said why on the way.
        match connection.last_client_error(&consumer) {
            Some(super::ClientProblem::Authorization(reason)) if reason.contains("Group authorization failed") => KafkaError::Authorization {
                role: connection.role,
                bootstrap: connection.bootstrap.clone(),
                detail: format!("consumer group {group:?}: {reason} (the Describe ACL on the group is needed)"),
            },
            _ => connection.error(e).with_context(&format!("consumer group {group:?}")),
        }
    })?;
    let mut records: Vec<SourceRecord> = committed
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(n) => Some(group_record(
                group,
                e.topic(),
                e.partition(),
                n,
                Origin::Text(format!("group {group}: {}/{}", e.topic(), e.partition())),
            )),
            _ => None,
        })
        .collect();
    if records.is_empty() {
        return Err(KafkaError::Client {
            role: connection.role,
            bootstrap: connection.bootstrap.clone(),
            detail: format!("consumer group {group:?} has no committed offsets"),
        });
    }
    records.sort_by(|a, b| a.origin.cmp(&b.origin));
    Ok(records)
}
