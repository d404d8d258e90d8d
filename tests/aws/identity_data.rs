//! The identity data sources against moto: `aws_caller_identity` (compared with STS called
//! from the test) and `aws_iam_policy_document` (rendered as Terraform renders it, and a
//! change to it flowing into the role that uses it).

use crate::support::{block_on, Moto, Stack};

const STACK: &str = r#"
provider "aws" {
  region = "us-east-1"
}

data "aws_caller_identity" "me" {}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "Nodes"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.me.account_id}:root"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalTag/team"
      values   = ["ml"]
    }
  }
}

resource "aws_iam_role" "node" {
  name               = "gantry-identity"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

output "account_id" {
  value = data.aws_caller_identity.me.account_id
}

output "caller_arn" {
  value = data.aws_caller_identity.me.arn
}

output "user_id" {
  value = data.aws_caller_identity.me.user_id
}

output "id" {
  value = data.aws_caller_identity.me.id
}

output "trust" {
  value = data.aws_iam_policy_document.trust.json
}

output "trust_min" {
  value = data.aws_iam_policy_document.trust.minified_json
}
"#;

fn output(stack: &Stack<'_>, name: &str) -> String {
    let run = stack.gantry(&["output", name, "--raw"]);
    assert_eq!(run.code, 0, "{}", run.both());
    run.stdout.trim_end_matches('\n').to_owned()
}

#[test]
fn identity_data_sources() {
    let moto = Moto::start();
    let stack = moto.stack();
    stack.write(STACK);
    stack.apply();

    // aws_caller_identity: what STS says to an independent client.
    let sts = aws_sdk_sts::Client::new(&moto.sdk());
    let me = block_on(sts.get_caller_identity().send()).expect("caller identity");
    let account = me.account().expect("account");
    assert_eq!(output(&stack, "account_id"), account);
    assert_eq!(output(&stack, "id"), account);
    assert_eq!(output(&stack, "caller_arn"), me.arn().expect("arn"));
    assert_eq!(output(&stack, "user_id"), me.user_id().expect("user id"));

    // aws_iam_policy_document: Terraform's rendering, byte for byte.
    let expected = format!(
        r#"{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Sid": "Nodes",
      "Effect": "Allow",
      "Action": "sts:AssumeRole",
      "Principal": {{
        "AWS": "arn:aws:iam::{account}:root",
        "Service": "ec2.amazonaws.com"
      }},
      "Condition": {{
        "StringEquals": {{
          "aws:PrincipalTag/team": "ml"
        }}
      }}
    }}
  ]
}}"#
    );
    assert_eq!(output(&stack, "trust"), expected);
    let minified: serde_json::Value =
        serde_json::from_str(&output(&stack, "trust_min")).expect("json");
    let pretty: serde_json::Value = serde_json::from_str(&expected).expect("json");
    assert_eq!(minified, pretty);

    // The role holds exactly that document (read back with the SDK).
    let iam = moto.iam();
    let role = block_on(iam.get_role().role_name("gantry-identity").send()).expect("role");
    let doc = role
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .unwrap_or_default();
    let doc: serde_json::Value =
        serde_json::from_str(&percent_decode(doc)).expect("trust policy json");
    assert_eq!(doc, pretty);
    stack.assert_no_changes();

    // A change to the document is a change to the role's trust policy.
    stack.write(&STACK.replace(r#"values   = ["ml"]"#, r#"values   = ["ml", "research"]"#));
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2, "{}", plan.both());
    stack.apply();
    let role = block_on(iam.get_role().role_name("gantry-identity").send()).expect("role");
    let doc = percent_decode(
        role.role()
            .and_then(|r| r.assume_role_policy_document())
            .unwrap_or_default(),
    );
    assert!(doc.contains("research"), "{doc}");
    assert!(output(&stack, "trust").contains("\"research\""));
    stack.assert_no_changes();

    stack.destroy();
    let roles = block_on(iam.list_roles().send()).expect("roles");
    assert!(roles
        .roles()
        .iter()
        .all(|r| r.role_name() != "gantry-identity"));
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
