//! Offline input: one record per line in kcat's `-J` envelope
//! (`{"topic":..,"partition":..,"offset":..,"key":..,"payload":..}`, `null` for an absent key or
//! payload, other fields ignored), so that `kcat -C -J -e -t connect-offsets > dump.jsonl` is a
//! valid input.

use std::io::BufRead;
use std::sync::Arc;

use serde_json::Value;

use crate::model::{Origin, SourceRecord};

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read the input: {0}")]
    Io(#[from] std::io::Error),
    #[error("line {line} is longer than {} MiB; an offsets record is far smaller (is this the right file?)", MAX_LINE_BYTES >> 20)]
    LineTooLong { line: usize },
}

/// The longest input line read: a kcat envelope of a 1 MiB record with every byte escaped fits.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// The lines of a reader with their 1-based numbers (without the newline), each at most
/// [`MAX_LINE_BYTES`]: a file without newlines (`/dev/zero`) is refused, not read into memory.
/// Each line is lent from one buffer (parsing copies out what it keeps), so reading allocates
/// nothing per line.
pub struct BoundedLines<R> {
    reader: R,
    buffer: Vec<u8>,
    line: usize,
    done: bool,
}

impl<R: BufRead> BoundedLines<R> {
    pub fn new(reader: R) -> BoundedLines<R> {
        BoundedLines { reader, buffer: Vec::new(), line: 0, done: false }
    }

    /// The next line and its number, `None` at the end; after an error, `None`.
    pub fn next_line(&mut self) -> Option<Result<(usize, &[u8]), InputError>> {
        if self.done {
            return None;
        }
        self.line += 1;
        self.buffer.clear();
        match std::io::Read::take(&mut self.reader, MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut self.buffer) {
            Ok(0) => {
                self.done = true;
                None
            }
            Ok(_) => {
                if self.buffer.last() == Some(&b'\n') {
                    self.buffer.pop();
                } else if self.buffer.len() > MAX_LINE_BYTES {
                    self.done = true;
                    return Some(Err(InputError::LineTooLong { line: self.line }));
                }
                Some(Ok((self.line, &self.buffer)))
            }
            Err(e) => {
                self.done = true;
                Some(Err(InputError::Io(e)))
            }
        }
    }
}

/// A line that is not a valid envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedLine {
    pub line: usize,
    pub reason: String,
}

/// The envelope as a well-formed line holds it: parsed in one typed pass, without building a
/// JSON tree (most of `translate`'s time went there). Anything it does not take (a wrong type,
/// a duplicate field, not JSON) is parsed again by [`envelope_through_tree`], which says what is
/// wrong; the values of both are checked in one place ([`TypedEnvelope::into_record`]).
#[derive(serde::Deserialize)]
struct TypedEnvelope<'a> {
    #[serde(default, borrow)]
    topic: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    partition: Option<i64>,
    #[serde(default)]
    offset: Option<i64>,
    #[serde(default)]
    ts: Option<i64>,
    #[serde(default)]
    key: Nullable,
    #[serde(default)]
    payload: Nullable,
}

/// A field that must be present but may be `null`.
#[derive(Default)]
enum Nullable {
    #[default]
    Missing,
    Null,
    Text(String),
}

impl<'de> serde::Deserialize<'de> for Nullable {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<String>::deserialize(deserializer)?.map_or(Nullable::Null, Nullable::Text))
    }
}

/// Parses one envelope line (1-based `line` for messages).
pub fn parse_envelope(line: usize, text: &str) -> Result<SourceRecord, MalformedLine> {
    EnvelopeParser::default().parse(line, text)
}

/// Parses envelope lines; the records of one topic share its name (a dump is one topic, and a
/// copy of its name per record was a measurable part of `translate`).
#[derive(Default)]
struct EnvelopeParser {
    topic: Option<Arc<str>>,
}

