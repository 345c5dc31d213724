//! A real distributed Kafka Connect worker (connect-runtime and connect-mirror from Maven
//! Central), killed when dropped. The tests talk to its REST API with curl, an independent client.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{log_tail, start_java};

pub(crate) struct ConnectWorker {
    child: Child,
    dir: tempfile::TempDir,
    pub(crate) url: String,
    /// curl's TLS and login arguments for a secured REST API.
    curl_client: Vec<String>,
}

/// A secured REST API's client files and login, as an operator's client holds them.
pub(crate) struct RestClient {
    /// The CA that signed the worker's certificate (PEM).
    pub(crate) ca: String,
    /// The client certificate the worker requires, and its PKCS#8 key (PEM).
    pub(crate) certificate: String,
    pub(crate) key: String,
    pub(crate) user: &'static str,
    pub(crate) password: &'static str,
}

const STORE_PASSWORD: &str = "changeit";

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(output.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A free local port (bound, then released for the worker).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl ConnectWorker {
    /// A worker of group `group` whose internal topics live on `bootstrap`; `extra` lines are
    /// added to its worker.properties.
    pub(crate) fn start(bootstrap: &str, group: &str, extra: &str) -> ConnectWorker {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let listener = format!("listeners = http://127.0.0.1:{port}\n");
        ConnectWorker::launch(dir, bootstrap, group, &format!("{listener}{extra}"), &[], Vec::new(), format!("http://127.0.0.1:{port}"))
    }

    /// A worker whose REST API is secured as operators run it: HTTPS with a certificate for
    /// 127.0.0.1, client certificates required, and basic authentication (user `migrator`).
    pub(crate) fn start_secured(bootstrap: &str, group: &str) -> (ConnectWorker, RestClient) {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| dir.path().join(name).display().to_string();
        let (server, ca, client_trust) = (at("server.p12"), at("ca.pem"), at("client-trust.p12"));
        run("keytool", &[
            "-genkeypair", "-alias", "worker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2", "-dname", "CN=127.0.0.1",
            "-ext", "SAN=ip:127.0.0.1", "-storetype", "PKCS12", "-keystore", &server, "-storepass", STORE_PASSWORD,
            "-keypass", STORE_PASSWORD,
        ]);
        let exported = Command::new("keytool")
            .args(["-exportcert", "-rfc", "-alias", "worker", "-keystore", &server, "-storepass", STORE_PASSWORD])
            .output()
            .unwrap();
        std::fs::write(&ca, exported.stdout).unwrap();
        let (certificate, key) = (at("client.pem"), at("client.key"));
        run("openssl", &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &certificate, "-days", "2", "-subj", "/CN=migrator"]);
        run("keytool", &[
            "-importcert", "-noprompt", "-alias", "client", "-file", &certificate, "-storetype", "PKCS12", "-keystore", &client_trust,
            "-storepass", STORE_PASSWORD,
        ]);
        std::fs::write(at("credentials.properties"), "migrator=migrator-secret\n").unwrap();
        std::fs::write(
            at("jaas.conf"),
            format!(
                "KafkaConnect {{\n  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required\n  file=\"{}\";\n}};\n",
                at("credentials.properties")
            ),
        )
        .unwrap();
        let port = free_port();
        let worker = format!(
            "listeners = https://127.0.0.1:{port}\n\
             listeners.https.ssl.keystore.type = PKCS12\n\
             listeners.https.ssl.keystore.location = {server}\n\
             listeners.https.ssl.keystore.password = {STORE_PASSWORD}\n\
             listeners.https.ssl.key.password = {STORE_PASSWORD}\n\
             listeners.https.ssl.truststore.type = PKCS12\n\
             listeners.https.ssl.truststore.location = {client_trust}\n\
             listeners.https.ssl.truststore.password = {STORE_PASSWORD}\n\
             listeners.https.ssl.client.auth = required\n\
             rest.extension.classes = org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension\n"
        );
        let client = RestClient { ca, certificate, key, user: "migrator", password: "migrator-secret" };
        let curl_client = vec![
            "--cacert".into(), client.ca.clone(), "--cert".into(), client.certificate.clone(), "--key".into(), client.key.clone(),
            "-u".into(), format!("{}:{}", client.user, client.password),
        ];
        let jaas = format!("-Djava.security.auth.login.config={}", at("jaas.conf"));
        let worker = ConnectWorker::launch(dir, bootstrap, group, &worker, &[&jaas], curl_client, format!("https://127.0.0.1:{port}"));
        (worker, client)
    }

    fn launch(
        dir: tempfile::TempDir,
        bootstrap: &str,
        group: &str,
        extra: &str,
        jvm: &[&str],
        curl_client: Vec<String>,
        url: String,
    ) -> ConnectWorker {
        let config = dir.path().join("worker.properties");
        std::fs::write(
            &config,
            format!(
                "bootstrap.servers = {bootstrap}\n\
                 group.id = {group}\n\
                 key.converter = org.apache.kafka.connect.converters.ByteArrayConverter\n\
                 value.converter = org.apache.kafka.connect.converters.ByteArrayConverter\n\
                 offset.storage.topic = {group}-offsets\n\
                 config.storage.topic = {group}-configs\n\
                 status.storage.topic = {group}-status\n\
                 offset.storage.replication.factor = 1\n\
                 config.storage.replication.factor = 1\n\
                 status.storage.replication.factor = 1\n\
                 offset.flush.interval.ms = 2000\n\
                 {extra}"
            ),
        )
        .unwrap();
        let child = start_java(dir.path(), "connect.log", jvm, "org.apache.kafka.connect.cli.ConnectDistributed", &config);
        let worker = ConnectWorker { child, dir, url, curl_client };
        worker.wait_for("the REST API", 90, |w| w.curl("GET", "/connectors", None).0 == 200);
        worker
    }

    /// The worker's whole log (its REST request log included).
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("connect.log")).unwrap_or_default()
    }

    pub(crate) fn log_tail(&self) -> String {
        log_tail(self.dir.path(), "connect.log")
    }

    /// Waits until `done` holds; panics with the worker's log after `secs`.
    pub(crate) fn wait_for(&self, what: &str, secs: u64, mut done: impl FnMut(&ConnectWorker) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !done(self) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}; the Connect worker's log:\n{}", self.log_tail());
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// One request with curl: the HTTP status and the body.
    pub(crate) fn curl(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "-m", "30", "-X", method, "-w", "\n%{http_code}", &format!("{}{path}", self.url)]).args(&self.curl_client);
        if let Some(body) = body {
            cmd.args(["-H", "Content-Type: application/json", "-d", &body.to_string()]);
        }
        let output = cmd.output().expect("curl is installed");
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let (body, status) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (status.trim().parse().unwrap_or(0), body.to_owned())
    }

    /// Creates connector `name` with `config`, STOPPED or running.
    pub(crate) fn create(&self, name: &str, config: Value, stopped: bool) {
        let mut request = serde_json::json!({"name": name, "config": config});
        if stopped {
            request["initial_state"] = "STOPPED".into();
        }
        let (status, body) = self.curl("POST", "/connectors", Some(&request));
        assert_eq!(status, 201, "create connector {name}: {body}");
        let want = if stopped { "STOPPED" } else { "RUNNING" };
        self.wait_for(&format!("connector {name} {want}"), 60, |w| w.state(name).as_deref() == Some(want));
    }

    pub(crate) fn state(&self, name: &str) -> Option<String> {
        let (status, body) = self.curl("GET", &path(name, "/status"), None);
        let doc: Value = serde_json::from_str(&body).ok().filter(|_| status == 200)?;
        doc["connector"]["state"].as_str().map(str::to_owned)
    }

    pub(crate) fn resume(&self, name: &str) {
        let (status, body) = self.curl("PUT", &path(name, "/resume"), None);
        assert_eq!(status, 202, "resume {name}: {body}");
    }

    /// `GET .../offsets` as (topic, partition) -> offset.
    pub(crate) fn offsets(&self, name: &str) -> std::collections::BTreeMap<(String, i64), i64> {
        let (status, body) = self.curl("GET", &path(name, "/offsets"), None);
        assert_eq!(status, 200, "offsets of {name}: {body}");
        let doc: Value = serde_json::from_str(&body).unwrap();
        doc["offsets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let p = &e["partition"];
                ((p["topic"].as_str().unwrap().to_owned(), p["partition"].as_i64().unwrap()), e["offset"]["offset"].as_i64().unwrap())
            })
            .collect()
    }
}

