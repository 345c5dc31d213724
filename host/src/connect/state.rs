//! A connector's state as Connect reports it, and the state changes the tool asks for.

/// A connector's state as `GET .../status` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConnectorState {
    /// RUNNING, PAUSED, STOPPED, FAILED, UNASSIGNED.
    pub state: String,
    pub tasks: usize,
}

impl ConnectorState {
    /// What Connect requires before it alters offsets: target state STOPPED and no tasks.
    pub fn is_stopped(&self) -> bool {
        self.state == "STOPPED" && self.tasks == 0
    }
}

/// A connector state change, asked for with `PUT /connectors/NAME/{stop,pause,resume}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transition {
    /// STOPPED with no tasks (Kafka >= 3.5): its last offsets committed, its offsets alterable.
    Stop,
    /// PAUSED: tasks kept but idle (older workers, which have no stop).
    Pause,
    Resume,
}

impl Transition {
    pub(super) fn path(self) -> &'static str {
        match self {
            Transition::Stop => "/stop",
            Transition::Pause => "/pause",
            Transition::Resume => "/resume",
        }
    }

    pub fn verb(self) -> &'static str {
        match self {
            Transition::Stop => "stop",
            Transition::Pause => "pause",
            Transition::Resume => "resume",
        }
    }

    /// Whether a connector in `state` has completed the change.
    pub fn reached(self, state: &ConnectorState) -> bool {
        match self {
            Transition::Stop => state.is_stopped(),
            Transition::Pause => state.state == "PAUSED",
            Transition::Resume => state.state == "RUNNING",
        }
    }
}

