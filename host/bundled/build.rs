//! Builds the bundled mapping plugins for wasm32-wasip2 with a nested `cargo build`, so that one
//! `cargo build --release` at the workspace root yields the complete tool. The components are
//! embedded by `src/lib.rs`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Guest crates (under `guest/`) bundled into the binary, by plugin name.
const BUNDLED: &[&str] = &["replicator-to-mm2", "mirus-to-mm2", "group-to-mm2", "mm2-to-mm2", "json-rules"];
/// Guest crates built alongside for tests only: exposed as file paths, never bundled.
const TEST_GUESTS: &[&str] = &["adversarial", "adversarial-imports", "adversarial-describe"];

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.parent().and_then(Path::parent).unwrap().to_path_buf();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    // One target dir for the guests shared by every host profile: <target>/guests. OUT_DIR is
    // <target>/<profile>/build/<crate>-<hash>/out.
    let target_dir = out_dir
        .ancestors()
        .nth(4)
        .map(|t| t.join("guests"))
        .unwrap_or_else(|| out_dir.join("guests"));

    // The guests are built from guest/, the contract in wit/ and the rules they share in crates/.
    for path in ["guest", "wit", "crates", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", workspace.join(path).display());
    }

    check_target_installed();

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&workspace)
        .args(["build", "--release", "--locked", "--target", TARGET])
        .arg("--target-dir")
        .arg(&target_dir);
    for guest in BUNDLED.iter().chain(TEST_GUESTS) {
        cmd.args(["-p", guest]);
    }
    // Flags meant for the host build must not leak into the guest build.
    for var in ["CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS", "CARGO_BUILD_TARGET", "CARGO_TARGET_DIR", "RUSTC_WORKSPACE_WRAPPER"] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("failed to run cargo to build the bundled plugins");
    assert!(status.success(), "building the bundled plugins for {TARGET} failed: {status}");

    let wasm_path = |guest: &str| {
        let wasm = target_dir.join(TARGET).join("release").join(format!("{}.wasm", guest.replace('-', "_")));
        assert!(wasm.exists(), "the build did not produce {}", wasm.display());
        wasm.display().to_string()
    };
    let mut generated = String::from("pub static BUNDLED: &[(&str, &[u8])] = &[\n");
    for guest in BUNDLED {
        generated.push_str(&format!("    ({guest:?}, include_bytes!({:?})),\n", wasm_path(guest)));
    }
    generated.push_str("];\n\n/// Test-only plugins built by the same command, by name and path.\n");
    generated.push_str("pub static TEST_GUESTS: &[(&str, &str)] = &[\n");
    for guest in TEST_GUESTS {
        generated.push_str(&format!("    ({guest:?}, {:?}),\n", wasm_path(guest)));
    }
    generated.push_str("];\n");
    std::fs::write(out_dir.join("bundled.rs"), generated).unwrap();
}

/// Fails early with the fix, instead of a page of "can't find crate for `core`".
fn check_target_installed() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(sysroot) = sysroot
        && !sysroot.join("lib/rustlib").join(TARGET).exists() {
            panic!(
                "the Rust target {TARGET} is not installed; the bundled plugins need it.\n\
                 Run: rustup target add {TARGET}"
            );
        }
}
