//! The dependency graph. [`build`] makes the configuration graph (one node per declared
//! object, edges from references and `depends_on`), [`cycle`] reports cycles, [`walk`]
//! evaluates it in order and expands `count`/`for_each`/modules into resource instances,
//! [`instances`] builds the instance graph the engine plans and applies, and [`render`]
//! draws it as DOT or Mermaid.

pub mod alternatives;
pub mod build;
pub mod conditions;
pub mod cycle;
pub mod expand;
pub mod instances;
pub mod nodes;
pub mod render;
pub mod scope;
pub mod walk;
