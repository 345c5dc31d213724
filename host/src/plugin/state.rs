//! What a plugin instance's store holds: its WASI context (no files, no network, no environment,
//! deterministic clocks and random unless the policy allows the real ones), its allocation
//! budget and its bounded log.

use rand::SeedableRng;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use super::capture::Capture;
use super::limiter::Limiter;
use super::{untrusted, wit};
use crate::policy::Policy;

/// The store's data.
pub(crate) struct PluginState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) log: PluginLog,
}

impl PluginState {
    /// A context with no capabilities; stdout and stderr go to the given captures.
    pub(crate) fn new(policy: &Policy, label: &str, stdout: &Capture, stderr: &Capture) -> PluginState {
        // No preopened directories, no environment, no arguments, no network; stdin is empty.
        let mut wasi = WasiCtx::builder();
        wasi.stdout(stdout.clone()).stderr(stderr.clone()).max_random_size(MAX_RANDOM_BYTES);
        if !policy.file.allow_real_clocks {
            wasi.wall_clock(FixedWallClock).monotonic_clock(VirtualMonotonicClock::default());
        }
        if !policy.file.allow_real_random {
            wasi.secure_random(rand::rngs::StdRng::seed_from_u64(RANDOM_SEED))
                .insecure_random(rand::rngs::StdRng::seed_from_u64(RANDOM_SEED + 1))
                .insecure_random_seed(u128::from(RANDOM_SEED));
        }
        PluginState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: Limiter::new(policy.limits().memory_bytes),
            log: PluginLog { plugin: label.to_owned(), ..PluginLog::default() },
        }
    }
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

/// Random bytes one call may ask for (WASI's default is 64 MiB, allocated by the host).
const MAX_RANDOM_BYTES: u64 = 1 << 20;

/// The seed of a plugin's random numbers when the policy does not allow real ones: the same
/// plugin on the same input gives the same output in `plan`, `run` and `verify`.
const RANDOM_SEED: u64 = 0x6d6d_325f_6d69_6772;

/// The wall clock a plugin sees without `allow-real-clocks`: always 1970-01-01T00:00:00Z.
struct FixedWallClock;

impl HostWallClock for FixedWallClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(1)
    }

    fn now(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

/// The monotonic clock a plugin sees without `allow-real-clocks`: it starts at 0 and advances one
/// microsecond per reading, so that code waiting for time to pass still ends, deterministically.
#[derive(Default)]
struct VirtualMonotonicClock {
    readings: std::sync::atomic::AtomicU64,
}

impl HostMonotonicClock for VirtualMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000
    }

    fn now(&self) -> u64 {
        self.readings.fetch_add(1, std::sync::atomic::Ordering::Relaxed) * 1_000
    }
}

/// The plugin's log lines (the contract's `log`, and captured stdout/stderr), bounded per call.
#[derive(Debug, Default)]
pub struct PluginLog {
    plugin: String,
    budget: usize,
    used: usize,
    pub(crate) dropped: u64,
}

impl PluginLog {
    pub(crate) fn reset(&mut self, budget: usize) {
        self.budget = budget;
        self.used = 0;
        self.dropped = 0;
    }

    pub(crate) fn plugin(&self) -> &str {
        &self.plugin
    }

    pub(crate) fn emit(&mut self, level: wit::LogLevel, message: &str) {
        if self.used + message.len() > self.budget {
            self.dropped += 1;
            return;
        }
        self.used += message.len();
        let message = untrusted::message(message);
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
