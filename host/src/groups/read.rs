//! The reads behind the translation, shared per partition: however many groups commit on a
//! partition, its first and last copies are found once, and the records around all their
//! positions are read in as few bounded windows as they fit in ([`SPAN`] records each), every
//! window of every partition in one pass per round.

use std::collections::HashMap;

use rdkafka::Message;

use super::position::{Copy, PairData, Position, translate as translate_one};
use super::{GroupsError, GroupsOptions};
use crate::kafka::{OffsetQuery, TopicPartition, Window, Windows};
use crate::matching::{Fingerprint, Logged, RUN};
use crate::seam::{self, CopyPair, End, Evidence, SCAN, SeamSetup};

/// Most records one window of one partition holds (about 50 bytes each in memory).
const SPAN: i64 = 20_000;

/// What was read of each replicated partition: one [`PairData`] per window, in offset order.
pub(super) type Pairs = HashMap<TopicPartition, Vec<PairData>>;

/// Translates `g` with the window of `partition` that holds it.
pub(super) fn translate(pairs: &Pairs, partition: &TopicPartition, g: i64) -> Position {
    let windows = pairs.get(partition).map(Vec::as_slice).unwrap_or_default();
    let holding = windows.iter().find(|w| g >= w.source_window.0 && g < w.source_window.1).or_else(|| windows.first());
    match holding {
        Some(pair) => translate_one(g, pair),
        None => translate_one(g, &PairData::unread(format!("{}/{} was not read", partition.0, partition.1))),
    }
}

/// The source offset of each partition's last copy, where proven.
pub(super) fn last_copies(pairs: &Pairs) -> HashMap<TopicPartition, i64> {
    pairs.iter().filter_map(|(tp, windows)| Some((tp.clone(), windows.first()?.last.as_ref().ok()?.source))).collect()
}

fn copy(evidence: Option<&Evidence>, end: &str) -> Result<Copy, String> {
    match evidence {
        Some(Evidence::Copy { source_offset, data_offset, .. }) => Ok(Copy { source: *source_offset, data: *data_offset }),
        Some(Evidence::NoCopies { detail }) => Err(format!("{detail}: there are no copies to translate to")),
        Some(Evidence::Unproven(detail)) => Err(detail.clone()),
        None => Err(format!("the {end} copy was not looked for")),
    }
}

/// The offsets around the positions of one window: [from, to).
fn needs(g: i64, first: &Result<Copy, String>, last: &Result<Copy, String>) -> (i64, i64) {
    let context = (g - 2 * RUN as i64, g + 3 * RUN as i64);
    match (first, last) {
        // Counted up to G from the last copy, or from G to the first copy, when not too far.
        (_, Ok(l)) if g > l.source && g - l.source <= SPAN => (l.source + 1 - 2 * RUN as i64, g + 1),
        (Ok(f), _) if g < f.source && f.source - g <= SPAN => (context.0, f.source + 3 * RUN as i64),
        _ => context,
    }
}

/// The source windows a partition's positions need, within its log `[start, end)`: positions
/// in order, a window closed when the next would make it longer than [`SPAN`].
fn spans(positions: &[i64], first: &Result<Copy, String>, last: &Result<Copy, String>, (start, end): (i64, i64)) -> Vec<(i64, i64)> {
    let mut gs = positions.to_vec();
    gs.sort_unstable();
    gs.dedup();
    let mut spans: Vec<(i64, i64)> = Vec::new();
    for g in gs {
        let (from, to) = needs(g, first, last);
        let (from, to) = (from.max(start), to.min(end));
        match spans.last_mut() {
            Some(span) if to.max(span.1) - span.0 <= SPAN => span.1 = span.1.max(to),
            _ => spans.push((from, to.max(from))),
        }
    }
    spans
}

/// Where the copies of a source window are looked for on the data partition `[start, end)`:
/// from a few records before `aligned` (the first copy at or after the window's first
/// timestamp), as long as the window plus a scan, never past the last copy.
fn copies_window(window: (i64, i64), last_copy: i64, aligned: Option<i64>, (start, end): (i64, i64)) -> Option<(i64, i64)> {
    let from = (aligned.unwrap_or(start) - 4 * RUN as i64).max(start);
    let to = (from + window.1 - window.0 + SCAN + 8 * RUN as i64).min(last_copy + 1).min(end);
    (to > from).then_some((from, to))
}

