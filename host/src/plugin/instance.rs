//! One plugin instance: its store, limits, log, and the contract's calls.

use std::path::PathBuf;

use mm2_plugin_sdk::config::{Config, ConfigError, ConfigKey, ConfigType, Importance};
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::engine::{EPOCH_TICK, Limits, PluginEngine};
use super::{PluginSource, contract_compatible, wit};

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("unknown plugin {name:?}; bundled plugins: {bundled} (or give a path to a .wasm component)")]
    UnknownPlugin { name: String, bundled: String },
    #[error("cannot read plugin {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("plugin {plugin} is not a valid component: {message}")]
    Compile { plugin: String, message: String },
    #[error("plugin {plugin} cannot be instantiated: {message}")]
    Instantiate { plugin: String, message: String },
    #[error("plugin {plugin} was built for contract {found}; this host runs contract {expected}")]
    Contract { plugin: String, found: String, expected: String },
    #[error("invalid configuration for plugin {plugin}:\n{}", errors.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Config { plugin: String, errors: Vec<ConfigError> },
    #[error("plugin {plugin} exceeded its time limit of {limit_ms} ms in {call}")]
    Timeout { plugin: String, call: &'static str, limit_ms: u128 },
    #[error("plugin {plugin} exceeded its memory limit of {limit_bytes} bytes in {call}")]
    Memory { plugin: String, call: &'static str, limit_bytes: usize },
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

/// The plugin's log lines, bounded per call.
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
        if self.dropped > 0 {
            tracing::warn!(plugin = %self.plugin, "{} plugin log lines dropped: over the log limit", self.dropped);
            self.dropped = 0;
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
        let log = &mut self.log;
        if log.used + message.len() > log.budget {
            log.dropped += 1;
            return;
        }
        log.used += message.len();
        let plugin = log.plugin.as_str();
        match level {
            wit::LogLevel::Trace => tracing::trace!(target: "plugin", plugin, "{message}"),
            wit::LogLevel::Debug => tracing::debug!(target: "plugin", plugin, "{message}"),
            wit::LogLevel::Info => tracing::info!(target: "plugin", plugin, "{message}"),
            wit::LogLevel::Warn => tracing::warn!(target: "plugin", plugin, "{message}"),
            wit::LogLevel::Error => tracing::error!(target: "plugin", plugin, "{message}"),
        }
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

/// A loaded, instantiated plugin.
pub struct Plugin {
    label: String,
    store: Store<PluginState>,
    bindings: wit::Mapping,
    info: wit::PluginInfo,
    limits: Limits,
    poisoned: Option<String>,
}

impl Plugin {
    /// Compiles, instantiates and describes a plugin, and checks its contract version.
    pub fn load(engine: &PluginEngine, source: &PluginSource, limits: Limits) -> Result<Plugin, PluginError> {
        let label = source.label();
        let component = engine.compile(&label, &source.bytes()?)?;
        let state = PluginState {
            // No preopens, no environment, no arguments, no sockets; stdio goes nowhere.
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            memory: MemoryCap { max_bytes: limits.memory_bytes, tripped: false },
            log: PluginLog { plugin: label.clone(), ..PluginLog::default() },
        };
        let mut store = Store::new(&engine.engine, state);
        store.limiter(|s| &mut s.memory);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(deadline_ticks(&limits));
        let bindings = wit::Mapping::instantiate(&mut store, &component, &engine.linker).map_err(|e| {
            PluginError::Instantiate { plugin: label.clone(), message: format!("{e:#}") }
        })?;
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
            limits,
            poisoned: None,
        };
        plugin.info = plugin.call("describe", |b, s| b.mm2_plugin_mapper().call_describe(s))?;
        if !contract_compatible(&plugin.info.contract_version) {
            return Err(PluginError::Contract {
                plugin: plugin.label,
                found: plugin.info.contract_version,
                expected: super::CONTRACT_VERSION.to_owned(),
            });
        }
        Ok(plugin)
    }

    /// Where the plugin came from (bundled name or path).
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn info(&self) -> &wit::PluginInfo {
        &self.info
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

    /// Maps a batch: exactly one outcome per input record.
    pub fn apply(&mut self, batch: &[wit::KafkaRecord]) -> Result<Vec<wit::Outcome>, PluginError> {
        let outcomes = self
            .call("apply", |b, s| b.mm2_plugin_mapper().call_apply(s, batch))?
            .map_err(|message| PluginError::Failed { plugin: self.label.clone(), call: "apply", message })?;
        if outcomes.len() != batch.len() {
            let reason = format!("returned {} outcomes for {} records", outcomes.len(), batch.len());
            self.poisoned = Some(reason.clone());
            return Err(PluginError::Protocol { plugin: self.label.clone(), call: "apply", message: reason });
        }
        Ok(outcomes)
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
        self.store.set_epoch_deadline(deadline_ticks(&self.limits));
        self.store.data_mut().log.reset(self.limits.log_bytes_per_call);
        let result = f(&self.bindings, &mut self.store);
        self.store.data_mut().log.reset(0);
        result.map_err(|e| {
            let plugin = self.label.clone();
            let error = if self.store.data().memory.tripped {
                PluginError::Memory { plugin, call, limit_bytes: self.limits.memory_bytes }
            } else if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
                PluginError::Timeout { plugin, call, limit_ms: self.limits.call_timeout.as_millis() }
            } else {
                PluginError::Trap { plugin, call, message: format!("{e:#}") }
            };
            // A trapped instance may hold broken state: it is never called again.
            self.poisoned = Some(error.to_string());
            error
        })
    }
}

fn deadline_ticks(limits: &Limits) -> u64 {
    (limits.call_timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64 + 1
}

fn config_key(key: &wit::ConfigKey) -> ConfigKey {
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
