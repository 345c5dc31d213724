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
use crate::live::{self, LiveError, LiveOptions};
use crate::target::{OffsetsTopic, Target};
use crate::plugin::{Plugin, PluginEngine, PluginError, PluginSource};
use crate::report::{describe_entry, render_plan};

/// What can stop the demo.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the in-process broker: {0}")]
    Broker(#[from] rdkafka::error::KafkaError),
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Live(#[from] LiveError),
    #[error(transparent)]
    Output(#[from] std::io::Error),
    #[error("the demo migration did not converge: {0}")]
    NotConverged(String),
}

const ALIAS: &str = "primary";
const TARGET_TOPIC: &str = "mm2-offsets.primary.internal";

pub fn run(engine: &PluginEngine, json: bool) -> Result<(), DemoError> {
    let mock = MockCluster::new(1)?;
    let bootstrap = mock.bootstrap_servers();
    for (topic, partitions) in [(live::DEFAULT_SOURCE_TOPIC, 3), ("orders", 3), ("payments", 1), (TARGET_TOPIC, 25)] {
        mock.create_topic(topic, partitions, 1)?;
    }
    let producer: BaseProducer = ClientConfig::new().set("bootstrap.servers", &bootstrap).create()?;
    // The replicated data on the source cluster: the range check reads these logs.
    for partition in 0..3 {
        for i in 0..100 {
            producer.send(BaseRecord::to("orders").key(&format!("k{i}")).payload("order").partition(partition)).map_err(|(e, _)| e)?;
        }
    }
    for i in 0..50 {
        producer.send(BaseRecord::to("payments").key(&format!("p{i}")).payload("payment").partition(0)).map_err(|(e, _)| e)?;
    }
    // Replicator's progress in its Connect offsets topic: history, a tombstone, another
    // connector's record and a key Replicator never wrote (fields reordered).
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
    producer.flush(Duration::from_secs(10))?;

    let connection = |role| Connection::new(role, bootstrap.clone(), Vec::new(), Duration::from_secs(10));
    let target = Target::Topic(OffsetsTopic {
        connection: connection("target"),
        named: Some(TARGET_TOPIC.to_owned()),
        setup: TopicSetup { create: false, partitions: crate::model::DEFAULT_PARTITIONS, replication_factor: 1, check_compaction: false },
    });
    let options = LiveOptions {
        replicated: Some(connection("replicated")),
        // One in-process broker holds everything, and it cannot look records up by time.
        seam_unavailable: Some("the in-process demo broker holds no copies and cannot look records up by time"),
        ..LiveOptions::new(connection("source"), target, connection("data"))
    };
    let mut plugin = Plugin::load(engine, &PluginSource::resolve("replicator-to-mm2")?)?;
    plugin.configure(&[("source.cluster.alias".to_owned(), ALIAS.to_owned())])?;

    let plan = live::plan(&mut plugin, &options)?;
    let first = live::run(&mut plugin, &options)?;
    let verify = live::plan(&mut plugin, &options)?;
    let differences = live::differences(&verify).len();
    let second = live::run(&mut plugin, &options)?;
    plugin.close();

    if json {
        let document = serde_json::json!({
            "command": "demo",
            "bootstrap": bootstrap,
            "plan": plan,
            "run": first,
            "verify": { "checked": verify.entries.len(), "differences": differences },
            "second_run_written": second.written.len(),
        });
        crate::report::emit(true, &document, String::new)?;
    } else {
        let mut out = format!(
            "mm2-migrate demo: Confluent Replicator -> MirrorMaker 2 on an in-process broker ({bootstrap})\n\n\
             1. plan: what would be written to {TARGET_TOPIC}\n"
        );
        out.push_str(&render_plan(&plan, true));
        out.push_str(&format!("\n2. run: {} records written, all read back from the topic\n", first.written.len()));
        for d in &first.written {
            out.push_str(&format!("  {} -> {}/{}@{}\n", d.origin, TARGET_TOPIC, d.partition, d.offset));
        }
        out.push_str(&format!("\n3. verify: {} records checked, {differences} differ\n", verify.entries.len()));
        for e in &verify.entries {
            out.push_str(&format!("  {}\n", describe_entry(e)));
        }
        out.push_str(&format!(
            "\n4. run again: {} records written (nothing changed)\n\n\
             MM2 started now resumes each partition at offset V+1: orders/0 at 58, orders/1 at 100, payments/0 at 50;\n\
             orders/2 has no offset (Replicator's record was deleted), so MM2 starts it from auto.offset.reset.\n",
            second.written.len()
        ));
        print!("{out}");
    }
    if differences != 0 || !second.written.is_empty() {
        return Err(DemoError::NotConverged(format!("{differences} differences, {} records written again", second.written.len())));
    }
    Ok(())
}
