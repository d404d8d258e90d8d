//! The object store of `backend "pg"`: a workspace's state, its journal segments and its
//! lock in one PostgreSQL schema, over tokio-postgres, for teams whose shared database is
//! the one thing every CI runner can reach.
//!
//! # Layout
//!
//! In the schema (`schema_name`, Terraform's default `terraform_remote_state`):
//!
//! | table | rows |
//! |---|---|
//! | `states` | one per workspace: `name`, `data` (the state document), `version`; Terraform's own table shape plus `version`, so a schema Terraform made can be reused |
//! | `state_journal` | the journal segments of each workspace (`name`, `seq`, `data`, `version`) |
//! | `state_locks` | the lock body of each workspace (holder, operation, host, heartbeat) |
//!
//! Every `version` comes from one sequence, so a version is never reused, even after a row
//! is deleted and made again: a write fenced on an old version can never match a new row.
//!
//! # Locking
//!
//! The lock is a session-level advisory lock, keyed by schema and workspace, held on the
//! one connection this store keeps for the whole run (a pinned connection: every statement
//! of the run goes through it), with the lock row beside it saying who holds it. When a
//! runner dies its connection closes and PostgreSQL releases the advisory lock at once; the
//! next run replaces the row the dead one left. A live holder whose heartbeat stopped (a
//! paused runner) keeps its session: taking its stale lock over (or `gantry force-unlock`)
//! deletes its row, fenced on the version read, then ends the holder's session
//! (`pg_terminate_backend`, which needs the same role or `pg_signal_backend`), so it can
//! never write again. A lost connection is never silently reopened: the advisory lock went
//! with it, and the run stops.
//!
//! # TLS
//!
//! Connections use TLS as `sslmode` says (tokio-postgres's default, `prefer`, uses it when
//! the server offers it), over rustls, and the server's certificate is always verified,
//! against the system's roots and `sslrootcert` (libpq's option, taken out of `conn_str`
//! before tokio-postgres reads it, or PGSSLROOTCERT): a state store is not a place to accept
//! any certificate.

use gantry_provider::{
    async_trait, error_chain, ObjectStore, Precondition, StoreError, StoredObject, Version,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, Row, Statement};

/// The key of a workspace's state: `states/<workspace>`.
pub const STATES: &str = "states/";
/// The key of a workspace's lock: `locks/<workspace>`.
pub const LOCKS: &str = "locks/";
/// The prefix of a workspace's journal segments: `journal/<workspace>/`.
pub const JOURNAL: &str = "journal/";

/// Terraform's default schema.
pub const DEFAULT_SCHEMA: &str = "terraform_remote_state";

/// The arguments of a `backend "pg"` block.
#[derive(Debug, Clone, Default)]
pub struct PgSettings {
    /// A `postgres://` URL or `key=value` string; else PG_CONN_STR; else the libpq
    /// environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE).
    pub conn_str: Option<String>,
    pub schema_name: Option<String>,
    pub skip_schema_creation: bool,
    pub skip_table_creation: bool,
}

