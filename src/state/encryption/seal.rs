//! The cryptography of encrypted state, journal lines and plan files: keys derived from a
//! passphrase with PBKDF2-HMAC-SHA512 or data keys from AWS KMS, sealed with AES-256-GCM
//! (aws-lc-rs), and the envelope that carries what a reader needs (key provider, its key
//! material: a salt or an encrypted data key, nonce) and what is bound to the ciphertext as
//! associated data (kind, lineage, serial, workspace).

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};

/// The bytes every sealed file starts with, so a reader tells sealed from plain at once.
pub const MAGIC: &str = "{\"gantry_encrypted\":1,";

/// A passphrase-based key provider: `key_provider "pbkdf2" "NAME" { passphrase = ... }`.
#[derive(Clone)]
pub struct Pbkdf2 {
    /// `pbkdf2.NAME`, recorded in every envelope.
    pub name: String,
    pub passphrase: String,
    pub iterations: u32,
    /// Derived keys by salt: each key is derived once per run.
    cache: Arc<Mutex<HashMap<Vec<u8>, [u8; 32]>>>,
    /// The salt this run writes with, chosen once.
    write_salt: Arc<Mutex<Option<Vec<u8>>>>,
}

impl std::fmt::Debug for Pbkdf2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the passphrase.
        f.debug_struct("Pbkdf2")
            .field("name", &self.name)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// The minimum passphrase length (OpenTofu's).
pub const MIN_PASSPHRASE: usize = 16;
/// PBKDF2 iterations unless configured (OpenTofu's default, OWASP's for SHA-512).
pub const DEFAULT_ITERATIONS: u32 = 600_000;

impl Pbkdf2 {
    pub fn new(name: String, passphrase: String, iterations: u32) -> Pbkdf2 {
        Pbkdf2 {
            name,
            passphrase,
            iterations,
            cache: Arc::default(),
            write_salt: Arc::default(),
        }
    }

    fn key(&self, salt: &[u8], iterations: u32) -> Result<[u8; 32], SealError> {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = cache.get(salt) {
            return Ok(*key);
        }
        let rounds = NonZeroU32::new(iterations).ok_or(SealError::Malformed("zero iterations"))?;
        let mut key = [0u8; 32];
        aws_lc_rs::pbkdf2::derive(
            aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA512,
            rounds,
            salt,
            self.passphrase.as_bytes(),
            &mut key,
        );
        cache.insert(salt.to_vec(), key);
        Ok(key)
    }

    fn salt_for_writing(&self) -> Result<Vec<u8>, SealError> {
        let mut salt = self
            .write_salt
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = &*salt {
            return Ok(s.clone());
        }
        let mut fresh = vec![0u8; 32];
        SystemRandom::new()
            .fill(&mut fresh)
            .map_err(|_| SealError::Random)?;
        *salt = Some(fresh.clone());
        Ok(fresh)
    }
}

/// A cloud KMS key provider (`aws_kms`, `gcp_kms`, `azure_key_vault`): one data key per run, its wrapped copy
/// in every envelope, unwrapped by the KMS to read.
#[derive(Clone)]
pub struct KmsKey {
    /// `aws_kms.NAME`, `gcp_kms.NAME`.
    pub name: String,
    pub service: KmsService,
    /// Plain data keys by their encrypted copy.
    cache: Arc<Mutex<HashMap<Vec<u8>, [u8; 32]>>>,
    /// This run's data key and its encrypted copy.
    write: Arc<Mutex<Option<DataKey>>>,
}

/// Which KMS holds the key that wraps the data keys.
#[derive(Debug, Clone, PartialEq)]
pub enum KmsService {
    /// AWS KMS: `GenerateDataKey` makes the data key, `Decrypt` unwraps it.
    Aws {
        key_id: String,
        region: Option<String>,
    },
    /// Cloud KMS: the data key is made here, `cryptoKeys.encrypt` wraps it and
    /// `cryptoKeys.decrypt` unwraps it.
    Gcp(GcpKey),
    /// Azure Key Vault: the data key is made here, `wrapKey` wraps it under an RSA key and
    /// `unwrapKey` unwraps it.
    Azure(AzureKey),
}

