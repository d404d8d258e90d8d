//! State encrypted under an Azure Key Vault key (`key_provider "azure_key_vault"`): the
//! data key wrapped by the vault once per run, unwrapped to read, a rotated key still
//! reading old states, a wrong key failing with the file untouched. The vault is the
//! contract fake's Key Vault keys data plane (tests/azure/fake/keyvault.py); its keys are
//! made, rotated and read with Microsoft's azure-keyvault-keys, not with gantry.

use crate::support::cli::Run;
use crate::support::{Fake, StackDir, CLIENT_ID, CLIENT_SECRET, TENANT};

/// `gantry ARGS` in `stack` with these variables set.
fn gantry(stack: &StackDir, args: &[&str], vars: &[(&str, String)]) -> Run {
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    stack.gantry_env(args, &vars)
}

/// The encryption block for key `key_name` of the fake's vault; `credentials` says how the
/// key provider authenticates (in the block, or from the ARM_* variables when empty).
fn encryption(fake: &Fake, key_name: &str, credentials: &str) -> String {
    format!(
        r#"key_provider "azure_key_vault" "team" {{
  vault_uri                 = "{base}"
  key_name                  = "{key_name}"
  verify_challenge_resource = false
{credentials}}}
method "aes_gcm" "team" {{
  keys = key_provider.azure_key_vault.team
}}
state {{
  method   = method.aes_gcm.team
  enforced = true
}}
"#,
        base = fake.base()
    )
}

fn block_credentials(fake: &Fake) -> String {
    format!(
        "  tenant_id     = \"{TENANT}\"\n  client_id     = \"{CLIENT_ID}\"\n  client_secret = \"{CLIENT_SECRET}\"\n  metadata_host = \"127.0.0.1:{}\"\n  use_cli       = false\n",
        fake.port
    )
}

/// Runs Python with azure-keyvault-keys' `keys` client on the fake's vault.
fn keys(fake: &Fake, script: &str) -> String {
    fake.python(&format!(
        "from azure.keyvault.keys import KeyClient\nkeys = KeyClient(BASE, Cred(), verify_challenge_resource=False, connection_verify=CA)\n{script}"
    ))
}

