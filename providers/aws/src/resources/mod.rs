//! Resource types, one file each, with Terraform's names. Each implements
//! [`ResourceType`]; [`all`] lists them for the provider.

use crate::attrs::Obj;
use crate::clients::Clients;
use crate::settings::Settings;
use crate::tags::{self, Tags};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, OpContext, PlannedState, ProviderError, Schema, Value,
};
use std::future::Future;

mod efs_file_system;
mod eip;
mod eks_cluster;
mod eks_node_group;
mod fsx_data_repository_association;
mod fsx_lustre_file_system;
mod iam_common;
mod iam_instance_profile;
mod iam_policy;
mod iam_role;
mod iam_role_policy_attachment;
mod instance;
mod internet_gateway;
mod kms_key;
mod launch_template;
mod naming;
mod nat_gateway;
mod placement_group;
mod policy_json;
mod route_table;
mod route_table_association;
mod s3_bucket;
mod s3_bucket_public_access_block;
mod s3_bucket_server_side_encryption_configuration;
mod s3_bucket_versioning;
mod sagemaker_domain;
mod sagemaker_notebook_instance;
mod security_group;
mod subnet;
mod vpc;

/// Every resource type of the provider.
pub fn all() -> Vec<Box<dyn ResourceType>> {
    vec![
        Box::new(vpc::Vpc),
        Box::new(iam_role::IamRole),
        Box::new(iam_policy::IamPolicy),
        Box::new(iam_role_policy_attachment::IamRolePolicyAttachment),
        Box::new(iam_instance_profile::IamInstanceProfile),
        Box::new(kms_key::KmsKey),
        Box::new(s3_bucket::S3Bucket),
        Box::new(s3_bucket_versioning::S3BucketVersioning),
        Box::new(s3_bucket_server_side_encryption_configuration::S3BucketServerSideEncryptionConfiguration),
        Box::new(s3_bucket_public_access_block::S3BucketPublicAccessBlock),
        Box::new(fsx_lustre_file_system::LustreFileSystem),
        Box::new(fsx_data_repository_association::FsxDataRepositoryAssociation),
        Box::new(efs_file_system::EfsFileSystem),
        Box::new(sagemaker_domain::SagemakerDomain),
        Box::new(sagemaker_notebook_instance::NotebookInstance),
        Box::new(subnet::Subnet),
        Box::new(internet_gateway::InternetGateway),
        Box::new(eip::Eip),
        Box::new(nat_gateway::NatGateway),
        Box::new(route_table::RouteTable),
        Box::new(route_table_association::RouteTableAssociation),
        Box::new(security_group::SecurityGroup),
        Box::new(placement_group::PlacementGroup),
        Box::new(launch_template::LaunchTemplate),
        Box::new(instance::Ec2Instance),
        Box::new(eks_cluster::EksCluster),
        Box::new(eks_node_group::EksNodeGroup),
    ]
}

/// What an operation on one resource has at hand.
pub struct Cx<'a> {
    pub op: &'a OpContext,
    pub settings: &'a Settings,
}

impl Cx<'_> {
    pub fn clients(&self) -> &Clients {
        &self.settings.clients
    }

    /// Every tag to put on a new or updated object (default tags, the user's, gantry's).
    pub fn tags(&self, planned: &Value) -> Tags {
        tags::desired(&self.settings.default_tags, planned, self.op)
    }

    /// The idempotency token of this create (stable across retries and crash recovery).
    pub fn token(&self) -> Option<&str> {
        self.op.idempotency_token.as_deref()
    }

    pub fn region(&self) -> &str {
        &self.settings.clients.region
    }
}

/// What a create knows of its object once the cloud accepted it: the planned values
/// (unknowns dropped) with the new `id`.
pub fn accepted(planned: &Value, id: &str) -> Value {
    let mut known = Obj::from(planned);
    known.set("id", id);
    known.into_value()
}

