//! Compiled components cached on disk, keyed by the component's sha256 and the engine's
//! compatibility hash (wasmtime version and every setting that changes generated code), so a second
//! run does not recompile and an entry is never used by another engine.
//!
//! Trust model: compiled code runs natively, so the cache is trusted exactly as much as the user's
//! own files: it is used only when its directory is owned by the current user and writable by no
//! one else, and every directory on the way to it is owned by that user or root and writable by no
//! one else (unless sticky, as /tmp), with no symbolic link on the way. The path is walked once,
//! one directory handle at a time (`openat` with `O_NOFOLLOW`), each handle checked itself; entries
//! are then read and written relative to the cache directory's handle, so what was checked is what
//! is used, whatever happens to the path afterwards. Each entry also records the sha256 of the
//! component it was compiled from and of its own compiled bytes, both checked before wasmtime reads
//! it, so a damaged, truncated or swapped entry is compiled again and never executed.

use std::ffi::CString;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component as PathPart, Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

#[derive(Debug, Clone)]
pub struct CompileCache {
    /// The path it was opened by, for messages only.
    dir: PathBuf,
    /// The directory checked when it was opened: every entry is reached through it.
    handle: Arc<OwnedFd>,
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
        match open_trusted(dir) {
            Ok(handle) => Some(CompileCache { dir: dir.to_owned(), handle: Arc::new(handle) }),
            Err(why) => {
                tracing::warn!("compile cache {} not used: {why}; plugins are compiled every time", dir.display());
                None
            }
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// An entry's name in the cache directory.
    fn entry(&self, engine: &Engine, sha256: &str) -> String {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        format!("{sha256}-{:016x}.cwasm", hasher.finish())
    }

    /// Opens `name` in the cache directory (never through a link) with `flags`.
    fn open_entry(&self, name: &str, flags: libc::c_int) -> std::io::Result<std::fs::File> {
        let fd = openat(&self.handle, name, flags | libc::O_NOFOLLOW | libc::O_CLOEXEC, 0o600)?;
        Ok(std::fs::File::from(fd))
    }

    /// An entry's bytes, when it is a regular file of the current user.
    fn read_entry(&self, name: &str) -> std::io::Result<Vec<u8>> {
        let mut file = self.open_entry(name, libc::O_RDONLY | libc::O_NONBLOCK)?;
        let meta = file.metadata()?;
        if !meta.is_file() || meta.uid() != current_user() {
            return Err(std::io::Error::other("is not a regular file of the current user"));
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// The compiled component for `bytes` (whose sha256 is `sha256`), from the cache or compiled now.
    pub fn load_or_compile(&self, engine: &Engine, sha256: &str, bytes: &[u8]) -> wasmtime::Result<(Component, CacheOutcome)> {
        let name = self.entry(engine, sha256);
        let path = self.dir.join(&name);
        let component_digest: [u8; 32] = Sha256::digest(bytes).into();
        match self.read_entry(&name) {
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
            Ok(code) => self.store(&name, &component_digest, &code),
            Err(e) => tracing::warn!("could not serialize compiled component: {e:#}"),
        }
        Ok((component, CacheOutcome::Compiled))
    }

    /// Writes an entry atomically (a private temporary file, created new, renamed into place),
    /// in the cache directory's handle.
    fn store(&self, name: &str, component_digest: &[u8; 32], code: &[u8]) {
        let mut entry = Vec::with_capacity(HEADER_LEN + code.len());
        entry.extend_from_slice(MAGIC);
        entry.extend_from_slice(component_digest);
        entry.extend_from_slice(&Sha256::digest(code));
        entry.extend_from_slice(code);
        let tmp = format!("{name}.tmp{}", std::process::id());
        let written = self
            .open_entry(&tmp, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL)
            .and_then(|mut file| file.write_all(&entry))
            .and_then(|()| renameat(&self.handle, &tmp, name));
        if let Err(e) = written {
            let _ = unlinkat(&self.handle, &tmp);
            tracing::warn!("could not write compile cache entry {}: {e}", self.dir.join(name).display());
        }
    }
}

fn current_user() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

fn c_name(name: &str) -> std::io::Result<CString> {
    CString::new(name).map_err(|_| std::io::Error::other("a name with a NUL byte"))
}

/// `openat(dir, name, flags, mode)` as an owned descriptor.
fn openat(dir: &OwnedFd, name: &str, flags: libc::c_int, mode: libc::mode_t) -> std::io::Result<OwnedFd> {
    let name = c_name(name)?;
    // SAFETY: `dir` is an open descriptor and `name` a NUL-terminated string, both alive for the
    // call; a non-negative result is a new descriptor that nothing else owns.
    let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags, libc::c_uint::from(mode)) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by openat and is owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn renameat(dir: &OwnedFd, from: &str, to: &str) -> std::io::Result<()> {
    let (from, to) = (c_name(from)?, c_name(to)?);
    // SAFETY: valid descriptor and NUL-terminated strings alive for the call.
    if unsafe { libc::renameat(dir.as_raw_fd(), from.as_ptr(), dir.as_raw_fd(), to.as_ptr()) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn unlinkat(dir: &OwnedFd, name: &str) -> std::io::Result<()> {
    let name = c_name(name)?;
    // SAFETY: valid descriptor and NUL-terminated string alive for the call.
    if unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
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

/// Why a cache directory must not hold code this process runs.
#[derive(Debug, thiserror::Error)]
enum Untrusted {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{} holds '..'", .0.display())]
    ParentDir(PathBuf),
    #[error("{} is not UTF-8", .0.display())]
    NotUtf8(PathBuf),
    #[error("{} is a symbolic link or not a directory; give the cache's real path", .0.display())]
    Link(PathBuf),
    #[error("it is owned by uid {owner}, not by the current user (uid {me})")]
    Owner { owner: u32, me: u32 },
    #[error("it is writable by others (mode {mode:o})")]
    Writable { mode: u32 },
    #[error("its parent {} is owned by uid {owner}, not by the current user or root", path.display())]
    ParentOwner { path: PathBuf, owner: u32 },
    #[error("its parent {} is writable by others (mode {mode:o})", path.display())]
    ParentWritable { path: PathBuf, mode: u32 },
}

/// The cache directory's handle, reached from `/` one directory at a time without following a
/// link, each directory checked on its own handle; or why it must not hold code this process runs.
fn open_trusted(dir: &Path) -> Result<OwnedFd, Untrusted> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Untrusted::Io { path, source }
    };
    let absolute = std::path::absolute(dir).map_err(io(dir))?;
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let root = std::fs::File::open("/").map_err(io(Path::new("/")))?;
    let mut handle = OwnedFd::from(root);
    let mut walked = PathBuf::from("/");
    let parts: Vec<PathPart<'_>> = absolute.components().collect();
    for (i, part) in parts.iter().enumerate() {
        let name = match part {
            PathPart::RootDir | PathPart::CurDir => continue,
            PathPart::Normal(name) => name,
            PathPart::ParentDir | PathPart::Prefix(_) => return Err(Untrusted::ParentDir(dir.to_owned())),
        };
        walked.push(name);
        let name = std::str::from_utf8(name.as_bytes()).map_err(|_| Untrusted::NotUtf8(walked.clone()))?;
        handle = openat(&handle, name, flags, 0).map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) | Some(libc::ENOTDIR) => Untrusted::Link(walked.clone()),
            _ => Untrusted::Io { path: walked.clone(), source: e },
        })?;
        let meta = std::fs::File::from(handle.try_clone().map_err(io(&walked))?).metadata().map_err(io(&walked))?;
        let me = current_user();
        let mode = meta.permissions().mode();
        if i + 1 == parts.len() {
            if meta.uid() != me {
                return Err(Untrusted::Owner { owner: meta.uid(), me });
            }
            if mode & 0o022 != 0 {
                return Err(Untrusted::Writable { mode: mode & 0o777 });
            }
        } else {
            if meta.uid() != me && meta.uid() != 0 {
                return Err(Untrusted::ParentOwner { path: walked, owner: meta.uid() });
            }
            if mode & 0o022 != 0 && mode & 0o1000 == 0 {
                return Err(Untrusted::ParentWritable { path: walked, mode: mode & 0o777 });
            }
        }
    }
    Ok(handle)
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
        let path = cache.dir().join(cache.entry(&engine, &sha(&a)));
        let mut entry = std::fs::read(&path).unwrap();
        let middle = HEADER_LEN + (entry.len() - HEADER_LEN) / 2;
        entry[middle] ^= 0xff;
        std::fs::write(&path, &entry).unwrap();
        assert_eq!(cache.load_or_compile(&engine, &sha(&a), &a).unwrap().1, CacheOutcome::Compiled);
        assert_eq!(cache.load_or_compile(&engine, &sha(&a), &a).unwrap().1, CacheOutcome::Hit, "rewritten whole");

        // Another component's entry under this one's name.
        cache.load_or_compile(&engine, &sha(&b), &b).unwrap();
        std::fs::copy(cache.dir().join(cache.entry(&engine, &sha(&b))), cache.dir().join(cache.entry(&engine, &sha(&a)))).unwrap();
        assert_eq!(cache.load_or_compile(&engine, &sha(&a), &a).unwrap().1, CacheOutcome::Compiled);

        // A truncated entry, and a raw wasmtime artifact without our header.
        std::fs::write(cache.dir().join(cache.entry(&engine, &sha(&a))), &entry[..HEADER_LEN / 2]).unwrap();
        assert_eq!(cache.load_or_compile(&engine, &sha(&a), &a).unwrap().1, CacheOutcome::Compiled);
        let raw = Component::from_binary(&engine, &a).unwrap().serialize().unwrap();
        std::fs::write(cache.dir().join(cache.entry(&engine, &sha(&a))), raw).unwrap();
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
            let why = open_trusted(&foreign).unwrap_err().to_string();
            assert!(why.contains("owned by uid 65534"), "{why}");
            assert!(CompileCache::open(&foreign).is_none());

            // A link in a directory someone else owns, to a directory of root's: checked by its
            // canonical path it looked trusted, but its owner can point it elsewhere at any time.
            let trusted = dir.path().join("trusted");
            std::fs::create_dir(&trusted).unwrap();
            std::os::unix::fs::symlink(&trusted, foreign.join("link")).unwrap();
            let why = open_trusted(&foreign.join("link").join("cache")).unwrap_err().to_string();
            assert!(why.contains("owned by uid 65534"), "{why}");
            // The same link in a directory of root's: still a link on the way, refused.
            std::os::unix::fs::symlink(&trusted, dir.path().join("mine")).unwrap();
            let why = open_trusted(&dir.path().join("mine").join("cache")).unwrap_err().to_string();
            assert!(why.contains("is a symbolic link"), "{why}");
        }
    }

    /// Checked once, used by handle: swapping the directory under its path after the check never
    /// makes the cache run what was planted there.
    #[test]
    fn entries_are_read_from_the_directory_that_was_checked_not_from_its_path_later() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let (victim, planted) = (component("victim"), component("planted"));
        let path = dir.path().join("cache");
        let cache = CompileCache::open(&path).unwrap();

        // Another directory holding an entry under the victim's name, valid in every digest, with
        // the planted component's code.
        let other = dir.path().join("other");
        let other_cache = CompileCache::open(&other).unwrap();
        other_cache.load_or_compile(&engine, &sha(&planted), &planted).unwrap();
        let planted_entry = std::fs::read(other.join(other_cache.entry(&engine, &sha(&planted)))).unwrap();
        let code = &planted_entry[HEADER_LEN..];
        let mut forged = MAGIC.to_vec();
        forged.extend_from_slice(&Sha256::digest(&victim));
        forged.extend_from_slice(&Sha256::digest(code));
        forged.extend_from_slice(code);
        std::fs::write(other.join(cache.entry(&engine, &sha(&victim))), forged).unwrap();

        // The checked directory moved away and the other put in its place, after the check.
        std::fs::rename(&path, dir.path().join("moved")).unwrap();
        std::fs::rename(&other, &path).unwrap();
        let (_, outcome) = cache.load_or_compile(&engine, &sha(&victim), &victim).unwrap();
        assert_eq!(outcome, CacheOutcome::Compiled, "the planted entry was used");
        // And the entry went to the checked directory, not to the path.
        assert!(dir.path().join("moved").join(cache.entry(&engine, &sha(&victim))).exists());
    }
}
