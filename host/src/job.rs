//! Options of the live commands: one schema, the command line's. A TOML job file is just more
//! arguments (as ripgrep reads its config file): each key is a long option, placed before the
//! command line's own, so the command line wins; `--set` and property lists are merged per key.
//! The raw arguments are then resolved once into validated options ([`LiveArgs::resolve`]).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use crate::connect::{ConnectClient, ConnectTarget};
use crate::kafka::{Connection, TopicSetup};
use crate::live::LiveOptions;
use crate::mm2config::{ClientSettings, Flow, Mm2Config};
use crate::model::ReplicationPolicy;

/// The clusters and MM2's flow: the options every command that reads live clusters shares
/// (the offsets commands and `groups`), declared once.
#[derive(Debug, Args, Default, Clone)]
pub struct ClusterArgs {
    /// A TOML job file holding any of the command's options (kebab-case keys; `set` and `*-property` are tables).
    #[arg(long, value_name = "FILE")]
    pub job: Option<PathBuf>,

    /// MirrorMaker 2's own configuration (dedicated mode's mm2.properties): the flow's aliases,
    /// both clusters and their client settings, the offsets topic, topic filter and replication
    /// policy, as MM2 reads them. Explicit flags still win.
    #[arg(long, value_name = "FILE")]
    pub mm2_config: Option<PathBuf>,

    /// A Strimzi KafkaMirrorMaker2 resource (kafka.strimzi.io/v1beta2 or v1) instead of
    /// --mm2-config: connector `<source>-><target>.MirrorSourceConnector`, its offsets topic,
    /// topicsPattern/topicsExcludePattern and replication policy, the clusters' bootstrap servers.
    #[arg(long, value_name = "FILE.yaml", conflicts_with = "mm2_config")]
    pub strimzi: Option<PathBuf>,

    /// The flow of --mm2-config or --strimzi to migrate to [default: the only enabled one].
    #[arg(long, value_name = "SOURCE->TARGET")]
    pub flow: Option<String>,

    /// The REST API of the Kafka Connect cluster where MM2 runs as connectors (Strimzi, a
    /// distributed worker), e.g. http://connect:8083: MM2's offsets are read and written through
    /// Connect's offsets API (Kafka >= 3.6) instead of its offsets topic. Needs --connector.
    #[arg(long, value_name = "URL", requires = "connector", conflicts_with_all = ["mm2_config", "strimzi"])]
    pub connect_url: Option<String>,

    /// The MirrorSourceConnector on --connect-url (Strimzi names it `<source>-><target>.MirrorSourceConnector`).
    #[arg(long, value_name = "NAME", requires = "connect_url")]
    pub connector: Option<String>,

    /// Basic authentication and TLS for --connect-url: basic.auth.user, basic.auth.password,
    /// ssl.ca.location, ssl.certificate.location, ssl.key.location (PEM files); repeatable.
    #[arg(long = "connect-property", value_name = "KEY=VALUE", value_parser = parse_pair, requires = "connect_url")]
    pub connect_properties: Vec<(String, String)>,

    /// Bootstrap servers of the cluster whose data was replicated: the offsets commands check each
    /// offset lies in its log; `groups` reads the groups' commits there.
    #[arg(long, value_name = "HOST:PORT,...")]
    pub replicated_bootstrap: Option<String>,

    /// Bootstrap servers of the cluster holding the old tool's copies, where MM2 will write: the
    /// seam check reads its last records, `groups` writes group offsets and checkpoints there
    /// [default: the target cluster with its properties; for `groups`, the MM2 flow's target].
    #[arg(long, value_name = "HOST:PORT,...")]
    pub data_bootstrap: Option<String>,

    /// The replication policy MM2 will run with, which decides the topic it writes a source topic
    /// to and the seam check reads: `identity` (the same name) or `default` (`<alias>.<topic>`)
    /// [default: identity].
    #[arg(long, value_enum, value_name = "POLICY")]
    pub replication_policy: Option<PolicyName>,

    /// MM2's `replication.policy.separator` for `--replication-policy default` [default: .].
    #[arg(long, value_name = "SEPARATOR")]
    pub replication_policy_separator: Option<String>,

