//! The seam check: where the old tool's copies really end, proven from the data rather than
//! taken from its recorded offsets (which lag the copies after an unclean stop, or mean `next`
//! where `last` was assumed).
//!
//! For every migrated partition (source topic T, partition p, recorded offset V) the last record
//! of the data topic's partition p (the topic MM2 will write T to) is looked up in the replicated
//! partition: candidates are found by timestamp (ListOffsets by time, on both clusters, which
//! aligns the copies with their originals), and a candidate counts only when the last copies, up
//! to [`RUN`] of them, equal the source records before it one for one (key bytes, value bytes and
//! timestamp; headers are ignored). Every read is a bounded window, batched over all partitions.

mod copies;

use std::collections::HashMap;

use connect_offsets::connect::{parse_mm2_source_key, parse_offset_value};
use connect_offsets::jackson;

pub use copies::find_copies;
use crate::kafka::{Connection, KafkaError, PartitionRange, ReplicatedRanges, TopicPartition};
pub use crate::matching::RUN;
use crate::model::TargetRecord;
pub use crate::model::{ReplicationPolicy, ResumeAt};

/// Records read after a timestamp's first offset when the aligned candidate does not match.
pub const SCAN: i64 = 2000;

/// How the copies end relative to the recorded offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeamStatus {
    /// The last copy is of V: MM2 resumes at V+1 with nothing twice and nothing missing.
    Exact,
    /// The copies go `records` beyond V: MM2 would copy them twice.
    Overlap,
    /// The last `records` records up to V have no copy: MM2 would never copy them.
    Gap,
    /// No evidence either way (see the detail).
    Unproven,
}

/// The seam of one migrated partition, as `plan --output json` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Seam {
    pub status: SeamStatus,
    /// Records twice (overlap) or never copied (gap); 0 when exact or unproven.
    pub records: u64,
    /// V: the offset the old tool's progress says.
    pub recorded: i64,
    /// W: the source offset of the data partition's last copy, when proven.
    pub proven: Option<i64>,
    pub detail: String,
}

impl Seam {
    /// The offset `--resume-at seam` writes: W where proven, `None` for "write nothing" where no
    /// copy exists at all; the recorded offset where the seam is exact or unproven.
    pub fn resume_offset(&self) -> Option<i64> {
        match (self.status, self.proven) {
            (SeamStatus::Overlap | SeamStatus::Gap, proven) => proven,
            _ => Some(self.recorded),
        }
    }

    /// Whether the recorded offset would make MM2 copy records twice or never.
    pub fn is_problem(&self) -> bool {
        matches!(self.status, SeamStatus::Overlap | SeamStatus::Gap)
    }
}

/// The seams of a plan, by MM2 key.
pub type Seams = HashMap<Vec<u8>, Seam>;

/// The clusters and policy the check needs.
#[derive(Debug, Clone, Copy)]
pub struct SeamSetup<'a> {
    /// The cluster the old tool copied from (MM2's source).
    pub replicated: &'a Connection,
    /// The cluster holding the copies (where MM2 will write).
    pub data: &'a Connection,
    pub policy: &'a ReplicationPolicy,
}

/// What the data says about one partition, before it is compared with V.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// The data topic does not exist, or its partition never held a record.
    NoCopies { detail: String },
    /// The copy at the end looked at (the last, or the first) is of this source offset, and
    /// sits at this data offset.
    Copy { source_offset: i64, data_offset: i64, detail: String },
    Unproven(String),
}

