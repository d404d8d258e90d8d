//! `aws_efs_file_system`: an EFS file system (shared home directories, checkpoints, the
//! storage behind a SageMaker domain).

use super::{accepted, after_accept, only_one, Cx, ResourceType};
use crate::attrs::{num, Attrs, Obj};
use crate::errors::{is_not_found, none_if_not_found, sdk_error};
use crate::tags::{self, with_tags, Tags};
use crate::wait::{read_back, Wait};
use aws_sdk_efs::types::{
    FileSystemDescription, LifeCycleState, LifecyclePolicy, PerformanceMode, Tag, ThroughputMode,
    TransitionToArchiveRules, TransitionToIaRules, TransitionToPrimaryStorageClassRules,
};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, Attribute, ErrorClass, NestedBlock, Nesting, ObjectAttr, ProviderError, Schema,
    Timeouts, Type, Value,
};
use std::time::Duration;

pub struct EfsFileSystem;

/// EFS is usually available within seconds; Terraform waits up to 10 minutes (it has no
/// `timeouts` block for this type; gantry accepts one).
const TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The three transitions a lifecycle policy can name, one per `lifecycle_policy` block.
const TRANSITIONS: [&str; 3] = [
    "transition_to_ia",
    "transition_to_primary_storage_class",
    "transition_to_archive",
];

