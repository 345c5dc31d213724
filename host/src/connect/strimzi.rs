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

/// Checks a ConfigMap name as Kubernetes does (a DNS subdomain: at most 253 characters of
/// lower-case letters, digits, `-` and `.`, starting and ending alphanumeric).
pub fn check_configmap_name(name: &str) -> Result<(), String> {
    let ok_ends = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && ok_ends(name.chars().next())
        && ok_ends(name.chars().last());
    if valid {
        Ok(())
    } else {
        Err(format!(
            "--strimzi-configmap {name:?} is not a Kubernetes ConfigMap name (lower-case letters, digits, '-' and '.', \
             starting and ending with a letter or digit)"
        ))
    }
}

/// The ConfigMap's data key Strimzi reads a KafkaMirrorMaker2 connector's offsets from.
pub fn data_key(connector: &str) -> String {
    format!("{}.json", connector.replace("->", "--"))
}

/// The ConfigMap (YAML) holding `records` for `connector`, followed by the commands that apply
/// it, as YAML comments: the whole output can be piped to `kubectl apply -f -`.
pub fn manifest<R: Borrow<TargetRecord>>(mirror: &StrimziMirror, connector: &str, configmap: &str, records: &[R]) -> String {
    let document = serde_json::to_string_pretty(&super::offsets_document(records)).expect("a JSON value serializes");
    let namespace_line = mirror.namespace.as_ref().map(|n| format!("  namespace: {n}\n")).unwrap_or_default();
    let mut out = format!(
        "# mm2-migrate: {} offset(s) for connector {connector} of KafkaMirrorMaker2 {}\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {configmap}\n{namespace_line}\
         data:\n  {}: |\n",
        records.len(),
        mirror.resource,
        data_key(connector),
    );
    for line in document.lines() {
        out.push_str("    ");
        out.push_str(line);
        out.push('\n');
    }
    let ns = mirror.namespace.as_ref().map(|n| format!(" -n {}", quote(n))).unwrap_or_default();
    let resource = quote(&mirror.resource);
    let at = format!("/spec/mirrors/{}/sourceConnector", mirror.mirror);
    let patch = |ops: &str| format!("kubectl patch kafkamirrormaker2 {resource}{ns} --type=json -p {}", quote(&format!("[{ops}]")));
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
            vec![patch(&format!(r#"{{"op":"replace","path":"{at}/state","value":"running"}}"#))],
        ),
    ];
    for (step, (what, commands)) in steps.iter().enumerate() {
        out.push_str(&format!("# {}. {what}\n", step + 1));
        for command in commands {
            out.push_str(&format!("#    {command}\n"));
        }
    }
    out
}

/// A shell word: single-quoted unless it is plain.
fn quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=".contains(c)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
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
        let text = manifest(&mirror, connector, "my-offsets", &records);
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
}
