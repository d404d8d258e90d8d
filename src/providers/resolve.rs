//! Which provider configuration a resource uses: its `provider = aws.west`, or the default
//! configuration of its type's provider, looked up in its module and then, through the
//! `providers = { ... }` map of each module call (or implicitly, for default
//! configurations), in the modules above it.

use crate::addrs::ModulePath;
use crate::config::load::Stack;
use crate::config::model::{provider_key, ProviderRef};

/// The qualified key of the configuration (`aws`, `aws.west`, `module.net.aws`).
pub fn config_key(
    stack: &Stack,
    module: &ModulePath,
    type_name: &str,
    explicit: Option<&ProviderRef>,
) -> String {
    let mut name = explicit.map_or_else(
        || super::provider_name(type_name).to_owned(),
        |p| p.name.clone(),
    );
    let mut alias = explicit.and_then(|p| p.alias.clone());
    let mut path = module.clone();
    loop {
        let declared = stack.module(&path).is_some_and(|m| {
            m.providers
                .iter()
                .any(|c| c.name == name && c.alias == alias)
        });
        if declared {
            return path.qualify(provider_key(&name, alias.as_deref()));
        }
        let Some((parent, call_name)) = path.parent() else {
            break;
        };
        let passed = stack
            .module(&parent)
            .and_then(|m| m.module_calls.get(call_name))
            .and_then(|call| {
                call.providers
                    .iter()
                    .find(|(child, _)| child.name == name && child.alias == alias)
                    .map(|(_, to)| to.clone())
            });
        if let Some(to) = passed {
            name = to.name;
            alias = to.alias;
        }
        path = parent;
    }
    provider_key(&name, alias.as_deref())
}
