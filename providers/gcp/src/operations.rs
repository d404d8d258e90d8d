//! Compute Engine operations: every insert, patch and delete returns one, and the change
//! is done only when it is DONE. A DONE operation can carry an error (a stockout, a quota):
//! that error is the call's result.

use crate::errors::{call_error, operation_error_class};
use crate::resources::Cx;
use crate::wire::{from_model, last_segment, str_at};
use gantry_provider::provider::Result;
use gantry_provider::{ErrorClass, ProviderError};
use google_cloud_compute_v1::model::Operation;
use serde_json::Value as Json;
use std::time::{Duration, Instant};

/// Where an operation lives: its own scope decides which operations API answers for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Global,
    Region(String),
    Zone(String),
}

impl Scope {
    fn of(op: &Json) -> Scope {
        if let Some(zone) = str_at(op, "zone") {
            return Scope::Zone(last_segment(zone).to_owned());
        }
        if let Some(region) = str_at(op, "region") {
            return Scope::Region(last_segment(region).to_owned());
        }
        Scope::Global
    }
}

/// Waits for an operation to finish, within `timeout`; its error, if any, is returned
/// classified (a stockout is Capacity, naming the zone).
pub async fn wait(cx: &Cx<'_>, op: Operation, what: &str, timeout: Duration) -> Result<Json> {
    let mut op = from_model(&op);
    let deadline = Instant::now() + timeout;
    let scope = Scope::of(&op);
    loop {
        if str_at(&op, "status") == Some("DONE") {
            return finished(op, what);
        }
        let name = str_at(&op, "name")
            .ok_or_else(|| ProviderError::fatal(format!("{what}: an operation without a name")))?
            .to_owned();
        if Instant::now() >= deadline {
            return Err(ProviderError::timeout(format!(
                "{what}: operation {name} still running after {}s",
                timeout.as_secs()
            )));
        }
        let next = tokio::select! {
            _ = cx.op.cancel.cancelled() => {
                return Err(ProviderError::new(ErrorClass::Fatal, format!("{what}: cancelled while operation {name} was running")));
            }
            polled = poll(cx, &scope, &name) => polled?,
        };
        let still_running = str_at(&next, "status") != Some("DONE");
        op = next;
        if still_running {
            // `wait` returns at once on some servers; do not spin.
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// One `operations.wait` call (it returns when the operation is done, or after up to two
/// minutes).
async fn poll(cx: &Cx<'_>, scope: &Scope, name: &str) -> Result<Json> {
    let project = &cx.settings.project;
    let clients = &cx.settings.clients;
    let op = match scope {
        Scope::Global => {
            clients
                .global_operations
                .wait()
                .set_project(project)
                .set_operation(name)
                .send()
                .await
        }
        Scope::Region(region) => {
            clients
                .region_operations
                .wait()
                .set_project(project)
                .set_region(region)
                .set_operation(name)
                .send()
                .await
        }
        Scope::Zone(zone) => {
            clients
                .zone_operations
                .wait()
                .set_project(project)
                .set_zone(zone)
                .set_operation(name)
                .send()
                .await
        }
    }
    .map_err(|e| call_error("operations.wait", e))?;
    Ok(from_model(&op))
}

/// The result of a DONE operation.
fn finished(op: Json, what: &str) -> Result<Json> {
    let Some(first) = op
        .pointer("/error/errors/0")
        .filter(|_| op.get("error").is_some())
    else {
        return Ok(op);
    };
    let code = str_at(first, "code").unwrap_or("UNKNOWN").to_owned();
    let message = str_at(first, "message").unwrap_or_default().to_owned();
    let http = op.get("httpErrorStatusCode").and_then(Json::as_i64);
    let class = operation_error_class(&code, http);
    let mut text = format!("{what}: {code}: {message}");
    if class == ErrorClass::Capacity {
        if let Scope::Zone(zone) = Scope::of(&op) {
            if !message.contains(&zone) {
                text.push_str(&format!(" (zone {zone})"));
            }
        }
    }
    Err(ProviderError::new(class, text).with_code(code))
}

/// The insert operation this create's requestId started on `target` (a self link ending,
/// `/global/networks/n`), if the cloud still has it: the cloud's own proof that an object
/// is this create's.
pub async fn find_insert(
    cx: &Cx<'_>,
    scope: &Scope,
    request_id: &str,
    target: &str,
) -> Result<Option<Json>> {
    let project = &cx.settings.project;
    let clients = &cx.settings.clients;
    let filter = format!("clientOperationId = \"{request_id}\"");
    let list = match scope {
        Scope::Global => clients
            .global_operations
            .list()
            .set_project(project)
            .set_filter(filter)
            .send()
            .await
            .map(|l| from_model(&l)),
        Scope::Region(region) => clients
            .region_operations
            .list()
            .set_project(project)
            .set_region(region)
            .set_filter(filter)
            .send()
            .await
            .map(|l| from_model(&l)),
        Scope::Zone(zone) => clients
            .zone_operations
            .list()
            .set_project(project)
            .set_zone(zone)
            .set_filter(filter)
            .send()
            .await
            .map(|l| from_model(&l)),
    }
    .map_err(|e| call_error("operations.list", e))?;
    let found = list
        .get("items")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .find(|op| {
            str_at(op, "clientOperationId") == Some(request_id)
                && str_at(op, "operationType") == Some("insert")
                && str_at(op, "targetLink").is_some_and(|t| t.ends_with(target))
        })
        .cloned();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_done_operation_with_an_error_is_that_error() {
        let stockout = json!({
            "status": "DONE", "zone": "https://x/compute/v1/projects/p/zones/us-central1-a",
            "httpErrorStatusCode": 503,
            "error": {"errors": [{"code": "ZONE_RESOURCE_POOL_EXHAUSTED", "message": "The zone does not have enough resources"}]}
        });
        let e = finished(stockout, "instances.insert").expect_err("stockout");
        assert_eq!(e.class, ErrorClass::Capacity);
        assert!(e.message.contains("us-central1-a"), "{}", e.message);
        assert_eq!(e.code.as_deref(), Some("ZONE_RESOURCE_POOL_EXHAUSTED"));
        let ok = finished(json!({"status": "DONE", "targetLink": "t"}), "x").expect("no error");
        assert_eq!(str_at(&ok, "targetLink"), Some("t"));
    }

    #[test]
    fn the_scope_comes_from_the_operation() {
        assert_eq!(
            Scope::of(&json!({"region": "https://x/regions/us-east1"})),
            Scope::Region("us-east1".into())
        );
        assert_eq!(Scope::of(&json!({})), Scope::Global);
    }
}
