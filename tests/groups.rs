//! Consumer groups fail over exactly, against real Kafka and real MirrorMaker 2.
//!
//! An old replicator (an MM2 under another alias, its offset syncs removed afterwards: to the new
//! MM2 it is any other tool) copied `orders` and `audit` from `src` to `tgt`, where the copies'
//! offsets differ from the source's: foreign records came first on `tgt` orders/0, a transaction's
//! marker takes an offset on `src` orders/0, and copying of orders/1 began mid-log. Groups commit
//! on `src` in the middle, on the marker, at the end, ahead of and before the copies, behind
//! retention, and one is active on `tgt`. `groups run` must place each exactly (Kafka's own tools
//! and kcat read the result), refuse what is unsafe, write MM2's checkpoints as MM2's own client
//! reads them, and a real MM2 started afterwards must never move a group backwards.

mod support;

use std::collections::BTreeMap;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde_json::Value;
use support::mirrormaker::{MirrorMaker, flow_properties, wait_for};
use support::docs::{documented, plus};
use support::*;

/// `(group, topic, partition)`.
type GroupPartition = (String, String, i64);
/// An expected entry: group, topic, partition, status, target offset, action.
type Expected<'a> = (&'a str, &'a str, i64, &'a str, Option<i64>, &'a str);

/// Foreign records on tgt orders/0 before the copies.
const FOREIGN: usize = 7;

/// Five records in one committed transaction: their marker takes an offset of its own.
fn produce_transaction(bootstrap: &str, topic: &str, partition: i32, from: usize) {
    let producer: BaseProducer =
        ClientConfig::new().set("bootstrap.servers", bootstrap).set("transactional.id", "groups-test").create().unwrap();
    producer.init_transactions(Duration::from_secs(30)).unwrap();
    producer.begin_transaction().unwrap();
    for i in from..from + 5 {
        let (key, value) = (format!("k{i}"), format!("{topic}-p{partition}-{i}"));
        producer.send(BaseRecord::to(topic).partition(partition).key(&key).payload(&value)).unwrap();
    }
    producer.commit_transaction(Duration::from_secs(30)).unwrap();
    // The coordinator writes the commit marker after EndTxn has answered: records produced before
    // it lands would take the offset the test expects the marker at.
    let consumer: rdkafka::consumer::BaseConsumer = ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, high) = rdkafka::consumer::Consumer::fetch_watermarks(&consumer, topic, partition, Duration::from_secs(10)).unwrap();
        if high == from as i64 + 6 {
            return;
        }
        assert!(Instant::now() < deadline, "the transaction's marker never landed (end offset {high})");
        std::thread::sleep(Duration::from_millis(50));
    }
}


/// The record at `offset` of a partition, as kcat reads it: (key, value, timestamp).
fn record_at(bootstrap: &str, topic: &str, partition: i32, offset: i64) -> (String, String, i64) {
    let output = Command::new("kcat")
        .args(["-C", "-b", bootstrap, "-t", topic, "-p", &partition.to_string(), "-o", &offset.to_string(), "-c", "1", "-J", "-q"])
        .output()
        .unwrap();
    let r: Value = serde_json::from_str(String::from_utf8_lossy(&output.stdout).trim()).unwrap();
    (r["key"].as_str().unwrap().to_owned(), r["payload"].as_str().unwrap().to_owned(), r["ts"].as_i64().unwrap())
}

/// kcat as a member of `group` on `topic`: the group is active while it runs.
struct Member(Child);

impl Drop for Member {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn groups(command: &str, src: &str, tgt: &str, extra: &[&str]) -> Output {
    let mut args = vec!["groups", command, "--replicated-bootstrap", src, "--data-bootstrap", tgt, "--output", "json"];
    args.extend(extra);
    mm2_migrate(&args)
}

/// `(group, topic, partition) -> entry` of a groups plan document.
fn entries(plan: &Value) -> BTreeMap<(String, String, i64), Value> {
    plan["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| ((e["group"].as_str().unwrap().to_owned(), e["source_topic"].as_str().unwrap().to_owned(), e["partition"].as_i64().unwrap()), e.clone()))
        .collect()
}

/// MM2's own client on the checkpoints topic: `(group, topic, partition) -> offset` from
/// RemoteClusterUtils.translateOffsets, and the records as MM2's Checkpoint decodes them.
fn mm2_client(tgt: &str, alias: &str, groups: &[&str]) -> (BTreeMap<GroupPartition, i64>, Vec<String>) {
    let java = repo_path("tests/java/TranslateOffsets.java");
    let output = Command::new(repo_path("tests/kafka/broker.sh"))
        .args(["java", java.to_str().unwrap(), tgt, alias])
        .args(groups)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "TranslateOffsets: {text}{}", String::from_utf8_lossy(&output.stderr));
    let mut offsets = BTreeMap::new();
    let mut checkpoints = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("OFFSET ") {
            let cols: Vec<&str> = rest.split(' ').collect();
            offsets.insert((cols[0].to_owned(), cols[1].to_owned(), cols[2].parse().unwrap()), cols[3].parse().unwrap());
        } else if let Some(rest) = line.strip_prefix("CHECKPOINT ") {
            checkpoints.push(rest.to_owned());
        }
    }
    (offsets, checkpoints)
}

