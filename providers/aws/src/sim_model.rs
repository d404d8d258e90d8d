//! [`AwsSimModel`]: what the simulated twin (`--sim`) needs to know about AWS so that
//! simulated objects look like AWS's own: id formats per type, the error code AWS answers
//! for a missing object, ARNs per service, realistic computed values (an instance's private
//! IP inside its subnet, an EKS endpoint, an FSx DNS name) and the answers of the data
//! sources that describe the account and region. The simulator itself knows no cloud.

use crate::attrs::Attrs;
use gantry_provider::{IdStyle, SimModel, SimObjectFacts, SimWorldView, Value};

/// The account every simulated AWS object belongs to.
pub const SIM_ACCOUNT: &str = "123456789012";

/// Zone letters of a simulated region.
const ZONE_LETTERS: [char; 4] = ['a', 'b', 'c', 'd'];

/// AWS as the simulator sees it.
#[derive(Clone, Copy, Debug, Default)]
pub struct AwsSimModel;

impl SimModel for AwsSimModel {
    fn id_style(&self, type_name: &str) -> Option<IdStyle> {
        let style = match type_name {
            // Named objects: the name is the id, as in Terraform.
            "aws_placement_group"
            | "aws_iam_role"
            | "aws_iam_instance_profile"
            | "aws_eks_cluster"
            | "aws_sagemaker_notebook_instance" => IdStyle::Attribute("name".into()),
            "aws_s3_bucket"
            | "aws_s3_bucket_versioning"
            | "aws_s3_bucket_public_access_block"
            | "aws_s3_bucket_server_side_encryption_configuration" => {
                IdStyle::Attribute("bucket".into())
            }
            "aws_eks_node_group" => IdStyle::Template("{cluster_name}:{node_group_name}".into()),
            "aws_iam_role_policy_attachment" => IdStyle::Template("{role}/{policy_arn}".into()),
            "aws_iam_policy" => {
                IdStyle::Template(format!("arn:aws:iam::{SIM_ACCOUNT}:policy{{path}}{{name}}"))
            }
            "aws_kms_key" => IdStyle::Template("{id}".into()),
            other => IdStyle::Prefixed(id_prefix(other)?.to_owned()),
        };
        Some(style)
    }

    fn not_found_code(&self, type_name: &str) -> Option<String> {
        let code = match type_name {
            "aws_security_group" => "InvalidGroup.NotFound",
            "aws_route_table_association" => "InvalidAssociationID.NotFound",
            "aws_launch_template" => "InvalidLaunchTemplateId.NotFound",
            "aws_nat_gateway" => "NatGatewayNotFound",
            "aws_eip" => "InvalidAllocationID.NotFound",
            "aws_placement_group" => "InvalidPlacementGroup.Unknown",
            "aws_s3_bucket" | "aws_s3_bucket_versioning" => "NoSuchBucket",
            "aws_s3_bucket_public_access_block" => "NoSuchPublicAccessBlockConfiguration",
            "aws_s3_bucket_server_side_encryption_configuration" => {
                "ServerSideEncryptionConfigurationNotFoundError"
            }
            "aws_iam_role"
            | "aws_iam_policy"
            | "aws_iam_instance_profile"
            | "aws_iam_role_policy_attachment" => "NoSuchEntity",
            "aws_kms_key" => "NotFoundException",
            "aws_eks_cluster" | "aws_eks_node_group" => "ResourceNotFoundException",
            "aws_fsx_lustre_file_system" | "aws_efs_file_system" => "FileSystemNotFound",
            "aws_fsx_data_repository_association" => "DataRepositoryAssociationNotFound",
            "aws_sagemaker_domain" => "ResourceNotFound",
            "aws_sagemaker_notebook_instance" => "ValidationException",
            other => return ec2_not_found(other),
        };
        Some(code.to_owned())
    }

    fn duplicate_code(&self, type_name: &str) -> Option<String> {
        let code = match type_name {
            "aws_iam_role" | "aws_iam_policy" | "aws_iam_instance_profile" => {
                "EntityAlreadyExists".to_owned()
            }
            "aws_s3_bucket" => "BucketAlreadyOwnedByYou".to_owned(),
            "aws_eks_cluster" | "aws_eks_node_group" => "ResourceInUseException".to_owned(),
            other => {
                let camel = ec2_not_found(other)?;
                camel.replace("ID.NotFound", ".Duplicate")
            }
        };
        Some(code)
    }

