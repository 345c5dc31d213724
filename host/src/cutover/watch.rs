//! The proof that MM2 resumed exactly: per migrated partition, the copies MM2 makes after the
//! seam are compared, one for one, with the source records from the resume point on (key bytes,
//! value bytes and timestamp, as `matching` tells a copy from its original). The first copy
//! that is not the next source record is located among the source records around the resume
//! point: before it, MM2 copied records twice; after it, it skipped some.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::kafka::{Connection, KafkaError, OffsetQuery, PartitionRange, TopicPartition, Window, Windows};
use crate::matching::{Fingerprint, Logged, Matcher, RUN};

/// Copies compared per partition (and source records read after the resume point).
pub const COMPARED: i64 = 1000;
/// Source records before the resume point searched for the original of a copy made twice.
pub const BEFORE: i64 = 1000;
/// Data records searched, from the old tool's last copy's timestamp, for that copy (when no
/// journal says where MM2's copies begin).
pub const SCAN: i64 = 2000;

/// One migrated partition: where MM2 must resume, and where its copies land.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResumePoint {
    pub source_topic: String,
    pub partition: i32,
    /// The topic MM2 writes the source topic to, on the data cluster.
    pub data_topic: String,
    /// The first source offset MM2 must copy (V+1); `None`: from the log start (no offset written).
    pub resume_from: Option<i64>,
    /// The data partition's end before MM2 started, where its first copy lands; `None`: found
    /// after the old tool's copy of the record before the resume point.
    pub data_from: Option<i64>,
}

impl ResumePoint {
    fn source(&self) -> TopicPartition {
        (self.source_topic.clone(), self.partition)
    }

    pub(super) fn data(&self) -> TopicPartition {
        (self.data_topic.clone(), self.partition)
    }
}

/// The end of every point's data partition now (none for a topic MM2 has yet to create).
pub(super) fn data_ends(copies: &Windows<'_>, points: &[ResumePoint]) -> Result<HashMap<TopicPartition, i64>, KafkaError> {
    let queries: Vec<(TopicPartition, OffsetQuery)> = points.iter().map(|p| (p.data(), OffsetQuery::End)).collect();
    Ok(copies.list_offsets(&queries)?.into_iter().filter_map(|(tp, end)| Some((tp, end?))).collect())
}

/// What MM2 did at one partition's resume point.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Resumed {
    /// Every copy compared is the next source record.
    Exact { compared: u64 },
    /// The copy at `data_offset` is of source `first`: records `first..=last` were copied twice.
    Duplicated { records: u64, first: i64, last: i64, data_offset: i64 },
    /// The copy at `data_offset` is of source `last + 1`: records `first..=last` were never copied.
    Skipped { records: u64, first: i64, last: i64, data_offset: i64 },
    /// No source record after the resume point yet.
    NothingToProve { detail: String },
    /// Source records wait, but MM2 copied none within the watch.
    NotCopied { detail: String },
    Unproven { detail: String },
}

impl Resumed {
    /// Copied twice or skipped: what `verify` exits 4 on.
    pub fn is_problem(&self) -> bool {
        matches!(self, Resumed::Duplicated { .. } | Resumed::Skipped { .. })
    }
}

/// One partition's outcome.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Watched {
    #[serde(flatten)]
    pub point: ResumePoint,
    #[serde(flatten)]
    pub resumed: Resumed,
}

