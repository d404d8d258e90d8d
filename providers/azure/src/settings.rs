//! The `provider "azurerm"` block, with azurerm's names: the subscription and tenant,
//! credentials (see [`crate::credentials`]), the cloud (`environment` or `metadata_host`),
//! `default_tags` (gantry's: tags put on every object that takes tags) and `features`.

use crate::arm::Arm;
use crate::cloud;
use crate::credentials::{self, setting};
use gantry_provider::attrs::Attrs;
use gantry_provider::provider::Result;
use gantry_provider::{Attribute, NestedBlock, Nesting, ProviderError, Schema, Type, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a configured provider holds.
pub struct Settings {
    pub subscription_id: String,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub default_tags: BTreeMap<String, String>,
    pub features: Features,
    pub arm: Arm,
}

/// azurerm's `features { }` switches gantry honours.
#[derive(Clone, Debug)]
pub struct Features {
    /// `resource_group { prevent_deletion_if_contains_resources }` (default true): a
    /// resource group that still holds objects gantry does not manage is not deleted.
    pub prevent_group_deletion_with_resources: bool,
    /// `machine_learning { purge_soft_deleted_workspace_on_destroy }` (default false).
    pub purge_ml_workspace_on_destroy: bool,
    /// `key_vault { purge_soft_delete_on_destroy }` (default true).
    pub purge_key_vault_on_destroy: bool,
    /// `key_vault { recover_soft_deleted_key_vaults }` (default true): creating a vault
    /// whose name a soft-deleted vault holds recovers that vault.
    pub recover_soft_deleted_key_vaults: bool,
}

fn single(schema: Schema) -> NestedBlock {
    NestedBlock {
        nesting: Nesting::Single,
        schema,
        min_items: 0,
        max_items: Some(1),
        force_new: false,
    }
}

fn text(description: &str) -> Attribute {
    Attribute::optional(Type::String).describe(description)
}

/// The schema of the `provider "azurerm"` block.
pub fn schema() -> Schema {
    let features = Schema::default()
        .block(
            "resource_group",
            single(Schema::default().attr(
                "prevent_deletion_if_contains_resources",
                Attribute::optional(Type::Bool),
            )),
        )
        .block(
            "machine_learning",
            single(Schema::default().attr(
                "purge_soft_deleted_workspace_on_destroy",
                Attribute::optional(Type::Bool),
            )),
        )
        .block(
            "key_vault",
            single(
                Schema::default()
                    .attr(
                        "purge_soft_delete_on_destroy",
                        Attribute::optional(Type::Bool),
                    )
                    .attr(
                        "recover_soft_deleted_key_vaults",
                        Attribute::optional(Type::Bool),
                    ),
            ),
        );
    Schema::default()
        .attr("subscription_id", text("Subscription to manage objects in (else ARM_SUBSCRIPTION_ID)."))
        .attr("tenant_id", text("Entra tenant of the credentials (else ARM_TENANT_ID)."))
        .attr("client_id", text("Application (client) id of a service principal or managed identity (else ARM_CLIENT_ID)."))
        .attr("client_id_file_path", text("A file holding the client id (else ARM_CLIENT_ID_FILE_PATH)."))
        .attr(
            "client_secret",
            Attribute::optional(Type::String).sensitive().describe("The service principal's client secret (else ARM_CLIENT_SECRET)."),
        )
        .attr("client_secret_file_path", text("A file holding the client secret (else ARM_CLIENT_SECRET_FILE_PATH)."))
        .attr("client_certificate_path", text("Not supported yet: refused with what to use instead."))
        .attr("use_oidc", Attribute::optional(Type::Bool).describe("Authenticate with an OIDC token (else ARM_USE_OIDC)."))
        .attr(
            "oidc_token",
            Attribute::optional(Type::String).sensitive().describe("The OIDC token itself (else ARM_OIDC_TOKEN)."),
        )
        .attr("oidc_token_file_path", text("A file holding the OIDC token (else ARM_OIDC_TOKEN_FILE_PATH, AZURE_FEDERATED_TOKEN_FILE)."))
        .attr("oidc_request_url", text("The OIDC token service (else ARM_OIDC_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_URL)."))
        .attr(
            "oidc_request_token",
            Attribute::optional(Type::String)
                .sensitive()
                .describe("The bearer token for the OIDC token service (else ARM_OIDC_REQUEST_TOKEN, ACTIONS_ID_TOKEN_REQUEST_TOKEN)."),
        )
        .attr("use_aks_workload_identity", Attribute::optional(Type::Bool).describe("Use AKS workload identity's token file."))
        .attr("use_msi", Attribute::optional(Type::Bool).describe("Authenticate as a managed identity (else ARM_USE_MSI)."))
        .attr("use_cli", Attribute::optional(Type::Bool).describe("Fall back to the Azure CLI's login (default true; else ARM_USE_CLI)."))
        .attr("environment", text("public, usgovernment or china (else ARM_ENVIRONMENT; default public)."))
        .attr(
            "metadata_host",
            text("Host of an ARM metadata endpoint naming the cloud's endpoints (Azure Stack, private clouds; else ARM_METADATA_HOSTNAME)."),
        )
        .attr("default_tags", Attribute::optional(Type::map(Type::String)).describe("Tags put on every object that takes tags."))
        .block("features", single(features))
}

/// The HTTP client of the provider's Azure calls: rustls with the platform's roots (on
/// Linux these honour SSL_CERT_FILE / SSL_CERT_DIR, for private clouds and test CAs).
pub fn http_client() -> Result<reqwest::Client> {
    // Another crate may have installed the process's provider already; either is fine.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder().build().map_err(|e| {
        ProviderError::fatal(format!(
            "building the HTTP client: {}",
            gantry_provider::error_chain(&e)
        ))
    })
}

