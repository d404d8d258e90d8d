//! Storage accounts (whose create ARM answers 202 with a Location to poll) and blob
//! containers made through Resource Manager: created, read back by azure-mgmt-storage,
//! changed in place, destroyed to nothing.

use crate::support::Fake;

fn stack_text(tls: &str, access: &str) -> String {
    format!(
        r#"
resource "azurerm_resource_group" "data" {{
  name     = "data-rg"
  location = "westus3"
}}

resource "azurerm_storage_account" "ckpt" {{
  name                     = "gantryckpt01"
  resource_group_name      = azurerm_resource_group.data.name
  location                 = azurerm_resource_group.data.location
  account_tier             = "Standard"
  account_replication_type = "ZRS"
  is_hns_enabled           = true
  min_tls_version          = "{tls}"
  tags                     = {{ purpose = "checkpoints" }}
}}

resource "azurerm_storage_container" "runs" {{
  name                  = "runs"
  storage_account_id    = azurerm_storage_account.ckpt.id
  container_access_type = "{access}"
  metadata              = {{ owner = "ml" }}
}}
"#
    )
}

#[test]
fn an_account_and_a_container_are_created_changed_and_destroyed() {
    let fake = Fake::start(0.3);
    let stack = fake.stack();
    stack.write(&stack_text("TLS1_2", "private"));
    let run = stack.apply();
    assert_eq!(run.code, 0, "{}", run.both());

    let account =
        fake.python_json("storage.storage_accounts.get_properties('data-rg', 'gantryckpt01')");
    assert_eq!(account["sku"]["name"], "Standard_ZRS");
    assert_eq!(account["kind"], "StorageV2");
    assert_eq!(account["is_hns_enabled"], true);
    assert_eq!(account["tags"]["purpose"], "checkpoints");
    assert_eq!(
        stack.state_attr("azurerm_storage_account.ckpt", "primary_blob_endpoint"),
        account["primary_endpoints"]["blob"]
    );
    let container =
        fake.python_json("storage.blob_containers.get('data-rg', 'gantryckpt01', 'runs')");
    assert_eq!(container["public_access"], "None");
    assert_eq!(container["metadata"]["owner"], "ml");
    assert_eq!(
        container["metadata"]["gantry_address"],
        "azurerm_storage_container.runs"
    );
    stack.assert_no_changes();

    stack.write(&stack_text("TLS1_1", "blob"));
    let run = stack.apply();
    assert_eq!(run.code, 0, "{}", run.both());
    let changed = fake.python_json(
        "[storage.storage_accounts.get_properties('data-rg', 'gantryckpt01').minimum_tls_version, storage.blob_containers.get('data-rg', 'gantryckpt01', 'runs').public_access]",
    );
    assert_eq!(changed, serde_json::json!(["TLS1_1", "Blob"]));
    stack.assert_no_changes();

    let run = stack.destroy();
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(
        fake.python("print(exists(lambda: resource.resource_groups.get('data-rg')))"),
        "False"
    );
}
