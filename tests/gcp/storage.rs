//! Cloud Storage buckets (`google_storage_bucket`) against fake-gcs-server, the Cloud
//! Storage emulator, read back by google-api-python-client: made, versioning switched in
//! place, a bucket with objects kept unless `force_destroy`, emptied and destroyed; a name
//! someone else holds is a conflict and never adopted. (The emulator drops labels,
//! lifecycle rules and uniform access: the configurations here leave them unset, and
//! `full_fields` runs those against the contract fake's JSON API.)

use crate::gcs_emulator::Emulator;

const BUCKET: &str = r#"
resource "google_storage_bucket" "data" {
  name          = "gantry-test-datasets"
  location      = "us-central1"
  storage_class = "STANDARD"

  versioning {
    enabled = true
  }
}

output "url" {
  value = google_storage_bucket.data.url
}
"#;

fn bucket(gcs: &Emulator, name: &str) -> serde_json::Value {
    gcs.python_json(&format!("storage.buckets().get(bucket='{name}').execute()"))
}

fn buckets(gcs: &Emulator) -> String {
    gcs.python(
        "print(sorted(b['name'] for b in storage.buckets().list(project=PROJECT).execute().get('items', [])))",
    )
}

#[test]
fn a_bucket_is_made_changed_in_place_and_destroyed_only_when_empty_or_forced() {
    let gcs = Emulator::start();
    let stack = gcs.stack();
    stack.write(BUCKET);
    let run = stack.apply();
    assert!(
        run.stdout.contains("url = \"gs://gantry-test-datasets\""),
        "{}",
        run.stdout
    );
    let made = bucket(&gcs, "gantry-test-datasets");
    assert_eq!(made["location"], "US-CENTRAL1");
    assert_eq!(made["storageClass"], "STANDARD");
    assert_eq!(made["versioning"]["enabled"], true);
    assert_eq!(
        stack.state_attr("google_storage_bucket.data", "location"),
        "us-central1",
        "the location as configured, though the API answers in upper case"
    );
    stack.assert_no_changes();

    // Versioning off: patched in place, the same bucket.
    stack.write(&BUCKET.replace("enabled = true", "enabled = false"));
    let (_, plan) = stack.plan_code();
    assert!(
        plan.stdout
            .contains("google_storage_bucket.data will be updated in-place"),
        "{}",
        plan.stdout
    );
    stack.apply();
    let changed = bucket(&gcs, "gantry-test-datasets");
    assert_eq!(changed["versioning"]["enabled"], false);
    assert_eq!(changed["timeCreated"], made["timeCreated"], "not replaced");
    stack.assert_no_changes();

    // A checkpoint in the bucket: a destroy keeps the bucket and says what to do.
    gcs.upload("gantry-test-datasets", "ckpt/step 100.pt", "weights");
    assert_eq!(
        gcs.python(
            "print([o['name'] for o in storage.objects().list(bucket='gantry-test-datasets').execute()['items']])"
        ),
        "['ckpt/step 100.pt']"
    );
    let refused = stack.gantry(&["destroy", "--auto-approve"]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("force_destroy = true"),
        "{}",
        refused.both()
    );
    assert_eq!(buckets(&gcs), "['gantry-test-datasets']");
    assert_eq!(
        stack.state_addresses(),
        vec!["google_storage_bucket.data".to_owned()],
        "a refused destroy keeps the bucket in state"
    );

    // force_destroy: the objects go first, then the bucket.
    stack.write(&BUCKET.replace(
        "  storage_class = \"STANDARD\"\n",
        "  storage_class = \"STANDARD\"\n  force_destroy = true\n",
    ));
    stack.apply();
    stack.destroy();
    assert_eq!(buckets(&gcs), "[]");
    assert!(stack.state_addresses().is_empty());
}

/// Bucket names are global: a bucket of that name made by someone else is a conflict, and
/// gantry never takes it over (it carries none of this stack's marks).
#[test]
fn a_bucket_name_someone_else_holds_is_a_conflict_and_not_adopted() {
    let gcs = Emulator::start();
    gcs.python(
        "storage.buckets().insert(project=PROJECT, body={'name': 'gantry-test-datasets'}).execute()",
    );
    let theirs = bucket(&gcs, "gantry-test-datasets");
    let stack = gcs.stack();
    stack.write(BUCKET);
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("already exists"), "{}", run.both());
    assert!(stack.state_addresses().is_empty(), "nothing adopted");
    let after = bucket(&gcs, "gantry-test-datasets");
    assert_eq!(
        after["timeCreated"], theirs["timeCreated"],
        "their bucket, untouched"
    );
    assert_eq!(
        after["versioning"], theirs["versioning"],
        "not changed to ours"
    );
}

