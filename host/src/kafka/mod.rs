//! Kafka connections over rdkafka: reading an offsets topic as a snapshot, writing offset records
//! like Connect does, and the metadata the safety checks need. Every call is bounded in time.

mod error;
mod group_offsets;
mod groups;
mod sink;
mod snapshot;
mod tail;
mod target;
mod window;

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError as RdError, RDKafkaErrorCode};
use rdkafka::metadata::{Metadata, MetadataTopic};

pub use error::{KafkaError, is_secret};
pub(crate) use error::{ClientErrors, ClientProblem, Context, is_authorization};
pub use group_offsets::{commit as commit_group_offsets, fetch as fetch_group_offsets};
pub use groups::{Committed, GROUP_RECORDS_TOPIC, GroupListing, group_record, list_groups, read_group_offsets};
pub use sink::{Delivered, TopicSetup, WriteFailure, Writer, ensure_topic};
#[cfg(test)]
pub(crate) use sink::write_records;
pub use snapshot::read_snapshot;
pub use tail::Tail;
pub use window::{OffsetQuery, TopicPartition, TopicPartitions, Unauthorized, Window, Windows};
pub use crate::model::{ExistingRecord, PartitionRange, ReadBack, ReplicatedRanges, TargetState};
pub use target::{read_back, read_back_since, read_target_state, replicated_ranges};

/// One cluster connection: where, with which librdkafka properties, how long to wait.
#[derive(Clone)]
pub struct Connection {
    /// `source`, `target` or `replicated`, for messages.
    pub role: &'static str,
    pub bootstrap: String,
    /// librdkafka properties (SSL, SASL, ...), applied after the defaults.
    pub properties: Vec<(String, String)>,
    /// Longest wait for any one broker operation.
    pub timeout: Duration,
    /// What librdkafka last reported about the connection itself (a failed TLS handshake, a
    /// refused login): operations only say "transport failure" or "timed out".
    client_errors: ClientErrors,
}

impl std::fmt::Debug for Connection {
    /// Secrets (passwords, keys, JAAS lines, tokens) never appear in logs or error reports.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let properties: Vec<(&str, &str)> =
            self.properties.iter().map(|(k, v)| (k.as_str(), if is_secret(k) { "[redacted]" } else { v.as_str() })).collect();
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("bootstrap", &self.bootstrap)
            .field("properties", &properties)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The `group.id` librdkafka requires for assigned partitions; never joined, never committed.
pub(crate) const CONSUMER_GROUP: &str = "mm2-migrate-unused";

/// `topic`'s entry in a metadata answer.
pub(crate) fn topic_entry<'m>(metadata: &'m Metadata, topic: &str) -> Option<&'m MetadataTopic> {
    metadata.topics().iter().find(|t| t.name() == topic)
}

/// The prefetch of every reading consumer (bench/live.sh measures them against kcat: 1 MiB
/// read a 1M-record topic as fast as 4 MiB did, and took 13 MiB off the peak).
const READ_DEFAULTS: &[(&str, &str)] = &[
    ("fetch.queue.backoff.ms", "10"),
    ("queued.max.messages.kbytes", "1024"),
    ("queued.min.messages", "10000"),
    ("fetch.max.bytes", "1048576"),
];

impl Connection {
    pub fn new(role: &'static str, bootstrap: String, properties: Vec<(String, String)>, timeout: Duration) -> Connection {
        Connection { role, bootstrap, properties, timeout, client_errors: ClientErrors::default() }
    }

    /// What librdkafka last reported about this connection's clients (a refused login, TLS or
    /// authorization), taking in what `client` has queued first.
    pub(crate) fn last_client_error(&self, client: &BaseConsumer<Context>) -> Option<ClientProblem> {
        for _ in 0..1000 {
            if client.poll(Duration::ZERO).is_none() {
                break;
            }
        }
        self.client_errors.last()
    }

    /// The context for a new client of this connection.
    pub(crate) fn context(&self) -> Context {
        Context { errors: self.client_errors.clone() }
    }

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