/// A `key_provider "azure_key_vault"` block.
#[derive(Clone, PartialEq)]
pub struct AzureKey {
    /// `https://NAME.vault.azure.net`.
    pub vault_uri: String,
    pub key_name: String,
    pub key_version: Option<String>,
    pub algorithm: String,
    pub verify_challenge_resource: bool,
    /// The azurerm provider's credential arguments given in the block.
    pub credentials: std::collections::BTreeMap<String, gantry_provider::Value>,
}

impl std::fmt::Debug for AzureKey {
    // The credential arguments by name only: a client secret is among them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureKey")
            .field("vault_uri", &self.vault_uri)
            .field("key_name", &self.key_name)
            .field("key_version", &self.key_version)
            .field("algorithm", &self.algorithm)
            .field("credentials", &self.credentials.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The algorithms `azure_key_vault` wraps a data key with (RSA keys).
pub const AZURE_WRAP_ALGORITHMS: &[&str] = &["RSA-OAEP-256", "RSA-OAEP", "RSA1_5"];

/// Whether `name` has the shape of a CryptoKey's resource name.
pub fn is_crypto_key_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    parts.len() == 8
        && parts[0] == "projects"
        && parts[2] == "locations"
        && parts[4] == "keyRings"
        && parts[6] == "cryptoKeys"
        && parts.iter().all(|p| !p.is_empty())
}

/// A `key_provider "gcp_kms"` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcpKey {
    /// `projects/P/locations/L/keyRings/R/cryptoKeys/K`.
    pub key_name: String,
    pub credentials: Option<String>,
    pub access_token: Option<String>,
    pub endpoint: Option<String>,
}

/// An encrypted data key and its plaintext.
type DataKey = (Vec<u8>, [u8; 32]);

/// The most PBKDF2 iterations a reader derives with: an envelope asking for more (written
/// by someone who can write the store, to stall every read) is refused.
const MAX_ITERATIONS: u32 = 10_000_000;

impl std::fmt::Debug for KmsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsKey")
            .field("name", &self.name)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl KmsKey {
    pub fn new(name: String, service: KmsService) -> KmsKey {
        KmsKey {
            name,
            service,
            cache: Arc::default(),
            write: Arc::default(),
        }
    }

    fn key_for_writing(&self) -> Result<([u8; 32], Vec<u8>), SealError> {
        let mut write = self.write.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((blob, key)) = &*write {
            return Ok((*key, blob.clone()));
        }
        let (plain, blob) = match &self.service {
            KmsService::Aws { key_id, region } => {
                aws_generate(region.as_deref(), key_id).map_err(SealError::KeyProvider)?
            }
            KmsService::Gcp(key) => {
                let plain = random_data_key()?;
                let blob = gcp_encrypt(key, &plain).map_err(SealError::KeyProvider)?;
                (plain, blob)
            }
            KmsService::Azure(key) => {
                let plain = random_data_key()?;
                let blob = azure_wrap(key, &plain).map_err(SealError::KeyProvider)?;
                (plain, blob)
            }
        };
        let key = data_key(plain)?;
        *write = Some((blob.clone(), key));
        Ok((key, blob))
    }

    fn key_for_reading(&self, blob: &[u8]) -> Result<[u8; 32], SealError> {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = cache.get(blob) {
            return Ok(*key);
        }
        let plain = match &self.service {
            KmsService::Aws { region, .. } => aws_decrypt(region.as_deref(), blob),
            KmsService::Gcp(key) => gcp_decrypt(key, blob),
            KmsService::Azure(key) => azure_unwrap(key, blob),
        }
        .map_err(SealError::KeyProvider)?;
        let key = data_key(plain)?;
        cache.insert(blob.to_vec(), key);
        Ok(key)
    }
}

