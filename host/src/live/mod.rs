//! The commands that work on live clusters (`plan`, `run`, `verify`, `run --follow`), over the
//! translate pipeline, the Kafka module and the plan rules.

mod follow;
mod run;

use connect_offsets::connect::parse_mm2_source_key;

use crate::coverage::{self, Coverage};
use crate::kafka::{self, Connection, KafkaError, Unauthorized, Windows};
use crate::mm2config::Flow;
use crate::model::compaction::Compactor;
use crate::model::{MappedRecord, Origin};
use crate::plan::{self, PlanCounts, PlanEntry};
use crate::plugin::{Plugin, PluginError};
use crate::seam::{self, ReplicationPolicy, ResumeAt, SeamCounts, SeamSetup};
use crate::target::{Current, SourceTopic, Target, TargetError};
use crate::timed;
use crate::translate::{self, RecordIssue, Report, TranslateError, TranslateOptions, Translator};
pub use follow::{FOLLOW_THROUGH_CONNECT, FollowSummary, follow, follow_usage};
pub use run::{RunOutcome, run, run_with};

/// Everything a live command needs, after the command line and the job file are merged.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub source: Connection,
    pub source_topic: String,
    /// Read this consumer group's committed offsets instead of `source_topic`.
    pub source_group: Option<String>,
    /// Where MM2's offsets live: its offsets topic, or a connector through Connect's REST API.
    pub target: Target,
    /// The cluster the old tool copied from: the range and seam checks run when it is given.
    pub replicated: Option<Connection>,
    /// The cluster holding the old tool's copies, where MM2 will write (the seam check's data).
    pub data: Connection,
    /// Where MM2 writes a source topic: the data topic the seam check reads.
    pub replication_policy: ReplicationPolicy,
    /// Why the seam check is not run although a replicated cluster is given (the in-process
    /// demo broker cannot look records up by time); `None` everywhere else.
    pub seam_unavailable: Option<&'static str>,
    pub batch_size: usize,
    pub skip_invalid: bool,
    pub overrides: plan::Overrides,
    /// The MM2 flow of `--mm2-config`: the offsets must be the ones this MM2 looks up.
    pub mm2_flow: Option<Flow>,
}

/// The old offsets topic when none is named: Connect's (Replicator's, Mirus's) default.
pub const DEFAULT_SOURCE_TOPIC: &str = "connect-offsets";

