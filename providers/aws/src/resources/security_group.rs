//! `aws_security_group`: a VPC security group with inline `ingress` / `egress` rules.
//!
//! Rules follow Terraform: one block names a protocol, a port range and any number of
//! sources (CIDR blocks, prefix lists, other groups, `self`). EC2 stores rules per source
//! and merges blocks with the same ports, so both sides are compared as single-source
//! "atoms"; a block is shown as written when all its atoms exist, and what is left over is
//! shown as extra blocks (drift). Blocks that allow exactly the rules already in state plan
//! no change, however they are grouped (an import cannot know the grouping written).
//!
//! As in Terraform, the allow-all egress rule AWS adds to every new group is removed unless
//! an `egress` block asks for it. The blocks are the whole rule set: gantry cannot tell
//! omitted blocks from an empty list, so no `egress` blocks means no egress rules
//! (Terraform's `egress = []`).

use super::{accepted, after_accept, ec2_ours, naming, Cx, ResourceType};
use crate::attrs::{Attrs, Obj};
use crate::errors::{none_if_not_found, ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags};
use crate::wait::read_back;
use aws_sdk_ec2::types::{
    IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType as Ec2Type, UserIdGroupPair,
};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, Attribute, NestedBlock, Nesting, PlannedState, ProviderError,
    Schema, Type, Value,
};
use std::collections::BTreeSet;

pub struct SecurityGroup;

/// Terraform's default, so that a group Terraform made imports without a replacement.
const DEFAULT_DESCRIPTION: &str = "Managed by Terraform";

/// Where one rule lets traffic come from (ingress) or go to (egress).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Cidr(String),
    Ipv6(String),
    PrefixList(String),
    /// Another group: `sg-...`, or `account/sg-...` for a group of another account.
    Group(String),
    /// The group itself (`self = true`).
    SelfRef,
}

/// One rule with a single source: what EC2 stores (and revokes) one at a time.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Atom {
    protocol: String,
    from: i32,
    to: i32,
    target: Target,
    description: String,
}

/// Terraform's protocol normalisation: names for the numbers it knows, `-1` for all.
fn normalize_protocol(p: &str) -> String {
    let p = p.to_ascii_lowercase();
    match p.as_str() {
        "-1" | "all" => "-1".into(),
        "6" => "tcp".into(),
        "17" => "udp".into(),
        "1" => "icmp".into(),
        "58" => "icmpv6".into(),
        _ => p,
    }
}

fn rule_schema() -> Schema {
    let list = || Attribute::optional(Type::list(Type::String)).with_default(Value::List(vec![]));
    Schema::default()
        .attr("from_port", Attribute::required(Type::Number))
        .attr("to_port", Attribute::required(Type::Number))
        .attr("protocol", Attribute::required(Type::String))
        .attr("cidr_blocks", list())
        .attr("ipv6_cidr_blocks", list())
        .attr("prefix_list_ids", list())
        .attr(
            "security_groups",
            Attribute::optional(Type::set(Type::String)).with_default(Value::Set(vec![])),
        )
        .attr("self", Attribute::optional(Type::Bool).with_default(false))
        .attr(
            "description",
            Attribute::optional(Type::String).with_default(""),
        )
}

/// The atoms of one rule block.
fn rule_atoms(rule: Attrs<'_>) -> Vec<Atom> {
    let protocol = normalize_protocol(rule.str("protocol").unwrap_or("-1"));
    let all = protocol == "-1";
    let port = |k: &str| if all { 0 } else { rule.i32(k).unwrap_or(0) };
    let (from, to) = (port("from_port"), port("to_port"));
    let description = rule.str("description").unwrap_or_default().to_owned();
    let mut targets: Vec<Target> = Vec::new();
    targets.extend(rule.strs("cidr_blocks").into_iter().map(Target::Cidr));
    targets.extend(rule.strs("ipv6_cidr_blocks").into_iter().map(Target::Ipv6));
    targets.extend(
        rule.strs("prefix_list_ids")
            .into_iter()
            .map(Target::PrefixList),
    );
    targets.extend(rule.strs("security_groups").into_iter().map(Target::Group));
    if rule.bool("self") == Some(true) {
        targets.push(Target::SelfRef);
    }
    targets
        .into_iter()
        .map(|target| Atom {
            protocol: protocol.clone(),
            from,
            to,
            target,
            description: description.clone(),
        })
        .collect()
}

