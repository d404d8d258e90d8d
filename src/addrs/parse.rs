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
    let mut module = ModuleInstance::root();
    let mut i = 0;
    while matches!(words.get(i), Some(Step::Name(n)) if n == "module") {
        let Some(Step::Name(name)) = words.get(i + 1) else {
            return Err(fail("`module` must be followed by a module name"));
        };
        let (key, used) = match words.get(i + 2) {
            Some(Step::Key(k)) => (k.clone(), 3),
            _ => (InstanceKey::None, 2),
        };
        module = module.child(name, key);
        i += used;
    }
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

enum Step {
    Name(String),
    Key(InstanceKey),
}

#[cfg(test)]
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