impl LiveOptions {
    /// Options with the command line's defaults for everything but the clusters and where MM2's
    /// offsets go: the one place those defaults are written, for the CLI's resolve step and the
    /// demo alike.
    pub fn new(source: Connection, target: Target, data: Connection) -> LiveOptions {
        LiveOptions {
            source,
            source_topic: DEFAULT_SOURCE_TOPIC.to_owned(),
            source_group: None,
            target,
            replicated: None,
            data,
            replication_policy: ReplicationPolicy::Identity,
            seam_unavailable: None,
            batch_size: crate::model::DEFAULT_BATCH_SIZE,
            skip_invalid: false,
            overrides: plan::Overrides::default(),
            mm2_flow: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    #[error(transparent)]
    Translate(#[from] TranslateError),
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Target(#[from] TargetError),
    /// Plugin output (escaped) naming keys MM2's flow never reads.
    #[error("{0}")]
    NotTheFlow(String),
    #[error("{file}: MM2's topic filter: {reason}")]
    TopicFilter { file: String, reason: String },
    /// `--follow` with options it cannot work with (exit 2).
    #[error("{0}")]
    FollowUsage(&'static str),
    #[error("refused: {} record(s) would be unsafe to write; nothing was written:\n{}", .0.len(), .0.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n"))]
    Refused(Vec<plan::Refusal>),
}

/// A computed plan with the facts behind it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlanOutcome {
    pub plugin: String,
    /// The policy the plugin ran under, as echoed to the operator.
    pub policy: String,
    pub source_topic: String,
    /// MM2's offsets where they live when the plan was made.
    #[serde(flatten)]
    pub target: Current,
    pub translation: Report,
    pub counts: PlanCounts,
    pub seam_check: SeamCheck,
    /// The MM2 configuration the plan was made for, with where each fact came from.
    pub mm2_config: Option<Flow>,
    /// With `--mm2-config`: what MM2 does at start on every partition it will replicate.
    pub coverage: Option<Coverage>,
    pub entries: Vec<PlanEntry>,
    /// The ranges of the source offsets topic that were read; `--follow` continues from their ends.
    #[serde(skip)]
    pub source_ranges: Vec<kafka::PartitionRange>,
}

/// Whether the seam check ran, against what, and its totals.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SeamCheck {
    pub ran: bool,
    /// The data cluster's bootstrap servers, when it ran.
    pub data: Option<String>,
    pub replication_policy: ReplicationPolicy,
    pub resume_at: Option<ResumeAt>,
    pub counts: SeamCounts,
    /// The totals as a sentence, or why the check did not run.
    pub summary: String,
}

/// What a batch is: a snapshot (a plan, a run: its offsets are checked against the replicated
/// cluster's logs and the old tool's copies) or a round of `--follow` (the old tool's live
/// offsets: checked against the logs, not against copies that run ahead of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Batch {
    Snapshot,
    Follow,
}

/// A batch past the gate: MM2's offsets where it goes, and where each record stands.
struct Admitted {
    target: Current,
    entries: Vec<PlanEntry>,
    seam_ran: bool,
}

/// Reads the source snapshot, translates it, and admits it through [`admit`].
pub fn plan(plugin: &mut Plugin, options: &LiveOptions) -> Result<PlanOutcome, LiveError> {
    let source_topic = match &options.source_group {
        Some(_) => kafka::GROUP_RECORDS_TOPIC,
        None => options.source_topic.as_str(),
    };
    // Checked before anything is read; the translator checks every record's topic the same way.
    translate::check_source(plugin, &Origin::Text(format!("topic {source_topic}")), source_topic)?;
    // The source offsets topic, compacted as Connect would load it (or the group's commits).
    let mut compactor = Compactor::new();
    let mut issues = Vec::new();
    let mut add = |record| {
        if let Err(rejected) = compactor.add(record) {
            issues.push(RecordIssue::from(rejected));
        }
    };
    let source_ranges = match &options.source_group {
        Some(group) => {
            kafka::read_group_offsets(&options.source, group)?.into_iter().for_each(&mut add);
            Vec::new()
        }
        None => timed("read the source topic", || kafka::read_snapshot(&options.source, &options.source_topic, &mut add))?,
    };
    let translator = Translator::new(plugin, translate_options(options));
    let (records, translation) = timed("mapped the live records", || translator.translate_compacted(compactor, issues))?;
    let Admitted { target, entries, seam_ran } = admit(options, &options.target, records, Batch::Snapshot)?;
    let seam_check = seam_check(options, &entries, seam_ran);
    // What MM2 will do on every partition it replicates, under its own configuration.
    let coverage = match (&options.mm2_flow, &options.replicated) {
        (Some(flow), Some(replicated)) => Some(coverage_of(flow, replicated, &options.data, &entries)?),
        _ => None,
    };
    Ok(PlanOutcome {
        plugin: plugin.label().to_owned(),
        policy: plugin.policy().summary(),
        source_topic: match &options.source_group {
            Some(group) => format!("consumer group {group}"),
            None => options.source_topic.clone(),
        },
        target,
        translation,
        counts: plan::counts(&entries),
        seam_check,
        mm2_config: options.mm2_flow.clone(),
        coverage,
        entries,
        source_ranges,
    })
}

/// The one gate every batch passes before anything may be written, a run's snapshot and each
/// round of `--follow` alike: the keys MM2's flow looks up, one target topic that is not the
/// source, MM2's current offsets there, the records placed over its partitions, and for a
/// snapshot the replicated cluster's ranges and the seam. What it returns is what the plan
/// rules then judge.
fn admit(options: &LiveOptions, target: &Target, records: Vec<MappedRecord>, batch: Batch) -> Result<Admitted, LiveError> {
    if let Some(flow) = &options.mm2_flow {
        check_flow(flow, &records)?;
    }
    let source = SourceTopic { connection: &options.source, topic: &options.source_topic };
    let current = target.current(&records, source)?;
    let records = translate::partition(records, current.partitions)?;
    // Where each record stands in the replicated logs, every batch alike: V+1 within the log.
    let ranges = match &options.replicated {
        Some(connection) => Some(kafka::replicated_ranges(connection, &records)?),
        None => None,
    };
    // Where the old tool's copies really end, and the operator's choice where that differs: for
    // a snapshot only, since a running tool's copies always run ahead of its last saved offset.
    let seams = match (&options.replicated, &ranges) {
        (Some(replicated), Some(ranges)) if options.seam_unavailable.is_none() && batch == Batch::Snapshot => {
            let setup = SeamSetup { replicated, data: &options.data, policy: &options.replication_policy };
            Some(seam::check(setup, &records, ranges)?)
        }
        _ => None,
    };
    let records = match (&seams, options.overrides.resume_at) {
        (Some(seams), Some(ResumeAt::Seam)) => records
            .into_iter()
            .map(|r| match seams.get(&r.key) {
                Some(found) => seam::resume_at_seam(r, found),
                None => r,
            })
            .collect(),
        _ => records,
    };
    let entries = plan::build(records, &current.state, ranges.as_ref(), seams.as_ref());
    Ok(Admitted { target: current, entries, seam_ran: seams.is_some() })
}

/// Every MM2 key must be one the flow's MirrorSourceConnector looks up: its connector name and
/// source alias. Any other is never read, and MM2 copies those partitions again from the start.
fn check_flow(flow: &Flow, records: &[MappedRecord]) -> Result<(), LiveError> {
    let mut wrong: Vec<String> = records
        .iter()
        .filter_map(|r| {
            let (connector, cluster, topic, partition) = parse_mm2_source_key(&r.key)?;
            (cluster != flow.source || connector != flow.connector.value).then(|| format!("{connector} {cluster}:{topic}/{partition}"))
        })
        .collect();
    if wrong.is_empty() {
        return Ok(());
    }
    let count = wrong.len();
    wrong.truncate(3);
    Err(LiveError::NotTheFlow(crate::plugin::untrusted::message(&format!(
        "{count} offset record(s) are not ones MM2's flow {}->{} ({}) looks up, which reads connector {:?} and cluster \
         alias {:?}: {}{}; set the plugin's alias and connector name to match",
        flow.source,
        flow.target,
        flow.file,
        flow.connector.value,
        flow.source,
        wrong.join(", "),
        if count > wrong.len() { ", ..." } else { "" }
    ))))
}

fn coverage_of(flow: &Flow, replicated: &Connection, data: &Connection, entries: &[PlanEntry]) -> Result<Coverage, LiveError> {
    let filter = connect_offsets::topics::TopicFilter::new(&flow.topics.value, &flow.topics_exclude.value)
        .map_err(|reason| LiveError::TopicFilter { file: flow.file.clone(), reason })?;
    let topics = Windows::new(replicated)?.all_topics()?;
    // Counting the records MM2 copies again needs Describe on every data topic; without it those
    // are not counted (a warning says so): the report is informative, the seam check is strict.
    let wanted = coverage::data_partitions(flow, &filter, &topics);
    let (_, data_ranges) = Windows::new(data)?.present_ranges(&wanted, Unauthorized::Skip)?;
    Ok(coverage::build(flow, &filter, &topics, entries, &data_ranges))
}

fn seam_check(options: &LiveOptions, entries: &[PlanEntry], ran: bool) -> SeamCheck {
    let counts = SeamCounts::of(entries.iter().filter_map(|e| e.seam.as_ref()));
    let summary = if ran {
        counts.summary()
    } else if let Some(reason) = options.seam_unavailable {
        format!("not run: {reason}")
    } else {
        "not run: without --replicated-bootstrap (the cluster the old tool copied from) nothing proves that MM2 \
         resumes right after the last copy"
            .to_owned()
    };
    SeamCheck {
        ran,
        data: ran.then(|| options.data.bootstrap.clone()),
        replication_policy: options.replication_policy.clone(),
        resume_at: options.overrides.resume_at,
        counts,
        summary,
    }
}

fn translate_options(options: &LiveOptions) -> TranslateOptions {
    // A plugin's tombstones reach the plan, where deleting an offset MM2 holds is refused as a
    // rewind unless --allow-delete.
    TranslateOptions { batch_size: options.batch_size, skip_invalid: options.skip_invalid, allow_delete: true, ..TranslateOptions::default() }
}

/// Entries whose seam is an overlap or a gap while no `--resume-at` says which was chosen:
/// what `verify` cannot call matching.
pub fn unresolved_seams(plan: &PlanOutcome) -> Vec<&PlanEntry> {
    if plan.seam_check.resume_at.is_some() {
        return Vec::new();
    }
    plan.entries.iter().filter(|e| e.seam.as_ref().is_some_and(seam::Seam::is_problem)).collect()
}

/// Entries of a plan that differ from the target: what `verify` reports.
pub fn differences(plan: &PlanOutcome) -> Vec<&PlanEntry> {
    plan.entries.iter().filter(|e| e.is_written()).collect()
}

