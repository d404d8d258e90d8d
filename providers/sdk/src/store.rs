//! The object store a remote state backend keeps state, journal and lock in: the few
//! conditional operations every cloud's blob store offers (S3's `If-None-Match`/`If-Match`,
//! Cloud Storage's generation preconditions, Azure's ETags and leases). The engine builds
//! locking, fencing and the remote journal on this trait alone; a cloud crate implements it
//! for its store, so the engine never links a cloud SDK.

use async_trait::async_trait;

/// A stored object's version as the store names it (an S3 ETag, a GCS generation): what
/// a conditional write or delete is made against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version(pub String);

/// An object and the version it was read at.
#[derive(Debug, Clone)]
pub struct StoredObject {
    pub bytes: Vec<u8>,
    pub version: Version,
}

/// When a write or delete may happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// Always.
    None,
    /// Only if no object exists under the key (`If-None-Match: *`, `ifGenerationMatch=0`).
    Absent,
    /// Only if the object is still at this version (`If-Match`).
    Matches(Version),
}

/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The precondition did not hold: someone else wrote or deleted the object.
    #[error("`{key}` changed since it was read (the store refused a conditional request)")]
    PreconditionFailed { key: String },
    /// The object is leased by another client (an Azure blob lease): nobody else may write
    /// or delete it until its holder releases the lease or stops renewing it and it lapses.
    #[error("`{key}` is leased by another client: {detail}")]
    Leased { key: String, detail: String },
    /// The store could not be reached or answered with an error. `transient` errors
    /// (throttling, 5xx, timeouts) may succeed when retried.
    #[error("{operation} `{key}`: {message}")]
    Failed {
        operation: &'static str,
        key: String,
        message: String,
        transient: bool,
    },
}

impl StoreError {
    /// Whether retrying the same request may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Failed {
                transient: true,
                ..
            }
        )
    }
}

/// A blob store with conditional writes.
#[async_trait]
pub trait ObjectStore: Send + Sync + std::fmt::Debug {
    /// Where objects live, for messages: `s3://bucket`.
    fn location(&self) -> String;

    /// The object under `key`, `None` if there is none.
    async fn get(&self, key: &str) -> Result<Option<StoredObject>, StoreError>;

    /// Writes `bytes` under `key` if `condition` holds; returns the new version.
    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        condition: Precondition,
    ) -> Result<Version, StoreError>;

    /// Deletes `key` if `condition` holds. Deleting a missing object with
    /// [`Precondition::None`] succeeds.
    async fn delete(&self, key: &str, condition: Precondition) -> Result<(), StoreError>;

    /// Every key that starts with `prefix`, in lexicographic order.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;

    /// The longest a held lock may go between two writes without the store itself letting
    /// go of it (an Azure blob lease's term); `None` where only the heartbeat counts.
    fn renew_within(&self) -> Option<std::time::Duration> {
        None
    }
}
