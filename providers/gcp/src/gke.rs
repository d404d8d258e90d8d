//! GKE's own operations and its one-at-a-time rule.
//!
//! GKE answers a change with a `container.v1` Operation (`status` PENDING, RUNNING, DONE;
//! a finished one may carry a `google.rpc.Status` error: a node pool stockout is code 8
//! with GCE_STOCKOUT), not a `google.longrunning` one. And a cluster runs one operation
//! at a time: a second change while one runs is refused with FAILED_PRECONDITION
//! ("incompatible operation"). So the changes gantry makes to one cluster (its node
//! pools, labels) take turns on a per-cluster lock, and a refusal caused by an operation
//! gantry did not start (an auto-upgrade) is retried until the deadline.

use crate::errors::call_error;
use crate::lro::status_error;
use crate::resources::Cx;
use gantry_provider::provider::Result;
use gantry_provider::{ErrorClass, ProviderError};
use google_cloud_container_v1::model::Operation;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

static CLUSTER_LOCKS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Mutex::default);

/// The lock of one cluster (`projects/p/locations/l/clusters/c`).
fn cluster_lock(cluster: &str) -> Arc<tokio::sync::Mutex<()>> {
    let mut locks = CLUSTER_LOCKS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    locks.entry(cluster.to_owned()).or_default().clone()
}

/// A cluster or node pool name's location part: `projects/p/locations/l/...` → (p, l).
pub fn project_and_location(name: &str) -> Option<(&str, &str)> {
    let mut parts = name.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("projects"), Some(p), Some("locations"), Some(l)) => Some((p, l)),
        _ => None,
    }
}

/// Sends a change to `cluster` on its turn and waits for its operation. `send` is called
/// again while the cluster is busy with an operation gantry did not start.
pub async fn change<F, Fut>(
    cx: &Cx<'_>,
    cluster: &str,
    what: &str,
    timeout: Duration,
    zone: Option<&str>,
    send: F,
) -> Result<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = std::result::Result<Operation, google_cloud_gax::error::Error>>,
{
    let lock = cluster_lock(cluster);
    let _turn = lock.lock().await;
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_secs(1);
    let op = loop {
        match send().await.map_err(|e| call_error(what, e)) {
            Ok(op) => break op,
            Err(e) if is_busy(&e) && Instant::now() + pause < deadline => {
                tracing::debug!(%cluster, %what, "cluster busy, waiting: {}", e.message);
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(30));
            }
            Err(e) => return Err(e),
        }
    };
    wait(cx, op, cluster, what, deadline, zone).await
}

/// GKE's refusal of a change while another operation runs on the cluster.
fn is_busy(e: &ProviderError) -> bool {
    let lower = e.message.to_ascii_lowercase();
    e.class == ErrorClass::Conflict && lower.contains("incompatible operation")
}

/// Polls `op` until DONE; its error, if any, is the call's result.
pub async fn wait(
    cx: &Cx<'_>,
    mut op: Operation,
    target: &str,
    what: &str,
    deadline: Instant,
    zone: Option<&str>,
) -> Result<()> {
    let (project, location) = project_and_location(target).ok_or_else(|| {
        ProviderError::fatal(format!("{what}: {target:?} is not a GKE resource name"))
    })?;
    let name = format!(
        "projects/{project}/locations/{location}/operations/{}",
        op.name
    );
    let mut pause = Duration::from_millis(200);
    loop {
        if op.status.name() == Some("DONE") {
            return match op.error.as_ref().filter(|e| e.code != 0) {
                Some(error) => Err(status_error(
                    what,
                    i64::from(error.code),
                    &error.message,
                    zone,
                )),
                None => Ok(()),
            };
        }
        if Instant::now() >= deadline {
            return Err(ProviderError::timeout(format!(
                "{what}: operation {name} still {} at the deadline",
                op.status.name().unwrap_or("running")
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(10));
        op = cx
            .settings
            .clients
            .container
            .get_operation()
            .set_name(&name)
            .send()
            .await
            .map_err(|e| call_error("operations.get", e))?;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_give_their_project_and_location() {
        assert_eq!(
            super::project_and_location("projects/p/locations/us-central1/clusters/c"),
            Some(("p", "us-central1"))
        );
        assert_eq!(super::project_and_location("clusters/c"), None);
    }
}
