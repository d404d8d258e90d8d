//! Output to people and to CI: data on stdout, everything else on stderr; colour only on a
//! terminal and never with `NO_COLOR`; one JSON object per line under `--json`.

use crate::diagnostics::render::{render_human, render_json};
use crate::diagnostics::{Diagnostics, SourceMap};
use std::io::{IsTerminal, Write};

/// Where and how a command writes.
#[derive(Clone, Copy, Debug)]
pub struct Ui {
    pub json: bool,
    pub color: bool,
}

impl Ui {
    /// Colour when stderr is a terminal and neither `NO_COLOR` nor `--no-color` says otherwise.
    pub fn new(json: bool, no_color: bool) -> Ui {
        let color = !no_color
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stderr().is_terminal();
        Ui { json, color }
    }

    /// Whether data written to stdout may carry colour (stdout itself is a terminal).
    pub fn color_stdout(&self) -> bool {
        self.color && std::io::stdout().is_terminal()
    }

    /// Prints every diagnostic: snippets on stderr, or JSON lines on stdout.
    pub fn diagnostics(&self, diags: &Diagnostics, sources: &SourceMap) {
        // In source order, so a user can fix a file top to bottom.
        let mut sorted: Vec<&crate::diagnostics::Diagnostic> = diags.iter().collect();
        sorted.sort_by_key(|d| d.span.map(|s| (s.file, s.start)));
        if self.json {
            let mut out = std::io::stdout().lock();
            for d in sorted {
                let line = redact::scrub_known(&render_json(d, sources).to_string());
                let _ = writeln!(out, "{line}");
            }
            return;
        }
        let mut err = std::io::stderr().lock();
        for d in sorted {
            let text = redact::scrub_known(&render_human(d, sources, self.color));
            let _ = writeln!(err, "{text}\n");
        }
        let errors = diags.error_count();
        let warnings = diags.iter().count() - errors;
        if errors > 0 || warnings > 0 {
            let _ = writeln!(err, "{}", summary_line(errors, warnings));
        }
    }

    /// Writes one JSON object as a line on stdout.
    pub fn json_line(&self, value: &serde_json::Value) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{value}");
    }

    /// Writes data for the user on stdout.
    pub fn data(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
    }

    /// Writes a status message on stderr (scrubbed of every known secret).
    pub fn status(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}", redact::scrub_known(text));
    }
}

fn summary_line(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, w) => format!("{} emitted", plural(w, "warning")),
        (e, 0) => format!("found {}", plural(e, "error")),
        (e, w) => format!("found {} and {}", plural(e, "error"), plural(w, "warning")),
    }
}
pub mod diff;
pub mod markdown;
pub mod money;
pub mod plan;
pub mod redact;
pub mod state;
