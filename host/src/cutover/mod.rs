//! `cutover`: the whole cut-over as one resumable command. Its steps, in order: preflight (the
//! plan while the old tool still runs), stop the old tool, settle (its progress read twice,
//! equal), the final plan and the write (through `live::run_with`, the gate `run` uses), the
//! consumer groups (`groups::run`), start MM2, and watch MM2's first copies prove that it
//! resumed exactly. Each step's outcome is journaled before the next begins; a rerun resumes at
//! the first step not done, after re-checking what that step depends on.

pub mod journal;
pub mod old;
mod steps;
pub mod watch;

use std::path::PathBuf;
use std::time::Duration;

use crate::connect::{ConnectError, Transition};
use crate::groups::{GroupsError, GroupsOptions};
use crate::kafka::KafkaError;
use crate::live::{self, LiveError, LiveOptions, PlanOutcome};
use crate::model::ResumeAt;
use crate::plan;
use crate::plugin::Plugin;
use crate::target::Target;
pub use journal::{Journal, JournalError, Status, Step};
pub use old::{OldTool, ProgressError, ProgressSource};
pub use watch::{ResumePoint, Resumed, Watched};

/// Everything a cut-over needs, resolved.
#[derive(Debug, Clone)]
pub struct CutoverOptions {
    /// The migration, as `run` takes it (`--resume-at` defaulting to `seam`).
    pub live: LiveOptions,
    pub old: OldTool,
    /// The consumer groups to translate, when asked for.
    pub groups: Option<GroupsOptions>,
    /// The journal.
    pub state: PathBuf,
    /// Between the two readings of the old tool's progress.
    pub settle: Duration,
    /// How long the watch waits for MM2's copies (and, in dedicated mode, for its first commit).
    pub watch_timeout: Duration,
    /// Dedicated mode: the operator says MM2 runs.
    pub mm2_started: bool,
    /// Dedicated mode: the command that starts MM2, printed at that step.
    pub start_command: String,
}

/// What a step reports as it starts and ends (rendered by `report`).
#[derive(Debug, Clone)]
pub enum Event {
    Started(Step),
    Done(Step, String),
    /// Done by an earlier run of the same cut-over (the journal says so).
    AlreadyDone(Step, String),
    Skipped(Step, String),
    Failed(Step, String),
    /// Something the operator must read now (a command to run, the state after a failure).
    Note(String),
}

/// What a cut-over did (its `--output json` document).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CutoverOutcome {
    pub state: String,
    pub steps: Vec<journal::StepRecord>,
    /// MM2's offsets written by the write step (in this run or an earlier one).
    pub written: Option<usize>,
    pub watch: Vec<Watched>,
    pub watch_counts: WatchCounts,
}

/// The watch's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct WatchCounts {
    pub exact: usize,
    pub duplicated: usize,
    pub skipped: usize,
    pub nothing_to_prove: usize,
    pub not_copied: usize,
    pub unproven: usize,
}

impl WatchCounts {
    pub fn of(watched: &[Watched]) -> WatchCounts {
        let mut counts = WatchCounts::default();
        for w in watched {
            *match w.resumed {
                Resumed::Exact { .. } => &mut counts.exact,
                Resumed::Duplicated { .. } => &mut counts.duplicated,
                Resumed::Skipped { .. } => &mut counts.skipped,
                Resumed::NothingToProve { .. } => &mut counts.nothing_to_prove,
                Resumed::NotCopied { .. } => &mut counts.not_copied,
                Resumed::Unproven { .. } => &mut counts.unproven,
            } += 1;
        }
        counts
    }

