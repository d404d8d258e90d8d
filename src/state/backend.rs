//! The stack's `backend "<kind>" { }` block: where its state lives. `local` (state in
//! `.gantry/` next to the stack, also without a block) and the remote kinds of
//! [`super::remote`]. Any other kind, or an argument a kind does not take, is an error,
//! never silently replaced by local state: a team that wrote `backend "azurerm"` expects to
//! share state and lock it, and quietly keeping it on one laptop would break that.

use super::remote::config::{block_settings, known_arguments};
use crate::config::load::Stack;
use crate::diagnostics::Diagnostic;

/// The backend kinds this build implements.
pub const KINDS: &[&str] = &["local", "s3", "gcs", "azurerm", "pg"];

/// A diagnostic when the root module's backend block asks for something gantry cannot do.
pub fn check(stack: &Stack) -> Option<Diagnostic> {
    let backend = stack.root()?.backend.as_ref()?;
    let Some(known) = known_arguments(&backend.kind) else {
        return Some(
            Diagnostic::error(format!(
                "state backend `{}` is not supported by this version of gantry",
                backend.kind
            ))
            .with_span(backend.span)
            .with_label("gantry cannot keep state here")
            .with_detail(format!(
                "supported kinds: {}; state is never kept anywhere else than where the stack says",
                KINDS.join(", ")
            ))
            .with_help("use one of the supported kinds, or remove the block to keep state in `.gantry/` next to the stack"),
        );
    };
    let settings = match block_settings(backend) {
        Ok(s) => s,
        Err(d) => return Some(d),
    };
    let unknown = settings
        .values
        .keys()
        .find(|k| !known.contains(&k.as_str()))?;
    let span = backend
        .body
        .attributes
        .get(unknown.as_str())
        .map_or(backend.span, |a| a.span);
    Some(
        Diagnostic::error(format!(
            "unsupported argument `{unknown}` in `backend \"{}\"` block",
            backend.kind
        ))
        .with_span(span)
        .with_label("gantry does not know this backend argument")
        .with_detail(if known.is_empty() {
            "the local backend keeps state in `.gantry/` next to the stack and takes no arguments"
                .to_owned()
        } else {
            format!("supported: {}", known.join(", "))
        })
        .with_help("remove the argument or correct its name"),
    )
}
