//! IAM: a service account and the project roles it is granted, as the ML platform's
//! workloads need them. Grants are read back from the project's policy by Google's client;
//! other members' grants are never touched; a policy changed by someone else between
//! gantry's read and write is read again, not overwritten.

use crate::support::Fake;

const STACK: &str = r#"
data "google_project" "this" {}

resource "google_service_account" "trainer" {
  account_id   = "trainer-sa"
  display_name = "Trainer"
}

resource "google_project_iam_member" "storage" {
  project = data.google_project.this.project_id
  role    = "roles/storage.objectAdmin"
  member  = google_service_account.trainer.member
}

resource "google_project_iam_member" "logs" {
  project = data.google_project.this.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.trainer.member
}

output "number" {
  value = data.google_project.this.number
}

output "email" {
  value = google_service_account.trainer.email
}
"#;

fn policy(fake: &Fake) -> serde_json::Value {
    fake.python_json(
        "crm.projects().getIamPolicy(resource=f'projects/{PROJECT}', body={}).execute()",
    )
}

fn members_of(policy: &serde_json::Value, role: &str) -> Vec<String> {
    policy["bindings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["role"] == role)
        .flat_map(|b| b["members"].as_array().cloned().unwrap_or_default())
        .filter_map(|m| m.as_str().map(str::to_owned))
        .collect()
}

#[test]
fn a_service_account_is_granted_roles_beside_other_members_and_revoked_alone() {
    let fake = Fake::start(0.0);
    // Someone else's grant on a role the stack also grants.
    fake.python(
        "p = crm.projects().getIamPolicy(resource=f'projects/{PROJECT}', body={}).execute()\n\
         p['bindings'] = [{'role': 'roles/storage.objectAdmin', 'members': ['user:alice@example.com']}]\n\
         crm.projects().setIamPolicy(resource=f'projects/{PROJECT}', body={'policy': p}).execute()",
    );
    let stack = fake.stack();
    stack.write(STACK);
    let run = stack.apply();
    let email = "trainer-sa@gantry-test.iam.gserviceaccount.com";
    assert!(run.stdout.contains(email), "{}", run.stdout);
    let number = fake.python(
        "print(crm.projects().get(name=f'projects/{PROJECT}').execute()['name'].split('/')[1])",
    );
    assert!(
        run.stdout.contains(&format!("number = \"{number}\"")),
        "the project number from projects.get ({number}): {}",
        run.stdout
    );
    let sa = fake.python_json(&format!(
        "iam.projects().serviceAccounts().get(name=f'projects/{{PROJECT}}/serviceAccounts/{email}').execute()"
    ));
    assert_eq!(sa["displayName"], "Trainer");
    let member = format!("serviceAccount:{email}");
    let p = policy(&fake);
    assert_eq!(
        members_of(&p, "roles/storage.objectAdmin"),
        ["user:alice@example.com".to_owned(), member.clone()]
    );
    assert_eq!(
        members_of(&p, "roles/logging.logWriter"),
        std::slice::from_ref(&member)
    );
    stack.assert_no_changes();

    // The display name changes in place.
    stack.write(&STACK.replace("\"Trainer\"", "\"Trainer (prod)\""));
    let (_, plan) = stack.plan_code();
    assert!(
        plan.stdout
            .contains("google_service_account.trainer will be updated in-place"),
        "{}",
        plan.stdout
    );
    stack.apply();
    let sa = fake.python_json(&format!(
        "iam.projects().serviceAccounts().get(name=f'projects/{{PROJECT}}/serviceAccounts/{email}').execute()"
    ));
    assert_eq!(sa["displayName"], "Trainer (prod)");
    assert_eq!(
        sa["uniqueId"],
        stack.state_attr("google_service_account.trainer", "unique_id")
    );

    // A grant removed by hand is planned back.
    fake.python(
        "p = crm.projects().getIamPolicy(resource=f'projects/{PROJECT}', body={}).execute()\n\
         p['bindings'] = [b for b in p['bindings'] if b['role'] != 'roles/logging.logWriter']\n\
         crm.projects().setIamPolicy(resource=f'projects/{PROJECT}', body={'policy': p}).execute()",
    );
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2, "{}", plan.both());
    assert!(
        plan.stdout
            .contains("google_project_iam_member.logs will be created"),
        "{}",
        plan.stdout
    );
    stack.apply();
    assert_eq!(
        members_of(&policy(&fake), "roles/logging.logWriter"),
        [member]
    );

    stack.destroy();
    let p = policy(&fake);
    assert_eq!(
        members_of(&p, "roles/storage.objectAdmin"),
        ["user:alice@example.com"],
        "alice's grant is kept"
    );
    assert!(members_of(&p, "roles/logging.logWriter").is_empty());
    let left = fake.python(
        "print(len(iam.projects().serviceAccounts().list(name=f'projects/{PROJECT}').execute().get('accounts', [])))",
    );
    assert_eq!(left, "0");
}

/// The policy changes under gantry between its read and its write (the fake refuses the
/// first write as IAM does when the etag is stale): gantry reads again and writes, and
/// nobody's grant is lost.
#[test]
fn a_policy_changed_between_read_and_write_is_read_again() {
    let fake = Fake::start(0.0);
    fake.admin(
        "POST",
        "/_fake/faults",
        Some(serde_json::json!({"method": "cloudresourcemanager.projects.setIamPolicy", "kind": "conflict", "times": 2})),
    );
    let stack = fake.stack();
    stack.write(
        r#"
resource "google_project_iam_member" "viewer" {
  project = "gantry-test"
  role    = "roles/viewer"
  member  = "group:ml-team@example.com"
}
"#,
    );
    stack.apply();
    assert_eq!(
        members_of(&policy(&fake), "roles/viewer"),
        ["group:ml-team@example.com"]
    );
}

#[test]
fn a_bad_member_or_a_missing_account_is_refused_with_the_reason() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    stack.write(
        "resource \"google_project_iam_member\" \"x\" {\n  project = \"gantry-test\"\n  role = \"roles/viewer\"\n  member = \"alice@example.com\"\n}\n",
    );
    let plan = stack.gantry(&["plan"]);
    assert_eq!(plan.code, 1);
    assert!(
        plan.stderr.contains("must start with one of user:"),
        "{}",
        plan.both()
    );

    stack.write(
        "resource \"google_project_iam_member\" \"x\" {\n  project = \"gantry-test\"\n  role = \"roles/viewer\"\n  member = \"serviceAccount:ghost-sa@gantry-test.iam.gserviceaccount.com\"\n}\n",
    );
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("ghost-sa@gantry-test.iam.gserviceaccount.com does not exist"),
        "{}",
        run.both()
    );
    assert!(stack.state_addresses().is_empty());
}
