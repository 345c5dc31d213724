//! The command line, as clap parses it: commands and their arguments.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::cli::options::{CutoverArgs, GroupsArgs, LiveArgs, PluginArgs, RecordArgs, WatchArgs, job_arguments};

/// Parses the command line; exits with clap's message and status 2 when it is wrong.
pub fn parse() -> Cli {
    parse_from(std::env::args_os()).unwrap_or_else(|e| e.exit())
}

/// Parses `argv`, reading a `--job` file as more arguments placed right after the command's name,
/// before the command line's own: one schema, and the command line wins (ripgrep reads its
/// config file the same way).
pub fn parse_from(argv: impl IntoIterator<Item = impl Into<OsString>>) -> Result<Cli, clap::Error> {
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
    let first = Cli::try_parse_from(&argv)?;
    let Some((names, path)) = first.command.job() else {
        return Ok(first);
    };
    let mut command = Cli::command();
    let mut known = Vec::new();
    let mut sub = Some(&mut command);
    for name in &names {
        sub = sub.and_then(|c| c.find_subcommand_mut(name));
    }
    if let Some(sub) = sub {
        known = sub.get_arguments().filter_map(|a| a.get_long()).map(str::to_owned).collect();
    }
    let from_file = job_arguments(&path, &known).map_err(|e| command.error(clap::error::ErrorKind::ValueValidation, e))?;
    // Right after the (last) subcommand's name.
    let mut at = 0;
    for name in &names {
        at = argv.iter().skip(at).position(|a| a == name).map_or(argv.len(), |i| at + i + 1);
    }
    let merged: Vec<OsString> = argv[..at].iter().cloned().chain(from_file).chain(argv[at..].iter().cloned()).collect();
    Cli::try_parse_from(merged)
}

impl Command {
    /// The command's names (`groups plan`) and job file, when it was given one.
    fn job(&self) -> Option<(Vec<&'static str>, PathBuf)> {
        let (names, job) = match self {
            Command::Plan(c) => (vec!["plan"], &c.live.cluster.job),
            Command::Verify(c) => (vec!["verify"], &c.command.live.cluster.job),
            Command::Cutover(c) => (vec!["cutover"], &c.cutover.live.cluster.job),
            Command::Run(r) => (vec!["run"], &r.command.live.cluster.job),
            Command::Groups(GroupsAction::Plan(c)) => (vec!["groups", "plan"], &c.groups.cluster.job),
            Command::Groups(GroupsAction::Verify(c)) => (vec!["groups", "verify"], &c.groups.cluster.job),
            Command::Groups(GroupsAction::Run(r)) => (vec!["groups", "run"], &r.command.groups.cluster.job),
            _ => return None,
        };
        job.clone().map(|path| (names, path))
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "mm2-migrate",
    // A later occurrence of an option replaces an earlier one: a job file's values come first.
    args_override_self = true,
    version,
    about = "Moves Kafka replication progress from other replicators into MirrorMaker 2",
    after_help = "Exit status: 0 done; 1 failed (nothing half written); 2 usage or configuration error; \
                  3 run refused an unsafe record or group (nothing written); 4 verify found differences; \
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
    Plan(PlanArgs),
    /// Migrate: plan, refuse what is unsafe, write, read back and confirm.
    Run(RunArgs),
    /// Compare MM2's offsets topic with the plan; exit 4 on any difference. With --after-resume:
    /// whether MM2, once resumed, copied each record after the seam exactly once.
    Verify(VerifyArgs),
    /// The whole cut-over, resumable: preflight, stop the old tool, settle, final plan, write
    /// MM2's offsets, translate groups, start MM2, and watch it resume exactly.
    Cutover(CutoverCommand),
    /// Consumer groups: translate each group's committed offsets, record by record, to the copies
    /// on the data cluster, as group offsets there and as MM2's checkpoints.
    #[command(subcommand)]
    Groups(GroupsAction),
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
        #[command(flatten)]
        output: OutputArgs,
    },
}

/// `--output` of every command but `plan` (which adds `strimzi`).
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Report format [default: text]; `json`: one document on stdout, for automation.
    #[arg(long, value_enum)]
    pub output: Option<OutputFormat>,
}

impl OutputArgs {
    pub fn json(&self) -> bool {
        self.output == Some(OutputFormat::Json)
    }
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

/// `plan`'s options: the live options, and its output formats.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub live: LiveArgs,

    /// Report format [default: text]. `strimzi`: the ConfigMap Strimzi (>= 0.44) applies the
    /// plan's offsets from, followed by the kubectl commands that apply it (needs --strimzi).
    #[arg(long, value_enum)]
    pub output: Option<PlanOutput>,

