//! `json-rules`: a declarative mapping for custom (home-grown) Connect source connectors, configured
//! without code: which field of the source partition is the topic, which is the partition, which
//! field of the offset value is the offset, what it means, and which records to take.

use mm2_plugin_sdk::config::{Config, ConfigError, ConfigKey, ConfigType, Importance};
use mm2_plugin_sdk::connect::{self, preview};
use mm2_plugin_sdk::jackson::{self, Scalar};
use mm2_plugin_sdk::topic_partition::{
    self, Mm2Target, OFFSET_SEMANTICS, OffsetSemantics, SOURCE_CLUSTER_ALIAS, TARGET_CONNECTOR, TARGET_TOPIC,
    TOPICS_EXCLUDE, TOPICS_INCLUDE, topic_filter,
};
use mm2_plugin_sdk::topics::TopicFilter;
use mm2_plugin_sdk::{Mapping, Outcome, PluginInfo, Record};
use serde_json::Value;

pub const CONNECTOR_NAMES: &str = "connector.names";
pub const TOPIC_FIELD: &str = "key.topic.field";
pub const PARTITION_FIELD: &str = "key.partition.field";
pub const FIELD_ORDER: &str = "key.field.order";
pub const OFFSET_FIELD: &str = "value.offset.field";

#[derive(Debug)]
pub struct JsonRules {
    connectors: Vec<String>,
    topic_field: String,
    partition_field: String,
    field_order: Vec<String>,
    offset_field: String,
    semantics: OffsetSemantics,
    target: Mm2Target,
    topics: TopicFilter,
}

/// A JSON integer, or a decimal string of one (home-grown connectors store either).
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Mapping for JsonRules {
    fn info() -> PluginInfo {
        let shared = topic_partition::definition(&topic_partition::Flavor {
            names_key: CONNECTOR_NAMES,
            name_kind: "connector",
            default_names: None,
            default_semantics: OffsetSemantics::Last,
        });
        let mut config = shared;
        config.extend([
            ConfigKey::optional(TOPIC_FIELD, ConfigType::String, Some("topic"), Importance::High,
                "The source-partition field holding the source topic name."),
            ConfigKey::optional(PARTITION_FIELD, ConfigType::String, Some("partition"), Importance::High,
                "The source-partition field holding the partition number (a JSON integer or a decimal string)."),
            ConfigKey::optional(FIELD_ORDER, ConfigType::List, None, Importance::Medium,
                "The source-partition fields in the order the connector writes them. When set, a key whose bytes differ from that form is skipped as non-canonical (the connector never read it), and so is a key with other fields. Default: no check."),
            ConfigKey::optional(OFFSET_FIELD, ConfigType::String, Some("offset"), Importance::High,
                "The offset-value field holding the offset (a JSON integer or a decimal string)."),
        ]);
        PluginInfo {
            name: "json-rules".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: "Custom Connect source connectors' offsets to MirrorMaker 2 offsets, by configured field names (no code)".to_owned(),
            config,
        }
    }

    fn configure(config: &Config) -> Result<Self, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let target = Mm2Target::from_config(config, &mut errors);
        let topics = topic_filter(config, &mut errors);
        let field = |key: &str, errors: &mut Vec<ConfigError>| {
            let value = config.get_string(key).unwrap_or_default();
            if value.is_empty() {
                errors.push(ConfigError::new(key, "must not be empty"));
            }
            value
        };
        let topic_field = field(TOPIC_FIELD, &mut errors);
        let partition_field = field(PARTITION_FIELD, &mut errors);
        let offset_field = field(OFFSET_FIELD, &mut errors);
        let field_order = config.get_list(FIELD_ORDER);
        for required in [&topic_field, &partition_field] {
            if !field_order.is_empty() && !field_order.contains(required) {
                errors.push(ConfigError::new(FIELD_ORDER, format!("does not list the field {required:?}")));
            }
        }
        let semantics = match config.get(OFFSET_SEMANTICS).map(str::trim) {
            Some("next") => OffsetSemantics::Next,
            _ => OffsetSemantics::Last,
        };
        match topics {
            Some(topics) if errors.is_empty() => Ok(JsonRules {
                connectors: config.get_list(CONNECTOR_NAMES),
                topic_field,
                partition_field,
                field_order,
                offset_field,
                semantics,
                target,
                topics,
            }),
            _ => Err(errors),
        }
    }

    fn map(&mut self, record: &Record) -> Outcome {
        let (key, parsed) = match topic_partition::selected_key(record, &self.connectors, "connector", CONNECTOR_NAMES) {
            Ok(selected) => selected,
            Err(outcome) => return outcome,
        };
        let topic = match parsed.partition.get(&self.topic_field) {
            Some(Value::String(t)) => t.clone(),
            other => {
                return Outcome::Invalid(format!(
                    "source partition field {:?} must be a topic name, got {}: {}",
                    self.topic_field,
                    other.map_or("nothing".to_owned(), Value::to_string),
                    preview(key)
                ));
            }
        };
        let partition = match parsed.partition.get(&self.partition_field).and_then(integer).and_then(|p| i32::try_from(p).ok()) {
            Some(p) if p >= 0 => p,
            _ => {
                return Outcome::Invalid(format!(
                    "source partition field {:?} must be a partition number >= 0: {}",
                    self.partition_field,
                    preview(key)
                ));
            }
        };
        if !self.field_order.is_empty() {
            let mut fields = Vec::new();
            for name in &self.field_order {
                match parsed.partition.get(name) {
                    Some(Value::String(s)) => fields.push((name.as_str(), Scalar::Str(s))),
                    Some(Value::Number(n)) if n.as_i64().is_some() => fields.push((name.as_str(), Scalar::Int(n.as_i64().unwrap_or_default()))),
                    _ => return Outcome::skipped("non-canonical-key", format!("field {name:?} is missing or not a string/integer: {}", preview(key))),
                }
            }
            if parsed.partition.len() != fields.len() || !connect::is_canonical(key, &parsed.connector, &fields) {
                return Outcome::skipped(
                    "non-canonical-key",
                    format!(
                        "key is not byte-identical to {}: {}",
                        String::from_utf8_lossy(&jackson::connect_key(&parsed.connector, &fields)),
                        preview(key)
                    ),
                );
            }
        }
        if !self.topics.accepts(&topic) {
            return Outcome::skipped("topic-excluded", format!("topic {topic:?} is not selected by {TOPICS_INCLUDE}/{TOPICS_EXCLUDE}"));
        }
        let field = &self.offset_field;
        self.target.offset_outcome(&topic, partition, record.value.as_deref(), self.semantics, |value| {
            match serde_json::from_slice::<Value>(value) {
                Ok(Value::Object(map)) => map
                    .get(field)
                    .and_then(integer)
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| format!("field {field:?} is not an integer >= 0: {}", preview(value))),
                _ => Err(format!("value is not a JSON object: {}", preview(value))),
            }
        })
    }
}

