//! The `identity { type, identity_ids }` block azurerm gives every type that runs as a
//! managed identity (AKS clusters, scale sets, ML workspaces): its schema, its ARM body
//! (`identity: {type, userAssignedIdentities}`) and its read-back with the principal.

use gantry_provider::attrs::{opt_str, Attrs, Obj};
use gantry_provider::{Attribute, NestedBlock, Nesting, Schema, Type};
use serde_json::{json, Value as Json};

/// The block; `min_items` 1 where the type needs an identity.
pub fn block(min_items: usize) -> NestedBlock {
    let schema = Schema::default()
        .attr("type", Attribute::required(Type::String))
        .attr("identity_ids", Attribute::optional(Type::set(Type::String)))
        .attr("principal_id", Attribute::computed(Type::String))
        .attr("tenant_id", Attribute::computed(Type::String));
    NestedBlock {
        nesting: Nesting::Single,
        schema,
        min_items,
        max_items: Some(1),
        force_new: false,
    }
}

/// Sets `body.identity` from the configuration's block (nothing when there is none).
pub fn put_body(body: &mut Json, a: &Attrs<'_>) {
    let Some(identity) = a.block("identity") else {
        return;
    };
    body["identity"] = json!({"type": identity.str("type").unwrap_or("SystemAssigned")});
    let ids = identity.strs("identity_ids");
    if !ids.is_empty() {
        let map: serde_json::Map<String, Json> =
            ids.into_iter().map(|id| (id, json!({}))).collect();
        body["identity"]["userAssignedIdentities"] = Json::Object(map);
    }
}

/// Sets the `identity` attribute from ARM's answer (left alone when it has none).
pub fn read_back(s: &mut Obj, json: &Json) {
    let Some(identity) = json.get("identity").filter(|i| i.is_object()) else {
        return;
    };
    let ids: Vec<String> = identity["userAssignedIdentities"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut i = Obj::new();
    i.set_opt("type", identity["type"].as_str())
        .set_str_set("identity_ids", &ids)
        .set("principal_id", opt_str(identity["principalId"].as_str()))
        .set("tenant_id", opt_str(identity["tenantId"].as_str()));
    s.set("identity", i.into_value());
}
