//! A new mapping, written outside this workspace from `templates/mapping-plugin`, built on its own
//! and run by the already-built mm2-migrate, whose file stays byte-for-byte the same.

mod support;

use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};
use support::docs::documented;
use support::*;

fn sha256_file(path: &Path) -> String {
    hex_digest(&std::fs::read(path).unwrap())
}

fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "target" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_plugin_built_from_the_template_runs_with_the_unchanged_binary() {
    let binary = Path::new(BIN);
    let before = sha256_file(binary);

    // The user's copy, outside this workspace, with the SDK path pointed at this checkout.
    let work = tempfile::tempdir().unwrap();
    let plugin_dir = work.path().join("my-mapping");
    copy_dir(&repo_path("templates/mapping-plugin"), &plugin_dir);
    let manifest = plugin_dir.join("Cargo.toml");
    let sdk = std::fs::canonicalize(repo_path("guest/sdk")).unwrap();
    let text = std::fs::read_to_string(&manifest).unwrap().replace("../../guest/sdk", sdk.to_str().unwrap());
    std::fs::write(&manifest, text).unwrap();

    // Built by the user's own cargo invocation (a shared target dir only saves time).
    let target_dir = repo_path("target/template-build");
    let build = Command::new(env!("CARGO"))
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .current_dir(&plugin_dir)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    assert!(build.status.success(), "template build failed: {}", String::from_utf8_lossy(&build.stderr));
    let wasm = target_dir.join("wasm32-wasip2/release/my_mapping.wasm");
    let plugin = work.path().join("my-mapping.wasm");
    std::fs::copy(&wasm, &plugin).unwrap();

    let input = work.path().join("dump.jsonl");
    std::fs::write(
        &input,
        [
            r#"{"topic":"connect-offsets","partition":0,"offset":0,"key":"[\"my-replicator\",{\"topic\":\"orders\",\"partition\":2}]","payload":"{\"position\":10}"}"#,
            r#"{"topic":"connect-offsets","partition":0,"offset":1,"key":"[\"someone-else\",{\"topic\":\"orders\",\"partition\":2}]","payload":"{\"position\":99}"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    // docs/plugins.md's commands, run where its walk-through leaves the plugin and the dump.
    let translate = documented(&["docs/plugins.md"], "mm2-migrate translate --plugin ./my-mapping.wasm --set source.cluster.alias=old --input dump.jsonl", &[]);
    let output = Command::new(BIN)
        .args(translate)
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let line: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(line["key"], r#"["MirrorSourceConnector",{"cluster":"old","partition":2,"topic":"orders"}]"#);
    assert_eq!(line["payload"], r#"{"offset":9}"#);
    assert!(stderr(&output).contains("records skipped             1 (other-connector: 1)"), "{}", stderr(&output));

    // Pinned by a policy, exactly as an operator would do it.
    let inspect = documented(&["docs/plugins.md"], "mm2-migrate plugins inspect ./my-mapping.wasm", &[]);
    let inspect = Command::new(BIN).args(inspect).current_dir(work.path()).output().unwrap();
    assert!(inspect.status.success(), "{}", stderr(&inspect));
    assert!(stdout(&inspect).contains("my-mapping 0.1.0 (contract 0.1.0)"));
    let policy = work.path().join("policy.toml");
    std::fs::write(&policy, format!("[[plugins]]\nname = \"my-mapping\"\nsha256 = \"{}\"\n", sha256_file(&plugin))).unwrap();
    let pinned = Command::new(BIN)
        .args(["--policy", policy.to_str().unwrap(), "translate", "--plugin", plugin.to_str().unwrap(), "--set", "source.cluster.alias=old", "--input", input.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(pinned.status.success(), "{}", stderr(&pinned));
    assert!(!stderr(&pinned).contains("not pinned"), "{}", stderr(&pinned));

    assert_eq!(sha256_file(binary), before, "the mm2-migrate binary must not change");
}