#[test]
fn groups_fail_over_exactly_and_mirrormaker_never_moves_them_back() {
    let (source, target) = (Broker::start(), Broker::start());
    let (src, tgt) = (source.bootstrap.as_str(), target.bootstrap.as_str());

    // The source: orders/0 = 0..20, a transaction 20..25 (marker at 25), 26..41; orders/1 = 0..40;
    // audit/0 = 0..20.
    create_topic(src, "orders", 2, "delete");
    create_topic(src, "audit", 1, "delete");
    produce_range(src, "orders", 0, 0..20);
    produce_transaction(src, "orders", 0, 20);
    produce_range(src, "orders", 0, 25..40);
    produce_range(src, "orders", 1, 0..40);
    produce_range(src, "audit", 0, 0..20);
    // The target: foreign records first on orders/0.
    create_topic(tgt, "orders", 2, "delete");
    produce_range(tgt, "orders", 0, 1000..1000 + FOREIGN);
    // The old tool began copying orders/1 at 15: its offsets say 14 was copied.
    create_topic(tgt, "mm2-offsets.legacy.internal", 25, "compact");
    kcat_produce(
        tgt,
        "mm2-offsets.legacy.internal",
        &[(r#"["MirrorSourceConnector",{"cluster":"legacy","partition":1,"topic":"orders"}]"#, Some(r#"{"offset":14}"#))],
    );
    let old = MirrorMaker::start("legacy", src, tgt, "orders, audit", "tgt.offset.flush.interval.ms = 2000\n");
    wait_for(&old, "the old tool's copies", 180, || {
        let orders = partition_values(tgt, "orders");
        orders.get(&0).map_or(0, Vec::len) == FOREIGN + 40
            && orders.get(&1).map_or(0, Vec::len) == 25
            && partition_values(tgt, "audit").get(&0).map_or(0, Vec::len) == 20
    });
    old.stop();
    // To the new MM2 the old tool left no offset syncs.
    kafka_topics(src, &["--delete", "--topic", "mm2-offset-syncs.tgt.internal"]);

    // Records the old tool never copied, then the groups' commits on the source.
    produce_range(src, "orders", 0, 40..50); // offsets 41..51
    produce_range(src, "orders", 1, 40..50); // offsets 40..50
    let commits: &[(&str, &str, i32, i64)] = &[
        ("g-mid", "orders", 0, 10),
        ("g-mid", "orders", 1, 20),
        ("g-marker", "orders", 0, 25),
        ("g-end", "orders", 0, 41),
        ("g-end", "orders", 1, 40),
        ("g-ahead", "orders", 0, 45),
        ("g-before", "orders", 1, 5),
        ("g-active", "orders", 0, 10),
        ("g-retention", "audit", 0, 3),
    ];
    for (group, topic, p, offset) in commits {
        commit(src, group, topic, *p, *offset);
    }
    let delete = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(delete.path(), r#"{"partitions":[{"topic":"audit","partition":0,"offset":10}],"version":1}"#).unwrap();
    kafka_tool("delete-records", src, &[], &["--offset-json-file", delete.path().to_str().unwrap()]);
    // g-active has a member on the target.
    let member = Member(
        Command::new("kcat")
            .args(["-b", tgt, "-G", "g-active", "-q", "-o", "end", "orders"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while !kafka_tool("groups", tgt, &[], &["--describe", "--group", "g-active", "--state"]).contains("Stable") {
        assert!(Instant::now() < deadline, "g-active never became stable on the target");
        std::thread::sleep(Duration::from_millis(500));
    }

    // The plan: each commit placed among the copies.
    let plan = groups("plan", src, tgt, &["--source-alias", "src"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    let plan = json(&plan);
    let got = entries(&plan["plan"]);
    let expect: &[Expected] = &[
        // g-mid: orders/0 10 is data 17 (7 foreign records first); orders/1 20 is data 5 (copying began at 15).
        ("g-mid", "orders", 0, "exact", Some(17), "commit"),
        ("g-mid", "orders", 1, "exact", Some(5), "commit"),
        // On the marker (25): the next record, 26, copied to 7 + 25.
        ("g-marker", "orders", 0, "exact", Some(32), "commit"),
        // Just past the last copies: the copies' ends.
        ("g-end", "orders", 0, "end", Some(47), "commit"),
        ("g-end", "orders", 1, "end", Some(25), "commit"),
        // 4 records past the last copy: the copies' end, never further.
        ("g-ahead", "orders", 0, "ahead", Some(47), "commit"),
        // 10 records before the first copy: the first copy.
        ("g-before", "orders", 1, "before", Some(0), "commit"),
        ("g-active", "orders", 0, "exact", Some(17), "active"),
        // Retention removed its record: nothing.
        ("g-retention", "audit", 0, "unproven", None, "none"),
    ];
    for (group, topic, p, status, offset, action) in expect {
        let e = &got[&(group.to_string(), topic.to_string(), *p)];
        assert_eq!(e["status"], *status, "{group} {topic}/{p}: {e}");
        assert_eq!(e["target_offset"].as_i64(), *offset, "{group} {topic}/{p}: {e}");
        assert_eq!(e["action"], *action, "{group} {topic}/{p}: {e}");
    }
    assert_eq!(got.len(), expect.len(), "{got:?}");
    assert_eq!(got[&("g-ahead".into(), "orders".into(), 0)]["records"], 4);
    assert_eq!(got[&("g-before".into(), "orders".into(), 1)]["records"], 10);
    assert!(got[&("g-retention".into(), "audit".into(), 0)]["detail"].as_str().unwrap().contains("retention"));
    assert_eq!(plan["plan"]["statuses"]["exact"], 4);
    assert_eq!(plan["plan"]["active"][0]["group"], "g-active");
    assert!(plan["refusals"][0].as_str().unwrap().contains("g-active"), "{}", plan["refusals"]);

    // Refusals and bad input; nothing is written by any of them.
    let no_match = groups("plan", src, tgt, &["--source-alias", "src", "--group", "g-mid", "--group", "nope-.*"]);
    assert_eq!(no_match.status.code(), Some(1), "{}", stderr(&no_match));
    assert!(stderr(&no_match).contains("\"nope-.*\" matches no consumer group"), "{}", stderr(&no_match));
    let no_alias = groups("run", src, tgt, &["--skip-active"]);
    assert_eq!(no_alias.status.code(), Some(2), "{}", stderr(&no_alias));
    assert!(stderr(&no_alias).contains("--source-alias") && stderr(&no_alias).contains("--mm2-config"), "{}", stderr(&no_alias));
    let active = groups("run", src, tgt, &["--source-alias", "src"]);
    assert_eq!(active.status.code(), Some(3), "{}", stderr(&active));
    assert!(stderr(&active).contains("\"g-active\" is active on the data cluster (1 member(s)"), "{}", stderr(&active));
    create_topic(tgt, "bad.checkpoints.internal", 1, "delete");
    let not_compacted = groups("run", src, tgt, &["--source-alias", "bad", "--skip-active"]);
    assert_eq!(not_compacted.status.code(), Some(3), "{}", stderr(&not_compacted));
    assert!(stderr(&not_compacted).contains("cleanup.policy=delete"), "{}", stderr(&not_compacted));
    assert!(committed(tgt, "g-mid").is_empty(), "a refused run wrote group offsets");
    assert!(kcat_consume_if_exists(tgt, "src.checkpoints.internal").is_empty());

    // The run, through the new MM2's own configuration (flow src->tgt).
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mm2.properties");
    std::fs::write(
        &config,
        format!(
            "{}emit.checkpoints.enabled = true\nemit.checkpoints.interval.seconds = 1\nsync.group.offsets.enabled = true\n\
             sync.group.offsets.interval.seconds = 1\nrefresh.groups.interval.seconds = 1\ntgt.offset.flush.interval.ms = 2000\n",
            flow_properties("src", src, tgt, "orders, audit")
        ),
    )
    .unwrap();
    let mm2_config = config.to_str().unwrap();
    // The commands of docs/consumer-groups.md (and the README's), on these clusters.
    let doc_names = [("mm2.properties", mm2_config)];
    let plan = mm2_migrate(&documented(&["docs/consumer-groups.md"], "mm2-migrate groups plan --mm2-config mm2.properties", &doc_names));
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert!(stdout(&plan).contains("g-mid"), "{}", stdout(&plan));
    assert!(committed(tgt, "g-mid").is_empty(), "the plan wrote group offsets");
    let documented_run =
        documented(&["README.md", "docs/consumer-groups.md"], "mm2-migrate groups run --mm2-config mm2.properties --skip-active", &doc_names);
    let run = mm2_migrate(&plus(documented_run.clone(), &["--output", "json"]));
    assert!(run.status.success(), "{}", stderr(&run));
    let run = json(&run);
    assert_eq!(run["run"]["offsets_committed"], 7, "{run}");
    assert_eq!(run["run"]["checkpoints_written"], 7);
    assert_eq!(run["run"]["checkpoints_topic_created"], true);
    let compacted = kafka_tool("configs", tgt, &[], &["--describe", "--entity-type", "topics", "--entity-name", "src.checkpoints.internal"]);
    assert!(compacted.contains("cleanup.policy=compact"), "{compacted}");

    // Kafka's own tool reads the offsets; kcat reads the record a consumer of each group gets next.
    let mut written: BTreeMap<(String, String, i64), i64> = BTreeMap::new();
    for (group, topic, p, status, offset, _) in expect.iter().filter(|e| e.5 == "commit") {
        let offset = offset.unwrap();
        assert_eq!(committed(tgt, group).get(&(topic.to_string(), *p as i32)), Some(&offset), "{group} {topic}/{p}");
        written.insert((group.to_string(), topic.to_string(), *p), offset);
        if *status == "exact" || *status == "before" {
            let g = commits.iter().find(|c| c.0 == *group && c.2 == *p as i32).unwrap().3;
            // The record at G, or the first record after the marker / before the first copy.
            let source_offset = match (*group, *status) {
                ("g-marker", _) => 26,
                (_, "before") => 15,
                _ => g,
            };
            assert_eq!(record_at(tgt, topic, *p as i32, offset), record_at(src, topic, *p as i32, source_offset), "{group} {topic}/{p}");
        }
    }
    assert!(!committed(tgt, "g-active").values().any(|o| *o == 17), "g-active was written");
    // MM2's own client reads the checkpoints back: the same offsets, every record decodable.
    let names: Vec<&str> = ["g-mid", "g-marker", "g-end", "g-ahead", "g-before", "g-active", "g-retention"].to_vec();
    let (translated, checkpoints) = mm2_client(tgt, "src", &names);
    assert_eq!(translated, written);
    assert_eq!(checkpoints.len(), 7, "{checkpoints:?}");
    assert!(
        checkpoints.contains(&"Checkpoint{consumerGroupId=g-mid, topicPartition=orders-0, upstreamOffset=10, downstreamOffset=17, metadata=}".to_owned()),
        "{checkpoints:?}"
    );

    // Idempotent: nothing more to write; verify agrees.
    let again = json(&mm2_migrate(&plus(documented_run.clone(), &["--output", "json"])));
    assert_eq!((again["run"]["offsets_committed"].as_i64(), again["run"]["checkpoints_written"].as_i64()), (Some(0), Some(0)), "{again}");
    let documented_verify = documented(&["docs/consumer-groups.md"], "mm2-migrate groups verify --mm2-config mm2.properties", &doc_names);
    let verify = mm2_migrate(&documented_verify);
    assert!(verify.status.success(), "{}{}", stdout(&verify), stderr(&verify));
    assert!(stdout(&verify).contains("active (not checked): g-active"), "{}", stdout(&verify));

    // A group moved past its translation on the target: verify differs, run refuses the rewind.
    commit(tgt, "g-mid", "orders", 0, 30);
    let differs = mm2_migrate(&documented_verify);
    assert_eq!(differs.status.code(), Some(4), "{}", stdout(&differs));
    let rewind = mm2_migrate(&documented_run);
    assert_eq!(rewind.status.code(), Some(3), "{}", stderr(&rewind));
    assert!(stderr(&rewind).contains("group g-mid: orders/0 -> orders/0: the translated offset 17 is below the target's 30"), "{}", stderr(&rewind));
    let allowed = mm2_migrate(&["groups", "run", "--mm2-config", mm2_config, "--skip-active", "--allow-rewind"]);
    assert!(allowed.status.success(), "{}", stderr(&allowed));
    assert_eq!(committed(tgt, "g-mid").get(&("orders".into(), 0)), Some(&17));

    // --follow: a new commit on the source is translated in the next round; SIGTERM stops it
    // cleanly with its summary.
    let follow = documented(&["docs/consumer-groups.md"], "mm2-migrate groups run --mm2-config mm2.properties --skip-active --follow", &doc_names);
    let follow = Command::new(BIN)
        .args(plus(follow, &["--interval", "1", "--output", "json"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    commit(src, "g-before", "orders", 1, 18);
    let deadline = Instant::now() + Duration::from_secs(60);
    while committed(tgt, "g-before").get(&("orders".into(), 1)) != Some(&3) {
        assert!(Instant::now() < deadline, "--follow did not move g-before to the copy of 18");
        std::thread::sleep(Duration::from_millis(500));
    }
    Command::new("kill").args(["-TERM", &follow.id().to_string()]).status().unwrap();
    let follow = follow.wait_with_output().unwrap();
    assert!(follow.status.success(), "{}", stderr(&follow));
    let follow = json(&follow);
    assert!(follow["follow"]["offsets_committed"].as_i64().unwrap() >= 1, "{follow}");
    assert_eq!(follow["follow"]["all_passed"], false, "g-mid is still behind the seam");
    drop(member);

    // --follow stops by itself once every group it follows has passed the seam (orders/1's last
    // copy is of source offset 39): from there MM2's own checkpoints take over.
    let mut follow = Command::new(BIN)
        .args(["groups", "run", "--mm2-config", mm2_config, "--group", "g-before", "--follow", "--interval", "1", "--output", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    commit(src, "g-before", "orders", 1, 40);
    let deadline = Instant::now() + Duration::from_secs(60);
    while follow.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            follow.kill().unwrap();
            panic!("--follow did not stop once g-before passed the seam");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let follow = follow.wait_with_output().unwrap();
    assert!(follow.status.success(), "{}", stderr(&follow));
    let follow = json(&follow);
    assert_eq!(follow["follow"]["all_passed"], true, "{follow}");
    assert_eq!(follow["follow"]["behind_seam"], serde_json::json!([]), "{follow}");
    assert_eq!(committed(tgt, "g-before").get(&("orders".into(), 1)), Some(&25), "the copies' end");

    // The new MM2 takes over: its offsets migrated from the old tool's, then new records and a
    // new commit of g-end at the source's end.
    let migrate = mm2_migrate(&[
        "run", "--plugin", "mm2-to-mm2", "--source-bootstrap", tgt, "--source-topic", "mm2-offsets.legacy.internal",
        "--replicated-bootstrap", src, "--mm2-config", mm2_config, "--set", "source.cluster.alias=legacy",
    ]);
    assert!(migrate.status.success(), "{}{}", stdout(&migrate), stderr(&migrate));
    let before: BTreeMap<String, BTreeMap<(String, i32), i64>> =
        names.iter().map(|g| (g.to_string(), committed(tgt, g))).collect();
    let new = MirrorMaker::from_file(&config);
    produce_range(src, "orders", 0, 50..60); // offsets 51..61
    wait_for(&new, "the new MM2's copies", 180, || partition_values(tgt, "orders").get(&0).map_or(0, Vec::len) == FOREIGN + 60);
    commit(src, "g-end", "orders", 0, 61);
    wait_for(&new, "MM2 moving g-end on", 120, || committed(tgt, "g-end").get(&("orders".into(), 0)).is_some_and(|o| *o > 47));
    // Several more checkpoint rounds, then: no group moved backwards.
    std::thread::sleep(Duration::from_secs(5));
    for (group, offsets) in &before {
        let now = committed(tgt, group);
        for (tp, offset) in offsets {
            assert!(now.get(tp).is_some_and(|o| o >= offset), "MM2 moved {group} {tp:?} from {offset} to {:?}", now.get(tp));
        }
    }
    new.stop();
}
