//! Reading Kafka Connect offset records: keys `[connectorName, {sourcePartition}]`, values
//! `{sourceOffset}`. Keys are parsed as JSON (any field order or spacing); whether the bytes are
//! the ones the tool itself would have written is a separate question ([`is_canonical`]).

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::jackson::{self, Scalar};

/// A parsed Connect offset key.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectKey {
    pub connector: String,
    pub partition: Map<String, Value>,
}

/// Parses the key of a Connect offset record.
pub fn parse_key(bytes: &[u8]) -> Result<ConnectKey, String> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("key is not JSON ({e}): {}", preview(bytes)))?;
    let Value::Array(mut items) = value else {
        return Err(format!(
            "key is not a Connect offset key [connector, partition]: {}",
            preview(bytes)
        ));
    };
    if items.len() != 2 {
        return Err(format!(
            "key is a JSON array of {} elements, a Connect offset key has 2: {}",
            items.len(),
            preview(bytes)
        ));
    }
    let partition = items.pop();
    let connector = items.pop();
    match (connector, partition) {
        (Some(Value::String(connector)), Some(Value::Object(partition))) => {
            Ok(ConnectKey { connector, partition })
        }
        _ => Err(format!(
            "key is not a Connect offset key [\"connector\", {{partition}}]: {}",
            preview(bytes)
        )),
    }
}

impl ConnectKey {
    /// A string field of the source partition.
    pub fn string_field(&self, name: &str) -> Result<&str, String> {
        match self.partition.get(name) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(format!("field {name:?} must be a string, got {other}")),
            None => Err(format!("field {name:?} is missing")),
        }
    }

    /// A Kafka partition number field (a JSON integer in 0..=i32::MAX).
    pub fn partition_field(&self, name: &str) -> Result<i32, String> {
        match self.partition.get(name) {
            Some(Value::Number(n)) => n
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .filter(|n| *n >= 0)
                .ok_or_else(|| format!("field {name:?} must be a partition number >= 0, got {n}")),
            Some(other) => Err(format!("field {name:?} must be an integer, got {other}")),
            None => Err(format!("field {name:?} is missing")),
        }
    }

    /// Refuses fields other than `expected` (a different key shape, not something to guess at).
    pub fn only_fields(&self, expected: &[&str]) -> Result<(), String> {
        match self.partition.keys().find(|k| !expected.contains(&k.as_str())) {
            Some(extra) => Err(format!(
                "unexpected field {extra:?} in the source partition (expected {})",
                expected.join(", ")
            )),
            None => Ok(()),
        }
    }

    /// The `{"topic":T,"partition":P}` source partition used by Replicator and Mirus.
    pub fn topic_partition(&self) -> Result<(String, i32), String> {
        self.only_fields(&["topic", "partition"])?;
        Ok((self.string_field("topic")?.to_owned(), self.partition_field("partition")?))
    }
}

/// The source partition of an MM2 source-offset key `[connector,{"cluster","partition","topic"}]`:
/// `(connector, cluster, topic, partition)`. `None` for any other key shape (checkpoints, heartbeats).
pub fn parse_mm2_source_key(bytes: &[u8]) -> Option<(String, String, String, i32)> {
    if let Some((connector, cluster, topic, partition)) = canonical_mm2_source_key(bytes) {
        return Some((connector.into_owned(), cluster.into_owned(), topic.into_owned(), partition));
    }
    mm2_source_key_through_tree(bytes)
}

/// [`parse_mm2_source_key`] for a key in any field order and spacing.
fn mm2_source_key_through_tree(bytes: &[u8]) -> Option<(String, String, String, i32)> {
    let key = parse_key(bytes).ok()?;
    key.only_fields(&["cluster", "partition", "topic"]).ok()?;
    let cluster = key.string_field("cluster").ok()?.to_owned();
    let topic = key.string_field("topic").ok()?.to_owned();
    let partition = key.partition_field("partition").ok()?;
    Some((key.connector, cluster, topic, partition))
}

