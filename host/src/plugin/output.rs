//! The one place plugin output is admitted. A plugin is someone else's code: whatever it emits,
//! only MM2 source-offset records in MM2's exact bytes, within the policy's bounds and to an
//! allowed topic, ever reach a plan or a write.
//!
//! MM2 finds its offset by the key's exact bytes (offsets-domain §2) and its task throws on an
//! offset that is not a JSON integer >= 0 (§1), so anything else would be written in vain or
//! break MM2: it is refused, naming the input record it came from.

use connect_offsets::connect::{canonical_mm2_source_key, parse_offset_value};
use connect_offsets::jackson::{mm2_source_key, offset_value};
use serde_json::Value;

use super::wit;
use crate::policy::Policy;

/// A batch's outcomes against the policy's output bounds and target topics; the limit broken
/// and what broke it otherwise.
pub fn check_batch(policy: &Policy, outcomes: &[wit::Outcome]) -> Result<(), (&'static str, String)> {
    let bounds = policy.output();
    let mut batch_bytes = 0u64;
    // A batch's records nearly all go to one topic: each topic is checked when it changes, not
    // once per record (the policy's patterns were most of the host's cost per record).
    let mut allowed_topic: Option<&str> = None;
    for (index, outcome) in outcomes.iter().enumerate() {
        let wit::Outcome::Emit(records) = outcome else { continue };
        if records.len() as u64 > bounds.max_records_per_input {
            return Err((
                "output.max-records-per-input",
                format!("{} records for input {index}, at most {}", records.len(), bounds.max_records_per_input),
            ));
        }
        for record in records {
            let bytes = record_bytes(record);
            if bytes > bounds.max_record_bytes {
                return Err(("output.max-record-bytes", format!("a record of {bytes} bytes, at most {}", bounds.max_record_bytes)));
            }
            batch_bytes += bytes;
            if allowed_topic != Some(record.topic.as_str()) {
                if let Err(why) = policy.check_target(&record.topic) {
                    return Err(("topics.target", format!("it emitted to topic {:?}: {why}", super::untrusted::label(&record.topic))));
                }
                allowed_topic = Some(&record.topic);
            }
        }
    }
    if batch_bytes > bounds.max_batch_bytes {
        return Err(("output.max-batch-bytes", format!("{batch_bytes} bytes in one batch, at most {}", bounds.max_batch_bytes)));
    }
    Ok(())
}

fn record_bytes(r: &wit::KafkaRecord) -> u64 {
    let headers: usize = r.headers.iter().map(|h| h.key.len() + h.value.as_ref().map_or(0, Vec::len)).sum();
    (r.topic.len() + r.key.as_ref().map_or(0, Vec::len) + r.value.as_ref().map_or(0, Vec::len) + headers) as u64
}

/// The largest offset MM2 can be given: it seeks to V+1, which must not overflow.
pub const MAX_OFFSET: i64 = i64::MAX - 1;

/// An MM2 source-offset key, as parsed from a plugin's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mm2Key {
    pub connector: String,
    pub cluster: String,
    pub topic: String,
    pub partition: i32,
}

/// Why a plugin's output record is not one MM2 reads; the bytes shown are escaped and bounded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotMm2 {
    #[error("the key is not an MM2 source-offset key ({why}): {shown}")]
    Key { why: String, shown: String },
    #[error("the key is not the bytes Jackson writes for it, so MM2 would never find it: {shown} instead of {canonical}")]
    NotCanonicalKey { shown: String, canonical: String },
    #[error("the value is not an MM2 source offset ({why}): {shown}")]
    Offset { why: String, shown: String },
}

/// Checks that `key` is exactly the bytes MM2 writes for a source offset:
/// `["<connector>",{"cluster":S,"partition":P,"topic":T}]` with P an int in 0..=2^31-1, as
/// Jackson serializes it.
pub fn mm2_key(key: &[u8]) -> Result<Mm2Key, NotMm2> {
    // Most keys are right: parsed in one typed pass and accepted only when they are exactly the
    // bytes Jackson writes for what they hold; anything else goes through the checks below,
    // which say what is wrong (the tree they build was most of the cost of admitting a record).
    if let Some((connector, cluster, topic, partition)) = canonical_mm2_source_key(key)
        && !connector.is_empty()
        && !topic.is_empty()
    {
        return Ok(Mm2Key { connector: connector.into_owned(), cluster: cluster.into_owned(), topic: topic.into_owned(), partition });
    }
    mm2_key_checked(key)
}

