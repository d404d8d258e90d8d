//! What the cloud offers where, checked at plan (`Provider::check_offered`): a TPU slice's
//! accelerator type in its zone, from Cloud TPU's `acceleratorTypes.list`, so an apply does
//! not start a slice the zone cannot make.

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
        _ => Ok(None),
    }
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
