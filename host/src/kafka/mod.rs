//! Kafka connections over rdkafka: reading an offsets topic as a snapshot, writing offset records
//! like Connect does, and the metadata the safety checks need. Every call is bounded in time.

mod groups;
mod snapshot;
mod sink;

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError as RdError, RDKafkaErrorCode};
use rdkafka::metadata::Metadata;

pub use groups::{GROUP_RECORDS_TOPIC, group_record, read_group_offsets};
pub use sink::{Delivered, TopicSetup, WriteFailure, ensure_topic, write_records};
pub use snapshot::{PartitionRange, read_snapshot};

/// One cluster connection: where, with which librdkafka properties, how long to wait.
#[derive(Debug, Clone)]
pub struct Connection {
    /// `source`, `target` or `replicated`, for messages.
    pub role: &'static str,
    pub bootstrap: String,
    /// librdkafka properties (SSL, SASL, ...), applied after the defaults.
    pub properties: Vec<(String, String)>,
    /// Longest wait for any one broker operation.
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error("{role} cluster {bootstrap} is unreachable: {detail} (waited {secs} s)")]
    Unreachable { role: &'static str, bootstrap: String, detail: String, secs: u64 },
    #[error("{role} cluster {bootstrap}: topic {topic:?} does not exist")]
    TopicMissing { role: &'static str, bootstrap: String, topic: String },
    #[error("{role} cluster {bootstrap}: not authorized: {detail}")]
    Authorization { role: &'static str, bootstrap: String, detail: String },
    #[error("{role} cluster {bootstrap}: {detail}")]
    Client { role: &'static str, bootstrap: String, detail: String },
    #[error(
        "{role} cluster {bootstrap}: topic {topic:?} has cleanup.policy={policy}, not compact; \
         Connect refuses to use such an offsets topic and records would be deleted by retention"
    )]
    NotCompacted { role: &'static str, bootstrap: String, topic: String, policy: String },
    #[error("{role} cluster {bootstrap}: reading {topic:?} stalled: no record for {secs} s while partitions {pending} were not at their end")]
    Stalled { role: &'static str, bootstrap: String, topic: String, secs: u64, pending: String },
}

impl Connection {
    pub(crate) fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        let ms = self.timeout.as_millis().to_string();
        config
            .set("bootstrap.servers", &self.bootstrap)
            .set("socket.timeout.ms", &ms)
            .set("socket.connection.setup.timeout.ms", &ms)
            .set("log_level", "3");
        for (key, value) in &self.properties {
            config.set(key, value);
        }
        config
    }

    /// A consumer for assigned partitions: no group, no commits.
    pub(crate) fn consumer(&self) -> Result<BaseConsumer, KafkaError> {
        let mut config = self.config();
        config
            .set("group.id", "mm2-migrate")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .set("auto.offset.reset", "error");
        config.create().map_err(|e| self.error(e))
    }

    /// Turns an rdkafka error into one that names the cluster and says what to check.
    pub(crate) fn error(&self, e: RdError) -> KafkaError {
        let (role, bootstrap) = (self.role, self.bootstrap.clone());
        match e.rdkafka_error_code() {
            Some(
                RDKafkaErrorCode::BrokerTransportFailure
                | RDKafkaErrorCode::AllBrokersDown
                | RDKafkaErrorCode::OperationTimedOut
                | RDKafkaErrorCode::Resolve
                | RDKafkaErrorCode::RequestTimedOut,
            ) => KafkaError::Unreachable { role, bootstrap, detail: e.to_string(), secs: self.timeout.as_secs() },
            Some(
                RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed
                | RDKafkaErrorCode::GroupAuthorizationFailed
                | RDKafkaErrorCode::SaslAuthenticationFailed
                | RDKafkaErrorCode::Authentication,
            ) => KafkaError::Authorization { role, bootstrap, detail: e.to_string() },
            _ => KafkaError::Client { role, bootstrap, detail: e.to_string() },
        }
    }

    /// Metadata of one topic; a missing topic is [`KafkaError::TopicMissing`].
    pub(crate) fn topic_metadata(&self, consumer: &BaseConsumer, topic: &str) -> Result<Metadata, KafkaError> {
        let metadata = consumer.fetch_metadata(Some(topic), self.timeout).map_err(|e| self.error(e))?;
        match metadata.topics().iter().find(|t| t.name() == topic) {
            Some(t) => match t.error() {
                None if !t.partitions().is_empty() => Ok(metadata),
                Some(code) => {
                    let code = RDKafkaErrorCode::from(code);
                    match code {
                        RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic => Err(self.missing(topic)),
                        RDKafkaErrorCode::TopicAuthorizationFailed => Err(KafkaError::Authorization {
                            role: self.role,
                            bootstrap: self.bootstrap.clone(),
                            detail: format!("topic {topic:?}: {code}"),
                        }),
                        other => Err(KafkaError::Client {
                            role: self.role,
                            bootstrap: self.bootstrap.clone(),
                            detail: format!("topic {topic:?}: {other}"),
                        }),
                    }
                }
                None => Err(self.missing(topic)),
            },
            None => Err(self.missing(topic)),
        }
    }

    fn missing(&self, topic: &str) -> KafkaError {
        KafkaError::TopicMissing { role: self.role, bootstrap: self.bootstrap.clone(), topic: topic.to_owned() }
    }

    /// The partitions of `topic` with their log start and end offsets.
    pub fn partition_ranges(&self, topic: &str) -> Result<Vec<PartitionRange>, KafkaError> {
        let consumer = self.consumer()?;
        self.ranges_with(&consumer, topic)
    }

    pub(crate) fn ranges_with(&self, consumer: &BaseConsumer, topic: &str) -> Result<Vec<PartitionRange>, KafkaError> {
        let metadata = self.topic_metadata(consumer, topic)?;
        let mut ranges = Vec::new();
        let partitions = metadata.topics().iter().find(|t| t.name() == topic).map(|t| t.partitions()).unwrap_or_default();
        for p in partitions {
            let (start, end) = consumer
                .fetch_watermarks(topic, p.id(), self.timeout)
                .map_err(|e| self.error(e))?;
            ranges.push(PartitionRange { partition: p.id(), start, end });
        }
        ranges.sort_by_key(|r| r.partition);
        Ok(ranges)
    }
}

#[cfg(test)]
mod tests {
    //! Failure paths on librdkafka's in-process mock broker, where errors can be injected.
    use rdkafka::mocking::MockCluster;
    use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

    use super::*;
    use crate::record::TargetRecord;

    fn connection(bootstrap: &str) -> Connection {
        Connection { role: "target", bootstrap: bootstrap.to_owned(), properties: Vec::new(), timeout: Duration::from_secs(2) }
    }

    fn records(n: usize) -> Vec<TargetRecord> {
        (0..n)
            .map(|i| TargetRecord {
                topic: "offsets".into(),
                partition: (i % 3) as i32,
                key: format!("[\"k{i}\"]").into_bytes(),
                value: Some(b"{\"offset\":1}".to_vec()),
                origin: format!("line {i}"),
            })
            .collect()
    }

    #[test]
    fn delivered_records_carry_their_partition_and_offset() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("offsets", 3, 1).unwrap();
        let delivered = write_records(&connection(&mock.bootstrap_servers()), &records(6)).unwrap();
        assert_eq!(delivered.len(), 6);
        assert_eq!(delivered.iter().filter(|d| d.partition == 1).map(|d| d.offset).collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn a_failed_write_says_what_did_not_land() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("offsets", 3, 1).unwrap();
        let conn = connection(&mock.bootstrap_servers());
        mock.request_errors(RDKafkaApiKey::Produce, &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 50]);
        let failure = write_records(&conn, &records(4)).unwrap_err();
        assert_eq!(failure.landed.len() + failure.failed.len(), 4);
        assert!(!failure.failed.is_empty());
        let message = failure.to_string();
        assert!(message.contains(&format!("{} of 4 records landed", failure.landed.len())), "{message}");
        assert!(message.contains("line "), "{message}");
    }

    #[test]
    fn authorization_failures_are_named() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("secret", 1, 1).unwrap();
        mock.topic_error("secret", RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED).unwrap();
        let err = connection(&mock.bootstrap_servers()).partition_ranges("secret").unwrap_err();
        assert!(matches!(err, KafkaError::Authorization { .. }), "{err}");
        assert!(err.to_string().contains("not authorized"), "{err}");
    }

    #[test]
    fn missing_topics_are_named() {
        let mock = MockCluster::new(1).unwrap();
        let err = connection(&mock.bootstrap_servers()).partition_ranges("absent").unwrap_err();
        assert!(err.to_string().contains("topic \"absent\" does not exist"), "{err}");
    }

    #[test]
    fn snapshots_read_every_partition_to_its_end() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("offsets", 3, 1).unwrap();
        let conn = connection(&mock.bootstrap_servers());
        write_records(&conn, &records(7)).unwrap();
        let mut seen = Vec::new();
        let ranges = read_snapshot(&conn, "offsets", |r| seen.push(r.origin)).unwrap();
        assert_eq!(ranges.iter().map(|r| r.end).sum::<i64>(), 7);
        seen.sort();
        assert_eq!(seen.len(), 7);
        assert!(seen.contains(&"offsets/0@2".to_owned()), "{seen:?}");
    }
}
