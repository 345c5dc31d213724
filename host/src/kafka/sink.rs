//! Writing offset records the way Connect's offset writer does: acks=all, idempotent producer,
//! and an explicit partition computed like Kafka's Java producer (librdkafka's default differs).

use std::borrow::Borrow;
use std::sync::Mutex;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::config::FromClientConfigAndContext;
use rdkafka::error::{KafkaError as RdError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Message};

use super::{Connection, KafkaError, is_authorization};
use crate::model::TargetRecord;

/// How the target topic is made ready.
#[derive(Debug, Clone)]
pub struct TopicSetup {
    /// Create the topic (compacted) when it does not exist.
    pub create: bool,
    /// At least 1 (validated with the options).
    pub partitions: u32,
    /// -1: the broker's `default.replication.factor`.
    pub replication_factor: i32,
    /// Check `cleanup.policy=compact` (brokers without DescribeConfigs, such as the in-process
    /// demo broker, cannot answer).
    pub check_compaction: bool,
}

/// Makes sure the target topic exists and is compacted; returns its partition count and whether it
/// was created now.
pub fn ensure_topic(connection: &Connection, topic: &str, setup: &TopicSetup) -> Result<(u32, bool), KafkaError> {
    let consumer = connection.consumer()?;
    match connection.topic_metadata(&consumer, topic) {
        Ok(metadata) => {
            if setup.check_compaction {
                check_compacted(connection, topic)?;
            }
            let partitions = super::topic_entry(&metadata, topic).map_or(0, |t| t.partitions().len());
            Ok((partitions as u32, false))
        }
        Err(KafkaError::TopicMissing { .. }) if setup.create => {
            let admin = admin(connection)?;
            let new_topic = NewTopic::new(topic, setup.partitions as i32, TopicReplication::Fixed(setup.replication_factor))
                .set("cleanup.policy", "compact");
            let options = AdminOptions::new().operation_timeout(Some(connection.timeout)).request_timeout(Some(connection.timeout));
            let results = futures_executor::block_on(admin.create_topics([&new_topic], &options))
                .map_err(|e| connection.error(e))?;
            for result in results {
                if let Err((name, code)) = result
                    && code != RDKafkaErrorCode::TopicAlreadyExists {
                        return Err(connection.error(RdError::AdminOp(code)).with_context(&format!("creating topic {name:?}")));
                    }
            }
            // Wait until the new topic's metadata has every partition.
            let deadline = std::time::Instant::now() + connection.timeout;
            loop {
                if let Ok(metadata) = connection.topic_metadata(&consumer, topic) {
                    let count = super::topic_entry(&metadata, topic).map_or(0, |t| t.partitions().len());
                    if count == setup.partitions as usize {
                        return Ok((count as u32, true));
                    }
                }
                if std::time::Instant::now() > deadline {
                    return Err(KafkaError::Client {
                        role: connection.role,
                        bootstrap: connection.bootstrap.clone(),
                        detail: format!("topic {topic:?} was created but its metadata did not appear in time"),
                    });
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
        Err(e) => Err(e),
    }
}

fn admin(connection: &Connection) -> Result<AdminClient<super::Context>, KafkaError> {
    AdminClient::from_config_and_context(&connection.config(), connection.context()).map_err(|e| connection.error(e))
}

fn check_compacted(connection: &Connection, topic: &str) -> Result<(), KafkaError> {
    let admin = admin(connection)?;
    let options = AdminOptions::new().request_timeout(Some(connection.timeout));
    let results = futures_executor::block_on(admin.describe_configs([&ResourceSpecifier::Topic(topic)], &options))
        .map_err(|e| connection.error(e))?;
    let resource = results
        .into_iter()
        .next()
        .ok_or_else(|| KafkaError::Client {
            role: connection.role,
            bootstrap: connection.bootstrap.clone(),
            detail: format!("no configuration returned for topic {topic:?}"),
        })?
        .map_err(|code| connection.error(RdError::AdminOp(code)).with_context(&format!("describing topic {topic:?}")))?;
    tracing::debug!("topic {topic:?}: {} configuration entries", resource.entries.len());
    // A broker always describes cleanup.policy (set or default) to a principal allowed to ask;
    // without the DescribeConfigs ACL the answer is empty.
    let policy = resource.entries.iter().find(|e| e.name == "cleanup.policy").and_then(|e| e.value.clone()).ok_or_else(|| {
        KafkaError::Authorization {
            role: connection.role,
            bootstrap: connection.bootstrap.clone(),
            detail: format!(
                "describing topic {topic:?}: the broker returned no cleanup.policy (the DescribeConfigs ACL on the topic is needed)"
            ),
        }
    })?;
    if only_compact(&policy) {
        Ok(())
    } else {
        Err(KafkaError::NotCompacted {
            role: connection.role,
            bootstrap: connection.bootstrap.clone(),
            topic: topic.to_owned(),
            policy,
        })
    }
}

/// Whether a `cleanup.policy` is exactly `compact`, as Connect's
/// `TopicAdmin.verifyTopicCleanupPolicyOnlyCompact` requires of an offsets topic (as a set:
/// `compact,delete` is refused).
fn only_compact(policy: &str) -> bool {
    let mut policies: Vec<String> = policy.split(',').map(|p| p.trim().to_ascii_lowercase()).filter(|p| !p.is_empty()).collect();
    policies.sort();
    policies.dedup();
    policies == ["compact"]
}

/// A record the broker acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delivered {
    pub origin: String,
    pub partition: i32,
    pub offset: i64,
}

/// A write that did not fully succeed, said honestly: records the broker acknowledged landed;
/// records never handed to the broker did not; a record sent but not acknowledged (a timeout, a
/// lost connection) may or may not be in the topic.
#[derive(Debug, thiserror::Error)]
#[error(
    "writing to {topic:?} {}{}: of {} records, {} acknowledged, {} not acknowledged (each may or may not \
     have landed), {} not sent; so at least {} and at most {} landed. `verify` shows what the topic holds. \
     First failure: {}",
    if *interrupted { "was interrupted" } else { "failed" },
    if *unauthorized { " (not authorized: the principal needs the Write ACL on this topic)" } else { "" },
    landed.len() + unacknowledged.len() + not_sent.len(), landed.len(), unacknowledged.len(), not_sent.len(),
    landed.len(), landed.len() + unacknowledged.len(),
    unacknowledged.first().or(not_sent.first()).map(|(o, e)| format!("{o}: {e}")).unwrap_or_default()
)]
pub struct WriteFailure {
    pub topic: String,
    /// Acknowledged by the broker.
    pub landed: Vec<Delivered>,
    /// Sent and not acknowledged (origin, error): may have landed.
    pub unacknowledged: Vec<(String, String)>,
    /// Never sent (origin, reason): not in the topic.
    pub not_sent: Vec<(String, String)>,
    /// The write stopped because of SIGINT or SIGTERM.
    pub interrupted: bool,
    /// The broker refused the write for lack of an ACL.
    pub unauthorized: bool,
}

