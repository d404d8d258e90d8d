//! ML storage and platform against moto: `aws_fsx_lustre_file_system`, `aws_efs_file_system`,
//! `aws_sagemaker_domain` and `aws_sagemaker_notebook_instance`, each through its whole
//! lifecycle, with every result read back with the SDK, never through gantry.
//!
//! What they need around them (VPC, subnet, security group, the SageMaker execution role)
//! is part of each stack.
//!
//! What moto 5.2.5 cannot do (see providers/aws/README.md, "ML storage and platform"):
//! - FSx: moto keeps only the CreateFileSystem request (no Lifecycle, OwnerId, VpcId,
//!   network interfaces, MountName, ...) and has no UpdateFileSystem; the launcher fakes
//!   both (tests/moto/README.md), so the FSx steps below run against the fake.
//! - EFS: no UpdateFileSystem, so a `throughput_mode` change cannot be tested; the in-place
//!   step changes the lifecycle policies and tags instead (both real moto).
//! - SageMaker: no UpdateDomain, so the domain's in-place step changes tags and the
//!   state-only `retention_policy`; an unknown domain is a ValidationException in moto and
//!   ResourceNotFound in AWS (the launcher answers as AWS does); UpdateNotebookInstance is
//!   the launcher's fake; moto accepts only older notebook instance types (no ml.g5.*), so
//!   the GPU step uses ml.p3.2xlarge; domain ids are `d-<name>`, so a recreated domain has
//!   its old id.

use crate::support::{block_on, Moto, Stack};

const NETWORK: &str = r#"
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { owner = "ml-platform" }
  }
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.0.1.0/24"
  availability_zone = "us-east-1a"
}

resource "aws_security_group" "ml" {
  name   = "ml"
  vpc_id = aws_vpc.main.id
}
"#;

/// The role SageMaker runs domains and notebooks as.
const ROLE: &str = r#"
resource "aws_iam_role" "sagemaker" {
  name = "sagemaker-execution"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "sagemaker.amazonaws.com" } }]
  })
}
"#;

/// Nothing gantry tagged is left in EC2 (the network of the stack).
fn assert_no_network_left(moto: &Moto) {
    let ec2 = moto.ec2();
    let tagged = aws_sdk_ec2::types::Filter::builder()
        .name("tag-key")
        .values("gantry:address")
        .build();
    let vpcs = block_on(ec2.describe_vpcs().filters(tagged.clone()).send()).expect("vpcs");
    assert!(vpcs.vpcs().is_empty(), "left behind: {:?}", vpcs.vpcs());
    let subnets = block_on(ec2.describe_subnets().filters(tagged).send()).expect("subnets");
    assert!(
        subnets.subnets().is_empty(),
        "left behind: {:?}",
        subnets.subnets()
    );
}

/// The stack's execution role is gone.
fn assert_role_gone(moto: &Moto) {
    let got = block_on(
        moto.iam()
            .get_role()
            .role_name("sagemaker-execution")
            .send(),
    );
    assert!(got.is_err(), "role left behind: {got:?}");
}

fn plan_changes(stack: &Stack<'_>) -> String {
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2, "expected changes:\n{}", plan.both());
    plan.stdout
}

// ---------------------------------------------------------------------------------------
// FSx for Lustre

const FSX: &str = r#"
resource "aws_fsx_lustre_file_system" "train" {
  storage_capacity            = 1200
  subnet_ids                  = [aws_subnet.a.id]
  security_group_ids          = [aws_security_group.ml.id]
  deployment_type             = "PERSISTENT_2"
  per_unit_storage_throughput = 125
  tags                        = { Name = "train" }
}

resource "aws_fsx_lustre_file_system" "cache" {
  storage_capacity   = 1200
  subnet_ids         = [aws_subnet.a.id]
  deployment_type    = "SCRATCH_2"
  import_path        = "s3://training-data/imagenet"
  auto_import_policy = "NEW"
}
"#;