/// Runs what a create does after the call the cloud accepted (waits, read-back, tags,
/// attribute changes): an error among those steps carries `known`
/// ([`ProviderError::after_create`]), so the engine records the object, tainted, and never
/// sends the create again. Cancellation during a wait is such an error too. Since nothing
/// retries these steps, their SDK calls ride out throttling and transient errors far
/// longer than other calls ([`crate::clients::after_accept_scope`]).
pub async fn after_accept<T>(known: Value, steps: impl Future<Output = Result<T>>) -> Result<T> {
    crate::clients::after_accept_scope(steps)
        .await
        .map_err(|e| match e.accepted {
            Some(_) => e,
            None => e.after_create(known),
        })
}

/// The one object a lookup found for a create, warning about others: a create carries a
/// token unique to it, so two matches mean an earlier attempt of this very create was
/// carried out twice (an SDK retry of a call without an idempotency token) and the extra
/// one needs a hand.
pub fn only_one(what: &str, mut found: Vec<String>) -> Option<String> {
    if found.len() > 1 {
        tracing::warn!(
            what,
            ids = ?found,
            "several objects carry this create's token; adopting the first, delete the others"
        );
    }
    (!found.is_empty()).then(|| found.swap_remove(0))
}

/// One page of an EC2 Describe call, as each object's tags and id.
pub type Tagged<'p> = Vec<(&'p [aws_sdk_ec2::types::Tag], Option<&'p str>)>;

/// The id of the object this create made among the pages of an EC2 Describe call filtered
/// by its gantry tags ([`tags::ec2_identity_filters`]): the one whose tags carry all three
/// marks (the filter narrows; [`tags::are_ours`] decides). `what` names the object kind in
/// warnings, `op` the API call in errors.
pub async fn ec2_ours<T, E>(
    cx: &Cx<'_>,
    what: &str,
    op: &str,
    mut pages: aws_smithy_async::future::pagination_stream::PaginationStream<
        std::result::Result<
            T,
            aws_smithy_runtime_api::client::result::SdkError<
                E,
                aws_smithy_runtime_api::client::orchestrator::HttpResponse,
            >,
        >,
    >,
    items: impl for<'p> Fn(&'p T) -> Tagged<'p>,
) -> Result<Option<String>>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
{
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| crate::errors::sdk_error(op, e))?;
        found.extend(
            items(&page)
                .into_iter()
                .filter(|(t, _)| tags::are_ours(cx.op, &tags::from_ec2(t)))
                .filter_map(|(_, id)| id.map(str::to_owned)),
        );
    }
    Ok(only_one(what, found))
}

/// One AWS resource type.
#[async_trait]
pub trait ResourceType: Send + Sync {
    /// `aws_vpc`.
    fn name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Checks beyond the schema (mutually exclusive arguments, value ranges).
    fn validate(&self, _config: &Value) -> Vec<String> {
        Vec::new()
    }

    /// The planned state; the default follows the schema (force-new attributes replace).
    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        Ok(plan_from_schema(schema, prior, config))
    }

    /// Creates the object and returns its whole state.
    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value>;

    /// The object's current state, `None` when it is gone. `state` is the prior state:
    /// what the API does not return (write-only arguments) is kept from it.
    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>>;

    /// Changes updatable attributes in place.
    async fn update(&self, _cx: &Cx<'_>, _prior: &Value, _planned: &Value) -> Result<Value> {
        Err(ProviderError::fatal(format!(
            "`{}` has no attributes that can change in place",
            self.name()
        )))
    }

    /// Deletes the object; what is already gone is not an error.
    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()>;

    /// The object with this id, for `gantry import`.
    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        self.read(cx, &Value::map([("id", Value::string(id))]))
            .await
    }

    /// The object the create with `token` made for `cx.op.address`, `None` when there is
    /// none: see [`gantry_provider::Provider::find_created`] for what may be returned.
    /// `planned` is the configuration the create was sent with.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        token: &str,
        planned: &Value,
    ) -> Result<Option<Value>>;
}
