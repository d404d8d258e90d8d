//! Tokeniser for the formatter.
//!
//! The formatter only ever changes the whitespace *between* tokens, so the tokeniser's one job is
//! to cut the source into tokens whose text is copied verbatim into the output. String literals,
//! quoted templates and heredocs are never looked into: the parser has already located them (see
//! [`literal_spans`]) and each becomes a single [`Kind::Literal`] token, which keeps their content
//! byte-for-byte and spares this module from re-implementing HCL's template grammar.

use hcl_edit::expr::Expression;
use hcl_edit::structure::{BlockLabel, Body};
use hcl_edit::visit::{visit_expr, Visit};
use hcl_edit::Span;
use std::ops::Range;

/// What a token is, as far as spacing, indentation and alignment care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Identifier or keyword (`for`, `in`, `true`, ...); HCL identifiers may contain `-`.
    Ident,
    Number,
    /// A quoted string, quoted template or heredoc, kept verbatim.
    Literal,
    /// `# ...` or `// ...`, without its line ending.
    LineComment,
    /// `/* ... */`, possibly spanning several lines.
    BlockComment,
    Newline,
    OBrace,
    CBrace,
    OBrack,
    CBrack,
    OParen,
    CParen,
    /// `=` of an attribute or object item.
    Equal,
    FatArrow,
    EqualOp,
    NotEqual,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Bang,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Question,
    Colon,
    DoubleColon,
    Comma,
    Dot,
    Ellipsis,
    /// Anything else; only reachable for input the parser rejects.
    Other,
}

impl Kind {
    /// +1 for an opening bracket, -1 for a closing one, 0 otherwise.
    pub(super) fn bracket_change(self) -> isize {
        match self {
            Kind::OBrace | Kind::OBrack | Kind::OParen => 1,
            Kind::CBrace | Kind::CBrack | Kind::CParen => -1,
            _ => 0,
        }
    }
}

/// One token: its kind and its exact source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Token<'a> {
    pub(super) kind: Kind,
    pub(super) text: &'a str,
}

impl Token<'_> {
    /// Display width in columns, used for alignment.
    pub(super) fn width(&self) -> usize {
        self.text.chars().count()
    }

    /// Whether this is the keyword `in` (of a `for` expression).
    pub(super) fn is_in_keyword(&self) -> bool {
        self.kind == Kind::Ident && self.text == "in"
    }
}

/// Byte ranges of every string literal, template and heredoc in `body`, sorted by start.
///
/// Ranges never nest: the walk does not descend into a literal once found.
pub(super) fn literal_spans(body: &Body) -> Vec<Range<usize>> {
    let mut collector = LiteralSpans::default();
    collector.visit_body(body);
    let mut spans = collector.spans;
    spans.sort_by_key(|span| span.start);
    spans
}

#[derive(Default)]
struct LiteralSpans {
    spans: Vec<Range<usize>>,
}

impl LiteralSpans {
    fn push(&mut self, span: Option<Range<usize>>) {
        if let Some(span) = span {
            self.spans.push(span);
        }
    }
}

impl Visit for LiteralSpans {
    fn visit_expr(&mut self, expr: &Expression) {
        match expr {
            Expression::String(_)
            | Expression::StringTemplate(_)
            | Expression::HeredocTemplate(_) => self.push(expr.span()),
            _ => visit_expr(self, expr),
        }
    }

    fn visit_block_label(&mut self, label: &BlockLabel) {
        if let BlockLabel::String(string) = label {
            self.push(string.span());
        }
    }
}

/// Multi-character operators, longest first so that `...` wins over `.`.
const OPERATORS: &[(&str, Kind)] = &[
    ("...", Kind::Ellipsis),
    ("==", Kind::EqualOp),
    ("!=", Kind::NotEqual),
    ("<=", Kind::Le),
    (">=", Kind::Ge),
    ("&&", Kind::And),
    ("||", Kind::Or),
    ("=>", Kind::FatArrow),
    ("::", Kind::DoubleColon),
    ("{", Kind::OBrace),
    ("}", Kind::CBrace),
    ("[", Kind::OBrack),
    ("]", Kind::CBrack),
    ("(", Kind::OParen),
    (")", Kind::CParen),
    ("=", Kind::Equal),
    ("<", Kind::Lt),
    (">", Kind::Gt),
    ("!", Kind::Bang),
    ("+", Kind::Plus),
    ("-", Kind::Minus),
    ("*", Kind::Star),
    ("/", Kind::Slash),
    ("%", Kind::Percent),
    ("?", Kind::Question),
    (":", Kind::Colon),
    (",", Kind::Comma),
    (".", Kind::Dot),
];

