//! Text a plugin hands the host (its name and description, skip reasons, `invalid` messages,
//! apply and configuration errors, log lines, panic text) is someone else's: it is made safe
//! here, once, as it crosses the boundary, so that no report, log or JSON document shows it raw.
//!
//! Control characters (which could clear the screen, move the cursor or forge report lines) and
//! Unicode's invisible direction overrides are escaped as `\u{..}`, and every string is cut to a
//! bound with a note of how much was left out.

use super::wit;

/// Longest plugin-supplied message (errors, reasons, descriptions, log lines), in bytes.
pub(crate) const MAX_TEXT_BYTES: usize = 1024;
/// Longest short plugin-supplied label (a name, a version, a config key, a skip reason).
pub(crate) const MAX_LABEL_BYTES: usize = 128;

/// `text` with control characters escaped, cut to about `max` bytes.
pub(crate) fn text(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max) + 16);
    for (index, c) in text.char_indices() {
        if out.len() >= max {
            out.push_str(&format!("... ({} more bytes)", text.len() - index));
            break;
        }
        if c.is_control() || is_invisible_override(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// A plugin message.
pub(crate) fn message(s: &str) -> String {
    text(s, MAX_TEXT_BYTES)
}

/// A plugin label.
pub(crate) fn label(s: &str) -> String {
    text(s, MAX_LABEL_BYTES)
}

/// Bidirectional overrides and isolates: they reorder what a terminal shows.
fn is_invisible_override(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// What a plugin says about itself, made safe to show.
pub(crate) fn plugin_info(info: wit::PluginInfo) -> wit::PluginInfo {
    wit::PluginInfo {
        name: label(&info.name),
        version: label(&info.version),
        contract_version: label(&info.contract_version),
        description: message(&info.description),
        config: info
            .config
            .into_iter()
            .map(|k| wit::ConfigKey {
                name: label(&k.name),
                type_: k.type_,
                required: k.required,
                default_value: k.default_value.as_deref().map(message),
                importance: k.importance,
                documentation: message(&k.documentation),
                valid_values: k.valid_values.iter().map(|v| label(v)).collect(),
            })
            .collect(),
    }
}

/// An outcome's texts made safe to show (the records themselves are checked by the output rules).
pub(crate) fn outcome(outcome: wit::Outcome) -> wit::Outcome {
    match outcome {
        wit::Outcome::Skipped(skip) => wit::Outcome::Skipped(wit::Skip { reason: label(&skip.reason), detail: message(&skip.detail) }),
        wit::Outcome::Invalid(m) => wit::Outcome::Invalid(message(&m)),
        emit @ wit::Outcome::Emit(_) => emit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_characters_and_overrides() {
        assert_eq!(message("a\u{1b}[2J\nrecords written 2\r"), "a\\u{1b}[2J\\u{a}records written 2\\u{d}");
        assert_eq!(message("x\u{202e}y\u{9b}"), "x\\u{202e}y\\u{9b}");
        assert_eq!(message("plain text, ünïcode / \"quotes\""), "plain text, ünïcode / \"quotes\"");
    }

    #[test]
    fn bounds_the_length_on_a_char_boundary() {
        let long = "é".repeat(10_000);
        let cut = message(&long);
        assert!(cut.len() < MAX_TEXT_BYTES + 40, "{}", cut.len());
        assert!(cut.ends_with("... (18976 more bytes)"), "{cut}");
        assert_eq!(label(&"x".repeat(MAX_LABEL_BYTES)), "x".repeat(MAX_LABEL_BYTES));
    }
}
