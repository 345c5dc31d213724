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
    out.reserve(s.len() + 2);
    out.push(b'"');
    // Runs that need no escape are copied whole (names rarely hold any): a tight scan, not a
    // branch per byte, which matters most inside a plugin (WebAssembly).
    let mut rest = s.as_bytes();
    while let Some(i) = rest.iter().position(|&b| b < 0x20 || b == b'"' || b == b'\\') {
        out.extend_from_slice(&rest[..i]);
        write_escape(out, rest[i]);
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

/// Jackson's escape of a quote, a backslash or a control character.
fn write_escape(out: &mut Vec<u8>, b: u8) {
    let short: &[u8] = match b {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        0x08 => b"\\b",
        0x09 => b"\\t",
        0x0A => b"\\n",
        0x0C => b"\\f",
        0x0D => b"\\r",
        _ => {
            out.extend_from_slice(b"\\u00");
            out.push(HEX_UPPER[usize::from(b >> 4)]);
            out.push(HEX_UPPER[usize::from(b & 0x0F)]);
            return;
        }
    };
    out.extend_from_slice(short);
}

/// Appends a scalar value.
pub fn write_scalar(out: &mut Vec<u8>, value: Scalar<'_>) {
    match value {
        Scalar::Str(s) => write_string(out, s),
        Scalar::Int(n) => write_int(out, n),
    }
}

/// Appends `n` in decimal, as Java prints a long (digits by hand: `write!` costs several times
/// as much, again most inside a plugin).
fn write_int(out: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
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
    fn integers_are_written_as_java_prints_a_long() {
        let mut values = vec![0, 1, -1, 9, 10, -10, 99, 100, i64::MAX, i64::MIN, i64::MIN + 1, i64::from(i32::MAX)];
        values.extend((0..64).map(|bit| 1i64 << bit).flat_map(|n| [n.wrapping_sub(1), n, n.wrapping_add(1), n.wrapping_neg()]));
        for n in values {
            let mut out = Vec::new();
            write_scalar(&mut out, Scalar::Int(n));
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }

    #[test]
    fn escapes_land_between_unescaped_runs() {
        assert_eq!(s("\"abc"), r#""\"abc""#);
        assert_eq!(s("abc\""), r#""abc\"""#);
        assert_eq!(s("a\n\nb\u{1}"), r#""a\n\nb\u0001""#);
        assert_eq!(s("\\\\"), r#""\\\\""#);
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
