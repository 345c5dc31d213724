//! The offline `translate` command, run as a user runs it: the built binary, real plugins in the
//! real wasm host, golden files whose expected bytes were derived independently (Jackson's escaping
//! rules written out by hand, partitions from a separate murmur2 implementation).

mod support;

use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::docs::{documented, documented_file};
use support::{BIN, mm2_migrate as run, repo_path, stderr, stdout};

fn run_with_stdin(args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mm2-migrate");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn write_input(dir: &tempfile::TempDir, lines: &[String]) -> String {
    let path = dir.path().join("input.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.display().to_string()
}

/// A kcat -J envelope for a Replicator record.
fn envelope(key: &str, payload: Option<&str>, partition: i32, offset: i64) -> String {
    serde_json::json!({"topic": "connect-offsets", "partition": partition, "offset": offset, "key": key, "payload": payload})
        .to_string()
}

fn replicator_key(topic: &str, partition: i32) -> String {
    format!(r#"["replicator",{{"topic":"{topic}","partition":{partition}}}]"#)
}

fn parse_lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

fn translate(input: &str, extra: &[&str]) -> Output {
    let mut args = vec!["translate", "--plugin", "replicator-to-mm2", "--input", input];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn golden_cases() {
    let golden = repo_path("tests/golden");
    let mut cases: Vec<_> = std::fs::read_dir(&golden).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    assert!(cases.len() >= 3, "golden cases missing in {}", golden.display());
    for case in cases {
        let args_text = std::fs::read_to_string(case.join("args")).unwrap();
        let input = case.join("input.jsonl").display().to_string();
        let mut args = vec!["translate", "--plugin", "replicator-to-mm2", "--input", &input];
        args.extend(args_text.lines().filter(|l| !l.is_empty()));
        let output = run(&args);
        assert!(output.status.success(), "{}: {}", case.display(), stderr(&output));
        let expected = parse_lines(&std::fs::read_to_string(case.join("expected.jsonl")).unwrap());
        let actual = parse_lines(&stdout(&output));
        assert_eq!(actual, expected, "{}", case.display());
        // Field order of the envelope is part of the format.
        for line in stdout(&output).lines() {
            assert!(line.starts_with(r#"{"topic":"#) && line.contains(r#","partition":"#), "{line}");
        }
        assert!(
            stderr(&output).contains(&format!("records written             {}", expected.len())),
            "{}: {}",
            case.display(),
            stderr(&output)
        );
    }
}

#[test]
fn summary_counts_reads_compaction_and_skips() {
    let case = repo_path("tests/golden/replicator-basic");
    let input = case.join("input.jsonl").display().to_string();
    // docs/translate.md's walk-through on this dump: the summary it shows is the one printed.
    let output = run(&documented(
        &["docs/translate.md"],
        "./target/release/mm2-migrate translate --plugin replicator-to-mm2 --set source.cluster.alias=primary --input connect-offsets.jsonl",
        &[("connect-offsets.jsonl", &input)],
    ));
    let report = stderr(&output);
    assert!(report.contains("records skipped             2 (non-canonical-key: 1, other-connector: 1)"), "{report}");
    let shown = documented_file("docs/translate.md", "", "plugin replicator-to-mm2", &[]);
    let shown: Vec<&str> = shown.lines().map(str::trim).collect();
    let printed: Vec<&str> = report.lines().map(str::trim).collect();
    assert_eq!(printed, shown, "docs/translate.md shows another summary");
    let json = translate(&input, &["--set", "source.cluster.alias=primary", "--output", "json"]);
    let doc: Value = serde_json::from_str(&stdout(&json)).unwrap();
    let r = &doc["report"];
    let counts: Vec<u64> = ["records_read", "tombstones", "superseded", "deleted", "live_keys", "records_out"]
        .iter()
        .map(|field| r[field].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [10, 1, 2, 1, 6, 4], "{doc}");
    assert_eq!(r["skipped"], serde_json::json!({"non-canonical-key": 1, "other-connector": 1}));
    assert_eq!(doc["records"].as_array().unwrap().len(), 4);
}

#[test]
fn reads_stdin_and_honours_target_partitions() {
    let key = replicator_key("t", 0);
    let input = envelope(&key, Some(r#"{"offset":5}"#), 0, 0);
    let one = run_with_stdin(
        &["translate", "--plugin", "replicator-to-mm2", "--set", "source.cluster.alias=a", "--input", "-", "--target-partitions", "1"],
        &input,
    );
    assert!(one.status.success(), "{}", stderr(&one));
    assert_eq!(parse_lines(&stdout(&one))[0]["partition"], 0);
}

#[test]
fn malformed_line_fails_naming_the_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good = envelope(&replicator_key("t", 0), Some(r#"{"offset":5}"#), 0, 0);
    let input = write_input(&dir, &[good.clone(), good.clone(), "{\"key\": \"oops\"".to_owned(), good]);
    let output = translate(&input, &["--set", "source.cluster.alias=a"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "stdout must stay empty: {}", stdout(&output));
    assert!(stderr(&output).contains("line 3: not JSON"), "{}", stderr(&output));
}

#[test]
fn invalid_offsets_of_selected_connectors_fail_with_coordinates() {
    let dir = tempfile::tempdir().unwrap();
    for (value, needle) in [
        (r#"{"offset":-1}"#, "negative"),
        (r#"{"offset":1.0}"#, "not a 64-bit integer"),
        (r#"{"offset":"7"}"#, "must be a JSON integer"),
        (r#"{"position":7}"#, "no \"offset\" field"),
    ] {
        let input = write_input(
            &dir,
            &[
                envelope(&replicator_key("ok", 0), Some(r#"{"offset":5}"#), 0, 0),
                envelope(&replicator_key("bad", 4), Some(value), 2, 17),
            ],
        );
        let output = translate(&input, &["--set", "source.cluster.alias=a"]);
        assert_eq!(output.status.code(), Some(1), "{value}");
        assert!(output.stdout.is_empty(), "{value}: {}", stdout(&output));
        let err = stderr(&output);
        assert!(err.contains("line 2") && err.contains("bad/4") && err.contains(needle), "{value}: {err}");
    }
}

#[test]
fn invalid_keys_of_selected_connectors_fail() {
    let dir = tempfile::tempdir().unwrap();
    for (key, needle) in [
        (r#"["replicator",{"topic":"t"}]"#, "\"partition\" is missing"),
        (r#"["replicator",{"topic":"t","partition":"0"}]"#, "must be an integer"),
        (r#"["replicator",{"topic":"t","partition":0,"extra":1}]"#, "unexpected field"),
        ("not json at all", "key is not JSON"),
    ] {
        let input = write_input(&dir, &[envelope(key, Some(r#"{"offset":5}"#), 0, 0)]);
        let output = translate(&input, &["--set", "source.cluster.alias=a"]);
        assert_eq!(output.status.code(), Some(1), "{key}");
        assert!(output.stdout.is_empty());
        assert!(stderr(&output).contains(needle), "{key}: {}", stderr(&output));
    }
}

#[test]
fn keyless_record_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(&dir, &[r#"{"partition":0,"offset":3,"key":null,"payload":"{\"offset\":1}"}"#.to_owned()]);
    let output = translate(&input, &["--set", "source.cluster.alias=a"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("line 1: record has no key"), "{}", stderr(&output));
}

#[test]
fn skip_invalid_reports_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(
        &dir,
        &[
            envelope(&replicator_key("a", 0), Some(r#"{"offset":5}"#), 0, 0),
            "garbage".to_owned(),
            envelope(&replicator_key("b", 0), Some(r#"{"offset":-5}"#), 0, 1),
            envelope(&replicator_key("c", 0), Some(r#"{"offset":6}"#), 0, 2),
        ],
    );
    let output = translate(&input, &["--set", "source.cluster.alias=x", "--skip-invalid"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let topics: Vec<String> = parse_lines(&stdout(&output))
        .iter()
        .map(|v| v["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        topics,
        [
            r#"["MirrorSourceConnector",{"cluster":"x","partition":0,"topic":"a"}]"#,
            r#"["MirrorSourceConnector",{"cluster":"x","partition":0,"topic":"c"}]"#
        ]
    );
    let err = stderr(&output);
    assert!(err.contains("records skipped             2 (invalid: 2)"), "{err}");
    assert!(err.contains("invalid: line 2: not JSON"), "{err}");
    assert!(err.contains("invalid: line 3: offset of b/0: offset -5 is negative"), "{err}");
}

#[test]
fn two_sources_for_one_offset_are_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(
        &dir,
        &[
            envelope(r#"["rep-a",{"topic":"t","partition":0}]"#, Some(r#"{"offset":5}"#), 0, 0),
            envelope(r#"["rep-b",{"topic":"t","partition":0}]"#, Some(r#"{"offset":9}"#), 0, 1),
        ],
    );
    let output = translate(&input, &["--set", "source.cluster.alias=a", "--set", "replicator.connector.names=rep-a,rep-b"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert!(stderr(&output).contains("line 2 and line 1 both map to key"), "{}", stderr(&output));

    // The same offset from both is not a conflict: it is written once.
    let input = write_input(
        &dir,
        &[
            envelope(r#"["rep-a",{"topic":"t","partition":0}]"#, Some(r#"{"offset":5}"#), 0, 0),
            envelope(r#"["rep-b",{"topic":"t","partition":0}]"#, Some(r#"{"offset":5}"#), 0, 1),
        ],
    );
    let output = translate(&input, &["--set", "source.cluster.alias=a", "--set", "replicator.connector.names=rep-a,rep-b"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(parse_lines(&stdout(&output)).len(), 1);
    assert!(stderr(&output).contains("identical outputs merged    1"), "{}", stderr(&output));
}

#[test]
fn configuration_errors_name_keys_and_list_valid_ones() {
    let input = repo_path("tests/golden/replicator-basic/input.jsonl").display().to_string();
    let output = translate(&input, &["--set", "source.cluster.alias=a", "--set", "offset.semantic=next"]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("offset.semantic: unknown configuration key; valid keys: source.cluster.alias, replicator.connector.names, target.connector.name, target.topic, offset.semantics, topics.include, topics.exclude"), "{err}");

    let output = translate(&input, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("source.cluster.alias: required key is missing"), "{}", stderr(&output));

    let output = translate(&input, &["--set", "source.cluster.alias=a", "--set", "offset.semantics=first"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("\"first\" is not one of last, next"));

    let output = translate(&input, &["--set", "source.cluster.alias=a", "--set", "topics.include=(oops"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("topics.include: invalid regular expression \"(oops\""), "{}", stderr(&output));
}

#[test]
fn unknown_plugin_and_missing_input_are_usage_errors() {
    let output = run(&["translate", "--plugin", "no-such", "--input", "x"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("bundled plugins: replicator-to-mm2"), "{}", stderr(&output));

    let output = run(&["translate", "--plugin", "replicator-to-mm2", "--set", "source.cluster.alias=a", "--input", "/nonexistent/dump"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot open /nonexistent/dump"));

    let output = run(&["translate", "--plugin", "/nonexistent/plugin.wasm", "--input", "x"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot read plugin /nonexistent/plugin.wasm"));
}

#[test]
fn a_file_that_is_not_a_component_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fake.wasm");
    std::fs::write(&path, b"\0asm not really").unwrap();
    let output = run(&["translate", "--plugin", path.to_str().unwrap(), "--input", "x"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("is not a valid component"), "{}", stderr(&output));
}

#[test]
fn plugins_lists_bundled_plugins_with_their_keys() {
    let output = run(&["plugins"]);
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(text.contains("replicator-to-mm2 0.1.0 (contract 0.1.0)"), "{text}");
    for key in [
        "source.cluster.alias=<string>  (required",
        "replicator.connector.names=<list>  (default \"replicator\"",
        "target.connector.name=<string>  (default \"MirrorSourceConnector\"",
        "target.topic=<string>  (optional",
        "offset.semantics=<string>  (default \"last\", one of last|next",
        "topics.include=<list>  (default \".*\"",
        "topics.exclude=<list>  (default \"\"",
    ] {
        assert!(text.contains(key), "missing {key:?} in {text}");
    }
}

/// A hostile plugin, run through the same path as a user's plugin file.
fn adversarial(behavior: &str) -> Output {
    let plugin = mm2_migrate_bundled::test_guest_path("adversarial").expect("adversarial guest built");
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(
        &dir,
        &[
            envelope(&replicator_key("a", 0), Some(r#"{"offset":5}"#), 0, 0),
            envelope(&replicator_key("b", 0), Some(r#"{"offset":6}"#), 0, 1),
        ],
    );
    run(&["translate", "--plugin", plugin, "--set", &format!("behavior={behavior}"), "--input", &input])
}

#[test]
fn an_echo_plugin_from_a_file_runs() {
    // The control for the hostile cases below: the same plugin file behaving works.
    let output = adversarial("echo");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(parse_lines(&stdout(&output)).len(), 2);
}

#[test]
fn a_plugin_may_not_write_whitespace_into_offset_records() {
    // Connect writes compact JSON; a plugin passing `{ "offset" : 1 }` through is refused.
    let plugin = mm2_migrate_bundled::test_guest_path("adversarial").unwrap();
    let input = repo_path("tests/golden/replicator-basic/input.jsonl").display().to_string();
    let output = run(&["translate", "--plugin", plugin, "--set", "behavior=passthrough", "--input", &input]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let err = stderr(&output);
    assert!(err.contains("line 10: the plugin's output is not a valid offset record: the value is not an MM2 source offset"), "{err}");
    assert!(err.contains(r#"not in canonical form {"offset":1234567890123}"#), "{err}");
}

#[test]
fn plugin_trap_fails_cleanly() {
    let output = adversarial("panic");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert!(stderr(&output).contains("trapped in apply"), "{}", stderr(&output));
}

#[test]
fn plugin_output_that_is_not_an_offset_record_is_refused() {
    for (behavior, needle) in [
        ("no-key", "it has no key"),
        ("not-json", "the key is not an MM2 source-offset key"),
        ("invalid-utf8", "the key is not an MM2 source-offset key (not JSON)"),
        ("mm2-key-order", "the key is not the bytes Jackson writes for it, so MM2 would never find it"),
        ("mm2-bad-offset", "offset must be an integer in 0..=9223372036854775806, got -1"),
    ] {
        let output = adversarial(behavior);
        assert_eq!(output.status.code(), Some(1), "{behavior}");
        assert!(output.stdout.is_empty(), "{behavior}");
        let err = stderr(&output);
        assert!(err.contains("the plugin's output is not a valid offset record") && err.contains(needle), "{behavior}: {err}");
    }
}

#[test]
fn one_record_per_position_and_bounded_lines() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("twice.jsonl");
    let key = replicator_key("a", 0);
    // The same record twice (a dump read twice) is taken once; a different one at its offset is refused.
    std::fs::write(
        &input,
        [envelope(&key, Some(r#"{"offset":5}"#), 0, 7), envelope(&key, Some(r#"{"offset":5}"#), 0, 7)].join("\n"),
    )
    .unwrap();
    let args = |path: &str| ["translate", "--plugin", "replicator-to-mm2", "--set", "source.cluster.alias=a", "--input", path].map(str::to_owned);
    let output = run(&args(input.to_str().unwrap()).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(parse_lines(&stdout(&output)).len(), 1);
    for second in [envelope(&key, Some(r#"{"offset":9}"#), 0, 7), envelope(&replicator_key("b", 0), Some(r#"{"offset":9}"#), 0, 7)] {
        std::fs::write(&input, [envelope(&key, Some(r#"{"offset":5}"#), 0, 7), second].join("\n")).unwrap();
        let output = run(&args(input.to_str().unwrap()).iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(output.stdout.is_empty());
        assert!(stderr(&output).contains("line 2: a different record at partition 0 offset 7 than line 1"), "{}", stderr(&output));
    }
    // An endless line is refused, not read into memory.
    let started = std::time::Instant::now();
    let output = run(&args("/dev/zero").iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("line 1 is longer than 16 MiB"), "{}", stderr(&output));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