// Keys the shared definition brings that this plugin documents as its own.
const _: [&str; 3] = [SOURCE_CLUSTER_ALIAS, TARGET_CONNECTOR, TARGET_TOPIC];

mm2_plugin_sdk::export_mapping!(JsonRules);

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(settings: &[(&str, &str)]) -> JsonRules {
        JsonRules::from_settings(settings.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()).unwrap()
    }

    fn record(key: &str, value: &str) -> Record {
        Record { key: Some(key.as_bytes().to_vec()), value: Some(value.as_bytes().to_vec()), ..Record::default() }
    }

    fn emitted(o: Outcome) -> (String, String) {
        match o {
            Outcome::Emit(r) => (String::from_utf8(r[0].key.clone().unwrap()).unwrap(), String::from_utf8(r[0].value.clone().unwrap()).unwrap()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_home_grown_layout_is_mapped_by_field_names() {
        let mut m = mapping(&[
            (SOURCE_CLUSTER_ALIAS, "legacy"),
            (TOPIC_FIELD, "src_topic"),
            (PARTITION_FIELD, "src_part"),
            (OFFSET_FIELD, "position"),
            (OFFSET_SEMANTICS, "next"),
            (CONNECTOR_NAMES, "homegrown"),
        ]);
        let (key, value) = emitted(m.map(&record(r#"["homegrown",{"src_part":"4","src_topic":"payments","dc":"eu"}]"#, r#"{"position":"1000","ts":1}"#)));
        assert_eq!(key, r#"["MirrorSourceConnector",{"cluster":"legacy","partition":4,"topic":"payments"}]"#);
        assert_eq!(value, r#"{"offset":999}"#);
        assert!(matches!(m.map(&record(r#"["other",{"src_part":1,"src_topic":"p"}]"#, r#"{"position":1}"#)), Outcome::Skipped { .. }));
    }

    #[test]
    fn field_order_enables_the_canonical_check() {
        let mut m = mapping(&[(SOURCE_CLUSTER_ALIAS, "a"), (FIELD_ORDER, "partition,topic")]);
        assert!(matches!(m.map(&record(r#"["c",{"partition":1,"topic":"t"}]"#, r#"{"offset":5}"#)), Outcome::Emit(_)));
        for key in [r#"["c",{"topic":"t","partition":1}]"#, r#"["c",{"partition":1,"topic":"t","x":1}]"#, r#"["c", {"partition":1,"topic":"t"}]"#] {
            match m.map(&record(key, r#"{"offset":5}"#)) {
                Outcome::Skipped { reason, .. } => assert_eq!(reason, "non-canonical-key", "{key}"),
                other => panic!("{key}: {other:?}"),
            }
        }
    }

    #[test]
    fn bad_fields_are_invalid_with_the_field_named() {
        let mut m = mapping(&[(SOURCE_CLUSTER_ALIAS, "a")]);
        for (key, value, needle) in [
            (r#"["c",{"partition":1}]"#, r#"{"offset":5}"#, "\"topic\" must be a topic name"),
            (r#"["c",{"topic":"t","partition":-1}]"#, r#"{"offset":5}"#, "\"partition\" must be a partition number"),
            (r#"["c",{"topic":"t","partition":1}]"#, r#"{"offset":"x"}"#, "field \"offset\" is not an integer"),
            (r#"["c",{"topic":"t","partition":1}]"#, r#"[5]"#, "not a JSON object"),
        ] {
            match m.map(&record(key, value)) {
                Outcome::Invalid(message) => assert!(message.contains(needle), "{message}"),
                other => panic!("{key}: {other:?}"),
            }
        }
    }

    #[test]
    fn field_order_must_name_the_topic_and_partition_fields() {
        let errors = JsonRules::from_settings(vec![(SOURCE_CLUSTER_ALIAS.into(), "a".into()), (FIELD_ORDER.into(), "topic".into())]).unwrap_err();
        assert!(errors[0].message.contains("\"partition\""));
    }
}
