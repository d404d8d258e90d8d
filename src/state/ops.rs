//! The library side of `gantry state list|show|rm|mv|pull|push`: pure functions over a
//! [`State`]. The CLI reads the state through a [`StateLock`](super::StateLock), calls these,
//! and writes the result back with [`StateLock::write_state`](super::StateLock::write_state).
//!
//! Addresses are matched as strings in the canonical form gantry writes
//! (`module.gpu["a"].aws_instance.node[0]`). A *prefix* matches itself and everything inside
//! it: `module.gpu` matches `module.gpu["a"].aws_vpc.x` but not `module.gpus.x`, and
//! `aws_vpc.a` matches `aws_vpc.a[0]`.

use super::error::StateError;
use super::model::{ResourceState, State, FORMAT_VERSION};
use crate::addrs::parse_resource_instance;

/// Whether `address` is `prefix` itself or inside it (`prefix` then `.` or `[`).
pub fn matches_prefix(address: &str, prefix: &str) -> bool {
    address
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

/// The addresses in state, sorted; with a filter, only those inside that prefix.
pub fn list(state: &State, filter: Option<&str>) -> Vec<String> {
    state
        .resources
        .keys()
        .filter(|a| filter.is_none_or(|f| matches_prefix(a, f)))
        .cloned()
        .collect()
}

/// One resource instance, for `state show` (the CLI renders it and redacts sensitive paths).
pub fn show<'a>(state: &'a State, address: &str) -> Option<&'a ResourceState> {
    state.resources.get(address)
}

/// Removes resources from state (the cloud objects are left alone). Each address is an
/// instance, or a prefix that removes every instance inside it (`aws_vpc.a` removes
/// `aws_vpc.a[0]`, `aws_vpc.a[1]`). If any address matches nothing, nothing is removed.
/// Returns the removed addresses, sorted.
pub fn rm<S: AsRef<str>>(state: &mut State, addresses: &[S]) -> Result<Vec<String>, StateError> {
    let mut doomed = std::collections::BTreeSet::new();
    for address in addresses {
        let address = address.as_ref();
        let matched = instances_of(state, address);
        if matched.is_empty() {
            return Err(StateError::ResourceNotFound {
                address: address.to_owned(),
            });
        }
        doomed.extend(matched);
    }
    for address in &doomed {
        state.resources.remove(address);
    }
    Ok(doomed.into_iter().collect())
}

/// Renames `from` to `to` in state. `from` is an instance, or a prefix whose every instance
/// moves along (`aws_vpc.a` to `aws_vpc.b` moves `aws_vpc.a[0]` to `aws_vpc.b[0]`;
/// `module.x` to `module.y` moves the whole module). Recorded dependencies on moved
/// addresses are rewritten too. Nothing changes on error. Returns the moves made, as
/// `(old, new)` pairs.
pub fn mv(state: &mut State, from: &str, to: &str) -> Result<Vec<(String, String)>, StateError> {
    let invalid = |reason: String| StateError::InvalidMove {
        from: from.to_owned(),
        to: to.to_owned(),
        reason,
    };
    if from == to {
        return Err(invalid("the source and destination are the same".into()));
    }
    if matches_prefix(to, from) {
        return Err(invalid("the destination is inside the source".into()));
    }
    check_kinds(from, to).map_err(invalid)?;
    let sources = instances_of(state, from);
    if sources.is_empty() {
        return Err(StateError::ResourceNotFound {
            address: from.to_owned(),
        });
    }
    let mut moves = Vec::with_capacity(sources.len());
    for source in sources {
        let rest = &source[from.len()..];
        if rest.starts_with('[') && to.ends_with(']') {
            return Err(invalid(format!(
                "`{source}` has an instance key and `{to}` already has one"
            )));
        }
        let target = format!("{to}{rest}");
        if state.resources.contains_key(&target) {
            return Err(StateError::AddressExists { address: target });
        }
        moves.push((source, target));
    }
    for (source, target) in &moves {
        if let Some(mut resource) = state.resources.remove(source) {
            resource.address.clone_from(target);
            state.resources.insert(target.clone(), resource);
        }
    }
    for resource in state.resources.values_mut() {
        for dep in &mut resource.dependencies {
            if matches_prefix(dep, from) {
                *dep = format!("{to}{}", &dep[from.len()..]);
            }
        }
    }
    Ok(moves)
}

