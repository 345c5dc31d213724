//! Finding the copy at one end of many data partitions, in five batched phases: the data
//! partitions' ranges, their edge records, the anchor copies' timestamps on both clusters, at
//! most two rounds of bounded source windows, and the verdict of the matches.

use std::collections::HashMap;

use rdkafka::Message;
use rdkafka::message::Timestamp;

use super::{CopyPair, End, Evidence, RUN, ReplicationPolicy, SCAN, SeamSetup};
use crate::kafka::{KafkaError, OffsetQuery, PartitionRange, ReplicatedRanges, TopicPartition, TopicPartitions, Unauthorized, Window, Windows};
use crate::matching::{Fingerprint, Matcher};

/// The copies at one end of a data partition, oldest first: (data offset, fingerprint,
/// timestamp as the data topic gives it).
#[derive(Debug, Clone)]
struct Edge {
    records: Vec<(i64, Fingerprint, Timestamp)>,
    end: End,
}

impl Edge {
    /// The record at the very end: the first copy (head) or the last (tail).
    fn anchor(&self) -> (i64, Fingerprint, Timestamp) {
        match self.end {
            End::Head => self.records[0],
            End::Tail => self.records[self.records.len() - 1],
        }
    }
}

fn name(tp: &TopicPartition) -> String {
    format!("{}/{}", tp.0, tp.1)
}

