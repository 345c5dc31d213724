//! One plugin instance: admission by policy, its store and limits, its log, and the contract's calls.

use std::path::PathBuf;

use mm2_plugin_sdk::config::{Config, ConfigError, ConfigKey, ConfigType, Importance};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, ResourceTable};
use wasmtime::{ResourceLimiter, Store, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::capture::Capture;
use super::engine::{EPOCH_TICK, PluginEngine};
use super::{PluginSource, contract_compatible, wit};
use crate::policy::Policy;

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
    #[error("invalid configuration for plugin {plugin}:\n{}", errors.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
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

/// The plugin's log lines (the contract's `log`, and captured stdout/stderr), bounded per call.
#[derive(Debug, Default)]
pub struct PluginLog {
    plugin: String,
    budget: usize,
    used: usize,
    dropped: u64,
}

impl PluginLog {
    fn reset(&mut self, budget: usize) {
        self.budget = budget;
        self.used = 0;
        self.dropped = 0;
    }

    fn emit(&mut self, level: wit::LogLevel, message: &str) {
        if self.used + message.len() > self.budget {
            self.dropped += 1;
            return;
        }
        self.used += message.len();
        let plugin = self.plugin.as_str();
        match level {
            wit::LogLevel::Trace => tracing::trace!(target: "plugin", plugin, "{message}"),
            wit::LogLevel::Debug => tracing::debug!(target: "plugin", plugin, "{message}"),
            wit::LogLevel::Info => tracing::info!(target: "plugin", plugin, "{message}"),
            wit::LogLevel::Warn => tracing::warn!(target: "plugin", plugin, "{message}"),
            wit::LogLevel::Error => tracing::error!(target: "plugin", plugin, "{message}"),
        }
    }
}

pub(crate) struct PluginState {
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryCap,
    log: PluginLog,
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl wit::mm2::plugin::types::Host for PluginState {}

impl wit::mm2::plugin::host::Host for PluginState {
    fn log(&mut self, level: wit::LogLevel, message: String) {
        self.log.emit(level, &message);
    }
}

/// Caps linear memory and tables; remembers that it refused, so the error names the limit.
struct MemoryCap {
    max_bytes: usize,
    tripped: bool,
}

const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryCap {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.tripped = true;
            wasmtime::bail!("memory limit of {} bytes reached (asked for {desired})", self.max_bytes);
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            self.tripped = true;
            wasmtime::bail!("table limit of {MAX_TABLE_ELEMENTS} elements reached");
        }
        Ok(true)
    }
}

/// Interfaces a plugin may import: the contract, and the WASI parts a Rust (or other) guest's
/// runtime imports even when it does no I/O. Filesystem, sockets, http and anything unknown are
/// refused before instantiation.
const ALLOWED_IMPORTS: &[&str] = &[
    "mm2:plugin/types",
    "mm2:plugin/host",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];

/// The interfaces a component imports, with their versions.
pub fn component_imports(engine: &PluginEngine, component: &Component) -> Vec<String> {
    component.component_type().imports(&engine.engine).map(|(name, _)| name.to_owned()).collect()
}

fn first_forbidden(imports: &[String]) -> Option<&String> {
    imports.iter().find(|name| {
        let unversioned = name.split('@').next().unwrap_or(name);
        !ALLOWED_IMPORTS.contains(&unversioned)
    })
}

/// Reads a plugin and hashes it.
fn read(source: &PluginSource) -> Result<(std::borrow::Cow<'static, [u8]>, String), PluginError> {
    let bytes = source.bytes()?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok((bytes, sha256))
}

/// Everything an operator needs to write a policy entry for a plugin.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inspection {
    pub source: String,
    pub sha256: String,
    pub imports: Vec<String>,
    /// The import that makes the host refuse the plugin, if any.
    pub forbidden_import: Option<String>,
    /// What the plugin says about itself (absent when it is refused before instantiation).
    #[serde(skip)]
    pub info: Option<wit::PluginInfo>,
}

/// Inspects a plugin without the policy's admission rules (so that an entry can be written for it).
pub fn inspect(engine: &PluginEngine, source: &PluginSource) -> Result<Inspection, PluginError> {
    let label = source.label();
    let (bytes, sha256) = read(source)?;
    let component = engine.compile(&label, &sha256, &bytes)?;
    let imports = component_imports(engine, &component);
    let forbidden_import = first_forbidden(&imports).cloned();
    let info = match forbidden_import {
        Some(_) => None,
        None => Some(Plugin::instantiate(engine, label.clone(), &component)?.info),
    };
    Ok(Inspection { source: label, sha256, imports, forbidden_import, info })
}

