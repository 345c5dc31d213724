//! The same offsets document handed to Strimzi (>= 0.44), which applies it through Connect's
//! API itself: a ConfigMap whose entry `<source>--<target>.MirrorSourceConnector.json` (Strimzi
//! names a KafkaMirrorMaker2 connector's entry after it, `->` replaced with `--`) holds the
//! `{"offsets":[...]}` document, and the `kubectl` commands that stop the connector, point it at
//! the ConfigMap, trigger `strimzi.io/connector-offsets=alter` and resume it.

use std::borrow::Borrow;

use crate::mm2config::strimzi::StrimziMirror;
use crate::model::TargetRecord;

/// `--strimzi-configmap`'s default.
pub const DEFAULT_CONFIGMAP: &str = "mm2-migrate-offsets";

/// A name the manifest would carry that Kubernetes (or Strimzi) would not take: refused before
/// anything is printed, since the output is piped to `kubectl apply -f -`.
#[derive(Debug, thiserror::Error)]
#[error("{what} {value:?} is not {rule}")]
pub struct NameError {
    pub what: &'static str,
    pub value: String,
    pub rule: &'static str,
}

const SUBDOMAIN: &str =
    "a Kubernetes name (RFC 1123 subdomain: at most 253 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit)";
const LABEL: &str =
    "a Kubernetes namespace (RFC 1123 label: at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit)";
const DATA_KEY: &str = "a ConfigMap data key (at most 253 letters, digits, '-', '_' and '.'): the flow's aliases must be plain names";

/// An RFC 1123 subdomain (`label` false) or label (`label` true), as Kubernetes validates names.
fn is_rfc1123(name: &str, label: bool) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let max = if label { 63 } else { 253 };
    !name.is_empty()
        && name.len() <= max
        && name.chars().all(|c| alnum(c) || c == '-' || (c == '.' && !label))
        && name.starts_with(alnum)
        && name.ends_with(alnum)
}

fn checked(what: &'static str, value: &str, valid: bool, rule: &'static str) -> Result<(), NameError> {
    if valid { Ok(()) } else { Err(NameError { what, value: value.to_owned(), rule }) }
}

/// Checks a ConfigMap name as Kubernetes does (a DNS subdomain).
pub fn check_configmap_name(name: &str) -> Result<(), NameError> {
    checked("--strimzi-configmap", name, is_rfc1123(name, false), SUBDOMAIN)
}

/// The ConfigMap's data key Strimzi reads a KafkaMirrorMaker2 connector's offsets from.
pub fn data_key(connector: &str) -> String {
    format!("{}.json", connector.replace("->", "--"))
}

/// Every name the manifest carries, checked as Kubernetes checks it.
pub fn check_names(mirror: &StrimziMirror, connector: &str, configmap: &str) -> Result<(), NameError> {
    check_configmap_name(configmap)?;
    checked("the KafkaMirrorMaker2 resource's metadata.name", &mirror.resource, is_rfc1123(&mirror.resource, false), SUBDOMAIN)?;
    if let Some(namespace) = &mirror.namespace {
        checked("the KafkaMirrorMaker2 resource's metadata.namespace", namespace, is_rfc1123(namespace, true), LABEL)?;
    }
    let key = data_key(connector);
    let key_ok = key.len() <= 253 && key.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    checked("the connector's offsets entry", &key, key_ok, DATA_KEY)
}

/// The ConfigMap as Kubernetes reads it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfigMap<'a> {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata<'a>,
    data: std::collections::BTreeMap<String, String>,
}

#[derive(serde::Serialize)]
struct Metadata<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
}