/// For each pair, which source record the copy at `end` of its data partition is of. Every read
/// is a bounded window, batched over all pairs: the data partitions' ranges, their edge records,
/// one ListOffsets round by time on each cluster, then at most two rounds of source windows.
pub fn find_copies(setup: SeamSetup<'_>, pairs: &[CopyPair], sources: &ReplicatedRanges, end: End) -> Result<HashMap<CopyPair, Evidence>, KafkaError> {
    let mut evidence: HashMap<CopyPair, Evidence> = HashMap::new();
    let mut pairs = pairs.to_vec();
    pairs.sort_unstable();
    pairs.dedup();
    if pairs.is_empty() {
        return Ok(evidence);
    }
    let word = end.word();
    // A data topic that is the replicated topic itself holds no copies: it proves nothing.
    let same_cluster = setup.replicated.same_cluster(setup.data)?;
    let started = std::time::Instant::now();
    let phase = |what: &str| tracing::debug!("copies ({word}): {what} after {:?}", started.elapsed());
    let (data, replicated) = (Windows::new(setup.data)?, Windows::new(setup.replicated)?);

    // 1. The data partitions: which exist, and their ranges.
    let wanted: Vec<TopicPartition> = pairs.iter().map(|t| t.data.clone()).collect();
    let (existing, data_ranges) = data.present_ranges(&wanted, Unauthorized::Fail)?;
    // Where the policy renames a topic MM2 would write, the old copies may sit under the source
    // name: worth saying, since the operator's MM2 configuration is then the cause.
    let mut renamed: Vec<String> =
        pairs.iter().filter(|t| t.data.0 != t.source.0 && !existing.contains_key(&t.data.0)).map(|t| t.source.0.clone()).collect();
    renamed.sort_unstable();
    renamed.dedup();
    let under_source_name = match setup.policy {
        ReplicationPolicy::Identity => HashMap::new(),
        ReplicationPolicy::Default { .. } => data.topic_partitions(&renamed, Unauthorized::Skip)?,
    };
    let facts = DataFacts { existing: &existing, ranges: &data_ranges, under_source_name: &under_source_name, same_cluster, sources };
    let mut edges_wanted = Vec::new();
    for t in &pairs {
        match edge_window(t, &facts, end) {
            Ok(window) => edges_wanted.push(window),
            Err(found) => {
                evidence.insert(t.clone(), found);
            }
        }
    }
    edges_wanted.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    edges_wanted.dedup();
    phase("data ranges");

    // 2. The copies at the chosen end of each data partition.
    let edges = read_edges(&data, &edges_wanted, end)?;
    phase("edge copies read");

    // 3. Candidates by the anchor copy's timestamp, on both clusters.
    let pending = anchored(&pairs, &edges, end, &mut evidence);
    let source_times = replicated.list_offsets(
        &pending.iter().map(|(t, edge)| (t.source.clone(), OffsetQuery::Time(edge.anchor().1.timestamp))).collect::<Vec<_>>(),
    )?;
    let mut data_queries: Vec<(TopicPartition, OffsetQuery)> =
        pending.iter().map(|(t, edge)| (t.data.clone(), OffsetQuery::Time(edge.anchor().1.timestamp))).collect();
    data_queries.sort_by(|a, b| a.0.cmp(&b.0));
    data_queries.dedup_by(|a, b| a.0 == b.0);
    let data_times = data.list_offsets(&data_queries)?;
    phase("timestamps looked up");

    // 4. Round one reads around the aligned candidate, round two scans from the timestamp's
    // first offset; each window is bounded.
    let mut rounds: [Vec<Read<'_>>; 2] = [Vec::new(), Vec::new()];
    for &(t, edge) in &pending {
        let Some(Some(first)) = source_times.get(&t.source).copied() else {
            evidence.insert(t.clone(), Evidence::Unproven(newer_than_the_source(t, edge, end)));
            continue;
        };
        match source_windows(edge, sources[&t.source], &t.source, first, data_times.get(&t.data).copied().flatten()) {
            (Some(around), scan) => rounds[0].push((t, edge, around, Some(scan))),
            (None, scan) => rounds[1].push((t, edge, scan, None)),
        }
    }
    let found = read_rounds(&replicated, rounds, end)?;
    phase("replicated records read");

    // 5. What the matches prove.
    for (t, edge) in &pending {
        if !evidence.contains_key(*t) {
            let matches = found.get(*t).map(Vec::as_slice).unwrap_or_default();
            evidence.insert((*t).clone(), verdict(t, edge, matches, end));
        }
    }
    Ok(evidence)
}

/// The pairs not yet decided whose edge copy can anchor a match; the others' evidence says why not.
fn anchored<'p>(
    pairs: &'p [CopyPair],
    edges: &'p HashMap<TopicPartition, Edge>,
    end: End,
    evidence: &mut HashMap<CopyPair, Evidence>,
) -> Vec<(&'p CopyPair, &'p Edge)> {
    let mut pending = Vec::new();
    for t in pairs {
        if evidence.contains_key(t) {
            continue;
        }
        match edges.get(&t.data).ok_or_else(|| no_edge(t, end)).and_then(|edge| anchorable(t, edge, end).map(|()| edge)) {
            Ok(edge) => pending.push((t, edge)),
            Err(detail) => {
                evidence.insert(t.clone(), Evidence::Unproven(detail));
            }
        }
    }
    pending
}

/// What phase 1 knows of the data cluster.
struct DataFacts<'a> {
    existing: &'a TopicPartitions,
    ranges: &'a HashMap<TopicPartition, PartitionRange>,
    /// Source topics that exist on the data cluster under their own name.
    under_source_name: &'a TopicPartitions,
    same_cluster: bool,
    sources: &'a ReplicatedRanges,
}

