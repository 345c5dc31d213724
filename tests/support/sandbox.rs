//! The sandbox tests' harness: hostile test guests run by the built binary under a policy, each
//! in a scratch directory with its own compile cache.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{BIN, stderr, stdout};

pub(crate) fn guest(name: &str) -> &'static str {
    mm2_migrate_bundled::test_guest_path(name).expect("test guest built")
}

pub(crate) struct Scratch {
    pub(crate) dir: tempfile::TempDir,
}

impl Scratch {
    pub(crate) fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("input.jsonl"),
            [
                r#"{"topic":"connect-offsets","partition":0,"offset":0,"key":"[\"replicator\",{\"topic\":\"a\",\"partition\":0}]","payload":"{\"offset\":5}"}"#,
                r#"{"topic":"connect-offsets","partition":0,"offset":1,"key":"[\"replicator\",{\"topic\":\"b\",\"partition\":0}]","payload":"{\"offset\":6}"}"#,
            ]
            .join("\n"),
        )
        .unwrap();
        Scratch { dir }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn policy(&self, text: &str) -> String {
        let path = self.path("policy.toml");
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    /// `translate` with `plugin` and `settings` under the policy text (none: built-in policy).
    pub(crate) fn translate(&self, policy: Option<&str>, plugin: &str, settings: &[&str]) -> Output {
        let input = self.path("input.jsonl").display().to_string();
        let mut args = vec!["translate".to_owned(), "--plugin".to_owned(), plugin.to_owned(), "--input".to_owned(), input];
        if let Some(text) = policy {
            args.extend(["--policy".to_owned(), self.policy(text)]);
        }
        for s in settings {
            args.extend(["--set".to_owned(), (*s).to_owned()]);
        }
        run(&args, self.dir.path())
    }
}

pub(crate) fn run(args: &[String], cache: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .env("MM2_MIGRATE_CACHE_DIR", cache.join("cache"))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The run failed cleanly (exit 1, not a signal), wrote nothing, and named `needle`.
pub(crate) fn assert_stopped(output: &Output, needle: &str) {
    assert_eq!(output.status.code(), Some(1), "{}", stderr(output));
    assert!(output.stdout.is_empty(), "nothing may be written: {}", stdout(output));
    assert!(stderr(output).contains(needle), "missing {needle:?} in: {}", stderr(output));
}

pub(crate) fn sha256_of(path: &str, cache: &Path) -> String {
    let output = run(&["plugins".into(), "inspect".into(), path.into(), "--output".into(), "json".into()], cache);
    assert!(output.status.success(), "{}", stderr(&output));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    doc["inspection"]["sha256"].as_str().unwrap().to_owned()
}

pub(crate) fn assert_within(started: Instant, limit: Duration) {
    assert!(started.elapsed() < limit, "took {:?}, the deadline is far shorter", started.elapsed());
}

/// A raw component (no contract exports needed: instantiation allocates before exports are read).
pub(crate) fn raw_component(s: &Scratch, name: &str, wat: &str) -> String {
    let path = s.path(name);
    std::fs::write(&path, wat::parse_str(wat).unwrap()).unwrap();
    path.display().to_string()
}

pub(crate) fn instances_of(module: &str, count: usize) -> String {
    let instances: String = (0..count).map(|i| format!("(core instance $i{i} (instantiate $m))\n")).collect();
    format!("(component (core module $m {module})\n{instances})")
}

pub(crate) fn assert_tamed(output: &Output) {
    for text in [stdout(output), stderr(output)] {
        assert!(!text.contains('\u{1b}') && !text.contains('\r'), "raw control characters: {text:?}");
        assert!(!text.contains("\nrecords written             2"), "a forged report line: {text}");
        assert!(text.len() < 20_000, "{} bytes of plugin text", text.len());
    }
}
