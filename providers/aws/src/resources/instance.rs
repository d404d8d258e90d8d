//! `aws_instance`: one EC2 instance (GPU types included), from an AMI or a launch template,
//! on demand or spot. No capacity for the type in the zone is a Capacity error naming both,
//! so the engine can fail over.

use super::{accepted, after_accept, only_one, Cx, ResourceType};
use crate::attrs::{complete, fill_unset, opt_str, Attrs, Obj};
use crate::errors::{is_not_found, ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags};
use crate::wait::{read_back, through_iam_propagation, Wait};
use aws_sdk_ec2::types::{
    AttributeValue, BlockDeviceMapping, EbsBlockDevice, Filter, IamInstanceProfileSpecification,
    Instance, InstanceAttributeName, InstanceMarketOptionsRequest,
    InstanceNetworkInterfaceSpecification, InstanceStateName, LaunchTemplateSpecification,
    Placement, ResourceType as Ec2Type, SpotMarketOptions,
};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, Attribute, ErrorClass, NestedBlock, Nesting, PlannedState,
    ProviderError, Schema, Timeouts, Type, Value,
};
use std::time::Duration;

pub struct Ec2Instance;

/// Terraform's defaults: launching (and stopping and starting for a type change) takes
/// minutes, terminating a GPU instance longer.
const CREATE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const UPDATE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// States in which the instance no longer exists for gantry.
fn is_gone(state: Option<&InstanceStateName>) -> bool {
    matches!(
        state,
        Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown)
    )
}

fn block(nesting: Nesting, schema: Schema) -> NestedBlock {
    let max_items = (nesting == Nesting::Single).then_some(1);
    NestedBlock {
        nesting,
        schema,
        min_items: 0,
        max_items,
        force_new: true,
    }
}

fn opt(ty: Type) -> Attribute {
    Attribute::optional(ty)
}

/// Optional; when unset, what AWS chose (from the launch template, the subnet, the AMI).
fn chosen(ty: Type) -> Attribute {
    Attribute::optional_computed(ty)
}

