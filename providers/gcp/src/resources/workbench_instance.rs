//! `google_workbench_instance`: the ML platform's notebook, a Vertex AI Workbench VM (the
//! Notebooks API, v2) with its accelerators, image and service account.
//!
//! `instances.create` takes a request id (the create token) and the name is the
//! instance's identity; crash recovery adopts an instance of that name only when its
//! labels carry this create's three marks. Labels and metadata change in place; a new
//! machine type or accelerator stops the instance, patches it and starts it again (the
//! API refuses them on a running VM), as Terraform does; what else changes replaces it.
//! `desired_state` (`ACTIVE` or `STOPPED`, Terraform's) starts or stops the VM: a stopped
//! notebook keeps its disk and costs no compute, and the plan prices it so.

use super::{accepted, after_accept, Cx, ResourceType};
use crate::errors::{call_error, ok_if_not_found};
use crate::labels;
use crate::lro;
use crate::wire::{from_model, last_segment, non_empty, str_at, to_model, Body};
use gantry_provider::attrs::{complete, fill_unset, replace_on_change, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, Attribute, NestedBlock, Nesting, PlannedState, ProviderError,
    Schema, Timeouts, Type, Value,
};
use google_cloud_notebooks_v2::model::Instance;
use serde_json::{json, Map, Value as Json};
use std::time::Duration;

pub struct WorkbenchInstance;

const CREATE: Duration = Duration::from_secs(20 * 60);
const UPDATE: Duration = Duration::from_secs(20 * 60);

/// Arguments inside `gce_setup` whose change replaces the instance.
const FORCE_NEW_PATHS: [&str; 7] = [
    "gce_setup.service_accounts",
    "gce_setup.vm_image",
    "gce_setup.boot_disk",
    "gce_setup.network_interfaces",
    "gce_setup.disable_public_ip",
    "gce_setup.enable_ip_forwarding",
    "gce_setup.tags",
];

/// Blocks of `gce_setup` Workbench fills in when the configuration leaves them out.
const API_FILLED: [&str; 4] = [
    "service_accounts",
    "vm_image",
    "boot_disk",
    "network_interfaces",
];

/// Arguments inside `gce_setup` the API changes only on a stopped VM, with their mask paths.
const NEEDS_STOP: [(&str, &str); 2] = [
    ("machine_type", "gce_setup.machine_type"),
    ("accelerator_configs", "gce_setup.accelerator_configs"),
];

/// The accelerator types Workbench attaches (`AcceleratorConfig.type`).
const ACCELERATORS: [&str; 12] = [
    "NVIDIA_TESLA_P100",
    "NVIDIA_TESLA_V100",
    "NVIDIA_TESLA_P4",
    "NVIDIA_TESLA_T4",
    "NVIDIA_TESLA_A100",
    "NVIDIA_A100_80GB",
    "NVIDIA_L4",
    "NVIDIA_H100_80GB",
    "NVIDIA_H100_MEGA_80GB",
    "NVIDIA_TESLA_T4_VWS",
    "NVIDIA_TESLA_P100_VWS",
    "NVIDIA_TESLA_P4_VWS",
];

pub fn id_of(project: &str, location: &str, name: &str) -> String {
    format!("projects/{project}/locations/{location}/instances/{name}")
}

fn blocks(schema: Schema, max_items: Option<usize>) -> NestedBlock {
    NestedBlock {
        nesting: Nesting::List,
        schema,
        min_items: 0,
        max_items,
        force_new: false,
    }
}

