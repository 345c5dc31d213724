//! Topic selection the way MirrorMaker 2's `DefaultTopicFilter` does it: each setting is a list of
//! regular expressions joined into one alternation, matched against the WHOLE topic name.

use regex::Regex;

#[derive(Debug, Clone)]
pub struct TopicFilter {
    include: Regex,
    exclude: Option<Regex>,
}

impl TopicFilter {
    /// `include` must not be empty; an empty `exclude` excludes nothing.
    pub fn new(include: &[String], exclude: &[String]) -> Result<TopicFilter, String> {
        if include.is_empty() {
            return Err("the include list is empty, so no topic would be migrated".to_owned());
        }
        Ok(TopicFilter {
            include: whole_name_pattern(include)?,
            exclude: if exclude.is_empty() { None } else { Some(whole_name_pattern(exclude)?) },
        })
    }

    pub fn accepts(&self, topic: &str) -> bool {
        self.include.is_match(topic) && !self.exclude.as_ref().is_some_and(|r| r.is_match(topic))
    }
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
        let filter = TopicFilter::new(&list(&[".*"]), &[]).unwrap();
        assert!(filter.accepts("tab\tnew\nline"));
        assert!(filter.accepts(""));
    }

    #[test]
    fn errors_name_the_bad_pattern() {
        let err = TopicFilter::new(&list(&["ok", "(unclosed"]), &[]).unwrap_err();
        assert!(err.contains("\"(unclosed\""), "{err}");
        assert!(TopicFilter::new(&[], &[]).unwrap_err().contains("empty"));
    }
}