type DeliveryOutcome = Result<(i32, i64), String>;

struct DeliveryCollector {
    /// Per record index: its partition and offset, or the delivery error.
    results: Mutex<Vec<(usize, DeliveryOutcome)>>,
    /// Set when the broker refused a write for lack of an ACL.
    unauthorized: std::sync::atomic::AtomicBool,
    context: super::Context,
}

impl ClientContext for DeliveryCollector {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        self.context.log(level, fac, message);
    }

    fn error(&self, error: RdError, reason: &str) {
        // This producer's own refusals (an idempotent producer refused its id is a fatal error
        // here, not a delivery error); the connection's shared record may hold other clients'.
        if is_authorization(error.rdkafka_error_code()) || matches!(super::ClientProblem::of(reason), Some(super::ClientProblem::Authorization(_))) {
            self.unauthorized.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        self.context.error(error, reason);
    }
}

impl ProducerContext for DeliveryCollector {
    type DeliveryOpaque = Box<usize>;

    fn delivery(&self, result: &DeliveryResult<'_>, index: Self::DeliveryOpaque) {
        let outcome = match result {
            Ok(message) => Ok((message.partition(), message.offset())),
            Err((e, _)) => {
                if is_authorization(e.rdkafka_error_code()) {
                    self.unauthorized.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                Err(e.to_string())
            }
        };
        self.results.lock().unwrap_or_else(|p| p.into_inner()).push((*index, outcome));
    }
}

/// How long one wait for delivery reports lasts: rdkafka's `poll` serves reports until this time
/// is up (its `flush` polls 100 ms at a time), so the last acknowledgement is seen this soon.
const DELIVERY_POLL: std::time::Duration = std::time::Duration::from_millis(2);

/// [`Writer::write`] with a producer of its own, for the tests.
#[cfg(test)]
pub(crate) fn write_records(connection: &Connection, records: &[TargetRecord]) -> Result<Vec<Delivered>, WriteFailure> {
    Writer::start(connection).expect("a producer").write(records)
}

/// An idempotent producer for MM2's offsets topic, started before the records are known: with
/// librdkafka 2.12 a new producer has its producer id only some 0.5 s after it connects (its id
/// timer waits for the leader's connection), time that `run` spends planning and `--follow`
/// spends once, not per batch (issue 13).
pub struct Writer<'c> {
    connection: &'c Connection,
    producer: BaseProducer<DeliveryCollector>,
}

