//! `backend "gcs"`, `backend "azurerm"` and `backend "pg"`: state, lock and journal in a
//! Cloud Storage bucket, a Blob Storage container or a PostgreSQL schema, the same
//! scenarios on each (`backend "s3"` has its own, against moto, in tests/aws). The bucket
//! is fake-gcs-server (the Cloud Storage emulator), except where a test needs conditional
//! deletes, which the emulator ignores: there it is the contract fake's Cloud Storage JSON
//! API, which honours every documented precondition. The container is Azurite, which
//! enforces ETags and leases (tests/common/azurite.rs). PostgreSQL is Debian's server, one
//! cluster per test (tests/common/postgres.rs). The resources are VPC networks on the
//! contract fake. What is stored is read back without gantry: through
//! google-api-python-client's `storage` v1 client, Microsoft's azure-storage-blob, or
//! `psql`. Two stack directories with the same files stand in for two machines (or two CI
//! jobs) sharing one state.

use crate::gcs_emulator::Emulator;
use crate::support::{Fake, Stack, PROJECT};
use std::collections::BTreeSet;
use std::io::Read;
use std::process::Child;
use std::time::{Duration, Instant};

#[path = "../common/postgres.rs"]
mod postgres;
use postgres::Postgres;

#[path = "../common/azurite.rs"]
mod azurite;
use azurite::Azurite;

const BUCKET: &str = "gantry-state";
/// The Blob Storage container of `backend "azurerm"`.
const CONTAINER: &str = "tfstate";