fn gce_setup_schema() -> Schema {
    Schema::default()
        .attr("machine_type", Attribute::optional_computed(Type::String))
        .attr("disable_public_ip", Attribute::optional(Type::Bool))
        .attr("enable_ip_forwarding", Attribute::optional(Type::Bool))
        .attr("tags", Attribute::optional(Type::list(Type::String)))
        .attr("metadata", Attribute::optional(Type::map(Type::String)))
        .block(
            "accelerator_configs",
            blocks(
                Schema::default()
                    .attr("type", Attribute::required(Type::String))
                    .attr("core_count", Attribute::required(Type::Number)),
                None,
            ),
        )
        .block(
            "service_accounts",
            blocks(
                Schema::default()
                    .attr("email", Attribute::optional_computed(Type::String))
                    .attr("scopes", Attribute::computed(Type::list(Type::String))),
                Some(1),
            ),
        )
        .block(
            "vm_image",
            blocks(
                Schema::default()
                    .attr("project", Attribute::required(Type::String))
                    .attr("family", Attribute::optional(Type::String))
                    .attr("name", Attribute::optional(Type::String)),
                Some(1),
            ),
        )
        .block(
            "boot_disk",
            blocks(
                Schema::default()
                    .attr("disk_size_gb", Attribute::optional_computed(Type::Number))
                    .attr("disk_type", Attribute::optional_computed(Type::String)),
                Some(1),
            ),
        )
        .block(
            "network_interfaces",
            blocks(
                Schema::default()
                    .attr("network", Attribute::optional_computed(Type::String))
                    .attr("subnet", Attribute::optional_computed(Type::String))
                    .attr("nic_type", Attribute::optional(Type::String)),
                None,
            ),
        )
}

