//! Compiled components cached on disk, keyed by the component's sha256 and the engine's
//! compatibility hash (wasmtime version and every setting that changes generated code), so a second
//! run does not recompile and an entry is never used by another engine.
//!
//! Trust model: compiled code runs natively, so the cache is trusted exactly as much as the user's
//! own files: it is used only when its directory is owned by the current user and writable by no
//! one else, and every parent directory is owned by that user or root and writable by no one else
//! (unless sticky, as /tmp). Each entry also records the sha256 of the component it was compiled
//! from and of its own compiled bytes, both checked before wasmtime reads it, so a damaged,
//! truncated or swapped entry is compiled again and never executed.

use std::hash::{Hash, Hasher};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
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

/// The first bytes of an entry: format and version.
const MAGIC: &[u8; 8] = b"mm2cwsm1";
/// Magic, the component's sha256, the compiled bytes' sha256.
const HEADER_LEN: usize = MAGIC.len() + 32 + 32;

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

    /// A cache in `dir`, created private to the user. `None` (compile every time, said once) when
    /// the directory cannot be made or is not trustworthy: compiled code from there runs natively.
    pub fn open(dir: &Path) -> Option<CompileCache> {
        use std::os::unix::fs::DirBuilderExt;
        if let Err(e) = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir) {
            tracing::warn!("compile cache {} unavailable: {e}; plugins are compiled every time", dir.display());
            return None;
        }
        match untrustworthy(dir) {
            None => Some(CompileCache { dir: dir.to_owned() }),
            Some(why) => {
                tracing::warn!("compile cache {} not used: {why}; plugins are compiled every time", dir.display());
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
        let component_digest: [u8; 32] = Sha256::digest(bytes).into();
        match std::fs::read(&path) {
            Ok(entry) => match verified_code(&entry, &component_digest) {
                Ok(code) => {
                    // SAFETY: `code` is what `Component::serialize` wrote for exactly these component
                    // bytes (both digests checked just now, on the bytes in memory), in a directory
                    // only this user can write, under a name bound to this engine's compatibility
                    // hash; wasmtime checks its header again and refuses another version or setting.
                    match unsafe { Component::deserialize(engine, code) } {
                        Ok(component) => return Ok((component, CacheOutcome::Hit)),
                        Err(e) => tracing::warn!("compile cache entry {} refused: {e:#}; compiling again", path.display()),
                    }
                }
                Err(why) => tracing::warn!("compile cache entry {} {why}; compiling again", path.display()),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!("compile cache entry {} unreadable: {e}; compiling again", path.display()),
        }
        let component = Component::from_binary(engine, bytes)?;
        match component.serialize() {
            Ok(code) => self.store(&path, &component_digest, &code),
            Err(e) => tracing::warn!("could not serialize compiled component: {e:#}"),
        }
        Ok((component, CacheOutcome::Compiled))
    }

    /// Writes an entry atomically (a private temporary file renamed into place).
    fn store(&self, path: &Path, component_digest: &[u8; 32], code: &[u8]) {
        let mut entry = Vec::with_capacity(HEADER_LEN + code.len());
        entry.extend_from_slice(MAGIC);
        entry.extend_from_slice(component_digest);
        entry.extend_from_slice(&Sha256::digest(code));
        entry.extend_from_slice(code);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let written = std::fs::write(&tmp, &entry)
            .and_then(|()| std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)))
            .and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            tracing::warn!("could not write compile cache entry {}: {e}", path.display());
        }
    }
}

/// The compiled bytes of an entry, when it is whole and was compiled from `component_digest`.
fn verified_code<'e>(entry: &'e [u8], component_digest: &[u8; 32]) -> Result<&'e [u8], &'static str> {
    if entry.len() < HEADER_LEN || &entry[..MAGIC.len()] != MAGIC {
        return Err("is not an entry of this version");
    }
    let (header, code) = entry.split_at(HEADER_LEN);
    if header[MAGIC.len()..MAGIC.len() + 32] != component_digest[..] {
        return Err("was compiled from another component");
    }
    if header[MAGIC.len() + 32..] != Sha256::digest(code)[..] {
        return Err("is damaged (its digest does not match)");
    }
    Ok(code)
}

