//! The contract is language-neutral: a mapping written in JavaScript (guest/js-replicator, built
//! with componentize-js from npm) runs in the same host and produces byte-for-byte the golden
//! output of the Rust `replicator-to-mm2` plugin.

mod support;

use std::process::Command;

use support::*;

#[test]
fn a_javascript_plugin_produces_the_golden_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("replicator-js.wasm");
    let build = Command::new("node")
        .arg(repo_path("guest/js-replicator/build.mjs"))
        .arg(&wasm)
        .current_dir(repo_path("guest/js-replicator"))
        .output()
        .expect("node is installed");
    assert!(
        build.status.success(),
        "building the JavaScript plugin failed (tests/setup.sh installs its npm packages): {}",
        String::from_utf8_lossy(&build.stderr)
    );
    let plugin = wasm.to_str().unwrap();

    // Nothing but the contract is imported: no WASI at all.
    let inspect = mm2_migrate(&["plugins", "inspect", plugin]);
    assert!(inspect.status.success(), "{}", stderr(&inspect));
    let text = stdout(&inspect);
    let imports: Vec<&str> = text.lines().skip_while(|l| *l != "imports").skip(1).take_while(|l| l.starts_with("  ")).collect();
    assert_eq!(imports, ["  mm2:plugin/types@0.1.0", "  mm2:plugin/host@0.1.0"], "{text}");
    assert!(text.contains("replicator-js 0.1.0 (contract 0.1.0)"), "{text}");

    for (case, alias) in [("replicator-basic", "primary"), ("escaping", "dc\"1/ü")] {
        let golden = repo_path(&format!("tests/golden/{case}"));
        let input = golden.join("input.jsonl");
        let output = mm2_migrate(&["translate", "--plugin", plugin, "--set", &format!("source.cluster.alias={alias}"), "--input", input.to_str().unwrap()]);
        assert!(output.status.success(), "{case}: {}", stderr(&output));
        let expected = std::fs::read_to_string(golden.join("expected.jsonl")).unwrap();
        let parse = |text: &str| text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).collect::<Vec<_>>();
        assert_eq!(parse(&stdout(&output)), parse(&expected), "{case}");
    }
}
