//! Kafka connections over rdkafka: reading an offsets topic as a snapshot, writing offset records
//! like Connect does, and the metadata the safety checks need. Every call is bounded in time.

mod snapshot;
mod sink;

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError as RdError, RDKafkaErrorCode};
use rdkafka::metadata::Metadata;

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
