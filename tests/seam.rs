//! The seam check against real MirrorMaker 2: the copies an old MM2 made prove where MM2 must
//! resume, whatever the old tool's offsets say.
//! - An old MM2 killed with SIGKILL after its last offset commit left copies beyond its offsets:
//!   the seam finds the overlap, `run` refuses, `--resume-at seam` fixes it and a new MM2 then
//!   copies every remaining record exactly once; `--resume-at recorded` (the control) duplicates.
//! - After a clean stop every partition is exact; offsets read with the wrong meaning are off by
//!   one on every partition; MM2's default replication policy writes where no copy is.

mod support;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;
use support::mirrormaker::{MirrorMaker, wait_for};
use support::docs::{documented, plus};
use support::*;

const PARTITIONS: i32 = 2;

/// The two clusters: the replicated one (`src`) and the one holding the copies (`tgt`).
fn clusters() -> &'static (Broker, Broker) {
    static CLUSTERS: OnceLock<(Broker, Broker)> = OnceLock::new();
    CLUSTERS.get_or_init(|| (Broker::start(), Broker::start()))
}

/// Produces records `from..to` to every partition of `topic`.
fn produce(bootstrap: &str, topic: &str, from: usize, to: usize) {
    for p in 0..PARTITIONS {
        produce_range(bootstrap, topic, p, from..to);
    }
}

/// Values per partition of `topic`, in log order.
fn values(bootstrap: &str, topic: &str) -> BTreeMap<i32, Vec<String>> {
    let mut out: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    for r in kcat_consume_if_exists(bootstrap, topic) {
        out.entry(r["partition"].as_i64().unwrap() as i32).or_default().push(r["payload"].as_str().unwrap().to_owned());
    }
    out
}

fn count(bootstrap: &str, topic: &str, p: i32) -> usize {
    values(bootstrap, topic).get(&p).map_or(0, Vec::len)
}

/// The latest offset per (topic, partition) of an MM2 offsets topic.
fn mm2_offsets(bootstrap: &str, topic: &str) -> BTreeMap<(String, i64), i64> {
    let mut out = BTreeMap::new();
    for r in kcat_consume_if_exists(bootstrap, topic) {
        let (Some(key), Some(payload)) = (r["key"].as_str(), r["payload"].as_str()) else { continue };
        let key: Value = serde_json::from_str(key).unwrap();
        let map = &key[1];
        if let (Some(topic), Some(partition)) = (map["topic"].as_str(), map["partition"].as_i64()) {
            let offset: Value = serde_json::from_str(payload).unwrap();
            out.insert((topic.to_owned(), partition), offset["offset"].as_i64().unwrap());
        }
    }
    out
}

/// `(topic, partition) -> seam` of a plan document.
fn seams(plan: &Value) -> BTreeMap<(String, i64), Value> {
    plan["plan"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let key: Value = serde_json::from_str(e["key"].as_str().unwrap()).unwrap();
            ((key[1]["topic"].as_str().unwrap().to_owned(), key[1]["partition"].as_i64().unwrap()), e["seam"].clone())
        })
        .collect()
}

fn mm2_to_mm2(command: &str, old: &str, new: &str, topics: &str, extra: &[&str]) -> std::process::Output {
    let (src, tgt) = (&clusters().0.bootstrap, &clusters().1.bootstrap);
    let source_topic = format!("mm2-offsets.{old}.internal");
    let mut args = vec![
        command,
        "--plugin",
        "mm2-to-mm2",
        "--source-bootstrap",
        tgt,
        "--source-topic",
        &source_topic,
        "--replicated-bootstrap",
        src,
        "--output",
        "json",
    ];
    let settings = [format!("source.cluster.alias={old}"), format!("target.cluster.alias={new}"), format!("topics.include={topics}")];
    for s in &settings {
        args.extend(["--set", s.as_str()]);
    }
    args.extend(extra);
    mm2_migrate(&args)
}

