//! Consumer groups: their listing and state (ListGroups + DescribeGroups), their committed
//! offsets (OffsetFetch) and, for `groups run`, a commit by a client that never joins the group
//! (OffsetCommit with generation -1, as `kafka-consumer-groups --reset-offsets` does; the broker
//! accepts it only while the group has no members).
//!
//! As a source of progress (MirrorMaker 1 and Brooklin commit theirs on the source cluster), each
//! commit becomes the record `["<group>",{"topic":T,"partition":P}]` → `{"offset":N}` of the
//! virtual topic `__consumer_offsets`, the shape `group-to-mm2` reads.

use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use super::TopicPartition;

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
    let partitions: Vec<TopicPartition> = metadata
        .topics()
        .iter()
        .filter(|t| !t.name().starts_with("__"))
        .flat_map(|t| t.partitions().iter().map(|p| (t.name().to_owned(), p.id())))
        .collect();
    let mut records: Vec<SourceRecord> = committed_offsets(connection, group, &partitions)?
        .into_iter()
        .map(|c| {
            let origin = Origin::Text(format!("group {group}: {}/{}", c.partition.0, c.partition.1));
            group_record(group, &c.partition.0, c.partition.1, c.offset, origin)
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

/// One committed offset of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub partition: TopicPartition,
    pub offset: i64,
    /// The commit's metadata string (MM2 copies it into its checkpoints).
    pub metadata: String,
}

/// The committed offsets of `group` on those of `partitions` where it has one (OffsetFetch).
pub fn committed_offsets(connection: &Connection, group: &str, partitions: &[TopicPartition]) -> Result<Vec<Committed>, KafkaError> {
    if partitions.is_empty() {
        return Ok(Vec::new());
    }
    let consumer = connection.client(Some(group))?;
    let mut list = TopicPartitionList::new();
    for (topic, partition) in partitions {
        list.add_partition(topic, *partition);
    }
    let committed = consumer.committed_offsets(list, connection.timeout).map_err(|e| group_error(connection, &consumer, group, "Describe", e))?;
    Ok(committed
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(n) => {
                Some(Committed { partition: (e.topic().to_owned(), e.partition()), offset: n, metadata: e.metadata().to_owned() })
            }
            _ => None,
        })
        .collect())
}

/// Commits `offsets` for `group` without joining it. The broker refuses it while the group has
/// members (the caller checks that first, and says so by name).
pub fn commit_offsets(connection: &Connection, group: &str, offsets: &[Committed]) -> Result<(), KafkaError> {
    let consumer = connection.client(Some(group))?;
    let mut list = TopicPartitionList::new();
    for c in offsets {
        list.add_partition_offset(&c.partition.0, c.partition.1, Offset::Offset(c.offset)).map_err(|e| connection.error(e))?;
        if !c.metadata.is_empty()
            && let Some(mut element) = list.find_partition(&c.partition.0, c.partition.1)
        {
            element.set_metadata(c.metadata.clone());
        }
    }
    consumer.commit(&list, CommitMode::Sync).map_err(|e| group_error(connection, &consumer, group, "Read", e).with_context("committing offsets"))
}

/// A group request's failure, named with the group ACL it needs (`Describe` to fetch, `Read` to
/// commit): without it the coordinator lookup is refused and the request only times out;
/// librdkafka said why on the way.
fn group_error(
    connection: &Connection,
    consumer: &rdkafka::consumer::BaseConsumer<super::Context>,
    group: &str,
    acl: &str,
    e: rdkafka::error::KafkaError,
) -> KafkaError {
    match connection.last_client_error(consumer) {
        Some(super::ClientProblem::Authorization(reason)) if reason.contains("Group authorization failed") => KafkaError::Authorization {
            role: connection.role,
            bootstrap: connection.bootstrap.clone(),
            detail: format!("consumer group {group:?}: {reason} (the {acl} ACL on the group is needed)"),
        },
        _ => connection.error(e).with_context(&format!("consumer group {group:?}")),
    }
}

/// A consumer group as the cluster lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupListing {
    pub name: String,
    /// `Empty`, `Stable`, `PreparingRebalance`, `CompletingRebalance`, `Dead`, ...
    pub state: String,
    /// `consumer` for consumers, `connect` for Kafka Connect workers (MM2's dedicated mode too).
    pub protocol_type: String,
    pub members: usize,
}

/// Every consumer group the principal may describe (ListGroups, then DescribeGroups).
pub fn list_groups(connection: &Connection) -> Result<Vec<GroupListing>, KafkaError> {
    let client = connection.client(None)?;
    let list = client.fetch_group_list(None, connection.timeout).map_err(|e| connection.fail(&client, e).with_context("listing consumer groups"))?;
    let mut groups: Vec<GroupListing> = list
        .groups()
        .iter()
        .map(|g| GroupListing {
            name: g.name().to_owned(),
            state: g.state().to_owned(),
            protocol_type: g.protocol_type().to_owned(),
            members: g.members().len(),
        })
        .collect();
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(groups)
}