impl EnvelopeParser {
    fn parse(&mut self, line: usize, text: &str) -> Result<SourceRecord, MalformedLine> {
        let envelope = match serde_json::from_str::<TypedEnvelope<'_>>(text) {
            Ok(typed) => typed,
            Err(_) => envelope_through_tree(line, text)?,
        };
        let topic = envelope.topic.as_deref().map(|topic| match &self.topic {
            Some(shared) if **shared == *topic => Arc::clone(shared),
            _ => Arc::clone(self.topic.insert(Arc::from(topic))),
        });
        envelope.into_record(line, topic)
    }
}

impl TypedEnvelope<'_> {
    /// The record of `topic` (this envelope's, shared), once the values are checked: key and
    /// payload present (possibly null), a partition that fits an i32, neither partition nor
    /// offset negative.
    fn into_record(self, line: usize, topic: Option<Arc<str>>) -> Result<SourceRecord, MalformedLine> {
        let bad = |reason: String| MalformedLine { line, reason };
        let bytes = |field: Nullable, name: &str| match field {
            Nullable::Missing => Err(bad(format!("field {name:?} is missing (use null for an absent {name})"))),
            Nullable::Null => Ok(None),
            Nullable::Text(s) => Ok(Some(s.into_bytes())),
        };
        let (key, value) = (bytes(self.key, "key")?, bytes(self.payload, "payload")?);
        let partition = self
            .partition
            .map(|p| i32::try_from(p).ok().filter(|p| *p >= 0).ok_or_else(|| bad(format!("partition {p} is out of range"))))
            .transpose()?;
        if let Some(o) = self.offset.filter(|o| *o < 0) {
            return Err(bad(format!("offset {o} is negative")));
        }
        Ok(SourceRecord {
            origin: Origin::Line(line),
            topic,
            partition,
            offset: self.offset,
            timestamp: self.ts,
            key,
            value,
        })
    }
}

