//! A GKE node pool's current size per zone: GKE keeps it in the Compute Engine managed
//! instance groups the pool's nodes run in (`instanceGroupUrls`), not in the NodePool,
//! which carries only the count it was made with. Read as Terraform reads it: the groups'
//! target sizes summed and divided by their number (`node_count` is per zone); summed, they
//! are what the pool holds of a quota.

use crate::errors::{call_error, ok_if_not_found};
use crate::settings::Settings;
use gantry_provider::provider::Result;

/// The pool's nodes per zone, or `None` when it has no instance groups yet or one of them
/// is gone (a pool being made or deleted).
pub async fn per_zone(settings: &Settings, instance_group_urls: &[String]) -> Result<Option<f64>> {
    Ok(total(settings, instance_group_urls)
        .await?
        .map(|nodes| nodes / instance_group_urls.len() as f64))
}

/// The pool's nodes in all its zones (what it holds of a quota), or `None` as for
/// [`per_zone`].
pub async fn total(settings: &Settings, instance_group_urls: &[String]) -> Result<Option<f64>> {
    if instance_group_urls.is_empty() {
        return Ok(None);
    }
    let mut total = 0.0;
    for url in instance_group_urls {
        let Some((project, zone, name)) = group_of(url) else {
            return Ok(None);
        };
        let got = settings
            .clients
            .instance_group_managers
            .get()
            .set_project(project)
            .set_zone(zone)
            .set_instance_group_manager(name)
            .send()
            .await
            .map_err(|e| call_error("instanceGroupManagers.get", e));
        let Some(group) = ok_if_not_found(got)? else {
            return Ok(None);
        };
        total += f64::from(group.target_size.unwrap_or_default());
    }
    Ok(Some(total))
}

/// (project, zone, name) of
/// `https://www.googleapis.com/compute/v1/projects/P/zones/Z/instanceGroupManagers/N`.
fn group_of(url: &str) -> Option<(&str, &str, &str)> {
    let path = &url[url.find("projects/")?..];
    let mut parts = path.split('/');
    match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some("projects"), Some(p), Some("zones"), Some(z), Some(kind), Some(n))
            if kind == "instanceGroupManagers" || kind == "instanceGroups" =>
        {
            Some((p, z, n))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_is_found_from_its_link() {
        assert_eq!(
            group_of(
                "https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a/instanceGroupManagers/gke-c-n-1-grp"
            ),
            Some(("p", "us-central1-a", "gke-c-n-1-grp"))
        );
        assert_eq!(group_of("https://example.com/zones/z"), None);
        assert_eq!(
            group_of("https://www.googleapis.com/compute/v1/projects/p/global/networks/n"),
            None
        );
    }
}
