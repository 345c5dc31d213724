//! `cargo bench -p mm2-migrate`: figures for the offline pipeline, printed, not asserted.
//! Each measurement is the median of 5 runs on the machine at hand.

use std::hint::black_box;
use std::time::{Duration, Instant};

use connect_offsets::partition::partition_for_key;
use mm2_migrate::plugin::{CompileCache, Plugin, PluginEngine, PluginSource};
use mm2_migrate::policy::Policy;
use mm2_migrate::translate::{TranslateOptions, translate_dump};
use connect_offsets::jackson::mm2_source_key;

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn measure(mut f: impl FnMut()) -> Duration {
    median((0..5).map(|_| {
        let started = Instant::now();
        f();
        started.elapsed()
    }).collect())
}

/// A dump of `n` Replicator offset records over 1000 topics x 10 partitions, with history.
fn dump(n: usize) -> Vec<u8> {
    let mut out = String::new();
    for i in 0..n {
        let (topic, partition) = (i % 1000, (i / 1000) % 10);
        let key = format!(r#"["replicator",{{"topic":"topic-{topic}","partition":{partition}}}]"#);
        let line = serde_json::json!({"topic": "connect-offsets", "partition": i % 25, "offset": i, "key": key, "payload": format!(r#"{{"offset":{i}}}"#)});
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out.into_bytes()
}

fn main() {
    let engine = PluginEngine::new(Policy::builtin(), None).expect("engine");
    let source = PluginSource::Bundled("replicator-to-mm2");
    let settings = [("source.cluster.alias".to_owned(), "primary".to_owned())];

    // Plugin start-up: compiling the component, and loading it from the compile cache.
    let compile = measure(|| {
        black_box(Plugin::load(&engine, &source).expect("load"));
    });
    let cache_dir = tempfile::tempdir().unwrap();
    let cached_engine = PluginEngine::new(Policy::builtin(), CompileCache::open(cache_dir.path())).unwrap();
    Plugin::load(&cached_engine, &source).unwrap();
    let cached = measure(|| {
        black_box(Plugin::load(&cached_engine, &source).expect("load"));
    });
    println!("plugin load (compile + instantiate + describe):   {:>10.2?}", compile);
    println!("plugin load from the compile cache:               {:>10.2?}", cached);

    // The whole offline pipeline: parse, compact, map in the wasm plugin, partition.
    let records = 100_000;
    let input = dump(records);
    for batch_size in [1, 16, 256, 1024] {
        let mut plugin = Plugin::load(&cached_engine, &source).unwrap();
        plugin.configure(&settings).unwrap();
        let options = TranslateOptions { batch_size, target_partitions: 25, ..TranslateOptions::default() };
        let elapsed = measure(|| {
            let (out, _) = translate_dump(&mut plugin, &input[..], options.clone()).expect("translate");
            assert_eq!(out.len(), 10_000);
        });
        println!(
            "translate {records} records (10000 live keys), batch {batch_size:>4}: {:>10.2?}  {:>9.0} records/s",
            elapsed,
            records as f64 / elapsed.as_secs_f64()
        );
    }

    // The native pieces every record goes through.
    let n: i32 = 1_000_000;
    let keys: Vec<Vec<u8>> = (0..1000).map(|i: i32| mm2_source_key("MirrorSourceConnector", "primary", &format!("topic-{i}"), i % 10)).collect();
    let write = measure(|| {
        for i in 0..n {
            black_box(mm2_source_key("MirrorSourceConnector", "primary", "orders", i % 100));
        }
    });
    let partition = measure(|| {
        for i in 0..n {
            black_box(partition_for_key(&keys[i as usize % keys.len()], 25));
        }
    });
    println!("Jackson-exact MM2 key writer:                     {:>10.1} ns/key", write.as_nanos() as f64 / n as f64);
    println!("murmur2 partition of a {}-byte key:                {:>10.1} ns/key", keys[0].len(), partition.as_nanos() as f64 / n as f64);
}
