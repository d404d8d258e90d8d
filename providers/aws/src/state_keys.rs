//! The `aws_kms` key provider of state encryption: a 256-bit data key from KMS
//! `GenerateDataKey` once per run (its encrypted copy stored with what it seals), and
//! `Decrypt` of such a copy to read. The engine does the sealing; this file only speaks KMS.

use crate::errors::sdk_error;
use aws_config::BehaviorVersion;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use aws_types::region::Region;

/// A KMS client for `region` (else the environment's) on aws-config's credential chain.
pub async fn client(region: Option<&str>) -> aws_sdk_kms::Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_owned()));
    }
    aws_sdk_kms::Client::new(&loader.load().await)
}

/// A new data key under `key_id`: the plaintext key and its encrypted copy.
pub async fn generate_data_key(
    kms: &aws_sdk_kms::Client,
    key_id: &str,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let out = kms
        .generate_data_key()
        .key_id(key_id)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .map_err(|e| sdk_error("GenerateDataKey", e).message)?;
    match (out.plaintext(), out.ciphertext_blob()) {
        (Some(plain), Some(blob)) => Ok((plain.as_ref().to_vec(), blob.as_ref().to_vec())),
        _ => Err("GenerateDataKey answered without the key".into()),
    }
}

/// The plaintext of an encrypted data key.
pub async fn decrypt_data_key(kms: &aws_sdk_kms::Client, blob: &[u8]) -> Result<Vec<u8>, String> {
    let out = kms
        .decrypt()
        .ciphertext_blob(Blob::new(blob.to_vec()))
        .send()
        .await
        .map_err(|e| sdk_error("Decrypt", e).message)?;
    out.plaintext()
        .map(|p| p.as_ref().to_vec())
        .ok_or_else(|| "Decrypt answered without the key".into())
}

/// Runs one KMS exchange to completion on a thread and runtime of its own, so callers in
/// sync code and in async tasks alike can wait for it (key operations happen a few times a
/// run, where a key is first needed).
fn on_own_runtime<T: Send>(
    exchange: impl FnOnce(tokio::runtime::Runtime) -> Result<T, String> + Send,
) -> Result<T, String> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start a runtime for KMS: {e}"))?;
            exchange(rt)
        })
        .join()
        .unwrap_or_else(|_| Err("the KMS call panicked".into()))
    })
}

/// [`generate_data_key`] from sync code.
pub fn generate_data_key_blocking(
    region: Option<&str>,
    key_id: &str,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    on_own_runtime(|rt| {
        rt.block_on(async {
            let kms = client(region).await;
            generate_data_key(&kms, key_id).await
        })
    })
}

/// [`decrypt_data_key`] from sync code.
pub fn decrypt_data_key_blocking(region: Option<&str>, blob: &[u8]) -> Result<Vec<u8>, String> {
    on_own_runtime(|rt| {
        rt.block_on(async {
            let kms = client(region).await;
            decrypt_data_key(&kms, blob).await
        })
    })
}
