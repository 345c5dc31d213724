//! A hostile plugin for tests: it blocks in `describe` (a WASI clock subscribe + poll, as
//! `std::thread::sleep` compiles to), before the host can configure it. The host's deadline must
//! stop it there too, in `plugins inspect` as in every command.

use mm2_plugin_sdk::config::{Config, ConfigError};
use mm2_plugin_sdk::{Mapping, Outcome, PluginInfo, Record};

pub struct Sleeper;

impl Mapping for Sleeper {
    fn info() -> PluginInfo {
        std::thread::sleep(std::time::Duration::from_secs(30));
        PluginInfo {
            name: "adversarial-describe".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: "Test plugin that sleeps in describe".to_owned(),
            config: Vec::new(),
        }
    }

    fn configure(_: &Config) -> Result<Self, Vec<ConfigError>> {
        Ok(Sleeper)
    }

    fn map(&mut self, _: &Record) -> Outcome {
        Outcome::Emit(Vec::new())
    }
}

mm2_plugin_sdk::export_mapping!(Sleeper);