/// One PostgreSQL session holding gantry state.
pub struct PgStore {
    client: Client,
    schema: String,
    location: String,
    /// The advisory locks this session holds (a second `pg_try_advisory_lock` of a held
    /// key would stack, needing two unlocks).
    held: Mutex<HashSet<i64>>,
    /// Statements prepared on this session, by their text.
    statements: tokio::sync::Mutex<HashMap<String, Statement>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// Which row a key names.
#[derive(Debug, PartialEq, Eq)]
enum Key<'a> {
    State(&'a str),
    Lock(&'a str),
    Segment(&'a str, i64),
}

fn parse_key(key: &str) -> Option<Key<'_>> {
    if let Some(ws) = key.strip_prefix(STATES) {
        return Some(Key::State(ws));
    }
    if let Some(ws) = key.strip_prefix(LOCKS) {
        return Some(Key::Lock(ws));
    }
    let rest = key.strip_prefix(JOURNAL)?;
    let (ws, seq) = rest.rsplit_once('/')?;
    let seq = seq.parse::<i64>().ok().filter(|s| *s >= 0)?;
    Some(Key::Segment(ws, seq))
}

/// A journal segment's key, as the engine numbers them.
fn segment_key(workspace: &str, seq: i64) -> String {
    format!("{JOURNAL}{workspace}/{seq:012}")
}

/// An identifier quoted for SQL.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The advisory lock key of a workspace in a schema (64 bits of a SHA-256, so two stacks'
/// workspaces never share a lock in practice).
pub fn advisory_key(schema: &str, workspace: &str) -> i64 {
    let digest = Sha256::digest(format!("gantry-state-lock\0{schema}\0{workspace}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// The connection settings: the block's `conn_str`, else PG_CONN_STR, else libpq's
/// environment variables; and where to find the CA of the server's certificate
/// (`sslrootcert`, else PGSSLROOTCERT).
fn config(conn_str: Option<&str>) -> Result<(Config, Option<String>), String> {
    let from_env = std::env::var("PG_CONN_STR").ok().filter(|c| !c.is_empty());
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(text) = conn_str.map(str::to_owned).or(from_env) {
        let (text, root_cert) = take_tls_options(&text);
        // The string may hold a password: never repeat it in a message.
        let config = text
            .parse::<Config>()
            .map_err(|e| format!("`conn_str` is not a PostgreSQL connection string: {e}"))?;
        return Ok((config, root_cert.or_else(|| var("PGSSLROOTCERT"))));
    }
    let mut config = Config::new();
    config.host(var("PGHOST").as_deref().unwrap_or("localhost"));
    if let Some(port) = var("PGPORT") {
        let port = port
            .parse::<u16>()
            .map_err(|_| format!("PGPORT must be a port number, not `{port}`"))?;
        config.port(port);
    }
    let user = var("PGUSER")
        .or_else(|| var("USER"))
        .ok_or("no PostgreSQL user: set `conn_str` in the backend block, PG_CONN_STR, or PGUSER")?;
    config.user(&user);
    if let Some(password) = var("PGPASSWORD") {
        config.password(password);
    }
    config.dbname(var("PGDATABASE").as_deref().unwrap_or(&user));
    if let Some(app) = var("PGAPPNAME") {
        config.application_name(&app);
    }
    match var("PGSSLMODE").as_deref() {
        None => {}
        Some("disable") => {
            config.ssl_mode(SslMode::Disable);
        }
        Some("prefer" | "allow") => {
            config.ssl_mode(SslMode::Prefer);
        }
        Some("require" | "verify-ca" | "verify-full") => {
            config.ssl_mode(SslMode::Require);
        }
        Some(other) => return Err(format!("PGSSLMODE `{other}` is not a libpq sslmode")),
    }
    Ok((config, var("PGSSLROOTCERT")))
}

/// libpq's TLS options tokio-postgres does not parse, taken out of a connection string:
/// `sslrootcert=PATH` is returned, `sslmode=verify-ca|verify-full` becomes `require`
/// (gantry verifies the server's certificate in every mode that uses TLS).
fn take_tls_options(text: &str) -> (String, Option<String>) {
    let mut root_cert = None;
    let mut keep = |pair: &str| -> Option<String> {
        let (key, value) = pair.split_once('=')?;
        match (key.trim(), value.trim()) {
            ("sslrootcert", path) => {
                root_cert = Some(path.trim_matches('\'').to_owned());
                None
            }
            ("sslmode", "verify-ca" | "verify-full") => Some("sslmode=require".to_owned()),
            _ => Some(pair.to_owned()),
        }
    };
    if let Some((base, query)) = text
        .split_once('?')
        .filter(|_| text.starts_with("postgres://") || text.starts_with("postgresql://"))
    {
        let pairs: Vec<String> = query.split('&').filter_map(&mut keep).collect();
        let cleaned = if pairs.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", pairs.join("&"))
        };
        return (cleaned, root_cert);
    }
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        return (text.to_owned(), None);
    }
    let words: Vec<String> = text
        .split_whitespace()
        .filter_map(|w| {
            if w.contains('=') {
                keep(w)
            } else {
                Some(w.to_owned())
            }
        })
        .collect();
    (words.join(" "), root_cert)
}

/// The TLS of the connection: the server's certificate always verified, against the
/// system's roots and the `sslrootcert` CA (a private CA, a cloud's server CA).
fn tls(root_cert: Option<&str>) -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A system root rustls cannot parse is skipped, as every TLS client does.
        let _ = roots.add(cert);
    }
    if let Some(path) = root_cert {
        let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("cannot read sslrootcert `{path}`: {e}"))?;
        let mut added = 0;
        for cert in certs {
            let cert = cert.map_err(|e| format!("sslrootcert `{path}`: {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("sslrootcert `{path}`: {e}"))?;
            added += 1;
        }
        if added == 0 {
            return Err(format!("sslrootcert `{path}` holds no certificate"));
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Where the state is, for messages: host, port, database and schema, never credentials.
fn describe(config: &Config, schema: &str) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or("postgres");
    // `pg://host:port/database/schema`: the engine appends `/states/<workspace>`.
    format!("pg://{host}:{port}/{db}/{schema}")
}

fn failed(operation: &'static str, key: &str, e: &tokio_postgres::Error) -> StoreError {
    let code = e.code();
    let transient = matches!(
        code,
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    );
    let hint = match code {
        Some(c) if *c == SqlState::UNDEFINED_TABLE || *c == SqlState::INVALID_SCHEMA_NAME => {
            " (the schema or its tables do not exist: remove `skip_schema_creation`/`skip_table_creation`, or create them)"
        }
        Some(c) if *c == SqlState::INSUFFICIENT_PRIVILEGE => {
            " (the role lacks a privilege on the state schema)"
        }
        // pg_terminate_backend from the runner that took this run's stale lock over.
        Some(c) if *c == SqlState::ADMIN_SHUTDOWN => {
            " (this run lost the state lock: another runner took its stale lock over and ended this session; nothing more is written)"
        }
        _ if e.is_closed() => {
            " (the PostgreSQL session ended and this run lost the state lock with it: a run whose stale lock was taken over has its session ended)"
        }
        _ => "",
    };
    let message = match e.as_db_error() {
        Some(db) => format!("{}: {}{hint}", db.code().code(), db.message()),
        None => format!("{}{hint}", error_chain(e)),
    };
    StoreError::Failed {
        operation,
        key: key.to_owned(),
        message,
        transient,
    }
}

fn precondition_failed(key: &str) -> StoreError {
    StoreError::PreconditionFailed {
        key: key.to_owned(),
    }
}

fn unknown_key(operation: &'static str, key: &str) -> StoreError {
    StoreError::Failed {
        operation,
        key: key.to_owned(),
        message: "not a key of the pg backend (states/, locks/, journal/)".into(),
        transient: false,
    }
}

/// A version as the store names it (the sequence value, as text).
fn version_of(v: i64) -> Version {
    Version(v.to_string())
}

/// The sequence value a version names; a version that is not one cannot match any row.
fn version_number(v: &Version) -> Option<i64> {
    v.0.parse().ok()
}

impl PgStore {
    /// Connects (one session for the whole run) and, unless told not to, creates the
    /// schema and its tables.
    pub async fn connect(settings: &PgSettings) -> Result<PgStore, String> {
        let schema = settings
            .schema_name
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_SCHEMA.to_owned());
        let (config, root_cert) = config(settings.conn_str.as_deref())?;
        let location = describe(&config, &schema);
        let tls = tls(root_cert.as_deref())?;
        let (client, connection) = config.connect(tls).await.map_err(|e| {
            let text = error_chain(&e);
            let hint = if text.contains("certificate") || text.contains("Certificate") {
                " (the server's certificate is not trusted: give its CA as `sslrootcert=PATH` in `conn_str` or PGSSLROOTCERT; gantry always verifies it)"
            } else if text.contains("no encryption") || text.contains("SSL off") {
                " (the server refuses plain connections: set sslmode=require)"
            } else {
                ""
            };
            format!("cannot connect to {location}: {text}{hint}")
        })?;
        let location_for_task = location.clone();
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("the PostgreSQL session to {location_for_task} ended: {e}");
            }
        });
        let store = PgStore {
            client,
            schema: quote_ident(&schema),
            location,
            held: Mutex::new(HashSet::new()),
            statements: tokio::sync::Mutex::default(),
        };
        store
            .create_tables(settings)
            .await
            .map_err(|e| format!("cannot prepare {}: {e}", store.location))?;
        Ok(store)
    }

