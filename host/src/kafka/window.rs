//! Bounded reads over many partitions at once: offset look-ups batched into one ListOffsets round
//! (by time, or a partition's start or end), and windows of offsets read in one pass. The seam
//! check reads thousands of partitions this way with a fixed number of round trips.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};

use super::{Connection, Context, KafkaError, PartitionRange};

/// Partitions per ListOffsets list and per assignment: librdkafka's costs grow with the square
/// of a list's length and with the number of assigned partitions.
const PARTITIONS_PER_ROUND: usize = 1000;

pub use crate::model::TopicPartition;

/// What an offset look-up asks of a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetQuery {
    /// The first offset still in the log.
    Start,
    /// The offset the next record will get (the high watermark).
    End,
    /// The first offset whose timestamp is at or after this one (ms), as Java's `offsetsForTimes`.
    Time(i64),
}

impl OffsetQuery {
    fn raw(self) -> Offset {
        match self {
            OffsetQuery::Start => Offset::Beginning,
            OffsetQuery::End => Offset::End,
            OffsetQuery::Time(ms) => Offset::Offset(ms),
        }
    }
}

/// The partitions of each topic, by name.
pub type TopicPartitions = HashMap<String, Vec<i32>>;

/// What a metadata look-up does with a topic the principal may not describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unauthorized {
    Fail,
    /// Leave it out, with a warning: for figures that are informative only.
    Skip,
}

/// The offsets of `[from, to)` of one partition, to be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub topic: String,
    pub partition: i32,
    pub from: i64,
    pub to: i64,
}

/// A client for look-ups and window reads: reads what a consumer of the topic sees, uncommitted
/// transactional records included, as MirrorMaker 2's own consumer (read_uncommitted) does.
fn window_client(connection: &Connection) -> Result<BaseConsumer<Context>, KafkaError> {
    let mut config = connection.config();
    config
        .set("group.id", super::CONSUMER_GROUP)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        .set("auto.offset.reset", "error")
        .set("isolation.level", "read_uncommitted")
        // Windows are a few records each: small fetches per partition keep thousands of
        // partitions from prefetching megabytes each.
        .set("fetch.message.max.bytes", "65536")
        // Windows hold records that exist already: a fetch need not wait for more.
        .set("fetch.wait.max.ms", "10")
        .set("queued.max.messages.kbytes", "65536");
    config.create_with_context(connection.context()).map_err(|e| connection.error(e))
}

/// One client of a connection for look-ups and window reads: connected, logged in and given
/// metadata once for every round.
pub struct Windows<'a> {
    connection: &'a Connection,
    client: BaseConsumer<Context>,
}

