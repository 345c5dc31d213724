//! What the commands show: one place renders text and JSON for the CLI and the demo alike.

mod cutover;
mod demo;
mod groups;
mod plugin;

use std::io::{self, Write};

pub use cutover::{render_cutover, render_dry_run, render_event, render_watch};
pub use demo::{demo_json, render_demo};
pub use groups::{describe_group_entry, render_groups, render_groups_follow, render_groups_run, render_groups_verify};
pub(crate) use plugin::describe_plugin;
pub use plugin::{inspection_json, render_inspection};

use crate::live::PlanOutcome;
use crate::model::TargetRecord;
use crate::translate::Report;

/// Writes `value` as JSON, or the text `render` makes, to stdout. Only the one asked for is
/// made, and the JSON is written as it is serialized (a 100,000-entry plan is tens of MB).
pub fn emit(json: bool, value: &impl serde::Serialize, render: impl FnOnce() -> String) -> io::Result<()> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    if json {
        serde_json::to_writer_pretty(&mut out, value)?;
        out.write_all(b"\n")?;
    } else {
        out.write_all(render().as_bytes())?;
    }
    out.flush()
}

/// One plan entry as a line.
pub fn describe_entry(e: &crate::plan::PlanEntry) -> String {
    use crate::plan::{Change, RangeCheck};
    let name = crate::plan::describe_key(&e.record.key);
    let offset = e.offset.map(|o| o.to_string()).unwrap_or_else(|| "?".into());
    let change = match &e.change {
        Change::New => format!("new         {name} -> offset {offset}"),
        Change::Unchanged => format!("unchanged   {name} = offset {offset}"),
        Change::Forward { from } => format!("forward     {name}: {from} -> {offset}"),
        Change::Backward { from } => format!("BACKWARDS   {name}: {from} -> {offset}"),
        Change::Replace => format!("replace     {name}"),
        Change::Delete { from } => format!("DELETE      {name}: {} -> tombstone", from.map_or("?".to_owned(), |f| f.to_string())),
    };
    let range = match &e.range {
        Some(RangeCheck::InRange { .. }) | None => String::new(),
        Some(RangeCheck::BeyondEnd { start, end }) => format!("  OUT OF RANGE: beyond log [{start}, {end})"),
        Some(RangeCheck::BeforeStart { start, end }) => format!("  OUT OF RANGE: before log [{start}, {end})"),
        Some(RangeCheck::MissingPartition) => "  OUT OF RANGE: no such replicated partition".to_owned(),
    };
    let misplaced = e.misplaced_in.map(|p| format!("  (existing record in wrong partition {p})")).unwrap_or_default();
    let seam = e.seam.as_ref().map(|s| format!("\n      seam {}", describe_seam(s))).unwrap_or_default();
    format!("{change}  [partition {}]{range}{misplaced}{seam}", e.record.partition)
}

/// A partition's seam: `exact`, `overlap 12`, `gap 3` or `unproven`, the offsets and why.
pub fn describe_seam(s: &crate::seam::Seam) -> String {
    use crate::seam::SeamStatus;
    let status = match s.status {
        SeamStatus::Exact => "exact".to_owned(),
        SeamStatus::Overlap => format!("OVERLAP {}", s.records),
        SeamStatus::Gap => format!("GAP {}", s.records),
        SeamStatus::Unproven => "unproven".to_owned(),
    };
    let proven = s.proven.map_or("none".to_owned(), |w| w.to_string());
    format!("{status} (recorded {}, last copy {proven}): {}", s.recorded, s.detail)
}

