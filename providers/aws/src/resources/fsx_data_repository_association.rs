//! `aws_fsx_data_repository_association`: links a directory of an FSx for Lustre file system
//! to an S3 bucket or prefix, so training data is imported from and checkpoints exported to
//! the bucket. The way PERSISTENT_2 file systems (Lustre 2.12 and later) reach S3, where older
//! ones use `import_path` / `export_path`.

use super::fsx_lustre_file_system::{from_fsx, fsx_tags, update_tags};
use super::{accepted, after_accept, only_one, Cx, ResourceType};
use crate::attrs::{complete, fill_unset, num, opt_str, Attrs, Obj};
use crate::errors::{none_if_not_found, sdk_error};
use crate::tags::{self, with_tags, Tags};
use crate::wait::Wait;
use aws_sdk_fsx::types::{
    AutoExportPolicy, AutoImportPolicy, DataRepositoryAssociation, DataRepositoryLifecycle,
    EventType, Filter, FilterName, S3DataRepositoryConfiguration,
};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, Attribute, ErrorClass, NestedBlock, Nesting, PlannedState,
    ProviderError, Schema, Timeouts, Type, Value,
};
use std::time::Duration;

pub struct FsxDataRepositoryAssociation;

/// Terraform's default create/update/delete timeouts for this type.
const TIMEOUT: Duration = Duration::from_secs(10 * 60);

const EVENTS: [&str; 3] = ["NEW", "CHANGED", "DELETED"];
const POLICIES: [&str; 2] = ["auto_export_policy", "auto_import_policy"];
/// FSx's bounds for `ImportedFileChunkSize`, in MiB.
const CHUNK_SIZES: std::ops::RangeInclusive<i64> = 1..=512_000;

fn single(schema: Schema) -> NestedBlock {
    NestedBlock {
        nesting: Nesting::Single,
        schema,
        min_items: 0,
        max_items: Some(1),
        force_new: false,
    }
}

/// `auto_export_policy` / `auto_import_policy`: which file events flow automatically.
fn policy() -> NestedBlock {
    single(
        Schema::default().attr(
            "events",
            Attribute::optional_computed(Type::list(Type::String))
                .describe("NEW, CHANGED and/or DELETED."),
        ),
    )
}

