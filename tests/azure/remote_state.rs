//! `backend "azurerm"` with `use_azuread_auth = true`: state in Azurite over https (the
//! fake's test CA signs its certificate), the bearer tokens from the contract fake's Entra
//! token endpoint through the azurerm provider's credential arguments, Azurite checking
//! their issuer, audience and lifetime (`--oauth basic`). The other backend scenarios run
//! on Azurite with an account key and a SAS in tests/gcp/remote_state.rs; what is stored is
//! read back with azure-storage-blob.

use crate::support::{Fake, CLIENT_ID, CLIENT_SECRET, TENANT};

#[path = "../common/azurite.rs"]
mod azurite;
use azurite::{Azurite, Tls};

#[test]
fn state_kept_in_blob_storage_with_entra_id_tokens_round_trips() {
    let fake = Fake::start(0.0);
    let certs = fake.ca().parent().expect("cert dir").to_path_buf();
    let blob = Azurite::start_tls(Tls {
        cert: certs.join("server.pem"),
        key: certs.join("server-key.pem"),
        ca: fake.ca(),
    });
    blob.create_container("tfstate");
    let backend = format!(
        "terraform {{\n  backend \"azurerm\" {{\n    storage_account_name     = \"{account}\"\n    container_name           = \"tfstate\"\n    key                      = \"llm.tfstate\"\n    endpoint                 = \"{endpoint}\"\n    use_azuread_auth         = true\n    tenant_id                = \"{TENANT}\"\n    client_id                = \"{CLIENT_ID}\"\n    metadata_host            = \"127.0.0.1:{port}\"\n    use_cli                  = false\n    lock_stale_after_seconds = 5\n  }}\n}}\n",
        account = azurite::ACCOUNT,
        endpoint = blob.endpoint(),
        port = fake.port,
    );
    let body = "resource \"azurerm_resource_group\" \"rg\" {\n  name     = \"state-rg\"\n  location = \"eastus\"\n}\n";
    let stack = fake.stack();
    stack.write(&format!("{backend}\n{body}"));
    // The secret from the environment, as CI gives it.
    let secret = [("ARM_CLIENT_SECRET", CLIENT_SECRET)];
    let init = stack.gantry_env(&["init"], &secret);
    assert_eq!(init.code, 0, "{}", init.both());
    let apply = stack.gantry_env(&["apply", "--auto-approve"], &secret);
    assert_eq!(apply.code, 0, "{}", apply.both());
    assert!(!apply.both().contains(CLIENT_SECRET));

    // Read back with the account key through Microsoft's client: the state names the
    // group, and no lock or journal is left.
    let state: serde_json::Value =
        serde_json::from_str(&blob.blob("tfstate", "llm.tfstate").expect("the state blob"))
            .expect("state JSON");
    assert!(state.to_string().contains("state-rg"), "{state}");
    assert_eq!(blob.list("tfstate", ""), vec!["llm.tfstate".to_owned()]);
    let tokens = fake.admin("GET", "/_fake/state", None);
    assert!(
        tokens["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .any(|t| t["scope"] == "https://storage.azure.com/.default"),
        "no storage token was issued: {}",
        tokens["tokens"]
    );

    let plan = stack.gantry_env(&["plan", "--detailed-exitcode"], &secret);
    assert_eq!(plan.code, 0, "{}", plan.both());

    // Without a credential the Blob service is never reached with a made-up one: init says
    // what is missing.
    let refused = stack.gantry(&["init"]);
    assert_ne!(refused.code, 0, "{}", refused.both());
    assert!(
        refused.stderr.contains("no Azure credentials"),
        "{}",
        refused.both()
    );

    let destroy = stack.gantry_env(&["destroy", "--auto-approve"], &secret);
    assert_eq!(destroy.code, 0, "{}", destroy.both());
    assert_eq!(
        fake.python("print(resource.resource_groups.check_existence('state-rg'))"),
        "False"
    );
}
