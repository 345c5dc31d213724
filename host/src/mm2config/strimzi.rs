//! A Strimzi `KafkaMirrorMaker2` resource (`kafka.strimzi.io/v1beta2`: `clusters`,
//! `connectCluster`, `mirrors[].sourceCluster`; `kafka.strimzi.io/v1`: `target`,
//! `mirrors[].source`) read as the flow Strimzi's operator configures: connector
//! `<source>-><target>.MirrorSourceConnector`, offsets topic `mirrormaker2-cluster-offsets` unless
//! set, `topicsPattern` / `topicsExcludePattern`, the source connector's replication policy.
//! TLS and authentication settings point at Kubernetes secrets, which cannot be read here: each is
//! named with the flag that supplies it.

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml_ng::Value;

use super::client::{ClientSettings, Unsupported};
use super::{DEFAULT_GROUPS_EXCLUDE, DEFAULT_TOPICS_EXCLUDE, Fact, Flow, Mm2ConfigError, replication_policy, split_list};

/// Strimzi's default offsets topic of a KafkaMirrorMaker2's Connect cluster.
pub const DEFAULT_OFFSETS_TOPIC: &str = "mirrormaker2-cluster-offsets";

/// Where a flow sits in its KafkaMirrorMaker2 resource: what `kubectl` commands name.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StrimziMirror {
    /// `metadata.name`.
    pub resource: String,
    /// `metadata.namespace`, when the file names one.
    pub namespace: Option<String>,
    /// The mirror's index in `spec.mirrors`.
    pub mirror: usize,
    /// Whether the mirror has a `sourceConnector` section (JSON patches add to it).
    pub has_source_connector: bool,
}

/// One mirror of the resource: its source cluster's entry and its index in `spec.mirrors`.
struct Mirror {
    source_cluster: Value,
    mirror: Value,
    index: usize,
}

impl Mirror {
    fn source_alias(&self) -> String {
        str_at(&self.source_cluster, "alias").unwrap_or_default()
    }
}

fn invalid(path: &Path, message: String) -> Mm2ConfigError {
    Mm2ConfigError::Invalid { path: path.to_owned(), message }
}

