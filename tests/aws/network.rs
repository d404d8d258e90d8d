//! The network resources against moto: `aws_subnet`, `aws_internet_gateway`,
//! `aws_route_table`, `aws_route_table_association` (one stack, since they build on each
//! other), `aws_security_group` (with the self-referencing all-traffic rule EFA needs) and
//! `aws_placement_group` (moto has none: served by the launcher's fake, tests/moto/README.md).
//! Every result is read back with the SDK, never through gantry.

use crate::support::{block_on, Moto, Stack};
use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, Tag};

fn tag_filter() -> Filter {
    Filter::builder()
        .name("tag-key")
        .values("gantry:address")
        .build()
}

fn tag_of(tags: &[Tag], key: &str) -> Option<String> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
        .map(str::to_owned)
}

fn id(stack: &Stack<'_>, address: &str) -> String {
    stack.state_id(address)
}

/// The plan must show changes and contain every one of `needles`.
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

// ---- subnet, internet gateway, route table, route table association ----

const NET_V1: &str = r#"
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { owner = "ml-platform" }
  }
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_vpc" "spare" {
  cidr_block = "10.1.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.0.1.0/24"
  availability_zone = "us-east-1b"
  tags              = { Name = "train-a" }
}

resource "aws_internet_gateway" "gw" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = "gw" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.gw.id
  }
  tags = { Name = "public" }
}

resource "aws_route_table" "second" {
  vpc_id = aws_vpc.main.id
}

resource "aws_route_table_association" "a" {
  subnet_id      = aws_subnet.a.id
  route_table_id = aws_route_table.public.id
}
"#;

/// V1 with every updatable attribute changed: the subnet maps public IPs, the gateway moves
/// to the spare VPC, the table gets a second route and new tags, the subnet moves to the
/// second table.
fn net_v2() -> String {
    NET_V1
        .replace(
            "  tags              = { Name = \"train-a\" }",
            "  tags              = { Name = \"train-a\" }\n  map_public_ip_on_launch = true",
        )
        .replace(
            "  vpc_id = aws_vpc.main.id\n  tags   = { Name = \"gw\" }",
            "  vpc_id = aws_vpc.spare.id\n  tags   = { Name = \"gw\" }",
        )
        .replace(
            "  tags = { Name = \"public\" }",
            "  route {\n    cidr_block = \"10.99.0.0/16\"\n    gateway_id = aws_internet_gateway.gw.id\n  }\n  tags = { Name = \"public-2\" }",
        )
        .replace(
            "  route_table_id = aws_route_table.public.id",
            "  route_table_id = aws_route_table.second.id",
        )
}