    /// A librdkafka property for every connection (SSL, SASL, ...); repeatable.
    #[arg(short = 'X', long = "property", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub properties: Vec<(String, String)>,

    /// A librdkafka property for the replicated-cluster connection only; repeatable.
    #[arg(long = "replicated-property", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub replicated_properties: Vec<(String, String)>,

    /// A librdkafka property for the data-cluster connection only; repeatable.
    #[arg(long = "data-property", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub data_properties: Vec<(String, String)>,

    /// Longest wait for any one broker operation, in seconds (1..=300) [default: 30]. When a broker
    /// stops answering, the operation in progress fails after at most this long and the command
    /// stops there.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(TIMEOUT_RANGE))]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args, Default, Clone)]
pub struct LiveArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,

    #[command(flatten)]
    pub plugin: PluginArgs,

    /// `run` with --connect-url: stop the connector when it is not stopped (and leave it stopped)
    /// instead of refusing.
    #[arg(long, requires = "connect_url")]
    pub stop_connector: bool,

    /// Bootstrap servers of the cluster holding the old offsets topic.
    #[arg(long, value_name = "HOST:PORT,...")]
    pub source_bootstrap: Option<String>,

    /// The old offsets topic [default: connect-offsets].
    #[arg(long, value_name = "TOPIC", conflicts_with = "source_group")]
    pub source_topic: Option<String>,

    /// Read a consumer group's committed offsets on the source cluster instead of an offsets topic
    /// (MirrorMaker 1, Brooklin; use with the group-to-mm2 plugin).
    #[arg(long, value_name = "GROUP")]
    pub source_group: Option<String>,

    /// Bootstrap servers of the cluster holding MM2's offsets topic [default: the source cluster].
    #[arg(long, value_name = "HOST:PORT,...")]
    pub target_bootstrap: Option<String>,

    /// MM2's offsets topic [default: the topic the plugin writes to, e.g. mm2-offsets.<alias>.internal].
    #[arg(long, value_name = "TOPIC", conflicts_with = "connect_url")]
    pub target_topic: Option<String>,

    /// Where the seam check finds an overlap or a gap: write the proven offset (`seam`; nothing
    /// where no copy exists, so that MM2 copies the partition from its start) or the recorded one
    /// (`recorded`). Without it `run` refuses such partitions; `verify` checks the same choice.
    #[arg(long, value_name = "CHOICE", value_parser = resume_choice())]
    pub resume_at: Option<crate::model::ResumeAt>,

    /// A librdkafka property for the source connection only; repeatable.
    #[arg(long = "source-property", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub source_properties: Vec<(String, String)>,

    /// A librdkafka property for the target connection only; repeatable.
    #[arg(long = "target-property", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub target_properties: Vec<(String, String)>,

    #[command(flatten)]
    pub records: RecordArgs,

    /// Replication factor of the target topic when it is created [default: -1, the broker's default].
    #[arg(long, value_name = "N")]
    pub replication_factor: Option<i32>,

    /// Write even where MM2 already holds a larger offset (MM2 will copy the difference again).
    #[arg(long)]
    pub allow_rewind: bool,

    /// Write even where an offset lies outside the replicated partition's log.
    #[arg(long)]
    pub allow_out_of_range: bool,

    /// Write even where a record for the key already sits in another partition of the target.
    #[arg(long)]
    pub allow_misplaced: bool,

}

/// Records per plugin call unless `--batch-size` says otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 256;
/// MM2's offsets topic's partitions, as MM2 creates it (`offset.storage.partitions`).
pub const DEFAULT_PARTITIONS: u32 = 25;

/// How records go through the plugin and into MM2's offsets topic: the same flags for
/// `translate` and the live commands.
#[derive(Debug, Args, Default, Clone)]
pub struct RecordArgs {
    /// Records per plugin call [default: 256].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch_size: Option<u32>,

    /// Report invalid records (malformed lines, bad keys or values) and go on instead of failing.
    #[arg(long)]
    pub skip_invalid: bool,

    /// Write the tombstones a plugin emits, deleting MM2's offsets (MM2 then copies those
    /// partitions again from auto.offset.reset); refused otherwise.
    #[arg(long)]
    pub allow_delete: bool,

