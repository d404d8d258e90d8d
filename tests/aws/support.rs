//! A moto server per test (tests/moto/launcher.py, from the virtual environment that
//! tests/run.sh creates), a stack directory to run `gantry` in against it, and SDK clients
//! for reading back what gantry did.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python of the test virtual environment (`GANTRY_TEST_PYTHON`, else where
/// tests/run.sh puts it).
fn python() -> PathBuf {
    if let Ok(p) = std::env::var("GANTRY_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    PathBuf::from(home).join(".cache/gantry/venv/bin/python")
}

/// One moto server, stopped when dropped (and, through its stdin, when the test process
/// dies).
pub struct Moto {
    child: Child,
    pub url: String,
    dir: tempfile::TempDir,
    /// SDK configuration for this server, loaded once at start (outside any runtime), so
    /// the client constructors below work inside async tests too.
    config: aws_types::SdkConfig,
}

impl Moto {
    pub fn start() -> Moto {
        let dir = tempfile::tempdir().expect("temp dir");
        let python = python();
        assert!(
            python.exists(),
            "{} is missing: run `bash tests/run.sh` once (it creates the moto virtual environment)",
            python.display()
        );
        let mut child = Command::new(&python)
            .arg(repo_root().join("tests/moto/launcher.py"))
            .args(["--port", "0", "--faults"])
            .arg(dir.path().join("faults.json"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the moto launcher");
        let stdout = child.stdout.take().expect("launcher stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("moto launcher did not get ready within 120 s");
        let url = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("unexpected launcher output: {line:?}"))
            .to_owned();
        let config = sdk_config(&url);
        Moto {
            child,
            url,
            dir,
            config,
        }
    }

    /// Environment for `gantry` and SDK clients: moto's endpoint, fake credentials, no
    /// instance metadata lookups, fast polling.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.url.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/nonexistent/gantry-test-config"),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/gantry-test-credentials",
            ),
            ("GANTRY_AWS_POLL_MS", "50"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    /// Runs a Python script with boto3 against this server (the test venv's Python), as a
    /// user making objects by hand would; returns its stdout. `session` is a ready
    /// `boto3.Session` in the script.
    pub fn boto3(&self, script: &str) -> String {
        let program = format!(
            "import boto3, json\nsession = boto3.Session(aws_access_key_id='testing', aws_secret_access_key='testing', region_name='us-east-1')\nENDPOINT = {:?}\ndef client(name):\n    return session.client(name, endpoint_url=ENDPOINT)\n{script}",
            self.url
        );
        let out = Command::new(python())
            .args(["-c", &program])
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "boto3 script failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// An Amazon machine image moto ships (one with a root device, as RunInstances needs).
    pub fn an_ami(&self) -> String {
        block_on(an_ami(&self.ec2()))
    }

    /// Writes the launcher's fault file (capacity errors, throttling, EC2 quotas).
    pub fn set_faults(&self, json: &serde_json::Value) {
        std::fs::write(self.dir.path().join("faults.json"), json.to_string())
            .expect("write faults");
    }

    /// SDK configuration pointing at this server, for independent reads.
    pub fn sdk(&self) -> aws_types::SdkConfig {
        self.config.clone()
    }

    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.sdk())
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk())
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk())
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    pub fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.sdk())
    }

    pub fn eks(&self) -> aws_sdk_eks::Client {
        aws_sdk_eks::Client::new(&self.sdk())
    }

    pub fn fsx(&self) -> aws_sdk_fsx::Client {
        aws_sdk_fsx::Client::new(&self.sdk())
    }

    pub fn efs(&self) -> aws_sdk_efs::Client {
        aws_sdk_efs::Client::new(&self.sdk())
    }

    pub fn sagemaker(&self) -> aws_sdk_sagemaker::Client {
        aws_sdk_sagemaker::Client::new(&self.sdk())
    }

    /// A new stack directory whose `gantry` runs talk to this server.
    pub fn stack(&self) -> Stack<'_> {
        Stack {
            dir: StackDir::new(&["GANTRY_", "AWS_"], self.env()),
            _moto: std::marker::PhantomData,
        }
    }
}

