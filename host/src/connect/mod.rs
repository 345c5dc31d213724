//! MM2 on a Kafka Connect cluster (a distributed worker, Strimzi): its MirrorSourceConnector's
//! offsets read and written through Connect's offsets API (KIP-875, Kafka >= 3.6) instead of the
//! offsets topic. Connect then validates them, writes them to the connector's offsets topic
//! (its own `offsets.storage.topic` or the worker's) and, with exactly-once source support,
//! fences old tasks and writes transactionally.
//!
//! The REST document is derived from the very records the topic path would write (same keys,
//! same values), so both paths write the same offsets; a `TargetState` read back from Connect is
//! keyed by the same canonical bytes, so the plan, its checks and the seam do not change.

mod client;
mod settings;
mod state;
pub mod strimzi;

use std::borrow::Borrow;
use std::collections::HashMap;

use connect_offsets::connect::parse_mm2_source_key;
use connect_offsets::jackson;
use serde_json::Value;

pub use client::{ConnectClient, ConnectError, PROPERTY_KEYS, RawOffset, connector_path};
pub use state::{ConnectorState, Transition};

use crate::kafka::{ExistingRecord, ReadBack, TargetState};
use crate::mm2config::Flow;
use crate::model::TargetRecord;

/// Through Connect, records are not placed by the tool (Connect's producer partitions them): the
/// plan partitions them over one logical partition, the one Connect's state is keyed in.
pub const PARTITIONS: u32 = 1;
/// That partition.
pub const CONNECT_PARTITION: i32 = 0;

/// The MirrorSourceConnector whose offsets are migrated, on the worker `client` talks to.
#[derive(Debug, Clone)]
pub struct ConnectTarget {
    pub client: ConnectClient,
    pub connector: String,
    /// `--stop-connector`: stop it (and leave it stopped) instead of refusing while it runs.
    pub stop_connector: bool,
}

impl ConnectTarget {
    /// A 404 on the connector's own paths becomes "unknown connector", with the ones there are.
    fn named(&self, e: ConnectError) -> ConnectError {
        if e.status() != Some(404) {
            return e;
        }
        let known = self.client.connectors().unwrap_or_default();
        ConnectError::UnknownConnector { url: self.client.url().to_owned(), connector: self.connector.clone(), known }
    }

    /// The MM2 flow the connector's configuration describes.
    pub fn flow(&self) -> Result<Flow, ConnectError> {
        let config = self.client.config(&self.connector).map_err(|e| self.named(e))?;
        crate::mm2config::connector::flow(self.client.url(), &self.connector, &config)
            .map_err(|e| ConnectError::Config { url: self.client.url().to_owned(), message: e.to_string() })
    }

    pub fn status(&self) -> Result<ConnectorState, ConnectError> {
        self.client.state(&self.connector).map_err(|e| self.named(e))
    }

    pub fn stop(&self) -> Result<(), ConnectError> {
        self.transition(Transition::Stop)
    }

    /// Asks Connect for `transition` and waits until the connector has reached it.
    pub fn transition(&self, transition: Transition) -> Result<(), ConnectError> {
        self.client.transition(&self.connector, transition).map_err(|e| self.named(e))
    }

    /// The connector's offsets as Connect answers them, each entry's JSON text (partition, then
    /// offset) in Connect's order: what two reads compare to see whether they moved.
    pub fn offsets_text(&self) -> Result<Vec<(String, String)>, ConnectError> {
        let entries = self.client.offsets(&self.connector).map_err(|e| self.named(e))?;
        let mut out: Vec<(String, String)> =
            entries.iter().map(|e| (e.partition.get().to_owned(), e.offset.as_ref().map_or("null", |o| o.get()).to_owned())).collect();
        out.sort();
        Ok(out)
    }

    /// The connector's offsets as Connect reads them, keyed as the topic path keys them.
    pub fn state(&self) -> Result<TargetState, ConnectError> {
        let entries = self.client.offsets(&self.connector).map_err(|e| self.named(e))?;
        let records_read = entries.len() as u64;
        let records = offsets_records(&self.connector, &entries)
            .map_err(|message| ConnectError::Unexpected {
                url: self.client.url().to_owned(),
                request: format!("GET {}", connector_path(&self.connector, "/offsets")),
                message,
            })?
            .into_iter()
            .map(|(key, value)| (key, ExistingRecord { value, partition: CONNECT_PARTITION }))
            .collect();
        Ok(TargetState { records, records_read })
    }

    /// What Connect holds now, as a topic read-back would report it.
    pub fn read_back(&self) -> Result<ReadBack, ConnectError> {
        let mut latest = ReadBack::default();
        for (key, e) in self.state()?.records {
            latest.apply(CONNECT_PARTITION, key, Some(e.value));
        }
        Ok(latest)
    }

    /// PATCHes `records`; Connect's confirmation.
    pub fn alter<R: Borrow<TargetRecord>>(&self, records: &[R]) -> Result<String, ConnectError> {
        let body = serde_json::to_vec(&offsets_document(records)).expect("a JSON value serializes");
        self.client.alter_offsets(&self.connector, &body).map_err(|e| self.named(e))
    }

    /// The commands that stop and resume the connector, for messages.
    pub fn stop_command(&self) -> String {
        format!("curl -X PUT {}{}", self.client.url(), connector_path(&self.connector, "/stop"))
    }

