//! Failure paths on librdkafka's in-process mock broker, where errors can be injected.
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use super::*;
use crate::model::TargetRecord;

fn connection(bootstrap: &str) -> Connection {
    Connection::new("target", bootstrap.to_owned(), Vec::new(), Duration::from_secs(2))
}

/// Why the ranges of `topic` could not be read.
fn ranges_error(mock: &MockCluster<'_, rdkafka::producer::DefaultProducerContext>, topic: &str) -> KafkaError {
    let connection = connection(&mock.bootstrap_servers());
    connection.ranges_with(&connection.consumer().unwrap(), topic).unwrap_err()
}

#[test]
fn readers_bound_their_prefetch_unless_told_otherwise() {
    let connection = Connection::new("source", "b:9092".into(), vec![("queued.max.messages.kbytes".into(), "512".into())], Duration::from_secs(5));
    let config = connection.reader_config(Some("g"));
    assert_eq!(config.get("fetch.queue.backoff.ms"), Some("10"), "no second-long pause when the queue was full");
    assert_eq!(config.get("fetch.max.bytes"), Some("1048576"));
    assert_eq!(config.get("queued.max.messages.kbytes"), Some("512"), "-X wins");

    // A larger message.max.bytes than our fetch size is not made a client creation error.
    let connection = Connection::new("source", "b:9092".into(), vec![("message.max.bytes".into(), "4000000".into())], Duration::from_secs(5));
    let config = connection.reader_config(Some("g"));
    assert_eq!(config.get("fetch.max.bytes"), None);
    config.create::<BaseConsumer>().expect("librdkafka takes the configuration");
}

#[test]
fn settings_librdkafka_refuses_are_named_as_settings() {
    for property in [("no.such.property", "1"), ("message.max.bytes", "not-a-number"), ("sasl.pasword", "SECRET-VALUE")] {
        let properties = vec![(property.0.to_owned(), property.1.to_owned())];
        let connection = Connection::new("target", "b:9092".into(), properties, Duration::from_secs(5));
        let error = connection.consumer().map(|_| ()).unwrap_err();
        assert!(matches!(error, KafkaError::Settings { .. }), "{property:?}: {error:?}");
        let text = error.to_string();
        assert!(text.contains("--target-property") && text.contains(property.0), "{text}");
        assert!(!text.contains("SECRET-VALUE"), "a misspelt key's value, maybe a password, is shown: {text}");
    }
    // A combination librdkafka refuses only when it creates the client.
    let properties = vec![("fetch.max.bytes".to_owned(), "1000".to_owned())];
    let error = Connection::new("source", "b:9092".into(), properties, Duration::from_secs(5)).consumer().map(|_| ()).unwrap_err();
    assert!(matches!(error, KafkaError::Settings { .. }), "{error:?}");
}

#[test]
fn librdkafka_reports_are_classified_once() {
    let cert = "SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: broker certificate could not be verified";
    assert!(matches!(ClientProblem::of(cert), Some(ClientProblem::Certificate(_))));
    let login = "SASL authentication error: Authentication failed: Invalid username or password";
    assert!(matches!(ClientProblem::of(login), Some(ClientProblem::Authentication(_))));
    let acl = "FindCoordinator response error: Group authorization failed.";
    assert!(matches!(ClientProblem::of(acl), Some(ClientProblem::Authorization(_))));
    assert_eq!(ClientProblem::of("Connect to ipv4#127.0.0.1:1 failed: Connection refused"), None);
}

#[test]
fn secrets_are_never_shown() {
    let properties = vec![
        ("sasl.password".to_owned(), "hunter2".to_owned()),
        ("ssl.key.password".to_owned(), "hunter3".to_owned()),
        ("sasl.username".to_owned(), "migrator".to_owned()),
    ];
    let shown = format!("{:?}", Connection::new("source", "b:9092".into(), properties, Duration::from_secs(1)));
    assert!(!shown.contains("hunter") && shown.contains("migrator") && shown.contains("[redacted]"), "{shown}");
}

fn records(n: usize) -> Vec<TargetRecord> {
    (0..n)
        .map(|i| TargetRecord {
            topic: "offsets".into(),
            partition: (i % 3) as i32,
            key: format!("[\"k{i}\"]").into_bytes(),
            value: Some(b"{\"offset\":1}".to_vec()),
            origin: format!("line {i}"),
        })
        .collect()
}

#[test]
fn delivered_records_carry_their_partition_and_offset() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("offsets", 3, 1).unwrap();
    let delivered = write_records(&connection(&mock.bootstrap_servers()), &records(6)).unwrap();
    assert_eq!(delivered.len(), 6);
    assert_eq!(delivered.iter().filter(|d| d.partition == 1).map(|d| d.offset).collect::<Vec<_>>(), [0, 1]);
}

