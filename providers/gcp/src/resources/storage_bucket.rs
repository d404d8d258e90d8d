//! `google_storage_bucket`: a Cloud Storage bucket for datasets and checkpoints (uniform
//! access, versioning, lifecycle rules, labels), over the JSON API (storage_json.rs).
//!
//! Bucket names are global and `buckets.insert` takes no request id: crash recovery adopts
//! a bucket of that name only when its labels carry this create's three marks. Everything
//! but the name, location and project changes in place (one `buckets.patch`). A bucket with
//! objects is deleted only with `force_destroy = true`, which deletes every object version
//! first, as Terraform does.

use super::{accepted, Cx, ResourceType};
use crate::errors::ok_if_not_found;
use crate::labels;
use crate::wire::{str_at, Body};
use gantry_provider::attrs::{complete, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, Attribute, NestedBlock, Nesting, PlannedState, ProviderError,
    Schema, Type, Value,
};
use http::Method;
use serde_json::{json, Map, Value as Json};

pub struct StorageBucket;

const CLASSES: [&str; 6] = [
    "STANDARD",
    "MULTI_REGIONAL",
    "REGIONAL",
    "NEARLINE",
    "COLDLINE",
    "ARCHIVE",
];

fn blocks(schema: Schema, min_items: usize, max_items: Option<usize>) -> NestedBlock {
    NestedBlock {
        nesting: Nesting::List,
        schema,
        min_items,
        max_items,
        force_new: false,
    }
}

fn lifecycle_rule_schema() -> Schema {
    Schema::default()
        .block(
            "action",
            blocks(
                Schema::default()
                    .attr("type", Attribute::required(Type::String))
                    .attr("storage_class", Attribute::optional(Type::String)),
                1,
                Some(1),
            ),
        )
        .block(
            "condition",
            blocks(
                Schema::default()
                    .attr("age", Attribute::optional(Type::Number))
                    .attr("created_before", Attribute::optional(Type::String))
                    .attr("with_state", Attribute::optional(Type::String))
                    .attr(
                        "matches_storage_class",
                        Attribute::optional(Type::list(Type::String)),
                    )
                    .attr(
                        "matches_prefix",
                        Attribute::optional(Type::list(Type::String)),
                    )
                    .attr("num_newer_versions", Attribute::optional(Type::Number)),
                1,
                Some(1),
            ),
        )
}

