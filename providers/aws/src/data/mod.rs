//! Data sources, one file each, with Terraform's names.

use crate::resources::Cx;
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Schema, Value};

mod availability_zones;
mod caller_identity;
mod ec2_instance_type;
mod ec2_instance_type_offerings;
pub mod iam_policy_document;

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

/// The plan of a data source (shared by every cloud).
pub use gantry_provider::data_plan::plan_data_source as plan;
