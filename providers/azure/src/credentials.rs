//! Credentials as azurerm users know them, tried in azurerm's order: a service principal
//! with a client secret, OIDC (workload identity federation: a GitHub Actions token, an
//! AKS workload identity token file, or a token given), a managed identity, then the Azure
//! CLI's login. Each comes from the provider block or its `ARM_*` variable. The first one
//! configured is used; none configured is an error naming every source tried.

use crate::cloud::Cloud;
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientMethodOptions, ClientOptions, Transport};
use azure_identity::{
    AzureCliCredential, ClientAssertion, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
};
use gantry_provider::attrs::Attrs;
use gantry_provider::{ErrorClass, ProviderError};
use std::path::PathBuf;
use std::sync::Arc;

type Result<T> = std::result::Result<T, ProviderError>;

/// Which source the credential came from (logged, never the secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    ClientSecret,
    Oidc(&'static str),
    ManagedIdentity,
    AzureCli,
}

/// A provider-block attribute, else the first of its environment variables.
pub fn setting(a: &Attrs<'_>, attr: &str, env: &[&str]) -> Option<String> {
    a.str(attr)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .or_else(|| {
            env.iter()
                .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
        })
}

fn flag(a: &Attrs<'_>, attr: &str, env: &str, default: bool) -> bool {
    a.bool(attr).unwrap_or_else(|| match std::env::var(env) {
        Ok(v) => matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes"),
        Err(_) => default,
    })
}

fn read_file(what: &str, path: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| {
            ProviderError::new(ErrorClass::Auth, format!("reading {what} from {path}: {e}"))
        })
}

fn identity_error(what: &str, e: azure_core::Error) -> ProviderError {
    ProviderError::new(
        ErrorClass::Auth,
        format!("{what}: {}", gantry_provider::error_chain(&e)),
    )
}

/// The credential of a provider block.
pub fn resolve(
    a: &Attrs<'_>,
    tenant_id: Option<&str>,
    cloud: &Cloud,
    http: Arc<reqwest::Client>,
) -> Result<(Arc<dyn TokenCredential>, Source)> {
    let client_options = || ClientOptions {
        transport: Some(Transport::new(http.clone())),
        cloud: Some(Arc::new(cloud.identity.clone())),
        ..ClientOptions::default()
    };
    let client_id = match setting(a, "client_id", &["ARM_CLIENT_ID"]) {
        Some(id) => Some(id),
        None => setting(a, "client_id_file_path", &["ARM_CLIENT_ID_FILE_PATH"])
            .map(|p| read_file("the client id", &p))
            .transpose()?,
    };
    if setting(
        a,
        "client_certificate_path",
        &["ARM_CLIENT_CERTIFICATE_PATH"],
    )
    .is_some()
    {
        return Err(ProviderError::invalid(
            "client certificate authentication (`client_certificate_path` / ARM_CLIENT_CERTIFICATE_PATH) is not supported by gantry yet: use a client secret, OIDC, a managed identity or the Azure CLI",
        ));
    }
    let secret = match setting(a, "client_secret", &["ARM_CLIENT_SECRET"]) {
        Some(s) => Some(s),
        None => setting(
            a,
            "client_secret_file_path",
            &["ARM_CLIENT_SECRET_FILE_PATH"],
        )
        .map(|p| read_file("the client secret", &p))
        .transpose()?,
    };
    let need_tenant = |how: &str| {
        tenant_id.map(str::to_owned).ok_or_else(|| {
            ProviderError::invalid(format!("{how} needs the tenant: set `tenant_id` in the provider \"azurerm\" block or ARM_TENANT_ID"))
        })
    };

    if let (Some(client_id), Some(secret)) = (&client_id, secret) {
        let tenant = need_tenant("a client secret")?;
        let options = ClientSecretCredentialOptions {
            client_options: client_options(),
        };
        let credential = ClientSecretCredential::new(
            &tenant,
            client_id.clone(),
            Secret::new(secret),
            Some(options),
        )
        .map_err(|e| identity_error("client secret credential", e))?;
        return Ok((credential, Source::ClientSecret));
    }

    if flag(a, "use_oidc", "ARM_USE_OIDC", false)
        || flag(
            a,
            "use_aks_workload_identity",
            "ARM_USE_AKS_WORKLOAD_IDENTITY",
            false,
        )
    {
        let (assertion, how) = oidc_assertion(a, http.clone())?;
        let client_id = client_id
            .or_else(|| std::env::var("AZURE_CLIENT_ID").ok())
            .ok_or_else(|| {
                ProviderError::invalid(
                    "OIDC needs the application's client id: set `client_id` or ARM_CLIENT_ID",
                )
            })?;
        let tenant = match need_tenant("OIDC") {
            Ok(t) => t,
            Err(e) => std::env::var("AZURE_TENANT_ID").map_err(|_| e)?,
        };
        let options = ClientAssertionCredentialOptions {
            client_options: client_options(),
        };
        let credential =
            ClientAssertionCredential::new(tenant, client_id, assertion, Some(options))
                .map_err(|e| identity_error("OIDC credential", e))?;
        return Ok((credential, Source::Oidc(how)));
    }

    if flag(a, "use_msi", "ARM_USE_MSI", false) {
        let options = ManagedIdentityCredentialOptions {
            user_assigned_id: client_id.map(UserAssignedId::ClientId),
            client_options: client_options(),
        };
        let credential = ManagedIdentityCredential::new(Some(options))
            .map_err(|e| identity_error("managed identity", e))?;
        return Ok((credential, Source::ManagedIdentity));
    }

    let use_cli = flag(a, "use_cli", "ARM_USE_CLI", true);
    if use_cli && on_path("az") {
        let credential =
            AzureCliCredential::new(None).map_err(|e| identity_error("Azure CLI credential", e))?;
        return Ok((credential, Source::AzureCli));
    }
    Err(ProviderError::new(
        ErrorClass::Auth,
        format!(
            "no Azure credentials: tried a client secret (`client_id` + `client_secret` or ARM_CLIENT_ID + ARM_CLIENT_SECRET{}), \
             OIDC (`use_oidc = true` / ARM_USE_OIDC with a GitHub Actions, file or given token), a managed identity \
             (`use_msi = true` / ARM_USE_MSI) and the Azure CLI ({}): configure one of them",
            if client_id.is_some() { "; the client id is set, the secret is not" } else { "" },
            if use_cli { "`az` is not on PATH" } else { "disabled by use_cli = false" },
        ),
    ))
}