/// The ConfigMap (YAML) holding `records` for `connector`, followed by the commands that apply
/// it, as YAML comments: the whole output can be piped to `kubectl apply -f -`. Every name it
/// carries is checked first, and the document is written by a YAML serializer, so no name can
/// add a document or a field.
pub fn manifest<R: Borrow<TargetRecord>>(mirror: &StrimziMirror, connector: &str, configmap: &str, records: &[R]) -> Result<String, NameError> {
    check_names(mirror, connector, configmap)?;
    let key = data_key(connector);
    let document = serde_json::to_string_pretty(&super::offsets_document(records)).expect("a JSON value serializes");
    let config_map = ConfigMap {
        api_version: "v1",
        kind: "ConfigMap",
        metadata: Metadata { name: configmap, namespace: mirror.namespace.as_deref() },
        data: [(key, document + "\n")].into_iter().collect(),
    };
    let yaml = serde_yaml_ng::to_string(&config_map).expect("a ConfigMap serializes");
    let mut out = format!(
        "# mm2-migrate: {} offset(s) for connector {connector} of KafkaMirrorMaker2 {}\n{yaml}",
        records.len(),
        mirror.resource,
    );
    let ns = namespace_flag(mirror);
    let resource = quote(&mirror.resource);
    let at = connector_path(mirror);
    let patch = |ops: &str| patch_command(mirror, ops);
    let alter = serde_json::json!({"fromConfigMap": {"name": configmap}});
    out.push_str("# Apply it with Strimzi (>= 0.44), in this order:\n");
    if !mirror.has_source_connector {
        out.push_str(&format!(
            "# (mirror {} has no sourceConnector section: add `sourceConnector: {{}}` to it first)\n",
            mirror.mirror
        ));
    }
    let steps = [
        (
            "Stop the connector (plan again if it was still running when this plan was made: it commits its offsets as it stops):",
            vec![patch(&format!(r#"{{"op":"add","path":"{at}/state","value":"stopped"}}"#))],
        ),
        ("Create this ConfigMap (this output is valid YAML):", vec![format!("kubectl apply{ns} -f THIS-FILE.yaml")]),
        (
            "Name it as the connector's offsets to apply, and let Strimzi alter them:",
            vec![
                patch(&format!(r#"{{"op":"add","path":"{at}/alterOffsets","value":{alter}}}"#)),
                format!(
                    "kubectl annotate kafkamirrormaker2 {resource}{ns} strimzi.io/connector-offsets=alter strimzi.io/mirrormaker-connector={}",
                    quote(connector)
                ),
            ],
        ),
        (
            "When Strimzi has removed the annotation, check the offsets (mm2-migrate verify), then resume the connector:",
            vec![resume_command(mirror)],
        ),
    ];
    for (step, (what, commands)) in steps.iter().enumerate() {
        out.push_str(&format!("# {}. {what}\n", step + 1));
        for command in commands {
            out.push_str(&format!("#    {command}\n"));
        }
    }
    Ok(out)
}

/// A shell word: single-quoted unless it is plain.
fn quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=".contains(c)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// ` -n NAMESPACE` when the resource names one.
fn namespace_flag(mirror: &StrimziMirror) -> String {
    mirror.namespace.as_ref().map(|n| format!(" -n {}", quote(n))).unwrap_or_default()
}

/// The JSON path of the mirror's source connector in the resource.
fn connector_path(mirror: &StrimziMirror) -> String {
    format!("/spec/mirrors/{}/sourceConnector", mirror.mirror)
}

/// `kubectl patch` of the resource with JSON patch operations `ops`.
fn patch_command(mirror: &StrimziMirror, ops: &str) -> String {
    format!("kubectl patch kafkamirrormaker2 {}{} --type=json -p {}", quote(&mirror.resource), namespace_flag(mirror), quote(&format!("[{ops}]")))
}

/// The command that sets the mirror's source connector running again.
pub fn resume_command(mirror: &StrimziMirror) -> String {
    patch_command(mirror, &format!(r#"{{"op":"replace","path":"{}/state","value":"running"}}"#, connector_path(mirror)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use connect_offsets::jackson;

    #[test]
    fn the_configmap_holds_strimzis_documented_offsets_format() {
        let mirror = StrimziMirror { resource: "my-mm2".into(), namespace: Some("kafka".into()), mirror: 0, has_source_connector: true };
        let connector = "east-kafka->west-kafka.MirrorSourceConnector";
        let records = [TargetRecord {
            topic: "mirrormaker2-cluster-offsets".into(),
            partition: 3,
            key: jackson::mm2_source_key(connector, "east-kafka", "orders", 0),
            value: Some(jackson::offset_value(41)),
            origin: "line 1".into(),
        }];
        let text = manifest(&mirror, connector, "my-offsets", &records).unwrap();
        let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
        assert_eq!(doc["kind"].as_str(), Some("ConfigMap"));
        assert_eq!((doc["metadata"]["name"].as_str(), doc["metadata"]["namespace"].as_str()), (Some("my-offsets"), Some("kafka")));
        // The entry Strimzi's blog post ("Managing connector offsets") shows for this connector.
        let json = doc["data"]["east-kafka--west-kafka.MirrorSourceConnector.json"].as_str().unwrap();
        let offsets: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(
            offsets,
            serde_json::json!({"offsets": [{"partition": {"cluster": "east-kafka", "partition": 0, "topic": "orders"}, "offset": {"offset": 41}}]})
        );
        assert!(text.contains(
            "#    kubectl annotate kafkamirrormaker2 my-mm2 -n kafka strimzi.io/connector-offsets=alter \
             strimzi.io/mirrormaker-connector='east-kafka->west-kafka.MirrorSourceConnector'\n"
        ), "{text}");
        assert!(text.contains(r#"'[{"op":"add","path":"/spec/mirrors/0/sourceConnector/alterOffsets","value":{"fromConfigMap":{"name":"my-offsets"}}}]'"#), "{text}");
        assert!(text.contains(r#"/spec/mirrors/0/sourceConnector/state","value":"stopped"#) && text.contains(r#""value":"running"#), "{text}");
    }

    #[test]
    fn configmap_names_are_checked() {
        assert!(check_configmap_name("mm2-migrate-offsets").is_ok());
        for bad in ["", "Offsets", "-x", "x_y", "x-"] {
            assert!(check_configmap_name(bad).is_err(), "{bad}");
        }
    }

    /// What a crafted resource file could otherwise smuggle into `kubectl apply -f -`.
    #[test]
    fn crafted_names_never_reach_the_manifest_and_it_is_one_document() {
        let injection = "x\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding";
        let mirror = |resource: &str, namespace: Option<&str>| StrimziMirror {
            resource: resource.into(),
            namespace: namespace.map(Into::into),
            mirror: 0,
            has_source_connector: true,
        };
        let records: [TargetRecord; 0] = [];
        let connector = "a->b.MirrorSourceConnector";
        for (resource, namespace, connector, needle) in [
            (injection, None, connector, "metadata.name"),
            ("mm2", Some(injection), connector, "metadata.namespace"),
            ("mm2", Some("a.b"), connector, "metadata.namespace"),
            ("mm2", None, "a\nkind: x->b.MirrorSourceConnector", "offsets entry"),
            ("mm2", None, "a: b->c.MirrorSourceConnector", "offsets entry"),
        ] {
            let err = manifest(&mirror(resource, namespace), connector, "offsets", &records).unwrap_err().to_string();
            assert!(err.contains(needle) && !err.contains('\n'), "{err}");
        }
        let text = manifest(&mirror("mm2.v2", Some("kafka-prod")), "east_1->west.1.MirrorSourceConnector", "offsets", &records).unwrap();
        let documents: Vec<serde_yaml_ng::Value> =
            serde_yaml_ng::Deserializer::from_str(&text).map(|d| serde::Deserialize::deserialize(d).unwrap()).collect();
        assert_eq!(documents.len(), 1, "{text}");
        assert_eq!(documents[0]["data"]["east_1--west.1.MirrorSourceConnector.json"].as_str().map(|s| s.contains("offsets")), Some(true), "{text}");
    }
}
