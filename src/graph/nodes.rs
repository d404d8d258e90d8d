//! Nodes of the configuration graph: every object a module declares, before expansion.

use crate::addrs::{ModulePath, ResourceAddr};
use std::fmt;

/// What kind of object a node is, within its module.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKind {
    Var(String),
    Local(String),
    Output(String),
    Resource(ResourceAddr),
    /// A `module` block: its `count`/`for_each` decides the child's instances.
    ModuleCall(String),
    /// A `provider` block, by its key within the module (`aws`, `aws.west`).
    Provider(String),
}

/// One object of one module in the configuration tree.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConfigNode {
    pub module: ModulePath,
    pub kind: NodeKind,
}

impl ConfigNode {
    pub fn new(module: &ModulePath, kind: NodeKind) -> ConfigNode {
        ConfigNode {
            module: module.clone(),
            kind,
        }
    }
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeKind::Var(n) => write!(f, "var.{n}"),
            NodeKind::Local(n) => write!(f, "local.{n}"),
            NodeKind::Output(n) => write!(f, "output.{n}"),
            NodeKind::Resource(a) => write!(f, "{a}"),
            NodeKind::ModuleCall(n) => write!(f, "module.{n}"),
            NodeKind::Provider(k) => write!(f, "provider.{k}"),
        }
    }
}

impl fmt::Display for ConfigNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.module.qualify(&self.kind))
    }
}
