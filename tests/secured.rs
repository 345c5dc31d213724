//! A secured cluster, as operators run them: SASL over TLS, the StandardAuthorizer with
//! `allow.everyone.if.no.acl.found=false`, and an unprivileged user. docs/acls.md's least-privilege
//! ACLs are proven here: the listed set suffices for plan, run and verify (topic and group sources,
//! the replicated cluster's range and seam checks), each ACL removed gives a refusal that says "not
//! authorized" and names the resource, and no password appears in any output.

mod support;

use support::*;

const SOURCE: &str = "connect-offsets";
const TARGET: &str = "mm2-offsets.sec.internal";
const DATA: &str = "orders";
/// Where MM2 would write `orders` under the default replication policy: the seam check reads it.
const COPIES: &str = "sec.orders";
const GROUP: &str = "mm1-group";
const SECRET: &str = "migrator-secret";

struct Secured {
    broker: Broker,
}

impl Secured {
    fn ca(&self) -> String {
        self.broker.dir.path().join("ca.pem").display().to_string()
    }

    fn admin_config(&self) -> String {
        self.broker.dir.path().join("admin.properties").display().to_string()
    }

    /// librdkafka settings (kcat `-X` or mm2-migrate `-X`) for a user.
    fn client(&self, user: &str, password: &str, ca: &str) -> Vec<String> {
        [
            "security.protocol=SASL_SSL".to_owned(),
            "sasl.mechanism=PLAIN".to_owned(),
            format!("sasl.username={user}"),
            format!("sasl.password={password}"),
            format!("ssl.ca.location={ca}"),
        ]
        .into_iter()
        .flat_map(|p| ["-X".to_owned(), p])
        .collect()
    }

    fn admin(&self) -> Vec<String> {
        self.client("admin", "admin-secret", &self.ca())
    }

    fn tool(&self, tool: &str, args: &[&str]) -> String {
        kafka_tool(tool, &self.broker.bootstrap, &["--command-config", &self.admin_config()], args)
    }

    /// Adds (or removes) `operations` on `resource` for the migrator.
    fn acl(&self, add: bool, resource: &[&str], operations: &[&str]) {
        let mut args = vec![if add { "--add" } else { "--remove" }, "--force", "--allow-principal", "User:migrator"];
        args.extend_from_slice(resource);
        for op in operations {
            args.extend(["--operation", op]);
        }
        self.tool("acls", &args);
        // The controller has committed the change; give the broker a moment to apply it.
        std::thread::sleep(std::time::Duration::from_millis(500));
    }

    /// mm2-migrate as the migrator (or with other client settings).
    fn migrate(&self, command: &str, extra: &[&str], client: &[String]) -> std::process::Output {
        let b = self.broker.bootstrap.as_str();
        let mut args: Vec<String> = [command, "--source-bootstrap", b, "--timeout", "10"].map(str::to_owned).to_vec();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args.extend(client.iter().cloned());
        std::process::Command::new(BIN).args(&args).stdin(std::process::Stdio::null()).output().unwrap()
    }
}

/// The topic source: the old offsets topic, MM2's offsets topic, the replicated topic's range and
/// seam (the last records of `sec.orders`, then the replicated records at their timestamp).
fn topic_source(replicated: &str) -> Vec<&str> {
    vec![
        "--plugin",
        "replicator-to-mm2",
        "--set",
        "source.cluster.alias=sec",
        "--replicated-bootstrap",
        replicated,
        "--replication-policy",
        "default",
    ]
}

fn assert_refused(output: &std::process::Output, resource: &str) {
    let err = stderr(output);
    assert!(!output.status.success(), "expected a refusal naming {resource}: {err}");
    assert!(err.contains("not authorized"), "{err}");
    assert!(err.contains(resource), "the refusal names {resource}: {err}");
}

