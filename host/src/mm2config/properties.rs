//! Java `.properties` files as `java.util.Properties.load` reads them, and Kafka's config
//! providers (`${file:PATH:KEY}`, `${env:NAME}`, `${dir:PATH:FILE}`) as its `ConfigTransformer`
//! resolves them: the form real MirrorMaker 2 configurations take, secrets included.

use std::collections::BTreeMap;
use std::path::Path;

/// The key-value pairs of a properties text, in file order (a later key replaces an earlier one).
pub fn parse(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
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
        out.insert(unescape(key), unescape(value));
    }
    out
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

/// `\t`, `\n`, `\r`, `\f`, `\uXXXX`; any other escaped character stands for itself.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => out.push_str(&format!("\\u{hex}")),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
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

/// Resolves `${provider:[path:]key}` references in `value` with the named providers; a reference
/// to a provider that is not configured stays as it is (as Kafka's ConfigTransformer leaves it).
pub fn transform(value: &str, providers: &BTreeMap<String, Provider>) -> Result<String, String> {
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
        match resolve(reference, providers)? {
            Some(resolved) => out.push_str(&resolved),
            None => out.push_str(&rest[start..start + 2 + end + 1]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn resolve(reference: &str, providers: &BTreeMap<String, Provider>) -> Result<Option<String>, String> {
    let Some((name, rest)) = reference.split_once(':') else { return Ok(None) };
    let Some(provider) = providers.get(name) else { return Ok(None) };
    // `${provider:path:key}`, or `${provider:key}` without a path; a path may hold ':' only
    // before its last segment (Kafka's pattern takes the last ':' as the separator).
    let (path, key) = match rest.rsplit_once(':') {
        Some((path, key)) => (Some(path), key),
        None => (None, rest),
    };
    match (provider, path) {
        (Provider::Env, None) => std::env::var(key)
            .map(Some)
            .map_err(|_| format!("${{{reference}}}: the environment variable {key} is not set")),
        (Provider::File, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("${{{reference}}}: cannot read {path}: {e}"))?;
            parse(&text).remove(key).map(Some).ok_or_else(|| format!("${{{reference}}}: {path} has no key {key}"))
        }
        (Provider::Directory, Some(dir)) => {
            let file = Path::new(dir).join(key);
            std::fs::read_to_string(&file).map(Some).map_err(|e| format!("${{{reference}}}: cannot read {}: {e}", file.display()))
        }
        (Provider::Env, Some(_)) => Err(format!("${{{reference}}}: the env provider takes no path (${{{name}:VARIABLE}})")),
        (_, None) => Err(format!("${{{reference}}}: the {name} provider needs a path (${{{name}:PATH:KEY}})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_java_properties_reads() {
        let text = "# comment\n! also\n  a = 1\nb:2\nc 3\nd=\ne = x\\\n    y\\\n  z\nf\\ g = h\\=i\nunicode = caf\\u00e9\ntab = a\\tb\nempty\nlast = 1\nlast = 2\n";
        let p = parse(text);
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
        let providers: BTreeMap<String, Provider> =
            [("file".to_owned(), Provider::File), ("dir".to_owned(), Provider::Directory)].into_iter().collect();
        let value = format!("p=${{file:{}:password}} u=${{dir:{}:user}} ${{vault:x:y}}", secrets.display(), dir.path().display());
        assert_eq!(transform(&value, &providers).unwrap(), "p=s3cret u=alice ${vault:x:y}");
        let missing = format!("${{file:{}:nope}}", secrets.display());
        assert!(transform(&missing, &providers).unwrap_err().contains("has no key nope"));
        let env: BTreeMap<String, Provider> = [("env".to_owned(), Provider::Env)].into_iter().collect();
        assert_eq!(transform("${env:PATH}", &env).unwrap(), std::env::var("PATH").unwrap());
        assert!(transform("${env:MM2_MIGRATE_SURELY_UNSET}", &env).unwrap_err().contains("is not set"));
    }
}
