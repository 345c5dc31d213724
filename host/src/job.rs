//! Options of the live commands, from the command line and an optional TOML job file.
//! A command-line value wins over the job file; `--set` and property lists are merged per key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Deserialize;

use crate::kafka::{Connection, TopicSetup};
use crate::live::LiveOptions;

#[derive(Debug, Args, Default, Clone)]
pub struct LiveArgs {
    /// A TOML job file holding any of these options (kebab-case keys; `set` and `*-property` are tables).
    #[arg(long, value_name = "FILE")]
    pub job: Option<PathBuf>,

    /// A bundled plugin's name (see `mm2-migrate plugins`) or the path of a .wasm component.
    #[arg(long, value_name = "NAME|PATH.wasm")]
    pub plugin: Option<String>,

    /// A plugin configuration setting; repeat for each key.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub settings: Vec<(String, String)>,

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
    #[arg(long, value_name = "TOPIC")]
    pub target_topic: Option<String>,

    /// Bootstrap servers of the cluster whose data was replicated, to check each offset lies in its log.
    #[arg(long, value_name = "HOST:PORT,...")]
    pub replicated_bootstrap: Option<String>,

    /// A librdkafka property for every connection (SSL, SASL, ...); repeatable.
    #[arg(short = 'X', long = "property", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub properties: Vec<(String, String)>,

    /// A librdkafka property for the source connection only; repeatable.
    #[arg(long = "source-property", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub source_properties: Vec<(String, String)>,

    /// A librdkafka property for the target connection only; repeatable.
    #[arg(long = "target-property", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub target_properties: Vec<(String, String)>,

    /// A librdkafka property for the replicated-cluster connection only; repeatable.
    #[arg(long = "replicated-property", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub replicated_properties: Vec<(String, String)>,

    /// Longest wait for any one broker operation, in seconds (1..=300) [default: 30]. When a broker
    /// stops answering, the operation in progress fails after at most this long and the command
    /// stops there.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(TIMEOUT_RANGE))]
    pub timeout: Option<u64>,

    /// Records per plugin call [default: 256].
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,

    /// Report invalid records and go on instead of failing.
    #[arg(long)]
    pub skip_invalid: bool,

    /// Partitions of the target topic when it is created [default: 25, as MM2].
    #[arg(long, value_name = "N")]
    pub partitions: Option<i32>,

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

