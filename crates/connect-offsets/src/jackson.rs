//! JSON bytes exactly as Kafka Connect's `JsonConverter` (Jackson, schemas disabled) writes them.
//!
//! Connect finds an offset by the raw bytes of its key, so the bytes must match to the letter:
//! compact output, fields in the order the Java map iterates them, and Jackson's string escaping
//! (only `"`, `\` and control characters are escaped; `/` and non-ASCII are written raw as UTF-8;
//! control characters without a short form become `\u00XX` with upper-case hex).
//! Keys are therefore written from a fixed field order, never through a JSON map.

/// A scalar field value inside a Connect source-partition map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar<'a> {
    Str(&'a str),
    Int(i64),
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `s` as a JSON string, quoted and escaped as Jackson's default generator does.
pub fn write_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0A => b"\\n",
            0x0C => b"\\f",
            0x0D => b"\\r",
            0x00..=0x1F => &[],
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX_UPPER[usize::from(b >> 4)]);
            out.push(HEX_UPPER[usize::from(b & 0x0F)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends a scalar value.
pub fn write_scalar(out: &mut Vec<u8>, value: Scalar<'_>) {
    match value {
        Scalar::Str(s) => write_string(out, s),
        Scalar::Int(n) => {
            use std::io::Write;
            // Writing into a Vec cannot fail.
            let _ = write!(out, "{n}");
        }
    }
}

/// Appends a flat JSON object whose fields are written in exactly the given order.
pub fn write_object(out: &mut Vec<u8>, fields: &[(&str, Scalar<'_>)]) {
    out.push(b'{');
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(out, name);
        out.push(b':');
        write_scalar(out, *value);
    }
    out.push(b'}');
}

/// The key Connect stores a source offset under: `[connectorName, sourcePartition]`.
pub fn connect_key(connector: &str, source_partition: &[(&str, Scalar<'_>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(b'[');
    write_string(&mut out, connector);
    out.push(b',');
    write_object(&mut out, source_partition);
    out.push(b']');
    out
}

/// The key MirrorMaker 2's source connector stores an offset under.
///
/// MM2 builds the partition map in a `java.util.HashMap` (`MirrorUtils.wrapPartition`), whose
/// iteration order for these three names is `cluster`, `partition`, `topic`.
pub fn mm2_source_key(connector: &str, cluster: &str, topic: &str, partition: i32) -> Vec<u8> {
    connect_key(
        connector,
        &[
            ("cluster", Scalar::Str(cluster)),
            ("partition", Scalar::Int(i64::from(partition))),
            ("topic", Scalar::Str(topic)),
        ],
    )
}

/// The value of a Connect offset record holding a single offset: `{"offset":V}`.
pub fn offset_value(offset: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(24);
    write_object(&mut out, &[("offset", Scalar::Int(offset))]);
    out
}

/// Checks that `bytes` are one JSON value written compactly (no whitespace outside strings), as
/// Connect writes keys and values. It cannot check field order: that is each mapping's job.
pub fn check_compact_json(bytes: &[u8]) -> Result<(), String> {
    serde_json::from_slice::<serde_json::Value>(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let (mut in_string, mut escaped) = (false, false);
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b.is_ascii_whitespace() {
            return Err(format!("not compact JSON: whitespace at byte {i}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(input: &str) -> String {
        let mut out = Vec::new();
        write_string(&mut out, input);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_strings_are_quoted_verbatim() {
        assert_eq!(s("foo.bar-baz_1"), r#""foo.bar-baz_1""#);
        assert_eq!(s(""), r#""""#);
    }

    #[test]
    fn quote_and_backslash_use_short_escapes() {
        assert_eq!(s(r#"a"b\c"#), r#""a\"b\\c""#);
    }

    #[test]
    fn control_characters_follow_jackson() {
        assert_eq!(s("\u{8}\t\n\u{c}\r"), r#""\b\t\n\f\r""#);
        assert_eq!(s("\u{0}\u{1}\u{b}\u{1f}"), r#""\u0000\u0001\u000B\u001F""#);
    }

    #[test]
    fn slash_delete_and_non_ascii_are_written_raw() {
        assert_eq!(s("a/b"), "\"a/b\"");
        assert_eq!(s("\u{7f}"), "\"\u{7f}\"");
        assert_eq!(s("ünïcødé ✓ 🦀 \u{2028}"), "\"ünïcødé ✓ 🦀 \u{2028}\"");
        assert_eq!(s("🦀").as_bytes(), b"\"\xF0\x9F\xA6\x80\"");
    }

    #[test]
    fn mm2_key_uses_hashmap_order_and_no_whitespace() {
        assert_eq!(
            mm2_source_key("MirrorSourceConnector", "primary", "foo", 1),
            br#"["MirrorSourceConnector",{"cluster":"primary","partition":1,"topic":"foo"}]"#
        );
    }

    #[test]
    fn connect_key_keeps_the_given_field_order() {
        let key = connect_key(
            "replicator",
            &[("topic", Scalar::Str("t\"x")), ("partition", Scalar::Int(12))],
        );
        assert_eq!(key, br#"["replicator",{"topic":"t\"x","partition":12}]"#);
    }

    #[test]
    fn compact_json_check() {
        assert!(check_compact_json(br#"["a b",{"x":"\" ,"}]"#).is_ok());
        assert!(check_compact_json(br#"{"offset":1}"#).is_ok());
        assert!(check_compact_json(br#"{"offset": 1}"#).unwrap_err().contains("byte 10"));
        assert!(check_compact_json(b"{offset:1}").unwrap_err().contains("not JSON"));
        assert!(check_compact_json(b"\xff").unwrap_err().contains("not JSON"));
        assert!(check_compact_json(b"").is_err());
    }

    #[test]
    fn offset_values() {
        assert_eq!(offset_value(0), br#"{"offset":0}"#);
        assert_eq!(offset_value(i64::MAX), br#"{"offset":9223372036854775807}"#);
    }

    #[test]
    fn escaping_matches_serde_json_for_round_trip() {
        // Whatever Jackson escapes, a JSON parser must read back as the original string.
        for input in ["", "plain", "q\"uo\\te", "\u{0}\u{1f}\u{7f}", "ü/🦀\r\n"] {
            let json = s(input);
            let back: String = serde_json::from_str(&json).unwrap();
            assert_eq!(back, input);
        }
    }
}
