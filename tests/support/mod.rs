//! Test harness for the live tests: real Kafka brokers started by `tests/kafka/broker.sh`, and
//! Debian's `kcat` as the independent client that writes inputs and reads results.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

pub(crate) mod connect;
pub(crate) mod docs;
pub(crate) mod mirrormaker;
pub(crate) mod sandbox;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_mm2-migrate");

pub(crate) fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn broker_script() -> PathBuf {
    repo_path("tests/kafka/broker.sh")
}

/// A throwaway single-node Kafka broker, stopped when dropped (or when the test process exits).
pub(crate) struct Broker {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) bootstrap: String,
}

impl Broker {
    pub(crate) fn start() -> Broker {
        Broker::start_with(&[])
    }

    /// A broker started with extra environment for tests/kafka/broker.sh.
    pub(crate) fn start_with(env: &[(&str, &str)]) -> Broker {
        let dir = tempfile::tempdir().unwrap();
        let output = Command::new(broker_script())
            .arg("start")
            .arg(dir.path())
            .envs(env.iter().copied())
            .env("OWNER_PID", std::process::id().to_string())
            .stderr(Stdio::inherit())
            .output()
            .expect("run tests/kafka/broker.sh");
        assert!(output.status.success(), "the Kafka broker did not start");
        let bootstrap = String::from_utf8(output.stdout).unwrap().trim().to_owned();
        Broker { dir, bootstrap }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = Command::new(broker_script()).arg("stop").arg(self.dir.path()).status();
    }
}

/// One broker shared by the tests of a binary; each test uses its own topic names.
pub(crate) fn shared_broker() -> &'static Broker {
    static BROKER: OnceLock<Broker> = OnceLock::new();
    BROKER.get_or_init(Broker::start)
}

/// A Kafka Java program (MirrorMaker 2, a Connect worker) on the test jars' classpath with
/// `jvm` options, logging to `dir/<log>`; its own output is discarded.
pub(crate) fn start_java(dir: &Path, log: &str, jvm: &[&str], main: &str, config: &Path) -> std::process::Child {
    let log_config = dir.join("log4j2.properties");
    std::fs::write(
        &log_config,
        format!(
            "status = warn\nappender.file.type = File\nappender.file.name = file\n\
             appender.file.fileName = {}\nappender.file.layout.type = PatternLayout\n\
             appender.file.layout.pattern = [%d] %p %m (%c)%n\nrootLogger.level = info\n\
             rootLogger.appenderRef.file.ref = file\n",
            dir.join(log).display()
        ),
    )
    .unwrap();
    let classpath = Command::new(broker_script()).arg("classpath").output().unwrap();
    let classpath = String::from_utf8(classpath.stdout).unwrap().trim().to_owned();
    Command::new("java")
        .args(["-Xmx384m", &format!("-Dlog4j2.configurationFile={}", log_config.display())])
        .args(jvm)
        .args(["-cp", &classpath, main])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {main}: {e}"))
}

/// The last 40 lines of the log `start_java` writes.
pub(crate) fn log_tail(dir: &Path, log: &str) -> String {
    let log = std::fs::read_to_string(dir.join(log)).unwrap_or_default();
    log.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// Values per partition of `topic`, in log order (none while it does not exist).
pub(crate) fn partition_values(bootstrap: &str, topic: &str) -> std::collections::BTreeMap<i64, Vec<String>> {
    let mut out: std::collections::BTreeMap<i64, Vec<String>> = std::collections::BTreeMap::new();
    for r in kcat_consume_if_exists(bootstrap, topic) {
        out.entry(r["partition"].as_i64().unwrap()).or_default().push(r["payload"].as_str().unwrap().to_owned());
    }
    out
}

/// Kafka's own kafka-topics tool.
pub(crate) fn kafka_topics(bootstrap: &str, args: &[&str]) -> String {
    kafka_tool("topics", bootstrap, &[], args)
}

/// One of Kafka's own tools (`topics`, `acls`, `groups`, ...) run by tests/kafka/broker.sh,
/// with `client` arguments (such as `--command-config FILE`) before `args`.
pub(crate) fn kafka_tool(tool: &str, bootstrap: &str, client: &[&str], args: &[&str]) -> String {
    let output = Command::new(broker_script())
        .arg(tool)
        .args(["--bootstrap-server", bootstrap])
        .args(client)
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "kafka-{tool} {args:?}: {text}");
    text
}

