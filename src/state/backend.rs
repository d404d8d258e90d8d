//! The stack's `backend "<kind>" { }` block: where its state lives. Only the `local` kind
//! (state in `.gantry/` next to the stack) exists in this version; any other kind is an
//! error, never silently replaced by local state: a team that wrote `backend "s3"` expects
//! to share state and lock it, and quietly keeping it on one laptop would break that.

use crate::config::load::Stack;
use crate::diagnostics::Diagnostic;

/// The backend kinds this build implements.
pub const KINDS: &[&str] = &["local"];

/// A diagnostic when the root module's backend block asks for something gantry cannot do.
pub fn check(stack: &Stack) -> Option<Diagnostic> {
    let backend = stack.root()?.backend.as_ref()?;
    if !KINDS.contains(&backend.kind.as_str()) {
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
            .with_help("remove the block to keep state in `.gantry/` next to the stack"),
        );
    }
    let extra = backend.body.attributes.values().next()?;
    Some(
        Diagnostic::error(format!(
            "unsupported argument `{}` in `backend \"local\"` block",
            extra.name
        ))
        .with_span(extra.span)
        .with_label("the local backend keeps state in `.gantry/` next to the stack")
        .with_help("remove the argument"),
    )
}
