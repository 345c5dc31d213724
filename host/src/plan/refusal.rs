//! The safety rules of a plan: what each refuses, saying what MM2 would do, and how the operator
//! overrides it.

use super::{Change, PlanEntry, RangeCheck, describe_key};
use crate::model::ResumeAt;
use crate::seam::{Seam, SeamStatus};

/// The safety rules an operator explicitly overrides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Overrides {
    /// `--allow-rewind`: write even where MM2 already holds a larger offset.
    pub rewind: bool,
    /// `--allow-out-of-range`: write offsets outside the replicated partition's log.
    pub out_of_range: bool,
    /// `--allow-misplaced`: write although a record for the key sits in another partition.
    pub misplaced: bool,
    /// `--allow-delete`: write a plugin's tombstones, deleting MM2's offsets.
    pub delete: bool,
    /// `--resume-at`: the operator's choice where the seam is an overlap or a gap.
    pub resume_at: Option<ResumeAt>,
}

/// Why a rule refuses an entry, as fields for `--output json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum RefusalReason {
    /// A record for the key sits in `found_in`, not in `partition` (`--allow-misplaced`).
    Misplaced { partition: i32, found_in: i32 },
    /// MM2 holds `from` > `offset` (`--allow-rewind`).
    Rewind { from: i64, offset: i64 },
    /// A plugin's tombstone would delete MM2's offset (`--allow-delete`).
    Delete { from: Option<i64> },
    /// V+1 lies outside the replicated log [start, end) (`--allow-out-of-range`).
    BeyondEnd { offset: i64, start: i64, end: i64 },
    BeforeStart { offset: i64, start: i64, end: i64 },
    MissingPartition,
    /// The copies end elsewhere than the recorded offset (`--resume-at seam|recorded`).
    Seam { status: SeamStatus, records: u64, recorded: i64, proven: Option<i64> },
}

/// One refused entry: which key, which rule, and what MM2 would do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Refusal {
    /// `cluster:topic/partition` of the MM2 key.
    pub key: String,
    #[serde(flatten)]
    pub reason: RefusalReason,
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What the safety rules refuse, each with what MM2 would do; empty when the plan may be written.
pub fn refusals(entries: &[PlanEntry], overrides: Overrides) -> Vec<Refusal> {
    entries.iter().flat_map(|e| refusal(e, overrides)).collect()
}

/// Why one entry must not be written (a seam without a choice, a record in another partition, a
/// rewind, a deletion, an offset outside the replicated log), saying what MM2 would do.
pub fn refusal(e: &PlanEntry, overrides: Overrides) -> Vec<Refusal> {
    let rules = [seam_rule(e, overrides), misplaced_rule(e, overrides), rewind_rule(e, overrides), delete_rule(e, overrides), range_rule(e, overrides)];
    // Named only when refused: parsing every key for its name was a measurable part of a run.
    rules
        .into_iter()
        .flatten()
        .map(|(reason, message)| {
            let name = describe_key(&e.record.key);
            Refusal { key: name.clone(), reason, message: format!("{name}: {message}") }
        })
        .collect()
}

type Rule = Option<(RefusalReason, String)>;

/// An overlap or a gap at the seam without `--resume-at`; also where MM2 already holds the
/// recorded offset: it would resume at the wrong place.
fn seam_rule(e: &PlanEntry, overrides: Overrides) -> Rule {
    let seam = e.seam.as_ref().filter(|s| s.is_problem() && overrides.resume_at.is_none())?;
    Some((RefusalReason::Seam { status: seam.status, records: seam.records, recorded: seam.recorded, proven: seam.proven }, seam_refusal(seam)))
}

