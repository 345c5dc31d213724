//! The decisive test: real MirrorMaker 2 (connect-mirror from Maven Central, dedicated mode,
//! IdentityReplicationPolicy) between two real Kafka clusters resumes exactly after the offsets
//! mm2-migrate wrote, so the target topic ends with every record once. A second topic of the same
//! scenario is deliberately not migrated and shows the duplicates a naive cut-over produces.

mod support;

use std::time::{Duration, Instant};

use support::mirrormaker::MirrorMaker;
use support::*;

const PARTITIONS: i32 = 2;
/// Records per partition on the source.
const N: usize = 20;
/// Records per partition the old replicator had already copied.
const K: usize = 7;

#[test]
fn mirrormaker2_resumes_exactly_after_the_migrated_offsets() {
    let source = Broker::start();
    let target = Broker::start();
    let (src, tgt) = (source.bootstrap.as_str(), target.bootstrap.as_str());

    // Records 0..N-1 on the source; the old replicator copied the first K of each partition to the
    // target under the same topic name, and its progress sits in connect-offsets on the target.
    for topic in ["orders", "naive"] {
        create_topic(src, topic, PARTITIONS as u32, "delete");
        create_topic(tgt, topic, PARTITIONS as u32, "delete");
        for p in 0..PARTITIONS {
            let all: Vec<String> = (0..N).map(|i| record_value(topic, p, i)).collect();
            let keys: Vec<String> = (0..N).map(|i| format!("k{i}")).collect();
            let records: Vec<(&str, Option<&str>)> = keys.iter().zip(&all).map(|(k, v)| (k.as_str(), Some(v.as_str()))).collect();
            kcat_produce_to(src, topic, p, &records);
            kcat_produce_to(tgt, topic, p, &records[..K]);
        }
    }
    create_topic(tgt, "connect-offsets", 25, "compact");
    let mut offsets = Vec::new();
    for topic in ["orders", "naive"] {
        for p in 0..PARTITIONS {
            offsets.push((format!(r#"["replicator",{{"topic":"{topic}","partition":{p}}}]"#), format!(r#"{{"offset":{}}}"#, K - 1)));
        }
    }
    let offsets: Vec<(&str, Option<&str>)> = offsets.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))).collect();
    kcat_produce(tgt, "connect-offsets", &offsets);

    // Migrate only "orders"; "naive" is the control without migration.
    let output = mm2_migrate(&[
        "run",
        "--plugin",
        "replicator-to-mm2",
        "--set",
        "source.cluster.alias=src",
        "--set",
        "topics.include=orders",
        "--source-bootstrap",
        tgt,
        "--replicated-bootstrap",
        src,
        "--output",
        "json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(doc["written"].as_array().unwrap().len(), PARTITIONS as usize, "{doc}");

    let mm2 = MirrorMaker::start("src", src, tgt, "orders, naive", "");
    let expected_total = |topic: &str| if topic == "orders" { N } else { N + K };
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let done = ["orders", "naive"].iter().all(|topic| {
            let v = partition_values(tgt, topic);
            (0..PARTITIONS).all(|p| v.get(&(p as i64)).map_or(0, Vec::len) >= expected_total(topic))
        });
        if done {
            break;
        }
        assert!(Instant::now() < deadline, "MirrorMaker 2 did not finish copying in time; its log:\n{}", mm2.log_tail());
        std::thread::sleep(Duration::from_secs(1));
    }
    // Give MM2 time to copy anything it would wrongly copy again, then stop it.
    std::thread::sleep(Duration::from_secs(5));
    drop(mm2);

    let migrated = partition_values(tgt, "orders");
    for p in 0..PARTITIONS {
        let expected: Vec<String> = (0..N).map(|i| record_value("orders", p, i)).collect();
        assert_eq!(migrated[&(p as i64)], expected, "orders/{p}: every record exactly once, in order");
    }
    // Without the migration MM2 starts from the beginning: the first K records are there twice.
    let naive = partition_values(tgt, "naive");
    for p in 0..PARTITIONS {
        let mut expected: Vec<String> = (0..K).map(|i| record_value("naive", p, i)).collect();
        expected.extend((0..N).map(|i| record_value("naive", p, i)));
        assert_eq!(naive[&(p as i64)], expected, "naive/{p}: the duplicates a migration avoids");
    }
}
