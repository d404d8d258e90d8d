//! Azurite, Microsoft's Blob Storage emulator (installed from npm by tests/run.sh into a
//! local node_modules), one per test on a free loopback port, in memory, with a storage
//! account of the test's own (a name and a random key, as AZURITE_ACCOUNTS sets them; not
//! the well-known development account). Over http, or over https with a test CA's
//! certificate and Azurite's OAuth check (`--oauth basic`: Entra ID bearer tokens for the
//! storage audience, as the Blob service takes them). What gantry stored is read back
//! through Microsoft's Python client, azure-storage-blob, with the account's key.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ACCOUNT: &str = "gantrystate";

pub struct Azurite {
    child: Child,
    pub port: u16,
    /// The account's access key (base64), as the portal shows one.
    pub key: String,
    /// The CA to trust when serving https.
    ca: Option<PathBuf>,
    _workdir: tempfile::TempDir,
}

/// Azurite's https: a server certificate (with its chain) and key for 127.0.0.1, and the
/// CA that signed it.
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

/// Azurite's blob server: GANTRY_TEST_AZURITE, else where tests/run.sh installs it.
fn binary() -> PathBuf {
    if let Ok(p) = std::env::var("GANTRY_TEST_AZURITE") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    PathBuf::from(home).join(".cache/gantry/node/node_modules/.bin/azurite-blob")
}

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("GANTRY_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    PathBuf::from(home).join(".cache/gantry/venv/bin/python")
}

impl Azurite {
    /// Over http, with Shared Key and SAS authentication.
    pub fn start() -> Azurite {
        Azurite::launch(None)
    }

    /// Over https with `tls`, also taking Entra ID bearer tokens.
    pub fn start_tls(tls: Tls) -> Azurite {
        Azurite::launch(Some(tls))
    }

    fn launch(tls: Option<Tls>) -> Azurite {
        let binary = binary();
        assert!(
            binary.exists(),
            "Azurite is not installed at {}: run `bash tests/run.sh` once",
            binary.display()
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        // 48 random bytes, as a real account key has 64.
        let key_bytes: Vec<u8> = (0..3)
            .flat_map(|_| *uuid::Uuid::new_v4().as_bytes())
            .collect();
        let key = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key_bytes);
        let workdir = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new(&binary);
        if let Some(tls) = &tls {
            command
                .arg("--cert")
                .arg(&tls.cert)
                .arg("--key")
                .arg(&tls.key)
                .args(["--oauth", "basic"]);
        }
        let child = command
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .args([
                "--inMemoryPersistence",
                "--silent",
                "--disableTelemetry",
                // azure_storage_blob speaks a newer API version than this Azurite knows.
                "--skipApiVersionCheck",
            ])
            .current_dir(workdir.path())
            .env("AZURITE_ACCOUNTS", format!("{ACCOUNT}:{key}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let azurite = Azurite {
            child,
            port,
            key,
            ca: tls.map(|t| t.ca),
            _workdir: workdir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "Azurite did not listen on {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        azurite
    }

    /// The Blob service URL of the account (Azurite's path-style form).
    pub fn endpoint(&self) -> String {
        let scheme = if self.ca.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}/{ACCOUNT}", self.port)
    }

    /// Runs Python with `service` (azure-storage-blob's BlobServiceClient on the account)
    /// and `json` ready; returns its stdout.
    pub fn python(&self, script: &str) -> String {
        let program = format!(
            r#"import json
from azure.storage.blob import BlobServiceClient
service = BlobServiceClient(account_url={endpoint:?}, credential={{"account_name": {ACCOUNT:?}, "account_key": {key:?}}}{verify})
{script}"#,
            endpoint = self.endpoint(),
            key = self.key,
            verify = match &self.ca {
                Some(ca) => format!(", connection_verify={:?}", ca.display().to_string()),
                None => String::new(),
            },
        );
        let out = Command::new(python())
            .args(["-W", "ignore", "-c", &program])
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "azure-storage-blob script failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub fn python_json(&self, expression: &str) -> serde_json::Value {
        let out = self.python(&format!("print(json.dumps({expression}))"));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    pub fn create_container(&self, name: &str) {
        self.python(&format!("service.create_container({name:?})"));
    }

    /// A blob's text, `None` if there is none.
    pub fn blob(&self, container: &str, name: &str) -> Option<String> {
        let got = self.python_json(&format!(
            "(lambda b: b.download_blob().readall().decode() if b.exists() else None)(service.get_blob_client({container:?}, {name:?}))"
        ));
        got.as_str().map(str::to_owned)
    }

    /// The names of the blobs under `prefix`, sorted.
    pub fn list(&self, container: &str, prefix: &str) -> Vec<String> {
        let listed = self.python_json(&format!(
            "sorted(b.name for b in service.get_container_client({container:?}).list_blobs(name_starts_with={prefix:?}))"
        ));
        serde_json::from_value(listed).expect("names")
    }

    /// The lease state of a blob (`available`, `leased`, `expired`, `breaking`, `broken`).
    pub fn lease_state(&self, container: &str, name: &str) -> String {
        self.python_json(&format!(
            "service.get_blob_client({container:?}, {name:?}).get_blob_properties().lease.state"
        ))
        .as_str()
        .expect("lease state")
        .to_owned()
    }

    /// A service SAS for `container` with read, add, create, write, delete and list
    /// rights for an hour, made by azure-storage-blob with the account key.
    pub fn container_sas(&self, container: &str) -> String {
        self.python(&format!(
            r#"from azure.storage.blob import generate_container_sas, ContainerSasPermissions
import datetime
print(generate_container_sas({ACCOUNT:?}, {container:?}, account_key={key:?},
    permission=ContainerSasPermissions(read=True, add=True, create=True, write=True, delete=True, list=True),
    expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)))"#,
            key = self.key
        ))
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
