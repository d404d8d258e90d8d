//! Attribute helpers, shared by every cloud (see `gantry_provider::attrs`).

pub use gantry_provider::attrs::*;
