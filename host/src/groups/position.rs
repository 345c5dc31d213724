//! Where a consumer group's committed offset lies among the copies: pure, over what was read.
//!
//! G is the group's committed offset on the replicated cluster ("the next record to read is G").
//! Its exact place on the data cluster is the copy of the first copied source record at or after
//! G; transaction markers, aborted and compacted-away records have no copy and are stepped over.
//! F is the source offset of the data partition's first copy, W of its last.

use crate::matching::{Located, Logged, RUN, locate};

/// What the translation of one committed offset found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// G's record (or the first copied record after it) has a copy: the target offset is that copy.
    Exact,
    /// G is just past the last copy: the copies' end.
    End,
    /// The group consumed records the copies do not hold yet: the copies' end (never further
    /// than the data proves).
    Ahead,
    /// G is older than the first copy: the first copy.
    Before,
    /// No unique match: nothing is written (see the detail).
    Unproven,
}

/// One committed offset translated.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    pub status: Status,
    /// The offset to commit on the data partition; `None` when unproven.
    pub target_offset: Option<i64>,
    /// Records past the last copy (`ahead`) or before the first (`before`); 0 otherwise.
    pub records: u64,
    /// Whether `records` counts offsets rather than records (more than the read window lay between).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub records_estimated: bool,
    pub detail: String,
}

/// A copy at one end of the data partition: the source offset it is of, and where it sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copy {
    pub source: i64,
    pub data: i64,
}

/// What was read of one partition pair, shared by every group committed on it.
#[derive(Debug, Clone)]
pub struct PairData {
    /// The replicated partition's log: [start, end).
    pub source_start: i64,
    /// The first and last copies, where proven; otherwise why not.
    pub first: Result<Copy, String>,
    pub last: Result<Copy, String>,
    /// Source records read, in log order, and the offsets [from, to) the read covered.
    pub source: Vec<Logged>,
    pub source_window: (i64, i64),
    /// Data records read around the copies of the groups' positions, in log order.
    pub data: Vec<Logged>,
    /// The partitions' names, for details: `orders/0 -> orders/0`.
    pub names: (String, String),
}

impl PairData {
    /// A partition that could not be read: every position on it is unproven for `why`.
    pub fn unread(why: String) -> PairData {
        PairData {
            source_start: 0,
            first: Err(why.clone()),
            last: Err(why),
            source: Vec::new(),
            source_window: (0, 0),
            data: Vec::new(),
            names: (String::new(), String::new()),
        }
    }

    /// Source records in `[from, to)`: counted where the read covered it, else the offsets
    /// (an upper bound: markers take offsets too).
    fn records_between(&self, from: i64, to: i64) -> (u64, bool) {
        let (lo, hi) = self.source_window;
        if from >= lo && to <= hi {
            (self.source.iter().filter(|r| r.offset >= from && r.offset < to).count() as u64, false)
        } else {
            ((to - from).max(0) as u64, true)
        }
    }

    /// Copies a run must hold: RUN, or all of them where fewer exist.
    fn needed(&self) -> usize {
        match (&self.first, &self.last) {
            (Ok(f), Ok(l)) => RUN.min((l.data - f.data + 1).max(1) as usize),
            _ => RUN,
        }
    }
}

fn unproven(detail: String) -> Position {
    Position { status: Status::Unproven, target_offset: None, records: 0, records_estimated: false, detail }
}

/// Translates the committed offset `g` over what was read of its partition.
pub fn translate(g: i64, pair: &PairData) -> Position {
    let (source_name, data_name) = (&pair.names.0, &pair.names.1);
    let last = match &pair.last {
        Ok(last) => *last,
        Err(why) => return unproven(why.clone()),
    };
    if g < pair.source_start {
        return unproven(format!(
            "retention removed the group's record: {source_name} starts at {} and the group is at {g}",
            pair.source_start
        ));
    }
    let end = last.data + 1;
    if g > last.source {
        let (n, estimated) = pair.records_between(last.source + 1, g);
        let position = |status, detail| Position { status, target_offset: Some(end), records: n, records_estimated: estimated, detail };
        return if n == 0 {
            position(Status::End, format!("the group has read up to the last copy ({source_name} offset {}): the copies' end {end}", last.source))
        } else {
            position(
                Status::Ahead,
                format!(
                    "the group read {}{n} records past the last copy ({source_name} offset {}) that {data_name} does not hold yet: \
                     the copies' end {end}; MM2's checkpoints move it on only to the offset after its newest offset sync, \
                     so keep `groups run --follow` going until the group has passed the seam",
                    if estimated { "up to " } else { "" },
                    last.source
                ),
            )
        };
    }
    if let Ok(first) = &pair.first
        && g <= first.source
    {
        let (n, estimated) = pair.records_between(g, first.source);
        if n > 0 {
            return Position {
                status: Status::Before,
                target_offset: Some(first.data),
                records: n,
                records_estimated: estimated,
                detail: format!(
                    "the group is {}{n} records before the first copy in {data_name} ({source_name} offset {} at {}): \
                     those records were never copied (or are gone from the data cluster); it resumes at the first copy",
                    if estimated { "up to " } else { "" },
                    first.source,
                    first.data
                ),
            };
        }
    }
    exact(g, pair)
}