#[async_trait]
impl ResourceType for WorkbenchInstance {
    fn name(&self) -> &'static str {
        "google_workbench_instance"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr("location", Attribute::required(Type::String).force_new())
            .attr(
                "project",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "instance_owners",
                Attribute::optional(Type::list(Type::String)).force_new(),
            )
            .attr(
                "disable_proxy_access",
                Attribute::optional(Type::Bool).force_new(),
            )
            .attr("labels", Attribute::optional(Type::map(Type::String)))
            .attr(
                "effective_labels",
                Attribute::computed(Type::map(Type::String)),
            )
            .attr("proxy_uri", Attribute::computed(Type::String))
            .attr("state", Attribute::computed(Type::String))
            .attr(
                "desired_state",
                Attribute::optional(Type::String).with_default(Value::string(ACTIVE)),
            )
            .attr("health_state", Attribute::computed(Type::String))
            .attr("creator", Attribute::computed(Type::String))
            .attr("create_time", Attribute::computed(Type::String))
            .attr("update_time", Attribute::computed(Type::String))
            .block("gce_setup", blocks(gce_setup_schema(), Some(1)))
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
        if let Some(state) = a
            .str("desired_state")
            .filter(|s| ![ACTIVE, STOPPED].contains(s))
        {
            problems.push(format!(
                "`desired_state` must be {ACTIVE} or {STOPPED}, not {state:?}"
            ));
        }
        if let Some(location) = a.str("location") {
            if crate::sim_model::region_of_zone(location).is_none() {
                problems.push(format!(
                    "`location` is the zone of the instance (\"us-central1-a\"), not {location:?}"
                ));
            }
        }
        let Some(setup) = a.block("gce_setup") else {
            return problems;
        };
        for accelerator in setup.blocks("accelerator_configs") {
            if let Some(kind) = accelerator.str("type") {
                if !ACCELERATORS.contains(&kind) {
                    problems.push(format!(
                        "`gce_setup.accelerator_configs.type` must be one of {}, not {kind:?}",
                        ACCELERATORS.join(", ")
                    ));
                }
            }
        }
        if let Some(image) = setup.block("vm_image") {
            if image.str("family").is_some() == image.str("name").is_some() {
                problems.push("`gce_setup.vm_image` takes one of `family` and `name`".to_owned());
            }
        }
        problems
    }

    /// What the API fills in inside `gce_setup` (the machine type, the default service
    /// account and its scopes, the boot disk, the network) stays as read.
    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        let mut config = config.clone();
        if let (Some(prior), Value::Map(c)) = (prior, &mut config) {
            let set = c.get("gce_setup").cloned().unwrap_or(Value::Null);
            let before = Attrs(prior)
                .get("gce_setup")
                .cloned()
                .unwrap_or(Value::Null);
            let mut setup = fill_unset(&set, &before);
            if let (Value::List(now), Value::List(was)) = (&mut setup, &before) {
                if let (Some(now), Some(was)) = (now.first_mut(), was.first()) {
                    super::keep_unwritten_blocks(now, was, &API_FILLED);
                }
            }
            c.insert("gce_setup".into(), setup);
        }
        let mut planned = plan_from_schema(schema, prior, &config);
        replace_on_change(schema, prior, &config, &mut planned, &FORCE_NEW_PATHS);
        Ok(planned)
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let project = cx.project(planned).to_owned();
        let location = a.req_str("location")?.to_owned();
        let name = a.req_str("name")?.to_owned();
        let labels = labels::desired(&cx.settings.default_labels, &a.str_map("labels"), cx.op);
        let mut body = Body::new();
        body.set("instanceOwners", a.get("instance_owners"))
            .set("disableProxyAccess", a.get("disable_proxy_access"))
            .put("labels", json!(labels));
        if let Some(setup) = a.block("gce_setup") {
            body.put("gceSetup", gce_setup_json(&setup));
        }
        let instance: Instance = to_model("instances.create", body.into_json())?;
        let op = cx
            .settings
            .clients
            .workbench
            .create_instance()
            .set_parent(format!("projects/{project}/locations/{location}"))
            .set_instance_id(&name)
            .set_instance(instance)
            .set_request_id(cx.request_id()?.unwrap_or_default())
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
            let full = id_of(&project, &location, &name);
            if a.str("desired_state") == Some(STOPPED) {
                self.power(cx, &full, Power::Stop).await?;
            }
            self.read_named(cx, &project, &location, &name, planned)
                .await?
                .ok_or_else(|| {
                    ProviderError::fatal(format!(
                        "Workbench instance {name} vanished after its create"
                    ))
                })
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        let a = Attrs(state);
        self.read_named(
            cx,
            cx.project(state),
            a.req_str("location")?,
            a.req_str("name")?,
            state,
        )
        .await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let a = Attrs(prior);
        let p = Attrs(planned);
        let project = cx.project(prior).to_owned();
        let location = a.req_str("location")?.to_owned();
        let name = a.req_str("name")?.to_owned();
        let full = id_of(&project, &location, &name);
        let mut mask = Vec::new();
        let mut body = Body::new();
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
        let before = a.block("gce_setup");
        let after = p.block("gce_setup");
        let changed = |attr: &str| {
            before.as_ref().and_then(|b| b.get(attr)) != after.as_ref().and_then(|s| s.get(attr))
        };
        if changed("metadata") {
            mask.push("gce_setup.metadata");
        }
        let mut needs_stop = false;
        for (attr, path) in NEEDS_STOP {
            if changed(attr) {
                mask.push(path);
                needs_stop = true;
            }
        }
        if mask.iter().any(|m| m.starts_with("gce_setup.")) {
            // The whole setup travels; the mask names what changes.
            if let Some(setup) = &after {
                body.put("gceSetup", gce_setup_json(setup));
            }
        }
        if !mask.is_empty() {
            let running = a.str("state") == Some("ACTIVE");
            if needs_stop && running {
                self.power(cx, &full, Power::Stop).await?;
            }
            let mut instance: Instance = to_model("instances.patch", body.into_json())?;
            instance.name = full.clone();
            let op = cx
                .settings
                .clients
                .workbench
                .update_instance()
                .set_instance(instance)
                .set_update_mask(google_cloud_wkt::FieldMask::default().set_paths(mask))
                .send()
                .await
                .map_err(|e| call_error("instances.patch", e))?;
            lro::wait(
                cx,
                from_model(&op),
                "instances.patch",
                cx.op.timeout_or(UPDATE),
                None,
                |n| get_operation(cx, n),
            )
            .await?;
            if needs_stop && running && p.str("desired_state") != Some(STOPPED) {
                self.power(cx, &full, Power::Start).await?;
            }
        }
        // Started or stopped as `desired_state` says, from whatever the VM is now.
        if let Some(now) = self
            .read_named(cx, &project, &location, &name, planned)
            .await?
        {
            let state = Attrs(&now).str("state").map(str::to_owned);
            match (p.str("desired_state"), state.as_deref()) {
                (Some(STOPPED), Some(ACTIVE)) => self.power(cx, &full, Power::Stop).await?,
                (Some(ACTIVE) | None, Some(STOPPED)) => self.power(cx, &full, Power::Start).await?,
                _ => {}
            }
        }
        self.read_named(cx, &project, &location, &name, planned)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("Workbench instance {name} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let name = id_of(
            cx.project(state),
            a.req_str("location")?,
            a.req_str("name")?,
        );
        let sent = cx
            .settings
            .clients
            .workbench
            .delete_instance()
            .set_name(&name)
            .send()
            .await
            .map_err(|e| call_error("instances.delete", e));
        let Some(op) = ok_if_not_found(sent)? else {
            return Ok(());
        };
        let waited = lro::wait(
            cx,
            from_model(&op),
            "instances.delete",
            cx.op.timeout_or(UPDATE),
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

    /// An instance of this name is this create's only when its labels carry all three of
    /// this create's marks.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let a = Attrs(planned);
        let read = self
            .read_named(
                cx,
                cx.project(planned),
                a.req_str("location")?,
                a.req_str("name")?,
                planned,
            )
            .await?;
        Ok(labels::adopt_if_ours(cx.op, read))
    }
}

