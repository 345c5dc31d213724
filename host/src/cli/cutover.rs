//! `cutover` and `verify --after-resume`: the cut-over's options over `run`'s, its steps shown
//! as they go, and the watch's proof.

use super::args::{CutoverCommand, VerifyArgs};
use super::commands::{LiveSetup, live_setup};
use super::exit::{EXIT_DIFFERENT, Failure, usage};
use crate::cutover::{self, CutoverError, Event, WatchCounts};
use crate::plugin::PluginEngine;
use crate::report::{self, emit};

pub(super) fn cutover_command(engine: &PluginEngine, args: CutoverCommand) -> Result<(), Failure> {
    let json = args.output.json();
    let LiveSetup { mut plugin, options } = live_setup(engine, &args.cutover.live)?;
    let options = args.cutover.resolve(options).map_err(usage)?;
    if args.cutover.rollback {
        let done = cutover::rollback(&options)?;
        #[derive(serde::Serialize)]
        struct RollbackJson<'a> {
            command: &'static str,
            rolled_back: &'a str,
        }
        return Ok(emit(json, &RollbackJson { command: "cutover --rollback", rolled_back: &done }, || format!("{done}\n"))?);
    }
    if args.cutover.dry_run {
        let (plan, steps) = cutover::dry_run(&mut plugin, &options)?;
        plugin.close();
        #[derive(serde::Serialize)]
        struct DryRunJson<'a> {
            command: &'static str,
            plan: &'a crate::live::PlanOutcome,
            steps: Vec<(&'static str, &'a str)>,
        }
        let document = DryRunJson { command: "cutover --dry-run", plan: &plan, steps: steps.iter().map(|(s, w)| (s.name(), w.as_str())).collect() };
        return Ok(emit(json, &document, || report::render_dry_run(&plan, &steps))?);
    }
    let mut show = |event: Event| eprint!("{}", report::render_event(&event));
    let outcome = cutover::run(&mut plugin, &options, &mut show)?;
    plugin.close();
    emit(json, &outcome, || report::render_cutover(&outcome))?;
    watch_status(&outcome.watch_counts)
}

/// `verify --after-resume`: the watch once, from the journal or from the old tool's offsets.
pub(super) fn verify_after_resume(engine: &PluginEngine, args: VerifyArgs) -> Result<(), Failure> {
    let json = args.command.output.json();
    let LiveSetup { mut plugin, options } = live_setup(engine, &args.command.live)?;
    let timeout = std::time::Duration::from_secs(args.watch.watch_timeout.unwrap_or(0));
    let watched = cutover::verify_after_resume(&mut plugin, &options, args.watch.state.as_deref(), timeout)?;
    plugin.close();
    let counts = WatchCounts::of(&watched);
    #[derive(serde::Serialize)]
    struct AfterResumeJson<'a> {
        command: &'static str,
        watch: &'a [cutover::Watched],
        watch_counts: &'a WatchCounts,
    }
    emit(json, &AfterResumeJson { command: "verify --after-resume", watch: &watched, watch_counts: &counts }, || report::render_watch(&watched))?;
    watch_status(&counts)
}

/// Exit 4 when MM2 copied records twice or skipped some, as `verify`.
fn watch_status(counts: &WatchCounts) -> Result<(), Failure> {
    if counts.problems() == 0 {
        return Ok(());
    }
    Err(Failure {
        status: EXIT_DIFFERENT,
        error: anyhow::anyhow!(
            "MM2 did not resume exactly: {} partition(s) with records copied twice, {} with records skipped",
            counts.duplicated,
            counts.skipped
        ),
    })
}

impl From<CutoverError> for Failure {
    fn from(e: CutoverError) -> Failure {
        match e {
            CutoverError::Live(l) => l.into(),
            CutoverError::Groups(g) => g.into(),
            CutoverError::Kafka(k) => k.into(),
            CutoverError::Refused(_) => Failure { status: super::exit::EXIT_REFUSED, error: e.into() },
            CutoverError::Usage(_) | CutoverError::Journal(cutover::JournalError::OtherCutover { .. }) => usage(e),
            CutoverError::Interrupted(_) => {
                Failure { status: crate::interrupt::exit_status().unwrap_or(crate::interrupt::EXIT_SIGINT), error: e.into() }
            }
            CutoverError::Connect(_) | CutoverError::Journal(_) | CutoverError::NotFinished(_) => super::exit::failed(e),
        }
    }
}
