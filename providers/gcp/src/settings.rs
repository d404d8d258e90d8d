//! The `provider "google"` block: project, region, zone, credentials, default labels and
//! an endpoint override per API (for the local servers of the tests, or a private
//! endpoint).

use crate::clients::{Clients, Endpoints};
use crate::credentials;
use gantry_provider::attrs::Attrs;
use gantry_provider::provider::Result;
use gantry_provider::{Attribute, ErrorClass, ProviderError, Schema, Type, Value};
use std::collections::BTreeMap;

/// What a configured provider holds.
#[derive(Clone, Debug)]
pub struct Settings {
    pub project: String,
    pub region: Option<String>,
    pub zone: Option<String>,
    pub default_labels: BTreeMap<String, String>,
    pub clients: Clients,
    /// Cloud Storage's JSON API (buckets).
    pub storage: crate::storage_json::StorageJson,
    /// For `google_client_config.access_token`.
    pub credentials: google_cloud_auth::credentials::Credentials,
}

/// The per-API endpoint attributes, with Terraform's names.
pub const ENDPOINT_ATTRIBUTES: [&str; 9] = [
    "compute_custom_endpoint",
    "tpu_v2_custom_endpoint",
    "iam_custom_endpoint",
    "resource_manager_v3_custom_endpoint",
    "filestore_custom_endpoint",
    "workbench_custom_endpoint",
    "container_custom_endpoint",
    "storage_custom_endpoint",
    "cloud_quotas_custom_endpoint",
];

/// The schema of the `provider "google"` block.
pub fn schema() -> Schema {
    let mut schema = Schema::default()
        .attr(
            "project",
            Attribute::optional(Type::String).describe(
                "Project to manage objects in (else GOOGLE_PROJECT, GOOGLE_CLOUD_PROJECT, \
                 GCLOUD_PROJECT or CLOUDSDK_CORE_PROJECT).",
            ),
        )
        .attr(
            "region",
            Attribute::optional(Type::String)
                .describe("Default region (else GOOGLE_REGION or CLOUDSDK_COMPUTE_REGION)."),
        )
        .attr(
            "zone",
            Attribute::optional(Type::String)
                .describe("Default zone (else GOOGLE_ZONE or CLOUDSDK_COMPUTE_ZONE)."),
        )
        .attr(
            "credentials",
            Attribute::optional(Type::String).sensitive().describe(
                "A service account key, authorized user or workload identity federation \
                 configuration: its JSON or its path (else GOOGLE_CREDENTIALS, then \
                 application default credentials).",
            ),
        )
        .attr(
            "access_token",
            Attribute::optional(Type::String).sensitive().describe(
                "An OAuth 2.0 access token, used as it is (else GOOGLE_OAUTH_ACCESS_TOKEN).",
            ),
        )
        .attr(
            "default_labels",
            Attribute::optional(Type::map(Type::String))
                .describe("Labels put on every object that takes labels."),
        );
    for name in ENDPOINT_ATTRIBUTES {
        schema = schema.attr(
            name,
            Attribute::optional(Type::String).describe(
                "Root URL of the API, as the client library takes it \
                 (`https://compute.googleapis.com`, or a local server).",
            ),
        );
    }
    schema
}

fn first_env(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

/// Builds the clients of a provider block (null for an implicit, empty configuration).
pub async fn configure(config: &Value) -> Result<Settings> {
    let a = Attrs(config);
    let project = a
        .str("project")
        .map(str::to_owned)
        .or_else(|| {
            first_env(&[
                "GOOGLE_PROJECT",
                "GOOGLE_CLOUD_PROJECT",
                "GCLOUD_PROJECT",
                "CLOUDSDK_CORE_PROJECT",
            ])
        })
        .ok_or_else(|| {
            ProviderError::invalid(
                "no Google Cloud project: set `project` in the provider \"google\" block, or \
                 GOOGLE_PROJECT (also read: GOOGLE_CLOUD_PROJECT, GCLOUD_PROJECT, \
                 CLOUDSDK_CORE_PROJECT)",
            )
        })?;
    let region = a
        .str("region")
        .map(str::to_owned)
        .or_else(|| first_env(&["GOOGLE_REGION", "GCLOUD_REGION", "CLOUDSDK_COMPUTE_REGION"]));
    let zone = a
        .str("zone")
        .map(str::to_owned)
        .or_else(|| first_env(&["GOOGLE_ZONE", "GCLOUD_ZONE", "CLOUDSDK_COMPUTE_ZONE"]));
    let (credentials, source) = credentials::resolve(a.str("access_token"), a.str("credentials"))?;
    tracing::debug!(?source, %project, "google provider credentials");
    let endpoints = Endpoints {
        compute: a.str("compute_custom_endpoint").map(str::to_owned),
        tpu: a.str("tpu_v2_custom_endpoint").map(str::to_owned),
        iam: a.str("iam_custom_endpoint").map(str::to_owned),
        resource_manager: a
            .str("resource_manager_v3_custom_endpoint")
            .map(str::to_owned),
        filestore: a.str("filestore_custom_endpoint").map(str::to_owned),
        workbench: a.str("workbench_custom_endpoint").map(str::to_owned),
        container: a.str("container_custom_endpoint").map(str::to_owned),
        cloud_quotas: a.str("cloud_quotas_custom_endpoint").map(str::to_owned),
    };
    let clients = Clients::build(credentials.clone(), &endpoints)
        .await
        .map_err(|e| {
            ProviderError::new(
                ErrorClass::Fatal,
                format!("building the Google Cloud clients: {e}"),
            )
        })?;
    Ok(Settings {
        project,
        region,
        zone,
        default_labels: a.str_map("default_labels"),
        clients,
        storage: crate::storage_json::StorageJson::new(
            credentials.clone(),
            a.str("storage_custom_endpoint"),
        ),
        credentials,
    })
}

impl Settings {
    /// The region a regional object without its own `region` lives in.
    pub fn region_or(&self, given: Option<&str>) -> Result<String> {
        given
            .map(str::to_owned)
            .or_else(|| self.region.clone())
            .ok_or_else(|| {
                ProviderError::invalid(
                    "no region: set `region` on the resource or in the provider \"google\" block \
                     (or GOOGLE_REGION)",
                )
            })
    }
}