/// The plan as a readable report.
pub fn render_plan(outcome: &PlanOutcome, with_entries: bool) -> String {
    let mut out = match &outcome.target.connect {
        Some(c) => format!(
            "{}\nsource {} -> connector {:?} at {} ({} with {} task(s); offsets through Connect's REST API)\n",
            outcome.policy, outcome.source_topic, c.connector, c.url, c.status.state, c.status.tasks
        ),
        None => format!(
            "{}\nsource {} -> target {} ({}, {} partitions)\n",
            outcome.policy,
            outcome.source_topic,
            outcome.target.topic.as_deref().unwrap_or("(nothing to write)"),
            if outcome.target.exists { "exists" } else { "will be created" },
            outcome.target.partitions,
        ),
    };
    if let Some(c) = outcome.target.connect.as_ref().filter(|c| !c.status.is_stopped()) {
        out.push_str(&format!(
            "note: the connector is {}: its offsets move until it is stopped, and run refuses until then\n",
            c.status.state
        ));
    }
    if let Some(flow) = &outcome.mm2_config {
        out.push_str(&format!("MM2 configuration {}, flow {}->{}\n", flow.file, flow.source, flow.target));
        for (fact, value, from) in flow.provenance() {
            out.push_str(&format!("  {fact:<28}{value}  (from {from})\n"));
        }
    }
    out.push_str(&render_report_as(&outcome.plugin, &outcome.translation, "offset records mapped"));
    for (label, n) in crate::plan::count_lines(&outcome.counts) {
        if n > 0 || label == "new" || label == "unchanged" {
            out.push_str(&format!("  {label:<28}{n}\n"));
        }
    }
    let seam = &outcome.seam_check;
    let choice = match seam.resume_at {
        Some(crate::model::ResumeAt::Seam) => " (--resume-at seam)",
        Some(crate::model::ResumeAt::Recorded) => " (--resume-at recorded)",
        None => "",
    };
    out.push_str(&format!("  {:<28}{}{choice}\n", "seam check", seam.summary));
    if let Some(c) = &outcome.coverage {
        let t = &c.totals;
        out.push_str(&format!(
            "  {:<28}MM2 resumes {} partition(s), copies {} from the start ({} record(s) the target already holds, copied again), \
             does not replicate {} migrated partition(s)\n",
            "coverage", t.resume, t.from_start, t.duplicates, t.not_replicated
        ));
        if with_entries {
            for p in &c.partitions {
                if let crate::coverage::Start::FromStart { duplicates } = p.start {
                    out.push_str(&format!("  from-start  {}/{}: no migrated offset; {duplicates} record(s) copied again\n", p.topic, p.partition));
                }
            }
            for lost in &c.not_replicated {
                out.push_str(&format!("  NOT REPLICATED  {lost}: the old tool replicated it; MM2's topics/topics.exclude leave it out\n"));
            }
        }
    }
    if with_entries {
        for e in &outcome.entries {
            out.push_str(&format!("  {}\n", describe_entry(e)));
        }
    }
    out
}

/// `plan`'s text: the plan, then what the safety rules refuse.
pub fn render_plan_refusals(outcome: &PlanOutcome, refusals: &[crate::plan::Refusal]) -> String {
    let mut text = render_plan(outcome, true);
    for r in refusals {
        text.push_str(&format!("  refused: {r}\n"));
    }
    text
}

/// `run`'s text: the plan, what was written and confirmed, and the connector's state.
pub fn render_run(outcome: &crate::live::RunOutcome) -> String {
    let mut text = render_plan(&outcome.plan, false);
    if outcome.connect.is_none() {
        text.push_str(&format!(
            "  {:<28}{}{}\n",
            "records written",
            outcome.written.len(),
            if outcome.created_topic { " (topic created, compacted)" } else { "" }
        ));
    }
    if !outcome.written.is_empty() {
        text.push_str(&format!("  {:<28}all {} read back from the topic\n", "confirmed", outcome.written.len()));
    }
    if let Some(connect) = &outcome.connect {
        if connect.altered > 0 {
            text.push_str(&format!("  {:<28}{} (Connect: {})\n", "offsets altered", connect.altered, connect.message));
            text.push_str(&format!("  {:<28}all {} read back from Connect's offsets API\n", "confirmed", connect.altered));
        }
        let stopped = if connect.stopped_by_run { "stopped by this run; " } else { "" };
        text.push_str(&format!("  {:<28}{stopped}left STOPPED: verify, then resume it with `{}`\n", "connector", connect.resume_command));
    }
    text
}