    /// Copied twice or skipped somewhere: exit 4.
    pub fn problems(&self) -> usize {
        self.duplicated + self.skipped
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CutoverError {
    #[error(transparent)]
    Live(#[from] LiveError),
    #[error(transparent)]
    Groups(#[from] GroupsError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Unsafe to go on (exit 3); what was done so far is journaled.
    #[error("refused: {0}")]
    Refused(String),
    /// The options cannot make a cut-over (exit 2).
    #[error("{0}")]
    Usage(String),
    /// A step could not finish (exit 1); the journal resumes it.
    #[error("{0}")]
    NotFinished(String),
    /// SIGINT or SIGTERM, between steps or in a wait (exit 130 or 143).
    #[error("stopped by a signal before {}: the same command resumes there", .0.name())]
    Interrupted(Step),
}

impl From<ProgressError> for CutoverError {
    fn from(e: ProgressError) -> CutoverError {
        match e {
            ProgressError::Kafka(k) => CutoverError::Kafka(k),
            ProgressError::Connect(c) => CutoverError::Connect(c),
        }
    }
}

/// What identifies a cut-over in its journal: the old tool, where its progress is, and where
/// MM2's offsets go.
pub fn identity(options: &CutoverOptions) -> String {
    let progress = match &options.live.source_group {
        Some(group) => format!("group {group}"),
        None => format!("topic {}", options.live.source_topic),
    };
    let target = match &options.live.target {
        Target::Topic(t) => format!("offsets topic {} at {}", t.named.as_deref().unwrap_or("(the plugin's)"), t.connection.bootstrap),
        Target::Connect(c) => format!("connector {:?} at {}", c.connector, c.client.url()),
    };
    format!("{} -> MM2 {target}; progress in {progress} at {}", options.old.describe(), options.live.source.bootstrap)
}

/// Runs the cut-over from its first step not done.
pub fn run(plugin: &mut Plugin, options: &CutoverOptions, on_event: &mut dyn FnMut(Event)) -> Result<CutoverOutcome, CutoverError> {
    let mut journal = Journal::open(&options.state, &identity(options))?;
    if journal.rolled_back {
        return Err(CutoverError::Refused(format!(
            "this cut-over was rolled back (the old tool resumed, {}): start a new one with another --state",
            options.state.display()
        )));
    }
    let steps_before = journal.steps.len();
    let result = steps::Cutover { plugin, options, journal: &mut journal, on_event }.steps();
    if result.is_err() && journal.is_done(Step::StopOld) && !journal.write_begun() {
        on_event(Event::Note(state_after_failure(options, &journal)));
    }
    let watch = result?;
    Ok(CutoverOutcome {
        state: options.state.display().to_string(),
        steps: journal.steps[steps_before..].to_vec(),
        written: journal.written,
        watch_counts: WatchCounts::of(&watch),
        watch,
    })
}

/// What everything is after a failure between stopping the old tool and writing MM2's offsets.
fn state_after_failure(options: &CutoverOptions, journal: &Journal) -> String {
    let old = match (&options.old, journal.old_stopped_by_cutover) {
        (OldTool::Connector(_), Some(how)) => format!(
            "{} is {} by this cut-over; `mm2-migrate cutover --rollback` with the same options resumes it",
            options.old.describe(),
            if how == Transition::Pause { "paused" } else { "stopped" }
        ),
        _ => format!("{} stays as it was: start it again yourself to roll back", options.old.describe()),
    };
    format!(
        "state: {old}; MM2's offsets were not written and MM2 was not started; the journal is {}: the same command \
         resumes from the step that failed",
        options.state.display()
    )
}

/// The watch's totals in one line.
pub fn watch_summary(counts: &WatchCounts) -> String {
    format!(
        "{} exact, {} copied twice, {} skipped, {} with nothing to prove yet, {} not copied yet, {} unproven",
        counts.exact, counts.duplicated, counts.skipped, counts.nothing_to_prove, counts.not_copied, counts.unproven
    )
}

/// `--rollback`: resumes the old connector this cut-over stopped, when MM2's offsets were not
/// written; MM2 is left untouched. Returns what was done.
pub fn rollback(options: &CutoverOptions) -> Result<String, CutoverError> {
    let mut journal = Journal::read_of(&options.state, &identity(options))?;
    if journal.write_begun() {
        return Err(CutoverError::Refused(format!(
            "MM2's offsets were written (or their write began) by this cut-over: resuming {} now would make two tools \
             copy the same topics. Finish the cut-over (the same command without --rollback)",
            options.old.describe()
        )));
    }
    let Some(how) = journal.old_stopped_by_cutover else {
        return Err(CutoverError::Refused(format!(
            "this cut-over did not stop {}: nothing to roll back; MM2 was not touched",
            options.old.describe()
        )));
    };
    options.old.resume()?;
    journal.rolled_back = true;
    journal.save(&options.state)?;
    Ok(format!(
        "{} resumed (the cut-over had {} it); MM2's offsets were never written and MM2 was not started",
        options.old.describe(),
        if how == Transition::Pause { "paused" } else { "stopped" }
    ))
}

/// `--dry-run`: the preflight plan, and what each step would do; changes nothing.
pub fn dry_run(plugin: &mut Plugin, options: &CutoverOptions) -> Result<(PlanOutcome, Vec<(Step, String)>), CutoverError> {
    let plan = live::plan(plugin, &options.live)?;
    let journal = Journal::open(&options.state, &identity(options))?;
    let what = |step: Step| -> String {
        if journal.is_done(step) {
            return "done by an earlier run (journal)".to_owned();
        }
        match step {
            Step::Preflight => steps::plan_summary(&plan),
            Step::StopOld => match &options.old {
                OldTool::Connector(c) => format!("PUT {}{} (pause on a worker without stop)", c.client.url(), crate::connect::connector_path(&c.connector, "/stop")),
                OldTool::Stopped => "nothing: --old-stopped".to_owned(),
            },
            Step::Settle => format!("read the old tool's progress twice, {} s apart; refuse if it moved", options.settle.as_secs()),
            Step::FinalPlan => format!("plan again under run's rules (--resume-at {})", match options.live.overrides.resume_at {
                Some(ResumeAt::Seam) => "seam",
                Some(ResumeAt::Recorded) => "recorded",
                None => "none",
            }),
            Step::Write => format!("write {} offset(s), read back", plan::to_write(&plan.entries).len()),
            Step::Groups => match &options.groups {
                Some(_) => "translate the consumer groups (groups run)".to_owned(),
                None => "skipped: no --groups".to_owned(),
            },
            Step::StartMm2 => match &options.live.target {
                Target::Connect(c) => format!("PUT {}{}", c.client.url(), crate::connect::connector_path(&c.connector, "/resume")),
                Target::Topic(_) => format!("print `{}` and wait for MM2's first copy", options.start_command),
            },
            Step::Watch => format!("compare MM2's first copies with the source, up to {} s", options.watch_timeout.as_secs()),
        }
    };
    let steps = Step::ALL.iter().map(|s| (*s, what(*s))).collect();
    Ok((plan, steps))
}

/// `verify --after-resume`: the watch, once (no waiting), from the journal's resume points, or
/// without a journal from the old tool's final offsets (`plan` without the seam choice) and
/// the old tool's last copies found in the data.
pub fn verify_after_resume(
    plugin: &mut Plugin,
    live: &LiveOptions,
    state: Option<&std::path::Path>,
    timeout: Duration,
) -> Result<Vec<Watched>, CutoverError> {
    let replicated = live.replicated.as_ref().ok_or_else(|| {
        CutoverError::Usage("verify --after-resume reads the replicated cluster: give --replicated-bootstrap (or MM2's configuration)".into())
    })?;
    let points = match state {
        Some(path) => Journal::read(path)?.resume_points,
        None => {
            let mut options = live.clone();
            options.overrides.resume_at = None;
            options.seam_unavailable = Some("not needed after MM2 resumed");
            steps::points_of(&live::plan(plugin, &options)?, live)
        }
    };
    Ok(watch::watch(replicated, &live.data, &points, timeout)?)
}