/// SDK configuration pointing at `url`, with the launcher's fake credentials.
fn sdk_config(url: &str) -> aws_types::SdkConfig {
    let creds = aws_sdk_sts::config::Credentials::new("testing", "testing", None, None, "test");
    block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(url)
            .credentials_provider(creds)
            .load(),
    )
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[path = "../common/cli.rs"]
mod cli;
#[path = "../common/provider_calls.rs"]
mod provider_calls;
pub use cli::{Run, StackDir};
pub use provider_calls::{block_on, op, planned};

/// Waits for a spawned `gantry` and collects what it printed.
pub fn finish(child: std::process::Child) -> Run {
    child.wait_with_output().expect("wait for gantry").into()
}

/// A stack directory with a `main.hcl`, whose `gantry` runs talk to moto (the shared
/// [`StackDir`] runs: `gantry`, `apply`, `plan_code`, `state_attr`, ...).
pub struct Stack<'m> {
    dir: StackDir,
    _moto: std::marker::PhantomData<&'m Moto>,
}

impl std::ops::Deref for Stack<'_> {
    type Target = StackDir;

    fn deref(&self) -> &StackDir {
        &self.dir
    }
}

impl Stack<'_> {
    /// Replaces the stack's configuration.
    pub fn write(&self, hcl: &str) {
        std::fs::write(self.path().join("main.hcl"), hcl).expect("write main.hcl");
    }

    /// `gantry ARGS` in the stack directory, against moto, started and left running; its
    /// output is captured for [`finish`].
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        let mut cmd = self.command(args, &[]);
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().expect("spawn gantry")
    }

    pub fn state_id(&self, address: &str) -> String {
        self.state_attr(address, "id")
            .as_str()
            .unwrap_or_else(|| panic!("`{address}` has no id"))
            .to_owned()
    }

    /// `gantry state rm ADDR` then `gantry import ADDR ID`; the plan after must be empty
    /// but for `tolerated` differences the API cannot give back (none by default).
    pub fn reimport(&self, address: &str, id: &str) {
        let rm = self.gantry(&["state", "rm", address]);
        assert_eq!(rm.code, 0, "{}", rm.both());
        let run = self.gantry(&["import", address, id]);
        assert_eq!(run.code, 0, "import failed:\n{}", run.both());
        assert_eq!(self.state_id(address), id);
    }
}

/// The provider itself (no `gantry` binary), configured as a `provider "aws"` block pointing
/// at this server would configure it, for tests that call its operations directly.
pub async fn provider(moto: &Moto) -> gantry_aws::AwsProvider {
    use gantry_provider::{Provider, Value};
    // Waits poll every 50 ms, as for the binary (`Moto::env`). nextest runs every test in a
    // process of its own, so no other thread reads the environment meanwhile.
    if std::env::var_os("GANTRY_AWS_POLL_MS").is_none() {
        std::env::set_var("GANTRY_AWS_POLL_MS", "50");
    }
    let provider = gantry_aws::AwsProvider::new();
    let config = Value::map([
        ("region", Value::string("us-east-1")),
        ("endpoint_url", Value::string(&moto.url)),
        ("access_key", Value::string("testing")),
        ("secret_key", Value::string("testing")),
        ("max_retries", Value::Number(2.0)),
    ]);
    provider.configure(&config).await.expect("configure");
    provider
}

/// The `id` of a state.
pub fn id_of(state: &gantry_provider::Value) -> String {
    state
        .as_map()
        .and_then(|m| m.get("id"))
        .and_then(gantry_provider::Value::as_str)
        .unwrap_or_else(|| panic!("no id in {state:?}"))
        .to_owned()
}

/// An Amazon machine image moto ships (one with a root device, as RunInstances needs).
pub async fn an_ami(ec2: &aws_sdk_ec2::Client) -> String {
    let images = ec2
        .describe_images()
        .owners("amazon")
        .send()
        .await
        .expect("images");
    images
        .images()
        .iter()
        .find(|i| i.root_device_name().is_some())
        .and_then(|i| i.image_id())
        .expect("an AMI")
        .to_owned()
}
