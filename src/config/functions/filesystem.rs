//! Filesystem functions: `abspath`, `basename`, `dirname`, `file`, `fileexists` and
//! `templatefile`. Relative paths resolve against the calling module's directory
//! (`FnContext::module_dir`) and a leading `~` expands to the home directory. Path
//! manipulation follows Go's `path/filepath` (`Clean`, `Base`, `Dir`), as Terraform does.

use super::args::{fixed, mapping, string};
use super::{FnContext, FnError, FunctionDef};
use gantry_provider::Value;
use std::io::ErrorKind;
use std::path::PathBuf;

pub(super) fn functions() -> Vec<FunctionDef> {
    vec![
        fixed("abspath", "abspath(path)", 1, abspath),
        fixed("basename", "basename(path)", 1, basename),
        fixed("dirname", "dirname(path)", 1, dirname),
        fixed("file", "file(path)", 1, file),
        fixed("fileexists", "fileexists(path)", 1, fileexists),
        fixed("templatefile", "templatefile(path, vars)", 2, templatefile),
    ]
}

/// Resolves a user-given path: `~` expansion, then relative to the module directory.
fn resolve(ctx: &FnContext<'_>, path: &str) -> PathBuf {
    let expanded = match (path.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(path),
    };
    ctx.module_dir.join(expanded)
}

/// The text of the file at `path` (argument 0), which must exist and be UTF-8.
fn read_text(ctx: &FnContext<'_>, path: &str) -> Result<String, FnError> {
    let full = resolve(ctx, path);
    let shown = clean(&full.to_string_lossy());
    let bytes = std::fs::read(&full).map_err(|e| {
        if e.kind() == ErrorKind::NotFound {
            FnError::arg(
                0,
                format!(
                    "no file exists at {shown}; this function works only with files that are \
                     distributed as part of the configuration source code, so if this file will \
                     be created by a resource in this configuration you must instead obtain this \
                     result from an attribute of that resource."
                ),
            )
        } else {
            FnError::arg(0, format!("failed to read file {shown}: {e}"))
        }
    })?;
    String::from_utf8(bytes)
        .map_err(|_| FnError::arg(0, format!("contents of {shown} are not valid UTF-8")))
}

fn file(ctx: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    read_text(ctx, &string(args, 0)?).map(Value::String)
}

fn fileexists(ctx: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let full = resolve(ctx, &string(args, 0)?);
    let shown = clean(&full.to_string_lossy());
    match std::fs::metadata(&full) {
        Ok(meta) if meta.is_file() => Ok(true.into()),
        Ok(meta) if meta.is_dir() => Err(FnError::arg(
            0,
            format!("{shown} is a directory, not a file"),
        )),
        Ok(_) => Err(FnError::arg(0, format!("{shown} is not a regular file"))),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false.into()),
        Err(e) => Err(FnError::arg(0, format!("failed to stat {shown}: {e}"))),
    }
}

/// `templatefile(path, vars)`: reads the template and has the evaluator render it.
fn templatefile(ctx: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let path = string(args, 0)?;
    let vars =
        mapping(args, 1).map_err(|_| FnError::arg(1, "invalid vars value: must be a map"))?;
    if let Some(bad) = vars.keys().find(|name| !is_identifier(name)) {
        return Err(FnError::arg(
            1,
            format!(
                "invalid template variable name {}: must start with a letter, followed by zero or \
                 more letters, digits, and underscores",
                super::text::quote(bad)
            ),
        ));
    }
    let text = read_text(ctx, &path)?;
    (ctx.render_template)(&text, args.get(1).unwrap_or(&Value::Null)).map_err(FnError::call)
}

