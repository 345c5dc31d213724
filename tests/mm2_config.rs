//! `--mm2-config`: the migration reads the very mm2.properties MirrorMaker 2 then runs from (a
//! `${file:...}` indirection and non-default `topics`/`topics.exclude` in it), and the coverage
//! report's counts are what MM2 then does, measured on the target. Configurations MM2 would
//! reject are refused before any connection.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::docs::documented;
use support::mirrormaker::{MirrorMaker, common_properties, wait_for};
use support::*;

/// Records per partition on the source, and how many the old replicator copied.
const N: usize = 20;
const K: usize = 7;

fn counts(bootstrap: &str, topic: &str) -> BTreeMap<i64, usize> {
    let mut out = BTreeMap::new();
    for r in kcat_consume_if_exists(bootstrap, topic) {
        *out.entry(r["partition"].as_i64().unwrap()).or_default() += 1;
    }
    out
}

#[test]
fn mirrormaker_resumes_as_planned_from_the_same_mm2_properties() {
    let (source, target) = (Broker::start(), Broker::start());
    let (src, tgt) = (source.bootstrap.as_str(), target.bootstrap.as_str());
    // orders: migrated; payments: copied by the old tool but without offsets; audit: migrated
    // but excluded by MM2's topics.exclude; scratch: outside MM2's topics.
    for (topic, partitions) in [("orders", 2), ("payments", 1), ("audit", 1), ("scratch", 1)] {
        create_topic(src, topic, partitions, "delete");
        create_topic(tgt, topic, partitions, "delete");
        for p in 0..partitions as i32 {
            produce_range(src, topic, p, 0..N);
            if topic != "scratch" {
                produce_range(tgt, topic, p, 0..K);
            }
        }
    }
    create_topic(tgt, "connect-offsets", 25, "compact");
    let offsets: Vec<(String, String)> = [("orders", 0), ("orders", 1), ("audit", 0)]
        .iter()
        .map(|(t, p)| (format!(r#"["replicator",{{"topic":"{t}","partition":{p}}}]"#), format!(r#"{{"offset":{}}}"#, K - 1)))
        .collect();
    kcat_produce(tgt, "connect-offsets", &offsets.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))).collect::<Vec<_>>());

    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets.properties");
    std::fs::write(&secrets, format!("prim.bootstrap = {src}\n")).unwrap();
    let config = dir.path().join("mm2.properties");
    std::fs::write(
        &config,
        format!(
            "clusters = prim, bak\n\
             config.providers = file\n\
             config.providers.file.class = org.apache.kafka.common.config.provider.FileConfigProvider\n\
             prim.bootstrap.servers = ${{file:{}:prim.bootstrap}}\n\
             bak.bootstrap.servers = {tgt}\n\
             prim->bak.enabled = true\n\
             bak->prim.enabled = false\n\
             prim->bak.topics = orders, payments, audit\n\
             prim->bak.topics.exclude = audit\n\
             {}",
            secrets.display(),
            common_properties()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let migrate = |command: &str, extra: &[&str]| {
        let mut args = vec![command, "--mm2-config", config, "--plugin", "replicator-to-mm2", "--source-bootstrap", tgt];
        args.extend(extra);
        mm2_migrate(&args)
    };

    // The plan names where each fact came from, and what MM2 will do on every partition.
    // The commands of the README's walk-through and the cut-over runbook, on these clusters.
    let names = [("mm2.properties", config), ("dest-kafka:9092", tgt)];
    let plan = mm2_migrate(&documented(
        &["README.md", "docs/cutover.md"],
        "mm2-migrate plan --mm2-config mm2.properties --plugin replicator-to-mm2 --source-bootstrap dest-kafka:9092",
        &names,
    ));
    assert!(plan.status.success(), "{}", stderr(&plan));
    let text = stdout(&plan);
    assert!(text.contains("flow prim->bak"), "{text}");
    assert!(text.contains(&format!("replicated cluster          {src}  (from prim.bootstrap.servers)")), "{text}");
    assert!(text.contains("offsets topic               mm2-offsets.prim.internal  (from MM2's default"), "{text}");
    assert!(text.contains("topics.exclude              audit  (from prim->bak.topics.exclude)"), "{text}");
    assert!(text.contains("NOT REPLICATED  audit/0"), "{text}");
    let plan: Value = serde_json::from_str(&stdout(&migrate("plan", &["--output", "json"]))).unwrap();
    let totals = &plan["plan"]["coverage"]["totals"];
    assert_eq!(totals["resume"], 2, "{totals}");
    assert_eq!(totals["from_start"], 1, "{totals}");
    assert_eq!(totals["duplicates"], K as i64, "{totals}");
    assert_eq!(plan["plan"]["coverage"]["not_replicated"], serde_json::json!(["audit/0"]));

    // An alias the flow does not look up is refused, whatever the plugin was told.
    let typo = migrate("run", &["--set", "source.cluster.alias=prim2"]);
    assert_eq!(typo.status.code(), Some(1), "{}", stderr(&typo));
    assert!(stderr(&typo).contains("not ones MM2's flow prim->bak"), "{}", stderr(&typo));

    let run = mm2_migrate(&documented(
        &["README.md"],
        "mm2-migrate run --mm2-config mm2.properties --plugin replicator-to-mm2 --source-bootstrap dest-kafka:9092",
        &names,
    ));
    assert!(run.status.success(), "{}", stderr(&run));
    let verify = mm2_migrate(&documented(
        &["README.md"],
        "mm2-migrate verify --mm2-config mm2.properties --plugin replicator-to-mm2 --source-bootstrap dest-kafka:9092",
        &names,
    ));
    assert!(verify.status.success(), "{}", stderr(&verify));

    // MM2 from the very same file.
    let mm2 = MirrorMaker::from_file(std::path::Path::new(config));
    wait_for(&mm2, "MM2's copies", 180, || {
        let (orders, payments) = (counts(tgt, "orders"), counts(tgt, "payments"));
        (0..2).all(|p| orders.get(&p) == Some(&N)) && payments.get(&0) == Some(&(N + K))
    });
    std::thread::sleep(Duration::from_secs(5));
    drop(mm2);
    let (orders, payments, audit) = (counts(tgt, "orders"), counts(tgt, "payments"), counts(tgt, "audit"));
    // resume: every record once; from-start: the duplicates the report counted; not replicated:
    // the old copies only.
    assert_eq!(orders, BTreeMap::from([(0, N), (1, N)]));
    assert_eq!(payments[&0] - N, totals["duplicates"].as_u64().unwrap() as usize);
    assert_eq!(audit[&0], K, "MM2 did not replicate audit");
}

#[test]
fn configurations_mm2_would_reject_are_refused_before_any_connection() {
    let dir = tempfile::tempdir().unwrap();
    let base = "clusters = a, b\na.bootstrap.servers = 127.0.0.1:1\nb.bootstrap.servers = 127.0.0.1:1\n";
    let cases: [(&str, &str, &[&str], &str); 6] = [
        ("no-clusters", "a.bootstrap.servers = x:1\n", &[], "`clusters` is missing"),
        ("unknown-flow", "a->b.enabled = true\n", &["--flow", "a->c"], "unknown flow a->c"),
        ("disabled", "a->b.enabled = false\n", &["--flow", "a->b"], "is not enabled"),
        ("no-bootstrap", "clusters = a, c\na->c.enabled = true\na.bootstrap.servers = x:1\n", &[], "c.bootstrap.servers is missing"),
        ("unresolved", "a->b.enabled = true\nconfig.providers = file\nconfig.providers.file.class = org.apache.kafka.common.config.provider.FileConfigProvider\na.sasl.jaas.config = ${file:/nonexistent/secrets:x}\n", &[], "cannot read /nonexistent/secrets"),
        ("jks", "a->b.enabled = true\na.security.protocol = SSL\na.ssl.truststore.location = /etc/ts.jks\n", &[], "--replicated-property ssl.ca.location"),
    ];
    for (name, body, extra, expected) in cases {
        let path = dir.path().join(format!("{name}.properties"));
        let text = if name == "no-clusters" || name == "no-bootstrap" { body.to_owned() } else { format!("{base}{body}") };
        std::fs::write(&path, text).unwrap();
        let started = Instant::now();
        let mut args = vec!["plan", "--mm2-config", path.to_str().unwrap(), "--plugin", "replicator-to-mm2", "--source-bootstrap", "127.0.0.1:1"];
        args.extend(extra);
        let output = mm2_migrate(&args);
        assert_eq!(output.status.code(), Some(2), "{name}: {}", stderr(&output));
        assert!(stderr(&output).contains(expected), "{name}: {}", stderr(&output));
        assert!(started.elapsed() < Duration::from_secs(5), "{name}: refused before connecting");
    }
}

#[test]
fn a_strimzi_resource_plans_what_the_equivalent_flags_plan() {
    let (source, target) = (Broker::start(), Broker::start());
    let (src, tgt) = (source.bootstrap.as_str(), target.bootstrap.as_str());
    create_topic(src, "orders", 2, "delete");
    for p in 0..2 {
        produce_range(src, "orders", p, 0..N);
    }
    create_topic(tgt, "connect-offsets", 25, "compact");
    let offsets: Vec<(String, String)> = (0..2)
        .map(|p| (format!(r#"["replicator",{{"topic":"orders","partition":{p}}}]"#), format!(r#"{{"offset":{}}}"#, K - 1 + p as usize)))
        .collect();
    kcat_produce(tgt, "connect-offsets", &offsets.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))).collect::<Vec<_>>());
    let dir = tempfile::tempdir().unwrap();
    let resource = dir.path().join("mm2.yaml");
    let fixture = std::fs::read_to_string(repo_path("tests/strimzi/kafka-mirror-maker-2.yaml")).unwrap();
    std::fs::write(&resource, fixture.replace("SOURCE_BOOTSTRAP", src).replace("TARGET_BOOTSTRAP", tgt)).unwrap();

    let plan = |args: &[&str]| -> Value {
        let mut all = vec!["plan", "--plugin", "replicator-to-mm2", "--source-bootstrap", tgt, "--output", "json"];
        all.extend(args);
        let output = mm2_migrate(&all);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        serde_json::from_str(&stdout(&output)).unwrap()
    };
    let from_resource = plan(&["--strimzi", resource.to_str().unwrap()]);
    let from_flags = plan(&[
        "--set", "source.cluster.alias=cluster-a", "--set", "target.connector.name=cluster-a->cluster-b.MirrorSourceConnector",
        "--target-topic", "mirrormaker2-cluster-offsets", "--target-bootstrap", tgt, "--replicated-bootstrap", src,
        "--replication-policy", "identity",
    ]);
    let essentials = |doc: &Value| {
        let plan = &doc["plan"];
        // In key order: the two plans are made by two runs, each reading its snapshot in its own order.
        let mut entries: Vec<Value> = plan["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| serde_json::json!([e["key"], e["partition"], e["value"], e["change"], e["range"], e["seam"]]))
            .collect();
        entries.sort_by_key(|e| e[0].to_string());
        serde_json::json!({"target": plan["target_topic"], "partitions": plan["target_partitions"], "entries": entries, "seam": plan["seam_check"]["counts"]})
    };
    assert_eq!(essentials(&from_resource), essentials(&from_flags));
    let entries = from_resource["plan"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries[0]["key"].as_str().unwrap().starts_with(r#"["cluster-a->cluster-b.MirrorSourceConnector",{"cluster":"cluster-a""#), "{}", entries[0]["key"]);
    assert_eq!(from_resource["plan"]["target_topic"], "mirrormaker2-cluster-offsets");
    // Strimzi's topicsPattern, its target and the policy reach the coverage report.
    assert_eq!(from_resource["plan"]["coverage"]["totals"]["resume"], 2, "{}", from_resource["plan"]["coverage"]);

    // The same plan handed to Strimzi: a ConfigMap in the offsets.json format Strimzi documents
    // for a KafkaMirrorMaker2 connector, then the kubectl commands (as YAML comments). Refused as
    // `run` would refuse (no copies where MM2 writes: a gap), nothing on stdout, until
    // --resume-at says what to write.
    let strimzi = |extra: &[&str]| {
        let mut args = vec![
            "plan", "--plugin", "replicator-to-mm2", "--source-bootstrap", tgt, "--strimzi", resource.to_str().unwrap(),
            "--output", "strimzi", "--strimzi-configmap", "orders-offsets",
        ];
        args.extend(extra);
        mm2_migrate(&args)
    };
    let output = strimzi(&[]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    let output = strimzi(&["--resume-at", "recorded"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let manifest = stdout(&output);
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&manifest).unwrap();
    assert_eq!((doc["kind"].as_str(), doc["metadata"]["name"].as_str()), (Some("ConfigMap"), Some("orders-offsets")), "{manifest}");
    let json = doc["data"]["cluster-a--cluster-b.MirrorSourceConnector.json"].as_str().expect("Strimzi's entry name");
    let offsets: Value = serde_json::from_str(json).unwrap();
    let expected: Vec<Value> = (0..2)
        .map(|p| serde_json::json!({"partition": {"cluster": "cluster-a", "partition": p, "topic": "orders"}, "offset": {"offset": K - 1 + p as usize}}))
        .collect();
    assert_eq!(offsets, serde_json::json!({"offsets": expected}));
    assert!(manifest.contains(
        "#    kubectl annotate kafkamirrormaker2 my-mirror-maker-2 strimzi.io/connector-offsets=alter \
         strimzi.io/mirrormaker-connector='cluster-a->cluster-b.MirrorSourceConnector'"
    ), "{manifest}");
    // Without --strimzi there is no resource to name: refused before anything connects.
    let output = mm2_migrate(&["plan", "--plugin", "replicator-to-mm2", "--source-bootstrap", "127.0.0.1:1", "--output", "strimzi"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--output strimzi needs --strimzi"), "{}", stderr(&output));
}
