//! What the plugin commands show: a plugin's description, and an inspection.

/// A plugin's description and configuration keys, as `plugins` lists them.
pub(crate) fn describe_plugin(info: &crate::plugin::wit::PluginInfo, keys: &[connect_offsets::config::ConfigKey]) -> String {
    let mut out = String::new();
    {
        out.push_str(&format!("{} {} (contract {})\n  {}\n", info.name, info.version, info.contract_version, info.description));
        for key in keys {
            let default = match (&key.default_value, key.required) {
                (_, true) => "required".to_owned(),
                (Some(d), false) => format!("default {d:?}"),
                (None, false) => "optional".to_owned(),
            };
            let allowed = if key.valid_values.is_empty() {
                String::new()
            } else {
                format!(", one of {}", key.valid_values.join("|"))
            };
            out.push_str(&format!(
                "  --set {}=<{}>  ({default}{allowed}, {} importance)\n      {}\n",
                key.name,
                key.config_type.name(),
                key.importance.name(),
                key.documentation
            ));
        }
        out.push('\n');
    }
    out
}

/// `plugins inspect`'s JSON: the inspection, and what the plugin says about itself (its
/// configuration keys with their documentation), `null` when it could not be asked.
pub fn inspection_json(inspection: &crate::plugin::Inspection) -> serde_json::Value {
    let plugin = inspection.info.as_ref().map_or(serde_json::Value::Null, |info| {
        let keys: Vec<_> = info
            .config
            .iter()
            .map(|k| {
                serde_json::json!({
                    "name": k.name, "required": k.required, "default": k.default_value,
                    "documentation": k.documentation, "valid_values": k.valid_values,
                })
            })
            .collect();
        serde_json::json!({"name": info.name, "version": info.version, "contract_version": info.contract_version,
            "description": info.description, "config": keys})
    });
    serde_json::json!({"inspection": inspection, "plugin": plugin})
}

/// `plugins inspect`'s text: the file, its imports (the refused one marked), what it says about
/// itself and its policy entry.
pub fn render_inspection(inspection: &crate::plugin::Inspection) -> String {
    let mut text = format!("source    {}\nsha256    {}\n", inspection.source, inspection.sha256);
    text.push_str("imports\n");
    for import in &inspection.imports {
        let mark = if Some(import) == inspection.forbidden_import.as_ref() { "  <- refused" } else { "" };
        text.push_str(&format!("  {import}{mark}\n"));
    }
    match (&inspection.info, &inspection.forbidden_import) {
        (Some(info), _) => {
            text.push_str(&describe_plugin(info, &info.config.iter().map(crate::plugin::config_key).collect::<Vec<_>>()));
            text.push_str(&format!("policy entry:\n  [[plugins]]\n  name = {:?}\n  sha256 = \"{}\"\n", info.name, inspection.sha256));
        }
        (None, Some(import)) => text.push_str(&format!("refused: it imports {import}, which plugins may not use\n")),
        (None, None) => {}
    }
    text
}
