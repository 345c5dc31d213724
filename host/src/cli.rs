//! Command-line interface: argument parsing and the commands, over the library modules.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::job::LiveArgs;
use crate::live::{self, LiveError, LiveOptions, PlanOutcome};
use crate::plugin::{CompileCache, Plugin, PluginEngine, PluginError, PluginSource};
use crate::policy::Policy;
use crate::record::TargetRecord;
use crate::translate::{self, Report, TranslateError, TranslateOptions};

/// Exit status: the job failed (invalid input, plugin failure, conflicting offsets); nothing was written.
pub const EXIT_FAILED: i32 = 1;
/// Exit status: the command line or the plugin configuration is wrong.
pub const EXIT_USAGE: i32 = 2;
/// Exit status: `run` refused to write because a record would be unsafe (rewind, out of range).
pub const EXIT_REFUSED: i32 = 3;
/// Exit status: `verify` found differences between the target topic and the plan.
pub const EXIT_DIFFERENT: i32 = 4;

#[derive(Debug, Parser)]
#[command(
    name = "mm2-migrate",
    version,
    about = "Moves Kafka replication progress from other replicators into MirrorMaker 2",
    after_help = "Exit status: 0 done; 1 failed (nothing half written); 2 usage or configuration error; \
                  3 run refused an unsafe record (nothing written); 4 verify found differences; \
                  130/143 stopped by SIGINT/SIGTERM."
)]
pub struct Cli {
    /// More log output on stderr (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// What plugins may do (TOML); without it, $MM2_MIGRATE_POLICY, else the built-in policy.
    #[arg(long, global = true, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Compile plugins every time instead of using the compile cache
    /// ($MM2_MIGRATE_CACHE_DIR, else ~/.cache/mm2-migrate).
    #[arg(long, global = true)]
    pub no_cache: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Translate a dump of an offsets topic (kcat -J lines) into MM2 offset records on stdout.
    Translate(TranslateArgs),
    /// Show what a migration would write to MM2's offsets topic, per record; writes nothing.
    Plan(LiveCommand),
    /// Migrate: plan, refuse what is unsafe, write, read back and confirm.
    Run(RunArgs),
    /// Compare MM2's offsets topic with the plan; exit 4 on any difference.
    Verify(LiveCommand),
    /// A complete migration on an in-process Kafka broker: no set-up at all.
    Demo(DemoArgs),
    /// List the bundled plugins with their configuration keys, or inspect one.
    Plugins(PluginsArgs),
}

#[derive(Debug, Args)]
pub struct PluginsArgs {
    #[command(subcommand)]
    pub action: Option<PluginsAction>,
}

#[derive(Debug, Subcommand)]
pub enum PluginsAction {
    /// Name, version, contract, sha256, imports and configuration of a plugin: what a policy entry needs.
    Inspect {
        /// A .wasm component, or a bundled plugin's name.
        #[arg(value_name = "PATH.wasm|NAME")]
        plugin: String,
        /// Report format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// One kcat -J envelope per line.
    Kcat,
    /// `topic,partition,offset` lines of one consumer group.
    GroupOffsets,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// A readable report.
    Text,
    /// One JSON document on stdout, for automation.
    Json,
}

#[derive(Debug, Args)]
pub struct LiveCommand {
    #[command(flatten)]
    pub live: LiveArgs,

    /// Report format [default: text].
    #[arg(long, value_enum)]
    pub output: Option<OutputFormat>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub command: LiveCommand,

    /// After the migration, keep forwarding new offset records of the source topic (cut-over while
    /// the old replicator still runs) until SIGINT or SIGTERM.
    #[arg(long)]
    pub follow: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct PluginArgs {
    /// A bundled plugin's name (see `mm2-migrate plugins`) or the path of a .wasm component.
    #[arg(long, value_name = "NAME|PATH.wasm")]
    pub plugin: String,

    /// A plugin configuration setting; repeat for each key.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = crate::job::parse_pair)]
    pub settings: Vec<(String, String)>,
}

#[derive(Debug, Args)]
pub struct TranslateArgs {
    #[command(flatten)]
    pub plugin: PluginArgs,

