//! `replicator-to-mm2`: Confluent Replicator's Connect offsets → MirrorMaker 2 offsets.
//!
//! Input: `["<connector>",{"topic":T,"partition":P}]` → `{"offset":N}` from Replicator's Connect
//! worker offsets topic. Output: `["MirrorSourceConnector",{"cluster":A,"partition":P,"topic":T}]`
//! → `{"offset":V}` with V the last replicated offset, which MM2 resumes after.

use mm2_plugin_sdk::config::{Config, ConfigError, ConfigKey, ConfigType, Importance};
use mm2_plugin_sdk::connect::{self, preview};
use mm2_plugin_sdk::jackson::{self, Scalar};
use mm2_plugin_sdk::topics::TopicFilter;
use mm2_plugin_sdk::{Mapping, Outcome, PluginInfo, Record};

pub const SOURCE_CLUSTER_ALIAS: &str = "source.cluster.alias";
pub const CONNECTOR_NAMES: &str = "replicator.connector.names";
pub const TARGET_CONNECTOR: &str = "target.connector.name";
pub const TARGET_TOPIC: &str = "target.topic";
pub const OFFSET_SEMANTICS: &str = "offset.semantics";
pub const TOPICS_INCLUDE: &str = "topics.include";
pub const TOPICS_EXCLUDE: &str = "topics.exclude";

/// What the stored offset N means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSemantics {
    /// N is the last replicated record: MM2's V = N.
    Last,
    /// N is the next record to read: V = N - 1, and N = 0 means nothing was replicated.
    Next,
}

impl OffsetSemantics {
    /// The MM2 offset for a stored offset, or `None` when nothing was replicated.
    pub fn to_mm2(self, stored: i64) -> Option<i64> {
        match self {
            OffsetSemantics::Last => Some(stored),
            OffsetSemantics::Next => stored.checked_sub(1).filter(|v| *v >= 0),
        }
    }
}

#[derive(Debug)]
pub struct ReplicatorToMm2 {
    alias: String,
    connectors: Vec<String>,
    target_connector: String,
    target_topic: String,
    semantics: OffsetSemantics,
    topics: TopicFilter,
}

