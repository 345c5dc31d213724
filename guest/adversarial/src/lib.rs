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
                (0..100_000).map(|i| Record::keyed(&self.topic, format!("[{i}]").into_bytes(), vec![b'1'; 1024])).collect(),
            ),
            "forbidden-topic" => Outcome::Emit(vec![Record::keyed("__consumer_offsets", key, value)]),
            "no-key" => Outcome::Emit(vec![Record { topic: self.topic.clone(), value: Some(value), ..Record::default() }]),
            "not-json" => Outcome::Emit(vec![Record::keyed(&self.topic, b"[\"x\", {}]".to_vec(), b"{offset: 1}".to_vec())]),
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