/// A loaded, instantiated plugin.
pub struct Plugin {
    label: String,
    store: Store<PluginState>,
    bindings: wit::Mapping,
    info: wit::PluginInfo,
    policy: Policy,
    stdout: Capture,
    stderr: Capture,
    poisoned: Option<String>,
}

impl Plugin {
    /// Admits a plugin by the engine's policy (before compiling it), compiles or loads it from the
    /// cache, refuses forbidden imports, instantiates it and checks its contract version.
    pub fn load(engine: &PluginEngine, source: &PluginSource) -> Result<Plugin, PluginError> {
        let policy = engine.policy();
        let label = source.label();
        let (bytes, sha256) = read(source)?;
        let not_allowed = |reason: String| PluginError::NotAllowed {
            plugin: label.clone(),
            policy: format!("policy {}", policy.origin),
            reason,
        };
        let pin = policy.pin(&sha256);
        match (source, pin) {
            (_, Some(_)) => {}
            (PluginSource::Bundled(_), None) if policy.file.allow_bundled => {}
            (PluginSource::Bundled(_), None) => return Err(not_allowed("bundled plugins are not allowed (allow-bundled = false) and it is not pinned".into())),
            (PluginSource::File(_), None) if policy.file.allow_unpinned => {
                tracing::warn!("plugin {label} (sha256 {sha256}) is not pinned by policy {}; running it sandboxed", policy.origin);
            }
            (PluginSource::File(_), None) => {
                return Err(not_allowed(format!(
                    "its sha256 {sha256} is not pinned (add [[plugins]] with this sha256, see `mm2-migrate plugins inspect`)"
                )));
            }
        }
        let component = engine.compile(&label, &sha256, &bytes)?;
        if let Some(import) = first_forbidden(&component_imports(engine, &component)) {
            return Err(PluginError::ForbiddenImport { plugin: label, import: import.clone() });
        }
        let plugin = Plugin::instantiate(engine, label.clone(), &component)?;
        let found = &plugin.info.contract_version;
        if !contract_compatible(found) || !policy.accepts_contract(found) {
            return Err(PluginError::Contract {
                plugin: plugin.label,
                found: found.clone(),
                expected: super::CONTRACT_VERSION.to_owned(),
                accepted: policy.contract_requirement().to_owned(),
            });
        }
        if let Some(pin) = pin {
            if pin.name != plugin.info.name {
                return Err(not_allowed(format!(
                    "its sha256 is pinned as {:?} but it calls itself {:?}",
                    pin.name, plugin.info.name
                )));
            }
        }
        Ok(plugin)
    }

    /// A fresh instance with no capabilities, described.
    fn instantiate(engine: &PluginEngine, label: String, component: &Component) -> Result<Plugin, PluginError> {
        let policy = engine.policy().clone();
        let (stdout, stderr) = (Capture::default(), Capture::default());
        // No preopened directories, no environment, no arguments, no network; stdin is empty and
        // stdout/stderr are captured into the plugin's bounded log.
        let wasi = WasiCtx::builder().stdout(stdout.clone()).stderr(stderr.clone()).build();
        let state = PluginState {
            wasi,
            table: ResourceTable::new(),
            memory: MemoryCap { max_bytes: policy.limits().memory_bytes as usize, tripped: false },
            log: PluginLog { plugin: label.clone(), ..PluginLog::default() },
        };
        let mut store = Store::new(&engine.engine, state);
        store.limiter(|s| &mut s.memory);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(deadline_ticks(&policy));
        if let Some(fuel) = policy.limits().fuel_per_batch {
            store.set_fuel(fuel).map_err(PluginError::engine)?;
        }
        let bindings = wit::Mapping::instantiate(&mut store, component, &engine.linker)
            .map_err(|e| PluginError::Instantiate { plugin: label.clone(), message: format!("{e:#}") })?;
        let mut plugin = Plugin {
            label,
            store,
            bindings,
            info: wit::PluginInfo {
                name: String::new(),
                version: String::new(),
                contract_version: String::new(),
                description: String::new(),
                config: Vec::new(),
            },
            policy,
            stdout,
            stderr,
            poisoned: None,
        };
        plugin.info = plugin.call("describe", |b, s| b.mm2_plugin_mapper().call_describe(s))?;
        Ok(plugin)
    }