/// 256 random bits, a data key made on this machine for a KMS to wrap.
fn random_data_key() -> Result<Vec<u8>, SealError> {
    let mut plain = vec![0u8; 32];
    SystemRandom::new()
        .fill(&mut plain)
        .map_err(|_| SealError::Random)?;
    Ok(plain)
}

fn data_key(plain: Vec<u8>) -> Result<[u8; 32], SealError> {
    plain
        .try_into()
        .map_err(|_| SealError::Malformed("KMS returned a data key that is not 256 bits"))
}

#[cfg(feature = "aws")]
fn aws_generate(region: Option<&str>, key_id: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    gantry_aws::state_keys::generate_data_key_blocking(region, key_id)
}

#[cfg(feature = "aws")]
fn aws_decrypt(region: Option<&str>, blob: &[u8]) -> Result<Vec<u8>, String> {
    gantry_aws::state_keys::decrypt_data_key_blocking(region, blob)
}

#[cfg(not(feature = "aws"))]
fn aws_generate(_: Option<&str>, _: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    Err(NO_AWS.into())
}

#[cfg(not(feature = "aws"))]
fn aws_decrypt(_: Option<&str>, _: &[u8]) -> Result<Vec<u8>, String> {
    Err(NO_AWS.into())
}

#[cfg(not(feature = "aws"))]
const NO_AWS: &str =
    "this build has no AWS support (the `aws` feature), so it cannot use `aws_kms`";

#[cfg(feature = "gcp")]
fn gcp_settings(key: &GcpKey) -> gantry_gcp::state_keys::GcpKmsSettings {
    gantry_gcp::state_keys::GcpKmsSettings {
        key_name: key.key_name.clone(),
        credentials: key.credentials.clone(),
        access_token: key.access_token.clone(),
        endpoint: key.endpoint.clone(),
    }
}

#[cfg(feature = "gcp")]
fn gcp_encrypt(key: &GcpKey, plain: &[u8]) -> Result<Vec<u8>, String> {
    gantry_gcp::state_keys::encrypt_blocking(&gcp_settings(key), plain)
}

#[cfg(feature = "gcp")]
fn gcp_decrypt(key: &GcpKey, blob: &[u8]) -> Result<Vec<u8>, String> {
    gantry_gcp::state_keys::decrypt_blocking(&gcp_settings(key), blob)
}

#[cfg(not(feature = "gcp"))]
fn gcp_encrypt(_: &GcpKey, _: &[u8]) -> Result<Vec<u8>, String> {
    Err(NO_GCP.into())
}

#[cfg(not(feature = "gcp"))]
fn gcp_decrypt(_: &GcpKey, _: &[u8]) -> Result<Vec<u8>, String> {
    Err(NO_GCP.into())
}

#[cfg(not(feature = "gcp"))]
const NO_GCP: &str =
    "this build has no Google Cloud support (the `gcp` feature), so it cannot use `gcp_kms`";

#[cfg(feature = "azure")]
fn azure_settings(key: &AzureKey) -> gantry_azure::state_keys::KeyVaultSettings {
    gantry_azure::state_keys::KeyVaultSettings {
        vault_url: key.vault_uri.clone(),
        key_name: key.key_name.clone(),
        key_version: key.key_version.clone(),
        algorithm: key.algorithm.clone(),
        verify_challenge_resource: key.verify_challenge_resource,
        credentials: gantry_provider::Value::map(key.credentials.clone()),
    }
}

#[cfg(feature = "azure")]
fn azure_wrap(key: &AzureKey, plain: &[u8]) -> Result<Vec<u8>, String> {
    gantry_azure::state_keys::wrap_blocking(&azure_settings(key), plain)
}

#[cfg(feature = "azure")]
fn azure_unwrap(key: &AzureKey, blob: &[u8]) -> Result<Vec<u8>, String> {
    gantry_azure::state_keys::unwrap_blocking(&azure_settings(key), blob)
}

#[cfg(not(feature = "azure"))]
fn azure_wrap(_: &AzureKey, _: &[u8]) -> Result<Vec<u8>, String> {
    Err(NO_AZURE.into())
}

