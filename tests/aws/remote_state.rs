//! `backend "s3"` against moto server: state, lock and journal in a bucket, read back through
//! the AWS SDK. Two stack directories with the same configuration stand in for two machines
//! (or two CI jobs) sharing one state.

use super::support::{block_on, finish, Moto, Run, Stack};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const BUCKET: &str = "gantry-state";

fn make_bucket(moto: &Moto) {
    let s3 = moto.s3();
    block_on(async { s3.create_bucket().bucket(BUCKET).send().await }).expect("CreateBucket");
}

/// A stack keeping its state under `key`, with a 2-second stale period so killed runners'
/// locks are taken over quickly.
fn config(moto: &Moto, key: &str, body: &str) -> String {
    config_stale_after(moto, key, 2, body)
}

fn config_stale_after(moto: &Moto, key: &str, stale_after: u32, body: &str) -> String {
    format!(
        "terraform {{\n  backend \"s3\" {{\n    bucket                   = \"{BUCKET}\"\n    key                      = \"{key}\"\n    region                   = \"us-east-1\"\n    use_path_style           = true\n    lock_stale_after_seconds = {stale_after}\n    endpoints {{\n      s3 = \"{}\"\n    }}\n  }}\n}}\n\n{body}",
        moto.url
    )
}

/// `count` VPCs named `name`.
fn vpcs(name: &str, count: usize) -> String {
    format!(
        "resource \"aws_vpc\" \"v\" {{\n  count      = {count}\n  cidr_block = \"10.${{count.index}}.0.0/16\"\n  tags       = {{ Name = \"{name}\" }}\n}}\n"
    )
}

fn ok(run: &Run, what: &str) {
    assert_eq!(run.code, 0, "{what} failed:\n{}", run.both());
}

/// A stack directory with `hcl`, initialised for its backend.
fn machine<'m>(moto: &'m Moto, hcl: &str) -> Stack<'m> {
    let stack = moto.stack();
    stack.write(hcl);
    ok(&stack.gantry(&["init"]), "init");
    stack
}

/// Every key in the bucket.
fn keys(moto: &Moto) -> Vec<String> {
    let s3 = moto.s3();
    block_on(async {
        let out = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .send()
            .await
            .expect("ListObjectsV2");
        out.contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect()
    })
}

/// An object's bytes, `None` if it does not exist.
fn object(moto: &Moto, key: &str) -> Option<Vec<u8>> {
    let s3 = moto.s3();
    block_on(async {
        match s3.get_object().bucket(BUCKET).key(key).send().await {
            Ok(out) => Some(
                out.body
                    .collect()
                    .await
                    .expect("body")
                    .into_bytes()
                    .to_vec(),
            ),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => None,
            Err(e) => panic!("GetObject {key}: {e:?}"),
        }
    })
}

/// Sends a signal (`-STOP`, `-CONT`) to a spawned run.
fn send(signal: &str, child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill {signal}");
}

/// The lock object of the state at `key` once a run has taken it.
fn wait_for_lock(moto: &Moto, key: &str) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(body) = object(moto, &format!("{key}.lock")) {
            return body;
        }
        assert!(Instant::now() < deadline, "the apply never took the lock");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The state under `key`, as JSON.
fn state(moto: &Moto, key: &str) -> serde_json::Value {
    let bytes = object(moto, key).unwrap_or_else(|| panic!("no state at {key}"));
    serde_json::from_slice(&bytes).expect("state JSON")
}