#[async_trait]
impl ResourceType for StorageBucket {
    fn name(&self) -> &'static str {
        "google_storage_bucket"
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
                "storage_class",
                Attribute::optional(Type::String).with_default(Value::string("STANDARD")),
            )
            .attr("force_destroy", Attribute::optional(Type::Bool))
            .attr(
                "uniform_bucket_level_access",
                Attribute::optional_computed(Type::Bool),
            )
            .attr(
                "public_access_prevention",
                Attribute::optional_computed(Type::String),
            )
            .attr("labels", Attribute::optional(Type::map(Type::String)))
            .attr(
                "effective_labels",
                Attribute::computed(Type::map(Type::String)),
            )
            .attr("url", Attribute::computed(Type::String))
            .attr("self_link", Attribute::computed(Type::String))
            .attr("project_number", Attribute::computed(Type::Number))
            .block(
                "versioning",
                blocks(
                    Schema::default().attr("enabled", Attribute::required(Type::Bool)),
                    0,
                    Some(1),
                ),
            )
            .block("lifecycle_rule", blocks(lifecycle_rule_schema(), 0, None))
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut problems = Vec::new();
        if let Some(name) = a.str("name") {
            problems.extend(check_bucket_name(name));
        }
        if let Some(class) = a.str("storage_class") {
            if !CLASSES.contains(&class) {
                problems.push(format!(
                    "`storage_class` must be one of {}, not {class:?}",
                    CLASSES.join(", ")
                ));
            }
        }
        for rule in a.blocks("lifecycle_rule") {
            let Some(action) = rule.block("action") else {
                continue;
            };
            match action.str("type") {
                Some("Delete" | "AbortIncompleteMultipartUpload") => {}
                Some("SetStorageClass") if action.str("storage_class").is_none() => problems
                    .push("a `SetStorageClass` lifecycle action needs `storage_class`".to_owned()),
                Some("SetStorageClass") => {}
                Some(other) => problems.push(format!(
                    "lifecycle `action.type` must be Delete, SetStorageClass or \
                     AbortIncompleteMultipartUpload, not {other:?}"
                )),
                None => {}
            }
        }
        problems
    }

    /// The location as configured when it names the same place (the API answers in
    /// upper case).
    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        let mut config = config.clone();
        if let (Some(prior), Value::Map(c)) = (prior, &mut config) {
            let before = Attrs(prior).str("location").map(str::to_owned);
            let wanted = c.get("location").and_then(Value::as_str).map(str::to_owned);
            if let (Some(before), Some(wanted)) = (before, wanted) {
                if before.eq_ignore_ascii_case(&wanted) {
                    c.insert("location".into(), Value::string(before));
                }
            }
        }
        Ok(plan_from_schema(schema, prior, &config))
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let project = cx.project(planned).to_owned();
        let name = a.req_str("name")?.to_owned();
        let labels = labels::desired(&cx.settings.default_labels, &a.str_map("labels"), cx.op);
        let mut body = bucket_body(&a);
        body.put("name", json!(name))
            .put("location", json!(a.req_str("location")?))
            .put("labels", json!(labels));
        cx.settings
            .storage
            .call(
                "buckets.insert",
                Method::POST,
                "b",
                &[("project", &project)],
                Some(&body.into_json()),
            )
            .await?;
        // The bucket exists from here on: a failed read-back still records it.
        let known = accepted(planned, &name);
        match self.read_named(cx, &name, planned).await {
            Ok(Some(state)) => Ok(state),
            Ok(None) => Err(ProviderError::fatal(format!(
                "bucket {name} vanished after its insert"
            ))
            .after_create(known)),
            Err(e) => Err(e.after_create(known)),
        }
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        self.read_named(cx, Attrs(state).req_str("name")?, state)
            .await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let a = Attrs(prior);
        let p = Attrs(planned);
        let name = a.req_str("name")?.to_owned();
        let mut body = bucket_body(&p);
        if a.get("labels") != p.get("labels") {
            let wanted = labels::for_update(
                &cx.settings.default_labels,
                &p.str_map("labels"),
                cx.op,
                &a.str_map("effective_labels"),
            );
            // A patch merges labels: a label to remove is sent as null.
            let mut patch: Map<String, Json> = a
                .str_map("effective_labels")
                .into_keys()
                .map(|k| (k, Json::Null))
                .collect();
            for (k, v) in wanted {
                patch.insert(k, json!(v));
            }
            body.put("labels", Json::Object(patch));
        }
        if a.get("versioning") != p.get("versioning") && p.block("versioning").is_none() {
            body.put("versioning", json!({ "enabled": false }));
        }
        if a.get("lifecycle_rule") != p.get("lifecycle_rule")
            && p.blocks("lifecycle_rule").is_empty()
        {
            body.put("lifecycle", json!({ "rule": [] }));
        }
        let changed = [
            "storage_class",
            "uniform_bucket_level_access",
            "public_access_prevention",
            "labels",
            "versioning",
            "lifecycle_rule",
        ]
        .iter()
        .any(|k| a.get(k) != p.get(k));
        if changed {
            cx.settings
                .storage
                .call(
                    "buckets.patch",
                    Method::PATCH,
                    &format!("b/{name}"),
                    &[],
                    Some(&body.into_json()),
                )
                .await?;
        }
        self.read_named(cx, &name, planned)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("bucket {name} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let name = a.req_str("name")?;
        if a.bool("force_destroy") == Some(true) {
            self.empty(cx, name).await?;
        }
        let deleted = cx
            .settings
            .storage
            .call(
                "buckets.delete",
                Method::DELETE,
                &format!("b/{name}"),
                &[],
                None,
            )
            .await;
        match deleted {
            Err(e) if e.class == gantry_provider::ErrorClass::Conflict => {
                Err(ProviderError::invalid(format!(
                    "bucket {name} still holds objects: delete them, or set \
                     `force_destroy = true` on it and apply, then destroy ({})",
                    e.message
                )))
            }
            other => ok_if_not_found(other).map(drop),
        }
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        // `NAME`, or `PROJECT/NAME` as Terraform takes it.
        let name = id.rsplit('/').next().unwrap_or(id);
        self.read_named(cx, name, &Value::Null).await
    }

    /// No request id: a bucket of this name is this create's only when its labels carry
    /// all three of this create's marks (anyone in the world may own a bucket name).
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let name = Attrs(planned).req_str("name")?;
        let read = self.read_named(cx, name, planned).await?;
        Ok(labels::adopt_if_ours(cx.op, read))
    }
}