impl Mapping for ReplicatorToMm2 {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "replicator-to-mm2".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: "Confluent Replicator offsets (Connect offsets topic, key [\"<connector>\",{\"topic\":T,\"partition\":P}]) to MirrorMaker 2 source offsets".to_owned(),
            config: vec![
                ConfigKey::required(
                    SOURCE_CLUSTER_ALIAS,
                    ConfigType::String,
                    "The MM2 alias of the source cluster (the `cluster` field of MM2's offset key).",
                ),
                ConfigKey::optional(
                    CONNECTOR_NAMES,
                    ConfigType::List,
                    Some("replicator"),
                    Importance::High,
                    "Comma-separated Replicator connector names to migrate; records of any other connector are skipped and counted.",
                ),
                ConfigKey::optional(
                    TARGET_CONNECTOR,
                    ConfigType::String,
                    Some("MirrorSourceConnector"),
                    Importance::Medium,
                    "The MM2 source connector name (`MirrorSourceConnector` in dedicated mode; the connector's name on a Connect cluster, e.g. Strimzi's `<src>-><tgt>.MirrorSourceConnector`).",
                ),
                ConfigKey::optional(
                    TARGET_TOPIC,
                    ConfigType::String,
                    None,
                    Importance::Medium,
                    "The topic of the output records. Default: mm2-offsets.<source.cluster.alias>.internal.",
                ),
                ConfigKey::optional(
                    OFFSET_SEMANTICS,
                    ConfigType::String,
                    Some("last"),
                    Importance::High,
                    "What the stored offset N means: `last` = the last replicated record (MM2 offset N), `next` = the next record to read (MM2 offset N-1; N=0 writes nothing).",
                )
                .with_valid_values(&["last", "next"]),
                ConfigKey::optional(
                    TOPICS_INCLUDE,
                    ConfigType::List,
                    Some(".*"),
                    Importance::Medium,
                    "Comma-separated regular expressions matched against the whole source topic name, as MM2's `topics`.",
                ),
                ConfigKey::optional(
                    TOPICS_EXCLUDE,
                    ConfigType::List,
                    Some(""),
                    Importance::Medium,
                    "Comma-separated regular expressions of source topics to leave out, as MM2's `topics.exclude`.",
                ),
            ],
        }
    }

    fn configure(config: &Config) -> Result<Self, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let alias = config.get_string(SOURCE_CLUSTER_ALIAS).unwrap_or_default();
        if alias.is_empty() {
            errors.push(ConfigError::new(SOURCE_CLUSTER_ALIAS, "must not be empty"));
        }
        let connectors = config.get_list(CONNECTOR_NAMES);
        if connectors.is_empty() {
            errors.push(ConfigError::new(CONNECTOR_NAMES, "must name at least one connector"));
        }
        let target_connector = config.get_string(TARGET_CONNECTOR).unwrap_or_default();
        if target_connector.is_empty() {
            errors.push(ConfigError::new(TARGET_CONNECTOR, "must not be empty"));
        }
        let target_topic = config
            .get_string(TARGET_TOPIC)
            .unwrap_or_else(|| format!("mm2-offsets.{alias}.internal"));
        if target_topic.is_empty() {
            errors.push(ConfigError::new(TARGET_TOPIC, "must not be empty"));
        }
        let semantics = match config.get(OFFSET_SEMANTICS).map(str::trim) {
            Some("next") => OffsetSemantics::Next,
            _ => OffsetSemantics::Last,
        };
        let topics = TopicFilter::new(&config.get_list(TOPICS_INCLUDE), &config.get_list(TOPICS_EXCLUDE))
            .map_err(|e| errors.push(ConfigError::new(TOPICS_INCLUDE, e)));
        match topics {
            Ok(topics) if errors.is_empty() => Ok(ReplicatorToMm2 {
                alias,
                connectors,
                target_connector,
                target_topic,
                semantics,
                topics,
            }),
            _ => Err(errors),
        }
    }

    fn map(&mut self, record: &Record) -> Outcome {
        let Some(key) = record.key.as_deref() else {
            return Outcome::Invalid("record has no key".to_owned());
        };
        let parsed = match connect::parse_key(key) {
            Ok(parsed) => parsed,
            Err(e) => return Outcome::Invalid(e),
        };
        if !self.connectors.contains(&parsed.connector) {
            return Outcome::skipped(
                "other-connector",
                format!("connector {:?} is not in {CONNECTOR_NAMES}", parsed.connector),
            );
        }
        let (topic, partition) = match parsed.topic_partition() {
            Ok(tp) => tp,
            Err(e) => {
                return Outcome::Invalid(format!(
                    "key of connector {:?} is not a Replicator key: {e}: {}",
                    parsed.connector,
                    preview(key)
                ));
            }
        };
        let canonical = [("topic", Scalar::Str(&topic)), ("partition", Scalar::Int(i64::from(partition)))];
        if !connect::is_canonical(key, &parsed.connector, &canonical) {
            // Replicator looks its offsets up by these exact bytes, so it never read this record.
            return Outcome::skipped(
                "non-canonical-key",
                format!(
                    "key is not byte-identical to Replicator's {} for {topic}/{partition}: {}",
                    String::from_utf8_lossy(&jackson::connect_key(&parsed.connector, &canonical)),
                    preview(key)
                ),
            );
        }
        if !self.topics.accepts(&topic) {
            return Outcome::skipped("topic-excluded", format!("topic {topic:?} is not selected by {TOPICS_INCLUDE}/{TOPICS_EXCLUDE}"));
        }
        let Some(value) = record.value.as_deref() else {
            return Outcome::skipped("tombstone", format!("{topic}/{partition} has no offset"));
        };
        let stored = match connect::parse_offset_value(value) {
            Ok(n) => n,
            Err(e) => return Outcome::Invalid(format!("offset of {topic}/{partition}: {e}")),
        };
        let Some(offset) = self.semantics.to_mm2(stored) else {
            return Outcome::skipped(
                "nothing-replicated",
                format!("{topic}/{partition}: next offset 0, nothing was replicated"),
            );
        };
        Outcome::Emit(vec![Record::keyed(
            &self.target_topic,
            jackson::mm2_source_key(&self.target_connector, &self.alias, &topic, partition),
            jackson::offset_value(offset),
        )])
    }
}