    /// A consumer for assigned partitions that never joins, commits to or reads its group, so
    /// that it needs no group ACL. (librdkafka's `assign` requires a `group.id` and looks up its
    /// coordinator; a refused lookup is no error of the read: see [`Connection::read_error`].)
    pub(crate) fn consumer(&self) -> Result<BaseConsumer<Context>, KafkaError> {
        self.client(Some(CONSUMER_GROUP))
    }

    /// A client for metadata, watermarks and reading; `group` is the `group.id` (needed to
    /// assign partitions or fetch a group's commits; metadata needs none).
    pub(crate) fn client(&self, group: Option<&str>) -> Result<BaseConsumer<Context>, KafkaError> {
        self.reader_config(group).create_with_context(self.context()).map_err(|e| self.error(e))
    }

    fn reader_config(&self, group: Option<&str>) -> ClientConfig {
        let mut config = self.config();
        // Prefetch sized for a reader that keeps up: librdkafka's defaults (64 MiB queued, 50 MB
        // fetches) made a 1M-record plan peak at 150 MiB, and a full queue backed fetching off
        // for a whole second each time (fetch.queue.backoff.ms 1000): 2.5 s of a 4.2 s plan were
        // spent waiting. A property given with -X still wins.
        for (key, value) in READ_DEFAULTS {
            // librdkafka refuses a fetch.max.bytes below message.max.bytes: an operator who raised
            // the latter keeps librdkafka's own fetch size.
            let below_message_size = *key == "fetch.max.bytes" && config.get("message.max.bytes").is_some();
            if config.get(key).is_none() && !below_message_size {
                config.set(*key, *value);
            }
        }
        if let Some(group) = group {
            config.set("group.id", group);
        }
        config
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .set("auto.offset.reset", "error");
        config
    }

    /// An error a read's poll returned, or `None` for one that does not concern the read: the
    /// coordinator lookup for the consumer's unused group, refused without a group ACL.
    pub(crate) fn read_error(&self, e: RdError) -> Option<KafkaError> {
        match e.rdkafka_error_code() {
            Some(RDKafkaErrorCode::GroupAuthorizationFailed) => {
                tracing::debug!("ignored for the unused consumer group {CONSUMER_GROUP:?}: {e}");
                None
            }
            _ => Some(self.error(e)),
        }
    }

    /// Like [`Connection::error`], after taking in what librdkafka queued on `consumer` about
    /// its connections (it reports a refused login or certificate there, not in the error).
    pub(crate) fn fail(&self, consumer: &BaseConsumer<Context>, e: RdError) -> KafkaError {
        self.last_client_error(consumer);
        self.error(e)
    }

    /// Turns an rdkafka error into one that names the cluster and says what to check.
    pub(crate) fn error(&self, e: RdError) -> KafkaError {
        let (role, bootstrap) = (self.role, self.bootstrap.clone());
        match &e {
            // librdkafka's description names the property; its value is left out, as it may be a
            // secret under a misspelt key (`sasl.pasword`).
            RdError::ClientConfig(_, description, _, _) => return KafkaError::Settings { role, bootstrap, detail: description.clone() },
            RdError::ClientCreation(detail) => return KafkaError::Settings { role, bootstrap, detail: detail.clone() },
            _ => {}
        }
        // A connection that failed its TLS handshake or its login surfaces as a transport failure
        // or a timeout; what librdkafka reported on the way says which.
        match self.client_errors.last() {
            Some(ClientProblem::Certificate(detail)) => return KafkaError::Certificate { role, bootstrap, detail },
            Some(ClientProblem::Authentication(detail)) => return KafkaError::Authentication { role, bootstrap, detail },
            _ => {}
        }
        // rdkafka reports no code for an admin operation's per-resource error; it carries one.
        let code = match &e {
            RdError::AdminOp(code) => Some(*code),
            other => other.rdkafka_error_code(),
        };
        if is_authorization(code) {
            return KafkaError::Authorization { role, bootstrap, detail: e.to_string() };
        }
        match code {
            Some(
                RDKafkaErrorCode::BrokerTransportFailure
                | RDKafkaErrorCode::AllBrokersDown
                | RDKafkaErrorCode::OperationTimedOut
                | RDKafkaErrorCode::Resolve
                | RDKafkaErrorCode::RequestTimedOut,
            ) => KafkaError::Unreachable { role, bootstrap, detail: e.to_string(), secs: self.timeout.as_secs() },
            Some(RDKafkaErrorCode::SaslAuthenticationFailed | RDKafkaErrorCode::Authentication) => {
                KafkaError::Authentication { role, bootstrap, detail: e.to_string() }
            }
            _ => KafkaError::Client { role, bootstrap, detail: e.to_string() },
        }
    }

