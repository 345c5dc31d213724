//! MM2 on a real distributed Kafka Connect worker: Replicator's offsets migrated through
//! Connect's offsets API (KIP-875) into a MirrorSourceConnector named as Strimzi names it, with
//! its own offsets topic; once resumed, MM2 copies every remaining record exactly once. The same
//! with exactly-once source support on the worker. And what the REST path refuses.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::connect::{ConnectWorker, mirror_source_config};
use support::docs::{documented, plus};
use support::*;

const CONNECTOR: &str = "src->tgt.MirrorSourceConnector";
const PARTITIONS: i32 = 2;
/// Records per partition on the source.
const N: usize = 20;
/// Records per partition the old replicator had already copied.
const K: usize = 7;

/// Records 0..N-1 of `orders` on the source; Replicator copied the first K of each partition to
/// the target and recorded its progress (`last` = K-1) in connect-offsets on the target.
fn replicator_scenario(src: &str, tgt: &str) {
    create_topic(src, "orders", PARTITIONS as u32, "delete");
    create_topic(tgt, "orders", PARTITIONS as u32, "delete");
    let keys: Vec<String> = (0..N).map(|i| format!("k{i}")).collect();
    for p in 0..PARTITIONS {
        let all: Vec<String> = (0..N).map(|i| record_value("orders", p, i)).collect();
        let records: Vec<(&str, Option<&str>)> = keys.iter().zip(&all).map(|(k, v)| (k.as_str(), Some(v.as_str()))).collect();
        kcat_produce_to(src, "orders", p, &records);
        kcat_produce_to(tgt, "orders", p, &records[..K]);
    }
    create_topic(tgt, "connect-offsets", 25, "compact");
    let offsets: Vec<(String, String)> = (0..PARTITIONS)
        .map(|p| (format!(r#"["replicator",{{"topic":"orders","partition":{p}}}]"#), format!(r#"{{"offset":{}}}"#, K - 1)))
        .collect();
    let offsets: Vec<(&str, Option<&str>)> = offsets.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))).collect();
    kcat_produce(tgt, "connect-offsets", &offsets);
}

/// `mm2-migrate COMMAND` with Replicator's offsets on `tgt` and the connector on `url`.
fn migrate(command: &str, tgt: &str, url: &str, connector: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![command, "--plugin", "replicator-to-mm2", "--source-bootstrap", tgt, "--connect-url", url, "--connector", connector];
    args.extend(extra);
    mm2_migrate(&args)
}