    fn computed(
        &self,
        object: &SimObjectFacts<'_>,
        name: &str,
        world: &dyn SimWorldView,
    ) -> Option<Value> {
        if name == "arn" {
            return arn(object).map(Value::string);
        }
        if name == "owner_id" {
            return Some(Value::string(SIM_ACCOUNT));
        }
        match object.type_name {
            "aws_instance" => instance(object, name, world),
            "aws_subnet" => subnet(object, name),
            "aws_vpc" => vpc(object, name),
            "aws_eip" => eip(object, name),
            "aws_nat_gateway" => nat_gateway(object, name, world),
            "aws_eks_cluster" => eks_cluster(object, name),
            "aws_eks_node_group" => eks_node_group(name),
            "aws_fsx_lustre_file_system" => fsx(object, name, world),
            "aws_efs_file_system" => efs(object, name),
            "aws_s3_bucket" => s3_bucket(object, name),
            "aws_iam_role" | "aws_iam_policy" | "aws_iam_instance_profile" => iam(object, name),
            "aws_sagemaker_domain" => sagemaker_domain(object, name),
            "aws_sagemaker_notebook_instance" => notebook(object, name),
            "aws_placement_group" if name == "placement_group_id" => {
                Some(Value::string(hex_id("pg", object, name)))
            }
            "aws_kms_key" if name == "key_id" => Some(Value::string(object.id)),
            "aws_fsx_data_repository_association" if name == "association_id" => {
                Some(Value::string(object.id))
            }
            "aws_launch_template" if matches!(name, "latest_version" | "default_version") => {
                Some(Value::Number(1.0))
            }
            _ => None,
        }
    }

    fn read_data(
        &self,
        type_name: &str,
        config: &Value,
        region: &str,
        _settings: &std::collections::BTreeMap<String, String>,
    ) -> Option<Value> {
        match type_name {
            "aws_availability_zones" => Some(availability_zones(config, region)),
            "aws_caller_identity" => Some(Value::map([
                ("account_id", Value::string(SIM_ACCOUNT)),
                ("id", Value::string(SIM_ACCOUNT)),
                (
                    "arn",
                    Value::string(format!("arn:aws:iam::{SIM_ACCOUNT}:user/gantry-sim")),
                ),
                ("user_id", Value::string("AIDASIMULATEDUSER")),
            ])),
            _ => None,
        }
    }

    fn region_of_zone(&self, zone: &str) -> Option<String> {
        region_of_zone(zone)
    }
}

/// The id prefix of an EC2-style type (`aws_instance` -> `i`): AWS's own where the type has
/// one, else the first letters of the words after `aws_` (`aws_eks_cluster` -> `ec`).
fn id_prefix(type_name: &str) -> Option<&'static str> {
    let known = match type_name {
        "aws_vpc" => "vpc",
        "aws_subnet" => "subnet",
        "aws_instance" => "i",
        "aws_security_group" => "sg",
        "aws_security_group_rule" => "sgr",
        "aws_internet_gateway" => "igw",
        "aws_route_table" => "rtb",
        "aws_route_table_association" => "rtbassoc",
        "aws_launch_template" => "lt",
        "aws_nat_gateway" => "nat",
        "aws_eip" => "eipalloc",
        "aws_network_interface" => "eni",
        "aws_vpc_endpoint" => "vpce",
        "aws_ebs_volume" => "vol",
        "aws_key_pair" => "key",
        "aws_efs_file_system" | "aws_fsx_lustre_file_system" => "fs",
        "aws_fsx_data_repository_association" => "dra",
        "aws_sagemaker_domain" => "d",
        _ => return None,
    };
    Some(known)
}

/// `Invalid<Type>ID.NotFound`, EC2's code for a missing object, for other `aws_` types.
fn ec2_not_found(type_name: &str) -> Option<String> {
    let rest = type_name.strip_prefix("aws_")?;
    let camel: String = rest
        .split('_')
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    Some(format!("Invalid{camel}ID.NotFound"))
}

/// EC2's resource kind in ARNs (`arn:aws:ec2:REGION:ACCOUNT:KIND/ID`).
fn ec2_kind(type_name: &str) -> Option<&'static str> {
    let kind = match type_name {
        "aws_vpc" => "vpc",
        "aws_subnet" => "subnet",
        "aws_instance" => "instance",
        "aws_security_group" => "security-group",
        "aws_security_group_rule" => "security-group-rule",
        "aws_internet_gateway" => "internet-gateway",
        "aws_route_table" => "route-table",
        "aws_launch_template" => "launch-template",
        "aws_placement_group" => "placement-group",
        "aws_nat_gateway" => "natgateway",
        "aws_eip" => "elastic-ip",
        "aws_network_interface" => "network-interface",
        "aws_vpc_endpoint" => "vpc-endpoint",
        "aws_ebs_volume" => "volume",
        "aws_key_pair" => "key-pair",
        _ => return None,
    };
    Some(kind)
}

