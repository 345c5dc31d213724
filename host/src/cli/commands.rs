//! The commands: each loads what it needs, calls the library, and hands its outcome to `report`.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::PathBuf;

use super::args::{
    Cli, Command, GroupsAction, GroupsCommand, InputFormat, PlanArgs, PlanOutput, PluginsAction, PluginsArgs, RunArgs,
    TranslateArgs, VerifyArgs,
};
use crate::cli::options::LiveArgs;
use super::exit::{EXIT_DIFFERENT, EXIT_FAILED, Failure, failed, plugin_failure, usage};
use crate::live::{self, LiveOptions, PlanOutcome};
use crate::plugin::{CompileCache, Plugin, PluginEngine, PluginError, PluginSource, Problem};
use crate::policy::Policy;
use crate::report::{self, emit};
use crate::translate::{self, TranslateOptions};

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
        Command::Verify(args) if args.after_resume => super::cutover::verify_after_resume(&engine, args),
        Command::Verify(args) => verify_command(&engine, args),
        Command::Cutover(args) => super::cutover::cutover_command(&engine, args),
        Command::Groups(action) => groups_command(action),
        Command::Demo(args) => {
            let demo = crate::demo::run(&engine)?;
            emit(args.output.json(), &report::demo_json(&demo), || report::render_demo(&demo))?;
            Ok(demo.converged()?)
        }
        Command::Plugins(PluginsArgs { action: None }) => list_plugins(&engine),
        Command::Plugins(PluginsArgs { action: Some(PluginsAction::Inspect { plugin, output }) }) => {
            inspect_plugin(&engine, &plugin, output.json())
        }
    }
}

/// Loads and configures a plugin.
fn load_plugin(engine: &PluginEngine, spec: &str, settings: &[(String, String)]) -> Result<Plugin, Failure> {
    let mut plugin = load_unconfigured(engine, spec)?;
    plugin.configure(settings).map_err(plugin_failure)?;
    Ok(plugin)
}

fn load_unconfigured(engine: &PluginEngine, spec: &str) -> Result<Plugin, Failure> {
    let source = PluginSource::resolve(spec).map_err(plugin_failure)?;
    Plugin::load(engine, &source).map_err(plugin_failure)
}

/// A live command ready to go: its configured plugin and its options.
pub(super) struct LiveSetup {
    pub(super) plugin: Plugin,
    pub(super) options: LiveOptions,
}

/// Resolves the job and loads its plugin. `--target-topic` also becomes the plugin's `target.topic`
/// when the plugin has that key and it was not set.
pub(super) fn live_setup(engine: &PluginEngine, live: &LiveArgs) -> Result<LiveSetup, Failure> {
    let discovered = live.cluster.discover().map_err(super::exit::discovery_failure)?;
    let job = live.resolve(discovered).map_err(usage)?;
    let mut plugin = load_unconfigured(engine, &job.plugin)?;
    let mut settings = job.settings;
    if let Some(topic) = job.live.target.topic().and_then(|t| t.named.as_ref()) {
        plugin.name_target_topic(topic);
        let has_key = plugin.info().config.iter().any(|k| k.name == "target.topic");
        if has_key && !settings.iter().any(|(k, _)| k == "target.topic") {
            settings.push(("target.topic".to_owned(), topic.clone()));
        }
    }
    // The alias MM2's flow looks its offsets up under: the output alias of an alias rename
    // (`target.cluster.alias`), else the alias the plugin writes (`source.cluster.alias`).
    if let Some(flow) = &job.live.mm2_flow {
        let has = |key: &str| plugin.info().config.iter().any(|k| k.name == key);
        let alias_key = ["target.cluster.alias", "source.cluster.alias"].into_iter().find(|k| has(k));
        if let Some(key) = alias_key
            && !settings.iter().any(|(k, _)| k == key)
        {
            settings.push((key.to_owned(), flow.source.clone()));
        }
        // Strimzi's connector is `<source>-><target>.MirrorSourceConnector`.
        if has("target.connector.name") && !settings.iter().any(|(k, _)| k == "target.connector.name") {
            settings.push(("target.connector.name".to_owned(), flow.connector.value.clone()));
        }
    }
    plugin.configure(&settings).map_err(plugin_failure)?;
    let mut options = job.live;
    // A policy's `on-bad-record = "skip"` is the operator's --skip-invalid for every run.
    options.skip_invalid |= plugin.policy().skips_bad_records();
    Ok(LiveSetup { plugin, options })
}