pub(crate) fn create_topic(bootstrap: &str, topic: &str, partitions: u32, cleanup_policy: &str) {
    kafka_topics(
        bootstrap,
        &["--create", "--topic", topic, "--partitions", &partitions.to_string(), "--config", &format!("cleanup.policy={cleanup_policy}")],
    );
}

/// Writes `(key, value)` records with kcat, partitioned by librdkafka's Java-compatible murmur2
/// (as Connect's producer does); `None` is a tombstone.
pub(crate) fn kcat_produce(bootstrap: &str, topic: &str, records: &[(&str, Option<&str>)]) {
    kcat_produce_with(bootstrap, &[], topic, None, records);
}

/// Writes records into one given partition.
pub(crate) fn kcat_produce_to(bootstrap: &str, topic: &str, partition: i32, records: &[(&str, Option<&str>)]) {
    kcat_produce_with(bootstrap, &[], topic, Some(partition), records);
}

/// Writes records with kcat's client settings `client` (`-X key=value` pairs: TLS, SASL).
pub(crate) fn kcat_produce_as(bootstrap: &str, client: &[String], topic: &str, records: &[(&str, Option<&str>)]) {
    kcat_produce_with(bootstrap, client, topic, None, records);
}

fn kcat_produce_with(bootstrap: &str, client: &[String], topic: &str, partition: Option<i32>, records: &[(&str, Option<&str>)]) {
    let mut cmd = Command::new("kcat");
    cmd.args(["-P", "-b", bootstrap, "-t", topic, "-K", "\t", "-Z", "-X", "partitioner=murmur2_random"]).args(client);
    if let Some(p) = partition {
        cmd.args(["-p", &p.to_string()]);
    }
    let mut child = cmd.stdin(Stdio::piped()).spawn().expect("kcat is installed (apt-get install kcat)");
    let mut input = String::new();
    for (key, value) in records {
        assert!(!key.contains('\t') && !key.contains('\n'));
        input.push_str(&format!("{key}\t{}\n", value.unwrap_or("")));
    }
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success(), "kcat produce to {topic}");
}

/// Every record of `topic`, or nothing when the topic does not exist (yet).
pub(crate) fn kcat_consume_if_exists(bootstrap: &str, topic: &str) -> Vec<Value> {
    let output = Command::new("kcat").args(["-C", "-b", bootstrap, "-t", topic, "-J", "-e", "-q"]).output().unwrap();
    if !output.status.success() && String::from_utf8_lossy(&output.stderr).contains("Unknown topic") {
        return Vec::new();
    }
    assert!(output.status.success(), "kcat consume {topic}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Every record of `topic`, as kcat's JSON envelopes.
pub(crate) fn kcat_consume(bootstrap: &str, topic: &str) -> Vec<Value> {
    kcat_consume_as(bootstrap, &[], topic)
}

/// Every record of `topic`, read with kcat's client settings `client`.
pub(crate) fn kcat_consume_as(bootstrap: &str, client: &[String], topic: &str) -> Vec<Value> {
    let output = Command::new("kcat").args(["-C", "-b", bootstrap, "-t", topic, "-J", "-e", "-q"]).args(client).output().unwrap();
    assert!(output.status.success(), "kcat consume {topic}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The partitions librdkafka's Java-compatible murmur2 partitioner picks for `keys` in a fresh
/// topic of `partitions` partitions: an oracle independent of mm2-migrate's own murmur2.
pub(crate) fn java_partitions(bootstrap: &str, keys: &[String], partitions: u32) -> std::collections::HashMap<String, i64> {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let topic = format!("oracle-{}-{}", std::process::id(), COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    create_topic(bootstrap, &topic, partitions, "delete");
    let records: Vec<(&str, Option<&str>)> = keys.iter().map(|k| (k.as_str(), Some("x"))).collect();
    kcat_produce(bootstrap, &topic, &records);
    kcat_consume(bootstrap, &topic)
        .into_iter()
        .map(|r| (r["key"].as_str().unwrap().to_owned(), r["partition"].as_i64().unwrap()))
        .collect()
}

pub(crate) fn mm2_migrate<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(BIN).args(args).stdin(Stdio::null()).output().expect("run mm2-migrate")
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stdout as JSON, or a panic showing both streams.
pub(crate) fn json(output: &Output) -> Value {
    serde_json::from_str(&stdout(output)).unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(output), stderr(output)))
}

/// The value of record `i` of a partition in the tests' data: `orders-p0-3`.
pub(crate) fn record_value(topic: &str, partition: i32, i: usize) -> String {
    format!("{topic}-p{partition}-{i}")
}

/// Records `range` of one partition: key `k<i>`, value [`record_value`].
pub(crate) fn produce_range(bootstrap: &str, topic: &str, partition: i32, range: std::ops::Range<usize>) {
    let records: Vec<(String, String)> = range.map(|i| (format!("k{i}"), record_value(topic, partition, i))).collect();
    let records: Vec<(&str, Option<&str>)> = records.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))).collect();
    kcat_produce_to(bootstrap, topic, partition, &records);
}

