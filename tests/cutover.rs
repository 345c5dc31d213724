//! `cutover` on real Kafka and a real Connect worker: the old tool is a MirrorSourceConnector
//! under alias `old` running while a producer writes; the new MM2 (`src->tgt`) waits STOPPED on
//! the same worker. The cut-over stops the old one, migrates its offsets (mm2-to-mm2), translates
//! a consumer group, resumes the new one, and proves from its first copies that it resumed
//! exactly; killed (SIGKILL) after the write, the same command finishes without writing again.
//! Then what it refuses, and a planted duplicate the watch catches.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::connect::{ConnectWorker, mirror_source_config, path};
use support::docs::{documented, documented_file, plus};
use support::*;

const NEW: &str = "src->tgt.MirrorSourceConnector";
const OLD: &str = "old-mirror";
const PARTITIONS: i32 = 2;

/// A MirrorSourceConnector under alias `old`: the tool being left.
fn old_config(src: &str, tgt: &str, topic: &str, offsets_topic: &str) -> Value {
    let mut config = mirror_source_config(src, tgt, topic, offsets_topic);
    config["source.cluster.alias"] = "old".into();
    config
}

/// The options every command of the migration takes: the old MM2's offsets (its own offsets
/// topic on the target cluster) through mm2-to-mm2, into the new connector.
fn migration<'a>(tgt: &'a str, url: &'a str, old_offsets: &'a str) -> Vec<&'a str> {
    vec![
        "--plugin", "mm2-to-mm2", "--set", "source.connector.names=old-mirror", "--set", "source.cluster.alias=old",
        "--source-bootstrap", tgt, "--source-topic", old_offsets, "--connect-url", url, "--connector", NEW,
    ]
}

/// Waits until the old connector has copied `at_least` records of each partition and saved its
/// offsets.
fn wait_for_old_copies(worker: &ConnectWorker, tgt: &str, topic: &str, at_least: usize) {
    worker.wait_for("the old MM2's copies and offsets", 120, |w| {
        let copied = end_offsets(tgt, topic, PARTITIONS);
        (0..PARTITIONS).all(|p| copied.get(&(p as i64)).is_some_and(|n| *n >= at_least as i64))
            && w.offsets(OLD).len() == PARTITIONS as usize
    });
}

/// The connector tests' clusters: `topic` on the source with a live producer, the old MM2
/// copying it (five records of each partition copied and its offsets saved), and the new MM2
/// created STOPPED, both on one worker. Fields drop in order: the worker before the brokers.
struct Scenario {
    worker: ConnectWorker,
    producer: Producer,
    source: Broker,
    target: Broker,
}

impl Scenario {
    fn start(topic: &str) -> Scenario {
        let (source, target) = (Broker::start(), Broker::start());
        let (src, tgt) = (source.bootstrap.as_str(), target.bootstrap.as_str());
        create_topic(src, topic, PARTITIONS as u32, "delete");
        let producer = Producer::start(src, topic, PARTITIONS, Duration::from_millis(300));
        let worker = ConnectWorker::start(tgt, "mm2", "");
        worker.create(OLD, old_config(src, tgt, topic, "mm2-old-offsets"), false);
        wait_for_old_copies(&worker, tgt, topic, 5);
        worker.create(NEW, mirror_source_config(src, tgt, topic, "mm2-src-offsets"), true);
        Scenario { worker, producer, source, target }
    }
}

fn journal(path: &Path) -> Value {
    std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null)
}

/// Whether the journal's latest record of `step` has `status`.
fn step_is(journal: &Value, step: &str, status: &str) -> bool {
    journal["steps"].as_array().and_then(|s| s.iter().rev().find(|r| r["step"] == step)).is_some_and(|r| r["status"] == status)
}

