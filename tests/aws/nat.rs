//! `aws_eip` and `aws_nat_gateway` against moto, in the stack a private training subnet
//! needs: VPC, public and private subnets, internet gateway, Elastic IP, NAT gateway, and a
//! route table sending the private subnet's traffic through the NAT gateway. Every result
//! is read back with the SDK, never through gantry.
//!
//! moto keeps a deleted NAT gateway's Elastic IP association and network interface (so the
//! address could never be used again): the launcher frees both, as AWS does
//! (tests/moto/README.md).

use crate::support::{block_on, Moto, Stack};
use aws_sdk_ec2::types::{Address, Filter, NatGateway, NatGatewayState, Tag};

const NAT_V1: &str = r#"
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { owner = "ml-platform" }
  }
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "public" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.0.1.0/24"
  availability_zone = "us-east-1a"
}

resource "aws_subnet" "private" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.0.2.0/24"
  availability_zone = "us-east-1a"
}

resource "aws_internet_gateway" "gw" {
  vpc_id = aws_vpc.main.id
}

resource "aws_eip" "nat" {
  domain     = "vpc"
  tags       = { Name = "nat-ip" }
  depends_on = [aws_internet_gateway.gw]
}

resource "aws_nat_gateway" "nat" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public.id
  tags          = { Name = "nat" }
  depends_on    = [aws_internet_gateway.gw]
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.nat.id
  }
}

resource "aws_route_table_association" "private" {
  subnet_id      = aws_subnet.private.id
  route_table_id = aws_route_table.private.id
}
"#;

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

