//! What a migration would change in MM2's offsets topic, and whether it is safe: pure rules over
//! facts the kafka module reads (`kafka::target`).

use std::borrow::Borrow;
use std::collections::BTreeMap;

mod refusal;

use connect_offsets::connect::{parse_mm2_source_key, parse_offset_value};

use crate::kafka::{ReadBack, ReplicatedRanges, TargetState};
use crate::model::TargetRecord;
pub use refusal::{Overrides, Refusal, RefusalReason, refusal, refusals};
use crate::seam::{Seam, Seams};

/// How a planned record relates to what the target holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Change {
    /// No record for the key yet.
    New,
    /// The same value is already there: nothing to write.
    Unchanged,
    /// MM2 would move forward from `from`.
    Forward { from: i64 },
    /// MM2 already holds a larger offset: writing would make it copy `from - offset` records again.
    Backward { from: i64 },
    /// A value that is not an offset differs.
    Replace,
    /// A tombstone would delete MM2's offset `from`: MM2 would copy the partition again from
    /// `auto.offset.reset` (earliest: everything), so it counts as a rewind.
    Delete { from: Option<i64> },
}

/// Whether MM2's next offset (V+1) lies in the replicated partition's log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RangeCheck {
    InRange { start: i64, end: i64 },
    /// V+1 > log end: MM2 would treat its position as invalid and reset (earliest: copy all again).
    BeyondEnd { start: i64, end: i64 },
    /// V+1 < log start: the records in between were deleted before they were replicated.
    BeforeStart { start: i64, end: i64 },
    /// The replicated cluster has no such topic-partition.
    MissingPartition,
}

impl RangeCheck {
    pub fn is_ok(&self) -> bool {
        matches!(self, RangeCheck::InRange { .. })
    }
}

/// One record of the plan: the record to write (its key, partition, value and origin are the
/// plan's, not copies of them) and how it compares with what the target holds.
#[derive(Debug, Clone)]
pub struct PlanEntry {
    pub record: TargetRecord,
    /// The MM2 offset V, when the value is an offset record.
    pub offset: Option<i64>,
    pub change: Change,
    /// `None` when no replicated cluster was given or the key is not an MM2 source key.
    pub range: Option<RangeCheck>,
    /// The partition an existing record for the key sits in, when it is not the right one.
    pub misplaced_in: Option<i32>,
    /// Where the old tool's copies end, when the seam check ran and the key is an MM2 offset.
    pub seam: Option<Seam>,
}

impl PlanEntry {
    /// Whether a run writes this entry: it changes the target, or the target holds the key only
    /// in a wrong partition so far.
    pub fn is_written(&self) -> bool {
        self.change != Change::Unchanged || self.misplaced_in.is_some()
    }
}

/// `{"key","partition","value","origin","offset","change","range","misplaced_in","seam"}`, key
/// and value as text.
impl serde::Serialize for PlanEntry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut entry = s.serialize_struct("PlanEntry", 9)?;
        entry.serialize_field("key", &String::from_utf8_lossy(&self.record.key))?;
        entry.serialize_field("partition", &self.record.partition)?;
        entry.serialize_field("value", &self.record.value.as_deref().map(String::from_utf8_lossy))?;
        entry.serialize_field("origin", &self.record.origin)?;
        entry.serialize_field("offset", &self.offset)?;
        entry.serialize_field("change", &self.change)?;
        entry.serialize_field("range", &self.range)?;
        entry.serialize_field("misplaced_in", &self.misplaced_in)?;
        entry.serialize_field("seam", &self.seam)?;
        entry.end()
    }
}

/// Compares each planned record with the target state (and the replicated ranges and the
/// seams, when known).
pub fn build(
    records: Vec<TargetRecord>,
    state: &TargetState,
    ranges: Option<&ReplicatedRanges>,
    seams: Option<&Seams>,
) -> Vec<PlanEntry> {
    records
        .into_iter()
        .map(|record| {
            let offset = record.value.as_deref().and_then(|v| parse_offset_value(v).ok());
            let existing = state.records.get(&record.key);
            let change = match (existing, &record.value) {
                // Deleting what is not there changes nothing.
                (None, None) => Change::Unchanged,
                (Some(e), None) => Change::Delete { from: parse_offset_value(&e.value).ok() },
                (None, Some(_)) => Change::New,
                (Some(e), Some(value)) if e.value == *value => Change::Unchanged,
                (Some(e), Some(_)) => match (parse_offset_value(&e.value).ok(), offset) {
                    (Some(from), Some(to)) if from > to => Change::Backward { from },
                    (Some(from), Some(_)) => Change::Forward { from },
                    _ => Change::Replace,
                },
            };
            let range = ranges.and_then(|ranges| {
                let (_, _, topic, partition) = parse_mm2_source_key(&record.key)?;
                let v = offset?;
                Some(match ranges.get(&(topic, partition)) {
                    None => RangeCheck::MissingPartition,
                    Some(r) if v + 1 > r.end => RangeCheck::BeyondEnd { start: r.start, end: r.end },
                    Some(r) if v + 1 < r.start => RangeCheck::BeforeStart { start: r.start, end: r.end },
                    Some(r) => RangeCheck::InRange { start: r.start, end: r.end },
                })
            });
            PlanEntry {
                offset,
                change,
                range,
                misplaced_in: existing.map(|e| e.partition).filter(|p| *p != record.partition),
                seam: seams.and_then(|s| s.get(&record.key)).cloned(),
                record,
            }
        })
        .collect()
}

