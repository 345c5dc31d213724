//! mm2-migrate: moves replication progress from other replicators into MirrorMaker 2.

pub mod cli;
pub mod connect;
pub mod coverage;
pub mod input;
pub mod interrupt;
pub mod plugin;
pub mod model;
pub mod report;
pub mod translate;
pub mod kafka;
pub mod plan;
pub mod matching;
pub mod seam;
pub mod groups;
pub mod live;
pub mod cutover;
pub mod mm2config;
pub mod demo;
pub mod policy;
pub mod target;
#[cfg(test)]
mod layers;

/// Runs one step of a command, logging how long it took (`-v`).
pub(crate) fn timed<T>(step: &str, f: impl FnOnce() -> T) -> T {
    let started = std::time::Instant::now();
    let result = f();
    tracing::debug!("{step} in {:.2?}", started.elapsed());
    result
}

/// What the unit tests of several modules share.
#[cfg(test)]
pub(crate) mod testing {
    /// A file `name` holding `text`, in a directory that lives as long as the returned guard.
    pub(crate) fn file(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }
}
