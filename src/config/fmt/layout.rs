//! Line layout: blank lines, indentation, spacing between tokens, and alignment.
//!
//! This follows the model of HashiCorp's `hclwrite` formatter (what `terraform fmt` runs), so
//! that files formatted by either tool look the same:
//!
//! - Indentation is two spaces per bracket level still open at the start of a line. A line that
//!   opens several brackets at once (`foo = [{`) indents what follows by one level only, and the
//!   matching closers are remembered as a group so they dedent by one level too.
//! - Each line is cut into up to three cells: the *lead*, an *assign* cell starting at the first
//!   `=` when what follows it is a complete expression (its brackets balance), and a trailing
//!   line comment. The `=` of consecutive lines that have an assign cell are aligned one column
//!   past the longest lead; the trailing comments of consecutive lines are aligned the same way.
//!   Anything else (a blank line, a block header, the first line of a multi-line value, a
//!   comment on its own line) ends the run.
//! - Within a cell, spaces between tokens are decided pairwise by [`space_after`].

use super::lexer::{Kind, Token};
use std::ops::Range;

/// Lays out `tokens` and renders them; the result ends with exactly one line feed, or is empty
/// when there are no tokens other than line feeds.
pub(super) fn render(tokens: Vec<Token<'_>>) -> String {
    let mut lines: Vec<Line<'_>> = tidy_blank_lines(split_lines(tokens))
        .into_iter()
        .map(Line::new)
        .collect();
    indent(&mut lines);
    for line in &mut lines {
        line.space_cells();
    }
    align(&mut lines, |line| line.assign);
    align(&mut lines, |line| line.comment);

    let mut out = String::new();
    for line in &lines {
        line.write_to(&mut out);
    }
    out
}

