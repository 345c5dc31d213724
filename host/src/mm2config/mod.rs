//! MirrorMaker 2's own configuration (`mm2.properties` of dedicated mode), read the way its
//! `MirrorMakerConfig` reads it, so that the migration writes what this very MM2 will look up:
//! the flow's aliases, both clusters' client settings (with MM2's precedence of `ALIAS.` and
//! top-level keys, and `consumer.` for the source cluster's reads), the offsets topic, the topic
//! filter and the replication policy. Each fact keeps the key it came from.

pub mod client;
pub mod connector;
pub mod properties;
pub mod strimzi;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use properties::Provider;

use crate::model::ReplicationPolicy;

pub use client::{ClientSettings, Unsupported};

/// MM2's default `topics.exclude` (`DefaultTopicFilter`).
pub const DEFAULT_TOPICS_EXCLUDE: &str = ".*[\\-\\.]internal, .*\\.replica, __.*";
/// MM2's default `groups.exclude` (`DefaultGroupFilter`).
pub const DEFAULT_GROUPS_EXCLUDE: &str = "console-consumer-.*, connect-.*, __.*";
const IDENTITY_POLICY: &str = "org.apache.kafka.connect.mirror.IdentityReplicationPolicy";
const DEFAULT_POLICY: &str = "org.apache.kafka.connect.mirror.DefaultReplicationPolicy";
/// The connector name of MM2's source connector in dedicated mode.
pub const DEDICATED_CONNECTOR: &str = "MirrorSourceConnector";

#[derive(Debug, thiserror::Error)]
pub enum Mm2ConfigError {
    #[error("cannot read MM2 configuration {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("MM2 configuration {}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// Why a configuration does not give a flow the tool can migrate to (where it came from is
/// said by the error that wraps it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error(
        "connector {connector:?} is a {class:?}, not a MirrorSourceConnector: MM2 resumes replication from its source \
         connector's offsets (Strimzi names it <source>-><target>.MirrorSourceConnector)"
    )]
    NotMirrorSource { connector: String, class: String },
    #[error("{alias}.bootstrap.servers is missing: MM2 cannot connect to cluster {alias:?}")]
    NoBootstrap { alias: String },
    #[error("the connector config has no {prefix}bootstrap.servers for cluster {alias:?}")]
    NoConnectorBootstrap { prefix: String, alias: String },
    #[error(
        "replication.policy.class = {class}: mm2-migrate knows where IdentityReplicationPolicy and \
         DefaultReplicationPolicy write; give --replication-policy for this one"
    )]
    UnknownPolicy { class: String },
}

/// A fact and the key (or default) it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Fact<T = String> {
    pub value: T,
    pub from: String,
}

/// A loaded `mm2.properties`.
#[derive(Debug, Clone)]
pub struct Mm2Config {
    path: PathBuf,
    raw: BTreeMap<String, String>,
    providers: BTreeMap<String, properties::Configured>,
}

/// One replication flow `SOURCE->TARGET` and what MM2 will do with it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Flow {
    pub file: String,
    pub source: String,
    pub target: String,
    /// What enables the flow (`SRC->TGT.enabled`, a Strimzi mirror).
    pub enabled_by: String,
    /// The source cluster as MM2's source consumer reads it (the replicated cluster).
    pub replicated: ClientSettings,
    /// The target cluster as MM2's worker writes its offsets there.
    pub target_cluster: ClientSettings,
    pub connector: Fact,
    pub offsets_topic: Fact,
    pub topics: Fact<Vec<String>>,
    pub topics_exclude: Fact<Vec<String>>,
    /// The consumer groups MM2's checkpoint connector translates (`groups`, `groups.exclude`).
    pub groups: Fact<Vec<String>>,
    pub groups_exclude: Fact<Vec<String>>,
    pub replication_policy: Fact<ReplicationPolicy>,
    /// The KafkaMirrorMaker2 resource and mirror the flow was read from (`--strimzi`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strimzi: Option<strimzi::StrimziMirror>,
}

