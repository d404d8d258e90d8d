//! Azure resource ids: `/subscriptions/{s}/resourceGroups/{rg}/providers/{Namespace}/{type}/{name}[/{child}/{name}...]`.
//! ARM compares them case-insensitively; so does gantry.

use gantry_provider::ProviderError;

/// The id of a resource group.
pub fn resource_group(subscription: &str, group: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/{group}")
}

/// The id of a resource in a group: `kind` is `Namespace/type` and `names` its name and
/// the names of its children down to it (`Microsoft.Network/virtualNetworks/subnets` with
/// `[vnet, subnet]`).
pub fn resource(subscription: &str, group: &str, kind: &str, names: &[&str]) -> String {
    let mut parts = kind.split('/');
    let namespace = parts.next().unwrap_or_default();
    let mut id = format!(
        "{}/providers/{namespace}",
        resource_group(subscription, group)
    );
    for (ty, name) in parts.zip(names) {
        id.push('/');
        id.push_str(ty);
        id.push('/');
        id.push_str(name);
    }
    id
}

/// A parsed resource id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceId {
    pub subscription: String,
    pub resource_group: Option<String>,
    /// `Microsoft.Network/virtualNetworks/subnets`, empty for a resource group.
    pub kind: String,
    /// The names from the top resource down (`[vnet, subnet]`).
    pub names: Vec<String>,
}

impl ResourceId {
    pub fn parse(id: &str) -> Result<ResourceId, ProviderError> {
        let bad = || {
            ProviderError::invalid(format!(
                "{id:?} is not an Azure resource id (/subscriptions/SUB/resourceGroups/RG/providers/NAMESPACE/TYPE/NAME)"
            ))
        };
        let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
        let [subs, subscription, rest @ ..] = parts.as_slice() else {
            return Err(bad());
        };
        if !subs.eq_ignore_ascii_case("subscriptions") || subscription.is_empty() {
            return Err(bad());
        }
        let (group, rest) = match rest {
            [rg, group, rest @ ..] if rg.eq_ignore_ascii_case("resourceGroups") => {
                (Some((*group).to_owned()), rest)
            }
            _ => (None, rest),
        };
        let mut kind = String::new();
        let mut names = Vec::new();
        match rest {
            [] => {}
            [providers, namespace, pairs @ ..]
                if providers.eq_ignore_ascii_case("providers")
                    && pairs.len() % 2 == 0
                    && !pairs.is_empty() =>
            {
                kind.push_str(namespace);
                for pair in pairs.chunks(2) {
                    kind.push('/');
                    kind.push_str(pair[0]);
                    names.push(pair[1].to_owned());
                }
            }
            _ => return Err(bad()),
        }
        Ok(ResourceId {
            subscription: (*subscription).to_owned(),
            resource_group: group,
            kind,
            names,
        })
    }

    /// True when this id is of `kind` (compared case-insensitively).
    pub fn is(&self, kind: &str) -> bool {
        self.kind.eq_ignore_ascii_case(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_built_and_parsed_back() {
        let id = resource(
            "s",
            "rg",
            "Microsoft.Network/virtualNetworks/subnets",
            &["vnet", "snet"],
        );
        assert_eq!(id, "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/snet");
        let parsed = ResourceId::parse(&id.to_ascii_lowercase()).expect("parses");
        assert_eq!(parsed.resource_group.as_deref(), Some("rg"));
        assert!(parsed.is("Microsoft.Network/virtualNetworks/subnets"));
        assert_eq!(parsed.names, vec!["vnet", "snet"]);
        assert!(ResourceId::parse(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks"
        )
        .is_err());
        assert!(ResourceId::parse("rg/vnet").is_err());
    }
}