/// The credential a block's azurerm credential arguments (and the `ARM_*` variables) name,
/// with the cloud their `metadata_host` or `environment` says: for the data planes gantry
/// uses outside the provider (`backend "azurerm"`, `key_provider "azure_key_vault"`).
pub async fn for_data_plane(
    a: &Attrs<'_>,
    http: Arc<reqwest::Client>,
) -> std::result::Result<Arc<dyn TokenCredential>, String> {
    let cloud = match setting(a, "metadata_host", &["ARM_METADATA_HOSTNAME"]) {
        Some(host) => crate::cloud::from_metadata_host(&host, &http).await,
        None => crate::cloud::from_environment(
            &setting(a, "environment", &["ARM_ENVIRONMENT"]).unwrap_or_else(|| "public".into()),
        ),
    }
    .map_err(|e| e.message)?;
    let tenant = setting(a, "tenant_id", &["ARM_TENANT_ID"]);
    let (credential, source) =
        resolve(a, tenant.as_deref(), &cloud, http).map_err(|e| e.message)?;
    tracing::debug!("authenticating to an Azure data plane with {source:?}");
    Ok(credential)
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

/// Where an OIDC token comes from, in azurerm's order.
#[derive(Debug)]
enum OidcToken {
    Given(String),
    File(PathBuf),
    /// GitHub Actions' token service (`ACTIONS_ID_TOKEN_REQUEST_URL` and `_TOKEN`).
    Request {
        url: String,
        bearer: String,
        http: Arc<reqwest::Client>,
    },
}

fn oidc_assertion(a: &Attrs<'_>, http: Arc<reqwest::Client>) -> Result<(OidcToken, &'static str)> {
    if let Some(token) = setting(a, "oidc_token", &["ARM_OIDC_TOKEN"]) {
        return Ok((OidcToken::Given(token), "token"));
    }
    if let Some(path) = setting(
        a,
        "oidc_token_file_path",
        &["ARM_OIDC_TOKEN_FILE_PATH", "AZURE_FEDERATED_TOKEN_FILE"],
    ) {
        return Ok((OidcToken::File(PathBuf::from(path)), "token file"));
    }
    let url = setting(
        a,
        "oidc_request_url",
        &[
            "ARM_OIDC_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "SYSTEM_OIDCREQUESTURI",
        ],
    );
    let bearer = setting(
        a,
        "oidc_request_token",
        &[
            "ARM_OIDC_REQUEST_TOKEN",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "SYSTEM_ACCESSTOKEN",
        ],
    );
    match (url, bearer) {
        (Some(url), Some(bearer)) => Ok((OidcToken::Request { url, bearer, http }, "GitHub Actions")),
        _ => Err(ProviderError::invalid(
            "use_oidc is set but no OIDC token: set `oidc_token` (ARM_OIDC_TOKEN), `oidc_token_file_path` \
             (ARM_OIDC_TOKEN_FILE_PATH, AZURE_FEDERATED_TOKEN_FILE), or run where GitHub Actions provides \
             ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN (`permissions: id-token: write`)",
        )),
    }
}

#[async_trait::async_trait]
impl ClientAssertion for OidcToken {
    async fn secret(
        &self,
        _options: Option<ClientMethodOptions<'_>>,
    ) -> azure_core::Result<String> {
        use azure_core::error::ErrorKind;
        let fail = |m: String| azure_core::Error::with_message(ErrorKind::Credential, m);
        match self {
            OidcToken::Given(token) => Ok(token.clone()),
            // Read on every use: a projected token file is rotated under us.
            OidcToken::File(path) => std::fs::read_to_string(path)
                .map(|s| s.trim().to_owned())
                .map_err(|e| {
                    fail(format!(
                        "reading the OIDC token file {}: {e}",
                        path.display()
                    ))
                }),
            OidcToken::Request { url, bearer, http } => {
                let separator = if url.contains('?') { '&' } else { '?' };
                let answer = http
                    .get(format!(
                        "{url}{separator}audience=api://AzureADTokenExchange"
                    ))
                    .bearer_auth(bearer)
                    .send()
                    .await
                    .map_err(|e| fail(format!("asking GitHub Actions for an OIDC token: {e}")))?;
                if !answer.status().is_success() {
                    return Err(fail(format!(
                        "GitHub Actions' OIDC token service answered {}",
                        answer.status()
                    )));
                }
                let body: serde_json::Value = answer
                    .json()
                    .await
                    .map_err(|e| fail(format!("GitHub Actions' OIDC token answer: {e}")))?;
                body["value"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| fail("GitHub Actions' OIDC token answer has no `value`".into()))
            }
        }
    }
}
