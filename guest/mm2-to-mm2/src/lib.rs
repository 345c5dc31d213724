//! `mm2-to-mm2`: MirrorMaker 2 source offsets rewritten under another connector name, cluster
//! alias or offsets topic: an alias rename, or a move between dedicated mode
//! (`MirrorSourceConnector`, `mm2-offsets.<alias>.internal`) and a Connect cluster or Strimzi
//! (`<src>-><tgt>.MirrorSourceConnector`, e.g. `mirrormaker2-cluster-offsets`). The offset itself
//! is unchanged. Checkpoint and heartbeat records are never touched.

use mm2_plugin_sdk::config::{Config, ConfigError, ConfigKey, ConfigType, Importance};
use mm2_plugin_sdk::connect::{self, parse_mm2_source_key, preview};
use mm2_plugin_sdk::jackson;
use mm2_plugin_sdk::topic_partition::{
    Mm2Target, OffsetSemantics, TARGET_CONNECTOR, TARGET_TOPIC, TOPICS_EXCLUDE, TOPICS_INCLUDE, selected_key, topic_filter,
};
use mm2_plugin_sdk::topics::TopicFilter;
use mm2_plugin_sdk::{Mapping, Outcome, PluginInfo, Record};

pub const SOURCE_CONNECTORS: &str = "source.connector.names";
pub const SOURCE_ALIAS: &str = "source.cluster.alias";
pub const TARGET_ALIAS: &str = "target.cluster.alias";

#[derive(Debug)]
pub struct Mm2ToMm2 {
    connectors: Vec<String>,
    source_alias: Option<String>,
    target_alias: Option<String>,
    target_connector: String,
    target_topic: String,
    topics: TopicFilter,
}

impl Mapping for Mm2ToMm2 {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "mm2-to-mm2".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: "MirrorMaker 2 source offsets under another connector name, cluster alias or offsets topic (alias rename; dedicated mode <-> Connect cluster or Strimzi)".to_owned(),
            config: vec![
                ConfigKey::optional(SOURCE_CONNECTORS, ConfigType::List, Some("MirrorSourceConnector"), Importance::High,
                    "Comma-separated connector names of the existing MM2 records to migrate (Strimzi: `<src>-><tgt>.MirrorSourceConnector`); other connectors, checkpoints and heartbeats are skipped."),
                ConfigKey::optional(SOURCE_ALIAS, ConfigType::String, None, Importance::High,
                    "Only records whose `cluster` is this alias. Default: every alias."),
                ConfigKey::optional(TARGET_ALIAS, ConfigType::String, None, Importance::High,
                    "The alias to write in `cluster` (an alias rename). Default: unchanged."),
                ConfigKey::optional(TARGET_CONNECTOR, ConfigType::String, Some("MirrorSourceConnector"), Importance::High,
                    "The connector name of the new records (`MirrorSourceConnector` in dedicated mode)."),
                ConfigKey::optional(TARGET_TOPIC, ConfigType::String, None, Importance::High,
                    "The topic of the new records. Default: mm2-offsets.<target.cluster.alias>.internal (required when no target alias is set)."),
                ConfigKey::optional(TOPICS_INCLUDE, ConfigType::List, Some(".*"), Importance::Medium,
                    "Comma-separated regular expressions matched against the whole source topic name."),
                ConfigKey::optional(TOPICS_EXCLUDE, ConfigType::List, Some(""), Importance::Medium,
                    "Comma-separated regular expressions of source topics to leave out."),
            ],
        }
    }

    fn configure(config: &Config) -> Result<Self, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let connectors = config.get_list(SOURCE_CONNECTORS);
        if connectors.is_empty() {
            errors.push(ConfigError::new(SOURCE_CONNECTORS, "must name at least one connector"));
        }
        let non_empty = |key: &str| config.get_string(key).filter(|s| !s.is_empty());
        let source_alias = non_empty(SOURCE_ALIAS);
        let target_alias = non_empty(TARGET_ALIAS);
        let target_connector = non_empty(TARGET_CONNECTOR).unwrap_or_default();
        if target_connector.is_empty() {
            errors.push(ConfigError::new(TARGET_CONNECTOR, "must not be empty"));
        }
        let target_topic = match (non_empty(TARGET_TOPIC), &target_alias) {
            (Some(topic), _) => topic,
            (None, Some(alias)) => format!("mm2-offsets.{alias}.internal"),
            (None, None) => {
                errors.push(ConfigError::new(TARGET_TOPIC, format!("required when {TARGET_ALIAS} is not set")));
                String::new()
            }
        };
        let topics = topic_filter(config, &mut errors);
        match topics {
            Some(topics) if errors.is_empty() => {
                Ok(Mm2ToMm2 { connectors, source_alias, target_alias, target_connector, target_topic, topics })
            }
            _ => Err(errors),
        }
    }

    fn map(&mut self, record: &Record) -> Outcome {
        let (key, parsed) = match selected_key(record, &self.connectors, "connector", SOURCE_CONNECTORS) {
            Ok(selected) => selected,
            Err(outcome) => return outcome,
        };
        let connector = parsed.connector;
        let Some((_, cluster, topic, partition)) = parse_mm2_source_key(key) else {
            // Checkpoints and heartbeats have other key shapes: never touched.
            return Outcome::skipped("not-a-source-offset", format!("not an MM2 source offset key: {}", preview(key)));
        };
        if key != jackson::mm2_source_key(&connector, &cluster, &topic, partition).as_slice() {
            // MM2 looks its offsets up by these exact bytes, so it never read this record.
            return Outcome::skipped("non-canonical-key", format!("key is not byte-identical to MM2's: {}", preview(key)));
        }
        if self.source_alias.as_ref().is_some_and(|a| *a != cluster) {
            return Outcome::skipped("other-cluster", format!("cluster {cluster:?} is not {SOURCE_ALIAS}"));
        }
        if !self.topics.accepts(&topic) {
            return Outcome::skipped("topic-excluded", format!("topic {topic:?} is not selected"));
        }
        let target = Mm2Target {
            alias: self.target_alias.clone().unwrap_or(cluster),
            connector: self.target_connector.clone(),
            topic: self.target_topic.clone(),
        };
        // MM2's own value: the last replicated offset, kept as it is.
        target.offset_outcome(&topic, partition, record.value.as_deref(), OffsetSemantics::Last, connect::parse_offset_value)
    }
}

