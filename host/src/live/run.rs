//! `run`: the plan written through its one gate, to the offsets topic or through Connect, and read back.

use super::{LiveError, LiveOptions, PlanOutcome, plan, timed};
use crate::connect::ConnectTarget;
use crate::kafka::{self, Delivered};
use crate::plugin::Plugin;
use crate::seam;

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

/// A write through Connect's offsets API.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConnectRun {
    /// Offsets altered (deletions included), each confirmed by `GET .../offsets`.
    pub altered: usize,
    /// Connect's own confirmation.
    pub message: String,
    /// Whether this run stopped the connector (`--stop-connector`); it is left stopped.
    pub stopped_by_run: bool,
    /// How to resume the connector once the migration is verified.
    pub resume_command: String,
}

/// Plans, refuses what is unsafe, creates the topic if needed, writes, and reads back.
pub fn run(plugin: &mut Plugin, options: &LiveOptions) -> Result<RunOutcome, LiveError> {
    // Through Connect the connector is stopped first: stopping commits its last offsets, which
    // the plan then reads.
    let stopped_by_run = match &options.connect {
        Some(connect) => ensure_stopped(connect)?,
        None => false,
    };
    // Started now so that it is connected, with its producer id, once the plan is made.
    let writer = match &options.connect {
        Some(_) => None,
        None => Some(kafka::Writer::start(&options.target)?),
    };
    let mut outcome = plan(plugin, options)?;
    let refused = plan::refusals(&outcome.entries, options.overrides);
    if !refused.is_empty() {
        return Err(LiveError::Refused(refused));
    }
    for e in &outcome.entries {
        if let Some(found) = e.seam.as_ref().filter(|s| s.status == seam::SeamStatus::Unproven) {
            tracing::warn!("{}: seam unproven, written as recorded: {}", plan::describe_key(&e.record.key), found.detail);
        }
    }
    if let Some(connect) = &options.connect {
        return run_through_connect(connect, outcome, stopped_by_run);
    }
    let to_write = plan::to_write(&outcome.entries);
    let (Some(topic), Some(writer)) = (outcome.target_topic.clone(), writer) else {
        return Ok(RunOutcome { plan: outcome, created_topic: false, written: Vec::new(), connect: None });
    };
    if to_write.is_empty() && !outcome.target_exists {
        return Ok(RunOutcome { plan: outcome, created_topic: false, written: Vec::new(), connect: None });
    }
    // Also for an existing topic with nothing to write: a non-compacted offsets topic is an error.
    let (partitions, created) = kafka::ensure_topic(&options.target, &topic, &options.setup)?;
    if partitions != outcome.target_partitions {
        // The topic appeared (or was created) with another partition count than planned for.
        return Err(LiveError::PartitionsChanged { topic, found: partitions, planned: outcome.target_partitions });
    }
    if to_write.is_empty() {
        return Ok(RunOutcome { plan: outcome, created_topic: created, written: Vec::new(), connect: None });
    }
    let written = {
        let _graceful = crate::interrupt::Graceful::begin();
        timed("wrote the records", || writer.write(&to_write))?
    };
    let read_back = timed("read the records back", || kafka::read_back(&options.target, &topic))?;
    let missing = plan::unconfirmed(&to_write, &read_back);
    if !missing.is_empty() {
        return Err(LiveError::NotConfirmed { topic: format!("{topic:?}"), missing });
    }
    // What --follow continues from: MM2's state now holds what was written.
    outcome.target_state.apply(&to_write);
    Ok(RunOutcome { plan: outcome, created_topic: created, written, connect: None })
}

/// Refuses unless the connector is STOPPED with no tasks, or stops it with `--stop-connector`;
/// whether it stopped it.
fn ensure_stopped(connect: &ConnectTarget) -> Result<bool, LiveError> {
    let status = connect.status()?;
    if status.is_stopped() {
        return Ok(false);
    }
    if !connect.stop_connector {
        return Err(LiveError::ConnectorRunning {
            connector: connect.connector.clone(),
            url: connect.client.url().to_owned(),
            state: status.state,
            tasks: status.tasks,
            stop_command: connect.stop_command(),
        });
    }
    tracing::info!("stopping connector {:?} ({}, {} task(s))", connect.connector, status.state, status.tasks);
    connect.stop()?;
    Ok(true)
}

/// PATCHes exactly the plan's writes and confirms each with `GET .../offsets`.
fn run_through_connect(
    connect: &ConnectTarget,
    mut outcome: PlanOutcome,
    stopped_by_run: bool,
) -> Result<RunOutcome, LiveError> {
    let mut run = ConnectRun { altered: 0, message: String::new(), stopped_by_run, resume_command: connect.resume_command() };
    let to_write = plan::to_write(&outcome.entries);
    if !to_write.is_empty() {
        run.message = connect.alter(&to_write)?;
        let missing = plan::unconfirmed(&to_write, &connect.read_back()?);
        if !missing.is_empty() {
            return Err(LiveError::NotConfirmed {
                topic: format!("connector {:?}'s offsets at {}", connect.connector, connect.client.url()),
                missing,
            });
        }
        run.altered = to_write.len();
        outcome.target_state.apply(&to_write);
    }
    Ok(RunOutcome { plan: outcome, created_topic: false, written: Vec::new(), connect: Some(run) })
}
