//! Compiled components cached on disk, keyed by the component's sha256 and the engine's
//! compatibility hash (wasmtime version and every setting that changes generated code), so a second
//! run does not recompile and an entry is never used by another engine.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
}

/// Whether a component came from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    Compiled,
}

impl CompileCache {
    /// `$MM2_MIGRATE_CACHE_DIR`, else `$XDG_CACHE_HOME/mm2-migrate`, else `~/.cache/mm2-migrate`.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("MM2_MIGRATE_CACHE_DIR") {
            return Some(PathBuf::from(dir));
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("mm2-migrate"))
    }

    /// A cache in `dir`, created private to the user. `None` (compile every time) when the directory
    /// cannot be made or is writable by others: compiled code from there would run natively.
    pub fn open(dir: &Path) -> Option<CompileCache> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if let Err(e) = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir) {
            tracing::warn!("compile cache {} unavailable: {e}", dir.display());
            return None;
        }
        match std::fs::metadata(dir) {
            Ok(m) if m.permissions().mode() & 0o022 == 0 => Some(CompileCache { dir: dir.to_owned() }),
            Ok(_) => {
                tracing::warn!("compile cache {} is writable by others; not used", dir.display());
                None
            }
            Err(e) => {
                tracing::warn!("compile cache {} unavailable: {e}", dir.display());
                None
            }
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry(&self, engine: &Engine, sha256: &str) -> PathBuf {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        self.dir.join(format!("{sha256}-{:016x}.cwasm", hasher.finish()))
    }

    /// The compiled component for `bytes` (whose sha256 is `sha256`), from the cache or compiled now.
    pub fn load_or_compile(&self, engine: &Engine, sha256: &str, bytes: &[u8]) -> wasmtime::Result<(Component, CacheOutcome)> {
        let path = self.entry(engine, sha256);
        if path.exists() {
            // SAFETY: the file was written by `Component::serialize` into a directory private to
            // this user, under a name bound to this engine's compatibility hash; wasmtime checks
            // its header again and refuses an entry from another version or configuration.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
                Err(e) => tracing::warn!("ignoring compile cache entry {}: {e:#}", path.display()),
            }
        }
        let component = Component::from_binary(engine, bytes)?;
        match component.serialize() {
            Ok(compiled) => {
                let tmp = path.with_extension(format!("tmp{}", std::process::id()));
                if std::fs::write(&tmp, compiled).and_then(|()| std::fs::rename(&tmp, &path)).is_err() {
                    let _ = std::fs::remove_file(&tmp);
                    tracing::warn!("could not write compile cache entry {}", path.display());
                }
            }
            Err(e) => tracing::warn!("could not serialize compiled component: {e:#}"),
        }
        Ok((component, CacheOutcome::Compiled))
    }
}
