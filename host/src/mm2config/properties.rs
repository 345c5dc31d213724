//! Java `.properties` files as `java.util.Properties.load` reads them, and Kafka's config
//! providers (`${file:PATH:KEY}`, `${env:NAME}`, `${dir:PATH:FILE}`) as its `ConfigTransformer`
//! resolves them: the form real MirrorMaker 2 configurations take, secrets included. A reference
//! is resolved exactly as far as Kafka resolves it (`allowed.paths`, plain file names in a
//! directory); anything else is refused with the reason, and no file's content is ever shown.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Why a properties text, or a config provider reference in it, cannot be read as Kafka reads it.
#[derive(Debug, thiserror::Error)]
pub enum PropertiesError {
    #[error("malformed \\uxxxx escape \\u{0} (Java refuses the file)")]
    MalformedEscape(String),
    #[error("a \\u escape leaves half a surrogate pair, which no alias or address can hold")]
    HalfSurrogate,
    #[error("allowed.paths: path {} is not absolute", .0.display())]
    RelativeAllowedPath(PathBuf),
    #[error("allowed.paths: path {} does not exist", .0.display())]
    MissingAllowedPath(PathBuf),
    /// A `${...}` reference Kafka's provider would not resolve, and why.
    #[error("${{{reference}}}: {reason}")]
    Reference { reference: String, reason: Unresolved },
}

/// Why a `${provider:[path:]key}` reference is not resolved; never a file's content.
#[derive(Debug, thiserror::Error)]
pub enum Unresolved {
    #[error("the environment variable {0} is not set")]
    EnvUnset(String),
    #[error("cannot read {}: {source}", path.display())]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("{}: {source}", path.display())]
    Malformed { path: PathBuf, source: Box<PropertiesError> },
    #[error("{} has no key {key}", path.display())]
    NoKey { path: PathBuf, key: String },
    #[error("{path} is outside the provider's allowed.paths ({}), so Kafka resolves nothing there", allowed.iter().map(|a| a.display().to_string()).collect::<Vec<_>>().join(", "))]
    OutsideAllowedPaths { path: String, allowed: Vec<PathBuf> },
    #[error("{key:?} is not a file name: the dir provider reads files directly inside {}", dir.display())]
    NotAFileName { key: String, dir: PathBuf },
    #[error("{key} is not a regular file directly inside {}", dir.display())]
    NotAFile { key: String, dir: PathBuf },
    #[error("the env provider takes no path (${{{name}:VARIABLE}})")]
    EnvTakesNoPath { name: String },
    #[error("the {name} provider needs a path (${{{name}:PATH:KEY}})")]
    NeedsPath { name: String },
}

/// The bytes of a file as `Properties.load(InputStream)` reads them, as MM2 reads mm2.properties
/// (`Utils.loadProps`): ISO-8859-1, one character per byte, whatever encoding the file was
/// written in. Characters beyond it are written as `\uXXXX` escapes.
pub fn decode_latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// The natural lines of a text: ended by `\r\n`, `\r` or `\n`, as Java's `LineReader`.
fn natural_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        let line = &rest[..end];
        let after = &rest[end..];
        rest = after.strip_prefix("\r\n").or_else(|| after.strip_prefix(['\r', '\n'])).unwrap_or(after);
        Some(line)
    })
}

/// The key-value pairs of a properties text, in file order (a later key replaces an earlier one);
/// a malformed `\uXXXX` escape is an error, as in Java (MM2 would not start).
pub fn parse(text: &str) -> Result<BTreeMap<String, String>, PropertiesError> {
    let mut out = BTreeMap::new();
    let mut lines = natural_lines(text);
    while let Some(first) = lines.next() {
        let trimmed = first.trim_start_matches([' ', '\t', '\u{c}']);
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
            continue;
        }
        // A line ending in an odd number of backslashes continues on the next one, whose leading
        // white space is dropped.
        let mut logical = String::from(trimmed);
        while ends_in_odd_backslashes(&logical) {
            logical.pop();
            match lines.next() {
                Some(next) => logical.push_str(next.trim_start_matches([' ', '\t', '\u{c}'])),
                None => break,
            }
        }
        let (key, value) = split_key_value(&logical);
        out.insert(unescape(key)?, unescape(value)?);
    }
    Ok(out)
}

fn ends_in_odd_backslashes(line: &str) -> bool {
    line.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
}

