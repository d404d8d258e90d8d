//! `aws_fsx_lustre_file_system`: an FSx for Lustre file system, the fast scratch or
//! persistent storage next to a training cluster (optionally linked to an S3 bucket).

use super::{accepted, after_accept, only_one, Cx, ResourceType};
use crate::attrs::{num, Attrs, Obj};
use crate::errors::{none_if_not_found, sdk_error};
use crate::tags::{self, with_tags, Tags};
use crate::wait::{through_iam_propagation, Wait};
use aws_sdk_fsx::types::{
    AdministrativeActionType, AutoImportPolicyType, CreateFileSystemLustreConfiguration,
    DataCompressionType, DeleteFileSystemLustreConfiguration, FileSystem, FileSystemLifecycle,
    FileSystemType, LustreDeploymentType, Status, StorageType, Tag,
    UpdateFileSystemLustreConfiguration,
};
use aws_smithy_types::DateTime;
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, Attribute, ErrorClass, PlannedState, ProviderError, Schema,
    Timeouts, Type, Value,
};
use std::time::{Duration, SystemTime};

pub struct LustreFileSystem;

/// Terraform's default create/update/delete timeouts for this type.
const TIMEOUT: Duration = Duration::from_secs(30 * 60);

const DEPLOYMENT_TYPES: [&str; 4] = ["SCRATCH_1", "SCRATCH_2", "PERSISTENT_1", "PERSISTENT_2"];
const THROUGHPUTS: [i64; 9] = [12, 40, 50, 100, 125, 200, 250, 500, 1000];

/// The attributes UpdateFileSystem changes in place (tags go through TagResource):
/// `storage_capacity`, then the LustreConfiguration settings.
const UPDATABLE: [&str; 5] = [
    "storage_capacity",
    "per_unit_storage_throughput",
    "auto_import_policy",
    "data_compression_type",
    "weekly_maintenance_start_time",
];

