//! `plan`, `run`, `verify` and `run --follow` against a real Kafka broker (KRaft, started by
//! tests/kafka/broker.sh), with kcat as the independent client writing inputs and reading results.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use support::docs::documented;
use support::*;

fn rkey(connector: &str, topic: &str, partition: i32) -> String {
    format!(r#"["{connector}",{{"topic":"{topic}","partition":{partition}}}]"#)
}

/// The live state of a topic read with kcat: key → (partition, payload), latest wins.
fn live_state(bootstrap: &str, topic: &str) -> HashMap<String, (i64, Option<String>)> {
    let mut state = HashMap::new();
    for r in kcat_consume_if_exists(bootstrap, topic) {
        let key = r["key"].as_str().unwrap().to_owned();
        state.insert(key, (r["partition"].as_i64().unwrap(), r["payload"].as_str().map(str::to_owned)));
    }
    state
}

fn run_args<'a>(bootstrap: &'a str, source_topic: &'a str, alias: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--plugin",
        "replicator-to-mm2",
        "--set",
        alias,
        "--source-bootstrap",
        bootstrap,
        "--source-topic",
        source_topic,
    ];
    args.extend_from_slice(extra);
    args
}

fn command<'a>(name: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec![name];
    all.extend_from_slice(args);
    all
}