/// Cuts `src` into tokens. Whitespace other than line feeds is dropped (it is recomputed by the
/// layout); `literals` are the spans from [`literal_spans`].
pub(super) fn tokenize<'a>(src: &'a str, literals: &[Range<usize>]) -> Vec<Token<'a>> {
    let mut lexer = Lexer {
        src,
        pos: 0,
        literals,
        tokens: Vec::new(),
    };
    lexer.run();
    lexer.tokens
}

struct Lexer<'a, 'l> {
    src: &'a str,
    pos: usize,
    /// Literal spans not yet reached, sorted by start.
    literals: &'l [Range<usize>],
    tokens: Vec<Token<'a>>,
}

impl<'a> Lexer<'a, '_> {
    fn run(&mut self) {
        while let Some(ch) = self.rest().chars().next() {
            if let Some(end) = self.literal_at_pos() {
                self.emit(Kind::Literal, end);
                continue;
            }
            match ch {
                ' ' | '\t' | '\r' => self.pos += 1,
                '\n' => self.emit(Kind::Newline, self.pos + 1),
                '#' => self.line_comment(),
                '/' if self.rest().starts_with("//") => self.line_comment(),
                '/' if self.rest().starts_with("/*") => self.block_comment(),
                '"' => self.unlocated_string(),
                c if c.is_ascii_digit() => self.number(),
                c if is_ident_start(c) => self.ident(),
                _ => self.operator(ch),
            }
        }
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or_default()
    }

    fn emit(&mut self, kind: Kind, end: usize) {
        let end = end.clamp(self.pos, self.src.len());
        let text = self.src.get(self.pos..end).unwrap_or_default();
        self.tokens.push(Token { kind, text });
        self.pos = end;
    }

    /// The end of the literal starting exactly here, if any; skips spans already passed.
    fn literal_at_pos(&mut self) -> Option<usize> {
        while let Some((first, rest)) = self.literals.split_first() {
            if first.start > self.pos {
                return None;
            }
            self.literals = rest;
            if first.start == self.pos {
                return Some(first.end);
            }
        }
        None
    }

    fn line_comment(&mut self) {
        let len = self.rest().find('\n').unwrap_or(self.rest().len());
        let text = self
            .rest()
            .get(..len)
            .unwrap_or_default()
            .trim_end_matches([' ', '\t', '\r']);
        self.emit(Kind::LineComment, self.pos + text.len());
        // The trailing whitespace just trimmed is skipped by the main loop.
    }

    fn block_comment(&mut self) {
        let len = self
            .rest()
            .get(2..)
            .and_then(|body| body.find("*/"))
            .map_or(
                self.rest().len(),
                |close| close + 4, // "/*" + body + "*/"
            );
        self.emit(Kind::BlockComment, self.pos + len);
    }

    /// A quoted string the parser did not report a span for. Every literal in input that parsed
    /// has a span, so this is a best-effort guard: it runs to the next unescaped quote on the line.
    fn unlocated_string(&mut self) {
        let mut escaped = false;
        let mut len = self.rest().len();
        for (i, c) in self.rest().char_indices().skip(1) {
            match c {
                '\n' => {
                    len = i;
                    break;
                }
                '"' if !escaped => {
                    len = i + 1;
                    break;
                }
                _ => {}
            }
            escaped = c == '\\' && !escaped;
        }
        self.emit(Kind::Literal, self.pos + len);
    }

    /// `123`, `1.5`, `1e10`, `2.5E-3`.
    fn number(&mut self) {
        let bytes = self.rest().as_bytes();
        let digits_from = |mut i: usize| {
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        let mut len = digits_from(0);
        if bytes.get(len) == Some(&b'.') && bytes.get(len + 1).is_some_and(u8::is_ascii_digit) {
            len = digits_from(len + 1);
        }
        if matches!(bytes.get(len), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(bytes.get(len + 1), Some(b'+' | b'-')));
            if bytes.get(len + 1 + sign).is_some_and(u8::is_ascii_digit) {
                len = digits_from(len + 1 + sign);
            }
        }
        self.emit(Kind::Number, self.pos + len);
    }

    fn ident(&mut self) {
        let len = self
            .rest()
            .char_indices()
            .find(|&(_, c)| !is_ident_continue(c))
            .map_or(self.rest().len(), |(i, _)| i);
        self.emit(Kind::Ident, self.pos + len);
    }

    fn operator(&mut self, ch: char) {
        let rest = self.rest();
        let (len, kind) = OPERATORS
            .iter()
            .find(|(op, _)| rest.starts_with(op))
            .map_or((ch.len_utf8(), Kind::Other), |&(op, kind)| (op.len(), kind));
        self.emit(kind, self.pos + len);
    }
}

/// Outside literals and comments, non-ASCII text can only be part of an identifier, so it is
/// treated as such (the parser has already checked the finer Unicode rules).
fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || !c.is_ascii()
}

fn is_ident_continue(c: char) -> bool {
    is_ident_start(c) || c.is_ascii_digit() || c == '-'
}
