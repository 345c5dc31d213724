//! Kafka connections over rdkafka: reading an offsets topic as a snapshot, writing offset records
//! like Connect does, and the metadata the safety checks need. Every call is bounded in time.

mod group_offsets;
mod groups;
mod sink;
mod snapshot;
mod tail;
mod target;
mod window;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError as RdError, RDKafkaErrorCode};
use rdkafka::metadata::{Metadata, MetadataTopic};

pub use group_offsets::{commit as commit_group_offsets, fetch as fetch_group_offsets};
pub use groups::{Committed, GROUP_RECORDS_TOPIC, GroupListing, group_record, list_groups, read_group_offsets};
pub use sink::{Delivered, TopicSetup, WriteFailure, Writer, ensure_topic};
#[cfg(test)]
pub(crate) use sink::write_records;
pub use snapshot::{PartitionRange, read_snapshot};
pub use tail::Tail;
pub use window::{OffsetQuery, TopicPartition, TopicPartitions, Unauthorized, Window, Windows};
pub use target::{ExistingRecord, ReadBack, ReplicatedRanges, TargetState, read_back, read_target_state, replicated_ranges};

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

/// Whether a librdkafka property holds a secret.
pub fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "jaas", "token", "ssl.key.pem", "ssl_key", "keystore", "oauthbearer.config"].iter().any(|s| key.contains(s))
}

/// Why librdkafka says a connection or a request failed, read from its reports once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ClientProblem {
    /// The broker's certificate could not be verified.
    Certificate(String),
    /// The login was refused.
    Authentication(String),
    /// A request was refused for lack of an ACL.
    Authorization(String),
}

impl ClientProblem {
    fn of(message: &str) -> Option<ClientProblem> {
        let lower = message.to_ascii_lowercase();
        let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
        if has(&["certificate verify failed", "certificate could not be verified"]) {
            Some(ClientProblem::Certificate(message.to_owned()))
        } else if has(&["sasl authentication error", "authentication failed"]) {
            Some(ClientProblem::Authentication(message.to_owned()))
        } else if has(&["authorization failed"]) {
            Some(ClientProblem::Authorization(message.to_owned()))
        } else {
            None
        }
    }
}

/// Whether an error code is a refusal for lack of an ACL.
pub(crate) fn is_authorization(code: Option<RDKafkaErrorCode>) -> bool {
    matches!(
        code,
        Some(
            RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed
                | RDKafkaErrorCode::GroupAuthorizationFailed
                | RDKafkaErrorCode::TransactionalIdAuthorizationFailed
        )
    )
}

/// The last problem librdkafka reported for the clients of one connection.
#[derive(Clone, Default)]
pub(crate) struct ClientErrors(Arc<Mutex<Option<ClientProblem>>>);

impl ClientErrors {
    /// Keeps `message` when it says why a connection or a request failed.
    fn record(&self, message: &str) {
        if let Some(problem) = ClientProblem::of(message) {
            *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(problem);
        }
    }

    pub(crate) fn last(&self) -> Option<ClientProblem> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The context of every client the tool creates: librdkafka's reports of failed connections are
/// kept for messages (librdkafka logs them from its own threads; operations only say "transport
/// failure"), and shown as logs only with -v.
#[derive(Clone, Default)]
pub(crate) struct Context {
    pub(crate) errors: ClientErrors,
}

impl ClientContext for Context {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        tracing::debug!(target: "librdkafka", "{level:?} {fac} {message}");
        self.errors.record(message);
    }

    fn error(&self, error: RdError, reason: &str) {
        tracing::debug!(target: "librdkafka", "client error: {error}: {reason}");
        self.errors.record(reason);
    }
}

impl ConsumerContext for Context {}

/// The `group.id` librdkafka requires for assigned partitions; never joined, never committed.
pub(crate) const CONSUMER_GROUP: &str = "mm2-migrate-unused";

