//! The `gcp_kms` key provider of state encryption: a 256-bit data key made on this machine
//! once per run and wrapped by Cloud KMS `cryptoKeys.encrypt` under the configured key (its
//! wrapped copy stored with what it seals), `cryptoKeys.decrypt` to unwrap a stored copy.
//! The engine does the sealing; this file only speaks Cloud KMS, on google-cloud-kms-v1.

use crate::credentials;
use google_cloud_gax::retry_policy::NeverRetry;
use google_cloud_kms_v1::client::KeyManagementService;

/// A `key_provider "gcp_kms"` block's arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcpKmsSettings {
    /// `projects/P/locations/L/keyRings/R/cryptoKeys/K`.
    pub key_name: String,
    /// A key file's path or JSON, else the provider's chain (GOOGLE_CREDENTIALS, ADC, ...).
    pub credentials: Option<String>,
    pub access_token: Option<String>,
    /// `kms_custom_endpoint`, as the google provider's block names it.
    pub endpoint: Option<String>,
}

async fn client(settings: &GcpKmsSettings) -> Result<KeyManagementService, String> {
    let (creds, _) = credentials::resolve(
        settings.access_token.as_deref(),
        settings.credentials.as_deref(),
    )
    .map_err(|e| e.message)?;
    let mut builder = KeyManagementService::builder()
        .with_credentials(creds)
        .with_retry_policy(NeverRetry);
    if let Some(endpoint) = &settings.endpoint {
        builder = builder.with_endpoint(endpoint.clone());
    }
    builder
        .build()
        .await
        .map_err(|e| format!("cannot build the Cloud KMS client: {e}"))
}

/// Wraps `plaintext` (a data key) under the settings' CryptoKey.
pub async fn encrypt(settings: &GcpKmsSettings, plaintext: &[u8]) -> Result<Vec<u8>, String> {
    let kms = client(settings).await?;
    let out = kms
        .encrypt()
        .set_name(settings.key_name.clone())
        .set_plaintext(plaintext.to_vec())
        .send()
        .await
        .map_err(|e| call_error("cryptoKeys.encrypt", &settings.key_name, &e))?;
    if out.ciphertext.is_empty() {
        return Err("cryptoKeys.encrypt answered without a ciphertext".into());
    }
    Ok(out.ciphertext.to_vec())
}

/// Unwraps a data key wrapped by [`encrypt`].
pub async fn decrypt(settings: &GcpKmsSettings, ciphertext: &[u8]) -> Result<Vec<u8>, String> {
    let kms = client(settings).await?;
    let out = kms
        .decrypt()
        .set_name(settings.key_name.clone())
        .set_ciphertext(ciphertext.to_vec())
        .send()
        .await
        .map_err(|e| call_error("cryptoKeys.decrypt", &settings.key_name, &e))?;
    Ok(out.plaintext.to_vec())
}

fn call_error(what: &str, key: &str, e: &google_cloud_gax::error::Error) -> String {
    let message = match e.status() {
        Some(status) => format!("{:?}: {}", status.code, status.message),
        None => gantry_provider::error_chain(e),
    };
    format!("{what} with {key}: {message}")
}

/// [`encrypt`], from sync code.
pub fn encrypt_blocking(settings: &GcpKmsSettings, plaintext: &[u8]) -> Result<Vec<u8>, String> {
    gantry_provider::blocking::on_own_runtime("Cloud KMS", encrypt(settings, plaintext))
}

/// [`decrypt`], from sync code.
pub fn decrypt_blocking(settings: &GcpKmsSettings, ciphertext: &[u8]) -> Result<Vec<u8>, String> {
    gantry_provider::blocking::on_own_runtime("Cloud KMS", decrypt(settings, ciphertext))
}