/// Reads the first and last copies of every partition, then the records around every position.
pub(super) fn read_pairs(
    options: &GroupsOptions,
    positions: &HashMap<TopicPartition, Vec<i64>>,
    data_partition: &dyn Fn(&TopicPartition) -> TopicPartition,
) -> Result<Pairs, GroupsError> {
    let mut out = Pairs::new();
    if positions.is_empty() {
        return Ok(out);
    }
    let (replicated, data) = (Windows::new(&options.replicated)?, Windows::new(&options.data)?);
    let sources: Vec<TopicPartition> = positions.keys().cloned().collect();
    let source_ranges = replicated.ranges(&sources)?;
    let pairs: Vec<CopyPair> = sources.iter().map(|s| CopyPair { source: s.clone(), data: data_partition(s) }).collect();
    let setup = SeamSetup { replicated: &options.replicated, data: &options.data, policy: &options.policy };
    let heads = seam::find_copies(setup, &pairs, &source_ranges, End::Head)?;
    let tails = seam::find_copies(setup, &pairs, &source_ranges, End::Tail)?;

    let mut windows: Vec<(CopyPair, Vec<PairData>)> = Vec::new();
    for pair in pairs {
        let names = (format!("{}/{}", pair.source.0, pair.source.1), format!("{}/{}", pair.data.0, pair.data.1));
        let Some(range) = source_ranges.get(&pair.source).copied() else {
            out.insert(pair.source.clone(), vec![PairData::unread(format!("the replicated cluster has no partition {}", names.0))]);
            continue;
        };
        let (first, last) = (copy(heads.get(&pair), "first"), copy(tails.get(&pair), "last"));
        let data_windows = spans(&positions[&pair.source], &first, &last, (range.start, range.end))
            .into_iter()
            .map(|window| PairData {
                source_start: range.start,
                first: first.clone(),
                last: last.clone(),
                source: Vec::new(),
                source_window: window,
                data: Vec::new(),
                names: names.clone(),
            })
            .collect();
        windows.push((pair, data_windows));
    }
    let rounds = windows.iter().map(|(_, w)| w.len()).max().unwrap_or(0);
    let data_ranges = data.ranges(&windows.iter().map(|(p, _)| p.data.clone()).collect::<Vec<_>>())?;
    for round in 0..rounds {
        read_round(&replicated, &data, &data_ranges, &mut windows, round)?;
    }
    out.extend(windows.into_iter().map(|(pair, data)| (pair.source, data)));
    Ok(out)
}

/// Round `round` reads the round-th window of every pair that has one: the source records in
/// one pass, then the copies around them in another.
fn read_round(
    replicated: &Windows<'_>,
    data: &Windows<'_>,
    data_ranges: &HashMap<TopicPartition, crate::kafka::PartitionRange>,
    windows: &mut [(CopyPair, Vec<PairData>)],
    round: usize,
) -> Result<(), GroupsError> {
    let mut this: Vec<(&CopyPair, &mut PairData)> =
        windows.iter_mut().filter_map(|(pair, w)| Some((&*pair, w.get_mut(round)?))).collect();
    let mut read: HashMap<TopicPartition, Vec<Logged>> = HashMap::new();
    let source_windows: Vec<Window> = this
        .iter()
        .map(|(p, w)| Window { topic: p.source.0.clone(), partition: p.source.1, from: w.source_window.0, to: w.source_window.1 })
        .collect();
    replicated.read(&source_windows, "the records at the groups' positions", |m| {
        read.entry((m.topic().to_owned(), m.partition())).or_default().push(logged(m));
    })?;
    let mut queries = Vec::new();
    for (p, window) in &mut this {
        window.source = read.remove(&p.source).unwrap_or_default();
        if let (Some(first), Ok(_)) = (window.source.first(), &window.last) {
            queries.push((p.data.clone(), OffsetQuery::Time(first.fingerprint.timestamp)));
        }
    }
    let found = data.list_offsets(&queries)?;
    let data_windows: Vec<Window> = this
        .iter()
        .filter_map(|(p, window)| {
            let (Ok(last), Some(range)) = (&window.last, data_ranges.get(&p.data)) else { return None };
            let aligned = found.get(&p.data).copied().flatten();
            let (from, to) = copies_window(window.source_window, last.data, aligned, (range.start, range.end))?;
            Some(Window { topic: p.data.0.clone(), partition: p.data.1, from, to })
        })
        .collect();
    data.read(&data_windows, "the copies at the groups' positions", |m| {
        read.entry((m.topic().to_owned(), m.partition())).or_default().push(logged(m));
    })?;
    for (p, window) in &mut this {
        window.data = read.remove(&p.data).unwrap_or_default();
    }
    Ok(())
}

fn logged(m: &rdkafka::message::BorrowedMessage<'_>) -> Logged {
    Logged { offset: m.offset(), fingerprint: Fingerprint::of(m).0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: i64 = RUN as i64;

    #[test]
    fn positions_share_a_window_up_to_span_records() {
        let unproven = || Err("no copies".to_owned());
        let spans_of = |positions: &[i64]| spans(positions, &unproven(), &unproven(), (0, 100_000));
        assert_eq!(spans_of(&[50, 10, 10]), [(0, 50 + 3 * R)], "close positions, one window from the log start");
        assert_eq!(spans_of(&[30_000, 10]), [(0, 10 + 3 * R), (30_000 - 2 * R, 30_000 + 3 * R)], "far apart: two windows");
        // From the last copy up to a position past it (the records since are all read).
        let last = Ok(Copy { source: 900, data: 400 });
        assert_eq!(spans(&[1_000], &unproven(), &last, (0, 100_000)), [(901 - 2 * R, 1_001)]);
        assert_eq!(spans(&[5], &unproven(), &unproven(), (3, 8)), [(3, 8)], "within the log");
    }

    #[test]
    fn copies_are_looked_for_from_the_aligned_offset_up_to_the_last_copy() {
        let window = (100, 110);
        assert_eq!(copies_window(window, 5_000, Some(4 * R + 40), (0, 10_000)), Some((40, 40 + 10 + SCAN + 8 * R)));
        assert_eq!(copies_window(window, 50, Some(40), (0, 1_000)), Some(((40 - 4 * R).max(0), 51)), "never past the last copy");
        assert_eq!(copies_window(window, 5_000, None, (7, 9)), Some((7, 9)), "unaligned: from the log start");
        assert_eq!(copies_window(window, 2, Some(4 * R + 40), (0, 1_000)), None, "the last copy is before the window");
    }
}