/// Checks a state push: `incoming` must continue the current state's lineage with a higher
/// serial, unless `force`. Returns the state to write, with serial one above both.
pub fn push(current: Option<&State>, incoming: State, force: bool) -> Result<State, StateError> {
    if let (Some(current), false) = (current, force) {
        if current.lineage != incoming.lineage {
            return Err(StateError::LineageMismatch {
                current: current.lineage.clone(),
                incoming: incoming.lineage,
            });
        }
        if incoming.serial <= current.serial {
            return Err(StateError::StaleSerial {
                current: current.serial,
                incoming: incoming.serial,
            });
        }
    }
    let top = current.map_or(incoming.serial, |c| c.serial.max(incoming.serial));
    Ok(State {
        version: FORMAT_VERSION,
        serial: top.saturating_add(1),
        ..incoming
    })
}

/// The state as `state pull` prints it: pretty JSON with a final newline.
pub fn pull(state: &State) -> Result<String, StateError> {
    let mut text = serde_json::to_string_pretty(state).map_err(StateError::Encode)?;
    text.push('\n');
    Ok(text)
}

/// The exact instance `address` if it is in state, otherwise every instance inside it.
fn instances_of(state: &State, address: &str) -> Vec<String> {
    if state.resources.contains_key(address) {
        return vec![address.to_owned()];
    }
    state
        .resources
        .range::<str, _>((
            std::ops::Bound::Excluded(address),
            std::ops::Bound::Unbounded,
        ))
        .map(|(k, _)| k)
        .take_while(|k| k.starts_with(address))
        .filter(|k| matches_prefix(k, address))
        .cloned()
        .collect()
}