#[async_trait]
impl ResourceType for Ec2Instance {
    fn name(&self) -> &'static str {
        "aws_instance"
    }

    fn schema(&self) -> Schema {
        let spot = Schema::default()
            .attr("max_price", opt(Type::String))
            .attr("instance_interruption_behavior", opt(Type::String))
            .attr("spot_instance_type", opt(Type::String));
        with_tags(
            Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("ami", chosen(Type::String).force_new())
                .attr(
                    "instance_type",
                    chosen(Type::String).describe("Changed in place: stop, modify, start."),
                )
                .attr("subnet_id", chosen(Type::String).force_new())
                .attr("availability_zone", chosen(Type::String).force_new())
                .attr("vpc_security_group_ids", chosen(Type::set(Type::String)))
                .attr("key_name", chosen(Type::String).force_new())
                .attr(
                    "iam_instance_profile",
                    opt(Type::String)
                        .force_new()
                        .describe("Name of the instance profile."),
                )
                .attr("placement_group", chosen(Type::String).force_new())
                .attr("ebs_optimized", chosen(Type::Bool).force_new())
                .attr(
                    "user_data",
                    opt(Type::String)
                        .force_new()
                        .describe("User data, as text (gantry encodes it)."),
                )
                .attr("private_ip", Attribute::computed(Type::String))
                .attr("public_ip", Attribute::computed(Type::String))
                .attr(
                    "primary_network_interface_id",
                    Attribute::computed(Type::String),
                )
                .attr("instance_state", Attribute::computed(Type::String))
                .block(
                    "launch_template",
                    block(
                        Nesting::Single,
                        Schema::default()
                            .attr("id", opt(Type::String))
                            .attr("name", opt(Type::String))
                            .attr("version", opt(Type::String).with_default("$Default")),
                    ),
                )
                .block(
                    "instance_market_options",
                    block(
                        Nesting::Single,
                        Schema::default()
                            .attr("market_type", opt(Type::String))
                            .block("spot_options", block(Nesting::Single, spot)),
                    ),
                )
                .block(
                    "network_interface",
                    block(
                        Nesting::List,
                        Schema::default()
                            .attr("network_interface_id", Attribute::required(Type::String))
                            .attr("device_index", Attribute::required(Type::Number))
                            .attr("network_card_index", opt(Type::Number))
                            .attr("delete_on_termination", opt(Type::Bool).with_default(false)),
                    ),
                )
                .block(
                    "root_block_device",
                    block(
                        Nesting::Single,
                        Schema::default()
                            .attr("volume_size", opt(Type::Number))
                            .attr("volume_type", opt(Type::String))
                            .attr("iops", opt(Type::Number))
                            .attr("throughput", opt(Type::Number))
                            .attr("encrypted", opt(Type::Bool))
                            .attr("delete_on_termination", opt(Type::Bool)),
                    ),
                ),
        )
        .with_timeouts(Timeouts {
            create: Some(CREATE_TIMEOUT),
            update: Some(UPDATE_TIMEOUT),
            delete: Some(DELETE_TIMEOUT),
        })
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut issues = Vec::new();
        if !present(&a, "ami") && !present(&a, "launch_template") {
            issues.push("set `ami`, or a `launch_template` that names one".to_owned());
        }
        if let Some(t) = a.block("launch_template") {
            if present(&t, "id") == present(&t, "name") {
                issues.push("`launch_template` takes exactly one of `id` and `name`".to_owned());
            }
        }
        if !a.blocks("network_interface").is_empty()
            && (present(&a, "subnet_id") || present(&a, "vpc_security_group_ids"))
        {
            issues.push(
                "`network_interface` cannot be combined with `subnet_id` or `vpc_security_group_ids` (set them on the interface)"
                    .to_owned(),
            );
        }
        issues
    }

    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        // The root volume is what the AMI gives unless configured: unset arguments keep what
        // AWS chose (Terraform: computed), so that they are not planned away.
        let mut config = config.clone();
        if let (Value::Map(c), Some(p)) = (&mut config, prior) {
            let set = c.get("root_block_device").cloned().unwrap_or(Value::Null);
            let before = Attrs(p)
                .get("root_block_device")
                .cloned()
                .unwrap_or(Value::Null);
            c.insert("root_block_device".into(), fill_unset(&set, &before));
        }
        Ok(plan_from_schema(schema, prior, &config))
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let root_device = match a.block("root_block_device") {
            Some(_) => Some(root_device_name(cx, &a).await?),
            None => None,
        };
        // EC2 may not know an instance profile made moments ago yet; the ClientToken makes
        // sending the request again safe.
        let sent = through_iam_propagation(cx.op, "RunInstances", || async {
            run_request(cx, &a, planned, root_device.as_deref())
                .send()
                .await
                .map_err(|e| sdk_error("RunInstances", e))
        })
        .await;
        let out = match sent {
            Ok(out) => out,
            Err(e) if e.class == ErrorClass::Capacity => {
                return Err(capacity_error(cx, &a, e).await)
            }
            Err(e) => return Err(e),
        };
        let id = out
            .instances()
            .first()
            .and_then(|i| i.instance_id())
            .ok_or_else(|| ProviderError::fatal("RunInstances returned no instance"))?
            .to_owned();
        let known = accepted(planned, &id);
        after_accept(known.clone(), async {
            wait_for(cx, &id, InstanceStateName::Running, CREATE_TIMEOUT).await?;
            let noun = format!("instance {id}");
            read_back(cx.op, &noun, || read_into(cx, known.clone())).await
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let id = Attrs(prior).id()?.to_owned();
        let ec2 = &cx.clients().ec2;
        let (p, n) = (Attrs(prior), Attrs(planned));
        if let Some(new_type) = n
            .str("instance_type")
            .filter(|t| Some(*t) != p.str("instance_type"))
        {
            // The type of a running instance cannot change: stop, modify, start.
            ec2.stop_instances()
                .instance_ids(&id)
                .send()
                .await
                .map_err(|e| sdk_error("StopInstances", e))?;
            wait_for(cx, &id, InstanceStateName::Stopped, UPDATE_TIMEOUT).await?;
            ec2.modify_instance_attribute()
                .instance_id(&id)
                .instance_type(AttributeValue::builder().value(new_type).build())
                .send()
                .await
                .map_err(|e| sdk_error("ModifyInstanceAttribute", e))?;
            ec2.start_instances()
                .instance_ids(&id)
                .send()
                .await
                .map_err(|e| sdk_error("StartInstances", e))?;
            wait_for(cx, &id, InstanceStateName::Running, UPDATE_TIMEOUT).await?;
        }
        let groups = n.strs("vpc_security_group_ids");
        if n.get("vpc_security_group_ids").is_some()
            && n.get("vpc_security_group_ids") != p.get("vpc_security_group_ids")
        {
            ec2.modify_instance_attribute()
                .instance_id(&id)
                .set_groups(Some(groups))
                .send()
                .await
                .map_err(|e| sdk_error("ModifyInstanceAttribute", e))?;
        }
        let old = p.str_map("tags_all");
        tags::ec2_update(
            ec2,
            &id,
            &old,
            &tags::merged(&cx.settings.default_tags, planned),
        )
        .await?;
        let mut state = Obj::from(planned);
        state.set("id", id.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("instance {id} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let id = Attrs(state).id()?.to_owned();
        let terminated = cx
            .clients()
            .ec2
            .terminate_instances()
            .instance_ids(&id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("TerminateInstances", e));
        ok_if_not_found(terminated)?;
        // Wait until it is gone, so what it used (subnet, security groups, placement group)
        // can be deleted after it.
        Wait::for_op(cx.op, DELETE_TIMEOUT)
            .until(cx.op, &format!("instance {id} to terminate"), || async {
                Ok(describe(cx, &id)
                    .await?
                    .is_none_or(|i| {
                        i.state().and_then(|s| s.name()) == Some(&InstanceStateName::Terminated)
                    })
                    .then_some(()))
            })
            .await
    }

    /// The instance launched with this create's token: EC2 records the ClientToken on the
    /// instance (the `client-token` filter finds it), and RunInstances tagged it with this
    /// create's stack, address and token (which find it where an API keeps no token). One
    /// launched with another token (another stack's, or a deposed predecessor's) is never
    /// returned. Found pending, it is waited for until it runs.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        token: &str,
        _planned: &Value,
    ) -> Result<Option<Value>> {
        let by_token = Filter::builder().name("client-token").values(token).build();
        let mut found = live_instances(cx, vec![by_token], |i| {
            i.client_token() == Some(token) && !tags::contradict(cx.op, &tags::from_ec2(i.tags()))
        })
        .await?;
        if found.is_empty() {
            if let Some(filters) = tags::ec2_identity_filters(cx.op) {
                found = live_instances(cx, filters, |i| {
                    // A ClientToken EC2 recorded must be this create's too.
                    let token_ok = i.client_token().is_none_or(|t| t.is_empty() || t == token);
                    token_ok && tags::are_ours(cx.op, &tags::from_ec2(i.tags()))
                })
                .await?;
            }
        }
        let Some(id) = only_one("instance", found) else {
            return Ok(None);
        };
        wait_for(cx, &id, InstanceStateName::Running, CREATE_TIMEOUT).await?;
        read_into(cx, Value::map([("id", Value::string(id))])).await
    }
}

/// The ids of instances that are not terminated or shutting down, match `filters` and pass
/// `keep`, paging through DescribeInstances.
async fn live_instances(
    cx: &Cx<'_>,
    mut filters: Vec<Filter>,
    keep: impl Fn(&Instance) -> bool,
) -> Result<Vec<String>> {
    filters.push(
        Filter::builder()
            .name("instance-state-name")
            .set_values(Some(
                ["pending", "running", "stopping", "stopped"]
                    .map(str::to_owned)
                    .to_vec(),
            ))
            .build(),
    );
    let mut pages = cx
        .clients()
        .ec2
        .describe_instances()
        .set_filters(Some(filters))
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("DescribeInstances", e))?;
        found.extend(
            page.reservations()
                .iter()
                .flat_map(|r| r.instances())
                .filter(|i| keep(i))
                .filter_map(|i| i.instance_id().map(str::to_owned)),
        );
    }
    Ok(found)
}