fn misplaced_rule(e: &PlanEntry, overrides: Overrides) -> Rule {
    let stray = e.misplaced_in.filter(|_| e.is_written() && !overrides.misplaced)?;
    Some((
        RefusalReason::Misplaced { partition: e.record.partition, found_in: stray },
        format!(
            "a record for this key sits in partition {stray}, not in partition {} where Connect's \
             producer puts it; it is never compacted away, and whichever of the two MM2 reads last wins \
             at each restart. Remove it first, or override with --allow-misplaced.",
            e.record.partition
        ),
    ))
}

/// The offset an entry writes, when it changes what MM2 holds.
fn changed_offset(e: &PlanEntry) -> Option<i64> {
    (e.is_written() && e.change != Change::Unchanged).then(|| e.offset.unwrap_or_default())
}

fn rewind_rule(e: &PlanEntry, overrides: Overrides) -> Rule {
    let (v, Change::Backward { from }) = (changed_offset(e)?, &e.change) else { return None };
    (!overrides.rewind).then(|| {
        (
            RefusalReason::Rewind { from: *from, offset: v },
            format!(
                "MM2 already holds offset {from}; writing {v} would move it backwards and MM2 \
                 would copy records {}..={from} again (duplicates). Override with --allow-rewind.",
                v + 1
            ),
        )
    })
}

fn delete_rule(e: &PlanEntry, overrides: Overrides) -> Rule {
    let (_, Change::Delete { from }) = (changed_offset(e)?, &e.change) else { return None };
    (!overrides.delete).then(|| {
        (
            RefusalReason::Delete { from: *from },
            format!(
                "the plugin emitted a tombstone; it would delete MM2's offset{} and MM2 would copy \
                 the partition again from auto.offset.reset (earliest: every record). Override with --allow-delete.",
                from.map(|f| format!(" {f}")).unwrap_or_default()
            ),
        )
    })
}

fn range_rule(e: &PlanEntry, overrides: Overrides) -> Rule {
    let v = changed_offset(e).filter(|_| !overrides.out_of_range)?;
    match e.range.as_ref()? {
        RangeCheck::BeyondEnd { start, end } => Some((
            RefusalReason::BeyondEnd { offset: v, start: *start, end: *end },
            format!(
                "offset {v} is beyond the replicated log [{start}, {end}): MM2 would find position {} \
                 invalid and reset to auto.offset.reset (earliest: every record copied again). \
                 Override with --allow-out-of-range.",
                v + 1
            ),
        )),
        RangeCheck::BeforeStart { start, end } => Some((
            RefusalReason::BeforeStart { offset: v, start: *start, end: *end },
            format!(
                "offset {v} is before the replicated log [{start}, {end}): records {}..{start} were \
                 deleted before they were replicated, and MM2 would resume at {start}. \
                 Override with --allow-out-of-range.",
                v + 1
            ),
        )),
        RangeCheck::MissingPartition => Some((
            RefusalReason::MissingPartition,
            "the replicated cluster has no such topic-partition; MM2 would not copy it. \
             Override with --allow-out-of-range."
                .to_owned(),
        )),
        _ => None,
    }
}

/// What a seam that is not exact would make MM2 do, and the two choices.
fn seam_refusal(seam: &Seam) -> String {
    let (v, n) = (seam.recorded, seam.records);
    let consequence = match (seam.status, seam.proven) {
        (SeamStatus::Overlap, Some(w)) => format!(
            "the copies go {n} records beyond the recorded offset {v} (the last copy is of offset {w}): MM2 would copy \
             records {}..={w} twice. --resume-at seam writes {w}",
            v + 1
        ),
        (_, Some(w)) => format!(
            "the last {n} records up to the recorded offset {v} have no copy (the last copy is of offset {w}): MM2 would \
             never copy records {}..={v}. --resume-at seam writes {w}",
            w + 1
        ),
        (_, None) => format!(
            "no record up to the recorded offset {v} has a copy where MM2 will write, so MM2 would never copy {n} records. \
             --resume-at seam writes nothing for this partition (MM2 copies it from its start)"
        ),
    };
    format!("{consequence}; --resume-at recorded writes {v} and accepts it. ({})", seam.detail)
}