#[async_trait]
impl ResourceType for FsxDataRepositoryAssociation {
    fn name(&self) -> &'static str {
        "aws_fsx_data_repository_association"
    }

    fn schema(&self) -> Schema {
        with_tags(
            Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("association_id", Attribute::computed(Type::String))
                .attr(
                    "file_system_id",
                    Attribute::required(Type::String).force_new(),
                )
                .attr(
                    "data_repository_path",
                    Attribute::required(Type::String)
                        .force_new()
                        .describe("s3://BUCKET or s3://BUCKET/PREFIX"),
                )
                .attr(
                    "file_system_path",
                    Attribute::required(Type::String).force_new().describe(
                        "Directory of the file system mapped to the repository, e.g. /data.",
                    ),
                )
                .attr(
                    "batch_import_meta_data_on_create",
                    Attribute::optional(Type::Bool)
                        .with_default(false)
                        .force_new(),
                )
                .attr(
                    "imported_file_chunk_size",
                    Attribute::optional_computed(Type::Number)
                        .describe("MiB per disk of an imported file (FSx's default 1024)."),
                )
                .attr(
                    "delete_data_in_filesystem",
                    Attribute::optional(Type::Bool)
                        .with_default(false)
                        .describe("Delete the directory's files with the association."),
                )
                .block(
                    "s3",
                    single(
                        Schema::default()
                            .block("auto_export_policy", policy())
                            .block("auto_import_policy", policy()),
                    ),
                ),
        )
        .with_timeouts(Timeouts::all(TIMEOUT))
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        validate(config)
    }

    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        // `s3` is optional and computed, down to the events (Terraform): what the stack leaves
        // unset keeps what FSx holds instead of being planned away.
        let mut config = config.clone();
        if let (Value::Map(c), Some(p)) = (&mut config, prior) {
            let set = c.get("s3").cloned().unwrap_or(Value::Null);
            let before = Attrs(p).get("s3").cloned().unwrap_or(Value::Null);
            c.insert("s3".into(), fill_unset(&set, &before));
        }
        Ok(plan_from_schema(schema, prior, &config))
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let out = cx
            .clients()
            .fsx
            .create_data_repository_association()
            // FSx returns the same association for a retried request with this token.
            .set_client_request_token(cx.token().map(str::to_owned))
            .file_system_id(a.req_str("file_system_id")?)
            .file_system_path(a.req_str("file_system_path")?)
            .data_repository_path(a.req_str("data_repository_path")?)
            .set_batch_import_meta_data_on_create(a.bool("batch_import_meta_data_on_create"))
            .set_imported_file_chunk_size(a.i32("imported_file_chunk_size"))
            .set_s3(s3_request(&a))
            .set_tags(Some(fsx_tags(&cx.tags(planned))))
            .send()
            .await
            .map_err(|e| sdk_error("CreateDataRepositoryAssociation", e))?;
        let id = out
            .association()
            .and_then(DataRepositoryAssociation::association_id)
            .ok_or_else(|| {
                ProviderError::fatal("CreateDataRepositoryAssociation returned no association id")
            })?
            .to_owned();
        let known = accepted(planned, &id);
        after_accept(known, async {
            let dra = wait_available(cx, &id).await?;
            Ok(state_of(planned, &dra, &cx.settings.default_tags))
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        let id = Attrs(state).id()?;
        Ok(describe(cx, id)
            .await?
            .filter(|dra| !is_going(dra))
            .map(|dra| state_of(state, &dra, &cx.settings.default_tags)))
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let (p, n) = (Attrs(prior), Attrs(planned));
        let id = p.id()?.to_owned();
        if let Some(arn) = p.str("arn") {
            update_tags(cx, arn, &p.str_map("tags_all"), &cx.tags(planned)).await?;
        }
        let chunk_changed = p.get("imported_file_chunk_size") != n.get("imported_file_chunk_size");
        let s3_changed = p.get("s3") != n.get("s3");
        // `delete_data_in_filesystem` is only read at delete time: a change is state alone.
        if chunk_changed || s3_changed {
            let mut req = cx
                .clients()
                .fsx
                .update_data_repository_association()
                .association_id(&id);
            if chunk_changed {
                req = req.set_imported_file_chunk_size(n.i32("imported_file_chunk_size"));
            }
            if s3_changed {
                req = req.set_s3(s3_request(&n));
            }
            req.send()
                .await
                .map_err(|e| sdk_error("UpdateDataRepositoryAssociation", e))?;
            wait_available(cx, &id).await?;
        }
        let mut state = Obj::from(planned);
        state.set("id", id.as_str());
        self.read(cx, &state.into_value()).await?.ok_or_else(|| {
            ProviderError::not_found(format!("FSx data repository association {id} is gone"))
        })
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let id = a.id()?;
        let Some(dra) = describe(cx, id).await? else {
            return Ok(());
        };
        // One still being created or updated cannot be deleted yet.
        if matches!(
            dra.lifecycle(),
            Some(DataRepositoryLifecycle::Creating | DataRepositoryLifecycle::Updating)
        ) {
            wait_available(cx, id).await.ok();
        }
        if !is_going(&dra) {
            let sent = cx
                .clients()
                .fsx
                .delete_data_repository_association()
                .association_id(id)
                .delete_data_in_file_system(a.bool("delete_data_in_filesystem").unwrap_or(false))
                .send()
                .await
                .map_err(|e| sdk_error("DeleteDataRepositoryAssociation", e));
            if none_if_not_found(sent)?.is_none() {
                return Ok(());
            }
        }
        Wait::for_op(cx.op, TIMEOUT)
            .until_gone(
                cx.op,
                &format!("FSx data repository association {id}"),
                || describe(cx, id),
            )
            .await
    }

    /// The association of the planned file system tagged with this create's stack,
    /// address and token (DescribeDataRepositoryAssociations does not show the request
    /// token), paging through the file system's associations. One being deleted is none.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let file_system = Attrs(planned).req_str("file_system_id")?;
        let mut pages = cx
            .clients()
            .fsx
            .describe_data_repository_associations()
            .filters(
                Filter::builder()
                    .name(FilterName::FileSystemId)
                    .values(file_system)
                    .build(),
            )
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("DescribeDataRepositoryAssociations", e));
            // The file system is gone: so is anything it held.
            let Some(page) = none_if_not_found(page)? else {
                return Ok(None);
            };
            found.extend(
                page.associations()
                    .iter()
                    .filter(|dra| !is_going(dra) && tags::are_ours(cx.op, &from_fsx(dra.tags())))
                    .cloned(),
            );
        }
        let ids = found
            .iter()
            .filter_map(|d| d.association_id().map(str::to_owned))
            .collect();
        let Some(id) = only_one("FSx data repository association", ids) else {
            return Ok(None);
        };
        Ok(found
            .iter()
            .find(|d| d.association_id() == Some(id.as_str()))
            .map(|d| state_of(planned, d, &cx.settings.default_tags)))
    }
}

