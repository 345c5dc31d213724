//! What can go wrong with a cluster, said once: librdkafka's reports classified (certificate,
//! login, authorization), the client context that keeps them, and [`KafkaError`].

use std::sync::{Arc, Mutex};

use rdkafka::client::ClientContext;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::{KafkaError as RdError, RDKafkaErrorCode};

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
    pub(crate) fn of(message: &str) -> Option<ClientProblem> {
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