/// The key ends at the first unescaped `=`, `:` or white space; then white space, at most one
/// `=` or `:`, and white space again precede the value.
fn split_key_value(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' | b':' | b' ' | b'\t' | b'\x0c' => break,
            _ => i += 1,
        }
    }
    let key_end = i.min(bytes.len());
    let mut rest = line[key_end..].trim_start_matches([' ', '\t', '\u{c}']);
    if let Some(stripped) = rest.strip_prefix(['=', ':']) {
        rest = stripped.trim_start_matches([' ', '\t', '\u{c}']);
    }
    (&line[..key_end], rest)
}

/// `\t`, `\n`, `\r`, `\f`, `\uXXXX` (UTF-16 code units: a surrogate pair is one character);
/// any other escaped character stands for itself.
fn unescape(s: &str) -> Result<String, PropertiesError> {
    let mut units: Vec<u16> = Vec::with_capacity(s.len());
    let mut chars = s.chars();
    let push = |units: &mut Vec<u16>, c: char| units.extend_from_slice(c.encode_utf16(&mut [0; 2]));
    while let Some(c) = chars.next() {
        if c != '\\' {
            push(&mut units, c);
            continue;
        }
        match chars.next() {
            Some('t') => push(&mut units, '\t'),
            Some('n') => push(&mut units, '\n'),
            Some('r') => push(&mut units, '\r'),
            Some('f') => push(&mut units, '\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let unit = (hex.len() == 4 && hex.chars().all(|c| c.is_ascii_hexdigit()))
                    .then(|| u16::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .ok_or(PropertiesError::MalformedEscape(hex))?;
                units.push(unit);
            }
            Some(other) => push(&mut units, other),
            None => {}
        }
    }
    String::from_utf16(&units).map_err(|_| PropertiesError::HalfSurrogate)
}

/// A config provider a file names under `config.providers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// `FileConfigProvider`: `${NAME:/path/file.properties:key}`.
    File,
    /// `EnvVarConfigProvider`: `${NAME:VARIABLE}`.
    Env,
    /// `DirectoryConfigProvider`: `${NAME:/dir:file}` is the file's content.
    Directory,
}

impl Provider {
    pub fn of_class(class: &str) -> Option<Provider> {
        match class.trim() {
            "org.apache.kafka.common.config.provider.FileConfigProvider" => Some(Provider::File),
            "org.apache.kafka.common.config.provider.EnvVarConfigProvider" => Some(Provider::Env),
            "org.apache.kafka.common.config.provider.DirectoryConfigProvider" => Some(Provider::Directory),
            _ => None,
        }
    }
}

/// A provider with its `config.providers.NAME.param.allowed.paths` (Kafka's `AllowedPaths`):
/// `None` allows every path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configured {
    pub provider: Provider,
    pub allowed_paths: Option<Vec<PathBuf>>,
}

