//! The state Connect rebuilds from an offsets topic: the latest record per key bytes, with a
//! tombstone (null value) deleting the key (`KafkaOffsetBackingStore`).

use std::collections::HashMap;

use super::record::{Origin, SourceRecord};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CompactionStats {
    /// Records offered, tombstones included.
    pub records: u64,
    /// Tombstones among them.
    pub tombstones: u64,
    /// Records replaced by a later record for the same key.
    pub superseded: u64,
    /// Live keys deleted by a tombstone.
    pub deleted: u64,
    /// Records older than the one already held for the key (same partition, lower offset).
    pub out_of_order: u64,
    /// Keys seen in more than one partition (Connect assumes one partition per key).
    pub keys_in_several_partitions: u64,
    /// The same record again at the same partition and offset (a dump read twice), taken once.
    pub repeated: u64,
}

/// Latest record per key, in the order keys were first seen.
#[derive(Debug, Default)]
pub struct Compactor {
    index: HashMap<Vec<u8>, usize, KeyHasher>,
    slots: Vec<Slot>,
    stats: CompactionStats,
}

/// The hasher of keys read from an input: foldhash, seeded per process like std's SipHash (so
/// that a crafted input cannot be made to collide in advance) but a fraction of its cost, which
/// was a measurable part of `translate` (issue 13).
pub type KeyHasher = foldhash::fast::RandomState;

/// A record the compactor could not take.
#[derive(Debug)]
pub enum Rejected {
    /// It has no key: nothing to compact it by.
    Keyless(Box<SourceRecord>),
    /// A different record for the same key at the same partition and offset: a log holds one
    /// record per offset, so the input is not one log read once.
    SamePosition { origin: Origin, earlier: Origin, partition: i32, offset: i64 },
}

#[derive(Debug)]
struct Slot {
    /// The latest record for the key, a tombstone (no value) once deleted: its position orders
    /// re-reads and its origin names it.
    latest: SourceRecord,
    several_partitions: bool,
}

impl Compactor {
    pub fn new() -> Compactor {
        Compactor::default()
    }

    /// Adds a record; a keyless record cannot be compacted and is handed back. The same record
    /// twice at one position is taken once; a different one at the same position is refused.
    pub fn add(&mut self, record: SourceRecord) -> Result<(), Rejected> {
        // One lookup by the borrowed key; the key is copied only for a key not seen before.
        let Some(key) = record.key.as_deref() else {
            return Err(Rejected::Keyless(Box::new(record)));
        };
        let found = self.index.get(key).copied();
        if let Some(i) = found {
            let held = &self.slots[i].latest;
            if let (Some(partition), Some(offset)) = (record.partition, record.offset)
                && held.partition == Some(partition) && held.offset == Some(offset) {
                    if held.value == record.value {
                        self.stats.repeated += 1;
                        return Ok(());
                    }
                    return Err(Rejected::SamePosition { origin: record.origin, earlier: held.origin.clone(), partition, offset });
                }
        }
        self.stats.records += 1;
        let tombstone = record.value.is_none();
        if tombstone {
            self.stats.tombstones += 1;
        }
        let Some(i) = found else {
            self.index.insert(key.to_vec(), self.slots.len());
            self.slots.push(Slot { latest: record, several_partitions: false });
            return Ok(());
        };
        let slot = &mut self.slots[i];
        if slot.latest.partition == record.partition {
            // Within a partition, a higher offset is newer whatever the line order.
            if let (Some(held), Some(new)) = (slot.latest.offset, record.offset)
                && new < held {
                    self.stats.out_of_order += 1;
                    return Ok(());
                }
        } else if !slot.several_partitions {
            slot.several_partitions = true;
            self.stats.keys_in_several_partitions += 1;
            tracing::warn!(
                "key {} appears in partitions {:?} and {:?}; the later record wins",
                String::from_utf8_lossy(key),
                slot.latest.partition,
                record.partition
            );
        }
        if slot.latest.value.is_some() {
            if tombstone {
                self.stats.deleted += 1;
            } else {
                self.stats.superseded += 1;
            }
        }
        slot.latest = record;
        Ok(())
    }