fn describe_fsx(moto: &Moto, id: &str) -> aws_sdk_fsx::types::FileSystem {
    let out = block_on(
        moto.fsx()
            .describe_file_systems()
            .file_system_ids(id)
            .send(),
    )
    .expect("describe");
    out.file_systems()[0].clone()
}

#[test]
fn fsx_lustre_lifecycle() {
    let moto = Moto::start();
    let fsx = moto.fsx();
    let stack = moto.stack();
    let v1 = format!("{NETWORK}{FSX}");
    stack.write(&v1);
    stack.apply();
    let id = stack.state_id("aws_fsx_lustre_file_system.train");

    // Read back: settings, the VPC it landed in, its tags; the ENIs carry the group.
    let fs = describe_fsx(&moto, &id);
    assert_eq!(fs.lifecycle().map(|l| l.as_str()), Some("AVAILABLE"));
    assert_eq!(fs.storage_capacity(), Some(1200));
    assert_eq!(fs.vpc_id(), Some(stack.state_id("aws_vpc.main").as_str()));
    let lustre = fs.lustre_configuration().expect("lustre configuration");
    assert_eq!(
        lustre.deployment_type().map(|d| d.as_str()),
        Some("PERSISTENT_2")
    );
    assert_eq!(lustre.per_unit_storage_throughput(), Some(125));
    let tag = |fs: &aws_sdk_fsx::types::FileSystem, k: &str| {
        fs.tags()
            .iter()
            .find(|t| t.key() == Some(k))
            .and_then(|t| t.value())
            .map(str::to_owned)
    };
    assert_eq!(tag(&fs, "Name").as_deref(), Some("train"));
    assert_eq!(tag(&fs, "owner").as_deref(), Some("ml-platform"));
    assert_eq!(
        tag(&fs, "gantry:address").as_deref(),
        Some("aws_fsx_lustre_file_system.train")
    );
    let sg = stack.state_id("aws_security_group.ml");
    assert_eq!(
        stack.state_attr("aws_fsx_lustre_file_system.train", "security_group_ids"),
        serde_json::json!([sg])
    );
    assert!(stack
        .state_attr("aws_fsx_lustre_file_system.train", "mount_name")
        .is_string());
    let cache = describe_fsx(&moto, &stack.state_id("aws_fsx_lustre_file_system.cache"));
    let repo = cache
        .lustre_configuration()
        .and_then(|l| l.data_repository_configuration())
        .expect("data repository");
    assert_eq!(repo.import_path(), Some("s3://training-data/imagenet"));
    // export_path is computed by FSx when not given, and read back into state.
    assert_eq!(
        stack
            .state_attr("aws_fsx_lustre_file_system.cache", "export_path")
            .as_str(),
        repo.export_path()
    );
    stack.assert_no_changes();

    // In place: grow the capacity, raise the throughput, compress, retag (same file system).
    let v2 = v1
        .replace(
            "storage_capacity            = 1200",
            "storage_capacity = 2400",
        )
        .replace(
            "per_unit_storage_throughput = 125",
            "per_unit_storage_throughput = 250\n  data_compression_type = \"LZ4\"",
        )
        .replace("{ Name = \"train\" }", "{ Name = \"train-2\" }")
        .replace(
            "auto_import_policy = \"NEW\"",
            "auto_import_policy = \"NEW_CHANGED\"",
        );
    stack.write(&v2);
    let plan = plan_changes(&stack);
    assert!(plan.contains("will be updated in-place"), "{plan}");
    assert!(!plan.contains("must be replaced"), "{plan}");
    stack.apply();
    assert_eq!(stack.state_id("aws_fsx_lustre_file_system.train"), id);
    let fs = describe_fsx(&moto, &id);
    assert_eq!(fs.storage_capacity(), Some(2400));
    let lustre = fs.lustre_configuration().expect("lustre configuration");
    assert_eq!(lustre.per_unit_storage_throughput(), Some(250));
    assert_eq!(
        lustre.data_compression_type().map(|c| c.as_str()),
        Some("LZ4")
    );
    assert_eq!(tag(&fs, "Name").as_deref(), Some("train-2"));
    let cache = describe_fsx(&moto, &stack.state_id("aws_fsx_lustre_file_system.cache"));
    let policy = cache
        .lustre_configuration()
        .and_then(|l| l.data_repository_configuration())
        .and_then(|r| r.auto_import_policy());
    assert_eq!(policy.map(|p| p.as_str()), Some("NEW_CHANGED"));
    stack.assert_no_changes();

    // Lustre cannot shrink: a smaller capacity is a replacement (planned, not applied).
    stack.write(&v2.replace("storage_capacity = 2400", "storage_capacity = 1200"));
    let plan = plan_changes(&stack);
    assert!(plan.contains("must be replaced"), "{plan}");
    stack.write(&v2);

    // Out-of-band changes: a tag and the compression; the plan shows both and undoes them.
    block_on(
        fsx.tag_resource()
            .resource_arn(fs.resource_arn().expect("arn"))
            .tags(
                aws_sdk_fsx::types::Tag::builder()
                    .key("Name")
                    .value("hand-edited")
                    .build(),
            )
            .send(),
    )
    .expect("tag");
    block_on(
        fsx.update_file_system()
            .file_system_id(&id)
            .lustre_configuration(
                aws_sdk_fsx::types::UpdateFileSystemLustreConfiguration::builder()
                    .data_compression_type(aws_sdk_fsx::types::DataCompressionType::None)
                    .build(),
            )
            .send(),
    )
    .expect("update");
    let plan = plan_changes(&stack);
    assert!(plan.contains("hand-edited"), "{plan}");
    assert!(plan.contains("data_compression_type"), "{plan}");
    stack.apply();
    let fs = describe_fsx(&moto, &id);
    assert_eq!(tag(&fs, "Name").as_deref(), Some("train-2"));
    assert_eq!(
        fs.lustre_configuration()
            .and_then(|l| l.data_compression_type())
            .map(|c| c.as_str()),
        Some("LZ4")
    );
    stack.assert_no_changes();

    // Import: forget it, import it by id, and the plan is empty again.
    stack.reimport("aws_fsx_lustre_file_system.train", &id);
    stack.assert_no_changes();

    // Out-of-band delete: apply creates a new one.
    block_on(fsx.delete_file_system().file_system_id(&id).send()).expect("delete");
    let plan = plan_changes(&stack);
    assert!(plan.contains("will be created"), "{plan}");
    stack.apply();
    let new_id = stack.state_id("aws_fsx_lustre_file_system.train");
    assert_ne!(new_id, id);
    assert_eq!(describe_fsx(&moto, &new_id).storage_capacity(), Some(2400));
    stack.assert_no_changes();

    // Destroy leaves no file system and no network (the ENIs went with the file systems).
    stack.destroy();
    let left = block_on(fsx.describe_file_systems().send()).expect("describe");
    assert!(
        left.file_systems().is_empty(),
        "left behind: {:?}",
        left.file_systems()
    );
    assert_no_network_left(&moto);
}