    /// The schema and tables, made once under a transaction-level advisory lock (two runs
    /// making them at once would collide on PostgreSQL's catalog).
    async fn create_tables(&self, settings: &PgSettings) -> Result<(), String> {
        if settings.skip_schema_creation && settings.skip_table_creation {
            return Ok(());
        }
        let s = &self.schema;
        let mut script = format!(
            "BEGIN;\nSELECT pg_advisory_xact_lock({});\n",
            advisory_key("", "schema creation")
        );
        if !settings.skip_schema_creation {
            script.push_str(&format!("CREATE SCHEMA IF NOT EXISTS {s};\n"));
        }
        if !settings.skip_table_creation {
            script.push_str(&format!(
                "CREATE SEQUENCE IF NOT EXISTS {s}.gantry_versions;
CREATE TABLE IF NOT EXISTS {s}.states (id bigserial PRIMARY KEY, name text UNIQUE NOT NULL, data text);
ALTER TABLE {s}.states ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS {s}.state_journal (name text NOT NULL, seq bigint NOT NULL, data bytea NOT NULL, version bigint NOT NULL, PRIMARY KEY (name, seq));
CREATE TABLE IF NOT EXISTS {s}.state_locks (name text PRIMARY KEY, body text NOT NULL, version bigint NOT NULL);
"
            ));
        }
        script.push_str("COMMIT;");
        self.client
            .batch_execute(&script)
            .await
            .map_err(|e| error_chain(&e))
    }

