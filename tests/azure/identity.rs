//! Managed identities and role assignments: an identity made, a role granted to it by
//! name while the directory has not yet replicated the new principal (Azure answers
//! PrincipalNotFound for a while; gantry waits it out), read back through
//! azure-mgmt-msi and azure-mgmt-authorization, destroyed to nothing.

use crate::support::{Fake, SUBSCRIPTION};

const STACK: &str = r#"
resource "azurerm_resource_group" "main" {
  name     = "ident-rg"
  location = "eastus"
}

resource "azurerm_user_assigned_identity" "trainer" {
  name                = "trainer"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
}

resource "azurerm_role_assignment" "trainer_reads" {
  scope                = azurerm_resource_group.main.id
  role_definition_name = "Storage Blob Data Reader"
  principal_id         = azurerm_user_assigned_identity.trainer.principal_id
  principal_type       = "ServicePrincipal"
}
"#;

#[test]
fn a_role_is_granted_to_a_new_identity_once_the_directory_knows_it() {
    let fake = Fake::start(0.2);
    fake.admin(
        "POST",
        "/_fake/config",
        Some(serde_json::json!({"principal_replication_seconds": 3})),
    );
    let stack = fake.stack();
    stack.write(STACK);
    let run = stack.apply();
    assert_eq!(run.code, 0, "{}", run.both());

    let identity = fake.python_json("msi.user_assigned_identities.get('ident-rg', 'trainer')");
    let principal = identity["principal_id"]
        .as_str()
        .expect("principal id")
        .to_owned();
    assert_eq!(
        stack.state_attr("azurerm_user_assigned_identity.trainer", "principal_id"),
        principal.as_str()
    );
    assert_eq!(
        identity["tags"]["gantry-address"],
        "azurerm_user_assigned_identity.trainer"
    );

    let name = stack.state_attr("azurerm_role_assignment.trainer_reads", "name");
    let name = name.as_str().expect("assignment name");
    let assignment = fake.python_json(&format!(
        "auth.role_assignments.get(RG_ID('ident-rg'), {name:?})"
    ));
    assert_eq!(assignment["principal_id"], principal.as_str());
    // The built-in role's real id, looked up by its name.
    assert_eq!(
        assignment["role_definition_id"],
        format!("/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")
    );
    stack.assert_no_changes();

    let run = stack.destroy();
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(
        fake.python("print(exists(lambda: resource.resource_groups.get('ident-rg')))"),
        "False"
    );
}

#[test]
fn an_unknown_role_name_fails_with_what_to_write() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    stack.write(&STACK.replace("Storage Blob Data Reader", "Storage Blob Reader"));
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0);
    assert!(
        run.both().contains("no role named \"Storage Blob Reader\""),
        "{}",
        run.both()
    );
}