impl Mm2Config {
    pub fn load(path: &Path) -> Result<Mm2Config, Mm2ConfigError> {
        let bytes = std::fs::read(path).map_err(|source| Mm2ConfigError::Read { path: path.to_owned(), source })?;
        let invalid = |e: properties::PropertiesError| Mm2ConfigError::Invalid { path: path.to_owned(), message: e.to_string() };
        let raw = properties::parse(&properties::decode_latin1(&bytes)).map_err(invalid)?;
        let mut config = Mm2Config { path: path.to_owned(), raw, providers: BTreeMap::new() };
        for alias in config.clusters().iter().filter(|a| !a.is_ascii()) {
            tracing::warn!(
                "{}: cluster alias {:?} has non-ASCII characters as MM2 reads the file (ISO-8859-1, one character \
                 per byte); the offsets are keyed under this alias. Write other characters as \\uXXXX escapes",
                path.display(),
                alias
            );
        }
        for name in config.list("config.providers") {
            let key = format!("config.providers.{name}.class");
            let class = config.raw.get(&key).cloned().unwrap_or_default();
            let provider = Provider::of_class(&class).ok_or_else(|| {
                config.invalid(format!(
                    "config provider {name:?} has class {class:?} ({key}); mm2-migrate resolves FileConfigProvider, \
                     EnvVarConfigProvider and DirectoryConfigProvider: give the values it supplies as flags"
                ))
            })?;
            let allowed = config.raw.get(&format!("config.providers.{name}.param.allowed.paths")).cloned();
            let configured = properties::Configured::new(provider, allowed.as_deref())
                .map_err(|e| config.invalid(format!("config provider {name:?}: {e}")))?;
            config.providers.insert(name, configured);
        }
        Ok(config)
    }

    fn invalid(&self, message: String) -> Mm2ConfigError {
        Mm2ConfigError::Invalid { path: self.path.clone(), message }
    }

    /// A comma-separated list, as Kafka's `Type.LIST`.
    fn list(&self, key: &str) -> Vec<String> {
        self.raw.get(key).map(|v| split_list(v)).unwrap_or_default()
    }

    /// The aliases of `clusters`.
    pub fn clusters(&self) -> Vec<String> {
        self.list("clusters")
    }

