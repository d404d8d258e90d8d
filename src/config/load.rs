//! Loading a stack: the root module directory (or single file), then every module it calls,
//! recursively, into a [`Stack`]. Parse errors and decode errors of all files are collected.

use super::decode::decode_file;
use super::model::Module;
use super::sources::{resolve_module_source, ModuleFetcher};
use crate::addrs::ModulePath;
use crate::diagnostics::{Diagnostic, Diagnostics, SourceMap, Span};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Deepest module nesting accepted: deeper is almost certainly a module calling itself.
const MAX_MODULE_DEPTH: usize = 24;

/// Every module of a stack, decoded, with the sources they came from.
#[derive(Debug)]
pub struct Stack {
    pub root_dir: PathBuf,
    pub sources: SourceMap,
    pub modules: BTreeMap<ModulePath, Module>,
    /// The accelerator catalog this stack sees: the built-in data with the stack's override
    /// files (`gantry.catalog.toml`, `$GANTRY_CATALOG_OVERRIDE`).
    pub catalog: std::sync::Arc<crate::catalog::Catalog>,
    /// The workspace in use (`terraform.workspace`): see [`crate::state::workspace`].
    pub workspace: String,
}

impl Default for Stack {
    fn default() -> Stack {
        Stack {
            workspace: crate::state::workspace::DEFAULT.to_owned(),
            root_dir: PathBuf::new(),
            sources: SourceMap::default(),
            modules: BTreeMap::new(),
            catalog: crate::catalog::builtin_shared().clone(),
        }
    }
}

impl Stack {
    pub fn root(&self) -> Option<&Module> {
        self.modules.get(&ModulePath::root())
    }

    pub fn module(&self, path: &ModulePath) -> Option<&Module> {
        self.modules.get(path)
    }

    /// Whether the root variable `name` is declared `sensitive`.
    pub fn variable_sensitive(&self, name: &str) -> bool {
        self.root()
            .and_then(|m| m.variables.get(name))
            .is_some_and(|v| v.sensitive)
    }

    /// Whether the root output `name` is declared `sensitive`.
    pub fn output_sensitive(&self, name: &str) -> bool {
        self.root()
            .and_then(|m| m.outputs.get(name))
            .is_some_and(|o| o.sensitive)
    }
}

/// Where a stack is, as the user named it.
pub struct LoadOptions<'a> {
    pub path: &'a Path,
    /// Fetches `git::` module sources.
    pub fetcher: &'a ModuleFetcher,
    /// Which alternative each module call with a `failover` block loads (absent: as
    /// written).
    pub selection: &'a ModuleSelection,
}

/// The alternative each module call with a `failover` block loads: 0 is the call as
/// written, `n` its `n`th `alternative`.
pub type ModuleSelection = BTreeMap<ModulePath, usize>;

