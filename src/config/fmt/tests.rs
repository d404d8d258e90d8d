#![allow(clippy::unwrap_used)]

use super::format_source;

/// Formats `src`, checking on the way the two properties every input must have: formatting the
/// output again changes nothing, and the output means the same as the input.
fn fmt(src: &str) -> String {
    let out = format_source(src).unwrap();
    let again = format_source(&out).unwrap();
    assert_eq!(again, out, "not idempotent; first pass:\n{out}");
    assert_same_meaning(src, &out);
    assert_eq!(
        non_whitespace(src),
        non_whitespace(&out),
        "content changed:\n{out}"
    );
    out
}

/// Everything but whitespace: formatting may only move whitespace around.
fn non_whitespace(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn assert_same_meaning(src: &str, out: &str) {
    let before = hcl::parse(src).unwrap();
    let after = hcl::parse(out).unwrap();
    assert_eq!(before, after, "formatting changed the meaning:\n{out}");
}

#[track_caller]
fn assert_fmt(src: &str, expected: &str) {
    let out = fmt(src);
    assert_eq!(
        out, expected,
        "\n--- got ---\n{out}--- expected ---\n{expected}"
    );
}

#[test]
fn aligns_equals_of_an_attribute_run() {
    assert_fmt(
        r#"
a = 1
bungle="two"
ccc    =   3
"#,
        r#"a      = 1
bungle = "two"
ccc    = 3
"#,
    );
}

#[test]
fn blank_line_ends_an_alignment_run() {
    assert_fmt(
        r"
a = 1
bb = 2

cccc = 3
d = 4
",
        r"a  = 1
bb = 2

cccc = 3
d    = 4
",
    );
}

#[test]
fn nested_block_ends_an_alignment_run() {
    assert_fmt(
        r"
resource x y {
ami = 1
instance_type = 2
ebs {
size = 8
}
tags_all = 3
id = 4
}
",
        r"resource x y {
  ami           = 1
  instance_type = 2
  ebs {
    size = 8
  }
  tags_all = 3
  id       = 4
}
",
    );
}

#[test]
fn multi_line_value_ends_an_alignment_run() {
    assert_fmt(
        r"
a = 1
long_name = [
1,
]
b = 2
cc = 3
",
        r"a = 1
long_name = [
  1,
]
b  = 2
cc = 3
",
    );
}

#[test]
fn comment_line_ends_an_alignment_run() {
    // As in terraform fmt: only directly adjacent attribute lines align.
    assert_fmt(
        r"
a = 1
# about bbb
bbb = 2
",
        r"a = 1
# about bbb
bbb = 2
",
    );
}

#[test]
fn heredoc_attribute_takes_part_in_alignment() {
    assert_fmt(
        r"
a = 1
bb = <<EOT
  text
EOT
ccc = 3
",
        r"a   = 1
bb  = <<EOT
  text
EOT
ccc = 3
",
    );
}

#[test]
fn aligns_items_of_multi_line_objects() {
    assert_fmt(
        r#"
tags = {
Name = "main"
    Environment= var.env
  "kubernetes.io/role"   =  "node"

  x = {
  a = 1
      bcd = 2
  }
}
"#,
        r#"tags = {
  Name                 = "main"
  Environment          = var.env
  "kubernetes.io/role" = "node"

  x = {
    a   = 1
    bcd = 2
  }
}
"#,
    );
}

#[test]
fn alignment_counts_characters_not_bytes() {
    assert_fmt(
        "é = \"ü\" # x\nabc = \"u\" # y\n",
        "é   = \"ü\" # x\nabc = \"u\" # y\n",
    );
}

#[test]
fn aligns_adjacent_trailing_comments() {
    assert_fmt(
        r#"
a = 1 # foo
bungle = "bonce" # baz
zebra = "striped" # baz

x = 1 # alone
"#,
        r#"a      = 1         # foo
bungle = "bonce"   # baz
zebra  = "striped" # baz

x = 1 # alone
"#,
    );
}

#[test]
fn trailing_comments_align_across_a_multi_line_value() {
    // The same layout hclwrite's own tests expect.
    assert_fmt(
        r##"
a="apple"# foo
bungle=(# woo parens
"bonce"
)# baz
zebra="striped"# baz
"##,
        r#"a = "apple" # foo
bungle = (  # woo parens
  "bonce"
)                 # baz
zebra = "striped" # baz
"#,
    );
}

#[test]
fn keeps_every_comment() {
    assert_fmt(
        r#"
# File header.
// Second style.

/* Block
   comment, kept verbatim
     inside. */
resource "a" "b" { # after the brace
  # Leading comment.
  name = "x"   // trailing
  /* inline */ size = 2
  list = [
    "a", # first
    # between items
    "b" /* second */,
  ]
  obj = {
    # inside an object
    k = "v" # trailing in object
  }
  # Last line of the body.
}
# End of file.
"#,
        r#"# File header.
// Second style.

/* Block
   comment, kept verbatim
     inside. */
resource "a" "b" { # after the brace
  # Leading comment.
  name              = "x" // trailing
  /* inline */ size = 2
  list = [
    "a", # first
    # between items
    "b" /* second */,
  ]
  obj = {
    # inside an object
    k = "v" # trailing in object
  }
  # Last line of the body.
}
# End of file.
"#,
    );
}