/// Compares the evidence with the recorded offset V.
pub fn evaluate(recorded: i64, source: Option<&PartitionRange>, evidence: Evidence) -> Seam {
    let seam = |status, records: i64, proven, detail| Seam { status, records: records.max(0) as u64, recorded, proven, detail };
    match evidence {
        Evidence::Unproven(detail) => seam(SeamStatus::Unproven, 0, None, detail),
        Evidence::NoCopies { detail } => match source {
            Some(range) if recorded >= range.start => seam(
                SeamStatus::Gap,
                recorded + 1 - range.start,
                None,
                format!("{detail}: records {}..={recorded} were never copied where MM2 will write", range.start),
            ),
            _ => seam(
                SeamStatus::Unproven,
                0,
                None,
                format!("{detail}, and no source record up to the recorded offset is left to say it should"),
            ),
        },
        Evidence::Copy { source_offset: w, detail, .. } => {
            if w == recorded {
                seam(SeamStatus::Exact, 0, Some(w), detail)
            } else if w > recorded {
                seam(SeamStatus::Overlap, w - recorded, Some(w), detail)
            } else {
                seam(SeamStatus::Gap, recorded - w, Some(w), detail)
            }
        }
    }
}

/// The record the plan writes under `--resume-at seam`: W where the seam differs from V, a
/// tombstone (nothing, or the removal of an offset MM2 holds) where no copy exists at all.
pub fn resume_at_seam(mut record: TargetRecord, seam: &Seam) -> TargetRecord {
    if seam.is_problem() {
        record.value = seam.resume_offset().map(jackson::offset_value);
    }
    record
}

/// Which end of a data partition's copies to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The first copy still in the data partition.
    Head,
    /// The last copy: where MM2 must resume.
    Tail,
}

impl End {
    pub(crate) fn word(self) -> &'static str {
        match self {
            End::Head => "first",
            End::Tail => "last",
        }
    }
}

/// One partition to look at: the replicated (source) partition and the data partition MM2
/// writes it to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CopyPair {
    pub source: TopicPartition,
    pub data: TopicPartition,
}

/// Checks the seam of every MM2 source-offset record: `sources` are the replicated partitions'
/// ranges (the range check's). Records that are not MM2 offsets (tombstones, other keys) get none.
pub fn check(setup: SeamSetup<'_>, records: &[TargetRecord], sources: &ReplicatedRanges) -> Result<Seams, KafkaError> {
    let targets: Vec<(Vec<u8>, CopyPair, i64)> = records
        .iter()
        .filter_map(|r| {
            let (_, alias, topic, partition) = parse_mm2_source_key(&r.key)?;
            let recorded = parse_offset_value(r.value.as_deref()?).ok()?;
            let data = (setup.policy.data_topic(&alias, &topic), partition);
            Some((r.key.clone(), CopyPair { source: (topic, partition), data }, recorded))
        })
        .collect();
    if targets.is_empty() {
        return Ok(Seams::new());
    }
    let pairs: Vec<CopyPair> = targets.iter().map(|t| t.1.clone()).collect();
    let evidence = find_copies(setup, &pairs, sources, End::Tail)?;
    Ok(targets
        .into_iter()
        .filter_map(|(key, pair, recorded)| {
            // Two keys may name one partition (two connectors): each gets the evidence.
            let found = evidence.get(&pair)?.clone();
            Some((key, evaluate(recorded, sources.get(&pair.source), found)))
        })
        .collect())
}

/// Counts of a plan's seams, for its totals.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SeamCounts {
    pub exact: u64,
    pub overlap: u64,
    pub gap: u64,
    pub unproven: u64,
    /// Records MM2 would copy twice (sum over the overlaps).
    pub records_twice: u64,
    /// Records MM2 would never copy (sum over the gaps).
    pub records_never: u64,
}

impl SeamCounts {
    pub fn of<'a>(seams: impl IntoIterator<Item = &'a Seam>) -> SeamCounts {
        let mut c = SeamCounts::default();
        for s in seams {
            match s.status {
                SeamStatus::Exact => c.exact += 1,
                SeamStatus::Overlap => {
                    c.overlap += 1;
                    c.records_twice += s.records;
                }
                SeamStatus::Gap => {
                    c.gap += 1;
                    c.records_never += s.records;
                }
                SeamStatus::Unproven => c.unproven += 1,
            }
        }
        c
    }

    /// "MM2 would copy 1,234 records twice on 3 partitions; 2 partitions unproven".
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.overlap > 0 {
            parts.push(format!("MM2 would copy {} records twice on {}", thousands(self.records_twice), partitions(self.overlap)));
        }
        if self.gap > 0 {
            parts.push(format!("MM2 would never copy {} records on {}", thousands(self.records_never), partitions(self.gap)));
        }
        if self.exact > 0 {
            parts.push(format!("{} exact", partitions(self.exact)));
        }
        if self.unproven > 0 {
            parts.push(format!("{} unproven", partitions(self.unproven)));
        }
        if parts.is_empty() { "no MM2 offsets to check".to_owned() } else { parts.join("; ") }
    }
}

