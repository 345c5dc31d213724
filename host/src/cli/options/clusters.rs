//! The clusters and MM2's flow, declared once for every command that reads live clusters.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::connect::{ConnectClient, ConnectTarget};
use crate::kafka::Connection;
use crate::mm2config::{ClientSettings, Flow, Mm2Config};
use crate::model::ReplicationPolicy;

use super::{JobError, PolicyName, TIMEOUT_RANGE, merge, parse_pair};

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

    /// Basic authentication and TLS for --connect-url: basic.auth.user, basic.auth.password
    /// (https:// only, unless basic.auth.allow.http=true), ssl.ca.location,
    /// ssl.certificate.location, ssl.key.location (PEM files); repeatable.
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
pub(super) type DataFallback<'a> = (String, Option<&'a ClientSettings>, &'a [(String, String)]);

/// What a command learns before its options can be resolved: MM2's flow, read from its file, its
/// Strimzi resource, or asked of the Connect worker (a network call), and the worker's client.
/// An explicit step of each command ([`ClusterArgs::discover`]), so that resolving stays pure.
#[derive(Debug, Clone, Default)]
pub struct Discovered {
    pub flow: Option<Flow>,
    /// `--connect-url` and `--connector`.
    pub connect: Option<(ConnectClient, String)>,
}

impl ClusterArgs {
    /// Reads MM2's configuration: its file, its Strimzi resource, or the connector's own
    /// configuration on the Connect worker.
    pub fn discover(&self) -> Result<Discovered, JobError> {
        let timeout = self.timeout();
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
        Ok(Discovered { flow, connect })
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout.unwrap_or(30))
    }

    /// Resolves the replication policy with what [`Self::discover`] found (explicit flags win
    /// over the configuration); no I/O.
    pub fn resolve(&self, discovered: Discovered) -> Result<Clusters, JobError> {
        let Discovered { flow, connect } = discovered;
        let timeout = self.timeout();
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