/// Runs `args` and kills it (SIGKILL) as soon as its journal says `step` is done.
fn kill_after(args: &[&str], state: &Path, step: &str) -> Value {
    let mut child = Command::new(BIN).args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(240);
    while !step_is(&journal(state), step, "done") {
        assert!(child.try_wait().unwrap().is_none(), "the cut-over ended before {step}: {}", journal(state));
        assert!(Instant::now() < deadline, "no {step} within 240 s: {}", journal(state));
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    journal(state)
}

#[test]
fn a_cutover_stops_the_old_mm2_migrates_and_proves_mm2_resumed_exactly_even_after_a_kill() {
    let topic = "orders";
    let scenario = Scenario::start(topic);
    let (worker, src, tgt) = (&scenario.worker, scenario.source.bootstrap.as_str(), scenario.target.bootstrap.as_str());
    // A consumer group on the source, three records into each partition.
    for p in 0..PARTITIONS {
        commit(src, "app-orders", topic, p, 3);
    }

    // docs/cutover.md's command and job file, on this worker (its journal beside the job file).
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("cutover.toml");
    let job_text = documented_file("docs/cutover.md", "toml", r#"plugin = "mm2-to-mm2""#, &[
        ("target-kafka:9092", tgt),
        ("https://connect:8083", &worker.url),
    ]);
    std::fs::write(&job, job_text).unwrap();
    let job_arg = job.to_str().unwrap();
    let state = dir.path().join("cutover.cutover.json");
    let documented_cutover = plus(
        documented(&["docs/cutover.md"], "mm2-migrate cutover --job cutover.toml --old-connector old-mirror --group 'app-.*'", &[(
            "cutover.toml",
            job_arg,
        )]),
        &["--settle", "3", "--watch-timeout", "120"],
    );
    let args: Vec<&str> = documented_cutover.iter().map(String::as_str).collect();

    // A dry run says what each step would do and changes nothing.
    let dry = mm2_migrate(&[&args[..], &["--dry-run"]].concat());
    assert!(dry.status.success(), "{}", stderr(&dry));
    let text = stdout(&dry);
    assert!(text.contains("step 2/8 stop the old tool: PUT") && text.contains("/connectors/old-mirror/stop"), "{text}");
    assert!(text.contains("step 7/8 start MM2: PUT") && text.contains("/resume"), "{text}");
    assert_eq!(worker.state(OLD).as_deref(), Some("RUNNING"));
    assert!(!state.exists(), "a dry run journals nothing");

    // Killed (SIGKILL) once the write is journaled, before MM2 starts.
    let killed = kill_after(&args, &state, "write");
    assert!(!step_is(&killed, "start-mm2", "started") && !step_is(&killed, "start-mm2", "done"), "killed before MM2 started: {killed}");
    assert_eq!(killed["old_stopped_by_cutover"], "stop", "{killed}");
    assert_eq!((worker.state(OLD).as_deref(), worker.state(NEW).as_deref()), (Some("STOPPED"), Some("STOPPED")));
    let written = worker.offsets(NEW);
    assert_eq!(written.len(), PARTITIONS as usize, "{written:?}");
    // MM2's offsets are the old tool's, under the new alias and connector (the seam is exact).
    assert_eq!(written, worker.offsets(OLD));

    // The same command resumes: groups, MM2 resumed, the watch; the write is not done again.
    let rerun = mm2_migrate(&[&args[..], &["--output", "json"]].concat());
    assert!(rerun.status.success(), "{}\n{}", stdout(&rerun), stderr(&rerun));
    let doc = json(&rerun);
    let steps: Vec<&str> = doc["steps"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert!(!steps.contains(&"write") && !steps.contains(&"final-plan"), "{steps:?}");
    assert!(stderr(&rerun).contains("step 5/8 write MM2's offsets: done earlier (journal)"), "{}", stderr(&rerun));
    assert_eq!(doc["watch_counts"]["exact"], PARTITIONS, "{doc}");
    assert_eq!((doc["watch_counts"]["duplicated"].as_u64(), doc["watch_counts"]["skipped"].as_u64()), (Some(0), Some(0)), "{doc}");
    let patches = worker.log().matches(&format!("\"PATCH {} HTTP", path(NEW, "/offsets"))).count();
    assert_eq!(patches, 1, "MM2's offsets altered once, by the killed run");
    assert_eq!(worker.state(NEW).as_deref(), Some("RUNNING"));

    // Every source record is on the target exactly once, in order.
    let written = scenario.producer.stop();
    worker.wait_for("MM2 to copy the last records", 120, |_| {
        let copied = end_offsets(tgt, topic, PARTITIONS);
        (0..PARTITIONS).all(|p| copied.get(&(p as i64)).is_some_and(|n| *n >= written[p as usize] as i64))
    });
    std::thread::sleep(Duration::from_secs(5));
    let copied = partition_values(tgt, topic);
    for p in 0..PARTITIONS {
        let expected: Vec<String> = (0..written[p as usize]).map(|i| record_value(topic, p, i)).collect();
        assert_eq!(copied[&(p as i64)], expected, "{topic}/{p}: every record exactly once, in order");
    }
    // The group resumes on the target where it stood on the source.
    let group = committed(tgt, "app-orders");
    assert_eq!(group.values().copied().collect::<Vec<_>>(), vec![3; PARTITIONS as usize], "{group:?}");

    // `verify --after-resume` from the journal says the same.
    let verified = mm2_migrate(&documented(
        &["docs/cutover.md"],
        "mm2-migrate verify --after-resume --job cutover.toml --state cutover.cutover.json",
        &[("cutover.toml", job_arg), ("cutover.cutover.json", state.to_str().unwrap())],
    ));
    assert!(verified.status.success(), "{}\n{}", stdout(&verified), stderr(&verified));
    assert!(stdout(&verified).contains(&format!("MM2's resume: {PARTITIONS} exact, 0 copied twice, 0 skipped")), "{}", stdout(&verified));
}

#[test]
fn what_a_cutover_refuses_and_a_duplicate_the_watch_catches() {
    let topic = "payments";
    let scenario = Scenario::start(topic);
    let (worker, src, tgt) = (&scenario.worker, scenario.source.bootstrap.as_str(), scenario.target.bootstrap.as_str());
    let dir = tempfile::tempdir().unwrap();
    let cutover = |state: &str, extra: &[&str]| {
        let state = dir.path().join(state);
        let mut args = vec!["cutover", "--settle", "5", "--state", state.to_str().unwrap()];
        args.extend(migration(tgt, &worker.url, "mm2-old-offsets"));
        args.extend(extra);
        mm2_migrate(&args)
    };
    let untouched = |what: &str| {
        assert_eq!(worker.state(OLD).as_deref(), Some("RUNNING"), "{what}: the old connector keeps running");
        assert!(worker.offsets(NEW).is_empty(), "{what}: MM2's offsets are not written");
    };

    // An unknown old connector is named with the worker's connectors, before anything is done.
    let unknown = cutover("unknown.json", &["--old-connector", "old-mirorr"]);
    assert_eq!(unknown.status.code(), Some(1), "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains("has no connector \"old-mirorr\""), "{}", stderr(&unknown));
    untouched("an unknown old connector");

    // A preflight failure (a plugin writing another connector's keys than MM2's flow reads)
    // leaves the old connector running.
    let preflight = cutover("preflight.json", &["--old-connector", OLD, "--set", "target.connector.name=other"]);
    assert_eq!(preflight.status.code(), Some(1), "{}", stderr(&preflight));
    assert!(stderr(&preflight).contains("step 1/8 preflight: FAILED") && stderr(&preflight).contains("not ones MM2's flow"), "{}", stderr(&preflight));
    untouched("a preflight failure");

    // --old-stopped while it still copies: its progress moves between two readings.
    let moving = cutover("moving.json", &["--old-stopped"]);
    assert_eq!(moving.status.code(), Some(3), "{}", stderr(&moving));
    assert!(stderr(&moving).contains("progress still moves"), "{}", stderr(&moving));
    untouched("progress still moving");

    // MM2 started before its offsets were written: refused.
    let early = mirror_source_config(src, tgt, "none-such", "mm2-early-offsets");
    worker.create("early", early, false);
    let mut args = vec!["cutover", "--state"];
    let state = dir.path().join("early.json");
    args.push(state.to_str().unwrap());
    args.extend(migration(tgt, &worker.url, "mm2-old-offsets"));
    let at = args.iter().position(|a| *a == NEW).unwrap();
    args[at] = "early";
    args.extend(["--old-connector", OLD]);
    let started = mm2_migrate(&args);
    assert_eq!(started.status.code(), Some(3), "{}", stderr(&started));
    assert!(stderr(&started).contains("\"early\" is RUNNING") && stderr(&started).contains("must be created STOPPED"), "{}", stderr(&started));
    untouched("MM2 started early");

    // SIGTERM while it settles, after it stopped the old connector: it stops there and says what
    // state everything is in; --rollback resumes the old connector, MM2 untouched, and the
    // rolled-back cut-over is over.
    let args_for = |state: &'static str| {
        let mut args = vec!["cutover".to_owned(), "--settle".into(), "30".into(), "--old-connector".into(), OLD.into(), "--state".into()];
        args.push(dir.path().join(state).display().to_string());
        args.extend(migration(tgt, &worker.url, "mm2-old-offsets").into_iter().map(str::to_owned));
        args
    };
    let rollback_args = args_for("rollback.json");
    let rollback_args: Vec<&str> = rollback_args.iter().map(String::as_str).collect();
    let rollback_state = dir.path().join("rollback.json");
    let child = Command::new(BIN).args(&rollback_args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    worker.wait_for("the cut-over to stop the old connector", 120, |_| step_is(&journal(&rollback_state), "stop-old", "done"));
    let signalled = Instant::now();
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let stopped = child.wait_with_output().unwrap();
    assert!(signalled.elapsed() < Duration::from_secs(10), "stopped within the settle's wait: {:?}", signalled.elapsed());
    assert_eq!(stopped.status.code(), Some(143), "{}", stderr(&stopped));
    let text = stderr(&stopped);
    assert!(text.contains("stopped by a signal before settle") && text.contains("cutover --rollback"), "{text}");
    assert_eq!(journal(&rollback_state)["old_stopped_by_cutover"], "stop");
    assert_eq!(worker.state(OLD).as_deref(), Some("STOPPED"));
    let rolled = mm2_migrate(&[&rollback_args[..], &["--rollback"]].concat());
    assert!(rolled.status.success(), "{}", stderr(&rolled));
    assert!(stdout(&rolled).contains("resumed (the cut-over had stopped it)"), "{}", stdout(&rolled));
    worker.wait_for("the old connector to run again", 60, |w| w.state(OLD).as_deref() == Some("RUNNING"));
    untouched("a rollback");
    let again = mm2_migrate(&rollback_args);
    assert_eq!(again.status.code(), Some(3), "{}", stderr(&again));
    assert!(stderr(&again).contains("was rolled back"), "{}", stderr(&again));

    // Killed after it stopped the old connector, which an operator then restarts by hand: the
    // rerun refuses, and does not stop it again.
    let restarted_args = args_for("restarted.json");
    let restarted_args: Vec<&str> = restarted_args.iter().map(String::as_str).collect();
    kill_after(&restarted_args, &dir.path().join("restarted.json"), "stop-old");
    worker.resume(OLD);
    worker.wait_for("the old connector to run again", 60, |w| w.state(OLD).as_deref() == Some("RUNNING"));
    let rerun = mm2_migrate(&restarted_args);
    assert_eq!(rerun.status.code(), Some(3), "{}", stderr(&rerun));
    assert!(stderr(&rerun).contains("since this cut-over stopped it"), "{}", stderr(&rerun));
    untouched("an old connector restarted by hand");

    // A duplicate planted by hand: the old MM2 stopped, the new one resumed one record too low
    // on partition 0. `verify --after-resume`, without a journal, finds it from the data.
    let (status, body) = worker.curl("PUT", &path(OLD, "/stop"), None);
    assert!((200..300).contains(&status), "stop: {body}");
    worker.wait_for("the old connector to stop", 60, |w| w.state(OLD).as_deref() == Some("STOPPED"));
    let old = worker.offsets(OLD);
    let (v0, v1) = (old[&(topic.to_owned(), 0)], old[&(topic.to_owned(), 1)]);
    let planted = serde_json::json!({"offsets": [
        {"partition": {"cluster": "src", "partition": 0, "topic": topic}, "offset": {"offset": v0 - 1}},
        {"partition": {"cluster": "src", "partition": 1, "topic": topic}, "offset": {"offset": v1}},
    ]});
    let (status, body) = worker.curl("PATCH", &path(NEW, "/offsets"), Some(&planted));
    assert_eq!(status, 200, "{body}");
    let before = end_offsets(tgt, topic, PARTITIONS);
    worker.resume(NEW);
    worker.wait_for("MM2's first copies", 120, |_| {
        let now = end_offsets(tgt, topic, PARTITIONS);
        (0..PARTITIONS).all(|p| now.get(&(p as i64)).is_some_and(|n| *n >= before[&(p as i64)] + 5))
    });
    scenario.producer.stop();
    let mut verify = vec!["verify", "--after-resume", "--output", "json"];
    verify.extend(migration(tgt, &worker.url, "mm2-old-offsets"));
    let verified = mm2_migrate(&verify);
    assert_eq!(verified.status.code(), Some(4), "{}\n{}", stdout(&verified), stderr(&verified));
    let doc = json(&verified);
    let watch = doc["watch"].as_array().unwrap();
    let p0 = watch.iter().find(|w| w["partition"] == 0).unwrap();
    assert_eq!((p0["status"].as_str(), p0["first"].as_i64(), p0["last"].as_i64(), p0["records"].as_u64()), (Some("duplicated"), Some(v0), Some(v0), Some(1)), "{doc}");
    let p1 = watch.iter().find(|w| w["partition"] == 1).unwrap();
    assert_eq!(p1["status"], "exact", "{doc}");
    assert!(stderr(&verified).contains("1 partition(s) with records copied twice"), "{}", stderr(&verified));
}

