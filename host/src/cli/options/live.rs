//! The offsets commands' options (`plan`, `run`, `verify`) and their resolution.


use clap::Args;

use crate::connect::ConnectTarget;
use crate::target::{OffsetsTopic, Target};
use crate::kafka::TopicSetup;
use crate::live::LiveOptions;

use super::{ClusterArgs, Job, JobError, merge, parse_pair};

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
        self.batch_size.map_or(crate::model::DEFAULT_BATCH_SIZE, |n| n as usize)
    }

    pub fn partitions(&self) -> u32 {
        self.partitions.unwrap_or(crate::model::DEFAULT_PARTITIONS)
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

impl LiveArgs {
    /// Applies the defaults and validates, with what discovery found: the options every live
    /// command runs with. No I/O.
    pub fn resolve(&self, discovered: super::Discovered) -> Result<Job, JobError> {
        let (plugin, settings) = self.plugin.resolve()?;
        let source_bootstrap =
            self.source_bootstrap.clone().ok_or_else(|| JobError::Missing("--source-bootstrap is required".into()))?;
        let clusters = self.cluster.resolve(discovered)?;
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
        let target = match connect {
            // Through Connect there is no topic to name: Connect writes the connector's offsets.
            Some(connect) => Target::Connect(connect),
            None => Target::Topic(OffsetsTopic {
                connection: target,
                named: self.target_topic.clone().or_else(|| flow.as_ref().map(|f| f.offsets_topic.value.clone())),
                setup: TopicSetup {
                    create: true,
                    partitions: self.records.partitions(),
                    replication_factor: self.replication_factor.unwrap_or(-1),
                    check_compaction: true,
                },
            }),
        };
        let source = clusters.connection("source", source_bootstrap, None, &self.source_properties)?;
        let live = LiveOptions {
            source_topic: self.source_topic.clone().unwrap_or_else(|| crate::live::DEFAULT_SOURCE_TOPIC.to_owned()),
            source_group: self.source_group.clone(),
            replicated: self.cluster.replicated(&clusters)?,
            replication_policy: clusters.replication_policy,
            batch_size: self.records.batch_size(),
            skip_invalid: self.records.skip_invalid,
            overrides: crate::plan::Overrides {
                rewind: self.allow_rewind,
                out_of_range: self.allow_out_of_range,
                misplaced: self.allow_misplaced,
                delete: self.records.allow_delete,
                resume_at: self.resume_at,
            },
            mm2_flow: flow,
            ..LiveOptions::new(source, target, data)
        };
        Ok(Job { plugin, settings, live })
    }
}

/// `--resume-at`'s values, listed in the help as clap lists an enum's.
fn resume_choice() -> impl clap::builder::TypedValueParser<Value = crate::model::ResumeAt> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(crate::model::ResumeAt::NAMES).try_map(|s| s.parse::<crate::model::ResumeAt>())
}
