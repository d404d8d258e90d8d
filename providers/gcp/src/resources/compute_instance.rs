//! `google_compute_instance`: a VM, GPU machines included (A3/A2/G2 with their attached
//! GPUs, or `guest_accelerator` on N1), spot and flex-start, reservations, compact
//! placement through resource policies, local SSDs and several NICs for GPUDirect.
//!
//! Labels change in place (`setLabels`); every other argument replaces the VM (Terraform
//! stops and edits some of them in place with `allow_stopping_for_update`).

use super::{accepted, after_accept, Cx, ResourceType};
use crate::errors::{call_error, ok_if_not_found};
use crate::labels::{self, Labels};
use crate::operations::{self, Scope};
use crate::wire::{from_model, last_segment, relative_name, same_reference, str_at, to_model};
use gantry_provider::attrs::{complete, fill_unset, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, Attribute, NestedBlock, Nesting, PlannedState, ProviderError,
    Schema, Timeouts, Type, Value,
};
use google_cloud_compute_v1::model::{Instance, InstancesSetLabelsRequest};
use serde_json::{json, Map, Value as Json};
use std::time::Duration;

pub struct ComputeInstance;

const CREATE: Duration = Duration::from_secs(20 * 60);

fn block(nesting: Nesting, schema: Schema, min: usize, max: Option<usize>) -> NestedBlock {
    NestedBlock {
        nesting,
        schema,
        min_items: min,
        max_items: max,
        force_new: true,
    }
}

fn id_of(project: &str, zone: &str, name: &str) -> String {
    format!("projects/{project}/zones/{zone}/instances/{name}")
}

/// Machine families whose GPUs come with the machine type (no `guest_accelerator`).
fn has_built_in_gpus(machine_type: &str) -> bool {
    ["a2-", "a3-", "a4-", "g2-", "g4-"]
        .iter()
        .any(|p| machine_type.starts_with(p))
}