/// `run --follow`'s summary once stopped.
pub fn render_follow(summary: &crate::live::FollowSummary) -> String {
    format!(
        "follow stopped\n  {:<28}{}\n  {:<28}{}\n  {:<28}{}\n  {:<28}{}\n",
        "records seen",
        summary.records_seen,
        "forwarded",
        summary.forwarded,
        "unchanged",
        summary.unchanged,
        "refused",
        summary.refused.len()
    )
}

/// `verify`'s text: what was checked, and each difference and unresolved seam.
pub fn render_verify(outcome: &PlanOutcome, differences: &[&crate::plan::PlanEntry], unresolved: &[&crate::plan::PlanEntry]) -> String {
    let against = match &outcome.target.connect {
        Some(c) => format!("connector {:?} at {}", c.connector, c.url),
        None => outcome.target.topic.clone().unwrap_or_else(|| "(no target topic)".into()),
    };
    let mut text = format!(
        "verify {against} against {}: {} records checked, {} differ\n  {:<28}{}\n",
        outcome.source_topic,
        outcome.entries.len(),
        differences.len(),
        "seam check",
        outcome.seam_check.summary,
    );
    for d in differences {
        text.push_str(&format!("  {}\n", describe_entry(d)));
    }
    for u in unresolved {
        text.push_str(&format!("  unresolved: {}\n", describe_entry(u)));
    }
    text
}

/// One output record as a JSON line: `{"topic":..,"partition":..,"key":..,"payload":..}`.
pub(crate) fn envelope(record: &TargetRecord) -> anyhow::Result<String> {
    Ok(serde_json::to_string(&Envelope::of(record)?)?)
}

/// An output record as `translate` prints it: `{"topic","partition","key","payload"}`.
#[derive(serde::Serialize)]
pub(crate) struct Envelope<'a> {
    topic: &'a str,
    partition: i32,
    key: &'a str,
    payload: Option<&'a str>,
}

impl<'a> Envelope<'a> {
    pub(crate) fn of(record: &'a TargetRecord) -> anyhow::Result<Envelope<'a>> {
        let key = std::str::from_utf8(&record.key)?;
        let payload = record.value.as_deref().map(std::str::from_utf8).transpose()?;
        Ok(Envelope { topic: &record.topic, partition: record.partition, key, payload })
    }
}

/// `translate --output json`: the records and the report in one document.
#[derive(serde::Serialize)]
pub(crate) struct TranslateJson<'a> {
    pub(crate) command: &'static str,
    pub(crate) plugin: &'a str,
    pub(crate) records: Vec<Envelope<'a>>,
    pub(crate) report: &'a Report,
}

/// The human-readable summary written to stderr.
pub fn render_report(plugin: &str, report: &Report) -> String {
    render_report_as(plugin, report, "records written")
}

/// The summary with `out_label` naming the records the plugin produced.
pub(crate) fn render_report_as(plugin: &str, report: &Report, out_label: &str) -> String {
    let mut out = format!("plugin {plugin}\n");
    let mut line = |label: &str, value: String| out.push_str(&format!("  {label:<28}{value}\n"));
    line("records read", report.records_read.to_string());
    line("tombstones", report.tombstones.to_string());
    line("superseded by later records", report.superseded.to_string());
    line("deleted by tombstones", report.deleted.to_string());
    if report.out_of_order > 0 {
        line("older than the held record", report.out_of_order.to_string());
    }
    if report.keys_in_several_partitions > 0 {
        line("keys in several partitions", report.keys_in_several_partitions.to_string());
    }
    line("live keys", report.live_keys.to_string());
    line(out_label, report.records_out.to_string());
    if report.duplicate_outputs > 0 {
        line("identical outputs merged", report.duplicate_outputs.to_string());
    }
    let skipped: u64 = report.skipped.values().sum();
    let reasons = report.skipped.iter().map(|(r, n)| format!("{r}: {n}")).collect::<Vec<_>>().join(", ");
    line("records skipped", if skipped == 0 { "0".to_owned() } else { format!("{skipped} ({reasons})") });
    for issue in &report.invalid {
        out.push_str(&format!("  invalid: {}: {}\n", issue.origin, issue.message));
    }
    out
}
