//! A PostgreSQL server of its own per test (Debian's `postgresql` package, which
//! tests/run.sh installs): `initdb` into a temporary directory and `pg_ctl start` on a
//! free loopback port, as the unprivileged `postgres` user when the tests run as root (the
//! server refuses to run as root). Stopped, and its files removed, when dropped.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

/// The directory of `initdb` and `pg_ctl`: GANTRY_TEST_PG_BIN, else Debian's newest
/// /usr/lib/postgresql/*/bin, else the PATH.
fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("GANTRY_TEST_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop().unwrap_or_default()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Postgres {
    /// A server taking plain connections.
    pub fn start() -> Postgres {
        Postgres::start_with(false)
    }

    /// A server taking TLS connections only, its certificate (for 127.0.0.1) signed by a CA
    /// of the test's own, at [`Postgres::ca`].
    pub fn start_tls() -> Postgres {
        Postgres::start_with(true)
    }

    /// The PEM of the CA that signed a TLS server's certificate.
    pub fn ca(&self) -> String {
        self.dir.path().join("ca.pem").display().to_string()
    }

    fn start_with(tls: bool) -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::tempdir().expect("temp dir");
        let root = is_root();
        if root {
            let status = Command::new("chown")
                .args(["postgres:", dir.path().to_str().expect("utf-8")])
                .status()
                .expect("chown");
            assert!(
                status.success(),
                "cannot give the test cluster's directory to the `postgres` user (is PostgreSQL installed? run `bash tests/run.sh` once)"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let pg = Postgres { dir, bin, port };
        let data = pg.data();
        let out = pg
            .as_server(&[
                "initdb",
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "gantry",
                "--no-sync",
            ])
            .output()
            .expect("run initdb (is PostgreSQL installed? run `bash tests/run.sh` once)");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            pg.dir.path().display()
        );
        if tls {
            pg.make_certificates(root);
            std::fs::write(
                pg.dir.path().join("data/pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
            )
            .expect("write pg_hba.conf");
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={dir}/server.crt -c ssl_key_file={dir}/server.key",
                dir = pg.dir.path().display()
            ));
        }
        let log = pg.dir.path().join("server.log");
        let out = pg
            .as_server(&[
                "pg_ctl",
                "-D",
                &data,
                "-o",
                &options,
                "-l",
                log.to_str().expect("utf-8"),
                "-w",
                "start",
            ])
            .output()
            .expect("run pg_ctl");
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        pg
    }

    /// A CA and a server certificate for 127.0.0.1 signed by it, with openssl.
    fn make_certificates(&self, root: bool) {
        let dir = self.dir.path();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir)
                .output()
                .expect("run openssl");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n")
            .expect("write san.ext");
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=gantry test CA",
        ]);
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ]);
        let key = dir.join("server.key");
        if root {
            let status = Command::new("chown")
                .args(["postgres:", key.to_str().expect("utf-8")])
                .status()
                .expect("chown");
            assert!(status.success(), "chown server.key");
        }
        let status = Command::new("chmod")
            .args(["600", key.to_str().expect("utf-8")])
            .status()
            .expect("chmod");
        assert!(status.success(), "chmod server.key");
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// One of the server's programs, run as `postgres` when the tests run as root.
    fn as_server(&self, args: &[&str]) -> Command {
        let program = self.bin.join(args[0]);
        let program = if program.exists() {
            program
        } else {
            PathBuf::from(args[0])
        };
        if is_root() {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"])
                .arg(program)
                .args(&args[1..]);
            cmd
        } else {
            let mut cmd = Command::new(program);
            cmd.args(&args[1..]);
            cmd
        }
    }

    /// A `postgres://` URL of the server's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://gantry@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs `sql` through `psql` (PostgreSQL's own client); its unaligned, tuples-only output.
    pub fn psql(&self, sql: &str) -> String {
        let out = Command::new(self.psql_program())
            .args([
                &self.url(),
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql failed on {sql:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
    }

    fn psql_program(&self) -> PathBuf {
        let own = self.bin.join("psql");
        if own.exists() {
            own
        } else {
            Path::new("psql").to_path_buf()
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .as_server(&["pg_ctl", "-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
    }
}
