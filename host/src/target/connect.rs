//! A MirrorSourceConnector's offsets through Connect's REST API: refused while it runs, altered
//! with one PATCH, and confirmed with `GET .../offsets`.

use std::borrow::Borrow;

use super::{Current, TargetError, Written};
use crate::connect::{ConnectTarget, ConnectorState, PARTITIONS};
use crate::model::TargetRecord;
use crate::plan;

/// The connector whose offsets the plan read through Connect.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConnectSource {
    pub url: String,
    pub connector: String,
    /// Its state when the plan was made.
    pub status: ConnectorState,
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

/// Refuses unless the connector is STOPPED with no tasks, or stops it with `--stop-connector`;
/// whether it stopped it.
pub(super) fn ensure_stopped(connect: &ConnectTarget) -> Result<bool, TargetError> {
    let status = connect.status()?;
    if status.is_stopped() {
        return Ok(false);
    }
    if !connect.stop_connector {
        return Err(TargetError::ConnectorRunning {
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

pub(super) fn current(connect: &ConnectTarget) -> Result<Current, TargetError> {
    let status = connect.status()?;
    let source = ConnectSource { url: connect.client.url().to_owned(), connector: connect.connector.clone(), status };
    Ok(Current { topic: None, exists: true, partitions: PARTITIONS, state: connect.state()?, connect: Some(source) })
}

/// PATCHes exactly `to_write` and confirms each with `GET .../offsets`.
pub(super) fn write<R: Borrow<TargetRecord>>(connect: &ConnectTarget, stopped_by_run: bool, to_write: &[R]) -> Result<Written, TargetError> {
    let mut run = ConnectRun { altered: 0, message: String::new(), stopped_by_run, resume_command: connect.resume_command() };
    if !to_write.is_empty() {
        run.message = connect.alter(to_write)?;
        let missing = plan::unconfirmed(to_write, &connect.read_back()?);
        if !missing.is_empty() {
            return Err(TargetError::NotConfirmed {
                topic: format!("connector {:?}'s offsets at {}", connect.connector, connect.client.url()),
                missing,
            });
        }
        run.altered = to_write.len();
    }
    Ok(Written { connect: Some(run), ..Written::default() })
}
