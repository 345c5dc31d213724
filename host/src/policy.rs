//! What a plugin may do: the operator's policy (TOML), validated at start.
//!
//! A plugin is someone else's code. The policy pins which plugins may run (by sha256, checked
//! before anything is compiled), which contract versions are accepted, how much memory, stack,
//! time and fuel a call may use, how much output and log a batch may produce, which topics may be
//! read and written, and whether a bad record aborts the run or is skipped.

use std::path::{Path, PathBuf};
use std::time::Duration;

use connect_offsets::topics::TopicFilter;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("policy {}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// Why a plugin may not emit to a topic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicRefused {
    #[error("a record needs a topic")]
    NoTopic,
    #[error("Kafka's internal topics (__*) are never writable")]
    Internal,
    #[error("policy {policy} allows only {allowed:?}{} (topics.target)", named.as_ref().map_or(String::new(), |n| format!(" and the named target topic {n:?}")))]
    NotAllowed { policy: String, allowed: Vec<String>, named: Option<String> },
}

/// What happens to a record the plugin reports invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnBadRecord {
    Abort,
    Skip,
}

/// A plugin the operator trusts, pinned by the sha256 of its component file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PinnedPlugin {
    /// The name the plugin reports; checked after it loads.
    pub name: String,
    /// Hex sha256 of the component bytes.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Limits {
    /// Linear memory per plugin instance, in bytes.
    pub memory_bytes: u64,
    /// The wasm stack, in bytes.
    pub wasm_stack_bytes: u64,
    /// Wall-clock time one call may take, in milliseconds (epoch interruption).
    pub call_timeout_ms: u64,
    /// Deterministic instruction budget per batch (wasmtime fuel); none by default.
    pub fuel_per_batch: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { memory_bytes: 64 << 20, wasm_stack_bytes: 512 << 10, call_timeout_ms: 10_000, fuel_per_batch: None }
    }
}