#[async_trait]
impl ResourceType for ComputeInstance {
    fn name(&self) -> &'static str {
        "google_compute_instance"
    }

    fn schema(&self) -> Schema {
        let boot_disk = Schema::default()
            .attr(
                "auto_delete",
                Attribute::optional(Type::Bool).with_default(true),
            )
            .attr("device_name", Attribute::optional_computed(Type::String))
            .block(
                "initialize_params",
                block(
                    Nesting::List,
                    Schema::default()
                        .attr("image", Attribute::optional(Type::String))
                        .attr("size", Attribute::optional(Type::Number))
                        .attr("type", Attribute::optional(Type::String)),
                    0,
                    Some(1),
                ),
            );
        let nic = Schema::default()
            .attr("network", Attribute::optional_computed(Type::String))
            .attr("subnetwork", Attribute::optional_computed(Type::String))
            .attr("network_ip", Attribute::optional_computed(Type::String))
            .attr("nic_type", Attribute::optional(Type::String))
            .attr("name", Attribute::computed(Type::String))
            .block(
                "access_config",
                block(
                    Nesting::List,
                    Schema::default().attr("nat_ip", Attribute::optional_computed(Type::String)),
                    0,
                    None,
                ),
            );
        let scheduling = Schema::default()
            .attr(
                "preemptible",
                Attribute::optional(Type::Bool).with_default(false),
            )
            .attr(
                "automatic_restart",
                Attribute::optional_computed(Type::Bool),
            )
            .attr(
                "on_host_maintenance",
                Attribute::optional_computed(Type::String),
            )
            .attr(
                "provisioning_model",
                Attribute::optional_computed(Type::String),
            )
            .attr(
                "instance_termination_action",
                Attribute::optional(Type::String),
            );
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr(
                "machine_type",
                Attribute::required(Type::String).force_new(),
            )
            .attr(
                "zone",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "project",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("description", Attribute::optional(Type::String).force_new())
            .attr("labels", Attribute::optional(Type::map(Type::String)))
            .attr(
                "effective_labels",
                Attribute::computed(Type::map(Type::String)),
            )
            .attr(
                "metadata",
                Attribute::optional(Type::map(Type::String)).force_new(),
            )
            .attr(
                "tags",
                Attribute::optional(Type::set(Type::String)).force_new(),
            )
            .attr(
                "can_ip_forward",
                Attribute::optional(Type::Bool)
                    .with_default(false)
                    .force_new(),
            )
            .attr(
                "resource_policies",
                Attribute::optional(Type::list(Type::String)).force_new(),
            )
            .attr("instance_id", Attribute::computed(Type::String))
            .attr("self_link", Attribute::computed(Type::String))
            .attr("current_status", Attribute::computed(Type::String))
            .attr("cpu_platform", Attribute::computed(Type::String))
            .attr("label_fingerprint", Attribute::computed(Type::String))
            .block("boot_disk", block(Nesting::List, boot_disk, 1, Some(1)))
            .block(
                "scratch_disk",
                block(
                    Nesting::List,
                    Schema::default()
                        .attr(
                            "interface",
                            Attribute::optional(Type::String).with_default("NVME"),
                        )
                        .attr(
                            "size",
                            Attribute::optional(Type::Number).with_default(375.0),
                        ),
                    0,
                    None,
                ),
            )
            .block("network_interface", block(Nesting::List, nic, 1, None))
            .block(
                "guest_accelerator",
                block(
                    Nesting::List,
                    Schema::default()
                        .attr("type", Attribute::required(Type::String))
                        .attr("count", Attribute::required(Type::Number)),
                    0,
                    None,
                ),
            )
            .block("scheduling", block(Nesting::List, scheduling, 0, Some(1)))
            .block(
                "reservation_affinity",
                block(
                    Nesting::List,
                    Schema::default()
                        .attr("type", Attribute::required(Type::String))
                        .block(
                            "specific_reservation",
                            block(
                                Nesting::List,
                                Schema::default()
                                    .attr("key", Attribute::required(Type::String))
                                    .attr("values", Attribute::required(Type::list(Type::String))),
                                0,
                                Some(1),
                            ),
                        ),
                    0,
                    Some(1),
                ),
            )
            .block(
                "service_account",
                block(
                    Nesting::List,
                    Schema::default()
                        .attr("email", Attribute::optional_computed(Type::String))
                        .attr("scopes", Attribute::required(Type::set(Type::String))),
                    0,
                    Some(1),
                ),
            )
            .with_timeouts(Timeouts {
                create: Some(CREATE),
                update: Some(CREATE),
                delete: Some(CREATE),
            })
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut problems = Vec::new();
        if let Some(name) = a.str("name") {
            problems.extend(super::check_name(name));
        }
        let sched = a.block("scheduling");
        let model = sched.and_then(|s| s.str("provisioning_model"));
        if let Some(m) = model {
            if !matches!(m, "STANDARD" | "SPOT" | "FLEX_START") {
                problems.push(format!(
                    "`scheduling.provisioning_model` must be STANDARD, SPOT or FLEX_START, not {m:?}"
                ));
            }
        }
        if let Some(action) = sched.and_then(|s| s.str("instance_termination_action")) {
            if !matches!(action, "STOP" | "DELETE") {
                problems.push(format!(
                    "`scheduling.instance_termination_action` must be STOP or DELETE, not {action:?}"
                ));
            }
        }
        let gpus = !a.blocks("guest_accelerator").is_empty()
            || a.str("machine_type").is_some_and(has_built_in_gpus);
        let spot = model == Some("SPOT") || sched.and_then(|s| s.bool("preemptible")) == Some(true);
        let maintenance = sched.and_then(|s| s.str("on_host_maintenance"));
        if (gpus || spot) && maintenance != Some("TERMINATE") && a.get("machine_type").is_some() {
            let why = if gpus { "a VM with GPUs" } else { "a spot VM" };
            problems.push(format!(
                "{why} cannot live-migrate: set `scheduling {{ on_host_maintenance = \"TERMINATE\" }}`"
            ));
        }
        if let Some(r) = a.block("reservation_affinity") {
            let kind = r.str("type").unwrap_or_default();
            if !matches!(
                kind,
                "ANY_RESERVATION" | "SPECIFIC_RESERVATION" | "NO_RESERVATION"
            ) {
                problems.push(format!(
                    "`reservation_affinity.type` must be ANY_RESERVATION, SPECIFIC_RESERVATION or NO_RESERVATION, not {kind:?}"
                ));
            }
            if (kind == "SPECIFIC_RESERVATION") != r.block("specific_reservation").is_some() {
                problems.push(
                    "`specific_reservation` is given exactly when `reservation_affinity.type` is SPECIFIC_RESERVATION".to_owned(),
                );
            }
        }
        problems
    }

    /// What the cloud fills in inside the blocks (a NIC's network, address and name;
    /// scheduling defaults) stays as read when the configuration leaves it unset.
    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        let mut config = config.clone();
        if let (Some(prior), Value::Map(c)) = (prior, &mut config) {
            for name in ["network_interface", "scheduling", "boot_disk"] {
                let set = c.get(name).cloned().unwrap_or(Value::Null);
                let before = Attrs(prior).get(name).cloned().unwrap_or(Value::Null);
                c.insert(name.into(), fill_unset(&set, &before));
            }
        }
        Ok(plan_from_schema(schema, prior, &config))
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let project = cx.project(planned).to_owned();
        let zone = super::zone_of(cx, &a, "instance")?;
        let name = a.req_str("name")?.to_owned();
        let labels = labels::desired(&cx.settings.default_labels, &a.str_map("labels"), cx.op);
        let body = instance_body(&a, &zone, &labels);
        let instance: Instance = to_model("instances.insert", body)?;
        let op = cx
            .settings
            .clients
            .instances
            .insert()
            .set_project(&project)
            .set_zone(&zone)
            .set_or_clear_request_id(cx.request_id()?)
            .set_body(instance)
            .send()
            .await
            .map_err(|e| call_error("instances.insert", e))?;
        let known = accepted(planned, &id_of(&project, &zone, &name));
        after_accept(known, async {
            operations::wait(cx, op, "instances.insert", cx.op.timeout_or(CREATE)).await?;
            self.read_named(cx, &project, &zone, &name, planned)
                .await?
                .ok_or_else(|| {
                    ProviderError::fatal(format!("instance {name} vanished after its insert"))
                })
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        let a = Attrs(state);
        let zone = super::zone_of(cx, &a, "instance")?;
        self.read_named(cx, cx.project(state), &zone, a.req_str("name")?, state)
            .await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let a = Attrs(prior);
        let project = cx.project(prior).to_owned();
        let zone = super::zone_of(cx, &a, "instance")?;
        let name = a.req_str("name")?.to_owned();
        // Only labels change in place; the fingerprint makes a concurrent change fail
        // (412) rather than be overwritten.
        let current = self
            .read_named(cx, &project, &zone, &name, prior)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("instance {name} is gone")))?;
        let fingerprint = Attrs(&current)
            .str("label_fingerprint")
            .unwrap_or_default()
            .to_owned();
        let wanted = labels::for_update(
            &cx.settings.default_labels,
            &Attrs(planned).str_map("labels"),
            cx.op,
            &Attrs(&current).str_map("effective_labels"),
        );
        let request: InstancesSetLabelsRequest = to_model(
            "instances.setLabels",
            json!({ "labels": wanted, "labelFingerprint": fingerprint }),
        )?;
        let op = cx
            .settings
            .clients
            .instances
            .set_labels()
            .set_project(&project)
            .set_zone(&zone)
            .set_instance(&name)
            .set_body(request)
            .send()
            .await
            .map_err(|e| call_error("instances.setLabels", e))?;
        operations::wait(cx, op, "instances.setLabels", cx.op.timeout_or(CREATE)).await?;
        self.read_named(cx, &project, &zone, &name, planned)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("instance {name} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let zone = super::zone_of(cx, &a, "instance")?;
        let sent = cx
            .settings
            .clients
            .instances
            .delete()
            .set_project(cx.project(state))
            .set_zone(&zone)
            .set_instance(a.req_str("name")?)
            .send()
            .await;
        super::finish_delete(cx, sent, "instances.delete", CREATE).await
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        let (project, zone, name) =
            super::split_scoped_id(id, "zones", "instances", &cx.settings.project)?;
        self.read_named(cx, &project, &zone, &name, &Value::Null)
            .await
    }

    async fn find_created(
        &self,
        cx: &Cx<'_>,
        token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let a = Attrs(planned);
        let project = cx.project(planned).to_owned();
        let zone = super::zone_of(cx, &a, "instance")?;
        let name = a.req_str("name")?.to_owned();
        let target = id_of(&project, &zone, &name);
        let scope = Scope::Zone(zone.clone());
        let proved = super::insert_proved(cx, &scope, token, &target, "instances.insert", CREATE);
        if proved.await? == Some(false) {
            return Ok(None);
        }
        // The operation proved it, or it has expired: the labels decide (all three marks).
        let Some(state) = self.read_named(cx, &project, &zone, &name, planned).await? else {
            return Ok(None);
        };
        let on_object = Attrs(&state).str_map("effective_labels");
        Ok(labels::are_ours(cx.op, &on_object).then_some(state))
    }
}