fn validate(config: &Value) -> Vec<String> {
    let a = Attrs(config);
    let mut errors = Vec::new();
    if let Some(path) = a.str("data_repository_path") {
        if !is_s3_path(path) {
            errors.push(format!(
                "`data_repository_path` must be s3://BUCKET or s3://BUCKET/PREFIX, not {path:?}"
            ));
        }
    }
    if let Some(path) = a.str("file_system_path") {
        if !path.starts_with('/') || path.len() > 4096 {
            errors.push(format!(
                "`file_system_path` must be an absolute path (such as /data), not {path:?}"
            ));
        }
    }
    if let Some(size) = a.i64("imported_file_chunk_size") {
        if !CHUNK_SIZES.contains(&size) {
            errors.push(format!(
                "`imported_file_chunk_size` must be from 1 to 512000 (MiB), not {size}"
            ));
        }
    }
    if let Some(s3) = a.block("s3") {
        for name in POLICIES {
            let Some(events) = s3.block(name).map(|p| p.strs("events")) else {
                continue;
            };
            for e in &events {
                if !EVENTS.contains(&e.as_str()) {
                    errors.push(format!(
                        "`s3.{name}.events` takes {}, not {e:?}",
                        EVENTS.join(", ")
                    ));
                }
            }
            let mut distinct = events.clone();
            distinct.sort();
            distinct.dedup();
            if distinct.len() != events.len() {
                errors.push(format!("`s3.{name}.events` names an event twice"));
            }
        }
    }
    errors
}

/// `s3://bucket` or `s3://bucket/prefix`, with a bucket name S3 would accept.
fn is_s3_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("s3://") else {
        return false;
    };
    let bucket = rest.split('/').next().unwrap_or_default();
    (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && !bucket.starts_with(['.', '-'])
        && !bucket.ends_with(['.', '-'])
        && path.len() <= 900
}

/// The S3DataRepositoryConfiguration a planned `s3` block asks for (`None` when unset).
fn s3_request(a: &Attrs<'_>) -> Option<S3DataRepositoryConfiguration> {
    let s3 = a.block("s3")?;
    // A policy block without events asks for none (FSx: Events is optional).
    let events = |name: &str| -> Option<Option<Vec<EventType>>> {
        let policy = s3.block(name)?;
        let events: Vec<EventType> = policy
            .strs("events")
            .iter()
            .map(|e| EventType::from(e.as_str()))
            .collect();
        Some((!events.is_empty()).then_some(events))
    };
    Some(
        S3DataRepositoryConfiguration::builder()
            .set_auto_export_policy(
                events("auto_export_policy")
                    .map(|e| AutoExportPolicy::builder().set_events(e).build()),
            )
            .set_auto_import_policy(
                events("auto_import_policy")
                    .map(|e| AutoImportPolicy::builder().set_events(e).build()),
            )
            .build(),
    )
}

