//! The cut-over's steps, one method each, journaled by [`Cutover::step`] before the next begins.

use std::time::{Duration, Instant};

use connect_offsets::connect::parse_mm2_source_key;

use super::{CutoverError, CutoverOptions, Event, Journal, OldTool, ProgressSource, ResumePoint, Status, Step, Watched, WatchCounts};
use super::{old, watch, watch_summary};
use crate::connect::Transition;
use crate::kafka::Windows;
use crate::live::{self, LiveError, LiveOptions, PlanOutcome};
use crate::model::ResumeAt;
use crate::plan::{self, RefusalReason};
use crate::plugin::Plugin;
use crate::seam::SeamStatus;
use crate::target::Target;

pub(super) struct Cutover<'a> {
    pub(super) plugin: &'a mut Plugin,
    pub(super) options: &'a CutoverOptions,
    pub(super) journal: &'a mut Journal,
    pub(super) on_event: &'a mut dyn FnMut(Event),
}

impl Cutover<'_> {
    pub(super) fn steps(&mut self) -> Result<Vec<Watched>, CutoverError> {
        // A signal stops the cut-over at the next step boundary (or wait), never in the middle
        // of a step's journaling; a second signal stops it at once.
        let _graceful = crate::interrupt::Graceful::begin();
        if self.journal.is_done(Step::StopOld) {
            self.already(Step::Preflight);
            self.already(Step::StopOld);
            self.recheck_old()?;
        } else {
            self.step(Step::Preflight, |c| c.preflight())?;
            self.step(Step::StopOld, |c| c.stop_old())?;
        }
        if self.journal.is_done(Step::Write) {
            for step in [Step::Settle, Step::FinalPlan, Step::Write] {
                self.already(step);
            }
        } else {
            self.step(Step::Settle, |c| c.settle())?;
            self.write()?;
        }
        for (step, work) in [(Step::Groups, Cutover::groups as fn(&mut Self) -> _), (Step::StartMm2, Cutover::start_mm2)] {
            if self.journal.is_done(step) {
                self.already(step);
            } else {
                self.step(step, work)?;
            }
        }
        if crate::interrupt::requested() {
            return Err(CutoverError::Interrupted(Step::Watch));
        }
        (self.on_event)(Event::Started(Step::Watch));
        let watched = self.watch()?;
        let counts = WatchCounts::of(&watched);
        let detail = watch_summary(&counts);
        let status = if counts.problems() == 0 { Status::Done } else { Status::Failed };
        self.journal.record(&self.options.state, Step::Watch, status, &detail)?;
        (self.on_event)(if status == Status::Done { Event::Done(Step::Watch, detail) } else { Event::Failed(Step::Watch, detail) });
        Ok(watched)
    }

    /// Runs one step: announced, journaled as done (or failed, with the error), announced again.
    fn step(&mut self, step: Step, work: impl FnOnce(&mut Self) -> Result<(Status, String), CutoverError>) -> Result<(), CutoverError> {
        if crate::interrupt::requested() {
            return Err(CutoverError::Interrupted(step));
        }
        (self.on_event)(Event::Started(step));
        match work(self) {
            Ok((status, detail)) => {
                self.journal.record(&self.options.state, step, status, &detail)?;
                (self.on_event)(if status == Status::Skipped { Event::Skipped(step, detail) } else { Event::Done(step, detail) });
                Ok(())
            }
            Err(e) => Err(self.failed(step, e)),
        }
    }

    /// Journals and announces `step` as failed with `e`; returns `e`. The error is what the
    /// operator needs; a journal that cannot be written is said too.
    fn failed(&mut self, step: Step, e: CutoverError) -> CutoverError {
        let message = e.to_string();
        if let Err(journal) = self.journal.record(&self.options.state, step, Status::Failed, &message) {
            (self.on_event)(Event::Note(journal.to_string()));
        }
        (self.on_event)(Event::Failed(step, message));
        e
    }

    fn already(&mut self, step: Step) {
        let detail = self.journal.steps.iter().rev().find(|r| r.step == step).map(|r| r.detail.clone()).unwrap_or_default();
        (self.on_event)(Event::AlreadyDone(step, detail));
    }

    fn progress_source(&self) -> ProgressSource<'_> {
        let live = &self.options.live;
        match &live.source_group {
            Some(group) => ProgressSource::Group { connection: &live.source, group },
            None => ProgressSource::Topic { connection: &live.source, topic: &live.source_topic },
        }
    }

    /// The plan while the old tool runs: everything `run` refuses but the overlap a running
    /// tool's copies always have; MM2 must not have started.
    fn preflight(&mut self) -> Result<(Status, String), CutoverError> {
        // An unknown old connector is named before anything else (with the worker's connectors).
        self.options.old.state()?;
        let outcome = live::plan(self.plugin, &self.options.live)?;
        if let Some(connect) = &outcome.target.connect
            && !connect.status.is_stopped()
        {
            return Err(CutoverError::Refused(format!(
                "MM2's connector {:?} is {} with {} task(s): it must be created STOPPED and stay so until its offsets are \
                 written (started now, it copies from where it has no offsets)",
                connect.connector, connect.status.state, connect.status.tasks
            )));
        }
        let overrides = self.options.live.overrides;
        let mut refused = plan::refusals(&outcome.entries, overrides);
        // A gap while the old tool runs is not the lag stopping it settles: its offsets run
        // ahead of its copies (an off-by-one, another data topic). Refused unless the operator
        // chose the recorded offsets.
        if overrides.resume_at != Some(ResumeAt::Recorded) {
            let unchosen = plan::Overrides { resume_at: None, ..overrides };
            refused.extend(
                plan::refusals(&outcome.entries, unchosen)
                    .into_iter()
                    .filter(|r| matches!(r.reason, RefusalReason::Seam { status: SeamStatus::Gap, .. })),
            );
        }
        // The overlap a running tool always has: its copies run ahead of its last saved offset.
        refused.retain(|r| !matches!(r.reason, RefusalReason::Seam { status: SeamStatus::Overlap, .. }));
        if !refused.is_empty() {
            return Err(LiveError::Refused(refused).into());
        }
        let mut detail = plan_summary(&outcome);
        if let Some(groups) = &self.options.groups {
            let plan = crate::groups::plan(groups)?;
            detail.push_str(&format!("; {} group offset(s) planned", plan.entries.len()));
            let refusals = crate::groups::refusals(&plan, groups);
            if !refusals.is_empty() {
                (self.on_event)(Event::Note(format!(
                    "the groups plan refuses {} now (the old tool still runs); checked again at the groups step: {}",
                    refusals.len(),
                    refusals.join("; ")
                )));
            }
        }
        Ok((Status::Done, detail))
    }

    fn stop_old(&mut self) -> Result<(Status, String), CutoverError> {
        let before = self.options.old.state()?;
        match self.options.old.stop()? {
            Some(how) => {
                self.journal.old_stopped_by_cutover = Some(how);
                let was = before.map_or(String::new(), |s| format!(" (was {} with {} task(s))", s.state, s.tasks));
                Ok((Status::Done, format!("{} {}{was}", self.options.old.describe(), if how == Transition::Pause { "paused" } else { "stopped" })))
            }
            None => Ok((Status::Skipped, format!("{} is stopped already", self.options.old.describe()))),
        }
    }

    /// On a rerun: the old connector must still be as the cut-over left it. One restarted by
    /// hand is never stopped again silently.
    fn recheck_old(&mut self) -> Result<(), CutoverError> {
        let how = self.journal.old_stopped_by_cutover.unwrap_or(Transition::Stop);
        if self.options.old.still_stopped(how)? == Some(false) {
            let state = self.options.old.state()?.map_or(String::new(), |s| format!(" is {} again", s.state));
            return Err(CutoverError::Refused(format!(
                "{}{state} since this cut-over stopped it (restarted by hand?): its copies since then are not in the plan. \
                 Stop it yourself and start a new cut-over with another --state",
                self.options.old.describe()
            )));
        }
        Ok(())
    }

    fn settle(&mut self) -> Result<(Status, String), CutoverError> {
        let progress = match self.options.old.settle(self.progress_source(), self.options.settle)? {
            None => return Err(CutoverError::Interrupted(Step::Settle)),
            Some(Ok(progress)) => progress,
            Some(Err(moved)) => {
                let shared = match self.options.old {
                    OldTool::Stopped => " (an offsets topic other tools also write moves with them: stop them too)",
                    OldTool::Connector(_) => "",
                };
                return Err(CutoverError::Refused(format!(
                    "{}'s progress still moves ({} s apart: {}): it is not stopped{shared}. Nothing was written",
                    self.options.old.describe(),
                    self.options.settle.as_secs(),
                    moved.join(", ")
                )));
            }
        };
        if let Some(settled) = &self.journal.settled
            && *settled != progress
        {
            return Err(CutoverError::Refused(format!(
                "{}'s progress moved since this cut-over settled it ({}): was it restarted? Start a new cut-over with \
                 another --state",
                self.options.old.describe(),
                old::moved(settled, &progress).join(", ")
            )));
        }
        let detail = format!("the old tool's progress ({} entries) unchanged {} s apart", progress.len(), self.options.settle.as_secs());
        self.journal.settled = Some(progress);
        Ok((Status::Done, detail))
    }

    /// The final plan and the write, through `run`'s gate; journaled as begun right before
    /// the write, and done with where MM2 must resume before MM2 may start.
    fn write(&mut self) -> Result<(), CutoverError> {
        if crate::interrupt::requested() {
            return Err(CutoverError::Interrupted(Step::FinalPlan));
        }
        (self.on_event)(Event::Started(Step::FinalPlan));
        let (state, journal, on_event) = (&self.options.state, &mut *self.journal, &mut *self.on_event);
        let mut began = false;
        let result = live::run_with(self.plugin, &self.options.live, |plan: &PlanOutcome| {
            began = true;
            let detail = plan_summary(plan);
            journal.record(state, Step::FinalPlan, Status::Done, &detail)?;
            on_event(Event::Done(Step::FinalPlan, detail));
            on_event(Event::Started(Step::Write));
            journal.record(state, Step::Write, Status::Started, "")?;
            Ok::<_, CutoverError>(())
        });
        let step = if began { Step::Write } else { Step::FinalPlan };
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(e) => return Err(self.failed(step, e)),
        };
        let written = outcome.connect.as_ref().map_or(outcome.written.len(), |c| c.altered);
        self.journal.resume_points = self.resume_points(&outcome.plan)?;
        self.journal.written = Some(written);
        let detail = format!("{written} offset(s) written and confirmed; {} partition(s) to watch", self.journal.resume_points.len());
        self.journal.record(state, Step::Write, Status::Done, &detail)?;
        (self.on_event)(Event::Done(Step::Write, detail));
        Ok(())
    }

    /// Per migrated partition: the first source offset MM2 must copy, and where in the data
    /// partition its first copy lands (its end now: the old tool stopped, MM2 not started).
    fn resume_points(&self, plan: &PlanOutcome) -> Result<Vec<ResumePoint>, CutoverError> {
        let live = &self.options.live;
        let mut points = points_of(plan, live);
        let ends = watch::data_ends(&Windows::new(&live.data)?, &points)?;
        for p in &mut points {
            // A data topic MM2 has yet to create: its first copy is offset 0.
            p.data_from = Some(ends.get(&p.data()).copied().unwrap_or(0));
        }
        Ok(points)
    }

    fn groups(&mut self) -> Result<(Status, String), CutoverError> {
        let Some(groups) = &self.options.groups else {
            return Ok((Status::Skipped, "no consumer groups asked for (--groups, --group)".to_owned()));
        };
        let run = crate::groups::run(groups)?;
        Ok((Status::Done, format!("{} group(s), {} offset(s) committed and read back", run.groups_committed, run.offsets_committed)))
    }

    fn start_mm2(&mut self) -> Result<(Status, String), CutoverError> {
        match &self.options.live.target {
            Target::Connect(connect) => {
                // Journaled as begun first: a rerun never writes MM2's offsets again anyway (the
                // write is done), and sees that MM2 may run.
                self.journal.record(&self.options.state, Step::StartMm2, Status::Started, "")?;
                connect.transition(Transition::Resume)?;
                Ok((Status::Done, format!("connector {:?} resumed at {}", connect.connector, connect.client.url())))
            }
            Target::Topic(topic) if self.options.mm2_started => {
                Ok((Status::Done, format!("MM2 runs (--mm2-started), reading {}", topic.named.as_deref().unwrap_or("its offsets topic"))))
            }
            Target::Topic(_) => {
                (self.on_event)(Event::Note(format!(
                    "start MM2 now: {}  (waiting up to {} s for its first copy; --mm2-started says it runs)",
                    self.options.start_command,
                    self.options.watch_timeout.as_secs()
                )));
                self.wait_for_first_copy()
            }
        }
    }

    /// Dedicated mode: MM2 has started once a data partition grows past where the write left it.
    fn wait_for_first_copy(&mut self) -> Result<(Status, String), CutoverError> {
        let windows = Windows::new(&self.options.live.data)?;
        let deadline = Instant::now() + self.options.watch_timeout;
        loop {
            let ends = watch::data_ends(&windows, &self.journal.resume_points)?;
            let grown = self.journal.resume_points.iter().find(|p| ends.get(&p.data()).is_some_and(|end| Some(*end) > p.data_from));
            if let Some(p) = grown {
                return Ok((Status::Done, format!("MM2 copies: {}/{} grew past offset {}", p.data_topic, p.partition, p.data_from.unwrap_or(0))));
            }
            if Instant::now() >= deadline || crate::interrupt::requested() {
                return Err(CutoverError::NotFinished(format!(
                    "MM2 copied nothing within {} s: start it ({}) and run the same command again (with --mm2-started once \
                     it runs); its offsets are written and will not be written again",
                    self.options.watch_timeout.as_secs(),
                    self.options.start_command
                )));
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    fn watch(&mut self) -> Result<Vec<Watched>, CutoverError> {
        let replicated = self.options.live.replicated.as_ref().ok_or_else(|| {
            CutoverError::Usage("the watch reads the replicated cluster: give --replicated-bootstrap (or MM2's configuration)".into())
        })?;
        Ok(watch::watch(replicated, &self.options.live.data, &self.journal.resume_points, self.options.watch_timeout)?)
    }
}

/// Where MM2 must resume on each migrated partition of `plan` (V+1, or the log start where
/// nothing is written), and the data topic its copies go to; where they land is found later.
pub(super) fn points_of(plan: &PlanOutcome, live: &LiveOptions) -> Vec<ResumePoint> {
    let mut points: Vec<ResumePoint> = plan
        .entries
        .iter()
        .filter_map(|e| {
            let (_, alias, topic, partition) = parse_mm2_source_key(&e.record.key)?;
            let data_topic = live.replication_policy.data_topic(&alias, &topic);
            Some(ResumePoint { source_topic: topic, partition, data_topic, resume_from: e.offset.map(|v| v + 1), data_from: None })
        })
        .collect();
    points.sort_by(|a, b| (&a.source_topic, a.partition).cmp(&(&b.source_topic, b.partition)));
    points
}

/// The counts of a plan, in one line.
pub(super) fn plan_summary(plan: &PlanOutcome) -> String {
    format!(
        "{} offset(s): {} new, {} forward, {} unchanged; seam {}",
        plan.entries.len(),
        plan.counts.new,
        plan.counts.forward,
        plan.counts.unchanged,
        plan.seam_check.summary
    )
}
