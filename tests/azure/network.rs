//! Resource groups, virtual networks, subnets and network security groups: created, read
//! back by azure-mgmt-network, planned again with no changes, changed in place, replaced
//! where azurerm replaces, destroyed to nothing.

use crate::support::{Fake, LOCATION};

fn stack_text(prefixes: &str, rule_port: &str, rg_tag: &str) -> String {
    format!(
        r#"
resource "azurerm_resource_group" "main" {{
  name     = "train-rg"
  location = "East US"
  tags     = {{ team = "{rg_tag}" }}
}}

resource "azurerm_virtual_network" "main" {{
  name                = "train-vnet"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  address_space       = ["10.20.0.0/16"]
}}

resource "azurerm_subnet" "nodes" {{
  name                 = "nodes"
  resource_group_name  = azurerm_resource_group.main.name
  virtual_network_name = azurerm_virtual_network.main.name
  address_prefixes     = [{prefixes}]
  service_endpoints    = ["Microsoft.Storage"]
}}

resource "azurerm_network_security_group" "nodes" {{
  name                = "train-nsg"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location

  security_rule {{
    name                       = "ssh"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "{rule_port}"
    source_address_prefix      = "10.0.0.0/8"
    destination_address_prefix = "*"
  }}
}}
"#
    )
}

#[test]
fn a_group_network_subnet_and_security_group_are_created_changed_and_destroyed() {
    let fake = Fake::start(0.3);
    let stack = fake.stack();
    stack.write(&stack_text("\"10.20.1.0/24\"", "22", "ml"));
    let run = stack.apply();
    assert_eq!(run.code, 0, "{}", run.both());

    let rg = fake.python_json("resource.resource_groups.get('train-rg')");
    assert_eq!(rg["location"], LOCATION);
    assert_eq!(rg["tags"]["team"], "ml");
    // gantry's marks are on the object, for crash recovery.
    assert_eq!(rg["tags"]["gantry-address"], "azurerm_resource_group.main");
    assert!(rg["tags"]["gantry-token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    let vnet = fake.python_json("network.virtual_networks.get('train-rg', 'train-vnet')");
    assert_eq!(
        vnet["address_space"]["address_prefixes"],
        serde_json::json!(["10.20.0.0/16"])
    );
    assert_eq!(vnet["provisioning_state"], "Succeeded");
    let subnet = fake.python_json("network.subnets.get('train-rg', 'train-vnet', 'nodes')");
    assert_eq!(
        subnet["address_prefixes"],
        serde_json::json!(["10.20.1.0/24"])
    );
    assert_eq!(
        subnet["service_endpoints"][0]["service"],
        "Microsoft.Storage"
    );
    assert_eq!(stack.state_attr("azurerm_subnet.nodes", "id"), subnet["id"]);
    let nsg = fake.python_json("network.network_security_groups.get('train-rg', 'train-nsg')");
    assert_eq!(nsg["security_rules"][0]["destination_port_range"], "22");
    assert_eq!(nsg["security_rules"][0]["priority"], 100);
    // The user's spelling of the location is kept: no change planned.
    assert_eq!(
        stack.state_attr("azurerm_resource_group.main", "location"),
        "East US"
    );
    stack.assert_no_changes();

    // In place: tags, a rule's port, a subnet's prefixes; the subnet survives the network.
    stack.write(&stack_text("\"10.20.2.0/24\"", "2222", "research"));
    let run = stack.apply();
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout.contains("0 to add") && run.stdout.contains("0 to destroy"),
        "{}",
        run.stdout
    );
    let after = fake.python_json(
        "[resource.resource_groups.get('train-rg').tags['team'], network.network_security_groups.get('train-rg', 'train-nsg').security_rules[0].destination_port_range, network.subnets.get('train-rg', 'train-vnet', 'nodes').address_prefixes]",
    );
    assert_eq!(
        after,
        serde_json::json!(["research", "2222", ["10.20.2.0/24"]])
    );
    stack.assert_no_changes();

    let run = stack.destroy();
    assert_eq!(run.code, 0, "{}", run.both());
    let left = fake.python("print(exists(lambda: resource.resource_groups.get('train-rg')))");
    assert_eq!(left, "False");
    assert!(stack.state_addresses().is_empty());
}

#[test]
fn a_resource_group_name_or_address_space_that_azure_would_refuse_fails_validation() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    stack.write(
        r#"
resource "azurerm_resource_group" "bad" {
  name     = "ends-with-a-period."
  location = "eastus"
}
resource "azurerm_virtual_network" "bad" {
  name                = "v"
  resource_group_name = "rg"
  location            = "eastus"
  address_space       = ["10.0.0.0/33"]
}
"#,
    );
    let run = stack.gantry(&["plan"]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.both().contains("not a valid resource group name"),
        "{}",
        run.both()
    );
    assert!(run.both().contains("is not a CIDR block"), "{}", run.both());
    // Nothing reached Azure.
    let groups = fake.python("print(len(list(resource.resource_groups.list())))");
    assert_eq!(groups, "0");
}
