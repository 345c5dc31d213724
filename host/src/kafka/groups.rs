//! Consumer groups: their listing and state (ListGroups + DescribeGroups); their committed offsets
//! are fetched and committed many groups at a time by `group_offsets`.
//!
//! As a source of progress (MirrorMaker 1 and Brooklin commit theirs on the source cluster), each
//! commit becomes the record `["<group>",{"topic":T,"partition":P}]` → `{"offset":N}` of the
//! virtual topic `__consumer_offsets`, the shape `group-to-mm2` reads.

use rdkafka::consumer::Consumer;

use connect_offsets::jackson::{self, Scalar};

use super::{Connection, KafkaError, TopicPartition};
use crate::model::{Origin, SourceRecord};

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
    let mut records: Vec<SourceRecord> = super::group_offsets::fetch(connection, &[group])?
        .into_values()
        .flatten()
        .filter(|c| !c.partition.0.starts_with("__"))
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
