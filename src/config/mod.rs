//! Stack files: loading HCL (hcl-edit, keeping spans), decoding blocks into the
//! configuration model, modules, input variables, and expression evaluation.

pub mod alternatives;
pub mod decode;
pub mod eval;
pub mod fmt;
pub mod functions;
pub mod inputs;
pub mod load;
pub mod model;
pub mod sensitive;
pub mod shipped;
pub mod sources;
pub mod typeexpr;
