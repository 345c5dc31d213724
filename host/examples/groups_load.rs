//! Loads the consumer-groups benchmark's commits (bench/groups.sh): GROUPS groups `g-0`, `g-1`, ...
//! each with a committed offset on every one of PARTITIONS partitions of `events` on the
//! replicated cluster, group i at offset `i % RECORDS` (so the groups sit at different records).
//! The records and their copies are seam_load's.
//!
//!     cargo run --release --example groups_load -- SRC_BOOTSTRAP GROUPS PARTITIONS RECORDS

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [src, groups, partitions, records] = args.as_slice() else {
        eprintln!("usage: groups_load SRC_BOOTSTRAP GROUPS PARTITIONS RECORDS");
        std::process::exit(2);
    };
    let (groups, partitions, records): (usize, i32, i64) = (groups.parse().unwrap(), partitions.parse().unwrap(), records.parse().unwrap());
    // One client per group (a commit is bound to the client's group.id), 16 at a time.
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..16 {
            scope.spawn(|| {
                loop {
                    let g = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if g >= groups {
                        return;
                    }
                    commit(src, g, partitions, records);
                }
            });
        }
    });
}

fn commit(src: &str, g: usize, partitions: i32, records: i64) {
    let group = format!("g-{g}");
    let consumer: BaseConsumer =
        ClientConfig::new().set("bootstrap.servers", src).set("group.id", &group).set("enable.auto.commit", "false").create().expect("consumer");
    let mut list = TopicPartitionList::new();
    for p in 0..partitions {
        list.add_partition_offset("events", p, Offset::Offset(g as i64 % records)).unwrap();
    }
    // A commit without joining the group: the group stays empty, as after its consumers stopped.
    consumer.commit(&list, CommitMode::Sync).unwrap_or_else(|e| panic!("commit {group}: {e}"));
}