/// The RunInstances request for `planned` (`root_device`: the AMI's root device name,
/// when a `root_block_device` block sizes it).
fn run_request(
    cx: &Cx<'_>,
    a: &Attrs<'_>,
    planned: &Value,
    root_device: Option<&str>,
) -> aws_sdk_ec2::operation::run_instances::builders::RunInstancesFluentBuilder {
    let mut run = cx
        .clients()
        .ec2
        .run_instances()
        .min_count(1)
        .max_count(1)
        .set_image_id(a.str("ami").map(str::to_owned))
        .set_instance_type(a.str("instance_type").map(Into::into))
        .set_subnet_id(a.str("subnet_id").map(str::to_owned))
        .set_key_name(a.str("key_name").map(str::to_owned))
        .set_ebs_optimized(a.bool("ebs_optimized"))
        .set_user_data(a.str("user_data").map(aws_smithy_types::base64::encode))
        .set_client_token(cx.token().map(str::to_owned))
        .tag_specifications(tags::ec2_spec(Ec2Type::Instance, &cx.tags(planned)));
    let groups = a.strs("vpc_security_group_ids");
    if !groups.is_empty() {
        run = run.set_security_group_ids(Some(groups));
    }
    if a.get("availability_zone").is_some() || a.get("placement_group").is_some() {
        run = run.placement(
            Placement::builder()
                .set_availability_zone(a.str("availability_zone").map(str::to_owned))
                .set_group_name(a.str("placement_group").map(str::to_owned))
                .build(),
        );
    }
    if let Some(name) = a.str("iam_instance_profile") {
        run = run.iam_instance_profile(
            IamInstanceProfileSpecification::builder()
                .name(name)
                .build(),
        );
    }
    if let Some(t) = a.block("launch_template") {
        run = run.launch_template(
            LaunchTemplateSpecification::builder()
                .set_launch_template_id(t.str("id").map(str::to_owned))
                .set_launch_template_name(t.str("name").map(str::to_owned))
                .set_version(t.str("version").map(str::to_owned))
                .build(),
        );
    }
    if let Some(m) = a.block("instance_market_options") {
        run = run.instance_market_options(market_options(&m));
    }
    for n in a.blocks("network_interface") {
        run = run.network_interfaces(
            InstanceNetworkInterfaceSpecification::builder()
                .set_network_interface_id(n.str("network_interface_id").map(str::to_owned))
                .set_device_index(n.i32("device_index"))
                .set_network_card_index(n.i32("network_card_index"))
                .set_delete_on_termination(n.bool("delete_on_termination"))
                .build(),
        );
    }
    if let (Some(root), Some(device)) = (a.block("root_block_device"), root_device) {
        run = run.block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name(device)
                .ebs(
                    EbsBlockDevice::builder()
                        .set_volume_size(root.i32("volume_size"))
                        .set_volume_type(root.str("volume_type").map(Into::into))
                        .set_iops(root.i32("iops"))
                        .set_throughput(root.i32("throughput"))
                        .set_encrypted(root.bool("encrypted"))
                        .set_delete_on_termination(root.bool("delete_on_termination"))
                        .build(),
                )
                .build(),
        );
    }
    run
}

