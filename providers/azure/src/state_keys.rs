//! The `azure_key_vault` key provider of gantry's state encryption: the engine makes a
//! 256-bit data key on the machine, Key Vault wraps it under an RSA key (`wrapKey`, once
//! per run) and unwraps it to read (`unwrapKey`), over azure_security_keyvault_keys with
//! the azurerm provider's credential chain. The wrapped copy stored beside the state
//! records the key version that wrapped it, so a rotated key still reads old states.

use crate::credentials;
use azure_core::http::{ClientOptions, Transport};
use azure_security_keyvault_keys::models::{
    EncryptionAlgorithm, KeyClientWrapKeyOptions, KeyOperationParameters,
};
use azure_security_keyvault_keys::{KeyClient, KeyClientOptions};
use gantry_provider::attrs::Attrs;
use gantry_provider::Value;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A `key_provider "azure_key_vault"` block.
#[derive(Debug, Clone)]
pub struct KeyVaultSettings {
    /// `https://NAME.vault.azure.net`.
    pub vault_url: String,
    pub key_name: String,
    /// Wrap with this version (else the newest).
    pub key_version: Option<String>,
    /// `RSA-OAEP-256` (default), `RSA-OAEP` or `RSA1_5`.
    pub algorithm: String,
    /// Whether the vault's authentication challenge must name the vault's own domain (off
    /// for a vault behind a custom domain or private endpoint, as Azure's SDKs allow).
    pub verify_challenge_resource: bool,
    /// The azurerm provider's credential arguments (`tenant_id`, `client_id`,
    /// `client_secret`, `use_oidc`, `use_msi`, `use_cli`, `metadata_host`, ...).
    pub credentials: Value,
}

/// What is stored beside the state: the wrapped data key and which key version wrapped it.
#[derive(Debug, Serialize, Deserialize)]
struct Wrapped {
    /// The key's id as Key Vault returned it (`<vault>/keys/<name>/<version>`).
    kid: String,
    alg: String,
    /// base64 of the wrapped data key.
    value: String,
}

/// The algorithms that wrap a key under an RSA key.
pub const ALGORITHMS: &[&str] = &["RSA-OAEP-256", "RSA-OAEP", "RSA1_5"];

fn algorithm(name: &str) -> Result<EncryptionAlgorithm, String> {
    if !ALGORITHMS.contains(&name) {
        return Err(format!(
            "`algorithm` must be one of {} (got `{name}`)",
            ALGORITHMS.join(", ")
        ));
    }
    name.parse().map_err(|e| format!("algorithm `{name}`: {e}"))
}

async fn client(settings: &KeyVaultSettings) -> Result<KeyClient, String> {
    let http = Arc::new(crate::settings::http_client().map_err(|e| e.message)?);
    let credential =
        credentials::for_data_plane(&Attrs(&settings.credentials), http.clone()).await?;
    let options = KeyClientOptions {
        client_options: ClientOptions {
            transport: Some(Transport::new(http)),
            ..ClientOptions::default()
        },
        verify_challenge_resource: Some(settings.verify_challenge_resource),
        ..KeyClientOptions::default()
    };
    KeyClient::new(&settings.vault_url, credential, Some(options)).map_err(|e| {
        format!(
            "Key Vault `{}`: {}",
            settings.vault_url,
            gantry_provider::error_chain(&e)
        )
    })
}

fn failed(what: &str, settings: &KeyVaultSettings, e: &azure_core::Error) -> String {
    let code = match e.kind() {
        azure_core::error::ErrorKind::HttpResponse {
            status,
            error_code: Some(code),
            ..
        } => format!("{} {code}: ", u16::from(*status)),
        _ => String::new(),
    };
    format!(
        "Key Vault {what} with key `{}` in {}: {code}{}",
        settings.key_name,
        settings.vault_url,
        gantry_provider::error_chain(e)
    )
}