#[cfg(not(feature = "azure"))]
fn azure_unwrap(_: &AzureKey, _: &[u8]) -> Result<Vec<u8>, String> {
    Err(NO_AZURE.into())
}

#[cfg(not(feature = "azure"))]
const NO_AZURE: &str =
    "this build has no Azure support (the `azure` feature), so it cannot use `azure_key_vault`";

/// Where a method's keys come from.
#[derive(Debug, Clone)]
pub enum KeyProvider {
    Pbkdf2(Pbkdf2),
    Kms(KmsKey),
}

impl KeyProvider {
    /// `pbkdf2.NAME`, `aws_kms.NAME`, `gcp_kms.NAME`: recorded in every envelope.
    pub fn name(&self) -> &str {
        match self {
            KeyProvider::Pbkdf2(p) => &p.name,
            KeyProvider::Kms(k) => &k.name,
        }
    }

    /// Makes this run's key for writing now (it is kept for the run's writes).
    pub fn prepare_write(&self) -> Result<(), SealError> {
        self.key_for_writing().map(|_| ())
    }

    /// This run's key, the key material stored with it (base64), and the iterations.
    fn key_for_writing(&self) -> Result<([u8; 32], String, u32), SealError> {
        match self {
            KeyProvider::Pbkdf2(p) => {
                let salt = p.salt_for_writing()?;
                Ok((p.key(&salt, p.iterations)?, B64.encode(&salt), p.iterations))
            }
            KeyProvider::Kms(k) => {
                let (key, blob) = k.key_for_writing()?;
                Ok((key, B64.encode(blob), 0))
            }
        }
    }

    fn key_for_reading(&self, material: &str, iterations: u32) -> Result<[u8; 32], SealError> {
        let bytes = B64
            .decode(material)
            .map_err(|_| SealError::Malformed("key material is not base64"))?;
        match self {
            KeyProvider::Pbkdf2(_) if iterations > MAX_ITERATIONS => Err(SealError::Malformed(
                "the envelope asks for more PBKDF2 iterations than gantry ever writes",
            )),
            KeyProvider::Pbkdf2(p) => p.key(&bytes, iterations),
            KeyProvider::Kms(k) => k.key_for_reading(&bytes),
        }
    }
}

/// What a sealed file or line is bound to: a ciphertext made for one of these opens only
/// for exactly the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// `state`, `plan` or `journal`.
    pub kind: String,
    pub lineage: String,
    pub serial: u64,
    pub workspace: String,
}

/// A sealed file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub gantry_encrypted: u32,
    pub method: String,
    pub key_provider: String,
    /// The pbkdf2 salt, or the KMS-encrypted data key (base64).
    pub key_material: String,
    /// PBKDF2 iterations (0 for KMS).
    pub iterations: u32,
    #[serde(flatten)]
    pub binding: Binding,
    pub nonce: String,
    pub ciphertext: String,
    /// A saved plan's stack directory, so `apply PLANFILE` finds the configuration that
    /// opens it. A hint, not bound: changing it only makes the plan fail to open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_dir: Option<String>,
}

/// Why sealing or opening failed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the system random generator failed")]
    Random,
    #[error("the sealed data is malformed: {0}")]
    Malformed(&'static str),
    /// Wrong key, or the bytes were changed.
    #[error("decryption failed: the key is wrong, or the data was changed after it was written")]
    Rejected,
    /// The key provider could not give a key (KMS refused or could not be reached).
    #[error("{0}")]
    KeyProvider(String),
}

/// The associated data: the binding and the key parameters, in a fixed order.
fn aad(binding: &Binding, key_provider: &str, material: &str, iterations: u32) -> Vec<u8> {
    format!(
        "gantry-encryption/1\0{}\0{}\0{}\0{}\0{key_provider}\0{material}\0{iterations}",
        binding.kind, binding.lineage, binding.serial, binding.workspace
    )
    .into_bytes()
}

fn cipher(key: &[u8; 32]) -> Result<LessSafeKey, SealError> {
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| SealError::Malformed("bad key length"))
}

