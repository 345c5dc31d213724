//! Command-line interface: argument parsing and the commands, over the library modules.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::plugin::{Limits, Plugin, PluginEngine, PluginError, PluginSource};
use crate::record::TargetRecord;
use crate::translate::{self, Report, TranslateError, TranslateOptions};

/// Exit status: the job was done.
pub const EXIT_OK: i32 = 0;
/// Exit status: the job failed (invalid input, plugin failure, conflicting offsets); nothing was written.
pub const EXIT_FAILED: i32 = 1;
/// Exit status: the command line or the plugin configuration is wrong.
pub const EXIT_USAGE: i32 = 2;

#[derive(Debug, Parser)]
#[command(name = "mm2-migrate", version, about = "Moves Kafka replication progress from other replicators into MirrorMaker 2")]
pub struct Cli {
    /// More log output on stderr (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Translate a dump of an offsets topic (kcat -J lines) into MM2 offset records on stdout.
    Translate(TranslateArgs),
    /// List the bundled plugins with their configuration keys.
    Plugins,
}

#[derive(Debug, Args)]
pub struct PluginArgs {
    /// A bundled plugin's name (see `mm2-migrate plugins`) or the path of a .wasm component.
    #[arg(long, value_name = "NAME|PATH.wasm")]
    pub plugin: String,

    /// A plugin configuration setting; repeat for each key.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_setting)]
    pub settings: Vec<(String, String)>,
}

#[derive(Debug, Args)]
pub struct TranslateArgs {
    #[command(flatten)]
    pub plugin: PluginArgs,

    /// The dump to read: one kcat -J envelope per line (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,

    /// Partitions of the target offsets topic (MM2 creates 25).
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub target_partitions: u32,

    /// Records per plugin call.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch_size: u32,

    /// Report invalid records (malformed lines, bad keys or values) and go on instead of failing.
    #[arg(long)]
    pub skip_invalid: bool,
}

fn parse_setting(s: &str) -> Result<(String, String), String> {
    let (key, value) = s.split_once('=').ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(format!("empty key in {s:?}"));
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// A failed command and the exit status it maps to.
#[derive(Debug)]
pub struct Failure {
    pub status: i32,
    pub error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure { status: EXIT_FAILED, error: e.into() }
    }
}

fn usage(e: impl Into<anyhow::Error>) -> Failure {
    Failure { status: EXIT_USAGE, error: e.into() }
}

/// Setting-up errors (unknown plugin, bad configuration) are usage errors; the rest are failures.
fn plugin_failure(e: PluginError) -> Failure {
    match e {
        PluginError::UnknownPlugin { .. } | PluginError::Config { .. } | PluginError::Read { .. } => usage(e),
        other => other.into(),
    }
}

pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Translate(args) => translate(args),
        Command::Plugins => list_plugins(),
    }
}

/// Loads and configures the plugin named on the command line.
fn load_plugin(engine: &PluginEngine, args: &PluginArgs) -> Result<Plugin, Failure> {
    let source = PluginSource::resolve(&args.plugin).map_err(plugin_failure)?;
    let mut plugin = Plugin::load(engine, &source, Limits::default()).map_err(plugin_failure)?;
    plugin.configure(&args.settings).map_err(plugin_failure)?;
    Ok(plugin)
}

fn translate(args: TranslateArgs) -> Result<(), Failure> {
    let engine = PluginEngine::new()?;
    let mut plugin = load_plugin(&engine, &args.plugin)?;
    let reader: Box<dyn BufRead> = if args.input.as_os_str() == "-" {
        Box::new(BufReader::new(io::stdin()))
    } else {
        let file = File::open(&args.input)
            .map_err(|e| usage(anyhow::anyhow!("cannot open {}: {e}", args.input.display())))?;
        Box::new(BufReader::new(file))
    };
    let options = TranslateOptions {
        batch_size: args.batch_size as usize,
        target_partitions: args.target_partitions,
        skip_invalid: args.skip_invalid,
    };
    let result = translate::translate_dump(&mut plugin, reader, options);
    plugin.close();
    let (records, report) = result.map_err(|e: TranslateError| Failure::from(e))?;

    // Everything is rendered before anything is written: a failure leaves stdout empty.
    let mut out = String::new();
    for record in &records {
        out.push_str(&envelope(record)?);
        out.push('\n');
    }
    io::stdout().lock().write_all(out.as_bytes())?;
    eprint!("{}", render_report(plugin.label(), &report));
    Ok(())
}

/// One output record as a JSON line: `{"topic":..,"partition":..,"key":..,"payload":..}`.
fn envelope(record: &TargetRecord) -> anyhow::Result<String> {
    #[derive(serde::Serialize)]
    struct Envelope<'a> {
        topic: &'a str,
        partition: i32,
        key: &'a str,
        payload: Option<&'a str>,
    }
    let key = std::str::from_utf8(&record.key)?;
    let payload = record.value.as_deref().map(std::str::from_utf8).transpose()?;
    Ok(serde_json::to_string(&Envelope { topic: &record.topic, partition: record.partition, key, payload })?)
}

/// The human-readable summary written to stderr.
pub fn render_report(plugin: &str, report: &Report) -> String {
    let mut out = format!("plugin {plugin}\n");
    let mut line = |label: &str, value: String| out.push_str(&format!("  {label:<28}{value}\n"));
    line("records read", report.records_read.to_string());
    line("tombstones", report.tombstones.to_string());
    line("superseded by later records", report.superseded.to_string());
    line("deleted by tombstones", report.deleted.to_string());
    if report.out_of_order > 0 {
        line("older than the held record", report.out_of_order.to_string());
    }
    if report.keys_in_several_partitions > 0 {
        line("keys in several partitions", report.keys_in_several_partitions.to_string());
    }
    line("live keys", report.live_keys.to_string());
    line("records written", report.records_out.to_string());
    if report.duplicate_outputs > 0 {
        line("identical outputs merged", report.duplicate_outputs.to_string());
    }
    let skipped: u64 = report.skipped.values().sum();
    let reasons = report.skipped.iter().map(|(r, n)| format!("{r}: {n}")).collect::<Vec<_>>().join(", ");
    line("records skipped", if skipped == 0 { "0".to_owned() } else { format!("{skipped} ({reasons})") });
    for issue in &report.invalid {
        out.push_str(&format!("  invalid: {}: {}\n", issue.origin, issue.message));
    }
    out
}

fn list_plugins() -> Result<(), Failure> {
    let engine = PluginEngine::new()?;
    let mut out = String::new();
    for name in mm2_migrate_bundled::names() {
        let plugin = Plugin::load(&engine, &PluginSource::Bundled(name), Limits::default())?;
        let info = plugin.info();
        out.push_str(&format!("{} {} (contract {})\n  {}\n", info.name, info.version, info.contract_version, info.description));
        for key in plugin.config_definition() {
            let default = match (&key.default_value, key.required) {
                (_, true) => "required".to_owned(),
                (Some(d), false) => format!("default {d:?}"),
                (None, false) => "optional".to_owned(),
            };
            let allowed = if key.valid_values.is_empty() {
                String::new()
            } else {
                format!(", one of {}", key.valid_values.join("|"))
            };
            out.push_str(&format!(
                "  --set {}=<{}>  ({default}{allowed}, {} importance)\n      {}\n",
                key.name,
                key.config_type.name(),
                key.importance.name(),
                key.documentation
            ));
        }
        out.push('\n');
    }
    io::stdout().lock().write_all(out.as_bytes())?;
    Ok(())
}