/// The key versions the vault used, per operation (`wrapkey`, `unwrapkey`).
fn operations(fake: &Fake, op: &str) -> Vec<String> {
    let state = fake.admin("GET", "/_fake/keyvault", None);
    state["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .filter(|o| o["op"] == op)
        .map(|o| o["version"].as_str().expect("version").to_owned())
        .collect()
}

const STACK: &str = r#"
resource "azurerm_resource_group" "rg" {
  name     = "sealed-rg"
  location = "eastus"
}
"#;

#[test]
fn state_sealed_under_a_key_vault_key_reads_back_rotates_and_refuses_a_wrong_key() {
    let fake = Fake::start(0.0);
    let first = keys(
        &fake,
        "print(keys.create_rsa_key('state', size=2048).properties.version)",
    );
    let stack = fake.stack();
    stack.write(STACK);
    let env = [(
        "GANTRY_ENCRYPTION",
        encryption(&fake, "state", &block_credentials(&fake)),
    )];
    let run = gantry(&stack, &["apply", "--auto-approve"], &env);
    assert_eq!(run.code, 0, "{}", run.both());
    let state_path = stack.path().join(".gantry/state.json");
    let sealed = std::fs::read_to_string(&state_path).expect("state");
    assert!(sealed.starts_with("{\"gantry_encrypted\":1,"), "{sealed}");
    assert!(!sealed.contains("sealed-rg"), "names in the clear");
    assert!(
        !run.both().contains(CLIENT_SECRET),
        "the client secret was printed"
    );
    // One data key for the whole run, wrapped by the key's newest version.
    assert_eq!(operations(&fake, "wrapkey"), vec![first.clone()]);

    // Read back: the vault unwraps the data key; nothing to change.
    let plan = gantry(&stack, &["plan", "--detailed-exitcode"], &env);
    assert_eq!(plan.code, 0, "{}", plan.both());
    assert!(operations(&fake, "unwrapkey").contains(&first));

    // The key rotates (a new version, made with Microsoft's client): the old state still
    // reads, through the version that wrapped it, and the next write uses the new one.
    let second = keys(
        &fake,
        "print(keys.create_rsa_key('state', size=2048).properties.version)",
    );
    assert_ne!(first, second);
    stack.write(&format!(
        "{STACK}\nresource \"azurerm_resource_group\" \"more\" {{\n  name     = \"sealed-more\"\n  location = \"eastus\"\n}}\n"
    ));
    let run = gantry(&stack, &["apply", "--auto-approve"], &env);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(
        operations(&fake, "wrapkey").last(),
        Some(&second),
        "the rotated key's new version wraps new states"
    );
    let rewrapped = std::fs::read_to_string(&state_path).expect("state");
    assert_ne!(rewrapped, sealed);

    // Credentials from the ARM_* variables alone, as in CI.
    let from_env = [
        ("GANTRY_ENCRYPTION", encryption(&fake, "state", "")),
        ("ARM_TENANT_ID", TENANT.to_owned()),
        ("ARM_CLIENT_ID", CLIENT_ID.to_owned()),
        ("ARM_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("ARM_METADATA_HOSTNAME", format!("127.0.0.1:{}", fake.port)),
        ("ARM_USE_CLI", "false".to_owned()),
    ];
    let plan = gantry(&stack, &["plan", "--detailed-exitcode"], &from_env);
    assert_eq!(plan.code, 0, "{}", plan.both());

    // Another key of the vault cannot read it, and says which key wrapped it; the file
    // is left as it was.
    keys(&fake, "keys.create_rsa_key('other', size=2048)");
    let wrong = [(
        "GANTRY_ENCRYPTION",
        encryption(&fake, "other", &block_credentials(&fake)),
    )];
    let refused = gantry(&stack, &["plan"], &wrong);
    assert_ne!(refused.code, 0, "{}", refused.both());
    assert!(
        refused
            .stderr
            .contains("not by a version of the key `other`"),
        "{}",
        refused.both()
    );
    assert_eq!(
        std::fs::read_to_string(&state_path).expect("state"),
        rewrapped,
        "a failed read changed the state"
    );

    // A key the vault does not have fails the apply before it plans anything, naming the
    // key and the vault's answer; nothing is created in the cloud.
    let missing = [(
        "GANTRY_ENCRYPTION",
        encryption(&fake, "missing", &block_credentials(&fake)),
    )];
    let fresh = fake.stack();
    fresh.write("resource \"azurerm_resource_group\" \"rg\" {\n  name     = \"never-made\"\n  location = \"eastus\"\n}\n");
    let failed = gantry(&fresh, &["apply", "--auto-approve"], &missing);
    assert_ne!(failed.code, 0, "{}", failed.both());
    assert!(
        failed
            .stderr
            .contains("Key Vault wrapKey with key `missing`")
            && failed.stderr.contains("KeyNotFound")
            && !failed.both().contains("Creating..."),
        "{}",
        failed.both()
    );
    assert_eq!(
        fake.python("print(resource.resource_groups.check_existence('never-made'))"),
        "False"
    );

    let destroyed = gantry(&stack, &["destroy", "--auto-approve"], &env);
    assert_eq!(destroyed.code, 0, "{}", destroyed.both());
}

#[test]
fn an_azure_key_vault_key_provider_written_wrong_is_refused_with_what_to_do() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    stack.write(STACK);
    for (block, says) in [
        (
            encryption(&fake, "state", "  client_secrt = \"x\"\n"),
            "unsupported argument `client_secrt`",
        ),
        (
            encryption(&fake, "state", "").replace(&fake.base(), "http://vault.example"),
            "must be an https URL",
        ),
        (
            encryption(&fake, "state", "  algorithm = \"A256KW\"\n"),
            "`algorithm` must be one of RSA-OAEP-256",
        ),
        (
            encryption(&fake, "state", "").replace("  key_name                  = \"state\"\n", ""),
            "needs `key_name`",
        ),
    ] {
        let run = gantry(&stack, &["plan"], &[("GANTRY_ENCRYPTION", block.clone())]);
        assert_ne!(run.code, 0, "{block}\n{}", run.both());
        assert!(run.stderr.contains(says), "{block}\n{}", run.both());
    }
}