impl Configured {
    /// `allowed.paths` as Kafka configures it: comma-separated, each normalized, absolute and
    /// existing, else the provider (and MM2) does not start.
    pub fn new(provider: Provider, allowed_paths: Option<&str>) -> Result<Configured, PropertiesError> {
        let allowed_paths = match allowed_paths.filter(|v| !v.is_empty()) {
            None => None,
            Some(list) => Some(
                list.split(',')
                    .map(|p| {
                        let path = normalize(Path::new(p));
                        if !path.is_absolute() {
                            Err(PropertiesError::RelativeAllowedPath(path))
                        } else if !path.exists() {
                            Err(PropertiesError::MissingAllowedPath(path))
                        } else {
                            Ok(path)
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        Ok(Configured { provider, allowed_paths })
    }

    /// The path a reference may read (`AllowedPaths.parseUntrustedPath`), or why not.
    fn allowed(&self, path: &str) -> Result<PathBuf, Unresolved> {
        let Some(allowed) = &self.allowed_paths else { return Ok(PathBuf::from(path)) };
        let normalized = normalize(Path::new(path));
        if allowed.iter().any(|a| normalized.starts_with(a)) {
            return Ok(normalized);
        }
        Err(Unresolved::OutsideAllowedPaths { path: path.to_owned(), allowed: allowed.clone() })
    }
}

/// A path with `.` removed and `..` applied to the name before it, lexically (`Path.normalize`).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            Component::ParentDir if out.has_root() => {}
            other => out.push(other),
        }
    }
    out
}

/// Resolves `${provider:[path:]key}` references in `value` with the named providers; a reference
/// to a provider that is not configured stays as it is (as Kafka's ConfigTransformer leaves it).
pub fn transform(value: &str, providers: &BTreeMap<String, Configured>) -> Result<String, PropertiesError> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let reference = &after[..end];
        let resolved = resolve(reference, providers)
            .map_err(|reason| PropertiesError::Reference { reference: reference.to_owned(), reason })?;
        match resolved {
            Some(resolved) => out.push_str(&resolved),
            None => out.push_str(&rest[start..start + 2 + end + 1]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn resolve(reference: &str, providers: &BTreeMap<String, Configured>) -> Result<Option<String>, Unresolved> {
    let Some((name, rest)) = reference.split_once(':') else { return Ok(None) };
    let Some(configured) = providers.get(name) else { return Ok(None) };
    // `${provider:path:key}`, or `${provider:key}` without a path; a path may hold ':' only
    // before its last segment (Kafka's pattern takes the last ':' as the separator).
    let (path, key) = match rest.rsplit_once(':') {
        Some((path, key)) => (Some(path), key),
        None => (None, rest),
    };
    match (&configured.provider, path) {
        (Provider::Env, None) => std::env::var(key).map(Some).map_err(|_| Unresolved::EnvUnset(key.to_owned())),
        (Provider::File, Some(path)) => {
            let path = configured.allowed(path)?;
            // FileConfigProvider reads its file as UTF-8, unlike mm2.properties.
            let text = std::fs::read_to_string(&path).map_err(|source| Unresolved::Unreadable { path: path.clone(), source })?;
            let mut properties =
                parse(&text).map_err(|source| Unresolved::Malformed { path: path.clone(), source: Box::new(source) })?;
            properties.remove(key).map(Some).ok_or(Unresolved::NoKey { path, key: key.to_owned() })
        }
        (Provider::Directory, Some(dir)) => {
            let dir = configured.allowed(dir)?;
            // Kafka lists the directory and takes the regular files whose name is the key: a key
            // with a separator, `.` or `..` names none of them.
            if key.is_empty() || key.contains('/') || key == "." || key == ".." {
                return Err(Unresolved::NotAFileName { key: key.to_owned(), dir });
            }
            let file = dir.join(key);
            if !std::fs::metadata(&file).is_ok_and(|m| m.is_file()) {
                return Err(Unresolved::NotAFile { key: key.to_owned(), dir });
            }
            std::fs::read_to_string(&file).map(Some).map_err(|source| Unresolved::Unreadable { path: file, source })
        }
        (Provider::Env, Some(_)) => Err(Unresolved::EnvTakesNoPath { name: name.to_owned() }),
        (_, None) => Err(Unresolved::NeedsPath { name: name.to_owned() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn providers(list: &[(&str, Provider, Option<&str>)]) -> BTreeMap<String, Configured> {
        list.iter().map(|(name, p, allowed)| ((*name).to_owned(), Configured::new(p.clone(), *allowed).unwrap())).collect()
    }

    #[test]
    fn provider_references_read_no_further_than_kafkas_providers() {
        let root = tempfile::tempdir().unwrap();
        let secrets = root.path().join("secrets");
        std::fs::create_dir(&secrets).unwrap();
        std::fs::write(secrets.join("user"), "alice").unwrap();
        std::fs::write(root.path().join("outside"), "TOP-SECRET").unwrap();
        std::fs::write(root.path().join("outside.properties"), "k = TOP-SECRET\n").unwrap();
        let dir = secrets.display().to_string();
        let open = providers(&[("dir", Provider::Directory, None), ("file", Provider::File, None)]);
        assert_eq!(transform(&format!("${{dir:{dir}:user}}"), &open).unwrap(), "alice");
        let outside = root.path().join("outside").display().to_string();
        for key in ["../outside", outside.as_str(), ".", "..", ""] {
            let err = transform(&format!("${{dir:{dir}:{key}}}"), &open).unwrap_err().to_string();
            assert!(err.contains("is not a file name") || err.contains("not a regular file"), "{key}: {err}");
            assert!(!err.contains("TOP-SECRET"), "{err}");
        }
        // allowed.paths: the directory's subtree only, `..` applied before the check.
        let allowed = providers(&[("dir", Provider::Directory, Some(&dir)), ("file", Provider::File, Some(&dir))]);
        assert_eq!(transform(&format!("${{dir:{dir}:user}}"), &allowed).unwrap(), "alice");
        let escapes = [
            format!("${{dir:{}:outside}}", root.path().display()),
            format!("${{dir:{dir}/..:outside}}"),
            format!("${{file:{dir}/../outside.properties:k}}"),
        ];
        for reference in escapes {
            let err = transform(&reference, &allowed).unwrap_err().to_string();
            assert!(err.contains("outside the provider's allowed.paths"), "{reference}: {err}");
            assert!(!err.contains("TOP-SECRET"), "{err}");
        }
        assert!(Configured::new(Provider::Directory, Some("relative/dir")).unwrap_err().to_string().contains("is not absolute"));
        assert!(Configured::new(Provider::Directory, Some("/surely/not/here")).unwrap_err().to_string().contains("does not exist"));
    }

    #[test]
    fn mm2_properties_are_read_as_java_reads_them_iso_8859_1_with_utf16_escapes() {
        let text = decode_latin1("clusters = caf\u{e9}, b\r\nemoji = \\ud83d\\ude00\rlast = x\r\n".as_bytes());
        let p = parse(&text).unwrap();
        // The UTF-8 bytes of "é" are two ISO-8859-1 characters to Java.
        assert_eq!(p["clusters"], "caf\u{c3}\u{a9}, b");
        assert_eq!(p["emoji"], "\u{1f600}");
        assert_eq!(p["last"], "x");
        assert!(parse("a = \\u12").unwrap_err().to_string().contains("malformed"));
        assert!(parse("a = \\ud83d").unwrap_err().to_string().contains("surrogate"));
    }

    /// The same file read by `java.util.Properties` (JDK 17, as the tests' Kafka runs on).
    #[test]
    fn a_file_reads_the_same_as_java_util_properties_reads_it() {
        let mut bytes: Vec<u8> = Vec::new();
        bytes.extend_from_slice("clusters = café, b\r\ncafé->b.enabled = true\r".as_bytes());
        bytes.extend_from_slice(b"raw\xe9latin = \xe9t\xe9\n# comment \\\nnot.continued = 1\n");
        bytes.extend_from_slice(b"multi = one,\\\r    two,\\\r\n\t three\n\x0c  spaced\t:\t v \n");
        bytes.extend_from_slice(b"esc\\:key\\=x = a\\u00e9\\ud83d\\ude00\\tz\\\\\n= empty key\n  ! bang\nlast\\\n");
        let (_dir, path) = crate::testing::file("mm2.properties", "");
        std::fs::write(&path, &bytes).unwrap();
        let program = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/java/PropertiesDump.java");
        let output = std::process::Command::new("java").arg(program).arg(&path).output().expect("java (JDK 17) on the PATH");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let java: Vec<String> = String::from_utf8(output.stdout).unwrap().lines().map(str::to_owned).collect();
        let hex = |s: &str| s.encode_utf16().map(|u| format!("{u:04x}")).collect::<String>();
        let ours: Vec<String> = parse(&decode_latin1(&bytes)).unwrap().iter().map(|(k, v)| format!("{} {}", hex(k), hex(v))).collect();
        assert_eq!(ours, java);
        assert!(ours.len() >= 9, "{ours:?}");
    }

    #[test]
    fn reads_what_java_properties_reads() {
        let text = "# comment\n! also\n  a = 1\nb:2\nc 3\nd=\ne = x\\\n    y\\\n  z\nf\\ g = h\\=i\nunicode = caf\\u00e9\ntab = a\\tb\nempty\nlast = 1\nlast = 2\n";
        let p = parse(text).unwrap();
        assert_eq!(p["a"], "1");
        assert_eq!(p["b"], "2");
        assert_eq!(p["c"], "3");
        assert_eq!(p["d"], "");
        assert_eq!(p["e"], "xyz");
        assert_eq!(p["f g"], "h=i");
        assert_eq!(p["unicode"], "café");
        assert_eq!(p["tab"], "a\tb");
        assert_eq!(p["empty"], "");
        assert_eq!(p["last"], "2");
        assert!(!p.contains_key("# comment"));
    }

    #[test]
    fn config_providers_resolve_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = dir.path().join("secrets.properties");
        std::fs::write(&secrets, "password = s3cret\n").unwrap();
        std::fs::write(dir.path().join("user"), "alice").unwrap();
        let configured = providers(&[("file", Provider::File, None), ("dir", Provider::Directory, None)]);
        let value = format!("p=${{file:{}:password}} u=${{dir:{}:user}} ${{vault:x:y}}", secrets.display(), dir.path().display());
        assert_eq!(transform(&value, &configured).unwrap(), "p=s3cret u=alice ${vault:x:y}");
        let missing = format!("${{file:{}:nope}}", secrets.display());
        assert!(transform(&missing, &configured).unwrap_err().to_string().contains("has no key nope"));
        let env = providers(&[("env", Provider::Env, None)]);
        assert_eq!(transform("${env:PATH}", &env).unwrap(), std::env::var("PATH").unwrap());
        assert!(transform("${env:MM2_MIGRATE_SURELY_UNSET}", &env).unwrap_err().to_string().contains("is not set"));
    }
}
