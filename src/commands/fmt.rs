//! `gantry fmt`: rewrite `*.hcl` (and Terraform `*.tf`, `*.tfvars`) files in the canonical
//! format, or check that they are.

use super::ExitStatus;
use crate::cli::FmtArgs;
use crate::config::fmt::format_source;
use crate::config::load::parse_error;
use crate::diagnostics::{Diagnostic, Diagnostics, SourceMap};
use crate::ui::Ui;
use std::path::{Path, PathBuf};

pub fn run(args: &FmtArgs, ui: Ui) -> ExitStatus {
    let mut diags = Diagnostics::new();
    let mut sources = SourceMap::new();
    let files = match hcl_files(&args.path, args.recursive) {
        Ok(f) => f,
        Err(e) => {
            diags.push(
                Diagnostic::error(format!("cannot read `{}`", args.path.display()))
                    .with_detail(e.to_string()),
            );
            ui.diagnostics(&diags, &sources);
            return ExitStatus::Failure;
        }
    };
    let mut unformatted = 0;
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                diags.push(
                    Diagnostic::error(format!("cannot read `{}`", file.display()))
                        .with_detail(e.to_string()),
                );
                continue;
            }
        };
        let formatted = match format_source(&text) {
            Ok(f) => f,
            Err(e) => {
                let id = sources.add(&file, text.clone());
                diags.push(parse_error(&e, id, &text));
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        unformatted += 1;
        ui.data(&format!("{}\n", file.display()));
        if args.diff {
            let diff = similar::TextDiff::from_lines(&text, &formatted);
            let name = file.display().to_string();
            ui.data(
                &diff
                    .unified_diff()
                    .header(&format!("a/{name}"), &format!("b/{name}"))
                    .to_string(),
            );
        }
        if !args.check {
            if let Err(e) = write_atomically(&file, &formatted) {
                diags.push(
                    Diagnostic::error(format!("cannot write `{}`", file.display()))
                        .with_detail(e.to_string()),
                );
            }
        }
    }
    ui.diagnostics(&diags, &sources);
    if diags.has_errors() || (args.check && unformatted > 0) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

fn hcl_files(path: &Path, recursive: bool) -> std::io::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let p = entry?.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if p.is_dir() {
                if recursive && !name.starts_with('.') && name != "target" {
                    dirs.push(p);
                }
            } else if is_formattable(name) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Writes via a temporary file and rename, so an interrupted `fmt` never truncates a file.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("hcl.fmt-tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// The files `gantry fmt` formats: gantry's `*.hcl` and Terraform's `*.tf` and `*.tfvars`.
fn is_formattable(name: &str) -> bool {
    name.ends_with(".hcl") || name.ends_with(".tf") || name.ends_with(".tfvars")
}