/// Set in the configuration, known yet or not.
fn present(a: &Attrs<'_>, name: &str) -> bool {
    a.0.as_map()
        .and_then(|m| m.get(name))
        .is_some_and(|v| !v.is_null())
}

fn market_options(m: &Attrs<'_>) -> InstanceMarketOptionsRequest {
    let spot = m.block("spot_options").map(|s| {
        SpotMarketOptions::builder()
            .set_max_price(s.str("max_price").map(str::to_owned))
            .set_instance_interruption_behavior(
                s.str("instance_interruption_behavior").map(Into::into),
            )
            .set_spot_instance_type(s.str("spot_instance_type").map(Into::into))
            .build()
    });
    InstanceMarketOptionsRequest::builder()
        .set_market_type(m.str("market_type").map(Into::into))
        .set_spot_options(spot)
        .build()
}

/// The launch template's latest arguments for the version the instance asks for.
async fn template_data(
    cx: &Cx<'_>,
    a: &Attrs<'_>,
) -> Result<Option<aws_sdk_ec2::types::ResponseLaunchTemplateData>> {
    let Some(t) = a.block("launch_template") else {
        return Ok(None);
    };
    let out = cx
        .clients()
        .ec2
        .describe_launch_template_versions()
        .set_launch_template_id(t.str("id").map(str::to_owned))
        .set_launch_template_name(t.str("name").map(str::to_owned))
        .versions(t.str("version").unwrap_or("$Default"))
        .send()
        .await
        .map_err(|e| sdk_error("DescribeLaunchTemplateVersions", e))?;
    Ok(out
        .launch_template_versions()
        .first()
        .and_then(|v| v.launch_template_data())
        .cloned())
}

