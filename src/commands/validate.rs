//! `gantry validate`: load and evaluate a stack offline, report every problem.

use super::{input_options, ExitStatus};
use crate::cli::ValidateArgs;
use crate::config::sources::ModuleFetcher;
use crate::graph::walk::WalkMode;
use crate::stack::{analyze, AnalyzeOptions};
use crate::ui::Ui;
use serde_json::json;

pub fn run(args: &ValidateArgs, ui: Ui) -> ExitStatus {
    let inputs = input_options(&args.stack);
    let fetcher = ModuleFetcher::default();
    let analysis = analyze(&AnalyzeOptions {
        path: &args.stack.dir,
        inputs: &inputs,
        mode: WalkMode::Validate,
        fetcher: &fetcher,
        instance_graph: false,
    });
    ui.diagnostics(&analysis.diagnostics, &analysis.stack.sources);
    let valid = !analysis.diagnostics.has_errors();
    let instances = analysis
        .evaluation
        .as_ref()
        .map_or(0, |e| e.instances.len());
    let modules = analysis.stack.modules.len();
    if ui.json {
        ui.json_line(&json!({
            "type": "validate",
            "valid": valid,
            "error_count": analysis.diagnostics.error_count(),
            "warning_count": analysis.diagnostics.iter().filter(|d| !d.is_error()).count(),
            "modules": modules,
            "resource_instances": instances,
        }));
    } else if valid {
        ui.status(&format!(
            "Success! The stack is valid ({modules} module{}, {instances} resource instance{}).",
            if modules == 1 { "" } else { "s" },
            if instances == 1 { "" } else { "s" },
        ));
    }
    if valid {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}
