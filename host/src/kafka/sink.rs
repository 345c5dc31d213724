//! Writing offset records the way Connect's offset writer does: acks=all, idempotent producer,
//! and an explicit partition computed like Kafka's Java producer (librdkafka's default differs).

use std::sync::Mutex;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::FromClientConfigAndContext;
use rdkafka::error::{KafkaError as RdError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Message};

use super::{Connection, KafkaError};
use crate::record::TargetRecord;

/// How the target topic is made ready.
#[derive(Debug, Clone)]
pub struct TopicSetup {
    /// Create the topic (compacted) when it does not exist.
    pub create: bool,
    pub partitions: i32,
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
            let partitions = metadata.topics().iter().find(|t| t.name() == topic).map_or(0, |t| t.partitions().len());
            Ok((partitions as u32, false))
        }
        Err(KafkaError::TopicMissing { .. }) if setup.create => {
            let admin = admin(connection)?;
            let new_topic = NewTopic::new(topic, setup.partitions, TopicReplication::Fixed(setup.replication_factor))
                .set("cleanup.policy", "compact");
            let options = AdminOptions::new().operation_timeout(Some(connection.timeout)).request_timeout(Some(connection.timeout));
            let results = futures_executor::block_on(admin.create_topics([&new_topic], &options))
                .map_err(|e| connection.error(e))?;
            for result in results {
                if let Err((name, code)) = result {
                    if code != RDKafkaErrorCode::TopicAlreadyExists {
                        return Err(connection.error(RdError::AdminOp(code)).with_context(&format!("creating topic {name:?}")));
                    }
                }
            }
            // Wait until the new topic's metadata has every partition.
            let deadline = std::time::Instant::now() + connection.timeout;
            loop {
                if let Ok(metadata) = connection.topic_metadata(&consumer, topic) {
                    let count = metadata.topics().iter().find(|t| t.name() == topic).map_or(0, |t| t.partitions().len());
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

impl KafkaError {
    fn with_context(self, context: &str) -> KafkaError {
        match self {
            KafkaError::Client { role, bootstrap, detail } => {
                KafkaError::Client { role, bootstrap, detail: format!("{context}: {detail}") }
            }
            other => other,
        }
    }
}

fn admin(connection: &Connection) -> Result<AdminClient<DefaultClientContext>, KafkaError> {
    AdminClient::from_config_and_context(&connection.config(), DefaultClientContext).map_err(|e| connection.error(e))
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
    let policy = resource
        .entries
        .iter()
        .find(|e| e.name == "cleanup.policy")
        .and_then(|e| e.value.clone())
        .unwrap_or_else(|| "delete".to_owned());
    if policy.split(',').any(|p| p.trim() == "compact") {
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

/// A record the broker acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delivered {
    pub origin: String,
    pub partition: i32,
    pub offset: i64,
}

/// A write that did not fully succeed: what landed and what did not.
#[derive(Debug, thiserror::Error)]
#[error(
    "writing to {topic:?} failed: {} of {} records landed, {} failed; first failure: {}",
    landed.len(), landed.len() + failed.len(), failed.len(),
    failed.first().map(|(o, e)| format!("{o}: {e}")).unwrap_or_default()
)]
pub struct WriteFailure {
    pub topic: String,
    pub landed: Vec<Delivered>,
    pub failed: Vec<(String, String)>,
}

struct DeliveryCollector {
    results: Mutex<Vec<(usize, Result<(i32, i64), String>)>>,
}

impl ClientContext for DeliveryCollector {}

impl ProducerContext for DeliveryCollector {
    type DeliveryOpaque = Box<usize>;

    fn delivery(&self, result: &DeliveryResult<'_>, index: Self::DeliveryOpaque) {
        let outcome = match result {
            Ok(message) => Ok((message.partition(), message.offset())),
            Err((e, _)) => Err(e.to_string()),
        };
        self.results.lock().unwrap_or_else(|p| p.into_inner()).push((*index, outcome));
    }
}

/// Writes `records` (all to their own topic and partition), waits for every acknowledgement, and
/// says exactly which records landed.
pub fn write_records(connection: &Connection, records: &[TargetRecord]) -> Result<Vec<Delivered>, WriteFailure> {
    let topic = records.first().map(|r| r.topic.clone()).unwrap_or_default();
    let fail_all = |reason: String| WriteFailure {
        topic: topic.clone(),
        landed: Vec::new(),
        failed: records.iter().map(|r| (r.origin.clone(), reason.clone())).collect(),
    };
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let mut config = connection.config();
    config
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("message.timeout.ms", (connection.timeout.as_millis().max(1000) * 2).to_string())
        .set("linger.ms", "5");
    let collector = DeliveryCollector { results: Mutex::new(Vec::new()) };
    let producer: BaseProducer<DeliveryCollector> =
        BaseProducer::from_config_and_context(&config, collector).map_err(|e| fail_all(connection.error(e).to_string()))?;

    let mut not_sent = Vec::new();
    for (index, record) in records.iter().enumerate() {
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
                    producer.poll(std::time::Duration::from_millis(50));
                }
                Err((e, _)) => {
                    not_sent.push((index, e.to_string()));
                    break;
                }
            }
        }
    }
    let flushed = producer.flush(connection.timeout * 2);
    producer.poll(std::time::Duration::ZERO);
    let results = std::mem::take(&mut *producer.context().results.lock().unwrap_or_else(|p| p.into_inner()));

    let mut landed = Vec::new();
    let mut failed: Vec<(usize, String)> = not_sent;
    let mut answered = vec![false; records.len()];
    for (index, outcome) in results {
        answered[index] = true;
        match outcome {
            Ok((partition, offset)) => landed.push(Delivered { origin: records[index].origin.clone(), partition, offset }),
            Err(e) => failed.push((index, e)),
        }
    }
    for (index, done) in answered.iter().enumerate() {
        if !done && !failed.iter().any(|(i, _)| *i == index) {
            let reason = match &flushed {
                Err(e) => format!("not acknowledged: {e}"),
                Ok(()) => "not acknowledged".to_owned(),
            };
            failed.push((index, reason));
        }
    }
    if failed.is_empty() {
        landed.sort_by_key(|d| (d.partition, d.offset));
        Ok(landed)
    } else {
        failed.sort_by_key(|(i, _)| *i);
        Err(WriteFailure {
            topic,
            landed,
            failed: failed.into_iter().map(|(i, e)| (records[i].origin.clone(), e)).collect(),
        })
    }
}
