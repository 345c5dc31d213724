//! MM2's offsets topic as Connect would load it, and a topic read back after a write.

use std::borrow::Borrow;
use std::collections::HashMap;

use super::compaction::Compactor;
use super::partition::{PartitionRange, TopicPartition};
use super::record::TargetRecord;

/// A record already in the target topic (latest for its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingRecord {
    pub value: Vec<u8>,
    pub partition: i32,
}

/// The live state of the target offsets topic, as Connect would load it.
#[derive(Debug, Default, Clone)]
pub struct TargetState {
    pub records: HashMap<Vec<u8>, ExistingRecord>,
    /// Records read, tombstones included.
    pub records_read: u64,
}

impl TargetState {
    pub fn from_compactor(compactor: Compactor) -> TargetState {
        let records_read = compactor.stats().records;
        let records = compactor
            .into_live()
            .filter_map(|r| Some((r.key?, ExistingRecord { value: r.value?, partition: r.partition.unwrap_or(-1) })))
            .collect();
        TargetState { records, records_read }
    }

    /// What MM2's topic holds once `written` landed: a value replaces the key's record, a
    /// tombstone deletes it.
    pub fn apply<R: Borrow<TargetRecord>>(&mut self, written: &[R]) {
        for r in written {
            let r = r.borrow();
            match &r.value {
                Some(value) => {
                    self.records.insert(r.key.clone(), ExistingRecord { value: value.clone(), partition: r.partition });
                }
                None => {
                    self.records.remove(&r.key);
                }
            }
        }
    }
}

/// Log ranges of replicated partitions, by (topic, partition).
pub type ReplicatedRanges = HashMap<TopicPartition, PartitionRange>;

/// The latest value per partition and key of a topic, as read back after a write: by partition
/// first, so that a written record is looked up by its borrowed key.
#[derive(Debug, Default)]
pub struct ReadBack(HashMap<i32, HashMap<Vec<u8>, Vec<u8>>>);

impl ReadBack {
    /// Applies a record: a value replaces the key's, a tombstone (`None`) deletes it.
    pub fn apply(&mut self, partition: i32, key: Vec<u8>, value: Option<Vec<u8>>) {
        let keys = self.0.entry(partition).or_default();
        match value {
            Some(value) => keys.insert(key, value),
            None => keys.remove(&key),
        };
    }

    /// The value `partition` holds for `key`.
    pub fn get(&self, partition: i32, key: &[u8]) -> Option<&Vec<u8>> {
        self.0.get(&partition)?.get(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_records_update_the_state_and_tombstones_delete() {
        let record = |key: &str, value: Option<&str>| TargetRecord {
            topic: "t".into(),
            partition: 3,
            key: key.as_bytes().to_vec(),
            value: value.map(|v| v.as_bytes().to_vec()),
            origin: "line 1".into(),
        };
        let mut state = TargetState::default();
        state.apply(&[record("a", Some("1")), record("b", Some("2"))]);
        state.apply(&[record("a", None), record("b", Some("3"))]);
        assert!(!state.records.contains_key(b"a".as_slice()), "a tombstone deletes the key");
        assert_eq!(state.records[b"b".as_slice()], ExistingRecord { value: b"3".to_vec(), partition: 3 });
    }
}
