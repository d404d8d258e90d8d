//! The IAM resources against moto: `aws_iam_role`, `aws_iam_policy`,
//! `aws_iam_role_policy_attachment` and `aws_iam_instance_profile` in one stack (they build on
//! each other), with the trust policy from `data.aws_iam_policy_document`. Every result is
//! read back with the SDK, never through gantry.

use crate::support::{block_on, Moto, Stack};
use aws_sdk_iam::types::Tag;

const V1: &str = r#"
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { owner = "ml-platform" }
  }
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  name               = "gantry-node"
  assume_role_policy = data.aws_iam_policy_document.trust.json
  description        = "training nodes"
  tags               = { team = "ml" }
}

resource "aws_iam_role" "alt" {
  name_prefix        = "gantry-alt-"
  assume_role_policy = <<EOF
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "sagemaker.amazonaws.com"}}]}
EOF
}

resource "aws_iam_policy" "read" {
  name        = "gantry-read"
  description = "read the datasets"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["s3:GetObject"], Resource = "*" }]
  })
  tags = { team = "ml" }
}

resource "aws_iam_role_policy_attachment" "read" {
  role       = aws_iam_role.node.name
  policy_arn = aws_iam_policy.read.arn
}

resource "aws_iam_instance_profile" "node" {
  name = "gantry-node"
  role = aws_iam_role.node.name
  tags = { team = "ml" }
}
"#;

/// V1 with in-place changes to every type: the trust document (a second service), the
/// role's description and session length, the policy document (a new version), the
/// profile's role and tags.
fn v2() -> String {
    V1.replace(
        r#"identifiers = ["ec2.amazonaws.com"]"#,
        r#"identifiers = ["ec2.amazonaws.com", "eks.amazonaws.com"]"#,
    )
    .replace(
        r#"description        = "training nodes""#,
        "description = \"training and serving nodes\"\n  max_session_duration = 7200",
    )
    .replace(
        r#"Action = ["s3:GetObject"]"#,
        r#"Action = ["s3:GetObject", "s3:ListBucket"]"#,
    )
    .replace(
        "  role = aws_iam_role.node.name\n  tags = { team = \"ml\" }",
        "  role = aws_iam_role.alt.name\n  tags = { team = \"ml\", tier = \"gpu\" }",
    )
}

fn tag(tags: &[Tag], key: &str) -> Option<String> {
    tags.iter()
        .find(|t| t.key() == key)
        .map(|t| t.value().to_owned())
}

fn decode(doc: &str) -> String {
    // IAM URL-encodes documents; the few characters these tests use are enough.
    let mut out = String::new();
    let mut chars = doc.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            let hex: String = chars.by_ref().take(2).collect();
            out.push(u8::from_str_radix(&hex, 16).map(char::from).unwrap_or('?'));
        } else {
            out.push(c);
        }
    }
    out
}

fn assert_plan_shows(stack: &Stack<'_>, needles: &[&str]) {
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2, "expected changes:\n{}", plan.both());
    for n in needles {
        assert!(
            plan.stdout.contains(n),
            "plan lacks {n:?}:\n{}",
            plan.stdout
        );
    }
}

