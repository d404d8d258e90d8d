//! Parsing addresses typed by users (`--target`, `state show`, `import`), using the HCL
//! traversal grammar so quoting and escapes work as in the stack language.

use super::{InstanceKey, ModuleInstance, ResourceAddr, ResourceInstanceAddr, ResourceMode};
use hcl_edit::expr::{Expression, TraversalOperator};

/// Why an address typed by a user is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid address `{input}`: {reason}")]
pub struct AddrParseError {
    pub input: String,
    pub reason: String,
}

/// Parses `module.a["x"].aws_vpc.main[0]` or `data.aws_ami.x`. A resource without a key
/// parses with [`InstanceKey::None`].
pub fn parse_resource_instance(input: &str) -> Result<ResourceInstanceAddr, AddrParseError> {
    let fail = |reason: &str| AddrParseError {
        input: input.to_owned(),
        reason: reason.into(),
    };
    let words = steps(input)?;
    let (module, mut i) = module_prefix(&words).map_err(fail)?;
    let mode = if matches!(words.get(i), Some(Step::Name(n)) if n == "data") {
        i += 1;
        ResourceMode::Data
    } else {
        ResourceMode::Managed
    };
    let (Some(Step::Name(type_name)), Some(Step::Name(name))) = (words.get(i), words.get(i + 1))
    else {
        return Err(fail("expected `TYPE.NAME` after the module path"));
    };
    let key = match words.get(i + 2) {
        Some(Step::Key(k)) => k.clone(),
        Some(Step::Name(_)) => return Err(fail("unexpected attribute after the resource name")),
        None => InstanceKey::None,
    };
    if words.len() > i + 3 {
        return Err(fail("unexpected text after the instance key"));
    }
    Ok(ResourceInstanceAddr {
        module,
        resource: ResourceAddr {
            mode,
            type_name: type_name.clone(),
            name: name.clone(),
        },
        key,
    })
}

/// What a `moved` or `removed` block points at, relative to the module that holds it:
/// a resource (`aws_vpc.a`, every instance), one instance (`aws_vpc.a[0]`), a module call
/// (`module.net`, every instance) or one module instance (`module.net["a"]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoveEndpoint {
    /// The module instances the endpoint is inside (for a module endpoint, all but its last
    /// step).
    pub module: ModuleInstance,
    pub target: MoveTarget,
    /// The key, when the address names one (`[0]`, `["a"]`).
    pub key: Option<InstanceKey>,
}

/// The kind of object a [`MoveEndpoint`] names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MoveTarget {
    Resource(ResourceAddr),
    /// A module call, by its name.
    Module(String),
}

impl MoveEndpoint {
    /// The address without its key: `aws_vpc.a`, `module.x.module.net`.
    pub fn unkeyed(&self) -> String {
        let mut out = String::new();
        if !self.module.is_root() {
            out.push_str(&self.module.to_string());
            out.push('.');
        }
        match &self.target {
            MoveTarget::Resource(r) => out.push_str(&r.to_string()),
            MoveTarget::Module(name) => {
                out.push_str("module.");
                out.push_str(name);
            }
        }
        out
    }
}

impl std::fmt::Display for MoveEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.unkeyed())?;
        match &self.key {
            Some(k) => write!(f, "{k}"),
            None => Ok(()),
        }
    }
}

/// Parses the address of a `moved` or `removed` endpoint (see [`MoveEndpoint`]).
pub fn parse_move_endpoint(input: &str) -> Result<MoveEndpoint, AddrParseError> {
    let fail = |reason: &str| AddrParseError {
        input: input.to_owned(),
        reason: reason.into(),
    };
    let words = steps(input)?;
    let (mut module, i) = module_prefix(&words).map_err(fail)?;
    if i == words.len() {
        // The address ends with a module step: a module endpoint.
        let Some(last) = module.0.pop() else {
            return Err(fail("expected a resource or a module"));
        };
        let key = (last.key != InstanceKey::None).then_some(last.key);
        return Ok(MoveEndpoint {
            module,
            target: MoveTarget::Module(last.name),
            key,
        });
    }
    if matches!(words.get(i), Some(Step::Name(n)) if n == "data") {
        return Err(fail("data sources hold nothing to move or forget"));
    }
    let (Some(Step::Name(type_name)), Some(Step::Name(name))) = (words.get(i), words.get(i + 1))
    else {
        return Err(fail("expected `TYPE.NAME` or `module.NAME`"));
    };
    let key = match words.get(i + 2) {
        Some(Step::Key(k)) => Some(k.clone()),
        Some(Step::Name(_)) => return Err(fail("unexpected attribute after the resource name")),
        None => None,
    };
    if words.len() > i + 3 {
        return Err(fail("unexpected text after the instance key"));
    }
    Ok(MoveEndpoint {
        module,
        target: MoveTarget::Resource(ResourceAddr::managed(type_name, name)),
        key,
    })
}