    /// Where the plugin came from (bundled name or path).
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn info(&self) -> &wit::PluginInfo {
        &self.info
    }

    /// The policy the plugin runs under.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The plugin's configuration definition in the SDK's terms.
    pub fn config_definition(&self) -> Vec<ConfigKey> {
        self.info.config.iter().map(config_key).collect()
    }

    /// Checks the settings against the plugin's definition (all problems at once), then passes them.
    pub fn configure(&mut self, settings: &[(String, String)]) -> Result<(), PluginError> {
        Config::parse(&self.config_definition(), settings.iter().cloned())
            .map_err(|errors| PluginError::Config { plugin: self.label.clone(), errors })?;
        let result = self.call("configure", |b, s| b.mm2_plugin_mapper().call_configure(s, settings))?;
        result.map_err(|errors| PluginError::Config {
            plugin: self.label.clone(),
            errors: errors.into_iter().map(|e| ConfigError { key: e.key, message: e.message }).collect(),
        })
    }

    /// Maps a batch: exactly one outcome per input record, within the policy's output bounds.
    pub fn apply(&mut self, batch: &[wit::KafkaRecord]) -> Result<Vec<wit::Outcome>, PluginError> {
        let outcomes = self
            .call("apply", |b, s| b.mm2_plugin_mapper().call_apply(s, batch))?
            .map_err(|message| PluginError::Failed { plugin: self.label.clone(), call: "apply", message })?;
        if outcomes.len() != batch.len() {
            let message = format!("returned {} outcomes for {} records", outcomes.len(), batch.len());
            return Err(self.poison(PluginError::Protocol { plugin: self.label.clone(), call: "apply", message }));
        }
        if let Err((limit, detail)) = self.check_output(&outcomes) {
            return Err(self.poison(PluginError::Limit { plugin: self.label.clone(), call: "apply", limit, detail }));
        }
        Ok(outcomes)
    }

    /// The policy's output bounds and target topics.
    fn check_output(&self, outcomes: &[wit::Outcome]) -> Result<(), (&'static str, String)> {
        let bounds = self.policy.output();
        let mut batch_bytes = 0u64;
        for (index, outcome) in outcomes.iter().enumerate() {
            let wit::Outcome::Emit(records) = outcome else { continue };
            if records.len() as u64 > bounds.max_records_per_input {
                return Err((
                    "output.max-records-per-input",
                    format!("{} records for input {index}, at most {}", records.len(), bounds.max_records_per_input),
                ));
            }
            for record in records {
                let bytes = record_bytes(record);
                if bytes > bounds.max_record_bytes {
                    return Err(("output.max-record-bytes", format!("a record of {bytes} bytes, at most {}", bounds.max_record_bytes)));
                }
                batch_bytes += bytes;
                if !self.policy.may_emit_to(&record.topic) {
                    return Err(("topics.target", format!("it emitted to topic {:?}, which the policy does not allow", record.topic)));
                }
            }
        }
        if batch_bytes > bounds.max_batch_bytes {
            return Err(("output.max-batch-bytes", format!("{batch_bytes} bytes in one batch, at most {}", bounds.max_batch_bytes)));
        }
        Ok(())
    }

    fn poison(&mut self, error: PluginError) -> PluginError {
        self.poisoned = Some(error.to_string());
        error
    }

    /// Lets the plugin release what it holds; failures here only warn.
    pub fn close(&mut self) {
        if self.poisoned.is_none() {
            if let Err(e) = self.call("close", |b, s| b.mm2_plugin_mapper().call_close(s)) {
                tracing::warn!("{e}");
            }
        }
    }