/// A rule block with its protocol normalised.
fn normalize_rule(mut rule: Value) -> Value {
    if let Value::Map(r) = &mut rule {
        if let Some(Value::String(p)) = r.get("protocol") {
            let p = normalize_protocol(p);
            r.insert("protocol".into(), Value::String(p));
        }
    }
    rule
}

/// Every atom that a set of rule blocks allows.
fn atom_set(rules: &Value) -> BTreeSet<Atom> {
    rules
        .as_seq()
        .unwrap_or_default()
        .iter()
        .flat_map(|r| rule_atoms(Attrs(r)))
        .collect()
}

/// The atoms of one EC2 permission. `own` is the group's id, `owner` its account.
fn permission_atoms(p: &IpPermission, own: &str, owner: &str) -> Vec<Atom> {
    let protocol = normalize_protocol(p.ip_protocol().unwrap_or("-1"));
    let all = protocol == "-1";
    let (from, to) = if all {
        (0, 0)
    } else {
        (p.from_port().unwrap_or(0), p.to_port().unwrap_or(0))
    };
    let atom = |target: Target, description: Option<&str>| Atom {
        protocol: protocol.clone(),
        from,
        to,
        target,
        description: description.unwrap_or_default().to_owned(),
    };
    let mut out = Vec::new();
    for r in p.ip_ranges() {
        if let Some(c) = r.cidr_ip() {
            out.push(atom(Target::Cidr(c.into()), r.description()));
        }
    }
    for r in p.ipv6_ranges() {
        if let Some(c) = r.cidr_ipv6() {
            out.push(atom(Target::Ipv6(c.into()), r.description()));
        }
    }
    for r in p.prefix_list_ids() {
        if let Some(id) = r.prefix_list_id() {
            out.push(atom(Target::PrefixList(id.into()), r.description()));
        }
    }
    for pair in p.user_id_group_pairs() {
        let Some(group) = pair.group_id() else {
            continue;
        };
        let target = match pair.user_id() {
            _ if group == own => Target::SelfRef,
            Some(user) if !user.is_empty() && user != owner => {
                Target::Group(format!("{user}/{group}"))
            }
            _ => Target::Group(group.into()),
        };
        out.push(atom(target, pair.description()));
    }
    out
}

/// A rule block value, with every field the schema has.
fn rule_value(head: &Atom, targets: &[&Target]) -> Value {
    let pick = |f: fn(&Target) -> Option<&String>| -> Vec<Value> {
        targets
            .iter()
            .filter_map(|t| f(t))
            .map(|s| Value::string(s.as_str()))
            .collect()
    };
    Value::map([
        ("protocol", Value::string(head.protocol.as_str())),
        ("from_port", Value::from(i64::from(head.from))),
        ("to_port", Value::from(i64::from(head.to))),
        ("description", Value::string(head.description.as_str())),
        (
            "cidr_blocks",
            Value::List(pick(|t| match t {
                Target::Cidr(c) => Some(c),
                _ => None,
            })),
        ),
        (
            "ipv6_cidr_blocks",
            Value::List(pick(|t| match t {
                Target::Ipv6(c) => Some(c),
                _ => None,
            })),
        ),
        (
            "prefix_list_ids",
            Value::List(pick(|t| match t {
                Target::PrefixList(c) => Some(c),
                _ => None,
            })),
        ),
        (
            "security_groups",
            Value::set(pick(|t| match t {
                Target::Group(c) => Some(c),
                _ => None,
            })),
        ),
        ("self", Value::Bool(targets.contains(&&Target::SelfRef))),
    ])
}

/// Which kind of source a target is, for grouping atoms into blocks the way configurations
/// are usually written: addresses together, other groups together, `self` on its own.
fn kind(t: &Target) -> u8 {
    match t {
        Target::Cidr(_) | Target::Ipv6(_) | Target::PrefixList(_) => 0,
        Target::Group(_) => 1,
        Target::SelfRef => 2,
    }
}

