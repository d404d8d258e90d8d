//! What `--sim` needs to look like Google Cloud: relative names as ids, self links, the
//! `notFound` reason, a subnetwork's gateway inside its range.

use gantry_provider::attrs::Attrs;
use gantry_provider::{IdStyle, SimModel, SimObjectFacts, SimWorldView, Value};

pub struct GcpSimModel;

/// The project of simulated objects whose configuration names none.
const SIM_PROJECT: &str = "gantry-sim";

/// `us-central1` from `us-central1-a`.
pub fn region_of_zone(zone: &str) -> Option<String> {
    let (region, suffix) = zone.rsplit_once('-')?;
    (suffix.len() == 1 && region.contains('-')).then(|| region.to_owned())
}

impl SimModel for GcpSimModel {
    fn id_style(&self, type_name: &str) -> Option<IdStyle> {
        let path = match type_name {
            "google_compute_network" => "projects/{project}/global/networks/{name}",
            "google_compute_firewall" => "projects/{project}/global/firewalls/{name}",
            "google_compute_subnetwork" => "projects/{project}/regions/{region}/subnetworks/{name}",
            "google_compute_instance" => "projects/{project}/zones/{zone}/instances/{name}",
            "google_compute_router" => "projects/{project}/regions/{region}/routers/{name}",
            "google_compute_router_nat" => "{project}/{region}/{router}/{name}",
            "google_tpu_v2_vm" => "projects/{project}/locations/{zone}/nodes/{name}",
            "google_service_account" => {
                "projects/{project}/serviceAccounts/{account_id}@{project}.iam.gserviceaccount.com"
            }
            "google_project_iam_member" => "{project}/{role}/{member}",
            "google_filestore_instance" | "google_workbench_instance" => {
                "projects/{project}/locations/{location}/instances/{name}"
            }
            "google_container_cluster" => "projects/{project}/locations/{location}/clusters/{name}",
            "google_container_node_pool" => {
                "projects/{project}/locations/{location}/clusters/{cluster}/nodePools/{name}"
            }
            "google_storage_bucket" => "{name}",
            "google_compute_resource_policy" => {
                "projects/{project}/regions/{region}/resourcePolicies/{name}"
            }
            _ => return None,
        };
        Some(IdStyle::Template(path.to_owned()))
    }

    fn not_found_code(&self, _type_name: &str) -> Option<String> {
        Some("notFound".to_owned())
    }

    fn duplicate_code(&self, _type_name: &str) -> Option<String> {
        Some("alreadyExists".to_owned())
    }