    /// Partitions of MM2's offsets topic [default: 25, as MM2 creates it]: `translate` partitions
    /// the records for it; `run` creates the topic with it when missing (an existing topic's own
    /// count is used).
    #[arg(long, alias = "target-partitions", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub partitions: Option<u32>,
}

impl RecordArgs {
    pub fn batch_size(&self) -> usize {
        self.batch_size.map_or(DEFAULT_BATCH_SIZE, |n| n as usize)
    }

    pub fn partitions(&self) -> u32 {
        self.partitions.unwrap_or(DEFAULT_PARTITIONS)
    }
}

/// `--replication-policy`: MM2's `replication.policy.class`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyName {
    /// IdentityReplicationPolicy: a source topic keeps its name.
    Identity,
    /// DefaultReplicationPolicy: `<source alias><separator><topic>`.
    Default,
}

/// The plugin and its settings: the same options for `translate` and the live commands.
#[derive(Debug, Args, Default, Clone)]
pub struct PluginArgs {
    /// A bundled plugin's name (see `mm2-migrate plugins`) or the path of a .wasm component.
    #[arg(long, value_name = "NAME|PATH.wasm")]
    pub plugin: Option<String>,

    /// A plugin configuration setting; repeat for each key (the last value of a key wins).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub settings: Vec<(String, String)>,
}

impl PluginArgs {
    /// The plugin (required) and its settings, one value per key.
    pub fn resolve(&self) -> Result<(String, Vec<(String, String)>), JobError> {
        let plugin = self.plugin.clone().ok_or_else(|| JobError::Missing("--plugin is required".into()))?;
        Ok((plugin, merge(&self.settings)))
    }
}

/// The seconds `--timeout` accepts: librdkafka's socket timeout is at most 300 s.
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<u64> = 1..=300;