/// Moves keep the kind of object: a resource moves to a resource of the same type and
/// mode, a module to a module.
fn check_kinds(from: &str, to: &str) -> Result<(), String> {
    match (parse_resource_instance(from), parse_resource_instance(to)) {
        (Ok(f), Ok(t)) if f.resource.mode != t.resource.mode => {
            Err("a managed resource and a data source cannot be moved into each other".into())
        }
        (Ok(f), Ok(t)) if f.resource.type_name != t.resource.type_name => Err(format!(
            "the resource types differ (`{}` and `{}`)",
            f.resource.type_name, t.resource.type_name
        )),
        (Ok(_), Err(_)) => Err(format!("`{to}` is not a resource address")),
        (Err(_), Ok(_)) => Err(format!(
            "`{from}` is not a resource address, so it can only move to a module address"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::state::model::tests::resource;

    fn state(addresses: &[&str]) -> State {
        let mut s = State::new();
        s.serial = 4;
        for a in addresses {
            s.upsert_resource(resource(a));
        }
        s
    }

    fn keys(s: &State) -> Vec<&str> {
        s.resources.keys().map(String::as_str).collect()
    }

    #[test]
    fn list_is_sorted_and_filters_by_address_prefix() {
        let s = state(&[
            "module.gpu[\"b\"].aws_instance.node[0]",
            "aws_vpc.main",
            "module.gpus.aws_vpc.x",
            "module.gpu[\"a\"].aws_instance.node[0]",
            "module.gpu.aws_vpc.y",
            "data.aws_ami.ubuntu",
        ]);
        assert_eq!(
            list(&s, None),
            [
                "aws_vpc.main",
                "data.aws_ami.ubuntu",
                "module.gpu.aws_vpc.y",
                "module.gpu[\"a\"].aws_instance.node[0]",
                "module.gpu[\"b\"].aws_instance.node[0]",
                "module.gpus.aws_vpc.x",
            ]
        );
        assert_eq!(
            list(&s, Some("module.gpu")),
            [
                "module.gpu.aws_vpc.y",
                "module.gpu[\"a\"].aws_instance.node[0]",
                "module.gpu[\"b\"].aws_instance.node[0]",
            ]
        );
        assert_eq!(
            list(&s, Some("module.gpu[\"a\"]")),
            ["module.gpu[\"a\"].aws_instance.node[0]"]
        );
        assert_eq!(list(&s, Some("aws_vpc.main")), ["aws_vpc.main"]);
        assert!(list(&s, Some("aws_vpc.mai")).is_empty());
    }

    #[test]
    fn show_finds_exact_instances_only() {
        let s = state(&["aws_vpc.a[0]"]);
        assert_eq!(show(&s, "aws_vpc.a[0]").unwrap().address, "aws_vpc.a[0]");
        assert!(show(&s, "aws_vpc.a").is_none());
    }

    #[test]
    fn rm_removes_instances_and_prefixes() {
        let mut s = state(&["aws_vpc.a[0]", "aws_vpc.a[1]", "aws_vpc.ab", "aws_vpc.b"]);
        let removed = rm(&mut s, &["aws_vpc.b", "aws_vpc.a"]).unwrap();
        assert_eq!(removed, ["aws_vpc.a[0]", "aws_vpc.a[1]", "aws_vpc.b"]);
        assert_eq!(keys(&s), ["aws_vpc.ab"]);
    }

    #[test]
    fn rm_of_a_missing_address_changes_nothing() {
        let mut s = state(&["aws_vpc.a", "aws_vpc.b"]);
        let before = s.clone();
        let err = rm(&mut s, &["aws_vpc.a", "aws_vpc.nope"]).unwrap_err();
        assert!(
            matches!(&err, StateError::ResourceNotFound { address } if address == "aws_vpc.nope"),
            "{err:?}"
        );
        assert!(err.to_string().contains("gantry state list"));
        assert_eq!(s, before);
    }

    #[test]
    fn mv_renames_one_instance() {
        let mut s = state(&["aws_vpc.a", "aws_subnet.s"]);
        s.resources.get_mut("aws_subnet.s").unwrap().dependencies =
            vec!["aws_vpc.a".into(), "aws_vpc.ab".into()];
        let moves = mv(&mut s, "aws_vpc.a", "aws_vpc.b").unwrap();
        assert_eq!(moves, [("aws_vpc.a".to_string(), "aws_vpc.b".to_string())]);
        assert_eq!(keys(&s), ["aws_subnet.s", "aws_vpc.b"]);
        assert_eq!(s.resources["aws_vpc.b"].address, "aws_vpc.b");
        assert_eq!(
            s.resources["aws_subnet.s"].dependencies,
            ["aws_vpc.b", "aws_vpc.ab"]
        );
    }

    #[test]
    fn mv_of_a_resource_moves_all_its_instances() {
        let mut s = state(&["aws_vpc.a[0]", "aws_vpc.a[1]", "aws_vpc.ab"]);
        mv(&mut s, "aws_vpc.a", "aws_vpc.b").unwrap();
        assert_eq!(keys(&s), ["aws_vpc.ab", "aws_vpc.b[0]", "aws_vpc.b[1]"]);
        assert_eq!(s.resources["aws_vpc.b[1]"].address, "aws_vpc.b[1]");
        // Into a module, and a whole module elsewhere.
        mv(&mut s, "aws_vpc.b", "module.net.aws_vpc.b").unwrap();
        mv(&mut s, "module.net", "module.network[\"x\"]").unwrap();
        assert_eq!(
            keys(&s),
            [
                "aws_vpc.ab",
                "module.network[\"x\"].aws_vpc.b[0]",
                "module.network[\"x\"].aws_vpc.b[1]"
            ]
        );
    }

    #[test]
    fn mv_refuses_collisions_and_nonsense_without_changing_anything() {
        let mut s = state(&["aws_vpc.a[0]", "aws_vpc.a[1]", "aws_vpc.b[1]", "aws_vpc.c"]);
        let before = s.clone();
        let err = mv(&mut s, "aws_vpc.a", "aws_vpc.b").unwrap_err();
        assert!(
            matches!(&err, StateError::AddressExists { address } if address == "aws_vpc.b[1]"),
            "{err:?}"
        );
        let err = mv(&mut s, "aws_vpc.c", "aws_vpc.b[1]").unwrap_err();
        assert!(matches!(err, StateError::AddressExists { .. }), "{err:?}");
        let err = mv(&mut s, "aws_vpc.nope", "aws_vpc.d").unwrap_err();
        assert!(
            matches!(err, StateError::ResourceNotFound { .. }),
            "{err:?}"
        );
        let err = mv(&mut s, "aws_vpc.c", "aws_subnet.c").unwrap_err();
        assert!(
            matches!(&err, StateError::InvalidMove { reason, .. } if reason.contains("types differ")),
            "{err:?}"
        );
        let err = mv(&mut s, "aws_vpc.c", "data.aws_vpc.c").unwrap_err();
        assert!(matches!(err, StateError::InvalidMove { .. }), "{err:?}");
        let err = mv(&mut s, "aws_vpc.a", "aws_vpc.d[0]").unwrap_err();
        assert!(matches!(err, StateError::InvalidMove { .. }), "{err:?}");
        let err = mv(&mut s, "aws_vpc.c", "aws_vpc.c").unwrap_err();
        assert!(matches!(err, StateError::InvalidMove { .. }), "{err:?}");
        let err = mv(&mut s, "aws_vpc.c", "module.x").unwrap_err();
        assert!(matches!(err, StateError::InvalidMove { .. }), "{err:?}");
        assert_eq!(s, before);
    }

    #[test]
    fn push_requires_same_lineage_and_newer_serial_unless_forced() {
        let current = state(&["aws_vpc.a"]);
        let mut newer = current.clone();
        newer.serial = 6;
        newer.resources.clear();
        let pushed = push(Some(&current), newer.clone(), false).unwrap();
        assert_eq!(pushed.serial, 7);
        assert!(pushed.resources.is_empty());

        let mut same = current.clone();
        same.serial = current.serial;
        let err = push(Some(&current), same.clone(), false).unwrap_err();
        assert!(
            matches!(
                err,
                StateError::StaleSerial {
                    current: 4,
                    incoming: 4
                }
            ),
            "{err:?}"
        );
        let mut older = current.clone();
        older.serial = 2;
        assert!(matches!(
            push(Some(&current), older.clone(), false),
            Err(StateError::StaleSerial { .. })
        ));
        assert_eq!(push(Some(&current), older, true).unwrap().serial, 5);

        let mut other = State::new();
        other.serial = 9;
        let err = push(Some(&current), other.clone(), false).unwrap_err();
        assert!(matches!(err, StateError::LineageMismatch { .. }), "{err:?}");
        assert!(err.to_string().contains("--force"));
        let forced = push(Some(&current), other.clone(), true).unwrap();
        assert_eq!(forced.serial, 10);
        assert_eq!(forced.lineage, other.lineage);

        assert_eq!(push(None, same, false).unwrap().serial, 5);
    }

    #[test]
    fn pull_prints_parseable_pretty_json() {
        let s = state(&["aws_vpc.a"]);
        let text = pull(&s).unwrap();
        assert!(text.starts_with("{\n  \"version\": 1,"), "{text}");
        assert!(text.ends_with("}\n"));
        let back = State::from_json(text.as_bytes(), std::path::Path::new("-")).unwrap();
        assert_eq!(back, s);
    }

    #[tokio::test]
    async fn mutations_go_through_the_locked_backend() {
        use crate::state::{LocalBackend, LockInfo};
        let tmp = tempfile::tempdir().unwrap();
        let backend = LocalBackend::new(tmp.path());
        let lock = backend
            .lock(LockInfo::new("state rm"), std::time::Duration::ZERO)
            .unwrap();
        lock.write_state(&state(&["aws_vpc.a", "aws_vpc.b"]))
            .unwrap();
        let mut s = lock.read_state().unwrap().unwrap();
        assert_eq!(s.serial, 4);
        rm(&mut s, &["aws_vpc.a"]).unwrap();
        assert_eq!(lock.write_state(&s).unwrap(), 5);
        let on_disk = backend.read_state().unwrap().unwrap();
        assert_eq!(keys(&on_disk), ["aws_vpc.b"]);
        let pushed = push(Some(&on_disk), on_disk.clone(), true).unwrap();
        assert_eq!(lock.write_state(&pushed).unwrap(), 6);
    }
}