/// Loads the stack at `opts.path`. The stack is returned even when diagnostics contain
/// errors, so that callers can report everything found.
pub fn load_stack(opts: &LoadOptions<'_>) -> (Stack, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut stack = Stack::default();
    let path = opts.path;
    let (root_dir, files) = if path.is_file() {
        (
            path.parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            vec![path.to_path_buf()],
        )
    } else if path.is_dir() {
        match stack_files(path) {
            Ok(files) => (path.to_path_buf(), files),
            Err(e) => {
                diags.push(
                    Diagnostic::error(format!("cannot read stack directory `{}`", path.display()))
                        .with_detail(e.to_string()),
                );
                return (stack, diags);
            }
        }
    } else {
        diags.push(
            Diagnostic::error(format!("no stack at `{}`", path.display()))
                .with_help("pass a directory of `*.hcl` or `*.tf` files, or a single file"),
        );
        return (stack, diags);
    };
    stack.root_dir = absolute(&root_dir);
    match crate::state::workspace::selected(&stack.root_dir.join(".gantry")) {
        Ok(name) => stack.workspace = name,
        Err(e) => diags.push(Diagnostic::error(e.to_string()).with_help(e.help())),
    }
    if files.is_empty() {
        diags.push(
            Diagnostic::error(format!("no `*.hcl` or `*.tf` files in `{}`", path.display()))
                .with_help(
                    "a stack is a directory of `.hcl` (or Terraform `.tf`) files; see `examples/quickstart`",
                ),
        );
        return (stack, diags);
    }
    let root = load_module(&mut stack.sources, &stack.root_dir, &files, &mut diags);
    // Each module with the module path it is at, the directories above it (to catch a
    // module calling itself) and whether some call above it has `count` or `for_each`.
    let mut queue = vec![(ModulePath::root(), root, Vec::<PathBuf>::new(), false)];
    while let Some((path, mut module, ancestors, expanded)) = queue.pop() {
        let names: Vec<String> = module.module_calls.keys().cloned().collect();
        for name in names {
            let Some(call) = module.module_calls.get(&name) else {
                continue;
            };
            let child_path = path.child(&call.name);
            let child_expanded = expanded || call.count.is_some() || call.for_each.is_some();
            let chosen =
                match super::alternatives::choose(call, &child_path, opts.selection, expanded) {
                    Ok(chosen) => chosen,
                    Err(d) => {
                        diags.push(d);
                        continue;
                    }
                };
            let (source, source_span) = chosen
                .as_ref()
                .and_then(|c| c.source.clone())
                .unwrap_or_else(|| (call.source.clone(), call.source_span));
            if child_path.len() > MAX_MODULE_DEPTH {
                diags.push(
                    module_error("modules nested too deeply", call.source_span)
                        .with_help("a module probably calls itself"),
                );
                continue;
            }
            let dir = match resolve_module_source(
                &source,
                &module.dir,
                &stack.root_dir,
                opts.fetcher,
            ) {
                Ok(dir) => dir,
                Err(message) => {
                    diags.push(
                        module_error("module source not found", source_span)
                            .with_label(message)
                            .with_help("a source is a relative path (`./modules/net`), a module shipped with gantry (`gantry/aws/network`) or `git::URL?ref=TAG`"),
                    );
                    continue;
                }
            };
            if ancestors.contains(&dir) || dir == module.dir {
                diags.push(module_error("module calls itself", source_span).with_help(
                    "a module cannot include itself, directly or through another module",
                ));
                continue;
            }
            let files = match stack_files(&dir) {
                Ok(f) if !f.is_empty() => f,
                Ok(_) => {
                    diags.push(
                        module_error("module source not found", source_span).with_label(format!(
                            "no `*.hcl` or `*.tf` files in `{}`",
                            dir.display()
                        )),
                    );
                    continue;
                }
                Err(e) => {
                    diags.push(
                        module_error("module source not found", source_span)
                            .with_label(format!("cannot read `{}`: {e}", dir.display())),
                    );
                    continue;
                }
            };
            let child = load_module(&mut stack.sources, &dir, &files, &mut diags);
            if call.failover.is_some() {
                let others = AlternativeSources {
                    sources: &mut stack.sources,
                    parent_dir: &module.dir,
                    root_dir: &stack.root_dir,
                    fetcher: opts.fetcher,
                };
                super::alternatives::check_contract(
                    call,
                    &child,
                    chosen.as_ref(),
                    others,
                    &mut diags,
                );
            }
            if let (Some(chosen), Some(call)) = (chosen, module.module_calls.get_mut(&name)) {
                super::alternatives::apply(call, chosen, &child);
            }
            let mut child_ancestors = ancestors.clone();
            child_ancestors.push(module.dir.clone());
            queue.push((child_path, child, child_ancestors, child_expanded));
        }
        stack.modules.insert(path, module);
    }
    (stack, diags)
}

/// What loading another alternative's module needs.
pub struct AlternativeSources<'a> {
    pub sources: &'a mut SourceMap,
    pub parent_dir: &'a Path,
    pub root_dir: &'a Path,
    pub fetcher: &'a ModuleFetcher,
}