fn plan_command(engine: &PluginEngine, args: PlanArgs) -> Result<(), Failure> {
    let json = args.output == Some(PlanOutput::Json);
    // Checked before anything connects.
    let configmap = args.strimzi_configmap.clone().unwrap_or_else(|| crate::connect::strimzi::DEFAULT_CONFIGMAP.to_owned());
    if args.output == Some(PlanOutput::Strimzi) {
        crate::connect::strimzi::check_configmap_name(&configmap).map_err(usage)?;
        if args.live.cluster.strimzi.is_none() {
            return Err(usage(anyhow::anyhow!(
                "--output strimzi needs --strimzi KafkaMirrorMaker2.yaml: the resource, namespace and mirror the commands name"
            )));
        }
    } else if args.strimzi_configmap.is_some() {
        return Err(usage(anyhow::anyhow!("--strimzi-configmap names the ConfigMap of --output strimzi")));
    }
    let LiveSetup { mut plugin, options } = live_setup(engine, &args.live)?;
    let outcome = live::plan(&mut plugin, &options)?;
    plugin.close();
    let refusals = crate::plan::refusals(&outcome.entries, options.overrides);
    if args.output == Some(PlanOutput::Strimzi) {
        return strimzi_output(&outcome, refusals, &configmap);
    }
    #[derive(serde::Serialize)]
    struct PlanJson<'a> {
        command: &'static str,
        plan: &'a PlanOutcome,
        refusals: &'a [crate::plan::Refusal],
    }
    let text = || report::render_plan_refusals(&outcome, &refusals);
    Ok(emit(json, &PlanJson { command: "plan", plan: &outcome, refusals: &refusals }, text)?)
}

/// `plan --output strimzi`: what `run` would write, handed to Strimzi: refused (exit 3, nothing
/// on stdout) where `run` would refuse.
fn strimzi_output(outcome: &PlanOutcome, refused: Vec<crate::plan::Refusal>, configmap: &str) -> Result<(), Failure> {
    let flow = outcome.mm2_config.as_ref().expect("--strimzi gives the plan its flow");
    let mirror = flow.strimzi.as_ref().expect("a --strimzi flow knows its resource");
    if mirror.resource.is_empty() {
        return Err(usage(anyhow::anyhow!("{}: the resource has no metadata.name for the kubectl commands", flow.file)));
    }
    // Before anything is printed: the output is piped to `kubectl apply -f -`.
    crate::connect::strimzi::check_names(mirror, &flow.connector.value, configmap).map_err(usage)?;
    eprint!("{}", report::render_plan(outcome, true));
    if !refused.is_empty() {
        return Err(live::LiveError::Refused(refused).into());
    }
    let to_write = crate::plan::to_write(&outcome.entries);
    if to_write.is_empty() {
        eprintln!("nothing to apply: MM2 already holds every planned offset");
        return Ok(());
    }
    let manifest = crate::connect::strimzi::manifest(mirror, &flow.connector.value, configmap, &to_write).map_err(usage)?;
    io::stdout().lock().write_all(manifest.as_bytes())?;
    Ok(())
}

fn run_command(engine: &PluginEngine, args: RunArgs) -> Result<(), Failure> {
    let follow = args.follow;
    if follow {
        // Said before anything connects or is written; live::follow refuses the same.
        let live = &args.command.live;
        live::follow_usage(live.source_group.is_some(), live.cluster.connect_url.is_some())?;
    }
    let json = args.command.output.json();
    let LiveSetup { mut plugin, options } = live_setup(engine, &args.command.live)?;
    let outcome = live::run(&mut plugin, &options)?;
    let render = || report::render_run(&outcome);
    if !follow {
        plugin.close();
        return Ok(emit(json, &outcome, render)?);
    }
    eprint!("{}", render());
    let summary = live::follow(&mut plugin, &options, &outcome)?;
    plugin.close();
    let text = report::render_follow(&summary);
    emit(json, &summary, || text)?;
    if !summary.refused.is_empty() {
        // Stopped by a signal, but not every offset of the old tool reached MM2.
        return Err(Failure {
            status: super::exit::EXIT_REFUSED,
            error: anyhow::anyhow!("{} record(s) were refused while following and not written", summary.refused.len()),
        });
    }
    Ok(())
}

