//! The wasmtime engine shared by every plugin of a run, shaped by the policy, with its epoch
//! ticker and the compile cache.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine};

use super::cache::{CacheOutcome, CompileCache};
use super::error::{PluginError, Problem};
use super::state::PluginState;
use crate::policy::Policy;

/// How often the epoch advances: the granularity of call deadlines.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Stack left to host functions on a plugin's stack, above the wasm stack limit.
const HOST_STACK_BYTES: usize = 1 << 20;

pub struct PluginEngine {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<PluginState>,
    /// Drives plugin calls as futures, so that a deadline can abandon a call blocked in the host.
    pub(crate) runtime: Arc<tokio::runtime::Runtime>,
    policy: Policy,
    cache: Option<CompileCache>,
    stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

impl PluginEngine {
    /// An engine enforcing `policy`; compiled components go to `cache` when given.
    pub fn new(policy: Policy, cache: Option<CompileCache>) -> Result<PluginEngine, PluginError> {
        let limits = policy.limits();
        let wasm_stack = limits.wasm_stack_bytes as usize;
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .max_wasm_stack(wasm_stack)
            // Calls run on their own stacks, which must hold the wasm stack and the host's frames.
            .async_stack_size(wasm_stack + HOST_STACK_BYTES)
            .consume_fuel(limits.fuel_per_batch.is_some());
        let engine = Engine::new(&config).map_err(PluginError::engine)?;
        let linker = super::linker::linker(&engine)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| PluginError::Engine(format!("cannot start the plugin runtime: {e}")))?;

        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let engine = engine.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("wasm-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| PluginError::Engine(format!("cannot start the epoch thread: {e}")))?
        };
        Ok(PluginEngine { engine, linker, runtime: Arc::new(runtime), policy, cache, stop, ticker: Some(ticker) })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Compiles a component, or loads it compiled from the cache.
    pub(crate) fn compile(&self, label: &str, sha256: &str, bytes: &[u8]) -> Result<Component, PluginError> {
        let started = Instant::now();
        let error = |e: wasmtime::Error| PluginError::of(label, Problem::Compile(format!("{e:#}")));
        let (component, outcome) = match &self.cache {
            Some(cache) => cache.load_or_compile(&self.engine, sha256, bytes).map_err(error)?,
            None => (Component::from_binary(&self.engine, bytes).map_err(error)?, CacheOutcome::Compiled),
        };
        match outcome {
            CacheOutcome::Hit => tracing::debug!("plugin {label}: loaded compiled component from the cache in {:?}", started.elapsed()),
            CacheOutcome::Compiled => tracing::debug!("plugin {label}: compiled in {:?}", started.elapsed()),
        }
        Ok(component)
    }
}

impl Drop for PluginEngine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}
