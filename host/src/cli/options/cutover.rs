//! `cutover`'s own options (the old tool's control, the journal, the watch) and their
//! resolution over the live options `run` takes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use super::{GroupSelectionArgs, JobError, LiveArgs, merge, parse_pair};
use crate::connect::{ConnectClient, ConnectTarget};
use crate::cutover::{CutoverOptions, OldTool};
use crate::live::LiveOptions;
use crate::model::ResumeAt;
use crate::target::Target;

/// Seconds between the two readings of the old tool's progress, by default.
const DEFAULT_SETTLE_SECS: u64 = 5;
/// Seconds the watch waits for MM2's copies, by default.
const DEFAULT_WATCH_SECS: u64 = 120;

/// The journal and the watch: `cutover`'s, and `verify --after-resume`'s.
#[derive(Debug, Args, Default, Clone)]
pub struct WatchArgs {
    /// The cut-over's state file (its journal) [cutover's default: beside the job file,
    /// JOB.cutover.json]; `verify --after-resume` takes the resume points from it.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// How long the watch waits for MM2's first copies after the seam [default: 120; verify
    /// --after-resume: 0, what is there].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub watch_timeout: Option<u64>,
}

/// `cutover`: the options `run` takes, and the old tool's control.
#[derive(Debug, Args, Default, Clone)]
pub struct CutoverArgs {
    #[command(flatten)]
    pub live: LiveArgs,

    #[command(flatten)]
    pub watch: WatchArgs,

    /// The old tool is a connector on this Connect REST API [default: --connect-url, the new
    /// MM2's worker].
    #[arg(long, value_name = "URL", requires = "old_connector")]
    pub old_connect_url: Option<String>,

    /// The old tool's connector (Confluent Replicator, Mirus, an MM2 under another alias): the
    /// cut-over stops it (`PUT .../stop`; pause on workers before Kafka 3.5).
    #[arg(long, value_name = "NAME", conflicts_with = "old_stopped")]
    pub old_connector: Option<String>,

    /// A --connect-property for the old tool's worker; repeatable [default: --connect-property
    /// when it is the same worker].
    #[arg(long = "old-connect-property", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub old_connect_properties: Vec<(String, String)>,

    /// The old tool is not a connector (MirrorMaker 1, uReplicator, a dedicated-mode MM2) and the
    /// operator has stopped it; its progress is still read twice and must not move.
    #[arg(long)]
    pub old_stopped: bool,

    /// Translate the consumer groups too, as `groups run` does (the flow's groups, or --group);
    /// --group implies it. --allow-rewind applies to them as to the offsets.
    #[arg(long = "groups")]
    pub translate_groups: bool,

    #[command(flatten)]
    pub group_selection: GroupSelectionArgs,

    /// Seconds between the two readings of the old tool's progress [default: 5].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub settle: Option<u64>,

    /// Dedicated mode: MM2 has been started (instead of waiting for its first copy).
    #[arg(long)]
    pub mm2_started: bool,

    /// Print the steps and what each would do; change nothing.
    #[arg(long, conflicts_with = "rollback")]
    pub dry_run: bool,

    /// Resume the old connector this cut-over stopped, when MM2's offsets were not written;
    /// MM2 is left untouched.
    #[arg(long)]
    pub rollback: bool,
}

