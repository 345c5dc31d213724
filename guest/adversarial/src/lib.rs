//! A hostile plugin for tests, never for production: `behavior` picks how it misbehaves in `apply`.
//! Kept beside the real plugins and built by the same command, so the host's defences are proven
//! against a real component.

use mm2_plugin_sdk::config::{Config, ConfigError, ConfigKey, ConfigType, Importance};
use mm2_plugin_sdk::{LogLevel, Mapping, Outcome, PluginInfo, Record, log};

pub const BEHAVIORS: &[&str] = &[
    "echo",
    "panic",
    "loop",
    "memory",
    "huge-output",
    "forbidden-topic",
    "no-key",
    "not-json",
    "invalid-utf8",
    "log-flood",
    "stdout-flood",
    "probe-env",
    "stack",
    "big-record",
    "mm2-key-order",
    "mm2-bad-offset",
    "sleep",
    "sleep-in-configure",
    "sleep-in-close",
    "escape-text",
    "escape-config",
    "huge-error",
    "silent-config-error",
    "empty-emit",
    "tombstone",
    "mm2-lookalike",
    "max-offset",
    "entropy",
    "passthrough",
    "map-loop",
    "topic-per-call",
    "alias-per-call",
];

/// What the "mm2-lookalike" behaviour emits for the input at each position: keys and values that
/// resemble MM2's but are not exactly its bytes.
pub const LOOKALIKES: &[(&str, &str)] = &[
    (r#"["MirrorSourceConnector",{"cluster":"a","partition":"0","topic":"t"}]"#, r#"{"offset":1}"#),
    (r#"["MirrorSourceConnector",{"cluster":"a","partition":1.0,"topic":"t"}]"#, r#"{"offset":1}"#),
    (r#"["MirrorSourceConnector",{"cluster":"a","partition":-0,"topic":"t"}]"#, r#"{"offset":1}"#),
    (r#"["MirrorSourceConnector",{"cluster":"a","partition":2147483648,"topic":"t"}]"#, r#"{"offset":1}"#),
    (r#"["MirrorSourceConnector",{"cluster":"a","partition":0,"topic":"t","extra":1}]"#, r#"{"offset":1}"#),
    (r#"["MirrorSourceConnector",{"partition":0,"topic":"t"}]"#, r#"{"offset":1}"#),
    (r#"["MirrorSourceConnector",{"cluster":"a","partition":0,"topic":"t"}]"#, r#"{"offset":-1.5}"#),
    (r#"["MirrorSourceConnector",{"cluster":"\u00e9","partition":0,"topic":"t"}]"#, r#"{"offset":1}"#),
];

/// Text meant to clear the screen and forge a report line, were it shown raw.
pub const HOSTILE_TEXT: &str = "\u{1b}[2J\u{1b}[H\nrecords written             2\r";

pub struct Adversarial {
    behavior: String,
    topic: String,
    /// `map` calls so far: the "-per-call" behaviours change their output with it.
    calls: u32,
}

impl Mapping for Adversarial {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "adversarial".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: format!("Test plugin that misbehaves on purpose{HOSTILE_TEXT}"),
            config: vec![
                ConfigKey::optional("behavior", ConfigType::String, Some("echo"), Importance::High, "How to misbehave in apply.")
                    .with_valid_values(BEHAVIORS),
                ConfigKey::optional("topic", ConfigType::String, Some("mm2-offsets.a.internal"), Importance::Low, "Output topic."),
            ],
        }
    }

    fn configure(config: &Config) -> Result<Self, Vec<ConfigError>> {
        let behavior = config.get_string("behavior").unwrap_or_default();
        match behavior.as_str() {
            // A blocking call (WASI monotonic-clock subscribe + poll), not a busy loop.
            "sleep-in-configure" => std::thread::sleep(std::time::Duration::from_secs(30)),
            "escape-config" => return Err(vec![ConfigError { key: HOSTILE_TEXT.to_owned(), message: HOSTILE_TEXT.to_owned() }]),
            "silent-config-error" => return Err(Vec::new()),
            _ => {}
        }
        Ok(Adversarial { behavior, topic: config.get_string("topic").unwrap_or_default(), calls: 0 })
    }

    fn close(&mut self) {
        if self.behavior == "sleep-in-close" {
            std::thread::sleep(std::time::Duration::from_secs(30));
        }
    }

    fn map(&mut self, record: &Record) -> Outcome {
        let key = record.key.clone().unwrap_or_default();
        let value = record.value.clone().unwrap_or_default();
        // What a well-behaved plugin emits: an MM2 record, one key per input position.
        let topic = format!("t{}", record.partition.unwrap_or(0));
        let echo = Record::keyed(
            &self.topic,
            mm2_plugin_sdk::jackson::mm2_source_key("MirrorSourceConnector", "a", &topic, record.offset.unwrap_or(0) as i32),
            mm2_plugin_sdk::jackson::offset_value(5),
        );
        self.calls += 1;
        // The input's offset under MM2's key for t/0: a plugin that behaves on its first call (the
        // run's snapshot) and changes where its output goes on later ones (--follow's rounds).
        let per_call = |topic: &str, alias: &str| {
            let key = mm2_plugin_sdk::jackson::mm2_source_key("MirrorSourceConnector", alias, "t", 0);
            Outcome::Emit(vec![Record::keyed(topic, key, value.clone())])
        };
        match self.behavior.as_str() {
            // `mm2-offsets.T.internal` becomes `mm2-offsets.T-x1.internal`, then `-x2`, ...
            "topic-per-call" => per_call(&self.topic.replacen(".internal", &format!("-x{}.internal", self.calls), 1), "a"),
            "alias-per-call" => per_call(&self.topic, if self.calls == 1 { "a" } else { "b" }),
            "panic" => panic!("adversarial plugin panics on purpose {HOSTILE_TEXT}"),
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_secs(30));
                Outcome::Emit(Vec::new())
            }
            "escape-text" => Outcome::Skipped { reason: HOSTILE_TEXT.to_owned(), detail: HOSTILE_TEXT.repeat(1000) },
            "huge-error" => Outcome::Invalid(format!("{HOSTILE_TEXT}{}", "x".repeat(20 << 20))),
            "empty-emit" => Outcome::Emit(Vec::new()),
            // Not hostile: the benchmark's yardstick for WebAssembly's own speed (see map_loop).
            "map-loop" => {
                let n = String::from_utf8_lossy(&value).parse().unwrap_or(0);
                Outcome::Skipped { reason: "map-loop".to_owned(), detail: map_loop(n).to_string() }
            }
            // The input's value, as it is, under a well-formed key.
            "passthrough" => Outcome::Emit(vec![Record { value: Some(value), ..echo }]),
            "tombstone" => Outcome::Emit(vec![Record {
                topic: self.topic.clone(),
                key: Some(br#"["MirrorSourceConnector",{"cluster":"a","partition":0,"topic":"t"}]"#.to_vec()),
                value: None,
                ..Record::default()
            }]),
            "mm2-lookalike" => {
                let (key, value) = LOOKALIKES[record.offset.unwrap_or(0) as usize % LOOKALIKES.len()];
                Outcome::Emit(vec![Record::keyed(&self.topic, key.as_bytes().to_vec(), value.as_bytes().to_vec())])
            }
            "max-offset" => Outcome::Emit(vec![Record::keyed(
                &self.topic,
                br#"["MirrorSourceConnector",{"cluster":"a","partition":0,"topic":"t"}]"#.to_vec(),
                br#"{"offset":9223372036854775807}"#.to_vec(),
            )]),
            // An offset drawn from the clocks and the random generator: the same on every run
            // only if the sandbox makes them deterministic.
            "entropy" => {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
                let elapsed = std::time::Instant::now().elapsed().as_nanos() as u64;
                let random = std::collections::hash_map::RandomState::new();
                let hashed = std::hash::BuildHasher::hash_one(&random, 1u8);
                let offset = (now ^ elapsed ^ hashed) % 1_000_000_007;
                let key = format!(r#"["MirrorSourceConnector",{{"cluster":"a","partition":{},"topic":"t"}}]"#, record.offset.unwrap_or(0));
                Outcome::Emit(vec![Record::keyed(&self.topic, key.into_bytes(), format!(r#"{{"offset":{offset}}}"#).into_bytes())])
            }
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "huge-output" => Outcome::Emit(
                (0..1_000).map(|i| Record::keyed(&self.topic, format!("[{i}]").into_bytes(), b"1".to_vec())).collect(),
            ),
            "big-record" => Outcome::Emit(vec![Record::keyed(&self.topic, key, vec![b'1'; 2 << 20])]),
            "stdout-flood" => {
                for i in 0..100_000 {
                    println!("line {i} of a plugin that prints too much");
                }
                Outcome::Emit(vec![echo])
            }
            "probe-env" => {
                // What the sandbox gives: no environment, no arguments, an empty stdin.
                use std::io::Read;
                let mut stdin = Vec::new();
                let stdin_read = std::io::stdin().read_to_end(&mut stdin).map_or(-1, |n| n as i64);
                println!(
                    "probe env={} args={} stdin={stdin_read} cwd={}",
                    std::env::vars().count(),
                    std::env::args().count(),
                    std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_else(|e| format!("error: {e}"))
                );
                eprintln!("probe stderr");
                Outcome::Emit(vec![echo])
            }
            "stack" => {
                // Plain locals live on the wasm stack (not Rust's shadow stack in linear memory),
                // and the work after the call keeps it from becoming a loop.
                #[allow(unconditional_recursion)]
                fn deeper(n: u64) -> u64 {
                    let r = deeper(std::hint::black_box(n + 1));
                    std::hint::black_box(r) ^ n
                }
                Outcome::Emit(vec![Record::keyed(&self.topic, deeper(0).to_string().into_bytes(), value)])
            }
            "forbidden-topic" => Outcome::Emit(vec![Record::keyed("__consumer_offsets", key, value)]),
            "no-key" => Outcome::Emit(vec![Record { topic: self.topic.clone(), value: Some(value), ..Record::default() }]),
            "not-json" => Outcome::Emit(vec![Record::keyed(&self.topic, b"[\"x\", {}]".to_vec(), b"{offset: 1}".to_vec())]),
            // MM2 keys in the public migration script's field order: MM2 never reads them.
            "mm2-key-order" => Outcome::Emit(vec![Record::keyed(
                &self.topic,
                br#"["MirrorSourceConnector",{"cluster":"a","topic":"t","partition":0}]"#.to_vec(),
                br#"{"offset":1}"#.to_vec(),
            )]),
            // An offset MM2's task would throw on.
            "mm2-bad-offset" => Outcome::Emit(vec![Record::keyed(
                &self.topic,
                br#"["MirrorSourceConnector",{"cluster":"a","partition":0,"topic":"t"}]"#.to_vec(),
                br#"{"offset":-1}"#.to_vec(),
            )]),
            "invalid-utf8" => Outcome::Emit(vec![Record::keyed(&self.topic, vec![0xff, 0xfe], value)]),
            "log-flood" => {
                for _ in 0..10_000 {
                    log(LogLevel::Warn, &"x".repeat(1000));
                }
                Outcome::Emit(vec![echo])
            }
            _ => Outcome::Emit(vec![echo]),
        }
    }
}

mm2_plugin_sdk::export_mapping!(Adversarial);

/// `replicator-to-mm2`'s mapping with `source.cluster.alias=primary`, built from the SDK here (that
/// crate exports its own component, so a component cannot link it).
fn replicator_mapping() -> mm2_plugin_sdk::topic_partition::TopicPartitionMapping {
    use mm2_plugin_sdk::topic_partition::{Flavor, OffsetSemantics, SOURCE_CLUSTER_ALIAS, TopicPartitionMapping, definition};
    const REPLICATOR: Flavor = Flavor {
        names_key: "replicator.connector.names",
        name_kind: "connector",
        default_names: Some("replicator"),
        default_semantics: OffsetSemantics::Last,
    };
    let settings = vec![(SOURCE_CLUSTER_ALIAS.to_owned(), "primary".to_owned())];
    let config = Config::parse(&definition(&REPLICATOR), settings).expect("settings");
    TopicPartitionMapping::from_config(REPLICATOR, &config).expect("configure")
}

/// The `i`-th live Replicator record of the plugin-boundary benchmark: topic `topic-{i % 1000}`,
/// partition `i / 1000`.
pub fn live_key_record(i: usize) -> Record {
    Record {
        topic: "connect-offsets".to_owned(),
        partition: Some((i % 25) as i32),
        offset: Some(i as i64 * 10),
        timestamp: Some(1_700_000_000_000 + i as i64),
        key: Some(format!(r#"["replicator",{{"topic":"topic-{}","partition":{}}}]"#, i % 1000, i / 1000).into_bytes()),
        value: Some(format!(r#"{{"offset":{}}}"#, i * 10).into_bytes()),
        headers: Vec::new(),
    }
}

/// Makes and maps `n` benchmark records with the SDK's mapping as `replicator-to-mm2` configures
/// it, all inside one call: the benchmark runs this natively and in the component, so the ratio is
/// WebAssembly's own speed on this code, with no boundary crossed per record. Returns how many
/// records were emitted.
pub fn map_loop(n: usize) -> usize {
    let mapping = replicator_mapping();
    (0..n)
        .map(|i| match std::hint::black_box(mapping.map(&live_key_record(i))) {
            Outcome::Emit(out) => out.len(),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_loop_maps_every_benchmark_record_as_replicator_to_mm2_does() {
        assert_eq!(map_loop(2_000), 2_000);
        let settings = vec![("source.cluster.alias".to_owned(), "primary".to_owned())];
        let mut bundled = replicator_to_mm2::ReplicatorToMm2::from_settings(settings).unwrap();
        let copy = replicator_mapping();
        for i in [0, 999, 1_000, 99_999] {
            assert_eq!(copy.map(&live_key_record(i)), bundled.map(&live_key_record(i)));
        }
        let other_connector = Record { key: Some(br#"["rep",{"topic":"t","partition":0}]"#.to_vec()), ..live_key_record(0) };
        assert_eq!(copy.map(&other_connector), bundled.map(&other_connector));
        let record = live_key_record(1_234);
        assert_eq!(record.key.as_deref(), Some(&br#"["replicator",{"topic":"topic-234","partition":1}]"#[..]));
        assert_eq!(record.value.as_deref(), Some(&br#"{"offset":12340}"#[..]));
    }
}