fn attr(stack: &Stack<'_>, address: &str, name: &str) -> Option<String> {
    stack.state_attr(address, name).as_str().map(str::to_owned)
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

fn address(ec2: &aws_sdk_ec2::Client, allocation: &str) -> Address {
    let out = block_on(ec2.describe_addresses().allocation_ids(allocation).send())
        .expect("describe addresses");
    out.addresses()[0].clone()
}

fn gateway(ec2: &aws_sdk_ec2::Client, nat: &str) -> NatGateway {
    let out = block_on(ec2.describe_nat_gateways().nat_gateway_ids(nat).send())
        .expect("describe NAT gateways");
    out.nat_gateways()[0].clone()
}

/// The NAT gateway the table's default route goes through.
fn default_route_nat(ec2: &aws_sdk_ec2::Client, table: &str) -> Option<String> {
    let out = block_on(ec2.describe_route_tables().route_table_ids(table).send())
        .expect("describe route table");
    out.route_tables()[0]
        .routes()
        .iter()
        .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
        .and_then(|r| r.nat_gateway_id())
        .map(str::to_owned)
}

/// The gateway runs on `allocation`, the address is associated with the gateway's network
/// interface, and state says the same as the API.
fn assert_wired(stack: &Stack<'_>, ec2: &aws_sdk_ec2::Client, nat: &str, allocation: &str) {
    let g = gateway(ec2, nat);
    assert_eq!(g.state(), Some(&NatGatewayState::Available));
    let a = &g.nat_gateway_addresses()[0];
    assert_eq!(a.allocation_id(), Some(allocation));
    let eip = address(ec2, allocation);
    assert_eq!(eip.network_interface_id(), a.network_interface_id());
    assert_eq!(a.public_ip(), eip.public_ip());
    let nat_addr = "aws_nat_gateway.nat";
    assert_eq!(
        attr(stack, nat_addr, "allocation_id").as_deref(),
        Some(allocation)
    );
    assert_eq!(
        attr(stack, nat_addr, "network_interface_id").as_deref(),
        a.network_interface_id()
    );
    assert_eq!(
        attr(stack, nat_addr, "private_ip").as_deref(),
        a.private_ip()
    );
    assert_eq!(
        attr(stack, nat_addr, "public_ip").as_deref(),
        eip.public_ip()
    );
}

#[test]
fn eip_and_nat_gateway_lifecycle() {
    let moto = Moto::start();
    let ec2 = moto.ec2();
    let stack = moto.stack();
    stack.write(NAT_V1);
    stack.apply();
    let eip = id(&stack, "aws_eip.nat");
    let nat = id(&stack, "aws_nat_gateway.nat");
    let public = id(&stack, "aws_subnet.public");
    let table = id(&stack, "aws_route_table.private");
    assert!(eip.starts_with("eipalloc-"), "{eip}");
    assert!(nat.starts_with("nat-"), "{nat}");

    // Read back with the SDK.
    let a = address(&ec2, &eip);
    assert_eq!(a.domain().map(|d| d.as_str()), Some("vpc"));
    assert_eq!(tag_of(a.tags(), "Name").as_deref(), Some("nat-ip"));
    assert_eq!(tag_of(a.tags(), "owner").as_deref(), Some("ml-platform"));
    assert_eq!(
        tag_of(a.tags(), "gantry:address").as_deref(),
        Some("aws_eip.nat")
    );
    let public_ip = a.public_ip().expect("public ip").to_owned();
    assert_eq!(
        attr(&stack, "aws_eip.nat", "public_ip"),
        Some(public_ip.clone())
    );
    assert_eq!(
        attr(&stack, "aws_eip.nat", "allocation_id"),
        Some(eip.clone())
    );
    assert_eq!(
        attr(&stack, "aws_eip.nat", "public_dns"),
        Some(format!(
            "ec2-{}.compute-1.amazonaws.com",
            public_ip.replace('.', "-")
        ))
    );
    let g = gateway(&ec2, &nat);
    assert_eq!(g.subnet_id(), Some(public.as_str()));
    assert_eq!(g.vpc_id(), Some(id(&stack, "aws_vpc.main").as_str()));
    assert_eq!(tag_of(g.tags(), "Name").as_deref(), Some("nat"));
    assert_eq!(tag_of(g.tags(), "owner").as_deref(), Some("ml-platform"));
    assert_eq!(
        tag_of(g.tags(), "gantry:address").as_deref(),
        Some("aws_nat_gateway.nat")
    );
    assert_eq!(
        attr(&stack, "aws_nat_gateway.nat", "connectivity_type").as_deref(),
        Some("public")
    );
    assert_wired(&stack, &ec2, &nat, &eip);
    assert_eq!(default_route_nat(&ec2, &table), Some(nat.clone()));
    stack.assert_no_changes();

    // Tags change in place: same address, same gateway.
    stack.write(
        &NAT_V1
            .replace(
                "{ Name = \"nat-ip\" }",
                "{ Name = \"nat-ip\", job = \"llm\" }",
            )
            .replace("{ Name = \"nat\" }", "{ Name = \"nat-2\" }"),
    );
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2);
    for needle in [
        "aws_eip.nat will be updated in-place",
        "aws_nat_gateway.nat will be updated in-place",
    ] {
        assert!(plan.stdout.contains(needle), "{}", plan.stdout);
    }
    assert!(!plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    stack.apply();
    assert_eq!(id(&stack, "aws_eip.nat"), eip);
    assert_eq!(id(&stack, "aws_nat_gateway.nat"), nat);
    assert_eq!(
        tag_of(address(&ec2, &eip).tags(), "job").as_deref(),
        Some("llm")
    );
    assert_eq!(
        tag_of(gateway(&ec2, &nat).tags(), "Name").as_deref(),
        Some("nat-2")
    );
    stack.assert_no_changes();
    stack.write(NAT_V1);
    stack.apply();

    // Out-of-band tag change: the plan shows it, apply undoes it.
    block_on(
        ec2.create_tags()
            .resources(&nat)
            .tags(Tag::builder().key("Name").value("hand-edited").build())
            .send(),
    )
    .expect("tag");
    assert_plan_shows(
        &stack,
        &[
            "aws_nat_gateway.nat will be updated in-place",
            "hand-edited",
        ],
    );
    stack.apply();
    assert_eq!(
        tag_of(gateway(&ec2, &nat).tags(), "Name").as_deref(),
        Some("nat")
    );
    stack.assert_no_changes();

    // Import both by id.
    stack.reimport("aws_eip.nat", &eip);
    stack.reimport("aws_nat_gateway.nat", &nat);
    stack.assert_no_changes();

    // Out-of-band delete of the gateway: a deleted gateway reads as gone; apply makes a new
    // one on the same address and points the route at it.
    block_on(ec2.delete_nat_gateway().nat_gateway_id(&nat).send()).expect("delete NAT");
    assert_plan_shows(
        &stack,
        &[
            "aws_nat_gateway.nat will be created",
            "aws_route_table.private will be updated in-place",
        ],
    );
    stack.apply();
    let nat2 = id(&stack, "aws_nat_gateway.nat");
    assert_ne!(nat2, nat);
    assert_eq!(id(&stack, "aws_eip.nat"), eip);
    assert_wired(&stack, &ec2, &nat2, &eip);
    assert_eq!(default_route_nat(&ec2, &table), Some(nat2.clone()));
    stack.assert_no_changes();

    // Out-of-band delete of both: a new address, a new gateway on it.
    block_on(ec2.delete_nat_gateway().nat_gateway_id(&nat2).send()).expect("delete NAT");
    block_on(ec2.release_address().allocation_id(&eip).send()).expect("release");
    assert_plan_shows(
        &stack,
        &[
            "aws_eip.nat will be created",
            "aws_nat_gateway.nat will be created",
        ],
    );
    stack.apply();
    let (eip3, nat3) = (id(&stack, "aws_eip.nat"), id(&stack, "aws_nat_gateway.nat"));
    assert_ne!(eip3, eip);
    assert_ne!(nat3, nat2);
    assert_wired(&stack, &ec2, &nat3, &eip3);
    assert_eq!(default_route_nat(&ec2, &table), Some(nat3.clone()));
    stack.assert_no_changes();

    // Another subnet replaces the gateway: the old one is deleted (which frees the
    // address) before the new one takes the same address.
    stack.write(&NAT_V1.replace(
        "  subnet_id     = aws_subnet.public.id",
        "  subnet_id     = aws_subnet.private.id",
    ));
    let (_, plan) = stack.plan_code();
    assert!(
        plan.stdout.contains("aws_nat_gateway.nat must be replaced"),
        "{}",
        plan.stdout
    );
    stack.apply();
    let nat4 = id(&stack, "aws_nat_gateway.nat");
    assert_ne!(nat4, nat3);
    assert_eq!(
        gateway(&ec2, &nat3).state(),
        Some(&NatGatewayState::Deleted)
    );
    assert_eq!(
        gateway(&ec2, &nat4).subnet_id(),
        Some(id(&stack, "aws_subnet.private").as_str())
    );
    assert_wired(&stack, &ec2, &nat4, &eip3);
    assert_eq!(default_route_nat(&ec2, &table), Some(nat4.clone()));
    stack.assert_no_changes();

    // Destroy leaves nothing gantry made: no address, no gateway that is not deleted.
    stack.destroy();
    let addresses =
        block_on(ec2.describe_addresses().filters(tag_filter()).send()).expect("addresses");
    assert!(
        addresses.addresses().is_empty(),
        "left: {:?}",
        addresses.addresses()
    );
    let gateways =
        block_on(ec2.describe_nat_gateways().filter(tag_filter()).send()).expect("gateways");
    assert!(
        gateways
            .nat_gateways()
            .iter()
            .all(|g| g.state() == Some(&NatGatewayState::Deleted)),
        "left: {:?}",
        gateways.nat_gateways()
    );
    let vpcs = block_on(ec2.describe_vpcs().filters(tag_filter()).send()).expect("vpcs");
    assert!(vpcs.vpcs().is_empty(), "left: {:?}", vpcs.vpcs());
}

const PRIVATE_NAT: &str = r#"
provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.0.1.0/24"
}

