//! Loads the seam benchmark's clusters (bench/seam.sh): on the replicated cluster, RECORDS records
//! in each of PARTITIONS partitions of `events`; on the data cluster, their copies (same key,
//! value and timestamp, as a replicator leaves them) and an old MM2's offsets (alias `old`) that
//! lag the copies by OVERLAP records, as after a SIGKILL.
//!
//!     cargo run --release --example seam_load -- SRC_BOOTSTRAP TGT_BOOTSTRAP PARTITIONS RECORDS OVERLAP

use std::time::Duration;

use connect_offsets::jackson;
use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

fn producer(bootstrap: &str) -> BaseProducer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "100")
        // A broker with 10,000 fresh partitions is slow to take the first batches: never give up.
        .set("message.timeout.ms", "0")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .expect("producer")
}

fn send(producer: &BaseProducer, mut record: BaseRecord<'_, [u8], [u8]>) {
    loop {
        match producer.send(record) {
            Ok(()) => return,
            Err((_, back)) => {
                producer.poll(Duration::from_millis(50));
                record = back;
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [src, tgt, partitions, records, overlap] = args.as_slice() else {
        eprintln!("usage: seam_load SRC_BOOTSTRAP TGT_BOOTSTRAP PARTITIONS RECORDS OVERLAP");
        std::process::exit(2);
    };
    let (partitions, records, overlap): (i32, i64, i64) =
        (partitions.parse().unwrap(), records.parse().unwrap(), overlap.parse().unwrap());
    assert!(overlap < records, "OVERLAP must be smaller than RECORDS");
    let (source, data) = (producer(src), producer(tgt));
    // Recent timestamps: records older than the topic's retention would be deleted at once.
    let base = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 - records;
    for p in 0..partitions {
        for i in 0..records {
            let key = format!("k{i}").into_bytes();
            let value = format!("events-p{p}-{i}").into_bytes();
            let ts = base + i;
            for producer in [&source, &data] {
                send(producer, BaseRecord::to("events").partition(p).key(&key[..]).payload(&value[..]).timestamp(ts));
            }
        }
    }
    // The old MM2's offsets, once its copies are there.
    for producer in [&source, &data] {
        producer.flush(Duration::from_secs(1800)).expect("flush");
    }
    for p in 0..partitions {
        let key = jackson::mm2_source_key("MirrorSourceConnector", "old", "events", p);
        let value = jackson::offset_value(records - 1 - overlap);
        send(&data, BaseRecord::to("mm2-offsets.old.internal").key(&key[..]).payload(&value[..]));
    }
    data.flush(Duration::from_secs(600)).expect("flush");
}