/// [`mm2_key`] through a JSON tree, naming what is wrong.
fn mm2_key_checked(key: &[u8]) -> Result<Mm2Key, NotMm2> {
    let not_mm2 = |why: &str| NotMm2::Key { why: why.to_owned(), shown: preview(key) };
    let value: Value = serde_json::from_slice(key).map_err(|_| not_mm2("not JSON"))?;
    let Value::Array(items) = value else { return Err(not_mm2("not a JSON array")) };
    let [Value::String(connector), Value::Object(map)] = items.as_slice() else {
        return Err(not_mm2("expected [connector name, {cluster, partition, topic}]"));
    };
    let mut names: Vec<&str> = map.keys().map(String::as_str).collect();
    names.sort_unstable();
    if names != ["cluster", "partition", "topic"] {
        return Err(not_mm2(&format!("its fields are {names:?}, MM2's are exactly cluster, partition, topic")));
    }
    let string = |name: &str| match &map[name] {
        Value::String(s) => Ok(s.clone()),
        other => Err(not_mm2(&format!("{name} must be a string, got {other}"))),
    };
    let (cluster, topic) = (string("cluster")?, string("topic")?);
    let partition = match &map["partition"] {
        Value::Number(n) => n.as_i64().and_then(|p| i32::try_from(p).ok()).filter(|p| *p >= 0),
        _ => None,
    }
    .ok_or_else(|| not_mm2(&format!("partition must be an integer in 0..=2147483647, got {}", map["partition"])))?;
    if connector.is_empty() || topic.is_empty() {
        return Err(not_mm2("an empty connector or topic name"));
    }
    let canonical = mm2_source_key(connector, &cluster, &topic, partition);
    if canonical != key {
        return Err(NotMm2::NotCanonicalKey { shown: preview(key), canonical: preview(&canonical) });
    }
    Ok(Mm2Key { connector: connector.clone(), cluster, topic, partition })
}

/// Checks that `value` is exactly `{"offset":V}` with 0 <= V <= [`MAX_OFFSET`]; returns V.
pub fn mm2_offset(value: &[u8]) -> Result<i64, NotMm2> {
    // As for keys: the typed pass accepts exactly MM2's bytes, the checks below say what is wrong.
    if let Ok(offset) = parse_offset_value(value)
        && offset <= MAX_OFFSET
        && offset_value(offset) == value
    {
        return Ok(offset);
    }
    mm2_offset_checked(value)
}

/// [`mm2_offset`] through a JSON tree, naming what is wrong.
fn mm2_offset_checked(value: &[u8]) -> Result<i64, NotMm2> {
    let bad = |why: String| NotMm2::Offset { why, shown: preview(value) };
    let parsed: Value = serde_json::from_slice(value).map_err(|_| bad("not JSON".to_owned()))?;
    let Value::Object(map) = &parsed else { return Err(bad("not a JSON object".to_owned())) };
    if map.len() != 1 || !map.contains_key("offset") {
        return Err(bad("MM2's value has exactly one field, offset".to_owned()));
    }
    let offset = map["offset"]
        .as_i64()
        .filter(|v| (0..=MAX_OFFSET).contains(v))
        .ok_or_else(|| bad(format!("offset must be an integer in 0..={MAX_OFFSET}, got {}", map["offset"])))?;
    if offset_value(offset) != value {
        return Err(bad(format!("not in canonical form {}", String::from_utf8_lossy(&offset_value(offset)))));
    }
    Ok(offset)
}