/// The ARN AWS gives an object of this type, per service.
fn arn(o: &SimObjectFacts<'_>) -> Option<String> {
    let (region, id, a) = (o.region, o.id, Attrs(o.planned));
    if let Some(kind) = ec2_kind(o.type_name) {
        return Some(format!("arn:aws:ec2:{region}:{SIM_ACCOUNT}:{kind}/{id}"));
    }
    let path = a.str("path").unwrap_or("/");
    let name = a.str("name").unwrap_or(id);
    let arn = match o.type_name {
        "aws_s3_bucket" => format!("arn:aws:s3:::{}", a.str("bucket").unwrap_or(id)),
        "aws_iam_role" => format!("arn:aws:iam::{SIM_ACCOUNT}:role{path}{name}"),
        "aws_iam_instance_profile" => {
            format!("arn:aws:iam::{SIM_ACCOUNT}:instance-profile{path}{name}")
        }
        "aws_iam_policy" => format!("arn:aws:iam::{SIM_ACCOUNT}:policy{path}{name}"),
        "aws_kms_key" => format!("arn:aws:kms:{region}:{SIM_ACCOUNT}:key/{id}"),
        "aws_eks_cluster" => format!("arn:aws:eks:{region}:{SIM_ACCOUNT}:cluster/{name}"),
        "aws_eks_node_group" => format!(
            "arn:aws:eks:{region}:{SIM_ACCOUNT}:nodegroup/{}/{}/{}",
            a.str("cluster_name").unwrap_or(""),
            a.str("node_group_name").unwrap_or(""),
            uuid_like(o)
        ),
        "aws_fsx_lustre_file_system" => {
            format!("arn:aws:fsx:{region}:{SIM_ACCOUNT}:file-system/{id}")
        }
        "aws_fsx_data_repository_association" => format!(
            "arn:aws:fsx:{region}:{SIM_ACCOUNT}:association/{}/{id}",
            a.str("file_system_id").unwrap_or("")
        ),
        "aws_efs_file_system" => {
            format!("arn:aws:elasticfilesystem:{region}:{SIM_ACCOUNT}:file-system/{id}")
        }
        "aws_sagemaker_domain" => format!("arn:aws:sagemaker:{region}:{SIM_ACCOUNT}:domain/{id}"),
        "aws_sagemaker_notebook_instance" => format!(
            "arn:aws:sagemaker:{region}:{SIM_ACCOUNT}:notebook-instance/{}",
            name.to_ascii_lowercase()
        ),
        other => {
            let rest = other.strip_prefix("aws_")?;
            let (service, kind) = rest.split_once('_').unwrap_or((rest, rest));
            format!(
                "arn:aws:{service}:{region}:{SIM_ACCOUNT}:{}/{id}",
                kind.replace('_', "-")
            )
        }
    };
    Some(arn)
}

// ---- per type ----

fn instance(o: &SimObjectFacts<'_>, name: &str, world: &dyn SimWorldView) -> Option<Value> {
    let subnet_id = instance_subnet(o, world);
    let subnet = subnet_id.as_deref().and_then(|s| world.object(s));
    let subnet = subnet.as_ref().map(Attrs);
    match name {
        "subnet_id" => subnet_id.map(Value::string),
        "private_ip" => Some(Value::string(private_ip(o, subnet, name))),
        "private_dns" => Some(Value::string(private_dns(
            &private_ip(o, subnet, "private_ip"),
            o.region,
        ))),
        "availability_zone" => Some(Value::string(
            subnet
                .and_then(|s| s.str("availability_zone"))
                .map_or_else(|| format!("{}a", o.region), str::to_owned),
        )),
        "public_ip" | "public_dns" => {
            let public = subnet.and_then(|s| s.bool("map_public_ip_on_launch")) == Some(true);
            if !public {
                return Some(Value::Null);
            }
            let ip = public_ip(o);
            Some(Value::string(if name == "public_ip" {
                ip
            } else {
                public_dns(&ip, o.region)
            }))
        }
        "instance_state" => Some(Value::string("running")),
        _ => None,
    }
}

/// The subnet an instance lands in: its own `subnet_id`, else the first network interface of
/// its launch template (how EFA instances are launched).
fn instance_subnet(o: &SimObjectFacts<'_>, world: &dyn SimWorldView) -> Option<String> {
    let a = Attrs(o.planned);
    if let Some(s) = a.str("subnet_id") {
        return Some(s.to_owned());
    }
    let template_id = a.block("launch_template")?.str("id")?.to_owned();
    let template = world.object(&template_id)?;
    let interfaces = template
        .as_map()?
        .get("network_interfaces")?
        .as_seq()?
        .to_vec();
    interfaces
        .iter()
        .find_map(|i| Attrs(i).str("subnet_id").map(str::to_owned))
}

fn subnet(o: &SimObjectFacts<'_>, name: &str) -> Option<Value> {
    let a = Attrs(o.planned);
    let zone = || {
        let letter = ZONE_LETTERS[(o.serial % ZONE_LETTERS.len() as u64) as usize];
        a.str("availability_zone")
            .map_or_else(|| format!("{}{letter}", o.region), str::to_owned)
    };
    match name {
        "availability_zone" => Some(Value::string(zone())),
        "availability_zone_id" => {
            let zone = zone();
            let letter = zone.chars().last()?;
            let index = ZONE_LETTERS.iter().position(|l| *l == letter)?;
            Some(Value::string(zone_id(o.region, index)))
        }
        _ => None,
    }
}

