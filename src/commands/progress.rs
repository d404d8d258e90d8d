//! Live progress of an apply: on a terminal (indicatif), one live line per operation in
//! flight with its elapsed time under a total bar, and a line per finished operation; plain
//! log lines otherwise; NDJSON under `--json`. Off a terminal (a CI log), an operation that
//! takes a while says so at a steady interval (`Still creating... [1m0s elapsed]`, as
//! Terraform does), so a ten-minute file system create never looks like a hung job.

use crate::apply::executor::Event;
use crate::plan::failover::choice_name;
use crate::plan::Action;
use crate::ui::Ui;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a long operation reports that it is still going, off a terminal
/// (`GANTRY_PROGRESS_INTERVAL_MS` overrides it, for tests).
const STILL_GOING_EVERY: Duration = Duration::from_secs(10);

/// Operations in flight: what each is doing and since when.
type Running = Arc<Mutex<BTreeMap<String, (Action, Instant)>>>;

pub struct Progress {
    ui: Ui,
    bar: Option<ProgressBar>,
    multi: Option<MultiProgress>,
    in_flight: Mutex<HashMap<String, ProgressBar>>,
    running: Running,
    ticker: Mutex<Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>>,
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
        let running: Running = Arc::default();
        let ticker = multi.is_none().then(|| start_ticker(ui, running.clone()));
        Progress {
            ui,
            bar,
            multi,
            in_flight: Mutex::new(HashMap::new()),
            running,
            ticker: Mutex::new(ticker),
        }
    }

    /// Prints events as lines (or JSON), with no bar and no "still going" ticker: for the
    /// events of a command's own steps between applies (a module failing over).
    pub fn lines(ui: Ui) -> Progress {
        Progress {
            ui,
            bar: None,
            multi: None,
            in_flight: Mutex::new(HashMap::new()),
            running: Arc::default(),
            ticker: Mutex::new(None),
        }
    }

    fn track(&self, address: &str, action: Option<Action>) {
        let mut running = self
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match action {
            Some(a) => {
                running.insert(address.to_owned(), (a, Instant::now()));
            }
            None => {
                running.remove(address);
            }
        }
    }

    pub fn event(&self, e: &Event) {
        match e {
            Event::Started { address, action } => self.track(address, Some(*action)),
            Event::Finished { address, .. } | Event::Failed { address, .. } => {
                self.track(address, None);
            }
            _ => {}
        }
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
                Event::FailoverRefused {
                    address,
                    alternative,
                    label,
                    class,
                    code,
                    error,
                    location,
                } => {
                    json!({"type": "failover_refused", "address": address, "alternative": alternative, "label": label, "class": class, "code": code, "error": error, "location": location})
                }
                Event::WaitingForCapacity {
                    address,
                    round,
                    wait,
                } => {
                    json!({"type": "failover_waiting", "address": address, "round": round, "wait_ms": wait.as_millis() as u64})
                }
                Event::FailoverHeld {
                    address,
                    alternative,
                    label,
                    refused,
                } => {
                    json!({"type": "failover_held", "address": address, "alternative": alternative, "label": label, "refused": refused})
                }
                Event::ModuleFailoverRefused {
                    module,
                    alternative,
                    label,
                    address,
                    class,
                    code,
                    error,
                } => {
                    json!({"type": "module_failover_refused", "module": module, "alternative": alternative, "label": label, "address": address, "class": class, "code": code, "error": error})
                }
                Event::ModuleTearingDown {
                    module,
                    alternative,
                    count,
                } => {
                    json!({"type": "module_failover_teardown", "module": module, "alternative": alternative, "objects": count})
                }
                Event::ModuleWaitingForCapacity {
                    module,
                    round,
                    wait,
                } => {
                    json!({"type": "module_failover_waiting", "module": module, "round": round, "wait_ms": wait.as_millis() as u64})
                }
                Event::ModuleFailoverHeld {
                    module,
                    alternative,
                    label,
                    refused,
                } => {
                    json!({"type": "module_failover_held", "module": module, "alternative": alternative, "label": label, "refused": refused})
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
                self.done(address);
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
            Event::FailoverRefused {
                address,
                alternative,
                label,
                code,
                error,
                location,
                ..
            } => {
                let which = choice_name(*alternative, label);
                let code = code
                    .as_deref()
                    .map(|c| format!("{c}: "))
                    .unwrap_or_default();
                let place = location
                    .as_deref()
                    .map(|l| format!(" in {l}"))
                    .unwrap_or_default();
                format!("{address}: {which} refused{place}: {code}{error}")
            }
            Event::WaitingForCapacity {
                address,
                round,
                wait,
            } => format!(
                "{address}: no capacity anywhere it may go; round {} in {:.1}s",
                round + 1,
                wait.as_secs_f64()
            ),
            Event::FailoverHeld {
                address,
                alternative,
                label,
                refused,
            } => {
                let which = match alternative {
                    0 => choice_name(0, label),
                    _ => format!("with failover {}", choice_name(*alternative, label)),
                };
                format!(
                    "{address}: created {which} after {refused} refusal{}",
                    if *refused == 1 { "" } else { "s" }
                )
            }
            Event::ModuleFailoverRefused {
                module,
                alternative,
                label,
                address,
                code,
                error,
                ..
            } => {
                let code = code
                    .as_deref()
                    .map(|c| format!("{c}: "))
                    .unwrap_or_default();
                format!(
                    "{module}: {} refused at `{address}`: {code}{error}",
                    choice_name(*alternative, label)
                )
            }
            Event::ModuleTearingDown {
                module,
                alternative,
                count,
            } => format!(
                "{module}: tearing down the {count} object{} {} made",
                if *count == 1 { "" } else { "s" },
                if *alternative == 0 {
                    "the module as written".to_owned()
                } else {
                    format!("alternative {alternative}")
                }
            ),
            Event::ModuleWaitingForCapacity {
                module,
                round,
                wait,
            } => format!(
                "{module}: no alternative has capacity; round {} in {:.1}s",
                round + 1,
                wait.as_secs_f64()
            ),
            Event::ModuleFailoverHeld {
                module,
                alternative,
                label,
                refused,
            } => format!(
                "{module}: placed as {} after {refused} refused alternative{}",
                choice_name(*alternative, label),
                if *refused == 1 { "" } else { "s" }
            ),
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
        let ticker = self
            .ticker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some((stop, handle)) = ticker {
            drop(stop);
            let _ = handle.join();
        }
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

/// Every interval, one line per operation running longer than it: `aws_fsx_lustre_file_system.data:
/// Still creating... [1m0s elapsed]` (a JSON `apply_progress` object under `--json`).
fn start_ticker(ui: Ui, running: Running) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let every = std::env::var("GANTRY_PROGRESS_INTERVAL_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map_or(STILL_GOING_EVERY, Duration::from_millis);
    let (stop, stopped) = mpsc::channel::<()>();
    let handle = std::thread::spawn(move || {
        // The channel disconnects when the apply finishes.
        while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
            let now: Vec<(String, Action, Duration)> = running
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .iter()
                .map(|(a, (action, since))| (a.clone(), *action, since.elapsed()))
                .filter(|(_, _, elapsed)| *elapsed >= every)
                .collect();
            for (address, action, elapsed) in now {
                if ui.json {
                    ui.json_line(&json!({"type": "apply_progress", "address": address,
                        "action": action, "elapsed_seconds": elapsed.as_secs()}));
                } else {
                    ui.status(&format!(
                        "{address}: {} [{} elapsed]",
                        still(action),
                        elapsed_text(elapsed)
                    ));
                }
            }
        }
    });
    (stop, handle)
}

fn still(action: Action) -> &'static str {
    match action {
        Action::Create => "Still creating...",
        Action::Update => "Still modifying...",
        Action::Delete => "Still destroying...",
        Action::Read => "Still reading...",
        _ => "Still working...",
    }
}

/// `1m0s`, `45s`, `1h2m3s`: Terraform's elapsed format.
fn elapsed_text(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_reads_like_terraform() {
        assert_eq!(elapsed_text(Duration::from_secs(45)), "45s");
        assert_eq!(elapsed_text(Duration::from_secs(60)), "1m0s");
        assert_eq!(elapsed_text(Duration::from_secs(3723)), "1h2m3s");
    }
}