/// The `s3` block of state from what FSx holds.
fn s3_state(s3: Option<&S3DataRepositoryConfiguration>) -> Value {
    let Some(s3) = s3 else {
        return Value::Null;
    };
    let policy = |events: Option<&[EventType]>| {
        events.map_or(Value::Null, |events| {
            Value::map([(
                "events",
                Value::List(events.iter().map(|e| Value::string(e.as_str())).collect()),
            )])
        })
    };
    Value::map([
        (
            "auto_export_policy",
            policy(s3.auto_export_policy().map(AutoExportPolicy::events)),
        ),
        (
            "auto_import_policy",
            policy(s3.auto_import_policy().map(AutoImportPolicy::events)),
        ),
    ])
}

/// The association's state, on top of `base` (planned or prior values: what FSx does not
/// return, `delete_data_in_filesystem`, is kept from it).
fn state_of(base: &Value, dra: &DataRepositoryAssociation, default_tags: &Tags) -> Value {
    let mut state = Obj::from(base);
    let id = dra.association_id().unwrap_or_default();
    let keep_delete_data = Attrs(base)
        .bool("delete_data_in_filesystem")
        .unwrap_or(false);
    state
        .set("id", id)
        .set("association_id", id)
        .set("arn", opt_str(dra.resource_arn()))
        .set("file_system_id", opt_str(dra.file_system_id()))
        .set("file_system_path", opt_str(dra.file_system_path()))
        .set("data_repository_path", opt_str(dra.data_repository_path()))
        .set(
            "batch_import_meta_data_on_create",
            dra.batch_import_meta_data_on_create().unwrap_or(false),
        )
        .set(
            "imported_file_chunk_size",
            dra.imported_file_chunk_size().map_or(Value::Null, num),
        )
        .set("s3", s3_state(dra.s3()))
        .set("delete_data_in_filesystem", keep_delete_data);
    tags::record(&mut state, default_tags, &from_fsx(dra.tags()));
    complete(&mut state, &FsxDataRepositoryAssociation.schema());
    state.into_value()
}

/// Being deleted (or, should FSx report it, deleted): gone for planning.
fn is_going(dra: &DataRepositoryAssociation) -> bool {
    dra.lifecycle()
        .is_some_and(|l| matches!(l.as_str(), "DELETING" | "DELETED"))
}

/// The association, `None` when it does not exist.
async fn describe(cx: &Cx<'_>, id: &str) -> Result<Option<DataRepositoryAssociation>> {
    let out = cx
        .clients()
        .fsx
        .describe_data_repository_associations()
        .association_ids(id)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeDataRepositoryAssociations", e));
    Ok(none_if_not_found(out)?.and_then(|out| {
        out.associations()
            .iter()
            .find(|dra| dra.association_id() == Some(id))
            .cloned()
    }))
}

/// Waits until the association is AVAILABLE (after create and update).
async fn wait_available(cx: &Cx<'_>, id: &str) -> Result<DataRepositoryAssociation> {
    Wait::for_op(cx.op, TIMEOUT)
        .until_ready(
            cx.op,
            &format!("FSx data repository association {id}"),
            "AVAILABLE",
            || describe(cx, id),
            settled,
        )
        .await
}

