//! Loading and running mapping plugins (WebAssembly components) in a sandbox.
//!
//! A plugin gets no files, no network, no environment and no arguments: the WASI interfaces a
//! Rust `wasm32-wasip2` build imports are linked to an empty context (stdout and stderr captured
//! into its bounded log), a component importing anything else is refused before it runs, and the
//! only real service is the contract's `log`. Clocks and random numbers are deterministic unless
//! the policy allows the real ones. The policy (`crate::policy`) pins which plugins may run and
//! bounds each call's memory, stack, time, fuel and output; a trap poisons the instance, which is
//! never called again.
//!
//! One job per file: `engine` (the wasmtime engine and its epoch ticker), `cache` (compiled
//! components on disk), `linker` (what a plugin is linked to, and which imports are refused),
//! `state` (a store's WASI context and log), `limiter` (the memory budget and instance caps),
//! `instance` (admission and the contract's calls under the limits), `untrusted` (plugin text
//! made safe to show), `error`.

mod cache;
mod capture;
mod engine;
mod error;
mod instance;
mod limiter;
mod linker;
pub mod output;
mod state;
pub(crate) mod untrusted;

pub use cache::{CacheOutcome, CompileCache};
pub use engine::PluginEngine;
pub use error::{CallFailure, PluginError, Problem};
pub use instance::{Inspection, Plugin, config_key, inspect};
pub use linker::component_imports;
pub use state::PluginLog;

/// Generated host-side bindings of `wit/mapping.wit`.
pub mod wit {
    wasmtime::component::bindgen!({
        world: "mapping",
        path: "../wit",
        exports: { default: async },
    });
    pub use mm2::plugin::types::*;
}

/// The version of the WIT package (`wit/mapping.wit`) this host implements.
pub const CONTRACT_VERSION: &str = "0.1.0";

/// Whether a plugin built against contract `version` can run in this host.
pub fn contract_compatible(version: &str) -> bool {
    fn major_minor(v: &str) -> Option<(u64, u64)> {
        let mut parts = v.trim().split('.');
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    }
    match (major_minor(version), major_minor(CONTRACT_VERSION)) {
        (Some((0, minor)), Some((0, host_minor))) => minor == host_minor,
        (Some((major, _)), Some((host_major, _))) => major == host_major,
        _ => false,
    }
}

/// Where a plugin comes from: bundled in the binary, or a component file.
#[derive(Debug, Clone)]
pub enum PluginSource {
    Bundled(&'static str),
    File(std::path::PathBuf),
}

impl PluginSource {
    /// `NAME` of a bundled plugin, or a path (anything ending in `.wasm` or containing a `/`).
    pub fn resolve(spec: &str) -> Result<PluginSource, PluginError> {
        if spec.ends_with(".wasm") || spec.contains('/') || spec.contains(std::path::MAIN_SEPARATOR) {
            return Ok(PluginSource::File(spec.into()));
        }
        mm2_migrate_bundled::names()
            .find(|n| *n == spec)
            .map(PluginSource::Bundled)
            .ok_or_else(|| PluginError::UnknownPlugin {
                name: spec.to_owned(),
                bundled: mm2_migrate_bundled::names().collect::<Vec<_>>().join(", "),
            })
    }

    pub fn label(&self) -> String {
        match self {
            PluginSource::Bundled(name) => (*name).to_owned(),
            PluginSource::File(path) => path.display().to_string(),
        }
    }

    pub fn bytes(&self) -> Result<std::borrow::Cow<'static, [u8]>, PluginError> {
        match self {
            PluginSource::Bundled(name) => Ok(mm2_migrate_bundled::find(name)
                .expect("resolved bundled plugin exists")
                .into()),
            PluginSource::File(path) => std::fs::read(path)
                .map(Into::into)
                .map_err(|source| PluginError::Read { path: path.clone(), source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_version_is_the_wit_package_version() {
        let wit = include_str!("../../../wit/mapping.wit");
        assert!(wit.contains(&format!("package mm2:plugin@{CONTRACT_VERSION};")), "wit/mapping.wit and CONTRACT_VERSION differ");
    }

    #[test]
    fn contract_versions() {
        assert!(contract_compatible("0.1.0"));
        assert!(contract_compatible("0.1.7"));
        assert!(!contract_compatible("0.2.0"));
        assert!(!contract_compatible("1.1.0"));
        assert!(!contract_compatible("garbage"));
    }

    #[test]
    fn plugin_specs() {
        assert!(matches!(PluginSource::resolve("replicator-to-mm2"), Ok(PluginSource::Bundled(_))));
        assert!(matches!(PluginSource::resolve("./x.wasm"), Ok(PluginSource::File(_))));
        assert!(matches!(PluginSource::resolve("x.wasm"), Ok(PluginSource::File(_))));
        let err = PluginSource::resolve("nope").unwrap_err().to_string();
        assert!(err.contains("replicator-to-mm2"), "{err}");
    }
}
