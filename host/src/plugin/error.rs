//! What can go wrong with a plugin, each error naming the plugin, the call and the limit or rule.

use std::path::PathBuf;

use connect_offsets::config::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("unknown plugin {name:?}; bundled plugins: {bundled} (or give a path to a .wasm component)")]
    UnknownPlugin { name: String, bundled: String },
    #[error("cannot read plugin {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("plugin {plugin} is not allowed by {policy}: {reason}")]
    NotAllowed { plugin: String, policy: String, reason: String },
    #[error("plugin {plugin} is not a valid component: {message}")]
    Compile { plugin: String, message: String },
    #[error("plugin {plugin} imports {import}, which plugins may not use (allowed: the mm2:plugin contract and WASI cli, io, clocks, random)")]
    ForbiddenImport { plugin: String, import: String },
    #[error("plugin {plugin} cannot be instantiated: {message}")]
    Instantiate { plugin: String, message: String },
    #[error("plugin {plugin} was built for contract {found}; this host runs contract {expected} and the policy accepts {accepted}")]
    Contract { plugin: String, found: String, expected: String, accepted: String },
    #[error("invalid configuration for plugin {plugin}:\n{}", config_errors(errors))]
    Config { plugin: String, errors: Vec<ConfigError> },
    #[error("plugin {plugin} exceeded its time limit (limits.call-timeout-ms = {limit_ms}) in {call}")]
    Timeout { plugin: String, call: &'static str, limit_ms: u64 },
    #[error("plugin {plugin} exceeded its memory limit (limits.memory-bytes = {limit_bytes}) in {call}")]
    Memory { plugin: String, call: &'static str, limit_bytes: u64 },
    #[error("plugin {plugin} exhausted its fuel (limits.fuel-per-batch = {fuel}) in {call}")]
    Fuel { plugin: String, call: &'static str, fuel: u64 },
    #[error("plugin {plugin} overflowed its stack (limits.wasm-stack-bytes = {limit_bytes}) in {call}")]
    Stack { plugin: String, call: &'static str, limit_bytes: u64 },
    #[error("plugin {plugin} was stopped in {call}: {limit} exceeded: {detail}; nothing of this batch is used")]
    Limit { plugin: String, call: &'static str, limit: &'static str, detail: String },
    #[error("plugin {plugin} trapped in {call}: {message}")]
    Trap { plugin: String, call: &'static str, message: String },
    #[error("plugin {plugin} failed in {call}: {message}")]
    Failed { plugin: String, call: &'static str, message: String },
    #[error("plugin {plugin} broke the contract in {call}: {message}")]
    Protocol { plugin: String, call: &'static str, message: String },
    #[error("plugin {plugin} is unusable after an earlier failure: {reason}")]
    Poisoned { plugin: String, reason: String },
    #[error("wasm engine: {0}")]
    Engine(String),
}

impl PluginError {
    pub(crate) fn engine(e: wasmtime::Error) -> PluginError {
        PluginError::Engine(format!("{e:#}"))
    }
}


fn config_errors(errors: &[ConfigError]) -> String {
    if errors.is_empty() {
        return "  - the plugin rejected its configuration without giving a reason".to_owned();
    }
    errors.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n")
}