    /// Metadata of one topic; a missing topic is [`KafkaError::TopicMissing`].
    pub(crate) fn topic_metadata(&self, consumer: &BaseConsumer<Context>, topic: &str) -> Result<Metadata, KafkaError> {
        let metadata = self
            .while_leaderless(
                || consumer.fetch_metadata(Some(topic), self.timeout),
                |metadata| topic_entry(metadata, topic).and_then(|t| t.error()).map(RDKafkaErrorCode::from),
            )
            .map_err(|e| self.fail(consumer, e))?;
        match topic_entry(&metadata, topic) {
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

    /// The cluster's id (from its metadata), `None` when the broker does not say.
    /// From a client without a `group.id`: closing one with a group waits on its coordinator
    /// (~600 ms, twice per seam check).
    pub fn cluster_id(&self) -> Result<Option<String>, KafkaError> {
        let client = self.client(None)?;
        Ok(client.client().fetch_cluster_id(self.timeout))
    }

    /// Whether `self` and `other` are the same cluster: by cluster id (any bootstrap address of
    /// it, any spelling), or by bootstrap list where a broker gives no id.
    pub fn same_cluster(&self, other: &Connection) -> Result<bool, KafkaError> {
        if let (Some(a), Some(b)) = (self.cluster_id()?, other.cluster_id()?) {
            return Ok(a == b);
        }
        let normalize = |s: &str| {
            let mut hosts: Vec<String> = s.split(',').map(|h| h.trim().to_ascii_lowercase()).collect();
            hosts.sort();
            hosts
        };
        Ok(normalize(&self.bootstrap) == normalize(&other.bootstrap))
    }

    /// `request` asked again, 100 ms apart within the timeout, while its answer says a partition
    /// has no settled leader (LeaderNotAvailable, NotLeaderForPartition), as an error or as the
    /// code `answered_code` finds in an answer: a topic `run` has just created, then writes and
    /// reads back at once, or one whose leader is moving, says so for a moment, and the run
    /// must not fail for it after its records landed.
    fn while_leaderless<T>(
        &self,
        mut request: impl FnMut() -> Result<T, RdError>,
        answered_code: impl Fn(&T) -> Option<RDKafkaErrorCode>,
    ) -> Result<T, RdError> {
        let deadline = std::time::Instant::now() + self.timeout;
        loop {
            let answer = request();
            let code = match &answer {
                Ok(value) => answered_code(value),
                Err(RdError::MetadataFetch(code)) => Some(*code),
                Err(_) => None,
            };
            let leaderless = matches!(code, Some(RDKafkaErrorCode::LeaderNotAvailable | RDKafkaErrorCode::NotLeaderForPartition));
            if !leaderless || std::time::Instant::now() >= deadline {
                return answer;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn ranges_with(&self, consumer: &BaseConsumer<Context>, topic: &str) -> Result<Vec<PartitionRange>, KafkaError> {
        let metadata = self.topic_metadata(consumer, topic)?;
        let mut ranges = Vec::new();
        let partitions = topic_entry(&metadata, topic).map(|t| t.partitions()).unwrap_or_default();
        for p in partitions {
            let (start, end) = self
                .while_leaderless(|| consumer.fetch_watermarks(topic, p.id(), self.timeout), |_| None)
                .map_err(|e| self.fail(consumer, e).with_context(&format!("topic {topic:?}")))?;
            ranges.push(PartitionRange { partition: p.id(), start, end });
        }
        ranges.sort_by_key(|r| r.partition);
        Ok(ranges)
    }
}

#[cfg(test)]
mod tests;