#[test]
fn the_read_back_reads_from_where_the_write_landed() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("offsets", 3, 1).unwrap();
    let conn = connection(&mock.bootstrap_servers());
    write_records(&conn, &records(6)).unwrap();
    // The same keys written again with other values, then once more only in partition 1.
    let mut again = records(6);
    for r in &mut again {
        r.value = Some(b"{\"offset\":2}".to_vec());
    }
    let delivered = write_records(&conn, &again).unwrap();
    let later: Vec<TargetRecord> = again.iter().filter(|r| r.partition == 1).map(|r| TargetRecord { value: None, ..r.clone() }).collect();
    write_records(&conn, &later).unwrap();
    let latest = read_back_since(&conn, "offsets", &delivered).unwrap();
    for r in &again {
        let expected = (r.partition != 1).then(|| b"{\"offset\":2}".to_vec());
        assert_eq!(latest.get(r.partition, &r.key), expected.as_ref(), "{}: the later tombstone counts too", r.origin);
    }
    // Only the partitions written, from the first offset written: a write of k3 alone (partition
    // 0's last record) reads neither k0 before it nor partition 2, which a whole read would hold.
    let k3 = delivered.iter().filter(|d| d.partition == 0).max_by_key(|d| d.offset).unwrap().clone();
    assert_eq!(k3.origin, "line 3");
    let since = read_back_since(&conn, "offsets", &[k3]).unwrap();
    let key = |i: usize| records(6)[i].key.clone();
    assert_eq!(since.get(0, &key(3)), Some(&b"{\"offset\":2}".to_vec()));
    assert_eq!((since.get(0, &key(0)), since.get(2, &key(2))), (None, None), "read outside the write");
    let whole = read_back(&conn, "offsets").unwrap();
    assert!(whole.get(0, &key(0)).is_some() && whole.get(2, &key(2)).is_some(), "the whole topic holds them");
}

#[test]
fn a_failed_write_says_what_did_not_land() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("offsets", 3, 1).unwrap();
    let conn = connection(&mock.bootstrap_servers());
    mock.request_errors(RDKafkaApiKey::Produce, &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 50]);
    let failure = write_records(&conn, &records(4)).unwrap_err();
    assert_eq!(failure.landed.len() + failure.unacknowledged.len() + failure.not_sent.len(), 4);
    assert!(!failure.unacknowledged.is_empty());
    let message = failure.to_string();
    let (at_least, at_most) = (failure.landed.len(), failure.landed.len() + failure.unacknowledged.len());
    assert!(message.contains(&format!("at least {at_least} and at most {at_most} landed")), "{message}");
    assert!(message.contains("line "), "{message}");
}

#[test]
fn an_interrupted_write_stops_sending_and_reports_what_landed() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("offsets", 3, 1).unwrap();
    let conn = connection(&mock.bootstrap_servers());
    let sent = std::sync::atomic::AtomicUsize::new(0);
    // The signal arrives after four records were handed to the producer.
    let stop = || sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 4;
    let failure = Writer::start(&conn).unwrap().write_until(&records(10), stop).unwrap_err();
    assert!(failure.interrupted);
    assert_eq!(failure.landed.len(), 4, "what was sent is waited for");
    assert_eq!(failure.not_sent.len(), 6);
    let message = failure.to_string();
    assert!(message.contains("was interrupted") && message.contains("at least 4 and at most 4 landed"), "{message}");
    let mut seen = 0;
    read_snapshot(&conn, "offsets", |_| seen += 1).unwrap();
    assert_eq!(seen, 4, "nothing after the signal reached the topic");
}

#[test]
fn a_write_to_a_dead_broker_fails_within_the_timeout() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("offsets", 3, 1).unwrap();
    let conn = connection(&mock.bootstrap_servers());
    mock.broker_down(1).unwrap();
    let started = std::time::Instant::now();
    let failure = write_records(&conn, &records(3)).unwrap_err();
    let took = started.elapsed();
    // The timeout is 2 s per broker operation; a write is one (it used to take twice that).
    assert!(took < Duration::from_millis(3800), "took {took:?}");
    assert!(failure.landed.is_empty());
    assert!(failure.to_string().contains("at least 0 and at most 3 landed"), "{failure}");
}

#[test]
fn authorization_failures_are_named() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("secret", 1, 1).unwrap();
    mock.topic_error("secret", RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED).unwrap();
    let err = ranges_error(&mock, "secret");
    assert!(matches!(err, KafkaError::Authorization { .. }), "{err}");
    assert!(err.to_string().contains("not authorized"), "{err}");
}

#[test]
fn a_topic_without_a_leader_is_asked_again_until_the_timeout() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("fresh", 1, 1).unwrap();
    mock.topic_error("fresh", RDKafkaRespErr::RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE).unwrap();
    let started = std::time::Instant::now();
    let err = ranges_error(&mock, "fresh");
    // The connection's timeout is 2 s: it kept asking (it failed at once before), then said why.
    assert!(started.elapsed() >= Duration::from_millis(1500), "gave up after {:?}", started.elapsed());
    assert!(err.to_string().contains("Leader not available") || err.to_string().contains("LeaderNotAvailable"), "{err}");
}

#[test]
fn missing_topics_are_named() {
    let mock = MockCluster::new(1).unwrap();
    let err = ranges_error(&mock, "absent");
    assert!(err.to_string().contains("topic \"absent\" does not exist"), "{err}");
}

#[test]
fn snapshots_read_every_partition_to_its_end() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("offsets", 3, 1).unwrap();
    let conn = connection(&mock.bootstrap_servers());
    write_records(&conn, &records(7)).unwrap();
    let mut seen = Vec::new();
    let ranges = read_snapshot(&conn, "offsets", |r| seen.push(r.origin.to_string())).unwrap();
    assert_eq!(ranges.iter().map(|r| r.end).sum::<i64>(), 7);
    seen.sort();
    assert_eq!(seen.len(), 7);
    assert!(seen.contains(&"offsets/0@2".to_owned()), "{seen:?}");
}
