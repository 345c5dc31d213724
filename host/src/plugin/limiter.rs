//! What a plugin may allocate: the policy's memory budget across all of its linear memories and
//! tables together, and fixed caps on how many instances, memories and tables it may create.
//!
//! Wasmtime asks the limiter for every allocation, the initial ones at instantiation included, so
//! a component cannot get around the budget by declaring many memories or many core instances.

use wasmtime::ResourceLimiter;

/// Core instances a plugin may create. A Rust `wasm32-wasip2` component has about ten (its
/// module, the WASI adapter and their shims); componentize-js about twenty.
pub(crate) const MAX_INSTANCES: usize = 64;
/// Linear memories across all of a plugin's instances.
pub(crate) const MAX_MEMORIES: usize = 8;
/// Tables across all of a plugin's instances.
pub(crate) const MAX_TABLES: usize = 64;
/// Bytes one table element is counted for in the memory budget (a reference and its metadata).
const TABLE_ELEMENT_BYTES: usize = 16;

/// The plugin's allocations so far, against its budget.
#[derive(Debug)]
pub(crate) struct Limiter {
    max_bytes: usize,
    /// Bytes of all linear memories plus table elements at their current sizes.
    used_bytes: usize,
    /// Set when the budget refused an allocation, so that the error names the limit.
    pub(crate) tripped: bool,
}

impl Limiter {
    pub(crate) fn new(max_bytes: u64) -> Limiter {
        Limiter { max_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX), used_bytes: 0, tripped: false }
    }

    fn grow(&mut self, current: usize, desired: usize) -> wasmtime::Result<bool> {
        let total = self.used_bytes.saturating_sub(current).saturating_add(desired);
        if total > self.max_bytes {
            self.tripped = true;
            wasmtime::bail!(
                "memory limit of {} bytes reached: the plugin's memories and tables would hold {total}",
                self.max_bytes
            );
        }
        self.used_bytes = total;
        Ok(true)
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.grow(current, desired)
    }

    fn table_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.grow(current.saturating_mul(TABLE_ELEMENT_BYTES), desired.saturating_mul(TABLE_ELEMENT_BYTES))
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_shared_by_every_memory_and_table() {
        let mut limiter = Limiter::new(10 << 20);
        // Two memories of 4 MiB each fit; a third does not.
        assert!(limiter.memory_growing(0, 4 << 20, None).unwrap());
        assert!(limiter.memory_growing(0, 4 << 20, None).unwrap());
        assert!(limiter.memory_growing(0, 4 << 20, None).is_err());
        assert!(limiter.tripped);
        // Growing one of them counts only the difference.
        let mut limiter = Limiter::new(10 << 20);
        assert!(limiter.memory_growing(0, 4 << 20, None).unwrap());
        assert!(limiter.memory_growing(4 << 20, 9 << 20, None).unwrap());
        assert!(limiter.table_growing(0, (2 << 20) / TABLE_ELEMENT_BYTES, None).is_err());
    }
}