/// Where a stack's state lives, and how a test reads it back without gantry: Google's
/// client for a bucket (the emulator, or the contract fake's JSON API), `psql` for
/// PostgreSQL. A `place` is the gcs `prefix` or the pg `schema_name` of one test's stacks.
#[derive(Clone, Copy)]
enum Backend<'a> {
    Emulator(&'a Emulator),
    Contract(&'a Fake),
    Postgres(&'a Postgres),
    Azurite(&'a Azurite),
}

impl Backend<'_> {
    /// The backend block for state at `place`, locks stale after `stale_after` seconds.
    fn block(&self, place: &str, stale_after: u32) -> String {
        let endpoint = match self {
            Backend::Emulator(e) => format!("{}/storage/v1/", e.base()),
            Backend::Contract(f) => format!("{}/storage/storage/v1/", f.base()),
            Backend::Azurite(az) => {
                return format!(
                    "terraform {{\n  backend \"azurerm\" {{\n    storage_account_name     = \"{}\"\n    container_name           = \"{CONTAINER}\"\n    key                      = \"{place}/llm.tfstate\"\n    endpoint                 = \"{}\"\n    access_key               = \"{}\"\n    lock_stale_after_seconds = {stale_after}\n  }}\n}}\n",
                    azurite::ACCOUNT,
                    az.endpoint(),
                    az.key
                )
            }
            Backend::Postgres(pg) => {
                return format!(
                    "terraform {{\n  backend \"pg\" {{\n    conn_str                 = \"{}\"\n    schema_name              = \"{}\"\n    lock_stale_after_seconds = {stale_after}\n  }}\n}}\n",
                    pg.url(),
                    schema(place)
                )
            }
        };
        format!(
            "terraform {{\n  backend \"gcs\" {{\n    bucket                   = \"{BUCKET}\"\n    prefix                   = \"{place}\"\n    access_token             = \"fake-token\"\n    storage_custom_endpoint  = \"{endpoint}\"\n    lock_stale_after_seconds = {stale_after}\n  }}\n}}\n"
        )
    }

    /// What gantry prints for the state of `workspace` at `place`.
    fn location(&self, place: &str, workspace: &str) -> String {
        match self {
            Backend::Postgres(pg) => format!(
                "pg://127.0.0.1:{}/postgres/{}/states/{workspace}",
                pg.port,
                schema(place)
            ),
            Backend::Azurite(az) => format!(
                "{}/{CONTAINER}/{}",
                az.endpoint(),
                azurerm_state(place, workspace)
            ),
            _ => format!("gs://{BUCKET}/{place}/{workspace}.tfstate"),
        }
    }

    fn make(&self) {
        if let Backend::Azurite(az) = self {
            az.create_container(CONTAINER);
            return;
        }
        if !matches!(self, Backend::Postgres(_)) {
            self.python_json(&format!(
                "storage.buckets().insert(project=PROJECT, body={{'name': {BUCKET:?}}}).execute()['name']"
            ));
        }
    }

    /// Runs Python with `storage` (Google's client on this bucket's server) ready.
    fn python_json(&self, expression: &str) -> serde_json::Value {
        match self {
            Backend::Emulator(e) => e.python_json(expression),
            Backend::Contract(f) => f.python_json(expression),
            Backend::Postgres(_) | Backend::Azurite(_) => {
                unreachable!("not a Cloud Storage bucket")
            }
        }
    }

    /// An object's text, `None` if there is none.
    fn object(&self, key: &str) -> Option<String> {
        if let Backend::Azurite(az) = self {
            return az.blob(CONTAINER, key);
        }
        let got = self.python_json(&format!(
            "next((storage.objects().get_media(bucket={BUCKET:?}, object={key:?}).execute().decode() for o in storage.objects().list(bucket={BUCKET:?}, prefix={key:?}).execute().get('items', []) if o['name'] == {key:?}), None)"
        ));
        got.as_str().map(str::to_owned)
    }

    /// The state document of `workspace` at `place`, as stored.
    fn state_text(&self, place: &str, workspace: &str) -> Option<String> {
        match self {
            Backend::Postgres(pg) => pg_value(
                pg,
                place,
                &format!(
                    "SELECT data FROM {}.states WHERE name = '{workspace}' AND data IS NOT NULL",
                    quoted(place)
                ),
            ),
            Backend::Azurite(_) => self.object(&azurerm_state(place, workspace)),
            _ => self.object(&format!("{place}/{workspace}.tfstate")),
        }
    }

    fn state(&self, place: &str, workspace: &str) -> serde_json::Value {
        let text = self
            .state_text(place, workspace)
            .unwrap_or_else(|| panic!("no state of `{workspace}` at {place}"));
        serde_json::from_str(&text).expect("state JSON")
    }

    /// The lock body of `workspace` at `place`, if one is held (or left).
    fn lock(&self, place: &str, workspace: &str) -> Option<String> {
        match self {
            Backend::Postgres(pg) => pg_value(
                pg,
                place,
                &format!(
                    "SELECT body FROM {}.state_locks WHERE name = '{workspace}'",
                    quoted(place)
                ),
            ),
            Backend::Azurite(_) => {
                self.object(&format!("{}.gantry/lock", azurerm_state(place, workspace)))
            }
            // Read at once: a run must be caught while it holds the lock (wait_for_lock).
            Backend::Contract(fake) => {
                fake.object_now(BUCKET, &format!("{place}/{workspace}.tflock"))
            }
            _ => self.object(&format!("{place}/{workspace}.tflock")),
        }
    }

    /// Every lock and journal segment at `place`: none once every run is over.
    fn leftovers(&self, place: &str) -> Vec<String> {
        match self {
            Backend::Postgres(pg) => pg_value(
                pg,
                place,
                &format!(
                    "SELECT string_agg(k, ',') FROM (SELECT 'locks/' || name AS k FROM {s}.state_locks UNION ALL SELECT 'journal/' || name || '/' || seq FROM {s}.state_journal) t",
                    s = quoted(place)
                ),
            )
            .map(|v| v.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
            Backend::Azurite(az) => az
                .list(CONTAINER, &format!("{place}/"))
                .into_iter()
                .filter(|n| n.contains(".gantry/"))
                .collect(),
            _ => {
                let listed = self.python_json(&format!(
                    "[o['name'] for o in storage.objects().list(bucket={BUCKET:?}, prefix='{place}/').execute().get('items', [])]"
                ));
                let names: Vec<String> = serde_json::from_value(listed).expect("names");
                names.into_iter().filter(|n| !n.ends_with(".tfstate")).collect()
            }
        }
    }

    /// The workspaces with a state at `place`.
    fn workspaces(&self, place: &str) -> Vec<String> {
        match self {
            Backend::Postgres(pg) => pg_value(
                pg,
                place,
                &format!("SELECT string_agg(name, ',' ORDER BY name) FROM {}.states WHERE data IS NOT NULL", quoted(place)),
            )
            .map(|v| v.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
            Backend::Azurite(az) => {
                let key = azurerm_state(place, "default");
                let mut names: Vec<String> = az
                    .list(CONTAINER, &key)
                    .into_iter()
                    .filter_map(|n| match n.strip_prefix(&format!("{key}env:")) {
                        _ if n == key => Some("default".to_owned()),
                        Some(workspace) if !workspace.contains('/') => Some(workspace.to_owned()),
                        _ => None,
                    })
                    .collect();
                names.sort();
                names
            }
            _ => {
                let listed = self.python_json(&format!(
                    "sorted(o['name'] for o in storage.objects().list(bucket={BUCKET:?}, prefix='{place}/').execute().get('items', []) if o['name'].endswith('.tfstate'))"
                ));
                let names: Vec<String> = serde_json::from_value(listed).expect("names");
                names
                    .iter()
                    .filter_map(|n| n.strip_prefix(&format!("{place}/")))
                    .filter_map(|n| n.strip_suffix(".tfstate"))
                    .map(str::to_owned)
                    .collect()
            }
        }
    }

    /// The lock body once `run` holds it (a run that ended first fails the test, with
    /// its output).
    fn wait_for_lock(&self, place: &str, run: &mut Child) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(body) = self.lock(place, "default") {
                return serde_json::from_str(&body).expect("lock JSON");
            }
            if let Ok(Some(status)) = run.try_wait() {
                let mut out = String::new();
                if let Some(mut pipe) = run.stdout.take() {
                    let _ = pipe.read_to_string(&mut out);
                }
                if let Some(mut pipe) = run.stderr.take() {
                    let _ = pipe.read_to_string(&mut out);
                }
                panic!("the run ended ({status}) before it was seen holding the lock:\n{out}");
            }
            assert!(Instant::now() < deadline, "no run ever took the lock");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The state blob of `workspace` at `place` (Terraform's azurerm layout: `<key>` for
/// `default`, `<key>env:<workspace>` for the others).
fn azurerm_state(place: &str, workspace: &str) -> String {
    if workspace == "default" {
        format!("{place}/llm.tfstate")
    } else {
        format!("{place}/llm.tfstateenv:{workspace}")
    }
}

/// The pg schema of a place (`kill/3` -> `kill_3`).
fn schema(place: &str) -> String {
    place.replace('/', "_")
}

fn quoted(place: &str) -> String {
    format!("\"{}\"", schema(place))
}

/// One value read through psql; `None` when the schema (not yet made) or the row is not
/// there.
fn pg_value(pg: &Postgres, place: &str, sql: &str) -> Option<String> {
    let exists = pg.psql(&format!(
        "SELECT count(*) FROM information_schema.schemata WHERE schema_name = '{}'",
        schema(place)
    ));
    if exists != "1" {
        return None;
    }
    Some(pg.psql(sql)).filter(|v| !v.is_empty())
}

/// The stack's files: the backend at `place`, then `body`.
fn config(backend: Backend, place: &str, stale_after: u32, body: &str) -> String {
    format!("{}\n{body}", backend.block(place, stale_after))
}

/// `count` networks named `name-N`.
fn networks(name: &str, count: usize) -> String {
    format!(
        "resource \"google_compute_network\" \"n\" {{\n  count                   = {count}\n  name                    = \"{name}-${{count.index}}\"\n  auto_create_subnetworks = false\n}}\n"
    )
}

fn ok(run: &crate::support::cli::Run, what: &str) {
    assert_eq!(run.code, 0, "{what} failed:\n{}", run.both());
}

/// A stack directory with `hcl`, initialised for its backend.
fn machine<'f>(fake: &'f Fake, hcl: &str) -> Stack<'f> {
    let stack = fake.stack();
    stack.write(hcl);
    ok(&stack.gantry(&["init"]), "init");
    stack
}

fn spawn(stack: &Stack, args: &[&str]) -> Child {
    stack
        .command(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn gantry")
}

fn finish(child: Child) -> crate::support::cli::Run {
    child.wait_with_output().expect("wait for gantry").into()
}

fn send(signal: &str, child: &Child) {
    let status = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill {signal}");
}

/// The network names state records for `google_compute_network.n[*]`.
fn state_networks(state: &serde_json::Value) -> BTreeSet<String> {
    state["resources"]
        .as_object()
        .map(|r| {
            r.iter()
                .filter(|(addr, _)| addr.starts_with("google_compute_network.n"))
                .filter_map(|(_, r)| r["attributes"]["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The networks named `name-*` in the fake, read by Google's client.
fn cloud_networks(fake: &Fake, name: &str) -> BTreeSet<String> {
    let listed = fake.python_json(&format!(
        "[n['name'] for n in compute.networks().list(project=PROJECT).execute().get('items', []) if n['name'].startswith('{name}-')]"
    ));
    serde_json::from_value(listed).expect("names")
}

/// State round trip between two checkouts, workspaces apart, state push, workspace
/// delete, destroy to nothing.
fn round_trip(fake: &Fake, backend: Backend) {
    let place = "team/llm";
    let hcl = config(
        backend,
        place,
        2,
        "resource \"google_compute_network\" \"n\" {\n  name                    = \"ws-${terraform.workspace}-0\"\n  auto_create_subnetworks = false\n}\noutput \"network\" { value = google_compute_network.n.id }\n",
    );
    let a = fake.stack();
    a.write(&hcl);
    let init = a.gantry(&["init"]);
    ok(&init, "init");
    assert!(
        init.both().contains(&backend.location(place, "default")),
        "{}",
        init.both()
    );
    a.apply();
    // Only the state is left: the lock was released and the journal compacted away.
    assert_eq!(backend.leftovers(place), Vec::<String>::new());
    assert_eq!(backend.workspaces(place), vec!["default".to_owned()]);
    let default_state = backend.state(place, "default");
    assert_eq!(
        state_networks(&default_state),
        BTreeSet::from(["ws-default-0".to_owned()])
    );
    assert_eq!(
        cloud_networks(fake, "ws-default"),
        state_networks(&default_state)
    );
    assert!(
        !a.path().join(".gantry/state.json").exists(),
        "remote state must not be written as local state"
    );

    // Another machine: the same files, nothing else.
    let b = machine(fake, &hcl);
    b.assert_no_changes();
    let pulled = b.gantry(&["state", "pull"]);
    ok(&pulled, "state pull");
    let pulled: serde_json::Value = serde_json::from_str(&pulled.stdout).expect("pulled JSON");
    assert_eq!(pulled, default_state);
    let output = b.gantry(&["output", "network", "--raw"]);
    ok(&output, "output");
    assert_eq!(
        output.stdout.trim(),
        format!("projects/{PROJECT}/global/networks/ws-default-0")
    );

    // A workspace is its own state.
    ok(&a.gantry(&["workspace", "new", "staging"]), "workspace new");
    a.apply();
    let staging = backend.state(place, "staging");
    assert_eq!(
        state_networks(&staging),
        BTreeSet::from(["ws-staging-0".to_owned()])
    );
    assert_eq!(
        backend.state(place, "default"),
        default_state,
        "default state changed"
    );
    let listed = b.gantry(&["workspace", "list"]);
    ok(&listed, "workspace list");
    assert!(
        listed.stdout.contains("staging") && listed.stdout.contains("default"),
        "{}",
        listed.stdout
    );
    let plan = b.gantry_env(
        &["plan", "--detailed-exitcode"],
        &[("GANTRY_WORKSPACE", "staging")],
    );
    assert_eq!(plan.code, 0, "{}", plan.both());

    // state push through the backend; a workspace that still tracks something is not
    // deleted; destroy both workspaces to nothing.
    let file = a.path().join("staging.json");
    std::fs::write(&file, serde_json::to_vec(&staging).expect("json")).expect("write");
    ok(
        &a.gantry(&["state", "push", "--force", file.to_str().expect("utf-8")]),
        "state push",
    );
    assert!(backend.state(place, "staging")["serial"].as_u64() > staging["serial"].as_u64());
    let refused = b.gantry(&["workspace", "delete", "staging"]);
    assert_ne!(refused.code, 0, "{}", refused.both());
    assert!(
        refused.stderr.contains("still tracks 1 resource"),
        "{}",
        refused.both()
    );
    a.destroy();
    assert!(cloud_networks(fake, "ws-staging").is_empty());
    ok(
        &a.gantry(&["workspace", "select", "default"]),
        "workspace select",
    );
    ok(
        &a.gantry(&["workspace", "delete", "staging"]),
        "workspace delete",
    );
    assert_eq!(backend.workspaces(place), vec!["default".to_owned()]);
    a.destroy();
    assert!(cloud_networks(fake, "ws-default").is_empty());
    assert!(state_networks(&backend.state(place, "default")).is_empty());
    assert_eq!(backend.leftovers(place), Vec::<String>::new());
}

/// Two checkouts racing 20 times on one state: exactly one applies each time (the other
/// fails naming the holder, or waits with --lock-timeout), never a lost update.
fn racing(fake: &Fake, backend: Backend) {
    let place = "race";
    let a = machine(fake, &config(backend, place, 2, &networks("race", 0)));
    let b = machine(fake, &config(backend, place, 2, &networks("race", 0)));
    let mut conflicts = 0;
    let mut serial = 0;
    for race in 1..=20usize {
        // Both machines want one network more; only one may make it.
        let hcl = config(backend, place, 2, &networks("race", race));
        a.write(&hcl);
        b.write(&hcl);
        let waits = race % 2 == 0;
        let mut args = vec!["apply", "--auto-approve"];
        if waits {
            args.extend(["--lock-timeout", "60s"]);
        }
        let runs = {
            let (ra, rb) = (spawn(&a, &args), spawn(&b, &args));
            [finish(ra), finish(rb)]
        };
        for run in &runs {
            if run.code == 0 {
                continue;
            }
            assert!(
                !waits,
                "race {race}: a run waiting for the lock failed:\n{}",
                run.both()
            );
            assert!(
                run.stderr.contains(&format!(
                    "state is locked in {}",
                    backend.location(place, "default")
                )) && run.stderr.contains("held by")
                    && run.stderr.contains("for `apply`"),
                "race {race}: the loser must name the holder:\n{}",
                run.both()
            );
            conflicts += 1;
        }
        assert!(
            runs.iter().any(|r| r.code == 0),
            "race {race}: nobody applied:\n{}\n{}",
            runs[0].both(),
            runs[1].both()
        );
        let st = backend.state(place, "default");
        let in_state = state_networks(&st);
        assert_eq!(in_state.len(), race, "race {race}: state {in_state:?}");
        assert_eq!(
            cloud_networks(fake, "race"),
            in_state,
            "race {race}: a network was made twice or lost"
        );
        let now = st["serial"].as_u64().expect("serial");
        assert!(
            now > serial,
            "race {race}: serial went from {serial} to {now}"
        );
        serial = now;
    }
    assert!(
        conflicts > 0,
        "no race ever met a held lock: the test did not exercise locking"
    );
}

/// A runner SIGKILLed mid-apply, 10 times at different moments: the next apply, from
/// another checkout, recovers every pending create; nothing lost, nothing made twice.
fn killed(fake: &Fake, backend: Backend) {
    for trial in 0..10u64 {
        let place = format!("kill/{trial}");
        let name = format!("kill-{trial}");
        let hcl = config(backend, &place, 2, &networks(&name, 6));
        let a = machine(fake, &hcl);
        let delay = Duration::from_millis(300 + trial * 150);
        let mut child = spawn(&a, &["apply", "--auto-approve"]);
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        let when = format!("trial {trial} (killed after {delay:?})");

        let b = machine(fake, &hcl);
        let run = b.gantry(&["apply", "--auto-approve", "--lock-timeout", "60s"]);
        ok(&run, &format!("{when}: the next apply"));
        let in_state = state_networks(&backend.state(&place, "default"));
        assert_eq!(in_state.len(), 6, "{when}: {in_state:?}");
        assert_eq!(
            cloud_networks(fake, &name),
            in_state,
            "{when}: the cloud and state disagree"
        );
        assert_eq!(
            backend.leftovers(&place),
            Vec::<String>::new(),
            "{when}: a lock or journal segment was left"
        );
        b.destroy();
        assert!(
            cloud_networks(fake, &name).is_empty(),
            "{when}: destroy left networks"
        );
    }
}

/// A paused runner whose stale lock was taken over neither overwrites the newer state nor
/// releases its successor's lock when it wakes. (Needs a backend that fences deletes: not
/// the emulator, which ignores `ifGenerationMatch` on them.)
fn paused_and_fenced(fake: &Fake, backend: Backend) {
    let place = "paused";
    let a = machine(fake, &config(backend, place, 2, &networks("paused", 4)));
    let b = machine(fake, &config(backend, place, 2, &networks("paused", 4)));
    let mut child = spawn(&a, &["apply", "--auto-approve"]);
    backend.wait_for_lock(place, &mut child);
    send("-STOP", &child);
    assert!(
        matches!(child.try_wait(), Ok(None)),
        "the run ended before it was paused: the scenario needs it paused mid-apply"
    );
    // The paused holder's heartbeat stops: the other machine waits the stale period out,
    // takes the lock over and finishes the work.
    let run = b.gantry(&["apply", "--auto-approve", "--lock-timeout", "60s"]);
    ok(&run, "the apply that took the lock over");
    let newer = backend.state_text(place, "default").expect("state");
    assert!(
        backend.lock(place, "default").is_none(),
        "{:?}",
        backend.leftovers(place)
    );

    // A third run holds the lock when the paused one wakes.
    b.write(&config(backend, place, 60, &networks("paused", 5)));
    ok(&b.gantry(&["init"]), "init for the longer stale period");
    let mut third = spawn(&b, &["apply", "--auto-approve"]);
    let third_lock = backend.wait_for_lock(place, &mut third);
    send("-STOP", &third);

    send("-CONT", &child);
    let resumed = finish(child);
    assert_ne!(
        resumed.code,
        0,
        "the paused run must stop:\n{}",
        resumed.both()
    );
    assert!(
        resumed.stderr.contains("lost the state lock")
            || resumed.stderr.contains("refusing to overwrite the state"),
        "{}",
        resumed.both()
    );
    assert_eq!(
        backend.state_text(place, "default").expect("state"),
        newer,
        "the paused run overwrote the newer state"
    );
    let still: serde_json::Value = serde_json::from_str(
        &backend
            .lock(place, "default")
            .expect("the third run's lock was deleted"),
    )
    .expect("lock JSON");
    assert_eq!(still["id"], third_lock["id"], "the lock changed hands");

    send("-CONT", &third);
    ok(&finish(third), "the third run");
    let in_state = state_networks(&backend.state(place, "default"));
    assert_eq!(in_state.len(), 5);
    assert_eq!(cloud_networks(fake, "paused"), in_state);
    b.assert_no_changes();
    b.destroy();
    assert!(cloud_networks(fake, "paused").is_empty());
    assert_eq!(backend.leftovers(place), Vec::<String>::new());
}

/// A live lock is reported with its holder, plans go on, and force-unlock refuses it.
fn held(fake: &Fake, backend: Backend) {
    let place = "held";
    let hcl = config(backend, place, 60, &networks("held", 3));
    let a = machine(fake, &hcl);
    let b = machine(fake, &hcl);
    let mut child = spawn(&a, &["apply", "--auto-approve"]);
    let holder = backend.wait_for_lock(place, &mut child);
    send("-STOP", &child);
    for field in ["id", "who", "operation", "created", "heartbeat"] {
        assert!(
            holder[field].is_string(),
            "lock body lacks {field}: {holder}"
        );
    }
    let id = holder["id"].as_str().expect("id");
    if let Backend::Azurite(az) = backend {
        // The Blob service itself guards the lock: it is leased, not just written.
        let lock = format!("{}.gantry/lock", azurerm_state(place, "default"));
        assert_eq!(az.lease_state(CONTAINER, &lock), "leased");
    }
    // Plans take no lock.
    ok(&b.gantry(&["plan"]), "a plan during the apply");
    let refused = b.gantry(&["force-unlock", id]);
    assert_ne!(refused.code, 0, "{}", refused.both());
    assert!(
        refused.stderr.contains("refusing to force-unlock"),
        "{}",
        refused.both()
    );
    let blocked = b.gantry(&["apply", "--auto-approve"]);
    assert_ne!(blocked.code, 0, "{}", blocked.both());
    assert!(
        blocked.stderr.contains("last heartbeat") && blocked.stderr.contains(id),
        "{}",
        blocked.both()
    );
    send("-CONT", &child);
    ok(&finish(child), "the apply holding the lock");
    assert!(backend.lock(place, "default").is_none());
    b.destroy();
}

/// Local state moved into the backend and back, the old copy left as it was; encrypted
/// in the backend from the next write, read only with the key.
fn migrated_and_encrypted(fake: &Fake, backend: Backend) {
    let place = "migrated";
    let body = networks("migrated", 2);
    let stack = fake.stack();
    stack.write(&body);
    stack.apply();
    let local_state = std::fs::read(stack.path().join(".gantry/state.json")).expect("local state");

    // The backend block appears: without --migrate-state, init refuses to strand the state.
    stack.write(&config(backend, place, 2, &body));
    let refused = stack.gantry(&["init"]);
    assert_ne!(refused.code, 0, "{}", refused.both());
    assert!(
        refused.stderr.contains("--migrate-state"),
        "{}",
        refused.both()
    );
    assert!(backend.state_text(place, "default").is_none());
    ok(
        &stack.gantry(&["init", "--migrate-state"]),
        "init --migrate-state",
    );
    let remote = backend.state(place, "default");
    let local: serde_json::Value = serde_json::from_slice(&local_state).expect("json");
    assert_eq!(remote["lineage"], local["lineage"]);
    assert_eq!(state_networks(&remote), state_networks(&local));
    assert_eq!(
        std::fs::read(stack.path().join(".gantry/state.json")).expect("old state"),
        local_state,
        "the old state was changed"
    );
    stack.assert_no_changes();

    // Encrypted in the backend from the next write on (the plaintext state read through
    // the fallback): only a run with the key reads it.
    let encryption = "key_provider \"pbkdf2\" \"team\" {\n  passphrase = \"a team passphrase for CI\"\n  iterations = 200000\n}\nmethod \"aes_gcm\" \"team\" {\n  keys = key_provider.pbkdf2.team\n}\nmethod \"unencrypted\" \"plain\" {}\nstate {\n  method = method.aes_gcm.team\n  fallback {\n    method = method.unencrypted.plain\n  }\n}\n";
    let env = [("GANTRY_ENCRYPTION", encryption)];
    stack.write(&config(backend, place, 2, &networks("migrated", 3)));
    ok(
        &stack.gantry_env(&["apply", "--auto-approve"], &env),
        "encrypted apply",
    );
    let sealed = backend.state_text(place, "default").expect("state");
    assert!(sealed.starts_with("{\"gantry_encrypted\":1,"), "{sealed}");
    assert!(!sealed.contains("migrated-0"), "names in the clear");
    let without = stack.gantry(&["plan"]);
    assert_ne!(without.code, 0, "{}", without.both());
    assert!(
        without.stderr.contains("no encryption is configured"),
        "{}",
        without.both()
    );

    // Back to local state.
    stack.write(&networks("migrated", 3));
    ok(
        &stack.gantry_env(&["init", "--migrate-state"], &env),
        "init --migrate-state back",
    );
    let plan = stack.gantry_env(&["plan", "--detailed-exitcode"], &env);
    assert_eq!(plan.code, 0, "{}", plan.both());
    assert!(
        backend.state_text(place, "default").is_some(),
        "the old state was removed"
    );
    ok(
        &stack.gantry_env(&["destroy", "--auto-approve"], &env),
        "destroy",
    );
    assert!(cloud_networks(fake, "migrated").is_empty());
}

/// One test per scenario and backend, each with servers of its own.
macro_rules! scenarios {
    ($($module:ident: $start:expr;)*) => {$(
        mod $module {
            use super::*;

            fn servers(seconds: f64, run: fn(&Fake, Backend)) {
                let fake = Fake::start(seconds);
                #[allow(clippy::redundant_closure_call)]
                ($start)(&fake, run)
            }

            #[test]
            fn state_round_trips_between_machines_keeps_workspaces_apart_and_destroys() {
                servers(0.2, round_trip);
            }

            #[test]
            fn racing_applies_on_one_state_never_lose_an_update() {
                servers(0.05, racing);
            }

            #[test]
            fn a_runner_killed_mid_apply_loses_nothing_when_another_machine_applies() {
                servers(0.3, killed);
            }

            #[test]
            fn a_held_lock_is_reported_and_force_unlock_refuses_a_live_one() {
                servers(0.5, held);
            }

            #[test]
            fn state_migrates_from_local_and_back_and_an_encrypted_copy_needs_its_key() {
                servers(0.1, migrated_and_encrypted);
            }
        }
    )*};
}

scenarios! {
    gcs: |fake: &Fake, run: fn(&Fake, Backend)| {
        let emulator = Emulator::start();
        let backend = Backend::Emulator(&emulator);
        backend.make();
        run(fake, backend)
    };
    pg: |fake: &Fake, run: fn(&Fake, Backend)| {
        let pg = Postgres::start();
        run(fake, Backend::Postgres(&pg))
    };
    azurerm: |fake: &Fake, run: fn(&Fake, Backend)| {
        let azurite = Azurite::start();
        let backend = Backend::Azurite(&azurite);
        backend.make();
        run(fake, backend)
    };
}

/// Against the contract fake's Cloud Storage, which refuses a delete whose
/// `ifGenerationMatch` no longer holds (the emulator would delete anyway).
#[test]
fn a_paused_runner_whose_gcs_lock_was_taken_over_cannot_overwrite_state_or_release_the_new_lock() {
    // Operations long enough for each holder to be seen holding the lock (a read through
    // Google's client starts a Python each time).
    let fake = Fake::start(4.0);
    let backend = Backend::Contract(&fake);
    backend.make();
    paused_and_fenced(&fake, backend);
}

/// PostgreSQL: the takeover of a stale lock ends the paused holder's session, so it can
/// write nothing when it wakes.
#[test]
fn a_paused_runner_whose_pg_lock_was_taken_over_cannot_overwrite_state_or_release_the_new_lock() {
    let fake = Fake::start(2.0);
    let pg = Postgres::start();
    paused_and_fenced(&fake, Backend::Postgres(&pg));
}

/// `kms_encryption_key`: every object the backend writes (state, lock, journal segments) is
/// asked to be encrypted with that Cloud KMS key, as Terraform's gcs backend does; read back
/// through google-api-python-client from the contract fake's Cloud Storage, which keeps
/// each object's `kmsKeyName`.
#[test]
fn a_gcs_backend_with_a_kms_key_writes_every_object_under_it() {
    let fake = Fake::start(0.5);
    let backend = Backend::Contract(&fake);
    backend.make();
    let key = "projects/gantry-test/locations/global/keyRings/state/cryptoKeys/tfstate";
    let hcl = config(backend, "cmek", 60, &networks("cmek", 2)).replacen(
        "    prefix",
        &format!("    kms_encryption_key       = \"{key}\"\n    prefix"),
        1,
    );
    let stack = machine(&fake, &hcl);
    let mut run = spawn(&stack, &["apply", "--auto-approve"]);
    backend.wait_for_lock("cmek", &mut run);
    // Held still while the lock is read back.
    send("-STOP", &run);
    let lock_key = fake.python_json(&format!(
        "storage.objects().get(bucket={BUCKET:?}, object='cmek/default.tflock').execute().get('kmsKeyName')"
    ));
    send("-CONT", &run);
    ok(&finish(run), "apply");
    assert_eq!(lock_key, key, "the lock was written without the KMS key");
    let state_key = fake.python_json(&format!(
        "storage.objects().get(bucket={BUCKET:?}, object='cmek/default.tfstate').execute().get('kmsKeyName')"
    ));
    assert_eq!(state_key, key, "the state was written without the KMS key");
    stack.destroy();
}

#[test]
fn a_gcs_backend_the_stack_cannot_use_fails_init_clearly() {
    let fake = Fake::start(0.1);
    let emulator = Emulator::start();
    let backend = Backend::Emulator(&emulator);
    let stack = fake.stack();
    // No such bucket: gantry never creates its own state bucket.
    stack.write(&config(backend, "x", 2, &networks("x", 1)));
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr.contains("gs://gantry-state") && run.stderr.contains("no such bucket"),
        "{}",
        run.both()
    );
    assert!(cloud_networks(&fake, "x").is_empty());
    // Arguments Terraform's backend has that gantry will not quietly ignore.
    for (argument, says) in [
        (
            "encryption_key = \"c2VjcmV0\"",
            "encrypt state with gantry's `encryption` block",
        ),
        ("bukcet = \"typo\"", "unsupported argument `bukcet`"),
    ] {
        let hcl = config(backend, "x", 2, &networks("x", 1)).replacen(
            "    prefix",
            &format!("    {argument}\n    prefix"),
            1,
        );
        stack.write(&hcl);
        let run = stack.gantry(&["init"]);
        assert_ne!(run.code, 0, "{}", run.both());
        assert!(run.stderr.contains(says), "{argument}:\n{}", run.both());
    }
}

/// Azurite enforces `If-Match` on deletes and the lease on the lock blob: a paused holder
/// whose lock was taken over (once its heartbeat was stale and its lease lapsed) can
/// neither overwrite the newer state nor release its successor's lock.
#[test]
fn a_paused_runner_whose_azurerm_lock_was_taken_over_cannot_overwrite_state_or_release_the_new_lock(
) {
    let fake = Fake::start(2.0);
    let azurite = Azurite::start();
    let backend = Backend::Azurite(&azurite);
    backend.make();
    paused_and_fenced(&fake, backend);
}

/// A killed runner's lock blob stays leased after its heartbeat went stale: force-unlock
/// is refused until the lease lapses by itself (a finite term, never an infinite lease),
/// and a waiting apply takes the lock over then and recovers every pending create.
#[test]
fn an_azurerm_lock_outlives_its_killed_runner_only_until_its_lease_lapses() {
    let fake = Fake::start(2.0);
    let azurite = Azurite::start();
    let backend = Backend::Azurite(&azurite);
    backend.make();
    let place = "lease";
    let hcl = config(backend, place, 2, &networks("lease", 3));
    let a = machine(&fake, &hcl);
    let mut child = spawn(&a, &["apply", "--auto-approve"]);
    let holder = backend.wait_for_lock(place, &mut child);
    let id = holder["id"].as_str().expect("id").to_owned();
    let _ = child.kill();
    let _ = child.wait();
    let lock = format!("{}.gantry/lock", azurerm_state(place, "default"));
    assert_eq!(azurite.lease_state(CONTAINER, &lock), "leased");

    // Past the heartbeat's stale period (2 s), well inside the lease's 15 s.
    std::thread::sleep(Duration::from_secs(3));
    let b = machine(&fake, &hcl);
    let refused = b.gantry(&["force-unlock", &id]);
    assert_ne!(refused.code, 0, "{}", refused.both());
    assert!(
        refused.stderr.contains("lease is still held"),
        "{}",
        refused.both()
    );
    assert!(backend.lock(place, "default").is_some());

    let run = b.gantry(&["apply", "--auto-approve", "--lock-timeout", "60s"]);
    ok(&run, "the apply after the lease lapsed");
    let in_state = state_networks(&backend.state(place, "default"));
    assert_eq!(in_state.len(), 3, "{in_state:?}");
    assert_eq!(cloud_networks(&fake, "lease"), in_state);
    assert_eq!(backend.leftovers(place), Vec::<String>::new());
    b.destroy();
    assert!(cloud_networks(&fake, "lease").is_empty());
}

/// A SAS token instead of the account key; a container that does not exist, a wrong key,
/// no credentials at all, and arguments gantry will not quietly ignore: each fails init
/// with what to do.
#[test]
fn an_azurerm_backend_works_with_a_sas_and_one_the_stack_cannot_use_fails_init_clearly() {
    let fake = Fake::start(0.1);
    let azurite = Azurite::start();
    let backend = Backend::Azurite(&azurite);
    let stack = fake.stack();
    let hcl = config(backend, "x", 2, &networks("x", 1));

    stack.write(&hcl);
    let missing = stack.gantry(&["init"]);
    assert_ne!(missing.code, 0, "{}", missing.both());
    assert!(
        missing.stderr.contains("the container") && missing.stderr.contains("does not exist"),
        "{}",
        missing.both()
    );
    backend.make();

    let wrong_key = hcl.replace(&azurite.key, "d3Jvbmcga2V5IGZvciB0aGlzIGFjY291bnQ=");
    stack.write(&wrong_key);
    let refused = stack.gantry(&["init"]);
    assert_ne!(refused.code, 0, "{}", refused.both());
    assert!(
        refused.stderr.contains("cannot reach the container")
            && refused.stderr.contains("AuthorizationFailure")
            && !refused.both().contains("d3Jvbmcga2V5"),
        "{}",
        refused.both()
    );

    let sas = azurite.container_sas(CONTAINER);
    let with_sas = hcl.replace(
        &format!("access_key               = \"{}\"", azurite.key),
        &format!("sas_token                = \"{sas}\""),
    );
    assert_ne!(with_sas, hcl);
    stack.write(&with_sas);
    stack.apply();
    assert_eq!(
        state_networks(&backend.state("x", "default")),
        BTreeSet::from(["x-0".to_owned()])
    );
    let shown = stack.gantry(&["init"]);
    ok(&shown, "init");
    assert!(
        !shown.both().contains("sig="),
        "the SAS was printed:
{}",
        shown.both()
    );
    stack.destroy();
    assert!(cloud_networks(&fake, "x").is_empty());

    for (argument, says) in [
        ("snapshot = true", "turn on blob versioning"),
        (
            "contaner_name = \"typo\"",
            "unsupported argument `contaner_name`",
        ),
        ("use_azuread_auth = true", "sends only over https"),
    ] {
        let hcl = hcl.replacen(
            "    container_name",
            &format!("    {argument}\n    container_name"),
            1,
        );
        stack.write(&hcl);
        let run = stack.gantry(&["init"]);
        assert_ne!(run.code, 0, "{}", run.both());
        assert!(run.stderr.contains(says), "{argument}:\n{}", run.both());
    }
    let keyless = hcl.replace(
        &format!("    access_key               = \"{}\"\n", azurite.key),
        "",
    );
    assert_ne!(keyless, hcl);
    stack.write(&keyless);
    let run = stack.gantry_env(&["init"], &[("ARM_ACCESS_KEY", ""), ("ARM_SAS_TOKEN", "")]);
    assert_ne!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr.contains("needs a way into the storage account"),
        "{}",
        run.both()
    );
}

/// PostgreSQL releases a killed runner's advisory lock with its session: the next apply
/// proceeds at once, without waiting out the stale period. A server that does not answer
/// and an argument gantry does not know fail clearly.
#[test]
fn a_pg_lock_dies_with_its_runner_and_a_pg_backend_the_stack_cannot_use_fails_clearly() {
    let fake = Fake::start(1.0);
    let pg = Postgres::start();
    let backend = Backend::Postgres(&pg);
    let hcl = config(backend, "dies", 600, &networks("dies", 4));
    let a = machine(&fake, &hcl);
    let mut child = spawn(&a, &["apply", "--auto-approve"]);
    backend.wait_for_lock("dies", &mut child);
    let _ = child.kill();
    let _ = child.wait();
    // The row the dead run left still names it; its stale period is ten minutes.
    assert!(backend.lock("dies", "default").is_some());
    // Without --lock-timeout a held lock fails the apply at once: this one goes ahead.
    let b = machine(&fake, &hcl);
    ok(&b.gantry(&["apply", "--auto-approve"]), "the next apply");
    let in_state = state_networks(&backend.state("dies", "default"));
    assert_eq!(in_state.len(), 4);
    assert_eq!(cloud_networks(&fake, "dies"), in_state);
    assert_eq!(backend.leftovers("dies"), Vec::<String>::new());
    b.destroy();

    let stack = fake.stack();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port")
        .port();
    stack.write(&format!(
        "terraform {{\n  backend \"pg\" {{\n    conn_str = \"postgres://gantry:hunter2@127.0.0.1:{closed}/postgres\"\n  }}\n}}\n{}",
        networks("nowhere", 1)
    ));
    let run = stack.gantry(&["init"]);
    assert_ne!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr.contains(&format!(
            "cannot connect to pg://127.0.0.1:{closed}/postgres/terraform_remote_state"
        )),
        "{}",
        run.both()
    );
    assert!(
        !run.both().contains("hunter2"),
        "the password was printed:\n{}",
        run.both()
    );
    stack.write(&format!(
        "terraform {{\n  backend \"pg\" {{\n    conn_str = \"{}\"\n    table_name = \"x\"\n  }}\n}}\n",
        pg.url()
    ));
    let run = stack.gantry(&["init"]);
    assert_ne!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr.contains("unsupported argument `table_name`"),
        "{}",
        run.both()
    );
}

/// Over TLS the server's certificate is verified: trusted through `sslrootcert`, refused
/// without it, and a server that takes TLS only refuses a plain connection, each with a
/// clear error.
#[test]
fn a_pg_backend_over_tls_verifies_the_server_certificate() {
    let fake = Fake::start(0.1);
    let pg = Postgres::start_tls();
    let backend = Backend::Postgres(&pg);
    let with = |query: &str, body: &str| {
        format!(
            "terraform {{\n  backend \"pg\" {{\n    conn_str    = \"{}?{query}\"\n    schema_name = \"tls\"\n  }}\n}}\n{body}",
            pg.url()
        )
    };
    let stack = fake.stack();
    stack.write(&with(
        &format!("sslmode=verify-full&sslrootcert={}", pg.ca()),
        &networks("tls", 1),
    ));
    ok(&stack.gantry(&["init"]), "init over TLS");
    stack.apply();
    assert_eq!(
        state_networks(&backend.state("tls", "default")),
        BTreeSet::from(["tls-0".to_owned()])
    );
    stack.assert_no_changes();

    let other = fake.stack();
    other.write(&with("sslmode=require", &networks("tls", 1)));
    let untrusted = other.gantry(&["init"]);
    assert_ne!(untrusted.code, 0, "{}", untrusted.both());
    assert!(
        untrusted.stderr.contains("sslrootcert"),
        "{}",
        untrusted.both()
    );
    other.write(&with("sslmode=disable", &networks("tls", 1)));
    let plain = other.gantry(&["init"]);
    assert_ne!(plain.code, 0, "{}", plain.both());
    assert!(plain.stderr.contains("sslmode=require"), "{}", plain.both());

    stack.destroy();
    assert!(cloud_networks(&fake, "tls").is_empty());
}
