//! Module sources: relative paths, the modules shipped with gantry (`gantry/aws/network`,
//! see [`super::shipped`]), and `git::URL?ref=TAG` (optionally `//subdir`) fetched with the
//! git CLI into `.gantry/modules/` next to the root stack.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Fetches git module sources; `refresh` re-fetches sources already present (`gantry init
/// -upgrade`).
#[derive(Debug, Default)]
pub struct ModuleFetcher {
    pub refresh: bool,
}

/// The directory a module source refers to, fetching it first when it is remote.
pub fn resolve_module_source(
    source: &str,
    caller_dir: &Path,
    root_dir: &Path,
    fetcher: &ModuleFetcher,
) -> Result<PathBuf, String> {
    if source.starts_with("./") || source.starts_with("../") || source == "." || source == ".." {
        let dir = caller_dir.join(source);
        if !dir.is_dir() {
            // Name the directory looked for, relative to where gantry runs: the calling
            // module's own path may be the current directory, which displays as nothing.
            let looked = crate::diagnostics::source::display_path(&normalise(&dir));
            let looked = if looked.is_empty() {
                ".".to_owned()
            } else {
                looked
            };
            return Err(format!(
                "no directory `{looked}` (`{source}` from the calling module's directory)"
            ));
        }
        return dir
            .canonicalize()
            .map_err(|e| format!("`{}`: {e}", dir.display()));
    }
    if let Some(rest) = source.strip_prefix("git::") {
        return fetch_git(rest, root_dir, fetcher);
    }
    if let Some(name) = source.strip_prefix(super::shipped::PREFIX) {
        return super::shipped::resolve(name, root_dir);
    }
    Err(format!(
        "`{source}` is not a supported module source (local paths start with `./` or `../`, shipped modules with `gantry/`, git sources with `git::`)"
    ))
}

/// `a/./b/../c` -> `a/c`, without touching the file system (the directory may not exist).
fn normalise(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A parsed `git::` source.
#[derive(Debug, PartialEq, Eq)]
struct GitSource {
    url: String,
    reference: Option<String>,
    subdir: Option<String>,
}

fn parse_git(source: &str) -> GitSource {
    let (without_query, query) = match source.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (source, None),
    };
    let reference = query.and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("ref=").map(str::to_owned))
    });
    // `//` after the scheme's `://` separates the repository from a subdirectory.
    let scheme_end = without_query.find("://").map_or(0, |i| i + 3);
    let (url, subdir) = match without_query[scheme_end..].find("//") {
        Some(i) => {
            let split = scheme_end + i;
            (
                &without_query[..split],
                Some(without_query[split + 2..].to_owned()),
            )
        }
        None => (without_query, None),
    };
    GitSource {
        url: url.to_owned(),
        reference,
        subdir,
    }
}

fn fetch_git(source: &str, root_dir: &Path, fetcher: &ModuleFetcher) -> Result<PathBuf, String> {
    let git = parse_git(source);
    let cache_name = cache_key(source);
    let dest = root_dir.join(".gantry").join("modules").join(cache_name);
    if fetcher.refresh && dest.exists() {
        std::fs::remove_dir_all(&dest)
            .map_err(|e| format!("cannot refresh `{}`: {e}", dest.display()))?;
    }
    if !dest.join(".git").is_dir() {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
        }
        let tmp = dest.with_extension("partial");
        let _ = std::fs::remove_dir_all(&tmp);
        let mut cmd = Command::new("git");
        cmd.args(["clone", "--quiet", "--depth", "1"]);
        if let Some(r) = &git.reference {
            cmd.args(["--branch", r]);
        }
        cmd.arg(&git.url).arg(&tmp);
        cmd.env("GIT_TERMINAL_PROMPT", "0");
        let out = cmd.output().map_err(|e| format!("cannot run git: {e}"))?;
        if !out.status.success() {
            let _ = std::fs::remove_dir_all(&tmp);
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(format!(
                "git clone of `{}` failed: {}",
                git.url,
                stderr.trim()
            ));
        }
        // Renaming last means an interrupted clone is never mistaken for a complete one.
        std::fs::rename(&tmp, &dest).map_err(|e| format!("cannot move clone into place: {e}"))?;
    }
    let dir = match &git.subdir {
        Some(sub) => dest.join(sub),
        None => dest,
    };
    if !dir.is_dir() {
        return Err(format!(
            "`{}` has no directory `{}`",
            git.url,
            git.subdir.unwrap_or_default()
        ));
    }
    Ok(dir)
}

/// A readable, collision-free directory name for a source.
fn cache_key(source: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(source.as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let tail: String = source
        .rsplit('/')
        .find(|s| !s.is_empty())
        .unwrap_or("module")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    format!("{tail}-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_git_sources() {
        assert_eq!(
            parse_git("file:///tmp/repo//modules/net?ref=v1.2"),
            GitSource {
                url: "file:///tmp/repo".into(),
                reference: Some("v1.2".into()),
                subdir: Some("modules/net".into()),
            }
        );
        assert_eq!(
            parse_git("https://example.com/x.git"),
            GitSource {
                url: "https://example.com/x.git".into(),
                reference: None,
                subdir: None
            }
        );
    }
}