mm2_plugin_sdk::export_mapping!(ReplicatorToMm2);

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(settings: &[(&str, &str)]) -> ReplicatorToMm2 {
        ReplicatorToMm2::from_settings(
            settings.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        )
        .unwrap()
    }

    fn record(key: &str, value: Option<&str>) -> Record {
        Record {
            topic: "connect-offsets".to_owned(),
            partition: Some(0),
            offset: Some(7),
            key: Some(key.as_bytes().to_vec()),
            value: value.map(|v| v.as_bytes().to_vec()),
            ..Record::default()
        }
    }

    fn emitted(outcome: Outcome) -> (String, String, String) {
        match outcome {
            Outcome::Emit(mut records) => {
                assert_eq!(records.len(), 1);
                let r = records.pop().unwrap();
                (
                    r.topic,
                    String::from_utf8(r.key.unwrap()).unwrap(),
                    String::from_utf8(r.value.unwrap()).unwrap(),
                )
            }
            other => panic!("expected a record, got {other:?}"),
        }
    }

    fn skip_reason(outcome: Outcome) -> String {
        match outcome {
            Outcome::Skipped { reason, .. } => reason,
            other => panic!("expected a skip, got {other:?}"),
        }
    }

    #[test]
    fn maps_a_replicator_record_with_defaults() {
        let mut m = mapping(&[(SOURCE_CLUSTER_ALIAS, "primary")]);
        let (topic, key, value) =
            emitted(m.map(&record(r#"["replicator",{"topic":"orders","partition":3}]"#, Some(r#"{"offset":41}"#))));
        assert_eq!(topic, "mm2-offsets.primary.internal");
        assert_eq!(key, r#"["MirrorSourceConnector",{"cluster":"primary","partition":3,"topic":"orders"}]"#);
        assert_eq!(value, r#"{"offset":41}"#);
    }

    #[test]
    fn next_semantics_subtracts_one_and_skips_zero() {
        let mut m = mapping(&[(SOURCE_CLUSTER_ALIAS, "a"), (OFFSET_SEMANTICS, "next")]);
        let key = r#"["replicator",{"topic":"t","partition":0}]"#;
        assert_eq!(emitted(m.map(&record(key, Some(r#"{"offset":10}"#)))).2, r#"{"offset":9}"#);
        assert_eq!(skip_reason(m.map(&record(key, Some(r#"{"offset":0}"#)))), "nothing-replicated");
    }

    #[test]
    fn target_names_are_configurable() {
        let mut m = mapping(&[
            (SOURCE_CLUSTER_ALIAS, "dc1"),
            (TARGET_CONNECTOR, "dc1->dc2.MirrorSourceConnector"),
            (TARGET_TOPIC, "mirrormaker2-cluster-offsets"),
            (CONNECTOR_NAMES, "rep-a, rep-b"),
        ]);
        let (topic, key, _) = emitted(m.map(&record(r#"["rep-b",{"topic":"x","partition":0}]"#, Some(r#"{"offset":1}"#))));
        assert_eq!(topic, "mirrormaker2-cluster-offsets");
        assert_eq!(key, r#"["dc1->dc2.MirrorSourceConnector",{"cluster":"dc1","partition":0,"topic":"x"}]"#);
        assert_eq!(
            skip_reason(m.map(&record(r#"["replicator",{"topic":"x","partition":0}]"#, Some(r#"{"offset":1}"#)))),
            "other-connector"
        );
    }

    #[test]
    fn special_characters_are_escaped_as_jackson_does() {
        let mut m = mapping(&[(SOURCE_CLUSTER_ALIAS, "pri\"mary")]);
        // Jackson writes U+000B as \u000B (upper-case hex), `/` and non-ASCII raw.
        let (_, key, _) = emitted(m.map(&record(
            r#"["replicator",{"topic":"a/ü\u0001\u000B\\","partition":0}]"#,
            Some(r#"{"offset":1}"#),
        )));
        assert_eq!(
            key,
            r#"["MirrorSourceConnector",{"cluster":"pri\"mary","partition":0,"topic":"a/ü\u0001\u000B\\"}]"#
        );
        // Lower-case hex is not what Replicator wrote, so Replicator never read that record.
        assert_eq!(
            skip_reason(m.map(&record(r#"["replicator",{"topic":"\u000b","partition":0}]"#, Some(r#"{"offset":1}"#)))),
            "non-canonical-key"
        );
    }

    #[test]
    fn non_canonical_keys_are_skipped_not_translated() {
        let mut m = mapping(&[(SOURCE_CLUSTER_ALIAS, "a")]);
        for key in [
            r#"["replicator",{"partition":0,"topic":"t"}]"#,
            r#"["replicator", {"topic":"t","partition":0}]"#,
            r#"["replicator",{"topic":"\u0074","partition":0}]"#,
        ] {
            assert_eq!(skip_reason(m.map(&record(key, Some(r#"{"offset":5}"#)))), "non-canonical-key", "{key}");
        }
    }

    #[test]
    fn topic_filters_match_whole_names() {
        let mut m = mapping(&[(SOURCE_CLUSTER_ALIAS, "a"), (TOPICS_INCLUDE, "orders.*"), (TOPICS_EXCLUDE, ".*-dlq")]);
        let rec = |t: &str| record(&format!(r#"["replicator",{{"topic":"{t}","partition":0}}]"#), Some(r#"{"offset":1}"#));
        assert!(matches!(m.map(&rec("orders-eu")), Outcome::Emit(_)));
        assert_eq!(skip_reason(m.map(&rec("orders-dlq"))), "topic-excluded");
        assert_eq!(skip_reason(m.map(&rec("old-orders"))), "topic-excluded");
    }

    #[test]
    fn bad_keys_and_values_of_selected_connectors_are_invalid() {
        let mut m = mapping(&[(SOURCE_CLUSTER_ALIAS, "a")]);
        let key = r#"["replicator",{"topic":"t","partition":0}]"#;
        for (key, value, needle) in [
            (key, r#"{"offset":-1}"#, "negative"),
            (key, r#"{"offset":"5"}"#, "JSON integer"),
            (key, r#"{"offset":5.0}"#, "64-bit integer"),
            (key, "garbage", "not JSON"),
            (r#"["replicator",{"topic":"t"}]"#, r#"{"offset":1}"#, "\"partition\" is missing"),
            (r#"["replicator",{"topic":"t","partition":0,"x":1}]"#, r#"{"offset":1}"#, "unexpected field"),
            ("{}", r#"{"offset":1}"#, "not a Connect offset key"),
        ] {
            match m.map(&record(key, Some(value))) {
                Outcome::Invalid(message) => assert!(message.contains(needle), "{key} {value}: {message}"),
                other => panic!("{key} {value}: expected invalid, got {other:?}"),
            }
        }
        assert!(matches!(m.map(&Record::default()), Outcome::Invalid(_)));
    }

    #[test]
    fn configuration_errors_are_reported_together() {
        let errors = ReplicatorToMm2::from_settings(vec![
            (OFFSET_SEMANTICS.to_owned(), "first".to_owned()),
            (TOPICS_INCLUDE.to_owned(), "(".to_owned()),
        ])
        .unwrap_err();
        let keys: Vec<_> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, [OFFSET_SEMANTICS, SOURCE_CLUSTER_ALIAS]);
        let errors = ReplicatorToMm2::from_settings(vec![
            (SOURCE_CLUSTER_ALIAS.to_owned(), "a".to_owned()),
            (TOPICS_INCLUDE.to_owned(), "(".to_owned()),
        ])
        .unwrap_err();
        assert_eq!(errors[0].key, TOPICS_INCLUDE);
    }
}