impl<'c> Writer<'c> {
    /// Starts the producer (it connects and gets its id in the background).
    pub fn start(connection: &'c Connection) -> Result<Writer<'c>, KafkaError> {
        let mut config = connection.config();
        config
            .set("acks", "all")
            .set("enable.idempotence", "true")
            // Each write, retries included, within the connection's timeout.
            .set("message.timeout.ms", connection.timeout.as_millis().to_string())
            .set("linger.ms", "5");
        let collector = DeliveryCollector {
            results: Mutex::new(Vec::new()),
            unauthorized: std::sync::atomic::AtomicBool::new(false),
            context: connection.context(),
        };
        let producer = BaseProducer::from_config_and_context(&config, collector).map_err(|e| connection.error(e))?;
        Ok(Writer { connection, producer })
    }

    /// Writes `records` (each to its own topic and partition), waits for every acknowledgement,
    /// and says exactly which records landed.
    pub fn write<R: Borrow<TargetRecord>>(&self, records: &[R]) -> Result<Vec<Delivered>, WriteFailure> {
        self.write_until(records, crate::interrupt::requested)
    }

    /// [`Writer::write`], sending no further record once `stop` says so (SIGINT, SIGTERM): what
    /// was sent is still waited for and reported.
    pub(crate) fn write_until<R: Borrow<TargetRecord>>(
        &self,
        records: &[R],
        stop: impl Fn() -> bool,
    ) -> Result<Vec<Delivered>, WriteFailure> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let producer = &self.producer;
        let started = std::time::Instant::now();
        let mut not_sent = Vec::new();
        let mut interrupted = false;
        for (index, record) in records.iter().map(Borrow::borrow).enumerate() {
            if stop() {
                interrupted = true;
                not_sent.extend((index..records.len()).map(|i| (i, "interrupted before it was sent".to_owned())));
                break;
            }
            let mut pending = BaseRecord::with_opaque_to(&record.topic, Box::new(index))
                .key(&record.key)
                .partition(record.partition);
            if let Some(value) = &record.value {
                pending = pending.payload(value);
            }
            loop {
                match producer.send(pending) {
                    Ok(()) => break,
                    Err((RdError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        pending = back;
                        producer.poll(DELIVERY_POLL);
                    }
                    Err((e, _)) => {
                        not_sent.push((index, e.to_string()));
                        break;
                    }
                }
            }
        }
        let sent = started.elapsed();
        let acknowledged = self.wait_for_deliveries();
        tracing::debug!("{} record(s) handed to the producer in {sent:.2?}, acknowledged after {:.2?}", records.len(), started.elapsed());
        let results = std::mem::take(&mut *producer.context().results.lock().unwrap_or_else(|p| p.into_inner()));

        let mut landed = Vec::new();
        let mut unacknowledged = Vec::new();
        let mut answered = vec![false; records.len()];
        for (index, _) in &not_sent {
            answered[*index] = true;
        }
        for (index, outcome) in results {
            answered[index] = true;
            match outcome {
                Ok((partition, offset)) => landed.push(Delivered { origin: records[index].borrow().origin.clone(), partition, offset }),
                Err(e) => unacknowledged.push((index, e)),
            }
        }
        for (index, done) in answered.iter().enumerate() {
            if !done {
                let reason = match &acknowledged {
                    Err(e) => format!("not acknowledged: {e}"),
                    Ok(()) => "not acknowledged".to_owned(),
                };
                unacknowledged.push((index, reason));
            }
        }
        if unacknowledged.is_empty() && not_sent.is_empty() {
            landed.sort_by_key(|d| (d.partition, d.offset));
            return Ok(landed);
        }
        unacknowledged.sort_by_key(|(i, _)| *i);
        let named = |list: Vec<(usize, String)>| list.into_iter().map(|(i, e)| (records[i].borrow().origin.clone(), e)).collect();
        let unauthorized = producer.context().unauthorized.load(std::sync::atomic::Ordering::Relaxed);
        Err(WriteFailure {
            topic: records[0].borrow().topic.clone(),
            landed,
            unacknowledged: named(unacknowledged),
            not_sent: named(not_sent),
            interrupted,
            unauthorized,
        })
    }

    /// Serves delivery reports until every record sent has one, or the connection's timeout
    /// passes.
    fn wait_for_deliveries(&self) -> Result<(), String> {
        let timeout = self.connection.timeout;
        let deadline = std::time::Instant::now() + timeout;
        while self.producer.in_flight_count() > 0 {
            if std::time::Instant::now() >= deadline {
                return Err(format!("{} record(s) still in flight after {timeout:?}", self.producer.in_flight_count()));
            }
            self.producer.poll(DELIVERY_POLL);
        }
        Ok(())
    }
}