/// A short, escaped rendering of untrusted bytes for messages.
fn preview(bytes: &[u8]) -> String {
    super::untrusted::message(&String::from_utf8_lossy(&bytes[..bytes.len().min(300)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &str = r#"["MirrorSourceConnector",{"cluster":"a","partition":0,"topic":"t"}]"#;

    #[test]
    fn admits_exactly_mm2_keys() {
        let key = mm2_key(K.as_bytes()).unwrap();
        assert_eq!((key.cluster.as_str(), key.topic.as_str(), key.partition), ("a", "t", 0));
        let max = r#"["c",{"cluster":"a","partition":2147483647,"topic":"é/\"x"}]"#;
        assert!(mm2_key(max.as_bytes()).is_ok());
        for (bad, why) in [
            (r#"["MirrorSourceConnector",{"cluster":"a","partition":"0","topic":"t"}]"#, "must be an integer"),
            (r#"["MirrorSourceConnector",{"cluster":"a","partition":1.0,"topic":"t"}]"#, "must be an integer"),
            (r#"["MirrorSourceConnector",{"cluster":"a","partition":-0,"topic":"t"}]"#, "must be an integer"),
            (r#"["MirrorSourceConnector",{"cluster":"a","partition":2147483648,"topic":"t"}]"#, "must be an integer"),
            (r#"["MirrorSourceConnector",{"cluster":"a","partition":-1,"topic":"t"}]"#, "must be an integer"),
            (r#"["MirrorSourceConnector",{"cluster":"a","partition":0,"topic":"t","x":1}]"#, "its fields are"),
            (r#"["MirrorSourceConnector",{"partition":0,"topic":"t"}]"#, "its fields are"),
            (r#"["MirrorSourceConnector",{"cluster":"a","topic":"t","partition":0}]"#, "not the bytes Jackson writes"),
            (r#"["MirrorSourceConnector", {"cluster":"a","partition":0,"topic":"t"}]"#, "not the bytes Jackson writes"),
            (r#"["MirrorSourceConnector",{"cluster":"\u00e9","partition":0,"topic":"t"}]"#, "not the bytes Jackson writes"),
            (r#"["replicator",{"topic":"t","partition":0}]"#, "its fields are"),
            (r#"["MirrorSourceConnector",{"cluster":1,"partition":0,"topic":"t"}]"#, "must be a string"),
            (r#"{"a":1}"#, "not a JSON array"),
            ("[\"x\", {}", "not JSON"),
        ] {
            let err = mm2_key(bad.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn every_record_of_a_batch_goes_to_an_allowed_topic() {
        let record = |topic: &str| wit::KafkaRecord {
            topic: topic.to_owned(),
            partition: None,
            offset: None,
            timestamp: None,
            key: Some(K.as_bytes().to_vec()),
            value: Some(br#"{"offset":1}"#.to_vec()),
            headers: Vec::new(),
        };
        let policy = Policy::builtin();
        let allowed = "mm2-offsets.a.internal";
        let emit = |topics: &[&str]| wit::Outcome::Emit(topics.iter().map(|t| record(t)).collect());
        assert!(check_batch(&policy, &[emit(&[allowed]), emit(&[allowed])]).is_ok());
        // A forbidden topic after allowed ones, in the same input's output or a later one.
        for outcomes in [
            vec![emit(&[allowed]), emit(&[allowed, "__consumer_offsets"])],
            vec![emit(&[allowed]), emit(&["orders"]), emit(&[allowed])],
        ] {
            let (limit, detail) = check_batch(&policy, &outcomes).unwrap_err();
            assert_eq!(limit, "topics.target", "{detail}");
        }
    }

    #[test]
    fn the_typed_pass_admits_only_what_the_checks_admit() {
        let keys = [
            K,
            r#"["c",{"cluster":"a","partition":2147483647,"topic":"é/\"x"}]"#,
            r#"["MirrorSourceConnector",{"cluster":"a","partition":-1,"topic":"t"}]"#,
            r#"["MirrorSourceConnector",{"cluster":"a","topic":"t","partition":0}]"#,
            r#"["MirrorSourceConnector",{"cluster":"a","partition":0,"topic":"t","x":1}]"#,
            r#"["MirrorSourceConnector",{"cluster":"a","partition":0,"topic":"t","topic":"t"}]"#,
            r#"["",{"cluster":"a","partition":0,"topic":"t"}]"#,
            r#"["c",{"cluster":"a","partition":0,"topic":""}]"#,
            r#"["c",{"cluster":"\u0061","partition":0,"topic":"t"}]"#,
            r#"["c",{"cluster":"a","partition":0,"topic":"t"}] "#,
        ];
        for key in keys {
            assert_eq!(mm2_key(key.as_bytes()), mm2_key_checked(key.as_bytes()), "{key}");
        }
        for value in [r#"{"offset":0}"#, r#"{"offset":-1}"#, r#"{"offset":1,"offset":1}"#, r#"{"offset":01}"#, r#"{"offset":9223372036854775807}"#, r#"{"offset":5,"x":1}"#, r#"{ "offset":5}"#] {
            assert_eq!(mm2_offset(value.as_bytes()), mm2_offset_checked(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn admits_exactly_mm2_offsets() {
        assert_eq!(mm2_offset(br#"{"offset":0}"#), Ok(0));
        assert_eq!(mm2_offset(format!(r#"{{"offset":{MAX_OFFSET}}}"#).as_bytes()), Ok(MAX_OFFSET));
        for bad in [
            r#"{"offset":-1}"#,
            r#"{"offset":-1.5}"#,
            r#"{"offset":1.0}"#,
            r#"{"offset":"1"}"#,
            r#"{"offset":9223372036854775807}"#,
            r#"{"offset":1,"x":2}"#,
            r#"{"offset": 1}"#,
            r#"{"offset":01}"#,
            r#"[1]"#,
        ] {
            assert!(mm2_offset(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