    /// Runs one call under the limits and turns traps into errors that name what tripped.
    fn call<R>(
        &mut self,
        call: &'static str,
        f: impl FnOnce(&wit::Mapping, &mut Store<PluginState>) -> wasmtime::Result<R>,
    ) -> Result<R, PluginError> {
        if let Some(reason) = &self.poisoned {
            return Err(PluginError::Poisoned { plugin: self.label.clone(), reason: reason.clone() });
        }
        let limits = self.policy.limits().clone();
        let log_budget = self.policy.output().max_log_bytes_per_batch as usize;
        self.store.set_epoch_deadline(deadline_ticks(&self.policy));
        if let Some(fuel) = limits.fuel_per_batch {
            self.store.set_fuel(fuel).map_err(PluginError::engine)?;
        }
        self.store.data_mut().log.reset(log_budget);
        self.stdout.reset(log_budget);
        self.stderr.reset(log_budget);
        let result = f(&self.bindings, &mut self.store);
        let last_stderr = self.flush_output();
        result.map_err(|e| {
            let plugin = self.label.clone();
            let trap = e.downcast_ref::<Trap>().copied();
            let error = if self.store.data().memory.tripped {
                PluginError::Memory { plugin, call, limit_bytes: limits.memory_bytes }
            } else if trap == Some(Trap::Interrupt) {
                PluginError::Timeout { plugin, call, limit_ms: limits.call_timeout_ms }
            } else if trap == Some(Trap::OutOfFuel) {
                PluginError::Fuel { plugin, call, fuel: limits.fuel_per_batch.unwrap_or_default() }
            } else if trap == Some(Trap::StackOverflow) {
                PluginError::Stack { plugin, call, limit_bytes: limits.wasm_stack_bytes }
            } else {
                // The cause, without the wasm backtrace (shown with -v).
                tracing::debug!("plugin {plugin} trapped: {e:?}");
                let mut message = e.root_cause().to_string();
                if let Some(line) = last_stderr {
                    // A Rust panic's message is on stderr; the trap itself only says `unreachable`.
                    message.push_str(&format!(" (plugin stderr: {line})"));
                }
                PluginError::Trap { plugin, call, message }
            };
            // A trapped instance may hold broken state: it is never called again.
            self.poison(error)
        })
    }

    /// Shows captured stdout/stderr as plugin log lines, within the log budget; returns the last
    /// lines of stderr (where a panic's message is).
    fn flush_output(&mut self) -> Option<String> {
        let mut last_stderr: Vec<String> = Vec::new();
        for (capture, stream) in [(&self.stdout, "stdout"), (&self.stderr, "stderr")] {
            let (bytes, dropped) = capture.take();
            let log = &mut self.store.data_mut().log;
            for line in String::from_utf8_lossy(&bytes).lines().filter(|l| !l.trim().is_empty()) {
                log.emit(wit::LogLevel::Info, &format!("{stream}: {line}"));
                if stream == "stderr" && !line.starts_with("note: run with `RUST_BACKTRACE") {
                    last_stderr.push(line.chars().take(300).collect());
                    if last_stderr.len() > 2 {
                        last_stderr.remove(0);
                    }
                }
            }
            if dropped > 0 {
                tracing::warn!(plugin = %self.label, "{dropped} bytes of plugin {stream} dropped: over output.max-log-bytes-per-batch");
            }
        }
        let log = &mut self.store.data_mut().log;
        if log.dropped > 0 {
            tracing::warn!(plugin = %log.plugin, "{} plugin log lines dropped: over output.max-log-bytes-per-batch", log.dropped);
        }
        (!last_stderr.is_empty()).then(|| last_stderr.join(" "))
    }
}

fn record_bytes(r: &wit::KafkaRecord) -> u64 {
    let headers: usize = r.headers.iter().map(|h| h.key.len() + h.value.as_ref().map_or(0, Vec::len)).sum();
    (r.topic.len() + r.key.as_ref().map_or(0, Vec::len) + r.value.as_ref().map_or(0, Vec::len) + headers) as u64
}

fn deadline_ticks(policy: &Policy) -> u64 {
    (policy.limits().call_timeout_ms / EPOCH_TICK.as_millis() as u64).max(1) + 1
}

/// A WIT configuration key in the SDK's terms.
pub fn config_key(key: &wit::ConfigKey) -> ConfigKey {
    ConfigKey {
        name: key.name.clone(),
        config_type: match key.type_ {
            wit::ConfigType::String => ConfigType::String,
            wit::ConfigType::Int => ConfigType::Int,
            wit::ConfigType::Long => ConfigType::Long,
            wit::ConfigType::Boolean => ConfigType::Boolean,
            wit::ConfigType::List => ConfigType::List,
        },
        required: key.required,
        default_value: key.default_value.clone(),
        importance: match key.importance {
            wit::Importance::High => Importance::High,
            wit::Importance::Medium => Importance::Medium,
            wit::Importance::Low => Importance::Low,
        },
        documentation: key.documentation.clone(),
        valid_values: key.valid_values.clone(),
    }
}
