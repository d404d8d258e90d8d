//! `google_filestore_instance`: an NFS share for training data and checkpoints, in a zone
//! (or a region, for the REGIONAL and ENTERPRISE tiers).
//!
//! `instances.create` takes no request id: the instance's name is its identity, and crash
//! recovery adopts an instance of that name only when its labels carry this create's three
//! marks. Description, labels and the share's capacity change in place (a `patch` with an
//! update mask); everything else replaces the instance.

use super::{accepted, after_accept, Cx, ResourceType};
use crate::errors::{call_error, ok_if_not_found};
use crate::labels;
use crate::lro;
use crate::wire::{from_model, last_segment, str_at, to_model, Body};
use gantry_provider::attrs::{complete, fill_unset, replace_on_change, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, Attribute, NestedBlock, Nesting, PlannedState, ProviderError,
    Schema, Timeouts, Type, Value,
};
use google_cloud_filestore_v1::model::Instance;
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct FilestoreInstance;

const CREATE: Duration = Duration::from_secs(30 * 60);
const UPDATE: Duration = Duration::from_secs(20 * 60);

/// The tiers and the smallest share each takes, in GiB (Filestore's service tiers page).
const TIERS: [(&str, i64); 8] = [
    ("STANDARD", 1024),
    ("PREMIUM", 2560),
    ("BASIC_HDD", 1024),
    ("BASIC_SSD", 2560),
    ("HIGH_SCALE_SSD", 10240),
    ("ZONAL", 1024),
    ("REGIONAL", 1024),
    ("ENTERPRISE", 1024),
];

/// Arguments inside blocks whose change replaces the instance.
const FORCE_NEW_PATHS: [&str; 1] = ["file_shares.name"];

pub fn id_of(project: &str, location: &str, name: &str) -> String {
    format!("projects/{project}/locations/{location}/instances/{name}")
}

fn list_block(schema: Schema, min_items: usize, force_new: bool) -> NestedBlock {
    NestedBlock {
        nesting: Nesting::List,
        schema,
        min_items,
        max_items: Some(1),
        force_new,
    }
}

#[async_trait]
impl ResourceType for FilestoreInstance {
    fn name(&self) -> &'static str {
        "google_filestore_instance"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr(
                "location",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "project",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("tier", Attribute::required(Type::String).force_new())
            .attr(
                "protocol",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "kms_key_name",
                Attribute::optional(Type::String).force_new(),
            )
            .attr("description", Attribute::optional(Type::String))
            .attr("labels", Attribute::optional(Type::map(Type::String)))
            .attr(
                "effective_labels",
                Attribute::computed(Type::map(Type::String)),
            )
            .attr("create_time", Attribute::computed(Type::String))
            .attr("etag", Attribute::computed(Type::String))
            .attr("state", Attribute::computed(Type::String))
            .block(
                "file_shares",
                list_block(
                    Schema::default()
                        .attr("name", Attribute::required(Type::String))
                        .attr("capacity_gb", Attribute::required(Type::Number)),
                    1,
                    false,
                ),
            )
            .block(
                "networks",
                list_block(
                    Schema::default()
                        .attr("network", Attribute::required(Type::String))
                        .attr("modes", Attribute::required(Type::list(Type::String)))
                        .attr(
                            "reserved_ip_range",
                            Attribute::optional_computed(Type::String),
                        )
                        .attr("connect_mode", Attribute::optional_computed(Type::String))
                        .attr(
                            "ip_addresses",
                            Attribute::computed(Type::list(Type::String)),
                        ),
                    1,
                    true,
                ),
            )
            .with_timeouts(Timeouts {
                create: Some(CREATE),
                update: Some(UPDATE),
                delete: Some(UPDATE),
            })
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut problems = Vec::new();
        if let Some(name) = a.str("name") {
            problems.extend(super::check_name(name));
        }
        let tier = a.str("tier");
        let minimum = tier.and_then(|t| TIERS.iter().find(|(k, _)| *k == t).map(|(_, m)| *m));
        if let (Some(tier), None) = (tier, minimum) {
            let tiers: Vec<&str> = TIERS.iter().map(|(t, _)| *t).collect();
            problems.push(format!(
                "`tier` must be one of {}, not {tier:?}",
                tiers.join(", ")
            ));
        }
        if let Some(share) = a.block("file_shares") {
            if let Some(name) = share.str("name") {
                let ok = (1..=16).contains(&name.len())
                    && name.starts_with(|c: char| c.is_ascii_alphabetic())
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !ok {
                    problems.push(format!(
                        "`file_shares.name` {name:?} is not a valid share name: 1-16 letters, \
                         digits and underscores, starting with a letter"
                    ));
                }
            }
            if let (Some(capacity), Some(minimum), Some(tier)) =
                (share.i64("capacity_gb"), minimum, tier)
            {
                if capacity < minimum {
                    problems.push(format!(
                        "`file_shares.capacity_gb` is {capacity}, below the {minimum} GiB a \
                         {tier} share takes at least"
                    ));
                }
            }
        }
        problems
    }

