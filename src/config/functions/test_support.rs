//! Test helpers: a [`FnContext`] and shorthands to call functions through the registry (so
//! arity and unknown handling are exercised as the evaluator would).

use super::{call, lookup, FnContext, FnError};
use gantry_provider::Value;
use std::path::Path;

/// Renders templates by returning their text unchanged.
fn echo_template(text: &str, _vars: &Value) -> Result<Value, String> {
    Ok(Value::String(text.to_owned()))
}

/// A context rooted at `dir`, at apply time.
pub(super) fn context(dir: &Path) -> FnContext<'_> {
    FnContext {
        module_dir: dir,
        apply_time: true,
        render_template: &echo_template,
        catalog: crate::catalog::builtin(),
    }
}

/// Calls the function `name` in `dir`.
pub(super) fn call_in(dir: &Path, name: &str, args: Vec<Value>) -> Result<Value, FnError> {
    let def = lookup(name).ok_or_else(|| FnError::call(format!("no function {name}")))?;
    call(def, &context(dir), &args)
}

/// Calls the function `name` in the current directory.
pub(super) fn run(name: &str, args: Vec<Value>) -> Result<Value, FnError> {
    call_in(Path::new("."), name, args)
}

/// The message of a failed call, whatever its kind.
pub(super) fn error_message(result: Result<Value, FnError>) -> String {
    match result {
        Ok(v) => format!("unexpected success: {v}"),
        Err(FnError::Arg { message, .. } | FnError::Call(message)) => message,
        Err(FnError::Arity { expected, got }) => format!("arity: expected {expected}, got {got}"),
    }
}

/// A list of strings.
pub(super) fn strs(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::from(*s)).collect())
}

/// A list of numbers.
pub(super) fn nums(items: &[f64]) -> Value {
    Value::List(items.iter().map(|n| Value::from(*n)).collect())
}

/// A number.
pub(super) fn n(x: f64) -> Value {
    Value::from(x)
}

/// A string.
pub(super) fn s(x: &str) -> Value {
    Value::from(x)
}
