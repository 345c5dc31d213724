//! The plugin's WASI stdout and stderr: captured in memory, bounded, and shown as log lines.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// A bounded in-memory stream; writes past the budget are dropped (and counted), never an error,
/// so a chatty plugin is cut short rather than made to fail.
#[derive(Clone, Default)]
pub(crate) struct Capture {
    inner: Arc<Mutex<Buffer>>,
}

#[derive(Default)]
struct Buffer {
    data: Vec<u8>,
    budget: usize,
    dropped: usize,
}

impl Capture {
    /// Empties the buffer and sets the bytes it may hold until the next reset.
    pub(crate) fn reset(&self, budget: usize) {
        let mut b = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        b.data.clear();
        b.budget = budget;
        b.dropped = 0;
    }

    /// What was written since the last reset, and how many bytes were dropped.
    pub(crate) fn take(&self) -> (Vec<u8>, usize) {
        let mut b = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        (std::mem::take(&mut b.data), std::mem::take(&mut b.dropped))
    }
}

impl IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Capture {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(tokio::io::sink())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for Capture {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        let mut b = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let room = b.budget.saturating_sub(b.data.len());
        let kept = bytes.len().min(room);
        b.data.extend_from_slice(&bytes[..kept]);
        b.dropped += bytes.len() - kept;
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 << 10)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Capture {
    async fn ready(&mut self) {}
}