/// `(connector, cluster, topic, partition)` of an MM2 key, borrowed from its bytes where they
/// hold no escapes.
pub type CanonicalMm2Key<'a> = (Cow<'a, str>, Cow<'a, str>, Cow<'a, str>, i32);

/// An MM2 source-offset key in exactly the bytes MM2 writes for it, read in one typed pass:
/// `(connector, cluster, topic, partition)`, `None` for anything else.
pub fn canonical_mm2_source_key(bytes: &[u8]) -> Option<CanonicalMm2Key<'_>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Fields<'a> {
        #[serde(borrow)]
        cluster: Cow<'a, str>,
        partition: i32,
        #[serde(borrow)]
        topic: Cow<'a, str>,
    }
    let (connector, fields) = canonical_key(bytes, |connector, f: &Fields<'_>| {
        f.partition >= 0 && jackson::mm2_source_key(connector, &f.cluster, &f.topic, f.partition) == bytes
    })?;
    Some((connector, fields.cluster, fields.topic, fields.partition))
}

/// A `[connector,{"topic":T,"partition":P}]` key in exactly the bytes Connect writes for it
/// (Replicator's, Mirus's, consumer groups' as the host presents them), read in one typed pass:
/// `None` for anything else, which [`parse_key`] and [`is_canonical`] then examine. Nearly every
/// key is canonical, and the JSON tree was most of a mapping's cost (issue 13).
pub fn canonical_topic_partition_key(bytes: &[u8]) -> Option<(Cow<'_, str>, Cow<'_, str>, i32)> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Fields<'a> {
        #[serde(borrow)]
        topic: Cow<'a, str>,
        partition: i32,
    }
    let (connector, fields) = canonical_key(bytes, |connector, f: &Fields<'_>| {
        let canonical = [("topic", Scalar::Str(&f.topic)), ("partition", Scalar::Int(i64::from(f.partition)))];
        f.partition >= 0 && is_canonical(bytes, connector, &canonical)
    })?;
    Some((connector, fields.topic, fields.partition))
}

/// The typed pass of the canonical-key readers: `bytes` as `[connector, fields]`, kept only when
/// `canonical` says they are exactly the bytes written for what they hold (a struct would also
/// take an array, another field order or spacing: the byte comparison refuses those).
fn canonical_key<'a, F: serde::Deserialize<'a>>(
    bytes: &'a [u8],
    canonical: impl FnOnce(&str, &F) -> bool,
) -> Option<(Cow<'a, str>, F)> {
    let (connector, fields): (Cow<'a, str>, F) = serde_json::from_slice(bytes).ok()?;
    canonical(&connector, &fields).then_some((connector, fields))
}

/// Whether `bytes` are exactly the bytes Connect writes for this key with fields in `order`.
pub fn is_canonical(bytes: &[u8], connector: &str, fields: &[(&str, Scalar<'_>)]) -> bool {
    bytes == jackson::connect_key(connector, fields).as_slice()
}

/// Reads the offset from a Connect offset value `{"offset":N,...}`: N must be a JSON integer >= 0.
pub fn parse_offset_value(bytes: &[u8]) -> Result<i64, String> {
    // A JSON object read in one typed pass when it is one (a struct would also take an array);
    // anything it does not take goes through the tree, which says what is wrong.
    #[derive(serde::Deserialize)]
    struct Offset {
        offset: i64,
    }
    if bytes.trim_ascii_start().starts_with(b"{")
        && let Ok(Offset { offset }) = serde_json::from_slice(bytes)
        && offset >= 0
    {
        return Ok(offset);
    }
    parse_offset_field(bytes, "offset")
}

/// Reads a non-negative integer field from a JSON object value.
pub fn parse_offset_field(bytes: &[u8], field: &str) -> Result<i64, String> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("value is not JSON ({e}): {}", preview(bytes)))?;
    let Value::Object(map) = value else {
        return Err(format!("value is not a JSON object: {}", preview(bytes)));
    };
    match map.get(field) {
        None => Err(format!("value has no {field:?} field: {}", preview(bytes))),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) if v >= 0 => Ok(v),
            Some(v) => Err(format!("{field} {v} is negative")),
            None => Err(format!("{field} {n} is not a 64-bit integer")),
        },
        Some(other) => Err(format!("{field} must be a JSON integer, got {other}")),
    }
}