/// Counts of a plan, by kind.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlanCounts {
    pub new: u64,
    pub unchanged: u64,
    pub forward: u64,
    pub backward: u64,
    pub replace: u64,
    pub delete: u64,
    pub out_of_range: u64,
    pub misplaced: u64,
}

pub fn counts(entries: &[PlanEntry]) -> PlanCounts {
    let mut c = PlanCounts::default();
    for e in entries {
        match e.change {
            Change::New => c.new += 1,
            Change::Unchanged => c.unchanged += 1,
            Change::Forward { .. } => c.forward += 1,
            Change::Backward { .. } => c.backward += 1,
            Change::Replace => c.replace += 1,
            Change::Delete { .. } => c.delete += 1,
        }
        if e.range.as_ref().is_some_and(|r| !r.is_ok()) {
            c.out_of_range += 1;
        }
        if e.misplaced_in.is_some() {
            c.misplaced += 1;
        }
    }
    c
}

/// The records to write: everything that changes (or is only in a wrong partition so far), once
/// the refusals are settled.
pub fn to_write(entries: &[PlanEntry]) -> Vec<&TargetRecord> {
    entries.iter().filter(|e| e.is_written()).map(|e| &e.record).collect()
}

/// `topic/partition` of an MM2 key, else the key itself.
/// Names come from plugin output (JSON escapes decoded), so they are made safe to show.
pub fn describe_key(key: &[u8]) -> String {
    let text = match parse_mm2_source_key(key) {
        Some((_, cluster, topic, partition)) => format!("{cluster}:{topic}/{partition}"),
        None => String::from_utf8_lossy(key).into_owned(),
    };
    crate::plugin::untrusted::message(&text)
}


/// Records written by a run that the target does not hold afterwards.
pub fn unconfirmed<R: Borrow<TargetRecord>>(written: &[R], latest: &ReadBack) -> Vec<String> {
    written
        .iter()
        .map(Borrow::borrow)
        .filter(|r: &&TargetRecord| latest.get(r.partition, &r.key) != r.value.as_ref())
        .map(|r| describe_key(&r.key))
        .collect()
}

