//! The `--connect-property` settings of a Connect client: basic authentication and TLS, checked
//! before anything connects.

use std::path::PathBuf;

use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig, TlsProvider};

use super::client::{ConnectError, PROPERTY_KEYS};

/// The `--connect-property` that lets basic authentication go over plain `http://`.
pub(super) const ALLOW_HTTP: &str = "basic.auth.allow.http";

/// The `--connect-property` settings: basic authentication and TLS.
#[derive(Default)]
pub(super) struct Settings {
    pub(super) user: Option<String>,
    pub(super) password: Option<String>,
    pub(super) ca: Option<PathBuf>,
    pub(super) certificate: Option<PathBuf>,
    pub(super) key: Option<PathBuf>,
    /// `basic.auth.allow.http=true`: the operator's word that `http://` is safe here (a loopback
    /// port-forward, say).
    pub(super) allow_http: bool,
}

impl Settings {
    pub(super) fn parse(pairs: &[(String, String)]) -> Result<Settings, ConnectError> {
        let mut s = Settings::default();
        for (key, value) in pairs {
            match key.as_str() {
                "basic.auth.user" => s.user = Some(value.clone()),
                "basic.auth.password" => s.password = Some(value.clone()),
                "ssl.ca.location" => s.ca = Some(value.into()),
                "ssl.certificate.location" => s.certificate = Some(value.into()),
                "ssl.key.location" => s.key = Some(value.into()),
                ALLOW_HTTP => {
                    s.allow_http = match value.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(ConnectError::Settings(format!("{ALLOW_HTTP} is true or false, not {value:?}"))),
                    }
                }
                other => {
                    return Err(ConnectError::Settings(format!("unknown key {other:?}; the keys are {}", PROPERTY_KEYS.join(", "))));
                }
            }
        }
        if s.user.is_some() != s.password.is_some() {
            return Err(ConnectError::Settings("basic.auth.user and basic.auth.password go together".into()));
        }
        if s.certificate.is_some() != s.key.is_some() {
            return Err(ConnectError::Settings("ssl.certificate.location and ssl.key.location go together".into()));
        }
        Ok(s)
    }

    pub(super) fn tls(&self) -> Result<TlsConfig, ConnectError> {
        let read = |what: &str, path: &PathBuf| {
            std::fs::read(path).map_err(|e| ConnectError::Settings(format!("cannot read {what} {}: {e}", path.display())))
        };
        let pem_error = |what: &str, path: &PathBuf, e: ureq::Error| {
            ConnectError::Settings(format!("{what} {} is not PEM: {e}", path.display()))
        };
        let certificates = |what: &str, path: &PathBuf| -> Result<Vec<Certificate<'static>>, ConnectError> {
            let bytes = read(what, path)?;
            let mut out = Vec::new();
            for item in ureq::tls::parse_pem(&bytes) {
                if let ureq::tls::PemItem::Certificate(c) = item.map_err(|e| pem_error(what, path, e))? {
                    out.push(c);
                }
            }
            if out.is_empty() {
                return Err(ConnectError::Settings(format!("{what} {} holds no certificate", path.display())));
            }
            Ok(out)
        };
        // Without a CA file, the system's trusted roots (as curl).
        let roots = match &self.ca {
            Some(path) => RootCerts::new_with_certs(&certificates("ssl.ca.location", path)?),
            None => RootCerts::PlatformVerifier,
        };
        let mut tls = TlsConfig::builder().provider(TlsProvider::NativeTls).root_certs(roots);
        if let (Some(cert), Some(key)) = (&self.certificate, &self.key) {
            let chain = certificates("ssl.certificate.location", cert)?;
            let key_bytes = read("ssl.key.location", key)?;
            // native-tls takes PKCS#8 keys only.
            if !String::from_utf8_lossy(&key_bytes).contains("-----BEGIN PRIVATE KEY-----") {
                return Err(ConnectError::Settings(format!(
                    "ssl.key.location {}: the key must be an unencrypted PKCS#8 PEM (BEGIN PRIVATE KEY); \
                     convert it with `openssl pkcs8 -topk8 -nocrypt`",
                    key.display()
                )));
            }
            let key_pem = PrivateKey::from_pem(&key_bytes).map_err(|e| pem_error("ssl.key.location", key, e))?;
            tls = tls.client_cert(Some(ClientCert::new_with_certs(&chain, key_pem)));
        }
        Ok(tls.build())
    }
}
