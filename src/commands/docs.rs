//! What ships with the binary: `gantry modules` (the stack modules compiled in), and
//! `gantry completions` and `gantry man` (shell completion scripts and manual pages,
//! generated from the same clap definitions that parse the command line, so they never
//! disagree with it).

use super::{fail, ExitStatus};
use crate::cli::{Cli, CompletionsArgs, ManArgs, ModulesCommand};
use crate::config::shipped;
use crate::diagnostics::Diagnostic;
use crate::ui::Ui;
use clap::CommandFactory;
use std::path::Path;

pub fn run_modules(cmd: &ModulesCommand, ui: Ui) -> ExitStatus {
    match cmd {
        ModulesCommand::List => {
            let mut text = String::new();
            for name in shipped::names() {
                text.push_str(&format!("{}{name}\n", shipped::PREFIX));
            }
            ui.data(&text);
            ExitStatus::Success
        }
        ModulesCommand::Export(args) => {
            let name = args
                .name
                .strip_prefix(shipped::PREFIX)
                .unwrap_or(&args.name);
            match shipped::export(name, &args.dir) {
                Ok(n) => {
                    ui.status(&format!(
                        "Wrote {n} files of {}{name} to {}; use it with `source = \"./{}\"` (a path relative to the calling stack).",
                        shipped::PREFIX,
                        args.dir.display(),
                        args.dir.display()
                    ));
                    ExitStatus::Success
                }
                Err(e) => fail(
                    ui,
                    Diagnostic::error(format!("cannot export `{}`", args.name))
                        .with_detail(e)
                        .with_help("`gantry modules list` shows what is shipped"),
                ),
            }
        }
    }
}

pub fn run_completions(args: &CompletionsArgs) -> ExitStatus {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "gantry", &mut std::io::stdout());
    ExitStatus::Success
}

pub fn run_man(args: &ManArgs, ui: Ui) -> ExitStatus {
    let command = Cli::command();
    let Some(dir) = &args.out_dir else {
        let mut page = Vec::new();
        if let Err(e) = clap_mangen::Man::new(command).render(&mut page) {
            return fail(
                ui,
                Diagnostic::error("cannot render the manual page").with_detail(e.to_string()),
            );
        }
        ui.data(&String::from_utf8_lossy(&page));
        return ExitStatus::Success;
    };
    match write_pages(command, dir) {
        Ok(count) => {
            ui.status(&format!("wrote {count} manual pages to {}", dir.display()));
            ExitStatus::Success
        }
        Err(e) => fail(
            ui,
            Diagnostic::error(format!("cannot write manual pages to `{}`", dir.display()))
                .with_detail(e.to_string())
                .with_help("pass a directory you can write to, e.g. `--out-dir ./man`"),
        ),
    }
}

/// Writes `gantry.1` and one page per subcommand at any depth (`gantry-state-list.1`), as
/// git and cargo ship theirs. Returns how many pages were written.
fn write_pages(command: clap::Command, dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    // Subcommand pages need their full names (`gantry-state-list`) in their headers.
    let command = command.disable_help_subcommand(true);
    clap_mangen::generate_to(command.clone(), dir)?;
    Ok(count_pages(&command))
}

fn count_pages(command: &clap::Command) -> usize {
    1 + command
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(count_pages)
        .sum::<usize>()
}