/// The rule blocks for what EC2 holds (`actual`): the `known` blocks (from the prior state
/// or plan) whose atoms all exist, as written; then the remaining atoms, one block per
/// protocol, port range, description and kind of source.
fn rules_from(actual: &[Atom], known: &[Attrs<'_>]) -> Value {
    let mut out = Vec::new();
    let mut left: Vec<&Atom> = actual.iter().collect();
    for rule in known {
        let atoms = rule_atoms(*rule);
        if atoms.is_empty() || !atoms.iter().all(|a| actual.contains(a)) {
            continue;
        }
        left.retain(|a| !atoms.contains(a));
        let targets: Vec<&Target> = atoms.iter().map(|a| &a.target).collect();
        out.push(rule_value(&atoms[0], &targets));
    }
    let mut groups: Vec<(&Atom, Vec<&Target>)> = Vec::new();
    for a in left {
        let same = |h: &Atom| {
            h.protocol == a.protocol
                && h.from == a.from
                && h.to == a.to
                && h.description == a.description
                && kind(&h.target) == kind(&a.target)
        };
        match groups.iter_mut().find(|(h, _)| same(h)) {
            Some((_, targets)) => targets.push(&a.target),
            None => groups.push((a, vec![&a.target])),
        }
    }
    out.extend(groups.iter().map(|(h, t)| rule_value(h, t)));
    Value::set(out)
}

/// The EC2 permission that adds or removes exactly one atom.
fn permission(a: &Atom, own: &str) -> IpPermission {
    let desc = (!a.description.is_empty()).then(|| a.description.clone());
    let pair = |group: &str| {
        let (user, id) = match group.split_once('/') {
            Some((user, id)) => (Some(user.to_owned()), id),
            None => (None, group),
        };
        UserIdGroupPair::builder()
            .group_id(id)
            .set_user_id(user)
            .set_description(desc.clone())
            .build()
    };
    let p = IpPermission::builder()
        .ip_protocol(a.protocol.as_str())
        .from_port(a.from)
        .to_port(a.to);
    match &a.target {
        Target::Cidr(c) => p.ip_ranges(
            IpRange::builder()
                .cidr_ip(c)
                .set_description(desc.clone())
                .build(),
        ),
        Target::Ipv6(c) => p.ipv6_ranges(
            Ipv6Range::builder()
                .cidr_ipv6(c)
                .set_description(desc.clone())
                .build(),
        ),
        Target::PrefixList(id) => p.prefix_list_ids(
            PrefixListId::builder()
                .prefix_list_id(id)
                .set_description(desc.clone())
                .build(),
        ),
        Target::Group(g) => p.user_id_group_pairs(pair(g)),
        Target::SelfRef => p.user_id_group_pairs(pair(own)),
    }
    .build()
}

#[async_trait]
impl ResourceType for SecurityGroup {
    fn name(&self) -> &'static str {
        "aws_security_group"
    }

    fn schema(&self) -> Schema {
        let rules = || NestedBlock {
            nesting: Nesting::Set,
            schema: rule_schema(),
            min_items: 0,
            max_items: None,
            force_new: false,
        };
        with_tags(
            Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("owner_id", Attribute::computed(Type::String))
                .attr("name", Attribute::optional_computed(Type::String).force_new())
                .attr("name_prefix", Attribute::optional_computed(Type::String).force_new())
                .attr(
                    "description",
                    Attribute::optional(Type::String)
                        .with_default(DEFAULT_DESCRIPTION)
                        .force_new(),
                )
                .attr("vpc_id", Attribute::optional_computed(Type::String).force_new())
                .attr(
                    "revoke_rules_on_delete",
                    Attribute::optional(Type::Bool).with_default(false).describe(
                        "Revoke every rule before deleting (breaks cycles between groups that reference each other).",
                    ),
                )
                .block("ingress", rules())
                .block("egress", rules()),
        )
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut problems = Vec::new();
        if a.str("name").is_some() && a.str("name_prefix").is_some() {
            problems.push("set `name` or `name_prefix`, not both".into());
        }
        if a.str("name").is_some_and(|n| n.starts_with("sg-")) {
            problems.push("`name` cannot start with `sg-`".into());
        }
        for dir in ["ingress", "egress"] {
            for rule in a.blocks(dir) {
                let all = rule.str("protocol").map(normalize_protocol).as_deref() == Some("-1");
                let (from, to) = (rule.num("from_port"), rule.num("to_port"));
                if all && from.is_some() && to.is_some() && (from, to) != (Some(0.0), Some(0.0)) {
                    problems.push(format!(
                        "{dir}: protocol \"-1\" (all traffic) needs from_port = 0 and to_port = 0"
                    ));
                }
                if rule.0.is_wholly_known() && rule_atoms(rule).is_empty() {
                    problems.push(format!(
                        "{dir}: a rule needs cidr_blocks, ipv6_cidr_blocks, prefix_list_ids, security_groups or self"
                    ));
                }
            }
        }
        problems
    }

    /// The schema's plan, with protocols normalised as EC2 reports them (`6` is `tcp`,
    /// `all` is `-1`). Blocks are only a way of writing a set of rules: when the configured
    /// blocks allow exactly the rules the prior state's blocks allow (an import groups them
    /// its own way), the prior blocks are kept and nothing changes.
    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        let mut planned = plan_from_schema(schema, prior, config);
        if let Value::Map(map) = &mut planned.value {
            for dir in ["ingress", "egress"] {
                let Some(Value::Set(rules)) = map.get(dir) else {
                    continue;
                };
                let normalized = Value::set(rules.iter().cloned().map(normalize_rule).collect());
                let before = prior
                    .and_then(|p| Attrs(p).get(dir))
                    .and_then(Value::as_seq)
                    .map(|items| Value::set(items.to_vec()));
                let kept = before.filter(|b| {
                    normalized.is_wholly_known() && atom_set(b) == atom_set(&normalized)
                });
                map.insert(dir.into(), kept.unwrap_or(normalized));
            }
        }
        Ok(planned)
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        // From the create's token, so a retried create asks for the same name.
        let name = naming::unique(
            a.str("name"),
            a.str("name_prefix"),
            "terraform-",
            cx.token(),
        );
        // CreateSecurityGroup has no ClientToken; the name is unique per VPC and a killed
        // run's group is found again by its name and identity tags (find_created).
        let out = cx
            .clients()
            .ec2
            .create_security_group()
            .group_name(&name)
            .description(a.str("description").unwrap_or(DEFAULT_DESCRIPTION))
            .set_vpc_id(a.str("vpc_id").map(str::to_owned))
            .tag_specifications(tags::ec2_spec(Ec2Type::SecurityGroup, &cx.tags(planned)))
            .send()
            .await
            .map_err(|e| sdk_error("CreateSecurityGroup", e))?;
        let id = out
            .group_id()
            .ok_or_else(|| ProviderError::fatal("CreateSecurityGroup returned no group id"))?
            .to_owned();
        let mut known = Obj::from(&accepted(planned, &id));
        known.set("name", name.as_str());
        let known = known.into_value();
        let noun = format!("security group {id}");
        after_accept(known.clone(), async {
            // The rules are changed from what EC2 shows: wait until it shows the group.
            read_back(cx.op, &noun, || describe(cx, &id)).await?;
            // Also removes the default allow-all egress rule, unless an egress block asks
            // for it.
            sync_rules(cx, &id, planned).await?;
            read_back(cx.op, &noun, || read_into(cx, known.clone())).await
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let id = Attrs(prior).id()?.to_owned();
        sync_rules(cx, &id, planned).await?;
        let old = Attrs(prior).str_map("tags_all");
        let new = tags::merged(&cx.settings.default_tags, planned);
        tags::ec2_update(&cx.clients().ec2, &id, &old, &new).await?;
        let mut state = Obj::from(planned);
        state.set("id", id.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("security group {id} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let id = Attrs(state).id()?;
        if Attrs(state).bool("revoke_rules_on_delete") == Some(true) {
            let none = Value::map([
                ("ingress", Value::Set(vec![])),
                ("egress", Value::Set(vec![])),
            ]);
            ok_if_not_found(sync_rules(cx, id, &none).await)?;
        }
        // DependencyViolation (network interfaces or other groups' rules still use it) is a
        // Conflict: the engine retries while the dependants go away.
        ok_if_not_found(
            cx.clients()
                .ec2
                .delete_security_group()
                .group_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteSecurityGroup", e)),
        )
    }

    /// The group with the planned name (or the one `name_prefix` and this create's token
    /// make) tagged with this create's stack, address and token.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let Some(filters) = tags::ec2_identity_filters(cx.op) else {
            return Ok(None);
        };
        let a = Attrs(planned);
        let name = naming::unique(
            a.str("name"),
            a.str("name_prefix"),
            "terraform-",
            Some(token),
        );
        let pages = cx
            .clients()
            .ec2
            .describe_security_groups()
            .set_filters(Some(filters))
            .into_paginator()
            .send();
        // The name is compared here, not in a `group-name` filter: names may hold `*`, `?`
        // or `[`, which filters read as wildcards.
        let found = ec2_ours(
            cx,
            "security group",
            "DescribeSecurityGroups",
            pages,
            |page| {
                page.security_groups()
                    .iter()
                    .filter(|g| g.group_name() == Some(name.as_str()))
                    .map(|g| (g.tags(), g.group_id()))
                    .collect()
            },
        )
        .await?;
        match found {
            Some(id) => read_into(cx, Value::map([("id", Value::string(id))])).await,
            None => Ok(None),
        }
    }
}

async fn describe(cx: &Cx<'_>, id: &str) -> Result<Option<aws_sdk_ec2::types::SecurityGroup>> {
    let out = none_if_not_found(
        cx.clients()
            .ec2
            .describe_security_groups()
            .group_ids(id)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeSecurityGroups", e)),
    )?;
    Ok(out.and_then(|o| o.security_groups().first().cloned()))
}

/// Brings the group's rules to the `ingress` / `egress` blocks of `desired`: revokes what
/// is not wanted (a changed description is a revoke and an authorize), then authorizes what
/// is missing. Works from what EC2 holds now, so a retry after a partial failure converges.
async fn sync_rules(cx: &Cx<'_>, id: &str, desired: &Value) -> Result<()> {
    let Some(group) = describe(cx, id).await? else {
        return Err(ProviderError::not_found(format!(
            "security group {id} is gone"
        )));
    };
    let owner = group.owner_id().unwrap_or_default();
    let ec2 = &cx.clients().ec2;
    for (dir, perms) in [
        ("ingress", group.ip_permissions()),
        ("egress", group.ip_permissions_egress()),
    ] {
        let actual: Vec<Atom> = perms
            .iter()
            .flat_map(|p| permission_atoms(p, id, owner))
            .collect();
        let wanted: Vec<Atom> = Attrs(desired)
            .blocks(dir)
            .into_iter()
            .flat_map(rule_atoms)
            .collect();
        let revoke: Vec<IpPermission> = actual
            .iter()
            .filter(|a| !wanted.contains(a))
            .map(|a| permission(a, id))
            .collect();
        let mut add: Vec<&Atom> = wanted.iter().filter(|a| !actual.contains(a)).collect();
        add.sort();
        add.dedup();
        let add: Vec<IpPermission> = add.into_iter().map(|a| permission(a, id)).collect();
        let ingress = dir == "ingress";
        if !revoke.is_empty() {
            if ingress {
                ec2.revoke_security_group_ingress()
                    .group_id(id)
                    .set_ip_permissions(Some(revoke))
                    .send()
                    .await
                    .map_err(|e| sdk_error("RevokeSecurityGroupIngress", e))?;
            } else {
                ec2.revoke_security_group_egress()
                    .group_id(id)
                    .set_ip_permissions(Some(revoke))
                    .send()
                    .await
                    .map_err(|e| sdk_error("RevokeSecurityGroupEgress", e))?;
            }
        }
        if !add.is_empty() {
            if ingress {
                ec2.authorize_security_group_ingress()
                    .group_id(id)
                    .set_ip_permissions(Some(add))
                    .send()
                    .await
                    .map_err(|e| sdk_error("AuthorizeSecurityGroupIngress", e))?;
            } else {
                ec2.authorize_security_group_egress()
                    .group_id(id)
                    .set_ip_permissions(Some(add))
                    .send()
                    .await
                    .map_err(|e| sdk_error("AuthorizeSecurityGroupEgress", e))?;
            }
        }
    }
    Ok(())
}

/// The group's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let id = Attrs(&base).id()?.to_owned();
    let Some(group) = describe(cx, &id).await? else {
        return Ok(None);
    };
    let owner = group.owner_id().unwrap_or_default();
    let name = group.group_name().unwrap_or_default();
    let arn = group.security_group_arn().map_or_else(
        || format!("arn:aws:ec2:{}:{owner}:security-group/{id}", cx.region()),
        str::to_owned,
    );
    let b = Attrs(&base);
    let name_prefix = b
        .str("name_prefix")
        .or_else(|| naming::prefix_of(name))
        .map_or(Value::Null, Value::string);
    let rules = |dir: &str, perms: &[IpPermission]| {
        let actual: Vec<Atom> = perms
            .iter()
            .flat_map(|p| permission_atoms(p, &id, owner))
            .collect();
        rules_from(&actual, &b.blocks(dir))
    };
    let mut state = Obj::from(&base);
    state
        .set("id", id.as_str())
        .set("arn", arn)
        .set("owner_id", owner)
        .set("name", name)
        .set("name_prefix", name_prefix)
        .set("description", group.description().unwrap_or_default())
        .set("vpc_id", group.vpc_id().map_or(Value::Null, Value::string))
        .set(
            "revoke_rules_on_delete",
            b.bool("revoke_rules_on_delete").unwrap_or(false),
        )
        .set("ingress", rules("ingress", group.ip_permissions()))
        .set("egress", rules("egress", group.ip_permissions_egress()));
    tags::record(
        &mut state,
        &cx.settings.default_tags,
        &tags::from_ec2(group.tags()),
    );
    Ok(Some(state.into_value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pairs: Vec<(&str, Value)>) -> Value {
        let mut m = match Value::map(pairs) {
            Value::Map(m) => m,
            _ => Default::default(),
        };
        for (k, v) in [
            ("cidr_blocks", Value::List(vec![])),
            ("ipv6_cidr_blocks", Value::List(vec![])),
            ("prefix_list_ids", Value::List(vec![])),
            ("security_groups", Value::Set(vec![])),
            ("self", Value::Bool(false)),
            ("description", Value::string("")),
        ] {
            m.entry(k.to_owned()).or_insert(v);
        }
        Value::Map(m)
    }

    fn efa_rule() -> Value {
        rule(vec![
            ("protocol", Value::string("-1")),
            ("from_port", Value::Number(0.0)),
            ("to_port", Value::Number(0.0)),
            ("self", Value::Bool(true)),
        ])
    }

    #[test]
    fn protocols_are_normalised_like_terraform() {
        assert_eq!(normalize_protocol("6"), "tcp");
        assert_eq!(normalize_protocol("ALL"), "-1");
        assert_eq!(normalize_protocol("UDP"), "udp");
        assert_eq!(normalize_protocol("50"), "50");
    }

    #[test]
    fn a_self_all_traffic_rule_round_trips_through_ec2() {
        // EC2 reports an all-traffic rule without ports and the group itself as a pair.
        let perm = IpPermission::builder()
            .ip_protocol("-1")
            .user_id_group_pairs(
                UserIdGroupPair::builder()
                    .group_id("sg-1")
                    .user_id("123")
                    .build(),
            )
            .build();
        let actual = permission_atoms(&perm, "sg-1", "123");
        assert_eq!(actual.len(), 1);
        assert_eq!(actual[0].target, Target::SelfRef);
        let known = efa_rule();
        assert_eq!(
            rules_from(&actual, &[Attrs(&known)]),
            Value::set(vec![known.clone()])
        );
        // And with no prior blocks (import), the same block is rebuilt.
        assert_eq!(rules_from(&actual, &[]), Value::set(vec![known]));
    }

    #[test]
    fn merged_permissions_split_back_into_the_blocks_written() {
        let ssh = rule(vec![
            ("protocol", Value::string("tcp")),
            ("from_port", Value::Number(22.0)),
            ("to_port", Value::Number(22.0)),
            ("cidr_blocks", Value::List(vec!["10.0.0.0/8".into()])),
        ]);
        let ssh_office = rule(vec![
            ("protocol", Value::string("6")),
            ("from_port", Value::Number(22.0)),
            ("to_port", Value::Number(22.0)),
            ("cidr_blocks", Value::List(vec!["192.0.2.0/24".into()])),
        ]);
        // EC2 merges both into one permission, plus one rule added by hand.
        let perm = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(22)
            .to_port(22)
            .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
            .ip_ranges(IpRange::builder().cidr_ip("192.0.2.0/24").build())
            .ip_ranges(
                IpRange::builder()
                    .cidr_ip("0.0.0.0/0")
                    .description("hand")
                    .build(),
            )
            .build();
        let actual = permission_atoms(&perm, "sg-1", "123");
        let got = rules_from(&actual, &[Attrs(&ssh), Attrs(&ssh_office)]);
        let drift = rule(vec![
            ("protocol", Value::string("tcp")),
            ("from_port", Value::Number(22.0)),
            ("to_port", Value::Number(22.0)),
            ("cidr_blocks", Value::List(vec!["0.0.0.0/0".into()])),
            ("description", Value::string("hand")),
        ]);
        let mut office = ssh_office.clone();
        if let Value::Map(m) = &mut office {
            m.insert("protocol".into(), Value::string("tcp"));
        }
        assert_eq!(got, Value::set(vec![ssh, office, drift]));
    }

    #[test]
    fn an_import_groups_rules_by_kind_of_source() {
        let perm = IpPermission::builder()
            .ip_protocol("-1")
            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
            .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-1").build())
            .build();
        let actual = permission_atoms(&perm, "sg-1", "123");
        let anywhere = rule(vec![
            ("protocol", Value::string("-1")),
            ("from_port", Value::Number(0.0)),
            ("to_port", Value::Number(0.0)),
            ("cidr_blocks", Value::List(vec!["0.0.0.0/0".into()])),
        ]);
        assert_eq!(
            rules_from(&actual, &[]),
            Value::set(vec![efa_rule(), anywhere])
        );
    }

    #[test]
    fn blocks_allowing_the_same_rules_plan_no_change() {
        let merged = rule(vec![
            ("protocol", Value::string("-1")),
            ("from_port", Value::Number(0.0)),
            ("to_port", Value::Number(0.0)),
            ("cidr_blocks", Value::List(vec!["0.0.0.0/0".into()])),
            ("self", Value::Bool(true)),
        ]);
        let split = vec![
            efa_rule(),
            rule(vec![
                ("protocol", Value::string("all")),
                ("from_port", Value::Number(0.0)),
                ("to_port", Value::Number(0.0)),
                ("cidr_blocks", Value::List(vec!["0.0.0.0/0".into()])),
            ]),
        ];
        let schema = SecurityGroup.schema();
        let prior = Value::map([
            ("id", Value::string("sg-1")),
            ("egress", Value::List(vec![merged.clone()])),
        ]);
        let config = Value::map([("egress", Value::set(split.clone()))]);
        let planned = SecurityGroup
            .plan(&schema, Some(&prior), &config)
            .map(|p| p.value);
        let egress = planned
            .as_ref()
            .ok()
            .and_then(|v| Attrs(v).get("egress").cloned());
        assert_eq!(egress, Some(Value::set(vec![merged])));
        // Without a prior state the blocks are planned as written, protocols normalised.
        let planned = SecurityGroup.plan(&schema, None, &config).map(|p| p.value);
        let egress = planned
            .as_ref()
            .ok()
            .and_then(|v| Attrs(v).get("egress").cloned());
        let mut expected = split;
        if let Value::Map(m) = &mut expected[1] {
            m.insert("protocol".into(), Value::string("-1"));
        }
        assert_eq!(egress, Some(Value::set(expected)));
    }

    #[test]
    fn permissions_carry_one_source_each() {
        let atoms = rule_atoms(Attrs(&efa_rule()));
        let p = permission(&atoms[0], "sg-9");
        assert_eq!(p.ip_protocol(), Some("-1"));
        assert_eq!(p.user_id_group_pairs()[0].group_id(), Some("sg-9"));
        assert_eq!(p.user_id_group_pairs()[0].description(), None);
        let other = Atom {
            target: Target::Group("111/sg-2".into()),
            description: "peer".into(),
            ..atoms[0].clone()
        };
        let p = permission(&other, "sg-9");
        assert_eq!(p.user_id_group_pairs()[0].user_id(), Some("111"));
        assert_eq!(p.user_id_group_pairs()[0].group_id(), Some("sg-2"));
        assert_eq!(p.user_id_group_pairs()[0].description(), Some("peer"));
    }

    #[test]
    fn all_traffic_rules_need_zero_ports() {
        let bad = rule(vec![
            ("protocol", Value::string("-1")),
            ("from_port", Value::Number(0.0)),
            ("to_port", Value::Number(65535.0)),
            ("self", Value::Bool(true)),
        ]);
        let config = Value::map([("ingress", Value::set(vec![bad]))]);
        assert_eq!(SecurityGroup.validate(&config).len(), 1);
        let config = Value::map([("ingress", Value::set(vec![efa_rule()]))]);
        assert!(SecurityGroup.validate(&config).is_empty());
    }
}
