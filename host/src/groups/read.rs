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
    let data_ranges = data.ranges(&pairs.iter().map(|p| p.data.clone()).collect::<Vec<_>>())?;

    // The windows of each pair: positions in order, a window closed when the next would make it
    // longer than SPAN.
    let mut windows: Vec<(CopyPair, Vec<PairData>)> = Vec::new();
    for pair in pairs {
        let names = (format!("{}/{}", pair.source.0, pair.source.1), format!("{}/{}", pair.data.0, pair.data.1));
        let Some(range) = source_ranges.get(&pair.source).copied() else {
            out.insert(pair.source.clone(), vec![PairData::unread(format!("the replicated cluster has no partition {}", names.0))]);
            continue;
        };
        let (first, last) = (copy(heads.get(&pair), "first"), copy(tails.get(&pair), "last"));
        let mut gs = positions[&pair.source].clone();
        gs.sort_unstable();
        gs.dedup();
        let mut spans: Vec<(i64, i64)> = Vec::new();
        for g in gs {
            let (from, to) = needs(g, &first, &last);
            let (from, to) = (from.max(range.start), to.min(range.end));
            match spans.last_mut() {
                Some(span) if to.max(span.1) - span.0 <= SPAN => span.1 = span.1.max(to),
                _ => spans.push((from, to.max(from))),
            }
        }
        let data_windows = spans
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

    // Round k reads the k-th window of every pair: the source records, then the copies around them.
    let rounds = windows.iter().map(|(_, w)| w.len()).max().unwrap_or(0);
    for round in 0..rounds {
        let this: Vec<(CopyPair, usize)> =
            windows.iter().enumerate().filter(|(_, (_, w))| w.len() > round).map(|(i, (p, _))| (p.clone(), i)).collect();
        let mut read: HashMap<TopicPartition, Vec<Logged>> = HashMap::new();
        let source_windows: Vec<Window> = this
            .iter()
            .map(|(p, i)| {
                let (from, to) = windows[*i].1[round].source_window;
                Window { topic: p.source.0.clone(), partition: p.source.1, from, to }
            })
            .collect();
        replicated.read(&source_windows, "the records at the groups' positions", |m| {
            read.entry((m.topic().to_owned(), m.partition())).or_default().push(logged(m));
        })?;
        let mut queries = Vec::new();
        for (p, i) in &this {
            let records = read.remove(&p.source).unwrap_or_default();
            let window = &mut windows[*i].1[round];
            if let (Some(first), Ok(_)) = (records.first(), &window.last) {
                queries.push((p.data.clone(), OffsetQuery::Time(first.fingerprint.timestamp)));
            }
            window.source = records;
        }
        let found = data.list_offsets(&queries)?;
        let mut data_windows = Vec::new();
        for (p, i) in &this {
            let window = &windows[*i].1[round];
            let (Ok(last), Some(range)) = (&window.last, data_ranges.get(&p.data)) else { continue };
            // The copies come at or after the first record's timestamp; a few before it give
            // the run its context.
            let aligned = found.get(&p.data).copied().flatten().unwrap_or(range.start);
            let from = (aligned - 4 * RUN as i64).max(range.start);
            let span = window.source_window.1 - window.source_window.0;
            let to = (from + span + SCAN + 8 * RUN as i64).min(last.data + 1).min(range.end);
            if to > from {
                data_windows.push(Window { topic: p.data.0.clone(), partition: p.data.1, from, to });
            }
        }
        data.read(&data_windows, "the copies at the groups' positions", |m| {
            read.entry((m.topic().to_owned(), m.partition())).or_default().push(logged(m));
        })?;
        for (p, i) in &this {
            windows[*i].1[round].data = read.remove(&p.data).unwrap_or_default();
        }
    }
    for (pair, data) in windows {
        out.insert(pair.source, data);
    }
    Ok(out)
}

fn logged(m: &rdkafka::message::BorrowedMessage<'_>) -> Logged {
    Logged { offset: m.offset(), fingerprint: Fingerprint::of(m).0 }
}
