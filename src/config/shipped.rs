//! The stack modules shipped inside the binary (`stacks/` of the repository), so a stack
//! anywhere can use them: `source = "gantry/aws/network"`. They are versioned with gantry:
//! a stack gets the modules of the gantry that runs it. Loading writes a module's files
//! under `.gantry/modules/shipped-<version>/` next to the root stack (so diagnostics point
//! at real files); `gantry modules export` copies them out to read or fork.

use include_dir::{include_dir, Dir};
use std::path::{Path, PathBuf};

static STACKS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/stacks");

/// The prefix of shipped module sources.
pub const PREFIX: &str = "gantry/";

/// The names of the shipped modules (`aws/network`, ...): directories holding `.hcl` files.
pub fn names() -> Vec<String> {
    let mut out = Vec::new();
    collect(&STACKS, &mut out);
    out.sort();
    out
}

fn collect(dir: &Dir<'_>, out: &mut Vec<String>) {
    if dir
        .files()
        .any(|f| f.path().extension().is_some_and(|e| e == "hcl"))
    {
        out.push(dir.path().display().to_string());
    }
    for sub in dir.dirs() {
        collect(sub, out);
    }
}

/// The module `name` (`aws/network`), if shipped.
fn module(name: &str) -> Option<&'static Dir<'static>> {
    let name = name.trim_end_matches('/');
    if name.is_empty()
        || name
            .split('/')
            .any(|p| p == ".." || p == "." || p.is_empty())
    {
        return None;
    }
    STACKS.get_dir(name).filter(|d| {
        d.files()
            .any(|f| f.path().extension().is_some_and(|e| e == "hcl"))
    })
}

/// Writes the files of module `name` into `dest` (created), returning how many.
pub fn export(name: &str, dest: &Path) -> Result<usize, String> {
    let dir = module(name).ok_or_else(|| unknown(name))?;
    std::fs::create_dir_all(dest)
        .map_err(|e| format!("cannot create `{}`: {e}", dest.display()))?;
    let mut count = 0;
    for file in dir.files() {
        let Some(file_name) = file.path().file_name() else {
            continue;
        };
        let target = dest.join(file_name);
        std::fs::write(&target, file.contents())
            .map_err(|e| format!("cannot write `{}`: {e}", target.display()))?;
        count += 1;
    }
    Ok(count)
}

/// The directory a `gantry/NAME` source loads from: the module's files, written once per
/// gantry version under `.gantry/modules/` of the root stack.
pub fn resolve(name: &str, root_dir: &Path) -> Result<PathBuf, String> {
    let dir = module(name).ok_or_else(|| unknown(name))?;
    let base = root_dir
        .join(".gantry")
        .join("modules")
        .join(format!("shipped-{}", env!("CARGO_PKG_VERSION")));
    let dest = base.join(name.trim_end_matches('/'));
    if up_to_date(dir, &dest) {
        return Ok(dest);
    }
    // Written beside and renamed into place, so a concurrent run never sees half a module.
    let partial = dest.with_extension(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    export(name, &partial)?;
    let _ = std::fs::remove_dir_all(&dest);
    match std::fs::rename(&partial, &dest) {
        Ok(()) => Ok(dest),
        // Another run put the same files there first.
        Err(_) if up_to_date(dir, &dest) => {
            let _ = std::fs::remove_dir_all(&partial);
            Ok(dest)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            Err(format!("cannot write `{}`: {e}", dest.display()))
        }
    }
}

/// Whether `dest` holds exactly the module's files (an edited copy is written again).
fn up_to_date(dir: &Dir<'_>, dest: &Path) -> bool {
    dir.files().all(|f| {
        f.path()
            .file_name()
            .and_then(|n| std::fs::read(dest.join(n)).ok())
            .is_some_and(|on_disk| on_disk == f.contents())
    })
}

fn unknown(name: &str) -> String {
    format!(
        "gantry ships no module `{name}`; shipped modules: {}",
        names()
            .iter()
            .map(|n| format!("{PREFIX}{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_module_of_the_repository_is_shipped() {
        // Every CLOUD/MODULE directory under stacks/, in name order.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks");
        let mut on_disk: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|cloud| cloud.path().is_dir())
            .flat_map(|cloud| {
                let name = cloud.file_name().to_string_lossy().into_owned();
                std::fs::read_dir(cloud.path())
                    .unwrap()
                    .filter_map(Result::ok)
                    .filter(|m| m.path().is_dir())
                    .map(move |m| format!("{name}/{}", m.file_name().to_string_lossy()))
            })
            .collect();
        on_disk.sort();
        assert!(on_disk.contains(&"gcp/tpu-slice".to_owned()), "{on_disk:?}");
        assert_eq!(names(), on_disk);
    }

    #[test]
    fn resolving_writes_the_files_once_and_repairs_edits() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = resolve("aws/network", tmp.path()).unwrap();
        let main = dir.join("main.hcl");
        let original = std::fs::read_to_string(&main).unwrap();
        assert!(original.contains("aws_vpc"));
        std::fs::write(&main, "# edited").unwrap();
        assert_eq!(resolve("aws/network/", tmp.path()).unwrap(), dir);
        assert_eq!(std::fs::read_to_string(&main).unwrap(), original);
    }

    #[test]
    fn unknown_names_and_escapes_are_refused_with_the_list() {
        let tmp = tempfile::tempdir().unwrap();
        for bad in ["aws/nope", "../etc", "aws/../aws/network", "aws", ""] {
            let e = resolve(bad, tmp.path()).unwrap_err();
            assert!(e.contains("gantry/aws/network"), "{bad}: {e}");
        }
    }
}
