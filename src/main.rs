//! The `gantry` binary: parse the command line, run the command, exit with its status.

use clap::Parser;

fn main() {
    let cli = gantry::cli::Cli::parse();
    init_tracing();
    let status = gantry::commands::run(cli);
    std::process::exit(status.code());
}

/// Logs go to stderr, filtered by `GANTRY_LOG` (e.g. `GANTRY_LOG=debug`); off by default.
/// Every secret the run meets is scrubbed from them, whatever crate logs it.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GANTRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| gantry::ui::redact::ScrubbingStderr)
        .try_init();
}