/// At most 200 characters of possibly binary bytes, for error messages.
pub fn preview(bytes: &[u8]) -> String {
    const MAX: usize = 200;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX)]);
    if bytes.len() > MAX { format!("{text}… ({} bytes)", bytes.len()) } else { text.into_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_typed_passes_agree_with_the_tree() {
        for key in [
            r#"["rep",{"topic":"a","partition":3}]"#,
            r#"["rep",{"topic":"a\"b","partition":0}]"#,
            r#"["rep",{"partition":3,"topic":"a"}]"#,
            r#"["rep", {"topic":"a","partition":3}]"#,
            r#"["rep",{"topic":"a","partition":-1}]"#,
            r#"["rep",{"topic":"a","partition":3,"x":1}]"#,
            r#"["rep",{"topic":"\u0061","partition":3}]"#,
            r#"["rep",["a",3]]"#,
            r#"["rep",{"topic":"a","partition":3.0}]"#,
        ] {
            let typed = canonical_topic_partition_key(key.as_bytes()).map(|(c, t, p)| (c.into_owned(), t.into_owned(), p));
            let tree = parse_key(key.as_bytes()).ok().and_then(|k| {
                let (topic, partition) = k.topic_partition().ok()?;
                let canonical = [("topic", Scalar::Str(&topic)), ("partition", Scalar::Int(i64::from(partition)))];
                is_canonical(key.as_bytes(), &k.connector, &canonical).then_some((k.connector.clone(), topic, partition))
            });
            assert_eq!(typed, tree, "{key}");
        }
        for key in [
            r#"["MirrorSourceConnector",{"cluster":"a","partition":0,"topic":"t"}]"#,
            r#"["c",{"cluster":"","partition":2147483647,"topic":"\"x"}]"#,
            r#"["c",{"cluster":"a","topic":"t","partition":0}]"#,
            r#"["c",{"cluster":"a","partition":-1,"topic":"t"}]"#,
            r#"["c",{"cluster":"a","partition":0,"topic":"t","x":1}]"#,
            r#"["c",["a",0,"t"]]"#,
            r#"["c",{"cluster":"\u0061","partition":0,"topic":"t"}]"#,
        ] {
            let typed = canonical_mm2_source_key(key.as_bytes())
                .map(|(c, cl, t, p)| (c.into_owned(), cl.into_owned(), t.into_owned(), p));
            let tree = mm2_source_key_through_tree(key.as_bytes()).filter(|(c, cl, t, p)| {
                jackson::mm2_source_key(c, cl, t, *p) == key.as_bytes()
            });
            assert_eq!(typed, tree, "{key}");
            assert_eq!(parse_mm2_source_key(key.as_bytes()), mm2_source_key_through_tree(key.as_bytes()), "{key}");
        }
        for value in [r#"{"offset":5}"#, r#" {"offset":5,"x":[1]}"#, r#"[5]"#, r#"{"offset":-1}"#, r#"{"offset":5,"offset":6}"#, r#"{"offset":1.0}"#, r#"{"offset":9223372036854775808}"#, r#"{}"#] {
            assert_eq!(parse_offset_value(value.as_bytes()).ok(), parse_offset_field(value.as_bytes(), "offset").ok(), "{value}");
        }
    }

    #[test]
    fn parses_keys_in_any_order_and_spacing() {
        for key in [
            r#"["rep",{"topic":"a","partition":3}]"#,
            r#"[ "rep" , { "partition" : 3 , "topic" : "a" } ]"#,
        ] {
            let parsed = parse_key(key.as_bytes()).unwrap();
            assert_eq!(parsed.connector, "rep");
            assert_eq!(parsed.topic_partition().unwrap(), ("a".to_owned(), 3));
        }
    }

    #[test]
    fn canonical_means_byte_exact() {
        let fields = [("topic", Scalar::Str("a")), ("partition", Scalar::Int(3))];
        assert!(is_canonical(br#"["rep",{"topic":"a","partition":3}]"#, "rep", &fields));
        assert!(!is_canonical(br#"["rep",{"partition":3,"topic":"a"}]"#, "rep", &fields));
        assert!(!is_canonical(br#"["rep", {"topic":"a","partition":3}]"#, "rep", &fields));
        assert!(!is_canonical(br#"["rep",{"topic":"a","partition":3.0}]"#, "rep", &fields));
    }

    #[test]
    fn rejects_shapes_that_are_not_connect_keys() {
        for (key, needle) in [
            ("not json", "not JSON"),
            (r#"{"topic":"a"}"#, "not a Connect offset key"),
            (r#"["rep"]"#, "1 elements"),
            (r#"[1,{"topic":"a","partition":0}]"#, "not a Connect offset key"),
            (r#"["rep","x"]"#, "not a Connect offset key"),
        ] {
            let err = parse_key(key.as_bytes()).unwrap_err();
            assert!(err.contains(needle), "{key}: {err}");
        }
    }

    #[test]
    fn topic_partition_fields_are_checked() {
        for (key, needle) in [
            (r#"["r",{"topic":"a"}]"#, "\"partition\" is missing"),
            (r#"["r",{"partition":0}]"#, "\"topic\" is missing"),
            (r#"["r",{"topic":"a","partition":"0"}]"#, "must be an integer"),
            (r#"["r",{"topic":"a","partition":-1}]"#, ">= 0"),
            (r#"["r",{"topic":"a","partition":2147483648}]"#, ">= 0"),
            (r#"["r",{"topic":"a","partition":1.5}]"#, ">= 0"),
            (r#"["r",{"topic":7,"partition":0}]"#, "must be a string"),
            (r#"["r",{"topic":"a","partition":0,"cluster":"x"}]"#, "unexpected field \"cluster\""),
        ] {
            let err = parse_key(key.as_bytes()).unwrap().topic_partition().unwrap_err();
            assert!(err.contains(needle), "{key}: {err}");
        }
    }

    #[test]
    fn mm2_source_keys() {
        assert_eq!(
            parse_mm2_source_key(br#"["MirrorSourceConnector",{"cluster":"a","partition":2,"topic":"t"}]"#),
            Some(("MirrorSourceConnector".into(), "a".into(), "t".into(), 2))
        );
        // Checkpoint and heartbeat keys have other shapes.
        assert_eq!(parse_mm2_source_key(br#"["MirrorCheckpointConnector",{"consumergroup":"g","partition":0,"topic":"t"}]"#), None);
        assert_eq!(parse_mm2_source_key(br#"["MirrorHeartbeatConnector",{"sourceClusterAlias":"a","targetClusterAlias":"b"}]"#), None);
    }

    #[test]
    fn offset_values() {
        assert_eq!(parse_offset_value(br#"{"offset":41}"#), Ok(41));
        assert_eq!(parse_offset_value(br#" { "offset" : 0 } "#), Ok(0));
        assert_eq!(parse_offset_value(br#"{"offset":9223372036854775807}"#), Ok(i64::MAX));
        for (value, needle) in [
            (r#"{"offset":-1}"#, "negative"),
            (r#"{"offset":1.0}"#, "not a 64-bit integer"),
            (r#"{"offset":1e3}"#, "not a 64-bit integer"),
            (r#"{"offset":9223372036854775808}"#, "not a 64-bit integer"),
            (r#"{"offset":"1"}"#, "must be a JSON integer"),
            (r#"{"offset":null}"#, "must be a JSON integer"),
            (r#"{"offsets":1}"#, "no \"offset\" field"),
            (r#"[1]"#, "not a JSON object"),
            (r#"{"offset":"#, "not JSON"),
        ] {
            let err = parse_offset_value(value.as_bytes()).unwrap_err();
            assert!(err.contains(needle), "{value}: {err}");
        }
    }
}
