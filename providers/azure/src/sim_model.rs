//! What `--sim` needs to look like Azure: ARM resource ids, `ResourceNotFound`, GUIDs for
//! principals and clients, the endpoints and URLs Azure computes.

use gantry_provider::attrs::Attrs;
use gantry_provider::{IdStyle, SimModel, SimObjectFacts, SimWorldView, Value};

pub struct AzureSimModel;

/// The subscription of simulated objects when the provider block names none.
const SIM_SUBSCRIPTION: &str = "00000000-0000-0000-0000-0000000051a1";
const SIM_TENANT: &str = "00000000-0000-0000-0000-00000000e1d0";

fn in_group(kind: &str) -> String {
    format!("/subscriptions/{{subscription_id}}/resourceGroups/{{resource_group_name}}/providers/{kind}/{{name}}")
}

/// A GUID derived from an object's serial (stable for the object).
fn guid(serial: u64, salt: u64) -> String {
    let a = serial ^ salt.rotate_left(17);
    let b = a.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        (a & 0x0fff) as u16,
        ((b >> 48) as u16 & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

impl SimModel for AzureSimModel {
    fn id_style(&self, type_name: &str) -> Option<IdStyle> {
        let path = match type_name {
            "azurerm_resource_group" => "/subscriptions/{subscription_id}/resourceGroups/{name}".to_owned(),
            "azurerm_virtual_network" => in_group("Microsoft.Network/virtualNetworks"),
            "azurerm_subnet" => "/subscriptions/{subscription_id}/resourceGroups/{resource_group_name}/providers/Microsoft.Network/virtualNetworks/{virtual_network_name}/subnets/{name}".to_owned(),
            "azurerm_network_security_group" => in_group("Microsoft.Network/networkSecurityGroups"),
            "azurerm_user_assigned_identity" => in_group("Microsoft.ManagedIdentity/userAssignedIdentities"),
            "azurerm_storage_account" => in_group("Microsoft.Storage/storageAccounts"),
            "azurerm_storage_container" => "{storage_account_id}/blobServices/default/containers/{name}".to_owned(),
            "azurerm_proximity_placement_group" => in_group("Microsoft.Compute/proximityPlacementGroups"),
            "azurerm_kubernetes_cluster" => in_group("Microsoft.ContainerService/managedClusters"),
            "azurerm_kubernetes_cluster_node_pool" => "{kubernetes_cluster_id}/agentPools/{name}".to_owned(),
            "azurerm_linux_virtual_machine_scale_set" => in_group("Microsoft.Compute/virtualMachineScaleSets"),
            "azurerm_key_vault" => in_group("Microsoft.KeyVault/vaults"),
            "azurerm_application_insights" => in_group("Microsoft.Insights/components"),
            "azurerm_machine_learning_workspace" => in_group("Microsoft.MachineLearningServices/workspaces"),
            "azurerm_role_assignment" => "{scope}/providers/Microsoft.Authorization/roleAssignments/{id}".to_owned(),
            _ => return None,
        };
        Some(IdStyle::Template(path))
    }

    fn not_found_code(&self, _type_name: &str) -> Option<String> {
        Some("ResourceNotFound".to_owned())
    }

    fn duplicate_code(&self, _type_name: &str) -> Option<String> {
        Some("Conflict".to_owned())
    }

    fn computed(
        &self,
        object: &SimObjectFacts<'_>,
        name: &str,
        _world: &dyn SimWorldView,
    ) -> Option<Value> {
        let a = Attrs(object.planned);
        let s = object.serial;
        let text = |v: String| Some(Value::string(v));
        match (object.type_name, name) {
            (_, "principal_id") => text(guid(s, 1)),
            (_, "client_id") => text(guid(s, 2)),
            (_, "tenant_id") => text(SIM_TENANT.to_owned()),
            (_, "guid") | (_, "unique_id") | (_, "app_id") | (_, "workspace_id") => text(guid(s, 3)),
            ("azurerm_role_assignment", "name") => text(guid(s, 4)),
            ("azurerm_kubernetes_cluster", "fqdn") => {
                text(format!("{}-{:08x}.hcp.{}.azmk8s.io", a.str("dns_prefix")?, s as u32, a.str("location")?.replace(' ', "").to_lowercase()))
            }
            ("azurerm_kubernetes_cluster", "oidc_issuer_url") => {
                let location = a.str("location")?.replace(' ', "").to_lowercase();
                text(format!("https://{location}.oic.prod-aks.azure.com/{SIM_TENANT}/{}/", guid(s, 5)))
            }
            ("azurerm_kubernetes_cluster", "node_resource_group") => text(format!(
                "MC_{}_{}_{}",
                a.str("resource_group_name")?,
                a.str("name")?,
                a.str("location")?.replace(' ', "").to_lowercase()
            )),
            ("azurerm_kubernetes_cluster", "kubernetes_version") => text("1.30.6".to_owned()),
            ("azurerm_storage_account", "primary_blob_endpoint") => text(format!("https://{}.blob.core.windows.net/", a.str("name")?)),
            ("azurerm_storage_account", "primary_dfs_endpoint") => text(format!("https://{}.dfs.core.windows.net/", a.str("name")?)),
            ("azurerm_storage_account", "primary_location") => text(a.str("location")?.replace(' ', "").to_lowercase()),
            ("azurerm_key_vault", "vault_uri") => text(format!("https://{}.vault.azure.net/", a.str("name")?)),
            ("azurerm_application_insights", "instrumentation_key") => text(guid(s, 6)),
            ("azurerm_application_insights", "connection_string") => {
                text(format!("InstrumentationKey={};IngestionEndpoint=https://eastus-8.in.applicationinsights.azure.com/", guid(s, 6)))
            }
            ("azurerm_machine_learning_workspace", "discovery_url") => {
                text(format!("https://{}.api.azureml.ms/discovery", a.str("location")?.replace(' ', "").to_lowercase()))
            }
            _ => None,
        }
    }

    fn read_data(
        &self,
        type_name: &str,
        config: &Value,
        _region: &str,
        settings: &std::collections::BTreeMap<String, String>,
    ) -> Option<Value> {
        let subscription = settings
            .get("subscription_id")
            .map_or(SIM_SUBSCRIPTION, String::as_str);
        match type_name {
            "azurerm_client_config" => Some(Value::map([
                (
                    "id",
                    Value::string(format!(
                        "clientConfigs/subscriptionId={subscription};tenantId={SIM_TENANT}"
                    )),
                ),
                ("subscription_id", Value::string(subscription)),
                (
                    "tenant_id",
                    Value::string(settings.get("tenant_id").map_or(SIM_TENANT, String::as_str)),
                ),
                (
                    "client_id",
                    Value::string(
                        settings
                            .get("client_id")
                            .map_or("00000000-0000-0000-0000-0000000c11e7", String::as_str),
                    ),
                ),
            ])),
            "azurerm_resource_group" => {
                let name = Attrs(config).str("name")?;
                Some(Value::map([
                    (
                        "id",
                        Value::string(format!(
                            "/subscriptions/{subscription}/resourceGroups/{name}"
                        )),
                    ),
                    ("location", Value::string("eastus")),
                ]))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn guids_look_like_guids_and_differ_by_salt() {
        let a = super::guid(42, 1);
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        assert_ne!(a, super::guid(42, 2));
        assert_eq!(a, super::guid(42, 1));
    }
}