/// Wraps `plaintext` (a data key) under the vault's key; what to store beside the state.
pub async fn wrap(settings: &KeyVaultSettings, plaintext: &[u8]) -> Result<Vec<u8>, String> {
    let client = client(settings).await?;
    let parameters = KeyOperationParameters {
        algorithm: Some(algorithm(&settings.algorithm)?),
        value: Some(plaintext.to_vec()),
        ..Default::default()
    };
    let options = KeyClientWrapKeyOptions {
        key_version: settings.key_version.clone(),
        ..Default::default()
    };
    let result = client
        .wrap_key(
            &settings.key_name,
            parameters
                .try_into()
                .map_err(|e| failed("wrapKey", settings, &e))?,
            Some(options),
        )
        .await
        .map_err(|e| failed("wrapKey", settings, &e))?
        .into_model()
        .map_err(|e| failed("wrapKey", settings, &e))?;
    let (Some(kid), Some(value)) = (result.kid, result.result) else {
        return Err(format!(
            "Key Vault wrapKey with key `{}` answered without the key id or the wrapped key",
            settings.key_name
        ));
    };
    let stored = Wrapped {
        kid,
        alg: settings.algorithm.clone(),
        value: azure_core::base64::encode(value),
    };
    serde_json::to_vec(&stored).map_err(|e| e.to_string())
}

/// The key version a wrapped key names, if it is a version of `key_name`: only the version
/// is taken from what was stored, never the vault (a state store's writer must not be able
/// to send this run's token to a server of its choosing).
fn version_of(kid: &str, key_name: &str) -> Option<String> {
    let mut tail = kid.trim_end_matches('/').rsplit('/');
    let version = tail.next()?;
    let name = tail.next()?;
    let keys = tail.next()?;
    (keys == "keys" && name == key_name && !version.is_empty()).then(|| version.to_owned())
}

/// Unwraps a data key [`wrap`] stored.
pub async fn unwrap(settings: &KeyVaultSettings, stored: &[u8]) -> Result<Vec<u8>, String> {
    let stored: Wrapped = serde_json::from_slice(stored)
        .map_err(|e| format!("the stored Key Vault data key is not readable: {e}"))?;
    let version = version_of(&stored.kid, &settings.key_name).ok_or_else(|| {
        format!(
            "the state's data key was wrapped by `{}`, not by a version of the key `{}` this key provider names",
            stored.kid, settings.key_name
        )
    })?;
    let value = azure_core::base64::decode(&stored.value)
        .map_err(|e| format!("the stored Key Vault data key is not base64: {e}"))?;
    let parameters = KeyOperationParameters {
        algorithm: Some(algorithm(&stored.alg)?),
        value: Some(value),
        ..Default::default()
    };
    let client = client(settings).await?;
    let result = client
        .unwrap_key(
            &settings.key_name,
            &version,
            parameters
                .try_into()
                .map_err(|e| failed("unwrapKey", settings, &e))?,
            None,
        )
        .await
        .map_err(|e| failed("unwrapKey", settings, &e))?
        .into_model()
        .map_err(|e| failed("unwrapKey", settings, &e))?;
    result.result.ok_or_else(|| {
        format!(
            "Key Vault unwrapKey with key `{}` answered without the key",
            settings.key_name
        )
    })
}

/// [`wrap`], from sync code.
pub fn wrap_blocking(settings: &KeyVaultSettings, plaintext: &[u8]) -> Result<Vec<u8>, String> {
    gantry_provider::blocking::on_own_runtime("Key Vault", wrap(settings, plaintext))
}

/// [`unwrap`], from sync code.
pub fn unwrap_blocking(settings: &KeyVaultSettings, stored: &[u8]) -> Result<Vec<u8>, String> {
    gantry_provider::blocking::on_own_runtime("Key Vault", unwrap(settings, stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_version_is_taken_from_a_stored_key_id() {
        assert_eq!(
            version_of("https://acme.vault.azure.net/keys/state/0a1b", "state").as_deref(),
            Some("0a1b")
        );
        // Another key's version, or no version, is not ours to unwrap with.
        assert_eq!(
            version_of("https://acme.vault.azure.net/keys/other/0a1b", "state"),
            None
        );
        assert_eq!(
            version_of("https://acme.vault.azure.net/keys/state", "state"),
            None
        );
        assert_eq!(version_of("garbage", "state"), None);
    }

    #[test]
    fn only_rsa_wrapping_algorithms_are_taken() {
        assert!(algorithm("RSA-OAEP-256").is_ok());
        let err = algorithm("A256GCM").expect_err("refused");
        assert!(err.contains("RSA-OAEP-256"), "{err}");
    }
}