#[async_trait]
impl ResourceType for EfsFileSystem {
    fn name(&self) -> &'static str {
        "aws_efs_file_system"
    }

    fn schema(&self) -> Schema {
        let policy = TRANSITIONS.iter().fold(Schema::default(), |s, t| {
            s.attr(t, Attribute::optional(Type::String))
        });
        let size = Type::Object(
            [
                "value",
                "value_in_ia",
                "value_in_standard",
                "value_in_archive",
            ]
            .iter()
            .map(|n| ((*n).to_owned(), ObjectAttr::required(Type::Number)))
            .collect(),
        );
        with_tags(
            Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr(
                    "creation_token",
                    Attribute::optional_computed(Type::String)
                        .force_new()
                        .describe("EFS's idempotency token; gantry's create token when not set."),
                )
                .attr(
                    "performance_mode",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr(
                    "throughput_mode",
                    Attribute::optional(Type::String).with_default("bursting"),
                )
                .attr(
                    "provisioned_throughput_in_mibps",
                    Attribute::optional_computed(Type::Number),
                )
                .attr(
                    "encrypted",
                    Attribute::optional_computed(Type::Bool).force_new(),
                )
                .attr(
                    "kms_key_id",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr(
                    "availability_zone_name",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr("availability_zone_id", Attribute::computed(Type::String))
                .attr("dns_name", Attribute::computed(Type::String))
                .attr("owner_id", Attribute::computed(Type::String))
                .attr("name", Attribute::computed(Type::String))
                .attr("number_of_mount_targets", Attribute::computed(Type::Number))
                .attr("size_in_bytes", Attribute::computed(Type::list(size)))
                .block(
                    "lifecycle_policy",
                    NestedBlock {
                        nesting: Nesting::List,
                        schema: policy,
                        min_items: 0,
                        max_items: Some(3),
                        force_new: false,
                    },
                ),
        )
        .with_timeouts(Timeouts::all(TIMEOUT))
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        validate(config)
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let token = match a.str("creation_token").or(cx.token()) {
            Some(t) => t.to_owned(),
            None => generated_token(),
        };
        let out = cx
            .clients()
            .efs
            .create_file_system()
            .creation_token(&token)
            .set_performance_mode(a.str("performance_mode").map(PerformanceMode::from))
            .set_throughput_mode(a.str("throughput_mode").map(ThroughputMode::from))
            .set_provisioned_throughput_in_mibps(a.num("provisioned_throughput_in_mibps"))
            .set_encrypted(a.bool("encrypted"))
            .set_kms_key_id(a.str("kms_key_id").map(str::to_owned))
            .set_availability_zone_name(a.str("availability_zone_name").map(str::to_owned))
            .set_tags(Some(efs_tags(&cx.tags(planned))?))
            .send()
            .await
            .map_err(|e| sdk_error("CreateFileSystem", e));
        let id = match out {
            Ok(out) => out.file_system_id().to_owned(),
            // A retry of a create that went through: EFS keys file systems by token.
            Err(e) if e.code.as_deref() == Some("FileSystemAlreadyExists") => {
                made_with(cx, &token).await?.ok_or(e)?
            }
            Err(e) => return Err(e),
        };
        let mut known = Obj::from(&accepted(planned, &id));
        known.set("creation_token", token.as_str());
        let known = known.into_value();
        after_accept(known.clone(), async {
            wait_available(cx, &id, TIMEOUT).await?;
            let policies = lifecycle_policies(&a);
            if !policies.is_empty() {
                put_lifecycle(cx, &id, policies).await?;
            }
            let noun = format!("EFS file system {id}");
            read_back(cx.op, &noun, || read_into(cx, known.clone())).await
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let (p, n) = (Attrs(prior), Attrs(planned));
        let id = p.id()?.to_owned();
        let efs = &cx.clients().efs;
        update_tags(cx, &id, &p.str_map("tags_all"), &cx.tags(planned)).await?;
        let throughput = ["throughput_mode", "provisioned_throughput_in_mibps"];
        if throughput.iter().any(|t| p.get(t) != n.get(t)) {
            efs.update_file_system()
                .file_system_id(&id)
                .set_throughput_mode(n.str("throughput_mode").map(ThroughputMode::from))
                .set_provisioned_throughput_in_mibps(
                    (n.str("throughput_mode") == Some("provisioned"))
                        .then(|| n.num("provisioned_throughput_in_mibps"))
                        .flatten(),
                )
                .send()
                .await
                .map_err(|e| sdk_error("UpdateFileSystem", e))?;
            wait_available(cx, &id, TIMEOUT).await?;
        }
        if p.get("lifecycle_policy") != n.get("lifecycle_policy") {
            // An empty list removes every policy.
            put_lifecycle(cx, &id, lifecycle_policies(&n)).await?;
        }
        let mut state = Obj::from(planned);
        state.set("id", id.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("EFS file system {id} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let id = Attrs(state).id()?;
        // FileSystemInUse (mount targets left) is HTTP 409: a Conflict the engine retries.
        let sent = cx
            .clients()
            .efs
            .delete_file_system()
            .file_system_id(id)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteFileSystem", e));
        if none_if_not_found(sent)?.is_none() {
            return Ok(());
        }
        Wait::for_op(cx.op, TIMEOUT)
            .until_gone(cx.op, &format!("EFS file system {id}"), || describe(cx, id))
            .await
    }

    /// The file system made with the create's CreationToken (EFS's own idempotency token:
    /// `creation_token`, else this create's token) that this create made: with gantry's
    /// token that alone proves it, with a `creation_token` the stack chose (which any other
    /// create could use too) it must also carry this create's stack, address and token.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let creation_token = Attrs(planned).str("creation_token").unwrap_or(token);
        match made_with(cx, creation_token).await? {
            Some(id) => read_into(cx, Value::map([("id", Value::string(id))])).await,
            None => Ok(None),
        }
    }
}

fn validate(config: &Value) -> Vec<String> {
    let a = Attrs(config);
    let mut errors = Vec::new();
    let one_of = |name: &str, allowed: &[&str]| -> Option<String> {
        a.str(name)
            .filter(|v| !allowed.contains(v))
            .map(|v| format!("`{name}` must be one of {}, not {v:?}", allowed.join(", ")))
    };
    errors.extend(one_of("performance_mode", &["generalPurpose", "maxIO"]));
    errors.extend(one_of(
        "throughput_mode",
        &["bursting", "provisioned", "elastic"],
    ));
    let provisioned = a.str("throughput_mode") == Some("provisioned");
    if provisioned != a.num("provisioned_throughput_in_mibps").is_some()
        && a.get("throughput_mode").is_some()
    {
        errors.push(
            "`provisioned_throughput_in_mibps` is required with, and only with, `throughput_mode = \"provisioned\"`"
                .to_owned(),
        );
    }
    if a.str("kms_key_id").is_some() && a.bool("encrypted") != Some(true) {
        errors.push("`kms_key_id` needs `encrypted = true`".to_owned());
    }
    if a.str("creation_token")
        .is_some_and(|t| t.is_empty() || t.len() > 64)
    {
        errors.push("`creation_token` must be 1 to 64 characters".to_owned());
    }
    for (i, block) in a.blocks("lifecycle_policy").iter().enumerate() {
        let set = TRANSITIONS
            .iter()
            .filter(|t| block.str(t).is_some())
            .count();
        if set != 1 {
            errors.push(format!(
                "`lifecycle_policy.{i}` must set exactly one of {}",
                TRANSITIONS.join(", ")
            ));
        }
    }
    errors
}

/// A creation token when the engine gave none (it always does for creates).
fn generated_token() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("gantry-{nanos}")
}

fn lifecycle_policies(a: &Attrs<'_>) -> Vec<LifecyclePolicy> {
    a.blocks("lifecycle_policy")
        .iter()
        .map(|b| {
            LifecyclePolicy::builder()
                .set_transition_to_ia(b.str("transition_to_ia").map(TransitionToIaRules::from))
                .set_transition_to_primary_storage_class(
                    b.str("transition_to_primary_storage_class")
                        .map(TransitionToPrimaryStorageClassRules::from),
                )
                .set_transition_to_archive(
                    b.str("transition_to_archive")
                        .map(TransitionToArchiveRules::from),
                )
                .build()
        })
        .collect()
}

/// The `lifecycle_policy` blocks of what EFS holds, in the shape the configuration has.
fn policy_blocks(policies: &[LifecyclePolicy]) -> Value {
    let opt = |s: Option<&str>| s.map_or(Value::Null, Value::string);
    Value::List(
        policies
            .iter()
            .map(|p| {
                Value::map([
                    (
                        "transition_to_ia",
                        opt(p.transition_to_ia().map(|r| r.as_str())),
                    ),
                    (
                        "transition_to_primary_storage_class",
                        opt(p.transition_to_primary_storage_class().map(|r| r.as_str())),
                    ),
                    (
                        "transition_to_archive",
                        opt(p.transition_to_archive().map(|r| r.as_str())),
                    ),
                ])
            })
            .collect(),
    )
}

async fn put_lifecycle(cx: &Cx<'_>, id: &str, policies: Vec<LifecyclePolicy>) -> Result<()> {
    cx.clients()
        .efs
        .put_lifecycle_configuration()
        .file_system_id(id)
        .set_lifecycle_policies(Some(policies))
        .send()
        .await
        .map_err(|e| sdk_error("PutLifecycleConfiguration", e))?;
    Ok(())
}

/// The file system EFS made for CreationToken `creation_token`, when it is this create's:
/// the token is this create's own (EFS keys file systems by it) and its tags do not name
/// another stack or address, or the file system carries this create's stack, address and
/// token.
async fn made_with(cx: &Cx<'_>, creation_token: &str) -> Result<Option<String>> {
    let out = cx
        .clients()
        .efs
        .describe_file_systems()
        .creation_token(creation_token)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeFileSystems", e))?;
    let own_token = cx.token() == Some(creation_token);
    let found = out
        .file_systems()
        .iter()
        .filter(|fs| {
            let found = from_efs(fs.tags());
            let ours =
                (own_token && !tags::contradict(cx.op, &found)) || tags::are_ours(cx.op, &found);
            !gone(fs) && ours
        })
        .map(|fs| fs.file_system_id().to_owned())
        .collect();
    Ok(only_one("EFS file system", found))
}

fn gone(fs: &FileSystemDescription) -> bool {
    matches!(
        fs.life_cycle_state(),
        LifeCycleState::Deleting | LifeCycleState::Deleted
    )
}

/// The file system, `None` when it does not exist (or is being deleted).
async fn describe(cx: &Cx<'_>, id: &str) -> Result<Option<FileSystemDescription>> {
    let out = cx
        .clients()
        .efs
        .describe_file_systems()
        .file_system_id(id)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeFileSystems", e));
    Ok(none_if_not_found(out)?.and_then(|out| {
        out.file_systems()
            .iter()
            .find(|fs| fs.file_system_id() == id && !gone(fs))
            .cloned()
    }))
}

async fn wait_available(cx: &Cx<'_>, id: &str, default: Duration) -> Result<()> {
    Wait::for_op(cx.op, default)
        .until_ready(
            cx.op,
            &format!("EFS file system {id}"),
            "available",
            || describe(cx, id),
            |fs| match fs.life_cycle_state() {
                LifeCycleState::Available => Ok(Some(())),
                LifeCycleState::Error => Err(ProviderError::new(
                    ErrorClass::Fatal,
                    format!("EFS file system {id} is in the error state"),
                )),
                _ => Ok(None),
            },
        )
        .await
}

/// The file system's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let id = Attrs(&base).id()?.to_owned();
    let Some(fs) = describe(cx, &id).await? else {
        return Ok(None);
    };
    let out = cx
        .clients()
        .efs
        .describe_lifecycle_configuration()
        .file_system_id(&id)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeLifecycleConfiguration", e));
    let policies = match out {
        Ok(out) => out.lifecycle_policies().to_vec(),
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(state_of(
        &base,
        &fs,
        &policies,
        cx.region(),
        &cx.settings.default_tags,
    )))
}

fn state_of(
    base: &Value,
    fs: &FileSystemDescription,
    policies: &[LifecyclePolicy],
    region: &str,
    default_tags: &Tags,
) -> Value {
    let mut state = Obj::from(base);
    let id = fs.file_system_id();
    let opt = |s: Option<&str>| s.map_or(Value::Null, Value::string);
    let size = fs.size_in_bytes().map_or(Value::List(Vec::new()), |s| {
        let n = |v: Option<i64>| num(v.unwrap_or(0) as f64);
        Value::List(vec![Value::map([
            ("value", num(s.value() as f64)),
            ("value_in_ia", n(s.value_in_ia())),
            ("value_in_standard", n(s.value_in_standard())),
            ("value_in_archive", n(s.value_in_archive())),
        ])])
    });
    state
        .set("id", id)
        .set("arn", opt(fs.file_system_arn()))
        .set("creation_token", fs.creation_token())
        .set("performance_mode", fs.performance_mode().as_str())
        .set(
            "throughput_mode",
            opt(fs.throughput_mode().map(|t| t.as_str())),
        )
        .set(
            "provisioned_throughput_in_mibps",
            fs.provisioned_throughput_in_mibps()
                .map_or(Value::Null, num),
        )
        .set("encrypted", fs.encrypted().unwrap_or(false))
        .set("kms_key_id", opt(fs.kms_key_id()))
        .set("availability_zone_name", opt(fs.availability_zone_name()))
        .set("availability_zone_id", opt(fs.availability_zone_id()))
        .set("dns_name", format!("{id}.efs.{region}.amazonaws.com"))
        .set("owner_id", fs.owner_id())
        .set("name", opt(fs.name().filter(|n| !n.is_empty())))
        .set("number_of_mount_targets", num(fs.number_of_mount_targets()))
        .set("size_in_bytes", size)
        .set("lifecycle_policy", policy_blocks(policies));
    tags::record(&mut state, default_tags, &from_efs(fs.tags()));
    state.into_value()
}

fn efs_tags(tags: &Tags) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| ProviderError::invalid(format!("tag {k}: {e}")))
        })
        .collect()
}

