//! Custom conditions, as Terraform has them: `precondition` and `postcondition` blocks in a
//! resource's `lifecycle` (and a data source's), `precondition` in an output, and `check`
//! blocks' `assert`s. A false pre- or postcondition is an error that stops the object; a
//! false assertion is a warning. A condition whose value is unknown while planning is
//! checked again during apply, when it is known.

use super::scope::Scope;
use crate::config::eval::Evaluator;
use crate::config::model::Validation;
use crate::diagnostics::Diagnostic;
use gantry_provider::{Type, Value};
use std::path::Path;

/// Which kind of condition is checked: it names the failure as Terraform does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionKind {
    ResourcePrecondition,
    ResourcePostcondition,
    OutputPrecondition,
    CheckAssertion,
}

impl ConditionKind {
    fn summary(self) -> &'static str {
        match self {
            ConditionKind::ResourcePrecondition => "resource precondition failed",
            ConditionKind::ResourcePostcondition => "resource postcondition failed",
            ConditionKind::OutputPrecondition => "output precondition failed",
            ConditionKind::CheckAssertion => "check assertion failed",
        }
    }
}

/// What checking a list of conditions found.
#[derive(Debug, Default)]
pub struct Checked {
    /// One per false condition (warnings for assertions), and any evaluation error.
    pub diagnostics: Vec<Diagnostic>,
    /// Some condition could not be decided yet (unknown until apply).
    pub unknown: bool,
}

/// Evaluates `conditions` in `scope`. `subject` names what they guard (`aws_vpc.main`,
/// `output.endpoint`, `check.health`), for the diagnostic.
pub fn check(
    scope: &Scope<'_>,
    module_dir: &Path,
    conditions: &[Validation],
    kind: ConditionKind,
    subject: &str,
) -> Checked {
    let mut out = Checked::default();
    for rule in conditions {
        let mut ev = Evaluator::new(scope, module_dir);
        let value = match ev.eval(&rule.condition) {
            Ok(v) => v,
            Err(d) => {
                out.diagnostics.push(d.with_address(subject.to_owned()));
                continue;
            }
        };
        match value.unmarked().convert(&Type::Bool) {
            Ok(Value::Bool(true)) => {}
            Ok(Value::Unknown(_)) => out.unknown = true,
            Ok(Value::Bool(false)) => {
                let message = match ev.eval(&rule.error_message) {
                    Ok(Value::String(s)) => s,
                    Ok(Value::Unknown(_)) => {
                        "(the error message is known only after apply)".to_owned()
                    }
                    Ok(other) => other.to_string(),
                    Err(d) => d.summary,
                };
                let d = if kind == ConditionKind::CheckAssertion {
                    Diagnostic::warning(kind.summary())
                } else {
                    Diagnostic::error(kind.summary())
                };
                out.diagnostics.push(
                    d.with_span(rule.condition.span())
                        .with_label("this condition is false")
                        .with_detail(message)
                        .with_address(subject.to_owned()),
                );
            }
            _ => out.diagnostics.push(
                Diagnostic::error("invalid condition")
                    .with_span(rule.condition.span())
                    .with_label(format!("a bool is required, got {}", value.type_name()))
                    .with_address(subject.to_owned()),
            ),
        }
    }
    out
}
