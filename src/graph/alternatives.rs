//! Evaluates a resource instance's `failover` alternatives: each one an object of argument
//! overrides, in the order the stack writes them (the `alternatives` list's objects where
//! the list stands among the `alternative` blocks).

use super::walk::eval_body;
use crate::config::eval::Evaluator;
use crate::config::model::Failover;
use crate::diagnostics::{Diagnostic, Span};
use gantry_provider::Value;

/// One evaluated alternative: the arguments it overrides, and where it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Alternative {
    pub overrides: std::collections::BTreeMap<String, Value>,
    /// The `alternative` block, or the `alternatives` expression.
    pub span: Span,
    /// Where each override is written, when it is an argument of a block.
    pub key_spans: std::collections::BTreeMap<String, Span>,
    /// `provider = aws.west` in the block: the provider configuration to create it with.
    pub provider: Option<crate::config::model::ProviderRef>,
}

impl Alternative {
    /// Where the override `key` is written (the alternative itself when not known).
    pub fn span_of(&self, key: &str) -> Span {
        self.key_spans.get(key).copied().unwrap_or(self.span)
    }
}

/// Evaluates every alternative of `failover` in the instance's scope. Values inside an
/// alternative may be unknown until apply (a subnet made in this apply); how many
/// alternatives there are must be known while planning, but not while validating
/// (`tolerate_unknown`), which reads no data source they may come from.
pub fn eval_alternatives(
    ev: &mut Evaluator<'_>,
    failover: &Failover,
    tolerate_unknown: bool,
) -> Result<Vec<Alternative>, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for block in &failover.alternatives {
        match eval_body(ev, &block.body) {
            Ok(Value::Map(overrides)) => out.push(Alternative {
                overrides,
                span: block.span,
                key_spans: block
                    .body
                    .attributes
                    .iter()
                    .map(|(k, a)| (k.clone(), a.span))
                    .collect(),
                provider: block.provider.clone(),
            }),
            Ok(_) => {}
            Err(e) => errors.extend(e),
        }
    }
    if let Some(expr) = &failover.alternatives_expr {
        // The list's alternatives go where the list is written among the blocks.
        let at = failover
            .alternatives
            .iter()
            .take_while(|b| (b.span.file.0, b.span.start) < (expr.span().file.0, expr.span().start))
            .count()
            .min(out.len());
        let mut listed = Vec::new();
        match ev.eval(expr).map(Value::unmark) {
            Ok((Value::List(items) | Value::Set(items), _)) => {
                for (i, item) in items.into_iter().enumerate() {
                    match item.unmark().0 {
                        Value::Map(overrides) => listed.push(Alternative {
                            overrides,
                            span: expr.span(),
                            key_spans: std::collections::BTreeMap::new(),
                            provider: None,
                        }),
                        other => errors.push(
                            Diagnostic::error(format!("alternative {i} is not an object"))
                                .with_span(expr.span())
                                .with_label(format!("got {}", other.type_name()))
                                .with_help("each alternative is an object of the arguments it overrides: `{ availability_zone = \"us-east-1b\" }`"),
                        ),
                    }
                }
            }
            Ok((Value::Unknown(_), _)) if tolerate_unknown => {}
            Ok((Value::Unknown(_), _)) => errors.push(
                Diagnostic::error("the failover alternatives are not known while planning")
                    .with_span(expr.span())
                    .with_help("derive `alternatives` from variables, locals or data sources known before apply; values inside an alternative may be known after apply"),
            ),
            Ok((other, _)) => errors.push(
                Diagnostic::error("`alternatives` must be a list of objects")
                    .with_span(expr.span())
                    .with_label(format!("got {}", other.type_name())),
            ),
            Err(d) => errors.push(d),
        }
        out.splice(at..at, listed);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}