/// What the emulator drops, against the contract fake's Cloud Storage JSON API: labels
/// (added and removed in place, the create's marks kept), uniform access, public access
/// prevention and lifecycle rules, all read back by Google's client; and a bucket whose
/// create answer was lost is adopted only by its labels.
mod full_fields {
    use crate::support::{block_on, op, planned, provider, Fake};
    use gantry_provider::{Provider, Value};

    const BUCKET: &str = r#"
resource "google_storage_bucket" "data" {
  name                        = "gantry-test-checkpoints"
  location                    = "us-west4"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = { team = "ml", stage = "dev" }

  lifecycle_rule {
    action {
      type = "Delete"
    }
    condition {
      with_state         = "ARCHIVED"
      num_newer_versions = 3
    }
  }
}
"#;

    fn bucket(fake: &Fake) -> serde_json::Value {
        fake.python_json("storage.buckets().get(bucket='gantry-test-checkpoints').execute()")
    }

    #[test]
    fn labels_access_and_lifecycle_are_made_changed_in_place_and_read_back() {
        let fake = Fake::start(0.0);
        let stack = fake.stack_with(&format!(
            "storage_custom_endpoint = \"{}/storage/storage/v1/\"",
            fake.base()
        ));
        stack.write(BUCKET);
        stack.apply();
        let made = bucket(&fake);
        assert_eq!(made["location"], "US-WEST4");
        assert_eq!(
            made["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"],
            true
        );
        assert_eq!(
            made["iamConfiguration"]["publicAccessPrevention"],
            "enforced"
        );
        assert_eq!(made["lifecycle"]["rule"][0]["condition"]["isLive"], false);
        assert_eq!(
            made["lifecycle"]["rule"][0]["condition"]["numNewerVersions"],
            3
        );
        assert_eq!(made["labels"]["stage"], "dev");
        assert!(made["labels"].get("gantry-token").is_some(), "{made}");
        stack.assert_no_changes();

        // A label removed, one added, a rule changed: one patch, the same bucket.
        stack.write(
            &BUCKET
                .replace(
                    "{ team = \"ml\", stage = \"dev\" }",
                    "{ team = \"ml\", run = \"r9\" }",
                )
                .replace("num_newer_versions = 3", "num_newer_versions = 5"),
        );
        let (_, plan) = stack.plan_code();
        assert!(
            plan.stdout
                .contains("google_storage_bucket.data will be updated in-place"),
            "{}",
            plan.stdout
        );
        stack.apply();
        let changed = bucket(&fake);
        assert_eq!(changed["timeCreated"], made["timeCreated"], "not replaced");
        assert!(changed["labels"].get("stage").is_none(), "{changed}");
        assert_eq!(changed["labels"]["run"], "r9");
        assert_eq!(
            changed["labels"]["gantry-token"], made["labels"]["gantry-token"],
            "the create's marks are kept"
        );
        assert_eq!(
            changed["lifecycle"]["rule"][0]["condition"]["numNewerVersions"],
            5
        );
        stack.assert_no_changes();
        stack.destroy();
        assert_eq!(
            fake.python(
                "print(storage.buckets().list(project=PROJECT).execute().get('items', []))"
            ),
            "[]"
        );
    }

    #[test]
    fn find_created_adopts_a_bucket_only_by_its_labels() {
        let fake = Fake::start(0.0);
        block_on(async {
            let google = provider(&fake).await;
            let config = Value::map([
                ("name", Value::string("gantry-test-lost-answer")),
                ("location", Value::string("us-central1")),
            ]);
            let token = "9a1d3c2a-8b7e-4c9d-a1f0-2e3d4c5b6a75";
            let ctx = op("stack-a", "google_storage_bucket.b", Some(token));
            let plan = planned(&google, "google_storage_bucket", &config);
            google
                .create(&ctx, "google_storage_bucket", &plan)
                .await
                .expect("create");
            let found = google
                .find_created(&ctx, "google_storage_bucket", token, &plan)
                .await
                .expect("ask");
            assert!(found.is_some(), "its own bucket, by its labels");
            let other_token = "0b1d3c2a-8b7e-4c9d-a1f0-2e3d4c5b6a76";
            let other = op("stack-a", "google_storage_bucket.b", Some(other_token));
            let found = google
                .find_created(&other, "google_storage_bucket", other_token, &plan)
                .await
                .expect("ask");
            assert!(found.is_none(), "another create's bucket is never adopted");
        });
    }
}