fn migrate_through_connect(worker_extra: &str) {
    let (source, target) = (Broker::start(), Broker::start());
    let (src, tgt) = (source.bootstrap.as_str(), target.bootstrap.as_str());
    replicator_scenario(src, tgt);
    let worker = ConnectWorker::start(tgt, "mm2", worker_extra);
    worker.create(CONNECTOR, mirror_source_config(src, tgt, "orders", "mm2-src-offsets"), true);

    // The commands of docs/mm2-config.md, on this worker. The plan reads the connector's config
    // (aliases, topics, policy, source cluster) and offsets.
    let names = [("dest-kafka:9092", tgt), ("http://connect:8083", worker.url.as_str()), ("primary->backup.MirrorSourceConnector", CONNECTOR)];
    let plan = mm2_migrate(&documented(
        &["docs/mm2-config.md"],
        "mm2-migrate plan --plugin replicator-to-mm2 --source-bootstrap dest-kafka:9092 --connect-url http://connect:8083 --connector 'primary->backup.MirrorSourceConnector'",
        &names,
    ));
    assert!(plan.status.success(), "{}", stderr(&plan));
    let text = stdout(&plan);
    assert!(text.contains(&format!("connector \"{CONNECTOR}\" at {} (STOPPED with 0 task(s)", worker.url)), "{text}");
    assert!(text.contains(&format!("replicated cluster          {src}  (from connector config source.cluster.bootstrap.servers)")), "{text}");
    assert!(text.contains("new                         2"), "{text}");

    let run = documented(
        &["docs/mm2-config.md"],
        "mm2-migrate run --plugin replicator-to-mm2 --source-bootstrap dest-kafka:9092 --connect-url http://connect:8083 --connector 'primary->backup.MirrorSourceConnector'",
        &names,
    );
    let run = mm2_migrate(&plus(run, &["--output", "json"]));
    assert!(run.status.success(), "{}", stderr(&run));
    let doc: Value = serde_json::from_str(&stdout(&run)).unwrap();
    assert_eq!(doc["connect"]["altered"], 2, "{doc}");
    assert_eq!(doc["connect"]["stopped_by_run"], false, "{doc}");
    assert_eq!(worker.state(CONNECTOR).as_deref(), Some("STOPPED"), "run leaves the connector stopped");

    // Connect holds them (independent client: curl), in the connector's own offsets topic, in
    // exactly the bytes the topic path writes (independent client: kcat).
    let expected: BTreeMap<(String, i64), i64> = (0..PARTITIONS).map(|p| (("orders".to_owned(), p as i64), K as i64 - 1)).collect();
    assert_eq!(worker.offsets(CONNECTOR), expected);
    let keys: Vec<String> = kcat_consume(tgt, "mm2-src-offsets").iter().map(|r| r["key"].as_str().unwrap().to_owned()).collect();
    for p in 0..PARTITIONS {
        let key = format!(r#"["{CONNECTOR}",{{"cluster":"src","partition":{p},"topic":"orders"}}]"#);
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    let verify = mm2_migrate(&documented(
        &["docs/mm2-config.md"],
        "mm2-migrate verify --plugin replicator-to-mm2 --source-bootstrap dest-kafka:9092 --connect-url http://connect:8083 --connector 'primary->backup.MirrorSourceConnector'",
        &names,
    ));
    assert!(verify.status.success(), "{}{}", stdout(&verify), stderr(&verify));
    assert!(stdout(&verify).contains("2 records checked, 0 differ"), "{}", stdout(&verify));

    // Resumed, MM2 copies records K..N-1 of each partition, once.
    worker.resume(CONNECTOR);
    let deadline = Instant::now() + Duration::from_secs(180);
    while !(0..PARTITIONS).all(|p| partition_values(tgt, "orders").get(&(p as i64)).map_or(0, Vec::len) >= N) {
        assert!(Instant::now() < deadline, "MM2 did not finish copying in time; the worker's log:\n{}", worker.log_tail());
        std::thread::sleep(Duration::from_secs(1));
    }
    std::thread::sleep(Duration::from_secs(5));
    let copied = partition_values(tgt, "orders");
    for p in 0..PARTITIONS {
        let expected: Vec<String> = (0..N).map(|i| record_value("orders", p, i)).collect();
        assert_eq!(copied[&(p as i64)], expected, "orders/{p}: every record exactly once, in order");
    }
}

#[test]
fn replicator_offsets_migrate_through_connect_and_mm2_copies_each_record_once() {
    migrate_through_connect("");
}

#[test]
fn the_same_with_exactly_once_source_support() {
    migrate_through_connect("exactly.once.source.support = enabled\n");
}

#[test]
fn what_the_rest_path_refuses() {
    let (source, target) = (Broker::start(), Broker::start());
    let (src, tgt) = (source.bootstrap.as_str(), target.bootstrap.as_str());
    replicator_scenario(src, tgt);
    let worker = ConnectWorker::start(tgt, "mm2", "");

    // A running connector: refused (exit 3) with the command that stops it; nothing written.
    worker.create(CONNECTOR, mirror_source_config(src, tgt, "none-such", "mm2-src-offsets"), false);
    let run = migrate("run", tgt, &worker.url, CONNECTOR, &[]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    let stop = format!("curl -X PUT {}/connectors/src-%3Etgt.MirrorSourceConnector/stop", worker.url);
    assert!(stderr(&run).contains(&stop) && stderr(&run).contains("is RUNNING"), "{}", stderr(&run));
    assert!(worker.offsets(CONNECTOR).is_empty());
    // --stop-connector stops it, writes, and leaves it stopped.
    let run = migrate("run", tgt, &worker.url, CONNECTOR, &["--stop-connector", "--output", "json"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let doc: Value = serde_json::from_str(&stdout(&run)).unwrap();
    assert_eq!((doc["connect"]["altered"].as_u64(), doc["connect"]["stopped_by_run"].as_bool()), (Some(2), Some(true)), "{doc}");
    assert_eq!(worker.state(CONNECTOR).as_deref(), Some("STOPPED"));
    assert_eq!(worker.offsets(CONNECTOR).len(), 2);

    // --follow would keep writing while the connector must stay stopped: refused before anything.
    let follow = migrate("run", tgt, &worker.url, CONNECTOR, &["--follow"]);
    assert_eq!(follow.status.code(), Some(2), "{}", stderr(&follow));
    assert!(stderr(&follow).contains("--follow keeps writing while the old replicator runs"), "{}", stderr(&follow));

    // An unknown connector is named with the ones the worker has.
    let plan = migrate("plan", tgt, &worker.url, "src->tgt.MirrorSourceConnectr", &[]);
    assert_eq!(plan.status.code(), Some(1), "{}", stderr(&plan));
    assert!(stderr(&plan).contains(&format!("has no connector \"src->tgt.MirrorSourceConnectr\" (its connectors: {CONNECTOR})")), "{}", stderr(&plan));

    // Connect's own refusal is shown as it is: here the connector's offsets topic is not
    // compacted, which Connect refuses to read or write. (An offset MirrorSourceConnector's
    // alterOffsets rejects, a negative one, never passes the tool's own checks.)
    create_topic(tgt, "not-compacted", 1, "delete");
    worker.create("bad", mirror_source_config(src, tgt, "orders", "not-compacted"), true);
    let run = migrate("run", tgt, &worker.url, "bad", &[]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let text = stderr(&run);
    assert!(
        text.contains(&format!("Kafka Connect at {} answered GET /connectors/bad/offsets with HTTP 500: Failed to retrieve offsets", worker.url)),
        "{text}"
    );

    // A worker that does not answer: the command stops after --timeout, naming the URL.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let started = Instant::now();
    let plan = migrate("plan", tgt, &url, CONNECTOR, &["--timeout", "2"]);
    assert_eq!(plan.status.code(), Some(1), "{}", stderr(&plan));
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    assert!(stderr(&plan).contains(&format!("Kafka Connect at {url}: no answer to GET")) && stderr(&plan).contains("within 2 s"), "{}", stderr(&plan));
}

#[test]
fn a_secured_rest_api_over_tls_with_client_certificates_and_basic_auth() {
    let (source, target) = (Broker::start(), Broker::start());
    let (src, tgt) = (source.bootstrap.as_str(), target.bootstrap.as_str());
    replicator_scenario(src, tgt);
    let (worker, client) = ConnectWorker::start_secured(tgt, "mm2");
    worker.create(CONNECTOR, mirror_source_config(src, tgt, "orders", "mm2-src-offsets"), true);
    let tls = [
        "--connect-property", &format!("ssl.ca.location={}", client.ca),
        "--connect-property", &format!("ssl.certificate.location={}", client.certificate),
        "--connect-property", &format!("ssl.key.location={}", client.key),
    ];
    let login = ["--connect-property", "basic.auth.user=migrator", "--connect-property", "basic.auth.password=migrator-secret"];

    // Without the login, Connect's refusal; without the CA, no TLS session with the worker
    // (mm2-migrate trusts the system's roots, which did not sign it).
    let plan = migrate("plan", tgt, &worker.url, CONNECTOR, &tls);
    assert_eq!(plan.status.code(), Some(1), "{}", stderr(&plan));
    assert!(stderr(&plan).contains("with HTTP 401"), "{}", stderr(&plan));
    let plan = migrate("plan", tgt, &worker.url, CONNECTOR, &[&tls[2..], &login[..]].concat());
    assert_eq!(plan.status.code(), Some(1), "{}", stderr(&plan));
    assert!(stderr(&plan).contains(&format!("Kafka Connect at {}: GET /connectors/", worker.url)), "{}", stderr(&plan));

    // Without the client certificate the worker ends the TLS handshake.
    let plan = migrate("plan", tgt, &worker.url, CONNECTOR, &[&tls[..2], &login[..]].concat());
    assert_eq!(plan.status.code(), Some(1), "{}", stderr(&plan));

    // With both, the migration; credentials appear in no output, debug logs included.
    let run = migrate("run", tgt, &worker.url, CONNECTOR, &[&tls[..], &login[..], &["-vv"]].concat());
    assert!(run.status.success(), "{}", stderr(&run));
    let expected: BTreeMap<(String, i64), i64> = (0..PARTITIONS).map(|p| (("orders".to_owned(), p as i64), K as i64 - 1)).collect();
    assert_eq!(worker.offsets(CONNECTOR), expected);
    let all = stdout(&run) + &stderr(&run);
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode("migrator:migrator-secret");
    assert!(!all.contains("migrator-secret") && !all.contains(&encoded), "{all}");
}

#[test]
fn a_password_over_plain_http_is_refused_before_anything_connects() {
    let args = [
        "plan", "--plugin", "mm2-to-mm2", "--source-bootstrap", "127.0.0.1:1", "--connect-url", "http://127.0.0.1:1",
        "--connector", "c", "--connect-property", "basic.auth.user=u", "--connect-property", "basic.auth.password=hunter2",
    ];
    let output = mm2_migrate(&args);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("basic.auth.password would go in clear text to --connect-url http://127.0.0.1:1"), "{}", stderr(&output));
    assert!(!stderr(&output).contains("hunter2"), "{}", stderr(&output));
}

/// A fake Connect worker on 127.0.0.1 answering the connector's config, its status (STOPPED) and
/// `offsets_body` for its offsets, one connection per request.
fn fake_worker(bootstrap: &str, offsets_body: Vec<u8>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config = serde_json::json!({
        "connector.class": "org.apache.kafka.connect.mirror.MirrorSourceConnector",
        "source.cluster.alias": "src",
        "target.cluster.alias": "tgt",
        "source.cluster.bootstrap.servers": bootstrap,
        "target.cluster.bootstrap.servers": bootstrap,
        "replication.policy.class": "org.apache.kafka.connect.mirror.IdentityReplicationPolicy",
    })
    .to_string()
    .into_bytes();
    let status = br#"{"name":"c","connector":{"state":"STOPPED","worker_id":"w"},"tasks":[],"type":"source"}"#.to_vec();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            reader.read_line(&mut request).unwrap();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap() == 0 || header == "\r\n" {
                    break;
                }
            }
            let body: &[u8] = if request.contains("/offsets") {
                &offsets_body
            } else if request.contains("/status") {
                &status
            } else {
                &config
            };
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body));
        }
    });
    url
}