impl Drop for ConnectWorker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `/connectors/<name><suffix>` with the name percent-encoded (`->` holds a `>`).
pub(crate) fn path(name: &str, suffix: &str) -> String {
    format!("/connectors/{}{suffix}", name.replace('>', "%3E"))
}

/// A MirrorSourceConnector copying `topics` from alias `src` at `source` to `target` (alias
/// `tgt`) with IdentityReplicationPolicy and its own offsets topic `offsets_topic`.
pub(crate) fn mirror_source_config(source: &str, target: &str, topics: &str, offsets_topic: &str) -> Value {
    serde_json::json!({
        "connector.class": "org.apache.kafka.connect.mirror.MirrorSourceConnector",
        "source.cluster.alias": "src",
        "target.cluster.alias": "tgt",
        "source.cluster.bootstrap.servers": source,
        "target.cluster.bootstrap.servers": target,
        "topics": topics,
        "replication.policy.class": "org.apache.kafka.connect.mirror.IdentityReplicationPolicy",
        "offsets.storage.topic": offsets_topic,
        "replication.factor": "1",
        "offset-syncs.topic.replication.factor": "1",
        "sync.topic.acls.enabled": "false",
        "sync.topic.configs.enabled": "false",
        "refresh.topics.interval.seconds": "5",
        "tasks.max": "1",
    })
}