/// Cloud Storage's rule for bucket names (without dots: dotted names need a verified
/// domain, which gantry cannot check).
fn check_bucket_name(name: &str) -> Vec<String> {
    let ok = (3..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && !name.starts_with("goog");
    if ok {
        Vec::new()
    } else {
        vec![format!(
            "`name` {name:?} is not a valid bucket name: 3-63 lowercase letters, digits, \
             hyphens and underscores, starting and ending with a letter or digit, not \
             starting with \"goog\""
        )]
    }
}

/// The settable fields of a bucket (insert and patch).
fn bucket_body(a: &Attrs<'_>) -> Body {
    let mut body = Body::new();
    body.set("storageClass", a.get("storage_class"));
    let mut iam = Map::new();
    if let Some(uniform) = a.bool("uniform_bucket_level_access") {
        iam.insert(
            "uniformBucketLevelAccess".into(),
            json!({ "enabled": uniform }),
        );
    }
    if let Some(prevention) = a.str("public_access_prevention") {
        iam.insert("publicAccessPrevention".into(), json!(prevention));
    }
    if !iam.is_empty() {
        body.put("iamConfiguration", Json::Object(iam));
    }
    if let Some(v) = a.block("versioning") {
        body.put("versioning", json!({ "enabled": v.bool("enabled") }));
    }
    let rules: Vec<Json> = a
        .blocks("lifecycle_rule")
        .iter()
        .map(|rule| {
            let mut action = Body::new();
            if let Some(x) = rule.block("action") {
                action
                    .set("type", x.get("type"))
                    .set("storageClass", x.get("storage_class"));
            }
            let mut condition = Body::new();
            if let Some(c) = rule.block("condition") {
                condition
                    .set("age", c.get("age"))
                    .set("createdBefore", c.get("created_before"))
                    .set("matchesStorageClass", c.get("matches_storage_class"))
                    .set("matchesPrefix", c.get("matches_prefix"))
                    .set("numNewerVersions", c.get("num_newer_versions"));
                match c.str("with_state") {
                    Some("LIVE") => {
                        condition.put("isLive", json!(true));
                    }
                    Some("ARCHIVED") => {
                        condition.put("isLive", json!(false));
                    }
                    _ => {}
                }
            }
            json!({ "action": action.into_json(), "condition": condition.into_json() })
        })
        .collect();
    if !rules.is_empty() {
        body.put("lifecycle", json!({ "rule": rules }));
    }
    body
}

impl StorageBucket {
    /// Deletes every object version in the bucket (`force_destroy`).
    async fn empty(&self, cx: &Cx<'_>, name: &str) -> Result<()> {
        let storage = &cx.settings.storage;
        let mut page = String::new();
        loop {
            let mut query = vec![("versions", "true")];
            if !page.is_empty() {
                query.push(("pageToken", page.as_str()));
            }
            let listed = storage
                .call(
                    "objects.list",
                    Method::GET,
                    &format!("b/{name}/o"),
                    &query,
                    None,
                )
                .await?;
            for object in listed
                .get("items")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                let Some(object_name) = str_at(object, "name") else {
                    continue;
                };
                let generation = object
                    .get("generation")
                    .map(super::json_string)
                    .unwrap_or_default();
                let path = format!("b/{name}/o/{}", encode(object_name));
                let mut query = Vec::new();
                if !generation.is_empty() {
                    query.push(("generation", generation.as_str()));
                }
                let deleted = storage
                    .call("objects.delete", Method::DELETE, &path, &query, None)
                    .await;
                ok_if_not_found(deleted)?;
            }
            match str_at(&listed, "nextPageToken") {
                Some(next) if !next.is_empty() => page = next.to_owned(),
                _ => return Ok(()),
            }
        }
    }

    async fn read_named(&self, cx: &Cx<'_>, name: &str, base: &Value) -> Result<Option<Value>> {
        let got = cx
            .settings
            .storage
            .call("buckets.get", Method::GET, &format!("b/{name}"), &[], None)
            .await;
        let Some(bucket) = ok_if_not_found(got)? else {
            return Ok(None);
        };
        let b = Attrs(base);
        let all = labels::from_json(bucket.get("labels"));
        let location = str_at(&bucket, "location").unwrap_or_default();
        // The location as configured when it names the same place.
        let location = match b.str("location") {
            Some(configured) if configured.eq_ignore_ascii_case(location) => configured,
            _ => location,
        };
        let mut s = Obj::from(base);
        s.set("id", name)
            .set("name", name)
            .set("location", location)
            .set_opt("storage_class", str_at(&bucket, "storageClass"))
            .set("url", format!("gs://{name}"))
            .set_opt("self_link", str_at(&bucket, "selfLink"))
            .set(
                "labels",
                labels::user_attribute(&all, &cx.settings.default_labels, &b),
            )
            .set("effective_labels", gantry_provider::attrs::str_map(&all));
        if let Some(number) = bucket
            .get("projectNumber")
            .map(super::json_string)
            .and_then(|n| n.parse::<f64>().ok())
        {
            s.set("project_number", Value::Number(number));
        }
        if b.str("project").is_none() {
            s.set("project", cx.settings.project.as_str());
        }
        if base.is_null() {
            s.set("force_destroy", false);
        }
        let iam = bucket.get("iamConfiguration");
        s.set(
            "uniform_bucket_level_access",
            iam.and_then(|i| i.pointer("/uniformBucketLevelAccess/enabled"))
                .and_then(Json::as_bool)
                .map_or(Value::Bool(false), Value::Bool),
        );
        s.set(
            "public_access_prevention",
            iam.and_then(|i| str_at(i, "publicAccessPrevention"))
                .map_or(Value::string("inherited"), Value::string),
        );
        let versioning = bucket
            .pointer("/versioning/enabled")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        s.set(
            "versioning",
            if versioning || b.block("versioning").is_some() {
                Value::List(vec![Value::map([("enabled", Value::Bool(versioning))])])
            } else {
                Value::List(Vec::new())
            },
        );
        s.set("lifecycle_rule", lifecycle_value(&bucket));
        complete(&mut s, &self.schema());
        Ok(Some(s.into_value()))
    }
}

