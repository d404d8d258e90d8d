//! `aws_launch_template`: how to launch an instance (AMI, type, network interfaces with
//! EFA, volumes, spot options). Every change but tags makes a new version, as in AWS;
//! `update_default_version` makes it the default.

use super::{accepted, after_accept, only_one, Cx, ResourceType};
use crate::attrs::{self, fill_unset, opt_str, str_set_or_null, Attrs, Obj};
use crate::errors::{is_not_found, none_if_not_found, ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags};
use crate::wait::{read_back, through_iam_propagation};
use aws_sdk_ec2::types::{
    Filter, LaunchTemplateBlockDeviceMappingRequest, LaunchTemplateEbsBlockDeviceRequest,
    LaunchTemplateIamInstanceProfileSpecificationRequest,
    LaunchTemplateInstanceMarketOptionsRequest, LaunchTemplateInstanceMetadataOptionsRequest,
    LaunchTemplateInstanceNetworkInterfaceSpecificationRequest, LaunchTemplatePlacementRequest,
    LaunchTemplateSpotMarketOptionsRequest, LaunchTemplateTagSpecificationRequest,
    LaunchTemplateVersion, RequestLaunchTemplateData, ResourceType as Ec2Type,
    ResponseLaunchTemplateData,
};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, Attribute, NestedBlock, Nesting, PlannedState, ProviderError,
    Schema, Type, Value,
};
use std::hash::{Hash, Hasher};

pub struct LaunchTemplate;

/// Attributes that are not part of a version: changing only these makes no new version.
const NOT_VERSIONED: &[&str] = &[
    "id",
    "arn",
    "name",
    "name_prefix",
    "tags",
    "tags_all",
    "default_version",
    "latest_version",
    "update_default_version",
];

fn block(nesting: Nesting, schema: Schema) -> NestedBlock {
    let max_items = (nesting == Nesting::Single).then_some(1);
    NestedBlock {
        nesting,
        schema,
        min_items: 0,
        max_items,
        force_new: false,
    }
}

fn opt(ty: Type) -> Attribute {
    Attribute::optional(ty)
}

