//! `mirus-to-mm2`: Salesforce Mirus's Connect offsets → MirrorMaker 2 offsets.
//!
//! Mirus stores `["<connector>",{"topic":T,"partition":P}]` (an `ImmutableMap` of topic, then
//! partition) → `{"offset":N}` with N = the consumed record's offset + 1: the NEXT offset to read
//! (`MirusSourceTask.toSourceRecord`), so MM2's offset is N - 1 and N = 0 writes nothing.

use mm2_plugin_sdk::topic_partition::{Flavor, OffsetSemantics};

pub const CONNECTOR_NAMES: &str = "mirus.connector.names";

const FLAVOR: Flavor = Flavor {
    names_key: CONNECTOR_NAMES,
    name_kind: "connector",
    default_names: None,
    default_semantics: OffsetSemantics::Next,
};

mm2_plugin_sdk::topic_partition_plugin!(
    MirusToMm2,
    "mirus-to-mm2",
    "Salesforce Mirus offsets (Connect offsets topic, Replicator layout, next-offset semantics) to MirrorMaker 2 source offsets",
    FLAVOR
);

#[cfg(test)]
mod tests {
    use super::*;
    use mm2_plugin_sdk::{Mapping, Outcome, Record};

    fn record(key: &str, value: &str) -> Record {
        Record { key: Some(key.as_bytes().to_vec()), value: Some(value.as_bytes().to_vec()), ..Record::default() }
    }

    #[test]
    fn next_offsets_become_last_replicated_offsets() {
        let mut m = MirusToMm2::from_settings(vec![("source.cluster.alias".into(), "dc1".into())]).unwrap();
        // MirusSourceTask stores record.offset() + 1: after replicating offset 41 it stores 42.
        match m.map(&record(r#"["mirus-quickstart-source",{"topic":"test","partition":3}]"#, r#"{"offset":42}"#)) {
            Outcome::Emit(records) => {
                assert_eq!(records[0].key.as_deref(), Some(br#"["MirrorSourceConnector",{"cluster":"dc1","partition":3,"topic":"test"}]"#.as_slice()));
                assert_eq!(records[0].value.as_deref(), Some(br#"{"offset":41}"#.as_slice()));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(m.map(&record(r#"["m",{"topic":"t","partition":0}]"#, r#"{"offset":0}"#)), Outcome::Skipped { .. }));
    }

    #[test]
    fn connector_names_filter_when_given() {
        let mut m = MirusToMm2::from_settings(vec![
            ("source.cluster.alias".into(), "dc1".into()),
            (CONNECTOR_NAMES.into(), "mirus-a".into()),
        ])
        .unwrap();
        match m.map(&record(r#"["mirus-b",{"topic":"t","partition":0}]"#, r#"{"offset":5}"#)) {
            Outcome::Skipped { reason, .. } => assert_eq!(reason, "other-connector"),
            other => panic!("{other:?}"),
        }
    }
}