fn lifecycle_value(bucket: &Json) -> Value {
    let rules = bucket
        .pointer("/lifecycle/rule")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    Value::List(
        rules
            .iter()
            .map(|rule| {
                let action = rule.get("action").cloned().unwrap_or(Json::Null);
                let c = rule.get("condition").cloned().unwrap_or(Json::Null);
                let strings = |field: &str| match c.get(field).and_then(Json::as_array) {
                    Some(items) if !items.is_empty() => Value::List(
                        items
                            .iter()
                            .filter_map(|i| i.as_str().map(Value::string))
                            .collect(),
                    ),
                    _ => Value::Null,
                };
                let number = |field: &str| {
                    c.get(field)
                        .map(super::json_string)
                        .and_then(|n| n.parse::<f64>().ok())
                        .map_or(Value::Null, Value::Number)
                };
                let with_state = match c.get("isLive").and_then(Json::as_bool) {
                    Some(true) => Value::string("LIVE"),
                    Some(false) => Value::string("ARCHIVED"),
                    None => Value::Null,
                };
                Value::map([
                    (
                        "action",
                        Value::List(vec![Value::map([
                            (
                                "type",
                                Value::string(str_at(&action, "type").unwrap_or_default()),
                            ),
                            (
                                "storage_class",
                                str_at(&action, "storageClass").map_or(Value::Null, Value::string),
                            ),
                        ])]),
                    ),
                    (
                        "condition",
                        Value::List(vec![Value::map([
                            ("age", number("age")),
                            (
                                "created_before",
                                str_at(&c, "createdBefore").map_or(Value::Null, Value::string),
                            ),
                            ("with_state", with_state),
                            ("matches_storage_class", strings("matchesStorageClass")),
                            ("matches_prefix", strings("matchesPrefix")),
                            ("num_newer_versions", number("numNewerVersions")),
                        ])]),
                    ),
                ])
            })
            .collect(),
    )
}

