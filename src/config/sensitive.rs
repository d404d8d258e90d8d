//! Sensitive marks at the edges of evaluation. Inside the evaluator a sensitive value is a
//! [`Value::Sensitive`]; before a value leaves for a provider, state or a plan its marks are
//! taken off and kept as *paths* (`input.password`, `ingress.0.cidr_blocks`), which state
//! records and every display redacts. When a resource's value comes back into evaluation the
//! marks are put back at those paths, so anything derived from it stays sensitive.
//!
//! A path is dot-separated: map keys, and list indices as numbers. A key that itself holds a
//! dot cannot be written as a path, so its parent is marked instead: redacting too much,
//! never too little.

use gantry_provider::Value;

/// Removes every mark from `value`; returns the plain value and the paths that were marked
/// (outermost marks only: nothing below a marked path is listed).
pub fn unmark_paths(value: Value) -> (Value, Vec<String>) {
    let mut paths = Vec::new();
    let plain = strip(value, &mut Vec::new(), &mut paths);
    paths.sort();
    paths.dedup();
    (plain, paths)
}

fn strip(value: Value, at: &mut Vec<String>, paths: &mut Vec<String>) -> Value {
    match value {
        Value::Sensitive(inner) => {
            paths.push(join(at));
            inner.unmark_deep().0
        }
        Value::List(items) => Value::List(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| child(v, i.to_string(), at, paths))
                .collect(),
        ),
        Value::Set(items) => {
            // Set elements have no stable index: a marked element marks the whole set.
            if items.iter().any(Value::contains_sensitive) {
                paths.push(join(at));
                return Value::Set(items).unmark_deep().0;
            }
            Value::Set(items)
        }
        Value::Map(map) => Value::Map(
            map.into_iter()
                .map(|(k, v)| {
                    if k.contains('.') && v.contains_sensitive() {
                        paths.push(join(at));
                        let plain = v.unmark_deep().0;
                        return (k, plain);
                    }
                    let v = child(v, k.clone(), at, paths);
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

fn child(v: Value, seg: String, at: &mut Vec<String>, paths: &mut Vec<String>) -> Value {
    at.push(seg);
    let out = strip(v, at, paths);
    at.pop();
    out
}

fn join(at: &[String]) -> String {
    at.join(".")
}

/// Marks the values at `paths` in `value`. A path segment that names no map key but meets a
/// list applies to every element (schema paths such as `ingress.cidr_blocks`); the empty
/// path marks the whole value.
pub fn mark_paths(value: Value, paths: &[String]) -> Value {
    if paths.is_empty() {
        return value;
    }
    let mut value = value;
    for path in paths {
        let segs: Vec<&str> = if path.is_empty() {
            Vec::new()
        } else {
            path.split('.').collect()
        };
        value = mark_at(value, &segs);
    }
    value
}

fn mark_at(value: Value, segs: &[&str]) -> Value {
    let Some((first, rest)) = segs.split_first() else {
        return if value.is_null() {
            value
        } else {
            Value::sensitive(value)
        };
    };
    match value {
        Value::Map(mut map) => {
            if let Some(v) = map.remove(*first) {
                map.insert((*first).to_owned(), mark_at(v, rest));
            }
            Value::Map(map)
        }
        Value::List(items) => match first.parse::<usize>() {
            Ok(i) => Value::List(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(j, v)| if i == j { mark_at(v, rest) } else { v })
                    .collect(),
            ),
            Err(_) => Value::List(items.into_iter().map(|v| mark_at(v, segs)).collect()),
        },
        Value::Set(items) => match first.parse::<usize>() {
            // An index into a set names no element for sure: mark the whole set.
            Ok(_) => Value::sensitive(Value::Set(items)),
            Err(_) => Value::set(items.into_iter().map(|v| mark_at(v, segs)).collect()),
        },
        Value::Sensitive(inner) => Value::Sensitive(inner),
        other => other,
    }
}

/// The string leaves at `paths` of `value` (the secrets to scrub from messages that quote
/// them, such as a cloud's error text).
pub fn secrets_at(value: &Value, paths: &[String]) -> Vec<String> {
    let marked = mark_paths(value.clone(), paths);
    let mut out = Vec::new();
    collect_secrets(&marked, false, &mut out);
    out
}

fn collect_secrets(value: &Value, inside: bool, out: &mut Vec<String>) {
    match value {
        Value::Sensitive(inner) => collect_secrets(inner, true, out),
        Value::String(s) if inside => out.push(s.clone()),
        Value::Number(n) if inside => out.push(gantry_provider::value::format_number(*n)),
        Value::List(items) | Value::Set(items) => {
            for v in items {
                collect_secrets(v, inside, out);
            }
        }
        Value::Map(map) => {
            for v in map.values() {
                collect_secrets(v, inside, out);
            }
        }
        _ => {}
    }
}

/// Every string (and number) inside a mark of `value`.
pub fn secret_strings(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect_secrets(value, false, &mut out);
    out
}

/// Paths of the string leaves of `value` that hold one of `secrets` (at least four
/// characters long): a provider that echoes a secret into a computed attribute (`output`
/// mirroring `input`, a connection string) must not show it there either.
pub fn paths_holding(value: &Value, secrets: &[String]) -> Vec<String> {
    let secrets: Vec<&str> = secrets
        .iter()
        .map(String::as_str)
        .filter(|s| s.len() >= 4)
        .collect();
    let mut out = Vec::new();
    if !secrets.is_empty() {
        find_holding(value, &secrets, &mut Vec::new(), &mut out);
    }
    out
}

/// True when a string anywhere in `value` holds one of `secrets`.
fn holds(value: &Value, secrets: &[&str]) -> bool {
    let mut found = Vec::new();
    find_holding(value, secrets, &mut Vec::new(), &mut found);
    !found.is_empty()
}

fn find_holding(value: &Value, secrets: &[&str], at: &mut Vec<String>, out: &mut Vec<String>) {
    match value.unmarked() {
        Value::String(s) if secrets.iter().any(|x| s.contains(x)) => out.push(join(at)),
        Value::List(items) => {
            for (i, v) in items.iter().enumerate() {
                at.push(i.to_string());
                find_holding(v, secrets, at, out);
                at.pop();
            }
        }
        // Set elements have no stable index: one holding a secret marks the whole set.
        Value::Set(items) if items.iter().any(|v| holds(v, secrets)) => out.push(join(at)),
        Value::Map(map) => {
            for (k, v) in map {
                if k.contains('.') {
                    if holds(v, secrets) {
                        out.push(join(at));
                    }
                    continue;
                }
                at.push(k.clone());
                find_holding(v, secrets, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// `a` and `b` merged, without duplicates, sorted.
pub fn union(a: &[String], b: &[String]) -> Vec<String> {
    let mut out: Vec<String> = a.iter().chain(b).cloned().collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn secret(s: &str) -> Value {
        Value::sensitive(Value::from(s))
    }

    #[test]
    fn marks_become_paths_and_come_back() {
        let v = Value::map([
            (
                "input",
                Value::map([("password", secret("hunter2")), ("user", "ml".into())]),
            ),
            ("rules", Value::List(vec![Value::from("a"), secret("b")])),
            ("dotted", Value::map([("a.b", secret("c"))])),
        ]);
        let (plain, paths) = unmark_paths(v);
        assert!(!plain.contains_sensitive());
        assert_eq!(paths, vec!["dotted", "input.password", "rules.1"]);
        let back = mark_paths(plain, &paths);
        let input = back.as_map().unwrap()["input"].as_map().unwrap();
        assert!(input["password"].is_sensitive());
        assert!(!input["user"].is_sensitive());
        assert!(back.as_map().unwrap()["dotted"].is_sensitive());
    }

    #[test]
    fn schema_paths_apply_to_every_block() {
        let v = Value::map([(
            "user",
            Value::List(vec![
                Value::map([("password", Value::from("p1"))]),
                Value::map([("password", Value::from("p2"))]),
            ]),
        )]);
        let marked = mark_paths(v.clone(), &["user.password".into()]);
        let mut found = secrets_at(&v, &["user.password".into()]);
        found.sort();
        assert_eq!(found, vec!["p1", "p2"]);
        assert!(marked.as_map().unwrap()["user"].as_seq().unwrap()[1]
            .as_map()
            .unwrap()["password"]
            .is_sensitive());
    }
}