resource "aws_nat_gateway" "private" {
  connectivity_type = "private"
  subnet_id         = aws_subnet.a.id
}
"#;

/// A private gateway: no Elastic IP, no public address; a private gateway given one is
/// refused before anything is created.
#[test]
fn private_nat_gateway_has_no_public_address() {
    let moto = Moto::start();
    let ec2 = moto.ec2();
    let stack = moto.stack();
    stack.write(&PRIVATE_NAT.replace(
        "  subnet_id         = aws_subnet.a.id",
        "  subnet_id         = aws_subnet.a.id\n  allocation_id     = \"eipalloc-0123456789abcdef0\"",
    ));
    let run = stack.gantry(&["plan"]);
    assert_ne!(run.code, 0, "{}", run.both());
    assert!(
        run.both()
            .contains("a private NAT gateway takes no `allocation_id`"),
        "{}",
        run.both()
    );

    stack.write(PRIVATE_NAT);
    stack.apply();
    let nat = id(&stack, "aws_nat_gateway.private");
    let g = gateway(&ec2, &nat);
    assert_eq!(g.state(), Some(&NatGatewayState::Available));
    assert!(
        g.nat_gateway_addresses()
            .iter()
            .all(|a| a.allocation_id().is_none()),
        "{g:?}"
    );
    assert!(stack
        .state_attr("aws_nat_gateway.private", "public_ip")
        .is_null());
    assert!(stack
        .state_attr("aws_nat_gateway.private", "allocation_id")
        .is_null());
    assert_eq!(
        attr(&stack, "aws_nat_gateway.private", "connectivity_type").as_deref(),
        Some("private")
    );
    stack.assert_no_changes();
    stack.destroy();
    assert_eq!(gateway(&ec2, &nat).state(), Some(&NatGatewayState::Deleted));
}

