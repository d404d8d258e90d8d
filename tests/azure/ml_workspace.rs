//! Azure ML's workspace soft delete: a destroyed workspace stays soft-deleted, its name
//! taken, unless azurerm's `features { machine_learning {
//! purge_soft_deleted_workspace_on_destroy = true } }` has destroy purge it
//! (`forceToPurge=true`). The fake models the soft delete (tests/azure/fake: a plain
//! DELETE keeps the name until a purge); checked here through the shipped ml-platform
//! module.

use crate::support::Fake;

fn platform(fake: &Fake, purge: bool) -> String {
    format!(
        r#"
provider "azurerm" {{
{settings}  features {{
    machine_learning {{
      purge_soft_deleted_workspace_on_destroy = {purge}
    }}
  }}
}}

data "azurerm_client_config" "current" {{}}

resource "azurerm_resource_group" "rg" {{
  name     = "ml-rg"
  location = "eastus"
}}

module "ml" {{
  source                 = "gantry/azure/ml-platform"
  name                   = "gantry-ml"
  resource_group_name    = azurerm_resource_group.rg.name
  location               = "eastus"
  tenant_id              = data.azurerm_client_config.current.tenant_id
  artifacts_account_name = "gantrymlartifacts"
}}
"#,
        settings = fake.provider_settings()
    )
}

/// The names of the soft-deleted workspaces.
fn soft_deleted(fake: &Fake) -> Vec<String> {
    let state = fake.admin("GET", "/_fake/state", None);
    state["deleted_workspaces"]
        .as_array()
        .expect("deleted workspaces")
        .iter()
        .map(|w| w["name"].as_str().expect("name").to_owned())
        .collect()
}

#[test]
fn destroy_purges_the_workspace_when_asked_and_leaves_it_soft_deleted_otherwise() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    stack.write_raw(&platform(&fake, true));
    stack.apply();
    stack.destroy();
    assert_eq!(
        soft_deleted(&fake),
        Vec::<String>::new(),
        "purged on destroy"
    );
    // The name is free: the platform comes back.
    stack.apply();
    assert_eq!(
        fake.python("print(exists(lambda: resource.resources.get_by_id(RG_ID('ml-rg') + '/providers/Microsoft.MachineLearningServices/workspaces/gantry-ml', '2024-04-01')))"),
        "True"
    );

    // azurerm's default: the workspace stays soft-deleted and Azure refuses its name.
    stack.write_raw(&platform(&fake, false));
    stack.destroy();
    assert_eq!(soft_deleted(&fake), vec!["gantry-ml".to_owned()]);
    let again = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(again.code, 0, "{}", again.both());
    assert!(
        again.both().contains("Soft-deleted workspace exists"),
        "{}",
        again.both()
    );
}