    /// The dump to read (`-` for stdin): kcat -J envelopes, or `topic,partition,offset` lines.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,

    /// What the input holds: an offsets topic dumped with kcat -J, or a consumer group's offsets as
    /// `topic,partition,offset` lines (uReplicator's ZooKeeper offsets).
    #[arg(long, value_enum, default_value_t = InputFormat::Kcat)]
    pub input_format: InputFormat,

    /// The consumer group the `group-offsets` lines belong to (the name `group-to-mm2` sees).
    #[arg(long, value_name = "GROUP", default_value = "offsets-file")]
    pub source_group: String,

    /// Partitions of the target offsets topic (MM2 creates 25).
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub target_partitions: u32,

    /// Records per plugin call.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch_size: u32,

    /// Report invalid records (malformed lines, bad keys or values) and go on instead of failing.
    #[arg(long)]
    pub skip_invalid: bool,

    /// Pass on the tombstones a plugin emits (they delete MM2's offsets); refused otherwise.
    #[arg(long)]
    pub allow_delete: bool,
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

/// An error and its causes on one line, each cause once: an error whose message already quotes
/// its source (`cannot read x: No such file or directory`) does not repeat it.
pub fn error_text(error: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn usage(e: impl Into<anyhow::Error>) -> Failure {
    Failure { status: EXIT_USAGE, error: e.into() }
}

/// Setting-up errors (unknown plugin, bad configuration) are usage errors; the rest are failures.
fn plugin_failure(e: PluginError) -> Failure {
    match e {
        PluginError::UnknownPlugin { .. }
        | PluginError::Config { .. }
        | PluginError::Read { .. }
        | PluginError::NotAllowed { .. } => usage(e),
        other => other.into(),
    }
}

/// The policy file: `--policy`, else `$MM2_MIGRATE_POLICY`; an empty variable is an error
/// rather than a silent fall-back to the built-in policy.
fn policy_path(flag: Option<PathBuf>) -> Result<Option<PathBuf>, Failure> {
    if flag.is_some() {
        return Ok(flag);
    }
    match std::env::var_os("MM2_MIGRATE_POLICY") {
        None => Ok(None),
        Some(value) if value.is_empty() => Err(usage(anyhow::anyhow!(
            "MM2_MIGRATE_POLICY is set but empty: name a policy file, or unset it for the built-in policy"
        ))),
        Some(value) => Ok(Some(PathBuf::from(value))),
    }
}

pub fn run(cli: Cli) -> Result<(), Failure> {
    crate::interrupt::install()?;
    let policy = match policy_path(cli.policy)? {
        Some(path) => Policy::load(&path).map_err(usage)?,
        None => Policy::builtin(),
    };
    let cache = if cli.no_cache { None } else { CompileCache::default_dir().and_then(|d| CompileCache::open(&d)) };
    let engine = PluginEngine::new(policy, cache)?;
    match cli.command {
        Command::Translate(args) => translate(&engine, args),
        Command::Plan(args) => plan_command(&engine, args),
        Command::Run(args) => run_command(&engine, args),
        Command::Verify(args) => verify_command(&engine, args),
        Command::Demo(args) => crate::demo::run(&engine, args.output == OutputFormat::Json),
        Command::Plugins(PluginsArgs { action: None }) => list_plugins(&engine),
        Command::Plugins(PluginsArgs { action: Some(PluginsAction::Inspect { plugin, output }) }) => {
            inspect_plugin(&engine, &plugin, output == OutputFormat::Json)
        }
    }
}

/// Loads and configures a plugin.
pub fn load_plugin(engine: &PluginEngine, spec: &str, settings: &[(String, String)]) -> Result<Plugin, Failure> {
    let mut plugin = load_unconfigured(engine, spec)?;
    plugin.configure(settings).map_err(plugin_failure)?;
    Ok(plugin)
}

fn load_unconfigured(engine: &PluginEngine, spec: &str) -> Result<Plugin, Failure> {
    let source = PluginSource::resolve(spec).map_err(plugin_failure)?;
    Plugin::load(engine, &source).map_err(plugin_failure)
}

/// Maps a live command's failure to its exit status.
fn live_failure(e: LiveError) -> Failure {
    match e {
        LiveError::Refused(_) => Failure { status: EXIT_REFUSED, error: e.into() },
        LiveError::Write(ref w) if w.interrupted => {
            Failure { status: crate::interrupt::exit_status().unwrap_or(crate::interrupt::EXIT_SIGINT), error: e.into() }
        }
        LiveError::Plugin(p) => plugin_failure(p),
        other => other.into(),
    }
}

/// Resolves the job and loads its plugin. `--target-topic` also becomes the plugin's `target.topic`
/// when the plugin has that key and it was not set.
/// A live command ready to go: its configured plugin, options, and report format.
struct LiveSetup {
    plugin: Plugin,
    options: LiveOptions,
    json: bool,
    follow: bool,
}

fn live_setup(engine: &PluginEngine, command: &LiveCommand) -> Result<LiveSetup, Failure> {
    let job = command.live.resolve().map_err(usage)?;
    let json = match command.output {
        Some(format) => format == OutputFormat::Json,
        None => job.output.as_deref() == Some("json"),
    };
    let mut plugin = load_unconfigured(engine, &job.plugin)?;
    let mut settings = job.settings;
    if let Some(topic) = &job.live.target_topic {
        plugin.name_target_topic(topic);
        let has_key = plugin.info().config.iter().any(|k| k.name == "target.topic");
        if has_key && !settings.iter().any(|(k, _)| k == "target.topic") {
            settings.push(("target.topic".to_owned(), topic.clone()));
        }
    }
    plugin.configure(&settings).map_err(plugin_failure)?;
    Ok(LiveSetup { plugin, options: job.live, json, follow: job.follow })
}

fn emit(json: bool, value: &impl serde::Serialize, text: String) -> Result<(), Failure> {
    let out = if json { serde_json::to_string_pretty(value)? + "\n" } else { text };
    io::stdout().lock().write_all(out.as_bytes())?;
    Ok(())
}

fn plan_command(engine: &PluginEngine, args: LiveCommand) -> Result<(), Failure> {
    let LiveSetup { mut plugin, options, json, .. } = live_setup(engine, &args)?;
    let outcome = live::plan(&mut plugin, &options).map_err(live_failure)?;
    plugin.close();
    let refusals = crate::plan::refusals(&outcome.entries, options.overrides);
    #[derive(serde::Serialize)]
    struct PlanJson<'a> {
        command: &'static str,
        plan: &'a PlanOutcome,
        refusals: &'a [String],
    }
    let mut text = render_plan(&outcome, true);
    for r in &refusals {
        text.push_str(&format!("  refused: {r}\n"));
    }
    emit(json, &PlanJson { command: "plan", plan: &outcome, refusals: &refusals }, text)
}

fn run_command(engine: &PluginEngine, args: RunArgs) -> Result<(), Failure> {
    let LiveSetup { mut plugin, options, json, follow } = live_setup(engine, &args.command)?;
    let follow = follow || args.follow;
    let outcome = live::run(&mut plugin, &options).map_err(live_failure)?;
    let mut text = render_plan(&outcome.plan, false);
    text.push_str(&format!(
        "  {:<28}{}{}\n",
        "records written",
        outcome.written.len(),
        if outcome.created_topic { " (topic created, compacted)" } else { "" }
    ));
    if !outcome.written.is_empty() {
        text.push_str(&format!("  {:<28}all {} read back from the topic\n", "confirmed", outcome.written.len()));
    }
    if !follow {
        plugin.close();
        return emit(json, &outcome, text);
    }
    eprint!("{text}");
    let summary = live::follow(&mut plugin, &options, &outcome).map_err(live_failure)?;
    plugin.close();
    let text = format!(
        "follow stopped\n  {:<28}{}\n  {:<28}{}\n  {:<28}{}\n  {:<28}{}\n",
        "records seen", summary.records_seen, "forwarded", summary.forwarded, "unchanged", summary.unchanged,
        "refused", summary.refused.len()
    );
    emit(json, &summary, text)
}

fn verify_command(engine: &PluginEngine, args: LiveCommand) -> Result<(), Failure> {
    let LiveSetup { mut plugin, options, json, .. } = live_setup(engine, &args)?;
    let outcome = live::plan(&mut plugin, &options).map_err(live_failure)?;
    plugin.close();
    let differences = live::differences(&outcome);
    #[derive(serde::Serialize)]
    struct VerifyJson<'a> {
        command: &'static str,
        target_topic: &'a Option<String>,
        checked: usize,
        differences: Vec<&'a crate::plan::PlanEntry>,
    }
    let mut text = format!(
        "verify {} against {}: {} records checked, {} differ\n",
        outcome.target_topic.as_deref().unwrap_or("(no target topic)"),
        outcome.source_topic,
        outcome.entries.len(),
        differences.len()
    );
    for d in &differences {
        text.push_str(&format!("  {}\n", describe_entry(d)));
    }
    let document = VerifyJson { command: "verify", target_topic: &outcome.target_topic, checked: outcome.entries.len(), differences: differences.clone() };
    emit(json, &document, text)?;
    if differences.is_empty() {
        Ok(())
    } else {
        Err(Failure { status: EXIT_DIFFERENT, error: anyhow::anyhow!("{} record(s) differ from the plan", differences.len()) })
    }
}

/// One plan entry as a line.
pub fn describe_entry(e: &crate::plan::PlanEntry) -> String {
    use crate::plan::{Change, RangeCheck};
    let name = crate::plan::describe_key(&e.key);
    let offset = e.offset.map(|o| o.to_string()).unwrap_or_else(|| "?".into());
    let change = match &e.change {
        Change::New => format!("new         {name} -> offset {offset}"),
        Change::Unchanged => format!("unchanged   {name} = offset {offset}"),
        Change::Forward { from } => format!("forward     {name}: {from} -> {offset}"),
        Change::Backward { from } => format!("BACKWARDS   {name}: {from} -> {offset}"),
        Change::Replace => format!("replace     {name}"),
        Change::Delete { from } => format!("DELETE      {name}: {} -> tombstone", from.map_or("?".to_owned(), |f| f.to_string())),
    };
    let range = match &e.range {
        Some(RangeCheck::InRange { .. }) | None => String::new(),
        Some(RangeCheck::BeyondEnd { start, end }) => format!("  OUT OF RANGE: beyond log [{start}, {end})"),
        Some(RangeCheck::BeforeStart { start, end }) => format!("  OUT OF RANGE: before log [{start}, {end})"),
        Some(RangeCheck::MissingPartition) => "  OUT OF RANGE: no such replicated partition".to_owned(),
    };
    let misplaced = e.misplaced_in.map(|p| format!("  (existing record in wrong partition {p})")).unwrap_or_default();
    format!("{change}  [partition {}]{range}{misplaced}", e.partition)
}

/// The plan as a readable report.
pub fn render_plan(outcome: &PlanOutcome, with_entries: bool) -> String {
    let mut out = format!(
        "{}\nsource {} -> target {} ({}, {} partitions)\n",
        outcome.policy,
        outcome.source_topic,
        outcome.target_topic.as_deref().unwrap_or("(nothing to write)"),
        if outcome.target_exists { "exists" } else { "will be created" },
        outcome.target_partitions,
    );
    out.push_str(&render_report_as(&outcome.plugin, &outcome.translation, "offset records mapped"));
    for (label, n) in crate::plan::count_lines(&outcome.counts) {
        if n > 0 || label == "new" || label == "unchanged" {
            out.push_str(&format!("  {label:<28}{n}\n"));
        }
    }
    if with_entries {
        for e in &outcome.entries {
            out.push_str(&format!("  {}\n", describe_entry(e)));
        }
    }
    out
}

fn translate(engine: &PluginEngine, args: TranslateArgs) -> Result<(), Failure> {
    let mut plugin = load_plugin(engine, &args.plugin.plugin, &args.plugin.settings)?;
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
        allow_delete: args.allow_delete,
    };
    let result = match args.input_format {
        InputFormat::Kcat => translate::translate_dump(&mut plugin, reader, options),
        InputFormat::GroupOffsets => translate::translate_group_offsets(&mut plugin, reader, args.source_group.clone(), options),
    };
    plugin.close();
    let (records, report) = result.map_err(|e: TranslateError| match e {
        TranslateError::Deletion { .. } => Failure { status: EXIT_REFUSED, error: e.into() },
        TranslateError::Plugin(p) => plugin_failure(p),
        other => other.into(),
    })?;

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
    render_report_as(plugin, report, "records written")
}

/// The summary with `out_label` naming the records the plugin produced.
fn render_report_as(plugin: &str, report: &Report, out_label: &str) -> String {
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
    line(out_label, report.records_out.to_string());
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

fn list_plugins(engine: &PluginEngine) -> Result<(), Failure> {
    let mut out = String::new();
    for name in mm2_migrate_bundled::names() {
        let plugin = Plugin::load(engine, &PluginSource::Bundled(name)).map_err(plugin_failure)?;
        out.push_str(&describe_plugin(plugin.info(), &plugin.config_definition()));
    }
    io::stdout().lock().write_all(out.as_bytes())?;
    Ok(())
}

fn inspect_plugin(engine: &PluginEngine, spec: &str, json: bool) -> Result<(), Failure> {
    let source = PluginSource::resolve(spec).map_err(plugin_failure)?;
    let inspection = crate::plugin::inspect(engine, &source).map_err(plugin_failure)?;
    let mut text = format!("source    {}\nsha256    {}\n", inspection.source, inspection.sha256);
    text.push_str("imports\n");
    for import in &inspection.imports {
        let mark = if Some(import) == inspection.forbidden_import.as_ref() { "  <- refused" } else { "" };
        text.push_str(&format!("  {import}{mark}\n"));
    }
    let info_json = match (&inspection.info, &inspection.forbidden_import) {
        (Some(info), _) => {
            let keys: Vec<_> = info.config.iter().map(|k| serde_json::json!({
                "name": k.name, "required": k.required, "default": k.default_value,
                "documentation": k.documentation, "valid_values": k.valid_values,
            })).collect();
            text.push_str(&describe_plugin(info, &info.config.iter().map(crate::plugin::config_key).collect::<Vec<_>>()));
            text.push_str(&format!(
                "policy entry:\n  [[plugins]]\n  name = {:?}\n  sha256 = \"{}\"\n",
                info.name, inspection.sha256
            ));
            serde_json::json!({"name": info.name, "version": info.version, "contract_version": info.contract_version,
                "description": info.description, "config": keys})
        }
        (None, Some(import)) => {
            text.push_str(&format!("refused: it imports {import}, which plugins may not use\n"));
            serde_json::Value::Null
        }
        (None, None) => serde_json::Value::Null,
    };
    let document = serde_json::json!({"inspection": inspection, "plugin": info_json});
    emit(json, &document, text)?;
    match &inspection.forbidden_import {
        Some(import) => Err(Failure {
            status: EXIT_FAILED,
            error: PluginError::ForbiddenImport { plugin: inspection.source.clone(), import: import.clone() }.into(),
        }),
        None => Ok(()),
    }
}

/// A plugin's description and configuration keys, as `plugins` lists them.
fn describe_plugin(info: &crate::plugin::wit::PluginInfo, keys: &[connect_offsets::config::ConfigKey]) -> String {
    let mut out = String::new();
    {
        out.push_str(&format!("{} {} (contract {})\n  {}\n", info.name, info.version, info.contract_version, info.description));
        for key in keys {
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_cause_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory (os error 2)");
        let error = anyhow::Error::from(crate::policy::PolicyError::Read { path: "p.toml".into(), source: io });
        assert_eq!(error_text(&error), "cannot read policy p.toml: No such file or directory (os error 2)");
        let chained = anyhow::anyhow!("inner cause").context("outer");
        assert_eq!(error_text(&chained), "outer: inner cause");
    }
}
