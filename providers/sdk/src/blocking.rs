//! One async exchange run to completion from sync code: the key services of state
//! encryption are called where the engine's sync state code first needs a key, from plain
//! threads and from inside async tasks alike.

/// Runs `exchange` on a thread and current-thread runtime of its own and waits for it, so
/// callers on a runtime's worker do not block that runtime (nor panic for blocking in it).
/// `what` names the service in the errors of the runtime itself.
pub fn on_own_runtime<T: Send>(
    what: &str,
    exchange: impl std::future::Future<Output = Result<T, String>> + Send,
) -> Result<T, String> {
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start a runtime for {what}: {e}"))?
                .block_on(exchange)
        })
        .join()
        .unwrap_or_else(|_| Err(format!("the {what} exchange panicked")))
    })
}
