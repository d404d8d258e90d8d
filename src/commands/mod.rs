//! One module per command; each is a thin wrapper over the library and returns an
//! [`ExitStatus`].

pub mod apply;
pub mod catalog;
pub mod docs;
pub mod fmt;
pub mod graph;
pub mod init;
pub mod module_failover;
pub mod plan;
pub mod progress;
pub mod refresh;
pub mod session;
pub mod show;
pub mod state;
pub mod takeover;
pub mod validate;
pub mod workspace;

use crate::cli::{Cli, Command, StackArgs};
use crate::config::inputs::InputOptions;
use crate::ui::Ui;

/// How a command ended; the only place exit codes are decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Success,
    /// Errors were reported.
    Failure,
    /// `plan --detailed-exitcode`: the plan has changes.
    Changes,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Changes => 2,
        }
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> ExitStatus {
    match cli.command {
        Command::Validate(args) => validate::run(&args, Ui::new(args.stack.json, cli.no_color)),
        Command::Fmt(args) => fmt::run(&args, Ui::new(false, cli.no_color)),
        Command::Graph(args) => graph::run(&args, Ui::new(args.stack.json, cli.no_color)),
        Command::Plan(args) => plan::run(&args, Ui::new(args.stack.json, cli.no_color)),
        Command::Apply(args) => apply::run(&args, Ui::new(args.stack.json, cli.no_color), false),
        Command::Destroy(args) => apply::run(&args, Ui::new(args.stack.json, cli.no_color), true),
        Command::Show(args) => show::run(&args, Ui::new(false, cli.no_color)),
        Command::Output(args) => state::run_output(&args, Ui::new(args.json, cli.no_color)),
        Command::State(cmd) => state::run_state(&cmd, Ui::new(false, cli.no_color)),
        Command::Refresh(args) => {
            refresh::run_refresh(&args, Ui::new(args.stack.json, cli.no_color))
        }
        Command::Import(args) => refresh::run_import(&args, Ui::new(false, cli.no_color)),
        Command::ForceUnlock(args) => state::run_force_unlock(&args, Ui::new(false, cli.no_color)),
        Command::Catalog(args) => catalog::run(&args, Ui::new(args.json, cli.no_color)),
        Command::Sim(cmd) => state::run_sim(&cmd, Ui::new(false, cli.no_color)),
        Command::Workspace(cmd) => workspace::run(&cmd, Ui::new(false, cli.no_color)),
        Command::Init(args) => init::run(&args, Ui::new(false, cli.no_color)),
        Command::Modules(cmd) => docs::run_modules(&cmd, Ui::new(false, cli.no_color)),
        Command::Completions(args) => docs::run_completions(&args),
        Command::Man(args) => docs::run_man(&args, Ui::new(false, cli.no_color)),
    }
}

/// Reports one diagnostic that has no source location and fails the command.
pub(crate) fn fail(ui: Ui, d: crate::diagnostics::Diagnostic) -> ExitStatus {
    ui.diagnostics(
        &crate::diagnostics::Diagnostics::from(d),
        &crate::diagnostics::SourceMap::new(),
    );
    ExitStatus::Failure
}

fn input_options(args: &StackArgs) -> InputOptions {
    InputOptions {
        vars: args.vars.clone(),
        var_files: args.var_files.clone(),
        env: Vec::new(),
        preset: Vec::new(),
    }
    .with_process_env()
}
