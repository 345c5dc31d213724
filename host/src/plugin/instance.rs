//! One plugin instance: admission by policy, its store, and the contract's calls, each run under
//! the policy's limits: a wall-clock deadline that holds whatever the plugin waits on (calls are
//! futures dropped at the deadline, and epoch interruption stops code that never waits), fuel,
//! memory, stack and output bounds.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use connect_offsets::config::{Config, ConfigError, ConfigKey, ConfigType, Importance};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Store, Trap};

use super::capture::Capture;
use super::engine::{EPOCH_TICK, PluginEngine};
use super::error::{CallFailure, PluginError, Problem};
use super::linker::{component_imports, first_forbidden, foreign_contract};
use super::state::PluginState;
use super::{PluginSource, contract_compatible, untrusted, wit};
use crate::policy::Policy;

/// A call into the guest, as a future borrowing the store.
type GuestCall<'a, R> = Pin<Box<dyn Future<Output = wasmtime::Result<R>> + Send + 'a>>;

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

/// Inspects a plugin without the policy's admission rules (so that an entry can be written for
/// it); it still runs under the policy's limits.
pub fn inspect(engine: &PluginEngine, source: &PluginSource) -> Result<Inspection, PluginError> {
    let label = source.label();
    let (bytes, sha256) = read(source)?;
    let component = engine.compile(&label, &sha256, &bytes)?;
    let imports = component_imports(&engine.engine, &component);
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
    runtime: Arc<tokio::runtime::Runtime>,
    stdout: Capture,
    stderr: Capture,
    poisoned: Option<String>,
}

impl Plugin {
    /// Admits a plugin by the engine's policy (before compiling it), compiles or loads it from the
    /// cache, refuses forbidden imports and other contracts, instantiates it and checks the
    /// contract version it reports.
    pub fn load(engine: &PluginEngine, source: &PluginSource) -> Result<Plugin, PluginError> {
        let policy = engine.policy();
        let label = source.label();
        let (bytes, sha256) = read(source)?;
        let not_allowed = |reason: String| PluginError::of(&label, Problem::NotAllowed { policy: format!("policy {}", policy.origin), reason });
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
        if let Some(import) = first_forbidden(&component_imports(&engine.engine, &component)) {
            return Err(PluginError::of(&label, Problem::ForbiddenImport(import.clone())));
        }
        let plugin = Plugin::instantiate(engine, label.clone(), &component)?;
        let found = &plugin.info.contract_version;
        if !contract_compatible(found) || !policy.accepts_contract(found) {
            return Err(contract_error(plugin.label, found.clone(), policy));
        }
        if let Some(pin) = pin
            && pin.name != plugin.info.name {
                return Err(not_allowed(format!(
                    "its sha256 is pinned as {:?} but it calls itself {:?}",
                    pin.name, plugin.info.name
                )));
            }
        Ok(plugin)
    }

    /// A fresh instance with no capabilities, described.
    fn instantiate(engine: &PluginEngine, label: String, component: &Component) -> Result<Plugin, PluginError> {
        let policy = engine.policy().clone();
        if let Some(found) = foreign_contract(&engine.engine, component) {
            return Err(contract_error(label, found, &policy));
        }
        let (stdout, stderr) = (Capture::default(), Capture::default());
        let mut store = Store::new(&engine.engine, PluginState::new(&policy, &label, &stdout, &stderr));
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_trap();
        arm(&mut store, &policy)?;
        let runtime = engine.runtime.clone();
        let limits = policy.limits().clone();
        // Instantiate first, then look for the contract's exports: whatever a component declares
        // is allocated under the limiter before anything else is said about it.
        let instantiate = engine.linker.instantiate_async(&mut store, component);
        let instantiated = runtime.block_on(async { tokio::time::timeout(limits.call_timeout(), instantiate).await });
        let bindings = match instantiated {
            Ok(Ok(instance)) => wit::Mapping::new(&mut store, &instance)
                .map_err(|e| PluginError::of(&label, Problem::Instantiate(format!("{e:#}"))))?,
            Ok(Err(e)) => {
                return Err(match classify(&store, &label, "instantiation", &limits, &e, None) {
                    PluginError::Plugin { problem: Problem::Call { failure: CallFailure::Trap(message), .. }, .. } => {
                        PluginError::of(&label, Problem::Instantiate(with_caps(message)))
                    }
                    limit => limit,
                });
            }
            Err(_elapsed) => {
                return Err(PluginError::call(&label, "instantiation", CallFailure::Timeout { limit_ms: limits.call_timeout_ms }));
            }
        };
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
            runtime,
            stdout,
            stderr,
            poisoned: None,
        };
        let info = plugin.call("describe", |b, s| Box::pin(b.mm2_plugin_mapper().call_describe(s)))?;
        plugin.info = untrusted::plugin_info(info);
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