enum Power {
    Stop,
    Start,
}

/// `desired_state`'s values, which are also the API's running and stopped states.
const ACTIVE: &str = "ACTIVE";
const STOPPED: &str = "STOPPED";

/// One `operations.get` of the Notebooks API.
async fn get_operation(cx: &Cx<'_>, name: String) -> Result<Json> {
    let op = cx
        .settings
        .clients
        .workbench
        .get_operation()
        .set_name(name)
        .send()
        .await
        .map_err(|e| call_error("operations.get", e))?;
    Ok(from_model(&op))
}

fn gce_setup_json(s: &Attrs<'_>) -> Json {
    let mut setup = Body::new();
    setup
        .set("machineType", s.get("machine_type"))
        .set("disablePublicIp", s.get("disable_public_ip"))
        .set("enableIpForwarding", s.get("enable_ip_forwarding"))
        .set("tags", s.get("tags"))
        .set("metadata", s.get("metadata"));
    let accelerators: Vec<Json> = s
        .blocks("accelerator_configs")
        .iter()
        .map(|c| {
            json!({
                "type": c.str("type"),
                // int64 travels as a string on the wire.
                "coreCount": c.i64("core_count").map(|n| n.to_string()),
            })
        })
        .collect();
    if !accelerators.is_empty() {
        setup.put("acceleratorConfigs", Json::Array(accelerators));
    }
    let accounts: Vec<Json> = s
        .blocks("service_accounts")
        .iter()
        .filter_map(|a| a.str("email"))
        .map(|email| json!({ "email": email }))
        .collect();
    if !accounts.is_empty() {
        setup.put("serviceAccounts", Json::Array(accounts));
    }
    if let Some(image) = s.block("vm_image") {
        let mut vm = Map::new();
        for field in ["project", "family", "name"] {
            if let Some(v) = image.str(field) {
                vm.insert(field.to_owned(), json!(v));
            }
        }
        setup.put("vmImage", Json::Object(vm));
    }
    if let Some(disk) = s.block("boot_disk") {
        let mut boot = Body::new();
        if let Some(size) = disk.i64("disk_size_gb") {
            boot.put("diskSizeGb", json!(size.to_string()));
        }
        boot.set("diskType", disk.get("disk_type"));
        setup.put("bootDisk", boot.into_json());
    }
    let nics: Vec<Json> = s
        .blocks("network_interfaces")
        .iter()
        .map(|n| {
            let mut nic = Body::new();
            nic.set("network", n.get("network"))
                .set("subnet", n.get("subnet"))
                .set("nicType", n.get("nic_type"));
            nic.into_json()
        })
        .collect();
    if !nics.is_empty() {
        setup.put("networkInterfaces", Json::Array(nics));
    }
    setup.into_json()
}