fn vpc(o: &SimObjectFacts<'_>, name: &str) -> Option<Value> {
    let prefix = match name {
        "main_route_table_id" | "default_route_table_id" => "rtb",
        "default_security_group_id" => "sg",
        "default_network_acl_id" => "acl",
        "dhcp_options_id" => "dopt",
        _ => return None,
    };
    // The main route table is also the default one: derive both from the same seed.
    let seed = if prefix == "rtb" { "route_table" } else { name };
    Some(Value::string(hex_id(prefix, o, seed)))
}

fn eip(o: &SimObjectFacts<'_>, name: &str) -> Option<Value> {
    match name {
        "allocation_id" => Some(Value::string(o.id)),
        "public_ip" => Some(Value::string(public_ip(o))),
        "public_dns" => Some(Value::string(public_dns(&public_ip(o), o.region))),
        "domain" => Some(Value::string("vpc")),
        _ => None,
    }
}

fn nat_gateway(o: &SimObjectFacts<'_>, name: &str, world: &dyn SimWorldView) -> Option<Value> {
    let subnet = Attrs(o.planned)
        .str("subnet_id")
        .and_then(|s| world.object(s));
    match name {
        "private_ip" => Some(Value::string(private_ip(
            o,
            subnet.as_ref().map(Attrs),
            name,
        ))),
        "network_interface_id" => Some(Value::string(hex_id("eni", o, name))),
        "public_ip" => {
            let public = Attrs(o.planned)
                .str("connectivity_type")
                .unwrap_or("public")
                == "public";
            Some(if public {
                Value::string(public_ip(o))
            } else {
                Value::Null
            })
        }
        _ => None,
    }
}

fn eks_cluster(o: &SimObjectFacts<'_>, name: &str) -> Option<Value> {
    match name {
        "endpoint" => {
            let h = hash(o, "endpoint");
            let hex = format!("{:016X}{:016X}", h, splitmix(h));
            Some(Value::string(format!(
                "https://{hex}.gr7.{}.eks.amazonaws.com",
                o.region
            )))
        }
        "status" => Some(Value::string("ACTIVE")),
        "platform_version" => Some(Value::string("eks.1")),
        "version" => Some(Value::string("1.31")),
        "certificate_authority" => {
            let data = format!("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t{:016x}", hash(o, name));
            Some(Value::List(vec![Value::map([(
                "data",
                Value::string(data),
            )])]))
        }
        _ => None,
    }
}

fn eks_node_group(name: &str) -> Option<Value> {
    match name {
        "status" => Some(Value::string("ACTIVE")),
        "instance_types" => Some(Value::List(vec![Value::string("t3.medium")])),
        "capacity_type" => Some(Value::string("ON_DEMAND")),
        "ami_type" => Some(Value::string("AL2023_x86_64_STANDARD")),
        "disk_size" => Some(Value::Number(20.0)),
        _ => None,
    }
}

fn fsx(o: &SimObjectFacts<'_>, name: &str, world: &dyn SimWorldView) -> Option<Value> {
    let a = Attrs(o.planned);
    match name {
        "dns_name" => Some(Value::string(format!(
            "{}.fsx.{}.amazonaws.com",
            o.id, o.region
        ))),
        // SCRATCH_1 file systems mount as `fsx`; the others get 8 random characters.
        "mount_name" => Some(Value::string(
            if a.str("deployment_type").unwrap_or("SCRATCH_1") == "SCRATCH_1" {
                "fsx".to_owned()
            } else {
                letters(hash(o, name), 8)
            },
        )),
        "vpc_id" => a
            .strs("subnet_ids")
            .first()
            .and_then(|s| world.object(s))
            .and_then(|s| Attrs(&s).str("vpc_id").map(Value::string)),
        "network_interface_ids" => Some(Value::List(vec![
            Value::string(hex_id("eni", o, "eni-1")),
            Value::string(hex_id("eni", o, "eni-2")),
        ])),
        _ => None,
    }
}

fn efs(o: &SimObjectFacts<'_>, name: &str) -> Option<Value> {
    match name {
        "dns_name" => Some(Value::string(format!(
            "{}.efs.{}.amazonaws.com",
            o.id, o.region
        ))),
        "number_of_mount_targets" => Some(Value::Number(0.0)),
        "availability_zone_id" => {
            let zone = Attrs(o.planned).str("availability_zone_name")?;
            let index = ZONE_LETTERS.iter().position(|l| zone.ends_with(*l))?;
            Some(Value::string(zone_id(o.region, index)))
        }
        _ => None,
    }
}

fn s3_bucket(o: &SimObjectFacts<'_>, name: &str) -> Option<Value> {
    let a = Attrs(o.planned);
    let bucket = a.str("bucket").map_or_else(
        || generated_name(o, a.str("bucket_prefix").unwrap_or("terraform-")),
        str::to_owned,
    );
    let region = o.region;
    let value = match name {
        "bucket" => bucket,
        "bucket_domain_name" => format!("{bucket}.s3.amazonaws.com"),
        "bucket_regional_domain_name" => format!("{bucket}.s3.{region}.amazonaws.com"),
        "region" => region.to_owned(),
        _ => return None,
    };
    Some(Value::string(value))
}