#[test]
fn iam_lifecycle() {
    let moto = Moto::start();
    let iam = moto.iam();
    let stack = moto.stack();
    stack.write(V1);
    stack.apply();

    // Read back: the role with its trust policy, description and tags.
    let role = block_on(iam.get_role().role_name("gantry-node").send()).expect("role");
    let role = role.role().expect("role");
    let trust = decode(role.assume_role_policy_document().unwrap_or_default());
    assert!(trust.contains("ec2.amazonaws.com"), "{trust}");
    assert_eq!(role.description(), Some("training nodes"));
    assert_eq!(tag(role.tags(), "team").as_deref(), Some("ml"));
    assert_eq!(tag(role.tags(), "owner").as_deref(), Some("ml-platform"));
    assert_eq!(
        tag(role.tags(), "gantry:address").as_deref(),
        Some("aws_iam_role.node")
    );
    let role_id = role.role_id().to_owned();
    assert_eq!(
        stack.state_attr("aws_iam_role.node", "unique_id"),
        role_id.as_str()
    );
    assert_eq!(stack.state_attr("aws_iam_role.node", "arn"), role.arn());
    // name_prefix: a generated name, prefix plus 26 characters.
    let alt = stack.state_id("aws_iam_role.alt");
    assert!(
        alt.starts_with("gantry-alt-") && alt.len() == "gantry-alt-".len() + 26,
        "{alt}"
    );
    block_on(iam.get_role().role_name(&alt).send()).expect("alt role");

    // The policy, its document and tags; the attachment; the profile and its role.
    let arn = stack.state_id("aws_iam_policy.read");
    let policy = block_on(iam.get_policy().policy_arn(&arn).send()).expect("policy");
    let policy = policy.policy().expect("policy");
    assert_eq!(policy.policy_name(), Some("gantry-read"));
    assert_eq!(policy.default_version_id(), Some("v1"));
    let tags = block_on(iam.list_policy_tags().policy_arn(&arn).send()).expect("tags");
    assert_eq!(
        tag(tags.tags(), "gantry:address").as_deref(),
        Some("aws_iam_policy.read")
    );
    let attached = block_on(
        iam.list_attached_role_policies()
            .role_name("gantry-node")
            .send(),
    )
    .expect("attached");
    assert!(attached
        .attached_policies()
        .iter()
        .any(|p| p.policy_arn() == Some(arn.as_str())));
    assert_eq!(
        stack.state_id("aws_iam_role_policy_attachment.read"),
        format!("gantry-node/{arn}")
    );
    let profile = block_on(
        iam.get_instance_profile()
            .instance_profile_name("gantry-node")
            .send(),
    )
    .expect("profile");
    let profile = profile.instance_profile().expect("profile");
    assert_eq!(
        profile.roles().first().map(|r| r.role_name()),
        Some("gantry-node")
    );
    let profile_id = profile.instance_profile_id().to_owned();
    stack.assert_no_changes();

    // In place: the trust document, description and session length, a new policy
    // version, the profile's role and tags. Same objects afterwards.
    stack.write(&v2());
    assert_plan_shows(
        &stack,
        &[
            "will be updated in-place",
            "eks.amazonaws.com",
            "training and serving nodes",
            "s3:ListBucket",
        ],
    );
    stack.apply();
    let role = block_on(iam.get_role().role_name("gantry-node").send()).expect("role");
    let role = role.role().expect("role");
    assert_eq!(role.role_id(), role_id);
    assert_eq!(role.description(), Some("training and serving nodes"));
    assert_eq!(role.max_session_duration(), Some(7200));
    assert!(
        decode(role.assume_role_policy_document().unwrap_or_default())
            .contains("eks.amazonaws.com")
    );
    assert_eq!(stack.state_id("aws_iam_policy.read"), arn);
    let policy = block_on(iam.get_policy().policy_arn(&arn).send()).expect("policy");
    assert_eq!(
        policy.policy().and_then(|p| p.default_version_id()),
        Some("v2")
    );
    let doc = block_on(
        iam.get_policy_version()
            .policy_arn(&arn)
            .version_id("v2")
            .send(),
    )
    .expect("version");
    assert!(decode(
        doc.policy_version()
            .and_then(|v| v.document())
            .unwrap_or_default()
    )
    .contains("s3:ListBucket"));
    let profile = block_on(
        iam.get_instance_profile()
            .instance_profile_name("gantry-node")
            .send(),
    )
    .expect("profile");
    let profile = profile.instance_profile().expect("profile");
    assert_eq!(profile.instance_profile_id(), profile_id);
    assert_eq!(
        profile.roles().first().map(|r| r.role_name()),
        Some(alt.as_str())
    );
    // GetInstanceProfile carries the tags (moto has no ListInstanceProfileTags).
    assert_eq!(tag(profile.tags(), "tier").as_deref(), Some("gpu"));
    stack.assert_no_changes();

    // A reformatted, equal trust policy is no change (JSON compared by meaning).
    stack.write(&v2().replace(
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "sagemaker.amazonaws.com"}}]}"#,
        "{\n  \"Statement\": {\n    \"Principal\": {\"Service\": [\"sagemaker.amazonaws.com\"]},\n    \"Action\": [\"sts:AssumeRole\"],\n    \"Effect\": \"Allow\"\n  },\n  \"Version\": \"2012-10-17\"\n}",
    ));
    stack.assert_no_changes();
    stack.write(&v2());

    // The five-version limit: with v1..v5 present, the next update deletes the oldest
    // non-default version (v1) first.
    for doc in [
        "s3:GetObjectTagging",
        "s3:GetObjectAcl",
        "s3:GetObjectVersion",
    ] {
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{doc}","Resource":"*"}}]}}"#
        );
        block_on(
            iam.create_policy_version()
                .policy_arn(&arn)
                .policy_document(text)
                .set_as_default(false)
                .send(),
        )
        .expect("extra version");
    }
    stack.assert_no_changes();
    stack.write(&v2().replace(
        r#""s3:ListBucket"]"#,
        r#""s3:ListBucket", "s3:GetBucketLocation"]"#,
    ));
    stack.apply();
    let versions = block_on(iam.list_policy_versions().policy_arn(&arn).send()).expect("versions");
    let mut ids: Vec<&str> = versions
        .versions()
        .iter()
        .filter_map(|v| v.version_id())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["v2", "v3", "v4", "v5", "v6"]);
    let default = versions
        .versions()
        .iter()
        .find(|v| v.is_default_version())
        .and_then(|v| v.version_id());
    assert_eq!(default, Some("v6"));
    stack.write(&v2());
    stack.apply();
    stack.assert_no_changes();

    // Out-of-band changes: the plan shows each drift and the update that undoes it.
    block_on(
        iam.update_role()
            .role_name("gantry-node")
            .description("hand-edited")
            .send(),
    )
    .expect("update role");
    block_on(
        iam.tag_policy()
            .policy_arn(&arn)
            .tags(
                Tag::builder()
                    .key("team")
                    .value("hand-tagged")
                    .build()
                    .expect("tag"),
            )
            .send(),
    )
    .expect("tag policy");
    block_on(
        iam.remove_role_from_instance_profile()
            .instance_profile_name("gantry-node")
            .role_name(&alt)
            .send(),
    )
    .expect("remove role");
    block_on(
        iam.detach_role_policy()
            .role_name("gantry-node")
            .policy_arn(&arn)
            .send(),
    )
    .expect("detach");
    assert_plan_shows(
        &stack,
        &[
            "hand-edited",
            "hand-tagged",
            "aws_iam_instance_profile.node",
            "aws_iam_role_policy_attachment.read will be created",
        ],
    );
    stack.apply();
    stack.assert_no_changes();
    let role = block_on(iam.get_role().role_name("gantry-node").send()).expect("role");
    assert_eq!(
        role.role().and_then(|r| r.description()),
        Some("training and serving nodes")
    );

    // Import: forget each object, import it by its id, and the plan is empty again.
    stack.reimport("aws_iam_role.node", "gantry-node");
    stack.reimport("aws_iam_role.alt", &alt);
    stack.reimport("aws_iam_policy.read", &arn);
    stack.reimport(
        "aws_iam_role_policy_attachment.read",
        &format!("gantry-node/{arn}"),
    );
    stack.reimport("aws_iam_instance_profile.node", "gantry-node");
    stack.assert_no_changes();

    // Out-of-band delete of everything: apply creates it all again.
    block_on(
        iam.remove_role_from_instance_profile()
            .instance_profile_name("gantry-node")
            .role_name(&alt)
            .send(),
    )
    .expect("remove role");
    block_on(
        iam.delete_instance_profile()
            .instance_profile_name("gantry-node")
            .send(),
    )
    .expect("delete profile");
    block_on(
        iam.detach_role_policy()
            .role_name("gantry-node")
            .policy_arn(&arn)
            .send(),
    )
    .expect("detach");
    let versions = block_on(iam.list_policy_versions().policy_arn(&arn).send()).expect("versions");
    for v in versions
        .versions()
        .iter()
        .filter(|v| !v.is_default_version())
    {
        block_on(
            iam.delete_policy_version()
                .policy_arn(&arn)
                .version_id(v.version_id().unwrap_or_default())
                .send(),
        )
        .expect("delete version");
    }
    block_on(iam.delete_policy().policy_arn(&arn).send()).expect("delete policy");
    block_on(iam.delete_role().role_name("gantry-node").send()).expect("delete role");
    assert_plan_shows(
        &stack,
        &[
            "aws_iam_role.node will be created",
            "aws_iam_policy.read will be created",
            "aws_iam_role_policy_attachment.read will be created",
            "aws_iam_instance_profile.node will be created",
        ],
    );
    stack.apply();
    let role = block_on(iam.get_role().role_name("gantry-node").send()).expect("role again");
    assert_ne!(role.role().map(|r| r.role_id()), Some(role_id.as_str()));
    block_on(
        iam.get_instance_profile()
            .instance_profile_name("gantry-node")
            .send(),
    )
    .expect("profile again");
    stack.assert_no_changes();

    // Destroy leaves nothing gantry made.
    stack.destroy();
    let roles = block_on(iam.list_roles().send()).expect("roles");
    let left: Vec<&str> = roles
        .roles()
        .iter()
        .map(|r| r.role_name())
        .filter(|n| n.starts_with("gantry-"))
        .collect();
    assert!(left.is_empty(), "roles left: {left:?}");
    let policies = block_on(
        iam.list_policies()
            .scope(aws_sdk_iam::types::PolicyScopeType::Local)
            .send(),
    )
    .expect("policies");
    assert!(
        policies.policies().is_empty(),
        "policies left: {:?}",
        policies.policies()
    );
    let profiles = block_on(iam.list_instance_profiles().send()).expect("profiles");
    assert!(
        profiles.instance_profiles().is_empty(),
        "profiles left: {:?}",
        profiles.instance_profiles()
    );
}
