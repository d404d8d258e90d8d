//! The contract fake of Azure Resource Manager (tests/azure/fake/server.py, run by the
//! Python of the virtual environment tests/run.sh creates) per test, served over TLS with
//! a certificate authority the fake makes for the test (azure_core sends bearer tokens
//! only over TLS; gantry trusts the test CA through SSL_CERT_FILE, as it would a private
//! cloud's), a stack directory to run `gantry` in against it, and Microsoft's own Python
//! SDKs (azure-mgmt-*) for reading back what gantry made.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const SUBSCRIPTION: &str = "00000000-0000-0000-0000-00000000a11c";
pub const OTHER_SUBSCRIPTION: &str = "00000000-0000-0000-0000-0000000000b0";
pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const CLIENT_ID: &str = "0e4d1c3a-6a4c-4d2e-9a55-1d2f3b4c5d6e";
pub const CLIENT_SECRET: &str = "fake-client-secret-value";
/// The App Service managed identity secret (IDENTITY_HEADER) the fake's `/msi/token` wants.
pub const MSI_SECRET: &str = "gantry-test-identity-header";
pub const LOCATION: &str = "eastus";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("GANTRY_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    PathBuf::from(home).join(".cache/gantry/venv/bin/python")
}

/// One fake server, stopped when dropped.
pub struct Fake {
    child: Child,
    pub port: u16,
    certs: tempfile::TempDir,
}

