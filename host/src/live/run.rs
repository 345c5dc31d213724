//! `run`: the plan written through its one gate, to MM2's offsets where they live, and read back.

use super::{LiveError, LiveOptions, PlanOutcome};
use crate::kafka::Delivered;
use crate::plugin::Plugin;
use crate::{plan, seam};
use crate::target::ConnectRun;

/// What `run` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunOutcome {
    pub plan: PlanOutcome,
    pub created_topic: bool,
    /// The records written to the offsets topic (the topic path).
    pub written: Vec<Delivered>,
    /// What was written through Connect (the REST path).
    pub connect: Option<ConnectRun>,
}

/// Plans, refuses what is unsafe, writes, and reads back.
pub fn run(plugin: &mut Plugin, options: &LiveOptions) -> Result<RunOutcome, LiveError> {
    run_with(plugin, options, |_| Ok::<_, LiveError>(()))
}

/// [`run`], calling `before_write` once the plan has passed the rules, right before the write:
/// where `cutover` journals what it is about to write.
pub fn run_with<E: From<LiveError>>(
    plugin: &mut Plugin,
    options: &LiveOptions,
    before_write: impl FnOnce(&PlanOutcome) -> Result<(), E>,
) -> Result<RunOutcome, E> {
    // Before the plan: a connector is stopped first (stopping commits its last offsets, which the
    // plan then reads); a producer is connected, with its producer id, once the plan is made.
    let ready = options.target.prepare().map_err(LiveError::from)?;
    let outcome = super::plan(plugin, options).map_err(E::from)?;
    let refused = plan::refusals(&outcome.entries, options.overrides);
    if !refused.is_empty() {
        return Err(LiveError::Refused(refused).into());
    }
    for e in &outcome.entries {
        if let Some(found) = e.seam.as_ref().filter(|s| s.status == seam::SeamStatus::Unproven) {
            tracing::warn!("{}: seam unproven, written as recorded: {}", plan::describe_key(&e.record.key), found.detail);
        }
    }
    before_write(&outcome)?;
    let written = options.target.write(&ready, &outcome.target, &plan::to_write(&outcome.entries)).map_err(LiveError::from)?;
    Ok(RunOutcome { plan: outcome, created_topic: written.created_topic, written: written.delivered, connect: written.connect })
}
