//! The wasmtime engine shared by every plugin of a run, with its epoch ticker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine};

use super::instance::{PluginError, PluginState};
use super::wit;

/// How often the epoch advances: the granularity of call deadlines.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Resource limits for one plugin instance.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Linear memory of the instance, in bytes.
    pub memory_bytes: usize,
    /// Wall-clock time one call (`describe`, `configure`, one `apply` batch) may take.
    pub call_timeout: Duration,
    /// Bytes the plugin may send through `log` (and WASI stdout/stderr) per call.
    pub log_bytes_per_call: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 64 << 20,
            call_timeout: Duration::from_secs(10),
            log_bytes_per_call: 64 << 10,
        }
    }
}

/// The wasm stack a plugin may use; native stack overflow is not an option.
const MAX_WASM_STACK: usize = 512 << 10;

pub struct PluginEngine {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<PluginState>,
    stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

impl PluginEngine {
    pub fn new() -> Result<PluginEngine, PluginError> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .max_wasm_stack(MAX_WASM_STACK);
        let engine = Engine::new(&config).map_err(PluginError::engine)?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(PluginError::engine)?;
        wit::Mapping::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s)
            .map_err(PluginError::engine)?;

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
        Ok(PluginEngine { engine, linker, stop, ticker: Some(ticker) })
    }

    /// Compiles a component.
    pub fn compile(&self, label: &str, bytes: &[u8]) -> Result<Component, PluginError> {
        Component::from_binary(&self.engine, bytes).map_err(|e| PluginError::Compile {
            plugin: label.to_owned(),
            message: format!("{e:#}"),
        })
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
