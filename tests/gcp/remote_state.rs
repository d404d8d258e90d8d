//! `backend "gcs"`: state, lock and journal in a Cloud Storage bucket. The state bucket is
//! fake-gcs-server (the Cloud Storage emulator), except where a test needs conditional
//! deletes, which the emulator ignores: there it is the contract fake's Cloud Storage
//! JSON API, which honours every documented precondition. The resources are VPC networks
//! on the contract fake. What is in the bucket is read back through
//! google-api-python-client's `storage` v1 client. Two stack directories with the same
//! files stand in for two machines (or two CI jobs) sharing one state.

use crate::gcs_emulator::Emulator;
use crate::support::{Fake, Stack, PROJECT};
use std::collections::BTreeSet;
use std::io::Read;
use std::process::Child;
use std::time::{Duration, Instant};

const BUCKET: &str = "gantry-state";

/// Where the state bucket is: the emulator, or the contract fake's JSON API.
#[derive(Clone, Copy)]
enum StateBucket<'a> {
    Emulator(&'a Emulator),
    Contract(&'a Fake),
}

impl StateBucket<'_> {
    /// `storage_custom_endpoint` for the backend block.
    fn endpoint(&self) -> String {
        match self {
            StateBucket::Emulator(e) => format!("{}/storage/v1/", e.base()),
            StateBucket::Contract(f) => format!("{}/storage/storage/v1/", f.base()),
        }
    }

    /// Runs Python with `storage` (Google's client on this bucket's server) ready.
    fn python_json(&self, expression: &str) -> serde_json::Value {
        match self {
            StateBucket::Emulator(e) => e.python_json(expression),
            StateBucket::Contract(f) => f.python_json(expression),
        }
    }

    fn make(&self) {
        self.python_json(&format!(
            "storage.buckets().insert(project=PROJECT, body={{'name': {BUCKET:?}}}).execute()['name']"
        ));
    }

    /// Every object name in the bucket.
    fn keys(&self) -> Vec<String> {
        let listed = self.python_json(&format!(
            "[o['name'] for o in storage.objects().list(bucket={BUCKET:?}).execute().get('items', [])]"
        ));
        serde_json::from_value(listed).expect("names")
    }

    /// An object's bytes (as text), `None` if there is none.
    fn object(&self, key: &str) -> Option<String> {
        let got = self.python_json(&format!(
            "next((storage.objects().get_media(bucket={BUCKET:?}, object={key:?}).execute().decode() for o in storage.objects().list(bucket={BUCKET:?}, prefix={key:?}).execute().get('items', []) if o['name'] == {key:?}), None)"
        ));
        got.as_str().map(str::to_owned)
    }

    fn state(&self, key: &str) -> serde_json::Value {
        let text = self
            .object(key)
            .unwrap_or_else(|| panic!("no state at {key}"));
        serde_json::from_str(&text).expect("state JSON")
    }

    /// The lock body once `run` holds it (a run that ended first fails the test, with
    /// its output).
    fn wait_for_lock(&self, key: &str, run: &mut Child) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(body) = self.object(key) {
                return serde_json::from_str(&body).expect("lock JSON");
            }
            if let Ok(Some(status)) = run.try_wait() {
                let mut out = String::new();
                for pipe in [
                    run.stdout
                        .take()
                        .map(|p| Box::new(p) as Box<dyn std::io::Read>),
                    run.stderr
                        .take()
                        .map(|p| Box::new(p) as Box<dyn std::io::Read>),
                ]
                .into_iter()
                .flatten()
                {
                    let mut pipe = pipe;
                    let _ = pipe.read_to_string(&mut out);
                }
                panic!("the run ended ({status}) before it was seen holding the lock:\n{out}");
            }
            assert!(Instant::now() < deadline, "no run ever took the lock");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The stack's files: a gcs backend at `prefix` (2-second stale period unless said), then
/// `body`.
fn config(bucket: StateBucket, prefix: &str, stale_after: u32, body: &str) -> String {
    format!(
        "terraform {{\n  backend \"gcs\" {{\n    bucket                   = \"{BUCKET}\"\n    prefix                   = \"{prefix}\"\n    access_token             = \"fake-token\"\n    storage_custom_endpoint  = \"{}\"\n    lock_stale_after_seconds = {stale_after}\n  }}\n}}\n\n{body}",
        bucket.endpoint()
    )
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

#[test]
fn gcs_state_round_trips_between_machines_keeps_workspaces_apart_and_destroys() {
    let fake = Fake::start(0.2);
    let emulator = Emulator::start();
    let bucket = StateBucket::Emulator(&emulator);
    bucket.make();
    let hcl = config(
        bucket,
        "team/llm",
        2,
        "resource \"google_compute_network\" \"n\" {\n  name                    = \"ws-${terraform.workspace}-0\"\n  auto_create_subnetworks = false\n}\noutput \"network\" { value = google_compute_network.n.id }\n",
    );
    let a = fake.stack();
    a.write(&hcl);
    let init = a.gantry(&["init"]);
    ok(&init, "init");
    assert!(
        init.both()
            .contains("gs://gantry-state/team/llm/default.tfstate"),
        "{}",
        init.both()
    );
    a.apply();
    // Only the state is left, at Terraform's object name: the lock was released and the
    // journal compacted away.
    let key = "team/llm/default.tfstate";
    assert_eq!(bucket.keys(), vec![key.to_owned()]);
    let default_state = bucket.state(key);
    assert_eq!(
        state_networks(&default_state),
        BTreeSet::from(["ws-default-0".to_owned()])
    );
    assert_eq!(
        cloud_networks(&fake, "ws-default"),
        state_networks(&default_state)
    );
    assert!(
        !a.path().join(".gantry/state.json").exists(),
        "remote state must not be written as local state"
    );

    // Another machine: the same files, nothing else.
    let b = machine(&fake, &hcl);
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

    // A workspace is its own state, at Terraform's name for it.
    ok(&a.gantry(&["workspace", "new", "staging"]), "workspace new");
    a.apply();
    let staging_key = "team/llm/staging.tfstate";
    let staging = bucket.state(staging_key);
    assert_eq!(
        state_networks(&staging),
        BTreeSet::from(["ws-staging-0".to_owned()])
    );
    assert_eq!(bucket.state(key), default_state, "default state changed");
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

    // state push through the backend, then destroy both workspaces to nothing.
    let file = a.path().join("staging.json");
    std::fs::write(&file, serde_json::to_vec(&staging).expect("json")).expect("write");
    ok(
        &a.gantry(&["state", "push", "--force", file.to_str().expect("utf-8")]),
        "state push",
    );
    assert!(bucket.state(staging_key)["serial"].as_u64() > staging["serial"].as_u64());
    a.destroy();
    assert!(cloud_networks(&fake, "ws-staging").is_empty());
    ok(
        &a.gantry(&["workspace", "select", "default"]),
        "workspace select",
    );
    ok(
        &a.gantry(&["workspace", "delete", "staging"]),
        "workspace delete",
    );
    assert!(bucket.object(staging_key).is_none(), "{:?}", bucket.keys());
    a.destroy();
    assert!(cloud_networks(&fake, "ws-default").is_empty());
    assert!(state_networks(&bucket.state(key)).is_empty());
    assert_eq!(bucket.keys(), vec![key.to_owned()]);
}

#[test]
fn racing_applies_on_one_gcs_state_never_lose_an_update() {
    let fake = Fake::start(0.05);
    let emulator = Emulator::start();
    let bucket = StateBucket::Emulator(&emulator);
    bucket.make();
    let key = "race/default.tfstate";
    let a = machine(&fake, &config(bucket, "race", 2, &networks("race", 0)));
    let b = machine(&fake, &config(bucket, "race", 2, &networks("race", 0)));
    let mut conflicts = 0;
    let mut serial = 0;
    for race in 1..=20usize {
        // Both machines want one network more; only one may make it.
        let hcl = config(bucket, "race", 2, &networks("race", race));
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
                run.stderr
                    .contains("state is locked in gs://gantry-state/race/default.tfstate")
                    && run.stderr.contains("held by")
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
        let st = bucket.state(key);
        let in_state = state_networks(&st);
        assert_eq!(in_state.len(), race, "race {race}: state {in_state:?}");
        assert_eq!(
            cloud_networks(&fake, "race"),
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

#[test]
fn a_runner_killed_mid_apply_on_gcs_state_loses_nothing_when_another_machine_applies() {
    let fake = Fake::start(0.3);
    let emulator = Emulator::start();
    let bucket = StateBucket::Emulator(&emulator);
    bucket.make();
    for trial in 0..10u64 {
        let prefix = format!("kill/{trial}");
        let key = format!("{prefix}/default.tfstate");
        let name = format!("kill-{trial}");
        let hcl = config(bucket, &prefix, 2, &networks(&name, 6));
        let a = machine(&fake, &hcl);
        let delay = Duration::from_millis(300 + trial * 150);
        let mut child = spawn(&a, &["apply", "--auto-approve"]);
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        let when = format!("trial {trial} (killed after {delay:?})");

        let b = machine(&fake, &hcl);
        let run = b.gantry(&["apply", "--auto-approve", "--lock-timeout", "60s"]);
        ok(&run, &format!("{when}: the next apply"));
        let in_state = state_networks(&bucket.state(&key));
        assert_eq!(in_state.len(), 6, "{when}: {in_state:?}");
        assert_eq!(
            cloud_networks(&fake, &name),
            in_state,
            "{when}: the cloud and state disagree"
        );
        assert_eq!(
            bucket
                .keys()
                .iter()
                .filter(|k| k.starts_with(&format!("{prefix}/")))
                .collect::<Vec<_>>(),
            vec![&key],
            "{when}: a lock or journal segment was left"
        );
        b.destroy();
        assert!(
            cloud_networks(&fake, &name).is_empty(),
            "{when}: destroy left networks"
        );
    }
}

/// Against the contract fake's Cloud Storage, which refuses a delete whose
/// `ifGenerationMatch` no longer holds (the emulator would delete anyway): a run that lost
/// its lock neither overwrites the newer state nor releases its successor's lock.
#[test]
fn a_paused_runner_whose_gcs_lock_was_taken_over_cannot_overwrite_state_or_release_the_new_lock() {
    // Operations long enough for each holder to be seen holding the lock (a read through
    // Google's client starts a Python each time).
    let fake = Fake::start(4.0);
    let bucket = StateBucket::Contract(&fake);
    bucket.make();
    let prefix = "paused";
    let key = "paused/default.tfstate";
    let lock = "paused/default.tflock";
    let a = machine(&fake, &config(bucket, prefix, 2, &networks("paused", 4)));
    let b = machine(&fake, &config(bucket, prefix, 2, &networks("paused", 4)));
    let mut child = spawn(&a, &["apply", "--auto-approve"]);
    bucket.wait_for_lock(lock, &mut child);
    send("-STOP", &child);
    // The paused holder's heartbeat stops: the other machine waits the stale period out,
    // takes the lock over and finishes the work.
    let run = b.gantry(&["apply", "--auto-approve", "--lock-timeout", "60s"]);
    ok(&run, "the apply that took the lock over");
    let newer = bucket.object(key).expect("state");
    assert!(bucket.object(lock).is_none(), "{:?}", bucket.keys());

    // A third run holds the lock when the paused one wakes.
    b.write(&config(bucket, prefix, 60, &networks("paused", 5)));
    ok(&b.gantry(&["init"]), "init for the longer stale period");
    let mut third = spawn(&b, &["apply", "--auto-approve"]);
    let third_lock = bucket.wait_for_lock(lock, &mut third);
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
        bucket.object(key).expect("state"),
        newer,
        "the paused run overwrote the newer state"
    );
    let still: serde_json::Value = serde_json::from_str(
        &bucket
            .object(lock)
            .expect("the third run's lock was deleted"),
    )
    .expect("lock JSON");
    assert_eq!(still["id"], third_lock["id"], "the lock changed hands");

    send("-CONT", &third);
    ok(&finish(third), "the third run");
    let in_state = state_networks(&bucket.state(key));
    assert_eq!(in_state.len(), 5);
    assert_eq!(cloud_networks(&fake, "paused"), in_state);
    b.assert_no_changes();
    b.destroy();
    assert!(cloud_networks(&fake, "paused").is_empty());
    assert_eq!(bucket.keys(), vec![key.to_owned()]);
}

#[test]
fn a_held_gcs_lock_is_reported_and_force_unlock_refuses_a_live_one() {
    let fake = Fake::start(0.5);
    let emulator = Emulator::start();
    let bucket = StateBucket::Emulator(&emulator);
    bucket.make();
    let hcl = config(bucket, "held", 60, &networks("held", 3));
    let a = machine(&fake, &hcl);
    let b = machine(&fake, &hcl);
    let mut child = spawn(&a, &["apply", "--auto-approve"]);
    let holder = bucket.wait_for_lock("held/default.tflock", &mut child);
    send("-STOP", &child);
    for field in ["id", "who", "operation", "created", "heartbeat"] {
        assert!(
            holder[field].is_string(),
            "lock body lacks {field}: {holder}"
        );
    }
    let id = holder["id"].as_str().expect("id");
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
    assert!(bucket.object("held/default.tflock").is_none());
    b.destroy();
}

#[test]
fn state_migrates_from_local_to_gcs_and_back_and_an_encrypted_copy_needs_its_key() {
    let fake = Fake::start(0.1);
    let emulator = Emulator::start();
    let bucket = StateBucket::Emulator(&emulator);
    bucket.make();
    let key = "migrated/default.tfstate";
    let body = networks("migrated", 2);
    let stack = fake.stack();
    stack.write(&body);
    stack.apply();
    let local_state = std::fs::read(stack.path().join(".gantry/state.json")).expect("local state");

    // The backend block appears: without --migrate-state, init refuses to strand the state.
    stack.write(&config(bucket, "migrated", 2, &body));
    let refused = stack.gantry(&["init"]);
    assert_ne!(refused.code, 0, "{}", refused.both());
    assert!(
        refused.stderr.contains("--migrate-state"),
        "{}",
        refused.both()
    );
    assert!(bucket.object(key).is_none());
    ok(
        &stack.gantry(&["init", "--migrate-state"]),
        "init --migrate-state",
    );
    let remote = bucket.state(key);
    let local: serde_json::Value = serde_json::from_slice(&local_state).expect("json");
    assert_eq!(remote["lineage"], local["lineage"]);
    assert_eq!(state_networks(&remote), state_networks(&local));
    assert_eq!(
        std::fs::read(stack.path().join(".gantry/state.json")).expect("old state"),
        local_state,
        "the old state was changed"
    );
    stack.assert_no_changes();

    // Encrypted in the bucket from the next write on (the plaintext state read through the
    // fallback): only a run with the key reads it.
    let encryption = "key_provider \"pbkdf2\" \"team\" {\n  passphrase = \"a team passphrase for CI\"\n  iterations = 200000\n}\nmethod \"aes_gcm\" \"team\" {\n  keys = key_provider.pbkdf2.team\n}\nmethod \"unencrypted\" \"plain\" {}\nstate {\n  method = method.aes_gcm.team\n  fallback {\n    method = method.unencrypted.plain\n  }\n}\n";
    let env = [("GANTRY_ENCRYPTION", encryption)];
    stack.write(&config(bucket, "migrated", 2, &networks("migrated", 3)));
    ok(
        &stack.gantry_env(&["apply", "--auto-approve"], &env),
        "encrypted apply",
    );
    let sealed = bucket.object(key).expect("state");
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
    assert!(bucket.object(key).is_some(), "the old state was removed");
    ok(
        &stack.gantry_env(&["destroy", "--auto-approve"], &env),
        "destroy",
    );
    assert!(cloud_networks(&fake, "migrated").is_empty());
}

#[test]
fn a_gcs_backend_the_stack_cannot_use_fails_init_clearly() {
    let fake = Fake::start(0.1);
    let emulator = Emulator::start();
    let bucket = StateBucket::Emulator(&emulator);
    let stack = fake.stack();
    // No such bucket: gantry never creates its own state bucket.
    stack.write(&config(bucket, "x", 2, &networks("x", 1)));
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
        let hcl = config(bucket, "x", 2, &networks("x", 1)).replacen(
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