fn iam(o: &SimObjectFacts<'_>, name: &str) -> Option<Value> {
    let a = Attrs(o.planned);
    match name {
        "name" => Some(Value::string(generated_name(
            o,
            a.str("name_prefix").unwrap_or("terraform-"),
        ))),
        // AWS's unique ids: a kind prefix and 17 upper-case letters and digits.
        "unique_id" | "policy_id" => {
            let prefix = match o.type_name {
                "aws_iam_role" => "AROA",
                "aws_iam_policy" => "ANPA",
                _ => "AIPA",
            };
            let body = letters(hash(o, name), 17).to_ascii_uppercase();
            Some(Value::string(format!("{prefix}{body}")))
        }
        "attachment_count" => Some(Value::Number(0.0)),
        _ => None,
    }
}

fn sagemaker_domain(o: &SimObjectFacts<'_>, name: &str) -> Option<Value> {
    match name {
        "url" => Some(Value::string(format!(
            "https://{}.studio.{}.sagemaker.aws",
            o.id, o.region
        ))),
        "home_efs_file_system_id" => Some(Value::string(hex_id("fs", o, name))),
        _ => None,
    }
}

fn notebook(o: &SimObjectFacts<'_>, name: &str) -> Option<Value> {
    let a = Attrs(o.planned);
    match name {
        "url" => Some(Value::string(format!(
            "{}.notebook.{}.sagemaker.aws",
            a.str("name").unwrap_or(o.id),
            o.region
        ))),
        // Only an instance in a subnet has an interface of its own in the VPC.
        "network_interface_id" => Some(match a.str("subnet_id") {
            Some(_) => Value::string(hex_id("eni", o, name)),
            None => Value::Null,
        }),
        _ => None,
    }
}

fn availability_zones(config: &Value, region: &str) -> Value {
    let a = Attrs(config);
    let (skip_names, skip_ids) = (a.strs("exclude_names"), a.strs("exclude_zone_ids"));
    let zones: Vec<(String, String)> = ZONE_LETTERS
        .iter()
        .enumerate()
        .map(|(i, l)| (format!("{region}{l}"), zone_id(region, i)))
        .filter(|(name, id)| !skip_names.contains(name) && !skip_ids.contains(id))
        .collect();
    Value::map([
        ("id", Value::string(region)),
        (
            "names",
            Value::List(zones.iter().map(|(n, _)| Value::string(n)).collect()),
        ),
        (
            "zone_ids",
            Value::List(zones.iter().map(|(_, z)| Value::string(z)).collect()),
        ),
        ("group_names", Value::List(vec![Value::string(region)])),
    ])
}

// ---- shapes ----

/// AWS's zone id for the `index`-th zone of `region`: `use1-az1`, `apne1-az2`, `euc1-az3`
/// (the country, the initials of the direction, the number).
pub fn zone_id(region: &str, index: usize) -> String {
    let mut parts: Vec<&str> = region.split('-').collect();
    let number = parts.pop().unwrap_or("1");
    let country = parts.first().copied().unwrap_or("xx");
    let direction: String = parts
        .iter()
        .skip(1)
        .map(|p| match *p {
            "northeast" => "ne",
            "northwest" => "nw",
            "southeast" => "se",
            "southwest" => "sw",
            other => other.get(..1).unwrap_or(""),
        })
        .collect();
    format!("{country}{direction}{number}-az{}", index + 1)
}

/// The region of a zone name: `us-east-1a` -> `us-east-1`, also for Local Zones
/// (`us-east-1-bos-1a`) and GovCloud (`us-gov-west-1a`).
pub fn region_of_zone(zone: &str) -> Option<String> {
    let mut region = Vec::new();
    for part in zone.split('-') {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            if !part.chars().all(|c| c.is_ascii_lowercase()) || part.is_empty() {
                return None;
            }
            region.push(part.to_owned());
            continue;
        }
        region.push(digits);
        return (region.len() >= 3).then(|| region.join("-"));
    }
    None
}

/// A private address inside the subnet's CIDR block (the default VPC's `172.31.0.0/20`
/// without one), skipping the four addresses AWS reserves at the start and the last one.
fn private_ip(o: &SimObjectFacts<'_>, subnet: Option<Attrs<'_>>, seed: &str) -> String {
    let cidr = subnet
        .and_then(|s| s.str("cidr_block"))
        .unwrap_or("172.31.0.0/20");
    let (base, len) = parse_cidr(cidr).unwrap_or((0xAC1F_0000, 20));
    let size = 1u64 << (32 - u32::from(len.min(32)));
    let offset = if size > 5 {
        4 + hash(o, seed) % (size - 5)
    } else {
        0
    };
    // `offset` < `size` <= 2^32, and `base` is the network address.
    dotted(base.wrapping_add(offset as u32))
}

/// A public address from a block AWS uses for EC2 (`3.80.0.0/12`).
fn public_ip(o: &SimObjectFacts<'_>) -> String {
    let host = (hash(o, "public_ip") % ((1 << 20) - 2)) as u32 + 1;
    dotted(0x0350_0000 + host)
}

