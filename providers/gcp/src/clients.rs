//! The google-cloud-rust clients of one provider block, each pointed at its endpoint with
//! the block's credentials. The clients do not retry: the engine retries by error class
//! (providers/README.md), so a throttled call reaches it at once.

use google_cloud_api_cloudquotas_v1::client::CloudQuotas;
use google_cloud_compute_v1::client::{
    AcceleratorTypes, Firewalls, GlobalOperations, InstanceGroupManagers, Instances, Networks,
    Projects as ComputeProjects, RegionOperations, Regions, ResourcePolicies, Routers, Subnetworks,
    ZoneOperations, Zones,
};
use google_cloud_container_v1::client::ClusterManager;
use google_cloud_filestore_v1::client::CloudFilestoreManager;
use google_cloud_gax::retry_policy::NeverRetry;
use google_cloud_iam_admin_v1::client::Iam;
use google_cloud_notebooks_v2::client::NotebookService;
use google_cloud_resourcemanager_v3::client::Projects;
use google_cloud_tpu_v2::client::Tpu;

/// The endpoint override of each API (`None`: Google's).
#[derive(Clone, Debug, Default)]
pub struct Endpoints {
    pub compute: Option<String>,
    pub tpu: Option<String>,
    pub iam: Option<String>,
    pub resource_manager: Option<String>,
    pub filestore: Option<String>,
    pub workbench: Option<String>,
    pub container: Option<String>,
    pub cloud_quotas: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Clients {
    pub networks: Networks,
    pub subnetworks: Subnetworks,
    pub firewalls: Firewalls,
    pub instances: Instances,
    /// The managed instance groups GKE runs a node pool's nodes in (its current size).
    pub instance_group_managers: InstanceGroupManagers,
    pub resource_policies: ResourcePolicies,
    pub regions: Regions,
    /// The GPUs each zone offers (`acceleratorTypes.get`), checked at plan.
    pub accelerator_types: AcceleratorTypes,
    /// Compute Engine's view of the project (its global quotas: `GPUS_ALL_REGIONS`).
    pub compute_projects: ComputeProjects,
    pub routers: Routers,
    pub zones: Zones,
    pub global_operations: GlobalOperations,
    pub region_operations: RegionOperations,
    pub zone_operations: ZoneOperations,
    /// Cloud TPU (nodes, accelerator types and its long-running operations).
    pub tpu: Tpu,
    /// IAM's service accounts.
    pub iam: Iam,
    /// Resource Manager's projects (their IAM policies, `google_project`).
    pub projects: Projects,
    /// Filestore's instances.
    pub filestore: CloudFilestoreManager,
    /// Vertex AI Workbench's instances (the Notebooks API, v2).
    pub workbench: NotebookService,
    /// GKE's clusters and node pools.
    pub container: ClusterManager,
    /// Cloud Quotas: the limits Compute Engine does not report (Cloud TPU's, GKE's TPUs).
    pub quotas: CloudQuotas,
}

/// Builds one client with the block's endpoint and credentials.
macro_rules! client {
    ($client:ty, $credentials:expr, $endpoint:expr) => {{
        let mut builder = <$client>::builder()
            .with_credentials($credentials.clone())
            .with_retry_policy(NeverRetry);
        if let Some(endpoint) = $endpoint {
            builder = builder.with_endpoint(endpoint.clone());
        }
        builder.build().await
    }};
}

impl Clients {
    pub async fn build(
        credentials: google_cloud_auth::credentials::Credentials,
        endpoints: &Endpoints,
    ) -> Result<Clients, google_cloud_gax::client_builder::Error> {
        let compute = endpoints.compute.as_ref();
        Ok(Clients {
            networks: client!(Networks, credentials, compute)?,
            subnetworks: client!(Subnetworks, credentials, compute)?,
            firewalls: client!(Firewalls, credentials, compute)?,
            instances: client!(Instances, credentials, compute)?,
            instance_group_managers: client!(InstanceGroupManagers, credentials, compute)?,
            resource_policies: client!(ResourcePolicies, credentials, compute)?,
            regions: client!(Regions, credentials, compute)?,
            accelerator_types: client!(AcceleratorTypes, credentials, compute)?,
            compute_projects: client!(ComputeProjects, credentials, compute)?,
            routers: client!(Routers, credentials, compute)?,
            zones: client!(Zones, credentials, compute)?,
            global_operations: client!(GlobalOperations, credentials, compute)?,
            region_operations: client!(RegionOperations, credentials, compute)?,
            zone_operations: client!(ZoneOperations, credentials, compute)?,
            tpu: client!(Tpu, credentials, endpoints.tpu.as_ref())?,
            iam: client!(Iam, credentials, endpoints.iam.as_ref())?,
            projects: client!(Projects, credentials, endpoints.resource_manager.as_ref())?,
            filestore: client!(
                CloudFilestoreManager,
                credentials,
                endpoints.filestore.as_ref()
            )?,
            workbench: client!(NotebookService, credentials, endpoints.workbench.as_ref())?,
            container: client!(ClusterManager, credentials, endpoints.container.as_ref())?,
            quotas: client!(CloudQuotas, credentials, endpoints.cloud_quotas.as_ref())?,
        })
    }
}
