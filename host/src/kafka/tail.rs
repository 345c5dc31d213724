//! Following a topic from given offsets: what `run --follow` reads while the old replicator
//! still runs. The same record conversion and error rules as the snapshot reader.

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use super::snapshot::source_record;
use super::{Connection, Context, KafkaError, PartitionRange};
use crate::model::SourceRecord;

/// A topic read from the end of each of its partitions' ranges onwards.
pub struct Tail {
    connection: Connection,
    topic: String,
    consumer: BaseConsumer<Context>,
}

impl Tail {
    /// Starts reading `topic` at the end of each range (where a snapshot stopped).
    pub fn from_ends(connection: &Connection, topic: &str, ranges: &[PartitionRange]) -> Result<Tail, KafkaError> {
        let consumer = connection.consumer()?;
        let mut assignment = TopicPartitionList::new();
        for range in ranges {
            assignment
                .add_partition_offset(topic, range.partition, Offset::Offset(range.end))
                .map_err(|e| connection.error(e))?;
        }
        consumer.assign(&assignment).map_err(|e| connection.error(e))?;
        Ok(Tail { connection: connection.clone(), topic: topic.to_owned(), consumer })
    }

    /// Up to `max` new records: waits up to `wait` for the first, then takes what has arrived.
    pub fn next_batch(&self, max: usize, wait: Duration) -> Result<Vec<SourceRecord>, KafkaError> {
        let mut batch = Vec::new();
        while batch.len() < max.max(1) {
            let timeout = if batch.is_empty() { wait } else { Duration::from_millis(20) };
            match self.consumer.poll(timeout) {
                Some(Ok(message)) => batch.push(source_record(&self.topic, &message)),
                Some(Err(e)) => {
                    if let Some(error) = self.connection.read_error(e) {
                        return Err(error.with_context(&format!("reading topic {:?}", self.topic)));
                    }
                }
                None => break,
            }
        }
        Ok(batch)
    }
}
