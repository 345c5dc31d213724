//! The mapping shared by every source whose progress records are Connect-style
//! `["<name>",{"topic":T,"partition":P}]` → `{"offset":N}` (Confluent Replicator, Salesforce Mirus,
//! and consumer-group commits as the host presents them): keys parsed as JSON, non-canonical keys
//! skipped (the tool looks its records up by these exact bytes, so it never read them), topics
//! filtered like MM2's `topics`/`topics.exclude`, and N turned into MM2's last-replicated offset.

use crate::config::{Config, ConfigError, ConfigKey, ConfigType, Importance};
use crate::connect::{self, preview};
use crate::jackson::{self, Scalar};
use crate::mapping::{Outcome, Record};
use crate::topics::TopicFilter;

pub const SOURCE_CLUSTER_ALIAS: &str = "source.cluster.alias";
pub const TARGET_CONNECTOR: &str = "target.connector.name";
pub const TARGET_TOPIC: &str = "target.topic";
pub const OFFSET_SEMANTICS: &str = "offset.semantics";
pub const TOPICS_INCLUDE: &str = "topics.include";
pub const TOPICS_EXCLUDE: &str = "topics.exclude";

/// What a stored offset N means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSemantics {
    /// N is the last replicated record: MM2's V = N.
    Last,
    /// N is the next record to read: V = N - 1, and N = 0 means nothing was replicated.
    Next,
}

impl OffsetSemantics {
    pub fn name(self) -> &'static str {
        match self {
            OffsetSemantics::Last => "last",
            OffsetSemantics::Next => "next",
        }
    }

    /// The MM2 offset for a stored offset, or `None` when nothing was replicated.
    pub fn to_mm2(self, stored: i64) -> Option<i64> {
        match self {
            OffsetSemantics::Last => Some(stored),
            OffsetSemantics::Next => stored.checked_sub(1).filter(|v| *v >= 0),
        }
    }
}

/// What differs between the tools that share this layout.
#[derive(Debug, Clone, Copy)]
pub struct Flavor {
    /// The configuration key listing the names (connectors, groups) to migrate.
    pub names_key: &'static str,
    /// What those names are, for messages ("connector", "group").
    pub name_kind: &'static str,
    /// The default list; `None`: every name is migrated.
    pub default_names: Option<&'static str>,
    pub default_semantics: OffsetSemantics,
}

