//! `gantry graph`: print the resource-instance dependency graph.

use super::{input_options, ExitStatus};
use crate::cli::GraphArgs;
use crate::config::sources::ModuleFetcher;
use crate::graph::render::render;
use crate::graph::walk::WalkMode;
use crate::stack::{analyze, AnalyzeOptions};
use crate::ui::Ui;

pub fn run(args: &GraphArgs, ui: Ui) -> ExitStatus {
    let inputs = input_options(&args.stack);
    let fetcher = ModuleFetcher::default();
    let analysis = analyze(&AnalyzeOptions {
        path: &args.stack.dir,
        inputs: &inputs,
        mode: WalkMode::Plan,
        fetcher: &fetcher,
        instance_graph: true,
    });
    ui.diagnostics(&analysis.diagnostics, &analysis.stack.sources);
    if analysis.diagnostics.has_errors() {
        return ExitStatus::Failure;
    }
    match &analysis.instances {
        Some(g) => {
            ui.data(&render(g, args.format));
            ExitStatus::Success
        }
        None => ExitStatus::Failure,
    }
}
