//! The plugin-side model of the contract, in plain Rust so mapping logic is tested natively.

use crate::config::{Config, ConfigError, ConfigKey};

/// What a plugin says about itself (`describe`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub config: Vec<ConfigKey>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub key: String,
    pub value: Option<Vec<u8>>,
}

/// A Kafka record as it crosses the contract.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    pub topic: String,
    pub partition: Option<i32>,
    pub offset: Option<i64>,
    pub timestamp: Option<i64>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<Header>,
}

impl Record {
    /// An output record for `topic`, left for the host to partition by key.
    pub fn keyed(topic: &str, key: Vec<u8>, value: Vec<u8>) -> Record {
        Record { topic: topic.to_owned(), key: Some(key), value: Some(value), ..Record::default() }
    }

    /// `topic/partition@offset` for messages.
    pub fn coordinates(&self) -> String {
        let mut out = self.topic.clone();
        if let Some(p) = self.partition {
            out.push_str(&format!("/{p}"));
        }
        if let Some(o) = self.offset {
            out.push_str(&format!("@{o}"));
        }
        out
    }
}

/// What became of one input record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Emit(Vec<Record>),
    /// Deliberately not migrated: `reason` is a stable category, `detail` explains this record.
    Skipped { reason: String, detail: String },
    Invalid(String),
}

impl Outcome {
    pub fn skipped(reason: &str, detail: impl Into<String>) -> Outcome {
        Outcome::Skipped { reason: reason.to_owned(), detail: detail.into() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// A mapping: the one thing a plugin author writes.
pub trait Mapping: Sized + 'static {
    /// Name, version, description and configuration definition.
    fn info() -> PluginInfo;

    /// Builds the configured mapping from checked settings; further checks (a regex that does not
    /// compile, a combination that makes no sense) are reported as errors, all at once.
    fn configure(config: &Config) -> Result<Self, Vec<ConfigError>>;

    /// Maps one input record. Must not keep state that a later record depends on, so that a batch
    /// the host discards (after a fatal error elsewhere) leaves nothing behind.
    fn map(&mut self, record: &Record) -> Outcome;

    /// Called once at the end.
    fn close(&mut self) {}

    /// Checks settings against `info().config`, then calls [`Mapping::configure`].
    fn from_settings(settings: Vec<(String, String)>) -> Result<Self, Vec<ConfigError>> {
        let config = Config::parse(&Self::info().config, settings)?;
        Self::configure(&config)
    }
}