/// The configuration definition of a flavor.
pub fn definition(flavor: &Flavor) -> Vec<ConfigKey> {
    let names_doc = match flavor.default_names {
        Some(_) => format!(
            "Comma-separated {} names to migrate; records of any other {} are skipped and counted.",
            flavor.name_kind, flavor.name_kind
        ),
        None => format!(
            "Comma-separated {} names to migrate; records of any other {} are skipped and counted. Default: every {}.",
            flavor.name_kind, flavor.name_kind, flavor.name_kind
        ),
    };
    let [alias, connector, topic] = Mm2Target::definition();
    vec![
        alias,
        ConfigKey::optional(flavor.names_key, ConfigType::List, flavor.default_names, Importance::High, &names_doc),
        connector,
        topic,
        ConfigKey::optional(
            OFFSET_SEMANTICS,
            ConfigType::String,
            Some(flavor.default_semantics.name()),
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
    ]
}

/// Where MM2's records go: alias, connector name, topic. Shared by every mapping to MM2.
#[derive(Debug, Clone)]
pub struct Mm2Target {
    pub alias: String,
    pub connector: String,
    pub topic: String,
}

impl Mm2Target {
    /// The keys every mapping to MM2 has: `source.cluster.alias`, `target.connector.name` and
    /// `target.topic` (a plugin of its own adds them to its definition as they are).
    pub fn definition() -> [ConfigKey; 3] {
        [
            ConfigKey::required(
                SOURCE_CLUSTER_ALIAS,
                ConfigType::String,
                "The MM2 alias of the source cluster (the `cluster` field of MM2's offset key).",
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
        ]
    }

    /// Reads `source.cluster.alias`, `target.connector.name` and `target.topic`.
    pub fn from_config(config: &Config, errors: &mut Vec<ConfigError>) -> Mm2Target {
        let alias = config.get_string(SOURCE_CLUSTER_ALIAS).unwrap_or_default();
        if alias.is_empty() {
            errors.push(ConfigError::new(SOURCE_CLUSTER_ALIAS, "must not be empty"));
        }
        let connector = config.get_string(TARGET_CONNECTOR).unwrap_or_default();
        if connector.is_empty() {
            errors.push(ConfigError::new(TARGET_CONNECTOR, "must not be empty"));
        }
        let topic = config.get_string(TARGET_TOPIC).unwrap_or_else(|| format!("mm2-offsets.{alias}.internal"));
        if topic.is_empty() {
            errors.push(ConfigError::new(TARGET_TOPIC, "must not be empty"));
        }
        Mm2Target { alias, connector, topic }
    }

    /// MM2's offset record for a source partition.
    pub fn record(&self, topic: &str, partition: i32, offset: i64) -> Record {
        Record::keyed(
            &self.topic,
            jackson::mm2_source_key(&self.connector, &self.alias, topic, partition),
            jackson::offset_value(offset),
        )
    }

    /// The outcome for a stored offset value: MM2's record, or why there is none. `parse` reads
    /// the stored offset N out of the value; `semantics` says what N means.
    pub fn offset_outcome(
        &self,
        topic: &str,
        partition: i32,
        value: Option<&[u8]>,
        semantics: OffsetSemantics,
        parse: impl FnOnce(&[u8]) -> Result<i64, String>,
    ) -> Outcome {
        let Some(value) = value else {
            return Outcome::skipped("tombstone", format!("{topic}/{partition} has no offset"));
        };
        match parse(value).map(|stored| semantics.to_mm2(stored)) {
            Ok(Some(offset)) => Outcome::Emit(vec![self.record(topic, partition, offset)]),
            Ok(None) => Outcome::skipped("nothing-replicated", format!("{topic}/{partition}: next offset 0, nothing was replicated")),
            Err(e) => Outcome::Invalid(format!("offset of {topic}/{partition}: {e}")),
        }
    }
}

/// The key of `record` parsed as a Connect offset key when its name (connector, group) is one of
/// `names` (every name when `names` is empty); otherwise the outcome for the record: invalid
/// without a parsable key, skipped as `other-<kind>` for another name.
pub fn selected_key<'r>(
    record: &'r Record,
    names: &[String],
    kind: &str,
    names_key: &str,
) -> Result<(&'r [u8], connect::ConnectKey), Outcome> {
    let key = record.key.as_deref().ok_or_else(|| Outcome::Invalid("record has no key".to_owned()))?;
    let parsed = connect::parse_key(key).map_err(Outcome::Invalid)?;
    match not_selected(&parsed.connector, names, kind, names_key) {
        Some(skipped) => Err(skipped),
        None => Ok((key, parsed)),
    }
}

/// The outcome for a record of a name (connector, group) not in `names`, or `None` when it is
/// selected (every name is when `names` is empty).
fn not_selected(name: &str, names: &[String], kind: &str, names_key: &str) -> Option<Outcome> {
    (!names.is_empty() && !names.iter().any(|n| n == name))
        .then(|| Outcome::skipped(&format!("other-{kind}"), format!("{kind} {name:?} is not in {names_key}")))
}

/// Reads `topics.include` and `topics.exclude`.
pub fn topic_filter(config: &Config, errors: &mut Vec<ConfigError>) -> Option<TopicFilter> {
    TopicFilter::new(&config.get_list(TOPICS_INCLUDE), &config.get_list(TOPICS_EXCLUDE))
        .map_err(|e| errors.push(ConfigError::new(TOPICS_INCLUDE, e)))
        .ok()
}

/// A configured topic-partition mapping.
#[derive(Debug, Clone)]
pub struct TopicPartitionMapping {
    flavor: Flavor,
    /// Empty: every name.
    names: Vec<String>,
    target: Mm2Target,
    semantics: OffsetSemantics,
    topics: TopicFilter,
}

impl TopicPartitionMapping {
    pub fn from_config(flavor: Flavor, config: &Config) -> Result<Self, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let names = config.get_list(flavor.names_key);
        if names.is_empty() && flavor.default_names.is_some() {
            errors.push(ConfigError::new(flavor.names_key, format!("must name at least one {}", flavor.name_kind)));
        }
        let target = Mm2Target::from_config(config, &mut errors);
        let semantics = match config.get(OFFSET_SEMANTICS).map(str::trim) {
            Some("next") => OffsetSemantics::Next,
            _ => OffsetSemantics::Last,
        };
        let topics = topic_filter(config, &mut errors);
        match topics {
            Some(topics) if errors.is_empty() => Ok(TopicPartitionMapping { flavor, names, target, semantics, topics }),
            _ => Err(errors),
        }
    }

    pub fn map(&self, record: &Record) -> Outcome {
        // A canonical key (nearly all) in one typed pass; any other through the checks below.
        if let Some(key) = record.key.as_deref()
            && let Some((connector, topic, partition)) = connect::canonical_topic_partition_key(key)
        {
            if let Some(skipped) = not_selected(&connector, &self.names, self.flavor.name_kind, self.flavor.names_key) {
                return skipped;
            }
            return self.selected(&topic, partition, record);
        }
        self.map_checked(record)
    }

    /// [`TopicPartitionMapping::map`] for a key the typed pass did not take: says what it is.
    fn map_checked(&self, record: &Record) -> Outcome {
        let kind = self.flavor.name_kind;
        let (key, parsed) = match selected_key(record, &self.names, kind, self.flavor.names_key) {
            Ok(selected) => selected,
            Err(outcome) => return outcome,
        };
        let (topic, partition) = match parsed.topic_partition() {
            Ok(tp) => tp,
            Err(e) => {
                return Outcome::Invalid(format!(
                    "key of {kind} {:?} is not a {{\"topic\",\"partition\"}} key: {e}: {}",
                    parsed.connector,
                    preview(key)
                ));
            }
        };
        let canonical = [("topic", Scalar::Str(&topic)), ("partition", Scalar::Int(i64::from(partition)))];
        if !connect::is_canonical(key, &parsed.connector, &canonical) {
            // The tool looks its offsets up by these exact bytes, so it never read this record.
            return Outcome::skipped(
                "non-canonical-key",
                format!(
                    "key is not byte-identical to {} for {topic}/{partition}: {}",
                    String::from_utf8_lossy(&jackson::connect_key(&parsed.connector, &canonical)),
                    preview(key)
                ),
            );
        }
        self.selected(&topic, partition, record)
    }

    /// The outcome for a canonical key of a selected name: the topic filter, then the offset.
    fn selected(&self, topic: &str, partition: i32, record: &Record) -> Outcome {
        if !self.topics.accepts(topic) {
            return Outcome::skipped("topic-excluded", format!("topic {topic:?} is not selected by {TOPICS_INCLUDE}/{TOPICS_EXCLUDE}"));
        }
        self.target.offset_outcome(topic, partition, record.value.as_deref(), self.semantics, connect::parse_offset_value)
    }
}