/// The envelope through a JSON tree: what a line the typed pass does not take gets, for a
/// message naming what is wrong with it.
fn envelope_through_tree(line: usize, text: &str) -> Result<TypedEnvelope<'static>, MalformedLine> {
    let bad = |reason: String| MalformedLine { line, reason };
    let value: Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(bad("not a JSON object".to_owned()));
    };
    let nullable = |name: &str| match fields.get(name) {
        None => Ok(Nullable::Missing),
        Some(Value::Null) => Ok(Nullable::Null),
        Some(Value::String(s)) => Ok(Nullable::Text(s.clone())),
        Some(other) => Err(bad(format!("field {name:?} must be a string or null, got {}", kind(other)))),
    };
    let int_field = |name: &str| -> Result<Option<i64>, MalformedLine> {
        match fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| bad(format!("field {name:?} must be an integer, got {n}"))),
            Some(other) => Err(bad(format!("field {name:?} must be an integer, got {}", kind(other)))),
        }
    };
    let topic = match fields.get("topic") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(std::borrow::Cow::Owned(s.clone())),
        Some(other) => return Err(bad(format!("field \"topic\" must be a string, got {}", kind(other)))),
    };
    Ok(TypedEnvelope {
        topic,
        partition: int_field("partition")?,
        offset: int_field("offset")?,
        ts: int_field("ts")?,
        key: nullable("key")?,
        payload: nullable("payload")?,
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The envelopes of `reader`, line by line; blank lines are ignored. A malformed line is an
/// item of its own so the caller decides whether it aborts the run.
pub fn envelopes(reader: impl BufRead) -> impl Iterator<Item = Result<Result<SourceRecord, MalformedLine>, InputError>> {
    let mut parser = EnvelopeParser::default();
    parsed_lines(reader, move |line, bytes| match std::str::from_utf8(bytes) {
        Err(e) => Some(Err(MalformedLine { line, reason: format!("not UTF-8: {e}") })),
        Ok(text) if text.trim().is_empty() => None,
        Ok(text) => Some(parser.parse(line, text)),
    })
}

/// Consumer-group offsets exported as `topic,partition,offset` lines (uReplicator keeps them in
/// ZooKeeper under `/consumers/<group>/offsets/<topic>/<partition>`); blank lines and `#` comments
/// are ignored. Each line becomes the record a live `--source-group` read produces.
pub fn group_offset_lines(
    reader: impl BufRead,
    group: String,
) -> impl Iterator<Item = Result<Result<SourceRecord, MalformedLine>, InputError>> {
    parsed_lines(reader, move |line, bytes| match std::str::from_utf8(bytes).map(str::trim) {
        Err(e) => Some(Err(MalformedLine { line, reason: format!("not UTF-8: {e}") })),
        Ok(text) if text.is_empty() || text.starts_with('#') => None,
        Ok(text) => Some(parse_group_offset(line, text, &group)),
    })
}

/// `parse` applied to each line of `reader` (`None`: a line without a record).
fn parsed_lines(
    reader: impl BufRead,
    mut parse: impl FnMut(usize, &[u8]) -> Option<Result<SourceRecord, MalformedLine>>,
) -> impl Iterator<Item = Result<Result<SourceRecord, MalformedLine>, InputError>> {
    let mut lines = BoundedLines::new(reader);
    std::iter::from_fn(move || {
        loop {
            match lines.next_line()? {
                Err(e) => return Some(Err(e)),
                Ok((line, bytes)) => {
                    if let Some(parsed) = parse(line, bytes) {
                        return Some(Ok(parsed));
                    }
                }
            }
        }
    })
}

fn parse_group_offset(line: usize, text: &str, group: &str) -> Result<SourceRecord, MalformedLine> {
    let bad = |reason: String| MalformedLine { line, reason };
    let fields: Vec<&str> = text.split(',').map(str::trim).collect();
    let [topic, partition, offset] = fields.as_slice() else {
        return Err(bad(format!("expected topic,partition,offset, got {} fields", fields.len())));
    };
    if topic.is_empty() {
        return Err(bad("the topic is empty".to_owned()));
    }
    let partition: i32 = partition
        .parse()
        .ok()
        .filter(|p: &i32| *p >= 0)
        .ok_or_else(|| bad(format!("partition {partition:?} is not a number >= 0")))?;
    let offset: i64 = offset
        .parse()
        .ok()
        .filter(|o: &i64| *o >= 0)
        .ok_or_else(|| bad(format!("offset {offset:?} is not a number >= 0")))?;
    Ok(crate::kafka::group_record(group, topic, partition, offset, Origin::Line(line)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_kcat_envelope() {
        let line = r#"{"topic":"connect-offsets","partition":3,"offset":17,"tstype":"create","ts":1700000000000,"broker":0,"headers":null,"key":"[\"replicator\",{\"topic\":\"t\",\"partition\":0}]","payload":"{\"offset\":5}"}"#;
        let r = parse_envelope(1, line).unwrap();
        assert_eq!(r.topic.as_deref(), Some("connect-offsets"));
        assert_eq!((r.partition, r.offset, r.timestamp), (Some(3), Some(17), Some(1_700_000_000_000)));
        assert_eq!(r.key.as_deref(), Some(br#"["replicator",{"topic":"t","partition":0}]"#.as_slice()));
        assert_eq!(r.value.as_deref(), Some(br#"{"offset":5}"#.as_slice()));
        assert_eq!(r.origin, Origin::Line(1));
    }

    #[test]
    fn group_offset_lines_become_group_records() {
        let text = "# exported from ZooKeeper\norders,0,100\n\n orders , 1 , 0 \norders,x,1\norders,2\n";
        let items: Vec<_> = group_offset_lines(text.as_bytes(), "ureplicator-g".to_owned()).map(|r| r.unwrap()).collect();
        assert_eq!(items.len(), 4);
        let first = items[0].as_ref().unwrap();
        assert_eq!(first.key.as_deref(), Some(br#"["ureplicator-g",{"topic":"orders","partition":0}]"#.as_slice()));
        assert_eq!(first.value.as_deref(), Some(br#"{"offset":100}"#.as_slice()));
        assert_eq!(first.origin, Origin::Line(2));
        assert!(items[1].is_ok());
        assert!(items[2].as_ref().unwrap_err().reason.contains("partition \"x\""));
        assert!(items[3].as_ref().unwrap_err().reason.contains("got 2 fields"));
    }

    #[test]
    fn lines_are_bounded() {
        let endless = std::io::Read::take(std::io::repeat(b'x'), (MAX_LINE_BYTES + 10) as u64);
        let mut items = envelopes(std::io::BufReader::new(endless));
        assert!(matches!(items.next(), Some(Err(InputError::LineTooLong { line: 1 }))));
        assert!(items.next().is_none());
        let text = b"a\n\nb";
        let mut lines = BoundedLines::new(&text[..]);
        let mut seen = Vec::new();
        while let Some(line) = lines.next_line() {
            let (number, bytes) = line.unwrap();
            seen.push((number, bytes.to_vec()));
        }
        assert_eq!(seen, [(1, b"a".to_vec()), (2, Vec::new()), (3, b"b".to_vec())]);
    }

    #[test]
    fn null_payload_is_a_tombstone() {
        let r = parse_envelope(2, r#"{"key":"k","payload":null}"#).unwrap();
        assert_eq!(r.value, None);
        assert_eq!(r.partition, None);
    }

    #[test]
    fn the_typed_pass_and_the_checked_pass_read_the_same() {
        for text in [
            r#"{"topic":"connect-offsets","partition":3,"offset":7,"ts":12,"key":"[\"r\",{}]","payload":"{\"offset\":1}","tstype":"create","headers":["a","b"]}"#,
            r#"{"key":"k","payload":null}"#,
            r#"{"key":null,"payload":"v","topic":null,"partition":null}"#,
            r#"{"key":"k","payload":"x","key":"later"}"#,
        ] {
            let typed = parse_envelope(4, text).unwrap();
            let tree = envelope_through_tree(4, text).unwrap();
            let topic = tree.topic.as_deref().map(Arc::from);
            let checked = tree.into_record(4, topic).unwrap();
            assert_eq!(
                (typed.origin, typed.topic, typed.partition, typed.offset, typed.timestamp, typed.key, typed.value),
                (checked.origin, checked.topic, checked.partition, checked.offset, checked.timestamp, checked.key, checked.value),
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_lines_name_the_line_and_reason() {
        for (text, needle) in [
            ("{not json", "not JSON"),
            ("[1,2]", "not a JSON object"),
            (r#"{"payload":"x"}"#, "\"key\" is missing"),
            (r#"{"key":"x"}"#, "\"payload\" is missing"),
            (r#"{"key":{"a":1},"payload":"x"}"#, "must be a string or null, got an object"),
            (r#"{"key":"k","payload":"x","partition":"1"}"#, "must be an integer"),
            (r#"{"key":"k","payload":"x","partition":-1}"#, "out of range"),
            (r#"{"key":"k","payload":"x","offset":1.5}"#, "must be an integer"),
            (r#"{"key":"k","payload":"x","offset":-3}"#, "negative"),
            (r#"{"key":"k","payload":"x","topic":5}"#, "\"topic\" must be a string"),
        ] {
            let err = parse_envelope(9, text).unwrap_err();
            assert_eq!(err.line, 9);
            assert!(err.reason.contains(needle), "{text}: {}", err.reason);
        }
    }

    #[test]
    fn reads_lines_skipping_blanks_and_reporting_bad_utf8() {
        let input = b"{\"key\":\"a\",\"payload\":\"1\"}\n\n   \n\xff\xfe\n{\"key\":\"b\",\"payload\":null}";
        let seen: Vec<_> = envelopes(&input[..])
            .map(|r| r.unwrap().map(|r| r.origin.to_string()).map_err(|e| (e.line, e.reason)))
            .collect();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0], Ok("line 1".to_owned()));
        assert!(matches!(&seen[1], Err((4, reason)) if reason.contains("UTF-8")));
        assert_eq!(seen[2], Ok("line 5".to_owned()));
    }
}