/// The root device of the AMI (from `ami` or the launch template), to size its volume.
async fn root_device_name(cx: &Cx<'_>, a: &Attrs<'_>) -> Result<String> {
    let image = match a.str("ami") {
        Some(ami) => Some(ami.to_owned()),
        None => template_data(cx, a)
            .await?
            .and_then(|d| d.image_id().map(str::to_owned)),
    };
    let Some(image) = image else {
        return Err(ProviderError::invalid(
            "`root_block_device` needs an AMI (`ami` or the launch template's)",
        ));
    };
    let out = cx
        .clients()
        .ec2
        .describe_images()
        .image_ids(&image)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeImages", e))?;
    out.images()
        .first()
        .and_then(|i| i.root_device_name())
        .map(str::to_owned)
        .ok_or_else(|| {
            ProviderError::not_found(format!("AMI {image} not found or has no root device"))
        })
}

/// A RunInstances capacity error, restated with the instance type and the zone (resolved
/// from the subnet or the launch template when the request did not name one), so the
/// message says what to fail over from.
async fn capacity_error(cx: &Cx<'_>, a: &Attrs<'_>, e: ProviderError) -> ProviderError {
    let template = template_data(cx, a).await.ok().flatten();
    let instance_type = a
        .str("instance_type")
        .map(str::to_owned)
        .or_else(|| {
            template
                .as_ref()
                .and_then(|d| d.instance_type())
                .map(|t| t.as_str().to_owned())
        })
        .unwrap_or_else(|| "m1.small".to_owned());
    let mut zone = a.str("availability_zone").map(str::to_owned).or_else(|| {
        template
            .as_ref()
            .and_then(|d| d.placement())
            .and_then(|p| p.availability_zone())
            .map(str::to_owned)
    });
    let subnet = a.str("subnet_id").map(str::to_owned).or_else(|| {
        template
            .as_ref()
            .and_then(|d| d.network_interfaces().iter().find_map(|n| n.subnet_id()))
            .map(str::to_owned)
    });
    if let (None, Some(subnet)) = (&zone, subnet) {
        zone = cx
            .clients()
            .ec2
            .describe_subnets()
            .subnet_ids(subnet)
            .send()
            .await
            .ok()
            .and_then(|o| {
                o.subnets()
                    .first()
                    .and_then(|s| s.availability_zone())
                    .map(str::to_owned)
            });
    }
    let zone = zone.unwrap_or_else(|| format!("the zone EC2 chose in {}", cx.region()));
    ProviderError {
        message: format!("no capacity for {instance_type} in {zone}: {}", e.message),
        ..e
    }
}

/// The instance, `None` when it does not exist (or no longer: terminated).
async fn describe(cx: &Cx<'_>, id: &str) -> Result<Option<Instance>> {
    let out = match cx
        .clients()
        .ec2
        .describe_instances()
        .instance_ids(id)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeInstances", e))
    {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .find(|i| i.instance_id() == Some(id))
        .cloned())
}

/// Waits (up to the operation's timeout, else `default`) until the instance is in `target`.
/// An instance that terminates on the way (a spot request that could not be fulfilled, a
/// launch that failed) is an error with AWS's reason.
async fn wait_for(
    cx: &Cx<'_>,
    id: &str,
    target: InstanceStateName,
    default: Duration,
) -> Result<()> {
    let what = format!("instance {id} to be {}", target.as_str());
    Wait::for_op(cx.op, default)
        .until(cx.op, &what, || async {
            let Some(i) = describe(cx, id).await? else {
                return Err(ProviderError::not_found(format!(
                    "instance {id} disappeared"
                )));
            };
            let state = i.state().and_then(|s| s.name());
            if state == Some(&target) {
                return Ok(Some(()));
            }
            if is_gone(state) && target != InstanceStateName::Terminated {
                let reason = i
                    .state_reason()
                    .and_then(|r| r.message())
                    .unwrap_or("no reason given");
                let class = if reason.contains("InsufficientInstanceCapacity") {
                    ErrorClass::Capacity
                } else {
                    ErrorClass::Fatal
                };
                return Err(ProviderError::new(
                    class,
                    format!("instance {id} terminated while starting: {reason}"),
                ));
            }
            Ok(None)
        })
        .await
}

