//! The consumer-groups commands' options and their resolution.

use clap::Args;

use super::{ClusterArgs, JobError};
use crate::kafka::Connection;
use crate::mm2config::Flow;
use crate::model::ReplicationPolicy;

/// Which consumer groups and how they are written: the groups commands' and `cutover`'s.
#[derive(Debug, Args, Default, Clone)]
pub struct GroupSelectionArgs {
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

    /// Write group offsets only, not MM2's checkpoints.
    #[arg(long)]
    pub no_checkpoints: bool,
}

impl GroupSelectionArgs {
    /// The groups options over the clusters a command resolved (`allow_rewind`: the command's
    /// `--allow-rewind`). No I/O.
    pub fn options(
        &self,
        replicated: Connection,
        data: Connection,
        policy: &ReplicationPolicy,
        flow: Option<&Flow>,
        allow_rewind: bool,
    ) -> Result<crate::groups::GroupsOptions, JobError> {
        if let Some(alias) = &self.source_alias
            && alias.trim().is_empty()
        {
            return Err(JobError::Invalid("--source-alias must not be empty".into()));
        }
        Ok(crate::groups::GroupsOptions {
            replicated,
            data,
            policy: policy.clone(),
            source_alias: self.source_alias.clone().or_else(|| flow.map(|f| f.source.clone())),
            flow: flow.cloned(),
            patterns: self.groups.clone(),
            skip_active: self.skip_active,
            allow_rewind,
            checkpoints: !self.no_checkpoints,
        })
    }
}

/// The options of `groups plan|run|verify`: the clusters, and which groups.
#[derive(Debug, Args, Default, Clone)]
pub struct GroupsArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,

    #[command(flatten)]
    pub selection: GroupSelectionArgs,

    /// Write even where the translated offset is below the group's current offset or checkpoint
    /// on the data cluster (its consumers read those records again).
    #[arg(long)]
    pub allow_rewind: bool,
}

impl GroupsArgs {
    /// The validated options of the groups commands, with what discovery found. No I/O.
    pub fn resolve(&self, discovered: super::Discovered) -> Result<crate::groups::GroupsOptions, JobError> {
        let clusters = self.cluster.resolve(discovered)?;
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
        self.selection.options(replicated, data, &clusters.replication_policy, clusters.flow.as_ref(), self.allow_rewind)
    }
}
