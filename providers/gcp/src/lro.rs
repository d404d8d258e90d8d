//! `google.longrunning` operations, the resource-oriented APIs' kind (Cloud TPU,
//! Filestore, Workbench): `done`, then either `error` (a `google.rpc.Status`) or
//! `response`. As with Compute Engine's, a finished operation can carry an error (a TPU
//! stockout is code 8 with "no more capacity"): that error is the call's result.

use crate::resources::Cx;
use crate::wire::str_at;
use gantry_provider::provider::Result;
use gantry_provider::{ErrorClass, ProviderError};
use serde_json::Value as Json;
use std::future::Future;
use std::time::{Duration, Instant};

/// Polls `op` through `get` (the service's `operations.get`) until it is done, within
/// `timeout`; returns its `response`, or its error classified. `zone` is named in a
/// capacity error that does not name it itself.
pub async fn wait<F, Fut>(
    cx: &Cx<'_>,
    mut op: Json,
    what: &str,
    timeout: Duration,
    zone: Option<&str>,
    get: F,
) -> Result<Json>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Json>>,
{
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(200);
    loop {
        if op.get("done").and_then(Json::as_bool) == Some(true) {
            return finished(op, what, zone);
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
        tokio::select! {
            _ = cx.op.cancel.cancelled() => {
                return Err(ProviderError::new(
                    ErrorClass::Fatal,
                    format!("{what}: cancelled while operation {name} was running"),
                ));
            }
            _ = tokio::time::sleep(pause) => {}
        }
        // Long operations (a TPU slice takes minutes) are polled less often as they go.
        pause = (pause * 3 / 2).min(Duration::from_secs(10));
        op = get(name).await?;
    }
}

/// The result of a done operation.
fn finished(op: Json, what: &str, zone: Option<&str>) -> Result<Json> {
    let Some(error) = op.get("error").filter(|e| !e.is_null()) else {
        return Ok(op.get("response").cloned().unwrap_or(Json::Null));
    };
    let code = error.get("code").and_then(Json::as_i64).unwrap_or(2);
    let message = str_at(error, "message").unwrap_or_default();
    Err(status_error(what, code, message, zone))
}

/// A `google.rpc.Status` classified for the engine. RESOURCE_EXHAUSTED means three
/// different things on Google Cloud, told apart by the message: a quota, a stockout, or
/// the request rate.
pub fn status_error(what: &str, code: i64, message: &str, zone: Option<&str>) -> ProviderError {
    let lower = message.to_ascii_lowercase();
    let class = match code {
        8 if lower.contains("quota") => ErrorClass::Quota,
        8 if is_stockout(&lower) => ErrorClass::Capacity,
        8 => ErrorClass::Throttled,
        3 | 11 => ErrorClass::InvalidInput,
        5 => ErrorClass::NotFound,
        6 | 9 | 10 => ErrorClass::Conflict,
        7 | 16 => ErrorClass::Auth,
        4 | 13 | 14 => ErrorClass::Transient,
        _ => ErrorClass::Fatal,
    };
    let mut text = format!("{what}: {message}");
    if class == ErrorClass::Capacity {
        if let Some(zone) = zone.filter(|z| !message.contains(z)) {
            text.push_str(&format!(" (zone {zone})"));
        }
    }
    ProviderError::new(class, text).with_code(rpc_code_name(code))
}

fn is_stockout(lower: &str) -> bool {
    [
        "no more capacity",
        "stockout",
        "does not have enough resources",
        "resource pool exhausted",
        "resources are not available",
    ]
    .iter()
    .any(|s| lower.contains(s))
}

fn rpc_code_name(code: i64) -> &'static str {
    match code {
        1 => "CANCELLED",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        16 => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resource_exhausted_is_told_apart_by_its_message() {
        let stockout = status_error(
            "nodes.create",
            8,
            "There is no more capacity in the zone \"us-west4-a\"; you can try in another zone",
            Some("us-west4-a"),
        );
        assert_eq!(stockout.class, ErrorClass::Capacity);
        assert_eq!(stockout.code.as_deref(), Some("RESOURCE_EXHAUSTED"));
        let quota = status_error(
            "nodes.create",
            8,
            "Quota limit 'TPUV5sLitepodPerProjectPerZoneForTPUAPI' has been exceeded. Limit: 8 in zone us-west4-a.",
            None,
        );
        assert_eq!(quota.class, ErrorClass::Quota);
        let rate = status_error("nodes.get", 8, "Too many requests", None);
        assert_eq!(rate.class, ErrorClass::Throttled);
        let named = status_error("x", 8, "stockout", Some("europe-west4-a"));
        assert!(
            named.message.ends_with("(zone europe-west4-a)"),
            "{}",
            named.message
        );
    }

    #[test]
    fn a_done_operation_is_its_response_or_its_error() {
        let ok = finished(
            json!({"done": true, "response": {"name": "n"}}),
            "create",
            None,
        )
        .expect("response");
        assert_eq!(ok["name"], "n");
        let failed = finished(
            json!({"done": true, "error": {"code": 3, "message": "bad topology"}}),
            "create",
            None,
        )
        .expect_err("error");
        assert_eq!(failed.class, ErrorClass::InvalidInput);
        assert!(failed.message.contains("bad topology"));
    }
}