    pub fn resume_command(&self) -> String {
        format!("curl -X PUT {}{}", self.client.url(), connector_path(&self.connector, "/resume"))
    }
}

/// `{"offsets":[{"partition":{"cluster","partition","topic"},"offset":{"offset":V}}]}` of MM2
/// source-offset records (a tombstone is `"offset": null`, which deletes the partition's offset):
/// the body of `PATCH /connectors/NAME/offsets`, and what Strimzi applies from a ConfigMap.
pub fn offsets_document<R: Borrow<TargetRecord>>(records: &[R]) -> OffsetsDocument {
    let mut offsets: Vec<OffsetEntry> = records
        .iter()
        .map(|r| {
            let r = r.borrow();
            let (_, cluster, topic, partition) =
                parse_mm2_source_key(&r.key).expect("plan records are admitted MM2 source-offset keys");
            let offset = match &r.value {
                Some(value) => serde_json::from_slice(value).expect("plan values are admitted offset JSON"),
                None => Value::Null,
            };
            OffsetEntry { partition: SourcePartition { cluster, partition, topic }, offset }
        })
        .collect();
    // In partition order, for a reader of the ConfigMap.
    offsets.sort_by(|a, b| {
        let key = |e: &OffsetEntry| (e.partition.cluster.clone(), e.partition.topic.clone(), e.partition.partition);
        key(a).cmp(&key(b))
    });
    OffsetsDocument { offsets }
}

/// `{"offsets":[...]}`, fields in the order Connect and Strimzi show them.
#[derive(Debug, serde::Serialize)]
pub struct OffsetsDocument {
    offsets: Vec<OffsetEntry>,
}

#[derive(Debug, serde::Serialize)]
struct OffsetEntry {
    partition: SourcePartition,
    offset: Value,
}

/// MirrorSourceConnector's source partition.
#[derive(Debug, serde::Serialize)]
struct SourcePartition {
    cluster: String,
    partition: i32,
    topic: String,
}

/// Connect's offset entries as `(key, value)` bytes of connector `connector`: the bytes Connect
/// writes to its offsets topic for them.
fn offsets_records(connector: &str, entries: &[RawOffset]) -> Result<HashMap<Vec<u8>, Vec<u8>>, String> {
    let mut out = HashMap::with_capacity(entries.len());
    for entry in entries {
        let shown = || crate::plugin::untrusted::text(entry.partition.get(), 200);
        // The partition map checked by the rule every MM2 key is read with, then written as
        // Connect writes the key.
        // (Parsed one entry at a time: a JSON object's fields come out in the canonical order.)
        let partition_map: Value = serde_json::from_str(entry.partition.get()).map_err(|e| format!("{e}: {}", shown()))?;
        let as_key = serde_json::to_vec(&[Value::from(connector), partition_map]).expect("a JSON value serializes");
        let Some((_, cluster, topic, partition)) = parse_mm2_source_key(&as_key) else {
            return Err(format!("an offset entry is not a MirrorSourceConnector's: {}", shown()));
        };
        // `{"offset":N}` compacts to the very bytes MM2 writes; anything else stays as it is, so
        // that the plan sees it differ.
        let offset = entry.offset.as_ref().ok_or_else(|| format!("an offset entry has no offset: {}", shown()))?;
        let offset: Value = serde_json::from_str(offset.get()).map_err(|e| format!("{e}: {}", shown()))?;
        let value = serde_json::to_vec(&offset).expect("a JSON value serializes");
        out.insert(jackson::mm2_source_key(connector, &cluster, &topic, partition), value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(partition: i32, value: Option<i64>) -> TargetRecord {
        TargetRecord {
            topic: "mm2-offsets.src.internal".into(),
            partition: 7,
            key: jackson::mm2_source_key("src->tgt.MirrorSourceConnector", "src", "orders", partition),
            value: value.map(jackson::offset_value),
            origin: "line 1".into(),
        }
    }

    #[test]
    fn the_rest_document_and_the_topic_records_say_the_same() {
        let records = [record(0, Some(41)), record(1, None)];
        let document = offsets_document(&records);
        assert_eq!(
            serde_json::to_string(&document).unwrap(),
            r#"{"offsets":[{"partition":{"cluster":"src","partition":0,"topic":"orders"},"offset":{"offset":41}},{"partition":{"cluster":"src","partition":1,"topic":"orders"},"offset":null}]}"#
        );
        // Read back, Connect's answer keys the same bytes the topic path writes.
        let answer: Vec<RawOffset> = serde_json::from_str(
            r#"[{"partition":{"cluster":"src","partition":0,"topic":"orders"},"offset":{"offset":41}}]"#,
        )
        .unwrap();
        let read = offsets_records("src->tgt.MirrorSourceConnector", &answer).unwrap();
        assert_eq!(read.get(&records[0].key), records[0].value.as_ref());
        assert_eq!(read.len(), 1);
    }

    #[test]
    fn entries_of_other_shapes_are_named() {
        let answer: Vec<RawOffset> = serde_json::from_str(r#"[{"partition":{"filename":"/x"},"offset":{"position":3}}]"#).unwrap();
        assert!(offsets_records("c", &answer).unwrap_err().contains("not a MirrorSourceConnector's"));
    }
}