    /// `SOURCE->TARGET.enabled`, else a top-level `enabled`, else false (as MM2).
    fn enabled(&self, source: &str, target: &str) -> bool {
        let value = self.raw.get(&format!("{source}->{target}.enabled")).or_else(|| self.raw.get("enabled"));
        value.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// Every enabled flow.
    pub fn enabled_flows(&self) -> Vec<(String, String)> {
        let clusters = self.clusters();
        let mut flows = Vec::new();
        for source in &clusters {
            for target in &clusters {
                if source != target && self.enabled(source, target) {
                    flows.push((source.clone(), target.clone()));
                }
            }
        }
        flows
    }

    /// The flow named `SRC->TGT`, or the only enabled one; checked as MM2 would before anything
    /// connects.
    pub fn flow(&self, name: Option<&str>) -> Result<Flow, Mm2ConfigError> {
        let clusters = self.clusters();
        if clusters.is_empty() {
            return Err(self.invalid("`clusters` is missing or empty: MM2 needs the list of cluster aliases".into()));
        }
        let enabled = self.enabled_flows();
        let names = || enabled.iter().map(|(s, t)| format!("{s}->{t}")).collect::<Vec<_>>().join(", ");
        let (source, target) = match name {
            Some(name) => {
                let (s, t) = name
                    .split_once("->")
                    .map(|(s, t)| (s.trim().to_owned(), t.trim().to_owned()))
                    .ok_or_else(|| self.invalid(format!("--flow {name:?} is not of the form SOURCE->TARGET")))?;
                for alias in [&s, &t] {
                    if !clusters.contains(alias) {
                        return Err(self.invalid(format!(
                            "unknown flow {name}: {alias:?} is not in clusters = {}",
                            clusters.join(", ")
                        )));
                    }
                }
                if !self.enabled(&s, &t) {
                    return Err(self.invalid(format!(
                        "the flow {s}->{t} is not enabled ({s}->{t}.enabled is not true), so MM2 would not replicate it; \
                         enabled flows: {}",
                        if enabled.is_empty() { "none".to_owned() } else { names() }
                    )));
                }
                (s, t)
            }
            None => match enabled.as_slice() {
                [one] => one.clone(),
                [] => return Err(self.invalid("no flow is enabled (set SOURCE->TARGET.enabled = true)".into())),
                _ => return Err(self.invalid(format!("several flows are enabled ({}): name one with --flow", names()))),
            },
        };
        let flow_key = |key: &str| format!("{source}->{target}.{key}");
        let setting = |key: &str| -> Option<Fact> {
            let flow = flow_key(key);
            self.raw
                .get(&flow)
                .map(|v| Fact { value: v.clone(), from: flow.clone() })
                .or_else(|| self.raw.get(key).map(|v| Fact { value: v.clone(), from: key.to_owned() }))
        };
        let replication_policy =
            replication_policy(setting("replication.policy.class"), setting("replication.policy.separator")).map_err(|e| self.invalid(e.to_string()))?;
        let topics_exclude =
            listed(setting("topics.exclude").or_else(|| setting("topics.blacklist")), DEFAULT_TOPICS_EXCLUDE, "MM2's default topics.exclude");
        // The worker's offsets topic: a top-level offset.storage.topic wins over the target's.
        let offsets_topic = self
            .raw
            .get("offset.storage.topic")
            .map(|v| Fact { value: v.clone(), from: "offset.storage.topic".into() })
            .or_else(|| {
                let key = format!("{target}.offset.storage.topic");
                self.raw.get(&key).map(|v| Fact { value: v.clone(), from: key })
            })
            .unwrap_or(Fact { value: format!("mm2-offsets.{source}.internal"), from: "MM2's default mm2-offsets.<source>.internal".into() });
        let replicated = self.client(&source, "consumer.")?;
        let target_cluster = self.client(&target, "")?;
        Ok(Flow {
            file: self.path.display().to_string(),
            connector: Fact { value: DEDICATED_CONNECTOR.into(), from: "dedicated mode".into() },
            offsets_topic: self.transformed(offsets_topic)?,
            topics: listed(setting("topics"), ".*", "MM2's default topics"),
            topics_exclude,
            groups: listed(setting("groups"), ".*", "MM2's default groups"),
            groups_exclude: listed(
                setting("groups.exclude").or_else(|| setting("groups.blacklist")),
                DEFAULT_GROUPS_EXCLUDE,
                "MM2's default groups.exclude",
            ),
            replication_policy,
            replicated,
            target_cluster,
            strimzi: None,
            enabled_by: format!("{source}->{target}.enabled"),
            source,
            target,
        })
    }

    fn transformed(&self, fact: Fact) -> Result<Fact, Mm2ConfigError> {
        let value = properties::transform(&fact.value, &self.providers).map_err(|e| self.invalid(format!("{}: {e}", fact.from)))?;
        Ok(Fact { value, from: fact.from })
    }

    /// A cluster's client settings as MM2 builds them (`MirrorMakerConfig.clusterProps`):
    /// `ALIAS.<prefix>KEY`, else `ALIAS.KEY`, else the top-level `KEY`, for the client keys
    /// (bootstrap.servers, security.protocol, ssl.*, sasl.*); config providers resolved.
    fn client(&self, alias: &str, prefix: &str) -> Result<ClientSettings, Mm2ConfigError> {
        let mut java: BTreeMap<String, Fact> = BTreeMap::new();
        for (key, value) in &self.raw {
            if client::is_client_key(key) {
                java.insert(key.clone(), Fact { value: value.clone(), from: key.clone() });
            }
        }
        let own = format!("{alias}.");
        for (key, value) in &self.raw {
            if let Some(k) = key.strip_prefix(&own).filter(|k| client::is_client_key(k)) {
                java.insert(k.to_owned(), Fact { value: value.clone(), from: key.clone() });
            }
        }
        if !prefix.is_empty() {
            let prefixed = format!("{alias}.{prefix}");
            for (key, value) in &self.raw {
                if let Some(k) = key.strip_prefix(&prefixed).filter(|k| client::is_client_key(k)) {
                    java.insert(k.to_owned(), Fact { value: value.clone(), from: key.clone() });
                }
            }
        }
        let mut resolved = BTreeMap::new();
        for (key, fact) in java {
            resolved.insert(key, self.transformed(fact)?);
        }
        client::librdkafka(alias, &resolved).map_err(|e| self.invalid(e.to_string()))
    }
}

/// Where `replication.policy.class` (and its separator) make MM2 write a source topic.
pub(crate) fn replication_policy(class: Option<Fact>, separator: Option<Fact>) -> Result<Fact<ReplicationPolicy>, FlowError> {
    let default_separator = || separator.as_ref().map_or(".".to_owned(), |f| f.value.clone());
    let (value, from) = match class.as_ref().map(|f| f.value.trim()) {
        Some(IDENTITY_POLICY) => (ReplicationPolicy::Identity, class.as_ref().map(|c| c.from.clone()).unwrap_or_default()),
        Some(DEFAULT_POLICY) | None => {
            let class_from = class.as_ref().map_or("MM2's default DefaultReplicationPolicy".to_owned(), |c| c.from.clone());
            let from = match &separator {
                Some(s) => format!("{class_from}, {}", s.from),
                None => class_from,
            };
            (ReplicationPolicy::Default { separator: default_separator() }, from)
        }
        Some(other) => {
            return Err(FlowError::UnknownPolicy { class: other.to_owned() });
        }
    };
    Ok(Fact { value, from })
}

/// A list setting, or its default (with where that default comes from).
pub(crate) fn listed(fact: Option<Fact>, default: &str, default_from: &str) -> Fact<Vec<String>> {
    match fact {
        Some(f) => Fact { value: split_list(&f.value), from: f.from },
        None => Fact { value: split_list(default), from: default_from.to_owned() },
    }
}

pub(crate) fn split_list(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

impl Flow {
    /// Where each fact came from, for the plan's report.
    pub fn provenance(&self) -> Vec<(String, String, String)> {
        let mut out = vec![
            ("flow".to_owned(), format!("{}->{}", self.source, self.target), self.enabled_by.clone()),
            ("replicated cluster".to_owned(), self.replicated.bootstrap.value.clone(), self.replicated.bootstrap.from.clone()),
            ("target cluster".to_owned(), self.target_cluster.bootstrap.value.clone(), self.target_cluster.bootstrap.from.clone()),
            ("connector".to_owned(), self.connector.value.clone(), self.connector.from.clone()),
            ("offsets topic".to_owned(), self.offsets_topic.value.clone(), self.offsets_topic.from.clone()),
            ("topics".to_owned(), self.topics.value.join(", "), self.topics.from.clone()),
            ("topics.exclude".to_owned(), self.topics_exclude.value.join(", "), self.topics_exclude.from.clone()),
        ];
        let policy = match &self.replication_policy.value {
            ReplicationPolicy::Identity => "identity".to_owned(),
            ReplicationPolicy::Default { separator } => format!("default (separator {separator:?})"),
        };
        out.push(("replication policy".to_owned(), policy, self.replication_policy.from.clone()));
        for (role, settings) in [("replicated", &self.replicated), ("target", &self.target_cluster)] {
            for (key, from) in &settings.from {
                out.push((format!("{role} {key}"), if crate::kafka::is_secret(key) { "[redacted]".into() } else { settings.value(key) }, from.clone()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> (tempfile::TempDir, Mm2Config) {
        let (dir, path) = crate::testing::file("mm2.properties", text);
        let config = Mm2Config::load(&path).unwrap();
        (dir, config)
    }

    const BASE: &str = "clusters = primary, backup\nprimary.bootstrap.servers = p:9092\nbackup.bootstrap.servers = b:9092\n";

    #[test]
    fn the_only_enabled_flow_and_its_defaults() {
        let (_dir, c) = config(&format!("{BASE}primary->backup.enabled = true\n"));
        let flow = c.flow(None).unwrap();
        assert_eq!((flow.source.as_str(), flow.target.as_str()), ("primary", "backup"));
        assert_eq!(flow.replicated.bootstrap.value, "p:9092");
        assert_eq!(flow.target_cluster.bootstrap.value, "b:9092");
        assert_eq!(flow.offsets_topic.value, "mm2-offsets.primary.internal");
        assert_eq!(flow.topics.value, [".*"]);
        assert_eq!(flow.topics_exclude.value, [".*[\\-\\.]internal", ".*\\.replica", "__.*"]);
        assert_eq!(flow.replication_policy.value, ReplicationPolicy::Default { separator: ".".into() });
    }

    #[test]
    fn flow_keys_win_over_top_level_ones_and_offsets_topic_the_other_way() {
        let (_dir, c) = config(&format!(
            "{BASE}primary->backup.enabled = true\ntopics = a.*\nprimary->backup.topics = orders, pay.*\n\
             replication.policy.class = {IDENTITY_POLICY}\nbackup.offset.storage.topic = per-target\noffset.storage.topic = top\n"
        ));
        let flow = c.flow(Some("primary->backup")).unwrap();
        assert_eq!(flow.topics, Fact { value: vec!["orders".to_owned(), "pay.*".to_owned()], from: "primary->backup.topics".into() });
        assert_eq!(flow.replication_policy.value, ReplicationPolicy::Identity);
        assert_eq!(flow.offsets_topic, Fact { value: "top".into(), from: "offset.storage.topic".into() });
    }

    #[test]
    fn configurations_mm2_would_reject_are_named() {
        let err = |text: &str, flow: Option<&str>| config(text).1.flow(flow).unwrap_err().to_string();
        assert!(err("a.bootstrap.servers = x\n", None).contains("`clusters` is missing"));
        assert!(err(&format!("{BASE}primary->backup.enabled = true\n"), Some("primary->dr")).contains("unknown flow primary->dr: \"dr\" is not in clusters"));
        assert!(err(&format!("{BASE}primary->backup.enabled = false\n"), Some("primary->backup")).contains("is not enabled"));
        assert!(err(BASE, None).contains("no flow is enabled"));
        let both = format!("{BASE}primary->backup.enabled = true\nbackup->primary.enabled = true\n");
        assert!(err(&both, None).contains("several flows are enabled (primary->backup, backup->primary)"), "{}", err(&both, None));
        let missing = "clusters = a, b\na->b.enabled = true\nb.bootstrap.servers = b:1\n";
        assert!(err(missing, None).contains("a.bootstrap.servers"), "{}", err(missing, None));
        let policy = format!("{BASE}primary->backup.enabled = true\nreplication.policy.class = com.example.Mine\n");
        assert!(err(&policy, None).contains("--replication-policy"));
    }
}