/// Seals `plaintext` for `binding` under `provider`'s key for this run.
pub fn seal(
    provider: &KeyProvider,
    binding: Binding,
    plaintext: &[u8],
) -> Result<Envelope, SealError> {
    let (key, material, iterations) = provider.key_for_writing()?;
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| SealError::Random)?;
    let associated = aad(&binding, provider.name(), &material, iterations);
    let mut in_out = plaintext.to_vec();
    cipher(&key)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&associated[..]),
            &mut in_out,
        )
        .map_err(|_| SealError::Malformed("sealing failed"))?;
    Ok(Envelope {
        gantry_encrypted: 1,
        method: "aes_gcm".into(),
        key_provider: provider.name().to_owned(),
        key_material: material,
        iterations,
        binding,
        nonce: B64.encode(nonce),
        ciphertext: B64.encode(&in_out),
        stack_dir: None,
    })
}

/// Opens an envelope with `provider` (which must be the one it names).
pub fn open(provider: &KeyProvider, envelope: &Envelope) -> Result<Vec<u8>, SealError> {
    let nonce: [u8; NONCE_LEN] = B64
        .decode(&envelope.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or(SealError::Malformed("bad nonce"))?;
    let mut in_out = B64
        .decode(&envelope.ciphertext)
        .map_err(|_| SealError::Malformed("ciphertext is not base64"))?;
    let key = provider.key_for_reading(&envelope.key_material, envelope.iterations)?;
    let associated = aad(
        &envelope.binding,
        &envelope.key_provider,
        &envelope.key_material,
        envelope.iterations,
    );
    let plain = cipher(&key)?
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&associated[..]),
            &mut in_out,
        )
        .map_err(|_| SealError::Rejected)?;
    Ok(plain.to_vec())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn binding() -> Binding {
        Binding {
            kind: "state".into(),
            lineage: "L".into(),
            serial: 3,
            workspace: "default".into(),
        }
    }

    #[test]
    fn sealed_data_opens_only_with_its_key_and_binding() {
        let p = KeyProvider::Pbkdf2(Pbkdf2::new(
            "pbkdf2.k".into(),
            "correct horse battery".into(),
            1000,
        ));
        let env = seal(&p, binding(), b"{\"secret\":1}").unwrap();
        assert!(!env.ciphertext.contains("secret"));
        assert_eq!(open(&p, &env).unwrap(), b"{\"secret\":1}");
        let wrong = KeyProvider::Pbkdf2(Pbkdf2::new(
            "pbkdf2.k".into(),
            "incorrect horse battery".into(),
            1000,
        ));
        assert!(matches!(open(&wrong, &env), Err(SealError::Rejected)));
        // Relabelled as a newer serial or another workspace: refused.
        let mut newer = env.clone();
        newer.binding.serial = 4;
        assert!(matches!(open(&p, &newer), Err(SealError::Rejected)));
        let mut other = env.clone();
        other.binding.workspace = "prod".into();
        assert!(matches!(open(&p, &other), Err(SealError::Rejected)));
        // One byte changed.
        let mut bytes = B64.decode(&env.ciphertext).unwrap();
        bytes[0] ^= 1;
        let mut tampered = env.clone();
        tampered.ciphertext = B64.encode(bytes);
        assert!(matches!(open(&p, &tampered), Err(SealError::Rejected)));
    }

    #[test]
    fn a_run_derives_its_key_once_and_nonces_differ() {
        let inner = Pbkdf2::new("pbkdf2.k".into(), "correct horse battery".into(), 1000);
        let p = KeyProvider::Pbkdf2(inner.clone());
        let a = seal(&p, binding(), b"x").unwrap();
        let b = seal(&p, binding(), b"x").unwrap();
        assert_eq!(a.key_material, b.key_material);
        assert_ne!(a.nonce, b.nonce);
        assert_eq!(inner.cache.lock().unwrap().len(), 1);
        assert!(!format!("{p:?}").contains("horse"));
    }
}
