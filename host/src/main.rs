use mm2_migrate::cli;
use tracing_subscriber::EnvFilter;

/// mimalloc rather than glibc's malloc: the tool allocates per record and per key (envelopes,
/// plugin batches, plan entries), and glibc's was a quarter of a run's CPU (issue 13).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = cli::args::parse();
    // librdkafka reports every failed connection attempt; the error the command returns says
    // what matters, so its own log is shown only with -v.
    let default_level = match cli.verbose {
        0 => "warn,rdkafka=off,librdkafka=off",
        1 => "debug,rdkafka=warn,librdkafka=warn",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal: logs piped to a file or a test stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)))
        .init();
    if let Err(failure) = cli::run(cli) {
        eprintln!("error: {}", cli::error_text(&failure.error));
        std::process::exit(failure.status);
    }
}
