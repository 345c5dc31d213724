//! Real MirrorMaker 2 in dedicated mode (connect-mirror from Maven Central), one flow
//! `<alias>->tgt`, killed when dropped.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use super::{log_tail, start_java};

pub(crate) struct MirrorMaker {
    child: Child,
    dir: tempfile::TempDir,
}

impl MirrorMaker {
    /// MM2 with IdentityReplicationPolicy copying `topics` from `source` (alias `alias`) to
    /// `target` (alias `tgt`); `extra` lines are added to its mm2.properties.
    pub(crate) fn start(alias: &str, source: &str, target: &str, topics: &str, extra: &str) -> MirrorMaker {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("mm2.properties");
        std::fs::write(&config, format!("{}{}", flow_properties(alias, source, target, topics), extra)).unwrap();
        MirrorMaker::run(dir, &config)
    }

    /// MM2 started from an mm2.properties file written by the test.
    pub(crate) fn from_file(config: &std::path::Path) -> MirrorMaker {
        MirrorMaker::run(tempfile::tempdir().unwrap(), config)
    }

    fn run(dir: tempfile::TempDir, config: &std::path::Path) -> MirrorMaker {
        let child = start_java(dir.path(), "mm2.log", &[], "org.apache.kafka.connect.mirror.MirrorMaker", config);
        MirrorMaker { child, dir }
    }

    pub(crate) fn log_tail(&self) -> String {
        log_tail(self.dir.path(), "mm2.log")
    }

    /// SIGKILL: no final offset commit.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for the exit: tasks stop and commit their offsets.
    pub(crate) fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("MirrorMaker 2 did not stop within 60 s of SIGTERM; its log:\n{}", self.log_tail());
    }
}

impl Drop for MirrorMaker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `done` holds, polling every half second; panics with MM2's log after `secs`.
pub(crate) fn wait_for(mm2: &MirrorMaker, what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}; MirrorMaker 2's log:\n{}", mm2.log_tail());
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The lines of an mm2.properties for one flow `<alias>->tgt` with IdentityReplicationPolicy,
/// single-broker replication factors and no heartbeats, checkpoints or config syncing.
pub(crate) fn flow_properties(alias: &str, source: &str, target: &str, topics: &str) -> String {
    format!(
        "clusters = {alias}, tgt\n\
         {alias}.bootstrap.servers = {source}\n\
         tgt.bootstrap.servers = {target}\n\
         {alias}->tgt.enabled = true\n\
         tgt->{alias}.enabled = false\n\
         {alias}->tgt.topics = {topics}\n\
         {}",
        common_properties()
    )
}

/// What every test flow shares.
pub(crate) fn common_properties() -> &'static str {
    "replication.policy.class = org.apache.kafka.connect.mirror.IdentityReplicationPolicy\n\
     replication.factor = 1\n\
     offset-syncs.topic.replication.factor = 1\n\
     checkpoints.topic.replication.factor = 1\n\
     heartbeats.topic.replication.factor = 1\n\
     offset.storage.replication.factor = 1\n\
     status.storage.replication.factor = 1\n\
     config.storage.replication.factor = 1\n\
     emit.heartbeats.enabled = false\n\
     emit.checkpoints.enabled = false\n\
     sync.topic.configs.enabled = false\n\
     sync.topic.acls.enabled = false\n\
     refresh.topics.interval.seconds = 5\n\
     tasks.max = 1\n"
}