/// Declares a plugin that is a [`TopicPartitionMapping`] of one [`Flavor`], and exports it.
///
/// ```ignore
/// mm2_plugin_sdk::topic_partition_plugin!(MirusToMm2, "mirus-to-mm2", "Mirus offsets to MM2", FLAVOR);
/// ```
#[macro_export]
macro_rules! topic_partition_plugin {
    ($ty:ident, $name:expr, $description:expr, $flavor:expr) => {
        #[derive(Debug)]
        pub struct $ty($crate::topic_partition::TopicPartitionMapping);

        impl $crate::Mapping for $ty {
            fn info() -> $crate::PluginInfo {
                $crate::PluginInfo {
                    name: ($name).to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    description: ($description).to_owned(),
                    config: $crate::topic_partition::definition(&$flavor),
                }
            }

            fn configure(config: &$crate::Config) -> ::std::result::Result<Self, ::std::vec::Vec<$crate::ConfigError>> {
                $crate::topic_partition::TopicPartitionMapping::from_config($flavor, config).map($ty)
            }

            fn map(&mut self, record: &$crate::Record) -> $crate::Outcome {
                self.0.map(record)
            }
        }

        $crate::export_mapping!($ty);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAVOR: Flavor = Flavor {
        names_key: "connector.names",
        name_kind: "connector",
        default_names: Some("rep"),
        default_semantics: OffsetSemantics::Last,
    };

    #[test]
    fn the_typed_pass_maps_as_the_checks_do() {
        let settings = vec![
            (SOURCE_CLUSTER_ALIAS.to_owned(), "src".to_owned()),
            (TOPICS_EXCLUDE.to_owned(), "secret.*".to_owned()),
        ];
        let config = Config::parse(&definition(&FLAVOR), settings).unwrap();
        let mapping = TopicPartitionMapping::from_config(FLAVOR, &config).unwrap();
        let record = |key: &str, value: Option<&str>| Record {
            topic: "connect-offsets".to_owned(),
            key: Some(key.as_bytes().to_vec()),
            value: value.map(|v| v.as_bytes().to_vec()),
            ..Record::default()
        };
        for (key, value) in [
            (r#"["rep",{"topic":"orders","partition":3}]"#, Some(r#"{"offset":41}"#)),
            (r#"["rep",{"topic":"orders","partition":3}]"#, None),
            (r#"["rep",{"topic":"orders","partition":3}]"#, Some(r#"{"offset":-4}"#)),
            (r#"["rep",{"topic":"secret-1","partition":0}]"#, Some(r#"{"offset":1}"#)),
            (r#"["other",{"topic":"orders","partition":3}]"#, Some(r#"{"offset":1}"#)),
            (r#"["rep",{"partition":3,"topic":"orders"}]"#, Some(r#"{"offset":1}"#)),
            (r#"["rep",{"topic":"orders","partition":-3}]"#, Some(r#"{"offset":1}"#)),
        ] {
            let r = record(key, value);
            assert_eq!(mapping.map(&r), mapping.map_checked(&r), "{key} {value:?}");
        }
    }
}
