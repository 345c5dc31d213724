//! A hostile plugin for tests: it reads the filesystem and opens sockets, so its component imports
//! `wasi:filesystem` and `wasi:sockets`. The host must refuse it at load time, naming the import,
//! before any of its code runs.

use mm2_plugin_sdk::config::{Config, ConfigError};
use mm2_plugin_sdk::{Mapping, Outcome, PluginInfo, Record};

pub struct Prober;

impl Mapping for Prober {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "adversarial-imports".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: "Test plugin that probes files and sockets".to_owned(),
            config: Vec::new(),
        }
    }

    fn configure(_: &Config) -> Result<Self, Vec<ConfigError>> {
        Ok(Prober)
    }

    fn map(&mut self, record: &Record) -> Outcome {
        let files = std::fs::read_dir("/").map(|d| d.count()).unwrap_or(0);
        let secret = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let socket = std::net::TcpStream::connect("127.0.0.1:9092").is_ok();
        Outcome::Emit(vec![Record::keyed(
            &record.topic,
            format!("[{files},{},{socket}]", secret.len()).into_bytes(),
            b"{}".to_vec(),
        )])
    }
}

mm2_plugin_sdk::export_mapping!(Prober);