/// Configures a provider block (null for an implicit, empty configuration).
pub async fn configure(config: &Value) -> Result<Settings> {
    let a = Attrs(config);
    let subscription_id = setting(&a, "subscription_id", &["ARM_SUBSCRIPTION_ID"]).ok_or_else(|| {
        ProviderError::invalid("no Azure subscription: set `subscription_id` in the provider \"azurerm\" block or ARM_SUBSCRIPTION_ID")
    })?;
    let tenant_id = setting(&a, "tenant_id", &["ARM_TENANT_ID"]);
    let http = Arc::new(http_client()?);
    let cloud = match setting(&a, "metadata_host", &["ARM_METADATA_HOSTNAME"]) {
        Some(host) => cloud::from_metadata_host(&host, &http).await?,
        None => cloud::from_environment(
            &setting(&a, "environment", &["ARM_ENVIRONMENT"]).unwrap_or_else(|| "public".into()),
        )?,
    };
    let (credential, source) =
        credentials::resolve(&a, tenant_id.as_deref(), &cloud, http.clone())?;
    tracing::debug!(?source, cloud = %cloud.name, %subscription_id, "azurerm provider credentials");
    let arm = Arm::new(
        cloud.resource_manager.clone(),
        credential,
        cloud.scope.clone(),
        http,
    );
    let features = a.block("features");
    let feature = |block: &str, attr: &str, default: bool| {
        features
            .as_ref()
            .and_then(|f| f.block(block))
            .and_then(|b| b.bool(attr))
            .unwrap_or(default)
    };
    Ok(Settings {
        client_id: setting(&a, "client_id", &["ARM_CLIENT_ID"]),
        subscription_id,
        tenant_id,
        default_tags: a.str_map("default_tags"),
        features: Features {
            prevent_group_deletion_with_resources: feature(
                "resource_group",
                "prevent_deletion_if_contains_resources",
                true,
            ),
            purge_ml_workspace_on_destroy: feature(
                "machine_learning",
                "purge_soft_deleted_workspace_on_destroy",
                false,
            ),
            purge_key_vault_on_destroy: feature("key_vault", "purge_soft_delete_on_destroy", true),
            recover_soft_deleted_key_vaults: feature(
                "key_vault",
                "recover_soft_deleted_key_vaults",
                true,
            ),
        },
        arm,
    })
}
