//! Key vaults and soft delete: Azure keeps a deleted vault (its name taken) until it is
//! purged. With azurerm's default `purge_soft_delete_on_destroy = true`, a destroy purges
//! it, and the name can be used again; with it off the vault stays soft-deleted, and making
//! it again recovers it (azurerm's default `recover_soft_deleted_key_vaults = true`) or,
//! with that off, is refused with what to do. Read back with azure-mgmt-keyvault.

use crate::support::Fake;

fn vault_stack(fake: &Fake, purge: bool, protect: bool) -> String {
    vault_stack_recovering(fake, purge, protect, true)
}

fn vault_stack_recovering(fake: &Fake, purge: bool, protect: bool, recover: bool) -> String {
    format!(
        r#"
provider "azurerm" {{
{settings}  features {{
    key_vault {{
      purge_soft_delete_on_destroy    = {purge}
      recover_soft_deleted_key_vaults = {recover}
    }}
  }}
}}

data "azurerm_client_config" "current" {{}}

resource "azurerm_resource_group" "rg" {{
  name     = "kv-rg"
  location = "eastus"
}}

resource "azurerm_key_vault" "kv" {{
  name                       = "gantry-kv-test"
  resource_group_name        = azurerm_resource_group.rg.name
  location                   = azurerm_resource_group.rg.location
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  rbac_authorization_enabled = true
  purge_protection_enabled   = {protect}
  soft_delete_retention_days = 7
}}
"#,
        settings = fake.provider_settings()
    )
}

fn deleted_vaults(fake: &Fake) -> String {
    fake.python("print(sorted(v.name for v in keyvault.vaults.list_deleted()))")
}

#[test]
fn destroy_purges_the_vault_by_default_and_leaves_it_soft_deleted_when_asked() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    stack.write_raw(&vault_stack(&fake, true, false));
    stack.apply();
    stack.destroy();
    assert_eq!(deleted_vaults(&fake), "[]", "purged on destroy");
    // The name is free again.
    stack.apply();
    assert_eq!(
        fake.python("print(keyvault.vaults.get('kv-rg', 'gantry-kv-test').properties.soft_delete_retention_in_days)"),
        "7"
    );

    // Without the purge, the vault stays soft-deleted and holds its name: with
    // `recover_soft_deleted_key_vaults = false` the create is refused before any PUT,
    // saying how to free the name.
    stack.write_raw(&vault_stack_recovering(&fake, false, false, false));
    stack.destroy();
    assert_eq!(deleted_vaults(&fake), "['gantry-kv-test']");
    let again = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(again.code, 0, "{}", again.both());
    assert!(
        again
            .both()
            .contains("recover_soft_deleted_key_vaults = false")
            && again
                .both()
                .contains("az keyvault purge --name gantry-kv-test"),
        "{}",
        again.both()
    );
    assert_eq!(
        fake.python("print(exists(lambda: keyvault.vaults.get('kv-rg', 'gantry-kv-test')))"),
        "False"
    );

    // azurerm's default recovers it: the same name is a vault again, nothing deleted left.
    stack.write_raw(&vault_stack(&fake, false, false));
    stack.apply();
    assert_eq!(deleted_vaults(&fake), "[]");
    assert_eq!(
        fake.python("print(keyvault.vaults.get('kv-rg', 'gantry-kv-test').properties.soft_delete_retention_in_days)"),
        "7"
    );
    stack.assert_no_changes();
}

#[test]
fn a_purge_protected_vault_is_left_soft_deleted_by_destroy() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    stack.write_raw(&vault_stack(&fake, true, true));
    stack.apply();
    // Purge protection forbids the purge: destroy deletes the vault and does not ask.
    stack.destroy();
    assert_eq!(deleted_vaults(&fake), "['gantry-kv-test']");
    assert_eq!(
        fake.python("print(keyvault.vaults.get_deleted('gantry-kv-test', 'eastus').properties.purge_protection_enabled)"),
        "True"
    );
}