/// `ip-10-0-1-5.ec2.internal` in us-east-1, `ip-10-0-1-5.REGION.compute.internal` elsewhere.
fn private_dns(ip: &str, region: &str) -> String {
    let dashed = ip.replace('.', "-");
    if region == "us-east-1" {
        format!("ip-{dashed}.ec2.internal")
    } else {
        format!("ip-{dashed}.{region}.compute.internal")
    }
}

fn public_dns(ip: &str, region: &str) -> String {
    let dashed = ip.replace('.', "-");
    if region == "us-east-1" {
        format!("ec2-{dashed}.compute-1.amazonaws.com")
    } else {
        format!("ec2-{dashed}.{region}.compute.amazonaws.com")
    }
}

/// `10.0.1.0/24` -> (the network address as a number, 24).
fn parse_cidr(cidr: &str) -> Option<(u32, u8)> {
    let (addr, len) = cidr.split_once('/')?;
    let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
    let octets: Vec<u32> = addr
        .split('.')
        .map(|o| o.parse::<u8>().map(u32::from))
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    let [a, b, c, d] = octets.as_slice() else {
        return None;
    };
    let addr = (a << 24) | (b << 16) | (c << 8) | d;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Some((addr & mask, len))
}

fn dotted(addr: u32) -> String {
    let [a, b, c, d] = addr.to_be_bytes();
    format!("{a}.{b}.{c}.{d}")
}

/// An EC2-style id (`eni-0123456789abcdef0`) for a value the object carries besides its own
/// id, stable for the object and `seed`.
fn hex_id(prefix: &str, o: &SimObjectFacts<'_>, seed: &str) -> String {
    format!("{prefix}-0{:016x}", hash(o, seed))
}

/// A name `prefix` plus 26 hex digits, as Terraform's `name_prefix` makes them.
fn generated_name(o: &SimObjectFacts<'_>, prefix: &str) -> String {
    let h = hash(o, "name");
    let hex = format!("{h:016x}{:016x}", splitmix(h));
    format!("{prefix}{}", &hex[..26])
}

/// An id shaped like a UUID (EKS node group ARNs end in one).
fn uuid_like(o: &SimObjectFacts<'_>) -> String {
    let h = hash(o, "uuid");
    let hex = format!("{h:016x}{:016x}", splitmix(h));
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `n` lower-case letters and digits from `h`.
fn letters(mut h: u64, n: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..n)
        .map(|_| {
            h = splitmix(h);
            char::from(ALPHABET[(h % ALPHABET.len() as u64) as usize])
        })
        .collect()
}

