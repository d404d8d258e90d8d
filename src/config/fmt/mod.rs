//! Canonical formatting of HCL source: the engine behind `gantry fmt`.
//!
//! The output is meant to be what `terraform fmt` would produce, so that stacks look familiar and
//! diffs stay quiet for teams used to Terraform: two-space indentation by bracket depth, one
//! space around `=`, the `=` of adjacent single-line attributes (and of adjacent items of a
//! multi-line object) aligned, adjacent trailing comments aligned, and spacing normalised around
//! operators, commas and brackets (`[ a,b ]` becomes `[a, b]`). On top of that, runs of blank
//! lines collapse to one, blank lines at the start and end of a body are dropped, and the output
//! ends with exactly one line feed.
//!
//! # Approach
//!
//! Formatting only ever changes whitespace *between* tokens; every token is copied verbatim, so
//! comments are kept where they are and content can never be lost or reordered:
//!
//! 1. The source is parsed with `hcl_edit`, which rejects invalid input and reports where each
//!    string literal, template and heredoc lies. Those are data and stay byte-for-byte as written
//!    (including escapes and heredoc indentation).
//! 2. `lexer` cuts the source into tokens, each of those literals being one opaque token.
//! 3. `layout` decides the whitespace line by line, following the model of HashiCorp's
//!    `hclwrite` formatter, which is itself token- and line-based: that is why this works on
//!    tokens rather than rewriting `hcl_edit`'s per-node whitespace (which would also re-encode
//!    string literals from their parsed value).
//!
//! Every decision depends only on the tokens and their line breaks, which formatting keeps, so
//! formatting is idempotent.
//!
//! # Differences from `terraform fmt`
//!
//! - Quoted templates and heredocs are kept exactly as written; `terraform fmt` also normalises
//!   spacing inside `${ ... }` and `%{ ... }`.
//! - `terraform fmt` keeps blank lines as they are; the blank-line tidying above is ours.
//! - Terraform-specific rewrites are not done (`"${var.x}"` to `var.x`, `type = "string"` to
//!   `type = string`).
//! - Alignment counts characters where `terraform fmt` counts grapheme clusters, which only
//!   differs for combining characters and emoji sequences.
//! - Two spacing heuristics are corrected: `"ab"[0]` rather than `"ab" [0]`, and a `-` after
//!   `=>`, `in` or `if` is a negation (`k => -v` rather than `k => - v`).

mod layout;
mod lexer;
#[cfg(test)]
mod tests;

/// Formats HCL source canonically (see the [module docs](self)).
///
/// # Errors
///
/// Returns the parse error if `src` is not valid HCL; the caller renders it.
pub fn format_source(src: &str) -> Result<String, hcl_edit::parser::Error> {
    let body = hcl_edit::parser::parse_body(src)?;
    let literals = lexer::literal_spans(&body);
    let tokens = lexer::tokenize(src, &literals);
    Ok(layout::render(tokens))
}
