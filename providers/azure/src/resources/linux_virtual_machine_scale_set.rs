//! `azurerm_linux_virtual_machine_scale_set`: the InfiniBand training fleet (ND H100 v5 in
//! one placement group and one fault domain, no overprovisioning, an HPC image) or any
//! other Linux fleet. A fleet Azure cannot allocate fails as Capacity (`AllocationFailed`,
//! `ZonalAllocationFailed`, `OverconstrainedAllocationRequest`); one past the family's
//! vCPU quota fails as Quota with the family, limit, usage and need. ARM keeps a scale set
//! whose allocation failed (provisioningState Failed): gantry records it, tainted, and
//! replaces it on the next apply.

use super::{json_strs, tracked_schema, tracked_state, ArmType, Cx};
use crate::arm::ids;
use gantry_provider::attrs::{num, opt_str, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, Attribute, NestedBlock, Nesting, Schema, Timeouts, Type, Value,
};
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct LinuxVirtualMachineScaleSet;

pub const KIND: &str = "Microsoft.Compute/virtualMachineScaleSets";

fn block(nesting: Nesting, schema: Schema, min: usize, max: Option<usize>) -> NestedBlock {
    NestedBlock {
        nesting,
        schema,
        min_items: min,
        max_items: max,
        force_new: false,
    }
}