/// A zonal catalogue reference (`zones/z/machineTypes/t`) unless already a path or link.
fn zonal(zone: &str, kind: &str, value: &str) -> String {
    if value.contains('/') {
        value.to_owned()
    } else {
        format!("zones/{zone}/{kind}/{value}")
    }
}

fn instance_body(a: &Attrs<'_>, zone: &str, labels: &Labels) -> Json {
    let mut body = Map::new();
    let mut put = |k: &str, v: Json| {
        body.insert(k.to_owned(), v);
    };
    put("name", json!(a.str("name")));
    put(
        "machineType",
        json!(zonal(
            zone,
            "machineTypes",
            a.str("machine_type").unwrap_or_default()
        )),
    );
    if let Some(d) = a.str("description") {
        put("description", json!(d));
    }
    put("labels", json!(labels));
    put(
        "canIpForward",
        json!(a.bool("can_ip_forward").unwrap_or(false)),
    );
    let mut disks = Vec::new();
    for boot in a.blocks("boot_disk") {
        let mut params = Map::new();
        if let Some(init) = boot.block("initialize_params") {
            if let Some(image) = init.str("image") {
                params.insert("sourceImage".into(), json!(image));
            }
            if let Some(size) = init.num("size") {
                params.insert("diskSizeGb".into(), json!((size as i64).to_string()));
            }
            if let Some(t) = init.str("type") {
                params.insert("diskType".into(), json!(zonal(zone, "diskTypes", t)));
            }
        }
        let mut disk = json!({ "boot": true, "autoDelete": boot.bool("auto_delete").unwrap_or(true), "initializeParams": params });
        if let Some(name) = boot.str("device_name") {
            disk["deviceName"] = json!(name);
        }
        disks.push(disk);
    }
    for scratch in a.blocks("scratch_disk") {
        disks.push(json!({
            "type": "SCRATCH",
            "autoDelete": true,
            "interface": scratch.str("interface").unwrap_or("NVME"),
            "initializeParams": {
                "diskType": zonal(zone, "diskTypes", "local-ssd"),
                "diskSizeGb": (scratch.num("size").unwrap_or(375.0) as i64).to_string(),
            },
        }));
    }
    put("disks", Json::Array(disks));
    let nics: Vec<Json> = a
        .blocks("network_interface")
        .iter()
        .map(|nic| {
            let mut n = Map::new();
            for (attr, field) in [
                ("network", "network"),
                ("subnetwork", "subnetwork"),
                ("network_ip", "networkIP"),
                ("nic_type", "nicType"),
            ] {
                if let Some(v) = nic.str(attr) {
                    n.insert(field.into(), json!(v));
                }
            }
            let access: Vec<Json> = nic
                .blocks("access_config")
                .iter()
                .map(|ac| {
                    let mut c = json!({ "type": "ONE_TO_ONE_NAT", "name": "External NAT" });
                    if let Some(ip) = ac.str("nat_ip") {
                        c["natIP"] = json!(ip);
                    }
                    c
                })
                .collect();
            if !access.is_empty() {
                n.insert("accessConfigs".into(), Json::Array(access));
            }
            Json::Object(n)
        })
        .collect();
    put("networkInterfaces", Json::Array(nics));
    let gpus: Vec<Json> = a
        .blocks("guest_accelerator")
        .iter()
        .map(|g| {
            json!({
                "acceleratorType": zonal(zone, "acceleratorTypes", g.str("type").unwrap_or_default()),
                "acceleratorCount": g.num("count").unwrap_or(1.0) as i64,
            })
        })
        .collect();
    if !gpus.is_empty() {
        put("guestAccelerators", Json::Array(gpus));
    }
    if let Some(s) = a.block("scheduling") {
        let mut sched = Map::new();
        sched.insert(
            "preemptible".into(),
            json!(s.bool("preemptible").unwrap_or(false)),
        );
        for (attr, field) in [
            ("on_host_maintenance", "onHostMaintenance"),
            ("provisioning_model", "provisioningModel"),
            ("instance_termination_action", "instanceTerminationAction"),
        ] {
            if let Some(v) = s.str(attr) {
                sched.insert(field.into(), json!(v));
            }
        }
        if let Some(restart) = s.bool("automatic_restart") {
            sched.insert("automaticRestart".into(), json!(restart));
        }
        put("scheduling", Json::Object(sched));
    }
    if let Some(r) = a.block("reservation_affinity") {
        let mut affinity = json!({ "consumeReservationType": r.str("type") });
        if let Some(specific) = r.block("specific_reservation") {
            affinity["key"] = json!(specific.str("key"));
            affinity["values"] = json!(specific.strs("values"));
        }
        put("reservationAffinity", affinity);
    }
    let policies = a.strs("resource_policies");
    if !policies.is_empty() {
        put("resourcePolicies", json!(policies));
    }
    if let Some(sa) = a.block("service_account") {
        put(
            "serviceAccounts",
            json!([{ "email": sa.str("email").unwrap_or("default"), "scopes": sa.strs("scopes") }]),
        );
    }
    let metadata = a.str_map("metadata");
    if !metadata.is_empty() {
        let items: Vec<Json> = metadata
            .iter()
            .map(|(k, v)| json!({ "key": k, "value": v }))
            .collect();
        put("metadata", json!({ "items": items }));
    }
    let tags = a.strs("tags");
    if !tags.is_empty() {
        put("tags", json!({ "items": tags }));
    }
    Json::Object(body)
}

