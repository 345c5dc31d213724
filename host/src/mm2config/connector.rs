//! A MirrorSourceConnector's own configuration on a Connect cluster (`GET
//! /connectors/NAME/config`), read as the connector reads it: `source.cluster.alias` and
//! `target.cluster.alias`, the clusters' client settings (`source.cluster.*` with
//! `source.consumer.*` over it for the reads MM2 makes), topics, topics.exclude and the
//! replication policy.

use std::collections::BTreeMap;

use super::client::{self, ClientSettings, Unsupported};
use super::{DEFAULT_GROUPS_EXCLUDE, DEFAULT_TOPICS_EXCLUDE, Fact, Flow, FlowError, listed, replication_policy};

/// MirrorConnectorConfig's default aliases.
const DEFAULT_SOURCE_ALIAS: &str = "source";
const DEFAULT_TARGET_ALIAS: &str = "target";

/// The flow of connector `name` at `url` from its configuration `config`.
pub fn flow(url: &str, name: &str, config: &BTreeMap<String, String>) -> Result<Flow, FlowError> {
    let at = |key: &str| format!("connector config {key}");
    let class = config.get("connector.class").map(String::as_str).unwrap_or_default();
    if class.rsplit('.').next() != Some("MirrorSourceConnector") {
        return Err(FlowError::NotMirrorSource { connector: name.to_owned(), class: class.to_owned() });
    }
    let fact = |key: &str| config.get(key).map(|v| Fact { value: v.clone(), from: at(key) });
    let alias = |key: &str, default: &str| {
        fact(key).unwrap_or(Fact { value: default.to_owned(), from: format!("MirrorSourceConnector's default {key}") })
    };
    let source = alias("source.cluster.alias", DEFAULT_SOURCE_ALIAS);
    let target = alias("target.cluster.alias", DEFAULT_TARGET_ALIAS);
    Ok(Flow {
        file: format!("connector {name:?} at {url}"),
        enabled_by: format!("connector {name:?}"),
        replicated: cluster(config, &source.value, &["source.cluster.", "source.consumer."])?,
        target_cluster: cluster(config, &target.value, &["target.cluster."])?,
        connector: Fact { value: name.to_owned(), from: "--connector".into() },
        offsets_topic: fact("offsets.storage.topic")
            .unwrap_or(Fact { value: "(the worker's offset.storage.topic)".into(), from: "Connect writes it".into() }),
        topics: listed(fact("topics").or_else(|| fact("topics.whitelist")), ".*", "MM2's default (every topic)"),
        topics_exclude: listed(
            fact("topics.exclude").or_else(|| fact("topics.blacklist")),
            DEFAULT_TOPICS_EXCLUDE,
            "MM2's default topics.exclude",
        ),
        groups: listed(fact("groups").or_else(|| fact("groups.whitelist")), ".*", "MM2's default (every group)"),
        groups_exclude: listed(
            fact("groups.exclude").or_else(|| fact("groups.blacklist")),
            DEFAULT_GROUPS_EXCLUDE,
            "MM2's default groups.exclude",
        ),
        replication_policy: replication_policy(fact("replication.policy.class"), fact("replication.policy.separator"))?,
        source: source.value,
        target: target.value,
        strimzi: None,
    })
}

/// A cluster's client settings from the keys under `prefixes` (later prefixes win). A value that
/// is a config provider reference (`${file:...}`) is resolved only on the worker: it is named
/// with the flag that supplies it here.
fn cluster(config: &BTreeMap<String, String>, alias: &str, prefixes: &[&str]) -> Result<ClientSettings, FlowError> {
    let mut java = BTreeMap::new();
    let mut on_worker = Vec::new();
    for prefix in prefixes {
        for (key, value) in config {
            let Some(k) = key.strip_prefix(prefix).filter(|k| client::is_client_key(k)) else { continue };
            if value.contains("${") {
                on_worker.push(Unsupported {
                    key: format!("connector config {key}"),
                    reason: "a config provider reference, which only the Connect worker resolves".into(),
                    replaced_by: replaced_by(k).iter().map(|s| (*s).to_owned()).collect(),
                });
                java.remove(k);
            } else {
                java.insert(k.to_owned(), Fact { value: value.clone(), from: format!("connector config {key}") });
            }
        }
    }
    let mut settings = client::librdkafka(alias, &java)
        .map_err(|_| FlowError::NoConnectorBootstrap { prefix: prefixes[0].to_owned(), alias: alias.to_owned() })?;
    settings.unsupported.extend(on_worker);
    Ok(settings)
}

/// The librdkafka properties that supply what a Java client key held.
fn replaced_by(java_key: &str) -> &'static [&'static str] {
    match java_key {
        "sasl.jaas.config" => &["sasl.password"],
        k if k.starts_with("ssl.truststore") => &["ssl.ca.location", "ssl.ca.pem"],
        k if k.starts_with("ssl.keystore") || k == "ssl.key.password" => &["ssl.key.location", "ssl.key.pem", "ssl.keystore.location"],
        "bootstrap.servers" => &["bootstrap.servers"],
        _ => &["security.protocol"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn a_source_connector_config_is_a_flow() {
        let c = config(&[
            ("connector.class", "org.apache.kafka.connect.mirror.MirrorSourceConnector"),
            ("source.cluster.alias", "src"),
            ("source.cluster.bootstrap.servers", "a:9092"),
            ("source.cluster.security.protocol", "SASL_SSL"),
            ("source.consumer.security.protocol", "SSL"),
            ("source.cluster.sasl.jaas.config", "${file:/opt/kafka/secrets.properties:jaas}"),
            ("target.cluster.bootstrap.servers", "b:9092"),
            ("topics", "orders, payments"),
            ("replication.policy.class", "org.apache.kafka.connect.mirror.IdentityReplicationPolicy"),
            ("offsets.storage.topic", "mm2-src-offsets"),
        ]);
        let flow = flow("http://w:8083", "src->tgt.MirrorSourceConnector", &c).unwrap();
        assert_eq!((flow.source.as_str(), flow.target.as_str()), ("src", "target"));
        assert_eq!(flow.connector.value, "src->tgt.MirrorSourceConnector");
        assert_eq!(flow.replicated.bootstrap.value, "a:9092");
        assert_eq!(flow.replicated.value("security.protocol"), "ssl", "source.consumer.* wins over source.cluster.*");
        assert_eq!(flow.replicated.unsupported.len(), 1);
        assert_eq!(flow.replicated.unsupported[0].replaced_by, ["sasl.password"]);
        assert_eq!(flow.target_cluster.bootstrap.value, "b:9092");
        assert_eq!(flow.topics.value, ["orders", "payments"]);
        assert_eq!(flow.replication_policy.value, crate::seam::ReplicationPolicy::Identity);
        assert_eq!(flow.offsets_topic.value, "mm2-src-offsets");
    }

    #[test]
    fn other_connectors_are_refused() {
        let c = config(&[("connector.class", "org.apache.kafka.connect.mirror.MirrorCheckpointConnector")]);
        assert!(flow("u", "c", &c).unwrap_err().to_string().contains("not a MirrorSourceConnector"));
        let c = config(&[("connector.class", "MirrorSourceConnector")]);
        assert!(flow("u", "c", &c).unwrap_err().to_string().contains("no source.cluster.bootstrap.servers"));
    }
}