/// The route table a subnet is explicitly associated with, and the association's id.
fn association_of(ec2: &aws_sdk_ec2::Client, subnet: &str) -> Option<(String, String)> {
    let out = block_on(
        ec2.describe_route_tables()
            .filters(
                Filter::builder()
                    .name("association.subnet-id")
                    .values(subnet)
                    .build(),
            )
            .send(),
    )
    .expect("describe route tables");
    out.route_tables().iter().find_map(|t| {
        t.associations()
            .iter()
            .find(|a| a.subnet_id() == Some(subnet))
            .map(|a| {
                (
                    t.route_table_id().unwrap_or_default().to_owned(),
                    a.route_table_association_id()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
    })
}

/// `(destination, target)` of a table's routes, the `local` one left out.
fn routes_of(ec2: &aws_sdk_ec2::Client, table: &str) -> Vec<(String, String)> {
    let out = block_on(ec2.describe_route_tables().route_table_ids(table).send())
        .expect("describe route table");
    let mut routes: Vec<(String, String)> = out.route_tables()[0]
        .routes()
        .iter()
        .filter(|r| r.gateway_id() != Some("local"))
        .map(|r| {
            (
                r.destination_cidr_block().unwrap_or_default().to_owned(),
                r.gateway_id().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    routes.sort();
    routes
}

fn igw_vpc(ec2: &aws_sdk_ec2::Client, igw: &str) -> Option<String> {
    let out = block_on(
        ec2.describe_internet_gateways()
            .internet_gateway_ids(igw)
            .send(),
    )
    .expect("describe igw");
    out.internet_gateways()[0]
        .attachments()
        .iter()
        .find_map(|a| a.vpc_id())
        .map(str::to_owned)
}

#[test]
fn subnet_internet_gateway_route_table_and_association_lifecycle() {
    let moto = Moto::start();
    let ec2 = moto.ec2();
    let stack = moto.stack();
    stack.write(NET_V1);
    stack.apply();
    let (vpc, spare) = (id(&stack, "aws_vpc.main"), id(&stack, "aws_vpc.spare"));
    let subnet = id(&stack, "aws_subnet.a");
    let igw = id(&stack, "aws_internet_gateway.gw");
    let public = id(&stack, "aws_route_table.public");
    let second = id(&stack, "aws_route_table.second");
    let assoc = id(&stack, "aws_route_table_association.a");
    assert!(assoc.starts_with("rtbassoc-"), "{assoc}");

    // Read back with the SDK.
    let s = block_on(ec2.describe_subnets().subnet_ids(&subnet).send()).expect("subnet");
    let s = &s.subnets()[0];
    assert_eq!(s.vpc_id(), Some(vpc.as_str()));
    assert_eq!(s.cidr_block(), Some("10.0.1.0/24"));
    assert_eq!(s.availability_zone(), Some("us-east-1b"));
    assert_eq!(s.map_public_ip_on_launch(), Some(false));
    assert_eq!(tag_of(s.tags(), "Name").as_deref(), Some("train-a"));
    assert_eq!(tag_of(s.tags(), "owner").as_deref(), Some("ml-platform"));
    assert_eq!(
        tag_of(s.tags(), "gantry:address").as_deref(),
        Some("aws_subnet.a")
    );
    assert_eq!(
        stack
            .state_attr("aws_subnet.a", "availability_zone_id")
            .as_str(),
        s.availability_zone_id()
    );
    assert_eq!(igw_vpc(&ec2, &igw).as_deref(), Some(vpc.as_str()));
    let g = block_on(
        ec2.describe_internet_gateways()
            .internet_gateway_ids(&igw)
            .send(),
    )
    .expect("igw");
    let g = &g.internet_gateways()[0];
    assert_eq!(tag_of(g.tags(), "Name").as_deref(), Some("gw"));
    assert_eq!(
        tag_of(g.tags(), "gantry:address").as_deref(),
        Some("aws_internet_gateway.gw")
    );
    let t = block_on(ec2.describe_route_tables().route_table_ids(&public).send()).expect("rtb");
    let t = &t.route_tables()[0];
    assert_eq!(t.vpc_id(), Some(vpc.as_str()));
    assert_eq!(tag_of(t.tags(), "owner").as_deref(), Some("ml-platform"));
    assert_eq!(
        tag_of(t.tags(), "gantry:address").as_deref(),
        Some("aws_route_table.public")
    );
    assert_eq!(
        routes_of(&ec2, &public),
        vec![("0.0.0.0/0".to_owned(), igw.clone())]
    );
    assert_eq!(
        association_of(&ec2, &subnet),
        Some((public.clone(), assoc.clone()))
    );
    stack.assert_no_changes();

    // In place: same subnet, gateway and tables; the association is replaced by
    // ReplaceRouteTableAssociation, which gives it a new id (as on AWS).
    stack.write(&net_v2());
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2);
    assert!(
        plan.stdout.contains("will be updated in-place"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    stack.apply();
    assert_eq!(id(&stack, "aws_subnet.a"), subnet);
    assert_eq!(id(&stack, "aws_internet_gateway.gw"), igw);
    assert_eq!(id(&stack, "aws_route_table.public"), public);
    let s = block_on(ec2.describe_subnets().subnet_ids(&subnet).send()).expect("subnet");
    assert_eq!(s.subnets()[0].map_public_ip_on_launch(), Some(true));
    assert_eq!(igw_vpc(&ec2, &igw).as_deref(), Some(spare.as_str()));
    assert_eq!(
        routes_of(&ec2, &public),
        vec![
            ("0.0.0.0/0".to_owned(), igw.clone()),
            ("10.99.0.0/16".to_owned(), igw.clone())
        ]
    );
    let t = block_on(ec2.describe_route_tables().route_table_ids(&public).send()).expect("rtb");
    assert_eq!(
        tag_of(t.route_tables()[0].tags(), "Name").as_deref(),
        Some("public-2")
    );
    let (table, assoc) = association_of(&ec2, &subnet).expect("associated");
    assert_eq!(table, second);
    assert_eq!(id(&stack, "aws_route_table_association.a"), assoc);
    stack.assert_no_changes();

    // Out-of-band changes: the plan shows each drifted value, apply puts it back.
    block_on(
        ec2.modify_subnet_attribute()
            .subnet_id(&subnet)
            .map_public_ip_on_launch(
                aws_sdk_ec2::types::AttributeBooleanValue::builder()
                    .value(false)
                    .build(),
            )
            .send(),
    )
    .expect("modify subnet");
    block_on(
        ec2.detach_internet_gateway()
            .internet_gateway_id(&igw)
            .vpc_id(&spare)
            .send(),
    )
    .expect("detach");
    block_on(
        ec2.delete_route()
            .route_table_id(&public)
            .destination_cidr_block("10.99.0.0/16")
            .send(),
    )
    .expect("delete route");
    assert_plan_shows(
        &stack,
        &[
            "aws_subnet.a will be updated in-place",
            "map_public_ip_on_launch = false -> true",
            "aws_internet_gateway.gw will be updated in-place",
            spare.as_str(),
            "aws_route_table.public will be updated in-place",
            "10.99.0.0/16",
        ],
    );
    stack.apply();
    stack.assert_no_changes();
    assert_eq!(igw_vpc(&ec2, &igw).as_deref(), Some(spare.as_str()));
    assert_eq!(routes_of(&ec2, &public).len(), 2);
    // An association has nothing that can change in place without changing its id
    // (ReplaceRouteTableAssociation makes a new one); its drift is that it is gone.
    block_on(ec2.disassociate_route_table().association_id(&assoc).send()).expect("disassociate");
    assert_plan_shows(
        &stack,
        &["aws_route_table_association.a", "will be created"],
    );
    stack.apply();
    let (table, assoc) = association_of(&ec2, &subnet).expect("associated again");
    assert_eq!(table, second);
    stack.assert_no_changes();

    // Import each by id; the association by `subnet-id/route-table-id`.
    stack.reimport("aws_subnet.a", &subnet);
    stack.reimport("aws_internet_gateway.gw", &igw);
    stack.reimport("aws_route_table.public", &public);
    let rm = stack.gantry(&["state", "rm", "aws_route_table_association.a"]);
    assert_eq!(rm.code, 0, "{}", rm.both());
    let run = stack.gantry(&[
        "import",
        "aws_route_table_association.a",
        &format!("{subnet}/{second}"),
    ]);
    assert_eq!(run.code, 0, "import failed:\n{}", run.both());
    assert_eq!(id(&stack, "aws_route_table_association.a"), assoc);
    stack.assert_no_changes();

    // Out-of-band delete of all four: apply makes them again.
    block_on(ec2.disassociate_route_table().association_id(&assoc).send()).expect("disassociate");
    block_on(ec2.delete_subnet().subnet_id(&subnet).send()).expect("delete subnet");
    block_on(ec2.delete_route_table().route_table_id(&public).send()).expect("delete rtb");
    block_on(
        ec2.detach_internet_gateway()
            .internet_gateway_id(&igw)
            .vpc_id(&spare)
            .send(),
    )
    .expect("detach");
    block_on(
        ec2.delete_internet_gateway()
            .internet_gateway_id(&igw)
            .send(),
    )
    .expect("delete igw");
    assert_plan_shows(
        &stack,
        &[
            "aws_subnet.a will be created",
            "aws_internet_gateway.gw will be created",
            "aws_route_table.public will be created",
            "aws_route_table_association.a will be created",
        ],
    );
    stack.apply();
    let new_subnet = id(&stack, "aws_subnet.a");
    assert_ne!(new_subnet, subnet);
    assert_ne!(id(&stack, "aws_internet_gateway.gw"), igw);
    assert_ne!(id(&stack, "aws_route_table.public"), public);
    assert_eq!(
        association_of(&ec2, &new_subnet).map(|a| a.0),
        Some(second.clone())
    );
    stack.assert_no_changes();

    // A force-new change replaces the subnet (and so its association).
    stack.write(&net_v2().replace("10.0.1.0/24", "10.0.2.0/24"));
    let (_, plan) = stack.plan_code();
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    stack.apply();
    assert_ne!(id(&stack, "aws_subnet.a"), new_subnet);
    stack.assert_no_changes();

    // Destroy leaves nothing gantry made.
    stack.destroy();
    let subnets = block_on(ec2.describe_subnets().filters(tag_filter()).send()).expect("subnets");
    assert!(
        subnets.subnets().is_empty(),
        "left: {:?}",
        subnets.subnets()
    );
    let igws = block_on(
        ec2.describe_internet_gateways()
            .filters(tag_filter())
            .send(),
    )
    .expect("igws");
    assert!(
        igws.internet_gateways().is_empty(),
        "left: {:?}",
        igws.internet_gateways()
    );
    let rtbs = block_on(ec2.describe_route_tables().filters(tag_filter()).send()).expect("rtbs");
    assert!(
        rtbs.route_tables().is_empty(),
        "left: {:?}",
        rtbs.route_tables()
    );
    let vpcs = block_on(ec2.describe_vpcs().filters(tag_filter()).send()).expect("vpcs");
    assert!(vpcs.vpcs().is_empty(), "left: {:?}", vpcs.vpcs());
}

// ---- security groups ----

const SG_V1: &str = r#"
provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

# What an EFA cluster needs: all traffic to and from the group itself, and out anywhere.
resource "aws_security_group" "efa" {
  name        = "efa"
  description = "EFA training nodes"
  vpc_id      = aws_vpc.main.id

  ingress {
    from_port = 0
    to_port   = 0
    protocol  = "-1"
    self      = true
  }

  egress {
    from_port = 0
    to_port   = 0
    protocol  = "-1"
    self      = true
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = { Name = "efa" }
}

# No egress blocks: the allow-all egress rule AWS adds is removed, as Terraform does.
resource "aws_security_group" "web" {
  name_prefix = "web-"
  vpc_id      = aws_vpc.main.id

  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "6"
    cidr_blocks = ["10.0.0.0/8", "192.0.2.0/24"]
    description = "https"
  }

  ingress {
    from_port       = 8000
    to_port         = 8999
    protocol        = "tcp"
    security_groups = [aws_security_group.efa.id]
  }
}
"#;

fn group(ec2: &aws_sdk_ec2::Client, id: &str) -> aws_sdk_ec2::types::SecurityGroup {
    let out = block_on(ec2.describe_security_groups().group_ids(id).send()).expect("describe sg");
    out.security_groups()[0].clone()
}

/// `(protocol, from, to, source)` of each source of each permission, sorted.
fn rules(perms: &[IpPermission]) -> Vec<(String, i32, i32, String)> {
    let mut out = Vec::new();
    for p in perms {
        let head = |src: String| {
            (
                p.ip_protocol().unwrap_or_default().to_owned(),
                p.from_port().unwrap_or(0),
                p.to_port().unwrap_or(0),
                src,
            )
        };
        out.extend(
            p.ip_ranges()
                .iter()
                .map(|r| head(r.cidr_ip().unwrap_or_default().into())),
        );
        out.extend(
            p.user_id_group_pairs()
                .iter()
                .map(|g| head(g.group_id().unwrap_or_default().into())),
        );
    }
    out.sort();
    out
}

fn rule(proto: &str, from: i32, to: i32, src: &str) -> (String, i32, i32, String) {
    (proto.to_owned(), from, to, src.to_owned())
}

#[test]
fn security_group_lifecycle() {
    let moto = Moto::start();
    let ec2 = moto.ec2();
    let stack = moto.stack();
    stack.write(SG_V1);
    stack.apply();
    let efa = id(&stack, "aws_security_group.efa");
    let web = id(&stack, "aws_security_group.web");

    // Read back with the SDK: the self-referencing all-traffic rules, and no default egress
    // rule left on the group that asked for none.
    let g = group(&ec2, &efa);
    assert_eq!(g.group_name(), Some("efa"));
    assert_eq!(g.description(), Some("EFA training nodes"));
    assert_eq!(
        tag_of(g.tags(), "gantry:address").as_deref(),
        Some("aws_security_group.efa")
    );
    assert_eq!(rules(g.ip_permissions()), vec![rule("-1", 0, 0, &efa)]);
    assert_eq!(
        rules(g.ip_permissions_egress()),
        vec![rule("-1", 0, 0, "0.0.0.0/0"), rule("-1", 0, 0, &efa)]
    );
    let w = group(&ec2, &web);
    assert!(
        w.group_name().is_some_and(|n| n.starts_with("web-")),
        "{:?}",
        w.group_name()
    );
    assert_eq!(w.description(), Some("Managed by Terraform"));
    assert!(
        w.ip_permissions_egress().is_empty(),
        "{:?}",
        w.ip_permissions_egress()
    );
    assert_eq!(
        rules(w.ip_permissions()),
        vec![
            rule("tcp", 443, 443, "10.0.0.0/8"),
            rule("tcp", 443, 443, "192.0.2.0/24"),
            rule("tcp", 8000, 8999, &efa),
        ]
    );
    let https = w
        .ip_permissions()
        .iter()
        .find(|p| p.from_port() == Some(443))
        .expect("443");
    assert!(https
        .ip_ranges()
        .iter()
        .all(|r| r.description() == Some("https")));
    assert_eq!(
        stack.state_attr("aws_security_group.web", "name_prefix"),
        "web-"
    );
    stack.assert_no_changes();

    // In place: a new rule, a changed description on one, new tags; same groups.
    stack.write(
        &SG_V1
            .replace("description = \"https\"", "description = \"tls\"")
            .replace(
                "  tags = { Name = \"efa\" }",
                "  ingress {\n    from_port   = 22\n    to_port     = 22\n    protocol    = \"tcp\"\n    cidr_blocks = [\"10.0.0.0/8\"]\n  }\n\n  tags = { Name = \"efa-2\" }",
            ),
    );
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2);
    assert!(
        plan.stdout.contains("will be updated in-place"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    stack.apply();
    assert_eq!(id(&stack, "aws_security_group.efa"), efa);
    assert_eq!(id(&stack, "aws_security_group.web"), web);
    let g = group(&ec2, &efa);
    assert_eq!(
        rules(g.ip_permissions()),
        vec![rule("-1", 0, 0, &efa), rule("tcp", 22, 22, "10.0.0.0/8")]
    );
    assert_eq!(tag_of(g.tags(), "Name").as_deref(), Some("efa-2"));
    let w = group(&ec2, &web);
    let https = w
        .ip_permissions()
        .iter()
        .find(|p| p.from_port() == Some(443))
        .expect("443");
    assert!(https
        .ip_ranges()
        .iter()
        .all(|r| r.description() == Some("tls")));
    stack.assert_no_changes();

    // Out of band: a rule added by hand shows as drift and apply removes it; a rule
    // revoked by hand comes back.
    block_on(
        ec2.authorize_security_group_ingress()
            .group_id(&web)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(8080)
                    .to_port(8080)
                    .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                    .build(),
            )
            .send(),
    )
    .expect("authorize");
    block_on(
        ec2.revoke_security_group_ingress()
            .group_id(&efa)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("-1")
                    .user_id_group_pairs(
                        aws_sdk_ec2::types::UserIdGroupPair::builder()
                            .group_id(&efa)
                            .build(),
                    )
                    .build(),
            )
            .send(),
    )
    .expect("revoke");
    assert_plan_shows(
        &stack,
        &[
            "aws_security_group.efa will be updated in-place",
            "aws_security_group.web will be updated in-place",
            "8080",
        ],
    );
    stack.apply();
    stack.assert_no_changes();
    assert!(!rules(group(&ec2, &web).ip_permissions()).contains(&rule(
        "tcp",
        8080,
        8080,
        "0.0.0.0/0"
    )));
    assert!(rules(group(&ec2, &efa).ip_permissions()).contains(&rule("-1", 0, 0, &efa)));

    // Import by id: the rules come back as the blocks written.
    stack.reimport("aws_security_group.efa", &efa);
    stack.reimport("aws_security_group.web", &web);
    stack.assert_no_changes();

    // Out-of-band delete: apply makes it again (with its rules).
    block_on(ec2.delete_security_group().group_id(&web).send()).expect("delete sg");
    assert_plan_shows(&stack, &["aws_security_group.web will be created"]);
    stack.apply();
    let new_web = id(&stack, "aws_security_group.web");
    assert_ne!(new_web, web);
    assert_eq!(rules(group(&ec2, &new_web).ip_permissions()).len(), 3);
    stack.assert_no_changes();

    // The description forces a new group (`web`: nothing references it; replacing a group
    // that other groups' rules name needs create_before_destroy on AWS, as in Terraform).
    stack.write(&SG_V1.replace(
        "  name_prefix = \"web-\"",
        "  name_prefix = \"web-\"\n  description = \"web tier\"",
    ));
    let (_, plan) = stack.plan_code();
    assert!(
        plan.stdout
            .contains("aws_security_group.web must be replaced"),
        "{}",
        plan.stdout
    );
    stack.apply();
    let newest = id(&stack, "aws_security_group.web");
    assert_ne!(newest, new_web);
    assert_eq!(group(&ec2, &newest).description(), Some("web tier"));
    stack.assert_no_changes();

    // Destroy leaves nothing gantry made.
    stack.destroy();
    let left = block_on(ec2.describe_security_groups().filters(tag_filter()).send()).expect("sgs");
    assert!(
        left.security_groups().is_empty(),
        "left: {:?}",
        left.security_groups()
    );
    let vpcs = block_on(ec2.describe_vpcs().filters(tag_filter()).send()).expect("vpcs");
    assert!(vpcs.vpcs().is_empty(), "left: {:?}", vpcs.vpcs());
}

// ---- placement groups ----

// moto 5.2.5 has no placement groups; tests/moto/launcher.py serves CreatePlacementGroup,
// DescribePlacementGroups and DeletePlacementGroup after the EC2 API reference, and moto's
// own tag store holds their tags (tests/moto/README.md, gaps 1 and 2).
const PG_V1: &str = r#"
provider "aws" {
  region = "us-east-1"
}

resource "aws_placement_group" "efa" {
  name     = "efa-cluster"
  strategy = "cluster"
  tags     = { Name = "efa" }
}

resource "aws_placement_group" "parts" {
  name            = "parts"
  strategy        = "partition"
  partition_count = 3
}

resource "aws_placement_group" "spread" {
  name         = "spread"
  strategy     = "spread"
  spread_level = "host"
}
"#;

fn placement_group(
    ec2: &aws_sdk_ec2::Client,
    name: &str,
) -> Option<aws_sdk_ec2::types::PlacementGroup> {
    match block_on(ec2.describe_placement_groups().group_names(name).send()) {
        Ok(out) => out.placement_groups().first().cloned(),
        Err(_) => None,
    }
}

#[test]
fn placement_group_lifecycle() {
    let moto = Moto::start();
    let ec2 = moto.ec2();
    let stack = moto.stack();
    stack.write(PG_V1);
    stack.apply();
    assert_eq!(id(&stack, "aws_placement_group.efa"), "efa-cluster");
    let pg_id = stack
        .state_attr("aws_placement_group.efa", "placement_group_id")
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // Read back with the SDK.
    let g = placement_group(&ec2, "efa-cluster").expect("efa-cluster");
    assert_eq!(g.strategy().map(|s| s.as_str()), Some("cluster"));
    assert_eq!(g.group_id(), Some(pg_id.as_str()));
    assert_eq!(tag_of(g.tags(), "Name").as_deref(), Some("efa"));
    assert_eq!(
        tag_of(g.tags(), "gantry:address").as_deref(),
        Some("aws_placement_group.efa")
    );
    let p = placement_group(&ec2, "parts").expect("parts");
    assert_eq!(p.partition_count(), Some(3));
    let s = placement_group(&ec2, "spread").expect("spread");
    assert_eq!(s.spread_level().map(|l| l.as_str()), Some("host"));
    stack.assert_no_changes();

    // In place: only tags can change; the group stays the same.
    stack.write(&PG_V1.replace("{ Name = \"efa\" }", "{ Name = \"efa\", job = \"llm\" }"));
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2);
    assert!(
        plan.stdout.contains("will be updated in-place"),
        "{}",
        plan.stdout
    );
    stack.apply();
    let g = placement_group(&ec2, "efa-cluster").expect("efa-cluster");
    assert_eq!(g.group_id(), Some(pg_id.as_str()));
    assert_eq!(tag_of(g.tags(), "job").as_deref(), Some("llm"));
    stack.assert_no_changes();

    // Out-of-band tag change: the plan shows it, apply undoes it.
    block_on(
        ec2.create_tags()
            .resources(&pg_id)
            .tags(Tag::builder().key("Name").value("hand-edited").build())
            .send(),
    )
    .expect("tag");
    assert_plan_shows(
        &stack,
        &[
            "aws_placement_group.efa will be updated in-place",
            "hand-edited",
        ],
    );
    stack.apply();
    stack.assert_no_changes();

    // Import by name.
    stack.reimport("aws_placement_group.efa", "efa-cluster");
    stack.reimport("aws_placement_group.parts", "parts");
    stack.assert_no_changes();

    // Out-of-band delete: apply makes it again.
    block_on(ec2.delete_placement_group().group_name("parts").send()).expect("delete pg");
    assert_plan_shows(&stack, &["aws_placement_group.parts will be created"]);
    stack.apply();
    assert_eq!(
        placement_group(&ec2, "parts").and_then(|p| p.partition_count()),
        Some(3)
    );
    stack.assert_no_changes();

    // A new strategy is a new group.
    stack.write(&PG_V1.replace("strategy = \"cluster\"", "strategy = \"spread\""));
    let (_, plan) = stack.plan_code();
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    stack.apply();
    let g = placement_group(&ec2, "efa-cluster").expect("efa-cluster");
    assert_eq!(g.strategy().map(|s| s.as_str()), Some("spread"));
    assert_ne!(g.group_id(), Some(pg_id.as_str()));

    // Destroy leaves nothing gantry made.
    stack.destroy();
    let left = block_on(ec2.describe_placement_groups().filters(tag_filter()).send()).expect("pgs");
    assert!(
        left.placement_groups().is_empty(),
        "left: {:?}",
        left.placement_groups()
    );
}