impl ComputeInstance {
    async fn read_named(
        &self,
        cx: &Cx<'_>,
        project: &str,
        zone: &str,
        name: &str,
        base: &Value,
    ) -> Result<Option<Value>> {
        let got = cx
            .settings
            .clients
            .instances
            .get()
            .set_project(project)
            .set_zone(zone)
            .set_instance(name)
            .send()
            .await
            .map_err(|e| call_error("instances.get", e));
        let Some(instance) = ok_if_not_found(got)? else {
            return Ok(None);
        };
        let json = from_model(&instance);
        let b = Attrs(base);
        let mut s = Obj::from(base);
        let self_link = str_at(&json, "selfLink").unwrap_or_default();
        let all = labels::from_json(json.get("labels"));
        s.set("id", relative_name(self_link))
            .set("name", str_at(&json, "name").unwrap_or_default())
            .set("project", project)
            .set("zone", zone)
            .set("self_link", self_link)
            .set_opt(
                "machine_type",
                str_at(&json, "machineType").map(last_segment),
            )
            .set_opt("current_status", str_at(&json, "status"))
            .set_opt("cpu_platform", str_at(&json, "cpuPlatform"))
            .set_opt("label_fingerprint", str_at(&json, "labelFingerprint"))
            .set_opt("instance_id", json.get("id").map(super::json_string))
            .set(
                "labels",
                labels::user_attribute(&all, &cx.settings.default_labels, &b),
            )
            .set("effective_labels", gantry_provider::attrs::str_map(&all))
            .set("guest_accelerator", accelerators(&json))
            .set("network_interface", interfaces(&json, &b));
        if let Some(sched) = json.get("scheduling") {
            let mut block = Obj::new();
            block
                .set(
                    "preemptible",
                    sched
                        .get("preemptible")
                        .and_then(Json::as_bool)
                        .unwrap_or(false),
                )
                .set_opt(
                    "automatic_restart",
                    sched.get("automaticRestart").and_then(Json::as_bool),
                )
                .set_opt("on_host_maintenance", str_at(sched, "onHostMaintenance"))
                .set_opt("provisioning_model", str_at(sched, "provisioningModel"))
                .set_opt(
                    "instance_termination_action",
                    str_at(sched, "instanceTerminationAction"),
                );
            if b.block("scheduling").is_some() || base.is_null() {
                s.set("scheduling", Value::List(vec![block.into_value()]));
            }
        }
        complete(&mut s, &self.schema());
        Ok(Some(s.into_value()))
    }
}

