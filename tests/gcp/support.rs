//! The contract fake of Google's APIs (tests/gcp/fake/server.py, run by the Python of the
//! virtual environment tests/run.sh creates) per test, a stack directory to run `gantry`
//! in against it, and google-api-python-client, Google's own discovery-based client, for
//! reading back what gantry made.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const PROJECT: &str = "gantry-test";
pub const REGION: &str = "us-central1";

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
}

impl Fake {
    /// A fake whose operations stay RUNNING for `operation_seconds`.
    pub fn start(operation_seconds: f64) -> Fake {
        let python = python();
        assert!(
            python.exists(),
            "{} is missing: run `bash tests/run.sh` once (it creates the test virtual environment)",
            python.display()
        );
        let mut child = Command::new(&python)
            .arg(repo_root().join("tests/gcp/fake/server.py"))
            .args(["--project", PROJECT, "--project", "other-project"])
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
        Fake { child, port }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The `provider "google"` block pointing at this fake.
    pub fn provider_block(&self) -> String {
        format!(
            "provider \"google\" {{\n  project = \"{PROJECT}\"\n  region = \"{REGION}\"\n  zone = \"{REGION}-a\"\n  access_token = \"fake-token\"\n  compute_custom_endpoint = \"{base}/compute\"\n  tpu_v2_custom_endpoint = \"{base}/tpu\"\n  iam_custom_endpoint = \"{base}/iam\"\n  resource_manager_v3_custom_endpoint = \"{base}/cloudresourcemanager\"\n  filestore_custom_endpoint = \"{base}/file\"\n  workbench_custom_endpoint = \"{base}/notebooks\"\n  container_custom_endpoint = \"{base}/container\"\n  cloud_quotas_custom_endpoint = \"{base}/cloudquotas\"\n}}\n",
            base = self.base()
        )
    }

    /// Runs Python with `compute`, `tpu`, `iam`, `crm`, `filestore`, `notebooks`,
    /// `container` and `storage` (google-api-python-client clients of Compute Engine, Cloud
    /// TPU, IAM, Resource Manager, Filestore, Workbench, GKE and the Cloud Storage JSON API
    /// on this fake), `PROJECT`, `REGION`, `wait(op)`,
    /// `wait_lro(op)` and `json` ready; returns its stdout.
    pub fn python(&self, script: &str) -> String {
        let program = format!(
            r#"import json, time
from google.oauth2.credentials import Credentials
from googleapiclient import discovery
from googleapiclient.errors import HttpError
PROJECT, REGION = {PROJECT:?}, {REGION:?}
compute = discovery.build("compute", "v1", static_discovery=True, cache_discovery=False,
    credentials=Credentials(token="fake-token"),
    client_options={{"api_endpoint": "{base}/compute/compute/v1/"}})
tpu = discovery.build("tpu", "v2", static_discovery=True, cache_discovery=False,
    credentials=Credentials(token="fake-token"),
    client_options={{"api_endpoint": "{base}/tpu/"}})
iam = discovery.build("iam", "v1", static_discovery=True, cache_discovery=False,
    credentials=Credentials(token="fake-token"),
    client_options={{"api_endpoint": "{base}/iam/"}})
crm = discovery.build("cloudresourcemanager", "v3", static_discovery=True, cache_discovery=False,
    credentials=Credentials(token="fake-token"),
    client_options={{"api_endpoint": "{base}/cloudresourcemanager/"}})
filestore = discovery.build("file", "v1", static_discovery=True, cache_discovery=False,
    credentials=Credentials(token="fake-token"),
    client_options={{"api_endpoint": "{base}/file/"}})
notebooks = discovery.build("notebooks", "v2", static_discovery=True, cache_discovery=False,
    credentials=Credentials(token="fake-token"),
    client_options={{"api_endpoint": "{base}/notebooks/"}})
container = discovery.build("container", "v1", static_discovery=True, cache_discovery=False,
    credentials=Credentials(token="fake-token"),
    client_options={{"api_endpoint": "{base}/container/"}})
storage = discovery.build("storage", "v1", static_discovery=True, cache_discovery=False,
    credentials=Credentials(token="fake-token"),
    client_options={{"api_endpoint": "{base}/storage/storage/v1/"}})
def wait_lro(op):
    while not op.get("done"):
        time.sleep(0.05)
        op = tpu.projects().locations().operations().get(name=op["name"]).execute()
    return op
def wait(op):
    while op["status"] != "DONE":
        if "zone" in op:
            op = compute.zoneOperations().wait(project=PROJECT, zone=op["zone"].rsplit("/", 1)[1], operation=op["name"]).execute()
        elif "region" in op:
            op = compute.regionOperations().wait(project=PROJECT, region=op["region"].rsplit("/", 1)[1], operation=op["name"]).execute()
        else:
            op = compute.globalOperations().wait(project=PROJECT, operation=op["name"]).execute()
    return op
def names(request):
    return sorted(i["name"] for i in request.execute().get("items", []))
{script}"#,
            base = self.base()
        );
        let out = Command::new(python())
            .args(["-c", &program])
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "google-api-python-client script failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The JSON a Python expression prints (`json.dumps(...)` of it).
    pub fn python_json(&self, expression: &str) -> serde_json::Value {
        let out = self.python(&format!("print(json.dumps({expression}))"));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }

    /// An admin call to the fake (`/_fake/faults`, `/_fake/config`, `/_fake/state`).
    pub fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.python_json(&format!(
            "json.loads(__import__('urllib.request').request.urlopen(__import__('urllib.request').request.Request('{}{path}', data={data}, method='{method}', headers={{'Content-Type': 'application/json'}})).read())",
            self.base(),
            data = if body.is_empty() { "None".to_owned() } else { format!("{body:?}.encode()") },
        ))
    }

    /// An object's bytes from this fake's Cloud Storage, read directly over HTTP/1.1: in
    /// milliseconds, where a read through Google's client starts a Python (seconds on a
    /// loaded machine), for waits that must catch a run while it still holds its lock.
    pub fn object_now(&self, bucket: &str, name: &str) -> Option<String> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        let path = format!(
            "/storage/storage/v1/b/{bucket}/o/{}?alt=media",
            name.replace('/', "%2F")
        );
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer fake-token\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let (head, body) = response.split_once("\r\n\r\n")?;
        (head.split(' ').nth(1) == Some("200")).then(|| body.to_owned())
    }