    /// Lets the plugin write to the target topic the operator named (when the policy's target
    /// rules are the defaults).
    pub fn name_target_topic(&mut self, topic: &str) {
        self.policy.name_target_topic(topic);
    }

    /// The plugin's configuration definition in the SDK's terms.
    pub fn config_definition(&self) -> Vec<ConfigKey> {
        self.info.config.iter().map(config_key).collect()
    }

    /// Checks the settings against the plugin's definition (all problems at once), then passes them.
    pub fn configure(&mut self, settings: &[(String, String)]) -> Result<(), PluginError> {
        Config::parse(&self.config_definition(), settings.iter().cloned())
            .map_err(|errors| PluginError::of(&self.label, Problem::Config(errors)))?;
        let owned = settings.to_vec();
        let result = self.call("configure", move |b, s| Box::pin(async move { b.mm2_plugin_mapper().call_configure(s, &owned).await }))?;
        result.map_err(|errors| {
            let errors = errors
                .into_iter()
                .map(|e| ConfigError { key: untrusted::label(&e.key), message: untrusted::message(&e.message) })
                .collect();
            PluginError::of(&self.label, Problem::Config(errors))
        })
    }

    /// Maps a batch: exactly one outcome per input record, within the policy's output bounds,
    /// with every text the plugin returned made safe to show.
    pub fn apply(&mut self, batch: Vec<wit::KafkaRecord>) -> Result<Vec<wit::Outcome>, PluginError> {
        let inputs = batch.len();
        let outcomes = self
            .call("apply", move |b, s| Box::pin(async move { b.mm2_plugin_mapper().call_apply(s, &batch).await }))?
            .map_err(|message| PluginError::call(&self.label, "apply", CallFailure::Failed(untrusted::message(&message))))?;
        if outcomes.len() != inputs {
            let message = format!("returned {} outcomes for {inputs} records", outcomes.len());
            return Err(self.poison(PluginError::call(&self.label, "apply", CallFailure::Protocol(message))));
        }
        if let Err((limit, detail)) = super::output::check_batch(&self.policy, &outcomes) {
            return Err(self.poison(PluginError::call(&self.label, "apply", CallFailure::Limit { limit, detail })));
        }
        Ok(outcomes.into_iter().map(untrusted::outcome).collect())
    }

    fn poison(&mut self, error: PluginError) -> PluginError {
        self.poisoned = Some(error.to_string());
        error
    }

    /// Lets the plugin release what it holds; failures here only warn.
    pub fn close(&mut self) {
        if self.poisoned.is_none()
            && let Err(e) = self.call("close", |b, s| Box::pin(b.mm2_plugin_mapper().call_close(s))) {
                tracing::warn!("{e}");
            }
    }

