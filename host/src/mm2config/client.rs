//! A Java client's settings (what MM2 connects with) as librdkafka properties (what this tool
//! connects with). What librdkafka cannot take (a JKS trust store, a Kerberos login) is named
//! with the flag that supplies it instead.

use std::collections::BTreeMap;

use super::{Fact, FlowError};

/// One cluster's connection, translated.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ClientSettings {
    pub bootstrap: Fact,
    /// librdkafka properties, secrets included (never shown: see `kafka::is_secret`).
    #[serde(skip)]
    pub properties: Vec<(String, String)>,
    /// librdkafka key -> the MM2 key it came from.
    pub from: Vec<(String, String)>,
    /// Settings librdkafka cannot take: each needs one of `replaced_by` from a flag.
    pub unsupported: Vec<Unsupported>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unsupported {
    /// The MM2 key.
    pub key: String,
    pub reason: String,
    /// librdkafka properties that supply the same; any one of them given as a flag will do.
    pub replaced_by: Vec<String>,
}

impl ClientSettings {
    pub fn value(&self, key: &str) -> String {
        self.properties.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    fn set(&mut self, key: &str, value: &str, from: &str) {
        self.properties.push((key.to_owned(), value.to_owned()));
        self.from.push((key.to_owned(), from.to_owned()));
    }

    fn unsupported(&mut self, key: &str, reason: &str, replaced_by: &[&str]) {
        self.unsupported.push(Unsupported {
            key: key.to_owned(),
            reason: reason.to_owned(),
            replaced_by: replaced_by.iter().map(|s| (*s).to_owned()).collect(),
        });
    }
}

/// Whether a Java client key is one of the connection settings this tool translates.
pub(crate) fn is_client_key(key: &str) -> bool {
    key == "bootstrap.servers" || key == "security.protocol" || key.starts_with("ssl.") || key.starts_with("sasl.")
}

/// Translates the Java client settings of cluster `alias`.
pub fn librdkafka(alias: &str, java: &BTreeMap<String, Fact>) -> Result<ClientSettings, FlowError> {
    let bootstrap = java
        .get("bootstrap.servers")
        .filter(|f| !f.value.trim().is_empty())
        .cloned()
        .ok_or_else(|| FlowError::NoBootstrap { alias: alias.to_owned() })?;
    let mut out = ClientSettings { bootstrap, ..ClientSettings::default() };
    let get = |key: &str| java.get(key);
    if let Some(f) = get("security.protocol") {
        out.set("security.protocol", &f.value.trim().to_ascii_lowercase(), &f.from);
    }
    if let Some(f) = get("sasl.mechanism") {
        out.set("sasl.mechanism", f.value.trim(), &f.from);
    }
    if let Some(f) = get("sasl.jaas.config") {
        match jaas_login(&f.value) {
            Some((username, password)) => {
                out.set("sasl.username", &username, &f.from);
                out.set("sasl.password", &password, &f.from);
            }
            None => out.unsupported(
                &f.from,
                "only PlainLoginModule and ScramLoginModule logins (username and password) are read",
                &["sasl.username", "sasl.oauthbearer.config", "sasl.kerberos.principal"],
            ),
        }
    }
    let truststore_type = get("ssl.truststore.type").map_or("JKS".to_owned(), |f| f.value.trim().to_ascii_uppercase());
    if let Some(f) = get("ssl.truststore.certificates") {
        out.set("ssl.ca.pem", &f.value, &f.from);
    } else if let Some(f) = get("ssl.truststore.location") {
        if truststore_type == "PEM" {
            out.set("ssl.ca.location", f.value.trim(), &f.from);
        } else {
            out.unsupported(&f.from, &format!("librdkafka cannot read a {truststore_type} trust store; give the CA as PEM"), &["ssl.ca.location", "ssl.ca.pem"]);
        }
    }
    let keystore_type = get("ssl.keystore.type").map_or("JKS".to_owned(), |f| f.value.trim().to_ascii_uppercase());
    if let (Some(chain), Some(key)) = (get("ssl.keystore.certificate.chain"), get("ssl.keystore.key")) {
        out.set("ssl.certificate.pem", &chain.value, &chain.from);
        out.set("ssl.key.pem", &key.value, &key.from);
    } else if let Some(f) = get("ssl.keystore.location") {
        match keystore_type.as_str() {
            "PKCS12" => {
                out.set("ssl.keystore.location", f.value.trim(), &f.from);
                if let Some(p) = get("ssl.keystore.password") {
                    out.set("ssl.keystore.password", &p.value, &p.from);
                }
            }
            other => out.unsupported(
                &f.from,
                &format!("librdkafka cannot read a {other} key store; give the client certificate as PEM or PKCS12"),
                &["ssl.certificate.location", "ssl.certificate.pem", "ssl.keystore.location"],
            ),
        }
    }
    if let Some(f) = get("ssl.key.password") {
        out.set("ssl.key.password", &f.value, &f.from);
    }
    if let Some(f) = get("ssl.endpoint.identification.algorithm") {
        let value = if f.value.trim().is_empty() { "none" } else { "https" };
        out.set("ssl.endpoint.identification.algorithm", value, &f.from);
    }
    Ok(out)
}

/// The username and password of a PLAIN or SCRAM JAAS line.
fn jaas_login(jaas: &str) -> Option<(String, String)> {
    let module = jaas.split_whitespace().next()?;
    if !(module.ends_with("PlainLoginModule") || module.ends_with("ScramLoginModule")) {
        return None;
    }
    let option = |name: &str| -> Option<String> {
        let mut rest = jaas;
        while let Some(at) = rest.find(name) {
            let before_ok = at == 0 || rest.as_bytes()[at - 1].is_ascii_whitespace();
            let after = rest[at + name.len()..].trim_start();
            if before_ok && let Some(value) = after.strip_prefix('=') {
                let value = value.trim_start();
                if let Some(quoted) = value.strip_prefix('"') {
                    return quoted.find('"').map(|end| quoted[..end].to_owned());
                }
                return Some(value.split(|c: char| c.is_whitespace() || c == ';').next()?.to_owned());
            }
            rest = &rest[at + name.len()..];
        }
        None
    };
    Some((option("username")?, option("password")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn java(pairs: &[(&str, &str)]) -> BTreeMap<String, Fact> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), Fact { value: (*v).to_owned(), from: format!("src.{k}") })).collect()
    }

    #[test]
    fn sasl_ssl_with_a_pem_trust_store() {
        let s = librdkafka("src", &java(&[
            ("bootstrap.servers", "k:9093"),
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.jaas.config", r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="mm2" password="p w";"#),
            ("ssl.truststore.type", "PEM"),
            ("ssl.truststore.location", "/etc/ca.pem"),
            ("ssl.endpoint.identification.algorithm", ""),
        ]))
        .unwrap();
        assert_eq!(s.bootstrap.value, "k:9093");
        assert_eq!(s.value("security.protocol"), "sasl_ssl");
        assert_eq!((s.value("sasl.username"), s.value("sasl.password")), ("mm2".to_owned(), "p w".to_owned()));
        assert_eq!(s.value("ssl.ca.location"), "/etc/ca.pem");
        assert_eq!(s.value("ssl.endpoint.identification.algorithm"), "none");
        assert!(s.unsupported.is_empty());
    }

    #[test]
    fn what_librdkafka_cannot_read_is_named() {
        let s = librdkafka("src", &java(&[
            ("bootstrap.servers", "k:9093"),
            ("ssl.truststore.location", "/etc/truststore.jks"),
            ("sasl.jaas.config", "com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true;"),
        ]))
        .unwrap();
        let keys: Vec<&str> = s.unsupported.iter().map(|u| u.key.as_str()).collect();
        assert_eq!(keys, ["src.sasl.jaas.config", "src.ssl.truststore.location"]);
        assert!(s.unsupported[1].replaced_by.contains(&"ssl.ca.location".to_owned()));
        assert!(librdkafka("src", &java(&[])).unwrap_err().to_string().contains("src.bootstrap.servers is missing"));
    }
}
