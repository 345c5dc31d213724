//! Options of the commands that read live clusters: one schema, the command line's. A TOML job
//! file is just more arguments (as ripgrep reads its config file): each key is a long option,
//! placed before the command line's own, so the command line wins; `--set` and property lists are
//! merged per key. The raw arguments are then resolved once into validated options: the clusters
//! and MM2's flow (`clusters`), the offsets commands' (`live`), the consumer groups' (`groups`).

mod clusters;
mod cutover;
mod groups;
mod live;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub use clusters::{ClusterArgs, Clusters, Discovered};
pub use cutover::{CutoverArgs, WatchArgs};
pub use groups::{GroupSelectionArgs, GroupsArgs};
pub use live::{LiveArgs, PluginArgs, PolicyName, RecordArgs};
use crate::live::LiveOptions;

/// The seconds `--timeout` accepts: librdkafka's socket timeout is at most 300 s.
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<u64> = 1..=300;

pub(crate) fn parse_pair(s: &str) -> Result<(String, String), String> {
    let (key, value) = s.split_once('=').ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(format!("empty key in {s:?}"));
    }
    Ok((key.to_owned(), value.to_owned()))
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("cannot read job file {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("job file {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("job file {}: unknown option `{key}` (a job file's keys are the command's long options, e.g. source-bootstrap)", path.display())]
    UnknownKey { path: PathBuf, key: String },
    #[error(transparent)]
    Mm2Config(#[from] crate::mm2config::Mm2ConfigError),
    #[error(transparent)]
    Connect(#[from] crate::connect::ConnectError),
    #[error("{0}")]
    Missing(String),
    #[error("{0}")]
    Invalid(String),
}

/// The resolved options of a live command.
#[derive(Debug, Clone)]
pub struct Job {
    pub plugin: String,
    pub settings: Vec<(String, String)>,
    pub live: LiveOptions,
}

/// `KEY=VALUE` pairs, the later winning per key (a job file's come first).
fn merge(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs.iter().cloned().collect::<BTreeMap<_, _>>().into_iter().collect()
}

/// A job file as arguments: `key = "v"` is `--key v`, `key = true` is `--key`, and a table
/// `[key]` is `--key k=v` per entry. `known` holds the command's long options.
pub fn job_arguments(path: &Path, known: &[String]) -> Result<Vec<OsString>, JobError> {
    let text = std::fs::read_to_string(path).map_err(|source| JobError::Read { path: path.to_owned(), source })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| JobError::Parse { path: path.to_owned(), message: e.to_string() })?;
    let mut args = Vec::new();
    for (key, value) in table {
        if key == "job" || !known.contains(&key) {
            return Err(JobError::UnknownKey { path: path.to_owned(), key });
        }
        let option = format!("--{key}");
        let scalar = |value: &toml::Value| match value {
            toml::Value::String(s) => Ok(s.clone()),
            toml::Value::Integer(n) => Ok(n.to_string()),
            toml::Value::Float(n) => Ok(n.to_string()),
            toml::Value::Boolean(b) => Ok(b.to_string()),
            other => Err(JobError::Parse { path: path.to_owned(), message: format!("{key}: unsupported value {other}") }),
        };
        match &value {
            toml::Value::Boolean(true) => args.push(option.into()),
            toml::Value::Boolean(false) => {}
            toml::Value::Table(pairs) => {
                for (k, v) in pairs {
                    args.extend([option.clone().into(), format!("{k}={}", scalar(v)?).into()]);
                }
            }
            other => args.extend([option.into(), scalar(other)?.into()]),
        }
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_and_source_are_required() {
        assert!(LiveArgs::default().resolve(Discovered::default()).unwrap_err().to_string().contains("--plugin"));
        let args = LiveArgs { plugin: PluginArgs { plugin: Some("p".into()), ..PluginArgs::default() }, ..LiveArgs::default() };
        assert!(args.resolve(Discovered::default()).unwrap_err().to_string().contains("--source-bootstrap"));
    }

    #[test]
    fn a_job_file_becomes_arguments() {
        let (_dir, path) = crate::testing::file("job.toml", "plugin = \"p\"\ntimeout = 5\nallow-rewind = true\nskip-invalid = false\n[set]\n\"a.b\" = \"c\"\n");
        let known: Vec<String> = ["plugin", "timeout", "allow-rewind", "skip-invalid", "set"].map(String::from).to_vec();
        let args: Vec<String> = job_arguments(&path, &known).unwrap().into_iter().map(|a| a.into_string().unwrap()).collect();
        assert_eq!(args, ["--allow-rewind", "--plugin", "p", "--set", "a.b=c", "--timeout", "5"]);
        let err = job_arguments(&path, &known[1..]).unwrap_err().to_string();
        assert!(err.contains("unknown option `plugin`"), "{err}");
    }
}