    /// Write the tombstones a plugin emits, deleting MM2's offsets (MM2 then copies those
    /// partitions again from auto.offset.reset).
    #[arg(long)]
    pub allow_delete: bool,
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

/// The job file: the same options, by their long names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct JobFile {
    plugin: Option<String>,
    #[serde(default)]
    set: BTreeMap<String, String>,
    source_bootstrap: Option<String>,
    source_topic: Option<String>,
    source_group: Option<String>,
    target_bootstrap: Option<String>,
    target_topic: Option<String>,
    replicated_bootstrap: Option<String>,
    #[serde(default)]
    property: BTreeMap<String, String>,
    #[serde(default)]
    source_property: BTreeMap<String, String>,
    #[serde(default)]
    target_property: BTreeMap<String, String>,
    #[serde(default)]
    replicated_property: BTreeMap<String, String>,
    timeout: Option<u64>,
    batch_size: Option<usize>,
    skip_invalid: Option<bool>,
    partitions: Option<i32>,
    replication_factor: Option<i32>,
    allow_rewind: Option<bool>,
    allow_out_of_range: Option<bool>,
    allow_misplaced: Option<bool>,
    allow_delete: Option<bool>,
    /// `text` or `json`.
    output: Option<String>,
    /// `run` only: keep forwarding after the migration.
    follow: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("cannot read job file {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("job file {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Missing(String),
    #[error("{0}")]
    Invalid(String),
}

/// The merged options of a live command.
#[derive(Debug, Clone)]
pub struct Job {
    pub plugin: String,
    pub settings: Vec<(String, String)>,
    pub live: LiveOptions,
    /// `output` from the job file (the command line's `--output` wins).
    pub output: Option<String>,
    /// `follow` from the job file (or `--follow`).
    pub follow: bool,
}

fn merge(file: BTreeMap<String, String>, cli: &[(String, String)]) -> Vec<(String, String)> {
    let mut merged = file;
    for (k, v) in cli {
        merged.insert(k.clone(), v.clone());
    }
    merged.into_iter().collect()
}

fn load(path: &Path) -> Result<JobFile, JobError> {
    let text = std::fs::read_to_string(path).map_err(|source| JobError::Read { path: path.to_owned(), source })?;
    toml::from_str(&text).map_err(|e| JobError::Parse { path: path.to_owned(), message: e.to_string() })
}

impl LiveArgs {
    /// Merges the job file (if any) under the command line and applies the defaults.
    pub fn resolve(&self) -> Result<Job, JobError> {
        let file = match &self.job {
            Some(path) => load(path)?,
            None => JobFile::default(),
        };
        let plugin = self.plugin.clone().or(file.plugin).ok_or_else(|| JobError::Missing("--plugin is required".into()))?;
        let source_bootstrap = self
            .source_bootstrap
            .clone()
            .or(file.source_bootstrap)
            .ok_or_else(|| JobError::Missing("--source-bootstrap is required".into()))?;
        let target_bootstrap = self.target_bootstrap.clone().or(file.target_bootstrap).unwrap_or_else(|| source_bootstrap.clone());
        let replicated_bootstrap = self.replicated_bootstrap.clone().or(file.replicated_bootstrap);
        let timeout = self.timeout.or(file.timeout).unwrap_or(30);
        if !TIMEOUT_RANGE.contains(&timeout) {
            return Err(JobError::Invalid(format!("job file: timeout must be 1..=300 seconds, not {timeout}")));
        }
        let timeout = Duration::from_secs(timeout);
        let common = merge(file.property, &self.properties);
        let connection = |role: &'static str, bootstrap: String, own: Vec<(String, String)>| {
            Connection::new(role, bootstrap, common.iter().cloned().chain(own).collect(), timeout)
        };
        let live = LiveOptions {
            source: connection("source", source_bootstrap, merge(file.source_property, &self.source_properties)),
            source_topic: self.source_topic.clone().or(file.source_topic).unwrap_or_else(|| "connect-offsets".to_owned()),
            source_group: self.source_group.clone().or(file.source_group),
            target: connection("target", target_bootstrap, merge(file.target_property, &self.target_properties)),
            target_topic: self.target_topic.clone().or(file.target_topic),
            replicated: replicated_bootstrap
                .map(|b| connection("replicated", b, merge(file.replicated_property, &self.replicated_properties))),
            batch_size: self.batch_size.or(file.batch_size).unwrap_or(256).max(1),
            skip_invalid: self.skip_invalid || file.skip_invalid.unwrap_or(false),
            setup: TopicSetup {
                create: true,
                partitions: self.partitions.or(file.partitions).unwrap_or(25),
                replication_factor: self.replication_factor.or(file.replication_factor).unwrap_or(-1),
                check_compaction: true,
            },
            overrides: crate::plan::Overrides {
                rewind: self.allow_rewind || file.allow_rewind.unwrap_or(false),
                out_of_range: self.allow_out_of_range || file.allow_out_of_range.unwrap_or(false),
                misplaced: self.allow_misplaced || file.allow_misplaced.unwrap_or(false),
                delete: self.allow_delete || file.allow_delete.unwrap_or(false),
            },
        };
        if let Some(output) = file.output.as_deref().filter(|o| !matches!(*o, "text" | "json")) {
            return Err(JobError::Invalid(format!("job file: output must be \"text\" or \"json\", not {output:?}")));
        }
        Ok(Job { plugin, settings: merge(file.set, &self.settings), live, output: file.output, follow: file.follow.unwrap_or(false) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_wins_over_the_job_file_and_defaults_apply() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.toml");
        std::fs::write(
            &path,
            r#"
plugin = "replicator-to-mm2"
source-bootstrap = "a:9092"
target-topic = "t"
timeout = 5
output = "json"
follow = true
[set]
"source.cluster.alias" = "file"
"offset.semantics" = "next"
[property]
"security.protocol" = "SSL"
"#,
        )
        .unwrap();
        let args = LiveArgs {
            job: Some(path),
            settings: vec![("source.cluster.alias".into(), "cli".into())],
            target_bootstrap: Some("b:9092".into()),
            ..LiveArgs::default()
        };
        let job = args.resolve().unwrap();
        assert_eq!(job.plugin, "replicator-to-mm2");
        assert_eq!(
            job.settings,
            [("offset.semantics".to_owned(), "next".to_owned()), ("source.cluster.alias".to_owned(), "cli".to_owned())]
        );
        assert_eq!(job.live.source.bootstrap, "a:9092");
        assert_eq!(job.live.target.bootstrap, "b:9092");
        assert_eq!(job.live.source_topic, "connect-offsets");
        assert_eq!(job.live.target_topic.as_deref(), Some("t"));
        assert_eq!(job.live.source.timeout, Duration::from_secs(5));
        assert_eq!(job.live.target.properties, [("security.protocol".to_owned(), "SSL".to_owned())]);
        assert_eq!(job.live.setup.partitions, 25);
        assert!(job.live.replicated.is_none());
        assert_eq!(job.output.as_deref(), Some("json"));
        assert!(job.follow);
    }

    #[test]
    fn unknown_job_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.toml");
        std::fs::write(&path, "plugin = \"x\"\nsource-bootstrapp = \"a\"\n").unwrap();
        let err = LiveArgs { job: Some(path), ..LiveArgs::default() }.resolve().unwrap_err().to_string();
        assert!(err.contains("unknown field `source-bootstrapp`"), "{err}");
    }

    #[test]
    fn the_timeout_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.toml");
        std::fs::write(&path, "plugin = \"x\"\nsource-bootstrap = \"a\"\ntimeout = 301\n").unwrap();
        let err = LiveArgs { job: Some(path), ..LiveArgs::default() }.resolve().unwrap_err().to_string();
        assert!(err.contains("1..=300"), "{err}");
    }

    #[test]
    fn plugin_and_source_are_required() {
        assert!(LiveArgs::default().resolve().unwrap_err().to_string().contains("--plugin"));
        let args = LiveArgs { plugin: Some("p".into()), ..LiveArgs::default() };
        assert!(args.resolve().unwrap_err().to_string().contains("--source-bootstrap"));
    }
}