/// NAT_V1 up to the internet gateway: what an earlier apply made before the killed run.
fn network_only() -> String {
    let cut = NAT_V1.find("resource \"aws_eip\"").expect("the EIP block");
    NAT_V1[..cut].to_owned()
}

/// A run killed after AllocateAddress and CreateNatGateway but before recording them: the
/// next apply adopts both through the identity tags the create calls put on them (stack,
/// address, token: neither object can be looked up by its token) instead of allocating a
/// second address and gateway.
#[test]
fn crash_recovery_adopts_the_address_and_gateway_a_killed_run_made() {
    let moto = Moto::start();
    let ec2 = moto.ec2();
    let stack = moto.stack();
    stack.write(&network_only());
    stack.apply();
    let subnet = id(&stack, "aws_subnet.public");
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(stack.path().join(".gantry/state.json")).expect("state"),
    )
    .expect("state json");
    // The stack's identity is its state's lineage.
    let lineage = state["lineage"].as_str().expect("lineage").to_owned();
    let (eip_token, nat_token) = (
        "55555555-5555-4555-8555-555555555555",
        "66666666-6666-4666-8666-666666666666",
    );
    let tagged = |kind: aws_sdk_ec2::types::ResourceType, address: &str, token: &str| {
        aws_sdk_ec2::types::TagSpecification::builder()
            .resource_type(kind)
            .tags(Tag::builder().key("gantry:stack").value(&lineage).build())
            .tags(Tag::builder().key("gantry:address").value(address).build())
            .tags(Tag::builder().key("gantry:token").value(token).build())
            .build()
    };
    let eip = block_on(
        ec2.allocate_address()
            .domain(aws_sdk_ec2::types::DomainType::Vpc)
            .tag_specifications(tagged(
                aws_sdk_ec2::types::ResourceType::ElasticIp,
                "aws_eip.nat",
                eip_token,
            ))
            .send(),
    )
    .expect("allocate")
    .allocation_id()
    .expect("allocation id")
    .to_owned();
    let nat = block_on(
        ec2.create_nat_gateway()
            .subnet_id(&subnet)
            .allocation_id(&eip)
            .client_token(nat_token)
            .tag_specifications(tagged(
                aws_sdk_ec2::types::ResourceType::Natgateway,
                "aws_nat_gateway.nat",
                nat_token,
            ))
            .send(),
    )
    .expect("create NAT")
    .nat_gateway()
    .and_then(|g| g.nat_gateway_id())
    .expect("NAT id")
    .to_owned();
    let intent = |address: &str, kind: &str, token: &str| {
        serde_json::json!({"op": "intent", "address": address, "type": kind, "provider": "aws", "token": token})
            .to_string()
    };
    let journal = [
        serde_json::json!({"op": "begin", "lineage": state["lineage"], "base_serial": state["serial"]}).to_string(),
        intent("aws_eip.nat", "aws_eip", eip_token),
        intent("aws_nat_gateway.nat", "aws_nat_gateway", nat_token),
    ];
    std::fs::write(
        stack.path().join(".gantry/journal.ndjson"),
        journal.join("\n") + "\n",
    )
    .expect("journal");

    stack.write(NAT_V1);
    let run = stack.apply();
    assert_eq!(id(&stack, "aws_eip.nat"), eip, "{}", run.both());
    assert_eq!(id(&stack, "aws_nat_gateway.nat"), nat, "{}", run.both());
    let addresses =
        block_on(ec2.describe_addresses().filters(tag_filter()).send()).expect("addresses");
    assert_eq!(
        addresses.addresses().len(),
        1,
        "{:?}",
        addresses.addresses()
    );
    let gateways =
        block_on(ec2.describe_nat_gateways().filter(tag_filter()).send()).expect("gateways");
    assert_eq!(
        gateways.nat_gateways().len(),
        1,
        "{:?}",
        gateways.nat_gateways()
    );
    // Adopted with the stack's tags put right.
    assert_eq!(
        tag_of(gateway(&ec2, &nat).tags(), "Name").as_deref(),
        Some("nat")
    );
    assert_eq!(
        default_route_nat(&ec2, &id(&stack, "aws_route_table.private")),
        Some(nat)
    );
    stack.assert_no_changes();
    stack.destroy();
}