/// Compares `copies` (MM2's, in data-log order from its first) with the source records from
/// `resume_from` on; `source` holds the records around it in log order.
pub fn classify(source: &[Logged], copies: &[Logged], resume_from: i64) -> Resumed {
    let start = source.partition_point(|l| l.offset < resume_from);
    for (k, copy) in copies.iter().enumerate() {
        let Some(expected) = source.get(start + k) else {
            return Resumed::Exact { compared: k as u64 };
        };
        if expected.fingerprint == copy.fingerprint {
            continue;
        }
        // Where this copy's original is: a run of the copies from here must match the source.
        let found: Vec<i64> = (0..source.len())
            .filter(|&i| {
                let needed = RUN.min(copies.len() - k).min(source.len() - i);
                (0..needed).all(|m| source[i + m].fingerprint == copies[k + m].fingerprint)
            })
            .map(|i| source[i].offset)
            .collect();
        let data_offset = copy.offset;
        return match found.as_slice() {
            [s] if *s < expected.offset => {
                Resumed::Duplicated { records: (expected.offset - s) as u64, first: *s, last: expected.offset - 1, data_offset }
            }
            [s] => Resumed::Skipped { records: (s - expected.offset) as u64, first: expected.offset, last: s - 1, data_offset },
            [] => Resumed::Unproven {
                detail: format!(
                    "the copy at data offset {data_offset} is of no source record in offsets {}..{} (expected the copy of \
                     offset {})",
                    source.first().map_or(resume_from, |l| l.offset),
                    source.last().map_or(resume_from, |l| l.offset + 1),
                    expected.offset
                ),
            },
            several => Resumed::Unproven {
                detail: format!("the copy at data offset {data_offset} matches {} runs of source records (repeated payloads)", several.len()),
            },
        };
    }
    Resumed::Exact { compared: copies.len() as u64 }
}