impl WorkbenchInstance {
    /// Stops or starts the VM and waits for it.
    async fn power(&self, cx: &Cx<'_>, name: &str, power: Power) -> Result<()> {
        let client = &cx.settings.clients.workbench;
        let (what, sent) = match power {
            Power::Stop => (
                "instances.stop",
                client.stop_instance().set_name(name).send().await,
            ),
            Power::Start => (
                "instances.start",
                client.start_instance().set_name(name).send().await,
            ),
        };
        let op = sent.map_err(|e| call_error(what, e))?;
        lro::wait(
            cx,
            from_model(&op),
            what,
            cx.op.timeout_or(UPDATE),
            None,
            |n| get_operation(cx, n),
        )
        .await
        .map(drop)
    }

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
            .workbench
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
            .set("proxy_uri", non_empty(&instance.proxy_uri))
            .set("creator", non_empty(&instance.creator))
            // Enums from the typed model: its JSON carries their proto numbers.
            .set_opt("state", instance.state.name())
            .set_opt("health_state", instance.health_state.name())
            .set_opt("create_time", str_at(&json, "createTime"))
            .set_opt("update_time", str_at(&json, "updateTime"))
            .set(
                "labels",
                labels::user_attribute(&all, &cx.settings.default_labels, &b),
            )
            .set("effective_labels", gantry_provider::attrs::str_map(&all));
        if !instance.instance_owners.is_empty() || b.get("instance_owners").is_some() {
            s.set_strs("instance_owners", &instance.instance_owners);
        }
        // `desired_state` is the configuration's; a VM started or stopped behind gantry's
        // back reads as the state it is in, so the next plan puts it back.
        let actual = instance.state.name();
        let desired = match (b.str("desired_state"), actual) {
            (Some(STOPPED), Some(ACTIVE)) => ACTIVE,
            (Some(ACTIVE) | None, Some(STOPPED)) => STOPPED,
            (Some(d), _) if d == STOPPED => STOPPED,
            _ => ACTIVE,
        };
        s.set("desired_state", desired);
        if let Some(setup) = instance.gce_setup() {
            s.set(
                "gce_setup",
                Value::List(vec![gce_setup_value(setup, b.block("gce_setup"))]),
            );
        }
        complete(&mut s, &self.schema());
        Ok(Some(s.into_value()))
    }
}

