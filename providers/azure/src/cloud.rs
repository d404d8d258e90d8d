//! Which Azure cloud the provider talks to: azurerm's `environment` (`public`,
//! `usgovernment`, `china`), or `metadata_host`, whose ARM metadata document
//! (`https://{metadata_host}/metadata/endpoints?api-version=2022-09-01`) names the login
//! endpoint, the token audience and the Resource Manager URL (Azure Stack, private clouds,
//! and the local contract fake of the tests).

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::http::Url;
use gantry_provider::{ErrorClass, ProviderError};
use serde_json::Value as Json;

type Result<T> = std::result::Result<T, ProviderError>;

/// The endpoints of one cloud.
#[derive(Clone, Debug)]
pub struct Cloud {
    pub name: String,
    pub resource_manager: Url,
    /// The token scope for Resource Manager (`{audience}/.default`).
    pub scope: String,
    /// For azure_identity's credentials.
    pub identity: CloudConfiguration,
}

fn url(s: &str) -> Result<Url> {
    Url::parse(s).map_err(|e| ProviderError::invalid(format!("bad endpoint URL {s:?}: {e}")))
}

/// The cloud of an `environment` name (azurerm's, case-insensitive).
pub fn from_environment(name: &str) -> Result<Cloud> {
    let (rm, audience, identity) = match name.to_ascii_lowercase().as_str() {
        "public" | "azurecloud" => ("https://management.azure.com/", "https://management.azure.com", CloudConfiguration::AzurePublic),
        "usgovernment" | "azureusgovernment" => (
            "https://management.usgovcloudapi.net/",
            "https://management.usgovcloudapi.net",
            CloudConfiguration::AzureGovernment,
        ),
        "china" | "azurechinacloud" => (
            "https://management.chinacloudapi.cn/",
            "https://management.chinacloudapi.cn",
            CloudConfiguration::AzureChina,
        ),
        other => {
            return Err(ProviderError::invalid(format!(
                "unknown `environment` {other:?}: use public, usgovernment or china (or `metadata_host` for another cloud)"
            )))
        }
    };
    Ok(Cloud {
        name: name.to_ascii_lowercase(),
        resource_manager: url(rm)?,
        scope: format!("{audience}/.default"),
        identity,
    })
}

/// The cloud a metadata host describes. `host` is a host name (`management.azure.com`,
/// `127.0.0.1:8443`), as azurerm's `metadata_host` takes it.
pub async fn from_metadata_host(host: &str, http: &reqwest::Client) -> Result<Cloud> {
    let host = host.trim_start_matches("https://").trim_end_matches('/');
    let endpoint = format!("https://{host}/metadata/endpoints?api-version=2022-09-01");
    let fail = |why: String| {
        ProviderError::new(
            ErrorClass::Fatal,
            format!("reading the cloud's endpoints from `metadata_host` ({endpoint}): {why}"),
        )
    };
    let answer = http
        .get(&endpoint)
        .send()
        .await
        .map_err(|e| fail(gantry_provider::error_chain(&e)))?;
    if !answer.status().is_success() {
        return Err(fail(format!("HTTP {}", answer.status())));
    }
    let doc: Json = answer.json().await.map_err(|e| fail(e.to_string()))?;
    from_metadata(&doc).map_err(|why| fail(why.message))
}

/// The first environment of a metadata document (an array of environments since
/// api-version 2022-09-01, a single object before).
pub fn from_metadata(doc: &Json) -> Result<Cloud> {
    let env = match doc {
        Json::Array(items) => items.first().cloned().unwrap_or(Json::Null),
        other => other.clone(),
    };
    let text = |ptr: &str| env.pointer(ptr).and_then(Json::as_str).map(str::to_owned);
    let rm = text("/resourceManager")
        .ok_or_else(|| ProviderError::invalid("no `resourceManager` in the metadata"))?;
    let login = text("/authentication/loginEndpoint").ok_or_else(|| {
        ProviderError::invalid("no `authentication.loginEndpoint` in the metadata")
    })?;
    let audience = env
        .pointer("/authentication/audiences/0")
        .and_then(Json::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| rm.clone());
    let mut rm_url = url(&rm)?;
    if !rm_url.path().ends_with('/') {
        rm_url.set_path(&format!("{}/", rm_url.path()));
    }
    let mut identity = CustomConfiguration::default();
    identity.authority_host = login.trim_end_matches('/').to_owned();
    Ok(Cloud {
        name: text("/name").unwrap_or_else(|| "custom".into()),
        resource_manager: rm_url,
        scope: format!("{}/.default", audience.trim_end_matches('/')),
        identity: identity.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn environments_and_metadata_name_the_endpoints() {
        let public = from_environment("public").expect("public");
        assert_eq!(
            public.resource_manager.as_str(),
            "https://management.azure.com/"
        );
        assert_eq!(public.scope, "https://management.azure.com/.default");
        assert!(from_environment("germany").is_err());
        let doc = json!([{"name": "AzureFake", "resourceManager": "https://127.0.0.1:9/",
            "authentication": {"loginEndpoint": "https://127.0.0.1:9/", "audiences": ["https://management.core.windows.net/"]}}]);
        let custom = from_metadata(&doc).expect("custom");
        assert_eq!(custom.resource_manager.as_str(), "https://127.0.0.1:9/");
        assert_eq!(custom.scope, "https://management.core.windows.net/.default");
        assert!(
            matches!(custom.identity, CloudConfiguration::Custom(ref c) if c.authority_host == "https://127.0.0.1:9")
        );
    }
}