// ---------------------------------------------------------------------------------------
// EFS

const EFS: &str = r#"
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { owner = "ml-platform" }
  }
}

resource "aws_efs_file_system" "home" {
  encrypted        = true
  performance_mode = "generalPurpose"
  lifecycle_policy {
    transition_to_ia = "AFTER_30_DAYS"
  }
  tags = { Name = "home" }
}

resource "aws_efs_file_system" "checkpoints" {
  creation_token  = "ml-checkpoints"
  throughput_mode = "elastic"
}
"#;

#[test]
fn efs_lifecycle() {
    let moto = Moto::start();
    let efs = moto.efs();
    let stack = moto.stack();
    stack.write(EFS);
    stack.apply();
    let id = stack.state_id("aws_efs_file_system.home");

    // Read back: gantry's create token is the creation token; the user's is used as given.
    let describe = |id: &str| {
        block_on(efs.describe_file_systems().file_system_id(id).send())
            .expect("describe")
            .file_systems()[0]
            .clone()
    };
    let fs = describe(&id);
    assert_eq!(fs.life_cycle_state().as_str(), "available");
    assert_eq!(fs.encrypted(), Some(true));
    assert_eq!(
        stack
            .state_attr("aws_efs_file_system.home", "creation_token")
            .as_str(),
        Some(fs.creation_token())
    );
    assert!(!fs.creation_token().is_empty());
    let tag = |fs: &aws_sdk_efs::types::FileSystemDescription, k: &str| {
        fs.tags()
            .iter()
            .find(|t| t.key() == k)
            .map(|t| t.value().to_owned())
    };
    assert_eq!(tag(&fs, "Name").as_deref(), Some("home"));
    assert_eq!(tag(&fs, "owner").as_deref(), Some("ml-platform"));
    assert_eq!(
        tag(&fs, "gantry:address").as_deref(),
        Some("aws_efs_file_system.home")
    );
    assert_eq!(
        stack.state_attr("aws_efs_file_system.home", "name"),
        serde_json::json!("home")
    );
    let policies = |id: &str| {
        let out = block_on(
            efs.describe_lifecycle_configuration()
                .file_system_id(id)
                .send(),
        )
        .expect("lifecycle");
        out.lifecycle_policies()
            .iter()
            .map(|p| {
                format!(
                    "{:?}/{:?}",
                    p.transition_to_ia(),
                    p.transition_to_primary_storage_class()
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(policies(&id), vec!["Some(After30Days)/None"]);
    let checkpoints = describe(&stack.state_id("aws_efs_file_system.checkpoints"));
    assert_eq!(checkpoints.creation_token(), "ml-checkpoints");
    assert_eq!(
        checkpoints.throughput_mode().map(|t| t.as_str()),
        Some("elastic")
    );
    stack.assert_no_changes();

    // In place: new lifecycle policies and tags, same file system. (moto has no
    // UpdateFileSystem, so a throughput_mode change is not exercised here.)
    let v2 = EFS
        .replace(
            "transition_to_ia = \"AFTER_30_DAYS\"\n  }",
            "transition_to_ia = \"AFTER_7_DAYS\"\n  }\n  lifecycle_policy {\n    transition_to_primary_storage_class = \"AFTER_1_ACCESS\"\n  }",
        )
        .replace("{ Name = \"home\" }", "{ Name = \"home-2\" }");
    stack.write(&v2);
    let plan = plan_changes(&stack);
    assert!(plan.contains("will be updated in-place"), "{plan}");
    stack.apply();
    assert_eq!(stack.state_id("aws_efs_file_system.home"), id);
    assert_eq!(
        policies(&id),
        vec!["Some(After7Days)/None", "None/Some(After1Access)"]
    );
    assert_eq!(tag(&describe(&id), "Name").as_deref(), Some("home-2"));
    stack.assert_no_changes();

    // Out-of-band changes: policies removed and a tag edited; the plan shows and undoes them.
    block_on(
        efs.put_lifecycle_configuration()
            .file_system_id(&id)
            .set_lifecycle_policies(Some(Vec::new()))
            .send(),
    )
    .expect("put lifecycle");
    block_on(
        efs.tag_resource()
            .resource_id(&id)
            .tags(
                aws_sdk_efs::types::Tag::builder()
                    .key("Name")
                    .value("hand-edited")
                    .build()
                    .expect("tag"),
            )
            .send(),
    )
    .expect("tag");
    let plan = plan_changes(&stack);
    assert!(plan.contains("hand-edited"), "{plan}");
    assert!(plan.contains("AFTER_7_DAYS"), "{plan}");
    stack.apply();
    assert_eq!(policies(&id).len(), 2);
    stack.assert_no_changes();

    // Import: forget it, import it by id, and the plan is empty again.
    stack.reimport("aws_efs_file_system.home", &id);
    stack.assert_no_changes();

    // Out-of-band delete: apply creates a new one.
    block_on(efs.delete_file_system().file_system_id(&id).send()).expect("delete");
    let plan = plan_changes(&stack);
    assert!(plan.contains("will be created"), "{plan}");
    stack.apply();
    let new_id = stack.state_id("aws_efs_file_system.home");
    assert_ne!(new_id, id);
    assert_eq!(policies(&new_id).len(), 2);
    stack.assert_no_changes();

    // Destroy leaves nothing.
    stack.destroy();
    let left = block_on(efs.describe_file_systems().send()).expect("describe");
    assert!(
        left.file_systems().is_empty(),
        "left behind: {:?}",
        left.file_systems()
    );
}

// ---------------------------------------------------------------------------------------
// SageMaker domain

const DOMAIN: &str = r#"
resource "aws_sagemaker_domain" "studio" {
  domain_name = "ml-studio"
  auth_mode   = "IAM"
  vpc_id      = aws_vpc.main.id
  subnet_ids  = [aws_subnet.a.id]

  default_user_settings {
    execution_role  = aws_iam_role.sagemaker.arn
    security_groups = [aws_security_group.ml.id]
  }

  retention_policy {
    home_efs_file_system = "Delete"
  }

  tags = { Name = "studio" }
}
"#;

#[test]
fn sagemaker_domain_lifecycle() {
    let moto = Moto::start();
    let sm = moto.sagemaker();
    let stack = moto.stack();
    let v1 = format!("{NETWORK}{ROLE}{DOMAIN}");
    stack.write(&v1);
    stack.apply();
    let role = stack
        .state_attr("aws_iam_role.sagemaker", "arn")
        .as_str()
        .expect("role arn")
        .to_owned();
    let id = stack.state_id("aws_sagemaker_domain.studio");
    let arn = stack
        .state_attr("aws_sagemaker_domain.studio", "arn")
        .as_str()
        .expect("arn")
        .to_owned();

    // Read back: InService, in the stack's VPC, with the role and group; tags via ListTags.
    let d = block_on(sm.describe_domain().domain_id(&id).send()).expect("describe");
    assert_eq!(d.status().map(|s| s.as_str()), Some("InService"));
    assert_eq!(d.vpc_id(), Some(stack.state_id("aws_vpc.main").as_str()));
    assert_eq!(d.subnet_ids(), [stack.state_id("aws_subnet.a")]);
    let settings = d.default_user_settings().expect("user settings");
    assert_eq!(settings.execution_role(), Some(role.as_str()));
    assert_eq!(
        settings.security_groups(),
        [stack.state_id("aws_security_group.ml")]
    );
    let tags = |arn: &str| {
        let out = block_on(sm.list_tags().resource_arn(arn).send()).expect("tags");
        out.tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or("").to_owned(),
                    t.value().unwrap_or("").to_owned(),
                )
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let t = tags(&arn);
    assert_eq!(t.get("Name").map(String::as_str), Some("studio"));
    assert_eq!(t.get("owner").map(String::as_str), Some("ml-platform"));
    assert_eq!(
        t.get("gantry:address").map(String::as_str),
        Some("aws_sagemaker_domain.studio")
    );
    assert!(stack
        .state_attr("aws_sagemaker_domain.studio", "url")
        .is_string());
    stack.assert_no_changes();

    // In place: tags, and the retention policy (gantry's state only). moto has no
    // UpdateDomain, so default_user_settings / app_network_access_type changes are not run.
    let v2 = v1
        .replace("{ Name = \"studio\" }", "{ Name = \"studio-2\" }")
        .replace(
            "home_efs_file_system = \"Delete\"",
            "home_efs_file_system = \"Retain\"",
        );
    stack.write(&v2);
    let plan = plan_changes(&stack);
    assert!(plan.contains("will be updated in-place"), "{plan}");
    stack.apply();
    assert_eq!(stack.state_id("aws_sagemaker_domain.studio"), id);
    assert_eq!(tags(&arn).get("Name").map(String::as_str), Some("studio-2"));
    stack.assert_no_changes();

    // Another auth mode is a replacement (planned, not applied).
    stack.write(&v2.replace("auth_mode   = \"IAM\"", "auth_mode = \"SSO\""));
    let plan = plan_changes(&stack);
    assert!(plan.contains("must be replaced"), "{plan}");
    stack.write(&v2);

    // Out-of-band change: a tag; the plan shows it and the apply undoes it.
    block_on(
        sm.add_tags()
            .resource_arn(&arn)
            .tags(
                aws_sdk_sagemaker::types::Tag::builder()
                    .key("Name")
                    .value("hand-edited")
                    .build(),
            )
            .send(),
    )
    .expect("tag");
    let plan = plan_changes(&stack);
    assert!(plan.contains("hand-edited"), "{plan}");
    stack.apply();
    assert_eq!(tags(&arn).get("Name").map(String::as_str), Some("studio-2"));
    stack.assert_no_changes();

    // Import: the retention policy lives only in gantry's state (AWS takes it at delete
    // time), so an import cannot know it; the next apply sets it without touching AWS.
    stack.reimport("aws_sagemaker_domain.studio", &id);
    let plan = plan_changes(&stack);
    assert!(plan.contains("retention_policy"), "{plan}");
    stack.apply();
    stack.assert_no_changes();

    // Out-of-band delete: apply creates it again (moto's domain ids are d-<name>, so the
    // new domain has the old id: check it exists again instead).
    block_on(sm.delete_domain().domain_id(&id).send()).expect("delete");
    let plan = plan_changes(&stack);
    assert!(plan.contains("will be created"), "{plan}");
    stack.apply();
    let new_id = stack.state_id("aws_sagemaker_domain.studio");
    let d = block_on(sm.describe_domain().domain_id(&new_id).send()).expect("describe");
    assert_eq!(d.status().map(|s| s.as_str()), Some("InService"));
    stack.assert_no_changes();

    // Destroy leaves no domain and no network.
    stack.destroy();
    let left = block_on(sm.list_domains().send()).expect("list");
    assert!(
        left.domains().is_empty(),
        "left behind: {:?}",
        left.domains()
    );
    assert_no_network_left(&moto);
    assert_role_gone(&moto);
}

// ---------------------------------------------------------------------------------------
// SageMaker notebook instance

const NOTEBOOK: &str = r#"
resource "aws_sagemaker_notebook_instance" "research" {
  name            = "research"
  role_arn        = aws_iam_role.sagemaker.arn
  instance_type   = "ml.t3.medium"
  volume_size     = 20
  subnet_id       = aws_subnet.a.id
  security_groups = [aws_security_group.ml.id]
  tags            = { Name = "research" }
}
"#;

#[test]
fn sagemaker_notebook_instance_lifecycle() {
    let moto = Moto::start();
    let sm = moto.sagemaker();
    let stack = moto.stack();
    let v1 = format!("{NETWORK}{ROLE}{NOTEBOOK}");
    stack.write(&v1);
    stack.apply();
    let role = stack
        .state_attr("aws_iam_role.sagemaker", "arn")
        .as_str()
        .expect("role arn")
        .to_owned();
    let name = stack.state_id("aws_sagemaker_notebook_instance.research");
    assert_eq!(name, "research");
    let describe = || {
        block_on(
            sm.describe_notebook_instance()
                .notebook_instance_name("research")
                .send(),
        )
        .expect("describe")
    };

    // Read back: running, with the type, volume, network and tags asked for.
    let nb = describe();
    let created = nb.creation_time().cloned();
    let arn = nb.notebook_instance_arn().expect("arn").to_owned();
    assert_eq!(
        nb.notebook_instance_status().map(|s| s.as_str()),
        Some("InService")
    );
    assert_eq!(nb.instance_type().map(|t| t.as_str()), Some("ml.t3.medium"));
    assert_eq!(nb.volume_size_in_gb(), Some(20));
    assert_eq!(
        nb.subnet_id(),
        Some(stack.state_id("aws_subnet.a").as_str())
    );
    assert_eq!(nb.role_arn(), Some(role.as_str()));
    let tags = || {
        let out = block_on(sm.list_tags().resource_arn(&arn).send()).expect("tags");
        out.tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or("").to_owned(),
                    t.value().unwrap_or("").to_owned(),
                )
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    assert_eq!(tags().get("Name").map(String::as_str), Some("research"));
    assert_eq!(tags().get("owner").map(String::as_str), Some("ml-platform"));
    assert_eq!(
        tags().get("gantry:address").map(String::as_str),
        Some("aws_sagemaker_notebook_instance.research")
    );
    stack.assert_no_changes();

    // In place: a GPU instance type and a bigger volume. The instance is stopped, updated
    // and started again; it is the same instance (same creation time).
    let v2 = v1
        .replace(
            "instance_type   = \"ml.t3.medium\"",
            "instance_type = \"ml.p3.2xlarge\"",
        )
        .replace("volume_size     = 20", "volume_size = 30")
        .replace("{ Name = \"research\" }", "{ Name = \"research-gpu\" }");
    stack.write(&v2);
    let plan = plan_changes(&stack);
    assert!(plan.contains("will be updated in-place"), "{plan}");
    stack.apply();
    let nb = describe();
    assert_eq!(
        nb.instance_type().map(|t| t.as_str()),
        Some("ml.p3.2xlarge")
    );
    assert_eq!(nb.volume_size_in_gb(), Some(30));
    assert_eq!(
        nb.notebook_instance_status().map(|s| s.as_str()),
        Some("InService")
    );
    assert_eq!(nb.creation_time().cloned(), created);
    assert_eq!(tags().get("Name").map(String::as_str), Some("research-gpu"));
    stack.assert_no_changes();

    // A smaller volume is a replacement (planned, not applied).
    stack.write(&v2.replace("volume_size = 30", "volume_size = 10"));
    let plan = plan_changes(&stack);
    assert!(plan.contains("must be replaced"), "{plan}");
    stack.write(&v2);

    // Out-of-band change: someone stops it and changes the type; the plan shows the drift,
    // the apply puts the type back and leaves it stopped (as Terraform does).
    block_on(
        sm.stop_notebook_instance()
            .notebook_instance_name("research")
            .send(),
    )
    .expect("stop");
    block_on(
        sm.update_notebook_instance()
            .notebook_instance_name("research")
            .instance_type(aws_sdk_sagemaker::types::InstanceType::MlT3Large)
            .send(),
    )
    .expect("update");
    let plan = plan_changes(&stack);
    assert!(plan.contains("ml.t3.large"), "{plan}");
    stack.apply();
    let nb = describe();
    assert_eq!(
        nb.instance_type().map(|t| t.as_str()),
        Some("ml.p3.2xlarge")
    );
    assert_eq!(
        nb.notebook_instance_status().map(|s| s.as_str()),
        Some("Stopped")
    );
    stack.assert_no_changes();

    // Import: forget it, import it by name, and the plan is empty again.
    stack.reimport("aws_sagemaker_notebook_instance.research", "research");
    stack.assert_no_changes();

    // Out-of-band delete (it is stopped, so it can go at once): apply creates a new one.
    block_on(
        sm.delete_notebook_instance()
            .notebook_instance_name("research")
            .send(),
    )
    .expect("delete");
    let plan = plan_changes(&stack);
    assert!(plan.contains("will be created"), "{plan}");
    stack.apply();
    let nb = describe();
    assert_eq!(
        nb.notebook_instance_status().map(|s| s.as_str()),
        Some("InService")
    );
    assert_ne!(nb.creation_time().cloned(), created);
    stack.assert_no_changes();

    // Destroy stops and deletes it, and the network goes too.
    stack.destroy();
    let left = block_on(sm.list_notebook_instances().send()).expect("list");
    assert!(
        left.notebook_instances().is_empty(),
        "left behind: {:?}",
        left.notebook_instances()
    );
    assert_no_network_left(&moto);
    assert_role_gone(&moto);
}