#[async_trait]
impl ResourceType for LaunchTemplate {
    fn name(&self) -> &'static str {
        "aws_launch_template"
    }

    fn schema(&self) -> Schema {
        let ebs = Schema::default()
            .attr("volume_size", opt(Type::Number))
            .attr("volume_type", opt(Type::String))
            .attr("iops", opt(Type::Number))
            .attr("throughput", opt(Type::Number))
            .attr("encrypted", opt(Type::Bool))
            .attr("delete_on_termination", opt(Type::Bool))
            .attr("kms_key_id", opt(Type::String))
            .attr("snapshot_id", opt(Type::String));
        let spot = Schema::default()
            .attr("max_price", opt(Type::String))
            .attr("instance_interruption_behavior", opt(Type::String))
            .attr("spot_instance_type", opt(Type::String))
            .attr("block_duration_minutes", opt(Type::Number));
        with_tags(
            Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr(
                    "name",
                    Attribute::optional_computed(Type::String)
                        .force_new()
                        .describe(
                        "Name of the template (generated from `name_prefix` or gantry when unset).",
                    ),
                )
                .attr("name_prefix", opt(Type::String).force_new())
                .attr(
                    "description",
                    opt(Type::String).describe("Description of each new version."),
                )
                .attr("image_id", opt(Type::String))
                .attr("instance_type", opt(Type::String))
                .attr("key_name", opt(Type::String))
                .attr(
                    "user_data",
                    opt(Type::String).describe("Base64-encoded user data."),
                )
                .attr("vpc_security_group_ids", opt(Type::set(Type::String)))
                .attr("ebs_optimized", opt(Type::Bool))
                .attr(
                    "update_default_version",
                    opt(Type::Bool).describe("Make each new version the default one."),
                )
                .attr(
                    "default_version",
                    Attribute::optional_computed(Type::Number),
                )
                .attr("latest_version", Attribute::computed(Type::Number))
                .block(
                    "iam_instance_profile",
                    block(
                        Nesting::Single,
                        Schema::default()
                            .attr("name", opt(Type::String))
                            .attr("arn", opt(Type::String)),
                    ),
                )
                .block(
                    "placement",
                    block(
                        Nesting::Single,
                        Schema::default()
                            .attr("group_name", opt(Type::String))
                            .attr("availability_zone", opt(Type::String))
                            .attr("tenancy", opt(Type::String)),
                    ),
                )
                .block(
                    "network_interfaces",
                    block(
                        Nesting::List,
                        Schema::default()
                            .attr("device_index", opt(Type::Number))
                            .attr("network_card_index", opt(Type::Number))
                            .attr(
                                "interface_type",
                                opt(Type::String).describe("`efa` for an Elastic Fabric Adapter."),
                            )
                            .attr("subnet_id", opt(Type::String))
                            .attr("security_groups", opt(Type::set(Type::String)))
                            .attr("associate_public_ip_address", opt(Type::Bool))
                            .attr("delete_on_termination", opt(Type::Bool))
                            .attr("description", opt(Type::String))
                            .attr("network_interface_id", opt(Type::String)),
                    ),
                )
                .block(
                    "block_device_mappings",
                    block(
                        Nesting::List,
                        Schema::default()
                            .attr("device_name", opt(Type::String))
                            .attr("no_device", opt(Type::String))
                            .attr("virtual_name", opt(Type::String))
                            .block("ebs", block(Nesting::Single, ebs)),
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
                    "tag_specifications",
                    block(
                        Nesting::List,
                        Schema::default()
                            .attr("resource_type", opt(Type::String))
                            .attr("tags", opt(Type::map(Type::String))),
                    ),
                )
                .block(
                    "metadata_options",
                    block(
                        Nesting::Single,
                        Schema::default()
                            .attr("http_endpoint", opt(Type::String))
                            .attr("http_tokens", opt(Type::String))
                            .attr("http_put_response_hop_limit", opt(Type::Number))
                            .attr("http_protocol_ipv6", opt(Type::String))
                            .attr("instance_metadata_tags", opt(Type::String)),
                    ),
                ),
        )
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut issues = Vec::new();
        if a.get("name").is_some() && a.get("name_prefix").is_some() {
            issues.push("`name` and `name_prefix` cannot both be set".to_owned());
        }
        if a.bool("update_default_version") == Some(true) && a.get("default_version").is_some() {
            issues.push(
                "`default_version` and `update_default_version` cannot both be set".to_owned(),
            );
        }
        if let Some(p) = a.block("iam_instance_profile") {
            if p.get("name").is_some() == p.get("arn").is_some() {
                issues.push(
                    "`iam_instance_profile` takes exactly one of `name` and `arn`".to_owned(),
                );
            }
        }
        issues
    }

    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        // AWS fills in the metadata options the user leaves unset (Terraform: computed).
        let mut config = config.clone();
        if let (Value::Map(c), Some(p)) = (&mut config, prior) {
            let unset = c.get("metadata_options").cloned().unwrap_or(Value::Null);
            let before = Attrs(p)
                .get("metadata_options")
                .cloned()
                .unwrap_or(Value::Null);
            c.insert("metadata_options".into(), fill_unset(&unset, &before));
        }
        let mut planned = plan_from_schema(schema, prior, &config);
        // A changed launch argument makes a new version: its number is not known yet, and
        // neither is the default when each new version becomes it.
        let (Some(prior), Value::Map(map)) = (prior, &mut planned.value) else {
            return Ok(planned);
        };
        if planned.requires_replace.is_empty()
            && versioned(prior) != versioned(&Value::Map(map.clone()))
        {
            map.insert("latest_version".into(), Value::Unknown(Type::Number));
            if Attrs(&config).bool("update_default_version") == Some(true) {
                map.insert("default_version".into(), Value::Unknown(Type::Number));
            }
        }
        Ok(planned)
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let name = template_name(&a, cx.token());
        let ec2 = &cx.clients().ec2;
        let send = || {
            ec2.create_launch_template()
                .launch_template_name(&name)
                .set_version_description(a.str("description").map(str::to_owned))
                .launch_template_data(request_data(&a))
                .set_client_token(cx.token().map(str::to_owned))
                .tag_specifications(tags::ec2_spec(Ec2Type::LaunchTemplate, &cx.tags(planned)))
                .send()
        };
        // EC2 may not know an instance profile made moments ago yet.
        let out = through_iam_propagation(cx.op, "CreateLaunchTemplate", || async {
            send()
                .await
                .map_err(|e| sdk_error("CreateLaunchTemplate", e))
        })
        .await?;
        let id = out
            .launch_template()
            .and_then(|t| t.launch_template_id())
            .ok_or_else(|| ProviderError::fatal("CreateLaunchTemplate returned no template id"))?
            .to_owned();
        let mut known = Obj::from(&accepted(planned, &id));
        known.set("name", name.as_str());
        let known = known.into_value();
        let noun = format!("launch template {id}");
        after_accept(
            known.clone(),
            read_back(cx.op, &noun, || read_into(cx, known.clone())),
        )
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let id = Attrs(prior).id()?.to_owned();
        let ec2 = &cx.clients().ec2;
        let (p, n) = (Attrs(prior), Attrs(planned));
        let mut new_version = None;
        if versioned(prior) != versioned(planned) {
            let out = ec2
                .create_launch_template_version()
                .launch_template_id(&id)
                .set_version_description(n.str("description").map(str::to_owned))
                .launch_template_data(request_data(&n))
                .client_token(version_token(&id, prior, planned))
                .send()
                .await
                .map_err(|e| sdk_error("CreateLaunchTemplateVersion", e))?;
            new_version = out
                .launch_template_version()
                .and_then(|v| v.version_number());
        }
        let default = match (new_version, n.bool("update_default_version")) {
            (Some(v), Some(true)) => Some(v),
            _ => n
                .i64("default_version")
                .filter(|d| Some(*d) != p.i64("default_version")),
        };
        if let Some(version) = default {
            ec2.modify_launch_template()
                .launch_template_id(&id)
                .default_version(version.to_string())
                .send()
                .await
                .map_err(|e| sdk_error("ModifyLaunchTemplate", e))?;
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
            .ok_or_else(|| ProviderError::not_found(format!("launch template {id} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let id = Attrs(state).id()?;
        ok_if_not_found(
            cx.clients()
                .ec2
                .delete_launch_template()
                .launch_template_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteLaunchTemplate", e)),
        )
    }

    /// The template with the planned name (or the one `name_prefix` and this create's
    /// token make), when it carries this create's stack, address and token.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let name = template_name(&Attrs(planned), Some(token));
        let out = cx
            .clients()
            .ec2
            .describe_launch_templates()
            .launch_template_names(&name)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeLaunchTemplates", e));
        // An unknown name is InvalidLaunchTemplateName.NotFoundException.
        let Some(out) = none_if_not_found(out)? else {
            return Ok(None);
        };
        let found = out
            .launch_templates()
            .iter()
            .filter(|t| tags::are_ours(cx.op, &tags::from_ec2(t.tags())))
            .filter_map(|t| t.launch_template_id().map(str::to_owned))
            .collect();
        match only_one("launch template", found) {
            Some(id) => read_into(cx, Value::map([("id", Value::string(id))])).await,
            None => Ok(None),
        }
    }
}

/// The configured name, else `name_prefix` (or `gantry-`) and a suffix from the create's
/// token, so that a retried create asks for the same name.
fn template_name(a: &Attrs<'_>, token: Option<&str>) -> String {
    if let Some(name) = a.str("name") {
        return name.to_owned();
    }
    let suffix: String = token
        .unwrap_or("00000000000000000000000000")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(26)
        .collect();
    format!("{}{suffix}", a.str("name_prefix").unwrap_or("gantry-"))
}

/// The attributes that make up a version, to tell whether an update needs a new one.
fn versioned(v: &Value) -> Value {
    let mut map = v.as_map().cloned().unwrap_or_default();
    map.retain(|k, _| !NOT_VERSIONED.contains(&k.as_str()));
    Value::Map(map)
}

/// The ClientToken of the version an update creates: the same for every retry of one
/// update (same template, same prior version, same content), different for the next one.
fn version_token(id: &str, prior: &Value, planned: &Value) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    versioned(planned).to_json().to_string().hash(&mut h);
    let latest = Attrs(prior).i64("latest_version").unwrap_or(0);
    format!("gantry-{id}-{latest}-{:016x}", h.finish())
}

/// The launch arguments of a version.
fn request_data(a: &Attrs<'_>) -> RequestLaunchTemplateData {
    let mut d = RequestLaunchTemplateData::builder()
        .set_image_id(a.str("image_id").map(str::to_owned))
        .set_instance_type(a.str("instance_type").map(Into::into))
        .set_key_name(a.str("key_name").map(str::to_owned))
        .set_user_data(a.str("user_data").map(str::to_owned))
        .set_ebs_optimized(a.bool("ebs_optimized"));
    let groups = a.strs("vpc_security_group_ids");
    if !groups.is_empty() {
        d = d.set_security_group_ids(Some(groups));
    }
    if let Some(p) = a.block("iam_instance_profile") {
        d = d.iam_instance_profile(
            LaunchTemplateIamInstanceProfileSpecificationRequest::builder()
                .set_name(p.str("name").map(str::to_owned))
                .set_arn(p.str("arn").map(str::to_owned))
                .build(),
        );
    }
    if let Some(p) = a.block("placement") {
        d = d.placement(
            LaunchTemplatePlacementRequest::builder()
                .set_group_name(p.str("group_name").map(str::to_owned))
                .set_availability_zone(p.str("availability_zone").map(str::to_owned))
                .set_tenancy(p.str("tenancy").map(Into::into))
                .build(),
        );
    }
    for n in a.blocks("network_interfaces") {
        let groups = n.strs("security_groups");
        d = d.network_interfaces(
            LaunchTemplateInstanceNetworkInterfaceSpecificationRequest::builder()
                .set_device_index(n.i32("device_index"))
                .set_network_card_index(n.i32("network_card_index"))
                .set_interface_type(n.str("interface_type").map(str::to_owned))
                .set_subnet_id(n.str("subnet_id").map(str::to_owned))
                .set_groups((!groups.is_empty()).then_some(groups))
                .set_associate_public_ip_address(n.bool("associate_public_ip_address"))
                .set_delete_on_termination(n.bool("delete_on_termination"))
                .set_description(n.str("description").map(str::to_owned))
                .set_network_interface_id(n.str("network_interface_id").map(str::to_owned))
                .build(),
        );
    }
    for b in a.blocks("block_device_mappings") {
        let ebs = b.block("ebs").map(|e| {
            LaunchTemplateEbsBlockDeviceRequest::builder()
                .set_volume_size(e.i32("volume_size"))
                .set_volume_type(e.str("volume_type").map(Into::into))
                .set_iops(e.i32("iops"))
                .set_throughput(e.i32("throughput"))
                .set_encrypted(e.bool("encrypted"))
                .set_delete_on_termination(e.bool("delete_on_termination"))
                .set_kms_key_id(e.str("kms_key_id").map(str::to_owned))
                .set_snapshot_id(e.str("snapshot_id").map(str::to_owned))
                .build()
        });
        d = d.block_device_mappings(
            LaunchTemplateBlockDeviceMappingRequest::builder()
                .set_device_name(b.str("device_name").map(str::to_owned))
                .set_no_device(b.str("no_device").map(str::to_owned))
                .set_virtual_name(b.str("virtual_name").map(str::to_owned))
                .set_ebs(ebs)
                .build(),
        );
    }
    if let Some(m) = a.block("instance_market_options") {
        let spot = m.block("spot_options").map(|s| {
            LaunchTemplateSpotMarketOptionsRequest::builder()
                .set_max_price(s.str("max_price").map(str::to_owned))
                .set_instance_interruption_behavior(
                    s.str("instance_interruption_behavior").map(Into::into),
                )
                .set_spot_instance_type(s.str("spot_instance_type").map(Into::into))
                .set_block_duration_minutes(s.i32("block_duration_minutes"))
                .build()
        });
        d = d.instance_market_options(
            LaunchTemplateInstanceMarketOptionsRequest::builder()
                .set_market_type(m.str("market_type").map(Into::into))
                .set_spot_options(spot)
                .build(),
        );
    }
    for t in a.blocks("tag_specifications") {
        d = d.tag_specifications(
            LaunchTemplateTagSpecificationRequest::builder()
                .set_resource_type(t.str("resource_type").map(Into::into))
                .set_tags(Some(tags::ec2_tags(&t.str_map("tags"))))
                .build(),
        );
    }
    if let Some(m) = a.block("metadata_options") {
        d = d.metadata_options(
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .set_http_endpoint(m.str("http_endpoint").map(Into::into))
                .set_http_tokens(m.str("http_tokens").map(Into::into))
                .set_http_put_response_hop_limit(m.i32("http_put_response_hop_limit"))
                .set_http_protocol_ipv6(m.str("http_protocol_ipv6").map(Into::into))
                .set_instance_metadata_tags(m.str("instance_metadata_tags").map(Into::into))
                .build(),
        );
    }
    d.build()
}

fn opt_num(n: Option<i32>) -> Value {
    n.map_or(Value::Null, attrs::num)
}

fn opt_bool(b: Option<bool>) -> Value {
    b.map_or(Value::Null, Value::Bool)
}

/// The launch arguments of a version, as state (every block argument present, null when
/// unset, as the configuration has them).
fn data_to_state(state: &mut Obj, d: &ResponseLaunchTemplateData, prior: &Value) {
    let p = Attrs(prior);
    state
        .set("image_id", opt_str(d.image_id()))
        .set(
            "instance_type",
            opt_str(d.instance_type().map(|t| t.as_str())),
        )
        .set("key_name", opt_str(d.key_name()))
        .set("user_data", opt_str(d.user_data()))
        .set("ebs_optimized", opt_bool(d.ebs_optimized()))
        .set(
            "vpc_security_group_ids",
            str_set_or_null(d.security_group_ids(), p.get("vpc_security_group_ids")),
        );
    let profile = d.iam_instance_profile().map_or(Value::Null, |i| {
        Value::map([("name", opt_str(i.name())), ("arn", opt_str(i.arn()))])
    });
    let placement = d.placement().map_or(Value::Null, |pl| {
        Value::map([
            ("group_name", opt_str(pl.group_name())),
            ("availability_zone", opt_str(pl.availability_zone())),
            ("tenancy", opt_str(pl.tenancy().map(|t| t.as_str()))),
        ])
    });
    let prior_nics = p.blocks("network_interfaces");
    let nics = d
        .network_interfaces()
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let prior_groups = prior_nics.get(i).and_then(|b| b.get("security_groups"));
            Value::map([
                ("device_index", opt_num(n.device_index())),
                ("network_card_index", opt_num(n.network_card_index())),
                ("interface_type", opt_str(n.interface_type())),
                ("subnet_id", opt_str(n.subnet_id())),
                ("security_groups", str_set_or_null(n.groups(), prior_groups)),
                (
                    "associate_public_ip_address",
                    opt_bool(n.associate_public_ip_address()),
                ),
                ("delete_on_termination", opt_bool(n.delete_on_termination())),
                ("description", opt_str(n.description())),
                ("network_interface_id", opt_str(n.network_interface_id())),
            ])
        })
        .collect();
    let disks = d
        .block_device_mappings()
        .iter()
        .map(|b| {
            let ebs = b.ebs().map_or(Value::Null, |e| {
                Value::map([
                    ("volume_size", opt_num(e.volume_size())),
                    ("volume_type", opt_str(e.volume_type().map(|t| t.as_str()))),
                    ("iops", opt_num(e.iops())),
                    ("throughput", opt_num(e.throughput())),
                    ("encrypted", opt_bool(e.encrypted())),
                    ("delete_on_termination", opt_bool(e.delete_on_termination())),
                    ("kms_key_id", opt_str(e.kms_key_id())),
                    ("snapshot_id", opt_str(e.snapshot_id())),
                ])
            });
            Value::map([
                ("device_name", opt_str(b.device_name())),
                ("no_device", opt_str(b.no_device())),
                ("virtual_name", opt_str(b.virtual_name())),
                ("ebs", ebs),
            ])
        })
        .collect();
    let market = d.instance_market_options().map_or(Value::Null, |m| {
        let spot = m.spot_options().map_or(Value::Null, |s| {
            Value::map([
                ("max_price", opt_str(s.max_price())),
                (
                    "instance_interruption_behavior",
                    opt_str(s.instance_interruption_behavior().map(|b| b.as_str())),
                ),
                (
                    "spot_instance_type",
                    opt_str(s.spot_instance_type().map(|t| t.as_str())),
                ),
                (
                    "block_duration_minutes",
                    opt_num(s.block_duration_minutes()),
                ),
            ])
        });
        Value::map([
            ("market_type", opt_str(m.market_type().map(|t| t.as_str()))),
            ("spot_options", spot),
        ])
    });
    let tag_specs = d
        .tag_specifications()
        .iter()
        // moto copies the template's own tags into its data as a `launch-template`
        // specification, which AWS does not accept there: not the user's.
        .filter(|t| {
            t.resource_type()
                .is_none_or(|r| *r != Ec2Type::LaunchTemplate)
        })
        .map(|t| {
            Value::map([
                (
                    "resource_type",
                    opt_str(t.resource_type().map(|r| r.as_str())),
                ),
                ("tags", attrs::str_map(&tags::from_ec2(t.tags()))),
            ])
        })
        .collect();
    let metadata = d.metadata_options().map_or(Value::Null, |m| {
        Value::map([
            (
                "http_endpoint",
                opt_str(m.http_endpoint().map(|v| v.as_str())),
            ),
            ("http_tokens", opt_str(m.http_tokens().map(|v| v.as_str()))),
            (
                "http_put_response_hop_limit",
                opt_num(m.http_put_response_hop_limit()),
            ),
            (
                "http_protocol_ipv6",
                opt_str(m.http_protocol_ipv6().map(|v| v.as_str())),
            ),
            (
                "instance_metadata_tags",
                opt_str(m.instance_metadata_tags().map(|v| v.as_str())),
            ),
        ])
    });
    state
        .set("iam_instance_profile", profile)
        .set("placement", placement)
        .set("network_interfaces", Value::List(nics))
        .set("block_device_mappings", Value::List(disks))
        .set("instance_market_options", market)
        .set("tag_specifications", Value::List(tag_specs))
        .set("metadata_options", metadata);
}