/// A number stable for one object (its serial and id) and `seed`: FNV-1a finished with
/// SplitMix64, the same on every platform and Rust release.
fn hash(o: &SimObjectFacts<'_>, seed: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let serial = o.serial.to_le_bytes();
    for part in [&serial[..], o.id.as_bytes(), seed.as_bytes()] {
        for b in (part.len() as u64).to_le_bytes().iter().chain(part) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    splitmix(h)
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A world of objects by id.
    struct World(BTreeMap<String, Value>);

    impl SimWorldView for World {
        fn object(&self, id: &str) -> Option<Value> {
            self.0.get(id).cloned()
        }
    }

    fn world(objects: &[(&str, Value)]) -> World {
        World(
            objects
                .iter()
                .map(|(id, v)| ((*id).to_owned(), v.clone()))
                .collect(),
        )
    }

    fn facts<'a>(type_name: &'a str, id: &'a str, planned: &'a Value) -> SimObjectFacts<'a> {
        SimObjectFacts {
            type_name,
            id,
            region: "us-east-1",
            planned,
            serial: 7,
        }
    }

    fn string(v: Option<Value>) -> String {
        v.and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    #[test]
    fn ids_follow_aws() {
        let m = AwsSimModel;
        for (type_name, style) in [
            ("aws_vpc", IdStyle::Prefixed("vpc".into())),
            ("aws_instance", IdStyle::Prefixed("i".into())),
            ("aws_security_group", IdStyle::Prefixed("sg".into())),
            ("aws_eip", IdStyle::Prefixed("eipalloc".into())),
            ("aws_nat_gateway", IdStyle::Prefixed("nat".into())),
            ("aws_fsx_lustre_file_system", IdStyle::Prefixed("fs".into())),
            ("aws_s3_bucket", IdStyle::Attribute("bucket".into())),
            ("aws_placement_group", IdStyle::Attribute("name".into())),
            ("aws_eks_cluster", IdStyle::Attribute("name".into())),
            (
                "aws_eks_node_group",
                IdStyle::Template("{cluster_name}:{node_group_name}".into()),
            ),
        ] {
            assert_eq!(m.id_style(type_name), Some(style), "{type_name}");
        }
        assert_eq!(m.id_style("aws_unheard_of"), None);
    }

    #[test]
    fn not_found_codes_are_the_apis_own() {
        let m = AwsSimModel;
        let code = |t: &str| m.not_found_code(t).unwrap_or_default();
        assert_eq!(code("aws_vpc"), "InvalidVpcID.NotFound");
        assert_eq!(code("aws_route_table"), "InvalidRouteTableID.NotFound");
        assert_eq!(code("aws_security_group"), "InvalidGroup.NotFound");
        assert_eq!(code("aws_nat_gateway"), "NatGatewayNotFound");
        assert_eq!(code("aws_s3_bucket"), "NoSuchBucket");
        assert_eq!(code("aws_iam_role"), "NoSuchEntity");
        assert_eq!(code("aws_eks_cluster"), "ResourceNotFoundException");
        assert_eq!(m.not_found_code("google_compute_network"), None);
    }

    #[test]
    fn arns_name_the_service_account_and_region() {
        let m = AwsSimModel;
        let w = world(&[]);
        let none = Value::map([("name", Value::string("gpu"))]);
        let arn = |t: &str, id: &str, planned: &Value| {
            string(m.computed(&facts(t, id, planned), "arn", &w))
        };
        assert_eq!(
            arn("aws_security_group", "sg-1", &Value::Null),
            "arn:aws:ec2:us-east-1:123456789012:security-group/sg-1"
        );
        assert_eq!(
            arn("aws_nat_gateway", "nat-1", &Value::Null),
            "arn:aws:ec2:us-east-1:123456789012:natgateway/nat-1"
        );
        assert_eq!(
            arn("aws_eks_cluster", "gpu", &none),
            "arn:aws:eks:us-east-1:123456789012:cluster/gpu"
        );
        assert_eq!(
            arn("aws_efs_file_system", "fs-1", &Value::Null),
            "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1"
        );
        let bucket = Value::map([("bucket", Value::string("data"))]);
        assert_eq!(arn("aws_s3_bucket", "data", &bucket), "arn:aws:s3:::data");
        let role = Value::map([
            ("name", Value::string("trainer")),
            ("path", Value::string("/ml/")),
        ]);
        assert_eq!(
            arn("aws_iam_role", "trainer", &role),
            "arn:aws:iam::123456789012:role/ml/trainer"
        );
    }

    #[test]
    fn an_instance_gets_an_address_and_zone_of_its_subnet() {
        let m = AwsSimModel;
        let w = world(&[(
            "subnet-1",
            Value::map([
                ("cidr_block", Value::string("10.0.1.0/24")),
                ("availability_zone", Value::string("us-east-1c")),
            ]),
        )]);
        let planned = Value::map([("subnet_id", Value::string("subnet-1"))]);
        let o = facts("aws_instance", "i-1", &planned);
        let ip = string(m.computed(&o, "private_ip", &w));
        let (net, _) = parse_cidr("10.0.1.0/24").unwrap_or_default();
        let (addr, _) = parse_cidr(&format!("{ip}/32")).unwrap_or_default();
        assert!(
            (net + 4..net + 255).contains(&addr),
            "{ip} outside 10.0.1.4-10.0.1.254"
        );
        assert_eq!(
            string(m.computed(&o, "private_dns", &w)),
            format!("ip-{}.ec2.internal", ip.replace('.', "-"))
        );
        assert_eq!(
            string(m.computed(&o, "availability_zone", &w)),
            "us-east-1c"
        );
        // A private subnet: no public address.
        assert_eq!(m.computed(&o, "public_ip", &w), Some(Value::Null));
        // The same object always gets the same address; another one (most likely) not.
        assert_eq!(string(m.computed(&o, "private_ip", &w)), ip);
        let other = SimObjectFacts {
            serial: 8,
            ..facts("aws_instance", "i-2", &planned)
        };
        assert_ne!(string(m.computed(&other, "private_ip", &w)), ip);
    }

    #[test]
    fn small_subnets_and_missing_subnets_still_give_valid_addresses() {
        let m = AwsSimModel;
        let w = world(&[(
            "subnet-1",
            Value::map([("cidr_block", Value::string("10.9.0.16/28"))]),
        )]);
        for serial in 0..50 {
            let planned = Value::map([("subnet_id", Value::string("subnet-1"))]);
            let o = SimObjectFacts {
                serial,
                ..facts("aws_instance", "i-1", &planned)
            };
            let ip = string(m.computed(&o, "private_ip", &w));
            let (addr, _) = parse_cidr(&format!("{ip}/32")).unwrap_or_default();
            let (net, _) = parse_cidr("10.9.0.16/28").unwrap_or_default();
            assert!((net + 4..net + 15).contains(&addr), "{ip}");
        }
        let o = facts("aws_instance", "i-1", &Value::Null);
        assert!(string(m.computed(&o, "private_ip", &w)).starts_with("172.31."));
        assert_eq!(
            string(m.computed(&o, "availability_zone", &w)),
            "us-east-1a"
        );
    }

    #[test]
    fn endpoints_and_dns_names_look_like_aws() {
        let m = AwsSimModel;
        let w = world(&[("subnet-1", Value::map([("vpc_id", Value::string("vpc-1"))]))]);
        let cluster = Value::map([("name", Value::string("gpu"))]);
        let endpoint =
            string(m.computed(&facts("aws_eks_cluster", "gpu", &cluster), "endpoint", &w));
        let host = endpoint
            .strip_prefix("https://")
            .and_then(|h| h.strip_suffix(".gr7.us-east-1.eks.amazonaws.com"))
            .unwrap_or_default();
        assert_eq!(host.len(), 32, "{endpoint}");
        assert!(host.chars().all(|c| c.is_ascii_hexdigit()), "{endpoint}");
        let lustre = Value::map([
            ("deployment_type", Value::string("PERSISTENT_2")),
            ("subnet_ids", Value::List(vec![Value::string("subnet-1")])),
        ]);
        let o = facts("aws_fsx_lustre_file_system", "fs-0abc", &lustre);
        assert_eq!(
            string(m.computed(&o, "dns_name", &w)),
            "fs-0abc.fsx.us-east-1.amazonaws.com"
        );
        let mount = string(m.computed(&o, "mount_name", &w));
        assert_eq!(mount.len(), 8);
        assert!(mount
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_eq!(string(m.computed(&o, "vpc_id", &w)), "vpc-1");
        let scratch = Value::map([("deployment_type", Value::string("SCRATCH_1"))]);
        let o = facts("aws_fsx_lustre_file_system", "fs-1", &scratch);
        assert_eq!(string(m.computed(&o, "mount_name", &w)), "fsx");
        let o = facts("aws_efs_file_system", "fs-2", &Value::Null);
        assert_eq!(
            string(m.computed(&o, "dns_name", &w)),
            "fs-2.efs.us-east-1.amazonaws.com"
        );
    }

    #[test]
    fn a_bucket_from_a_prefix_gets_a_name_and_domain_names() {
        let m = AwsSimModel;
        let w = world(&[]);
        let planned = Value::map([("bucket_prefix", Value::string("ckpt-"))]);
        let o = facts("aws_s3_bucket", "x", &planned);
        let name = string(m.computed(&o, "bucket", &w));
        assert!(
            name.starts_with("ckpt-") && name.len() == "ckpt-".len() + 26,
            "{name}"
        );
        let planned = Value::map([("bucket", Value::string("data"))]);
        let o = facts("aws_s3_bucket", "data", &planned);
        assert_eq!(
            string(m.computed(&o, "bucket_regional_domain_name", &w)),
            "data.s3.us-east-1.amazonaws.com"
        );
    }

    #[test]
    fn account_data_sources_answer_like_aws() {
        let m = AwsSimModel;
        let zones = m.read_data(
            "aws_availability_zones",
            &Value::Null,
            "eu-central-1",
            &Default::default(),
        );
        let zones = zones.unwrap_or(Value::Null);
        let a = Attrs(&zones);
        assert_eq!(a.strs("names")[0], "eu-central-1a");
        assert_eq!(
            a.strs("zone_ids"),
            vec!["euc1-az1", "euc1-az2", "euc1-az3", "euc1-az4"]
        );
        assert_eq!(a.strs("group_names"), vec!["eu-central-1"]);
        let config = Value::map([(
            "exclude_names",
            Value::List(vec![Value::string("us-east-1b")]),
        )]);
        let some = m
            .read_data(
                "aws_availability_zones",
                &config,
                "us-east-1",
                &Default::default(),
            )
            .unwrap_or(Value::Null);
        assert_eq!(
            Attrs(&some).strs("names"),
            vec!["us-east-1a", "us-east-1c", "us-east-1d"]
        );
        assert_eq!(Attrs(&some).strs("zone_ids")[0], "use1-az1");
        let me = m
            .read_data(
                "aws_caller_identity",
                &Value::Null,
                "us-east-1",
                &Default::default(),
            )
            .unwrap_or(Value::Null);
        assert_eq!(Attrs(&me).str("account_id"), Some(SIM_ACCOUNT));
        assert_eq!(
            Attrs(&me).str("arn"),
            Some("arn:aws:iam::123456789012:user/gantry-sim")
        );
        assert_eq!(
            m.read_data(
                "aws_ec2_instance_type",
                &Value::Null,
                "us-east-1",
                &Default::default()
            ),
            None
        );
    }

    #[test]
    fn zone_ids_and_regions_of_zones() {
        assert_eq!(zone_id("us-east-1", 0), "use1-az1");
        assert_eq!(zone_id("ap-northeast-1", 1), "apne1-az2");
        assert_eq!(zone_id("us-gov-west-1", 0), "usgw1-az1");
        assert_eq!(region_of_zone("us-east-1a").as_deref(), Some("us-east-1"));
        assert_eq!(
            region_of_zone("us-east-1-bos-1a").as_deref(),
            Some("us-east-1")
        );
        assert_eq!(
            region_of_zone("us-gov-west-1b").as_deref(),
            Some("us-gov-west-1")
        );
        assert_eq!(region_of_zone("europe-west4-a"), None);
        assert_eq!(region_of_zone("nonsense"), None);
    }
}
