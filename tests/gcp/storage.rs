//! Cloud Storage buckets (`google_storage_bucket`) against fake-gcs-server, the Cloud
//! Storage emulator, read back by google-api-python-client: made, versioning switched in
//! place, a bucket with objects kept unless `force_destroy`, emptied and destroyed; a name
//! someone else holds is a conflict and never adopted. (The emulator drops labels,
//! lifecycle rules and uniform access: the configurations here leave them unset.)

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