    /// The name of the ConfigMap of --output strimzi [default: mm2-migrate-offsets].
    #[arg(long, value_name = "NAME")]
    pub strimzi_configmap: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanOutput {
    /// A readable report.
    Text,
    /// One JSON document on stdout, for automation.
    Json,
    /// A ConfigMap for Strimzi's `strimzi.io/connector-offsets=alter`, and the commands.
    Strimzi,
}

#[derive(Debug, Args)]
pub struct LiveCommand {
    #[command(flatten)]
    pub live: LiveArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub command: LiveCommand,

    /// Check what MM2 copied after it resumed: per migrated partition, its first copies must be
    /// the source records right after the seam (exit 4 when it copied some twice or skipped some).
    /// The seam comes from the cut-over's --state, else from the old tool's final offsets.
    #[arg(long)]
    pub after_resume: bool,

    #[command(flatten)]
    pub watch: WatchArgs,
}

#[derive(Debug, Args)]
pub struct CutoverCommand {
    #[command(flatten)]
    pub cutover: CutoverArgs,

    #[command(flatten)]
    pub output: OutputArgs,
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

#[derive(Debug, Subcommand)]
pub enum GroupsAction {
    /// Show each group's translated offset per partition, and what `groups run` would do; writes nothing.
    Plan(GroupsCommand),
    /// Write the translated group offsets and MM2's checkpoints on the data cluster, and read them back.
    Run(GroupsRunArgs),
    /// Compare the data cluster's group offsets and checkpoints with the plan; exit 4 on any difference.
    Verify(GroupsCommand),
}

#[derive(Debug, Args)]
pub struct GroupsCommand {
    #[command(flatten)]
    pub groups: GroupsArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct GroupsRunArgs {
    #[command(flatten)]
    pub command: GroupsCommand,

    /// After the run, keep translating as the groups commit on the replicated cluster (forward
    /// only, active groups skipped) until every group has passed the seam, where MM2's own
    /// checkpoints take over, or until SIGINT or SIGTERM.
    #[arg(long)]
    pub follow: bool,

    /// Seconds between two rounds of --follow [default: 5].
    #[arg(long, value_name = "SECONDS", requires = "follow", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub interval: Option<u64>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub output: OutputArgs,
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

    #[command(flatten)]
    pub records: RecordArgs,

    /// `text`: one record per line on stdout (kcat's envelope) and the report on stderr; `json`:
    /// one document on stdout with the records and the report.
    #[command(flatten)]
    pub output: OutputArgs,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn no_two_arguments_of_a_command_share_an_id() {
        // Two flattened groups with a field of the same name give two arguments one id, and the
        // later one silently takes the other's values (`--group` and `--groups` did once).
        fn check(command: &clap::Command, path: &str) {
            let mut ids: Vec<&str> = command.get_arguments().map(|a| a.get_id().as_str()).collect();
            ids.sort_unstable();
            let repeated: Vec<&&str> = ids.windows(2).filter(|w| w[0] == w[1]).map(|w| &w[0]).collect();
            assert!(repeated.is_empty(), "{path}: argument ids declared twice: {repeated:?}");
            for sub in command.get_subcommands() {
                check(sub, &format!("{path} {}", sub.get_name()));
            }
        }
        let command = Cli::command();
        command.clone().debug_assert();
        check(&command, "mm2-migrate");
    }

    #[test]
    fn a_job_file_names_the_connect_worker_and_its_credentials() {
        let (_dir, path) = crate::testing::file("job.toml", 
            r#"
plugin = "replicator-to-mm2"
source-bootstrap = "a:9092"
connect-url = "https://connect:8083"
connector = "src->tgt.MirrorSourceConnector"
stop-connector = true
[connect-property]
"basic.auth.user" = "migrator"
"basic.auth.password" = "secret"
"#,
        );
        let cli = parse_from(["mm2-migrate", "run", "--job", path.to_str().unwrap()]).unwrap();
        let Command::Run(run) = cli.command else { panic!("run") };
        let live = &run.command.live;
        assert_eq!(live.cluster.connect_url.as_deref(), Some("https://connect:8083"));
        assert_eq!(live.cluster.connector.as_deref(), Some("src->tgt.MirrorSourceConnector"));
        assert!(live.stop_connector);
        assert_eq!(live.cluster.connect_properties.len(), 2);
        // --connect-url and --mm2-config are two descriptions of MM2: one at a time.
        let err = parse_from(["mm2-migrate", "plan", "--job", path.to_str().unwrap(), "--mm2-config", "x"]).unwrap_err();
        assert!(err.to_string().contains("cannot be used with"), "{err}");
        let err = parse_from(["mm2-migrate", "plan", "--connect-url", "http://c:8083"]).unwrap_err();
        assert!(err.to_string().contains("--connector"), "{err}");
    }

    #[test]
    fn the_command_line_wins_over_the_job_file_and_defaults_apply() {
        let (_dir, path) = crate::testing::file("job.toml", 
            r#"
plugin = "replicator-to-mm2"
source-bootstrap = "a:9092"
target-topic = "t"
timeout = 5
output = "json"
follow = true
[set]
"source.cluster.alias" = "file"
"offset.semantics" = "next"
[property]
"security.protocol" = "SSL"
"#,
        );
        let job = path.to_str().unwrap();
        let cli = parse_from(["mm2-migrate", "-v", "run", "--set", "source.cluster.alias=cli", "--job", job, "--target-bootstrap", "b:9092", "--timeout", "7"]).unwrap();
        let Command::Run(run) = cli.command else { panic!("run") };
        assert!(run.follow);
        assert_eq!(run.command.output.output, Some(OutputFormat::Json));
        let job = run.command.live.resolve(run.command.live.cluster.discover().unwrap()).unwrap();
        assert_eq!(job.plugin, "replicator-to-mm2");
        assert_eq!(
            job.settings,
            [("offset.semantics".to_owned(), "next".to_owned()), ("source.cluster.alias".to_owned(), "cli".to_owned())]
        );
        assert_eq!(job.live.source.bootstrap, "a:9092");
        let crate::target::Target::Topic(target) = &job.live.target else { panic!("a topic target") };
        assert_eq!(target.connection.bootstrap, "b:9092");
        assert_eq!(job.live.source_topic, "connect-offsets");
        assert_eq!(target.named.as_deref(), Some("t"));
        assert_eq!(job.live.source.timeout, Duration::from_secs(7), "the command line wins");
        assert_eq!(target.connection.properties, [("security.protocol".to_owned(), "SSL".to_owned())]);
        assert_eq!(target.setup.partitions, 25);
        assert!(job.live.replicated.is_none());
    }

    #[test]
    fn a_groups_job_file_fills_the_nested_command() {
        let (_dir, path) = crate::testing::file("groups.toml", 
            r#"
replicated-bootstrap = "a:9092"
data-bootstrap = "b:9092"
group = "orders-.*"
source-alias = "east"
skip-active = true
[data-property]
"security.protocol" = "SSL"
"#,
        );
        let job = path.to_str().unwrap();
        let cli = parse_from(["mm2-migrate", "groups", "run", "--job", job, "--source-alias", "west"]).unwrap();
        let Command::Groups(GroupsAction::Run(run)) = cli.command else { panic!("groups run") };
        let options = run.command.groups.resolve(run.command.groups.cluster.discover().unwrap()).unwrap();
        assert_eq!((options.replicated.bootstrap.as_str(), options.data.bootstrap.as_str()), ("a:9092", "b:9092"));
        assert_eq!(options.data.properties, [("security.protocol".to_owned(), "SSL".to_owned())]);
        assert_eq!(options.patterns, ["orders-.*"]);
        assert_eq!(options.source_alias.as_deref(), Some("west"), "the command line wins");
        assert!(options.skip_active && options.checkpoints && !options.allow_rewind);
        // The offsets commands' own options are not the groups commands'.
        std::fs::write(&path, "plugin = \"p\"\n").unwrap();
        let err = parse_from(["mm2-migrate", "groups", "plan", "--job", job]).unwrap_err().to_string();
        assert!(err.contains("unknown option `plugin`"), "{err}");
        // Without a cluster for the groups or the copies, the error names what to give.
        let cli = parse_from(["mm2-migrate", "groups", "plan", "--data-bootstrap", "b:9092"]).unwrap();
        let Command::Groups(GroupsAction::Plan(plan)) = cli.command else { panic!("groups plan") };
        assert!(plan.groups.resolve(crate::cli::options::Discovered::default()).unwrap_err().to_string().contains("--replicated-bootstrap"));
    }

    #[test]
    fn job_files_are_checked_like_the_command_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.toml");
        let parse = |text: &str| {
            std::fs::write(&path, text).unwrap();
            parse_from(["mm2-migrate", "plan", "--job", path.to_str().unwrap()]).map(|_| ()).unwrap_err().to_string()
        };
        assert!(parse("plugin = \"x\"\nsource-bootstrapp = \"a\"\n").contains("unknown option `source-bootstrapp`"));
        assert!(parse("timeout = 301\n").contains("1..=300"));
        assert!(parse("partitions = 0\n").contains("partitions"));
        assert!(parse("follow = true\n").contains("unknown option `follow`"), "follow is run's alone");
    }
}
