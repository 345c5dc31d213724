//! Where MM2 writes a source topic (`replication.policy.class`).

/// Where MM2 writes a source topic (`replication.policy.class`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "class", rename_all = "kebab-case")]
pub enum ReplicationPolicy {
    /// `IdentityReplicationPolicy`: the source topic's own name.
    Identity,
    /// `DefaultReplicationPolicy`: `<source alias><separator><topic>`.
    Default { separator: String },
}

impl ReplicationPolicy {
    /// The topic MM2 writes `topic` of the cluster `alias` to.
    pub fn data_topic(&self, alias: &str, topic: &str) -> String {
        match self {
            ReplicationPolicy::Identity => topic.to_owned(),
            ReplicationPolicy::Default { separator } => format!("{alias}{separator}{topic}"),
        }
    }
}

impl std::fmt::Display for ReplicationPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplicationPolicy::Identity => f.write_str("IdentityReplicationPolicy: topics keep their names"),
            ReplicationPolicy::Default { separator } => write!(f, "DefaultReplicationPolicy: <alias>{separator}<topic>"),
        }
    }
}