    /// Runs one call under the limits and turns traps into errors that name what tripped.
    fn call<R>(
        &mut self,
        call: &'static str,
        f: impl for<'a> FnOnce(&'a wit::Mapping, &'a mut Store<PluginState>) -> GuestCall<'a, R>,
    ) -> Result<R, PluginError> {
        if let Some(reason) = &self.poisoned {
            return Err(PluginError::of(&self.label, Problem::Poisoned(reason.clone())));
        }
        let limits = self.policy.limits().clone();
        let log_budget = self.policy.output().max_log_bytes_per_batch as usize;
        arm(&mut self.store, &self.policy)?;
        self.store.data_mut().log.reset(log_budget);
        self.stdout.reset(log_budget);
        self.stderr.reset(log_budget);
        // The deadline holds whatever the plugin does: code that never waits is stopped by the
        // epoch deadline, a plugin blocked in a host call (a sleep, a poll) by dropping the call.
        let Plugin { runtime, bindings, store, .. } = self;
        let result = runtime.block_on(async { tokio::time::timeout(limits.call_timeout(), f(bindings, store)).await });
        let last_stderr = self.flush_output();
        let error = match result {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) => classify(&self.store, &self.label, call, &limits, &e, last_stderr),
            Err(_elapsed) => PluginError::call(&self.label, call, CallFailure::Timeout { limit_ms: limits.call_timeout_ms }),
        };
        // A trapped or abandoned instance may hold broken state: it is never called again.
        Err(self.poison(error))
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
                    last_stderr.push(untrusted::text(line, 300));
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
            tracing::warn!(plugin = %log.plugin(), "{} plugin log lines dropped: over output.max-log-bytes-per-batch", log.dropped);
        }
        (!last_stderr.is_empty()).then(|| last_stderr.join(" "))
    }
}

/// Sets the next call's epoch deadline and fuel.
fn arm(store: &mut Store<PluginState>, policy: &Policy) -> Result<(), PluginError> {
    store.set_epoch_deadline(deadline_ticks(policy));
    if let Some(fuel) = policy.limits().fuel_per_batch {
        store.set_fuel(fuel).map_err(PluginError::engine)?;
    }
    Ok(())
}

/// The error for a failed call or instantiation, naming the limit that tripped if one did.
fn classify(
    store: &Store<PluginState>,
    plugin: &str,
    call: &'static str,
    limits: &crate::policy::Limits,
    e: &wasmtime::Error,
    last_stderr: Option<String>,
) -> PluginError {
    let trap = e.downcast_ref::<Trap>().copied();
    let failure = if store.data().limiter.tripped {
        CallFailure::Memory { limit_bytes: limits.memory_bytes }
    } else if trap == Some(Trap::Interrupt) {
        CallFailure::Timeout { limit_ms: limits.call_timeout_ms }
    } else if trap == Some(Trap::OutOfFuel) {
        CallFailure::Fuel { fuel: limits.fuel_per_batch.unwrap_or_default() }
    } else if trap == Some(Trap::StackOverflow) {
        CallFailure::Stack { limit_bytes: limits.wasm_stack_bytes }
    } else {
        // The cause, without the wasm backtrace (shown with -v).
        tracing::debug!("plugin {plugin} failed: {e:?}");
        let mut message = untrusted::message(&e.root_cause().to_string());
        if let Some(line) = last_stderr {
            // A Rust panic's message is on stderr; the trap itself only says `unreachable`.
            message.push_str(&format!(" (plugin stderr: {line})"));
        }
        CallFailure::Trap(message)
    };
    PluginError::call(plugin, call, failure)
}

/// An instantiation failure, with the fixed caps when one of them was hit.
fn with_caps(message: String) -> String {
    if message.contains("count too high") || message.contains("resource limit exceeded") {
        format!(
            "{message} (a plugin may create at most {} core instances, {} memories and {} tables)",
            super::limiter::MAX_INSTANCES,
            super::limiter::MAX_MEMORIES,
            super::limiter::MAX_TABLES
        )
    } else {
        message
    }
}

fn contract_error(plugin: String, found: String, policy: &Policy) -> PluginError {
    let expected = super::CONTRACT_VERSION.to_owned();
    PluginError::of(&plugin, Problem::Contract { found, expected, accepted: policy.contract_requirement().to_owned() })
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
