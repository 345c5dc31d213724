//! `mm2-migrate demo`: a whole Replicator → MM2 migration on an in-process Kafka broker
//! (librdkafka's mock cluster), with no set-up at all. The mock broker has no admin API, so the
//! topics are created through the mock itself and the compaction check is skipped; everything else
//! runs through the same code as against a real cluster.

use std::time::Duration;

use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientConfig;

use connect_offsets::partition::partition_for_key;

use crate::kafka::{Connection, TopicSetup};
use crate::live::{self, LiveError, LiveOptions, PlanOutcome, RunOutcome};
use crate::target::{OffsetsTopic, Target};
use crate::plugin::{Plugin, PluginEngine, PluginError, PluginSource};

/// What can stop the demo.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the in-process broker: {0}")]
    Broker(#[from] rdkafka::error::KafkaError),
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Live(#[from] LiveError),
    #[error("the demo migration did not converge: {0}")]
    NotConverged(String),
}

const ALIAS: &str = "primary";
/// The offsets topic the demo's MM2 (alias `primary`) reads.
pub const TARGET_TOPIC: &str = "mm2-offsets.primary.internal";

/// What the demo did, step by step, on the in-process broker at `bootstrap`.
#[derive(Debug)]
pub struct DemoOutcome {
    pub bootstrap: String,
    pub plan: PlanOutcome,
    pub run: RunOutcome,
    /// The plan made again after the run: every entry should be unchanged.
    pub verify: PlanOutcome,
    pub second_run: RunOutcome,
}

impl DemoOutcome {
    /// The verify's entries that differ from MM2's offsets topic.
    pub fn differences(&self) -> usize {
        live::differences(&self.verify).len()
    }

    /// The migration converged: verify found no difference, the second run wrote nothing.
    pub fn converged(&self) -> Result<(), DemoError> {
        let (differences, written) = (self.differences(), self.second_run.written.len());
        if differences == 0 && written == 0 {
            return Ok(());
        }
        Err(DemoError::NotConverged(format!("{differences} differences, {written} records written again")))
    }
}

/// Seeds an in-process broker and runs plan, run, verify and run again on it.
pub fn run(engine: &PluginEngine) -> Result<DemoOutcome, DemoError> {
    let mock = MockCluster::new(1)?;
    let bootstrap = mock.bootstrap_servers();
    for (topic, partitions) in [(live::DEFAULT_SOURCE_TOPIC, 3), ("orders", 3), ("payments", 1), (TARGET_TOPIC, 25)] {
        mock.create_topic(topic, partitions, 1)?;
    }
    seed(&bootstrap)?;
    let options = options(&bootstrap);
    let mut plugin = Plugin::load(engine, &PluginSource::resolve("replicator-to-mm2")?)?;
    plugin.configure(&[("source.cluster.alias".to_owned(), ALIAS.to_owned())])?;
    let plan = live::plan(&mut plugin, &options)?;
    let run = live::run(&mut plugin, &options)?;
    let verify = live::plan(&mut plugin, &options)?;
    let second_run = live::run(&mut plugin, &options)?;
    plugin.close();
    Ok(DemoOutcome { bootstrap, plan, run, verify, second_run })
}

/// The replicated data (the range check reads these logs) and Replicator's progress in its
/// Connect offsets topic: history, a tombstone, another connector's record and a key
/// Replicator never wrote (fields reordered).
fn seed(bootstrap: &str) -> Result<(), DemoError> {
    let producer: BaseProducer = ClientConfig::new().set("bootstrap.servers", bootstrap).create()?;
    for partition in 0..3 {
        for i in 0..100 {
            producer.send(BaseRecord::to("orders").key(&format!("k{i}")).payload("order").partition(partition)).map_err(|(e, _)| e)?;
        }
    }
    for i in 0..50 {
        producer.send(BaseRecord::to("payments").key(&format!("p{i}")).payload("payment").partition(0)).map_err(|(e, _)| e)?;
    }
    let seeds: &[(&str, Option<&str>)] = &[
        (r#"["replicator",{"topic":"orders","partition":0}]"#, Some(r#"{"offset":41}"#)),
        (r#"["replicator",{"topic":"orders","partition":1}]"#, Some(r#"{"offset":99}"#)),
        (r#"["replicator",{"topic":"orders","partition":2}]"#, Some(r#"{"offset":12}"#)),
        (r#"["replicator",{"topic":"orders","partition":0}]"#, Some(r#"{"offset":57}"#)),
        (r#"["replicator",{"topic":"payments","partition":0}]"#, Some(r#"{"offset":49}"#)),
        (r#"["replicator",{"topic":"orders","partition":2}]"#, None),
        (r#"["jdbc-source",{"table":"customers"}]"#, Some(r#"{"incrementing":1234}"#)),
        (r#"["replicator",{"partition":1,"topic":"orders"}]"#, Some(r#"{"offset":3}"#)),
    ];
    for (key, value) in seeds {
        let mut record = BaseRecord::to(live::DEFAULT_SOURCE_TOPIC).key(*key).partition(partition_for_key(key.as_bytes(), 3));
        if let Some(v) = value {
            record = record.payload(*v);
        }
        producer.send(record).map_err(|(e, _)| e)?;
    }
    Ok(producer.flush(Duration::from_secs(10))?)
}

/// The live options of a migration on the one in-process broker, which holds every cluster.
fn options(bootstrap: &str) -> LiveOptions {
    let connection = |role| Connection::new(role, bootstrap.to_owned(), Vec::new(), Duration::from_secs(10));
    let target = Target::Topic(OffsetsTopic {
        connection: connection("target"),
        named: Some(TARGET_TOPIC.to_owned()),
        setup: TopicSetup { create: false, partitions: crate::model::DEFAULT_PARTITIONS, replication_factor: 1, check_compaction: false },
    });
    LiveOptions {
        replicated: Some(connection("replicated")),
        // One in-process broker holds everything, and it cannot look records up by time.
        seam_unavailable: Some("the in-process demo broker holds no copies and cannot look records up by time"),
        ..LiveOptions::new(connection("source"), target, connection("data"))
    }
}