/// `{"offsets":[...]}` of about `bytes` bytes, as a worker writes MM2's offsets.
fn offsets_answer(bytes: usize) -> Vec<u8> {
    let mut out = br#"{"offsets":["#.to_vec();
    let mut n = 0;
    while out.len() < bytes {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(format!(r#"{{"partition":{{"cluster":"src","partition":{},"topic":"orders-{}"}},"offset":{{"offset":{n}}}}}"#, n % 1000, n / 1000).as_bytes());
        n += 1;
    }
    out.extend_from_slice(b"]}");
    out
}

/// `plan` through the fake worker, with the peak resident memory the process reached (kB).
fn plan_through(url: &str, bootstrap: &str, source: &str) -> (std::process::Output, u64) {
    let args = ["plan", "--plugin", "replicator-to-mm2", "--source-bootstrap", bootstrap, "--source-topic", source, "--connect-url", url, "--connector", "c"];
    let child = std::process::Command::new(BIN)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let mut child = child;
    while child.try_wait().unwrap().is_none() {
        if let Ok(text) = std::fs::read_to_string(&status)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
        {
            peak = peak.max(line.split_whitespace().nth(1).unwrap().parse().unwrap());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    (child.wait_with_output().unwrap(), peak)
}

#[test]
fn a_large_connect_answer_costs_a_small_multiple_of_its_size_and_an_oversized_one_is_refused() {
    let b = &shared_broker().bootstrap;
    let source = "connect-offsets-large-answer";
    create_topic(b, source, 1, "compact");
    // 32 MiB of offsets: 2.5 times what a worker sends for 100,000 partitions.
    let (output, peak_kb) = plan_through(&fake_worker(b, offsets_answer(32 << 20)), b, source);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(peak_kb > 0 && peak_kb < 320 << 10, "a 32 MiB answer took {} MiB of memory", peak_kb >> 10);
    eprintln!("peak RSS for a 32 MiB offsets answer: {} MiB", peak_kb >> 10);

    let (output, _) = plan_through(&fake_worker(b, offsets_answer(65 << 20)), b, source);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("an answer larger than 64 MiB, more than a Connect worker sends"), "{}", stderr(&output));
}