impl CutoverArgs {
    /// The cut-over's options over `live` (resolved by [`LiveArgs::resolve`]). No I/O.
    pub fn resolve(&self, mut live: LiveOptions) -> Result<CutoverOptions, JobError> {
        if self.live.stop_connector {
            return Err(JobError::Invalid(
                "--stop-connector: a cut-over never stops MM2's connector; MM2's connector must be STOPPED before it starts \
                 (create it with \"initial_state\": \"STOPPED\")"
                    .into(),
            ));
        }
        let old = match (&self.old_connector, self.old_stopped) {
            (Some(connector), false) => {
                let url = self.old_connect_url.clone().or_else(|| self.live.cluster.connect_url.clone()).ok_or_else(|| {
                    JobError::Missing("--old-connector needs the worker it runs on: --old-connect-url (or --connect-url)".into())
                })?;
                let same_worker = self.live.cluster.connect_url.as_deref() == Some(url.as_str());
                let properties = match (self.old_connect_properties.is_empty(), same_worker) {
                    (true, true) => merge(&self.live.cluster.connect_properties),
                    _ => merge(&self.old_connect_properties),
                };
                if same_worker && self.live.cluster.connector.as_deref() == Some(connector.as_str()) {
                    return Err(JobError::Invalid(format!("--old-connector {connector:?} is MM2's own connector (--connector)")));
                }
                let client = ConnectClient::new(&url, &properties, live.source.timeout)?;
                OldTool::Connector(ConnectTarget { client, connector: connector.clone(), stop_connector: true })
            }
            (None, true) => OldTool::Stopped,
            _ => {
                return Err(JobError::Missing(
                    "say how the old tool stops: --old-connector NAME (a connector the cut-over stops), or --old-stopped (you \
                     stopped it)"
                        .into(),
                ));
            }
        };
        if live.replicated.is_none() {
            return Err(JobError::Missing(
                "a cut-over proves where MM2 resumes from the replicated cluster: give --replicated-bootstrap, or MM2's \
                 configuration (--mm2-config, --strimzi, --connect-url)"
                    .into(),
            ));
        }
        let state = match (&self.watch.state, &self.live.cluster.job) {
            (Some(state), _) => state.clone(),
            (None, Some(job)) => default_state(job),
            (None, None) => return Err(JobError::Missing("--state FILE: where the cut-over journals its steps (default beside --job)".into())),
        };
        // The tool itself stops the old tool, so its copies are final: the proven seam is right.
        live.overrides.resume_at.get_or_insert(ResumeAt::Seam);
        let groups = if self.translate_groups || !self.group_selection.groups.is_empty() {
            let replicated = live.replicated.clone().expect("checked above");
            let (policy, flow) = (&live.replication_policy, live.mm2_flow.as_ref());
            Some(self.group_selection.options(replicated, live.data.clone(), policy, flow, live.overrides.rewind)?)
        } else {
            None
        };
        let start_command = match (&live.target, live.mm2_flow.as_ref().map(|f| (f, &f.strimzi))) {
            (Target::Topic(_), Some((_, Some(mirror)))) => crate::connect::strimzi::resume_command(mirror),
            (Target::Topic(_), Some((flow, None))) => format!("connect-mirror-maker.sh {}", flow.file),
            _ => "connect-mirror-maker.sh mm2.properties (MM2's own configuration)".to_owned(),
        };
        Ok(CutoverOptions {
            live,
            old,
            groups,
            state,
            settle: Duration::from_secs(self.settle.unwrap_or(DEFAULT_SETTLE_SECS)),
            watch_timeout: Duration::from_secs(self.watch.watch_timeout.unwrap_or(DEFAULT_WATCH_SECS)),
            mm2_started: self.mm2_started,
            start_command,
        })
    }
}

/// `JOB.cutover.json` beside the job file.
fn default_state(job: &Path) -> PathBuf {
    let stem = job.file_stem().map_or_else(|| "job".into(), |s| s.to_string_lossy().into_owned());
    job.with_file_name(format!("{stem}.cutover.json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::options::{Discovered, PluginArgs};

    fn args() -> CutoverArgs {
        let mut args = CutoverArgs::default();
        args.live.plugin = PluginArgs { plugin: Some("mm2-to-mm2".into()), ..PluginArgs::default() };
        args.live.source_bootstrap = Some("a:9092".into());
        args.live.cluster.replicated_bootstrap = Some("r:9092".into());
        args
    }

    fn resolve(args: &CutoverArgs) -> Result<CutoverOptions, JobError> {
        args.resolve(args.live.resolve(Discovered::default())?.live)
    }

    #[test]
    fn the_old_tool_must_be_said_and_the_state_file_found() {
        let mut a = args();
        assert!(resolve(&a).unwrap_err().to_string().contains("--old-connector NAME"));
        a.old_stopped = true;
        assert!(resolve(&a).unwrap_err().to_string().contains("--state FILE"));
        a.live.cluster.job = Some(PathBuf::from("/etc/mm2/job.toml"));
        let options = resolve(&a).unwrap();
        assert_eq!(options.state, PathBuf::from("/etc/mm2/job.cutover.json"));
        assert_eq!(options.live.overrides.resume_at, Some(ResumeAt::Seam), "the seam, as the tool stops the old tool");
        assert!(matches!(options.old, OldTool::Stopped));
        a.live.cluster.replicated_bootstrap = None;
        assert!(resolve(&a).unwrap_err().to_string().contains("--replicated-bootstrap"));
    }

    #[test]
    fn an_old_connector_runs_on_its_own_worker_or_mm2s() {
        let mut a = args();
        a.watch.state = Some("s.json".into());
        a.old_connector = Some("old".into());
        assert!(resolve(&a).unwrap_err().to_string().contains("--old-connect-url"));
        a.old_connect_url = Some("http://old:8083".into());
        let OldTool::Connector(old) = resolve(&a).unwrap().old else { panic!("a connector") };
        assert_eq!((old.client.url(), old.connector.as_str()), ("http://old:8083", "old"));
        a.live.resume_at = Some(ResumeAt::Recorded);
        assert_eq!(resolve(&a).unwrap().live.overrides.resume_at, Some(ResumeAt::Recorded), "the operator's choice stays");
        a.live.stop_connector = true;
        assert!(resolve(&a).unwrap_err().to_string().contains("never stops MM2's connector"));
    }
}