/// Watches every point until MM2's copies prove it (or `timeout` passes): reads the source
/// partitions' ranges and the data partitions' ends each second, and compares once MM2 has
/// copied a run (or all there is to copy). Points without `data_from` have it found first.
pub fn watch(replicated: &Connection, data: &Connection, points: &[ResumePoint], timeout: Duration) -> Result<Vec<Watched>, KafkaError> {
    let (sources, copies) = (Windows::new(replicated)?, Windows::new(data)?);
    let deadline = Instant::now() + timeout;
    let source_partitions: Vec<TopicPartition> = points.iter().map(ResumePoint::source).collect();
    let mut ranges = sources.ranges(&source_partitions)?;
    let mut outcomes: Vec<Option<Resumed>> = vec![None; points.len()];
    let mut points = points.to_vec();
    find_data_from(&sources, &copies, &mut points, &ranges, &mut outcomes)?;
    loop {
        let ends = data_ends(&copies, &points)?;
        // A signal ends the watch with what MM2 has copied so far.
        let last_round = Instant::now() >= deadline || crate::interrupt::requested();
        let mut ready = Vec::new();
        for (i, point) in points.iter().enumerate() {
            if outcomes[i].is_some() {
                continue;
            }
            let Some(range) = ranges.get(&point.source()) else {
                outcomes[i] = Some(Resumed::Unproven { detail: format!("{}/{} is not on the replicated cluster", point.source_topic, point.partition) });
                continue;
            };
            let resume_from = point.resume_from.unwrap_or(range.start).max(range.start);
            let data_from = point.data_from.expect("found above");
            let waiting = range.end - resume_from;
            let copied = ends.get(&point.data()).copied().unwrap_or(0) - data_from;
            // Compared once MM2 has copied a run (or all there is), or at the end what it has.
            let enough = waiting > 0 && copied >= waiting.min(RUN as i64);
            if enough || (last_round && copied > 0) {
                ready.push((i, resume_from, data_from + copied.min(COMPARED)));
            } else if last_round && waiting <= 0 {
                outcomes[i] = Some(Resumed::NothingToProve {
                    detail: format!("no source record from offset {resume_from} on yet: nothing to prove"),
                });
            } else if last_round {
                outcomes[i] = Some(Resumed::NotCopied {
                    detail: format!(
                        "{waiting} source record(s) from offset {resume_from} on, none copied to {}/{} within {} s",
                        point.data_topic,
                        point.partition,
                        timeout.as_secs()
                    ),
                });
            }
        }
        compare(&sources, &copies, &points, &ranges, &ready, &mut outcomes)?;
        if outcomes.iter().all(Option::is_some) {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
        ranges = sources.ranges(&source_partitions)?;
    }
    Ok(points.into_iter().zip(outcomes).map(|(point, resumed)| Watched { point, resumed: resumed.expect("every point decided") }).collect())
}

/// Reads the source windows around the resume points and MM2's copies `[data_from, data_to)`,
/// and classifies each of `ready` (index, resume offset, data end to read).
fn compare(
    sources: &Windows<'_>,
    copies: &Windows<'_>,
    points: &[ResumePoint],
    ranges: &HashMap<TopicPartition, PartitionRange>,
    ready: &[(usize, i64, i64)],
    outcomes: &mut [Option<Resumed>],
) -> Result<(), KafkaError> {
    if ready.is_empty() {
        return Ok(());
    }
    let source_windows: Vec<Window> = ready
        .iter()
        .map(|&(i, resume_from, _)| {
            let range = &ranges[&points[i].source()];
            Window {
                topic: points[i].source_topic.clone(),
                partition: points[i].partition,
                from: (resume_from - BEFORE).max(range.start),
                to: (resume_from + COMPARED).min(range.end),
            }
        })
        .collect();
    let data_windows: Vec<Window> = ready
        .iter()
        .map(|&(i, _, to)| Window {
            topic: points[i].data_topic.clone(),
            partition: points[i].partition,
            from: points[i].data_from.expect("found"),
            to,
        })
        .collect();
    let source_logs = read(sources, &source_windows, "the source records around the resume points")?;
    let data_logs = read(copies, &data_windows, "MM2's copies after the resume points")?;
    for &(i, resume_from, _) in ready {
        let source = source_logs.get(&points[i].source()).map_or(&[][..], Vec::as_slice);
        let copied = data_logs.get(&points[i].data()).map_or(&[][..], Vec::as_slice);
        outcomes[i] = Some(if copied.is_empty() {
            Resumed::Unproven { detail: "MM2's copies were deleted before they could be read".to_owned() }
        } else {
            classify(source, copied, resume_from)
        });
    }
    Ok(())
}

fn read(windows: &Windows<'_>, list: &[Window], what: &str) -> Result<HashMap<TopicPartition, Vec<Logged>>, KafkaError> {
    let mut logs: HashMap<TopicPartition, Vec<Logged>> = HashMap::new();
    windows.read(list, what, |message| {
        use rdkafka::Message;
        let (fingerprint, _) = Fingerprint::of(message);
        logs.entry((message.topic().to_owned(), message.partition())).or_default().push(Logged { offset: message.offset(), fingerprint });
    })?;
    for log in logs.values_mut() {
        log.sort_by_key(|l| l.offset);
    }
    Ok(logs)
}

/// For points without `data_from` (no journal): the old tool's copy of the last records before
/// the resume point, found by their timestamp among the data records; MM2's copies begin right
/// after it. A point whose copy is not found is unproven, with the reason.
fn find_data_from(
    sources: &Windows<'_>,
    copies: &Windows<'_>,
    points: &mut [ResumePoint],
    ranges: &HashMap<TopicPartition, PartitionRange>,
    outcomes: &mut [Option<Resumed>],
) -> Result<(), KafkaError> {
    let mut wanted = Vec::new();
    for (i, point) in points.iter().enumerate() {
        if point.data_from.is_some() {
            continue;
        }
        let range = ranges.get(&point.source());
        match (point.resume_from, range) {
            (Some(from), Some(range)) if from > range.start => wanted.push((i, Window {
                topic: point.source_topic.clone(),
                partition: point.partition,
                from: (from - RUN as i64).max(range.start),
                to: from.min(range.end),
            })),
            _ => {
                outcomes[i] = Some(Resumed::Unproven {
                    detail: "no record before the resume point on the replicated cluster: nothing tells where MM2's copies begin \
                             (the cut-over's state file does)"
                        .to_owned(),
                })
            }
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let windows: Vec<Window> = wanted.iter().map(|(_, w)| w.clone()).collect();
    let last_old = read(sources, &windows, "the source records before the resume points")?;
    // Where each run's first record's copy could begin, by timestamp, and the data after it.
    let mut queries = Vec::new();
    for (i, _) in &wanted {
        if let Some(first) = last_old.get(&points[*i].source()).and_then(|l| l.first()) {
            queries.push((points[*i].data(), OffsetQuery::Time(first.fingerprint.timestamp)));
        }
    }
    let starts = copies.list_offsets(&queries)?;
    let data_partitions: Vec<TopicPartition> = queries.iter().map(|(tp, _)| tp.clone()).collect();
    let data_ranges = copies.ranges(&data_partitions)?;
    let data_windows: Vec<Window> = queries
        .iter()
        .filter_map(|(tp, _)| {
            let from = (*starts.get(tp)?)?;
            Some(Window { topic: tp.0.clone(), partition: tp.1, from, to: (from + SCAN).min(data_ranges.get(tp)?.end) })
        })
        .filter(|w| w.from < w.to)
        .collect();
    let data_logs = read(copies, &data_windows, "the old tool's last copies")?;
    for (i, window) in &wanted {
        let point = &mut points[*i];
        let expected: Vec<Fingerprint> =
            last_old.get(&point.source()).map(|l| l.iter().map(|r| r.fingerprint).collect()).unwrap_or_default();
        let mut matcher = Matcher::new(expected);
        for logged in data_logs.get(&point.data()).map_or(&[][..], Vec::as_slice) {
            matcher.push(logged.offset, logged.fingerprint);
        }
        // The first run is the old tool's; a later one is a copy MM2 made again (compared below).
        match matcher.matches.first() {
            Some(&(_, last)) => point.data_from = Some(last + 1),
            None => {
                outcomes[*i] = Some(Resumed::Unproven {
                    detail: format!(
                        "the old tool's copy of {}/{} offset {} was not found in {}/{} ({SCAN} records searched from its \
                         timestamp)",
                        point.source_topic,
                        point.partition,
                        window.to - 1,
                        point.data_topic,
                        point.partition
                    ),
                })
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(first: i64, ns: &[u8]) -> Vec<Logged> {
        ns.iter()
            .enumerate()
            .map(|(i, n)| Logged { offset: first + i as i64, fingerprint: Fingerprint { timestamp: 1, digest: [*n; 32] } })
            .collect()
    }

    #[test]
    fn copies_that_continue_the_source_are_exact() {
        // Source 100..110 = 0..9; MM2 resumes at 105 and copies 5, 6, 7.
        let source = log(100, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(classify(&source, &log(40, &[5, 6, 7]), 105), Resumed::Exact { compared: 3 });
        // More copies than the source window holds: only those compared.
        assert_eq!(classify(&source, &log(40, &[8, 9, 10]), 108), Resumed::Exact { compared: 2 });
    }

    #[test]
    fn a_resume_one_too_low_is_a_record_copied_twice() {
        let source = log(100, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let resumed = classify(&source, &log(40, &[4, 5, 6, 7, 8]), 105);
        assert_eq!(resumed, Resumed::Duplicated { records: 1, first: 104, last: 104, data_offset: 40 });
        assert!(resumed.is_problem());
    }

    #[test]
    fn a_resume_too_high_is_records_skipped_even_after_good_copies() {
        let source = log(100, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(classify(&source, &log(40, &[7, 8, 9]), 105), Resumed::Skipped { records: 2, first: 105, last: 106, data_offset: 40 });
        // A gap after two good copies is named at its own data offset.
        assert_eq!(classify(&source, &log(40, &[5, 6, 8, 9]), 105), Resumed::Skipped { records: 1, first: 107, last: 107, data_offset: 42 });
    }

    #[test]
    fn a_copy_of_nothing_known_or_of_repeated_payloads_is_unproven() {
        let source = log(100, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert!(matches!(classify(&source, &log(40, &[42]), 105), Resumed::Unproven { .. }));
        let repeated = log(100, &[7, 7, 7, 7, 7, 7, 1]);
        assert!(matches!(classify(&repeated, &log(40, &[7, 7]), 106), Resumed::Unproven { .. }));
    }
}