fn from_efs(tags: &[Tag]) -> Tags {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

/// Brings the file system's tags from `old` to `new` (TagResource / UntagResource).
async fn update_tags(cx: &Cx<'_>, id: &str, old: &Tags, new: &Tags) -> Result<()> {
    let efs = &cx.clients().efs;
    tags::update_with(
        old,
        new,
        |removed| async move {
            efs.untag_resource()
                .resource_id(id)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| sdk_error("UntagResource", e))
        },
        |changed| async move {
            efs.tag_resource()
                .resource_id(id)
                .set_tags(Some(efs_tags(&changed)?))
                .send()
                .await
                .map_err(|e| sdk_error("TagResource", e))
        },
    )
    .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use aws_sdk_efs::types::FileSystemSize;
    use aws_smithy_types::DateTime;

    fn policy(field: &str, value: &str) -> Value {
        Value::map(TRANSITIONS.iter().map(|t| {
            (
                *t,
                if *t == field {
                    Value::string(value)
                } else {
                    Value::Null
                },
            )
        }))
    }

    #[test]
    fn lifecycle_blocks_round_trip() {
        let config = Value::map([(
            "lifecycle_policy",
            Value::List(vec![
                policy("transition_to_ia", "AFTER_30_DAYS"),
                policy("transition_to_primary_storage_class", "AFTER_1_ACCESS"),
            ]),
        )]);
        let policies = lifecycle_policies(&Attrs(&config));
        assert_eq!(policies.len(), 2);
        assert_eq!(
            policies[0].transition_to_ia(),
            Some(&TransitionToIaRules::After30Days)
        );
        assert_eq!(
            Some(&policy_blocks(&policies)),
            Attrs(&config).get("lifecycle_policy")
        );
    }

    #[test]
    fn validation() {
        let bad = Value::map([
            ("throughput_mode", Value::string("provisioned")),
            ("kms_key_id", Value::string("arn:aws:kms:us-east-1:1:key/x")),
            (
                "lifecycle_policy",
                Value::List(vec![Value::map([("transition_to_ia", Value::Null)])]),
            ),
        ]);
        let text = validate(&bad).join("\n");
        assert!(text.contains("provisioned_throughput_in_mibps"), "{text}");
        assert!(text.contains("encrypted"), "{text}");
        assert!(text.contains("lifecycle_policy.0"), "{text}");
        let good = Value::map([
            ("throughput_mode", Value::string("elastic")),
            (
                "lifecycle_policy",
                Value::List(vec![policy("transition_to_ia", "AFTER_7_DAYS")]),
            ),
        ]);
        assert!(validate(&good).is_empty());
    }

    #[test]
    fn state_has_every_attribute() {
        let fs = FileSystemDescription::builder()
            .owner_id("123456789012")
            .creation_token("tok")
            .file_system_id("fs-1")
            .creation_time(DateTime::from_secs(0))
            .life_cycle_state(LifeCycleState::Available)
            .number_of_mount_targets(0)
            .size_in_bytes(FileSystemSize::builder().value(6144).build())
            .performance_mode(PerformanceMode::GeneralPurpose)
            .name("home")
            .tags(Tag::builder().key("Name").value("home").build().unwrap())
            .build()
            .unwrap();
        let state = state_of(&Value::Null, &fs, &[], "us-east-1", &Tags::new());
        let a = Attrs(&state);
        assert_eq!(a.str("dns_name"), Some("fs-1.efs.us-east-1.amazonaws.com"));
        assert_eq!(a.str("name"), Some("home"));
        assert_eq!(a.str("creation_token"), Some("tok"));
        assert_eq!(a.get("lifecycle_policy"), Some(&Value::List(Vec::new())));
        assert_eq!(a.blocks("size_in_bytes")[0].i64("value"), Some(6144));
        assert_eq!(a.bool("encrypted"), Some(false));
    }
}