fn verify_command(engine: &PluginEngine, args: VerifyArgs) -> Result<(), Failure> {
    if args.watch.state.is_some() || args.watch.watch_timeout.is_some() {
        return Err(usage(anyhow::anyhow!("--state and --watch-timeout go with --after-resume")));
    }
    let args = args.command;
    let json = args.output.json();
    let LiveSetup { mut plugin, options } = live_setup(engine, &args.live)?;
    let outcome = live::plan(&mut plugin, &options)?;
    plugin.close();
    let differences = live::differences(&outcome);
    let unresolved = live::unresolved_seams(&outcome);
    #[derive(serde::Serialize)]
    struct VerifyJson<'a> {
        command: &'static str,
        target_topic: &'a Option<String>,
        checked: usize,
        differences: Vec<&'a crate::plan::PlanEntry>,
        seam_check: &'a live::SeamCheck,
        /// Overlaps and gaps while no --resume-at names the choice that was made.
        unresolved_seams: Vec<&'a crate::plan::PlanEntry>,
    }
    let text = report::render_verify(&outcome, &differences, &unresolved);
    let document = VerifyJson {
        command: "verify",
        target_topic: &outcome.target.topic,
        checked: outcome.entries.len(),
        differences: differences.clone(),
        seam_check: &outcome.seam_check,
        unresolved_seams: unresolved.clone(),
    };
    emit(json, &document, || text)?;
    if !differences.is_empty() {
        return Err(Failure { status: EXIT_DIFFERENT, error: anyhow::anyhow!("{} record(s) differ from the plan", differences.len()) });
    }
    if !unresolved.is_empty() {
        return Err(Failure {
            status: EXIT_DIFFERENT,
            error: anyhow::anyhow!(
                "{} partition(s) have copies that end elsewhere than their recorded offsets (overlap or gap); \
                 pass the --resume-at choice the run was made with",
                unresolved.len()
            ),
        });
    }
    Ok(())
}

/// `groups plan|run|verify`: no plugin, the clusters and the groups only.
fn groups_command(action: GroupsAction) -> Result<(), Failure> {
    let (name, command) = match &action {
        GroupsAction::Plan(c) => ("groups plan", c),
        GroupsAction::Run(r) => ("groups run", &r.command),
        GroupsAction::Verify(c) => ("groups verify", c),
    };
    let GroupsCommand { groups, output } = command;
    let json = output.json();
    let discovered = groups.cluster.discover().map_err(super::exit::discovery_failure)?;
    let options = groups.resolve(discovered).map_err(usage)?;
    match action {
        GroupsAction::Plan(_) => {
            let plan = crate::groups::plan(&options)?;
            let refusals = crate::groups::refusals(&plan, &options);
            let document = GroupsDocument { command: name, plan: Some(&plan), refusals: Some(&refusals), ..Default::default() };
            Ok(emit(json, &document, || report::render_groups(&plan, &refusals))?)
        }
        GroupsAction::Run(args) if args.follow => {
            let run = crate::groups::run(&options)?;
            eprint!("{}", report::render_groups_run(&run));
            let interval = std::time::Duration::from_secs(args.interval.unwrap_or(5));
            let follow = crate::groups::follow(&options, &run, interval)?;
            let document = GroupsDocument { command: name, run: Some(&run), follow: Some(&follow), ..Default::default() };
            Ok(emit(json, &document, || report::render_groups_follow(&follow))?)
        }
        GroupsAction::Run(_) => {
            let run = crate::groups::run(&options)?;
            let document = GroupsDocument { command: name, run: Some(&run), ..Default::default() };
            Ok(emit(json, &document, || report::render_groups_run(&run))?)
        }
        GroupsAction::Verify(_) => {
            let plan = crate::groups::plan(&options)?;
            let differences = crate::groups::differences(&plan);
            let document = GroupsDocument {
                command: name,
                checked: Some(plan.entries.len()),
                differences: Some(&differences),
                active: Some(&plan.active),
                plan: Some(&plan),
                ..Default::default()
            };
            let text = || report::render_groups_verify(&plan, &differences);
            emit(json, &document, text)?;
            if differences.is_empty() {
                return Ok(());
            }
            Err(Failure {
                status: EXIT_DIFFERENT,
                error: anyhow::anyhow!("{} group offset(s) or checkpoint(s) differ from the plan", differences.len()),
            })
        }
    }
}