#[test]
fn a_killed_mirrormaker_leaves_an_overlap_that_the_seam_fixes() {
    let (src, tgt) = (clusters().0.bootstrap.as_str(), clusters().1.bootstrap.as_str());
    // A records copied and committed, then B copied after the last commit, then the kill.
    const A: usize = 40;
    const B: usize = 25;
    const C: usize = 10;
    for topic in ["orders", "control"] {
        create_topic(src, topic, PARTITIONS as u32, "delete");
        produce(src, topic, 0, A);
    }
    let old = MirrorMaker::start("old", src, tgt, "orders, control", "tgt.offset.flush.interval.ms = 15000");
    wait_for(&old, "the old MM2's first offset commit", 150, || {
        let offsets = mm2_offsets(tgt, "mm2-offsets.old.internal");
        ["orders", "control"].iter().all(|t| (0..PARTITIONS as i64).all(|p| offsets.get(&(t.to_string(), p)) == Some(&(A as i64 - 1))))
    });
    // The next commit is 15 s away: B is copied well before it, and the worker dies uncommitted.
    for topic in ["orders", "control"] {
        produce(src, topic, A, A + B);
    }
    wait_for(&old, "the copies of B", 60, || {
        ["orders", "control"].iter().all(|t| (0..PARTITIONS).all(|p| count(tgt, t, p) == A + B))
    });
    old.kill();
    let recorded = mm2_offsets(tgt, "mm2-offsets.old.internal");
    assert!(
        recorded.values().all(|v| *v == A as i64 - 1),
        "the old MM2 committed again before it was killed, so this run proves nothing: {recorded:?}"
    );

    // The seam, per partition, compared with the data itself.
    let plan = mm2_to_mm2("plan", "old", "new", "orders,control", &[]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    let plan = json(&plan);
    for ((topic, p), seam) in seams(&plan) {
        let copies = count(tgt, &topic, p as i32) as i64;
        let recorded = A as i64 - 1;
        assert_eq!(seam["status"], "overlap", "{topic}/{p}: {seam}");
        assert_eq!(seam["recorded"], recorded, "{topic}/{p}: {seam}");
        assert_eq!(seam["proven"], copies - 1, "{topic}/{p}: the last copy is of the last record copied: {seam}");
        assert_eq!(seam["records"], copies - 1 - recorded, "{topic}/{p}: {seam}");
        assert!(seam["detail"].as_str().unwrap().contains("consecutive records match"), "{seam}");
    }
    assert_eq!(plan["plan"]["seam_check"]["counts"]["records_twice"], 4 * B as i64, "{}", plan["plan"]["seam_check"]);
    // The text report: every partition's seam and the totals.
    let text = mm2_to_mm2("plan", "old", "new", "orders", &["--output", "text"]);
    let text = stdout(&text);
    eprintln!("{text}");
    assert!(text.contains(&format!("seam check                  MM2 would copy {} records twice on 2 partitions", 2 * B)), "{text}");
    assert_eq!(text.matches(&format!("seam OVERLAP {B} (recorded {}, last copy {})", A - 1, A + B - 1)).count(), 2, "{text}");

    // run refuses, naming every partition, and writes nothing.
    let refused = mm2_to_mm2("run", "old", "new", "orders,control", &[]);
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    let message = stderr(&refused);
    for name in ["new:orders/0", "new:orders/1", "new:control/0", "new:control/1"] {
        assert!(message.contains(name), "{name} in {message}");
    }
    assert!(message.contains("--resume-at seam writes 64"), "{message}");
    assert!(mm2_offsets(tgt, "mm2-offsets.new.internal").is_empty(), "nothing was written");

    // The proven offsets for orders; the recorded ones for control, the control.
    let fixed = mm2_to_mm2("run", "old", "new", "orders", &["--resume-at", "seam"]);
    assert!(fixed.status.success(), "{}", stderr(&fixed));
    let accepted = mm2_to_mm2("run", "old", "new", "control", &["--resume-at", "recorded"]);
    assert!(accepted.status.success(), "{}", stderr(&accepted));
    let written = mm2_offsets(tgt, "mm2-offsets.new.internal");
    for p in 0..PARTITIONS as i64 {
        assert_eq!(written[&("orders".to_owned(), p)], (A + B) as i64 - 1);
        assert_eq!(written[&("control".to_owned(), p)], A as i64 - 1);
    }
    // verify checks the same choice again; without one it cannot call an overlap matching.
    let verify = mm2_to_mm2("verify", "old", "new", "orders", &["--resume-at", "seam"]);
    assert!(verify.status.success(), "{}", stdout(&verify));
    let unresolved = mm2_to_mm2("verify", "old", "new", "orders", &[]);
    assert_eq!(unresolved.status.code(), Some(4), "{}", stdout(&unresolved));
    assert_eq!(json(&unresolved)["unresolved_seams"].as_array().unwrap().len(), PARTITIONS as usize);

    // MM2 under the new alias: every remaining record exactly once where the seam was used.
    for topic in ["orders", "control"] {
        produce(src, topic, A + B, A + B + C);
    }
    let new = MirrorMaker::start("new", src, tgt, "orders, control", "");
    wait_for(&new, "the new MM2's copies", 180, || {
        (0..PARTITIONS).all(|p| count(tgt, "orders", p) >= A + B + C && count(tgt, "control", p) >= A + 2 * B + C)
    });
    std::thread::sleep(std::time::Duration::from_secs(5));
    drop(new);
    let orders = values(tgt, "orders");
    let control = values(tgt, "control");
    for p in 0..PARTITIONS {
        let expected: Vec<String> = (0..A + B + C).map(|i| record_value("orders", p, i)).collect();
        assert_eq!(orders[&p], expected, "orders/{p}: every record exactly once");
        let mut duplicated: Vec<String> = (0..A + B).map(|i| record_value("control", p, i)).collect();
        duplicated.extend((A..A + B + C).map(|i| record_value("control", p, i)));
        assert_eq!(control[&p], duplicated, "control/{p}: the recorded offsets copy B twice");
    }
}

#[test]
fn a_clean_stop_is_exact_and_wrong_meanings_and_policies_are_caught() {
    let (src, tgt) = (clusters().0.bootstrap.as_str(), clusters().1.bootstrap.as_str());
    const N: usize = 30;
    create_topic(src, "events", PARTITIONS as u32, "delete");
    produce(src, "events", 0, N);
    let east = MirrorMaker::start("east", src, tgt, "events", "tgt.offset.flush.interval.ms = 5000");
    wait_for(&east, "the copies of events", 150, || (0..PARTITIONS).all(|p| count(tgt, "events", p) == N));
    east.stop();
    let last = N as i64 - 1;
    let committed = mm2_offsets(tgt, "mm2-offsets.east.internal");
    assert!((0..PARTITIONS as i64).all(|p| committed.get(&("events".to_owned(), p)) == Some(&last)), "{committed:?}");

    // A clean stop: exact everywhere, and run needs no choice.
    let run = mm2_to_mm2("run", "east", "west", "events", &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let run = json(&run);
    assert_eq!(run["written"].as_array().unwrap().len(), PARTITIONS as usize);
    for ((topic, p), seam) in seams(&run) {
        assert_eq!(seam["status"], "exact", "{topic}/{p}: {seam}");
        assert_eq!((seam["records"].as_i64(), seam["proven"].as_i64()), (Some(0), Some(last)), "{seam}");
    }

    // Replicator's `last` offsets read as `next`: overlap 1 on every partition.
    let connect_offsets: Vec<(String, String)> =
        (0..PARTITIONS).map(|p| (format!(r#"["replicator",{{"topic":"events","partition":{p}}}]"#), format!(r#"{{"offset":{last}}}"#))).collect();
    create_topic(tgt, "connect-offsets", 25, "compact");
    kcat_produce(tgt, "connect-offsets", &connect_offsets.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))).collect::<Vec<_>>());
    // Mirus's `next` offsets read as `last`: gap 1 on every partition.
    let mirus_offsets: Vec<(String, String)> =
        (0..PARTITIONS).map(|p| (format!(r#"["mirus",{{"topic":"events","partition":{p}}}]"#), format!(r#"{{"offset":{N}}}"#))).collect();
    create_topic(tgt, "mirus-offsets", 25, "compact");
    kcat_produce(tgt, "mirus-offsets", &mirus_offsets.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))).collect::<Vec<_>>());
    let vendor = |plugin: &str, source_topic: &str, alias: &str, semantics: &str, command: &str, extra: &[&str]| {
        let alias_setting = format!("source.cluster.alias={alias}");
        let semantics_setting = format!("offset.semantics={semantics}");
        let mut args = vec![
            command, "--plugin", plugin, "--set", &alias_setting, "--set", &semantics_setting, "--source-bootstrap", tgt,
            "--source-topic", source_topic, "--replicated-bootstrap", src, "--output", "json",
        ];
        args.extend(extra);
        mm2_migrate(&args)
    };
    // docs/cutover.md's plan without MM2's file, on Replicator's offsets as Replicator means them.
    let documented_plan = documented(
        &["docs/cutover.md"],
        "mm2-migrate plan --plugin replicator-to-mm2 --set source.cluster.alias=primary --source-bootstrap dest-kafka:9092 --replicated-bootstrap source-kafka:9092",
        &[("dest-kafka:9092", tgt), ("source-kafka:9092", src)],
    );
    let plan = mm2_migrate(&plus(documented_plan, &["--output", "json"]));
    assert!(plan.status.success(), "{}", stderr(&plan));
    let found = seams(&json(&plan));
    assert_eq!(found.len(), PARTITIONS as usize, "{found:?}");
    for ((topic, p), seam) in found {
        assert_eq!((seam["status"].as_str(), seam["recorded"].as_i64()), (Some("exact"), Some(last)), "{topic}/{p}: {seam}");
    }
    for (plugin, source_topic, alias, semantics, status, recorded) in [
        ("replicator-to-mm2", "connect-offsets", "r1", "next", "overlap", last - 1),
        ("mirus-to-mm2", "mirus-offsets", "m1", "last", "gap", last + 1),
    ] {
        let plan = vendor(plugin, source_topic, alias, semantics, "plan", &[]);
        assert!(plan.status.success(), "{}", stderr(&plan));
        let found = seams(&json(&plan));
        assert_eq!(found.len(), PARTITIONS as usize, "{plugin}");
        for ((topic, p), seam) in found {
            assert_eq!((seam["status"].as_str(), seam["records"].as_i64()), (Some(status), Some(1)), "{plugin} {topic}/{p}: {seam}");
            assert_eq!((seam["recorded"].as_i64(), seam["proven"].as_i64()), (Some(recorded), Some(last)), "{seam}");
        }
        let refused = vendor(plugin, source_topic, alias, semantics, "run", &[]);
        assert_eq!(refused.status.code(), Some(3), "{plugin}: {}", stderr(&refused));
        let fixed = vendor(plugin, source_topic, alias, semantics, "run", &["--resume-at", "seam"]);
        assert!(fixed.status.success(), "{plugin}: {}", stderr(&fixed));
        let written = mm2_offsets(tgt, &format!("mm2-offsets.{alias}.internal"));
        assert!((0..PARTITIONS as i64).all(|p| written[&("events".to_owned(), p)] == last), "{plugin}: {written:?}");
    }

    // MirrorMaker 1's consumer group on the replicated cluster: committed `next` offsets, exact.
    kafka_tool("groups", src, &[], &["--reset-offsets", "--group", "mm1", "--topic", "events", "--to-offset", &N.to_string(), "--execute"]);
    let group = mm2_migrate(&[
        "plan", "--plugin", "group-to-mm2", "--set", "source.cluster.alias=g1", "--source-bootstrap", src, "--source-group", "mm1",
        "--target-bootstrap", tgt, "--replicated-bootstrap", src, "--output", "json",
    ]);
    assert!(group.status.success(), "{}", stderr(&group));
    let found = seams(&json(&group));
    assert_eq!(found.len(), PARTITIONS as usize);
    for ((topic, p), seam) in found {
        assert_eq!((seam["status"].as_str(), seam["proven"].as_i64()), (Some("exact"), Some(last)), "group {topic}/{p}: {seam}");
    }

    // MM2's default replication policy writes to south.events, which holds no copy: a gap of
    // every record on every partition, and the seam choice writes nothing that would skip them.
    let policy = ["--replication-policy", "default"];
    let plan = mm2_to_mm2("plan", "east", "south", "events", &policy);
    assert!(plan.status.success(), "{}", stderr(&plan));
    for ((topic, p), seam) in seams(&json(&plan)) {
        assert_eq!((seam["status"].as_str(), seam["records"].as_i64()), (Some("gap"), Some(N as i64)), "{topic}/{p}: {seam}");
        assert!(seam["proven"].is_null() && seam["detail"].as_str().unwrap().contains("south.events"), "{seam}");
        assert!(seam["detail"].as_str().unwrap().contains("the old copies are in \"events\""), "{seam}");
    }
    let refused = mm2_to_mm2("run", "east", "south", "events", &policy);
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    let seam_run = mm2_to_mm2("run", "east", "south", "events", &["--replication-policy", "default", "--resume-at", "seam"]);
    assert!(seam_run.status.success(), "{}", stderr(&seam_run));
    assert!(json(&seam_run)["written"].as_array().unwrap().is_empty());
    assert!(mm2_offsets(tgt, "mm2-offsets.south.internal").is_empty(), "MM2 copies south.events from its start");
}