    /// A prepared statement of `sql`, prepared once per session: a statement is then one
    /// round trip instead of two (parse, then execute), which is most of the cost when the
    /// database is far away.
    async fn prepared(&self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(statement) = self.statements.lock().await.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).await?;
        self.statements
            .lock()
            .await
            .insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    async fn query_opt_cached(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, tokio_postgres::Error> {
        let statement = self.prepared(sql).await?;
        self.client.query_opt(&statement, params).await
    }

    async fn query_one_cached(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, tokio_postgres::Error> {
        let statement = self.prepared(sql).await?;
        self.client.query_one(&statement, params).await
    }

    async fn query_cached(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        let statement = self.prepared(sql).await?;
        self.client.query(&statement, params).await
    }

    async fn execute_cached(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, tokio_postgres::Error> {
        let statement = self.prepared(sql).await?;
        self.client.execute(&statement, params).await
    }

    fn holds(&self, key: i64) -> bool {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&key)
    }

    fn set_held(&self, key: i64, held: bool) {
        let mut set = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if held {
            set.insert(key);
        } else {
            set.remove(&key);
        }
    }

    /// Writes a row of `table` keyed by `keys` (`name`, or `name, seq`) under `condition`;
    /// the new version, or `None` when the condition did not hold.
    async fn write_row(
        &self,
        table: &str,
        column: &str,
        name: &str,
        seq: Option<i64>,
        value: &(dyn ToSql + Sync),
        condition: &Precondition,
    ) -> Result<Option<i64>, tokio_postgres::Error> {
        let s = &self.schema;
        let next = format!("nextval('{}.gantry_versions')", s.replace('\'', "''"));
        let (key_cols, key_match, conflict) = match seq {
            Some(_) => ("name, seq", "name = $1 AND seq = $3", "(name, seq)"),
            None => ("name", "name = $1", "(name)"),
        };
        let key_values = if seq.is_some() { "$1, $3" } else { "$1" };
        let row = match condition {
            Precondition::None => {
                let sql = format!(
                    "INSERT INTO {s}.{table} ({key_cols}, {column}, version) VALUES ({key_values}, $2, {next}) \
                     ON CONFLICT {conflict} DO UPDATE SET {column} = EXCLUDED.{column}, version = EXCLUDED.version RETURNING version"
                );
                self.query_row(&sql, name, value, seq, None).await?
            }
            Precondition::Absent => {
                let sql = format!(
                    "INSERT INTO {s}.{table} ({key_cols}, {column}, version) VALUES ({key_values}, $2, {next}) \
                     ON CONFLICT {conflict} DO NOTHING RETURNING version"
                );
                self.query_row(&sql, name, value, seq, None).await?
            }
            Precondition::Matches(v) => {
                let Some(v) = version_number(v) else {
                    return Ok(None);
                };
                let version_param = if seq.is_some() { "$4" } else { "$3" };
                let sql = format!(
                    "UPDATE {s}.{table} SET {column} = $2, version = {next} WHERE {key_match} AND version = {version_param} RETURNING version"
                );
                self.query_row(&sql, name, value, seq, Some(v)).await?
            }
        };
        Ok(row.map(|r| r.get::<_, i64>(0)))
    }

    async fn query_row(
        &self,
        sql: &str,
        name: &str,
        value: &(dyn ToSql + Sync),
        seq: Option<i64>,
        version: Option<i64>,
    ) -> Result<Option<tokio_postgres::Row>, tokio_postgres::Error> {
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&name, value];
        if let Some(seq) = &seq {
            params.push(seq);
        }
        if let Some(version) = &version {
            params.push(version);
        }
        self.query_opt_cached(sql, &params).await
    }

    /// Takes the advisory lock of `workspace` if no other session holds it.
    async fn try_advisory_lock(&self, workspace: &str) -> Result<bool, tokio_postgres::Error> {
        let key = advisory_key(&self.schema, workspace);
        if self.holds(key) {
            return Ok(true);
        }
        let row = self
            .query_one_cached("SELECT pg_try_advisory_lock($1)", &[&key])
            .await?;
        let got: bool = row.get(0);
        if got {
            self.set_held(key, true);
        }
        Ok(got)
    }

    /// Ends the sessions (other than ours) holding `workspace`'s advisory lock, and waits
    /// until the lock is free.
    async fn end_holders(&self, workspace: &str) -> Result<(), tokio_postgres::Error> {
        let key = advisory_key(&self.schema, workspace);
        // A bigint advisory lock is (classid, objid) = (high, low) 32 bits, objsubid 1.
        let high = i64::from((key >> 32) as u32);
        let low = i64::from(key as u32);
        let holders = "FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1 \
             AND pid <> pg_backend_pid()";
        self.execute_cached(
            &format!("SELECT pg_terminate_backend(pid) {holders}"),
            &[&high, &low],
        )
        .await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let row = self
                .query_one_cached(&format!("SELECT count(*) {holders}"), &[&high, &low])
                .await?;
            if row.get::<_, i64>(0) == 0 || Instant::now() >= deadline {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[async_trait]
impl ObjectStore for PgStore {
    fn location(&self) -> String {
        self.location.clone()
    }

    async fn get(&self, key: &str) -> Result<Option<StoredObject>, StoreError> {
        let s = &self.schema;
        let row = match parse_key(key) {
            Some(Key::State(ws)) => self.query_opt_cached(
                    &format!("SELECT convert_to(data, 'UTF8'), version FROM {s}.states WHERE name = $1 AND data IS NOT NULL"),
                    &[&ws],
                )
                .await,
            Some(Key::Lock(ws)) => self.query_opt_cached(
                    &format!("SELECT convert_to(body, 'UTF8'), version FROM {s}.state_locks WHERE name = $1"),
                    &[&ws],
                )
                .await,
            Some(Key::Segment(ws, seq)) => self.query_opt_cached(
                    &format!("SELECT data, version FROM {s}.state_journal WHERE name = $1 AND seq = $2"),
                    &[&ws, &seq],
                )
                .await,
            None => return Err(unknown_key("get", key)),
        }
        .map_err(|e| failed("get", key, &e))?;
        Ok(row.map(|r| StoredObject {
            bytes: r.get::<_, Vec<u8>>(0),
            version: version_of(r.get(1)),
        }))
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        condition: Precondition,
    ) -> Result<Version, StoreError> {
        let text = |bytes: Vec<u8>| {
            String::from_utf8(bytes).map_err(|_| StoreError::Failed {
                operation: "put",
                key: key.to_owned(),
                message: "the pg backend stores state as text, and this is not UTF-8".into(),
                transient: false,
            })
        };
        let written = match parse_key(key) {
            Some(Key::State(ws)) => {
                let data = text(bytes)?;
                self.write_row("states", "data", ws, None, &data, &condition)
                    .await
            }
            Some(Key::Segment(ws, seq)) => {
                self.write_row("state_journal", "data", ws, Some(seq), &bytes, &condition)
                    .await
            }
            Some(Key::Lock(ws)) => {
                let body = text(bytes)?;
                match condition {
                    Precondition::Absent => {
                        // The advisory lock decides; the row only says who holds it. Holding
                        // it proves the session that wrote an older row is gone.
                        if !self
                            .try_advisory_lock(ws)
                            .await
                            .map_err(|e| failed("lock", key, &e))?
                        {
                            return Err(precondition_failed(key));
                        }
                        self.write_row("state_locks", "body", ws, None, &body, &Precondition::None)
                            .await
                    }
                    other => {
                        self.write_row("state_locks", "body", ws, None, &body, &other)
                            .await
                    }
                }
            }
            None => return Err(unknown_key("put", key)),
        }
        .map_err(|e| failed("put", key, &e))?;
        written
            .map(version_of)
            .ok_or_else(|| precondition_failed(key))
    }

    async fn delete(&self, key: &str, condition: Precondition) -> Result<(), StoreError> {
        let s = &self.schema;
        let version = match &condition {
            Precondition::Absent => return Ok(()),
            Precondition::None => None,
            Precondition::Matches(v) => match version_number(v) {
                Some(n) => Some(n),
                None => return Err(precondition_failed(key)),
            },
        };
        let (sql, name, seq) = match parse_key(key) {
            Some(Key::State(ws)) => (format!("DELETE FROM {s}.states WHERE name = $1"), ws, None),
            Some(Key::Lock(ws)) => (
                format!("DELETE FROM {s}.state_locks WHERE name = $1"),
                ws,
                None,
            ),
            Some(Key::Segment(ws, seq)) => (
                format!("DELETE FROM {s}.state_journal WHERE name = $1 AND seq = $2"),
                ws,
                Some(seq),
            ),
            None => return Err(unknown_key("delete", key)),
        };
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&name];
        let mut sql = sql;
        if let Some(seq) = &seq {
            params.push(seq);
        }
        if let Some(v) = &version {
            sql.push_str(&format!(" AND version = ${}", params.len() + 1));
            params.push(v);
        }
        let deleted = self
            .execute_cached(&sql, &params)
            .await
            .map_err(|e| failed("delete", key, &e))?;
        if deleted == 0 && version.is_some() {
            return Err(precondition_failed(key));
        }
        if let Some(Key::Lock(ws)) = parse_key(key) {
            let advisory = advisory_key(&self.schema, ws);
            if self.holds(advisory) {
                self.execute_cached("SELECT pg_advisory_unlock($1)", &[&advisory])
                    .await
                    .map_err(|e| failed("unlock", key, &e))?;
                self.set_held(advisory, false);
            } else {
                // Taking over a stale lock (or force-unlock): the holder's session ends,
                // so a paused runner can never write again.
                self.end_holders(ws)
                    .await
                    .map_err(|e| failed("unlock", key, &e))?;
            }
        }
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let s = &self.schema;
        let mut keys: Vec<String> = if let Some(rest) = prefix.strip_prefix(JOURNAL) {
            let Some((ws, _)) = rest.rsplit_once('/') else {
                return Ok(Vec::new());
            };
            self.query_cached(
                &format!("SELECT seq FROM {s}.state_journal WHERE name = $1 ORDER BY seq"),
                &[&ws],
            )
            .await
            .map_err(|e| failed("list", prefix, &e))?
            .iter()
            .map(|r| segment_key(ws, r.get(0)))
            .collect()
        } else if prefix.starts_with(STATES) || STATES.starts_with(prefix) {
            self.query_cached(
                &format!("SELECT name FROM {s}.states WHERE data IS NOT NULL ORDER BY name"),
                &[],
            )
            .await
            .map_err(|e| failed("list", prefix, &e))?
            .iter()
            .map(|r| format!("{STATES}{}", r.get::<_, String>(0)))
            .collect()
        } else if prefix.starts_with(LOCKS) {
            self.query_cached(
                &format!("SELECT name FROM {s}.state_locks ORDER BY name"),
                &[],
            )
            .await
            .map_err(|e| failed("list", prefix, &e))?
            .iter()
            .map(|r| format!("{LOCKS}{}", r.get::<_, String>(0)))
            .collect()
        } else {
            Vec::new()
        };
        keys.retain(|k| k.starts_with(prefix));
        keys.sort();
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_rows() {
        assert_eq!(parse_key("states/default"), Some(Key::State("default")));
        assert_eq!(parse_key("locks/staging"), Some(Key::Lock("staging")));
        assert_eq!(
            parse_key(&segment_key("default", 7)),
            Some(Key::Segment("default", 7))
        );
        assert_eq!(segment_key("default", 7), "journal/default/000000000007");
        assert_eq!(parse_key("journal/default/x"), None);
        assert_eq!(parse_key("elsewhere"), None);
    }

    #[test]
    fn advisory_keys_differ_by_schema_and_workspace() {
        let a = advisory_key("\"s\"", "default");
        assert_eq!(a, advisory_key("\"s\"", "default"));
        assert_ne!(a, advisory_key("\"t\"", "default"));
        assert_ne!(a, advisory_key("\"s\"", "staging"));
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("team state"), "\"team state\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn libpq_tls_options_are_taken_out_of_the_connection_string() {
        assert_eq!(
            take_tls_options("postgres://ci@db/infra?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=g"),
            (
                "postgres://ci@db/infra?sslmode=require&application_name=g".to_owned(),
                Some("/etc/ca.pem".to_owned())
            )
        );
        assert_eq!(
            take_tls_options("host=db user=ci sslrootcert='/etc/ca.pem' sslmode=verify-ca"),
            (
                "host=db user=ci sslmode=require".to_owned(),
                Some("/etc/ca.pem".to_owned())
            )
        );
        assert_eq!(
            take_tls_options("postgres://ci@db/infra"),
            ("postgres://ci@db/infra".to_owned(), None)
        );
    }

    #[test]
    fn locations_never_carry_the_password() {
        let config: Config = "postgres://ci:s3cret@db.internal:6543/infra"
            .parse()
            .expect("a URL");
        let shown = describe(&config, "llm");
        assert_eq!(shown, "pg://db.internal:6543/infra/llm");
        assert!(!shown.contains("s3cret"));
    }
}