/// `gce_setup` as read, with what the configuration left unset kept unset where the API
/// answers with its default (so an unset argument is not planned as a change).
fn gce_setup_value(
    setup: &google_cloud_notebooks_v2::model::GceSetup,
    configured: Option<Attrs<'_>>,
) -> Value {
    let set = |attr: &str| {
        configured
            .as_ref()
            .and_then(|c| c.get(attr))
            .is_some_and(|v| !v.is_null())
    };
    let mut s = Obj::new();
    s.set("machine_type", non_empty(last_segment(&setup.machine_type)));
    s.set(
        "disable_public_ip",
        if setup.disable_public_ip || set("disable_public_ip") {
            Value::Bool(setup.disable_public_ip)
        } else {
            Value::Null
        },
    );
    s.set(
        "enable_ip_forwarding",
        if setup.enable_ip_forwarding || set("enable_ip_forwarding") {
            Value::Bool(setup.enable_ip_forwarding)
        } else {
            Value::Null
        },
    );
    if setup.tags.is_empty() && !set("tags") {
        s.set("tags", Value::Null);
    } else {
        s.set_strs("tags", &setup.tags);
    }
    // The API adds its own metadata keys (proxy settings); only the configured ones are
    // the user's.
    let configured_metadata = configured
        .as_ref()
        .map(|c| c.str_map("metadata"))
        .unwrap_or_default();
    let metadata: std::collections::BTreeMap<String, String> = setup
        .metadata
        .iter()
        .filter(|(k, _)| configured_metadata.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if metadata.is_empty() && !set("metadata") {
        s.set("metadata", Value::Null);
    } else {
        s.set_str_map("metadata", &metadata);
    }
    s.set(
        "accelerator_configs",
        Value::List(
            setup
                .accelerator_configs
                .iter()
                .map(|c| {
                    Value::map([
                        ("type", Value::string(c.r#type.name().unwrap_or_default())),
                        ("core_count", Value::Number(c.core_count as f64)),
                    ])
                })
                .collect(),
        ),
    );
    s.set(
        "service_accounts",
        Value::List(
            setup
                .service_accounts
                .iter()
                .map(|a| {
                    Value::map([
                        ("email", non_empty(&a.email)),
                        ("scopes", gantry_provider::attrs::strs(&a.scopes)),
                    ])
                })
                .collect(),
        ),
    );
    let image = serde_json::to_value(setup).unwrap_or(Json::Null);
    s.set(
        "vm_image",
        match image.get("vmImage") {
            Some(vm) => Value::List(vec![Value::map([
                ("project", non_empty(str_at(vm, "project").unwrap_or(""))),
                ("family", non_empty(str_at(vm, "family").unwrap_or(""))),
                ("name", non_empty(str_at(vm, "name").unwrap_or(""))),
            ])]),
            None => Value::List(Vec::new()),
        },
    );
    s.set(
        "boot_disk",
        match &setup.boot_disk {
            Some(d) => Value::List(vec![Value::map([
                (
                    "disk_size_gb",
                    if d.disk_size_gb > 0 {
                        Value::Number(d.disk_size_gb as f64)
                    } else {
                        Value::Null
                    },
                ),
                (
                    "disk_type",
                    d.disk_type
                        .name()
                        .filter(|n| !n.ends_with("UNSPECIFIED"))
                        .map_or(Value::Null, Value::string),
                ),
            ])]),
            None => Value::List(Vec::new()),
        },
    );
    s.set(
        "network_interfaces",
        Value::List(
            setup
                .network_interfaces
                .iter()
                .map(|n| {
                    Value::map([
                        ("network", non_empty(&n.network)),
                        ("subnet", non_empty(&n.subnet)),
                        (
                            "nic_type",
                            n.nic_type
                                .name()
                                .filter(|t| !t.ends_with("UNSPECIFIED"))
                                .map_or(Value::Null, Value::string),
                        ),
                    ])
                })
                .collect(),
        ),
    );
    s.into_value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accelerators_and_zones_are_checked_at_plan() {
        let config = |location: &str, accelerator: &str| {
            Value::map([
                ("name", Value::string("notebook")),
                ("location", Value::string(location)),
                (
                    "gce_setup",
                    Value::List(vec![Value::map([(
                        "accelerator_configs",
                        Value::List(vec![Value::map([
                            ("type", Value::string(accelerator)),
                            ("core_count", Value::Number(1.0)),
                        ])]),
                    )])]),
                ),
            ])
        };
        assert!(WorkbenchInstance
            .validate(&config("us-central1-a", "NVIDIA_L4"))
            .is_empty());
        let problems = WorkbenchInstance.validate(&config("us-central1", "NVIDIA_L4"));
        assert!(problems[0].contains("zone"), "{problems:?}");
        let problems = WorkbenchInstance.validate(&config("us-central1-a", "nvidia-l4"));
        assert!(problems[0].contains("NVIDIA_L4"), "{problems:?}");
    }
}

#[cfg(test)]
mod plan_tests {
    use super::*;

    #[test]
    fn blocks_the_api_fills_are_kept_when_unwritten() {
        let nic = Value::map([
            (
                "network",
                Value::string("projects/p/global/networks/default"),
            ),
            ("subnet", Value::Null),
            ("nic_type", Value::Null),
        ]);
        let prior = Value::map([
            ("name", Value::string("nb")),
            ("location", Value::string("us-central1-a")),
            (
                "gce_setup",
                Value::List(vec![Value::map([
                    ("machine_type", Value::string("g2-standard-8")),
                    ("network_interfaces", Value::List(vec![nic])),
                ])]),
            ),
        ]);
        let config = Value::map([
            ("name", Value::string("nb")),
            ("location", Value::string("us-central1-a")),
            (
                "gce_setup",
                Value::List(vec![Value::map([
                    ("machine_type", Value::string("g2-standard-8")),
                    ("network_interfaces", Value::List(Vec::new())),
                ])]),
            ),
        ]);
        let schema = WorkbenchInstance.schema();
        let planned = WorkbenchInstance
            .plan(&schema, Some(&prior), &config)
            .expect("plan");
        assert!(
            planned.requires_replace.is_empty(),
            "{:?}",
            planned.requires_replace
        );
    }
}
