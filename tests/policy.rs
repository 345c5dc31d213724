//! Policy-controlled execution, proven with hostile plugins run by the built binary: every limit
//! trips with an error naming it, within the configured time, the process exits cleanly, and
//! nothing of the failed batch reaches stdout.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::sandbox::*;
use support::{BIN, stderr, stdout};

#[test]
fn an_endless_loop_is_stopped_at_the_deadline() {
    let s = Scratch::new();
    let started = Instant::now();
    let output = s.translate(Some("allow-unpinned = true\n[limits]\ncall-timeout-ms = 300\n"), guest("adversarial"), &["behavior=loop"]);
    assert_stopped(&output, "exceeded its time limit (limits.call-timeout-ms = 300) in apply");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
}

#[test]
fn fuel_bounds_a_batch_deterministically() {
    let s = Scratch::new();
    let output = s.translate(Some("allow-unpinned = true\n[limits]\nfuel-per-batch = 5000000\n"), guest("adversarial"), &["behavior=loop"]);
    assert_stopped(&output, "exhausted its fuel (limits.fuel-per-batch = 5000000) in apply");
    // The same budget is plenty for a plugin that behaves.
    let output = s.translate(Some("allow-unpinned = true\n[limits]\nfuel-per-batch = 5000000\n"), guest("adversarial"), &["behavior=echo"]);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn a_memory_bomb_hits_the_memory_limit() {
    let s = Scratch::new();
    let output = s.translate(Some("allow-unpinned = true\n[limits]\nmemory-bytes = 16777216\n"), guest("adversarial"), &["behavior=memory"]);
    assert_stopped(&output, "exceeded its memory limit (limits.memory-bytes = 16777216) in apply");
}

#[test]
fn runaway_recursion_hits_the_stack_limit() {
    let s = Scratch::new();
    let output = s.translate(Some("allow-unpinned = true\n[limits]\nwasm-stack-bytes = 131072\n"), guest("adversarial"), &["behavior=stack"]);
    assert_stopped(&output, "overflowed its stack (limits.wasm-stack-bytes = 131072) in apply");
}

#[test]
fn output_bounds_stop_the_batch() {
    let s = Scratch::new();
    let output = s.translate(None, guest("adversarial"), &["behavior=huge-output"]);
    assert_stopped(&output, "output.max-records-per-input exceeded: 1000 records for input 0, at most 16");
    let output = s.translate(None, guest("adversarial"), &["behavior=big-record"]);
    assert_stopped(&output, "output.max-record-bytes exceeded");
    let output = s.translate(Some("allow-unpinned = true\n[output]\nmax-batch-bytes = 100\n"), guest("adversarial"), &["behavior=echo"]);
    assert_stopped(&output, "output.max-batch-bytes exceeded");
}

#[test]
fn emitting_to_a_forbidden_topic_is_stopped() {
    let s = Scratch::new();
    // Kafka's internal topics are forbidden by the built-in policy.
    let output = s.translate(None, guest("adversarial"), &["behavior=forbidden-topic"]);
    assert_stopped(&output, "topics.target exceeded: it emitted to topic \"__consumer_offsets\"");
    // A policy narrows the targets further.
    let policy = "allow-unpinned = true\n[topics]\ntarget = [\"mm2-offsets\\\\..*\\\\.internal\"]\n";
    let output = s.translate(Some(policy), guest("adversarial"), &["behavior=echo", "topic=elsewhere"]);
    assert_stopped(&output, "emitted to topic \"elsewhere\"");
    let output = s.translate(Some(policy), guest("adversarial"), &["behavior=echo"]);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn source_topics_are_checked() {
    let s = Scratch::new();
    let policy = "[topics]\nsource = [\"replicator-offsets\"]\n";
    let output = s.translate(Some(policy), "replicator-to-mm2", &["source.cluster.alias=a"]);
    assert_stopped(&output, "the policy does not allow reading topic \"connect-offsets\" (topics.source)");
}

#[test]
fn the_sandbox_gives_no_environment_arguments_or_stdin_and_captures_stdout() {
    let s = Scratch::new();
    let input = s.path("input.jsonl").display().to_string();
    let args: Vec<String> = ["-v", "translate", "--plugin", guest("adversarial"), "--set", "behavior=probe-env", "--input", &input]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
    let output = Command::new(BIN)
        .args(&args)
        .env("MM2_MIGRATE_CACHE_DIR", s.path("cache"))
        .env("SECRET_TOKEN", "hunter2")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("stdout: probe env=0 args=0 stdin=0"), "{err}");
    assert!(err.contains("stderr: probe stderr"), "{err}");
    assert!(!err.contains("hunter2") && !stdout(&output).contains("hunter2"));
}

#[test]
fn chatty_plugins_are_cut_at_the_log_budget() {
    let s = Scratch::new();
    let output = s.translate(Some("allow-unpinned = true\n[output]\nmax-log-bytes-per-batch = 1000\n"), guest("adversarial"), &["behavior=stdout-flood"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("bytes of plugin stdout dropped: over output.max-log-bytes-per-batch"), "{}", stderr(&output));
    let output = s.translate(Some("allow-unpinned = true\n[output]\nmax-log-bytes-per-batch = 1000\n"), guest("adversarial"), &["behavior=log-flood"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("plugin log lines dropped"), "{}", stderr(&output));
}

#[test]
fn a_panic_is_a_trap_not_a_crash() {
    let s = Scratch::new();
    let output = s.translate(None, guest("adversarial"), &["behavior=panic"]);
    assert_stopped(&output, "trapped in apply: wasm trap: wasm `unreachable` instruction executed");
    assert!(stderr(&output).contains("adversarial plugin panics on purpose"), "{}", stderr(&output));
}

#[test]
fn components_importing_files_or_sockets_are_refused_at_load() {
    let s = Scratch::new();
    let output = s.translate(None, guest("adversarial-imports"), &[]);
    assert_stopped(&output, "imports wasi:");
    let err = stderr(&output);
    assert!(err.contains("wasi:filesystem") || err.contains("wasi:sockets"), "{err}");
    assert!(err.contains("which plugins may not use"), "{err}");

    let inspect = run(&["plugins".into(), "inspect".into(), guest("adversarial-imports").into()], s.dir.path());
    assert_eq!(inspect.status.code(), Some(1));
    assert!(stdout(&inspect).contains("<- refused") && stdout(&inspect).contains("refused: it imports wasi:"), "{}", stdout(&inspect));
}

#[test]
fn pinned_plugins_run_and_tampered_ones_are_refused_before_compiling() {
    let s = Scratch::new();
    let original = guest("adversarial");
    let sha = sha256_of(original, s.dir.path());
    let policy = format!("[[plugins]]\nname = \"adversarial\"\nsha256 = \"{sha}\"\n");
    let output = s.translate(Some(&policy), original, &["behavior=echo"]);
    assert!(output.status.success(), "{}", stderr(&output));

    // One flipped byte: another hash, refused before compilation (garbage would not compile).
    let mut bytes = std::fs::read(original).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    let tampered = s.path("tampered.wasm");
    std::fs::write(&tampered, &bytes).unwrap();
    let output = s.translate(Some(&policy), tampered.to_str().unwrap(), &["behavior=echo"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("is not allowed by policy") && err.contains("is not pinned"), "{err}");
    assert!(!err.contains("not a valid component"), "refused before compiling: {err}");

    // A pin names the plugin: the right bytes under another name are refused too.
    let policy = format!("[[plugins]]\nname = \"replicator-to-mm2\"\nsha256 = \"{sha}\"\n");
    let output = s.translate(Some(&policy), original, &["behavior=echo"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("pinned as \"replicator-to-mm2\" but it calls itself \"adversarial\""), "{}", stderr(&output));

    // Bundled plugins can be switched off.
    let output = s.translate(Some("allow-bundled = false\n"), "replicator-to-mm2", &["source.cluster.alias=a"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("bundled plugins are not allowed"), "{}", stderr(&output));
}

#[test]
fn policy_files_are_validated_with_clear_errors() {
    let s = Scratch::new();
    for (text, needle) in [
        ("[limits]\ntimeout = 5\n", "unknown field `timeout`"),
        ("contract = \"soon\"\n", "not a version requirement"),
        ("[limits]\ncall-timeout-ms = 1\n", "limits.call-timeout-ms"),
    ] {
        let output = s.translate(Some(text), "replicator-to-mm2", &["source.cluster.alias=a"]);
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert!(stderr(&output).contains(needle), "{text}: {}", stderr(&output));
    }
    // A contract range that excludes the plugin's contract refuses it.
    let output = s.translate(Some("contract = \">=0.2.0\"\n"), "replicator-to-mm2", &["source.cluster.alias=a"]);
    assert_stopped(&output, "was built for contract 0.1.0");
}

#[test]
fn compiled_components_are_cached_and_reused() {
    let s = Scratch::new();
    let input = s.path("input.jsonl").display().to_string();
    let args: Vec<String> = ["-v", "translate", "--plugin", "replicator-to-mm2", "--set", "source.cluster.alias=a", "--input", &input]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
    let first = run(&args, s.dir.path());
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stderr(&first).contains("plugin replicator-to-mm2: compiled in"), "{}", stderr(&first));
    let entries: Vec<_> = std::fs::read_dir(s.path("cache")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let second = run(&args, s.dir.path());
    assert!(second.status.success());
    assert!(stderr(&second).contains("plugin replicator-to-mm2: loaded compiled component from the cache"), "{}", stderr(&second));
    assert_eq!(stdout(&first), stdout(&second));

    // A corrupted entry is not trusted: it is recompiled.
    let entry = s.path("cache").join(&entries[0]);
    let whole = std::fs::read(&entry).unwrap();
    std::fs::write(&entry, b"not a compiled component").unwrap();
    let third = run(&args, s.dir.path());
    assert!(third.status.success(), "{}", stderr(&third));
    assert!(stderr(&third).contains("is not an entry of this version; compiling again"), "{}", stderr(&third));
    assert_eq!(stdout(&first), stdout(&third));

    // Code damaged behind an intact header is never executed (it used to crash the process).
    for offset in [whole.len() / 3, whole.len() / 2, whole.len() * 3 / 4] {
        let mut damaged = whole.clone();
        damaged[offset] ^= 0x5a;
        std::fs::write(&entry, &damaged).unwrap();
        let again = run(&args, s.dir.path());
        assert!(again.status.success(), "{}", stderr(&again));
        assert!(stderr(&again).contains("is damaged (its digest does not match); compiling again"), "{}", stderr(&again));
        assert_eq!(stdout(&first), stdout(&again));
    }

    // A cache directory someone else could write is not used, and the run says so.
    let shared = s.path("shared-cache");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let output = Command::new(BIN).args(&args).env("MM2_MIGRATE_CACHE_DIR", &shared).stdin(Stdio::null()).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("not used: it is writable by others"), "{}", stderr(&output));
    assert_eq!(std::fs::read_dir(&shared).unwrap().count(), 0, "nothing written to it");
}

#[test]
fn inspect_prints_a_policy_entry() {
    let s = Scratch::new();
    let output = run(&["plugins".into(), "inspect".into(), guest("adversarial").into()], s.dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    for needle in ["sha256    ", "imports\n", "mm2:plugin/types@0.1.0", "adversarial 0.1.0 (contract 0.1.0)", "--set behavior=<string>", "[[plugins]]\n  name = \"adversarial\"\n  sha256 = \""] {
        assert!(text.contains(needle), "missing {needle:?} in {text}");
    }
}

/// The run took less than `limit`: a deadline held.
#[test]
fn a_blocking_call_is_stopped_at_the_deadline_in_every_call() {
    let s = Scratch::new();
    let policy = "allow-unpinned = true\n[limits]\ncall-timeout-ms = 300\n";
    // The plugins sleep 30 s; compiled once first, so only the calls are timed.
    assert!(s.translate(Some(policy), guest("adversarial"), &["behavior=echo"]).status.success());
    for (behavior, call) in [("sleep", "apply"), ("sleep-in-configure", "configure")] {
        let started = Instant::now();
        let output = s.translate(Some(policy), guest("adversarial"), &[&format!("behavior={behavior}")]);
        assert_stopped(&output, &format!("exceeded its time limit (limits.call-timeout-ms = 300) in {call}"));
        assert_within(started, Duration::from_secs(6));
    }
    // A failing close only warns; it does not hold the run for its sleep either.
    let started = Instant::now();
    let output = s.translate(Some(policy), guest("adversarial"), &["behavior=sleep-in-close"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("exceeded its time limit (limits.call-timeout-ms = 300) in close"), "{}", stderr(&output));
    assert_within(started, Duration::from_secs(6));

    // describe runs before any configuration, and `plugins inspect` runs it too.
    let started = Instant::now();
    let args = ["--policy".to_owned(), s.policy(policy), "plugins".into(), "inspect".into(), guest("adversarial-describe").into()];
    let output = run(&args, s.dir.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("exceeded its time limit (limits.call-timeout-ms = 300) in describe"), "{}", stderr(&output));
    assert_within(started, Duration::from_secs(10));
}

#[test]
fn the_memory_limit_bounds_all_memories_together_and_counts_are_capped() {
    let s = Scratch::new();
    let policy = "allow-unpinned = true\n[limits]\nmemory-bytes = 16777216\n";
    // 40 memories of 15 MiB each, every one under the limit on its own.
    let many = raw_component(&s, "many-memories.wasm", &instances_of("(memory 240)", 40));
    assert_stopped(&s.translate(Some(policy), &many, &[]), "exceeded its memory limit (limits.memory-bytes = 16777216) in instantiation");
    // Tables count against the same budget.
    let tables = raw_component(&s, "big-tables.wasm", &instances_of("(table 1000000 funcref)", 2));
    assert_stopped(&s.translate(Some(policy), &tables, &[]), "exceeded its memory limit (limits.memory-bytes = 16777216)");
    // Tiny instances and memories, but too many of them.
    let instances = raw_component(&s, "many-instances.wasm", &instances_of("(func)", 100));
    assert_stopped(&s.translate(Some(policy), &instances, &[]), "at most 64 core instances, 8 memories and 64 tables");
    let memories = raw_component(&s, "many-small-memories.wasm", &instances_of("(memory 1)", 20));
    assert_stopped(&s.translate(Some(policy), &memories, &[]), "at most 64 core instances, 8 memories and 64 tables");
}

#[test]
fn components_for_another_contract_are_named() {
    let s = Scratch::new();
    for version in ["0.2.0", "1.0.0"] {
        let other = raw_component(&s, "other.wasm", &format!("(component (import \"mm2:plugin/host@{version}\" (instance)))"));
        let output = s.translate(Some("allow-unpinned = true\n"), &other, &[]);
        assert_stopped(&output, &format!("was built for contract {version}; this host runs contract 0.1.0"));
    }
}

#[test]
fn clocks_and_random_are_deterministic_unless_the_policy_allows_real_ones() {
    let s = Scratch::new();
    let policy = "allow-unpinned = true\n";
    let runs: Vec<String> = (0..3).map(|_| stdout(&s.translate(Some(policy), guest("adversarial"), &["behavior=entropy"]))).collect();
    assert!(!runs[0].is_empty());
    assert!(runs.iter().all(|r| *r == runs[0]), "{runs:?}");
    let real = "allow-unpinned = true\nallow-real-clocks = true\nallow-real-random = true\n";
    let runs: Vec<String> = (0..2).map(|_| stdout(&s.translate(Some(real), guest("adversarial"), &["behavior=entropy"]))).collect();
    assert_ne!(runs[0], runs[1], "real clocks and random differ between runs");
}

#[test]
fn only_exact_mm2_records_leave_a_plugin() {
    let s = Scratch::new();
    // The adversarial guest's LOOKALIKES, one per input offset.
    for index in 0..8 {
        let input = s.path("one.jsonl");
        std::fs::write(&input, format!(r#"{{"topic":"connect-offsets","partition":0,"offset":{index},"key":"k","payload":"v"}}"#)).unwrap();
        let args = ["translate", "--plugin", guest("adversarial"), "--set", "behavior=mm2-lookalike", "--input", input.to_str().unwrap()];
        let output = run(&args.map(str::to_owned), s.dir.path());
        assert_stopped(&output, "line 1: the plugin's output is not a valid offset record");
    }
    let output = s.translate(None, guest("adversarial"), &["behavior=max-offset"]);
    assert_stopped(&output, "offset must be an integer in 0..=9223372036854775806");
}

#[test]
fn plugin_tombstones_are_refused_unless_deletions_are_allowed() {
    let s = Scratch::new();
    let output = s.translate(None, guest("adversarial"), &["behavior=tombstone"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    assert!(stderr(&output).contains("emitted a tombstone for a:t/0") && stderr(&output).contains("--allow-delete"), "{}", stderr(&output));
    let input = s.path("input.jsonl").display().to_string();
    let args = ["translate", "--plugin", guest("adversarial"), "--set", "behavior=tombstone", "--input", &input, "--allow-delete"];
    let output = run(&args.map(str::to_owned), s.dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains(r#""payload":null"#), "{}", stdout(&output));
}

/// No raw control character of the plugin's reaches the terminal, and its text is bounded.
#[test]
fn plugin_text_is_escaped_and_bounded_wherever_it_is_shown() {
    let s = Scratch::new();
    let output = s.translate(None, guest("adversarial"), &["behavior=escape-text"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("\\u{1b}[2J"), "escaped, not dropped: {}", stderr(&output));
    assert_tamed(&output);
    for behavior in ["huge-error", "escape-config", "panic"] {
        let output = s.translate(None, guest("adversarial"), &[&format!("behavior={behavior}")]);
        assert!(!output.status.success());
        assert!(stderr(&output).contains("\\u{1b}"), "{behavior}: {}", stderr(&output));
        assert_tamed(&output);
    }
    for format in ["text", "json"] {
        let args = ["plugins", "inspect", guest("adversarial"), "--output", format].map(str::to_owned);
        let output = run(&args, s.dir.path());
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(stdout(&output).contains("u{1b}"), "{}", stdout(&output));
        assert_tamed(&output);
    }
}

#[test]
fn messages_name_the_limit_or_the_reason() {
    let s = Scratch::new();
    // A stack limit inside the documented range works (it used to fail with an engine error).
    let output = s.translate(Some("allow-unpinned = true\n[limits]\nwasm-stack-bytes = 8388608\n"), guest("adversarial"), &["behavior=echo"]);
    assert!(output.status.success(), "{}", stderr(&output));
    // Fuel exhausted while instantiating names the limit.
    let output = s.translate(Some("allow-unpinned = true\n[limits]\nfuel-per-batch = 1\n"), guest("adversarial"), &["behavior=echo"]);
    assert_stopped(&output, "limits.fuel-per-batch = 1");
    // A configuration refused without a reason says so.
    let output = s.translate(None, guest("adversarial"), &["behavior=silent-config-error"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("rejected its configuration without giving a reason"), "{}", stderr(&output));
    // Inputs mapped to nothing are counted.
    let output = s.translate(None, guest("adversarial"), &["behavior=empty-emit"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("emitted-nothing: 2"), "{}", stderr(&output));
    let input = s.path("input.jsonl").display().to_string();
    let args = ["translate", "--plugin", guest("adversarial"), "--set", "behavior=empty-emit", "--input", &input, "--output", "json"];
    let output = run(&args.map(str::to_owned), s.dir.path());
    let doc: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(doc["report"]["skipped"]["emitted-nothing"], 2, "{doc}");
    assert_eq!(doc["report"]["records_read"], 2, "{doc}");
    assert_eq!(doc["records"].as_array().unwrap().len(), 0);
    // An empty MM2_MIGRATE_POLICY is named, not taken for a missing --policy value.
    let args = ["translate", "--plugin", "replicator-to-mm2", "--set", "source.cluster.alias=a", "--input", &input];
    let output = Command::new(BIN).args(args).env("MM2_MIGRATE_POLICY", "").env("MM2_MIGRATE_CACHE_DIR", s.path("cache")).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("MM2_MIGRATE_POLICY is set but empty"), "{}", stderr(&output));
    // An I/O error's cause is printed once.
    let args = ["--policy", "/nonexistent/policy.toml", "translate", "--plugin", "replicator-to-mm2", "--input", &input];
    let output = run(&args.map(str::to_owned), s.dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output).matches("No such file or directory").count(), 1, "{}", stderr(&output));
}

#[test]
fn a_policy_can_skip_bad_records() {
    let s = Scratch::new();
    let input = s.path("input.jsonl").display().to_string();
    let policy = s.policy("allow-unpinned = true\non-bad-record = \"skip\"\n");
    let args = ["--policy", &policy, "translate", "--plugin", guest("adversarial"), "--set", "behavior=huge-error", "--input", &input, "--output", "json"];
    let output = run(&args.map(str::to_owned), s.dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(doc["report"]["skipped"]["invalid"], 2, "{doc}");
    // Without the policy, the first invalid record stops the run.
    assert_stopped(&s.translate(None, guest("adversarial"), &["behavior=huge-error"]), "line 1");
}
