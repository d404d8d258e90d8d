//! Taking over a Terraform state (`gantry state takeover terraform.tfstate`): a version-4
//! state file, as Terraform writes it or `terraform state pull` prints it, converted into
//! gantry state without touching any cloud.
//!
//! Each managed resource instance of a type gantry supports is converted through gantry's
//! schema for that type: the attributes the schema knows are kept (converted to their
//! types), the others dropped (the next refresh reads the object whole). Deposed objects
//! keep a deposed key, so the next apply deletes them as Terraform would have. Data sources
//! are left out: they are read again. Anything gantry does not support is listed; the
//! takeover is refused unless the caller skips those explicitly.

use super::model::{OutputState, ResourceMode, ResourceState, State};
use gantry_provider::Schema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The parts of a Terraform state (format version 4) gantry reads.
#[derive(Debug, Deserialize)]
pub struct TerraformState {
    pub version: u64,
    #[serde(default)]
    pub terraform_version: String,
    #[serde(default)]
    pub outputs: BTreeMap<String, TerraformOutput>,
    #[serde(default)]
    pub resources: Vec<TerraformResource>,
}

#[derive(Debug, Deserialize)]
pub struct TerraformOutput {
    pub value: serde_json::Value,
    #[serde(default)]
    pub sensitive: bool,
}

#[derive(Debug, Deserialize)]
pub struct TerraformResource {
    pub mode: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub name: String,
    #[serde(default)]
    pub module: Option<String>,
    pub provider: String,
    #[serde(default)]
    pub instances: Vec<TerraformInstance>,
}

#[derive(Debug, Deserialize)]
pub struct TerraformInstance {
    #[serde(default)]
    pub index_key: Option<serde_json::Value>,
    #[serde(default)]
    pub deposed: Option<String>,
    #[serde(default)]
    pub attributes: Option<serde_json::Value>,
    #[serde(default)]
    pub dependencies: Vec<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// Why a state cannot be taken over.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TakeoverError {
    #[error("not a Terraform state: {0}")]
    Parse(String),
    #[error("Terraform state format version {0} is not supported (only version 4, written by Terraform 0.12 and later)")]
    Version(u64),
}

/// What gantry must know about a resource type to take it over.
pub struct TypeInfo {
    pub schema: Schema,
    /// The provider configuration key gantry will manage it with (`aws`, `aws.west`).
    pub provider_key: String,
}

/// The outcome of a conversion.
#[derive(Debug, Default)]
pub struct Takeover {
    pub resources: Vec<ResourceState>,
    pub outputs: BTreeMap<String, OutputState>,
    /// Instances of types gantry does not support (addresses).
    pub unsupported: Vec<String>,
    /// Data source instances left out (read again by the next plan).
    pub data_sources: usize,
    /// Attributes dropped because gantry's schema does not have them, per type.
    pub dropped: BTreeMap<String, Vec<String>>,
}

/// Parses a Terraform state file.
pub fn parse(bytes: &[u8]) -> Result<TerraformState, TakeoverError> {
    let version: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| TakeoverError::Parse(e.to_string()))?;
    match version.get("version").and_then(serde_json::Value::as_u64) {
        Some(4) => {}
        Some(v) => return Err(TakeoverError::Version(v)),
        None => return Err(TakeoverError::Parse("no `version` field".into())),
    }
    serde_json::from_value(version).map_err(|e| TakeoverError::Parse(e.to_string()))
}

/// Converts `tf`; `type_info(address, type)` says how gantry manages a type at an
/// address, or `None` when it does not support it.
pub fn convert(
    tf: &TerraformState,
    mut type_info: impl FnMut(&str, &str) -> Option<TypeInfo>,
) -> Takeover {
    let mut out = Takeover::default();
    for r in &tf.resources {
        if r.mode == "data" {
            out.data_sources += r.instances.len();
            continue;
        }
        let base = match &r.module {
            Some(m) if !m.is_empty() => format!("{m}.{}.{}", r.type_name, r.name),
            _ => format!("{}.{}", r.type_name, r.name),
        };
        for instance in &r.instances {
            let mut address = format!("{base}{}", key_suffix(instance.index_key.as_ref()));
            let Some(info) = type_info(&address, &r.type_name) else {
                out.unsupported.push(address);
                continue;
            };
            if let Some(deposed) = &instance.deposed {
                address = format!("{address} (deposed {deposed})");
            }
            let attributes = instance
                .attributes
                .clone()
                .unwrap_or(serde_json::Value::Null);
            let (kept, dropped) = through_schema(&info.schema, &attributes);
            if !dropped.is_empty() {
                let list = out.dropped.entry(r.type_name.clone()).or_default();
                for d in dropped {
                    if !list.contains(&d) {
                        list.push(d);
                    }
                }
            }
            out.resources.push(ResourceState {
                address,
                mode: ResourceMode::Managed,
                type_name: r.type_name.clone(),
                provider: info.provider_key,
                schema_version: info.schema.version,
                attributes: kept,
                sensitive_paths: info.schema.sensitive_paths(),
                dependencies: instance.dependencies.clone(),
                create_token: None,
                // Terraform's own word for an object whose create failed half-way.
                tainted: instance.status.as_deref() == Some("tainted"),
                placement: None,
                module_placements: Default::default(),
            });
        }
    }
    for (name, o) in &tf.outputs {
        out.outputs.insert(
            name.clone(),
            OutputState {
                value: o.value.clone(),
                sensitive: o.sensitive,
            },
        );
    }
    out
}