/// The instance's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let id = Attrs(&base).id()?.to_owned();
    let Some(i) = describe(cx, &id).await? else {
        return Ok(None);
    };
    if is_gone(i.state().and_then(|s| s.name())) {
        return Ok(None);
    }
    let mut state = Obj::from(&base);
    let placement = i.placement();
    let mut groups: Vec<&str> = i
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id())
        .collect();
    let primary = i
        .network_interfaces()
        .iter()
        .find(|n| n.attachment().and_then(|a| a.device_index()) == Some(0));
    if groups.is_empty() {
        // moto leaves the instance's groups empty when they came from the subnet's default:
        // the primary interface has them.
        groups = primary
            .map(|n| n.groups().iter().filter_map(|g| g.group_id()).collect())
            .unwrap_or_default();
    }
    state
        .set("id", id.as_str())
        .set(
            "arn",
            format!(
                "arn:aws:ec2:{}:{}:instance/{id}",
                cx.region(),
                cx.settings.account_id
            ),
        )
        .set("ami", opt_str(i.image_id()))
        .set(
            "instance_type",
            opt_str(i.instance_type().map(|t| t.as_str())),
        )
        .set("subnet_id", opt_str(i.subnet_id()))
        .set(
            "availability_zone",
            opt_str(placement.and_then(|p| p.availability_zone())),
        )
        .set(
            "placement_group",
            opt_str(
                placement
                    .and_then(|p| p.group_name())
                    .filter(|g| !g.is_empty()),
            ),
        )
        .set("key_name", opt_str(i.key_name()))
        .set(
            "ebs_optimized",
            Value::Bool(i.ebs_optimized().unwrap_or(false)),
        )
        .set_str_set("vpc_security_group_ids", &groups)
        .set("private_ip", opt_str(i.private_ip_address()))
        .set("public_ip", opt_str(i.public_ip_address()))
        .set(
            "primary_network_interface_id",
            opt_str(primary.and_then(|n| n.network_interface_id())),
        )
        .set(
            "instance_state",
            opt_str(i.state().and_then(|s| s.name()).map(|s| s.as_str())),
        );
    // The profile's ARN ends in its path and name; the name is what is configured.
    let profile = i
        .iam_instance_profile()
        .and_then(|p| p.arn())
        .and_then(|arn| arn.rsplit('/').next());
    state.set("iam_instance_profile", opt_str(profile));
    if let Some(root) = root_volume(cx, &i).await? {
        state.set("root_block_device", root);
    }
    if let Some(text) = user_data(cx, &id).await? {
        state.set("user_data", text);
    }
    tags::record(
        &mut state,
        &cx.settings.default_tags,
        &tags::from_ec2(i.tags()),
    );
    // The launch template, spot options and attached interfaces are what the create asked
    // for; DescribeInstances does not tell them apart from defaults.
    complete(&mut state, &Ec2Instance.schema());
    Ok(Some(state.into_value()))
}

