//! The google-cloud-rust clients of one provider block, each pointed at its endpoint with
//! the block's credentials. The clients do not retry: the engine retries by error class
//! (providers/README.md), so a throttled call reaches it at once.

use google_cloud_compute_v1::client::{
    Firewalls, GlobalOperations, Instances, Networks, RegionOperations, Regions, ResourcePolicies,
    Subnetworks, ZoneOperations, Zones,
};
use google_cloud_gax::retry_policy::NeverRetry;

/// The endpoint override of each API (`None`: Google's).
#[derive(Clone, Debug, Default)]
pub struct Endpoints {
    pub compute: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Clients {
    pub networks: Networks,
    pub subnetworks: Subnetworks,
    pub firewalls: Firewalls,
    pub instances: Instances,
    pub resource_policies: ResourcePolicies,
    pub regions: Regions,
    pub zones: Zones,
    pub global_operations: GlobalOperations,
    pub region_operations: RegionOperations,
    pub zone_operations: ZoneOperations,
}

/// Builds one compute client with the block's endpoint and credentials.
macro_rules! compute_client {
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
            networks: compute_client!(Networks, credentials, compute)?,
            subnetworks: compute_client!(Subnetworks, credentials, compute)?,
            firewalls: compute_client!(Firewalls, credentials, compute)?,
            instances: compute_client!(Instances, credentials, compute)?,
            resource_policies: compute_client!(ResourcePolicies, credentials, compute)?,
            regions: compute_client!(Regions, credentials, compute)?,
            zones: compute_client!(Zones, credentials, compute)?,
            global_operations: compute_client!(GlobalOperations, credentials, compute)?,
            region_operations: compute_client!(RegionOperations, credentials, compute)?,
            zone_operations: compute_client!(ZoneOperations, credentials, compute)?,
        })
    }
}
