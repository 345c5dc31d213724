//! Reading a topic as Connect does at start-up: every partition from the beginning up to the end
//! offsets captured first (a snapshot; later records are not waited for).

use rdkafka::message::Message;

use super::window::{Window, read_windows_with};
use super::{Connection, KafkaError};
use crate::model::{Origin, PartitionRange, SourceRecord};

/// Reads every record of `topic` between the start and the end offsets taken when it begins,
/// handing each to `on_record` in partition order. Returns the ranges that were read.
pub fn read_snapshot(
    connection: &Connection,
    topic: &str,
    mut on_record: impl FnMut(SourceRecord),
) -> Result<Vec<PartitionRange>, KafkaError> {
    let consumer = connection.consumer()?;
    let ranges = connection.ranges_with(&consumer, topic)?;
    let windows: Vec<Window> =
        ranges.iter().map(|r| Window { topic: topic.to_owned(), partition: r.partition, from: r.start, to: r.end }).collect();
    let total: u64 = ranges.iter().map(|r| (r.end - r.start) as u64).sum();
    let progress = progress_bar(total, &format!("reading {topic}"));
    read_windows_with(connection, &consumer, &windows, "a snapshot", |message| {
        on_record(source_record(topic, message));
        progress.inc(1);
    })?;
    progress.finish_and_clear();
    Ok(ranges)
}

/// A message of `topic` as the host moves records.
pub(crate) fn source_record(topic: &str, message: &impl Message) -> SourceRecord {
    SourceRecord {
        origin: Origin::Text(format!("{topic}/{}@{}", message.partition(), message.offset())),
        topic: Some(topic.into()),
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