#[async_trait]
impl ArmType for LinuxVirtualMachineScaleSet {
    fn name(&self) -> &'static str {
        "azurerm_linux_virtual_machine_scale_set"
    }

    fn schema(&self) -> Schema {
        let ssh_key = Schema::default()
            .attr("username", Attribute::required(Type::String))
            .attr("public_key", Attribute::required(Type::String));
        let image = Schema::default()
            .attr("publisher", Attribute::required(Type::String))
            .attr("offer", Attribute::required(Type::String))
            .attr("sku", Attribute::required(Type::String))
            .attr("version", Attribute::required(Type::String));
        let os_disk = Schema::default()
            .attr("caching", Attribute::required(Type::String))
            .attr("storage_account_type", Attribute::required(Type::String))
            .attr("disk_size_gb", Attribute::optional_computed(Type::Number));
        let ip_configuration = Schema::default()
            .attr("name", Attribute::required(Type::String))
            .attr(
                "primary",
                Attribute::optional(Type::Bool).with_default(false),
            )
            .attr("subnet_id", Attribute::optional(Type::String));
        let nic = Schema::default()
            .attr("name", Attribute::required(Type::String))
            .attr(
                "primary",
                Attribute::optional(Type::Bool).with_default(false),
            )
            .attr(
                "enable_accelerated_networking",
                Attribute::optional(Type::Bool).with_default(false),
            )
            .block(
                "ip_configuration",
                block(Nesting::List, ip_configuration, 1, None),
            );

        tracked_schema()
            .attr("sku", Attribute::required(Type::String))
            .attr(
                "instances",
                Attribute::optional(Type::Number).with_default(0.0),
            )
            .attr(
                "admin_username",
                Attribute::required(Type::String).force_new(),
            )
            .attr(
                "disable_password_authentication",
                Attribute::optional(Type::Bool)
                    .with_default(true)
                    .force_new(),
            )
            .attr("source_image_id", Attribute::optional(Type::String))
            .attr(
                "single_placement_group",
                Attribute::optional(Type::Bool).with_default(true),
            )
            .attr(
                "platform_fault_domain_count",
                Attribute::optional_computed(Type::Number).force_new(),
            )
            .attr(
                "overprovision",
                Attribute::optional(Type::Bool).with_default(true),
            )
            .attr(
                "priority",
                Attribute::optional(Type::String)
                    .with_default("Regular")
                    .force_new(),
            )
            .attr(
                "eviction_policy",
                Attribute::optional(Type::String).force_new(),
            )
            .attr(
                "max_bid_price",
                Attribute::optional(Type::Number).with_default(-1.0),
            )
            .attr(
                "zones",
                Attribute::optional(Type::set(Type::String)).force_new(),
            )
            .attr(
                "proximity_placement_group_id",
                Attribute::optional(Type::String).force_new(),
            )
            .attr(
                "upgrade_mode",
                Attribute::optional(Type::String)
                    .with_default("Manual")
                    .force_new(),
            )
            .attr("unique_id", Attribute::computed(Type::String))
            .block("admin_ssh_key", block(Nesting::Set, ssh_key, 0, None))
            .block(
                "source_image_reference",
                block(Nesting::Single, image, 0, Some(1)),
            )
            .block("os_disk", block(Nesting::Single, os_disk, 1, Some(1)))
            .block("network_interface", block(Nesting::List, nic, 1, None))
            .block("identity", super::managed_identity::block(0))
            .with_timeouts(Timeouts::all(Duration::from_secs(60 * 60)))
    }

    fn api_version(&self) -> &'static str {
        "2024-07-01"
    }

    fn default_timeout(&self) -> Duration {
        Duration::from_secs(60 * 60)
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut out = Vec::new();
        let image_ref = a.block("source_image_reference").is_some();
        let image_id = a.str("source_image_id").is_some();
        if image_ref == image_id {
            out.push("set exactly one of `source_image_reference` and `source_image_id`".into());
        }
        if a.bool("disable_password_authentication") != Some(false)
            && a.blocks("admin_ssh_key").is_empty()
        {
            out.push(
                "with password authentication disabled, an `admin_ssh_key` block is required"
                    .into(),
            );
        }
        if a.str("priority") == Some("Spot") && a.str("eviction_policy").is_none() {
            out.push("a Spot scale set needs `eviction_policy` (Delete or Deallocate)".into());
        }
        if let Some(p) = a
            .str("priority")
            .filter(|p| !["Regular", "Spot"].contains(p))
        {
            out.push(format!("`priority` {p:?} must be Regular or Spot"));
        }
        out
    }

    fn id(&self, cx: &Cx<'_>, a: &Attrs<'_>) -> Result<String> {
        Ok(ids::resource(
            cx.subscription(),
            a.req_str("resource_group_name")?,
            KIND,
            &[a.req_str("name")?],
        ))
    }

    fn body(&self, _cx: &Cx<'_>, a: &Attrs<'_>) -> Result<Json> {
        let user = a.req_str("admin_username")?;
        let keys: Vec<Json> = a
            .blocks("admin_ssh_key")
            .iter()
            .map(|k| json!({"path": format!("/home/{}/.ssh/authorized_keys", k.str("username").unwrap_or(user)), "keyData": k.str("public_key")}))
            .collect();
        let image = match (a.block("source_image_reference"), a.str("source_image_id")) {
            (Some(r), _) => {
                json!({"publisher": r.str("publisher"), "offer": r.str("offer"), "sku": r.str("sku"), "version": r.str("version")})
            }
            (None, Some(id)) => json!({"id": id}),
            (None, None) => Json::Null,
        };
        let disk = a.block("os_disk");
        let mut os_disk = json!({
            "createOption": "FromImage",
            "caching": disk.as_ref().and_then(|d| d.str("caching")),
            "managedDisk": {"storageAccountType": disk.as_ref().and_then(|d| d.str("storage_account_type"))},
        });
        if let Some(size) = disk.as_ref().and_then(|d| d.i64("disk_size_gb")) {
            os_disk["diskSizeGB"] = json!(size);
        }
        let nics: Vec<Json> = a
            .blocks("network_interface")
            .iter()
            .map(|n| {
                let ipcs: Vec<Json> = n
                    .blocks("ip_configuration")
                    .iter()
                    .map(|c| {
                        let mut props = json!({"primary": c.bool("primary").unwrap_or(false)});
                        if let Some(subnet) = c.str("subnet_id") {
                            props["subnet"] = json!({"id": subnet});
                        }
                        json!({"name": c.str("name"), "properties": props})
                    })
                    .collect();
                json!({"name": n.str("name"), "properties": {
                    "primary": n.bool("primary").unwrap_or(false),
                    "enableAcceleratedNetworking": n.bool("enable_accelerated_networking").unwrap_or(false),
                    "ipConfigurations": ipcs,
                }})
            })
            .collect();
        let mut profile = json!({
            "priority": a.str("priority").unwrap_or("Regular"),
            "osProfile": {
                "computerNamePrefix": a.req_str("name")?,
                "adminUsername": user,
                "linuxConfiguration": {
                    "disablePasswordAuthentication": a.bool("disable_password_authentication").unwrap_or(true),
                    "ssh": {"publicKeys": keys},
                },
            },
            "storageProfile": {"imageReference": image, "osDisk": os_disk},
            "networkProfile": {"networkInterfaceConfigurations": nics},
        });
        if a.str("priority") == Some("Spot") {
            profile["evictionPolicy"] = json!(a.str("eviction_policy"));
            profile["billingProfile"] = json!({"maxPrice": a.num("max_bid_price").unwrap_or(-1.0)});
        }
        let mut props = json!({
            "singlePlacementGroup": a.bool("single_placement_group").unwrap_or(true),
            "overprovision": a.bool("overprovision").unwrap_or(true),
            "upgradePolicy": {"mode": a.str("upgrade_mode").unwrap_or("Manual")},
            "virtualMachineProfile": profile,
        });
        if let Some(n) = a.i64("platform_fault_domain_count") {
            props["platformFaultDomainCount"] = json!(n);
        }
        if let Some(ppg) = a.str("proximity_placement_group_id") {
            props["proximityPlacementGroup"] = json!({"id": ppg});
        }
        let mut body = json!({
            "location": a.req_str("location")?,
            "sku": {"name": a.req_str("sku")?, "tier": "Standard", "capacity": a.i64("instances").unwrap_or(0)},
            "properties": props,
        });
        let zones = a.strs("zones");
        if !zones.is_empty() {
            body["zones"] = json!(zones);
        }
        super::managed_identity::put_body(&mut body, a);
        Ok(body)
    }

    fn state(&self, _cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value> {
        let mut s = tracked_state(json, base);
        let p = &json["properties"];
        let vm = &p["virtualMachineProfile"];
        let spot = vm["priority"].as_str() == Some("Spot");
        s.set_opt("sku", json.pointer("/sku/name").and_then(Json::as_str))
            .set_opt(
                "instances",
                json.pointer("/sku/capacity")
                    .and_then(Json::as_f64)
                    .map(num),
            )
            .set_opt(
                "admin_username",
                vm.pointer("/osProfile/adminUsername")
                    .and_then(Json::as_str),
            )
            .set_opt(
                "disable_password_authentication",
                vm.pointer("/osProfile/linuxConfiguration/disablePasswordAuthentication")
                    .and_then(Json::as_bool),
            )
            .set_opt(
                "single_placement_group",
                p["singlePlacementGroup"].as_bool(),
            )
            .set_opt(
                "platform_fault_domain_count",
                p["platformFaultDomainCount"].as_f64().map(num),
            )
            .set_opt("overprovision", p["overprovision"].as_bool())
            .set("priority", vm["priority"].as_str().unwrap_or("Regular"))
            .set(
                "eviction_policy",
                opt_str(vm["evictionPolicy"].as_str().filter(|_| spot)),
            )
            .set(
                "max_bid_price",
                num(vm
                    .pointer("/billingProfile/maxPrice")
                    .and_then(Json::as_f64)
                    .filter(|_| spot)
                    .unwrap_or(-1.0)),
            )
            .set_str_set("zones", &json_strs(json.get("zones")))
            .set(
                "proximity_placement_group_id",
                opt_str(
                    p.pointer("/proximityPlacementGroup/id")
                        .and_then(Json::as_str),
                ),
            )
            .set_opt(
                "upgrade_mode",
                p.pointer("/upgradePolicy/mode").and_then(Json::as_str),
            )
            .set("unique_id", opt_str(p["uniqueId"].as_str()));
        if let Some(disk) = vm.pointer("/storageProfile/osDisk") {
            let mut d = Obj::new();
            d.set_opt("caching", disk["caching"].as_str())
                .set_opt(
                    "storage_account_type",
                    disk.pointer("/managedDisk/storageAccountType")
                        .and_then(Json::as_str),
                )
                .set_opt("disk_size_gb", disk["diskSizeGB"].as_f64().map(num));
            s.set("os_disk", d.into_value());
        }
        if let Some(image) = vm.pointer("/storageProfile/imageReference") {
            if let Some(id) = image["id"].as_str() {
                s.set("source_image_id", id);
            } else if image.is_object() {
                let mut r = Obj::new();
                for f in ["publisher", "offer", "sku", "version"] {
                    r.set_opt(f, image[f].as_str());
                }
                s.set("source_image_reference", r.into_value());
            }
        }
        super::managed_identity::read_back(&mut s, json);
        Ok(s.into_value())
    }
}
