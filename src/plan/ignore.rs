//! `lifecycle { ignore_changes = [...] }`: before a resource is planned, the configured value
//! at each ignored path is replaced with what the object has now, so the plan never changes
//! it. Paths go as deep as written (`scaling_config[0].desired_size` ignores the node count a
//! cluster autoscaler sets, not the whole scaling block); a single nested block is indexed
//! as a list of one, as in Terraform.

use crate::config::model::{IgnorePath, PathStep};
use gantry_provider::{Schema, Value};

/// Applies every ignored path of `paths` (or everything the object has, with `all`) to
/// `config`, taking values from `prior`.
pub fn apply(config: &mut Value, prior: &Value, paths: &[IgnorePath], all: bool) {
    if all {
        if let (Value::Map(cfg), Some(p)) = (config, prior.as_map()) {
            for (k, v) in p {
                if cfg.contains_key(k) {
                    cfg.insert(k.clone(), v.clone());
                }
            }
        }
        return;
    }
    for path in paths {
        let from = lookup(prior, &path.steps);
        set(config, &path.steps, from);
    }
}

/// The value at `steps` inside `value`, if there is one.
fn lookup<'v>(value: &'v Value, steps: &[PathStep]) -> Option<&'v Value> {
    let Some((first, rest)) = steps.split_first() else {
        return Some(value);
    };
    let next = match (first, value) {
        (PathStep::Attr(k) | PathStep::Key(k), Value::Map(m)) => m.get(k)?,
        (PathStep::Index(i), Value::List(items) | Value::Set(items)) => items.get(*i)?,
        // A single nested block is an object; `[0]` is the object itself.
        (PathStep::Index(0), Value::Map(_)) => value,
        _ => return None,
    };
    lookup(next, rest)
}

/// Sets the value at `steps` to `to` (removing it when `to` is `None`), where the path
/// exists in `value`.
fn set(value: &mut Value, steps: &[PathStep], to: Option<&Value>) {
    let Some((first, rest)) = steps.split_first() else {
        *value = to.cloned().unwrap_or(Value::Null);
        return;
    };
    match (first, value) {
        (PathStep::Attr(k) | PathStep::Key(k), Value::Map(m)) => {
            if rest.is_empty() {
                match to {
                    Some(v) => {
                        m.insert(k.clone(), v.clone());
                    }
                    None => {
                        m.remove(k);
                    }
                }
            } else if let Some(child) = m.get_mut(k) {
                set(child, rest, to);
            }
        }
        (PathStep::Index(i), Value::List(items)) => {
            if let Some(child) = items.get_mut(*i) {
                set(child, rest, to);
            }
        }
        (PathStep::Index(0), v @ Value::Map(_)) => set(v, rest, to),
        _ => {}
    }
}

/// Why `path` does not fit `schema` (its first step must name an attribute or block).
pub fn check(path: &IgnorePath, schema: &Schema) -> Option<String> {
    let Some(PathStep::Attr(head)) = path.steps.first() else {
        return Some("the path must start with an attribute name".into());
    };
    if schema.attributes.contains_key(head) || schema.blocks.contains_key(head) {
        None
    } else {
        Some(format!("there is no attribute `{head}` to ignore"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::diagnostics::{FileId, Span};

    fn path(steps: Vec<PathStep>) -> IgnorePath {
        IgnorePath {
            steps,
            span: Span::new(FileId(0), 0..0),
        }
    }

    #[test]
    fn nested_paths_ignore_only_that_value() {
        let prior = Value::map([
            (
                "scaling_config",
                Value::map([
                    ("desired_size", Value::from(7_i64)),
                    ("max_size", 8_i64.into()),
                ]),
            ),
            ("tags", Value::map([("Name", Value::from("set-by-hand"))])),
        ]);
        let mut config = Value::map([
            (
                "scaling_config",
                Value::map([
                    ("desired_size", Value::from(2_i64)),
                    ("max_size", 10_i64.into()),
                ]),
            ),
            (
                "tags",
                Value::map([("Name", Value::from("mine")), ("team", Value::from("ml"))]),
            ),
        ]);
        let paths = [
            path(vec![
                PathStep::Attr("scaling_config".into()),
                PathStep::Index(0),
                PathStep::Attr("desired_size".into()),
            ]),
            path(vec![
                PathStep::Attr("tags".into()),
                PathStep::Key("Name".into()),
            ]),
        ];
        apply(&mut config, &prior, &paths, false);
        let m = config.as_map().unwrap();
        let scaling = m["scaling_config"].as_map().unwrap();
        assert_eq!(
            scaling["desired_size"],
            Value::from(7_i64),
            "ignored: prior kept"
        );
        assert_eq!(
            scaling["max_size"],
            Value::from(10_i64),
            "not ignored: config wins"
        );
        let tags = m["tags"].as_map().unwrap();
        assert_eq!(tags["Name"], Value::from("set-by-hand"));
        assert_eq!(tags["team"], Value::from("ml"));
    }

    #[test]
    fn an_ignored_key_the_object_lacks_is_left_out() {
        let prior = Value::map([("tags", Value::map::<&str>([]))]);
        let mut config = Value::map([("tags", Value::map([("Owner", Value::from("x"))]))]);
        let p = path(vec![
            PathStep::Attr("tags".into()),
            PathStep::Key("Owner".into()),
        ]);
        apply(&mut config, &prior, &[p], false);
        assert!(config.as_map().unwrap()["tags"]
            .as_map()
            .unwrap()
            .is_empty());
    }
}
