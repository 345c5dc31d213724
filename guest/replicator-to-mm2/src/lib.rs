//! `replicator-to-mm2`: Confluent Replicator's Connect offsets → MirrorMaker 2 offsets.
//!
//! Input: `["<connector>",{"topic":T,"partition":P}]` → `{"offset":N}` from Replicator's Connect
//! worker offsets topic. Output: `["MirrorSourceConnector",{"cluster":A,"partition":P,"topic":T}]`
//! → `{"offset":V}` with V the last replicated offset, which MM2 resumes after.

pub use mm2_plugin_sdk::topic_partition::{
    OFFSET_SEMANTICS, SOURCE_CLUSTER_ALIAS, TARGET_CONNECTOR, TARGET_TOPIC, TOPICS_EXCLUDE, TOPICS_INCLUDE,
};
use mm2_plugin_sdk::topic_partition::{Flavor, OffsetSemantics};

pub const CONNECTOR_NAMES: &str = "replicator.connector.names";

/// Replicator stores the last replicated offset (best public evidence; configurable).
const FLAVOR: Flavor = Flavor {
    names_key: CONNECTOR_NAMES,
    name_kind: "connector",
    default_names: Some("replicator"),
    default_semantics: OffsetSemantics::Last,
};

mm2_plugin_sdk::topic_partition_plugin!(
    ReplicatorToMm2,
    "replicator-to-mm2",
    "Confluent Replicator offsets (Connect offsets topic, key [\"<connector>\",{\"topic\":T,\"partition\":P}]) to MirrorMaker 2 source offsets",
    FLAVOR
);

#[cfg(test)]
mod tests {
    use super::*;
    use mm2_plugin_sdk::{Mapping, Outcome, Record};

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