/// An HCL identifier: a letter or underscore, then letters, digits, underscores or dashes.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// `abspath(path)`: an absolute, cleaned path; relative paths are taken from the module
/// directory (itself taken from the working directory when relative).
fn abspath(ctx: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let path = string(args, 0)?;
    let mut full = resolve(ctx, &path);
    if full.is_relative() {
        let cwd = std::env::current_dir()
            .map_err(|e| FnError::call(format!("cannot determine the working directory: {e}")))?;
        full = cwd.join(full);
    }
    let text = full.to_str().ok_or_else(|| {
        FnError::arg(0, format!("the path {} is not valid UTF-8", full.display()))
    })?;
    Ok(clean(text).into())
}

/// Go's `filepath.Base`: the last element, ignoring trailing slashes.
fn basename(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let path = string(args, 0)?;
    if path.is_empty() {
        return Ok(".".into());
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok("/".into());
    }
    Ok(trimmed.rsplit('/').next().unwrap_or(trimmed).into())
}

/// Go's `filepath.Dir`: everything but the last element, cleaned.
fn dirname(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let path = string(args, 0)?;
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "",
    };
    Ok(clean(dir).into())
}

/// Go's `filepath.Clean` for slash-separated paths.
fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::test_support::{call_in, error_message, run, s};
    use super::*;
    use std::fs;
    use std::path::Path;

    #[test]
    fn file_reads_relative_to_module_dir() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("hello.txt"), "Hello World\n").unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("sub/inner.txt"), "inner").unwrap();
        assert_eq!(
            call_in(dir.path(), "file", vec![s("hello.txt")]),
            Ok(s("Hello World\n"))
        );
        assert_eq!(
            call_in(dir.path(), "file", vec![s("./sub/../sub/inner.txt")]),
            Ok(s("inner"))
        );
        let absolute = dir.path().join("hello.txt").to_string_lossy().into_owned();
        assert_eq!(
            call_in(Path::new("/nonexistent"), "file", vec![s(&absolute)]),
            Ok(s("Hello World\n"))
        );
    }

    #[test]
    fn file_errors() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("binary"), [0xff_u8, 0xfe, 0x00]).unwrap();
        let missing = error_message(call_in(dir.path(), "file", vec![s("missing.txt")]));
        let expected_path = clean(&dir.path().join("missing.txt").to_string_lossy());
        assert!(
            missing.starts_with(&format!("no file exists at {expected_path}; ")),
            "{missing}"
        );
        let binary = call_in(dir.path(), "file", vec![s("binary")]);
        assert!(
            matches!(&binary, Err(FnError::Arg { index: 0, message }) if message.ends_with("are not valid UTF-8"))
        );
        let directory = error_message(call_in(dir.path(), "file", vec![s(".")]));
        assert!(directory.starts_with("failed to read file"), "{directory}");
        assert_eq!(
            error_message(run("file", vec![Value::Null])),
            "argument must not be null"
        );
    }

    #[test]
    fn fileexists_distinguishes_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("present"), "x").unwrap();
        assert_eq!(
            call_in(dir.path(), "fileexists", vec![s("present")]),
            Ok(true.into())
        );
        assert_eq!(
            call_in(dir.path(), "fileexists", vec![s("absent")]),
            Ok(false.into())
        );
        let as_dir = error_message(call_in(dir.path(), "fileexists", vec![s(".")]));
        assert!(as_dir.ends_with("is a directory, not a file"), "{as_dir}");
    }

    #[test]
    fn templatefile_renders_through_the_context() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("t.tftpl"), "Hello, ${name}!").unwrap();
        let vars = Value::map([("name", s("World"))]);
        assert_eq!(
            call_in(dir.path(), "templatefile", vec![s("t.tftpl"), vars.clone()]),
            Ok(s("Hello, ${name}!"))
        );
        let render = |text: &str, vars: &Value| -> Result<Value, String> {
            let name = vars
                .as_map()
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("?");
            Ok(Value::String(text.replace("${name}", name)))
        };
        let failing = |_: &str, _: &Value| -> Result<Value, String> { Err("bad template".into()) };
        let ctx = FnContext {
            module_dir: dir.path(),
            apply_time: true,
            render_template: &render,
            catalog: crate::catalog::builtin(),
        };
        let def = super::super::lookup("templatefile").unwrap();
        assert_eq!(
            super::super::call(def, &ctx, &[s("t.tftpl"), vars.clone()]),
            Ok(s("Hello, World!"))
        );
        let ctx = FnContext {
            module_dir: dir.path(),
            apply_time: true,
            render_template: &failing,
            catalog: crate::catalog::builtin(),
        };
        assert_eq!(
            super::super::call(def, &ctx, &[s("t.tftpl"), vars]),
            Err(FnError::call("bad template"))
        );
    }

    #[test]
    fn templatefile_errors() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("t.tftpl"), "x").unwrap();
        assert_eq!(
            call_in(dir.path(), "templatefile", vec![s("t.tftpl"), s("nope")]),
            Err(FnError::arg(1, "invalid vars value: must be a map"))
        );
        let bad = Value::map([("1abc", s("x"))]);
        assert_eq!(
            error_message(call_in(dir.path(), "templatefile", vec![s("t.tftpl"), bad])),
            "invalid template variable name \"1abc\": must start with a letter, followed by zero or \
             more letters, digits, and underscores"
        );
        let missing = call_in(
            dir.path(),
            "templatefile",
            vec![s("none.tftpl"), Value::map::<&str>([])],
        );
        assert!(matches!(missing, Err(FnError::Arg { index: 0, .. })));
        let ok = Value::map([("a_b-c", s("x")), ("_x", s("y"))]);
        assert!(call_in(dir.path(), "templatefile", vec![s("t.tftpl"), ok]).is_ok());
    }

    #[test]
    fn abspath_is_absolute_and_clean() {
        let dir = tempfile::tempdir().unwrap();
        let base = clean(&dir.path().to_string_lossy());
        assert_eq!(
            call_in(dir.path(), "abspath", vec![s("a/../b/./c")]),
            Ok(s(&format!("{base}/b/c")))
        );
        assert_eq!(
            call_in(dir.path(), "abspath", vec![s("/x/y/../z/")]),
            Ok(s("/x/z"))
        );
        assert_eq!(call_in(dir.path(), "abspath", vec![s(".")]), Ok(s(&base)));
        let cwd = std::env::current_dir().unwrap();
        let from_relative = call_in(Path::new("mod"), "abspath", vec![s("f")]);
        assert_eq!(
            from_relative,
            Ok(s(&format!("{}/mod/f", clean(&cwd.to_string_lossy()))))
        );
    }

    #[test]
    fn basename_like_go() {
        assert_eq!(
            run("basename", vec![s("foo/bar/baz.txt")]),
            Ok(s("baz.txt"))
        );
        assert_eq!(run("basename", vec![s("/foo/bar/")]), Ok(s("bar")));
        assert_eq!(run("basename", vec![s("baz")]), Ok(s("baz")));
        assert_eq!(run("basename", vec![s("/")]), Ok(s("/")));
        assert_eq!(run("basename", vec![s("///")]), Ok(s("/")));
        assert_eq!(run("basename", vec![s("")]), Ok(s(".")));
    }

    #[test]
    fn dirname_like_go() {
        assert_eq!(run("dirname", vec![s("foo/bar/baz.txt")]), Ok(s("foo/bar")));
        assert_eq!(run("dirname", vec![s("foo")]), Ok(s(".")));
        assert_eq!(run("dirname", vec![s("/foo")]), Ok(s("/")));
        assert_eq!(run("dirname", vec![s("/")]), Ok(s("/")));
        assert_eq!(run("dirname", vec![s("foo/bar/")]), Ok(s("foo/bar")));
        assert_eq!(run("dirname", vec![s("a//b/../c/d")]), Ok(s("a/c")));
        assert_eq!(run("dirname", vec![s("")]), Ok(s(".")));
    }

    #[test]
    fn clean_like_go() {
        assert_eq!(clean("a/b/../../.."), "..");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean("../../x/./y//"), "../../x/y");
        assert_eq!(clean("/a/./b"), "/a/b");
    }
}
