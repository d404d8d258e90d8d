//! Drawing diagnostics: rustc-style snippets for people (`--> file:line:col`, the source
//! line, a caret, `help:`), one JSON object per diagnostic for CI.

use super::{Diagnostic, Severity, SourceMap, Span};
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde_json::json;

/// How many lines of a multi-line span are shown before eliding.
const MAX_SNIPPET_LINES: usize = 6;

/// Renders one diagnostic for a terminal or a log. `styled` adds ANSI colour.
pub fn render_human(diag: &Diagnostic, sources: &SourceMap, styled: bool) -> String {
    let level = match diag.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let title = level.primary_title(diag.summary.as_str());
    let mut group = Group::with_title(title);

    let primary = diag
        .span
        .and_then(|span| snippet_for(sources, span, diag.label.as_deref()));
    let mut located = primary.is_some();
    if let Some(snippet) = primary {
        group = group.element(snippet);
    }
    for (span, note) in &diag.notes {
        if let Some(snippet) = snippet_for_note(sources, *span, note) {
            located = true;
            group = group.element(snippet);
        }
    }
    if let Some(detail) = &diag.detail {
        group = group.element(Level::NOTE.message(detail.as_str()));
    }
    if let Some(address) = diag
        .address
        .as_ref()
        .filter(|_| !located || diag.span.is_none())
    {
        group = group.element(Level::NOTE.message(format!("in `{address}`")));
    }
    if let Some(help) = &diag.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    let renderer = if styled {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    renderer.render(&[group])
}

fn snippet_for<'a>(
    sources: &'a SourceMap,
    span: Span,
    label: Option<&'a str>,
) -> Option<Snippet<'a, annotate_snippets::Annotation<'a>>> {
    let (snippet, range) = excerpt(sources, span)?;
    let mut annotation = AnnotationKind::Primary.span(range);
    if let Some(label) = label {
        annotation = annotation.label(label);
    }
    Some(snippet.annotation(annotation))
}

fn snippet_for_note<'a>(
    sources: &'a SourceMap,
    span: Span,
    note: &'a str,
) -> Option<Snippet<'a, annotate_snippets::Annotation<'a>>> {
    let (snippet, range) = excerpt(sources, span)?;
    Some(snippet.annotation(AnnotationKind::Context.span(range).label(note)))
}

/// The lines a span covers (at most [`MAX_SNIPPET_LINES`]), and the span relative to them.
fn excerpt(
    sources: &SourceMap,
    span: Span,
) -> Option<(
    Snippet<'_, annotate_snippets::Annotation<'_>>,
    std::ops::Range<usize>,
)> {
    let file = sources.get(span.file)?;
    let (first_line, _) = file.line_col(span.start);
    let (mut last_line, _) = file.line_col(span.end.max(span.start + 1) - 1);
    last_line = last_line
        .min(first_line + MAX_SNIPPET_LINES - 1)
        .max(first_line);
    let start = file.line_range(first_line).start;
    let end = file.line_range(last_line).end;
    let text = file.text.get(start..end)?;
    let rel_start = (span.start as usize).saturating_sub(start).min(text.len());
    let rel_end = (span.end as usize)
        .saturating_sub(start)
        .clamp(rel_start, text.len());
    let snippet = Snippet::source(text)
        .line_start(first_line)
        .path(file.display_path.as_str())
        .fold(false);
    Some((snippet, rel_start..rel_end))
}

/// Renders one diagnostic as a JSON object (one line of `--json` output).
pub fn render_json(diag: &Diagnostic, sources: &SourceMap) -> serde_json::Value {
    let range = diag.span.and_then(|span| {
        let file = sources.get(span.file)?;
        let (line, column) = file.line_col(span.start);
        let (end_line, end_column) = file.line_col(span.end);
        let code = file.text.get(file.line_range(line)).unwrap_or("");
        Some(json!({
            "filename": file.display_path,
            "start": { "line": line, "column": column, "byte": span.start },
            "end": { "line": end_line, "column": end_column, "byte": span.end },
            "code": code,
        }))
    });
    json!({
        "type": "diagnostic",
        "severity": diag.severity,
        "summary": diag.summary,
        "detail": diag.detail,
        "label": diag.label,
        "address": diag.address,
        "range": range,
        "help": diag.help,
        "notes": diag.notes.iter().map(|(span, note)| json!({
            "location": sources.location(*span),
            "note": note,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn renders_rustc_style_snippet_with_help() {
        let mut sources = SourceMap::new();
        let src = "variable \"a\" {}\n\nresource \"x\" \"y\" {\n  cidr = var.vpc_cdir\n}\n";
        let id = sources.add(Path::new("net.hcl"), src.to_owned());
        let start = src.find("var.vpc").unwrap_or(0);
        let diag = Diagnostic::error("reference to undeclared input variable")
            .with_span(Span::new(id, start..start + 12))
            .with_label("no variable named `vpc_cdir`")
            .with_help("did you mean `var.vpc_cidr`?");
        let out = render_human(&diag, &sources, false);
        assert!(out.contains("--> net.hcl:4:10"), "{out}");
        assert!(out.contains("4 |   cidr = var.vpc_cdir"), "{out}");
        assert!(
            out.contains("^^^^^^^^^^^^ no variable named `vpc_cdir`"),
            "{out}"
        );
        assert!(out.contains("help: did you mean `var.vpc_cidr`?"), "{out}");
        let json = render_json(&diag, &sources);
        assert_eq!(json["range"]["start"]["line"], 4);
        assert_eq!(json["range"]["code"], "  cidr = var.vpc_cdir");
    }
}
