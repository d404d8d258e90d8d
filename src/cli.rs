//! The command-line interface: arguments and help text. `main.rs` parses, the command
//! modules do the work.

use crate::graph::render::GraphFormat;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const ABOUT: &str = "Declarative infrastructure for AI: GPU and TPU clusters, storage, \
networks and ML platforms on AWS, Google Cloud and Azure.";

#[derive(Parser, Debug)]
#[command(name = "gantry", version, about = ABOUT, propagate_version = true)]
#[command(
    after_help = "Examples:\n  gantry validate examples/quickstart\n  gantry fmt --check .\n  gantry graph --format mermaid examples/quickstart"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Never colour output (also: NO_COLOR=1)
    #[arg(long, global = true)]
    pub no_color: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a stack for errors without touching any cloud
    #[command(
        after_help = "Evaluates everything that is known without a cloud: variables with \
their defaults and given values, locals, count/for_each and function calls on constants. \
Unset required variables are treated as unknown.\n\nExamples:\n  gantry validate\n  gantry validate stacks/aws/network --var 'zones=[\"a\",\"b\"]'\n  gantry validate --json examples/quickstart"
    )]
    Validate(ValidateArgs),
    /// Rewrite stack files in the canonical format
    #[command(
        after_help = "Formats every `*.hcl` file in PATH (a file or a directory), keeping \
comments. Exit code 1 with --check when a file is not formatted.\n\nExamples:\n  gantry fmt\n  gantry fmt --check --diff stacks/\n  gantry fmt --recursive ."
    )]
    Fmt(FmtArgs),
    /// Print the resource dependency graph as DOT or Mermaid
    #[command(
        after_help = "Arrows point from a resource instance to what it depends on.\n\n\
Examples:\n  gantry graph | dot -Tsvg > graph.svg\n  gantry graph --format mermaid examples/quickstart"
    )]
    Graph(GraphArgs),
}

/// Where the stack is and what to feed it.
#[derive(Args, Debug, Clone)]
pub struct StackArgs {
    /// Stack directory (or a single .hcl file)
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Set a root variable: --var name=value (HCL syntax for lists, maps, numbers)
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variable values from an HCL file (name = value lines)
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
    /// Print one JSON object per line instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub stack: StackArgs,
}

#[derive(Args, Debug)]
pub struct FmtArgs {
    /// File or directory to format
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Do not write; exit 1 if any file is not formatted
    #[arg(long)]
    pub check: bool,
    /// Show the changes as a unified diff
    #[arg(long)]
    pub diff: bool,
    /// Also format subdirectories
    #[arg(long)]
    pub recursive: bool,
}

#[derive(Args, Debug)]
pub struct GraphArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}