pub(crate) fn parse_pair(s: &str) -> Result<(String, String), String> {
    let (key, value) = s.split_once('=').ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(format!("empty key in {s:?}"));
    }
    Ok((key.to_owned(), value.to_owned()))
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("cannot read job file {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("job file {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("job file {}: unknown option `{key}` (a job file's keys are the command's long options, e.g. source-bootstrap)", path.display())]
    UnknownKey { path: PathBuf, key: String },
    #[error(transparent)]
    Mm2Config(#[from] crate::mm2config::Mm2ConfigError),
    #[error(transparent)]
    Connect(#[from] crate::connect::ConnectError),
    #[error("{0}")]
    Missing(String),
    #[error("{0}")]
    Invalid(String),
}

/// The resolved options of a live command.
#[derive(Debug, Clone)]
pub struct Job {
    pub plugin: String,
    pub settings: Vec<(String, String)>,
    pub live: LiveOptions,
}

/// `KEY=VALUE` pairs, the later winning per key (a job file's come first).
fn merge(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs.iter().cloned().collect::<BTreeMap<_, _>>().into_iter().collect()
}

/// A job file as arguments: `key = "v"` is `--key v`, `key = true` is `--key`, and a table
/// `[key]` is `--key k=v` per entry. `known` holds the command's long options.
pub fn job_arguments(path: &Path, known: &[String]) -> Result<Vec<OsString>, JobError> {
    let text = std::fs::read_to_string(path).map_err(|source| JobError::Read { path: path.to_owned(), source })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| JobError::Parse { path: path.to_owned(), message: e.to_string() })?;
    let mut args = Vec::new();
    for (key, value) in table {
        if key == "job" || !known.contains(&key) {
            return Err(JobError::UnknownKey { path: path.to_owned(), key });
        }
        let option = format!("--{key}");
        let scalar = |value: &toml::Value| match value {
            toml::Value::String(s) => Ok(s.clone()),
            toml::Value::Integer(n) => Ok(n.to_string()),
            toml::Value::Float(n) => Ok(n.to_string()),
            toml::Value::Boolean(b) => Ok(b.to_string()),
            other => Err(JobError::Parse { path: path.to_owned(), message: format!("{key}: unsupported value {other}") }),
        };
        match &value {
            toml::Value::Boolean(true) => args.push(option.into()),
            toml::Value::Boolean(false) => {}
            toml::Value::Table(pairs) => {
                for (k, v) in pairs {
                    args.extend([option.clone().into(), format!("{k}={}", scalar(v)?).into()]);
                }
            }
            other => args.extend([option.into(), scalar(other)?.into()]),
        }
    }
    Ok(args)
}

/// The resolved [`ClusterArgs`]: MM2's flow (from its file, Strimzi resource or connector), the
/// Connect worker, the replication policy, and what every connection shares.
#[derive(Debug, Clone)]
pub struct Clusters {
    pub flow: Option<Flow>,
    /// `--connect-url` and `--connector`.
    pub connect: Option<(ConnectClient, String)>,
    pub replication_policy: ReplicationPolicy,
    pub timeout: Duration,
    /// `-X`: properties of every connection.
    common: Vec<(String, String)>,
}

impl Clusters {
    /// A connection: the MM2 file's client settings first, then `-X`, then the role's own
    /// properties, each winning per key.
    pub fn connection(
        &self,
        role: &'static str,
        bootstrap: String,
        file: Option<&ClientSettings>,
        own: &[(String, String)],
    ) -> Result<Connection, JobError> {
        let own = merge(own);
        if let Some(file) = file {
            let given = |key: &str| self.common.iter().chain(&own).any(|(k, _)| k == key);
            if let Some(u) = file.unsupported.iter().find(|u| !u.replaced_by.iter().any(|k| given(k))) {
                return Err(JobError::Invalid(format!(
                    "{role} cluster: {} in the MM2 configuration: {}; give it with --{role}-property {}=...",
                    u.key,
                    u.reason,
                    u.replaced_by.join("=... or ")
                )));
            }
        }
        let file = file.map(|f| f.properties.clone()).unwrap_or_default();
        Ok(Connection::new(role, bootstrap, file.into_iter().chain(self.common.iter().cloned()).chain(own).collect(), self.timeout))
    }
}

/// The data cluster when `--data-bootstrap` is not given: a bootstrap, its MM2 client settings
/// and its own properties.
pub type DataFallback<'a> = (String, Option<&'a ClientSettings>, &'a [(String, String)]);

impl ClusterArgs {
    /// Reads MM2's configuration (file, Strimzi resource, or the connector's own on Connect) and
    /// resolves the replication policy: explicit flags win over the configuration.
    pub fn resolve(&self) -> Result<Clusters, JobError> {
        let timeout = Duration::from_secs(self.timeout.unwrap_or(30));
        let connect = match (&self.connect_url, &self.connector) {
            (Some(url), Some(connector)) => Some((ConnectClient::new(url, &merge(&self.connect_properties), timeout)?, connector.clone())),
            _ => None,
        };
        let flow = match (&self.mm2_config, &self.strimzi, &connect) {
            (Some(path), _, _) => Some(Mm2Config::load(path)?.flow(self.flow.as_deref())?),
            (None, Some(path), _) => Some(crate::mm2config::strimzi::flow(path, self.flow.as_deref())?),
            (None, None, _) if self.flow.is_some() => {
                return Err(JobError::Invalid("--flow names a flow of --mm2-config or --strimzi".into()));
            }
            (None, None, Some((client, connector))) => {
                let target = ConnectTarget { client: client.clone(), connector: connector.clone(), stop_connector: false };
                Some(target.flow()?)
            }
            (None, None, None) => None,
        };
        let from_file = flow.as_ref().map(|f| f.replication_policy.value.clone());
        let name = match (self.replication_policy, &from_file) {
            (Some(name), _) => name,
            (None, Some(ReplicationPolicy::Default { .. })) => PolicyName::Default,
            (None, _) => PolicyName::Identity,
        };
        let replication_policy = match (name, &self.replication_policy_separator) {
            (PolicyName::Identity, Some(_)) => {
                return Err(JobError::Invalid("--replication-policy-separator applies to --replication-policy default only".into()));
            }
            (PolicyName::Identity, None) => ReplicationPolicy::Identity,
            (PolicyName::Default, Some(s)) if s.is_empty() => {
                return Err(JobError::Invalid("--replication-policy-separator must not be empty".into()));
            }
            (PolicyName::Default, Some(s)) => ReplicationPolicy::Default { separator: s.clone() },
            (PolicyName::Default, None) => match from_file {
                Some(ReplicationPolicy::Default { separator }) => ReplicationPolicy::Default { separator },
                _ => ReplicationPolicy::Default { separator: ".".to_owned() },
            },
        };
        Ok(Clusters { flow, connect, replication_policy, timeout, common: merge(&self.properties) })
    }

    /// The replicated cluster: `--replicated-bootstrap`, else the flow's source cluster.
    pub fn replicated(&self, clusters: &Clusters) -> Result<Option<Connection>, JobError> {
        let file = clusters.flow.as_ref().map(|f| &f.replicated);
        match (self.replicated_bootstrap.clone(), file) {
            (Some(bootstrap), file) => Ok(Some(clusters.connection("replicated", bootstrap, file, &self.replicated_properties)?)),
            (None, Some(file)) => {
                Ok(Some(clusters.connection("replicated", file.bootstrap.value.clone(), Some(file), &self.replicated_properties)?))
            }
            (None, None) => Ok(None),
        }
    }

    /// The data cluster: `--data-bootstrap`, else `fallback` (a bootstrap, its MM2 client
    /// settings and its own properties), with `--data-property` last.
    pub fn data(
        &self,
        clusters: &Clusters,
        fallback: Option<DataFallback<'_>>,
    ) -> Result<Option<Connection>, JobError> {
        match (&self.data_bootstrap, fallback) {
            (Some(bootstrap), _) => Ok(Some(clusters.connection("data", bootstrap.clone(), None, &self.data_properties)?)),
            (None, Some((bootstrap, file, own))) => {
                let own: Vec<(String, String)> = own.iter().chain(&self.data_properties).cloned().collect();
                Ok(Some(clusters.connection("data", bootstrap, file, &own)?))
            }
            (None, None) => Ok(None),
        }
    }
}

impl LiveArgs {
    /// Applies the defaults and validates: the options every live command runs with.
    pub fn resolve(&self) -> Result<Job, JobError> {
        let (plugin, settings) = self.plugin.resolve()?;
        let source_bootstrap =
            self.source_bootstrap.clone().ok_or_else(|| JobError::Missing("--source-bootstrap is required".into()))?;
        let clusters = self.cluster.resolve()?;
        let connect = clusters.connect.clone().map(|(client, connector)| ConnectTarget {
            client,
            connector,
            stop_connector: self.stop_connector,
        });
        let flow = clusters.flow.clone();
        let target_file = flow.as_ref().map(|f| &f.target_cluster);
        let target_bootstrap = self
            .target_bootstrap
            .clone()
            .or_else(|| target_file.map(|t| t.bootstrap.value.clone()))
            .unwrap_or_else(|| source_bootstrap.clone());
        let target = clusters.connection("target", target_bootstrap.clone(), target_file, &self.target_properties)?;
        let data = self
            .cluster
            .data(&clusters, Some((target_bootstrap, target_file, &self.target_properties)))?
            .expect("a fallback gives a data cluster");
        let live = LiveOptions {
            source: clusters.connection("source", source_bootstrap, None, &self.source_properties)?,
            source_topic: self.source_topic.clone().unwrap_or_else(|| "connect-offsets".to_owned()),
            source_group: self.source_group.clone(),
            target,
            // Through Connect there is no topic to name: Connect writes the connector's offsets.
            target_topic: match &connect {
                Some(_) => None,
                None => self.target_topic.clone().or_else(|| flow.as_ref().map(|f| f.offsets_topic.value.clone())),
            },
            connect,
            replicated: self.cluster.replicated(&clusters)?,
            data,
            replication_policy: clusters.replication_policy,
            seam_unavailable: None,
            batch_size: self.records.batch_size(),
            skip_invalid: self.records.skip_invalid,
            setup: TopicSetup {
                create: true,
                partitions: self.records.partitions(),
                replication_factor: self.replication_factor.unwrap_or(-1),
                check_compaction: true,
            },
            overrides: crate::plan::Overrides {
                rewind: self.allow_rewind,
                out_of_range: self.allow_out_of_range,
                misplaced: self.allow_misplaced,
                delete: self.records.allow_delete,
                resume_at: self.resume_at,
            },
            mm2_flow: flow,
        };
        Ok(Job { plugin, settings, live })
    }
}

/// The options of `groups plan|run|verify`: the clusters, and which groups.
#[derive(Debug, Args, Default, Clone)]
pub struct GroupsArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,

    /// The consumer groups to translate: a whole-name regular expression, as MM2's `groups`;
    /// repeatable [default: the flow's groups and groups.exclude, else every group but
    /// console-consumer-.*, connect-.* and __.*].
    #[arg(long = "group", value_name = "REGEX")]
    pub groups: Vec<String>,

    /// The source cluster's alias in MM2, which names the checkpoints topic
    /// (`<alias>.checkpoints.internal`) and, with --replication-policy default, the data topics
    /// [default: the flow's source alias].
    #[arg(long, value_name = "ALIAS")]
    pub source_alias: Option<String>,

    /// Leave out the groups with members on the data cluster instead of refusing.
    #[arg(long)]
    pub skip_active: bool,

    /// Write even where the translated offset is below the group's current offset or checkpoint
    /// on the data cluster (its consumers read those records again).
    #[arg(long)]
    pub allow_rewind: bool,

    /// Write group offsets only, not MM2's checkpoints.
    #[arg(long)]
    pub no_checkpoints: bool,
}