/// MM2's source-offset key, as its connector writes it.
pub(crate) fn mm2_key(connector: &str, alias: &str, topic: &str, partition: i32) -> String {
    format!(r#"["{connector}",{{"cluster":"{alias}","partition":{partition},"topic":"{topic}"}}]"#)
}

/// A producer writing one record per partition of a topic every `every` (values
/// [`record_value`], in order), until stopped.
pub(crate) struct Producer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: std::thread::JoinHandle<Vec<usize>>,
}

impl Producer {
    pub(crate) fn start(bootstrap: &str, topic: &str, partitions: i32, every: std::time::Duration) -> Producer {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (flag, bootstrap, topic) = (stop.clone(), bootstrap.to_owned(), topic.to_owned());
        let handle = std::thread::spawn(move || {
            let mut written = vec![0; partitions as usize];
            while !flag.load(std::sync::atomic::Ordering::SeqCst) {
                for (p, n) in written.iter_mut().enumerate() {
                    produce_range(&bootstrap, &topic, p as i32, *n..*n + 1);
                    *n += 1;
                }
                std::thread::sleep(every);
            }
            written
        });
        Producer { stop, handle }
    }

    /// Stops it: the records written to each partition.
    pub(crate) fn stop(self) -> Vec<usize> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.handle.join().expect("the producer thread")
    }
}

/// Commits `offset` for `group` on `topic:partition` with Kafka's own kafka-consumer-groups.
pub(crate) fn commit(bootstrap: &str, group: &str, topic: &str, partition: i32, offset: i64) {
    let at = format!("{topic}:{partition}");
    kafka_tool("groups", bootstrap, &[], &["--reset-offsets", "--group", group, "--topic", &at, "--to-offset", &offset.to_string(), "--execute"]);
}

/// A group's committed offsets as kafka-consumer-groups describes them.
pub(crate) fn committed(bootstrap: &str, group: &str) -> std::collections::BTreeMap<(String, i32), i64> {
    let output = Command::new(broker_script())
        .args(["groups", "--bootstrap-server", bootstrap, "--describe", "--group", group])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let mut out = std::collections::BTreeMap::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() >= 4 && cols[0] == group && let (Ok(p), Ok(o)) = (cols[2].parse::<i32>(), cols[3].parse::<i64>()) {
            out.insert((cols[1].to_owned(), p), o);
        }
    }
    out
}

/// Each partition's end offset (kcat -Q at time -1), read without consuming: kcat -C -e may
/// never see every partition's end at once while a replicator keeps writing.
pub(crate) fn end_offsets(bootstrap: &str, topic: &str, partitions: i32) -> std::collections::BTreeMap<i64, i64> {
    let mut cmd = Command::new("kcat");
    cmd.args(["-Q", "-b", bootstrap]);
    for p in 0..partitions {
        cmd.args(["-t", &format!("{topic}:{p}:-1")]);
    }
    let output = cmd.output().unwrap();
    assert!(output.status.success(), "kcat -Q {topic}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let partition = cols.get(1)?.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
            Some((partition, cols.get(3)?.parse().ok()?))
        })
        .collect()
}