#[test]
fn fixes_indentation_of_nested_blocks() {
    assert_fmt(
        r#"
resource "aws_instance" "web" {
        ami = "ami-123"
network_interface {
            device_index = 0
      dynamic "ebs" {
  for_each = var.disks
     content {
size = ebs.value
               }
}
    }
          }
"#,
        r#"resource "aws_instance" "web" {
  ami = "ami-123"
  network_interface {
    device_index = 0
    dynamic "ebs" {
      for_each = var.disks
      content {
        size = ebs.value
      }
    }
  }
}
"#,
    );
}

#[test]
fn reindents_multi_line_arrays_objects_and_calls() {
    assert_fmt(
        r#"
locals {
cidrs = [
"10.0.0.0/16",
        "10.1.0.0/16",
]
merged = merge(
        var.tags,
    {
  Name = "x"
    },
)
}
"#,
        r#"locals {
  cidrs = [
    "10.0.0.0/16",
    "10.1.0.0/16",
  ]
  merged = merge(
    var.tags,
    {
      Name = "x"
    },
  )
}
"#,
    );
}

#[test]
fn keeps_heredocs_byte_for_byte() {
    let src = "resource \"x\" \"y\" {\n      user_data = <<-EOT\n    #!/bin/sh\n  echo   ${ var.a+var.b }  \n\n\n\t  done\n      EOT\n  policy = <<EOF\n{\n\"a\":  1\n}\nEOF\n}\n";
    let expected = "resource \"x\" \"y\" {\n  user_data = <<-EOT\n    #!/bin/sh\n  echo   ${ var.a+var.b }  \n\n\n\t  done\n      EOT\n  policy    = <<EOF\n{\n\"a\":  1\n}\nEOF\n}\n";
    assert_fmt(src, expected);
}

#[test]
fn keeps_strings_and_templates_byte_for_byte() {
    assert_fmt(
        r#"
a = "${ var.x+1 }-%{ if var.y }y%{ endif }"
b = "caf\u00e9 \"quoted\" $${literal}"
c = a["key with  spaces"]
d = { "k  k" = 1 }
"#,
        r#"a = "${ var.x+1 }-%{ if var.y }y%{ endif }"
b = "caf\u00e9 \"quoted\" $${literal}"
c = a["key with  spaces"]
d = { "k  k" = 1 }
"#,
    );
}

#[test]
fn collapses_blank_lines() {
    assert_fmt(
        "\n\n\n# top\n\n\n\na = 1\n\n\n\nb {\n\n\n  c = 2\n\n\n  d = 3\n\n\n}\n\n\nlist = [\n\n  1,\n\n\n  2,\n\n]\n\n\n\n",
        "# top\n\na = 1\n\nb {\n  c = 2\n\n  d = 3\n}\n\nlist = [\n  1,\n\n  2,\n]\n",
    );
}

#[test]
fn normalises_block_headers() {
    assert_fmt(
        r#"
resource   "aws_vpc"     "main"{
}
provider aws{}
locals    {   }
terraform {
  backend "s3"   {}
}
one_line { a=1 }
"#,
        r#"resource "aws_vpc" "main" {
}
provider aws {}
locals {}
terraform {
  backend "s3" {}
}
one_line { a = 1 }
"#,
    );
}

#[test]
fn normalises_expression_spacing() {
    assert_fmt(
        r#"
a = [ x,y ,  z ]
b = x+y*-1
c = ( x - 2 ) / 4 % 3
d = ! var.enabled && var.x>=1 || var.y!=2
e = var.a?1:- 1
f = foo( 1,2 )[ 0 ]
g = provider :: ns :: fn(a,b ...)
h = { a=1, b=2 }
i = aws_instance.web [*] . id
j = var.list . 0 . id
k = [ [ ] ]
l = {}
m = x == - 1
n = "abc" [0]
"#,
        r#"a = [x, y, z]
b = x + y * -1
c = (x - 2) / 4 % 3
d = !var.enabled && var.x >= 1 || var.y != 2
e = var.a ? 1 : -1
f = foo(1, 2)[0]
g = provider::ns::fn(a, b...)
h = { a = 1, b = 2 }
i = aws_instance.web[*].id
j = var.list.0.id
k = [[]]
l = {}
m = x == -1
n = "abc"[0]
"#,
    );
}

#[test]
fn normalises_for_expressions() {
    assert_fmt(
        r"
a = [for x in [1,2]: x*2 if x>1]
b = {for k,v in var.m: k=>-v}
c = {for k, v in var.m : v => k...}
d = [for x in var.xs: x if - x < 0]
",
        r"a = [for x in [1, 2] : x * 2 if x > 1]
b = { for k, v in var.m : k => -v }
c = { for k, v in var.m : v => k... }
d = [for x in var.xs : x if -x < 0]
",
    );
}

