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
];

pub struct Adversarial {
    behavior: String,
    topic: String,
}

impl Mapping for Adversarial {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "adversarial".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: "Test plugin that misbehaves on purpose".to_owned(),
            config: vec![
                ConfigKey::optional("behavior", ConfigType::String, Some("echo"), Importance::High, "How to misbehave in apply.")
                    .with_valid_values(BEHAVIORS),
                ConfigKey::optional("topic", ConfigType::String, Some("mm2-offsets.a.internal"), Importance::Low, "Output topic."),
            ],
        }
    }

    fn configure(config: &Config) -> Result<Self, Vec<ConfigError>> {
        Ok(Adversarial {
            behavior: config.get_string("behavior").unwrap_or_default(),
            topic: config.get_string("topic").unwrap_or_default(),
        })
    }

    fn map(&mut self, record: &Record) -> Outcome {
        let key = record.key.clone().unwrap_or_default();
        let value = record.value.clone().unwrap_or_default();
        match self.behavior.as_str() {
            "panic" => panic!("adversarial plugin panics on purpose"),
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
                Outcome::Emit(vec![Record::keyed(&self.topic, key, value)])
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
                Outcome::Emit(vec![Record::keyed(&self.topic, key, value)])
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
                Outcome::Emit(vec![Record::keyed(&self.topic, key, value)])
            }
            _ => Outcome::Emit(vec![Record::keyed(&self.topic, key, value)]),
        }
    }
}

mm2_plugin_sdk::export_mapping!(Adversarial);