/// The window of a pair's edge copies, or the evidence that there is nothing to read.
fn edge_window(t: &CopyPair, facts: &DataFacts<'_>, end: End) -> Result<Window, Evidence> {
    match (facts.existing.get(&t.data.0), facts.ranges.get(&t.data)) {
        _ if facts.same_cluster && t.data.0 == t.source.0 => Err(Evidence::Unproven(format!(
            "the data topic is the replicated topic {:?} itself (the data cluster is the replicated cluster): \
             name the cluster holding the copies with --data-bootstrap",
            t.source.0
        ))),
        (None, _) if facts.under_source_name.contains_key(&t.source.0) => Err(Evidence::NoCopies {
            detail: format!(
                "MM2's replication policy writes {:?} to {:?}, which does not exist on the data cluster; the old copies \
                 are in {:?} (IdentityReplicationPolicy keeps that name)",
                t.source.0, t.data.0, t.source.0
            ),
        }),
        (None, _) => Err(Evidence::NoCopies { detail: format!("the data topic {:?} does not exist on the data cluster", t.data.0) }),
        (Some(ps), None) => Err(Evidence::Unproven(format!(
            "the data topic {:?} has no partition {} ({} partitions): partitions are not preserved",
            t.data.0,
            t.data.1,
            ps.len()
        ))),
        (Some(_), Some(r)) if r.end == 0 => Err(Evidence::NoCopies { detail: format!("{} has never held a record", name(&t.data)) }),
        (Some(_), Some(r)) if r.start == r.end => Err(Evidence::Unproven(format!(
            "every record of {} was deleted (log [{}, {})): retention removed the copies",
            name(&t.data),
            r.start,
            r.end
        ))),
        (Some(_), Some(_)) if !facts.sources.contains_key(&t.source) => {
            Err(Evidence::Unproven(format!("the replicated cluster has no partition {}", name(&t.source))))
        }
        (Some(_), Some(r)) => {
            // Twice the run: transaction markers take offsets too.
            let (from, to) = match end {
                End::Head => (r.start, r.end.min(r.start + 2 * RUN as i64)),
                End::Tail => (r.start.max(r.end - 2 * RUN as i64), r.end),
            };
            Ok(Window { topic: t.data.0.clone(), partition: t.data.1, from, to })
        }
    }
}

/// The RUN records at `end` of each window, by data partition.
fn read_edges(data: &Windows<'_>, windows: &[Window], end: End) -> Result<HashMap<TopicPartition, Edge>, KafkaError> {
    let mut edges: HashMap<TopicPartition, Edge> = HashMap::new();
    data.read(windows, &format!("the {} copies", end.word()), |m| {
        let (fingerprint, timestamp) = Fingerprint::of(m);
        let edge = edges.entry((m.topic().to_owned(), m.partition())).or_insert(Edge { records: Vec::new(), end });
        match end {
            End::Head if edge.records.len() == RUN => {}
            End::Head => edge.records.push((m.offset(), fingerprint, timestamp)),
            End::Tail => {
                edge.records.push((m.offset(), fingerprint, timestamp));
                if edge.records.len() > RUN {
                    edge.records.remove(0);
                }
            }
        }
    })?;
    Ok(edges)
}

fn no_edge(t: &CopyPair, end: End) -> String {
    let at = if end == End::Head { "start" } else { "end" };
    format!("no record could be read at the {at} of {} (transaction markers or compaction)", name(&t.data))
}

/// Whether the anchor copy's timestamp can find its original: only a producer's CreateTime can.
fn anchorable(t: &CopyPair, edge: &Edge, end: End) -> Result<(), String> {
    match edge.anchor().2 {
        Timestamp::LogAppendTime(_) => {
            Err(format!("{} rewrites timestamps (message.timestamp.type=LogAppendTime): copies cannot be matched", t.data.0))
        }
        Timestamp::NotAvailable => Err(format!("the {} record of {} has no timestamp", end.word(), name(&t.data))),
        Timestamp::CreateTime(_) => Ok(()),
    }
}

fn newer_than_the_source(t: &CopyPair, edge: &Edge, end: End) -> String {
    let (copy_offset, copy, _) = edge.anchor();
    format!(
        "the {} copy ({} offset {copy_offset}, timestamp {}) is newer than every record of {}: timestamps were rewritten, \
         or the copies come from elsewhere",
        end.word(),
        name(&t.data),
        copy.timestamp,
        name(&t.source)
    )
}

/// The source windows of a pair: around the candidate the timestamps align (when the data
/// partition's first record at that time is at or before the anchor), and the wider scan from
/// the timestamp's first source offset to fall back on.
fn source_windows(edge: &Edge, range: PartitionRange, source: &TopicPartition, first: i64, data_first: Option<i64>) -> (Option<Window>, Window) {
    let (copy_offset, _, _) = edge.anchor();
    let run = edge.records.len() as i64;
    let window =
        |from: i64, to: i64| Window { topic: source.0.clone(), partition: source.1, from: from.max(range.start), to: to.min(range.end) };
    let scan = window(first - 2 * run, first + SCAN + run);
    let around = data_first.filter(|d| *d <= copy_offset).map(|data_first| {
        let aligned = first + (copy_offset - data_first);
        match edge.end {
            End::Head => window(aligned - run, aligned + 2 * run),
            End::Tail => window(aligned - 2 * run, aligned + run),
        }
    });
    (around, scan)
}