/// An object name as one path segment (`a/b.txt` → `a%2Fb.txt`).
fn encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_cloud_storage_rules() {
        assert!(check_bucket_name("training-data_01").is_empty());
        assert!(!check_bucket_name("Training").is_empty());
        assert!(!check_bucket_name("ab").is_empty());
        assert!(!check_bucket_name("google-data").is_empty());
        assert!(!check_bucket_name("data-").is_empty());
    }

    #[test]
    fn object_names_are_one_path_segment() {
        assert_eq!(encode("ckpt/step 1.pt"), "ckpt%2Fstep%201.pt");
    }
}

#[cfg(test)]
mod body_tests {
    use super::*;

    #[test]
    fn the_request_body_carries_access_versioning_and_lifecycle_as_the_json_api_names_them() {
        let rule = |action: Value, condition: Value| {
            Value::map([
                ("action", Value::List(vec![action])),
                ("condition", Value::List(vec![condition])),
            ])
        };
        let config = Value::map([
            ("storage_class", Value::string("STANDARD")),
            ("uniform_bucket_level_access", Value::Bool(true)),
            ("public_access_prevention", Value::string("enforced")),
            (
                "versioning",
                Value::List(vec![Value::map([("enabled", Value::Bool(true))])]),
            ),
            (
                "lifecycle_rule",
                Value::List(vec![
                    rule(
                        Value::map([("type", Value::string("Delete"))]),
                        Value::map([
                            ("with_state", Value::string("ARCHIVED")),
                            ("num_newer_versions", Value::Number(1.0)),
                        ]),
                    ),
                    rule(
                        Value::map([
                            ("type", Value::string("SetStorageClass")),
                            ("storage_class", Value::string("NEARLINE")),
                        ]),
                        Value::map([
                            ("age", Value::Number(30.0)),
                            (
                                "matches_storage_class",
                                Value::List(vec![Value::string("STANDARD")]),
                            ),
                        ]),
                    ),
                ]),
            ),
        ]);
        let body = bucket_body(&Attrs(&config)).into_json();
        assert_eq!(
            body,
            json!({
                "storageClass": "STANDARD",
                "iamConfiguration": {
                    "uniformBucketLevelAccess": { "enabled": true },
                    "publicAccessPrevention": "enforced"
                },
                "versioning": { "enabled": true },
                "lifecycle": { "rule": [
                    { "action": { "type": "Delete" },
                      "condition": { "numNewerVersions": 1, "isLive": false } },
                    { "action": { "type": "SetStorageClass", "storageClass": "NEARLINE" },
                      "condition": { "age": 30, "matchesStorageClass": ["STANDARD"] } }
                ]}
            })
        );
        // And read back from the API's answer as written.
        let read = lifecycle_value(&body);
        let holder = Value::map([("r", read)]);
        let rules = Attrs(&holder).blocks("r");
        assert_eq!(
            rules[0]
                .block("condition")
                .and_then(|c| c.str("with_state")),
            Some("ARCHIVED")
        );
        assert_eq!(
            rules[1]
                .block("action")
                .and_then(|a| a.str("storage_class")),
            Some("NEARLINE")
        );
    }
}