/// The names and keys of an address, in order.
fn steps(input: &str) -> Result<Vec<Step>, AddrParseError> {
    let fail = |reason: &str| AddrParseError {
        input: input.to_owned(),
        reason: reason.into(),
    };
    let expr: Expression = input.trim().parse().map_err(|_| fail("not an address"))?;
    let (root, ops) = match &expr {
        Expression::Traversal(t) => match &t.expr {
            Expression::Variable(v) => (v.as_str().to_owned(), t.operators.as_slice()),
            _ => return Err(fail("an address starts with a name")),
        },
        Expression::Variable(_) => return Err(fail("expected `TYPE.NAME`")),
        _ => return Err(fail("not an address")),
    };
    let mut words: Vec<Step> = vec![Step::Name(root)];
    for op in ops {
        match op.value() {
            TraversalOperator::GetAttr(name) => words.push(Step::Name(name.as_str().to_owned())),
            TraversalOperator::Index(Expression::Number(n)) => {
                let idx = n
                    .value()
                    .as_u64()
                    .ok_or_else(|| fail("index must be a whole number"))?;
                words.push(Step::Key(InstanceKey::Int(
                    usize::try_from(idx).map_err(|_| fail("index too large"))?,
                )));
            }
            TraversalOperator::LegacyIndex(n) => {
                let idx = usize::try_from(*n.value()).map_err(|_| fail("index too large"))?;
                words.push(Step::Key(InstanceKey::Int(idx)));
            }
            TraversalOperator::Index(Expression::String(s)) => {
                words.push(Step::Key(InstanceKey::Str(s.value().clone())));
            }
            _ => return Err(fail("only names, numbers and quoted strings are allowed")),
        }
    }
    Ok(words)
}

/// The leading `module.NAME[KEY]` steps, and the index of the first word after them.
fn module_prefix(words: &[Step]) -> Result<(ModuleInstance, usize), &'static str> {
    let mut module = ModuleInstance::root();
    let mut i = 0;
    while matches!(words.get(i), Some(Step::Name(n)) if n == "module") {
        let Some(Step::Name(name)) = words.get(i + 1) else {
            return Err("`module` must be followed by a module name");
        };
        let (key, used) = match words.get(i + 2) {
            Some(Step::Key(k)) => (k.clone(), 3),
            _ => (InstanceKey::None, 2),
        };
        module = module.child(name, key);
        i += used;
    }
    Ok((module, i))
}

enum Step {
    Name(String),
    Key(InstanceKey),
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_printed_addresses() {
        for text in [
            "aws_vpc.main",
            "aws_instance.node[3]",
            "module.gpu[\"a\"].module.net.aws_subnet.private[\"us-east-1a\"]",
            "data.aws_ami.ubuntu",
        ] {
            let addr = parse_resource_instance(text).map(|a| a.to_string());
            assert_eq!(addr.as_deref(), Ok(text));
        }
    }

    #[test]
    fn move_endpoints_name_resources_instances_and_modules() {
        let e = parse_move_endpoint("aws_vpc.a").unwrap();
        assert_eq!(
            e.target,
            MoveTarget::Resource(ResourceAddr::managed("aws_vpc", "a"))
        );
        assert_eq!(e.key, None);
        let e = parse_move_endpoint("module.x[\"k\"].aws_vpc.a[2]").unwrap();
        assert_eq!(e.key, Some(InstanceKey::Int(2)));
        assert_eq!(e.to_string(), "module.x[\"k\"].aws_vpc.a[2]");
        let e = parse_move_endpoint("module.gpu.module.net[0]").unwrap();
        assert_eq!(e.target, MoveTarget::Module("net".into()));
        assert_eq!(e.key, Some(InstanceKey::Int(0)));
        assert_eq!(e.unkeyed(), "module.gpu.module.net");
        for bad in ["data.aws_ami.x", "aws_vpc", "aws_vpc.a.id", "module"] {
            assert!(parse_move_endpoint(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn rejects_malformed_addresses() {
        for text in [
            "aws_vpc",
            "module.x",
            "aws_vpc.main.id",
            "aws_vpc.main[1+1]",
            "\"x\"",
        ] {
            assert!(parse_resource_instance(text).is_err(), "{text} parsed");
        }
    }
}
