//! An example mapping: a home-grown replicator that stored
//! `["<connector>",{"topic":T,"partition":P}]` → `{"position":N}`, N being the next offset to read.
//! Change `info`, `configure` and `map` to fit your tool; the SDK writes MM2's records byte-exact.

use mm2_plugin_sdk::config::{Config, ConfigError, ConfigKey, ConfigType, Importance};
use mm2_plugin_sdk::connect::{self, preview};
use mm2_plugin_sdk::topic_partition::{Mm2Target, OffsetSemantics};
use mm2_plugin_sdk::{Mapping, Outcome, PluginInfo, Record};

pub const CONNECTOR: &str = "connector.name";

pub struct MyMapping {
    connector: String,
    target: Mm2Target,
}

impl Mapping for MyMapping {
    fn info() -> PluginInfo {
        // `source.cluster.alias`, `target.connector.name` and `target.topic`, as the bundled
        // mappings have them.
        let mut config = Mm2Target::definition().to_vec();
        config.push(ConfigKey::optional(CONNECTOR, ConfigType::String, Some("my-replicator"), Importance::High, "The connector whose records to migrate."));
        PluginInfo {
            name: "my-mapping".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: "My replicator's offsets to MirrorMaker 2 offsets".to_owned(),
            config,
        }
    }

    fn configure(config: &Config) -> Result<Self, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let target = Mm2Target::from_config(config, &mut errors);
        let connector = config.get_string(CONNECTOR).unwrap_or_default();
        if errors.is_empty() { Ok(MyMapping { connector, target }) } else { Err(errors) }
    }

    fn map(&mut self, record: &Record) -> Outcome {
        let Some(key) = record.key.as_deref() else {
            return Outcome::Invalid("record has no key".to_owned());
        };
        let parsed = match connect::parse_key(key) {
            Ok(parsed) => parsed,
            Err(e) => return Outcome::Invalid(e),
        };
        if parsed.connector != self.connector {
            return Outcome::skipped("other-connector", format!("connector {:?}", parsed.connector));
        }
        let (topic, partition) = match parsed.topic_partition() {
            Ok(tp) => tp,
            Err(e) => return Outcome::Invalid(format!("{e}: {}", preview(key))),
        };
        // `position` is the next offset to read: MM2's offset is one less, and 0 writes nothing.
        self.target.offset_outcome(&topic, partition, record.value.as_deref(), OffsetSemantics::Next, |value| {
            connect::parse_offset_field(value, "position")
        })
    }
}

mm2_plugin_sdk::export_mapping!(MyMapping);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_a_position_to_the_last_replicated_offset() {
        let mut m = MyMapping::from_settings(vec![("source.cluster.alias".into(), "old".into())]).unwrap();
        let record = Record {
            key: Some(br#"["my-replicator",{"topic":"orders","partition":2}]"#.to_vec()),
            value: Some(br#"{"position":10}"#.to_vec()),
            ..Record::default()
        };
        match m.map(&record) {
            Outcome::Emit(out) => {
                assert_eq!(out[0].key.as_deref(), Some(br#"["MirrorSourceConnector",{"cluster":"old","partition":2,"topic":"orders"}]"#.as_slice()));
                assert_eq!(out[0].value.as_deref(), Some(br#"{"offset":9}"#.as_slice()));
            }
            other => panic!("{other:?}"),
        }
    }
}
