//! Exit statuses, decided in one place from the typed errors of the library modules.

use crate::kafka::KafkaError;
use crate::live::LiveError;
use crate::target::TargetError;
use crate::plugin::PluginError;
use crate::translate::TranslateError;

/// Exit status: the job failed (invalid input, plugin failure, conflicting offsets); nothing was written.
pub const EXIT_FAILED: i32 = 1;
/// Exit status: the command line or the plugin configuration is wrong.
pub const EXIT_USAGE: i32 = 2;
/// Exit status: `run` refused to write because a record would be unsafe (rewind, out of range).
pub const EXIT_REFUSED: i32 = 3;
/// Exit status: `verify` found differences between the target topic and the plan.
pub const EXIT_DIFFERENT: i32 = 4;

/// A failed command and the exit status it maps to.
#[derive(Debug)]
pub struct Failure {
    pub status: i32,
    pub error: anyhow::Error,
}

/// An error and its causes on one line, each cause once: an error whose message already quotes
/// its source (`cannot read x: No such file or directory`) does not repeat it.
pub fn error_text(error: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

pub(crate) fn usage(e: impl Into<anyhow::Error>) -> Failure {
    Failure { status: EXIT_USAGE, error: e.into() }
}

/// MM2's flow that cannot be discovered is a usage error (a bad file, bad settings), unless a
/// Connect worker could not be asked (down, refusing, no such connector): that is a failure.
pub(crate) fn discovery_failure(e: crate::cli::options::JobError) -> Failure {
    match e {
        crate::cli::options::JobError::Connect(ref c)
            if !matches!(c, crate::connect::ConnectError::Settings(_) | crate::connect::ConnectError::Config { .. }) =>
        {
            failed(e)
        }
        other => usage(other),
    }
}

/// Setting-up errors (unknown plugin, bad configuration) are usage errors; the rest are failures.
pub(crate) fn plugin_failure(e: PluginError) -> Failure {
    if e.is_setup() { usage(e) } else { failed(e) }
}

/// Maps a live command's failure to its exit status.
pub(crate) fn live_failure(e: LiveError) -> Failure {
    match e {
        LiveError::Refused(_) => Failure { status: EXIT_REFUSED, error: e.into() },
        LiveError::Target(t) => target_failure(t),
        LiveError::Plugin(p) => plugin_failure(p),
        LiveError::Kafka(k) => kafka_failure(k),
        LiveError::FollowUsage(_) => usage(e),
        other => failed(other),
    }
}

/// A connector left running is a refusal; an interrupted write exits with the signal's status.
pub(crate) fn target_failure(e: TargetError) -> Failure {
    match e {
        TargetError::ConnectorRunning { .. } => Failure { status: EXIT_REFUSED, error: e.into() },
        TargetError::Write(ref w) if w.interrupted => {
            Failure { status: crate::interrupt::exit_status().unwrap_or(crate::interrupt::EXIT_SIGINT), error: e.into() }
        }
        TargetError::Kafka(k) => kafka_failure(k),
        other => failed(other),
    }
}

/// Client settings librdkafka refused are usage errors; the rest are failures.
pub(crate) fn kafka_failure(e: KafkaError) -> Failure {
    match e {
        KafkaError::Settings { .. } => usage(e),
        other => failed(other),
    }
}

impl From<crate::groups::GroupsError> for Failure {
    fn from(e: crate::groups::GroupsError) -> Failure {
        use crate::groups::GroupsError;
        match e {
            GroupsError::Usage(_) => usage(e),
            GroupsError::Refused(_) => Failure { status: EXIT_REFUSED, error: e.into() },
            GroupsError::Kafka(k) => kafka_failure(k),
            GroupsError::Write(ref w) if w.interrupted => {
                Failure { status: crate::interrupt::exit_status().unwrap_or(crate::interrupt::EXIT_SIGINT), error: e.into() }
            }
            GroupsError::NoMatch(_) | GroupsError::Write(_) | GroupsError::NotConfirmed(_) | GroupsError::Target(_) => failed(e),
        }
    }
}

impl From<PluginError> for Failure {
    fn from(e: PluginError) -> Failure {
        plugin_failure(e)
    }
}

impl From<LiveError> for Failure {
    fn from(e: LiveError) -> Failure {
        live_failure(e)
    }
}

impl From<TranslateError> for Failure {
    /// A plugin's tombstone is a refused rewind; setting-up errors of the plugin are usage errors.
    fn from(e: TranslateError) -> Failure {
        match e {
            TranslateError::Deletion { .. } => Failure { status: EXIT_REFUSED, error: e.into() },
            TranslateError::Plugin(p) => plugin_failure(p),
            other => failed(other),
        }
    }
}

impl From<KafkaError> for Failure {
    fn from(e: KafkaError) -> Failure {
        kafka_failure(e)
    }
}

impl From<crate::demo::DemoError> for Failure {
    fn from(e: crate::demo::DemoError) -> Failure {
        match e {
            crate::demo::DemoError::Plugin(p) => plugin_failure(p),
            other => failed(other),
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        failed(e)
    }
}

impl From<serde_json::Error> for Failure {
    fn from(e: serde_json::Error) -> Failure {
        failed(e)
    }
}

/// The job failed (exit 1).
pub(crate) fn failed(e: impl Into<anyhow::Error>) -> Failure {
    Failure { status: EXIT_FAILED, error: e.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_maps_to_its_status() {
        let usage = PluginError::UnknownPlugin { name: "x".into(), bundled: String::new() };
        assert_eq!(Failure::from(usage).status, EXIT_USAGE);
        assert_eq!(Failure::from(PluginError::Engine("e".into())).status, EXIT_FAILED);
        assert_eq!(Failure::from(LiveError::Refused(Vec::new())).status, EXIT_REFUSED);
        assert_eq!(Failure::from(LiveError::Target(TargetError::TargetIsSource { topic: "t".into() })).status, EXIT_FAILED);
        assert_eq!(Failure::from(LiveError::FollowUsage(crate::live::FOLLOW_THROUGH_CONNECT)).status, EXIT_USAGE);
        let deletion = TranslateError::Deletion { origin: "line 1".into(), key: "a:t/0".into() };
        assert_eq!(Failure::from(deletion).status, EXIT_REFUSED);
        assert_eq!(Failure::from(LiveError::Plugin(PluginError::Engine("e".into()))).status, EXIT_FAILED);
        let settings = || KafkaError::Settings { role: "source", bootstrap: "b:9092".into(), detail: "d".into() };
        assert_eq!(Failure::from(settings()).status, EXIT_USAGE);
        assert_eq!(Failure::from(LiveError::Kafka(settings())).status, EXIT_USAGE);
        use crate::groups::GroupsError;
        assert_eq!(Failure::from(GroupsError::Usage("u".into())).status, EXIT_USAGE);
        assert_eq!(Failure::from(GroupsError::NoMatch("n".into())).status, EXIT_FAILED);
        assert_eq!(Failure::from(GroupsError::Refused(vec!["r".into()])).status, EXIT_REFUSED);
        assert_eq!(Failure::from(GroupsError::Kafka(settings())).status, EXIT_USAGE);
        let client = KafkaError::Client { role: "source", bootstrap: "b:9092".into(), detail: "d".into() };
        assert_eq!(Failure::from(LiveError::Kafka(client)).status, EXIT_FAILED);
    }

    #[test]
    fn an_error_cause_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory (os error 2)");
        let error = anyhow::Error::from(crate::policy::PolicyError::Read { path: "p.toml".into(), source: io });
        assert_eq!(error_text(&error), "cannot read policy p.toml: No such file or directory (os error 2)");
        let chained = anyhow::anyhow!("inner cause").context("outer");
        assert_eq!(error_text(&chained), "outer: inner cause");
    }
}
