//! What can go wrong with a plugin: each error names the plugin once, and a failed call names the
//! call and the limit or rule that stopped it.

use std::path::PathBuf;

use connect_offsets::config::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("unknown plugin {name:?}; bundled plugins: {bundled} (or give a path to a .wasm component)")]
    UnknownPlugin { name: String, bundled: String },
    #[error("cannot read plugin {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("plugin {plugin} {problem}")]
    Plugin { plugin: String, problem: Problem },
    #[error("wasm engine: {0}")]
    Engine(String),
}

/// What is wrong with a loaded (or loading) plugin.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("is not allowed by {policy}: {reason}")]
    NotAllowed { policy: String, reason: String },
    #[error("is not a valid component: {0}")]
    Compile(String),
    #[error("imports {0}, which plugins may not use (allowed: the mm2:plugin contract and WASI cli, io, clocks, random)")]
    ForbiddenImport(String),
    #[error("cannot be instantiated: {0}")]
    Instantiate(String),
    #[error("was built for contract {found}; this host runs contract {expected} and the policy accepts {accepted}")]
    Contract { found: String, expected: String, accepted: String },
    #[error("has an invalid configuration:\n{}", config_errors(.0))]
    Config(Vec<ConfigError>),
    #[error("is unusable after an earlier failure: {0}")]
    Poisoned(String),
    #[error("{}", in_call(call, failure))]
    Call { call: &'static str, failure: CallFailure },
}

/// How a call into the plugin failed.
#[derive(Debug)]
pub enum CallFailure {
    Timeout { limit_ms: u64 },
    Memory { limit_bytes: u64 },
    Fuel { fuel: u64 },
    Stack { limit_bytes: u64 },
    /// An output bound or a target-topic rule of the policy.
    Limit { limit: &'static str, detail: String },
    Trap(String),
    /// The plugin's own error.
    Failed(String),
    /// An answer the contract does not allow.
    Protocol(String),
}

fn in_call(call: &str, failure: &CallFailure) -> String {
    match failure {
        CallFailure::Timeout { limit_ms } => format!("exceeded its time limit (limits.call-timeout-ms = {limit_ms}) in {call}"),
        CallFailure::Memory { limit_bytes } => format!("exceeded its memory limit (limits.memory-bytes = {limit_bytes}) in {call}"),
        CallFailure::Fuel { fuel } => format!("exhausted its fuel (limits.fuel-per-batch = {fuel}) in {call}"),
        CallFailure::Stack { limit_bytes } => format!("overflowed its stack (limits.wasm-stack-bytes = {limit_bytes}) in {call}"),
        CallFailure::Limit { limit, detail } => {
            format!("was stopped in {call}: {limit} exceeded: {detail}; nothing of this batch is used")
        }
        CallFailure::Trap(message) => format!("trapped in {call}: {message}"),
        CallFailure::Failed(message) => format!("failed in {call}: {message}"),
        CallFailure::Protocol(message) => format!("broke the contract in {call}: {message}"),
    }
}

impl PluginError {
    pub(crate) fn engine(e: wasmtime::Error) -> PluginError {
        PluginError::Engine(format!("{e:#}"))
    }

    /// A problem of the plugin labelled `plugin`.
    pub(crate) fn of(plugin: &str, problem: Problem) -> PluginError {
        PluginError::Plugin { plugin: plugin.to_owned(), problem }
    }

    /// A failed call of the plugin labelled `plugin`.
    pub(crate) fn call(plugin: &str, call: &'static str, failure: CallFailure) -> PluginError {
        PluginError::of(plugin, Problem::Call { call, failure })
    }

    /// Whether the operator's set-up is wrong (plugin name, file, policy admission, configuration)
    /// rather than the plugin failing.
    pub fn is_setup(&self) -> bool {
        matches!(
            self,
            PluginError::UnknownPlugin { .. }
                | PluginError::Read { .. }
                | PluginError::Plugin { problem: Problem::Config(_) | Problem::NotAllowed { .. }, .. }
        )
    }
}

fn config_errors(errors: &[ConfigError]) -> String {
    if errors.is_empty() {
        return "  - the plugin rejected its configuration without giving a reason".to_owned();
    }
    errors.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n")
}
