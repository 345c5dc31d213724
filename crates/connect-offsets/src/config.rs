//! Plugin configuration described like Kafka Connect's `ConfigDef`, and checked against it.
//!
//! The same checks run in the host (before `configure`, so an operator gets every mistake at once
//! with the list of valid keys) and in the plugin (which must never trust its input).

use std::collections::BTreeMap;
use std::fmt;

/// Value types, as in `ConfigDef.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    String,
    Int,
    Long,
    Boolean,
    /// Comma-separated values; blanks around each item are trimmed, empty items dropped.
    List,
}

impl ConfigType {
    pub fn name(self) -> &'static str {
        match self {
            ConfigType::String => "string",
            ConfigType::Int => "int",
            ConfigType::Long => "long",
            ConfigType::Boolean => "boolean",
            ConfigType::List => "list",
        }
    }
}

/// As in `ConfigDef.Importance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Importance {
    High,
    Medium,
    Low,
}

impl Importance {
    pub fn name(self) -> &'static str {
        match self {
            Importance::High => "high",
            Importance::Medium => "medium",
            Importance::Low => "low",
        }
    }
}

/// One configuration key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigKey {
    pub name: String,
    pub config_type: ConfigType,
    pub required: bool,
    pub default_value: Option<String>,
    pub importance: Importance,
    pub documentation: String,
    /// When not empty, the only values accepted.
    pub valid_values: Vec<String>,
}

impl ConfigKey {
    /// A key the operator must set.
    pub fn required(name: &str, config_type: ConfigType, documentation: &str) -> Self {
        ConfigKey {
            name: name.to_owned(),
            config_type,
            required: true,
            default_value: None,
            importance: Importance::High,
            documentation: documentation.to_owned(),
            valid_values: Vec::new(),
        }
    }

    /// An optional key; `default` is `None` when the default is computed (the documentation says how).
    pub fn optional(
        name: &str,
        config_type: ConfigType,
        default: Option<&str>,
        importance: Importance,
        documentation: &str,
    ) -> Self {
        ConfigKey {
            name: name.to_owned(),
            config_type,
            required: false,
            default_value: default.map(str::to_owned),
            importance,
            documentation: documentation.to_owned(),
            valid_values: Vec::new(),
        }
    }

    pub fn with_valid_values(mut self, values: &[&str]) -> Self {
        self.valid_values = values.iter().map(|v| (*v).to_owned()).collect();
        self
    }

