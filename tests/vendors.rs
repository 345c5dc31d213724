//! Every bundled vendor mapping through the built binary and the real wasm host, against a real
//! Kafka broker where Kafka is involved, with kcat and Kafka's own tools writing the inputs.

mod support;

use std::collections::HashMap;
use std::process::Command;

use support::*;

/// key → payload of a topic read with kcat (latest wins), and the record count.
fn state(bootstrap: &str, topic: &str) -> (HashMap<String, String>, usize) {
    let records = kcat_consume(bootstrap, topic);
    let count = records.len();
    let map = records
        .into_iter()
        .map(|r| (r["key"].as_str().unwrap().to_owned(), r["payload"].as_str().unwrap_or("null").to_owned()))
        .collect();
    (map, count)
}

/// `run` or `translate` with `--output json`, which must succeed: its JSON document.
fn run_ok(args: &[&str]) -> serde_json::Value {
    let output = mm2_migrate(&[args, &["--output", "json"]].concat());
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

/// How many records a run wrote, and what its plugin skipped by reason.
fn written(doc: &serde_json::Value) -> usize {
    doc["written"].as_array().unwrap().len()
}

fn skipped(doc: &serde_json::Value, reason: &str) -> u64 {
    doc["plan"]["translation"]["skipped"][reason].as_u64().unwrap_or(0)
}

#[test]
fn group_to_mm2_reads_a_real_consumer_groups_commits() {
    let b = &shared_broker().bootstrap;
    create_topic(b, "mm1-orders", 3, "delete");
    for p in 0..3 {
        let records: Vec<(String, Option<&str>)> = (0..10).map(|i| (format!("k{i}"), Some("v"))).collect();
        let records: Vec<(&str, Option<&str>)> = records.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        kcat_produce_to(b, "mm1-orders", p, &records);
    }
    // MirrorMaker 1's group commits "next offset to read"; set them with Kafka's own tool.
    for (partition, offset) in [(0, 7), (1, 0), (2, 10)] {
        let status = Command::new(repo_path("tests/kafka/broker.sh"))
            .args(["groups", "--bootstrap-server", b, "--group", "mm1-group", "--reset-offsets", "--to-offset"])
            .arg(offset.to_string())
            .args(["--topic", &format!("mm1-orders:{partition}"), "--execute"])
            .output()
            .unwrap();
        assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    }
    let out = run_ok(&[
        "run", "--plugin", "group-to-mm2", "--set", "source.cluster.alias=src", "--source-bootstrap", b,
        "--source-group", "mm1-group", "--replicated-bootstrap", b,
    ]);
    assert_eq!(written(&out), 2, "{out}");
    let (records, count) = state(b, "mm2-offsets.src.internal");
    assert_eq!(count, 2);
    assert_eq!(records[&mm2_key("MirrorSourceConnector", "src", "mm1-orders", 0)], r#"{"offset":6}"#);
    assert_eq!(records[&mm2_key("MirrorSourceConnector", "src", "mm1-orders", 2)], r#"{"offset":9}"#);

    let missing = mm2_migrate(&["plan", "--plugin", "group-to-mm2", "--set", "source.cluster.alias=src", "--source-bootstrap", b, "--source-group", "nobody"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("consumer group \"nobody\" has no committed offsets"), "{}", stderr(&missing));
}

#[test]
fn ureplicator_zookeeper_offsets_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zk-offsets.csv");
    // /consumers/ureplicator-group/offsets/<topic>/<partition> exported as topic,partition,offset.
    std::fs::write(&file, "# topic,partition,offset\nclicks,0,1500\nclicks,1,0\nviews,3,42\n").unwrap();
    let out = run_ok(&[
        "translate", "--plugin", "group-to-mm2", "--set", "source.cluster.alias=dc1", "--input-format", "group-offsets",
        "--source-group", "ureplicator-group", "--input", file.to_str().unwrap(),
    ]);
    let lines = out["records"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["key"], mm2_key("MirrorSourceConnector", "dc1", "clicks", 0));
    assert_eq!(lines[0]["payload"], r#"{"offset":1499}"#);
    assert_eq!(lines[1]["key"], mm2_key("MirrorSourceConnector", "dc1", "views", 3));
    assert_eq!(lines[1]["payload"], r#"{"offset":41}"#);

    std::fs::write(&file, "clicks,0,1500\nclicks;1;7\n").unwrap();
    let bad = mm2_migrate(&["translate", "--plugin", "group-to-mm2", "--set", "source.cluster.alias=dc1", "--input-format", "group-offsets", "--input", file.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(bad.stdout.is_empty());
    assert!(stderr(&bad).contains("line 2: expected topic,partition,offset"), "{}", stderr(&bad));
}

#[test]
fn mirus_to_mm2_on_a_real_offsets_topic() {
    let b = &shared_broker().bootstrap;
    create_topic(b, "mirus-offsets", 3, "compact");
    // MirusSourceTask stores ImmutableMap.of("topic", t, "partition", p) -> {"offset": record.offset() + 1}.
    kcat_produce(
        b,
        "mirus-offsets",
        &[
            (r#"["mirus-quickstart-source",{"topic":"test","partition":0}]"#, Some(r#"{"offset":100}"#)),
            (r#"["mirus-quickstart-source",{"topic":"test","partition":1}]"#, Some(r#"{"offset":0}"#)),
            (r#"["mirus-quickstart-source",{"topic":"test","partition":0}]"#, Some(r#"{"offset":120}"#)),
            (r#"["mirus-quickstart-source",{"partition":2,"topic":"test"}]"#, Some(r#"{"offset":9}"#)),
        ],
    );
    let out = run_ok(&[
        "run", "--plugin", "mirus-to-mm2", "--set", "source.cluster.alias=east", "--source-bootstrap", b,
        "--source-topic", "mirus-offsets",
    ]);
    assert_eq!(written(&out), 1, "{out}");
    assert_eq!((skipped(&out, "nothing-replicated"), skipped(&out, "non-canonical-key")), (1, 1), "{out}");
    let (records, _) = state(b, "mm2-offsets.east.internal");
    assert_eq!(records[&mm2_key("MirrorSourceConnector", "east", "test", 0)], r#"{"offset":119}"#);
}

#[test]
fn mm2_to_mm2_renames_an_alias_and_moves_to_strimzi_naming() {
    let b = &shared_broker().bootstrap;
    create_topic(b, "mm2-offsets.old.internal", 5, "compact");
    kcat_produce(
        b,
        "mm2-offsets.old.internal",
        &[
            (&mm2_key("MirrorSourceConnector", "old", "orders", 0), Some(r#"{"offset":41}"#)),
            (&mm2_key("MirrorSourceConnector", "old", "orders", 1), Some(r#"{"offset":7}"#)),
            (r#"["MirrorCheckpointConnector",{"consumergroup":"app","partition":0,"topic":"orders"}]"#, Some(r#"{"offset":3}"#)),
            (r#"["MirrorHeartbeatConnector",{"sourceClusterAlias":"old","targetClusterAlias":"tgt"}]"#, Some(r#"{"offset":0}"#)),
            (r#"["MirrorSourceConnector",{"cluster":"old","topic":"orders","partition":2}]"#, Some(r#"{"offset":9}"#)),
        ],
    );
    // Alias rename in dedicated mode.
    let out = run_ok(&[
        "run", "--plugin", "mm2-to-mm2", "--set", "target.cluster.alias=new", "--source-bootstrap", b,
        "--source-topic", "mm2-offsets.old.internal",
    ]);
    assert_eq!(written(&out), 2, "{out}");
    assert_eq!((skipped(&out, "non-canonical-key"), skipped(&out, "other-connector")), (1, 2), "{out}");
    let (records, count) = state(b, "mm2-offsets.new.internal");
    assert_eq!(count, 2);
    assert_eq!(records[&mm2_key("MirrorSourceConnector", "new", "orders", 0)], r#"{"offset":41}"#);
    assert_eq!(records[&mm2_key("MirrorSourceConnector", "new", "orders", 1)], r#"{"offset":7}"#);

    // Dedicated mode to Strimzi's connector naming and offsets topic.
    run_ok(&[
        "run", "--plugin", "mm2-to-mm2", "--set", "target.connector.name=old->tgt.MirrorSourceConnector",
        "--source-bootstrap", b, "--source-topic", "mm2-offsets.old.internal", "--target-topic", "mirrormaker2-cluster-offsets",
    ]);
    let (records, count) = state(b, "mirrormaker2-cluster-offsets");
    assert_eq!(count, 2);
    assert_eq!(records[&mm2_key("old->tgt.MirrorSourceConnector", "old", "orders", 0)], r#"{"offset":41}"#);
    // The source topic was only read.
    assert_eq!(kcat_consume(b, "mm2-offsets.old.internal").len(), 5);
}

#[test]
fn json_rules_maps_a_home_grown_replicator_without_code() {
    let b = &shared_broker().bootstrap;
    create_topic(b, "homegrown-offsets", 1, "compact");
    kcat_produce(
        b,
        "homegrown-offsets",
        &[
            (r#"["legacy-mirror",{"src":"payments","part":"3"}]"#, Some(r#"{"next":"500","updated":"2024-01-01"}"#)),
            (r#"["legacy-mirror",{"src":"refunds","part":0}]"#, Some(r#"{"next":1}"#)),
            (r#"["unrelated",{"table":"users"}]"#, Some(r#"{"id":5}"#)),
        ],
    );
    let out = run_ok(&[
        "run", "--plugin", "json-rules", "--source-bootstrap", b, "--source-topic", "homegrown-offsets",
        "--set", "source.cluster.alias=legacy", "--set", "connector.names=legacy-mirror",
        "--set", "key.topic.field=src", "--set", "key.partition.field=part", "--set", "value.offset.field=next",
        "--set", "offset.semantics=next",
    ]);
    assert_eq!(written(&out), 2, "{out}");
    let (records, _) = state(b, "mm2-offsets.legacy.internal");
    assert_eq!(records[&mm2_key("MirrorSourceConnector", "legacy", "payments", 3)], r#"{"offset":499}"#);
    assert_eq!(records[&mm2_key("MirrorSourceConnector", "legacy", "refunds", 0)], r#"{"offset":0}"#);
}

#[test]
fn every_bundled_plugin_is_listed_with_its_keys() {
    let output = mm2_migrate(&["plugins"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    for needle in [
        "replicator-to-mm2 0.1.0",
        "mirus-to-mm2 0.1.0",
        "--set mirus.connector.names=<list>",
        "group-to-mm2 0.1.0",
        "--set groups=<list>",
        "mm2-to-mm2 0.1.0",
        "--set target.cluster.alias=<string>",
        "json-rules 0.1.0",
        "--set key.topic.field=<string>",
        "offset.semantics=<string>  (default \"next\"",
    ] {
        assert!(out.contains(needle), "missing {needle:?}");
    }
}