/// The VPC ids state records for `aws_vpc.v[*]`.
fn state_vpc_ids(state: &serde_json::Value) -> BTreeSet<String> {
    state["resources"]
        .as_object()
        .map(|r| {
            r.iter()
                .filter(|(addr, _)| addr.starts_with("aws_vpc.v"))
                .filter_map(|(_, r)| r["attributes"]["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The ids of the VPCs named `name` in moto.
fn moto_vpc_ids(moto: &Moto, name: &str) -> BTreeSet<String> {
    let ec2 = moto.ec2();
    block_on(async {
        let out = ec2
            .describe_vpcs()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("tag:Name")
                    .values(name)
                    .build(),
            )
            .send()
            .await
            .expect("DescribeVpcs");
        out.vpcs()
            .iter()
            .filter_map(|v| v.vpc_id().map(str::to_owned))
            .collect()
    })
}

#[test]
fn s3_state_round_trips_between_machines_keeps_workspaces_apart_and_destroys() {
    let moto = Moto::start();
    make_bucket(&moto);
    let key = "team/llm.tfstate";
    let hcl = config(
        &moto,
        key,
        "resource \"aws_vpc\" \"v\" {\n  cidr_block = \"10.0.0.0/16\"\n  tags       = { Name = \"ws-${terraform.workspace}\" }\n}\noutput \"vpc\" { value = aws_vpc.v.id }\n",
    );
    let a = moto.stack();
    a.write(&hcl);
    let init = a.gantry(&["init"]);
    ok(&init, "init");
    assert!(
        init.both().contains("s3://gantry-state/team/llm.tfstate"),
        "{}",
        init.both()
    );
    a.apply();
    // Only the state is left: the lock was released and the journal compacted away.
    assert_eq!(keys(&moto), vec![key.to_owned()]);
    let default_state = state(&moto, key);
    let vpc = default_state["resources"]["aws_vpc.v"]["attributes"]["id"]
        .as_str()
        .expect("vpc id in the bucket's state")
        .to_owned();
    assert_eq!(
        moto_vpc_ids(&moto, "ws-default"),
        BTreeSet::from([vpc.clone()])
    );
    assert!(
        !a.path().join(".gantry/state.json").exists(),
        "remote state must not be written as local state"
    );

    // Another machine: the same files, nothing else.
    let b = machine(&moto, &hcl);
    b.assert_no_changes();
    let pulled = b.gantry(&["state", "pull"]);
    ok(&pulled, "state pull");
    let pulled: serde_json::Value = serde_json::from_str(&pulled.stdout).expect("pulled JSON");
    assert_eq!(pulled, default_state);
    let output = b.gantry(&["output", "vpc", "--raw"]);
    ok(&output, "output");
    assert_eq!(output.stdout.trim(), vpc);

    // A workspace is its own state, at Terraform's key for it.
    ok(&a.gantry(&["workspace", "new", "staging"]), "workspace new");
    a.apply();
    let staging_key = format!("env:/staging/{key}");
    let staging = state(&moto, &staging_key);
    assert_eq!(state_vpc_ids(&staging).len(), 1);
    assert_eq!(moto_vpc_ids(&moto, "ws-staging").len(), 1);
    assert_eq!(state(&moto, key), default_state, "default state changed");
    // The other machine learns the workspace from the bucket.
    let listed = b.gantry(&["workspace", "list"]);
    ok(&listed, "workspace list");
    assert!(listed.stdout.contains("staging"), "{}", listed.stdout);
    let plan = b.gantry_env(
        &["plan", "--detailed-exitcode"],
        &[("GANTRY_WORKSPACE", "staging")],
    );
    assert_eq!(plan.code, 0, "{}", plan.both());
    let missing = b.gantry_env(&["plan"], &[("GANTRY_WORKSPACE", "nowhere")]);
    assert_ne!(missing.code, 0, "{}", missing.both());

    // state push through the backend, then destroy both workspaces to nothing.
    let file = a.path().join("staging.json");
    std::fs::write(&file, serde_json::to_vec(&staging).expect("json")).expect("write");
    let push = a.gantry(&["state", "push", "--force", file.to_str().expect("utf-8")]);
    ok(&push, "state push");
    assert!(state(&moto, &staging_key)["serial"].as_u64() > staging["serial"].as_u64());
    a.destroy();
    assert!(moto_vpc_ids(&moto, "ws-staging").is_empty());
    ok(
        &a.gantry(&["workspace", "select", "default"]),
        "workspace select",
    );
    a.destroy();
    assert!(moto_vpc_ids(&moto, "ws-default").is_empty());
    assert_eq!(state_vpc_ids(&state(&moto, key)).len(), 0);
    let left: Vec<String> = keys(&moto)
        .into_iter()
        .filter(|k| k.contains(".lock") || k.contains(".journal/"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn racing_applies_on_one_state_never_lose_an_update() {
    let moto = Moto::start();
    make_bucket(&moto);
    let key = "race.tfstate";
    let a = machine(&moto, &config(&moto, key, &vpcs("race", 0)));
    let b = machine(&moto, &config(&moto, key, &vpcs("race", 0)));
    let mut conflicts = 0;
    let mut serial = 0;
    for race in 1..=20usize {
        // Both machines want one VPC more; only one may make it.
        let hcl = config(&moto, key, &vpcs("race", race));
        a.write(&hcl);
        b.write(&hcl);
        let waits = race % 2 == 0;
        let mut args = vec!["apply", "--auto-approve"];
        if waits {
            args.extend(["--lock-timeout", "60s"]);
        }
        let (ra, rb) = (a.spawn(&args), b.spawn(&args));
        let runs = [finish(ra), finish(rb)];
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
                    .contains("state is locked in s3://gantry-state/race.tfstate")
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
        let st = state(&moto, key);
        let in_state = state_vpc_ids(&st);
        assert_eq!(in_state.len(), race, "race {race}: state {in_state:?}");
        assert_eq!(
            moto_vpc_ids(&moto, "race"),
            in_state,
            "race {race}: a VPC was made twice or lost"
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
fn a_runner_killed_mid_apply_loses_nothing_when_another_machine_applies() {
    let moto = Moto::start();
    make_bucket(&moto);
    for trial in 0..10u64 {
        let key = format!("kill/{trial}.tfstate");
        let name = format!("kill-{trial}");
        let hcl = config(&moto, &key, &vpcs(&name, 6));
        let a = machine(&moto, &hcl);
        let delay = Duration::from_millis(200 + trial * 150);
        let mut child = a.spawn(&["apply", "--auto-approve"]);
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        let when = format!("trial {trial} (killed after {delay:?})");

        let b = machine(&moto, &hcl);
        let started = Instant::now();
        let run = b.gantry(&["apply", "--auto-approve", "--lock-timeout", "60s"]);
        ok(&run, &format!("{when}: the next apply"));
        let st = state(&moto, &key);
        let in_state = state_vpc_ids(&st);
        assert_eq!(in_state.len(), 6, "{when}: {in_state:?}");
        assert_eq!(
            moto_vpc_ids(&moto, &name),
            in_state,
            "{when}: moto and state disagree (took {:?})",
            started.elapsed()
        );
        assert_eq!(
            keys(&moto).iter().filter(|k| k.starts_with(&key)).count(),
            1
        );
        b.destroy();
        assert!(
            moto_vpc_ids(&moto, &name).is_empty(),
            "{when}: destroy left VPCs"
        );
    }
}

#[test]
fn a_paused_runner_whose_lock_was_taken_over_cannot_overwrite_the_newer_state() {
    let moto = Moto::start();
    make_bucket(&moto);
    let key = "paused.tfstate";
    let hcl = config(&moto, key, &vpcs("paused", 4));
    let a = machine(&moto, &hcl);
    let b = machine(&moto, &hcl);
    let child = a.spawn(&["apply", "--auto-approve"]);
    wait_for_lock(&moto, key);
    let signal = |sig: &str| send(sig, &child);
    signal("-STOP");
    // The paused holder's heartbeat stops: the other machine waits the stale period out,
    // takes the lock over and finishes the work.
    let run = b.gantry(&["apply", "--auto-approve", "--lock-timeout", "60s"]);
    ok(&run, "the apply that took the lock over");
    let newer = object(&moto, key).expect("state");
    signal("-CONT");
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
        object(&moto, key).expect("state"),
        newer,
        "the paused run overwrote the newer state"
    );
    let in_state = state_vpc_ids(&serde_json::from_slice(&newer).expect("json"));
    assert_eq!(in_state.len(), 4);
    assert_eq!(moto_vpc_ids(&moto, "paused"), in_state);
    b.assert_no_changes();
    b.destroy();
}

#[test]
fn a_held_lock_is_reported_and_force_unlock_refuses_a_live_one() {
    let moto = Moto::start();
    make_bucket(&moto);
    let key = "held.tfstate";
    let hcl = config_stale_after(&moto, key, 60, &vpcs("held", 3));
    let a = machine(&moto, &hcl);
    let b = machine(&moto, &hcl);
    let child = a.spawn(&["apply", "--auto-approve"]);
    let lock = format!("{key}.lock");
    let body = wait_for_lock(&moto, key);
    // Held still (as a slow apply would be) while the other machine looks.
    send("-STOP", &child);
    let holder: serde_json::Value = serde_json::from_slice(&body).expect("lock JSON");
    for field in ["id", "who", "operation", "created", "heartbeat"] {
        assert!(
            holder[field].is_string(),
            "lock body lacks {field}: {holder}"
        );
    }
    let id = holder["id"].as_str().expect("id");
    // Plans take no lock.
    let plan = b.gantry(&["plan"]);
    ok(&plan, "a plan during the apply");
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
    assert!(object(&moto, &lock).is_none(), "the lock was not released");
    b.destroy();
}

#[test]
fn state_migrates_from_local_to_s3_and_back_and_the_old_state_stays() {
    let moto = Moto::start();
    make_bucket(&moto);
    let key = "migrated.tfstate";
    let body = vpcs("migrated", 2);
    let stack = moto.stack();
    stack.write(&body);
    stack.apply();
    let local_state = std::fs::read(stack.path().join(".gantry/state.json")).expect("local state");

    // The backend block appears: without --migrate-state, init refuses to strand the state.
    stack.write(&config(&moto, key, &body));
    let refused = stack.gantry(&["init"]);
    assert_ne!(refused.code, 0, "{}", refused.both());
    assert!(
        refused.stderr.contains("--migrate-state"),
        "{}",
        refused.both()
    );
    assert!(object(&moto, key).is_none());
    let migrated = stack.gantry(&["init", "--migrate-state"]);
    ok(&migrated, "init --migrate-state");
    let remote = state(&moto, key);
    let local: serde_json::Value = serde_json::from_slice(&local_state).expect("json");
    assert_eq!(remote["lineage"], local["lineage"]);
    assert_eq!(state_vpc_ids(&remote), state_vpc_ids(&local));
    assert_eq!(
        std::fs::read(stack.path().join(".gantry/state.json")).expect("old state"),
        local_state,
        "the old state was changed"
    );
    stack.assert_no_changes();

    // An apply against the bucket, then back to local state.
    stack.write(&config(&moto, key, &vpcs("migrated", 3)));
    stack.apply();
    stack.write(&vpcs("migrated", 3));
    ok(
        &stack.gantry(&["init", "--migrate-state"]),
        "init --migrate-state back",
    );
    let back: serde_json::Value = serde_json::from_slice(
        &std::fs::read(stack.path().join(".gantry/state.json")).expect("local state"),
    )
    .expect("json");
    assert_eq!(state_vpc_ids(&back).len(), 3);
    assert_eq!(state_vpc_ids(&back), moto_vpc_ids(&moto, "migrated"));
    assert!(
        object(&moto, key).is_some(),
        "the old (remote) state was removed"
    );
    stack.assert_no_changes();
    stack.destroy();
}

#[test]
fn a_saved_plan_is_refused_once_another_machine_changed_the_state() {
    let moto = Moto::start();
    make_bucket(&moto);
    let key = "planned.tfstate";
    let a = machine(&moto, &config(&moto, key, &vpcs("planned", 1)));
    let b = machine(&moto, &config(&moto, key, &vpcs("planned", 1)));
    ok(&a.gantry(&["plan", "--out", "tfplan"]), "plan --out");
    b.apply();
    let stale = a.gantry(&["apply", "tfplan"]);
    assert_ne!(stale.code, 0, "{}", stale.both());
    assert!(
        stale.stderr.contains("the saved plan is stale"),
        "{}",
        stale.both()
    );
    assert_eq!(
        moto_vpc_ids(&moto, "planned").len(),
        1,
        "the stale plan created a VPC"
    );
    b.destroy();
}

#[test]
fn encrypted_state_in_the_bucket_is_read_only_with_the_key() {
    let moto = Moto::start();
    make_bucket(&moto);
    let key = "sealed.tfstate";
    let encryption = "key_provider \"pbkdf2\" \"team\" {\n  passphrase = \"a team passphrase for CI\"\n  iterations = 200000\n}\nmethod \"aes_gcm\" \"team\" {\n  keys = key_provider.pbkdf2.team\n}\nstate {\n  method   = method.aes_gcm.team\n  enforced = true\n}\n";
    let env = [("GANTRY_ENCRYPTION", encryption)];
    let hcl = config(&moto, key, &vpcs("sealed", 2));
    let a = machine(&moto, &hcl);
    ok(
        &a.gantry_env(&["apply", "--auto-approve"], &env),
        "encrypted apply",
    );
    let stored = object(&moto, key).expect("state");
    let text = String::from_utf8_lossy(&stored);
    assert!(text.starts_with("{\"gantry_encrypted\":1,"), "{text}");
    for id in moto_vpc_ids(&moto, "sealed") {
        assert!(!text.contains(&id), "the bucket holds {id} in the clear");
    }
    let b = machine(&moto, &hcl);
    let plan = b.gantry_env(&["plan", "--detailed-exitcode"], &env);
    assert_eq!(plan.code, 0, "{}", plan.both());
    let refused = b.gantry(&["plan"]);
    assert_ne!(refused.code, 0, "{}", refused.both());
    assert!(
        refused.stderr.contains("no encryption is configured"),
        "{}",
        refused.both()
    );
    ok(
        &b.gantry_env(&["destroy", "--auto-approve"], &env),
        "encrypted destroy",
    );
    assert!(moto_vpc_ids(&moto, "sealed").is_empty());
}

#[test]
fn state_sealed_with_a_kms_data_key_reads_back_and_fails_clearly_without_the_key() {
    let moto = Moto::start();
    let key_id = moto.boto3("print(client('kms').create_key()['KeyMetadata']['KeyId'])");
    let stack = moto.stack();
    stack.write(&format!(
        "terraform {{\n  encryption {{\n    key_provider \"aws_kms\" \"k\" {{\n      kms_key_id = \"{key_id}\"\n    }}\n    method \"aes_gcm\" \"k\" {{\n      keys = key_provider.aws_kms.k\n    }}\n    state {{\n      method   = method.aes_gcm.k\n      enforced = true\n    }}\n  }}\n}}\n\n{}",
        vpcs("kms", 2)
    ));
    stack.apply();
    let path = stack.path().join(".gantry/state.json");
    let sealed = std::fs::read(&path).expect("state");
    let envelope: serde_json::Value = serde_json::from_slice(&sealed).expect("envelope");
    assert_eq!(envelope["key_provider"], "aws_kms.k");
    let text = String::from_utf8_lossy(&sealed);
    for id in moto_vpc_ids(&moto, "kms") {
        assert!(!text.contains(&id), "{id} in the clear");
    }
    stack.assert_no_changes();
    // KMS refuses to decrypt the data key (as it does for a disabled key; moto does not
    // check key states, so the launcher answers for it): a clear error, the file as it was.
    moto.set_faults(&serde_json::json!({"errors": [{
        "action": "Decrypt", "count": 10, "code": "DisabledException",
        "message": format!("arn:aws:kms:us-east-1:123456789012:key/{key_id} is disabled."),
    }]}));
    let refused = stack.gantry(&["plan"]);
    assert_ne!(refused.code, 0, "{}", refused.both());
    assert!(
        refused.stderr.contains("Decrypt") && refused.stderr.contains("is disabled"),
        "{}",
        refused.both()
    );
    assert_eq!(std::fs::read(&path).expect("state"), sealed);
    moto.set_faults(&serde_json::json!({}));
    stack.destroy();
    assert!(moto_vpc_ids(&moto, "kms").is_empty());
}