/// `Some` when AVAILABLE, `None` while in progress, an error when FSx says it failed or
/// cannot reach the bucket (MISCONFIGURED: permissions, the bucket's event notifications).
fn settled(dra: DataRepositoryAssociation) -> Result<Option<DataRepositoryAssociation>> {
    match dra.lifecycle() {
        Some(DataRepositoryLifecycle::Available) => Ok(Some(dra)),
        Some(
            l @ (DataRepositoryLifecycle::Failed
            | DataRepositoryLifecycle::Misconfigured
            | DataRepositoryLifecycle::Deleting),
        ) => {
            let why = dra
                .failure_details()
                .and_then(|d| d.message())
                .unwrap_or("no details given");
            Err(ProviderError::new(
                ErrorClass::Fatal,
                format!(
                    "FSx data repository association {} is {}: {why}",
                    dra.association_id().unwrap_or_default(),
                    l.as_str()
                ),
            ))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_fsx::types::{DataRepositoryFailureDetails, Tag};

    fn config(pairs: &[(&str, Value)]) -> Value {
        Value::map(pairs.iter().map(|(k, v)| (*k, v.clone())))
    }

    fn events(list: &[&str]) -> Value {
        Value::map([(
            "events",
            Value::List(list.iter().map(|e| Value::string(*e)).collect()),
        )])
    }

    fn s3(export: Value, import: Value) -> Value {
        Value::map([
            ("auto_export_policy", export),
            ("auto_import_policy", import),
        ])
    }

    fn association(lifecycle: DataRepositoryLifecycle) -> DataRepositoryAssociation {
        DataRepositoryAssociation::builder()
            .association_id("dra-0123456789abcdef0")
            .resource_arn(
                "arn:aws:fsx:us-east-1:123456789012:association/fs-1/dra-0123456789abcdef0",
            )
            .file_system_id("fs-1")
            .file_system_path("/data")
            .data_repository_path("s3://training-data/imagenet")
            .lifecycle(lifecycle)
            .batch_import_meta_data_on_create(true)
            .imported_file_chunk_size(1024)
            .s3(S3DataRepositoryConfiguration::builder()
                .auto_export_policy(
                    AutoExportPolicy::builder()
                        .events(EventType::New)
                        .events(EventType::Changed)
                        .build(),
                )
                .build())
            .tags(Tag::builder().key("team").value("ml").build())
            .tags(Tag::builder().key("gantry:address").value("x").build())
            .build()
    }

    #[test]
    fn validation_names_the_argument() {
        let errors = validate(&config(&[
            ("data_repository_path", "bucket/prefix".into()),
            ("file_system_path", "data".into()),
            ("imported_file_chunk_size", num(600_000)),
            ("s3", s3(events(&["NEW", "MOVED"]), events(&["NEW", "NEW"]))),
        ]));
        let text = errors.join("\n");
        for needle in [
            "data_repository_path",
            "file_system_path",
            "imported_file_chunk_size",
            "\"MOVED\"",
            "s3.auto_import_policy.events` names an event twice",
        ] {
            assert!(text.contains(needle), "{needle} missing in {text}");
        }
        let ok = validate(&config(&[
            ("data_repository_path", "s3://training-data/imagenet".into()),
            ("file_system_path", "/data".into()),
            ("imported_file_chunk_size", num(2048)),
            (
                "s3",
                s3(events(&["NEW", "CHANGED", "DELETED"]), Value::Null),
            ),
        ]));
        assert!(ok.is_empty(), "{ok:?}");
        for bad in [
            "s3://",
            "s3://ab",
            "s3://Upper",
            "s3://-bucket/x",
            "gs://bucket",
        ] {
            assert!(!is_s3_path(bad), "{bad}");
        }
        assert!(is_s3_path("s3://my.bucket-1"));
    }

    #[test]
    fn unset_s3_settings_keep_what_fsx_holds() {
        let schema = FsxDataRepositoryAssociation.schema();
        let prior = config(&[
            ("id", "dra-1".into()),
            (
                "s3",
                s3(events(&["NEW", "CHANGED", "DELETED"]), events(&["NEW"])),
            ),
        ]);
        // No s3 block at all, then only the export events changed.
        let unset = FsxDataRepositoryAssociation
            .plan(&schema, Some(&prior), &config(&[("s3", Value::Null)]))
            .map(|p| p.value)
            .unwrap_or(Value::Null);
        assert_eq!(Attrs(&unset).get("s3"), Attrs(&prior).get("s3"));
        let changed = FsxDataRepositoryAssociation
            .plan(
                &schema,
                Some(&prior),
                &config(&[("s3", s3(events(&["NEW"]), Value::Null))]),
            )
            .map(|p| p.value)
            .unwrap_or(Value::Null);
        assert_eq!(
            Attrs(&changed).get("s3"),
            Some(&s3(events(&["NEW"]), events(&["NEW"])))
        );
    }

    #[test]
    fn the_s3_block_goes_out_as_asked_and_comes_back_the_same() {
        let planned = config(&[(
            "s3",
            s3(
                events(&["NEW", "CHANGED"]),
                Value::map([("events", Value::Null)]),
            ),
        )]);
        let request = s3_request(&Attrs(&planned));
        let export = request.as_ref().and_then(|s| s.auto_export_policy());
        assert_eq!(
            export.map(AutoExportPolicy::events),
            Some(&[EventType::New, EventType::Changed][..])
        );
        // A policy block without events is a policy with none.
        let import = request.as_ref().and_then(|s| s.auto_import_policy());
        assert_eq!(import.map(AutoImportPolicy::events), Some(&[][..]));
        assert!(s3_request(&Attrs(&config(&[("s3", Value::Null)]))).is_none());
        assert_eq!(
            s3_state(request.as_ref()),
            s3(events(&["NEW", "CHANGED"]), events(&[]))
        );
    }

    #[test]
    fn state_reads_everything_and_keeps_the_delete_flag() {
        let base = config(&[("delete_data_in_filesystem", Value::Bool(true))]);
        let state = state_of(
            &base,
            &association(DataRepositoryLifecycle::Available),
            &Tags::new(),
        );
        let a = Attrs(&state);
        assert_eq!(a.str("id"), Some("dra-0123456789abcdef0"));
        assert_eq!(a.str("association_id"), Some("dra-0123456789abcdef0"));
        assert_eq!(a.str("file_system_path"), Some("/data"));
        assert_eq!(a.i64("imported_file_chunk_size"), Some(1024));
        assert_eq!(a.bool("batch_import_meta_data_on_create"), Some(true));
        assert_eq!(a.bool("delete_data_in_filesystem"), Some(true));
        assert_eq!(
            a.get("s3"),
            Some(&s3(events(&["NEW", "CHANGED"]), Value::Null))
        );
        assert_eq!(a.str_map("tags_all").len(), 1);
        // Imported (no prior state): the flag takes its default.
        let imported = state_of(
            &Value::Null,
            &association(DataRepositoryLifecycle::Available),
            &Tags::new(),
        );
        assert_eq!(
            Attrs(&imported).bool("delete_data_in_filesystem"),
            Some(false)
        );
    }

    #[test]
    fn settled_waits_for_available_and_fails_on_failure() {
        assert!(matches!(
            settled(association(DataRepositoryLifecycle::Creating)),
            Ok(None)
        ));
        assert!(matches!(
            settled(association(DataRepositoryLifecycle::Available)),
            Ok(Some(_))
        ));
        let mut broken = association(DataRepositoryLifecycle::Misconfigured);
        broken.failure_details = Some(
            DataRepositoryFailureDetails::builder()
                .message("no access to the bucket")
                .build(),
        );
        let err = settled(broken).err().map(|e| e.message).unwrap_or_default();
        assert!(
            err.contains("MISCONFIGURED: no access to the bucket"),
            "{err}"
        );
        assert!(is_going(&association(DataRepositoryLifecycle::Deleting)));
        assert!(!is_going(&association(DataRepositoryLifecycle::Updating)));
    }
}