/// `[0]`, `["a"]`, or nothing.
fn key_suffix(key: Option<&serde_json::Value>) -> String {
    match key {
        Some(serde_json::Value::Number(n)) => format!("[{n}]"),
        Some(serde_json::Value::String(s)) => {
            format!("{}", crate::addrs::InstanceKey::Str(s.clone()))
        }
        _ => String::new(),
    }
}

/// The attributes `schema` knows, converted to its types, and the names of those dropped.
fn through_schema(
    schema: &Schema,
    attributes: &serde_json::Value,
) -> (serde_json::Value, Vec<String>) {
    let Some(map) = attributes.as_object() else {
        return (serde_json::Value::Object(Default::default()), Vec::new());
    };
    let mut kept = serde_json::Map::new();
    let mut dropped = Vec::new();
    for (name, value) in map {
        if let Some(attribute) = schema.attributes.get(name) {
            let converted = gantry_provider::Value::from_json(value)
                .convert(&attribute.ty)
                .map_or_else(|_| value.clone(), |v| v.to_json());
            kept.insert(name.clone(), converted);
        } else if let Some(block) = schema.blocks.get(name) {
            let items: Vec<serde_json::Value> = match value {
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|item| through_schema(&block.schema, item).0)
                    .collect(),
                serde_json::Value::Null => Vec::new(),
                single => vec![through_schema(&block.schema, single).0],
            };
            let converted = if block.nesting == gantry_provider::Nesting::Single {
                items.into_iter().next().unwrap_or(serde_json::Value::Null)
            } else {
                serde_json::Value::Array(items)
            };
            kept.insert(name.clone(), converted);
        } else {
            dropped.push(name.clone());
        }
    }
    (serde_json::Value::Object(kept), dropped)
}

/// Puts a takeover into an empty state (the caller checked it is empty).
pub fn into_state(mut state: State, takeover: &Takeover) -> State {
    for r in &takeover.resources {
        state.upsert_resource(r.clone());
    }
    state.outputs = takeover.outputs.clone();
    state
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use gantry_provider::{Attribute, Type};

    const TF: &str = r#"{
      "version": 4, "terraform_version": "1.9.5", "serial": 7, "lineage": "x",
      "outputs": {"vpc_id": {"value": "vpc-1", "type": "string"}},
      "resources": [
        {"mode": "data", "type": "aws_ami", "name": "u", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
         "instances": [{"schema_version": 0, "attributes": {"id": "ami-1"}}]},
        {"mode": "managed", "type": "aws_vpc", "name": "main", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
         "instances": [{"schema_version": 1, "attributes": {"id": "vpc-1", "cidr_block": "10.0.0.0/16", "ipv6_netmask_length": 0}}]},
        {"mode": "managed", "type": "aws_subnet", "name": "a", "module": "module.net", "each": "map",
         "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
         "instances": [
           {"index_key": "us-east-1a", "attributes": {"id": "subnet-1", "cidr_block": "10.0.1.0/24"}, "dependencies": ["aws_vpc.main"]},
           {"index_key": "us-east-1b", "deposed": "00ab12cd", "attributes": {"id": "subnet-0"}}
         ]},
        {"mode": "managed", "type": "aws_lambda_function", "name": "f", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
         "instances": [{"index_key": 0, "attributes": {"id": "f"}}]}
      ]
    }"#;

    fn info(_: &str, type_name: &str) -> Option<TypeInfo> {
        (type_name != "aws_lambda_function").then(|| TypeInfo {
            schema: Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr("cidr_block", Attribute::required(Type::String)),
            provider_key: "aws".into(),
        })
    }

    #[test]
    fn converts_through_the_schema_and_lists_what_it_cannot_take() {
        let tf = parse(TF.as_bytes()).unwrap();
        let t = convert(&tf, info);
        let addresses: Vec<&str> = t.resources.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(
            addresses,
            [
                "aws_vpc.main",
                "module.net.aws_subnet.a[\"us-east-1a\"]",
                "module.net.aws_subnet.a[\"us-east-1b\"] (deposed 00ab12cd)"
            ]
        );
        assert_eq!(
            t.resources[0].attributes,
            serde_json::json!({"id": "vpc-1", "cidr_block": "10.0.0.0/16"})
        );
        assert_eq!(t.dropped["aws_vpc"], ["ipv6_netmask_length"]);
        assert_eq!(t.resources[1].dependencies, ["aws_vpc.main"]);
        assert!(crate::plan::deposed::is_deposed(&t.resources[2].address));
        assert_eq!(t.unsupported, ["aws_lambda_function.f[0]"]);
        assert_eq!(t.data_sources, 1);
        assert_eq!(t.outputs["vpc_id"].value, "vpc-1");
    }

    #[test]
    fn other_versions_and_other_files_are_refused() {
        assert_eq!(
            parse(br#"{"version": 3, "modules": []}"#).err(),
            Some(TakeoverError::Version(3))
        );
        assert!(matches!(
            parse(b"resource {}"),
            Err(TakeoverError::Parse(_))
        ));
        assert!(matches!(
            parse(br#"{"lineage": "x"}"#),
            Err(TakeoverError::Parse(_))
        ));
    }
}
