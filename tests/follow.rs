//! `run --follow` keeps every promise of `run`: each round passes the same gate against a real
//! broker, so a plugin that changes where its output goes after the run is stopped, not followed.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::sandbox::guest;
use support::*;

fn replicator_key(topic: &str, partition: i32) -> String {
    format!(r#"["replicator",{{"topic":"{topic}","partition":{partition}}}]"#)
}

/// `run --follow` with the adversarial guest under a policy allowing unpinned plugins.
fn follow(dir: &tempfile::TempDir, bootstrap: &str, source: &str, behavior: &str, extra: &[&str]) -> Child {
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "allow-unpinned = true\n").unwrap();
    let behavior = format!("behavior={behavior}");
    let mut args = vec!["--policy", policy.to_str().unwrap(), "run", "--follow", "--plugin", guest("adversarial")];
    args.extend(["--set", &behavior, "--source-bootstrap", bootstrap, "--source-topic", source, "--output", "json"]);
    args.extend_from_slice(extra);
    Command::new(BIN)
        .args(&args)
        .env("MM2_MIGRATE_CACHE_DIR", dir.path().join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The latest value of `key` in `topic`, read with kcat.
fn value_of(bootstrap: &str, topic: &str, key: &str) -> Option<String> {
    kcat_consume_if_exists(bootstrap, topic)
        .into_iter()
        .rfind(|r| r["key"] == key)
        .and_then(|r| r["payload"].as_str().map(str::to_owned))
}

fn wait_for(bootstrap: &str, topic: &str, key: &str, value: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while value_of(bootstrap, topic, key).as_deref() != Some(value) {
        assert!(Instant::now() < deadline, "{value} never reached {topic}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// SIGTERM once the follower has logged a refusal: its output and all it wrote on stderr.
fn stop_once_refused(mut child: Child) -> (std::process::Output, String) {
    let (lines, seen) = std::sync::mpsc::channel();
    let stderr_pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr_pipe)).map_while(Result::ok) {
            let _ = lines.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match seen.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if line.contains("not forwarded") => break,
            Ok(_) => {}
            Err(_) => {
                let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
                let _ = child.wait();
                panic!("no record was refused: {}", reader.join().unwrap());
            }
        }
    }
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let output = child.wait_with_output().unwrap();
    (output, reader.join().unwrap())
}

/// Waits for the follower to stop on its own; one still following after a minute is killed and
/// its output shown.
fn stopped(mut child: Child) -> std::process::Output {
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let output = child.wait_with_output().unwrap();
            panic!("--follow went on after the plugin changed its output: {}\n{}", stdout(&output), stderr(&output));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_plugin_naming_another_offsets_topic_under_follow_is_stopped_before_mm2s_offset_is_rewound() {
    let b = &shared_broker().bootstrap;
    let source = "connect-offsets-topic-per-call";
    let (x1, x2) = ("mm2-offsets.tpc-x1.internal", "mm2-offsets.tpc-x2.internal");
    create_topic(b, source, 1, "compact");
    // MM2 already holds offset 1000 for t/0 in the topic the plugin will name on its second call.
    let key = mm2_key("MirrorSourceConnector", "a", "t", 0);
    create_topic(b, x2, 1, "compact");
    kcat_produce(b, x2, &[(&key, Some(r#"{"offset":1000}"#))]);
    kcat_produce(b, source, &[(&replicator_key("t", 0), Some(r#"{"offset":5}"#))]);

    let dir = tempfile::tempdir().unwrap();
    let child = follow(&dir, b, source, "topic-per-call", &["--set", "topic=mm2-offsets.tpc.internal"]);
    wait_for(b, x1, &key, r#"{"offset":5}"#);
    kcat_produce(b, source, &[(&replicator_key("t", 0), Some(r#"{"offset":7}"#))]);

    let output = stopped(child);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "the plugin writes to mm2-offsets.tpc-x2.internal but the target topic is mm2-offsets.tpc-x1.internal"
        ),
        "{}",
        stderr(&output)
    );
    assert_eq!(value_of(b, x2, &key).as_deref(), Some(r#"{"offset":1000}"#), "MM2's offset rewound");
    assert_eq!(value_of(b, x1, &key).as_deref(), Some(r#"{"offset":5}"#));
}

#[test]
fn a_plugin_changing_its_alias_under_follow_is_stopped_by_the_flow_check_run_makes() {
    let b = &shared_broker().bootstrap;
    let source = "connect-offsets-alias-per-call";
    let target = "mm2-offsets.alias-flow.internal";
    create_topic(b, source, 1, "compact");
    kcat_produce(b, source, &[(&replicator_key("t", 0), Some(r#"{"offset":5}"#))]);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mm2.properties");
    std::fs::write(
        &config,
        format!("clusters = a, b\na.bootstrap.servers = {b}\nb.bootstrap.servers = {b}\na->b.enabled = true\noffset.storage.topic = {target}\n"),
    )
    .unwrap();
    let topic = format!("topic={target}");
    let extra = ["--mm2-config", config.to_str().unwrap(), "--set", &topic, "--allow-out-of-range", "--resume-at", "recorded"];
    let child = follow(&dir, b, source, "alias-per-call", &extra);
    let key_a = mm2_key("MirrorSourceConnector", "a", "t", 0);
    wait_for(b, target, &key_a, r#"{"offset":5}"#);
    kcat_produce(b, source, &[(&replicator_key("t", 0), Some(r#"{"offset":7}"#))]);

    let output = stopped(child);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("are not ones MM2's flow a->b"), "{}", stderr(&output));
    let key_b = mm2_key("MirrorSourceConnector", "b", "t", 0);
    assert_eq!(value_of(b, target, &key_b), None, "keys MM2 never reads were written");
}

#[test]
fn follow_stopped_by_a_signal_exits_non_zero_when_it_refused_records_on_the_way() {
    let b = &shared_broker().bootstrap;
    let source = "connect-offsets-follow-refused";
    let target = "mm2-offsets.folref.internal";
    create_topic(b, source, 1, "compact");
    kcat_produce(b, source, &[(&replicator_key("t", 0), Some(r#"{"offset":5}"#))]);
    let args = ["run", "--follow", "--plugin", "replicator-to-mm2", "--set", "source.cluster.alias=folref"];
    let child = Command::new(BIN)
        .args(args)
        .args(["--source-bootstrap", b, "--source-topic", source, "--output", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let key = mm2_key("MirrorSourceConnector", "folref", "t", 0);
    wait_for(b, target, &key, r#"{"offset":5}"#);
    // The old tool goes back: a rewind of MM2's offset, refused.
    kcat_produce(b, source, &[(&replicator_key("t", 0), Some(r#"{"offset":3}"#))]);
    let (output, err) = stop_once_refused(child);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(err.contains("1 record(s) were refused while following and not written"), "{err}");
    let summary = json(&output);
    assert_eq!(summary["refused"].as_array().map(Vec::len), Some(1), "{summary}");
    assert_eq!(value_of(b, target, &key).as_deref(), Some(r#"{"offset":5}"#));
}

#[test]
fn after_a_run_that_wrote_nothing_the_first_topic_followed_is_the_only_one() {
    let b = &shared_broker().bootstrap;
    let source = "connect-offsets-topic-per-call-empty";
    create_topic(b, source, 1, "compact");
    let key = mm2_key("MirrorSourceConnector", "a", "t", 0);
    let (x1, x2) = ("mm2-offsets.empty-x1.internal", "mm2-offsets.empty-x2.internal");
    create_topic(b, x2, 1, "compact");
    let dir = tempfile::tempdir().unwrap();
    // The run reads an empty topic: no record, no topic named; follow's first round names x1.
    let child = follow(&dir, b, source, "topic-per-call", &["--set", "topic=mm2-offsets.empty.internal", "--partitions", "1"]);
    std::thread::sleep(Duration::from_secs(3));
    kcat_produce(b, source, &[(&replicator_key("t", 0), Some(r#"{"offset":5}"#))]);
    wait_for(b, x1, &key, r#"{"offset":5}"#);
    kcat_produce(b, source, &[(&replicator_key("t", 0), Some(r#"{"offset":7}"#))]);

    let output = stopped(child);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("the target topic is mm2-offsets.empty-x1.internal"), "{}", stderr(&output));
    assert_eq!(value_of(b, x2, &key), None);
}

#[test]
fn an_offset_beyond_the_replicated_log_is_refused_under_follow_as_run_refuses_it() {
    let b = &shared_broker().bootstrap;
    let source = "connect-offsets-follow-range";
    let target = "mm2-offsets.folrange.internal";
    // The replicated topic holds 10 records: offsets up to 9 are in range, 1000 is not.
    create_topic(b, "follow-range-data", 1, "delete");
    produce_range(b, "follow-range-data", 0, 0..10);
    create_topic(b, source, 1, "compact");
    kcat_produce(b, source, &[(&replicator_key("follow-range-data", 0), Some(r#"{"offset":5}"#))]);
    let args = ["run", "--follow", "--plugin", "replicator-to-mm2", "--set", "source.cluster.alias=folrange"];
    let child = Command::new(BIN)
        .args(args)
        .args(["--source-bootstrap", b, "--source-topic", source, "--replicated-bootstrap", b, "--resume-at", "recorded"])
        .args(["--output", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let key = mm2_key("MirrorSourceConnector", "folrange", "follow-range-data", 0);
    wait_for(b, target, &key, r#"{"offset":5}"#);
    kcat_produce(b, source, &[(&replicator_key("follow-range-data", 0), Some(r#"{"offset":1000}"#))]);
    let (output, err) = stop_once_refused(child);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(err.contains("not forwarded") && err.contains("follow-range-data"), "{err}");
    assert_eq!(value_of(b, target, &key).as_deref(), Some(r#"{"offset":5}"#), "an out-of-range offset was written");
}