#[test]
fn in_dedicated_mode_the_cutover_waits_for_mm2_to_start_and_watches_it_resume() {
    use std::io::BufRead;
    let (source, target) = (Broker::start(), Broker::start());
    let (src, tgt) = (source.bootstrap.as_str(), target.bootstrap.as_str());
    let (topic, n, k) = ("events", 20, 7);
    // Replicator copied records 0..k of each partition and saved `last` = k-1; it is stopped.
    create_topic(src, topic, PARTITIONS as u32, "delete");
    create_topic(tgt, topic, PARTITIONS as u32, "delete");
    for p in 0..PARTITIONS {
        produce_range(src, topic, p, 0..n);
        produce_range(tgt, topic, p, 0..k);
    }
    create_topic(tgt, "connect-offsets", 25, "compact");
    let offsets: Vec<(String, String)> = (0..PARTITIONS)
        .map(|p| (format!(r#"["replicator",{{"topic":"{topic}","partition":{p}}}]"#), format!(r#"{{"offset":{}}}"#, k - 1)))
        .collect();
    kcat_produce(tgt, "connect-offsets", &offsets.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))).collect::<Vec<_>>());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mm2.properties");
    std::fs::write(&config, mirrormaker::flow_properties("src", src, tgt, topic)).unwrap();
    let state = dir.path().join("cutover.json");
    // The README's dry run and docs/cutover.md's command for an old tool that is not a connector.
    let names = [("mm2.properties", config.to_str().unwrap()), ("dest-kafka:9092", tgt), ("cutover.json", state.to_str().unwrap())];
    let dry = mm2_migrate(&documented(
        &["README.md"],
        "mm2-migrate cutover --mm2-config mm2.properties --plugin replicator-to-mm2 --source-bootstrap dest-kafka:9092 --old-stopped --groups --state cutover.json --dry-run",
        &names,
    ));
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(stdout(&dry).contains(&format!("step 7/8 start MM2: print `connect-mirror-maker.sh {}`", config.display())), "{}", stdout(&dry));
    assert!(stdout(&dry).contains("step 6/8 translate consumer groups: translate the consumer groups"), "{}", stdout(&dry));
    assert!(!state.exists(), "a dry run journals nothing");
    let args = plus(
        documented(
            &["docs/cutover.md"],
            "mm2-migrate cutover --mm2-config mm2.properties --plugin replicator-to-mm2 --source-bootstrap dest-kafka:9092 --old-stopped --state cutover.json",
            &names,
        ),
        &["--settle", "2", "--watch-timeout", "150"],
    );
    let mut child = Command::new(BIN).args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // The write done, the cut-over says how to start MM2 and waits for its first copy.
    let mut shown = String::new();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    while !shown.contains("start MM2 now: connect-mirror-maker.sh") {
        let line = lines.next().unwrap_or_else(|| panic!("the cut-over ended first:\n{shown}")).unwrap();
        shown.push_str(&line);
        shown.push('\n');
    }
    assert!(shown.contains("step 2/8 stop the old tool: skipped") && shown.contains("step 5/8 write MM2's offsets: done"), "{shown}");
    let mm2 = mirrormaker::MirrorMaker::from_file(&config);
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let output = child.wait_with_output().unwrap();
    let text = format!("{shown}{}", rest.join("\n"));
    assert!(output.status.success(), "{text}\n{}", mm2.log_tail());
    assert!(text.contains("step 7/8 start MM2: done: MM2 copies"), "{text}");
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains(&format!("MM2's resume: {PARTITIONS} exact, 0 copied twice, 0 skipped")), "{summary}");
    mirrormaker::wait_for(&mm2, "MM2 to copy every record", 120, || {
        end_offsets(tgt, topic, PARTITIONS).values().all(|end| *end >= n as i64)
    });
    std::thread::sleep(Duration::from_secs(3));
    let copied = partition_values(tgt, topic);
    for p in 0..PARTITIONS {
        let expected: Vec<String> = (0..n).map(|i| record_value(topic, p, i)).collect();
        assert_eq!(copied[&(p as i64)], expected, "{topic}/{p}: every record exactly once, in order");
    }
}