/// The user data as text (null when there is none); `None` when it is not text, and the
/// configured value is kept.
async fn user_data(cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
    let out = cx
        .clients()
        .ec2
        .describe_instance_attribute()
        .instance_id(id)
        .attribute(InstanceAttributeName::UserData)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeInstanceAttribute", e))?;
    let Some(encoded) = out
        .user_data()
        .and_then(|u| u.value())
        .filter(|v| !v.is_empty())
    else {
        return Ok(Some(Value::Null));
    };
    Ok(aws_smithy_types::base64::decode(encoded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(Value::string))
}

/// The root EBS volume as a `root_block_device` block.
async fn root_volume(cx: &Cx<'_>, i: &Instance) -> Result<Option<Value>> {
    let Some(mapping) = i
        .block_device_mappings()
        .iter()
        .find(|m| m.device_name().is_some() && m.device_name() == i.root_device_name())
    else {
        return Ok(None);
    };
    let Some(ebs) = mapping.ebs() else {
        return Ok(None);
    };
    let Some(volume_id) = ebs.volume_id() else {
        return Ok(None);
    };
    let out = match cx
        .clients()
        .ec2
        .describe_volumes()
        .volume_ids(volume_id)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeVolumes", e))
    {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(v) = out.volumes().first() else {
        return Ok(None);
    };
    let num = |n: Option<i32>| n.map_or(Value::Null, crate::attrs::num);
    Ok(Some(Value::map([
        ("volume_size", num(v.size())),
        ("volume_type", opt_str(v.volume_type().map(|t| t.as_str()))),
        ("iops", num(v.iops())),
        ("throughput", num(v.throughput())),
        ("encrypted", v.encrypted().map_or(Value::Null, Value::Bool)),
        (
            "delete_on_termination",
            ebs.delete_on_termination().map_or(Value::Null, Value::Bool),
        ),
    ])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spot_options_reach_the_request() {
        let v = Value::map([
            ("market_type", Value::string("spot")),
            (
                "spot_options",
                Value::map([
                    ("max_price", Value::string("32.5")),
                    ("instance_interruption_behavior", Value::string("stop")),
                    ("spot_instance_type", Value::string("persistent")),
                ]),
            ),
        ]);
        let m = market_options(&Attrs(&v));
        assert_eq!(m.market_type().map(|t| t.as_str()), Some("spot"));
        let s = m.spot_options().map(|s| {
            (
                s.max_price().map(str::to_owned),
                s.instance_interruption_behavior()
                    .map(|b| b.as_str().to_owned()),
                s.spot_instance_type().map(|t| t.as_str().to_owned()),
            )
        });
        assert_eq!(
            s,
            Some((
                Some("32.5".into()),
                Some("stop".into()),
                Some("persistent".into())
            ))
        );
    }

    #[test]
    fn network_interfaces_exclude_subnet_and_groups() {
        let v = Value::map([
            ("ami", Value::string("ami-1")),
            ("subnet_id", Value::string("subnet-1")),
            (
                "network_interface",
                Value::List(vec![Value::map([
                    ("network_interface_id", Value::string("eni-1")),
                    ("device_index", Value::Number(0.0)),
                ])]),
            ),
        ]);
        let issues = Ec2Instance.validate(&v);
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert!(issues[0].contains("network_interface"));
        assert!(Ec2Instance
            .validate(&Value::map([("ami", Value::string("ami-1"))]))
            .is_empty());
        assert!(!Ec2Instance
            .validate(&Value::map([(
                "instance_type",
                Value::string("p5.48xlarge")
            )]))
            .is_empty());
    }

    #[test]
    fn unset_root_volume_arguments_keep_what_aws_chose() {
        let schema = Ec2Instance.schema();
        let root = |size: f64, ty: Value| {
            Value::map([
                ("volume_size", Value::Number(size)),
                ("volume_type", ty),
                ("iops", Value::Null),
                ("throughput", Value::Null),
                ("encrypted", Value::Null),
                ("delete_on_termination", Value::Null),
            ])
        };
        let prior = Value::map([
            ("id", Value::string("i-1")),
            ("ami", Value::string("ami-1")),
            ("root_block_device", root(100.0, Value::string("gp3"))),
        ]);
        let same = Value::map([
            ("ami", Value::string("ami-1")),
            ("root_block_device", root(100.0, Value::Null)),
        ]);
        let p = Ec2Instance.plan(&schema, Some(&prior), &same);
        assert!(p.is_ok_and(|p| p.requires_replace.is_empty()));
        let bigger = Value::map([
            ("ami", Value::string("ami-1")),
            ("root_block_device", root(200.0, Value::Null)),
        ]);
        let p = Ec2Instance.plan(&schema, Some(&prior), &bigger);
        assert!(p.is_ok_and(|p| p.requires_replace == vec!["root_block_device".to_owned()]));
    }
}
