//! `key_provider "gcp_kms"`: state sealed with a data key wrapped by Cloud KMS, against the
//! contract fake's Cloud KMS (cloudkms v1: key rings, crypto keys, `:encrypt`, `:decrypt`).
//! The wrapped data key in the state is opened by google-api-python-client's KMS client,
//! to show it is Cloud KMS's ciphertext and not gantry's own.

use crate::support::{Fake, PROJECT};

const KEY: &str = "projects/gantry-test/locations/global/keyRings/state/cryptoKeys/tfstate";

fn make_key(fake: &Fake) {
    fake.python_json(&format!(
        "(lambda kms: kms.projects().locations().keyRings().cryptoKeys().create(parent=kms.projects().locations().keyRings().create(parent='projects/{PROJECT}/locations/global', keyRingId='state', body={{}}).execute()['name'], cryptoKeyId='tfstate', body={{'purpose': 'ENCRYPT_DECRYPT'}}).execute()['name'])(discovery.build('cloudkms', 'v1', static_discovery=True, cache_discovery=False, credentials=Credentials(token='fake-token'), client_options={{'api_endpoint': '{}/cloudkms/'}}))",
        fake.base()
    ));
}

fn encryption(fake: &Fake, key: &str) -> String {
    format!(
        "terraform {{\n  encryption {{\n    key_provider \"gcp_kms\" \"k\" {{\n      kms_encryption_key  = \"{key}\"\n      key_length          = 32\n      access_token        = \"fake-token\"\n      kms_custom_endpoint = \"{}/cloudkms\"\n    }}\n    method \"aes_gcm\" \"k\" {{\n      keys = key_provider.gcp_kms.k\n    }}\n    state {{\n      method   = method.aes_gcm.k\n      enforced = true\n    }}\n  }}\n}}\n",
        fake.base()
    )
}

const NETWORKS: &str = "resource \"google_compute_network\" \"n\" {\n  count                   = 2\n  name                    = \"sealed-${count.index}\"\n  auto_create_subnetworks = false\n}\n";

#[test]
fn state_sealed_with_a_cloud_kms_wrapped_key_reads_back_and_fails_clearly_without_kms() {
    let fake = Fake::start(0.1);
    make_key(&fake);
    let stack = fake.stack();
    stack.write(&format!("{}\n{NETWORKS}", encryption(&fake, KEY)));
    stack.apply();
    let path = stack.path().join(".gantry/state.json");
    let sealed = std::fs::read(&path).expect("state");
    let envelope: serde_json::Value = serde_json::from_slice(&sealed).expect("envelope");
    assert_eq!(envelope["key_provider"], "gcp_kms.k");
    let text = String::from_utf8_lossy(&sealed);
    assert!(!text.contains("sealed-0"), "names in the clear: {text}");

    // Google's own client unwraps the stored data key with the same Cloud KMS key: a
    // 256-bit key that Cloud KMS wrapped.
    let material = envelope["key_material"].as_str().expect("key material");
    let length = fake.python_json(&format!(
        "len(__import__('base64').b64decode(discovery.build('cloudkms', 'v1', static_discovery=True, cache_discovery=False, credentials=Credentials(token='fake-token'), client_options={{'api_endpoint': '{}/cloudkms/'}}).projects().locations().keyRings().cryptoKeys().decrypt(name={KEY:?}, body={{'ciphertext': {material:?}}}).execute()['plaintext']))",
        fake.base()
    ));
    assert_eq!(length, 32);
    stack.assert_no_changes();

    // Cloud KMS refuses to unwrap (the caller lost `cloudkms.cryptoKeyVersions.useToDecrypt`):
    // a clear error naming the call and the key, the file as it was.
    fake.admin(
        "POST",
        "/_fake/faults",
        Some(serde_json::json!({
            "method": "cloudkms.projects.locations.keyRings.cryptoKeys.decrypt",
            "kind": "permission",
            "permission": "cloudkms.cryptoKeyVersions.useToDecrypt",
            "resource": KEY,
        })),
    );
    let refused = stack.gantry(&["plan"]);
    assert_ne!(refused.code, 0, "{}", refused.both());
    assert!(
        refused.stderr.contains("cryptoKeys.decrypt")
            && refused
                .stderr
                .contains("cloudkms.cryptoKeyVersions.useToDecrypt"),
        "{}",
        refused.both()
    );
    assert_eq!(std::fs::read(&path).expect("state"), sealed);
    fake.admin("DELETE", "/_fake/faults", None);

    // Another key cannot open what this one wrapped.
    fake.python_json(&format!(
        "discovery.build('cloudkms', 'v1', static_discovery=True, cache_discovery=False, credentials=Credentials(token='fake-token'), client_options={{'api_endpoint': '{}/cloudkms/'}}).projects().locations().keyRings().cryptoKeys().create(parent='projects/{PROJECT}/locations/global/keyRings/state', cryptoKeyId='other', body={{'purpose': 'ENCRYPT_DECRYPT'}}).execute()['name']",
        fake.base()
    ));
    let other = KEY.replace("tfstate", "other");
    stack.write(&format!("{}\n{NETWORKS}", encryption(&fake, &other)));
    let wrong = stack.gantry(&["plan"]);
    assert_ne!(wrong.code, 0, "{}", wrong.both());
    assert!(
        wrong.stderr.contains("Decryption failed"),
        "{}",
        wrong.both()
    );
    assert_eq!(std::fs::read(&path).expect("state"), sealed);

    stack.write(&format!("{}\n{NETWORKS}", encryption(&fake, KEY)));
    stack.destroy();
}

#[test]
fn a_gcp_kms_key_provider_written_wrong_is_refused_before_anything_runs() {
    let fake = Fake::start(0.1);
    let stack = fake.stack();
    for (broken, says) in [
        (
            encryption(&fake, "projects/gantry-test/keyRings/state"),
            "must be a CryptoKey's name",
        ),
        (
            encryption(&fake, KEY).replace("key_length          = 32", "key_length = 16"),
            "`key_length` must be 32",
        ),
        (
            encryption(&fake, KEY).replace("access_token", "acess_token"),
            "unsupported argument `acess_token`",
        ),
    ] {
        stack.write(&format!("{broken}\n{NETWORKS}"));
        let run = stack.gantry(&["plan"]);
        assert_ne!(run.code, 0, "{}", run.both());
        assert!(run.stderr.contains(says), "{says}:\n{}", run.both());
    }
}