#[test]
fn run_migrates_byte_exact_then_writes_nothing_and_refuses_rewinds() {
    let b = &shared_broker().bootstrap;
    let source = "connect-offsets-run";
    create_topic(b, source, 5, "compact");
    kcat_produce(
        b,
        source,
        &[
            (&rkey("replicator", "orders", 0), Some(r#"{"offset":10}"#)),
            (&rkey("replicator", "orders", 1), Some(r#"{"offset":3}"#)),
            (&rkey("replicator", "orders", 0), Some(r#"{"offset":41}"#)),
            (&rkey("other-connector", "orders", 2), Some(r#"{"offset":9}"#)),
            (r#"["replicator",{"partition":2,"topic":"orders"}]"#, Some(r#"{"offset":99}"#)),
            (&rkey("replicator", "orders", 2), Some(r#"{"offset":17}"#)),
            (&rkey("replicator", "payments", 0), Some(r#"{"offset":5}"#)),
            (&rkey("replicator", "payments", 0), None),
            (&rkey("replicator", r#"a\"quote/ü"#, 0), Some(r#"{"offset":7}"#)),
        ],
    );
    let alias = "source.cluster.alias=runalias";
    let target = "mm2-offsets.runalias.internal";

    // plan writes nothing, not even the topic.
    let plan = mm2_migrate(&command("plan", &run_args(b, source, alias, &["--output", "json"])));
    assert!(plan.status.success(), "{}", stderr(&plan));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&plan)).unwrap();
    assert_eq!(doc["plan"]["counts"]["new"], 4, "{doc}");
    assert_eq!(doc["plan"]["target_exists"], false, "{doc}");
    assert!(doc["plan"]["policy"].as_str().unwrap().starts_with("policy built-in default: bundled plugins allowed"), "{doc}");
    // Without a replicated cluster nothing proves the resume point, and the plan says so.
    assert_eq!(doc["plan"]["seam_check"]["ran"], false, "{doc}");
    assert!(doc["plan"]["entries"].as_array().unwrap().iter().all(|e| e["seam"].is_null()), "{doc}");
    let text = stdout(&mm2_migrate(&command("plan", &run_args(b, source, alias, &[]))));
    assert!(text.contains("seam check                  not run: without --replicated-bootstrap"), "{text}");
    assert!(!kafka_topics(b, &["--list"]).lines().any(|l| l == target), "plan must not create the topic");

    let first = mm2_migrate(&command("run", &run_args(b, source, alias, &["--output", "json"])));
    assert!(first.status.success(), "{}", stderr(&first));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&first)).unwrap();
    assert_eq!((doc["written"].as_array().unwrap().len(), &doc["created_topic"]), (4, &serde_json::json!(true)), "{doc}");

    // The topic MM2 would have created: 25 partitions, compacted.
    let described = kafka_topics(b, &["--describe", "--topic", target]);
    assert!(described.contains("PartitionCount: 25") && described.contains("cleanup.policy=compact"), "{described}");

    // Byte-exact records, each in the partition Java's murmur2 picks.
    let expected: HashMap<String, &str> = HashMap::from([
        (mm2_key("MirrorSourceConnector", "runalias", "orders", 0), r#"{"offset":41}"#),
        (mm2_key("MirrorSourceConnector", "runalias", "orders", 1), r#"{"offset":3}"#),
        (mm2_key("MirrorSourceConnector", "runalias", "orders", 2), r#"{"offset":17}"#),
        (r#"["MirrorSourceConnector",{"cluster":"runalias","partition":0,"topic":"a\"quote/ü"}]"#.to_owned(), r#"{"offset":7}"#),
    ]);
    let records = kcat_consume(b, target);
    assert_eq!(records.len(), 4, "{records:?}");
    let keys: Vec<String> = expected.keys().cloned().collect();
    let oracle = java_partitions(b, &keys, 25);
    for r in &records {
        let key = r["key"].as_str().unwrap();
        assert_eq!(Some(&r["payload"].as_str().unwrap()), expected.get(key), "{key}");
        assert_eq!(r["partition"].as_i64(), oracle.get(key).copied(), "{key}");
    }

    // A second run writes nothing.
    let second = mm2_migrate(&command("run", &run_args(b, source, alias, &["--output", "json"])));
    assert!(second.status.success(), "{}", stderr(&second));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&second)).unwrap();
    assert_eq!(doc["written"].as_array().unwrap().len(), 0, "{doc}");
    assert_eq!(doc["plan"]["counts"]["unchanged"], 4, "{doc}");
    assert_eq!(kcat_consume(b, target).len(), 4);

    // verify agrees, in text and JSON.
    let verify = mm2_migrate(&command("verify", &run_args(b, source, alias, &["--output", "json"])));
    assert!(verify.status.success(), "{}", stderr(&verify));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&verify)).unwrap();
    assert_eq!(doc["checked"], 4);
    assert_eq!(doc["differences"].as_array().unwrap().len(), 0);

    // The old replicator's offset going backwards is refused, nothing is written.
    kcat_produce(b, source, &[(&rkey("replicator", "orders", 0), Some(r#"{"offset":30}"#))]);
    let rewind = mm2_migrate(&command("run", &run_args(b, source, alias, &[])));
    assert_eq!(rewind.status.code(), Some(3), "{}", stderr(&rewind));
    let err = stderr(&rewind);
    assert!(err.contains("runalias:orders/0: MM2 already holds offset 41; writing 30 would move it backwards"), "{err}");
    assert!(err.contains("copy records 31..=41 again"), "{err}");
    // The same refusal as fields, for automation.
    let plan = mm2_migrate(&command("plan", &run_args(b, source, alias, &["--output", "json"])));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&plan)).unwrap();
    let refusal = &doc["refusals"][0];
    assert_eq!((&refusal["rule"], &refusal["from"], &refusal["offset"]), (&"rewind".into(), &41.into(), &30.into()), "{doc}");
    assert_eq!(refusal["key"], "runalias:orders/0");
    assert_eq!(kcat_consume(b, target).len(), 4, "a refused run writes nothing");

    // verify now reports the difference and fails.
    let verify = mm2_migrate(&command("verify", &run_args(b, source, alias, &[])));
    assert_eq!(verify.status.code(), Some(4), "{}", stderr(&verify));
    assert!(stdout(&verify).contains("BACKWARDS   runalias:orders/0: 41 -> 30"), "{}", stdout(&verify));

    // Explicitly allowed, the rewind is written.
    let forced = mm2_migrate(&command("run", &run_args(b, source, alias, &["--allow-rewind"])));
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(live_state(b, target)[&mm2_key("MirrorSourceConnector", "runalias", "orders", 0)].1.as_deref(), Some(r#"{"offset":30}"#));
}

#[test]
fn run_refuses_a_target_topic_that_is_not_compacted() {
    let b = &shared_broker().bootstrap;
    let source = "connect-offsets-noncompact";
    create_topic(b, source, 1, "compact");
    create_topic(b, "mm2-offsets.nc.internal", 25, "delete");
    kcat_produce(b, source, &[(&rkey("replicator", "t", 0), Some(r#"{"offset":1}"#))]);
    let output = mm2_migrate(&command("run", &run_args(b, source, "source.cluster.alias=nc", &[])));
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("has cleanup.policy=delete, and MirrorMaker 2 (Connect) refuses"), "{}", stderr(&output));
    assert!(kcat_consume(b, "mm2-offsets.nc.internal").is_empty());

    // compact,delete is refused too: Connect requires exactly compact, and says why.
    create_topic(b, "mm2-offsets.ncd.internal", 25, "compact,delete");
    let output = mm2_migrate(&command("run", &run_args(b, source, "source.cluster.alias=ncd", &[])));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("has cleanup.policy=compact,delete") && err.contains("is required to have 'cleanup.policy=compact'"), "{err}");
    assert!(kcat_consume(b, "mm2-offsets.ncd.internal").is_empty());
}

#[test]
fn a_record_in_the_wrong_partition_is_refused() {
    let b = &shared_broker().bootstrap;
    let source = "connect-offsets-misplaced";
    let target = "mm2-offsets.mis.internal";
    create_topic(b, source, 1, "compact");
    create_topic(b, target, 25, "compact");
    kcat_produce(b, source, &[(&rkey("replicator", "t", 0), Some(r#"{"offset":5}"#))]);
    // An earlier tool wrote MM2's key with librdkafka's default partitioner, not Java's.
    let key = mm2_key("MirrorSourceConnector", "mis", "t", 0);
    let right = java_partitions(b, std::slice::from_ref(&key), 25)[&key];
    let wrong = ((right + 1) % 25) as i32;
    kcat_produce_to(b, target, wrong, &[(&key, Some(r#"{"offset":3}"#))]);
    let output = mm2_migrate(&command("run", &run_args(b, source, "source.cluster.alias=mis", &[])));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains(&format!("sits in partition {wrong}, not in partition {right}")), "{}", stderr(&output));
    assert_eq!(kcat_consume(b, target).len(), 1, "nothing written");

    let output = mm2_migrate(&command("run", &run_args(b, source, "source.cluster.alias=mis", &["--allow-misplaced"])));
    assert!(output.status.success(), "{}", stderr(&output));
    let records = kcat_consume(b, target);
    assert!(records.iter().any(|r| r["partition"].as_i64() == Some(right) && r["payload"] == r#"{"offset":5}"#), "{records:?}");
}

#[test]
fn offsets_outside_the_replicated_log_are_refused() {
    let b = &shared_broker().bootstrap;
    let source = "connect-offsets-range";
    create_topic(b, source, 1, "compact");
    create_topic(b, "range-data", 1, "delete");
    let data: Vec<(String, Option<&str>)> = (0..10).map(|i| (format!("k{i}"), Some("v"))).collect();
    let data: Vec<(&str, Option<&str>)> = data.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    kcat_produce_to(b, "range-data", 0, &data);
    kcat_produce(b, source, &[(&rkey("replicator", "range-data", 0), Some(r#"{"offset":50}"#))]);
    let args = run_args(b, source, "source.cluster.alias=rg", &["--replicated-bootstrap", b]);
    let output = mm2_migrate(&command("run", &args));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("rg:range-data/0: offset 50 is beyond the replicated log [0, 10)"), "{err}");
    assert!(err.contains("reset to auto.offset.reset"), "{err}");

    // In range (V+1 = 10 = log end: everything replicated) it goes through.
    kcat_produce(b, source, &[(&rkey("replicator", "range-data", 0), Some(r#"{"offset":9}"#))]);
    let output = mm2_migrate(&command("run", &args));
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn broker_problems_fail_clearly_and_in_bounded_time() {
    let started = Instant::now();
    let output = mm2_migrate(&command("plan", &run_args("127.0.0.1:1", "connect-offsets", "source.cluster.alias=x", &["--timeout", "3"])));
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("source cluster 127.0.0.1:1 is unreachable"), "{}", stderr(&output));
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());

    let b = &shared_broker().bootstrap;
    let output = mm2_migrate(&command("plan", &run_args(b, "no-such-topic", "source.cluster.alias=x", &[])));
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("topic \"no-such-topic\" does not exist"), "{}", stderr(&output));
}

#[test]
fn a_job_file_holds_the_options() {
    let b = &shared_broker().bootstrap;
    let source = "connect-offsets-job";
    create_topic(b, source, 1, "compact");
    kcat_produce(b, source, &[(&rkey("rep", "t", 0), Some(r#"{"offset":5}"#))]);
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job.toml");
    std::fs::write(
        &job,
        format!(
            "plugin = \"replicator-to-mm2\"\nsource-bootstrap = \"{b}\"\nsource-topic = \"{source}\"\n\
             target-topic = \"job-offsets\"\n[set]\n\"source.cluster.alias\" = \"jobalias\"\n\"replicator.connector.names\" = \"rep\"\n"
        ),
    )
    .unwrap();
    let output = mm2_migrate(&["run", "--job", job.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let records = kcat_consume(b, "job-offsets");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["key"], mm2_key("MirrorSourceConnector", "jobalias", "t", 0));
}

#[test]
fn follow_forwards_new_offsets_until_sigterm() {
    let b = &shared_broker().bootstrap;
    let source = "connect-offsets-follow";
    let target = "mm2-offsets.fol.internal";
    create_topic(b, source, 3, "compact");
    kcat_produce(b, source, &[(&rkey("replicator", "t", 0), Some(r#"{"offset":5}"#))]);
    let args = command("run", &run_args(b, source, "source.cluster.alias=fol", &["--follow", "--output", "json"]));
    let mut child = std::process::Command::new(BIN)
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let wait_for = |offset: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let state = live_state(b, target);
            if state.get(&mm2_key("MirrorSourceConnector", "fol", "t", 0)).and_then(|(_, v)| v.as_deref()) == Some(offset) {
                return;
            }
            assert!(Instant::now() < deadline, "{offset} never arrived: {state:?}");
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    wait_for(r#"{"offset":5}"#);
    // The old replicator goes on: each new offset is forwarded while follow runs.
    kcat_produce(b, source, &[(&rkey("replicator", "t", 0), Some(r#"{"offset":8}"#))]);
    wait_for(r#"{"offset":8}"#);
    kcat_produce(b, source, &[(&rkey("replicator", "t", 0), Some(r#"{"offset":12}"#)), (&rkey("other", "t", 0), Some(r#"{"offset":1}"#))]);
    wait_for(r#"{"offset":12}"#);

    let status = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "follow did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!((&summary["forwarded"], &summary["records_seen"]), (&2.into(), &3.into()), "{summary}");
    assert_eq!(kcat_consume(b, target).len(), 3);
}

#[test]
fn demo_runs_a_whole_migration_with_no_set_up() {
    let output = mm2_migrate(&documented(&["README.md"], "./target/release/mm2-migrate demo", &[]));
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    for needle in [
        "new         primary:orders/0 -> offset 57",
        "new         primary:payments/0 -> offset 49",
        "2. run: 3 records written, all read back from the topic",
        "3. verify: 3 records checked, 0 differ",
        "4. run again: 0 records written",
        "records skipped             2 (non-canonical-key: 1, other-connector: 1)",
        "seam check                  not run: the in-process demo broker",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    let json = mm2_migrate(&["demo", "--output", "json"]);
    assert!(json.status.success());
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(doc["run"]["written"].as_array().unwrap().len(), 3);
    assert_eq!(doc["verify"]["differences"], 0);
    assert_eq!(doc["second_run_written"], 0);
}

fn adversarial() -> &'static str {
    mm2_migrate_bundled::test_guest_path("adversarial").expect("test guest built")
}

#[test]
fn a_plugin_tombstone_is_a_rewind_refused_unless_deletions_are_allowed() {
    let b = &shared_broker().bootstrap;
    let source = "connect-offsets-tombstone";
    let target = "mm2-offsets.tomb.internal";
    create_topic(b, source, 1, "compact");
    create_topic(b, target, 25, "compact");
    kcat_produce(b, source, &[(&rkey("replicator", "t", 0), Some(r#"{"offset":5}"#))]);
    // MM2 holds offset 5 for the key the plugin deletes.
    kcat_produce(b, target, &[(&mm2_key("MirrorSourceConnector", "a", "t", 0), Some(r#"{"offset":5}"#))]);
    let args = |extra: &[&'static str]| {
        let mut args = vec!["run", "--plugin", adversarial(), "--set", "behavior=tombstone", "--set"];
        args.extend(["topic=mm2-offsets.tomb.internal", "--source-bootstrap", b, "--source-topic", source]);
        args.extend_from_slice(extra);
        args
    };
    for _ in 0..2 {
        let output = mm2_migrate(&args(&[]));
        assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
        assert!(stderr(&output).contains("a:t/0: the plugin emitted a tombstone; it would delete MM2's offset 5"), "{}", stderr(&output));
        assert_eq!(kcat_consume(b, target).len(), 1, "nothing written");
    }
    let output = mm2_migrate(&args(&["--allow-delete"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(live_state(b, target)[&mm2_key("MirrorSourceConnector", "a", "t", 0)].1, None, "the tombstone was written");
    // MM2 holds nothing for the key now: the same plan changes nothing, and verify agrees.
    let mut verify = args(&[]);
    verify[0] = "verify";
    let output = mm2_migrate(&verify);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn the_source_is_never_written_whatever_address_names_it() {
    let b = &shared_broker().bootstrap;
    let source = "connect-offsets-self";
    create_topic(b, source, 1, "compact");
    kcat_produce(b, source, &[(&rkey("replicator", "t", 0), Some(r#"{"offset":5}"#))]);
    let port = b.rsplit(':').next().unwrap();
    let other_spelling = format!("localhost:{port}");
    let args = run_args(b, source, "source.cluster.alias=self", &["--target-bootstrap", &other_spelling, "--target-topic", source]);
    let output = mm2_migrate(&command("run", &args));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("mm2-migrate never writes to its source"), "{}", stderr(&output));
    assert_eq!(kcat_consume(b, source).len(), 1, "the source is untouched");
}

#[test]
fn a_signal_before_writing_stops_at_once_and_writes_nothing() {
    // An unreachable broker: without the signal, this run would wait out its 60 s timeout.
    let mut child = std::process::Command::new(BIN)
        .args(command("run", &run_args("127.0.0.1:1", "connect-offsets", "source.cluster.alias=x", &["--timeout", "60"])))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    assert!(std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    while child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(5), "run ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(143), "{}", stderr(&output));
    assert!(stderr(&output).contains("SIGTERM received: stopped; nothing was written"), "{}", stderr(&output));
}

#[test]
fn the_timeout_is_validated() {
    for bad in ["0", "301"] {
        let output = mm2_migrate(&command("plan", &run_args("127.0.0.1:1", "connect-offsets", "source.cluster.alias=x", &["--timeout", bad])));
        assert_eq!(output.status.code(), Some(2), "{bad}: {}", stderr(&output));
        assert!(stderr(&output).contains("1..=300"), "{}", stderr(&output));
    }
}

#[test]
fn follow_with_a_source_group_is_a_usage_error_before_anything_connects() {
    // Nothing listens on port 1: a connection attempt would fail with exit 1 after the timeout.
    let args = ["run", "--plugin", "group-to-mm2", "--source-bootstrap", "127.0.0.1:1", "--source-group", "mm1", "--follow"];
    let started = Instant::now();
    let output = mm2_migrate(&args);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--follow reads an offsets topic; with --source-group"), "{}", stderr(&output));
    assert!(started.elapsed() < Duration::from_secs(5), "refused before connecting");
}

#[test]
fn a_broker_formatted_with_an_id_that_looks_like_an_option_starts() {
    // One random id in 64 begins with "-"; the storage tool must not take it for an option.
    let broker = Broker::start_with(&[("CLUSTER_ID", "-AECAwQFBgcICQoLDA0ODw")]);
    create_topic(&broker.bootstrap, "dash-id", 1, "delete");
    kcat_produce(&broker.bootstrap, "dash-id", &[("k", Some("v"))]);
    assert_eq!(kcat_consume(&broker.bootstrap, "dash-id").len(), 1);
}
