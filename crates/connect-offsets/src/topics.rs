//! Topic selection the way MirrorMaker 2's `DefaultTopicFilter` does it: each setting is a list of
//! regular expressions joined into one alternation, matched against the WHOLE topic name.

use regex::Regex;

#[derive(Debug, Clone)]
pub struct TopicFilter {
    /// `None`: every name (the default `.*`, which is then not matched name by name).
    include: Option<Regex>,
    exclude: Option<Regex>,
}

/// The pattern that selects every topic name (with `(?s)`, see [`whole_name_pattern`]).
const EVERY_NAME: &str = ".*";

impl TopicFilter {
    /// `include` must not be empty; an empty `exclude` excludes nothing.
    pub fn new(include_list: &[String], exclude: &[String]) -> Result<TopicFilter, String> {
        if include_list.is_empty() {
            return Err("the include list is empty, so no topic would be migrated".to_owned());
        }
        let include = whole_name_pattern(include_list)?;
        Ok(TopicFilter {
            include: (!patterns_select_all(include_list)).then_some(include),
            exclude: if exclude.is_empty() { None } else { Some(whole_name_pattern(exclude)?) },
        })
    }

    pub fn accepts(&self, topic: &str) -> bool {
        self.include.as_ref().is_none_or(|r| r.is_match(topic)) && !self.exclude.as_ref().is_some_and(|r| r.is_match(topic))
    }
}

/// Whether a list selects every name without matching: it holds `.*` itself.
fn patterns_select_all(patterns: &[String]) -> bool {
    patterns.iter().any(|p| p == EVERY_NAME)
}

fn whole_name_pattern(patterns: &[String]) -> Result<Regex, String> {
    for pattern in patterns {
        Regex::new(pattern).map_err(|e| format!("invalid regular expression {pattern:?}: {e}"))?;
    }
    let alternation = patterns.iter().map(|p| format!("(?:{p})")).collect::<Vec<_>>().join("|");
    // `(?s)`: `.` matches every character, so the default `.*` selects every topic whatever its
    // name holds (Kafka topic names never hold line terminators, where Java's `.` would differ).
    Regex::new(&format!("(?s)^(?:{alternation})$")).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn matches_whole_names_only() {
        let filter = TopicFilter::new(&list(&["orders"]), &[]).unwrap();
        assert!(filter.accepts("orders"));
        assert!(!filter.accepts("orders2"));
        assert!(!filter.accepts("old-orders"));
    }

    #[test]
    fn include_alternatives_and_exclusions() {
        let filter = TopicFilter::new(&list(&["orders.*", "pay|bill"]), &list(&[".*\\.internal"])).unwrap();
        assert!(filter.accepts("orders-eu"));
        assert!(filter.accepts("bill"));
        assert!(!filter.accepts("orders.internal"));
        assert!(!filter.accepts("users"));
    }

    #[test]
    fn dot_star_selects_every_name() {
        for include in [list(&[".*"]), list(&["orders", ".*"])] {
            let filter = TopicFilter::new(&include, &[]).unwrap();
            assert!(filter.include.is_none(), "{include:?} is not matched name by name");
            assert!(filter.accepts("tab\tnew\nline"));
            assert!(filter.accepts(""));
            assert!(filter.accepts("users"));
        }
        // The shortcut is for `.*` exactly; exclusions still apply.
        let filter = TopicFilter::new(&list(&[".*"]), &list(&["secret.*"])).unwrap();
        assert!(!filter.accepts("secret-1"));
        assert!(TopicFilter::new(&list(&[".*x"]), &[]).unwrap().include.is_some());
        // The same answers as the pattern itself.
        let matched = whole_name_pattern(&list(&[".*"])).unwrap();
        for name in ["", "a", "tab\tnew\nline", "orders.eu-1"] {
            assert_eq!(matched.is_match(name), TopicFilter::new(&list(&[".*"]), &[]).unwrap().accepts(name));
        }
    }

    #[test]
    fn errors_name_the_bad_pattern() {
        let err = TopicFilter::new(&list(&["ok", "(unclosed"]), &[]).unwrap_err();
        assert!(err.contains("\"(unclosed\""), "{err}");
        assert!(TopicFilter::new(&[], &[]).unwrap_err().contains("empty"));
    }
}