/// Why `dir` must not hold code this process will run, if it must not.
fn untrustworthy(dir: &Path) -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) => return Some(e.to_string()),
    };
    if !meta.is_dir() {
        return Some("it is not a directory (or is a symbolic link)".to_owned());
    }
    if meta.uid() != me {
        return Some(format!("it is owned by uid {}, not by the current user (uid {me})", meta.uid()));
    }
    if meta.permissions().mode() & 0o022 != 0 {
        return Some(format!("it is writable by others (mode {:o})", meta.permissions().mode() & 0o777));
    }
    let absolute = std::fs::canonicalize(dir).ok()?;
    for parent in absolute.ancestors().skip(1) {
        let Ok(meta) = std::fs::metadata(parent) else { continue };
        let mode = meta.permissions().mode();
        if meta.uid() != me && meta.uid() != 0 {
            return Some(format!("its parent {} is owned by uid {}, not by the current user or root", parent.display(), meta.uid()));
        }
        if mode & 0o022 != 0 && mode & 0o1000 == 0 {
            return Some(format!("its parent {} is writable by others (mode {:o})", parent.display(), mode & 0o777));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(name: &str) -> Vec<u8> {
        wat::parse_str(format!("(component (core module (func (export \"{name}\"))))")).unwrap()
    }

    fn sha(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    #[test]
    fn damaged_or_swapped_entries_are_compiled_again_never_run() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::open(&dir.path().join("cache")).expect("a private directory is trusted");
        let engine = Engine::default();
        let (a, b) = (component("a"), component("b"));
        assert_eq!(cache.load_or_compile(&engine, &sha(&a), &a).unwrap().1, CacheOutcome::Compiled);
        assert_eq!(cache.load_or_compile(&engine, &sha(&a), &a).unwrap().1, CacheOutcome::Hit);

        // Code damaged behind an intact header (a flipped byte in the middle of the compiled code).
        let path = cache.entry(&engine, &sha(&a));
        let mut entry = std::fs::read(&path).unwrap();
        let middle = HEADER_LEN + (entry.len() - HEADER_LEN) / 2;
        entry[middle] ^= 0xff;
        std::fs::write(&path, &entry).unwrap();
        assert_eq!(cache.load_or_compile(&engine, &sha(&a), &a).unwrap().1, CacheOutcome::Compiled);
        assert_eq!(cache.load_or_compile(&engine, &sha(&a), &a).unwrap().1, CacheOutcome::Hit, "rewritten whole");

        // Another component's entry under this one's name.
        cache.load_or_compile(&engine, &sha(&b), &b).unwrap();
        std::fs::copy(cache.entry(&engine, &sha(&b)), cache.entry(&engine, &sha(&a))).unwrap();
        assert_eq!(cache.load_or_compile(&engine, &sha(&a), &a).unwrap().1, CacheOutcome::Compiled);

        // A truncated entry, and a raw wasmtime artifact without our header.
        std::fs::write(cache.entry(&engine, &sha(&a)), &entry[..HEADER_LEN / 2]).unwrap();
        assert_eq!(cache.load_or_compile(&engine, &sha(&a), &a).unwrap().1, CacheOutcome::Compiled);
        let raw = Component::from_binary(&engine, &a).unwrap().serialize().unwrap();
        std::fs::write(cache.entry(&engine, &sha(&a)), raw).unwrap();
        assert_eq!(cache.load_or_compile(&engine, &sha(&a), &a).unwrap().1, CacheOutcome::Compiled);
    }

    #[test]
    fn directories_others_can_write_or_own_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(CompileCache::open(&open).is_none(), "world-writable");

        let parent = dir.path().join("shared");
        std::fs::create_dir(&parent).unwrap();
        std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(CompileCache::open(&parent.join("cache")).is_none(), "a parent others can write");

        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            // Created first by someone else (mode 0755), then used by root.
            let foreign = dir.path().join("foreign");
            std::fs::create_dir(&foreign).unwrap();
            std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();
            let why = untrustworthy(&foreign).unwrap();
            assert!(why.contains("owned by uid 65534"), "{why}");
            assert!(CompileCache::open(&foreign).is_none());
        }
    }
}