/// A summary line per change kind, for reports.
pub fn count_lines(c: &PlanCounts) -> BTreeMap<&'static str, u64> {
    BTreeMap::from([
        ("new", c.new),
        ("unchanged", c.unchanged),
        ("forward", c.forward),
        ("backward", c.backward),
        ("replace", c.replace),
        ("delete", c.delete),
        ("out of range", c.out_of_range),
        ("misplaced", c.misplaced),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::{ExistingRecord, PartitionRange};
    use crate::model::ResumeAt;
    use crate::seam::SeamStatus;

    fn target(key: &str, value: &str, partition: i32) -> TargetRecord {
        TargetRecord {
            topic: "mm2-offsets.a.internal".into(),
            partition,
            key: key.as_bytes().to_vec(),
            value: Some(value.as_bytes().to_vec()),
            origin: "line 1".into(),
        }
    }

    const K: &str = r#"["MirrorSourceConnector",{"cluster":"a","partition":0,"topic":"t"}]"#;

    fn state(value: &str, partition: i32) -> TargetState {
        let mut s = TargetState::default();
        s.records.insert(K.as_bytes().to_vec(), ExistingRecord { value: value.as_bytes().to_vec(), partition });
        s
    }

    #[test]
    fn classifies_changes() {
        let r = || vec![target(K, r#"{"offset":10}"#, 3)];
        assert_eq!(build(r(), &TargetState::default(), None, None)[0].change, Change::New);
        assert_eq!(build(r(), &state(r#"{"offset":10}"#, 3), None, None)[0].change, Change::Unchanged);
        assert_eq!(build(r(), &state(r#"{"offset":4}"#, 3), None, None)[0].change, Change::Forward { from: 4 });
        assert_eq!(build(r(), &state(r#"{"offset":12}"#, 3), None, None)[0].change, Change::Backward { from: 12 });
        assert_eq!(build(r(), &state(r#"{"offset":10}"#, 7), None, None)[0].misplaced_in, Some(7));
    }

    #[test]
    fn an_entry_shows_its_record_as_text_in_a_fixed_field_order() {
        let entry = &build(vec![target(K, r#"{"offset":10}"#, 3)], &state(r#"{"offset":4}"#, 7), None, None)[0];
        let json = serde_json::to_string(entry).unwrap();
        let expected = serde_json::json!({
            "key": K, "partition": 3, "value": r#"{"offset":10}"#, "origin": "line 1", "offset": 10,
            "change": serde_json::to_value(Change::Forward { from: 4 }).unwrap(), "range": null, "misplaced_in": 7, "seam": null,
        });
        assert_eq!(serde_json::from_str::<serde_json::Value>(&json).unwrap(), expected);
        let order: Vec<usize> = ["\"key\"", "\"partition\"", "\"value\"", "\"origin\"", "\"offset\"", "\"change\"", "\"range\"", "\"misplaced_in\"", "\"seam\""]
            .iter()
            .map(|field| json.find(field).unwrap_or_else(|| panic!("{field} missing from {json}")))
            .collect();
        assert!(order.is_sorted(), "{json}");
        let mut tombstone = target(K, "", 3);
        tombstone.value = None;
        let json = serde_json::to_value(&build(vec![tombstone], &TargetState::default(), None, None)[0]).unwrap();
        assert!(json["value"].is_null(), "{json}");
    }

    #[test]
    fn a_write_is_confirmed_only_by_the_same_value_in_the_same_partition() {
        let other = r#"["MirrorSourceConnector",{"cluster":"a","partition":1,"topic":"t"}]"#;
        let mut deleted = target(other, "", 4);
        deleted.value = None;
        let written = [target(K, r#"{"offset":10}"#, 3), deleted];
        let mut latest = ReadBack::default();
        latest.apply(3, K.as_bytes().to_vec(), Some(br#"{"offset":10}"#.to_vec()));
        latest.apply(4, other.as_bytes().to_vec(), Some(br#"{"offset":1}"#.to_vec()));
        latest.apply(4, other.as_bytes().to_vec(), None);
        assert!(unconfirmed(&written, &latest).is_empty(), "the value landed and the tombstone deleted");
        let mut elsewhere = ReadBack::default();
        elsewhere.apply(2, K.as_bytes().to_vec(), Some(br#"{"offset":10}"#.to_vec()));
        elsewhere.apply(4, other.as_bytes().to_vec(), Some(br#"{"offset":1}"#.to_vec()));
        assert_eq!(unconfirmed(&written, &elsewhere), ["a:t/0", "a:t/1"], "another partition, and a key still held");
        let mut older = ReadBack::default();
        older.apply(3, K.as_bytes().to_vec(), Some(br#"{"offset":9}"#.to_vec()));
        assert_eq!(unconfirmed(&written.iter().collect::<Vec<_>>()[..1], &older), ["a:t/0"]);
    }

    #[test]
    fn range_check_uses_next_offset() {
        let mut ranges = ReplicatedRanges::new();
        ranges.insert(("t".into(), 0), PartitionRange { partition: 0, start: 5, end: 11 });
        let at = |v: i64| build(vec![target(K, &format!(r#"{{"offset":{v}}}"#), 0)], &TargetState::default(), Some(&ranges), None)[0].range.clone();
        assert_eq!(at(10), Some(RangeCheck::InRange { start: 5, end: 11 }));
        assert_eq!(at(4), Some(RangeCheck::InRange { start: 5, end: 11 }));
        assert_eq!(at(11), Some(RangeCheck::BeyondEnd { start: 5, end: 11 }));
        assert_eq!(at(3), Some(RangeCheck::BeforeStart { start: 5, end: 11 }));
        let other = r#"["MirrorSourceConnector",{"cluster":"a","partition":9,"topic":"t"}]"#;
        assert_eq!(build(vec![target(other, r#"{"offset":1}"#, 0)], &TargetState::default(), Some(&ranges), None)[0].range, Some(RangeCheck::MissingPartition));
    }

    #[test]
    fn key_names_are_shown_escaped() {
        let key = r#"["MirrorSourceConnector",{"cluster":"a","partition":0,"topic":"t\u001b[2J"}]"#;
        assert_eq!(describe_key(key.as_bytes()), "a:t\\u{1b}[2J/0");
    }

    #[test]
    fn unchanged_records_are_not_written_again() {
        let entries = build(vec![target(K, r#"{"offset":10}"#, 3)], &state(r#"{"offset":10}"#, 3), None, None);
        assert!(to_write(&entries).is_empty());
        assert!(refusals(&entries, Overrides::default()).is_empty());
    }

    #[test]
    fn refusals_say_what_mm2_would_do() {
        let backward = build(vec![target(K, r#"{"offset":10}"#, 3)], &state(r#"{"offset":12}"#, 3), None, None);
        let refused = refusals(&backward, Overrides::default());
        assert_eq!(refused.len(), 1);
        assert!(refused[0].message.contains("a:t/0") && refused[0].message.contains("copy records 11..=12 again"), "{}", refused[0]);
        assert!(refusals(&backward, Overrides { rewind: true, ..Overrides::default() }).is_empty());

        let mut ranges = ReplicatedRanges::new();
        ranges.insert(("t".into(), 0), PartitionRange { partition: 0, start: 0, end: 5 });
        let beyond = build(vec![target(K, r#"{"offset":10}"#, 3)], &TargetState::default(), Some(&ranges), None);
        let refused = refusals(&beyond, Overrides::default());
        assert!(refused[0].message.contains("reset to auto.offset.reset"), "{}", refused[0]);
        assert!(refusals(&beyond, Overrides { out_of_range: true, ..Overrides::default() }).is_empty());

        // Even an unchanged value is refused while a stray copy of the key sits elsewhere.
        let misplaced = build(vec![target(K, r#"{"offset":10}"#, 3)], &state(r#"{"offset":10}"#, 7), None, None);
        let refused = refusals(&misplaced, Overrides::default());
        assert!(refused[0].message.contains("sits in partition 7, not in partition 3"), "{}", refused[0]);
        assert!(refusals(&misplaced, Overrides { misplaced: true, ..Overrides::default() }).is_empty());
    }


    #[test]
    fn a_tombstone_is_a_refused_rewind_unless_deletions_are_allowed() {
        let mut tombstone = target(K, "", 3);
        tombstone.value = None;
        let entries = build(vec![tombstone.clone()], &state(r#"{"offset":5}"#, 3), None, None);
        assert_eq!(entries[0].change, Change::Delete { from: Some(5) });
        let refused = refusals(&entries, Overrides::default());
        assert!(refused[0].message.contains("--allow-delete") && refused[0].message.contains("offset 5"), "{refused:?}");
        assert!(refusals(&entries, Overrides { delete: true, ..Overrides::default() }).is_empty());
        // A tombstone for a key MM2 does not hold changes nothing and is not written.
        let entries = build(vec![tombstone], &TargetState::default(), None, None);
        assert_eq!(entries[0].change, Change::Unchanged);
        assert!(to_write(&entries).is_empty());
    }


    #[test]
    fn an_overlap_or_a_gap_is_refused_until_the_operator_chooses() {
        let seam = |status, proven: Option<i64>| Seam { status, records: 3, recorded: 10, proven, detail: "why".into() };
        let with = |seam: Seam, state: &TargetState| {
            let seams: Seams = [(K.as_bytes().to_vec(), seam)].into_iter().collect();
            build(vec![target(K, r#"{"offset":10}"#, 3)], state, None, Some(&seams))
        };
        let overlap = with(seam(SeamStatus::Overlap, Some(13)), &TargetState::default());
        let refused = refusals(&overlap, Overrides::default());
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].reason, RefusalReason::Seam { status: SeamStatus::Overlap, records: 3, recorded: 10, proven: Some(13) });
        assert!(refused[0].message.contains("copy records 11..=13 twice") && refused[0].message.contains("--resume-at seam writes 13"), "{}", refused[0]);
        for choice in [ResumeAt::Seam, ResumeAt::Recorded] {
            assert!(refusals(&overlap, Overrides { resume_at: Some(choice), ..Overrides::default() }).is_empty());
        }
        // MM2 already holding the recorded offset does not make it right.
        let held = with(seam(SeamStatus::Gap, None), &state(r#"{"offset":10}"#, 3));
        assert_eq!(held[0].change, Change::Unchanged);
        let refused = refusals(&held, Overrides::default());
        assert!(refused[0].message.contains("writes nothing for this partition"), "{}", refused[0]);
        // Exact and unproven seams are written as recorded without a choice.
        for status in [SeamStatus::Exact, SeamStatus::Unproven] {
            assert!(refusals(&with(seam(status, Some(10)), &TargetState::default()), Overrides::default()).is_empty());
        }
    }
}
