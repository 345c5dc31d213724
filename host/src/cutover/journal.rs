//! The cut-over's journal: every step's outcome in a state file, written (atomically: a new file
//! renamed over the old, synced) before the next step begins, so that a rerun after a crash or a
//! refusal knows what was done, and what it must not do again.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::watch::ResumePoint;

/// The journal's format; a file of another version is refused rather than guessed at.
pub const VERSION: u32 = 1;

/// The steps of a cut-over, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Preflight,
    StopOld,
    Settle,
    FinalPlan,
    Write,
    Groups,
    StartMm2,
    Watch,
}

impl Step {
    pub const ALL: [Step; 8] =
        [Step::Preflight, Step::StopOld, Step::Settle, Step::FinalPlan, Step::Write, Step::Groups, Step::StartMm2, Step::Watch];

    pub fn name(self) -> &'static str {
        match self {
            Step::Preflight => "preflight",
            Step::StopOld => "stop the old tool",
            Step::Settle => "settle",
            Step::FinalPlan => "final plan",
            Step::Write => "write MM2's offsets",
            Step::Groups => "translate consumer groups",
            Step::StartMm2 => "start MM2",
            Step::Watch => "watch MM2 resume",
        }
    }

    pub fn number(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).expect("every step is listed") + 1
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Begun and not ended: the process stopped in the middle of it.
    Started,
    Done,
    Failed,
    /// Not needed for this cut-over (no groups, an old tool stopped by the operator).
    Skipped,
}

/// One step's latest outcome.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StepRecord {
    pub step: Step,
    pub status: Status,
    /// Seconds since the epoch.
    pub at: u64,
    pub detail: String,
}

/// The old tool's progress as read when it settled: what a rerun compares to see whether it
/// was restarted since.
pub type Progress = Vec<(String, String)>;

/// The state file's content.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Journal {
    pub version: u32,
    /// What this cut-over is (the old tool, the source of its progress, MM2's offsets): a rerun
    /// with other options is refused rather than resumed.
    pub identity: String,
    pub steps: Vec<StepRecord>,
    /// Whether this cut-over stopped the old connector (and how: stop or pause).
    pub old_stopped_by_cutover: Option<crate::connect::Transition>,
    /// The old tool's progress once settled.
    pub settled: Option<Progress>,
    /// Where MM2 must resume, per migrated partition: recorded before MM2 starts.
    pub resume_points: Vec<ResumePoint>,
    /// MM2's offsets written (records altered or produced).
    pub written: Option<usize>,
    /// Whether `--rollback` resumed the old tool: this cut-over is over.
    pub rolled_back: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot read the cut-over's state file {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the cut-over's state file {} is not one this version reads: {message}", path.display())]
    Format { path: PathBuf, message: String },
    #[error("cannot write the cut-over's state file {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error(
        "the state file {} belongs to another cut-over ({theirs}), not this one ({ours}): give this one its own --state",
        path.display()
    )]
    OtherCutover { path: PathBuf, theirs: String, ours: String },
}

impl Journal {
    /// The journal at `path`, or a new one for `identity` when there is no file.
    pub fn open(path: &Path, identity: &str) -> Result<Journal, JournalError> {
        match Journal::read_of(path, identity) {
            Err(JournalError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Ok(Journal { version: VERSION, identity: identity.to_owned(), ..Journal::default() })
            }
            other => other,
        }
    }

    /// The existing journal at `path`, refused unless it is `identity`'s (`--rollback`).
    pub fn read_of(path: &Path, identity: &str) -> Result<Journal, JournalError> {
        let journal = Journal::read(path)?;
        if journal.identity != identity {
            return Err(JournalError::OtherCutover { path: path.to_owned(), theirs: journal.identity, ours: identity.to_owned() });
        }
        Ok(journal)
    }

    /// An existing journal (for `--rollback` and `verify --after-resume`).
    pub fn read(path: &Path) -> Result<Journal, JournalError> {
        let bytes = std::fs::read(path).map_err(|source| JournalError::Read { path: path.to_owned(), source })?;
        Journal::parse(path, &bytes)
    }

    fn parse(path: &Path, bytes: &[u8]) -> Result<Journal, JournalError> {
        let journal: Journal =
            serde_json::from_slice(bytes).map_err(|e| JournalError::Format { path: path.to_owned(), message: e.to_string() })?;
        if journal.version != VERSION {
            return Err(JournalError::Format { path: path.to_owned(), message: format!("version {}, not {VERSION}", journal.version) });
        }
        Ok(journal)
    }

    /// The step's latest status.
    pub fn status(&self, step: Step) -> Option<Status> {
        self.steps.iter().rev().find(|r| r.step == step).map(|r| r.status)
    }

    pub fn is_done(&self, step: Step) -> bool {
        matches!(self.status(step), Some(Status::Done | Status::Skipped))
    }

    /// Whether the write may have begun: MM2's offsets may hold some of the plan.
    pub fn write_begun(&self) -> bool {
        self.status(Step::Write).is_some()
    }

    /// Records `step`'s outcome and saves the journal to `path` before anything else happens.
    pub fn record(&mut self, path: &Path, step: Step, status: Status, detail: &str) -> Result<(), JournalError> {
        let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        self.steps.push(StepRecord { step, status, at, detail: detail.to_owned() });
        self.save(path)
    }

    /// Writes the journal to a new file beside `path`, syncs it, and renames it over `path`: a
    /// crash leaves the old journal or the new one, never half of one.
    pub fn save(&self, path: &Path) -> Result<(), JournalError> {
        let failed = |source| JournalError::Write { path: path.to_owned(), source };
        let bytes = serde_json::to_vec_pretty(self).expect("a journal serializes");
        let directory = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut file = tempfile::NamedTempFile::new_in(directory).map_err(failed)?;
        file.write_all(&bytes).map_err(failed)?;
        file.as_file().sync_all().map_err(failed)?;
        file.persist(path).map_err(|e| failed(e.error))?;
        if let Ok(dir) = std::fs::File::open(directory) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_survives_a_round_trip_and_knows_its_latest_step() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut journal = Journal::open(&path, "a").unwrap();
        assert!(!path.exists(), "nothing is written until a step is recorded");
        journal.record(&path, Step::Write, Status::Started, "").unwrap();
        assert!(journal.write_begun() && !journal.is_done(Step::Write));
        journal.record(&path, Step::Write, Status::Done, "2 offsets").unwrap();
        let read = Journal::open(&path, "a").unwrap();
        assert_eq!(read, journal);
        assert!(read.is_done(Step::Write));
        assert_eq!(Step::Write.number(), 5);
    }

    #[test]
    fn another_cutovers_or_a_broken_journal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        Journal::open(&path, "a").unwrap().save(&path).unwrap();
        assert!(matches!(Journal::open(&path, "b"), Err(JournalError::OtherCutover { .. })));
        std::fs::write(&path, "{\"version\": 1, \"identity\": \"a\", \"steps\": [{\"step\": \"nap\"}]}").unwrap();
        assert!(matches!(Journal::open(&path, "a"), Err(JournalError::Format { .. })));
        std::fs::write(&path, serde_json::to_vec(&Journal { version: 9, identity: "a".into(), ..Journal::default() }).unwrap()).unwrap();
        assert!(Journal::open(&path, "a").unwrap_err().to_string().contains("version 9"));
    }
}