    /// Checks one value against this key's type and valid values.
    pub fn check(&self, value: &str) -> Result<(), String> {
        match self.config_type {
            ConfigType::String | ConfigType::List => {}
            ConfigType::Int => {
                value.trim().parse::<i32>().map_err(|_| {
                    format!("expected an int (32-bit integer), got {value:?}")
                })?;
            }
            ConfigType::Long => {
                value.trim().parse::<i64>().map_err(|_| {
                    format!("expected a long (64-bit integer), got {value:?}")
                })?;
            }
            ConfigType::Boolean => {
                parse_bool(value).ok_or_else(|| format!("expected true or false, got {value:?}"))?;
            }
        }
        if !self.valid_values.is_empty() {
            let items = match self.config_type {
                ConfigType::List => split_list(value),
                _ => vec![value.trim().to_owned()],
            };
            for item in items {
                if !self.valid_values.contains(&item) {
                    return Err(format!(
                        "{item:?} is not one of {}",
                        self.valid_values.join(", ")
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A configuration key that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(key: &str, message: impl Into<String>) -> Self {
        ConfigError { key: key.to_owned(), message: message.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Settings checked against a definition: every key known, every required key present, every
/// value of the right type. Getters fall back to the key's default.
#[derive(Debug, Clone)]
pub struct Config {
    definition: Vec<ConfigKey>,
    values: BTreeMap<String, String>,
}

impl Config {
    /// Checks `settings` against `definition` and reports every problem, not only the first.
    pub fn parse(
        definition: &[ConfigKey],
        settings: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut values = BTreeMap::new();
        for (key, value) in settings {
            match definition.iter().find(|k| k.name == key) {
                None => errors.push(ConfigError::new(
                    &key,
                    format!(
                        "unknown configuration key; valid keys: {}",
                        definition.iter().map(|k| k.name.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )),
                Some(def) => {
                    if let Err(message) = def.check(&value) {
                        errors.push(ConfigError::new(&key, message));
                    }
                    if values.insert(key.clone(), value).is_some() {
                        errors.push(ConfigError::new(&key, "set more than once"));
                    }
                }
            }
        }
        for def in definition.iter().filter(|k| k.required) {
            if !values.contains_key(&def.name) {
                errors.push(ConfigError::new(
                    &def.name,
                    format!("required key is missing ({})", def.documentation),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Config { definition: definition.to_vec(), values })
        } else {
            Err(errors)
        }
    }

    /// The value set by the operator, else the key's default. Panics on a key not in the definition
    /// (a bug in the plugin, not an operator error).
    pub fn get(&self, key: &str) -> Option<&str> {
        let def = self
            .definition
            .iter()
            .find(|k| k.name == key)
            .unwrap_or_else(|| panic!("configuration key {key:?} is not defined"));
        self.values.get(key).map(String::as_str).or(def.default_value.as_deref())
    }

    /// Whether the operator set the key explicitly.
    pub fn is_set(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    pub fn get_string(&self, key: &str) -> Option<String> {
        self.get(key).map(|v| v.trim().to_owned())
    }

    pub fn get_list(&self, key: &str) -> Vec<String> {
        self.get(key).map(split_list).unwrap_or_default()
    }

    pub fn get_bool(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(parse_bool)
    }

    pub fn get_long(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(|v| v.trim().parse().ok())
    }
}

/// Splits a Connect list value: comma-separated, items trimmed, empty items dropped.
pub fn split_list(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition() -> Vec<ConfigKey> {
        vec![
            ConfigKey::required("alias", ConfigType::String, "the alias"),
            ConfigKey::optional("names", ConfigType::List, Some("a,b"), Importance::Medium, "names"),
            ConfigKey::optional("mode", ConfigType::String, Some("last"), Importance::Low, "mode")
                .with_valid_values(&["last", "next"]),
            ConfigKey::optional("count", ConfigType::Int, None, Importance::Low, "count"),
        ]
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_apply_when_unset() {
        let config = Config::parse(&definition(), pairs(&[("alias", "primary")])).unwrap();
        assert_eq!(config.get_string("alias").as_deref(), Some("primary"));
        assert_eq!(config.get_list("names"), ["a", "b"]);
        assert_eq!(config.get("mode"), Some("last"));
        assert_eq!(config.get("count"), None);
        assert!(!config.is_set("mode"));
    }

    #[test]
    fn unknown_key_lists_the_valid_keys() {
        let errors = Config::parse(&definition(), pairs(&[("alias", "x"), ("nmaes", "y")])).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].key, "nmaes");
        assert!(errors[0].message.contains("valid keys: alias, names, mode, count"), "{}", errors[0]);
    }

    #[test]
    fn missing_required_key_is_named() {
        let errors = Config::parse(&definition(), pairs(&[])).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].key, "alias");
        assert!(errors[0].message.contains("required"));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errors = Config::parse(
            &definition(),
            pairs(&[("mode", "first"), ("count", "x1"), ("bogus", "1")]),
        )
        .unwrap_err();
        let keys: Vec<_> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["mode", "count", "bogus", "alias"]);
        assert!(errors[0].message.contains("not one of last, next"));
        assert!(errors[1].message.contains("expected an int"));
    }

    #[test]
    fn list_values_are_trimmed() {
        assert_eq!(split_list(" a , b,,c ,"), ["a", "b", "c"]);
        assert!(split_list("").is_empty());
    }

    #[test]
    fn duplicate_settings_are_refused() {
        let errors =
            Config::parse(&definition(), pairs(&[("alias", "a"), ("alias", "b")])).unwrap_err();
        assert_eq!(errors[0].message, "set more than once");
    }
}