fn partitions(n: u64) -> String {
    format!("{} partition{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// 1234567 as "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_compare_the_last_copy_with_the_recorded_offset() {
        let range = PartitionRange { partition: 0, start: 100, end: 200 };
        let copy = |w: i64| Evidence::Copy { source_offset: w, data_offset: 0, detail: String::new() };
        let exact = evaluate(150, Some(&range), copy(150));
        assert_eq!((exact.status, exact.records, exact.proven), (SeamStatus::Exact, 0, Some(150)));
        let overlap = evaluate(150, Some(&range), copy(162));
        assert_eq!((overlap.status, overlap.records, overlap.resume_offset()), (SeamStatus::Overlap, 12, Some(162)));
        let gap = evaluate(150, Some(&range), copy(149));
        assert_eq!((gap.status, gap.records, gap.resume_offset()), (SeamStatus::Gap, 1, Some(149)));
        // No copy at all: every record from the log start up to V is missing, and seam writes nothing.
        let none = evaluate(150, Some(&range), Evidence::NoCopies { detail: "d/0 has never held a record".into() });
        assert_eq!((none.status, none.records, none.proven, none.resume_offset()), (SeamStatus::Gap, 51, None, None));
        assert!(none.detail.contains("records 100..=150 were never copied"), "{}", none.detail);
        // Nothing left in the source up to V: no evidence either way.
        let gone = evaluate(50, Some(&range), Evidence::NoCopies { detail: "x".into() });
        assert_eq!((gone.status, gone.resume_offset()), (SeamStatus::Unproven, Some(50)));
    }

    #[test]
    fn the_seam_choice_rewrites_only_what_differs() {
        let record = TargetRecord {
            topic: "mm2-offsets.a.internal".into(),
            partition: 0,
            key: b"k".to_vec(),
            value: Some(jackson::offset_value(150)),
            origin: "line 1".into(),
        };
        let range = PartitionRange { partition: 0, start: 0, end: 200 };
        let overlap = evaluate(150, Some(&range), Evidence::Copy { source_offset: 162, data_offset: 0, detail: String::new() });
        assert_eq!(resume_at_seam(record.clone(), &overlap).value, Some(b"{\"offset\":162}".to_vec()));
        let none = evaluate(150, Some(&range), Evidence::NoCopies { detail: String::new() });
        assert_eq!(resume_at_seam(record.clone(), &none).value, None);
        let unproven = evaluate(150, Some(&range), Evidence::Unproven(String::new()));
        assert_eq!(resume_at_seam(record.clone(), &unproven), record);
    }

    #[test]
    fn policies_name_the_topic_mm2_writes() {
        assert_eq!(ReplicationPolicy::Identity.data_topic("old", "orders"), "orders");
        assert_eq!(ReplicationPolicy::Default { separator: ".".into() }.data_topic("old", "orders"), "old.orders");
        assert_eq!(ReplicationPolicy::Default { separator: "_".into() }.data_topic("dc1", "t"), "dc1_t");
    }

    #[test]
    fn totals_read_as_a_sentence() {
        let seam = |status, records| Seam { status, records, recorded: 0, proven: None, detail: String::new() };
        let seams = [seam(SeamStatus::Overlap, 1000), seam(SeamStatus::Overlap, 234), seam(SeamStatus::Overlap, 0), seam(SeamStatus::Unproven, 0), seam(SeamStatus::Unproven, 0)];
        assert_eq!(SeamCounts::of(&seams).summary(), "MM2 would copy 1,234 records twice on 3 partitions; 2 partitions unproven");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