fn str_at(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The flow named `SRC->TGT` of the resource at `path`, or its only mirror.
pub fn flow(path: &Path, name: Option<&str>) -> Result<Flow, Mm2ConfigError> {
    let invalid = |message: String| invalid(path, message);
    let text = std::fs::read_to_string(path).map_err(|source| Mm2ConfigError::Read { path: path.to_owned(), source })?;
    let doc: Value = serde_yaml_ng::from_str(&text).map_err(|e| invalid(format!("not YAML: {e}")))?;
    if str_at(&doc, "kind").as_deref() != Some("KafkaMirrorMaker2") {
        return Err(invalid("not a KafkaMirrorMaker2 resource (kind)".into()));
    }
    let spec = doc.get("spec").ok_or_else(|| invalid("no spec".into()))?;
    let (target_cluster, mirrors) = mirrors(path, &str_at(&doc, "apiVersion").unwrap_or_default(), spec)?;
    let target = str_at(&target_cluster, "alias").ok_or_else(|| invalid("the target cluster has no alias".into()))?;
    let chosen = choose(path, mirrors, &target, name)?;
    let source = Some(chosen.source_alias())
        .filter(|a| !a.is_empty())
        .ok_or_else(|| invalid("the mirror's source cluster has no alias".into()))?;
    let at = |what: &str| format!("{}: {what}", path.display());
    let connector_config = chosen.mirror.get("sourceConnector").and_then(|c| c.get("config"));
    let config_value = |key: &str| -> Option<Fact> {
        let value = connector_config?.get(key)?;
        Some(Fact { value: scalar(value)?, from: at(&format!("sourceConnector.config.{key}")) })
    };
    let replication_policy = replication_policy(config_value("replication.policy.class"), config_value("replication.policy.separator"))
        .map_err(|e| invalid(e.to_string()))?;
    let pattern = |keys: &[&str], default: Fact<Vec<String>>| {
        keys.iter().find_map(|key| str_at(&chosen.mirror, key).map(|v| Fact { value: vec![v], from: at(key) })).unwrap_or(default)
    };
    let every = |what: &str| Fact { value: vec![".*".into()], from: format!("Strimzi's default (every {what})") };
    let default = |list: &str, key: &str| Fact { value: split_list(list), from: format!("MM2's default {key}") };
    Ok(Flow {
        file: path.display().to_string(),
        connector: Fact { value: format!("{source}->{target}.MirrorSourceConnector"), from: "Strimzi's connector name".into() },
        replicated: client(&chosen.source_cluster, &at(&format!("cluster {source}")))?,
        target_cluster: client(&target_cluster, &at(&format!("cluster {target}")))?,
        offsets_topic: offsets_topic(&target_cluster, &target, &at),
        topics: pattern(&["topicsPattern"], every("topic")),
        topics_exclude: pattern(&["topicsExcludePattern", "topicsBlacklistPattern"], default(DEFAULT_TOPICS_EXCLUDE, "topics.exclude")),
        groups: pattern(&["groupsPattern"], every("group")),
        groups_exclude: pattern(&["groupsExcludePattern", "groupsBlacklistPattern"], default(DEFAULT_GROUPS_EXCLUDE, "groups.exclude")),
        replication_policy,
        enabled_by: at("spec.mirrors"),
        strimzi: Some(StrimziMirror {
            resource: doc.get("metadata").and_then(|m| str_at(m, "name")).unwrap_or_default(),
            namespace: doc.get("metadata").and_then(|m| str_at(m, "namespace")),
            mirror: chosen.index,
            has_source_connector: chosen.mirror.get("sourceConnector").is_some(),
        }),
        source,
        target,
    })
}

/// The target cluster (the Connect cluster's) and the mirrors into it, as each API version
/// spells them: v1beta2 names clusters by alias (`connectCluster`, `mirrors[].sourceCluster`),
/// v1 has them inline (`target`, `mirrors[].source`).
fn mirrors(path: &Path, api: &str, spec: &Value) -> Result<(Value, Vec<Mirror>), Mm2ConfigError> {
    let invalid = |message: String| invalid(path, message);
    let mirrors = spec.get("mirrors").and_then(Value::as_sequence).cloned().unwrap_or_default();
    match api {
        "kafka.strimzi.io/v1beta2" => {
            let clusters = spec.get("clusters").and_then(Value::as_sequence).cloned().unwrap_or_default();
            let by_alias = |alias: &str| clusters.iter().find(|c| str_at(c, "alias").as_deref() == Some(alias)).cloned();
            let connect = str_at(spec, "connectCluster").ok_or_else(|| invalid("spec.connectCluster is missing".into()))?;
            let target = by_alias(&connect).ok_or_else(|| invalid(format!("spec.connectCluster {connect:?} is not in spec.clusters")))?;
            let mut found = Vec::new();
            for (index, mirror) in mirrors.into_iter().enumerate() {
                let source = str_at(&mirror, "sourceCluster").unwrap_or_default();
                let source_cluster = by_alias(&source).ok_or_else(|| invalid(format!("mirror source {source:?} is not in spec.clusters")))?;
                if str_at(&mirror, "targetCluster").as_deref() == Some(connect.as_str()) {
                    found.push(Mirror { source_cluster, mirror, index });
                }
            }
            Ok((target, found))
        }
        "kafka.strimzi.io/v1" => {
            let target = spec.get("target").cloned().ok_or_else(|| invalid("spec.target is missing".into()))?;
            let found = mirrors
                .into_iter()
                .enumerate()
                .filter_map(|(index, mirror)| Some(Mirror { source_cluster: mirror.get("source")?.clone(), mirror, index }))
                .collect();
            Ok((target, found))
        }
        other => Err(invalid(format!("apiVersion {other:?}: kafka.strimzi.io/v1beta2 and v1 are read"))),
    }
}

/// The mirror `name` (`SRC->TGT`, spaces ignored) names, or the only one.
fn choose(path: &Path, mut mirrors: Vec<Mirror>, target: &str, name: Option<&str>) -> Result<Mirror, Mm2ConfigError> {
    let invalid = |message: String| invalid(path, message);
    let flow = |m: &Mirror| format!("{}->{target}", m.source_alias());
    let names = |mirrors: &[Mirror]| mirrors.iter().map(flow).collect::<Vec<_>>().join(", ");
    match (name, mirrors.len()) {
        (Some(name), _) => match mirrors.iter().position(|m| flow(m) == name.replace(' ', "")) {
            Some(i) => Ok(mirrors.swap_remove(i)),
            None => Err(invalid(format!("unknown flow {name}: the mirrors are {}", names(&mirrors)))),
        },
        (None, 1) => Ok(mirrors.remove(0)),
        (None, 0) => Err(invalid("no mirror replicates into the Connect cluster's target".into())),
        (None, _) => Err(invalid(format!("several mirrors ({}): name one with --flow", names(&mirrors)))),
    }
}

/// The Connect cluster's offsets topic: `offsetStorageTopic` (v1), the cluster's
/// `offset.storage.topic` (v1beta2), or Strimzi's default.
fn offsets_topic(target_cluster: &Value, target: &str, at: &dyn Fn(&str) -> String) -> Fact<String> {
    str_at(target_cluster, "offsetStorageTopic")
        .map(|v| Fact { value: v, from: at("target.offsetStorageTopic") })
        .or_else(|| {
            let v = target_cluster.get("config")?.get("offset.storage.topic")?;
            Some(Fact { value: scalar(v)?, from: at(&format!("clusters[{target}].config.offset.storage.topic")) })
        })
        .unwrap_or(Fact { value: DEFAULT_OFFSETS_TOPIC.into(), from: "Strimzi's default offset.storage.topic".into() })
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A cluster's bootstrap servers, and what its `tls` and `authentication` imply: the protocol
/// and mechanism are set; the secrets they reference are named with their flags.
fn client(cluster: &Value, at: &str) -> Result<ClientSettings, Mm2ConfigError> {
    let missing = || Mm2ConfigError::Invalid { path: at.into(), message: "bootstrapServers is missing".into() };
    let bootstrap = cluster.get("bootstrapServers").and_then(Value::as_str).ok_or_else(missing)?;
    let mut java: BTreeMap<String, Fact> = BTreeMap::new();
    let mut set = |k: &str, v: &str, from: &str| java.insert(k.to_owned(), Fact { value: v.to_owned(), from: format!("{at} {from}") });
    set("bootstrap.servers", bootstrap, "bootstrapServers");
    let tls = cluster.get("tls").is_some();
    let auth = cluster.get("authentication").and_then(|a| a.get("type")).and_then(Value::as_str).map(str::to_owned);
    let sasl = matches!(auth.as_deref(), Some("scram-sha-512" | "scram-sha-256" | "plain" | "oauth"));
    let protocol = match (tls, sasl) {
        (true, true) => "SASL_SSL",
        (true, false) => "SSL",
        (false, true) => "SASL_PLAINTEXT",
        (false, false) => "PLAINTEXT",
    };
    set("security.protocol", protocol, "tls/authentication");
    let mechanism = match auth.as_deref() {
        Some("scram-sha-512") => Some("SCRAM-SHA-512"),
        Some("scram-sha-256") => Some("SCRAM-SHA-256"),
        Some("plain") => Some("PLAIN"),
        Some("oauth") => Some("OAUTHBEARER"),
        _ => None,
    };
    if let Some(m) = mechanism {
        set("sasl.mechanism", m, "authentication.type");
    }
    let mut settings = super::client::librdkafka("strimzi", &java).map_err(|e| Mm2ConfigError::Invalid { path: at.into(), message: e.to_string() })?;
    let mut needs = |key: &str, reason: &str, replaced_by: &[&str]| {
        settings.unsupported.push(Unsupported {
            key: format!("{at} {key}"),
            reason: reason.to_owned(),
            replaced_by: replaced_by.iter().map(|s| (*s).to_owned()).collect(),
        });
    };
    if cluster.get("tls").and_then(|t| t.get("trustedCertificates")).is_some() {
        needs("tls.trustedCertificates", "the CA certificates are in a Kubernetes secret", &["ssl.ca.location", "ssl.ca.pem"]);
    }
    match auth.as_deref() {
        Some("scram-sha-512" | "scram-sha-256" | "plain") => {
            needs("authentication", "the password is in a Kubernetes secret", &["sasl.password"]);
            if let Some(user) = cluster.get("authentication").and_then(|a| a.get("username")).and_then(Value::as_str) {
                settings.properties.push(("sasl.username".into(), user.to_owned()));
                settings.from.push(("sasl.username".into(), format!("{at} authentication.username")));
            }
        }
        Some("tls") => needs("authentication", "the client certificate is in a Kubernetes secret", &["ssl.certificate.location", "ssl.keystore.location", "ssl.certificate.pem"]),
        Some("oauth") => needs("authentication", "OAuth settings reference Kubernetes secrets", &["sasl.oauthbearer.config", "sasl.oauthbearer.method"]),
        _ => {}
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ReplicationPolicy;

    #[test]
    fn v1_resources_name_their_offsets_topic_and_target() {
        let (_dir, path) = crate::testing::file("mm2.yaml", 
            "apiVersion: kafka.strimzi.io/v1\nkind: KafkaMirrorMaker2\nspec:\n  target:\n    alias: cluster-b\n    bootstrapServers: b:9092\n    offsetStorageTopic: my-offsets\n  mirrors:\n  - source:\n      alias: cluster-a\n      bootstrapServers: a:9092\n    sourceConnector:\n      config:\n        replication.policy.class: org.apache.kafka.connect.mirror.IdentityReplicationPolicy\n    topicsPattern: \"orders|payments\"\n",
        );
        let flow = flow(&path, None).unwrap();
        assert_eq!(flow.connector.value, "cluster-a->cluster-b.MirrorSourceConnector");
        assert_eq!(flow.offsets_topic.value, "my-offsets");
        assert_eq!(flow.replication_policy.value, ReplicationPolicy::Identity);
        assert_eq!(flow.topics.value, ["orders|payments"]);
        assert_eq!(flow.replicated.bootstrap.value, "a:9092");
    }

    #[test]
    fn a_flow_is_chosen_by_name_or_as_the_only_mirror() {
        let mirror = |alias: &str, index| Mirror { source_cluster: serde_yaml_ng::from_str(&format!("alias: {alias}")).unwrap(), mirror: Value::Null, index };
        let path = Path::new("mm2.yaml");
        let message = |result: Result<Mirror, Mm2ConfigError>| result.err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(choose(path, vec![mirror("a", 0), mirror("c", 1)], "b", Some("c -> b")).unwrap().index, 1);
        assert_eq!(choose(path, vec![mirror("a", 3)], "b", None).unwrap().index, 3);
        assert!(message(choose(path, vec![mirror("a", 0), mirror("c", 1)], "b", None)).contains("several mirrors (a->b, c->b): name one with --flow"));
        assert!(message(choose(path, vec![mirror("a", 0)], "b", Some("x->b"))).contains("unknown flow x->b: the mirrors are a->b"));
        assert!(message(choose(path, Vec::new(), "b", None)).contains("no mirror replicates"));
    }

    #[test]
    fn secrets_are_named_with_the_flags_that_supply_them() {
        let (_dir, path) = crate::testing::file("mm2.yaml", 
            "apiVersion: kafka.strimzi.io/v1beta2\nkind: KafkaMirrorMaker2\nspec:\n  connectCluster: b\n  clusters:\n  - alias: a\n    bootstrapServers: a:9093\n    tls:\n      trustedCertificates:\n      - secretName: a-ca\n        pattern: \"*.crt\"\n    authentication:\n      type: scram-sha-512\n      username: mm2\n      passwordSecret:\n        secretName: mm2-user\n        password: password\n  - alias: b\n    bootstrapServers: b:9092\n  mirrors:\n  - sourceCluster: a\n    targetCluster: b\n    sourceConnector: {}\n",
        );
        let flow = flow(&path, Some("a->b")).unwrap();
        assert_eq!(flow.offsets_topic.value, DEFAULT_OFFSETS_TOPIC);
        assert_eq!(flow.replicated.value("security.protocol"), "sasl_ssl");
        assert_eq!(flow.replicated.value("sasl.mechanism"), "SCRAM-SHA-512");
        assert_eq!(flow.replicated.value("sasl.username"), "mm2");
        let needs: Vec<&str> = flow.replicated.unsupported.iter().flat_map(|u| u.replaced_by.iter().map(String::as_str)).collect();
        assert!(needs.contains(&"ssl.ca.location") && needs.contains(&"sasl.password"), "{needs:?}");
        assert_eq!(flow.replication_policy.value, ReplicationPolicy::Default { separator: ".".into() });
        let err = super::flow(&path, Some("x->b")).unwrap_err().to_string();
        assert!(err.contains("unknown flow x->b: the mirrors are a->b"), "{err}");
    }
}