impl Limits {
    pub fn call_timeout(&self) -> Duration {
        Duration::from_millis(self.call_timeout_ms)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct OutputBounds {
    /// Records a plugin may emit for one input record.
    pub max_records_per_input: u64,
    /// Bytes of one output record (key + value + headers).
    pub max_record_bytes: u64,
    /// Bytes of all output records of one batch.
    pub max_batch_bytes: u64,
    /// Bytes of log lines (and captured stdout/stderr) per batch; the rest is dropped and counted.
    pub max_log_bytes_per_batch: u64,
}

impl Default for OutputBounds {
    fn default() -> Self {
        OutputBounds {
            max_records_per_input: 16,
            max_record_bytes: 1 << 20,
            max_batch_bytes: 64 << 20,
            max_log_bytes_per_batch: 64 << 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Topics {
    /// Regular expressions (whole names) of the topics that may be read as a source.
    pub source: Vec<String>,
    pub source_exclude: Vec<String>,
    /// Regular expressions (whole names) of the topics a plugin may emit to.
    pub target: Vec<String>,
    pub target_exclude: Vec<String>,
}

impl Default for Topics {
    fn default() -> Self {
        Topics { source: vec![".*".to_owned()], source_exclude: Vec::new(), target: default_targets(), target_exclude: Vec::new() }
    }
}

/// MM2's offsets topics: dedicated mode's `mm2-offsets.<alias>.internal` and Strimzi's default.
/// With these defaults, the topic the operator names with `--target-topic` is allowed too.
fn default_targets() -> Vec<String> {
    vec![r"mm2-offsets\..+\.internal".to_owned(), "mirrormaker2-cluster-offsets".to_owned()]
}

/// The policy as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyFile {
    /// Plugins built into this binary may run.
    #[serde(default = "yes")]
    pub allow_bundled: bool,
    /// Plugin files not pinned below may run (with a warning).
    #[serde(default)]
    pub allow_unpinned: bool,
    /// Plugins see the real wall clock and monotonic clock; otherwise a fixed wall clock
    /// (1970-01-01) and a virtual monotonic clock, so that runs are reproducible.
    #[serde(default)]
    pub allow_real_clocks: bool,
    /// Plugins get real random numbers; otherwise a fixed-seed generator.
    #[serde(default)]
    pub allow_real_random: bool,
    /// Contract versions accepted (a semver requirement).
    #[serde(default = "default_contract")]
    pub contract: String,
    #[serde(default = "default_on_bad_record")]
    pub on_bad_record: OnBadRecord,
    #[serde(default)]
    pub plugins: Vec<PinnedPlugin>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub output: OutputBounds,
    #[serde(default)]
    pub topics: Topics,
}

fn yes() -> bool {
    true
}

fn default_contract() -> String {
    ">=0.1.0, <0.2.0".to_owned()
}

fn default_on_bad_record() -> OnBadRecord {
    OnBadRecord::Abort
}

/// A validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Where it came from: a path, or `built-in default`.
    pub origin: String,
    pub file: PolicyFile,
    contract: semver::VersionReq,
    source_topics: TopicFilter,
    target_topics: TopicFilter,
    /// The target topic the operator named, allowed when `topics.target` is the default.
    named_target: Option<String>,
}

impl Policy {
    /// The policy used when none is given: bundled plugins, and unpinned plugin files with a
    /// warning, all under the default limits; never Kafka's internal topics.
    pub fn builtin() -> Policy {
        let file = PolicyFile {
            allow_bundled: true,
            allow_unpinned: true,
            allow_real_clocks: false,
            allow_real_random: false,
            contract: default_contract(),
            on_bad_record: OnBadRecord::Abort,
            plugins: Vec::new(),
            limits: Limits::default(),
            output: OutputBounds::default(),
            topics: Topics::default(),
        };
        Policy::validate("built-in default".to_owned(), file).expect("the built-in policy is valid")
    }

    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read { path: path.to_owned(), source })?;
        let invalid = |message: String| PolicyError::Invalid { path: path.to_owned(), message };
        let file: PolicyFile = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        Policy::validate(path.display().to_string(), file).map_err(invalid)
    }

    fn validate(origin: String, file: PolicyFile) -> Result<Policy, String> {
        let contract = semver::VersionReq::parse(&file.contract)
            .map_err(|e| format!("contract: {:?} is not a version requirement: {e}", file.contract))?;
        for pin in &file.plugins {
            if pin.sha256.len() != 64 || !pin.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("plugins: {:?}: sha256 must be 64 hex digits, got {:?}", pin.name, pin.sha256));
            }
        }
        let l = &file.limits;
        if l.memory_bytes < (1 << 20) || l.memory_bytes > (4 << 30) {
            return Err(format!("limits.memory-bytes: {} is outside 1 MiB..=4 GiB", l.memory_bytes));
        }
        if l.wasm_stack_bytes < (64 << 10) || l.wasm_stack_bytes > (64 << 20) {
            return Err(format!("limits.wasm-stack-bytes: {} is outside 64 KiB..=64 MiB", l.wasm_stack_bytes));
        }
        if l.call_timeout_ms < 10 {
            return Err(format!("limits.call-timeout-ms: {} is below 10", l.call_timeout_ms));
        }
        if l.fuel_per_batch == Some(0) {
            return Err("limits.fuel-per-batch: 0 would stop every batch; leave it out for no fuel limit".to_owned());
        }
        let o = &file.output;
        for (name, value) in [
            ("output.max-records-per-input", o.max_records_per_input),
            ("output.max-record-bytes", o.max_record_bytes),
            ("output.max-batch-bytes", o.max_batch_bytes),
        ] {
            if value == 0 {
                return Err(format!("{name}: must be at least 1"));
            }
        }
        let source_topics = TopicFilter::new(&file.topics.source, &file.topics.source_exclude)
            .map_err(|e| format!("topics.source: {e}"))?;
        let target_topics = TopicFilter::new(&file.topics.target, &file.topics.target_exclude)
            .map_err(|e| format!("topics.target: {e}"))?;
        Ok(Policy { origin, file, contract, source_topics, target_topics, named_target: None })
    }

    pub fn limits(&self) -> &Limits {
        &self.file.limits
    }

    pub fn output(&self) -> &OutputBounds {
        &self.file.output
    }

    pub fn skips_bad_records(&self) -> bool {
        self.file.on_bad_record == OnBadRecord::Skip
    }

    /// Whether a plugin built against contract `version` is accepted.
    pub fn accepts_contract(&self, version: &str) -> bool {
        semver::Version::parse(version.trim()).is_ok_and(|v| self.contract.matches(&v))
    }

    pub fn contract_requirement(&self) -> &str {
        &self.file.contract
    }

    pub fn may_read(&self, topic: &str) -> bool {
        self.source_topics.accepts(topic)
    }

    /// Whether a plugin may emit to `topic`, and why not. Kafka's internal topics (`__*`) are
    /// never writable, whatever the policy says.
    pub fn check_target(&self, topic: &str) -> Result<(), TopicRefused> {
        if topic.is_empty() {
            return Err(TopicRefused::NoTopic);
        }
        if topic.starts_with("__") {
            return Err(TopicRefused::Internal);
        }
        if self.named_target.as_deref() == Some(topic) || self.target_topics.accepts(topic) {
            return Ok(());
        }
        Err(TopicRefused::NotAllowed {
            policy: self.origin.clone(),
            allowed: self.file.topics.target.clone(),
            named: self.named_target.clone(),
        })
    }


    /// Allows the target topic the operator named (`--target-topic`), unless the policy sets
    /// its own `topics.target`.
    pub fn name_target_topic(&mut self, topic: &str) {
        if self.file.topics.target == default_targets() {
            self.named_target = Some(topic.to_owned());
        }
    }

    /// The pin for a component with this hash, if any.
    pub fn pin(&self, sha256: &str) -> Option<&PinnedPlugin> {
        self.file.plugins.iter().find(|p| p.sha256.eq_ignore_ascii_case(sha256))
    }

    /// A short description, echoed by `plan`.
    pub fn summary(&self) -> String {
        let f = &self.file;
        format!(
            "policy {}: bundled plugins {}, {} pinned plugin(s){}; contract {}; memory {} MiB, stack {} KiB, \
             {} ms per call, fuel {}; output <= {} records per input, {} B per record, {} B per batch, \
             log {} B per batch; source topics {:?} minus {:?}; target topics {:?} minus {:?}{}; bad records: {}; \
             clocks {}, random {}",
            self.origin,
            if f.allow_bundled { "allowed" } else { "refused" },
            f.plugins.len(),
            if f.allow_unpinned { ", unpinned files allowed" } else { ", unpinned files refused" },
            f.contract,
            f.limits.memory_bytes >> 20,
            f.limits.wasm_stack_bytes >> 10,
            f.limits.call_timeout_ms,
            f.limits.fuel_per_batch.map_or("unlimited".to_owned(), |n| n.to_string()),
            f.output.max_records_per_input,
            f.output.max_record_bytes,
            f.output.max_batch_bytes,
            f.output.max_log_bytes_per_batch,
            f.topics.source,
            f.topics.source_exclude,
            f.topics.target,
            f.topics.target_exclude,
            self.named_target.as_ref().map(|t| format!(" plus {t:?}")).unwrap_or_default(),
            match f.on_bad_record {
                OnBadRecord::Abort => "abort",
                OnBadRecord::Skip => "skip",
            },
            if f.allow_real_clocks { "real" } else { "fixed" },
            if f.allow_real_random { "real" } else { "seeded" },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy, String> {
        let (_dir, path) = crate::testing::file("policy.toml", text);
        Policy::load(&path).map_err(|e| e.to_string())
    }

    #[test]
    fn an_empty_file_is_strict_but_usable() {
        let p = parse("").unwrap();
        assert!(p.file.allow_bundled);
        assert!(!p.file.allow_unpinned);
        assert!(p.accepts_contract("0.1.3"));
        assert!(!p.accepts_contract("0.2.0"));
        assert!(p.check_target("__consumer_offsets").is_err());
        assert!(p.check_target("mm2-offsets.a.internal").is_ok());
        assert!(p.check_target("mirrormaker2-cluster-offsets").is_ok());
        assert!(p.check_target("_schemas").is_err());
        assert!(p.check_target("connect-offsets").is_err());
    }

    #[test]
    fn internal_topics_are_never_writable_and_named_targets_only_by_default() {
        // An exclusion list of its own does not lift the guard on Kafka's internal topics.
        let p = parse("[topics]\ntarget = [\".*\"]\ntarget-exclude = [\"connect-.*\"]\n").unwrap();
        let err = p.check_target("__consumer_offsets").unwrap_err();
        assert_eq!(err, TopicRefused::Internal);
        assert!(err.to_string().contains("never writable"), "{err}");
        assert!(p.check_target("_schemas").is_ok());

        let mut builtin = Policy::builtin();
        assert!(builtin.check_target("my-offsets").is_err());
        builtin.name_target_topic("my-offsets");
        assert!(builtin.check_target("my-offsets").is_ok());
        assert!(builtin.check_target("other").is_err());
        builtin.name_target_topic("__consumer_offsets");
        assert!(builtin.check_target("__consumer_offsets").is_err());

        let mut strict = parse("[topics]\ntarget = [\"mm2-offsets\\\\.a\\\\.internal\"]\n").unwrap();
        strict.name_target_topic("my-offsets");
        assert!(strict.check_target("my-offsets").is_err(), "a policy's own target list is not widened");
    }

    #[test]
    fn unknown_fields_are_named() {
        let err = parse("[limits]\nmemory = 5\n").unwrap_err();
        assert!(err.contains("unknown field `memory`"), "{err}");
        let err = parse("allow-everything = true\n").unwrap_err();
        assert!(err.contains("unknown field `allow-everything`"), "{err}");
    }

    #[test]
    fn values_are_checked() {
        assert!(parse("contract = \"latest\"").unwrap_err().contains("not a version requirement"));
        assert!(parse("[[plugins]]\nname = \"x\"\nsha256 = \"abc\"").unwrap_err().contains("64 hex digits"));
        assert!(parse("[limits]\nmemory-bytes = 10").unwrap_err().contains("outside 1 MiB"));
        assert!(parse("[limits]\nfuel-per-batch = 0").unwrap_err().contains("fuel-per-batch"));
        assert!(parse("[topics]\ntarget = [\"(\"]").unwrap_err().contains("topics.target"));
        assert!(parse("on-bad-record = \"ignore\"").unwrap_err().contains("on-bad-record"));
    }

    #[test]
    fn topics_and_pins() {
        let p = parse(
            "on-bad-record = \"skip\"\n[topics]\nsource = [\"connect-offsets\"]\ntarget = [\"mm2-offsets\\\\..*\\\\.internal\"]\n\
             [[plugins]]\nname = \"mine\"\nsha256 = \"AB000000000000000000000000000000000000000000000000000000000000cd\"\n",
        )
        .unwrap();
        assert!(p.may_read("connect-offsets") && !p.may_read("other"));
        assert!(p.check_target("mm2-offsets.x.internal").is_ok() && p.check_target("elsewhere").is_err());
        assert_eq!(p.pin("ab000000000000000000000000000000000000000000000000000000000000CD").unwrap().name, "mine");
        assert!(p.skips_bad_records());
    }
}