fn accelerators(json: &Json) -> Value {
    Value::List(
        json.get("guestAccelerators")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .map(|g| {
                Value::map([
                    (
                        "type",
                        Value::string(
                            str_at(g, "acceleratorType")
                                .map(last_segment)
                                .unwrap_or_default(),
                        ),
                    ),
                    (
                        "count",
                        Value::Number(
                            g.get("acceleratorCount")
                                .and_then(Json::as_f64)
                                .unwrap_or(0.0),
                        ),
                    ),
                ])
            })
            .collect(),
    )
}

/// The NICs as read, with each network and subnetwork kept as written while it names the
/// same object.
fn interfaces(json: &Json, base: &Attrs<'_>) -> Value {
    let written = base.blocks("network_interface");
    Value::List(
        json.get("networkInterfaces")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, nic)| {
                let before = written.get(i);
                let keep = |attr: &str, field: &str| {
                    let read = str_at(nic, field).unwrap_or_default();
                    match before.and_then(|b| b.str(attr)) {
                        Some(w) if same_reference(w, read) => Value::string(w),
                        _ if read.is_empty() => Value::Null,
                        _ => Value::string(read),
                    }
                };
                let access: Vec<Value> = nic
                    .get("accessConfigs")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .map(|ac| {
                        Value::map([(
                            "nat_ip",
                            str_at(ac, "natIP").map_or(Value::Null, Value::string),
                        )])
                    })
                    .collect();
                Value::map([
                    ("network", keep("network", "network")),
                    ("subnetwork", keep("subnetwork", "subnetwork")),
                    (
                        "network_ip",
                        str_at(nic, "networkIP").map_or(Value::Null, Value::string),
                    ),
                    (
                        "nic_type",
                        before
                            .and_then(|b| b.get("nic_type"))
                            .cloned()
                            .unwrap_or(Value::Null),
                    ),
                    (
                        "name",
                        str_at(nic, "name").map_or(Value::Null, Value::string),
                    ),
                    ("access_config", Value::List(access)),
                ])
            })
            .collect(),
    )
}
