//! A small client of Kafka Connect's REST API: every request bounded by the command's timeout,
//! errors that name the worker and what was asked, Connect's own message on a refusal, and
//! credentials that never reach a log or an error.

use std::time::{Duration, Instant};

use super::settings::{ALLOW_HTTP, Settings};
use super::state::{ConnectorState, Transition};

/// The `--connect-property` keys (named like librdkafka's, which the other flags already use).
pub const PROPERTY_KEYS: &[&str] = &[
    "basic.auth.user",
    "basic.auth.password",
    "ssl.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
    "basic.auth.allow.http",
];

/// Longest message of Connect's shown (it is the worker's text: shown escaped, and bounded).
const MAX_MESSAGE_BYTES: usize = 2048;
/// Answers larger than this are not Connect's: its offsets for 100,000 partitions take about
/// 12 MiB. Each answer is read into typed shapes (not a generic JSON tree), so a bounded answer
/// costs a small multiple of its size.
const MAX_ANSWER_BYTES: u64 = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("--connect-property: {0}")]
    Settings(String),
    /// The connector's configuration is not one the tool can migrate to.
    #[error("Kafka Connect at {url}: {message}")]
    Config { url: String, message: String },
    #[error("Kafka Connect at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("Kafka Connect at {url} answered {request} with HTTP {status}: {message}")]
    Refused { url: String, request: String, status: u16, message: String },
    #[error("Kafka Connect at {url} has no connector {connector:?}{}", if known.is_empty() { String::new() } else { format!(" (its connectors: {})", known.join(", ")) })]
    UnknownConnector { url: String, connector: String, known: Vec<String> },
    #[error("Kafka Connect at {url} answered {request} with what is not Connect's answer: {message}")]
    Unexpected { url: String, request: String, message: String },
}

impl ConnectError {
    /// The HTTP status Connect answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ConnectError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A Kafka Connect worker's REST API.
#[derive(Clone)]
pub struct ConnectClient {
    /// `http(s)://host:port[/prefix]`, without a trailing slash or credentials.
    url: String,
    agent: ureq::Agent,
    /// `Basic ...`; never printed.
    authorization: Option<String>,
    timeout: Duration,
}

impl std::fmt::Debug for ConnectClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectClient")
            .field("url", &self.url)
            .field("basic_auth", &self.authorization.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The requests this client makes.
#[derive(Clone, Copy)]
enum Method<'a> {
    Get,
    Put,
    Patch(&'a [u8]),
}

impl Method<'_> {
    fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Patch(_) => "PATCH",
        }
    }
}

/// One answer: its status, body, and for a redirect where it points.
struct Answer {
    status: u16,
    body: Vec<u8>,
    location: Option<String>,
}

/// Connect's error answer: `{"error_code":N,"message":"..."}`.
#[derive(serde::Deserialize)]
struct ErrorAnswer {
    message: String,
}

/// `GET /connectors/NAME/status`, the fields read.
#[derive(serde::Deserialize)]
struct StatusAnswer {
    connector: ConnectorStatus,
    tasks: Vec<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize)]
struct ConnectorStatus {
    state: String,
}

/// `GET /connectors/NAME/offsets`: each entry kept as its raw JSON text, checked entry by entry.
#[derive(serde::Deserialize)]
struct OffsetsAnswer {
    offsets: Vec<RawOffset>,
}

/// One `{"partition":{..},"offset":{..}}` entry of Connect's offsets, as Connect wrote it.
#[derive(Debug, serde::Deserialize)]
pub struct RawOffset {
    pub partition: Box<serde_json::value::RawValue>,
    pub offset: Option<Box<serde_json::value::RawValue>>,
}

/// `PATCH /connectors/NAME/offsets`'s confirmation.
#[derive(serde::Deserialize)]
struct Confirmation {
    #[serde(default)]
    message: String,
}