/// A window to read for a pair, and the wider scan to fall back on when it finds nothing.
type Read<'t> = (&'t CopyPair, &'t Edge, Window, Option<Window>);

/// Reads the rounds' windows and matches each pair's edge copies in them: the source offsets of
/// the anchor's original in every matching run.
fn read_rounds<'t>(replicated: &Windows<'_>, mut rounds: [Vec<Read<'t>>; 2], end: End) -> Result<HashMap<&'t CopyPair, Vec<i64>>, KafkaError> {
    let mut found: HashMap<&CopyPair, Vec<i64>> = HashMap::new();
    for round in 0..2 {
        let batch = std::mem::take(&mut rounds[round]);
        // By topic name, then partition: a message's borrowed topic finds its matcher.
        let mut matchers: HashMap<&str, HashMap<i32, Matcher>> = HashMap::new();
        for (t, edge, _, _) in &batch {
            let matcher = Matcher::new(edge.records.iter().map(|r| r.1).collect());
            matchers.entry(t.source.0.as_str()).or_default().insert(t.source.1, matcher);
        }
        let windows: Vec<Window> = batch.iter().map(|(_, _, w, _)| w.clone()).collect();
        replicated.read(&windows, "the replicated records", |m| {
            if let Some(matcher) = matchers.get_mut(m.topic()).and_then(|ps| ps.get_mut(&m.partition())) {
                matcher.push(m.offset(), Fingerprint::of(m).0);
            }
        })?;
        for (t, edge, _, scan) in batch {
            let matches = matchers.get_mut(t.source.0.as_str()).and_then(|ps| ps.remove(&t.source.1)).map(|m| m.matches).unwrap_or_default();
            match scan {
                Some(scan) if matches.is_empty() => rounds[1].push((t, edge, scan, None)),
                _ => {
                    // The source offset of the anchor: the run's first record (head) or last (tail).
                    found.insert(t, matches.iter().map(|&(first, last)| if end == End::Head { first } else { last }).collect());
                }
            }
        }
    }
    Ok(found)
}

/// What the matches of a pair's edge copies prove: exactly one run is a copy; none or several
/// prove nothing.
fn verdict(t: &CopyPair, edge: &Edge, matches: &[i64], end: End) -> Evidence {
    let (copy_offset, copy, _) = edge.anchor();
    let (run, word) = (edge.records.len(), end.word());
    match matches {
        [w] => Evidence::Copy {
            source_offset: *w,
            data_offset: copy_offset,
            detail: format!(
                "the {word} copy in {} (offset {copy_offset}) is of {} offset {w} on the replicated cluster \
                 ({run} consecutive records match)",
                name(&t.data),
                name(&t.source)
            ),
        },
        [] => Evidence::Unproven(format!(
            "no run of {run} records of {} near timestamp {} matches the {word} copies in {}: source records \
             compacted or deleted, timestamps rewritten, or partitions not preserved (MirrorMaker 1 re-partitions by key)",
            name(&t.source),
            copy.timestamp,
            name(&t.data)
        )),
        several => Evidence::Unproven(format!(
            "the {word} {run} copies in {} match {} runs of {} (offsets {}): repeated records cannot tell them apart",
            name(&t.data),
            several.len(),
            name(&t.source),
            several.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(source: &str, data: &str) -> CopyPair {
        CopyPair { source: (source.into(), 0), data: (data.into(), 0) }
    }

    /// An edge of `n` copies at data offsets 10.., timestamps 1000..
    fn edge(n: i64, end: End) -> Edge {
        let records = (0..n).map(|i| (10 + i, Fingerprint::new(Some(b"k"), Some(b"v"), 1000 + i), Timestamp::CreateTime(1000 + i))).collect();
        Edge { records, end }
    }

    #[test]
    fn edge_windows_say_why_there_is_nothing_to_read() {
        let range = |start, end| PartitionRange { partition: 0, start, end };
        let existing: TopicPartitions = [("copies".to_owned(), vec![0]), ("orders".to_owned(), vec![0])].into();
        let ranges: HashMap<TopicPartition, PartitionRange> =
            [(("copies".to_owned(), 0), range(0, 100)), (("orders".to_owned(), 0), range(5, 5))].into();
        let sources: ReplicatedRanges = [(("orders".to_owned(), 0), range(0, 200))].into();
        let none = TopicPartitions::new();
        let facts = DataFacts { existing: &existing, ranges: &ranges, under_source_name: &none, same_cluster: false, sources: &sources };
        let tail = edge_window(&pair("orders", "copies"), &facts, End::Tail).unwrap();
        assert_eq!((tail.from, tail.to), (100 - 2 * RUN as i64, 100), "twice the run before the end");
        let head = edge_window(&pair("orders", "copies"), &facts, End::Head).unwrap();
        assert_eq!((head.from, head.to), (0, 2 * RUN as i64));
        assert!(matches!(edge_window(&pair("orders", "missing"), &facts, End::Tail), Err(Evidence::NoCopies { .. })));
        let deleted = edge_window(&pair("orders", "orders"), &facts, End::Tail).unwrap_err();
        assert!(matches!(&deleted, Evidence::Unproven(d) if d.contains("retention removed the copies")), "{deleted:?}");
        let same = DataFacts { same_cluster: true, ..facts };
        let itself = edge_window(&pair("orders", "orders"), &same, End::Tail).unwrap_err();
        assert!(matches!(&itself, Evidence::Unproven(d) if d.contains("--data-bootstrap")), "{itself:?}");
    }

    #[test]
    fn source_windows_align_on_the_timestamp_and_fall_back_to_a_scan() {
        let range = PartitionRange { partition: 0, start: 0, end: 10_000 };
        let source = ("orders".to_owned(), 0);
        let tail = edge(RUN as i64, End::Tail);
        // The anchor (data offset 14) is 4 records after the data partition's first record at the
        // time (10): its original is 4 after the source's first at the time (100).
        let (around, scan) = source_windows(&tail, range, &source, 100, Some(10));
        let around = around.unwrap();
        let run = RUN as i64;
        assert_eq!((around.from, around.to), (104 - 2 * run, 104 + run));
        assert_eq!((scan.from, scan.to), (100 - 2 * run, 100 + SCAN + run));
        let (around, _) = source_windows(&tail, range, &source, 100, Some(20));
        assert!(around.is_none(), "a first record after the anchor aligns nothing");
        let (_, clamped) = source_windows(&tail, PartitionRange { partition: 0, start: 99, end: 150 }, &source, 100, None);
        assert_eq!((clamped.from, clamped.to), (99, 150), "windows stay in the log");
    }

    #[test]
    fn one_matching_run_is_a_copy_none_or_several_prove_nothing() {
        let t = pair("orders", "copies");
        let tail = edge(3, End::Tail);
        assert!(matches!(verdict(&t, &tail, &[41], End::Tail), Evidence::Copy { source_offset: 41, data_offset: 12, .. }));
        assert!(matches!(verdict(&t, &tail, &[], End::Tail), Evidence::Unproven(d) if d.contains("no run of 3 records")));
        assert!(matches!(verdict(&t, &tail, &[41, 60], End::Tail), Evidence::Unproven(d) if d.contains("match 2 runs")));
        let rewritten = Edge { records: vec![(10, Fingerprint::new(None, None, 5), Timestamp::LogAppendTime(5))], end: End::Tail };
        assert!(anchorable(&t, &rewritten, End::Tail).unwrap_err().contains("LogAppendTime"));
        assert_eq!(anchorable(&t, &tail, End::Tail), Ok(()));
    }
}
