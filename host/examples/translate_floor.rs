//! The native floor of `translate` (bench/translate.sh): the least a program must do with a kcat
//! -J dump of Replicator offsets. Parse each line with serde (borrowed), keep the latest payload per
//! key, and write each live key as an MM2 record in the same envelope `translate` prints, in its
//! murmur2 partition of 25. No plugin, no checks, no report.
//!
//!     target/release/examples/translate_floor < dump.jsonl > out.jsonl

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufRead, Write};

use connect_offsets::jackson::{mm2_source_key, offset_value};
use connect_offsets::partition::partition_for_key;

#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    key: Option<Cow<'a, str>>,
    #[serde(borrow)]
    payload: Option<Cow<'a, str>>,
}

#[derive(serde::Deserialize)]
struct SourcePartition<'a> {
    #[serde(borrow)]
    topic: Cow<'a, str>,
    partition: i32,
}

#[derive(serde::Deserialize)]
struct Offset {
    offset: i64,
}

#[derive(serde::Serialize)]
struct Out<'a> {
    topic: &'a str,
    partition: i32,
    key: &'a str,
    payload: &'a str,
}

fn main() {
    let mut latest: HashMap<String, String> = HashMap::new();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("read");
        let envelope: Envelope<'_> = serde_json::from_str(&line).expect("an envelope");
        match (envelope.key, envelope.payload) {
            (Some(key), Some(payload)) => latest.insert(key.into_owned(), payload.into_owned()),
            (Some(key), None) => latest.remove(key.as_ref()),
            _ => None,
        };
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (key, payload) in &latest {
        let (_, partition): (Cow<'_, str>, SourcePartition<'_>) = serde_json::from_str(key).expect("a Replicator key");
        let offset: Offset = serde_json::from_str(payload).expect("an offset");
        let mm2_key = String::from_utf8(mm2_source_key("MirrorSourceConnector", "primary", &partition.topic, partition.partition)).unwrap();
        let value = String::from_utf8(offset_value(offset.offset)).unwrap();
        let record = Out { topic: "mm2-offsets.primary.internal", partition: partition_for_key(mm2_key.as_bytes(), 25), key: &mm2_key, payload: &value };
        serde_json::to_writer(&mut out, &record).unwrap();
        out.write_all(b"\n").unwrap();
    }
}
