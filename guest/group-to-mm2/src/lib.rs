//! `group-to-mm2`: consumer-group commits → MirrorMaker 2 offsets, for replicators whose progress
//! is a consumer group's committed offsets: MirrorMaker 1 and Brooklin (on the source cluster) and
//! uReplicator (ZooKeeper `/consumers/<group>/offsets/<topic>/<partition>`, exported as
//! `topic,partition,offset` lines).
//!
//! The host presents each commit as `["<group>",{"topic":T,"partition":P}]` → `{"offset":N}`.
//! A committed offset is the NEXT offset to read, so MM2's offset is N - 1 and N = 0 writes nothing.

use mm2_plugin_sdk::topic_partition::{Flavor, OffsetSemantics};

pub const GROUPS: &str = "groups";

const FLAVOR: Flavor = Flavor {
    names_key: GROUPS,
    name_kind: "group",
    default_names: None,
    default_semantics: OffsetSemantics::Next,
};

mm2_plugin_sdk::topic_partition_plugin!(
    GroupToMm2,
    "group-to-mm2",
    "Consumer-group committed offsets (MirrorMaker 1, Brooklin, uReplicator; next-offset semantics) to MirrorMaker 2 source offsets",
    FLAVOR
);

#[cfg(test)]
mod tests {
    use super::*;
    use mm2_plugin_sdk::{Mapping, Outcome, Record};

    fn commit(group: &str, topic: &str, partition: i32, offset: i64) -> Record {
        Record {
            topic: "__consumer_offsets".into(),
            key: Some(format!(r#"["{group}",{{"topic":"{topic}","partition":{partition}}}]"#).into_bytes()),
            value: Some(format!(r#"{{"offset":{offset}}}"#).into_bytes()),
            ..Record::default()
        }
    }

    #[test]
    fn committed_offsets_are_next_offsets() {
        let mut m = GroupToMm2::from_settings(vec![("source.cluster.alias".into(), "src".into())]).unwrap();
        match m.map(&commit("mm1-group", "orders", 2, 100)) {
            Outcome::Emit(records) => {
                assert_eq!(records[0].key.as_deref(), Some(br#"["MirrorSourceConnector",{"cluster":"src","partition":2,"topic":"orders"}]"#.as_slice()));
                assert_eq!(records[0].value.as_deref(), Some(br#"{"offset":99}"#.as_slice()));
            }
            other => panic!("{other:?}"),
        }
        match m.map(&commit("mm1-group", "orders", 3, 0)) {
            Outcome::Skipped { reason, .. } => assert_eq!(reason, "nothing-replicated"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn groups_filter() {
        let mut m = GroupToMm2::from_settings(vec![
            ("source.cluster.alias".into(), "src".into()),
            (GROUPS.into(), "brooklin".into()),
        ])
        .unwrap();
        match m.map(&commit("other", "t", 0, 5)) {
            Outcome::Skipped { reason, .. } => assert_eq!(reason, "other-group"),
            other => panic!("{other:?}"),
        }
    }
}
