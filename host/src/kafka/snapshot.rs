//! Reading a topic as Connect does at start-up: every partition from the beginning up to the end
//! offsets captured first (a snapshot; later records are not waited for).

use std::collections::BTreeMap;
use std::time::Instant;

use rdkafka::consumer::Consumer;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::{Connection, KafkaError};
use crate::record::SourceRecord;

/// A partition's log start and end offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PartitionRange {
    pub partition: i32,
    /// The first offset still in the log.
    pub start: i64,
    /// The offset the next record will get.
    pub end: i64,
}

/// Reads every record of `topic` between the start and the end offsets taken when it begins,
/// handing each to `on_record` in partition order. Returns the ranges that were read.
pub fn read_snapshot(
    connection: &Connection,
    topic: &str,
    mut on_record: impl FnMut(SourceRecord),
) -> Result<Vec<PartitionRange>, KafkaError> {
    let consumer = connection.consumer()?;
    let ranges = connection.ranges_with(&consumer, topic)?;
    let mut pending: BTreeMap<i32, (i64, i64)> = ranges
        .iter()
        .filter(|r| r.end > r.start)
        .map(|r| (r.partition, (r.start, r.end)))
        .collect();
    let total: u64 = pending.values().map(|(s, e)| (e - s) as u64).sum();
    let progress = progress_bar(total, &format!("reading {topic}"));

    let mut assignment = TopicPartitionList::new();
    for (partition, (start, _)) in &pending {
        assignment
            .add_partition_offset(topic, *partition, Offset::Offset(*start))
            .map_err(|e| connection.error(e))?;
    }
    consumer.assign(&assignment).map_err(|e| connection.error(e))?;

    let mut last_progress = Instant::now();
    while !pending.is_empty() {
        match consumer.poll(std::time::Duration::from_millis(200)) {
            Some(Ok(message)) => {
                last_progress = Instant::now();
                let partition = message.partition();
                let offset = message.offset();
                let Some(&(_, end)) = pending.get(&partition) else { continue };
                if offset >= end {
                    pending.remove(&partition);
                    continue;
                }
                on_record(source_record(topic, &message));
                progress.inc(1);
                if offset + 1 >= end {
                    pending.remove(&partition);
                }
            }
            Some(Err(e)) => {
                if let Some(error) = connection.read_error(e) {
                    return Err(error.with_context(&format!("reading topic {topic:?}")));
                }
            }
            None => {
                // Compacted logs have gaps: a partition whose position passed the end is done.
                if let Ok(positions) = consumer.position() {
                    for element in positions.elements() {
                        if let (Offset::Offset(position), Some(&(_, end))) =
                            (element.offset(), pending.get(&element.partition()))
                            && position >= end {
                                pending.remove(&element.partition());
                            }
                    }
                }
                if !pending.is_empty() && last_progress.elapsed() > connection.timeout {
                    return Err(KafkaError::Stalled {
                        role: connection.role,
                        bootstrap: connection.bootstrap.clone(),
                        topic: topic.to_owned(),
                        secs: connection.timeout.as_secs(),
                        pending: pending.keys().map(|p| p.to_string()).collect::<Vec<_>>().join(","),
                    });
                }
            }
        }
    }
    progress.finish_and_clear();
    Ok(ranges)
}

/// A message of `topic` as the host moves records.
pub(crate) fn source_record(topic: &str, message: &impl Message) -> SourceRecord {
    SourceRecord {
        origin: format!("{topic}/{}@{}", message.partition(), message.offset()),
        topic: Some(topic.to_owned()),
        partition: Some(message.partition()),
        offset: Some(message.offset()),
        timestamp: message.timestamp().to_millis(),
        key: message.key().map(<[u8]>::to_vec),
        value: message.payload().map(<[u8]>::to_vec),
    }
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
pub(crate) fn progress_bar(total: u64, message: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} records ({per_sec}, eta {eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message.to_owned());
    bar
}
