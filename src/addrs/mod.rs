//! Typed addresses of everything a stack declares: `var.region`,
//! `module.gpu["a"].aws_instance.node[0]`, `data.aws_ami.ubuntu`. Addresses are values, never
//! loose strings, so the graph, state and plan can compare and print them consistently.

mod parse;

pub use parse::{
    parse_move_endpoint, parse_resource_instance, AddrParseError, MoveEndpoint, MoveTarget,
};

use std::fmt;

/// The key of one instance of a `count` or `for_each` object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstanceKey {
    /// Neither `count` nor `for_each`: the object has exactly one instance.
    None,
    Int(usize),
    Str(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::None => Ok(()),
            InstanceKey::Int(i) => write!(f, "[{i}]"),
            InstanceKey::Str(s) => {
                f.write_str("[\"")?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        c => fmt::Write::write_char(f, c)?,
                    }
                }
                f.write_str("\"]")
            }
        }
    }
}

/// One step of a module instance path: `module.gpu["a"]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleStep {
    pub name: String,
    pub key: InstanceKey,
}

/// A module instance: the root module is the empty path.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleInstance(pub Vec<ModuleStep>);

impl ModuleInstance {
    pub fn root() -> ModuleInstance {
        ModuleInstance(Vec::new())
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn child(&self, name: &str, key: InstanceKey) -> ModuleInstance {
        let mut steps = self.0.clone();
        steps.push(ModuleStep {
            name: name.to_owned(),
            key,
        });
        ModuleInstance(steps)
    }

    /// The module configuration this is an instance of.
    pub fn path(&self) -> ModulePath {
        ModulePath(self.0.iter().map(|s| s.name.clone()).collect())
    }

    /// The first `len` steps.
    pub fn prefix(&self, len: usize) -> ModuleInstance {
        ModuleInstance(self.0[..len.min(self.0.len())].to_vec())
    }

    pub fn starts_with(&self, other: &ModuleInstance) -> bool {
        self.0.starts_with(&other.0)
    }
}

impl fmt::Display for ModuleInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "module.{}{}", step.name, step.key)?;
        }
        Ok(())
    }
}

/// A module in the configuration tree, before expansion: `module.gpu.module.net`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModulePath(pub Vec<String>);

impl ModulePath {
    pub fn root() -> ModulePath {
        ModulePath(Vec::new())
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn child(&self, name: &str) -> ModulePath {
        let mut steps = self.0.clone();
        steps.push(name.to_owned());
        ModulePath(steps)
    }

    pub fn parent(&self) -> Option<(ModulePath, &str)> {
        let (last, rest) = self.0.split_last()?;
        Some((ModulePath(rest.to_vec()), last))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn starts_with(&self, other: &ModulePath) -> bool {
        self.0.starts_with(&other.0)
    }

    /// Prefixes `item` with this path: `module.a.module.b.<item>`.
    pub fn qualify(&self, item: impl fmt::Display) -> String {
        if self.is_root() {
            item.to_string()
        } else {
            format!("{self}.{item}")
        }
    }
}

impl fmt::Display for ModulePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "module.{name}")?;
        }
        Ok(())
    }
}

/// Managed resource (`resource`) or data source (`data`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceMode {
    Managed,
    Data,
}

/// A resource block within one module: `aws_vpc.main`, `data.aws_ami.ubuntu`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceAddr {
    pub mode: ResourceMode,
    pub type_name: String,
    pub name: String,
}

impl ResourceAddr {
    pub fn managed(type_name: &str, name: &str) -> ResourceAddr {
        ResourceAddr {
            mode: ResourceMode::Managed,
            type_name: type_name.into(),
            name: name.into(),
        }
    }

    pub fn data(type_name: &str, name: &str) -> ResourceAddr {
        ResourceAddr {
            mode: ResourceMode::Data,
            type_name: type_name.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for ResourceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mode == ResourceMode::Data {
            f.write_str("data.")?;
        }
        write!(f, "{}.{}", self.type_name, self.name)
    }
}

/// One instance of a resource in one module instance: the unit the engine plans and applies.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceInstanceAddr {
    pub module: ModuleInstance,
    pub resource: ResourceAddr,
    pub key: InstanceKey,
}

impl fmt::Display for ResourceInstanceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_root() {
            write!(f, "{}.", self.module)?;
        }
        write!(f, "{}{}", self.resource, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_addresses_print_like_terraform() {
        let addr = ResourceInstanceAddr {
            module: ModuleInstance::root().child("gpu", InstanceKey::Str("a".into())),
            resource: ResourceAddr::managed("aws_instance", "node"),
            key: InstanceKey::Int(0),
        };
        assert_eq!(addr.to_string(), "module.gpu[\"a\"].aws_instance.node[0]");
        let data = ResourceInstanceAddr {
            module: ModuleInstance::root(),
            resource: ResourceAddr::data("aws_ami", "ubuntu"),
            key: InstanceKey::None,
        };
        assert_eq!(data.to_string(), "data.aws_ami.ubuntu");
    }
}
