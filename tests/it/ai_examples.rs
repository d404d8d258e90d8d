//! The AI examples (examples/llm-training-aws, examples/inference-aws,
//! examples/llm-training-gcp) and the stack
//! modules they use, offline under `--sim`: they validate, plan with per-resource costs and
//! a cost summary, stay within their budgets, apply, plan clean and destroy; the modules'
//! validation rules reject what AWS would.

use crate::support::{gantry, repo_root};
use std::path::{Path, PathBuf};

/// A copy of the repository's `examples/NAME`, alone in an empty temporary directory outside
/// the repository (as a user who copies an example gets it): its modules come from the
/// ones shipped in the binary (`source = "gantry/aws/..."`).
struct Example {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

fn example(name: &str) -> Example {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path().join(name);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let src = repo_root().join("examples").join(name);
    for entry in std::fs::read_dir(&src).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.extension().and_then(|e| e.to_str()) == Some("hcl") {
            let file = path.file_name().unwrap_or_else(|| panic!("file name"));
            std::fs::copy(&path, dir.join(file)).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    Example { _tmp: tmp, dir }
}

/// A root stack calling the modules through `stacks/` next to it (a link to the repo's).
fn root_stack(body: &str) -> Example {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path().join("root");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(repo_root().join("stacks"), tmp.path().join("stacks"))
        .unwrap_or_else(|e| panic!("{e}"));
    let provider = "provider \"aws\" {\n  region = \"us-east-1\"\n}\n";
    std::fs::write(dir.join("main.hcl"), format!("{provider}{body}"))
        .unwrap_or_else(|e| panic!("{e}"));
    Example { _tmp: tmp, dir }
}

fn run_ok(dir: &Path, args: &[&str]) -> String {
    let run = gantry(dir, args);
    assert_eq!(run.code, 0, "gantry {args:?}:\n{}", run.transcript());
    format!("{}{}", run.stdout, run.stderr)
}

/// validate, plan (costs shown), apply, a clean plan, destroy, nothing in state.
fn whole_run(name: &str, plan_needles: &[&str]) {
    let ex = example(name);
    let dir = ex.dir.as_path();
    run_ok(dir, &["validate", "."]);
    let plan = run_ok(dir, &["plan", "--sim", "."]);
    for needle in plan_needles {
        assert!(plan.contains(needle), "plan lacks {needle:?}:\n{plan}");
    }
    run_ok(dir, &["apply", "--sim", "--auto-approve", "."]);
    let again = gantry(dir, &["plan", "--sim", "--detailed-exitcode", "."]);
    assert_eq!(
        again.code,
        0,
        "not clean after apply:\n{}",
        again.transcript()
    );
    run_ok(dir, &["destroy", "--sim", "--auto-approve", "."]);
    let list = run_ok(dir, &["state", "list", "--dir", ".", "--sim"]);
    // Data sources read during apply are forgotten by a whole destroy too.
    assert!(list.trim().is_empty(), "left in state:\n{list}");
}

/// The cost lines of a plan: each priced resource's header with its `# cost:` line, then
/// the summary; everything else (ids, attribute diffs) is left out of the snapshot.
fn cost_lines(plan: &str) -> String {
    let lines: Vec<&str> = plan.lines().collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("# cost:") {
            if let Some(header) = i.checked_sub(1).and_then(|h| lines.get(h)) {
                out.push_str(header);
                out.push('\n');
            }
            out.push_str(line);
            out.push('\n');
        } else if line.starts_with("Plan:")
            || line.starts_with("Cost:")
            || line.starts_with("Usage-based")
        {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn example_plans_show_per_resource_and_total_cost() {
    for name in ["llm-training-aws", "inference-aws"] {
        let ex = example(name);
        let plan = run_ok(&ex.dir, &["plan", "--sim", "."]);
        insta::assert_snapshot!(format!("cost_{name}"), cost_lines(&plan));
    }
}

#[test]
fn llm_training_example_plans_with_costs_applies_and_destroys_under_sim() {
    whole_run(
        "llm-training-aws",
        &[
            "# cost:",
            "Cost:",
            "module.cluster.aws_eks_node_group.gpu will be created",
            "instance_types  = [\"p5.48xlarge\"]",
            "Lustre PERSISTENT_2",
            "NAT gateway",
            "gpus = 32",
        ],
    );
}

#[test]
fn inference_example_plans_with_costs_applies_and_destroys_under_sim() {
    whole_run(
        "inference-aws",
        &[
            "# cost:",
            "Cost:",
            "instance_types  = [\"g6.xlarge\"]",
            "EKS control plane",
            "instance_type = \"g6.xlarge\"",
        ],
    );
}

/// The node group's price is in the plan: four p5.48xlarge on demand.
#[test]
fn llm_training_plan_prices_the_gpu_node_group() {
    let ex = example("llm-training-aws");
    let plan = run_ok(&ex.dir, &["plan", "--sim", "."]);
    let line = plan
        .lines()
        .skip_while(|l| !l.contains("module.cluster.aws_eks_node_group.gpu will be created"))
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    assert!(
        line.contains("# cost:") && line.contains("4 x p5.48xlarge on-demand in us-east-1"),
        "node group not priced: {line:?}\n{plan}"
    );
}

/// Ten p5.48xlarge nodes ($550/h) break the example's $500/h budget.
#[test]
fn llm_training_budget_stops_a_plan_over_500_an_hour() {
    let ex = example("llm-training-aws");
    let run = gantry(&ex.dir, &["plan", "--sim", "--var", "nodes=10", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("over its budget of $500.00/h"),
        "{}",
        run.transcript()
    );
}

/// The TPU example: network, service account and grants, two v5e slices priced by their
/// chips, within its budget; worker addresses per host after apply.
#[test]
fn llm_training_gcp_example_plans_with_costs_applies_and_destroys_under_sim() {
    whole_run(
        "llm-training-gcp",
        &[
            "module.tpu.google_tpu_v2_vm.slice[\"llm-train-0\"] will be created",
            "# cost: $19.20/h (~$14,016/month): v5litepod-16 on-demand in us-west4",
            "module.network.google_compute_router_nat.egress[0] will be created",
            "google_project_iam_member.workers[\"roles/storage.objectAdmin\"] will be created",
            "# cost: $1.05/h (~$768/month): 2560 GiB, Filestore Basic SSD",
            "module.notebook.google_workbench_instance.this will be created",
            "Budget: within $60.00/h.",
        ],
    );
    let ex = example("llm-training-gcp");
    let applied = run_ok(&ex.dir, &["apply", "--sim", "--auto-approve", "."]);
    assert!(
        applied.contains("slices = \"2 x v5litepod-16 (4x4) in us-west4-a\""),
        "{applied}"
    );
    assert!(
        applied.contains(
            "service_account = \"llm-train-workers@my-ml-project.iam.gserviceaccount.com\""
        ),
        "{applied}"
    );
    // Four hosts per 16-chip slice.
    assert!(applied.contains("10.130.0.13"), "{applied}");
    // The training storage and the notebook.
    assert!(
        applied.contains("bucket = \"gs://my-ml-project-llm-train-data\""),
        "{applied}"
    );
    assert!(applied.contains(":/share1\""), "{applied}");
    assert!(
        applied.contains("notebooks.googleusercontent.com"),
        "{applied}"
    );
}

#[test]
fn inference_gcp_example_prices_the_autoscaled_l4_pool_and_applies_under_sim() {
    whole_run(
        "inference-gcp",
        &[
            "module.gke.google_container_cluster.this will be created",
            "# cost: $0.10/h (~$73/month): GKE cluster management fee",
            "# cost: $0.71/h (~$516/month): g2-standard-4 on-demand in us-central1; up to $5.65/h at 8 nodes",
            "Budget: within $10.00/h.",
        ],
    );
}

/// Eight slices of 16 v5e chips (~$154/h) break the example's $60/h budget.
#[test]
fn llm_training_gcp_budget_stops_a_plan_over_60_an_hour() {
    let ex = example("llm-training-gcp");
    let run = gantry(&ex.dir, &["plan", "--sim", "--var", "slices=8", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("over its budget of $60.00/h"),
        "{}",
        run.transcript()
    );
}

/// GKE's v6e and v5p TPU machine types: a `tpu-v6e:16` slice is four `ct6e-standard-4t`
/// nodes in a 4x4 topology, a `tpu-v5p:8` slice two `ct5p-hightpu-4t` nodes in 2x2x2, each
/// priced per node at its slice's per-chip rate; a v5p slice that is not whole nodes is
/// refused.
#[test]
fn tpu_slice_stack_runs_v6e_and_v5p_slices_as_gke_node_pools() {
    let ex = root_stack(
        r#"
provider "google" {
  project = "my-ml-project"
  region  = "us-east5"
}

module "v6e" {
  source      = "../stacks/gcp/tpu-slice"
  name        = "trillium"
  accelerator = "tpu-v6e:16"
  region      = "us-east5"
  platform    = "gke"
  cluster     = "projects/my-ml-project/locations/us-east5/clusters/train"
}

module "v5p" {
  source      = "../stacks/gcp/tpu-slice"
  name        = "v5p"
  accelerator = "tpu-v5p:8"
  region      = "us-east5"
  platform    = "gke"
  cluster     = "projects/my-ml-project/locations/us-east5/clusters/train"
}

output "pools" {
  value = "${module.v6e.gke_nodes} x ${module.v6e.gke_machine_type}, ${module.v5p.gke_nodes} x ${module.v5p.gke_machine_type}"
}
"#,
    );
    let plan = run_ok(&ex.dir, &["plan", "--sim", "."]);
    for needle in [
        "# cost: $43.20/h (~$31,536/month): 4 x ct6e-standard-4t on-demand in us-east5",
        "# cost: $33.60/h (~$24,528/month): 2 x ct5p-hightpu-4t on-demand in us-east5",
        "tpu_topology = \"4x4\"",
        "tpu_topology = \"2x2x2\"",
    ] {
        assert!(plan.contains(needle), "lacks {needle:?}:\n{plan}");
    }
    let applied = run_ok(&ex.dir, &["apply", "--sim", "--auto-approve", "."]);
    assert!(
        applied.contains("pools = \"4 x ct6e-standard-4t, 2 x ct5p-hightpu-4t\""),
        "{applied}"
    );
    run_ok(&ex.dir, &["destroy", "--sim", "--auto-approve", "."]);

    rejected(
        r#"
module "tpu" {
  source      = "../stacks/gcp/tpu-slice"
  accelerator = "tpu-v5p:2"
  region      = "us-east5"
  platform    = "gke"
  cluster     = "c"
}
"#,
        &["tpu-v5p with a multiple of 4 chips (ct5p-hightpu-4t)"],
    );
}

#[test]
fn tpu_slice_stack_rejects_slices_the_region_lacks_and_spot_with_reservation() {
    rejected(
        r#"
module "tpu" {
  source      = "../stacks/gcp/tpu-slice"
  accelerator = "tpu-v5p:8"
  region      = "us-west4"
}
"#,
        &[
            "invalid value for variable `accelerator`",
            "No Cloud TPU slice has tpu-v5p:8 in us-west4",
        ],
    );
    rejected(
        r#"
module "tpu" {
  source   = "../stacks/gcp/tpu-slice"
  spot     = true
  reserved = true
}
"#,
        &["A slice is spot or reserved, not both."],
    );
}

#[test]
fn gcp_network_stack_rejects_a_name_compute_engine_would() {
    rejected(
        r#"
module "network" {
  source = "../stacks/gcp/network"
  name   = "Train_VPC"
}
"#,
        &["name must be lowercase letters, digits and hyphens"],
    );
}

fn rejected(body: &str, needles: &[&str]) {
    let ex = root_stack(body);
    let run = gantry(&ex.dir, &["validate", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "lacks {needle:?}:\n{}",
            run.transcript()
        );
    }
}

#[test]
fn gpu_cluster_stack_rejects_accelerators_the_region_lacks() {
    rejected(
        r#"
module "gpu" {
  source     = "../stacks/aws/gpu-cluster"
  region     = "eu-west-1"
  subnet_ids = ["subnet-1"]
}
"#,
        &[
            "invalid value for variable `accelerator`",
            "No AWS instance type has H100:8 in eu-west-1",
        ],
    );
}

#[test]
fn gpu_cluster_stack_rejects_efa_on_types_without_it() {
    rejected(
        r#"
module "gpu" {
  source      = "../stacks/aws/gpu-cluster"
  accelerator = "L4"
  subnet_ids  = ["subnet-1"]
}
"#,
        &["efa = true, but g6.xlarge (for L4) has no EFA interfaces"],
    );
}

#[test]
fn gpu_cluster_stack_rejects_inconsistent_node_counts() {
    rejected(
        r#"
module "gpu" {
  source       = "../stacks/aws/gpu-cluster"
  subnet_ids   = ["subnet-1"]
  min_size     = 2
  desired_size = 1
  max_size     = 4
}
"#,
        &["desired_size (1) must be between min_size (2) and max_size (4)"],
    );
}

#[test]
fn training_storage_stack_rejects_capacities_lustre_does_not_have() {
    rejected(
        r#"
module "storage" {
  source           = "../stacks/aws/training-storage"
  subnet_id        = "subnet-1"
  storage_capacity = 3600
}
"#,
        &["storage_capacity must be 1200 or a multiple of 2400 (GiB), not 3600"],
    );
}

#[test]
fn gpu_stacks_reject_a_zone_that_lacks_the_accelerator() {
    for stack in ["gpu-cluster", "gpu-instances"] {
        rejected(
            &format!(
                r#"
module "gpu" {{
  source             = "../stacks/aws/{stack}"
  accelerator        = "H100:8"
  zone               = "us-east-1f"
  subnet_ids         = ["subnet-1"]
  subnet_id          = "subnet-1"
  ami_id             = "ami-1"
  security_group_ids = ["sg-1"]
}}
"#
            ),
            &["H100:8 is not offered in zone us-east-1f", "us-east-1a"],
        );
    }
}

/// The README's first command, as written there, on a copy of the stack it names: a GPU
/// training stack planned with its costs and budget, and applied under `--sim`.
#[test]
fn the_readme_first_command_plans_a_gpu_stack_with_costs_and_applies_it() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap_or_default();
    let command = readme
        .lines()
        .find(|l| l.starts_with("cargo run -q -- "))
        .unwrap_or_else(|| panic!("no `cargo run` command in the README"));
    let args: Vec<&str> = command["cargo run -q -- ".len()..]
        .split_whitespace()
        .collect();
    let stack = args.last().copied().unwrap_or_default();
    assert_eq!(
        args[..args.len() - 1],
        ["apply", "--sim", "--auto-approve"],
        "{command}"
    );
    let name = stack
        .strip_prefix("examples/")
        .unwrap_or_else(|| panic!("{stack}"));
    let ex = example(name);
    let mut run_args = args[..args.len() - 1].to_vec();
    run_args.push(".");
    let out = run_ok(&ex.dir, &run_args);
    for needle in [
        "aws_eks_node_group.gpu will be created",
        "# cost: $220.16/h",
        "p5.48xlarge",
        "Budget: within $500.00/h.",
        "Apply complete!",
    ] {
        assert!(
            out.contains(needle),
            "the first command's output lacks {needle:?}:\n{out}"
        );
    }
}

/// The Azure InfiniBand example: network, the ND H100 v5 fleet priced from the catalog,
/// storage and the ML platform, within its budget, applied and destroyed on the
/// simulated Azure.
#[test]
fn llm_training_azure_example_plans_with_costs_applies_and_destroys_under_sim() {
    whole_run(
        "llm-training-azure",
        &[
            "module.fleet.azurerm_linux_virtual_machine_scale_set.this will be created",
            "# cost: $196.64/h (~$143,547/month): 2 x Standard_ND96isr_H100_v5 on-demand in eastus",
            "module.platform.azurerm_machine_learning_workspace.this will be created",
            "module.storage.azurerm_role_assignment.writers[\"trainers\"] will be created",
            "Budget: within $250.00/h.",
        ],
    );
}

/// The Azure inference example: an A100 pool autoscaling 1-4, priced at its minimum with
/// the maximum named, within its budget.
#[test]
fn inference_azure_example_prices_the_autoscaled_a100_pool_and_applies_under_sim() {
    whole_run(
        "inference-azure",
        &[
            "module.cluster.azurerm_kubernetes_cluster.this will be created",
            "# cost: $3.67/h (~$2,681/month): Standard_NC24ads_A100_v4 on-demand in eastus; up to $14.69/h at 4 nodes",
            "Budget: within $20.00/h.",
        ],
    );
}

/// Four ND H100 v5 VMs (~$393/h) break the training example's $250/h budget.
#[test]
fn llm_training_azure_budget_stops_a_plan_over_250_an_hour() {
    let ex = example("llm-training-azure");
    let run = gantry(&ex.dir, &["plan", "--sim", "--var", "instances=4", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("over its budget of $250.00/h"),
        "{}",
        run.transcript()
    );
}
