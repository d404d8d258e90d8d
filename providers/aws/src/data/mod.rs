//! Data sources, one file each, with Terraform's names.

use crate::resources::Cx;
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, plan_from_schema, PlannedState, Schema, Value};

mod availability_zones;
mod caller_identity;
mod iam_policy_document;
mod ec2_instance_type;
mod ec2_instance_type_offerings;

/// Every data source of the provider.
pub fn all() -> Vec<Box<dyn DataSource>> {
    vec![
        Box::new(availability_zones::AvailabilityZones),
        Box::new(caller_identity::CallerIdentity),
        Box::new(iam_policy_document::IamPolicyDocument),
        Box::new(ec2_instance_type::Ec2InstanceType),
        Box::new(ec2_instance_type_offerings::Ec2InstanceTypeOfferings),
    ]
}

/// One AWS data source.
#[async_trait]
pub trait DataSource: Send + Sync {
    /// `aws_caller_identity`.
    fn name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Reads it: the configuration with every computed attribute filled in.
    async fn read(&self, cx: &Cx<'_>, config: &Value) -> Result<Value>;
}

/// The plan of a data source: while its configuration is unchanged it keeps what the last
/// read found; once the configuration changes, what it computes is unknown until it is read
/// again at apply (so everything using it is planned against the new values).
pub fn plan(schema: &Schema, prior: Option<&Value>, config: &Value) -> PlannedState {
    let mut planned = plan_from_schema(schema, prior, config);
    let get = |v: &Value, name: &str| v.as_map().and_then(|m| m.get(name)).cloned().unwrap_or_default();
    let configured = schema
        .attributes
        .iter()
        .filter(|(_, a)| !a.computed || a.optional)
        .map(|(name, _)| name)
        .chain(schema.blocks.keys());
    let changed = prior.is_some_and(|p| configured.into_iter().any(|n| get(p, n) != get(&planned.value, n)));
    if let (true, Value::Map(map)) = (changed, &mut planned.value) {
        for (name, attr) in schema.attributes.iter().filter(|(_, a)| a.computed && !a.optional) {
            map.insert(name.clone(), Value::Unknown(attr.ty.clone()));
        }
    }
    planned
}
