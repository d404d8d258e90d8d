//! Live progress of an apply: on a terminal (indicatif), one live line per operation in
//! flight with its elapsed time under a total bar, and a line per finished operation; plain
//! log lines otherwise; NDJSON under `--json`.

use crate::apply::executor::Event;
use crate::plan::Action;
use crate::ui::Ui;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

pub struct Progress {
    ui: Ui,
    bar: Option<ProgressBar>,
    multi: Option<MultiProgress>,
    in_flight: Mutex<HashMap<String, ProgressBar>>,
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
        let multi = (!ui.json && std::io::stderr().is_terminal()).then(MultiProgress::new);
        let bar = multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new(u64::try_from(total).unwrap_or(0)));
            if let Ok(style) =
                ProgressStyle::with_template("[{elapsed_precise}] {bar:30} {pos}/{len}")
            {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            ui,
            bar,
            multi,
            in_flight: Mutex::new(HashMap::new()),
        }
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
                if let Some(multi) = &self.multi {
                    let line = multi.add(ProgressBar::new_spinner());
                    if let Ok(style) = ProgressStyle::with_template("  {spinner} {msg} [{elapsed}]")
                    {
                        line.set_style(style);
                    }
                    line.set_message(format!("{address}: {}", verb(*action).0));
                    line.enable_steady_tick(std::time::Duration::from_millis(120));
                    if let Ok(mut map) = self.in_flight.lock() {
                        map.insert(address.clone(), line);
                    }
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
                self.done(address);
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                format!("{address}: failed: {error}")
            }
            Event::Skipped { address, because } => {
                format!("{address}: skipped because `{because}` failed")
            }
        };
        match &self.multi {
            Some(multi) => {
                let _ = multi.println(line);
            }
            None => self.ui.status(&line),
        }
    }

    /// Removes an operation's live line.
    fn done(&self, address: &str) {
        let line = self
            .in_flight
            .lock()
            .ok()
            .and_then(|mut m| m.remove(address));
        if let (Some(line), Some(multi)) = (line, &self.multi) {
            line.finish_and_clear();
            multi.remove(&line);
        }
    }

    pub fn finish(&self) {
        if let Ok(mut map) = self.in_flight.lock() {
            for (_, line) in map.drain() {
                line.finish_and_clear();
            }
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