    pub fn stack(&self) -> Stack<'_> {
        self.stack_with("")
    }

    /// A stack whose provider block also carries `extra` (another server's endpoint,
    /// such as the Cloud Storage emulator's `storage_custom_endpoint`).
    pub fn stack_with(&self, extra: &str) -> Stack<'_> {
        Stack {
            dir: StackDir::new(&["GANTRY_", "GOOGLE_", "CLOUDSDK_"], Vec::new()),
            fake: self,
            extra: extra.to_owned(),
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

/// A stack directory with a `main.hcl` whose provider block points at the fake (the
/// shared [`StackDir`] runs: `gantry`, `apply`, `plan_code`, `state_attr`, ...).
pub struct Stack<'f> {
    dir: StackDir,
    fake: &'f Fake,
    extra: String,
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
        let block = self.fake.provider_block();
        let block = match block.rfind('}') {
            Some(end) if !self.extra.is_empty() => {
                format!("{}  {}\n}}\n", &block[..end], self.extra)
            }
            _ => block,
        };
        let text = format!("{block}\n{hcl}");
        std::fs::write(self.path().join("main.hcl"), text).expect("write main.hcl");
    }

    /// `gantry ARGS` in the stack directory, not yet run.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        self.dir.command(args, &[])
    }
}

/// The provider itself, configured as a `provider "google"` block on this fake would
/// configure it, for tests that call its operations directly.
pub async fn provider(fake: &Fake) -> gantry_gcp::GcpProvider {
    use gantry_provider::{Provider, Value};
    let provider = gantry_gcp::GcpProvider::new();
    let config = Value::map([
        ("project", Value::string(PROJECT)),
        ("region", Value::string(REGION)),
        ("access_token", Value::string("fake-token")),
        (
            "compute_custom_endpoint",
            Value::string(format!("{}/compute", fake.base())),
        ),
        (
            "tpu_v2_custom_endpoint",
            Value::string(format!("{}/tpu", fake.base())),
        ),
        (
            "iam_custom_endpoint",
            Value::string(format!("{}/iam", fake.base())),
        ),
        (
            "resource_manager_v3_custom_endpoint",
            Value::string(format!("{}/cloudresourcemanager", fake.base())),
        ),
        (
            "filestore_custom_endpoint",
            Value::string(format!("{}/file", fake.base())),
        ),
        (
            "workbench_custom_endpoint",
            Value::string(format!("{}/notebooks", fake.base())),
        ),
        (
            "container_custom_endpoint",
            Value::string(format!("{}/container", fake.base())),
        ),
        (
            "storage_custom_endpoint",
            Value::string(format!("{}/storage/storage/v1/", fake.base())),
        ),
        (
            "cloud_quotas_custom_endpoint",
            Value::string(format!("{}/cloudquotas", fake.base())),
        ),
    ]);
    provider.configure(&config).await.expect("configure");
    provider
}