impl AlternativeSources<'_> {
    /// Loads the module at `source` (its own files, not the modules it calls), or says why
    /// it cannot.
    pub fn load(&mut self, source: &str, diags: &mut Diagnostics) -> Result<Module, String> {
        let dir = resolve_module_source(source, self.parent_dir, self.root_dir, self.fetcher)?;
        let files =
            stack_files(&dir).map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
        if files.is_empty() {
            return Err(format!("no `*.hcl` or `*.tf` files in `{}`", dir.display()));
        }
        Ok(load_module(self.sources, &dir, &files, diags))
    }
}

fn module_error(summary: &str, span: Span) -> Diagnostic {
    Diagnostic::error(summary).with_span(span)
}

/// Parses and decodes the given files as one module.
pub fn load_module(
    sources: &mut SourceMap,
    dir: &Path,
    files: &[PathBuf],
    diags: &mut Diagnostics,
) -> Module {
    let mut module = Module {
        dir: dir.to_path_buf(),
        ..Module::default()
    };
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                diags.push(
                    Diagnostic::error(format!("cannot read `{}`", file.display()))
                        .with_detail(e.to_string()),
                );
                continue;
            }
        };
        let id = sources.add(file, text);
        let text = sources.get(id).map_or("", |f| f.text.as_str());
        if is_json_configuration(file) {
            diags.push(
                Diagnostic::error(format!(
                    "`{}`: JSON configuration syntax is not supported",
                    file.display()
                ))
                .with_help("write the file in HCL (`.tf` or `.hcl`); `hcl2json`'s inverse, or rewriting the blocks by hand, does it"),
            );
            continue;
        }
        match hcl_edit::parser::parse_body(text) {
            Ok(body) => decode_file(&mut module, id, &body, diags),
            Err(e) => diags.push(parse_error(&e, id, text)),
        }
    }
    module
}

/// A syntax error as a diagnostic at the parser's position.
pub fn parse_error(
    e: &hcl_edit::parser::Error,
    file: crate::diagnostics::FileId,
    text: &str,
) -> Diagnostic {
    let mut offset = e.location().offset().min(text.len());
    // The parser may report an offset inside a multi-byte character (found by fuzzing).
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let end = text[offset..]
        .chars()
        .next()
        .map_or(offset, |c| offset + c.len_utf8());
    let message = e.message().trim();
    Diagnostic::error("syntax error")
        .with_span(Span::new(file, offset..end))
        .with_label(if message.is_empty() {
            "unexpected input".to_owned()
        } else {
            message.replace('\n', "; ")
        })
}

/// The configuration files of a directory, sorted: `*.hcl` except variable files, and
/// Terraform's `*.tf` (a Terraform stack is a gantry stack). `*.tf.json` files are listed
/// too, so that loading them reports that their syntax is unsupported rather than skipping
/// part of the stack without a word.
pub fn stack_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if is_configuration_name(name) && !name.starts_with('.') && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Whether a file name is a configuration file (not a variable file).
pub fn is_configuration_name(name: &str) -> bool {
    (name.ends_with(".hcl") && !name.ends_with(".vars.hcl"))
        || name.ends_with(".tf")
        || name.ends_with(".tf.json")
}

fn is_json_configuration(file: &Path) -> bool {
    file.to_str().is_some_and(|f| f.ends_with(".tf.json"))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_inside_a_multibyte_character_does_not_panic() {
        // Minimised from fuzz/artifacts: the parser's offset fell inside 'Ӊ'.
        let text = "pu=(i\u{4c9}";
        let e = hcl_edit::parser::parse_body(text).err();
        let e = e.unwrap_or_else(|| panic!("input should not parse"));
        let d = parse_error(&e, crate::diagnostics::FileId(0), text);
        let span = d
            .span
            .unwrap_or_else(|| panic!("syntax errors have a span"));
        assert!(text.is_char_boundary(span.start as usize));
        assert!(text.is_char_boundary(span.end as usize));
    }
}