impl<'a> Windows<'a> {
    pub fn new(connection: &'a Connection) -> Result<Windows<'a>, KafkaError> {
        Ok(Windows { connection, client: window_client(connection)? })
    }

    /// One ListOffsets round for every query; a partition the cluster does not have is left out,
    /// and a time after every record gives `None`.
    pub fn list_offsets(&self, queries: &[(TopicPartition, OffsetQuery)]) -> Result<HashMap<TopicPartition, Option<i64>>, KafkaError> {
        let (connection, client) = (self.connection, &self.client);
        let mut found = HashMap::new();
        // A list holds a partition once: queries for the same partition go in separate requests;
        // and librdkafka matches answers to a list in quadratic time, so lists stay short.
        for chunk in unique_chunks(queries).iter().flat_map(|c| c.chunks(PARTITIONS_PER_ROUND)) {
            let mut list = TopicPartitionList::new();
            for ((topic, partition), query) in chunk {
                list.add_partition_offset(topic, *partition, query.raw()).map_err(|e| connection.error(e))?;
            }
            let answer = client.offsets_for_times(list, connection.timeout).map_err(|e| connection.fail(client, e))?;
            for element in answer.elements() {
                let tp = (element.topic().to_owned(), element.partition());
                match element.error() {
                    Ok(()) => {}
                    Err(e) if matches!(e.rdkafka_error_code(), Some(RDKafkaErrorCode::UnknownTopicOrPartition)) => continue,
                    Err(e) => {
                        return Err(connection.fail(client, e).with_context(&format!("offsets of {}/{}", tp.0, tp.1)));
                    }
                }
                let offset = match element.offset() {
                    Offset::Offset(o) if o >= 0 => Some(o),
                    _ => None,
                };
                found.insert(tp, offset);
            }
        }
        Ok(found)
    }

    /// The start and end offsets of the given partitions, in two batched rounds; a partition the
    /// cluster does not have is left out.
    pub fn ranges(&self, partitions: &[TopicPartition]) -> Result<HashMap<TopicPartition, PartitionRange>, KafkaError> {
        let mut unique = partitions.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let ask = |query: OffsetQuery| {
            let queries: Vec<(TopicPartition, OffsetQuery)> = unique.iter().map(|tp| (tp.clone(), query)).collect();
            self.list_offsets(&queries)
        };
        let (starts, ends) = (ask(OffsetQuery::Start)?, ask(OffsetQuery::End)?);
        Ok(starts
            .into_iter()
            .filter_map(|(tp, start)| {
                let (start, end) = (start?, (*ends.get(&tp)?)?);
                Some((tp.clone(), PartitionRange { partition: tp.1, start, end }))
            })
            .collect())
    }

    /// The ranges of those `wanted` partitions that exist, and the partitions of every topic
    /// they name that exists. Missing topics are left out before the ListOffsets rounds, where
    /// librdkafka would fail the whole round on them.
    pub fn present_ranges(
        &self,
        wanted: &[TopicPartition],
        unauthorized: Unauthorized,
    ) -> Result<(TopicPartitions, HashMap<TopicPartition, PartitionRange>), KafkaError> {
        let mut topics: Vec<String> = wanted.iter().map(|(t, _)| t.clone()).collect();
        topics.sort_unstable();
        topics.dedup();
        let existing = self.topic_partitions(&topics, unauthorized)?;
        let present: Vec<TopicPartition> =
            wanted.iter().filter(|(t, p)| existing.get(t).is_some_and(|ps| ps.contains(p))).cloned().collect();
        let ranges = self.ranges(&present)?;
        Ok((existing, ranges))
    }

    /// The partitions of each topic that exists; a missing topic is left out. A topic the
    /// principal may not describe is an error (it must not look missing), or with
    /// [`Unauthorized::Skip`] left out with a warning.
    pub fn topic_partitions(&self, topics: &[String], unauthorized: Unauthorized) -> Result<TopicPartitions, KafkaError> {
        let mut out = HashMap::new();
        for topic in topics {
            match self.connection.topic_metadata(&self.client, topic) {
                Ok(metadata) => {
                    let mut partitions: Vec<i32> = metadata
                        .topics()
                        .iter()
                        .filter(|t| t.name() == topic)
                        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
                        .collect();
                    partitions.sort_unstable();
                    out.insert(topic.clone(), partitions);
                }
                Err(KafkaError::TopicMissing { .. }) => {}
                Err(e @ KafkaError::Authorization { .. }) if unauthorized == Unauthorized::Skip => {
                    tracing::warn!("{e}; {topic:?} is left out");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Every topic the principal may describe, with its partitions.
    pub fn all_topics(&self) -> Result<HashMap<String, Vec<i32>>, KafkaError> {
        let metadata = self.client.fetch_metadata(None, self.connection.timeout).map_err(|e| self.connection.fail(&self.client, e))?;
        Ok(metadata
            .topics()
            .iter()
            .filter(|t| t.error().is_none())
            .map(|t| {
                let mut partitions: Vec<i32> = t.partitions().iter().map(|p| p.id()).collect();
                partitions.sort_unstable();
                (t.name().to_owned(), partitions)
            })
            .collect())
    }

    /// Reads every record of every window (see [`read_windows_with`]), a few thousand
    /// partitions at a time: librdkafka's fetcher visits every assigned partition on each turn.
    pub fn read(&self, windows: &[Window], what: &str, mut on_message: impl FnMut(&BorrowedMessage<'_>)) -> Result<(), KafkaError> {
        for chunk in windows.chunks(PARTITIONS_PER_ROUND) {
            read_windows_with(self.connection, &self.client, chunk, what, &mut on_message)?;
        }
        Ok(())
    }
}

/// The queries split so that no list names a partition twice, in their order.
fn unique_chunks(queries: &[(TopicPartition, OffsetQuery)]) -> Vec<Vec<(TopicPartition, OffsetQuery)>> {
    let mut chunks: Vec<(std::collections::HashSet<TopicPartition>, Vec<_>)> = Vec::new();
    for query in queries {
        match chunks.iter_mut().find(|(seen, _)| !seen.contains(&query.0)) {
            Some((seen, chunk)) => {
                seen.insert(query.0.clone());
                chunk.push(query.clone());
            }
            None => chunks.push((std::iter::once(query.0.clone()).collect(), vec![query.clone()])),
        }
    }
    chunks.into_iter().map(|(_, chunk)| chunk).collect()
}

/// The windows still being read, by topic index and partition (a message's or a position's
/// topic name finds its window through the index), with the offset each one ends before.
struct Pending<'a> {
    topics: HashMap<&'a str, usize>,
    /// Every window's topic, empty windows' included (errors name what was read).
    names: Vec<&'a str>,
    ends: HashMap<(usize, i32), i64>,
}

impl<'a> Pending<'a> {
    fn new(windows: &'a [Window]) -> Self {
        let (mut topics, mut names, mut ends) = (HashMap::new(), Vec::new(), HashMap::new());
        for w in windows {
            let topic = *topics.entry(w.topic.as_str()).or_insert_with(|| {
                names.push(w.topic.as_str());
                names.len() - 1
            });
            if w.to > w.from {
                ends.insert((topic, w.partition), w.to);
            }
        }
        Pending { topics, names, ends }
    }

    fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The open window of `topic`'s `partition`: its key and the offset it ends before.
    fn open(&self, topic: &str, partition: i32) -> Option<((usize, i32), i64)> {
        let key = (*self.topics.get(topic)?, partition);
        Some((key, *self.ends.get(&key)?))
    }

    /// A fetched record: whether it is inside its window, and whether that window is now done
    /// (removed).
    fn record(&mut self, topic: &str, partition: i32, offset: i64) -> (bool, bool) {
        let Some((key, to)) = self.open(topic, partition) else { return (false, false) };
        let done = offset + 1 >= to;
        if done {
            self.ends.remove(&key);
        }
        (offset < to, done)
    }

    /// A consumer position: whether it passed its window's end (a compacted log's gap), which is
    /// then done (removed).
    fn passed(&mut self, topic: &str, partition: i32, position: i64) -> bool {
        let Some((key, to)) = self.open(topic, partition) else { return false };
        let done = position >= to;
        if done {
            self.ends.remove(&key);
        }
        done
    }

    /// The first ten windows still open, `topic/partition` in order.
    fn stuck(&self) -> String {
        let mut stuck: Vec<String> = self.ends.keys().map(|(t, p)| format!("{}/{p}", self.names[*t])).collect();
        stuck.sort();
        stuck.truncate(10);
        stuck.join(",")
    }

    /// `topic a` or `topics a, b`, in order.
    fn topics_text(&self) -> String {
        let mut read = self.names.clone();
        read.sort_unstable();
        let noun = if read.len() == 1 { "topic" } else { "topics" };
        format!("{noun} {}", read.join(", "))
    }
}

/// Assigns the windows' partitions at their starts (resuming any a previous read paused).
fn assign(connection: &Connection, consumer: &BaseConsumer<Context>, windows: &[Window]) -> Result<(), KafkaError> {
    let mut assignment = TopicPartitionList::new();
    for w in windows.iter().filter(|w| w.to > w.from) {
        assignment.add_partition_offset(&w.topic, w.partition, Offset::Offset(w.from)).map_err(|e| connection.error(e))?;
    }
    consumer.assign(&assignment).map_err(|e| connection.error(e))?;
    consumer.resume(&assignment).map_err(|e| connection.error(e))
}

/// A finished partition is paused, so that no more of it is fetched.
fn pause(consumer: &BaseConsumer<Context>, topic: &str, partition: i32) {
    let mut list = TopicPartitionList::new();
    list.add_partition(topic, partition);
    let _ = consumer.pause(&list);
}

/// What a failed fetch means for the read: an error that ends it, or nothing (transient).
fn fetch_failure(connection: &Connection, what: &str, pending: &Pending<'_>, e: rdkafka::error::KafkaError) -> Option<KafkaError> {
    if e.rdkafka_error_code() == Some(RDKafkaErrorCode::AutoOffsetReset) {
        // auto.offset.reset=error: an offset taken a moment ago is gone from the log.
        return Some(KafkaError::Client {
            role: connection.role,
            bootstrap: connection.bootstrap.clone(),
            detail: format!(
                "reading {what}: records were deleted while they were being read (retention or \
                 compaction moved a log start past them; {e}); run again"
            ),
        });
    }
    // A refused read names no topic: say which were being read.
    connection.read_error(e).map(|error| error.with_context(&format!("reading {what} ({})", pending.topics_text())))
}

/// Reads every record of every window in one pass, handing each to `on_message`; a window ends
/// at its `to` or where the partition's position passes it (compacted logs have gaps). `what`
/// names the read in errors. The consumer's assignment is replaced, and released at the end.
pub(crate) fn read_windows_with(
    connection: &Connection,
    consumer: &BaseConsumer<Context>,
    windows: &[Window],
    what: &str,
    mut on_message: impl FnMut(&BorrowedMessage<'_>),
) -> Result<(), KafkaError> {
    let mut pending = Pending::new(windows);
    if pending.is_empty() {
        return Ok(());
    }
    assign(connection, consumer, windows)?;
    let mut last_progress = Instant::now();
    while !pending.is_empty() {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                last_progress = Instant::now();
                let (inside, done) = pending.record(message.topic(), message.partition(), message.offset());
                if inside {
                    on_message(&message);
                }
                if done {
                    pause(consumer, message.topic(), message.partition());
                }
            }
            Some(Err(e)) => {
                if let Some(error) = fetch_failure(connection, what, &pending, e) {
                    return Err(error);
                }
            }
            None => {
                let positions = consumer.position().ok();
                for element in positions.as_ref().map(TopicPartitionList::elements).unwrap_or_default() {
                    if let Offset::Offset(position) = element.offset()
                        && pending.passed(element.topic(), element.partition(), position)
                    {
                        pause(consumer, element.topic(), element.partition());
                    }
                }
                if !pending.is_empty() && last_progress.elapsed() > connection.timeout {
                    return Err(KafkaError::Stalled {
                        role: connection.role,
                        bootstrap: connection.bootstrap.clone(),
                        what: what.to_owned(),
                        secs: connection.timeout.as_secs(),
                        pending: pending.stuck(),
                    });
                }
            }
        }
    }
    consumer.unassign().map_err(|e| connection.error(e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use rdkafka::mocking::MockCluster;

    use super::*;
    use crate::kafka::write_records;
    use crate::model::TargetRecord;

    #[test]
    fn queries_for_one_partition_go_in_separate_lists() {
        let tp = |p: i32| ("t".to_owned(), p);
        let chunks = unique_chunks(&[(tp(0), OffsetQuery::Start), (tp(1), OffsetQuery::Start), (tp(0), OffsetQuery::End)]);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].len(), 2);
        assert_eq!(chunks[1], vec![(tp(0), OffsetQuery::End)]);
    }

    #[test]
    fn pending_windows_end_at_their_last_record_or_a_position_past_it() {
        let window = |topic: &str, partition, from, to| Window { topic: topic.into(), partition, from, to };
        let windows = [window("b", 0, 5, 8), window("a", 1, 0, 3), window("c", 0, 4, 4)];
        let mut pending = Pending::new(&windows);
        assert_eq!(pending.topics_text(), "topics a, b, c", "an empty window's topic is named too");
        assert_eq!(pending.stuck(), "a/1,b/0", "the empty window is not pending");
        assert_eq!(pending.record("b", 0, 6), (true, false));
        assert_eq!(pending.record("b", 0, 7), (true, true), "the last record ends the window");
        assert_eq!(pending.record("b", 0, 8), (false, false), "a done window takes nothing more");
        assert_eq!((pending.record("x", 1, 0), pending.record("a", 2, 0)), ((false, false), (false, false)));
        assert!(!pending.passed("a", 1, 2));
        assert!(pending.passed("a", 1, 5), "a compacted log's gap passes the end");
        assert!(pending.is_empty());
        assert_eq!(Pending::new(&windows[..1]).topics_text(), "topic b");
    }

    #[test]
    fn windows_of_many_partitions_are_read_in_one_pass() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("data", 3, 1).unwrap();
        let conn = Connection::new("data", mock.bootstrap_servers(), Vec::new(), Duration::from_secs(5));
        let records: Vec<TargetRecord> = (0..30)
            .map(|i| TargetRecord {
                topic: "data".into(),
                partition: i % 3,
                key: format!("k{i}").into_bytes(),
                value: Some(b"v".to_vec()),
                origin: format!("line {i}"),
            })
            .collect();
        write_records(&conn, &records).unwrap();
        let all: Vec<TopicPartition> = (0..3).map(|p| ("data".to_owned(), p)).collect();
        let reader = Windows::new(&conn).unwrap();
        let found = reader.ranges(&all).unwrap();
        assert_eq!(found[&("data".to_owned(), 1)], PartitionRange { partition: 1, start: 0, end: 10 });
        let windows = [
            Window { topic: "data".into(), partition: 0, from: 7, to: 10 },
            Window { topic: "data".into(), partition: 2, from: 2, to: 4 },
            Window { topic: "data".into(), partition: 1, from: 5, to: 5 },
        ];
        let mut seen = Vec::new();
        reader.read(&windows, "data", |m| seen.push((m.partition(), m.offset()))).unwrap();
        seen.sort_unstable();
        assert_eq!(seen, [(0, 7), (0, 8), (0, 9), (2, 2), (2, 3)]);
        // The same client reads again, partitions finished (paused) by the first read included.
        let mut again = Vec::new();
        reader.read(&windows[..1], "data", |m| again.push(m.offset())).unwrap();
        assert_eq!(again, [7, 8, 9]);
    }
}