/// Splits on line feeds, dropping them. An empty list is a blank line. A literal or block
/// comment spanning several source lines stays inside the line it starts on.
fn split_lines(tokens: Vec<Token<'_>>) -> Vec<Vec<Token<'_>>> {
    let mut lines = Vec::new();
    let mut current = Vec::new();
    for token in tokens {
        if token.kind == Kind::Newline {
            lines.push(std::mem::take(&mut current));
        } else {
            current.push(token);
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// Drops blank lines at the start and end of the file and of every bracketed body, and
/// collapses runs of blank lines into one.
fn tidy_blank_lines(lines: Vec<Vec<Token<'_>>>) -> Vec<Vec<Token<'_>>> {
    let mut out: Vec<Vec<Token<'_>>> = Vec::with_capacity(lines.len());
    for line in lines {
        if line.is_empty() {
            let after_content = out
                .last()
                .is_some_and(|prev| !prev.is_empty() && net_brackets(prev) <= 0);
            if after_content {
                out.push(line);
            }
        } else {
            let closes_body = line.first().is_some_and(|t| t.kind.bracket_change() < 0);
            if closes_body && out.last().is_some_and(Vec::is_empty) {
                out.pop();
            }
            out.push(line);
        }
    }
    while out.last().is_some_and(Vec::is_empty) {
        out.pop();
    }
    out
}

fn net_brackets(tokens: &[Token<'_>]) -> isize {
    tokens.iter().map(|t| t.kind.bracket_change()).sum()
}

/// One output line: its tokens, the spaces to write before each, and its cells.
struct Line<'a> {
    tokens: Vec<Token<'a>>,
    /// `spaces[i]` spaces are written before `tokens[i]`; `spaces[0]` is the indentation.
    spaces: Vec<usize>,
    /// Index of the `=` opening the assign cell.
    assign: Option<usize>,
    /// Index of the trailing line comment (only when something precedes it).
    comment: Option<usize>,
}

impl<'a> Line<'a> {
    fn new(tokens: Vec<Token<'a>>) -> Self {
        let len = tokens.len();
        let comment = match tokens.as_slice() {
            [_, .., last] if last.kind == Kind::LineComment => Some(len - 1),
            _ => None,
        };
        let lead_end = comment.unwrap_or(len);
        let assign = find_assign(&tokens[..lead_end]);
        Line {
            spaces: vec![0; len],
            tokens,
            assign,
            comment,
        }
    }

    /// The cells as token index ranges: lead, then assign and comment when present.
    fn cells(&self) -> [Option<Range<usize>>; 3] {
        let len = self.tokens.len();
        let comment_start = self.comment.unwrap_or(len);
        let lead_end = self.assign.unwrap_or(comment_start);
        [
            Some(0..lead_end),
            self.assign.map(|start| start..comment_start),
            self.comment.map(|start| start..len),
        ]
    }

    /// Sets the spaces between the tokens of each cell. The first token of the lead keeps its
    /// indentation; the first tokens of the other cells are set by [`align`].
    fn space_cells(&mut self) {
        for cell in self.cells().into_iter().flatten() {
            for i in cell.start..cell.end.saturating_sub(1) {
                let before = (i > cell.start).then(|| self.tokens[i - 1]);
                self.spaces[i + 1] =
                    usize::from(space_after(before, self.tokens[i], self.tokens[i + 1]));
            }
        }
    }

    /// Columns taken by the tokens before index `end`, spaces included.
    fn columns_before(&self, end: usize) -> usize {
        let spaces: usize = self.spaces[..end].iter().sum();
        let widths: usize = self.tokens[..end].iter().map(Token::width).sum();
        spaces + widths
    }

    fn write_to(&self, out: &mut String) {
        for (token, &spaces) in self.tokens.iter().zip(&self.spaces) {
            out.extend(std::iter::repeat_n(' ', spaces));
            out.push_str(token.text);
        }
        out.push('\n');
    }
}

/// The index of the first `=` after the first token, if the tokens from it on are a complete
/// expression; a value that opens a multi-line bracket is not aligned.
fn find_assign(lead: &[Token<'_>]) -> Option<usize> {
    let equal = lead.iter().skip(1).position(|t| t.kind == Kind::Equal)? + 1;
    (net_brackets(&lead[equal..]) == 0).then_some(equal)
}

/// Sets each line's indentation from the brackets opened and closed by the lines before it.
///
/// `levels` holds, per indentation level, how many brackets opened it; a closing line pops
/// whole levels and eats into a partially closed one, so asymmetric input such as
/// `foo = [{` ... `}]` neither drifts right nor left.
fn indent(lines: &mut [Line<'_>]) {
    let mut levels: Vec<isize> = Vec::new();
    for line in lines.iter_mut() {
        let Some(first) = line.spaces.first_mut() else {
            continue;
        };
        let net = net_brackets(&line.tokens);
        if net < 0 {
            close_levels(&mut levels, -net);
        }
        *first = 2 * levels.len();
        if net > 0 {
            levels.push(net);
        }
    }
}

fn close_levels(levels: &mut Vec<isize>, mut closed: isize) {
    while closed > 0 {
        let Some(top) = levels.last_mut() else {
            return;
        };
        if closed < *top {
            *top -= closed;
            return;
        }
        closed -= *top;
        levels.pop();
    }
}

/// Aligns the cell picked by `cell` across each run of consecutive lines that have one: its
/// first token is placed one column past the widest text preceding it in the run.
fn align(lines: &mut [Line<'_>], cell: fn(&Line<'_>) -> Option<usize>) {
    for run in lines.split_mut(|line| cell(line).is_none()) {
        let widest = run
            .iter()
            .filter_map(|line| cell(line).map(|start| line.columns_before(start)))
            .max()
            .unwrap_or(0);
        for line in run {
            if let Some(start) = cell(line) {
                line.spaces[start] = widest - line.columns_before(start) + 1;
            }
        }
    }
}

/// Whether a space goes between `subject` and the `after` token that follows it on the same
/// line and in the same cell; `before` precedes `subject` in that cell.
///
/// These are hclwrite's rules in hclwrite's order (the first that applies wins), with two
/// corrections to its heuristics: a string literal is indexed without a space (`"ab"[0]`, where
/// hclwrite writes `"ab" [0]`), and a `-` after `=>`, `in` or `if` is a negation (`k => -v`,
/// where hclwrite writes `k => - v`).
fn space_after(before: Option<Token<'_>>, subject: Token<'_>, after: Token<'_>) -> bool {
    let (s, a) = (subject.kind, after.kind);
    if is_tight_pair(s, a) {
        return false;
    }
    if s == Kind::Comma {
        return true;
    }
    if subject.is_in_keyword() && before.is_some_and(|b| b.kind == Kind::Ident) {
        // `for x in [a, b]`: `in` is the keyword here, not a value being indexed.
        return true;
    }
    if a == Kind::OBrack
        && (matches!(s, Kind::Ident | Kind::Number | Kind::Literal) || s.bracket_change() < 0)
    {
        // Index: `foo[0]`, `f()[0]`, `[a][0]`, `"ab"[0]`.
        return false;
    }
    if s == Kind::Bang {
        return false;
    }
    if s == Kind::Minus {
        return !is_unary_minus(before);
    }
    if s == Kind::OBrace || a == Kind::CBrace {
        // `{ a = 1 }` has inner spaces, but an empty `{}` has none.
        return !(s == Kind::OBrace && a == Kind::CBrace);
    }
    // No space inside other brackets: `(a)`, `[a]`.
    s.bracket_change() <= 0 && a.bracket_change() >= 0
}

/// Pairs never separated: a function name and its `(`, namespace `::`, attribute access `.`,
/// and anything before `,` or `...`.
fn is_tight_pair(s: Kind, a: Kind) -> bool {
    (s == Kind::Ident && matches!(a, Kind::OParen | Kind::DoubleColon))
        || (s == Kind::DoubleColon && a == Kind::Ident)
        || s == Kind::Dot
        || matches!(a, Kind::Dot | Kind::Comma | Kind::Ellipsis)
}

/// A `-` is taken as negation (written `-x`) when nothing that could end an operand precedes it.
fn is_unary_minus(before: Option<Token<'_>>) -> bool {
    before.is_none_or(|b| {
        b.is_in_keyword()
            || (b.kind == Kind::Ident && b.text == "if")
            || matches!(
                b.kind,
                Kind::OParen
                    | Kind::OBrace
                    | Kind::OBrack
                    | Kind::Equal
                    | Kind::Colon
                    | Kind::Comma
                    | Kind::Question
                    | Kind::FatArrow
                    | Kind::Plus
                    | Kind::Minus
                    | Kind::Star
                    | Kind::Slash
                    | Kind::Percent
                    | Kind::EqualOp
                    | Kind::NotEqual
                    | Kind::Lt
                    | Kind::Le
                    | Kind::Gt
                    | Kind::Ge
                    | Kind::And
                    | Kind::Or
                    | Kind::Bang
            )
    })
}