#[test]
fn the_listed_acls_suffice_and_each_one_is_needed() {
    let s = Secured { broker: Broker::start_with(&[("SECURE", "1")]) };
    let b = s.broker.bootstrap.clone();
    let admin = s.admin();
    let me = s.client("migrator", SECRET, &s.ca());

    // The old replicator's progress, its data, and MirrorMaker 1's group, written as admin.
    s.tool("topics", &["--create", "--topic", SOURCE, "--partitions", "1", "--config", "cleanup.policy=compact"]);
    s.tool("topics", &["--create", "--topic", DATA, "--partitions", "1"]);
    s.tool("topics", &["--create", "--topic", COPIES, "--partitions", "1"]);
    // Records that are no copies, older than the replicated ones: the seam check reads both
    // topics and calls the seam unproven, which run writes as recorded.
    let others: Vec<(String, Option<&str>)> = (0..3).map(|i| (format!("k{i}"), Some("other"))).collect();
    kcat_produce_as(&b, &admin, COPIES, &others.iter().map(|(k, v)| (k.as_str(), *v)).collect::<Vec<_>>());
    std::thread::sleep(std::time::Duration::from_millis(20));
    let data: Vec<(String, Option<&str>)> = (0..10).map(|i| (format!("k{i}"), Some("v"))).collect();
    kcat_produce_as(&b, &admin, DATA, &data.iter().map(|(k, v)| (k.as_str(), *v)).collect::<Vec<_>>());
    let rkey = r#"["replicator",{"topic":"orders","partition":0}]"#;
    kcat_produce_as(&b, &admin, SOURCE, &[(rkey, Some(r#"{"offset":4}"#))]);
    s.tool("groups", &["--reset-offsets", "--group", GROUP, "--topic", DATA, "--to-offset", "5", "--execute"]);

    // The list of docs/acls.md.
    let source = ["--topic", SOURCE];
    let target = ["--topic", TARGET];
    let data_topic = ["--topic", DATA];
    let copies = ["--topic", COPIES];
    let group = ["--group", GROUP];
    s.acl(true, &source, &["Read"]);
    s.acl(true, &target, &["Read", "Write", "DescribeConfigs", "Create"]);
    s.acl(true, &data_topic, &["Read"]);
    s.acl(true, &copies, &["Read"]);
    s.acl(true, &group, &["Describe"]);

    // Create is needed only while MM2's offsets topic does not exist.
    s.acl(false, &target, &["Create"]);
    assert_refused(&s.migrate("run", &topic_source(&b), &me), TARGET);
    s.acl(true, &target, &["Create"]);

    let run = s.migrate("run", &[&topic_source(&b)[..], &["-vv", "--output", "json"]].concat(), &me);
    assert!(run.status.success(), "{}", stderr(&run));
    let document: serde_json::Value = serde_json::from_str(&stdout(&run)).unwrap();
    let seam = &document["plan"]["entries"][0]["seam"];
    assert_eq!(seam["status"], "unproven", "the seam check read both topics: {seam}");
    assert!(seam["detail"].as_str().unwrap().contains("no run of 3 records of orders/0"), "{seam}");
    let written = kcat_consume_as(&b, &admin, TARGET);
    assert_eq!(written.len(), 1);
    assert_eq!(written[0]["payload"], r#"{"offset":4}"#);
    for text in [stdout(&run), stderr(&run)] {
        assert!(!text.contains(SECRET), "a password in the output");
    }
    let verify = s.migrate("verify", &topic_source(&b), &me);
    assert!(verify.status.success(), "{}", stderr(&verify));
    let group_source = ["--plugin", "group-to-mm2", "--source-group", GROUP, "--set", "source.cluster.alias=sec"];
    let plan = s.migrate("plan", &group_source, &me);
    assert!(plan.status.success(), "{}", stderr(&plan));

    // Each ACL removed is refused by name; nothing is written meanwhile.
    kcat_produce_as(&b, &admin, SOURCE, &[(rkey, Some(r#"{"offset":6}"#))]);
    let cases: [(&[&str], &str, &str, &[&str]); 7] = [
        (&source, "Read", SOURCE, &topic_source(&b)),
        (&target, "Read", TARGET, &topic_source(&b)),
        (&target, "Write", TARGET, &topic_source(&b)),
        (&target, "DescribeConfigs", TARGET, &topic_source(&b)),
        (&data_topic, "Read", DATA, &topic_source(&b)),
        (&copies, "Read", COPIES, &topic_source(&b)),
        (&group, "Describe", GROUP, &group_source),
    ];
    for (resource, operation, name, args) in cases {
        s.acl(false, resource, &[operation]);
        let command = if operation == "Write" || operation == "DescribeConfigs" { "run" } else { "plan" };
        let output = s.migrate(command, args, &me);
        assert!(stderr(&output).contains("not authorized"), "{command} without {operation} on {name}: {}", stderr(&output));
        assert_refused(&output, name);
        s.acl(true, resource, &[operation]);
        assert_eq!(kcat_consume_as(&b, &admin, TARGET).len(), 1, "nothing written without {operation} on {name}");
    }

    // The full set again: the new offset goes through.
    let run = s.migrate("run", &topic_source(&b), &me);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(kcat_consume_as(&b, &admin, TARGET).len(), 2);

    // MM2's own configuration with the same least privileges: SASL over TLS from the file, the
    // password behind a ${file:...} indirection; the old offsets topic's connection from flags.
    let secrets = s.broker.dir.path().join("secrets.properties");
    std::fs::write(&secrets, format!("password = {SECRET}\n")).unwrap();
    let mm2 = s.broker.dir.path().join("mm2.properties");
    std::fs::write(
        &mm2,
        format!(
            "clusters = sec, backup\nsec.bootstrap.servers = {b}\nbackup.bootstrap.servers = {b}\nsec->backup.enabled = true\n\
             config.providers = file\n\
             config.providers.file.class = org.apache.kafka.common.config.provider.FileConfigProvider\n\
             security.protocol = SASL_SSL\nsasl.mechanism = PLAIN\n\
             sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required username=\"migrator\" \
             password=\"${{file:{}:password}}\";\n\
             ssl.truststore.type = PEM\nssl.truststore.location = {}\n",
            secrets.display(),
            s.ca()
        ),
    )
    .unwrap();
    let source_only: Vec<String> = me.iter().map(|a| if a == "-X" { "--source-property".to_owned() } else { a.clone() }).collect();
    let args: Vec<&str> = ["--mm2-config", mm2.to_str().unwrap(), "--plugin", "replicator-to-mm2", "--output", "json"].to_vec();
    let plan = s.migrate("plan", &args, &source_only);
    assert!(plan.status.success(), "{}", stderr(&plan));
    let document: serde_json::Value = serde_json::from_str(&stdout(&plan)).unwrap();
    assert_eq!(document["plan"]["target_topic"], TARGET, "the flow's offsets topic");
    assert_eq!(document["plan"]["entries"][0]["seam"]["status"], "unproven", "the seam read sec.orders");
    assert_eq!(document["plan"]["coverage"]["totals"]["resume"], 1, "{}", document["plan"]["coverage"]);
    for text in [stdout(&plan), stderr(&plan)] {
        assert!(!text.contains(SECRET), "a password in the output");
    }

    // A wrong password and an unknown certificate authority are named as such, not as an
    // unreachable cluster, and no password is shown.
    let wrong = s.client("migrator", "not-the-password", &s.ca());
    let output = s.migrate("plan", &topic_source(&b), &wrong);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains(&format!("source cluster {b}: authentication failed")), "{}", stderr(&output));
    assert!(!stderr(&output).contains("not-the-password"));
    let other_ca = s.broker.dir.path().join("other-ca.pem");
    std::fs::write(&other_ca, include_str!("kafka/untrusted-ca.pem")).unwrap();
    let untrusted = s.client("migrator", SECRET, other_ca.to_str().unwrap());
    let output = s.migrate("plan", &topic_source(&b), &untrusted);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains(&format!("source cluster {b}: the broker's certificate could not be verified")), "{}", stderr(&output));
    assert!(!stderr(&output).contains(SECRET));
}

/// The consumer-groups rows of docs/acls.md, on two secured clusters (each with its own
/// certificate authority): the group commits on the replicated cluster `src`; the copies, the
/// group's new offsets and MM2's checkpoints on the data cluster `tgt`.
#[test]
fn groups_need_the_listed_acls() {
    use rdkafka::ClientConfig;
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

    const APP: &str = "app";
    const CHECKPOINTS: &str = "sec.checkpoints.internal";
    let src = Secured { broker: Broker::start_with(&[("SECURE", "1")]) };
    let tgt = Secured { broker: Broker::start_with(&[("SECURE", "1")]) };
    let (s, t) = (src.broker.bootstrap.clone(), tgt.broker.bootstrap.clone());

    // The application's records on src, its commit at 5, and the old tool's copies on tgt after two
    // foreign records: the commit translates to 7.
    src.tool("topics", &["--create", "--topic", DATA, "--partitions", "1"]);
    tgt.tool("topics", &["--create", "--topic", COPIES, "--partitions", "1"]);
    kcat_produce_as(&t, &tgt.admin(), COPIES, &[("x0", Some("foreign")), ("x1", Some("foreign"))]);
    let data: Vec<(String, Option<&str>)> = (0..10).map(|i| (format!("k{i}"), Some("v"))).collect();
    kcat_produce_as(&s, &src.admin(), DATA, &data.iter().map(|(k, v)| (k.as_str(), *v)).collect::<Vec<_>>());
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", &t)
        .set("security.protocol", "SASL_SSL")
        .set("sasl.mechanism", "PLAIN")
        .set("sasl.username", "admin")
        .set("sasl.password", "admin-secret")
        .set("ssl.ca.location", tgt.ca())
        .create()
        .unwrap();
    for r in kcat_consume_as(&s, &src.admin(), DATA) {
        let (key, value, ts) = (r["key"].as_str().unwrap(), r["payload"].as_str().unwrap(), r["ts"].as_i64().unwrap());
        producer.send(BaseRecord::to(COPIES).partition(0).key(key).payload(value).timestamp(ts)).unwrap();
    }
    producer.flush(std::time::Duration::from_secs(30)).unwrap();
    src.tool("groups", &["--reset-offsets", "--group", APP, "--topic", DATA, "--to-offset", "5", "--execute"]);

    // The rows of docs/acls.md.
    let (group, data_topic, copies, checkpoints) = (["--group", APP], ["--topic", DATA], ["--topic", COPIES], ["--topic", CHECKPOINTS]);
    src.acl(true, &group, &["Describe"]);
    src.acl(true, &data_topic, &["Read"]);
    tgt.acl(true, &group, &["Describe", "Read"]);
    tgt.acl(true, &copies, &["Read"]);
    tgt.acl(true, &checkpoints, &["Read", "Write", "DescribeConfigs", "Create"]);

    let property = |flag: &str, ca: String| -> Vec<String> {
        ["security.protocol=SASL_SSL", "sasl.mechanism=PLAIN", "sasl.username=migrator"]
            .map(str::to_owned)
            .into_iter()
            .chain([format!("sasl.password={SECRET}"), format!("ssl.ca.location={ca}")])
            .flat_map(|p| [flag.to_owned(), p])
            .collect()
    };
    let mut client = property("--replicated-property", src.ca());
    client.extend(property("--data-property", tgt.ca()));
    let groups = |command: &str| {
        let mut args: Vec<String> = ["groups", command, "--replicated-bootstrap", &s, "--data-bootstrap", &t]
            .into_iter()
            .chain(["--source-alias", "sec", "--replication-policy", "default", "--group", APP, "--timeout", "10", "--output", "json"])
            .map(str::to_owned)
            .collect();
        args.extend(client.iter().cloned());
        std::process::Command::new(BIN).args(&args).stdin(std::process::Stdio::null()).output().unwrap()
    };
    let committed_on_tgt = || kafka_tool("groups", &t, &["--command-config", &tgt.admin_config()], &["--describe", "--group", APP]);

    let position = || {
        let described = committed_on_tgt();
        let words: Vec<&str> = described.split_whitespace().collect();
        words.windows(4).find(|w| w[..3] == [APP, COPIES, "0"]).map(|w| w[3].to_owned()).unwrap_or_else(|| described.clone())
    };

    // With every row: the group lands at the copy of its next record, with MM2's checkpoint.
    let run = groups("run");
    assert!(run.status.success(), "{:?} {}{}", run.status, stdout(&run), stderr(&run));
    let document: serde_json::Value = serde_json::from_str(&stdout(&run)).unwrap();
    assert_eq!(document["run"]["offsets_committed"], 1, "{document}");
    assert_eq!(document["run"]["checkpoints_written"], 1, "{document}");
    assert_eq!(position(), "7");
    assert_eq!(kcat_consume_as(&t, &tgt.admin(), CHECKPOINTS).len(), 1);
    let verify = groups("verify");
    assert!(verify.status.success(), "{}", stderr(&verify));
    for text in [stdout(&run), stderr(&run)] {
        assert!(!text.contains(SECRET), "a password in the output");
    }

    // The group moves on at the source; each row removed is refused by name, and the group stays
    // where it was on tgt. (Read implies Describe: removing the group's Describe on tgt means both.)
    src.tool("groups", &["--reset-offsets", "--group", APP, "--topic", DATA, "--to-offset", "8", "--execute"]);
    // (cluster, resource, operations removed, name in the refusal, word in the refusal, command)
    type Case<'a> = (&'a Secured, &'a [&'a str], &'a [&'a str], &'a str, &'a str, &'a str);
    let cases: [Case<'_>; 7] = [
        (&src, &group, &["Describe"], APP, "Describe", "plan"),
        (&tgt, &group, &["Describe", "Read"], APP, "Describe", "plan"),
        (&tgt, &copies, &["Read"], COPIES, "not authorized", "plan"),
        (&tgt, &checkpoints, &["Read"], CHECKPOINTS, "not authorized", "plan"),
        (&tgt, &checkpoints, &["DescribeConfigs"], CHECKPOINTS, "not authorized", "run"),
        (&tgt, &checkpoints, &["Write"], CHECKPOINTS, "not authorized", "run"),
        // Last: its checkpoint is written before the commit is refused.
        (&tgt, &group, &["Read"], APP, "Read", "run"),
    ];
    for (cluster, resource, operations, name, says, command) in cases {
        cluster.acl(false, resource, operations);
        let output = groups(command);
        let err = stderr(&output);
        assert!(!output.status.success(), "groups {command} without {operations:?} on {name}: {err}");
        assert!(err.contains(name) && err.contains(says), "groups {command} without {operations:?} on {name}: {err}");
        assert!(!err.contains(SECRET), "a password in the output");
        cluster.acl(true, resource, operations);
        assert_eq!(position(), "7", "the group moved without {operations:?} on {name}");
    }
    // Reading the replicated records needs Read, not only Describe.
    src.acl(false, &data_topic, &["Read"]);
    src.acl(true, &data_topic, &["Describe"]);
    let output = groups("plan");
    assert!(stderr(&output).contains("not authorized") && stderr(&output).contains(DATA), "{}", stderr(&output));
    src.acl(true, &data_topic, &["Read"]);

    // Every row back: the group follows, with its checkpoint.
    let run = groups("run");
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(position(), "10");
    let verify = groups("verify");
    assert!(verify.status.success(), "{}", stderr(&verify));
}
