//! The cut-over's text: each step as it starts and ends, the dry run, and the watch's proof.

use crate::cutover::{CutoverOutcome, Event, Resumed, Step, WatchCounts, Watched, watch_summary};

fn step_name(step: Step) -> String {
    format!("step {}/{} {}", step.number(), Step::ALL.len(), step.name())
}

/// One line per event, for stderr as the cut-over goes.
pub fn render_event(event: &Event) -> String {
    match event {
        Event::Started(step) => format!("{}: started\n", step_name(*step)),
        Event::Done(step, detail) => format!("{}: done: {detail}\n", step_name(*step)),
        Event::AlreadyDone(step, detail) => format!("{}: done earlier (journal): {detail}\n", step_name(*step)),
        Event::Skipped(step, detail) => format!("{}: skipped: {detail}\n", step_name(*step)),
        Event::Failed(step, detail) => format!("{}: FAILED: {detail}\n", step_name(*step)),
        Event::Note(text) => format!("  {text}\n"),
    }
}

/// One partition's outcome as a line.
fn describe(w: &Watched) -> String {
    let name = format!("{}/{} -> {}/{}", w.point.source_topic, w.point.partition, w.point.data_topic, w.point.partition);
    let from = w.point.resume_from.map_or("the log start".to_owned(), |o| format!("offset {o}"));
    match &w.resumed {
        Resumed::Exact { compared } => format!("exact        {name}: resumed at {from}, {compared} copies compared"),
        Resumed::Duplicated { records, first, last, data_offset } => format!(
            "COPIED TWICE {name}: should resume at {from}; the copy at data offset {data_offset} is of source offset {first}: \
             {records} record(s) {first}..={last} copied twice"
        ),
        Resumed::Skipped { records, first, last, data_offset } => format!(
            "SKIPPED      {name}: should resume at {from}; the copy at data offset {data_offset} is of source offset {}: \
             {records} record(s) {first}..={last} never copied",
            last + 1
        ),
        Resumed::NothingToProve { detail } => format!("nothing yet  {name}: {detail}"),
        Resumed::NotCopied { detail } => format!("not copied   {name}: {detail}"),
        Resumed::Unproven { detail } => format!("unproven     {name}: {detail}"),
    }
}

/// The watch: every partition, then the totals.
pub fn render_watch(watched: &[Watched]) -> String {
    let mut out = String::new();
    for w in watched {
        out.push_str(&format!("  {}\n", describe(w)));
    }
    out.push_str(&format!("MM2's resume: {}\n", watch_summary(&WatchCounts::of(watched))));
    out
}

/// The cut-over's summary on stdout (its steps were shown as they went).
pub fn render_cutover(outcome: &CutoverOutcome) -> String {
    let mut out = render_watch(&outcome.watch);
    if let Some(written) = outcome.written {
        out.push_str(&format!("MM2's offsets written by this cut-over: {written}; journal {}\n", outcome.state));
    }
    out
}

/// `cutover --dry-run`: the steps and what each would do.
pub fn render_dry_run(plan: &crate::live::PlanOutcome, steps: &[(Step, String)]) -> String {
    let mut out = super::render_plan(plan, true);
    out.push_str("cut-over steps (dry run: nothing was changed):\n");
    for (step, what) in steps {
        out.push_str(&format!("  {}: {what}\n", step_name(*step)));
    }
    out
}