    /// What Filestore fills in inside the blocks (the reserved range, the addresses) stays
    /// as read; a new share name replaces the instance.
    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        let mut config = config.clone();
        if let (Some(prior), Value::Map(c)) = (prior, &mut config) {
            for name in ["networks", "file_shares"] {
                let set = c.get(name).cloned().unwrap_or(Value::Null);
                let before = Attrs(prior).get(name).cloned().unwrap_or(Value::Null);
                c.insert(name.into(), fill_unset(&set, &before));
            }
        }
        let mut planned = plan_from_schema(schema, prior, &config);
        replace_on_change(schema, prior, &config, &mut planned, &FORCE_NEW_PATHS);
        Ok(planned)
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let project = cx.project(planned).to_owned();
        let location = location_of(cx, &a)?;
        let name = a.req_str("name")?.to_owned();
        let labels = labels::desired(&cx.settings.default_labels, &a.str_map("labels"), cx.op);
        let mut body = Body::new();
        body.set("tier", a.get("tier"))
            .set("description", a.get("description"))
            .set("protocol", a.get("protocol"))
            .set("kmsKeyName", a.get("kms_key_name"))
            .put("labels", json!(labels))
            .put("fileShares", shares_json(&a))
            .put("networks", networks_json(&a));
        let instance: Instance = to_model("instances.create", body.into_json())?;
        let op = cx
            .settings
            .clients
            .filestore
            .create_instance()
            .set_parent(format!("projects/{project}/locations/{location}"))
            .set_instance_id(&name)
            .set_instance(instance)
            .send()
            .await
            .map_err(|e| call_error("instances.create", e))?;
        let known = accepted(planned, &id_of(&project, &location, &name));
        after_accept(known, async {
            let timeout = cx.op.timeout_or(CREATE);
            lro::wait(
                cx,
                from_model(&op),
                "instances.create",
                timeout,
                Some(&location),
                |n| get_operation(cx, n),
            )
            .await?;
            self.read_named(cx, &project, &location, &name, planned)
                .await?
                .ok_or_else(|| {
                    ProviderError::fatal(format!(
                        "Filestore instance {name} vanished after its create"
                    ))
                })
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        let a = Attrs(state);
        let location = location_of(cx, &a)?;
        self.read_named(cx, cx.project(state), &location, a.req_str("name")?, state)
            .await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let a = Attrs(prior);
        let p = Attrs(planned);
        let project = cx.project(prior).to_owned();
        let location = location_of(cx, &a)?;
        let name = a.req_str("name")?.to_owned();
        let mut body = Body::new();
        let mut mask = Vec::new();
        if a.get("description") != p.get("description") {
            mask.push("description");
            body.put(
                "description",
                json!(p.str("description").unwrap_or_default()),
            );
        }
        if a.get("labels") != p.get("labels") {
            mask.push("labels");
            body.put(
                "labels",
                json!(labels::for_update(
                    &cx.settings.default_labels,
                    &p.str_map("labels"),
                    cx.op,
                    &a.str_map("effective_labels"),
                )),
            );
        }
        if a.get("file_shares") != p.get("file_shares") {
            mask.push("file_shares");
            body.put("fileShares", shares_json(&p));
        }
        if !mask.is_empty() {
            let mut instance: Instance = to_model("instances.patch", body.into_json())?;
            instance.name = id_of(&project, &location, &name);
            let op = cx
                .settings
                .clients
                .filestore
                .update_instance()
                .set_instance(instance)
                .set_update_mask(google_cloud_wkt::FieldMask::default().set_paths(mask))
                .send()
                .await
                .map_err(|e| call_error("instances.patch", e))?;
            let timeout = cx.op.timeout_or(UPDATE);
            lro::wait(cx, from_model(&op), "instances.patch", timeout, None, |n| {
                get_operation(cx, n)
            })
            .await?;
        }
        self.read_named(cx, &project, &location, &name, planned)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("Filestore instance {name} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let location = location_of(cx, &a)?;
        let name = id_of(cx.project(state), &location, a.req_str("name")?);
        let sent = cx
            .settings
            .clients
            .filestore
            .delete_instance()
            .set_name(&name)
            .send()
            .await
            .map_err(|e| call_error("instances.delete", e));
        let Some(op) = ok_if_not_found(sent)? else {
            return Ok(());
        };
        let timeout = cx.op.timeout_or(UPDATE);
        let waited = lro::wait(
            cx,
            from_model(&op),
            "instances.delete",
            timeout,
            None,
            |n| get_operation(cx, n),
        )
        .await;
        ok_if_not_found(waited).map(drop)
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        let (project, location, name) =
            super::split_scoped_id(id, "locations", "instances", &cx.settings.project)?;
        self.read_named(cx, &project, &location, &name, &Value::Null)
            .await
    }

    /// No request id to prove it by: an instance of this name is this create's only when
    /// its labels carry all three of this create's marks.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let a = Attrs(planned);
        let location = location_of(cx, &a)?;
        let read = self
            .read_named(
                cx,
                cx.project(planned),
                &location,
                a.req_str("name")?,
                planned,
            )
            .await?;
        Ok(labels::adopt_if_ours(cx.op, read))
    }
}

/// The instance's zone or region: its own `location`, else the provider's zone.
fn location_of(cx: &Cx<'_>, a: &Attrs<'_>) -> Result<String> {
    a.str("location")
        .map(str::to_owned)
        .or_else(|| cx.settings.zone.clone())
        .ok_or_else(|| {
            ProviderError::invalid(
                "no location: set `location` on the Filestore instance (a zone, or a region \
                 for the REGIONAL and ENTERPRISE tiers) or `zone` in the provider \"google\" block",
            )
        })
}

/// One `operations.get` of Filestore.
async fn get_operation(cx: &Cx<'_>, name: String) -> Result<Json> {
    let op = cx
        .settings
        .clients
        .filestore
        .get_operation()
        .set_name(name)
        .send()
        .await
        .map_err(|e| call_error("operations.get", e))?;
    Ok(from_model(&op))
}

fn shares_json(a: &Attrs<'_>) -> Json {
    Json::Array(
        a.blocks("file_shares")
            .iter()
            .map(|s| {
                json!({
                    "name": s.str("name"),
                    // int64 travels as a string on the wire.
                    "capacityGb": s.i64("capacity_gb").map(|c| c.to_string()),
                })
            })
            .collect(),
    )
}

fn networks_json(a: &Attrs<'_>) -> Json {
    Json::Array(
        a.blocks("networks")
            .iter()
            .map(|n| {
                let mut net = Body::new();
                net.put("network", json!(n.str("network").map(network_name)))
                    .put("modes", json!(n.strs("modes")))
                    .set("reservedIpRange", n.get("reserved_ip_range"))
                    .set("connectMode", n.get("connect_mode"));
                net.into_json()
            })
            .collect(),
    )
}

/// Filestore names a network by its name (or full path for a Shared VPC); a self link or
/// relative name from `google_compute_network.id` is accepted and passed as the name.
fn network_name(network: &str) -> String {
    if network.contains("/global/networks/") {
        last_segment(network).to_owned()
    } else {
        network.to_owned()
    }
}

impl FilestoreInstance {
    async fn read_named(
        &self,
        cx: &Cx<'_>,
        project: &str,
        location: &str,
        name: &str,
        base: &Value,
    ) -> Result<Option<Value>> {
        let got = cx
            .settings
            .clients
            .filestore
            .get_instance()
            .set_name(id_of(project, location, name))
            .send()
            .await
            .map_err(|e| call_error("instances.get", e));
        let Some(instance) = ok_if_not_found(got)? else {
            return Ok(None);
        };
        let json = from_model(&instance);
        let b = Attrs(base);
        let all = labels::from_json(json.get("labels"));
        let mut s = Obj::from(base);
        s.set("id", id_of(project, location, name))
            .set("name", last_segment(str_at(&json, "name").unwrap_or(name)))
            .set("project", project)
            .set("location", location)
            // Enums from the typed model: its JSON carries their proto numbers.
            .set_opt("tier", instance.tier.name())
            .set_opt("protocol", instance.protocol.name())
            .set_opt("state", instance.state.name())
            .set(
                "kms_key_name",
                Some(instance.kms_key_name.as_str())
                    .filter(|k| !k.is_empty())
                    .map_or(Value::Null, Value::string),
            )
            .set(
                "description",
                Some(instance.description.as_str())
                    .filter(|d| !d.is_empty())
                    .map_or(Value::Null, Value::string),
            )
            .set_opt("create_time", str_at(&json, "createTime"))
            .set_opt("etag", str_at(&json, "etag"))
            .set(
                "labels",
                labels::user_attribute(&all, &cx.settings.default_labels, &b),
            )
            .set("effective_labels", gantry_provider::attrs::str_map(&all));
        let shares: Vec<Value> = instance
            .file_shares
            .iter()
            .map(|share| {
                Value::map([
                    ("name", Value::string(&share.name)),
                    ("capacity_gb", Value::Number(share.capacity_gb as f64)),
                ])
            })
            .collect();
        s.set("file_shares", Value::List(shares));
        let configured_networks = b.blocks("networks");
        let networks: Vec<Value> = instance
            .networks
            .iter()
            .enumerate()
            .map(|(i, net)| {
                // The network as configured when it names the same one (a self link, a
                // relative name), so a reference is not planned as a change.
                let configured = configured_networks.get(i).and_then(|c| c.str("network"));
                let network = match configured {
                    Some(c) if network_name(c) == net.network => c.to_owned(),
                    _ => net.network.clone(),
                };
                Value::map([
                    ("network", Value::string(network)),
                    (
                        "modes",
                        Value::List(
                            net.modes
                                .iter()
                                .filter_map(|m| m.name().map(Value::string))
                                .collect(),
                        ),
                    ),
                    ("reserved_ip_range", Value::string(&net.reserved_ip_range)),
                    (
                        "connect_mode",
                        Value::string(net.connect_mode.name().unwrap_or("DIRECT_PEERING")),
                    ),
                    (
                        "ip_addresses",
                        Value::List(net.ip_addresses.iter().map(Value::string).collect()),
                    ),
                ])
            })
            .collect();
        s.set("networks", Value::List(networks));
        complete(&mut s, &self.schema());
        Ok(Some(s.into_value()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_below_the_tier_minimum_are_refused_at_plan() {
        let config = |tier: &str, gb: f64| {
            Value::map([
                ("name", Value::string("data")),
                ("tier", Value::string(tier)),
                (
                    "file_shares",
                    Value::List(vec![Value::map([
                        ("name", Value::string("share1")),
                        ("capacity_gb", Value::Number(gb)),
                    ])]),
                ),
            ])
        };
        assert!(FilestoreInstance
            .validate(&config("BASIC_HDD", 1024.0))
            .is_empty());
        let problems = FilestoreInstance.validate(&config("BASIC_SSD", 1024.0));
        assert!(problems[0].contains("2560"), "{problems:?}");
        let problems = FilestoreInstance.validate(&config("GOLD", 1024.0));
        assert!(
            problems[0].contains("`tier` must be one of"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_network_reference_is_passed_by_name() {
        assert_eq!(
            network_name("projects/p/global/networks/training"),
            "training"
        );
        assert_eq!(network_name("default"), "default");
    }
}