#[async_trait]
impl ResourceType for LustreFileSystem {
    fn name(&self) -> &'static str {
        "aws_fsx_lustre_file_system"
    }

    fn schema(&self) -> Schema {
        with_tags(
            Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr(
                    "storage_capacity",
                    Attribute::required(Type::Number).describe(
                        "GiB; grows in place, shrinking (or any change on SCRATCH_1) replaces.",
                    ),
                )
                .attr(
                    "subnet_ids",
                    Attribute::required(Type::list(Type::String)).force_new(),
                )
                // The file system's ENIs carry the VPC's default group when none is given.
                .attr(
                    "security_group_ids",
                    Attribute::optional_computed(Type::set(Type::String)).force_new(),
                )
                .attr(
                    "deployment_type",
                    Attribute::optional(Type::String)
                        .with_default("SCRATCH_1")
                        .force_new(),
                )
                .attr(
                    "per_unit_storage_throughput",
                    Attribute::optional(Type::Number),
                )
                .attr(
                    "storage_type",
                    Attribute::optional(Type::String)
                        .with_default("SSD")
                        .force_new(),
                )
                .attr("import_path", Attribute::optional(Type::String).force_new())
                .attr(
                    "export_path",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr(
                    "auto_import_policy",
                    Attribute::optional_computed(Type::String),
                )
                .attr(
                    "data_compression_type",
                    Attribute::optional(Type::String).with_default("NONE"),
                )
                .attr(
                    "file_system_type_version",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr(
                    "weekly_maintenance_start_time",
                    Attribute::optional_computed(Type::String),
                )
                .attr(
                    "kms_key_id",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr("dns_name", Attribute::computed(Type::String))
                .attr("mount_name", Attribute::computed(Type::String))
                // Ordered: the first ENI is the primary one (what on-premises clients mount).
                .attr(
                    "network_interface_ids",
                    Attribute::computed(Type::list(Type::String)),
                )
                .attr("owner_id", Attribute::computed(Type::String))
                .attr("vpc_id", Attribute::computed(Type::String)),
        )
        .with_timeouts(Timeouts::all(TIMEOUT))
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        validate(config)
    }

    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        // Lustre only grows: a smaller capacity, or any change of a SCRATCH_1 file system
        // (which cannot be resized), needs a new file system.
        let mut schema = schema.clone();
        if capacity_change_replaces(prior, config) {
            if let Some(a) = schema.attributes.get_mut("storage_capacity") {
                a.force_new = true;
            }
        }
        Ok(plan_from_schema(&schema, prior, config))
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let capacity = a
            .i32("storage_capacity")
            .ok_or_else(|| ProviderError::invalid("`storage_capacity` is required"))?;
        let security_groups = a.strs("security_group_ids");
        let fsx = &cx.clients().fsx;
        let send = || {
            fsx.create_file_system()
                // FSx returns the same file system for a retried request with this token.
                .set_client_request_token(cx.token().map(str::to_owned))
                .file_system_type(FileSystemType::Lustre)
                .storage_capacity(capacity)
                .storage_type(StorageType::from(a.str("storage_type").unwrap_or("SSD")))
                .set_subnet_ids(Some(a.strs("subnet_ids")))
                .set_security_group_ids(
                    (!security_groups.is_empty()).then(|| security_groups.clone()),
                )
                .set_kms_key_id(a.str("kms_key_id").map(str::to_owned))
                .set_file_system_type_version(a.str("file_system_type_version").map(str::to_owned))
                .lustre_configuration(lustre_create_config(&a))
                .set_tags(Some(fsx_tags(&cx.tags(planned))))
                .send()
        };
        // FSx may not find a (service-linked) role made moments ago yet.
        let out = through_iam_propagation(cx.op, "CreateFileSystem", || async {
            send().await.map_err(|e| sdk_error("CreateFileSystem", e))
        })
        .await?;
        let created = out
            .file_system()
            .filter(|fs| fs.file_system_id().is_some())
            .ok_or_else(|| ProviderError::fatal("CreateFileSystem returned no file system id"))?;
        let id = created.file_system_id().unwrap_or_default().to_owned();
        // What the create answered is the state known so far (ARN, DNS name).
        let known =
            state_of(&accepted(planned, &id), created, &cx.settings.default_tags).into_value();
        after_accept(known.clone(), async {
            let fs = wait_settled(cx, &id, None, TIMEOUT).await?;
            Ok(to_state(cx, &known, &fs).await)
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        let id = Attrs(state).id()?;
        match describe(cx, id).await? {
            // A file system being deleted cannot come back: it is gone for planning.
            Some(fs) if fs.lifecycle() != Some(&FileSystemLifecycle::Deleting) => {
                Ok(Some(to_state(cx, state, &fs).await))
            }
            _ => Ok(None),
        }
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let (p, n) = (Attrs(prior), Attrs(planned));
        let id = p.id()?.to_owned();
        if let Some(arn) = p.str("arn") {
            update_tags(cx, arn, &p.str_map("tags_all"), &cx.tags(planned)).await?;
        }
        if UPDATABLE.iter().any(|name| p.get(name) != n.get(name)) {
            let started = DateTime::from(SystemTime::now());
            let mut req = cx.clients().fsx.update_file_system().file_system_id(&id);
            if p.get("storage_capacity") != n.get("storage_capacity") {
                req = req.set_storage_capacity(n.i32("storage_capacity"));
            }
            if UPDATABLE[1..].iter().any(|name| p.get(name) != n.get(name)) {
                req = req.lustre_configuration(lustre_update_config(&p, &n));
            }
            req.send()
                .await
                .map_err(|e| sdk_error("UpdateFileSystem", e))?;
            wait_settled(cx, &id, Some(started), TIMEOUT).await?;
        }
        let mut state = Obj::from(planned);
        state.set("id", id.as_str());
        self.read(cx, &state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("FSx file system {id} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let id = a.id()?;
        let Some(fs) = describe(cx, id).await? else {
            return Ok(());
        };
        // A file system still being created or resized cannot be deleted yet.
        if matches!(
            fs.lifecycle(),
            Some(FileSystemLifecycle::Creating | FileSystemLifecycle::Updating)
        ) {
            wait_settled(cx, id, None, TIMEOUT).await.ok();
        }
        let mut req = cx.clients().fsx.delete_file_system().file_system_id(id);
        // Scratch file systems take no Lustre configuration at all; persistent ones would
        // otherwise take a final backup (Terraform's skip_final_backup defaults to true).
        if !a
            .str("deployment_type")
            .unwrap_or("SCRATCH_1")
            .starts_with("SCRATCH_")
        {
            req = req.lustre_configuration(
                DeleteFileSystemLustreConfiguration::builder()
                    .skip_final_backup(true)
                    .build(),
            );
        }
        let sent = req
            .send()
            .await
            .map_err(|e| sdk_error("DeleteFileSystem", e));
        if none_if_not_found(sent)?.is_none() {
            return Ok(());
        }
        Wait::for_op(cx.op, TIMEOUT)
            .until_gone(cx.op, &format!("FSx file system {id}"), || describe(cx, id))
            .await
    }

    /// The file system tagged with this create's stack, address and token (FSx keeps the
    /// ClientRequestToken to itself: DescribeFileSystems cannot be asked by it), paging
    /// through every file system of the region. One being deleted is none.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        _planned: &Value,
    ) -> Result<Option<Value>> {
        let mut pages = cx
            .clients()
            .fsx
            .describe_file_systems()
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("DescribeFileSystems", e))?;
            found.extend(
                page.file_systems()
                    .iter()
                    .filter(|fs| {
                        fs.lifecycle() != Some(&FileSystemLifecycle::Deleting)
                            && tags::are_ours(cx.op, &from_fsx(fs.tags()))
                    })
                    .cloned(),
            );
        }
        let ids = found
            .iter()
            .filter_map(|fs| fs.file_system_id().map(str::to_owned))
            .collect();
        let Some(id) = only_one("FSx file system", ids) else {
            return Ok(None);
        };
        let base = Value::map([("id", Value::string(&id))]);
        match found
            .iter()
            .find(|fs| fs.file_system_id() == Some(id.as_str()))
        {
            Some(fs) => Ok(Some(to_state(cx, &base, fs).await)),
            None => Ok(None),
        }
    }
}

fn validate(config: &Value) -> Vec<String> {
    let a = Attrs(config);
    let mut errors = Vec::new();
    let deployment = a.str("deployment_type").unwrap_or("SCRATCH_1");
    if !DEPLOYMENT_TYPES.contains(&deployment) {
        errors.push(format!(
            "`deployment_type` must be one of {}, not {deployment:?}",
            DEPLOYMENT_TYPES.join(", ")
        ));
    }
    if a.i64("storage_capacity").is_some_and(|c| c < 1200) {
        errors.push("`storage_capacity` must be at least 1200 (GiB)".to_owned());
    }
    // Counted as given: the subnet is usually another resource's id, unknown until apply.
    if a.get("subnet_ids")
        .and_then(Value::as_seq)
        .is_some_and(|s| s.len() != 1)
    {
        errors.push("`subnet_ids` takes exactly one subnet".to_owned());
    }
    if let Some(t) = a.i64("per_unit_storage_throughput") {
        if !THROUGHPUTS.contains(&t) {
            errors.push(format!(
                "`per_unit_storage_throughput` must be one of {THROUGHPUTS:?} (MB/s/TiB), not {t}"
            ));
        }
        if !deployment.starts_with("PERSISTENT_") {
            errors.push(
                "`per_unit_storage_throughput` applies to PERSISTENT_1 and PERSISTENT_2 only"
                    .to_owned(),
            );
        }
    }
    for name in ["import_path", "export_path"] {
        if a.str(name).is_some_and(|p| !p.starts_with("s3://")) {
            errors.push(format!("`{name}` must begin with s3://"));
        }
    }
    if deployment == "PERSISTENT_2"
        && (a.str("import_path").is_some() || a.str("auto_import_policy").is_some())
    {
        errors.push("PERSISTENT_2 links S3 through data repository associations, not `import_path`/`auto_import_policy`".to_owned());
    }
    let one_of = |name: &str, allowed: &[&str]| -> Option<String> {
        a.str(name)
            .filter(|v| !allowed.contains(v))
            .map(|v| format!("`{name}` must be one of {}, not {v:?}", allowed.join(", ")))
    };
    errors.extend(one_of("storage_type", &["SSD", "HDD"]));
    errors.extend(one_of("data_compression_type", &["NONE", "LZ4"]));
    errors.extend(one_of(
        "auto_import_policy",
        &["NONE", "NEW", "NEW_CHANGED", "NEW_CHANGED_DELETED"],
    ));
    if let Some(t) = a.str("weekly_maintenance_start_time") {
        if !is_weekly_time(t) {
            errors.push(format!(
                "`weekly_maintenance_start_time` must be d:HH:MM (day 1-7), not {t:?}"
            ));
        }
    }
    errors
}

/// `d:HH:MM`, day 1 (Monday) to 7.
fn is_weekly_time(t: &str) -> bool {
    let parts: Vec<&str> = t.split(':').collect();
    let number = |s: &str, len: usize, max: u32| {
        s.len() == len
            && s.chars().all(|c| c.is_ascii_digit())
            && s.parse::<u32>().is_ok_and(|n| n <= max)
    };
    parts.len() == 3
        && number(parts[0], 1, 7)
        && parts[0] != "0"
        && number(parts[1], 2, 23)
        && number(parts[2], 2, 59)
}

/// True when the planned capacity change cannot be done in place.
fn capacity_change_replaces(prior: Option<&Value>, config: &Value) -> bool {
    let Some(prior) = prior else {
        return false;
    };
    match (
        Attrs(prior).num("storage_capacity"),
        Attrs(config).num("storage_capacity"),
    ) {
        (Some(old), Some(new)) if old != new => {
            new < old || Attrs(config).str("deployment_type").unwrap_or("SCRATCH_1") == "SCRATCH_1"
        }
        _ => false,
    }
}

fn lustre_create_config(a: &Attrs<'_>) -> CreateFileSystemLustreConfiguration {
    CreateFileSystemLustreConfiguration::builder()
        .deployment_type(LustreDeploymentType::from(
            a.str("deployment_type").unwrap_or("SCRATCH_1"),
        ))
        .set_per_unit_storage_throughput(a.i32("per_unit_storage_throughput"))
        .set_import_path(a.str("import_path").map(str::to_owned))
        .set_export_path(a.str("export_path").map(str::to_owned))
        .set_auto_import_policy(a.str("auto_import_policy").map(AutoImportPolicyType::from))
        .set_data_compression_type(
            a.str("data_compression_type")
                .map(DataCompressionType::from),
        )
        .set_weekly_maintenance_start_time(
            a.str("weekly_maintenance_start_time").map(str::to_owned),
        )
        .build()
}

/// Only what changed: FSx rejects some settings on deployment types that lack them, even
/// when the value is the current one.
fn lustre_update_config(p: &Attrs<'_>, n: &Attrs<'_>) -> UpdateFileSystemLustreConfiguration {
    let changed = |name: &str| p.get(name) != n.get(name);
    let mut c = UpdateFileSystemLustreConfiguration::builder();
    if changed("per_unit_storage_throughput") {
        c = c.set_per_unit_storage_throughput(n.i32("per_unit_storage_throughput"));
    }
    if changed("auto_import_policy") {
        c = c.set_auto_import_policy(n.str("auto_import_policy").map(AutoImportPolicyType::from));
    }
    if changed("data_compression_type") {
        c = c.set_data_compression_type(
            n.str("data_compression_type")
                .map(DataCompressionType::from),
        );
    }
    if changed("weekly_maintenance_start_time") {
        c = c.set_weekly_maintenance_start_time(
            n.str("weekly_maintenance_start_time").map(str::to_owned),
        );
    }
    c.build()
}

/// The file system, `None` when it does not exist.
async fn describe(cx: &Cx<'_>, id: &str) -> Result<Option<FileSystem>> {
    let out = cx
        .clients()
        .fsx
        .describe_file_systems()
        .file_system_ids(id)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeFileSystems", e));
    Ok(none_if_not_found(out)?.and_then(|out| {
        out.file_systems()
            .iter()
            .find(|fs| fs.file_system_id() == Some(id))
            .cloned()
    }))
}

/// Waits (up to the operation's timeout, else `default`) until the file system is
/// AVAILABLE and no update requested since `since` is still running (a capacity or
/// throughput change runs as a FILE_SYSTEM_UPDATE action).
async fn wait_settled(
    cx: &Cx<'_>,
    id: &str,
    since: Option<DateTime>,
    default: Duration,
) -> Result<FileSystem> {
    Wait::for_op(cx.op, default)
        .until_ready(
            cx.op,
            &format!("FSx file system {id}"),
            "AVAILABLE",
            || describe(cx, id),
            |fs| settled(&fs, since),
        )
        .await
}

/// `Some` when settled, `None` while in progress, an error when FSx says it failed.
fn settled(fs: &FileSystem, since: Option<DateTime>) -> Result<Option<FileSystem>> {
    let id = fs.file_system_id().unwrap_or_default();
    let failure = || {
        fs.failure_details()
            .and_then(|d| d.message())
            .unwrap_or("no details given")
            .to_owned()
    };
    match fs.lifecycle() {
        Some(FileSystemLifecycle::Available) => {}
        Some(
            l @ (FileSystemLifecycle::Failed
            | FileSystemLifecycle::Misconfigured
            | FileSystemLifecycle::MisconfiguredUnavailable),
        ) => {
            return Err(ProviderError::new(
                ErrorClass::Fatal,
                format!("FSx file system {id} is {}: {}", l.as_str(), failure()),
            ))
        }
        _ => return Ok(None),
    }
    let updates = fs.administrative_actions().iter().filter(|a| {
        a.administrative_action_type() == Some(&AdministrativeActionType::FileSystemUpdate)
            && since.is_none_or(|t| a.request_time().is_some_and(|r| r.secs() >= t.secs()))
    });
    for action in updates {
        match action.status() {
            Some(Status::Pending | Status::InProgress) => return Ok(None),
            Some(Status::Failed) => {
                let why = action
                    .failure_details()
                    .and_then(|d| d.message())
                    .unwrap_or("no details given");
                return Err(ProviderError::new(
                    ErrorClass::Fatal,
                    format!("updating FSx file system {id} failed: {why}"),
                ));
            }
            _ => {}
        }
    }
    Ok(Some(fs.clone()))
}

/// The state of `fs`, on top of `base` (planned or prior values).
async fn to_state(cx: &Cx<'_>, base: &Value, fs: &FileSystem) -> Value {
    let mut state = state_of(base, fs, &cx.settings.default_tags);
    // DescribeFileSystems does not return the security groups; the file system's network
    // interfaces carry them. Without EC2 access, keep what state had.
    if let Some(eni) = fs.network_interface_ids().first() {
        let out = cx
            .clients()
            .ec2
            .describe_network_interfaces()
            .network_interface_ids(eni)
            .send()
            .await;
        match out {
            Ok(out) => {
                let groups: Vec<&str> = out
                    .network_interfaces()
                    .iter()
                    .flat_map(|n| n.groups())
                    .filter_map(|g| g.group_id())
                    .collect();
                state.set_str_set("security_group_ids", &groups);
            }
            Err(e) => tracing::debug!(
                error = %sdk_error("DescribeNetworkInterfaces", e),
                "keeping the security groups from state"
            ),
        }
    }
    state.into_value()
}

/// Everything DescribeFileSystems says, as state (without the security groups).
fn state_of(base: &Value, fs: &FileSystem, default_tags: &Tags) -> Obj {
    let mut state = Obj::from(base);
    let lustre = fs.lustre_configuration();
    let repo = lustre.and_then(|l| l.data_repository_configuration());
    state
        .set("id", fs.file_system_id().unwrap_or_default())
        .set("arn", opt(fs.resource_arn()))
        .set("dns_name", opt(fs.dns_name()))
        .set("owner_id", opt(fs.owner_id()))
        .set("vpc_id", opt(fs.vpc_id()))
        .set("storage_capacity", opt(fs.storage_capacity().map(num)))
        .set("storage_type", opt(fs.storage_type().map(|t| t.as_str())))
        .set_strs("subnet_ids", fs.subnet_ids())
        .set_strs("network_interface_ids", fs.network_interface_ids())
        .set("kms_key_id", opt(fs.kms_key_id()))
        .set(
            "file_system_type_version",
            opt(fs.file_system_type_version()),
        )
        .set(
            "deployment_type",
            opt(lustre.and_then(|l| l.deployment_type()).map(|t| t.as_str())),
        )
        .set(
            "per_unit_storage_throughput",
            opt(lustre
                .and_then(|l| l.per_unit_storage_throughput())
                .map(num)),
        )
        .set("mount_name", opt(lustre.and_then(|l| l.mount_name())))
        .set(
            "weekly_maintenance_start_time",
            opt(lustre.and_then(|l| l.weekly_maintenance_start_time())),
        )
        .set(
            "data_compression_type",
            lustre
                .and_then(|l| l.data_compression_type())
                .map_or("NONE", |t| t.as_str()),
        )
        .set("import_path", opt(repo.and_then(|r| r.import_path())))
        .set("export_path", opt(repo.and_then(|r| r.export_path())))
        .set(
            "auto_import_policy",
            opt(repo
                .and_then(|r| r.auto_import_policy())
                .map(|p| p.as_str())),
        );
    tags::record(&mut state, default_tags, &from_fsx(fs.tags()));
    state
}

fn opt<V: Into<Value>>(v: Option<V>) -> Value {
    v.map_or(Value::Null, Into::into)
}

pub(super) fn fsx_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub(super) fn from_fsx(tags: &[Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
        .collect()
}

/// Brings an FSx object's tags (a file system, a data repository association) from `old`
/// to `new` (TagResource / UntagResource on its ARN).
pub(super) async fn update_tags(cx: &Cx<'_>, arn: &str, old: &Tags, new: &Tags) -> Result<()> {
    let fsx = &cx.clients().fsx;
    tags::update_with(
        old,
        new,
        |removed| async move {
            fsx.untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| sdk_error("UntagResource", e))
        },
        |changed| async move {
            fsx.tag_resource()
                .resource_arn(arn)
                .set_tags(Some(fsx_tags(&changed)))
                .send()
                .await
                .map_err(|e| sdk_error("TagResource", e))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_fsx::types::{
        AdministrativeAction, DataRepositoryConfiguration, LustreFileSystemConfiguration,
    };

    fn config(pairs: &[(&str, Value)]) -> Value {
        Value::map(pairs.iter().map(|(k, v)| (*k, v.clone())))
    }

    #[test]
    fn shrinking_or_resizing_scratch_1_replaces_growing_persistent_does_not() {
        let prior = config(&[("storage_capacity", num(2400))]);
        let grow = |d: &str| {
            config(&[
                ("storage_capacity", num(4800)),
                ("deployment_type", d.into()),
            ])
        };
        assert!(!capacity_change_replaces(
            Some(&prior),
            &grow("PERSISTENT_2")
        ));
        assert!(capacity_change_replaces(Some(&prior), &grow("SCRATCH_1")));
        let shrink = config(&[
            ("storage_capacity", num(1200)),
            ("deployment_type", "PERSISTENT_2".into()),
        ]);
        assert!(capacity_change_replaces(Some(&prior), &shrink));
        assert!(!capacity_change_replaces(None, &shrink));
        let same = config(&[
            ("storage_capacity", num(2400)),
            ("deployment_type", "SCRATCH_1".into()),
        ]);
        assert!(!capacity_change_replaces(Some(&prior), &same));
    }

    #[test]
    fn validation_names_the_argument() {
        let errors = validate(&config(&[
            ("deployment_type", "SCRATCH_3".into()),
            ("storage_capacity", num(100)),
            ("per_unit_storage_throughput", num(300)),
            ("import_path", "bucket/prefix".into()),
            ("weekly_maintenance_start_time", "8:25:00".into()),
        ]));
        let text = errors.join("\n");
        for name in [
            "deployment_type",
            "storage_capacity",
            "per_unit_storage_throughput",
            "import_path",
            "weekly_maintenance_start_time",
        ] {
            assert!(text.contains(name), "{name} missing in {text}");
        }
        let ok = validate(&config(&[
            ("deployment_type", "PERSISTENT_2".into()),
            ("storage_capacity", num(1200)),
            ("per_unit_storage_throughput", num(250)),
            ("subnet_ids", Value::List(vec!["subnet-1".into()])),
            ("weekly_maintenance_start_time", "7:23:59".into()),
        ]));
        assert!(ok.is_empty(), "{ok:?}");
    }

    #[test]
    fn only_changed_settings_go_into_the_update() {
        let prior = config(&[
            ("data_compression_type", "NONE".into()),
            ("per_unit_storage_throughput", num(125)),
        ]);
        let planned = config(&[
            ("data_compression_type", "LZ4".into()),
            ("per_unit_storage_throughput", num(125)),
        ]);
        let c = lustre_update_config(&Attrs(&prior), &Attrs(&planned));
        assert_eq!(c.data_compression_type(), Some(&DataCompressionType::Lz4));
        assert_eq!(c.per_unit_storage_throughput(), None);
        assert_eq!(c.weekly_maintenance_start_time(), None);
    }

    fn file_system(lifecycle: FileSystemLifecycle, action: Option<(Status, i64)>) -> FileSystem {
        let mut fs = FileSystem::builder()
            .file_system_id("fs-0123")
            .lifecycle(lifecycle)
            .storage_capacity(2400)
            .subnet_ids("subnet-1")
            .network_interface_ids("eni-1")
            .resource_arn("arn:aws:fsx:us-east-1:123456789012:file-system/fs-0123")
            .tags(Tag::builder().key("team").value("ml").build())
            .tags(Tag::builder().key("gantry:address").value("x").build())
            .lustre_configuration(
                LustreFileSystemConfiguration::builder()
                    .deployment_type(LustreDeploymentType::Scratch2)
                    .mount_name("abcdefgh")
                    .weekly_maintenance_start_time("1:05:00")
                    .data_repository_configuration(
                        DataRepositoryConfiguration::builder()
                            .import_path("s3://data")
                            .export_path("s3://data/out")
                            .auto_import_policy(AutoImportPolicyType::NewChanged)
                            .build(),
                    )
                    .build(),
            );
        if let Some((status, at)) = action {
            fs = fs.administrative_actions(
                AdministrativeAction::builder()
                    .administrative_action_type(AdministrativeActionType::FileSystemUpdate)
                    .status(status)
                    .request_time(DateTime::from_secs(at))
                    .build(),
            );
        }
        fs.build()
    }

    #[test]
    fn settled_waits_for_available_and_for_the_update_it_started() {
        let since = Some(DateTime::from_secs(1000));
        assert!(matches!(
            settled(&file_system(FileSystemLifecycle::Creating, None), None),
            Ok(None)
        ));
        assert!(matches!(
            settled(&file_system(FileSystemLifecycle::Available, None), None),
            Ok(Some(_))
        ));
        let running = file_system(
            FileSystemLifecycle::Available,
            Some((Status::InProgress, 1001)),
        );
        assert!(matches!(settled(&running, since), Ok(None)));
        let old_failure = file_system(FileSystemLifecycle::Available, Some((Status::Failed, 10)));
        assert!(matches!(settled(&old_failure, since), Ok(Some(_))));
        let failed = file_system(FileSystemLifecycle::Available, Some((Status::Failed, 1002)));
        assert!(settled(&failed, since).is_err());
        let broken = file_system(FileSystemLifecycle::Failed, None);
        assert!(settled(&broken, None).is_err_and(|e| e.class == ErrorClass::Fatal));
    }

    #[test]
    fn state_reads_the_lustre_and_repository_settings() {
        let state = state_of(
            &Value::Null,
            &file_system(FileSystemLifecycle::Available, None),
            &Tags::new(),
        )
        .into_value();
        let a = Attrs(&state);
        assert_eq!(a.str("id"), Some("fs-0123"));
        assert_eq!(a.i64("storage_capacity"), Some(2400));
        assert_eq!(a.str("deployment_type"), Some("SCRATCH_2"));
        assert_eq!(a.str("mount_name"), Some("abcdefgh"));
        assert_eq!(a.str("import_path"), Some("s3://data"));
        assert_eq!(a.str("export_path"), Some("s3://data/out"));
        assert_eq!(a.str("auto_import_policy"), Some("NEW_CHANGED"));
        assert_eq!(a.str("data_compression_type"), Some("NONE"));
        assert_eq!(a.strs("network_interface_ids"), vec!["eni-1"]);
        assert_eq!(a.get("per_unit_storage_throughput"), None);
        let tags = a.str_map("tags_all");
        assert_eq!(tags.len(), 1, "{tags:?}");
    }

    #[test]
    fn weekly_times() {
        assert!(is_weekly_time("1:05:00"));
        assert!(is_weekly_time("7:23:59"));
        for bad in ["0:05:00", "8:05:00", "1:5:00", "1:24:00", "1:05", "x:05:00"] {
            assert!(!is_weekly_time(bad), "{bad}");
        }
    }
}
