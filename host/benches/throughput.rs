//! `cargo bench -p mm2-migrate`: figures for the offline pipeline, printed, not asserted.
//! Each measurement is the median of 5 runs on the machine at hand; the two sides of a ratio are
//! measured in turns. The tool's own allocator (mimalloc) serves both.

use std::hint::black_box;
use std::time::{Duration, Instant};

use connect_offsets::partition::partition_for_key;
use mm2_migrate::plugin::{CompileCache, Plugin, PluginEngine, PluginSource};
use mm2_migrate::policy::Policy;
use mm2_migrate::translate::{TranslateOptions, translate_dump};
use connect_offsets::jackson::mm2_source_key;

/// The allocator the tool itself runs with (`src/main.rs`), so both sides are measured as shipped.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Two measurements taken in turns (a, b, a, b, ...), so that a slow spell of a shared machine
/// falls on both: the median of 9 runs of each.
fn side_by_side(a: &mut impl FnMut(), b: &mut impl FnMut()) -> (Duration, Duration) {
    let timed = |f: &mut dyn FnMut()| {
        let started = Instant::now();
        f();
        started.elapsed()
    };
    a();
    b();
    let (runs_a, runs_b): (Vec<Duration>, Vec<Duration>) = (0..9).map(|_| (timed(a), timed(b))).unzip();
    (median(runs_a), median(runs_b))
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

/// The sections to run: all, or those named on the command line (`cargo bench -p mm2-migrate
/// -- boundary`); cargo's own `--bench` flag is not a name.
fn wanted(section: &str) -> bool {
    let names: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    names.is_empty() || names.iter().any(|n| section.contains(n.as_str()))
}

fn main() {
    let engine = PluginEngine::new(Policy::builtin(), None).expect("engine");
    let source = PluginSource::Bundled("replicator-to-mm2");
    let settings = [("source.cluster.alias".to_owned(), "primary".to_owned())];
    let cache_dir = tempfile::tempdir().unwrap();
    let cached_engine = PluginEngine::new(Policy::builtin(), CompileCache::open(cache_dir.path())).unwrap();
    Plugin::load(&cached_engine, &source).unwrap();

    if wanted("load") {
        // Plugin start-up: compiling the component, and loading it from the compile cache.
        let compile = measure(|| {
            black_box(Plugin::load(&engine, &source).expect("load"));
        });
        let cached = measure(|| {
            black_box(Plugin::load(&cached_engine, &source).expect("load"));
        });
        println!("plugin load (compile + instantiate + describe):   {:>10.2?}", compile);
        println!("plugin load from the compile cache:               {:>10.2?}", cached);
    }
    if wanted("translate") {
        translate(&cached_engine, &source, &settings);
    }
    if wanted("boundary") {
        plugin_boundary(&cached_engine, &source, &settings);
    }
    if wanted("keys") {
        keys();
    }
}

/// The whole offline pipeline: parse, compact, map in the wasm plugin, partition.
fn translate(engine: &PluginEngine, source: &PluginSource, settings: &[(String, String)]) {
    let records = 100_000;
    let input = dump(records);
    for batch_size in [1, 16, 256, 1024] {
        let mut plugin = Plugin::load(engine, source).unwrap();
        plugin.configure(settings).unwrap();
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
}

/// The native pieces every output record goes through.
fn keys() {
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

/// Issue 13, goal 3: the cost of the component per live key. The same 100,000 live Replicator
/// records (the live keys of a 1M-record topic) mapped by the bundled WASM plugin in the host's
/// batches, and by the same mapping (the plugin crate's SDK logic) called natively. Then the
/// yardstick: the same code run natively and in WebAssembly with no boundary in between.
fn plugin_boundary(engine: &PluginEngine, source: &PluginSource, settings: &[(String, String)]) {
    use mm2_plugin_sdk::Mapping;
    use mm2_migrate::plugin::wit;

    let live_keys = 100_000;
    let batch_size = TranslateOptions::default().batch_size;
    let native_records: Vec<mm2_plugin_sdk::Record> = (0..live_keys).map(adversarial::live_key_record).collect();
    let records: Vec<wit::KafkaRecord> = native_records
        .iter()
        .map(|r| wit::KafkaRecord {
            topic: r.topic.clone(),
            partition: r.partition,
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key.clone(),
            value: r.value.clone(),
            headers: Vec::new(),
        })
        .collect();

    let mut plugin = Plugin::load(engine, source).unwrap();
    plugin.configure(settings).unwrap();
    let mut wasm = || {
        let mut emitted = 0;
        for batch in records.chunks(batch_size) {
            for outcome in plugin.apply(batch.to_vec()).expect("apply") {
                if let wit::Outcome::Emit(out) = outcome {
                    emitted += out.len();
                }
            }
        }
        assert_eq!(emitted, live_keys);
    };
    let mut mapping = replicator_to_mm2::ReplicatorToMm2::from_settings(settings.to_vec()).expect("configure");
    let mut native = || {
        let mut emitted = 0;
        for batch in native_records.chunks(batch_size) {
            // Owned copies, as the component is handed (the same cost on both sides).
            let batch = black_box(batch.to_vec());
            for record in &batch {
                if let mm2_plugin_sdk::Outcome::Emit(out) = black_box(mapping.map(record)) {
                    emitted += out.len();
                }
            }
        }
        assert_eq!(emitted, live_keys);
    };
    let (native, wasm) = side_by_side(&mut native, &mut wasm);
    let per_key = |d: Duration| d.as_nanos() as f64 / live_keys as f64;
    println!("plugin boundary, {live_keys} live keys in batches of {batch_size}:");
    println!("  the same mapping called natively:               {:>10.0} ns/key", per_key(native));
    println!("  the WASM component (wasmtime, sandboxed):       {:>10.0} ns/key", per_key(wasm));
    println!("  ratio WASM / native:                            {:>10.2}x", per_key(wasm) / per_key(native));

    // The yardstick: how much slower this code is in WebAssembly at all. The test guest makes and
    // maps the records in one call, natively and in the component: no boundary per record.
    let test_guest = mm2_migrate_bundled::test_guest_path("adversarial").expect("built with the tool");
    let mut in_guest = Plugin::load(engine, &PluginSource::File(test_guest.into())).unwrap();
    in_guest.configure(&[("behavior".to_owned(), "map-loop".to_owned())]).unwrap();
    let call = wit::KafkaRecord { value: Some(live_keys.to_string().into_bytes()), ..records[0].clone() };
    let mut wasm = || match in_guest.apply(vec![call.clone()]).expect("apply").as_slice() {
        [wit::Outcome::Skipped(s)] => assert_eq!(s.detail, live_keys.to_string()),
        other => panic!("unexpected outcome {other:?}"),
    };
    let mut native = || assert_eq!(black_box(adversarial::map_loop(live_keys)), live_keys);
    let (native, wasm) = side_by_side(&mut native, &mut wasm);
    println!("the same records made and mapped in one call, no boundary crossed per record:");
    println!("  natively:                                       {:>10.0} ns/key", per_key(native));
    println!("  inside the WASM component:                      {:>10.0} ns/key", per_key(wasm));
    println!("  ratio WASM / native:                            {:>10.2}x", per_key(wasm) / per_key(native));
}