#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error("{role} cluster {bootstrap} is unreachable: {detail} (waited {secs} s)")]
    Unreachable { role: &'static str, bootstrap: String, detail: String, secs: u64 },
    #[error("{role} cluster {bootstrap}: topic {topic:?} does not exist")]
    TopicMissing { role: &'static str, bootstrap: String, topic: String },
    #[error("{role} cluster {bootstrap}: not authorized: {detail}")]
    Authorization { role: &'static str, bootstrap: String, detail: String },
    #[error("{role} cluster {bootstrap}: authentication failed (check the SASL mechanism, user name and password): {detail}")]
    Authentication { role: &'static str, bootstrap: String, detail: String },
    #[error(
        "{role} cluster {bootstrap}: the broker's certificate could not be verified (check ssl.ca.location, \
         and that the certificate names the host you connect to): {detail}"
    )]
    Certificate { role: &'static str, bootstrap: String, detail: String },
    #[error("{role} cluster {bootstrap}: {detail}")]
    Client { role: &'static str, bootstrap: String, detail: String },
    /// librdkafka refused the client's properties (an unknown key, a bad value, a combination it
    /// does not take): the operator's settings, not the cluster.
    #[error("{role} cluster {bootstrap}: librdkafka refused the client settings (check -X and --{role}-property): {detail}")]
    Settings { role: &'static str, bootstrap: String, detail: String },
    #[error(
        "{role} cluster {bootstrap}: topic {topic:?} has cleanup.policy={policy}, and MirrorMaker 2 (Connect) \
         refuses to start on an offsets topic unless it is exactly compact: \"Topic '{topic}' supplied via the \
         'offset.storage.topic' property is required to have 'cleanup.policy=compact' to guarantee consistency \
         and durability of source connector offsets, but found the topic currently has 'cleanup.policy={policy}'.\" \
         Set cleanup.policy=compact on the topic (kafka-configs --alter --add-config cleanup.policy=compact)"
    )]
    NotCompacted { role: &'static str, bootstrap: String, topic: String, policy: String },
    #[error("{role} cluster {bootstrap}: reading {what} stalled: no record for {secs} s while partitions {pending} were not at their end")]
    Stalled { role: &'static str, bootstrap: String, what: String, secs: u64, pending: String },
}

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

impl KafkaError {
    /// The error with what was being done (the topic, the group) in front of its detail.
    pub(crate) fn with_context(self, context: &str) -> KafkaError {
        match self {
            KafkaError::Client { role, bootstrap, detail } => KafkaError::Client { role, bootstrap, detail: format!("{context}: {detail}") },
            KafkaError::Authorization { role, bootstrap, detail } => {
                KafkaError::Authorization { role, bootstrap, detail: format!("{context}: {detail}") }
            }
            other => other,
        }
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
        Connection::new("target", bootstrap.to_owned(), Vec::new(), Duration::from_secs(2))
    }

    /// Why the ranges of `topic` could not be read.
    fn ranges_error(mock: &MockCluster<'_, rdkafka::producer::DefaultProducerContext>, topic: &str) -> KafkaError {
        let connection = connection(&mock.bootstrap_servers());
        connection.ranges_with(&connection.consumer().unwrap(), topic).unwrap_err()
    }

    #[test]
    fn readers_bound_their_prefetch_unless_told_otherwise() {
        let connection = Connection::new("source", "b:9092".into(), vec![("queued.max.messages.kbytes".into(), "512".into())], Duration::from_secs(5));
        let config = connection.reader_config(Some("g"));
        assert_eq!(config.get("fetch.queue.backoff.ms"), Some("10"), "no second-long pause when the queue was full");
        assert_eq!(config.get("fetch.max.bytes"), Some("1048576"));
        assert_eq!(config.get("queued.max.messages.kbytes"), Some("512"), "-X wins");

        // A larger message.max.bytes than our fetch size is not made a client creation error.
        let connection = Connection::new("source", "b:9092".into(), vec![("message.max.bytes".into(), "4000000".into())], Duration::from_secs(5));
        let config = connection.reader_config(Some("g"));
        assert_eq!(config.get("fetch.max.bytes"), None);
        config.create::<BaseConsumer>().expect("librdkafka takes the configuration");
    }

    #[test]
    fn settings_librdkafka_refuses_are_named_as_settings() {
        for property in [("no.such.property", "1"), ("message.max.bytes", "not-a-number"), ("sasl.pasword", "SECRET-VALUE")] {
            let properties = vec![(property.0.to_owned(), property.1.to_owned())];
            let connection = Connection::new("target", "b:9092".into(), properties, Duration::from_secs(5));
            let error = connection.consumer().map(|_| ()).unwrap_err();
            assert!(matches!(error, KafkaError::Settings { .. }), "{property:?}: {error:?}");
            let text = error.to_string();
            assert!(text.contains("--target-property") && text.contains(property.0), "{text}");
            assert!(!text.contains("SECRET-VALUE"), "a misspelt key's value, maybe a password, is shown: {text}");
        }
        // A combination librdkafka refuses only when it creates the client.
        let properties = vec![("fetch.max.bytes".to_owned(), "1000".to_owned())];
        let error = Connection::new("source", "b:9092".into(), properties, Duration::from_secs(5)).consumer().map(|_| ()).unwrap_err();
        assert!(matches!(error, KafkaError::Settings { .. }), "{error:?}");
    }

    #[test]
    fn librdkafka_reports_are_classified_once() {
        let cert = "SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: broker certificate could not be verified";
        assert!(matches!(ClientProblem::of(cert), Some(ClientProblem::Certificate(_))));
        let login = "SASL authentication error: Authentication failed: Invalid username or password";
        assert!(matches!(ClientProblem::of(login), Some(ClientProblem::Authentication(_))));
        let acl = "FindCoordinator response error: Group authorization failed.";
        assert!(matches!(ClientProblem::of(acl), Some(ClientProblem::Authorization(_))));
        assert_eq!(ClientProblem::of("Connect to ipv4#127.0.0.1:1 failed: Connection refused"), None);
    }

    #[test]
    fn secrets_are_never_shown() {
        let properties = vec![
            ("sasl.password".to_owned(), "hunter2".to_owned()),
            ("ssl.key.password".to_owned(), "hunter3".to_owned()),
            ("sasl.username".to_owned(), "migrator".to_owned()),
        ];
        let shown = format!("{:?}", Connection::new("source", "b:9092".into(), properties, Duration::from_secs(1)));
        assert!(!shown.contains("hunter") && shown.contains("migrator") && shown.contains("[redacted]"), "{shown}");
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
        assert_eq!(failure.landed.len() + failure.unacknowledged.len() + failure.not_sent.len(), 4);
        assert!(!failure.unacknowledged.is_empty());
        let message = failure.to_string();
        let (at_least, at_most) = (failure.landed.len(), failure.landed.len() + failure.unacknowledged.len());
        assert!(message.contains(&format!("at least {at_least} and at most {at_most} landed")), "{message}");
        assert!(message.contains("line "), "{message}");
    }

    #[test]
    fn an_interrupted_write_stops_sending_and_reports_what_landed() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("offsets", 3, 1).unwrap();
        let conn = connection(&mock.bootstrap_servers());
        let sent = std::sync::atomic::AtomicUsize::new(0);
        // The signal arrives after four records were handed to the producer.
        let stop = || sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 4;
        let failure = Writer::start(&conn).unwrap().write_until(&records(10), stop).unwrap_err();
        assert!(failure.interrupted);
        assert_eq!(failure.landed.len(), 4, "what was sent is waited for");
        assert_eq!(failure.not_sent.len(), 6);
        let message = failure.to_string();
        assert!(message.contains("was interrupted") && message.contains("at least 4 and at most 4 landed"), "{message}");
        let mut seen = 0;
        read_snapshot(&conn, "offsets", |_| seen += 1).unwrap();
        assert_eq!(seen, 4, "nothing after the signal reached the topic");
    }

    #[test]
    fn a_write_to_a_dead_broker_fails_within_the_timeout() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("offsets", 3, 1).unwrap();
        let conn = connection(&mock.bootstrap_servers());
        mock.broker_down(1).unwrap();
        let started = std::time::Instant::now();
        let failure = write_records(&conn, &records(3)).unwrap_err();
        let took = started.elapsed();
        // The timeout is 2 s per broker operation; a write is one (it used to take twice that).
        assert!(took < Duration::from_millis(3800), "took {took:?}");
        assert!(failure.landed.is_empty());
        assert!(failure.to_string().contains("at least 0 and at most 3 landed"), "{failure}");
    }

    #[test]
    fn authorization_failures_are_named() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("secret", 1, 1).unwrap();
        mock.topic_error("secret", RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED).unwrap();
        let err = ranges_error(&mock, "secret");
        assert!(matches!(err, KafkaError::Authorization { .. }), "{err}");
        assert!(err.to_string().contains("not authorized"), "{err}");
    }

    #[test]
    fn a_topic_without_a_leader_is_asked_again_until_the_timeout() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("fresh", 1, 1).unwrap();
        mock.topic_error("fresh", RDKafkaRespErr::RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE).unwrap();
        let started = std::time::Instant::now();
        let err = ranges_error(&mock, "fresh");
        // The connection's timeout is 2 s: it kept asking (it failed at once before), then said why.
        assert!(started.elapsed() >= Duration::from_millis(1500), "gave up after {:?}", started.elapsed());
        assert!(err.to_string().contains("Leader not available") || err.to_string().contains("LeaderNotAvailable"), "{err}");
    }

    #[test]
    fn missing_topics_are_named() {
        let mock = MockCluster::new(1).unwrap();
        let err = ranges_error(&mock, "absent");
        assert!(err.to_string().contains("topic \"absent\" does not exist"), "{err}");
    }

    #[test]
    fn snapshots_read_every_partition_to_its_end() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("offsets", 3, 1).unwrap();
        let conn = connection(&mock.bootstrap_servers());
        write_records(&conn, &records(7)).unwrap();
        let mut seen = Vec::new();
        let ranges = read_snapshot(&conn, "offsets", |r| seen.push(r.origin.to_string())).unwrap();
        assert_eq!(ranges.iter().map(|r| r.end).sum::<i64>(), 7);
        seen.sort();
        assert_eq!(seen.len(), 7);
        assert!(seen.contains(&"offsets/0@2".to_owned()), "{seen:?}");
    }
}