impl GroupsArgs {
    /// The validated options of the groups commands.
    pub fn resolve(&self) -> Result<crate::groups::GroupsOptions, JobError> {
        let clusters = self.cluster.resolve()?;
        let replicated = self.cluster.replicated(&clusters)?.ok_or_else(|| {
            JobError::Missing(
                "the cluster where the groups commit is unknown: give --replicated-bootstrap, or --mm2-config / --strimzi / \
                 --connect-url"
                    .into(),
            )
        })?;
        let target = clusters.flow.as_ref().map(|f| (f.target_cluster.bootstrap.value.clone(), Some(&f.target_cluster), &[][..]));
        let data = self.cluster.data(&clusters, target)?.ok_or_else(|| {
            JobError::Missing(
                "the cluster holding the copies is unknown: give --data-bootstrap, or --mm2-config / --strimzi / --connect-url"
                    .into(),
            )
        })?;
        if let Some(alias) = &self.source_alias
            && alias.trim().is_empty()
        {
            return Err(JobError::Invalid("--source-alias must not be empty".into()));
        }
        Ok(crate::groups::GroupsOptions {
            replicated,
            data,
            policy: clusters.replication_policy,
            source_alias: self.source_alias.clone().or_else(|| clusters.flow.as_ref().map(|f| f.source.clone())),
            flow: clusters.flow,
            patterns: self.groups.clone(),
            skip_active: self.skip_active,
            allow_rewind: self.allow_rewind,
            checkpoints: !self.no_checkpoints,
        })
    }
}