/// G lies among the copies: the copy of the first copied source record at or after G.
fn exact(g: i64, pair: &PairData) -> Position {
    let (source_name, data_name) = (&pair.names.0, &pair.names.1);
    let Some(i) = pair.source.iter().position(|r| r.offset >= g) else {
        return unproven(format!("no record of {source_name} at or after {g} could be read"));
    };
    let needed = pair.needed();
    let found = |j: usize, detail: String| Position {
        status: Status::Exact,
        target_offset: Some(pair.data[j].offset),
        records: 0,
        records_estimated: false,
        detail,
    };
    let at = pair.source[i].offset;
    let skipped = if at > g { format!(" (offsets {g}..{at} hold no record: transaction markers or compaction)") } else { String::new() };
    match locate(&pair.source, &pair.data, i, needed) {
        Located::At(j) => found(j, format!("{source_name} offset {at} is {data_name} offset {}{skipped}", pair.data[j].offset)),
        Located::Unverified { candidates, verified } => unproven(format!(
            "{source_name} offset {at} has {candidates} records with its key, value and timestamp in {data_name}, {verified} with \
             {needed} consecutive records matching around them: repeated records cannot tell them apart"
        )),
        Located::Absent => {
            // The record was not copied (aborted, or compacted away on the data cluster): the
            // answer is the copy right after the copy of the record before G, when that copy is
            // itself proven to be of a record after G.
            let before = match i.checked_sub(1).map(|b| locate(&pair.source, &pair.data, b, needed)) {
                Some(Located::At(jp)) => jp,
                _ => {
                    return unproven(format!(
                        "{source_name} offset {at} has no copy in {data_name}, and the record before it cannot be matched \
                         either: timestamps rewritten, partitions not preserved, or the copies deleted"
                    ));
                }
            };
            let next = before + 1;
            if next >= pair.data.len() {
                return unproven(format!("no copy after {data_name} offset {} could be read", pair.data[before].offset));
            }
            for k in i + 1..pair.source.len() {
                match locate(&pair.source, &pair.data, k, needed) {
                    Located::At(j) if j == next => {
                        return found(
                            j,
                            format!(
                                "{source_name} offsets {at}..{} have no copy (aborted, or compacted away): the next copied \
                                 record, offset {}, is {data_name} offset {}{skipped}",
                                pair.source[k].offset,
                                pair.source[k].offset,
                                pair.data[j].offset
                            ),
                        );
                    }
                    Located::Absent => continue,
                    _ => break,
                }
            }
            unproven(format!(
                "{source_name} offset {at} has no copy in {data_name}, and the copy after the previous record's is not proven \
                 to be of a later record"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::Fingerprint;

    fn fp(n: u32) -> Fingerprint {
        let mut digest = [0u8; 32];
        digest[..4].copy_from_slice(&n.to_be_bytes());
        Fingerprint { timestamp: 1000 + i64::from(n), digest }
    }

    /// Source records `offsets` (fingerprint = offset); copies of `copied` (source offsets), in
    /// order, from data offset `data_first`.
    fn pair(offsets: &[i64], copied: &[i64], data_first: i64) -> PairData {
        let source: Vec<Logged> = offsets.iter().map(|&o| Logged { offset: o, fingerprint: fp(o as u32) }).collect();
        let data: Vec<Logged> =
            copied.iter().enumerate().map(|(i, &o)| Logged { offset: data_first + i as i64, fingerprint: fp(o as u32) }).collect();
        PairData {
            source_start: offsets[0],
            first: Ok(Copy { source: copied[0], data: data_first }),
            last: Ok(Copy { source: *copied.last().unwrap(), data: data_first + copied.len() as i64 - 1 }),
            source_window: (offsets[0], offsets.last().unwrap() + 1),
            source,
            data,
            names: ("t/0".into(), "t/0".into()),
        }
    }

    #[test]
    fn each_status_where_the_group_stands() {
        // Source 0..40; the copies are of 10..=29, at data offsets 100..=119.
        let offsets: Vec<i64> = (0..40).collect();
        let copied: Vec<i64> = (10..30).collect();
        let p = pair(&offsets, &copied, 100);
        let at = |g| translate(g, &p);
        assert_eq!((at(15).status, at(15).target_offset), (Status::Exact, Some(105)));
        assert_eq!((at(10).status, at(10).target_offset), (Status::Exact, Some(100)), "at the first copy");
        assert_eq!((at(29).status, at(29).target_offset), (Status::Exact, Some(119)), "at the last copy");
        assert_eq!((at(30).status, at(30).target_offset, at(30).records), (Status::End, Some(120), 0));
        assert_eq!((at(35).status, at(35).target_offset, at(35).records), (Status::Ahead, Some(120), 5));
        assert_eq!((at(4).status, at(4).target_offset, at(4).records), (Status::Before, Some(100), 6));
        let gone = PairData { source_start: 5, ..p.clone() };
        assert_eq!(translate(3, &gone).status, Status::Unproven, "retention removed G's record");
        assert!(translate(3, &gone).detail.contains("retention"));
    }

    #[test]
    fn markers_and_uncopied_records_are_stepped_over() {
        // Offsets 12 and 13 are transaction markers (no record); 20 was aborted and not copied.
        let offsets: Vec<i64> = (0..40).filter(|o| *o != 12 && *o != 13).collect();
        let copied: Vec<i64> = (0..30).filter(|o| *o != 12 && *o != 13 && *o != 20).collect();
        let p = pair(&offsets, &copied, 0);
        // A group on the marker resumes at the copy of 14, data offset 12.
        assert_eq!((translate(12, &p).status, translate(12, &p).target_offset), (Status::Exact, Some(12)));
        assert!(translate(12, &p).detail.contains("markers"), "{}", translate(12, &p).detail);
        // A group at the aborted record resumes at the copy of 21: data offset 18 (0..=11, 14..=19, 21 ...).
        let aborted = translate(20, &p);
        assert_eq!((aborted.status, aborted.target_offset), (Status::Exact, Some(18)), "{}", aborted.detail);
        // Markers between the last copy and G are not records: still the end.
        let offsets: Vec<i64> = (0..32).filter(|o| *o != 30).collect();
        let p = pair(&offsets, &(0..30).collect::<Vec<_>>(), 0);
        assert_eq!((translate(31, &p).status, translate(31, &p).records), (Status::End, 0));
    }

    #[test]
    fn without_proof_nothing_is_translated() {
        // Repeated records: every copy looks alike.
        let source: Vec<Logged> = (0..20).map(|o| Logged { offset: o, fingerprint: fp(7) }).collect();
        let data: Vec<Logged> = (0..20).map(|o| Logged { offset: o, fingerprint: fp(7) }).collect();
        let p = PairData {
            source_start: 0,
            first: Ok(Copy { source: 0, data: 0 }),
            last: Ok(Copy { source: 19, data: 19 }),
            source,
            source_window: (0, 20),
            data,
            names: ("t/0".into(), "t/0".into()),
        };
        assert_eq!(translate(5, &p).status, Status::Unproven);
        assert!(translate(5, &p).detail.contains("repeated records"));
        let missing = PairData { last: Err("the data topic \"t\" does not exist".into()), ..p };
        assert_eq!(translate(5, &missing).detail, "the data topic \"t\" does not exist");
        // Beyond the read window, counts are offsets and say so.
        let offsets: Vec<i64> = (0..40).collect();
        let mut far = pair(&offsets, &(0..30).collect::<Vec<_>>(), 0);
        far.source_window = (0, 35);
        let ahead = translate(1000, &far);
        assert_eq!((ahead.status, ahead.records, ahead.records_estimated), (Status::Ahead, 970, true));
    }
}
