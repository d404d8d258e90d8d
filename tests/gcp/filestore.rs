//! Filestore instances (`google_filestore_instance`) through Filestore's resource-oriented
//! API: made, read back by Google's client, grown and relabelled in place, replaced for a
//! new share name, destroyed; a share below its tier's minimum is refused at plan.

use crate::support::{block_on, op, planned, provider, Fake};
use gantry_provider::{Provider, Value};

const SHARE: &str = r#"
resource "google_filestore_instance" "data" {
  name        = "training-data"
  location    = "us-central1-a"
  tier        = "BASIC_SSD"
  description = "checkpoints"
  labels      = { team = "ml" }

  file_shares {
    name        = "share1"
    capacity_gb = 2560
  }

  networks {
    network = "default"
    modes   = ["MODE_IPV4"]
  }
}

output "address" {
  value = google_filestore_instance.data.networks[0].ip_addresses[0]
}
"#;

fn instance(fake: &Fake, name: &str) -> serde_json::Value {
    fake.python_json(&format!(
        "filestore.projects().locations().instances().get(name=f'projects/{{PROJECT}}/locations/us-central1-a/instances/{name}').execute()"
    ))
}

fn instance_names(fake: &Fake) -> String {
    fake.python(
        "print(sorted(i['name'].rsplit('/', 1)[1] for i in filestore.projects().locations().instances().list(parent=f'projects/{PROJECT}/locations/us-central1-a').execute().get('instances', [])))",
    )
}

#[test]
fn a_filestore_share_is_made_grown_in_place_replaced_and_destroyed() {
    let fake = Fake::start(0.2);
    let stack = fake.stack();
    stack.write(SHARE);
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2, "{}", plan.both());
    assert!(
        plan.stdout.contains("Filestore Basic SSD"),
        "the plan prices the share:\n{}",
        plan.stdout
    );

    let run = stack.apply();
    let made = instance(&fake, "training-data");
    assert_eq!(made["state"], "READY");
    assert_eq!(made["tier"], "BASIC_SSD");
    assert_eq!(made["fileShares"][0]["capacityGb"], "2560");
    assert_eq!(made["labels"]["team"], "ml");
    for mark in ["gantry-stack", "gantry-address", "gantry-token"] {
        assert!(made["labels"].get(mark).is_some(), "{mark} missing: {made}");
    }
    let address = made["networks"][0]["ipAddresses"][0]
        .as_str()
        .expect("an address")
        .to_owned();
    assert!(
        run.stdout.contains(&format!("address = \"{address}\"")),
        "{}",
        run.stdout
    );
    stack.assert_no_changes();

    // A bigger share and new labels: the same instance, patched.
    let grown = SHARE
        .replace("capacity_gb = 2560", "capacity_gb = 4096")
        .replace("{ team = \"ml\" }", "{ team = \"ml\", tier = \"hot\" }");
    stack.write(&grown);
    let (_, plan) = stack.plan_code();
    assert!(
        plan.stdout
            .contains("google_filestore_instance.data will be updated in-place"),
        "{}",
        plan.stdout
    );
    stack.apply();
    let changed = instance(&fake, "training-data");
    assert_eq!(changed["createTime"], made["createTime"], "not replaced");
    assert_eq!(changed["fileShares"][0]["capacityGb"], "4096");
    assert_eq!(changed["labels"]["tier"], "hot");
    assert_eq!(
        changed["labels"]["gantry-token"], made["labels"]["gantry-token"],
        "the create's marks are kept"
    );
    stack.assert_no_changes();

    // A new share name is a new instance.
    stack.write(&grown.replace("\"share1\"", "\"vol1\""));
    let (_, plan) = stack.plan_code();
    assert!(
        plan.stdout
            .contains("google_filestore_instance.data must be replaced"),
        "{}",
        plan.stdout
    );
    stack.apply();
    assert_eq!(
        instance(&fake, "training-data")["fileShares"][0]["name"],
        "vol1"
    );
    stack.assert_no_changes();

    stack.destroy();
    assert_eq!(instance_names(&fake), "[]");
    assert!(stack.state_addresses().is_empty());
}

#[test]
fn a_share_below_its_tiers_minimum_fails_the_plan() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    stack.write(&SHARE.replace("capacity_gb = 2560", "capacity_gb = 1024"));
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("below the 2560 GiB a BASIC_SSD share"),
        "{}",
        run.both()
    );
    assert_eq!(instance_names(&fake), "[]");
}

/// The create's answer lost: the instance of that name is this create's only when its
/// labels carry this create's stack, address and token.
#[test]
fn find_created_adopts_a_filestore_instance_only_by_its_labels() {
    let fake = Fake::start(0.0);
    block_on(async {
        let google = provider(&fake).await;
        let config = Value::map([
            ("name", Value::string("lost-answer")),
            ("location", Value::string("us-central1-a")),
            ("tier", Value::string("BASIC_HDD")),
            (
                "file_shares",
                Value::List(vec![Value::map([
                    ("name", Value::string("share1")),
                    ("capacity_gb", Value::Number(1024.0)),
                ])]),
            ),
            (
                "networks",
                Value::List(vec![Value::map([
                    ("network", Value::string("default")),
                    ("modes", Value::List(vec![Value::string("MODE_IPV4")])),
                ])]),
            ),
        ]);
        let token = "5a1d3c2a-8b7e-4c9d-a1f0-2e3d4c5b6a71";
        let ctx = op("stack-a", "google_filestore_instance.d", Some(token));
        let plan = planned(&google, "google_filestore_instance", &config);
        google
            .create(&ctx, "google_filestore_instance", &plan)
            .await
            .expect("create");
        let found = google
            .find_created(&ctx, "google_filestore_instance", token, &plan)
            .await
            .expect("ask");
        assert!(found.is_some(), "its own instance, by its labels");
        let other = op(
            "stack-b",
            "google_filestore_instance.d",
            Some("6b1d3c2a-8b7e-4c9d-a1f0-2e3d4c5b6a72"),
        );
        let found = google
            .find_created(
                &other,
                "google_filestore_instance",
                "6b1d3c2a-8b7e-4c9d-a1f0-2e3d4c5b6a72",
                &plan,
            )
            .await
            .expect("ask");
        assert!(found.is_none(), "another stack's instance is never adopted");
    });
}