    fn computed(
        &self,
        object: &SimObjectFacts<'_>,
        name: &str,
        _world: &dyn SimWorldView,
    ) -> Option<Value> {
        let a = Attrs(object.planned);
        match name {
            "project" => Some(Value::string(a.str("project").unwrap_or(SIM_PROJECT))),
            "region" => Some(Value::string(object.region)),
            "self_link" => Some(Value::string(format!(
                "https://www.googleapis.com/compute/v1/{}",
                object.id
            ))),
            "numeric_id" => Some(Value::string(format!(
                "{}",
                1_000_000_000_000_000_000u64 + object.serial % 1_000_000_000_000_000_000
            ))),
            "gateway_address" => {
                let net: ipnet::Ipv4Net = a.str("ip_cidr_range")?.parse().ok()?;
                Some(Value::string(net.hosts().next()?.to_string()))
            }
            "routing_mode" => Some(Value::string("REGIONAL")),
            "zone" => Some(Value::string(format!("{}-a", object.region))),
            // Filestore's zonal tiers live in a zone; GKE clusters here are regional.
            "location" if object.type_name == "google_filestore_instance" => {
                Some(Value::string(format!("{}-a", object.region)))
            }
            "location" => Some(Value::string(object.region)),
            "state" if object.type_name == "google_filestore_instance" => {
                Some(Value::string("READY"))
            }
            "state" if object.type_name == "google_workbench_instance" => {
                Some(Value::string("ACTIVE"))
            }
            "status" => Some(Value::string("RUNNING")),
            "url" if object.type_name == "google_storage_bucket" => {
                Some(Value::string(format!("gs://{}", object.id)))
            }
            // A Filestore share's address on its network.
            "ip_addresses" => Some(Value::List(vec![Value::string(format!(
                "10.{}.{}.2",
                100 + object.serial % 100,
                object.serial / 100 % 250
            ))])),
            "master_version" | "version" => Some(Value::string("1.31.1-gke.1846000")),
            "endpoint" => Some(Value::string(format!(
                "34.{}.{}.{}",
                object.serial % 250,
                (object.serial / 250) % 250,
                10 + object.serial % 200
            ))),
            "proxy_uri" => Some(Value::string(format!(
                "{:016x}-dot-{}.notebooks.googleusercontent.com",
                object.serial, object.region
            ))),
            "current_status" => Some(Value::string("RUNNING")),
            "instance_id" => Some(Value::string(format!(
                "{}",
                2_000_000_000_000_000_000u64 + object.serial % 1_000_000_000_000_000_000
            ))),
            "mtu" => Some(Value::Number(1460.0)),
            "direction" => Some(Value::string("INGRESS")),
            "source_ranges" if a.get("source_tags").is_none() => {
                Some(Value::set(vec![Value::string("0.0.0.0/0")]))
            }
            "private_ip_google_access" => Some(Value::Bool(false)),
            "stack_type" => Some(Value::string("IPV4_ONLY")),
            "purpose" => Some(Value::string("PRIVATE")),
            // A service account's email comes from its id and project.
            // A service account's email is the end of its id (projects/P/serviceAccounts/EMAIL).
            "email" if object.type_name == "google_service_account" => {
                Some(Value::string(object.id.rsplit('/').next()?))
            }
            "member" if object.type_name == "google_service_account" => Some(Value::string(
                format!("serviceAccount:{}", object.id.rsplit('/').next()?),
            )),
            "unique_id" => Some(Value::string(format!(
                "{}",
                100_000_000_000_000_000_000u128 + u128::from(object.serial)
            ))),
            // A TPU slice: ready, one endpoint per host of four chips.
            "state" if object.type_name == "google_tpu_v2_vm" => Some(Value::string("READY")),
            "network_endpoints" if object.type_name == "google_tpu_v2_vm" => {
                let chips = crate::resources::tpu_chips(a.str("accelerator_type")?)?;
                let hosts = (chips / 4).max(1);
                Some(Value::List(
                    (0..hosts)
                        .map(|h| {
                            Value::map([
                                ("ip_address", Value::string(format!("10.130.0.{}", 10 + h))),
                                ("port", Value::Number(8470.0)),
                                ("external_ip", Value::Null),
                            ])
                        })
                        .collect(),
                ))
            }
            _ => None,
        }
    }

    fn region_of_zone(&self, zone: &str) -> Option<String> {
        region_of_zone(zone)
    }

    /// Three zones in every simulated region, as most Google Cloud regions have.
    fn read_data(
        &self,
        type_name: &str,
        config: &Value,
        region: &str,
        settings: &std::collections::BTreeMap<String, String>,
    ) -> Option<Value> {
        if type_name == "google_project" {
            let project = Attrs(config)
                .str("project_id")
                .or(settings.get("project").map(String::as_str))
                .unwrap_or(SIM_PROJECT);
            return Some(Value::map([
                ("id", Value::string(format!("projects/{project}"))),
                ("project_id", Value::string(project)),
                ("number", Value::string("123456789012")),
                ("name", Value::string(project)),
            ]));
        }
        if type_name != "google_compute_zones" {
            return None;
        }
        let region = Attrs(config).str("region").unwrap_or(region);
        let names = ["a", "b", "c"]
            .iter()
            .map(|z| Value::string(format!("{region}-{z}")))
            .collect();
        Some(Value::map([
            ("names", Value::List(names)),
            ("region", Value::string(region)),
            (
                "id",
                Value::string(format!("projects/{SIM_PROJECT}/regions/{region}")),
            ),
        ]))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn zones_belong_to_regions() {
        assert_eq!(
            super::region_of_zone("us-central1-a").as_deref(),
            Some("us-central1")
        );
        assert_eq!(
            super::region_of_zone("europe-west4-b").as_deref(),
            Some("europe-west4")
        );
        assert_eq!(super::region_of_zone("us-central1"), None);
    }
}