    pub fn stats(&self) -> &CompactionStats {
        &self.stats
    }

    /// Number of keys currently live.
    pub fn live_keys(&self) -> usize {
        self.slots.iter().filter(|s| s.latest.value.is_some()).count()
    }

    /// The live records, in the order their keys were first seen.
    pub fn into_live(self) -> impl Iterator<Item = SourceRecord> {
        self.slots.into_iter().map(|s| s.latest).filter(|r| r.value.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(key: &str, value: Option<&str>, partition: i32, offset: i64) -> SourceRecord {
        SourceRecord {
            origin: Origin::Text(format!("p{partition}@{offset}")),
            topic: Some("connect-offsets".into()),
            partition: Some(partition),
            offset: Some(offset),
            timestamp: None,
            key: Some(key.as_bytes().to_vec()),
            value: value.map(|v| v.as_bytes().to_vec()),
        }
    }

    fn live(c: Compactor) -> Vec<(String, String)> {
        c.into_live()
            .map(|r| (String::from_utf8(r.key.unwrap()).unwrap(), String::from_utf8(r.value.unwrap()).unwrap()))
            .collect()
    }

    #[test]
    fn latest_record_per_key_wins() {
        let mut c = Compactor::new();
        for r in [rec("a", Some("1"), 0, 0), rec("b", Some("1"), 0, 1), rec("a", Some("2"), 0, 2)] {
            c.add(r).unwrap();
        }
        assert_eq!(c.stats().superseded, 1);
        assert_eq!(live(c), [("a".into(), "2".into()), ("b".into(), "1".into())]);
    }

    #[test]
    fn tombstones_delete_and_keys_can_come_back() {
        let mut c = Compactor::new();
        for r in [
            rec("a", Some("1"), 0, 0),
            rec("b", Some("1"), 0, 1),
            rec("a", None, 0, 2),
            rec("b", None, 0, 3),
            rec("b", Some("3"), 0, 4),
            rec("c", None, 0, 5),
        ] {
            c.add(r).unwrap();
        }
        assert_eq!(c.stats().tombstones, 3);
        assert_eq!(c.stats().deleted, 2);
        assert_eq!(c.stats().superseded, 0);
        assert_eq!(c.live_keys(), 1);
        assert_eq!(live(c), [("b".into(), "3".into())]);
    }

    #[test]
    fn offsets_order_records_within_a_partition() {
        let mut c = Compactor::new();
        c.add(rec("a", Some("new"), 0, 9)).unwrap();
        c.add(rec("a", Some("old"), 0, 3)).unwrap();
        assert_eq!(c.stats().out_of_order, 1);
        assert_eq!(live(c), [("a".into(), "new".into())]);
    }

    #[test]
    fn keys_in_several_partitions_are_counted() {
        let mut c = Compactor::new();
        c.add(rec("a", Some("1"), 0, 9)).unwrap();
        c.add(rec("a", Some("2"), 1, 0)).unwrap();
        assert_eq!(c.stats().keys_in_several_partitions, 1);
        assert_eq!(live(c), [("a".into(), "2".into())]);
    }

    #[test]
    fn the_same_position_holds_one_record() {
        let mut c = Compactor::new();
        c.add(rec("a", Some("1"), 0, 4)).unwrap();
        c.add(rec("a", Some("1"), 0, 4)).unwrap();
        assert_eq!(c.stats().repeated, 1);
        match c.add(rec("a", Some("2"), 0, 4)) {
            Err(Rejected::SamePosition { partition: 0, offset: 4, earlier, .. }) => assert_eq!(earlier.to_string(), "p0@4"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keyless_records_are_handed_back() {
        let mut c = Compactor::new();
        let mut r = rec("a", Some("1"), 0, 0);
        r.key = None;
        assert!(c.add(r).is_err());
        assert_eq!(c.stats().records, 0);
    }
}
