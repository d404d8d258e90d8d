//! What the cloud offers where, checked at plan (`Provider::check_offered`): a TPU slice's
//! accelerator type in its zone (Cloud TPU's `acceleratorTypes.list`), and the GPUs of a VM
//! or a GKE node pool in its zones (Compute Engine's `acceleratorTypes.get`, the GPUs of
//! A3/A2/G2 machine types included), so an apply does not start what cannot be made.

use crate::errors::{call_error, ok_if_not_found};
use crate::settings::Settings;
use gantry_provider::attrs::Attrs;
use gantry_provider::provider::Result;
use gantry_provider::Value;

pub async fn check(
    settings: &Settings,
    type_name: &str,
    planned: &Value,
) -> Result<Option<String>> {
    match type_name {
        "google_tpu_v2_vm" => tpu_slice(settings, planned).await,
        "google_compute_instance" => {
            let a = Attrs(planned);
            let zones: Vec<String> = a
                .str("zone")
                .map(str::to_owned)
                .or_else(|| settings.zone.clone())
                .into_iter()
                .collect();
            let gpus = gpus_of(a.str("machine_type"), &a.blocks("guest_accelerator"));
            vm_gpus(settings, a.str("project"), &zones, &gpus).await
        }
        "google_container_node_pool" => {
            let a = Attrs(planned);
            let config = a.block("node_config");
            let gpus = gpus_of(
                config.as_ref().and_then(|c| c.str("machine_type")),
                &config
                    .as_ref()
                    .map(|c| c.blocks("guest_accelerator"))
                    .unwrap_or_default(),
            );
            if gpus.is_empty() {
                return Ok(None);
            }
            let zones = match a.strs("node_locations") {
                zones if !zones.is_empty() => zones,
                _ => pool_zones(settings, &a).await?,
            };
            vm_gpus(settings, a.str("project"), &zones, &gpus).await
        }
        _ => Ok(None),
    }
}

/// The zones of a node pool without `node_locations`: its cluster's zone for a zonal
/// cluster; for a regional one, the zones GKE puts the cluster's nodes in (the cluster's
/// `locations`), read from GKE when the cluster exists. A regional cluster made by this
/// same plan has no zones yet: its pools are checked once it exists.
async fn pool_zones(settings: &Settings, a: &Attrs<'_>) -> Result<Vec<String>> {
    let Some(cluster) = a.str("cluster") else {
        return Ok(Vec::new());
    };
    let id = if cluster.starts_with("projects/") {
        cluster.to_owned()
    } else {
        let (Some(location), project) = (
            a.str("location")
                .map(str::to_owned)
                .or_else(|| settings.region.clone()),
            a.str("project").unwrap_or(&settings.project),
        ) else {
            return Ok(Vec::new());
        };
        format!("projects/{project}/locations/{location}/clusters/{cluster}")
    };
    let location = id.split('/').nth(3).unwrap_or_default();
    if crate::sim_model::region_of_zone(location).is_some() {
        return Ok(vec![location.to_owned()]);
    }
    let got = settings
        .clients
        .container
        .get_cluster()
        .set_name(&id)
        .send()
        .await
        .map_err(|e| call_error("clusters.get", e));
    Ok(ok_if_not_found(got)?.map_or_else(Vec::new, |c| c.locations))
}

async fn tpu_slice(settings: &Settings, planned: &Value) -> Result<Option<String>> {
    let a = Attrs(planned);
    let (Some(wanted), Some(zone)) = (
        a.str("accelerator_type"),
        a.str("zone")
            .map(str::to_owned)
            .or_else(|| settings.zone.clone()),
    ) else {
        return Ok(None);
    };
    let project = a.str("project").unwrap_or(&settings.project);
    let parent = format!("projects/{project}/locations/{zone}");
    let mut offered = Vec::new();
    let mut page = String::new();
    loop {
        let listed = settings
            .clients
            .tpu
            .list_accelerator_types()
            .set_parent(&parent)
            .set_page_token(&page)
            .send()
            .await
            .map_err(|e| call_error("acceleratorTypes.list", e));
        let Some(listed) = ok_if_not_found(listed)? else {
            return Ok(Some(format!(
                "Cloud TPU has no location {zone} (it is not a zone with TPUs)"
            )));
        };
        offered.extend(listed.accelerator_types.iter().map(|t| t.r#type.clone()));
        if listed.next_page_token.is_empty() {
            break;
        }
        page = listed.next_page_token;
    }
    if offered.iter().any(|t| t == wanted) {
        return Ok(None);
    }
    let generation = wanted.rsplit_once('-').map_or(wanted, |(g, _)| g);
    let same: Vec<&str> = offered
        .iter()
        .map(String::as_str)
        .filter(|t| t.starts_with(&format!("{generation}-")))
        .collect();
    Ok(Some(if same.is_empty() {
        format!(
            "Cloud TPU offers no {wanted} in zone {zone} (acceleratorTypes.list): the zone \
             has no {generation} slices{}",
            if offered.is_empty() {
                String::new()
            } else {
                format!("; it offers {}", offered.join(", "))
            }
        )
    } else {
        format!(
            "Cloud TPU offers no {wanted} in zone {zone} (acceleratorTypes.list); its \
             {generation} slices there: {}",
            same.join(", ")
        )
    }))
}

/// The GPUs a machine carries built in (A3, A2, G2), by Compute Engine's accelerator name.
const BUILT_IN: [(&str, &str); 5] = [
    ("a3-megagpu-", "nvidia-h100-mega-80gb"),
    ("a3-highgpu-", "nvidia-h100-80gb"),
    ("a2-ultragpu-", "nvidia-a100-80gb"),
    ("a2-highgpu-", "nvidia-tesla-a100"),
    ("g2-standard-", "nvidia-l4"),
];

/// The accelerator types a VM asks for: its machine type's own, and its
/// `guest_accelerator` blocks' (a type may be a full link: its last segment).
fn gpus_of(machine_type: Option<&str>, accelerators: &[Attrs<'_>]) -> Vec<String> {
    let mut out: Vec<String> = machine_type
        .and_then(|m| BUILT_IN.iter().find(|(prefix, _)| m.starts_with(prefix)))
        .map(|(_, gpu)| (*gpu).to_owned())
        .into_iter()
        .collect();
    for g in accelerators {
        if let Some(t) = g.str("type") {
            let t = crate::wire::last_segment(t).to_owned();
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

async fn vm_gpus(
    settings: &Settings,
    project: Option<&str>,
    zones: &[String],
    gpus: &[String],
) -> Result<Option<String>> {
    let project = project.unwrap_or(&settings.project);
    let mut missing = Vec::new();
    for zone in zones {
        for gpu in gpus {
            let got = settings
                .clients
                .accelerator_types
                .get()
                .set_project(project)
                .set_zone(zone)
                .set_accelerator_type(gpu)
                .send()
                .await
                .map_err(|e| call_error("acceleratorTypes.get", e));
            if ok_if_not_found(got)?.is_none() {
                missing.push(format!("{gpu} in zone {zone}"));
            }
        }
    }
    Ok((!missing.is_empty()).then(|| {
        format!(
            "Compute Engine offers no {} (acceleratorTypes.get): pick a zone that has it \
             (`gcloud compute accelerator-types list --filter=name={}`)",
            missing.join(", no "),
            gpus.first().map(String::as_str).unwrap_or_default()
        )
    }))
}
