//! Vertex AI Workbench instances (`google_workbench_instance`, the Notebooks API v2): a
//! notebook VM with an L4 and a service account, read back by Google's client; labels in
//! place; a new machine type stops the VM, patches it and starts it again; destroyed.

use crate::support::Fake;

const NOTEBOOK: &str = r#"
resource "google_service_account" "notebook" {
  account_id = "notebook"
}

resource "google_workbench_instance" "nb" {
  name     = "research"
  location = "us-central1-a"
  labels   = { team = "ml" }

  gce_setup {
    machine_type = "g2-standard-8"

    accelerator_configs {
      type       = "NVIDIA_L4"
      core_count = 1
    }

    service_accounts {
      email = google_service_account.notebook.email
    }

    vm_image {
      project = "cloud-notebooks-managed"
      family  = "workbench-instances"
    }

    boot_disk {
      disk_size_gb = 150
      disk_type    = "PD_SSD"
    }

    metadata = { idle-timeout-seconds = "3600" }
  }
}

output "proxy" {
  value = google_workbench_instance.nb.proxy_uri
}
"#;

fn notebook(fake: &Fake) -> serde_json::Value {
    fake.python_json(
        "notebooks.projects().locations().instances().get(name=f'projects/{PROJECT}/locations/us-central1-a/instances/research').execute()",
    )
}

fn notebook_names(fake: &Fake) -> String {
    fake.python(
        "print(sorted(i['name'].rsplit('/', 1)[1] for i in notebooks.projects().locations().instances().list(parent=f'projects/{PROJECT}/locations/us-central1-a').execute().get('instances', [])))",
    )
}

#[test]
fn a_workbench_notebook_is_made_resized_through_a_stop_and_destroyed() {
    let fake = Fake::start(0.2);
    let stack = fake.stack();
    stack.write(NOTEBOOK);
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2, "{}", plan.both());
    assert!(
        plan.stdout.contains("g2-standard-8 on-demand"),
        "the plan prices the VM under the notebook:\n{}",
        plan.stdout
    );

    let run = stack.apply();
    let made = notebook(&fake);
    assert_eq!(made["state"], "ACTIVE");
    let setup = &made["gceSetup"];
    assert_eq!(setup["machineType"], "g2-standard-8");
    assert_eq!(setup["acceleratorConfigs"][0]["type"], "NVIDIA_L4");
    assert_eq!(
        setup["serviceAccounts"][0]["email"],
        "notebook@gantry-test.iam.gserviceaccount.com"
    );
    assert_eq!(setup["vmImage"]["family"], "workbench-instances");
    assert_eq!(setup["bootDisk"]["diskSizeGb"], "150");
    assert_eq!(made["labels"]["team"], "ml");
    for mark in ["gantry-stack", "gantry-address", "gantry-token"] {
        assert!(made["labels"].get(mark).is_some(), "{mark} missing: {made}");
    }
    let proxy = made["proxyUri"].as_str().expect("a proxy URI");
    assert!(
        run.stdout.contains(&format!("proxy = \"{proxy}\"")),
        "{}",
        run.stdout
    );
    stack.assert_no_changes();

    // A bigger machine: updated in place (the API takes it on a stopped VM).
    stack.write(
        &NOTEBOOK
            .replace("g2-standard-8", "g2-standard-16")
            .replace("{ team = \"ml\" }", "{ team = \"ml\", owner = \"ada\" }"),
    );
    let (_, plan) = stack.plan_code();
    assert!(
        plan.stdout
            .contains("google_workbench_instance.nb will be updated in-place"),
        "{}",
        plan.stdout
    );
    stack.apply();
    let changed = notebook(&fake);
    assert_eq!(changed["createTime"], made["createTime"], "not replaced");
    assert_eq!(changed["gceSetup"]["machineType"], "g2-standard-16");
    assert_eq!(changed["labels"]["owner"], "ada");
    assert_eq!(changed["state"], "ACTIVE", "started again after the resize");
    stack.assert_no_changes();

    stack.destroy();
    assert_eq!(notebook_names(&fake), "[]");
    assert!(stack.state_addresses().is_empty());
}

/// `desired_state`: a notebook made stopped is stopped (and priced as costing no compute);
/// set to ACTIVE it is started in place; stopped behind gantry's back (with Google's
/// client), the next plan starts it again.
#[test]
fn desired_state_stops_and_starts_the_notebook_and_puts_it_back() {
    let fake = Fake::start(0.1);
    let stack = fake.stack();
    let stopped = NOTEBOOK.replace(
        "  labels   = { team = \"ml\" }\n",
        "  labels   = { team = \"ml\" }\n  desired_state = \"STOPPED\"\n",
    );
    assert_ne!(stopped, NOTEBOOK);
    stack.write(&stopped);
    let plan = stack.gantry(&["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.both());
    assert!(
        plan.stdout.contains("# cost: $0.00/h"),
        "a stopped notebook runs no VM:\n{}",
        plan.stdout
    );
    stack.apply();
    assert_eq!(notebook(&fake)["state"], "STOPPED");
    stack.assert_no_changes();

    stack.write(NOTEBOOK);
    let plan = stack.gantry(&["plan"]);
    assert!(
        plan.stdout.contains("will be updated in-place")
            && plan.stdout.contains("desired_state")
            && plan.stdout.contains("g2-standard-8 on-demand"),
        "{}",
        plan.both()
    );
    stack.apply();
    assert_eq!(notebook(&fake)["state"], "ACTIVE");
    stack.assert_no_changes();

    // Stopped outside gantry: the plan shows it and the apply starts it again.
    fake.python(
        "op = notebooks.projects().locations().instances().stop(name=f'projects/{PROJECT}/locations/us-central1-a/instances/research', body={}).execute()\nfor _ in range(200):\n    if notebooks.projects().locations().operations().get(name=op['name']).execute().get('done'):\n        break\n    time.sleep(0.05)",
    );
    assert_eq!(notebook(&fake)["state"], "STOPPED");
    let drift = stack.gantry(&["plan", "--detailed-exitcode"]);
    assert_eq!(drift.code, 2, "{}", drift.both());
    stack.apply();
    assert_eq!(notebook(&fake)["state"], "ACTIVE");
    stack.assert_no_changes();
    stack.destroy();
    assert_eq!(notebook_names(&fake), "[]");
}