/// The template's state from the API (its latest version's arguments), on top of `base`.
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let id = Attrs(&base).id()?.to_owned();
    let ec2 = &cx.clients().ec2;
    let out = match ec2
        .describe_launch_templates()
        .launch_template_ids(&id)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeLaunchTemplates", e))
    {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(t) = out.launch_templates().first() else {
        return Ok(None);
    };
    let latest = t.latest_version_number().unwrap_or(1);
    let versions = ec2
        .describe_launch_template_versions()
        .launch_template_id(&id)
        .versions(latest.to_string())
        .send()
        .await
        .map_err(|e| sdk_error("DescribeLaunchTemplateVersions", e))?;
    let version: Option<&LaunchTemplateVersion> = versions.launch_template_versions().first();
    let mut state = Obj::from(&base);
    state
        .set("id", id.as_str())
        .set(
            "arn",
            format!(
                "arn:aws:ec2:{}:{}:launch-template/{id}",
                cx.region(),
                cx.settings.account_id
            ),
        )
        .set_opt("name", t.launch_template_name())
        .set("latest_version", attrs::num(latest as f64))
        .set_opt(
            "default_version",
            t.default_version_number().map(|v| attrs::num(v as f64)),
        );
    if let Some(v) = version {
        state.set("description", opt_str(v.version_description()));
        if let Some(d) = v.launch_template_data() {
            data_to_state(&mut state, d, &base);
        }
    }
    // DescribeTags, not the template's own `Tags`: moto answers those as they were at
    // create time (AWS shows both the same).
    let tagged = ec2
        .describe_tags()
        .filters(Filter::builder().name("resource-id").values(&id).build())
        .send()
        .await
        .map_err(|e| sdk_error("DescribeTags", e))?;
    let cloud: tags::Tags = tagged
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
        .collect();
    tags::record(&mut state, &cx.settings.default_tags, &cloud);
    attrs::complete(&mut state, &LaunchTemplate.schema());
    Ok(Some(state.into_value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Value {
        Value::map([
            ("instance_type", Value::string("p5.48xlarge")),
            (
                "network_interfaces",
                Value::List(vec![Value::map([
                    ("device_index", Value::Number(0.0)),
                    ("interface_type", Value::string("efa")),
                    ("security_groups", Value::set(vec![Value::string("sg-1")])),
                ])]),
            ),
            (
                "metadata_options",
                Value::map([("http_tokens", Value::string("required"))]),
            ),
        ])
    }

    #[test]
    fn request_data_carries_efa_interfaces_and_metadata_options() {
        let v = config();
        let d = request_data(&Attrs(&v));
        assert_eq!(d.instance_type().map(|t| t.as_str()), Some("p5.48xlarge"));
        let nic = &d.network_interfaces()[0];
        assert_eq!(nic.interface_type(), Some("efa"));
        assert_eq!(nic.device_index(), Some(0));
        assert_eq!(nic.groups(), ["sg-1".to_owned()]);
        assert_eq!(
            d.metadata_options()
                .and_then(|m| m.http_tokens())
                .map(|t| t.as_str()),
            Some("required")
        );
        assert!(d.security_group_ids().is_empty());
    }

    #[test]
    fn tags_alone_make_no_new_version() {
        let prior = Value::map([
            ("id", Value::string("lt-1")),
            ("instance_type", Value::string("p5.48xlarge")),
            ("tags", Value::map([("a", Value::string("1"))])),
            ("latest_version", Value::Number(1.0)),
        ]);
        let mut retagged = prior.as_map().cloned().unwrap_or_default();
        retagged.insert("tags".into(), Value::map([("a", Value::string("2"))]));
        assert_eq!(versioned(&prior), versioned(&Value::Map(retagged.clone())));
        retagged.insert("instance_type".into(), Value::string("p4d.24xlarge"));
        assert_ne!(versioned(&prior), versioned(&Value::Map(retagged.clone())));
        // One update's retries share a token; the next update gets another.
        let planned = Value::Map(retagged);
        assert_eq!(
            version_token("lt-1", &prior, &planned),
            version_token("lt-1", &prior, &planned)
        );
        assert_ne!(
            version_token("lt-1", &prior, &planned),
            version_token("lt-1", &planned, &prior)
        );
        assert!(version_token("lt-0123456789abcdef0", &prior, &planned).len() <= 64);
    }

    #[test]
    fn generated_names_are_stable_per_create() {
        let v = Value::map([("name_prefix", Value::string("gpu-"))]);
        let token = "2f1c7f4e-1a6b-4c1e-9d3a-0c2b8e6f7a11";
        let name = template_name(&Attrs(&v), Some(token));
        assert_eq!(name, template_name(&Attrs(&v), Some(token)));
        assert!(name.starts_with("gpu-2f1c7f4e1a6b"), "{name}");
        let named = Value::map([("name", Value::string("train"))]);
        assert_eq!(template_name(&Attrs(&named), Some(token)), "train");
    }
}
