//! Hash and non-deterministic functions: `md5`, `sha256`, `timestamp` and `uuid`.
//! `timestamp()` and `uuid()` change on every call, so they are unknown until apply.

use super::args::{fixed, string};
use super::{FnContext, FnError, FunctionDef};
use gantry_provider::time::rfc3339;
use gantry_provider::{Type, Value};
use md5::Md5;
use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

pub(super) fn functions() -> Vec<FunctionDef> {
    vec![
        fixed("md5", "md5(string)", 1, md5),
        fixed("sha256", "sha256(string)", 1, sha256),
        fixed("timestamp", "timestamp()", 0, timestamp),
        fixed("uuid", "uuid()", 0, uuid),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn md5(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(hex(&Md5::digest(string(args, 0)?.as_bytes())).into())
}

fn sha256(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(hex(&Sha256::digest(string(args, 0)?.as_bytes())).into())
}

fn uuid(ctx: &FnContext<'_>, _: &[Value]) -> Result<Value, FnError> {
    if !ctx.apply_time {
        return Ok(Value::Unknown(Type::String));
    }
    Ok(uuid::Uuid::new_v4().to_string().into())
}

fn timestamp(ctx: &FnContext<'_>, _: &[Value]) -> Result<Value, FnError> {
    if !ctx.apply_time {
        return Ok(Value::Unknown(Type::String));
    }
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| FnError::call(format!("the system clock is before 1970: {e}")))?
        .as_secs();
    Ok(rfc3339(secs).into())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{run, s};
    use super::super::{call, lookup};
    use super::*;
    use std::path::Path;

    #[test]
    fn hashes_match_known_digests() {
        assert_eq!(
            run("sha256", vec![s("hello world")]),
            Ok(s(
                "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
            ))
        );
        assert_eq!(
            run("sha256", vec![s("")]),
            Ok(s(
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            ))
        );
        assert_eq!(
            run("md5", vec![s("hello world")]),
            Ok(s("5eb63bbbe01eeed093cb22bb8f5acdc3"))
        );
        assert_eq!(
            run("md5", vec![s("")]),
            Ok(s("d41d8cd98f00b204e9800998ecf8427e"))
        );
        assert_eq!(
            run("md5", vec![Value::from(1_i64)]),
            Ok(s("c4ca4238a0b923820dcc509a6f75849b"))
        );
    }

    #[test]
    fn uuid_is_unknown_until_apply() {
        let first = run("uuid", vec![]).unwrap_or_default();
        let second = run("uuid", vec![]).unwrap_or_default();
        let text = first.as_str().unwrap_or_default().to_owned();
        assert_eq!(text.len(), 36);
        assert_eq!(text.as_bytes()[14], b'4');
        assert!(text
            .chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(first, second);
        let planning = FnContext {
            apply_time: false,
            ..super::super::test_support::context(Path::new("."))
        };
        let def = lookup("uuid").map(|d| call(d, &planning, &[]));
        assert!(matches!(def, Some(Ok(Value::Unknown(Type::String)))));
        assert!(run("uuid", vec![s("x")]).is_err());
    }

    #[test]
    fn timestamp_is_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_526_197_452), "2018-05-13T07:44:12Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z");
        let now = run("timestamp", vec![]).unwrap_or_default();
        let now = now.as_str().unwrap_or_default();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.ends_with('Z') && now.as_bytes()[10] == b'T', "{now}");
        let planning = FnContext {
            apply_time: false,
            ..super::super::test_support::context(Path::new("."))
        };
        let def = lookup("timestamp").map(|d| call(d, &planning, &[]));
        assert!(matches!(def, Some(Ok(Value::Unknown(Type::String)))));
    }
}