/// `--resume-at`'s values, listed in the help as clap lists an enum's.
fn resume_choice() -> impl clap::builder::TypedValueParser<Value = crate::model::ResumeAt> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(crate::model::ResumeAt::NAMES).try_map(|s| s.parse::<crate::model::ResumeAt>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_and_source_are_required() {
        assert!(LiveArgs::default().resolve().unwrap_err().to_string().contains("--plugin"));
        let args = LiveArgs { plugin: PluginArgs { plugin: Some("p".into()), ..PluginArgs::default() }, ..LiveArgs::default() };
        assert!(args.resolve().unwrap_err().to_string().contains("--source-bootstrap"));
    }

    #[test]
    fn a_job_file_becomes_arguments() {
        let (_dir, path) = crate::testing::file("job.toml", "plugin = \"p\"\ntimeout = 5\nallow-rewind = true\nskip-invalid = false\n[set]\n\"a.b\" = \"c\"\n");
        let known: Vec<String> = ["plugin", "timeout", "allow-rewind", "skip-invalid", "set"].map(String::from).to_vec();
        let args: Vec<String> = job_arguments(&path, &known).unwrap().into_iter().map(|a| a.into_string().unwrap()).collect();
        assert_eq!(args, ["--allow-rewind", "--plugin", "p", "--set", "a.b=c", "--timeout", "5"]);
        let err = job_arguments(&path, &known[1..]).unwrap_err().to_string();
        assert!(err.contains("unknown option `plugin`"), "{err}");
    }
}