/// The `--output json` document of a groups command, serialized straight from the plan: a
/// 100,000-entry plan copied into a `serde_json::Value` first doubled the command's time.
#[derive(serde::Serialize, Default)]
struct GroupsDocument<'a> {
    command: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    checked: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    differences: Option<&'a [&'a crate::groups::GroupEntry]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    active: Option<&'a [crate::groups::ActiveGroup]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<&'a crate::groups::GroupsPlan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refusals: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<&'a crate::groups::GroupsRun>,
    #[serde(skip_serializing_if = "Option::is_none")]
    follow: Option<&'a crate::groups::FollowSummary>,
}

fn translate(engine: &PluginEngine, args: TranslateArgs) -> Result<(), Failure> {
    let (spec, settings) = args.plugin.resolve().map_err(usage)?;
    let mut plugin = load_plugin(engine, &spec, &settings)?;
    let reader: Box<dyn BufRead> = if args.input.as_os_str() == "-" {
        Box::new(BufReader::new(io::stdin()))
    } else {
        let file = File::open(&args.input)
            .map_err(|e| usage(anyhow::anyhow!("cannot open {}: {e}", args.input.display())))?;
        Box::new(BufReader::new(file))
    };
    let options = TranslateOptions {
        batch_size: args.records.batch_size(),
        target_partitions: args.records.partitions(),
        skip_invalid: args.records.skip_invalid || plugin.policy().skips_bad_records(),
        allow_delete: args.records.allow_delete,
    };
    let result = match args.input_format {
        InputFormat::Kcat => translate::translate_dump(&mut plugin, reader, options),
        InputFormat::GroupOffsets => translate::translate_group_offsets(&mut plugin, reader, args.source_group.clone(), options),
    };
    plugin.close();
    let (records, summary) = result?;

    // Everything is rendered before anything is written: a failure leaves stdout empty.
    if args.output.json() {
        let records = records.iter().map(report::Envelope::of).collect::<anyhow::Result<Vec<_>>>().map_err(failed)?;
        let document = report::TranslateJson { command: "translate", plugin: plugin.label(), records, report: &summary };
        return Ok(emit(true, &document, String::new)?);
    }
    let mut out = String::new();
    for record in &records {
        out.push_str(&report::envelope(record).map_err(failed)?);
        out.push('\n');
    }
    io::stdout().lock().write_all(out.as_bytes())?;
    eprint!("{}", report::render_report(plugin.label(), &summary));
    Ok(())
}

fn list_plugins(engine: &PluginEngine) -> Result<(), Failure> {
    let mut out = String::new();
    for name in mm2_migrate_bundled::names() {
        let plugin = Plugin::load(engine, &PluginSource::Bundled(name)).map_err(plugin_failure)?;
        out.push_str(&report::describe_plugin(plugin.info(), &plugin.config_definition()));
    }
    io::stdout().lock().write_all(out.as_bytes())?;
    Ok(())
}

fn inspect_plugin(engine: &PluginEngine, spec: &str, json: bool) -> Result<(), Failure> {
    let source = PluginSource::resolve(spec).map_err(plugin_failure)?;
    let inspection = crate::plugin::inspect(engine, &source).map_err(plugin_failure)?;
    emit(json, &report::inspection_json(&inspection), || report::render_inspection(&inspection))?;
    match &inspection.forbidden_import {
        Some(import) => Err(Failure {
            status: EXIT_FAILED,
            error: PluginError::Plugin { plugin: inspection.source.clone(), problem: Problem::ForbiddenImport(import.clone()) }.into(),
        }),
        None => Ok(()),
    }
}
