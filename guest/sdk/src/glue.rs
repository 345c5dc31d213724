//! Conversions between the generated WIT types and the SDK's plain types, and the configured
//! mapping's storage. Only built for the component.

use std::any::Any;
use std::cell::RefCell;

use crate::bindings::mm2::plugin::host;
use crate::bindings::mm2::plugin::types as wit;
use crate::config::{ConfigKey, ConfigType, Importance};
use crate::mapping::{Header, LogLevel, Mapping, Outcome, Record};

thread_local! {
    static CONFIGURED: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

pub fn describe<M: Mapping>() -> wit::PluginInfo {
    let info = M::info();
    wit::PluginInfo {
        name: info.name,
        version: info.version,
        contract_version: crate::CONTRACT_VERSION.to_owned(),
        description: info.description,
        config: info.config.into_iter().map(config_key).collect(),
    }
}

pub fn configure<M: Mapping>(settings: Vec<(String, String)>) -> Result<(), Vec<wit::ConfigError>> {
    let mapping = M::from_settings(settings).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| wit::ConfigError { key: e.key, message: e.message })
            .collect::<Vec<_>>()
    })?;
    CONFIGURED.with(|c| *c.borrow_mut() = Some(Box::new(mapping)));
    Ok(())
}

pub fn apply<M: Mapping>(batch: Vec<wit::KafkaRecord>) -> Result<Vec<wit::Outcome>, String> {
    CONFIGURED.with(|c| {
        let mut slot = c.borrow_mut();
        let mapping = slot
            .as_mut()
            .and_then(|m| m.downcast_mut::<M>())
            .ok_or_else(|| "apply called before configure".to_owned())?;
        Ok(batch.into_iter().map(|r| outcome(mapping.map(&record_from_wit(r)))).collect())
    })
}

pub fn close<M: Mapping>() {
    CONFIGURED.with(|c| {
        if let Some(mut mapping) = c.borrow_mut().take()
            && let Some(m) = mapping.downcast_mut::<M>()
        {
            m.close();
        }
    });
}

pub fn log(level: LogLevel, message: &str) {
    let level = match level {
        LogLevel::Trace => wit::LogLevel::Trace,
        LogLevel::Debug => wit::LogLevel::Debug,
        LogLevel::Info => wit::LogLevel::Info,
        LogLevel::Warn => wit::LogLevel::Warn,
        LogLevel::Error => wit::LogLevel::Error,
    };
    host::log(level, message);
}

fn config_key(key: ConfigKey) -> wit::ConfigKey {
    wit::ConfigKey {
        name: key.name,
        type_: match key.config_type {
            ConfigType::String => wit::ConfigType::String,
            ConfigType::Int => wit::ConfigType::Int,
            ConfigType::Long => wit::ConfigType::Long,
            ConfigType::Boolean => wit::ConfigType::Boolean,
            ConfigType::List => wit::ConfigType::List,
        },
        required: key.required,
        default_value: key.default_value,
        importance: match key.importance {
            Importance::High => wit::Importance::High,
            Importance::Medium => wit::Importance::Medium,
            Importance::Low => wit::Importance::Low,
        },
        documentation: key.documentation,
        valid_values: key.valid_values,
    }
}

fn record_from_wit(r: wit::KafkaRecord) -> Record {
    Record {
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        timestamp: r.timestamp,
        key: r.key,
        value: r.value,
        headers: r.headers.into_iter().map(|h| Header { key: h.key, value: h.value }).collect(),
    }
}

fn record_to_wit(r: Record) -> wit::KafkaRecord {
    wit::KafkaRecord {
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        timestamp: r.timestamp,
        key: r.key,
        value: r.value,
        headers: r.headers.into_iter().map(|h| wit::Header { key: h.key, value: h.value }).collect(),
    }
}

fn outcome(o: Outcome) -> wit::Outcome {
    match o {
        Outcome::Emit(records) => wit::Outcome::Emit(records.into_iter().map(record_to_wit).collect()),
        Outcome::Skipped { reason, detail } => wit::Outcome::Skipped(wit::Skip { reason, detail }),
        Outcome::Invalid(message) => wit::Outcome::Invalid(message),
    }
}
