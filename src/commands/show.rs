//! `gantry show [PLANFILE]`: a saved plan or the state, as text, as a versioned JSON
//! document, or as a pull-request report.

use super::apply::read_plan_file;
use super::session::{open_state, sim_enabled, stack_dir, Access};
use super::{fail, ExitStatus};
use crate::cli::ShowArgs;
use crate::plan::document::StateDocument;
use crate::state::State;
use crate::ui::markdown::{plan_report, state_report};
use crate::ui::Ui;

pub fn run(args: &ShowArgs, ui: Ui) -> ExitStatus {
    match &args.planfile {
        Some(path) => {
            let codec = match super::session::stack_codec(&args.dir, sim_enabled(args.sim)) {
                Ok(c) => c,
                Err(d) => return fail(ui, d),
            };
            let file = match read_plan_file(path, &codec) {
                Ok(f) => f,
                Err(d) => return fail(ui, d),
            };
            if args.json {
                print_json(ui, &file.plan)
            } else if args.markdown {
                ui.data(&plan_report(&file.plan));
                ExitStatus::Success
            } else {
                ui.data(&file.rendered);
                ExitStatus::Success
            }
        }
        None => {
            let backend = match open_state(
                &stack_dir(&args.dir),
                sim_enabled(args.sim),
                "show",
                std::time::Duration::ZERO,
                Access::ReadOnly,
            ) {
                Ok(copy) => copy,
                Err(d) => return fail(ui, d),
            };
            let state = match backend.read_state() {
                Ok(s) => s.unwrap_or_else(State::new),
                Err(e) => return fail(ui, super::apply::state_error(&e)),
            };
            if args.json {
                print_json(ui, &StateDocument::from_state(&state))
            } else if args.markdown {
                ui.data(&state_report(&StateDocument::from_state(&state)));
                ExitStatus::Success
            } else {
                ui.data(&crate::ui::state::render_state(&state));
                ExitStatus::Success
            }
        }
    }
}

fn print_json(ui: Ui, doc: &impl serde::Serialize) -> ExitStatus {
    match serde_json::to_string_pretty(doc) {
        Ok(text) => {
            ui.data(&text);
            ui.data("\n");
            ExitStatus::Success
        }
        Err(e) => fail(
            ui,
            crate::diagnostics::Diagnostic::error("cannot write the document as JSON")
                .with_detail(e.to_string()),
        ),
    }
}
