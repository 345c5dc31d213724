//! Records as the host moves them between sources, plugins and sinks.

use std::fmt;
use std::sync::Arc;

/// Where a record came from, for messages. A line is kept as its number and spelled out only
/// when a message shows it: formatting one string per record was a measurable part of
/// `translate`, and nearly all records are superseded without ever being named.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// A line of an input file (1-based): `line 12`.
    Line(usize),
    /// Anything else, as it is shown: `connect-offsets/3@1207`.
    Text(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Line(line) => write!(f, "line {line}"),
            Origin::Text(text) => f.write_str(text),
        }
    }
}

/// A record read from an offsets topic or a dump of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    /// Where it came from, for messages.
    pub origin: Origin,
    /// Shared by the records of a topic.
    pub topic: Option<Arc<str>>,
    pub partition: Option<i32>,
    pub offset: Option<i64>,
    pub timestamp: Option<i64>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
}

/// A plugin's output record, admitted (`plugin::output`) but not yet partitioned: the partition is
/// computed once, when the target topic's partition count is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedRecord {
    pub topic: String,
    pub key: Vec<u8>,
    /// `None` is a tombstone.
    pub value: Option<Vec<u8>>,
    /// The partition the plugin named, if any: it must be the key's.
    pub declared_partition: Option<i32>,
    /// The source record it was mapped from.
    pub origin: String,
}

/// A record to write to the target offsets topic, partitioned as Kafka's Java producer would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRecord {
    pub topic: String,
    pub partition: i32,
    pub key: Vec<u8>,
    /// `None` is a tombstone.
    pub value: Option<Vec<u8>>,
    /// The source record it was mapped from.
    pub origin: String,
}