#[test]
fn list_of_objects_on_shared_lines_matches_terraform() {
    // terraform fmt indents a `}, {` line like the body it continues.
    assert_fmt(
        r"
rules = [{
port = 80
}, {
port = 443
}]
",
        r"rules = [{
  port = 80
  }, {
  port = 443
}]
",
    );
}

#[test]
fn ends_with_exactly_one_newline() {
    assert_eq!(fmt("a = 1"), "a = 1\n");
    assert_eq!(fmt("a = 1\n\n\n\n"), "a = 1\n");
    assert_eq!(fmt("# only a comment"), "# only a comment\n");
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("\n\n  \n"), "");
}

#[test]
fn normalises_crlf_tabs_and_trailing_whitespace() {
    assert_eq!(
        fmt("a=1   \r\nbb=2\r\nc {\r\n\td = 3 # note   \r\n}\r\n"),
        "a  = 1\nbb = 2\nc {\n  d = 3 # note\n}\n"
    );
}

#[test]
fn returns_parse_errors() {
    assert!(format_source("a = [").is_err());
    assert!(format_source("resource \"x\" {").is_err());
    assert!(format_source("a = 1 b = 2").is_err());
}

/// A realistic, badly formatted stack.
const MESSY_STACK: &str = r#"
# Network stack for the training cluster.
terraform {
required_version = ">= 1.5"
  required_providers {
    aws = {
      source = "hashicorp/aws"
   version = "~> 5.0"
    }
  }
}

variable "region" {
  type = string
  default = "us-east-1"   # primary region
  description="Region to deploy into"
}
variable "subnets" {
  type = map(object({ cidr = string, az = string }))
  default = {}
}



locals {
common_tags = {
Project = "gantry"
    Owner= "ml-platform"   // team
}
  gpu_count = var.nodes*8
  name_prefix="${var.env}-train"
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
  enable_dns_support = true
  tags = merge(local.common_tags, { Name = "${local.name_prefix}-vpc" })
}

resource "aws_subnet" "this" {
  for_each = var.subnets
  vpc_id = aws_vpc.main.id
  cidr_block = each.value.cidr
  availability_zone = each.value.az

  dynamic "timeouts" {
    for_each = var.slow ? [1] : []
      content {
create = "30m"
      }
  }
}

module "cluster" {
  source = "./modules/cluster"
  subnet_ids = [for s in aws_subnet.this: s.id]
  user_data = <<-EOT
    #!/bin/bash
    echo "nodes: ${var.nodes}"
  EOT
  node_count = var.nodes
}

output "vpc_id" {
  value = aws_vpc.main.id
}
"#;

const FORMATTED_STACK: &str = r#"# Network stack for the training cluster.
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

variable "region" {
  type        = string
  default     = "us-east-1" # primary region
  description = "Region to deploy into"
}
variable "subnets" {
  type    = map(object({ cidr = string, az = string }))
  default = {}
}

locals {
  common_tags = {
    Project = "gantry"
    Owner   = "ml-platform" // team
  }
  gpu_count   = var.nodes * 8
  name_prefix = "${var.env}-train"
}

resource "aws_vpc" "main" {
  cidr_block         = "10.0.0.0/16"
  enable_dns_support = true
  tags               = merge(local.common_tags, { Name = "${local.name_prefix}-vpc" })
}

resource "aws_subnet" "this" {
  for_each          = var.subnets
  vpc_id            = aws_vpc.main.id
  cidr_block        = each.value.cidr
  availability_zone = each.value.az

  dynamic "timeouts" {
    for_each = var.slow ? [1] : []
    content {
      create = "30m"
    }
  }
}

module "cluster" {
  source     = "./modules/cluster"
  subnet_ids = [for s in aws_subnet.this : s.id]
  user_data  = <<-EOT
    #!/bin/bash
    echo "nodes: ${var.nodes}"
  EOT
  node_count = var.nodes
}

output "vpc_id" {
  value = aws_vpc.main.id
}
"#;

#[test]
fn formats_a_realistic_stack() {
    assert_fmt(MESSY_STACK, FORMATTED_STACK);
}

#[test]
fn formatted_stack_is_a_fixed_point() {
    assert_eq!(format_source(FORMATTED_STACK).unwrap(), FORMATTED_STACK);
}

#[test]
fn every_literal_kind_is_kept_verbatim() {
    // Labels, object keys, index keys, call arguments, conditionals, templates and heredocs
    // nested in expressions: their odd inner spacing must survive.
    let src = r#"
block "a  b" lbl {
  x = f("p  q", { "k  k" = ["v  v"] }, m["i  i"], c ? "t  t" : <<EOT
h  h
EOT
  )
}
"#;
    let out = fmt(src);
    for literal in [
        "\"a  b\"",
        "\"p  q\"",
        "\"k  k\"",
        "\"v  v\"",
        "\"i  i\"",
        "\"t  t\"",
        "<<EOT\nh  h\nEOT",
    ] {
        assert!(out.contains(literal), "{literal} lost in:\n{out}");
    }
}
