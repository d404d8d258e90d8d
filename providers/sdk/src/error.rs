//! Provider errors, classified so the engine can act: retry, back off, fail over to another
//! zone, or stop. The cloud's own error code and message are kept.

use std::fmt;
use std::time::Duration;

/// What kind of failure this is; decides what the engine does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// No capacity for this machine type here: try another zone, region or cloud.
    Capacity,
    /// An account limit would be exceeded.
    Quota,
    /// The API asked us to slow down: retry with backoff and lower concurrency.
    Throttled,
    /// A temporary failure (5xx, timeout): retry.
    Transient,
    /// The object does not exist.
    NotFound,
    /// The object is in use or in the wrong state (retried for a while during deletes).
    Conflict,
    /// The request is invalid: fix the stack.
    InvalidInput,
    /// Credentials are missing, expired or lack permission.
    Auth,
    /// A wait for the object to reach a state ran past its timeout (`timeouts { create =
    /// ... }`). Not retried: the object exists and is still changing in the cloud.
    Timeout,
    /// Anything else: stop.
    Fatal,
}

impl ErrorClass {
    /// Worth trying the same call again after a pause.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorClass::Throttled | ErrorClass::Transient)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Capacity => "capacity",
            ErrorClass::Quota => "quota",
            ErrorClass::Throttled => "throttled",
            ErrorClass::Transient => "transient",
            ErrorClass::NotFound => "not found",
            ErrorClass::Conflict => "conflict",
            ErrorClass::InvalidInput => "invalid input",
            ErrorClass::Auth => "auth",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Fatal => "fatal",
        }
    }
}

/// An error from a provider operation.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderError {
    pub class: ErrorClass,
    /// The cloud's own error code (`InsufficientInstanceCapacity`).
    pub code: Option<String>,
    pub message: String,
    /// How long the API asked us to wait (Throttled).
    pub retry_after: Option<Duration>,
    /// Set by a create that failed *after* the cloud accepted it (a wait, a read-back, a
    /// follow-up call): the object's state as far as it is known, at least its `id`. The
    /// engine records the object in state as tainted (replaced by the next apply) and never
    /// sends the create again.
    pub accepted: Option<Box<crate::value::Value>>,
}

impl ProviderError {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> ProviderError {
        ProviderError {
            class,
            code: None,
            message: message.into(),
            retry_after: None,
            accepted: None,
        }
    }

    pub fn with_code(mut self, code: impl Into<String>) -> ProviderError {
        self.code = Some(code.into());
        self
    }

    pub fn with_retry_after(mut self, after: Duration) -> ProviderError {
        self.retry_after = Some(after);
        self
    }

    /// Marks the error as happening after the cloud accepted a create: `state` is the new
    /// object as far as it is known (at least its `id`). See [`ProviderError::accepted`].
    pub fn after_create(mut self, state: crate::value::Value) -> ProviderError {
        self.accepted = Some(Box::new(state));
        self
    }

    /// A wait that ran out of time (see [`ErrorClass::Timeout`]).
    pub fn timeout(message: impl Into<String>) -> ProviderError {
        ProviderError::new(ErrorClass::Timeout, message)
    }

    pub fn invalid(message: impl Into<String>) -> ProviderError {
        ProviderError::new(ErrorClass::InvalidInput, message)
    }

    pub fn not_found(message: impl Into<String>) -> ProviderError {
        ProviderError::new(ErrorClass::NotFound, message)
    }

    pub fn fatal(message: impl Into<String>) -> ProviderError {
        ProviderError::new(ErrorClass::Fatal, message)
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} ({code}): {}", self.class.as_str(), self.message),
            None => write!(f, "{}: {}", self.class.as_str(), self.message),
        }
    }
}

impl std::error::Error for ProviderError {}

/// An error and its sources on one line (an SDK's Display often shows only the outermost),
/// each source once.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}
