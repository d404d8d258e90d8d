//! Live progress of an apply: a bar and one line per finished operation on a terminal
//! (indicatif), plain log lines otherwise, NDJSON under `--json`.

use crate::apply::executor::Event;
use crate::plan::Action;
use crate::ui::Ui;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::io::IsTerminal;

pub struct Progress {
    ui: Ui,
    bar: Option<ProgressBar>,
}

fn verb(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Create => ("Creating...", "Creation complete"),
        Action::Update => ("Modifying...", "Modifications complete"),
        Action::Delete => ("Destroying...", "Destruction complete"),
        Action::DeleteThenCreate | Action::CreateThenDelete => {
            ("Replacing...", "Replacement complete")
        }
        Action::Read => ("Reading...", "Read complete"),
        Action::NoOp => ("", ""),
    }
}

impl Progress {
    pub fn new(ui: Ui, total: usize) -> Progress {
        let bar = (!ui.json && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(u64::try_from(total).unwrap_or(0));
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Progress { ui, bar }
    }

    pub fn event(&self, e: &Event) {
        if self.ui.json {
            let line = match e {
                Event::Started { address, action } => {
                    json!({"type": "apply_start", "address": address, "action": action})
                }
                Event::Retrying {
                    address,
                    attempt,
                    error,
                    wait,
                } => {
                    json!({"type": "apply_retry", "address": address, "attempt": attempt, "error": error, "wait_ms": wait.as_millis() as u64})
                }
                Event::Finished {
                    address,
                    action,
                    elapsed,
                    id,
                } => {
                    json!({"type": "apply_complete_resource", "address": address, "action": action, "elapsed_ms": elapsed.as_millis() as u64, "id": id})
                }
                Event::Failed { address, error } => {
                    json!({"type": "apply_errored_resource", "address": address, "error": error})
                }
                Event::Skipped { address, because } => {
                    json!({"type": "apply_skipped", "address": address, "because": because})
                }
            };
            self.ui.json_line(&line);
            return;
        }
        let line = match e {
            Event::Started { address, action } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(address.clone());
                    return;
                }
                format!("{address}: {}", verb(*action).0)
            }
            Event::Retrying {
                address,
                attempt,
                error,
                wait,
            } => {
                format!(
                    "{address}: retrying (attempt {}) in {:.1}s after {error}",
                    attempt + 1,
                    wait.as_secs_f64()
                )
            }
            Event::Finished {
                address,
                action,
                elapsed,
                id,
            } => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                let id = id
                    .as_ref()
                    .map(|i| format!(" [id={i}]"))
                    .unwrap_or_default();
                format!(
                    "{address}: {} after {:.1}s{id}",
                    verb(*action).1,
                    elapsed.as_secs_f64()
                )
            }
            Event::Failed { address, error } => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                format!("{address}: failed: {error}")
            }
            Event::Skipped { address, because } => {
                format!("{address}: skipped because `{because}` failed")
            }
        };
        match &self.bar {
            Some(bar) => bar.println(line),
            None => self.ui.status(&line),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