mm2_plugin_sdk::export_mapping!(Mm2ToMm2);

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(settings: &[(&str, &str)]) -> Mm2ToMm2 {
        Mm2ToMm2::from_settings(settings.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()).unwrap()
    }

    fn record(key: &str, value: &str) -> Record {
        Record { key: Some(key.as_bytes().to_vec()), value: Some(value.as_bytes().to_vec()), ..Record::default() }
    }

    fn emitted(o: Outcome) -> (String, String, String) {
        match o {
            Outcome::Emit(r) => (r[0].topic.clone(), String::from_utf8(r[0].key.clone().unwrap()).unwrap(), String::from_utf8(r[0].value.clone().unwrap()).unwrap()),
            other => panic!("{other:?}"),
        }
    }

    fn reason(o: Outcome) -> String {
        match o {
            Outcome::Skipped { reason, .. } => reason,
            other => panic!("{other:?}"),
        }
    }

    const DEDICATED: &str = r#"["MirrorSourceConnector",{"cluster":"old","partition":1,"topic":"orders"}]"#;

    #[test]
    fn alias_rename_keeps_the_offset() {
        let mut m = mapping(&[(TARGET_ALIAS, "new")]);
        assert_eq!(
            emitted(m.map(&record(DEDICATED, r#"{"offset":77}"#))),
            ("mm2-offsets.new.internal".into(), r#"["MirrorSourceConnector",{"cluster":"new","partition":1,"topic":"orders"}]"#.into(), r#"{"offset":77}"#.into())
        );
    }

    #[test]
    fn dedicated_to_strimzi() {
        let mut m = mapping(&[(TARGET_CONNECTOR, "old->tgt.MirrorSourceConnector"), (TARGET_TOPIC, "mirrormaker2-cluster-offsets")]);
        let (topic, key, _) = emitted(m.map(&record(DEDICATED, r#"{"offset":5}"#)));
        assert_eq!(topic, "mirrormaker2-cluster-offsets");
        assert_eq!(key, r#"["old->tgt.MirrorSourceConnector",{"cluster":"old","partition":1,"topic":"orders"}]"#);
    }

    #[test]
    fn strimzi_to_dedicated() {
        let mut m = mapping(&[(SOURCE_CONNECTORS, "a->b.MirrorSourceConnector"), (TARGET_TOPIC, "mm2-offsets.a.internal")]);
        let (_, key, _) = emitted(m.map(&record(r#"["a->b.MirrorSourceConnector",{"cluster":"a","partition":0,"topic":"t"}]"#, r#"{"offset":5}"#)));
        assert_eq!(key, r#"["MirrorSourceConnector",{"cluster":"a","partition":0,"topic":"t"}]"#);
    }

    #[test]
    fn checkpoints_heartbeats_and_foreign_records_are_skipped() {
        let mut m = mapping(&[(TARGET_ALIAS, "new"), (SOURCE_CONNECTORS, "MirrorSourceConnector,MirrorCheckpointConnector")]);
        assert_eq!(reason(m.map(&record(r#"["MirrorCheckpointConnector",{"consumergroup":"g","partition":0,"topic":"t"}]"#, r#"{"offset":1}"#))), "not-a-source-offset");
        assert_eq!(reason(m.map(&record(r#"["MirrorHeartbeatConnector",{"sourceClusterAlias":"a","targetClusterAlias":"b"}]"#, r#"{"offset":1}"#))), "other-connector");
        // The public migration script's field order: MM2 never read it.
        assert_eq!(reason(m.map(&record(r#"["MirrorSourceConnector",{"cluster":"old","topic":"orders","partition":1}]"#, r#"{"offset":1}"#))), "non-canonical-key");
        let mut only = mapping(&[(TARGET_ALIAS, "new"), (SOURCE_ALIAS, "other")]);
        assert_eq!(reason(only.map(&record(DEDICATED, r#"{"offset":1}"#))), "other-cluster");
    }

    #[test]
    fn a_target_is_required() {
        let errors = Mm2ToMm2::from_settings(vec![]).unwrap_err();
        assert_eq!(errors[0].key, TARGET_TOPIC);
    }
}