impl ConnectClient {
    /// A client of the worker at `url` with the `--connect-property` settings; each request
    /// (connecting, sending, reading the answer) takes at most `timeout`.
    pub fn new(url: &str, properties: &[(String, String)], timeout: Duration) -> Result<ConnectClient, ConnectError> {
        let url = url.trim().trim_end_matches('/').to_owned();
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(ConnectError::Settings(format!("--connect-url {url:?} is not an http:// or https:// URL")));
        };
        if !matches!(scheme, "http" | "https") || rest.is_empty() {
            return Err(ConnectError::Settings(format!("--connect-url {url:?} is not an http:// or https:// URL")));
        }
        if rest.split('/').next().is_some_and(|authority| authority.contains('@')) {
            // Credentials in a URL end up in logs and error messages.
            return Err(ConnectError::Settings(
                "--connect-url must not hold credentials; give them with --connect-property basic.auth.user=... and \
                 basic.auth.password=..."
                    .into(),
            ));
        }
        let settings = Settings::parse(properties)?;
        if scheme == "http" && (settings.ca.is_some() || settings.certificate.is_some()) {
            return Err(ConnectError::Settings(format!("TLS settings are given but --connect-url {url} is not https://")));
        }
        if scheme == "http" && settings.password.is_some() && !settings.allow_http {
            // Basic authentication is the password itself, readable by anyone on the path.
            return Err(ConnectError::Settings(format!(
                "basic.auth.password would go in clear text to --connect-url {url}: use https://, or pass \
                 --connect-property {ALLOW_HTTP}=true when plain http is safe (a loopback port-forward, say)"
            )));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .max_redirects(0)
            .user_agent(concat!("mm2-migrate/", env!("CARGO_PKG_VERSION")))
            .tls_config(settings.tls()?)
            .build();
        let authorization = match (&settings.user, &settings.password) {
            (Some(user), Some(password)) => {
                use base64::Engine as _;
                Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))))
            }
            _ => None,
        };
        Ok(ConnectClient { url, agent: ureq::Agent::new_with_config(config), authorization, timeout })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn send(&self, method: Method<'_>, path: &str) -> Result<Answer, ConnectError> {
        let target = format!("{}{path}", self.url);
        let request = format!("{} {path}", method.name());
        let unreachable = |e: ureq::Error| {
            let message = match e {
                ureq::Error::Timeout(_) => format!("no answer to {request} within {} s", self.timeout.as_secs()),
                other => format!("{request} failed: {other}"),
            };
            ConnectError::Unreachable { url: self.url.clone(), message }
        };
        let json = "application/json";
        let response = match method {
            Method::Get => self.authorized(self.agent.get(&target)).header("Accept", json).call(),
            Method::Put => self.authorized(self.agent.put(&target)).header("Accept", json).send_empty(),
            Method::Patch(body) => self.authorized(self.agent.patch(&target)).header("Accept", json).content_type(json).send(body),
        };
        let mut response = response.map_err(unreachable)?;
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let body = response.body_mut().with_config().limit(MAX_ANSWER_BYTES).read_to_vec().map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => ConnectError::Unexpected {
                url: self.url.clone(),
                request: request.clone(),
                message: format!(
                    "an answer larger than {} MiB, more than a Connect worker sends (its offsets for 100,000 partitions \
                     take about 12 MiB); not read further",
                    MAX_ANSWER_BYTES >> 20
                ),
            },
            other => unreachable(other),
        })?;
        tracing::debug!("{request} at {} -> {status}", self.url);
        Ok(Answer { status, body, location })
    }

    fn authorized<B>(&self, builder: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.authorization {
            Some(value) => builder.header("Authorization", value),
            None => builder,
        }
    }

    /// A 2xx answer read as `T` (`None` for an empty body); Connect's own message for anything else.
    fn json<T: serde::de::DeserializeOwned>(&self, method: Method<'_>, path: &str) -> Result<Option<T>, ConnectError> {
        let answer = self.send(method, path)?;
        let request = format!("{} {path}", method.name());
        if !(200..300).contains(&answer.status) {
            let message = match (&answer.location, (300..400).contains(&answer.status)) {
                // Redirects are not followed: the credentials would go wherever they point.
                (Some(location), true) => format!(
                    "a redirect to {}, not followed: give that address as --connect-url if it is the worker",
                    crate::plugin::untrusted::text(location, MAX_MESSAGE_BYTES)
                ),
                (None, true) => "a redirect without a Location, not followed".to_owned(),
                _ => {
                    let body = String::from_utf8_lossy(&answer.body);
                    let parsed: Option<ErrorAnswer> = serde_json::from_slice(&answer.body).ok();
                    crate::plugin::untrusted::text(parsed.as_ref().map_or(&*body, |e| e.message.as_str()), MAX_MESSAGE_BYTES)
                }
            };
            return Err(ConnectError::Refused { url: self.url.clone(), request, status: answer.status, message });
        }
        if answer.body.trim_ascii().is_empty() {
            return Ok(None);
        }
        serde_json::from_slice(&answer.body).map(Some).map_err(|e| ConnectError::Unexpected {
            url: self.url.clone(),
            request,
            message: format!(
                "{e}: {}",
                crate::plugin::untrusted::text(&String::from_utf8_lossy(&answer.body[..answer.body.len().min(200)]), 200)
            ),
        })
    }

    /// A 2xx answer that must have a body.
    fn required<T: serde::de::DeserializeOwned>(&self, method: Method<'_>, path: &str, what: &str) -> Result<T, ConnectError> {
        self.json(method, path)?.ok_or_else(|| self.unexpected(format!("{} {path}", method.name()), format!("an empty answer, not {what}")))
    }

    fn unexpected(&self, request: String, message: String) -> ConnectError {
        ConnectError::Unexpected { url: self.url.clone(), request, message }
    }

    /// `GET /connectors`: the names of the connectors.
    pub fn connectors(&self) -> Result<Vec<String>, ConnectError> {
        self.required(Method::Get, "/connectors", "a list of names")
    }

    /// `GET /connectors/NAME/config`.
    pub fn config(&self, connector: &str) -> Result<std::collections::BTreeMap<String, String>, ConnectError> {
        let path = connector_path(connector, "/config");
        self.required(Method::Get, &path, "a configuration object")
    }

    /// `GET /connectors/NAME/status`: the connector's state and its number of tasks. A connector
    /// just created has no status for a moment: asked again until the timeout.
    pub fn state(&self, connector: &str) -> Result<ConnectorState, ConnectError> {
        let path = connector_path(connector, "/status");
        let deadline = Instant::now() + self.timeout;
        loop {
            match self.required::<StatusAnswer>(Method::Get, &path, "a connector's state and tasks") {
                Ok(status) => return Ok(ConnectorState { state: status.connector.state, tasks: status.tasks.len() }),
                // "No status found for connector X": known to the cluster, status not yet written.
                Err(e) if e.status() == Some(404) && Instant::now() < deadline && self.exists(connector)? => {
                    std::thread::sleep(Duration::from_millis(300));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn exists(&self, connector: &str) -> Result<bool, ConnectError> {
        match self.json::<serde::de::IgnoredAny>(Method::Get, &connector_path(connector, "")) {
            Ok(_) => Ok(true),
            Err(e) if e.status() == Some(404) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `GET /connectors/NAME/offsets`: each `{"partition":{..},"offset":{..}}` entry.
    pub fn offsets(&self, connector: &str) -> Result<Vec<RawOffset>, ConnectError> {
        let path = connector_path(connector, "/offsets");
        Ok(self.required::<OffsetsAnswer>(Method::Get, &path, "an \"offsets\" list")?.offsets)
    }

    /// `PUT /connectors/NAME/stop`, then waits until the connector is STOPPED with no tasks.
    pub fn stop(&self, connector: &str) -> Result<(), ConnectError> {
        self.transition(connector, Transition::Stop)
    }

    /// `PUT /connectors/NAME/<action>`, then waits until the connector has reached it (within
    /// the timeout).
    pub fn transition(&self, connector: &str, transition: Transition) -> Result<(), ConnectError> {
        self.json::<serde::de::IgnoredAny>(Method::Put, &connector_path(connector, transition.path()))?;
        let deadline = Instant::now() + self.timeout;
        loop {
            let state = self.state(connector)?;
            if transition.reached(&state) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(ConnectError::Unreachable {
                    url: self.url.clone(),
                    message: format!(
                        "connector {connector:?} is still {} with {} task(s) {} s after it was asked to {}",
                        state.state,
                        state.tasks,
                        self.timeout.as_secs(),
                        transition.verb()
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// `PATCH /connectors/NAME/offsets` with `body`; Connect's confirmation message.
    pub fn alter_offsets(&self, connector: &str, body: &[u8]) -> Result<String, ConnectError> {
        let confirmation: Option<Confirmation> = self.json(Method::Patch(body), &connector_path(connector, "/offsets"))?;
        Ok(confirmation.map(|c| c.message).unwrap_or_default())
    }
}


/// `/connectors/<NAME><suffix>`, the name percent-encoded (`src->tgt.MirrorSourceConnector`).
pub fn connector_path(connector: &str, suffix: &str) -> String {
    let mut out = String::from("/connectors/");
    for b in connector.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out + suffix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connector_names_are_encoded_in_paths() {
        assert_eq!(connector_path("src->tgt.MirrorSourceConnector", "/offsets"), "/connectors/src-%3Etgt.MirrorSourceConnector/offsets");
        assert_eq!(connector_path("a b/c", ""), "/connectors/a%20b%2Fc");
    }

    #[test]
    fn urls_and_settings_are_checked_before_anything_connects() {
        let t = Duration::from_secs(1);
        let err = |url: &str, props: &[(&str, &str)]| {
            let props: Vec<(String, String)> = props.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
            ConnectClient::new(url, &props, t).unwrap_err().to_string()
        };
        assert!(err("localhost:8083", &[]).contains("not an http:// or https:// URL"));
        assert!(err("http://admin:secret@localhost:8083", &[]).contains("must not hold credentials"));
        assert!(err("http://localhost:8083", &[("basic.auth.user", "u")]).contains("go together"));
        assert!(err("http://localhost:8083", &[("ssl.ca.location", "/x")]).contains("not https://"));
        assert!(err("https://localhost:8083", &[("sasl.username", "u")]).contains("unknown key"));
        assert!(err("https://localhost:8083", &[("ssl.ca.location", "/nonexistent/ca.pem")]).contains("cannot read ssl.ca.location"));
        let login = [("basic.auth.user".to_owned(), "u".to_owned()), ("basic.auth.password".to_owned(), "hunter2".to_owned())];
        let refused = ConnectClient::new("http://localhost:8083/", &login, t).unwrap_err().to_string();
        assert!(refused.contains("basic.auth.password would go in clear text") && refused.contains("basic.auth.allow.http=true"), "{refused}");
        assert!(!refused.contains("hunter2"), "{refused}");
        assert!(err("http://localhost:8083", &[("basic.auth.allow.http", "yes")]).contains("true or false"));
        let allowed: Vec<(String, String)> = login.iter().cloned().chain([("basic.auth.allow.http".to_owned(), "true".to_owned())]).collect();
        let client = ConnectClient::new("http://localhost:8083/", &allowed, t).unwrap();
        assert_eq!(client.url(), "http://localhost:8083");
        assert!(!format!("{client:?}").contains("hunter2") && !format!("{client:?}").contains("aHVudGVyMg"), "{client:?}");
    }

    #[test]
    fn a_worker_that_does_not_answer_is_named_with_its_url() {
        // A listening socket that never answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let client = ConnectClient::new(&url, &[], Duration::from_secs(1)).unwrap();
        let started = Instant::now();
        let err = client.connectors().unwrap_err().to_string();
        assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
        assert!(err.contains(&url) && err.contains("no answer to GET /connectors within 1 s"), "{err}");
    }

    #[test]
    fn a_redirect_is_named_with_where_it_points_and_not_followed() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let answer = "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://elsewhere:8083/connectors\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            stream.write_all(answer.as_bytes()).unwrap();
        });
        let client = ConnectClient::new(&url, &[], Duration::from_secs(5)).unwrap();
        let err = client.connectors().unwrap_err().to_string();
        server.join().unwrap();
        assert!(err.contains("HTTP 307: a redirect to http://elsewhere:8083/connectors, not followed"), "{err}");
    }
}