impl Fake {
    /// A fake whose operations stay running for `operation_seconds`.
    pub fn start(operation_seconds: f64) -> Fake {
        let python = python();
        assert!(
            python.exists(),
            "{} is missing: run `bash tests/run.sh` once (it creates the test virtual environment)",
            python.display()
        );
        let certs = tempfile::tempdir().expect("cert dir");
        let mut child = Command::new(&python)
            .arg(repo_root().join("tests/azure/fake/server.py"))
            .args([
                "--subscription",
                SUBSCRIPTION,
                "--subscription",
                OTHER_SUBSCRIPTION,
            ])
            .args([
                "--tenant",
                TENANT,
                "--client-id",
                CLIENT_ID,
                "--client-secret",
                CLIENT_SECRET,
            ])
            .args(["--msi-secret", MSI_SECRET])
            .arg("--cert-dir")
            .arg(certs.path())
            .args(["--operation-seconds", &operation_seconds.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the fake");
        let stdout = child.stdout.take().expect("fake stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the fake did not get ready within 60 s");
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected fake output: {line:?}"));
        Fake { child, port, certs }
    }

    pub fn base(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn ca(&self) -> PathBuf {
        self.certs.path().join("ca.pem")
    }

    /// The `provider "azurerm"` block for this fake: a service principal with a client
    /// secret, the cloud's endpoints from the fake's metadata document.
    pub fn provider_block(&self) -> String {
        format!(
            "provider \"azurerm\" {{\n{}  features {{}}\n}}\n",
            self.provider_settings()
        )
    }

    /// The lines of a provider block that point it at this fake.
    pub fn provider_settings(&self) -> String {
        format!(
            "  subscription_id = \"{SUBSCRIPTION}\"\n  tenant_id = \"{TENANT}\"\n  client_id = \"{CLIENT_ID}\"\n  client_secret = \"{CLIENT_SECRET}\"\n  metadata_host = \"127.0.0.1:{}\"\n  use_cli = false\n",
            self.port
        )
    }

    /// An example's text with its own provider block pointed at this fake (its
    /// `default_tags` and `features` kept).
    pub fn example(&self, name: &str) -> String {
        let text =
            std::fs::read_to_string(repo_root().join("examples").join(name).join("main.hcl"))
                .expect("the example");
        let opening = "provider \"azurerm\" {\n";
        assert!(
            text.contains(opening),
            "{name} has no provider \"azurerm\" block"
        );
        text.replacen(
            opening,
            &format!("{opening}{}", self.provider_settings()),
            1,
        )
    }

    /// Runs Python with the azure-mgmt clients on this fake ready (`resource`, `network`,
    /// `compute`, `aks`, `storage`, `msi`, `auth`, `keyvault`), plus `SUB`, `RG_ID(name)`
    /// and `json`; returns its stdout.
    pub fn python(&self, script: &str) -> String {
        let program = format!(
            r#"import json, time, ssl, urllib.request, urllib.parse
from azure.core.credentials import AccessToken
SUB, BASE, CA = {SUBSCRIPTION:?}, {base:?}, {ca:?}
class Cred:
    def get_token(self, *scopes, **kw):
        data = urllib.parse.urlencode({{"grant_type": "client_credentials", "client_id": {CLIENT_ID:?},
            "client_secret": {CLIENT_SECRET:?}, "scope": scopes[0] if scopes else "https://management.azure.com/.default"}}).encode()
        ctx = ssl.create_default_context(cafile=CA)
        got = json.loads(urllib.request.urlopen(urllib.request.Request(BASE + "/{TENANT}/oauth2/v2.0/token", data=data), context=ctx).read())
        return AccessToken(got["access_token"], int(time.time()) + 3000)
    def get_token_info(self, *scopes, **kw):
        return self.get_token(*scopes)
kw = dict(credential=Cred(), subscription_id=SUB, base_url=BASE, connection_verify=CA, polling_interval=0)
from azure.mgmt.resource import ResourceManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
resource = ResourceManagementClient(**kw)
network = NetworkManagementClient(**kw)
compute = ComputeManagementClient(**kw)
aks = ContainerServiceClient(**kw)
storage = StorageManagementClient(**kw)
msi = ManagedServiceIdentityClient(**kw)
auth = AuthorizationManagementClient(**kw)
keyvault = KeyVaultManagementClient(**kw)
def RG_ID(name):
    return "/subscriptions/" + SUB + "/resourceGroups/" + name
def exists(call):
    from azure.core.exceptions import ResourceNotFoundError
    try:
        call()
        return True
    except ResourceNotFoundError:
        return False
{script}"#,
            base = self.base(),
            ca = self.ca().display().to_string(),
        );
        let out = Command::new(python())
            .args(["-W", "ignore", "-c", &program])
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "azure-mgmt script failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The JSON a Python expression prints: `.as_dict()` of an SDK model, or any value.
    pub fn python_json(&self, expression: &str) -> serde_json::Value {
        let out = self.python(&format!(
            "v = {expression}\nprint(json.dumps(v.as_dict() if hasattr(v, 'as_dict') else v, default=str))"
        ));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }

    /// An admin call to the fake (`/_fake/faults`, `/_fake/config`, `/_fake/quotas`,
    /// `/_fake/state`).
    pub fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let data = match body {
            Some(b) => format!("{:?}.encode()", b.to_string()),
            None => "None".to_owned(),
        };
        let out = self.python(&format!(
            "ctx = ssl.create_default_context(cafile=CA)\nr = urllib.request.urlopen(urllib.request.Request(BASE + {path:?}, data={data}, method={method:?}, headers={{'Content-Type': 'application/json'}}), context=ctx).read()\nprint(r.decode() or 'null')"
        ));
        serde_json::from_str(&out).unwrap_or(serde_json::Value::Null)
    }

    pub fn stack(&self) -> Stack<'_> {
        Stack {
            dir: StackDir::new(
                &["GANTRY_", "ARM_", "AZURE_", "ACTIONS_ID_TOKEN"],
                vec![("SSL_CERT_FILE".to_owned(), self.ca().display().to_string())],
            ),
            fake: self,
        }
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[path = "../common/cli.rs"]
pub mod cli;
#[path = "../common/provider_calls.rs"]
mod provider_calls;
pub use cli::StackDir;
pub use provider_calls::{block_on, op, planned};

/// A stack directory with a `main.hcl` whose provider block points at the fake.
pub struct Stack<'f> {
    dir: StackDir,
    fake: &'f Fake,
}

impl std::ops::Deref for Stack<'_> {
    type Target = StackDir;

    fn deref(&self) -> &StackDir {
        &self.dir
    }
}

impl Stack<'_> {
    /// Replaces the stack's resources (the provider block is added).
    pub fn write(&self, hcl: &str) {
        self.write_raw(&format!("{}\n{hcl}", self.fake.provider_block()));
    }

    /// Replaces `main.hcl` with exactly `text`.
    pub fn write_raw(&self, text: &str) {
        std::fs::write(self.path().join("main.hcl"), text).expect("write main.hcl");
    }
}

/// The provider itself, configured as the stack's block would configure it, for tests
/// that call its operations directly (crash recovery's `find_created`).
pub async fn provider(fake: &Fake) -> gantry_azure::AzureProvider {
    use gantry_provider::{Provider, Value};
    // SAFETY of the process environment: tests that call the provider directly run in
    // their own process under nextest.
    std::env::set_var("SSL_CERT_FILE", fake.ca());
    let provider = gantry_azure::AzureProvider::new();
    let config = Value::map([
        ("subscription_id", Value::string(SUBSCRIPTION)),
        ("tenant_id", Value::string(TENANT)),
        ("client_id", Value::string(CLIENT_ID)),
        ("client_secret", Value::string(CLIENT_SECRET)),
        (
            "metadata_host",
            Value::string(format!("127.0.0.1:{}", fake.port)),
        ),
        ("use_cli", Value::Bool(false)),
    ]);
    provider.configure(&config).await.expect("configure");
    provider
}
