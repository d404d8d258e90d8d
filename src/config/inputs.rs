//! Values for the root module's input variables, from every source Terraform users know,
//! in Terraform's precedence (later wins): `TF_VAR_<name>` then `GANTRY_VAR_<name>` environment variables,
//! `terraform.tfvars`, then `*.auto.vars.hcl` and `*.auto.tfvars` files in the stack
//! directory (sorted by name), `--var-file` files, `--var`.

use super::eval::eval_constant;
use super::load::{parse_error, Stack};
use super::model::{Expr, Variable};
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, Span};
use gantry_provider::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What the user passed on the command line and in the environment.
#[derive(Debug, Default, Clone)]
pub struct InputOptions {
    /// `--var name=value`, in order.
    pub vars: Vec<String>,
    /// `--var-file FILE`, in order.
    pub var_files: Vec<PathBuf>,
    /// Environment variables (`GANTRY_VAR_*` are picked out of these).
    pub env: Vec<(String, String)>,
    /// Values already evaluated (from a saved plan file); they win over everything.
    pub preset: Vec<(String, Value)>,
}

impl InputOptions {
    /// Options with the process environment.
    pub fn with_process_env(mut self) -> InputOptions {
        self.env = std::env::vars().collect();
        self
    }
}

/// One variable's given value and where it was given.
#[derive(Debug, Clone)]
pub struct InputValue {
    pub value: Value,
    /// The span of the value in a var file or pseudo-file for `--var` / environment.
    pub span: Span,
}

/// Environment variable prefixes that set root variables, the later winning.
const ENV_PREFIXES: [&str; 2] = ["TF_VAR_", "GANTRY_VAR_"];

/// Collects input values for the root module's variables.
pub fn collect_inputs(
    stack: &mut Stack,
    opts: &InputOptions,
) -> (HashMap<String, InputValue>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut values = HashMap::new();
    let declared: Vec<String> = stack
        .root()
        .map(|m| m.variables.keys().cloned().collect())
        .unwrap_or_default();
    let string_vars: Vec<String> = stack
        .root()
        .map(|m| {
            m.variables
                .values()
                .filter(|v: &&Variable| v.ty == gantry_provider::Type::String)
                .map(|v| v.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let is_string = |name: &str| string_vars.iter().any(|s| s == name);

    // Terraform's `TF_VAR_<name>` too, so a CI job or shell set up for Terraform works;
    // `GANTRY_VAR_<name>` wins over it.
    let mut env: Vec<(usize, &str, &str, &str)> = opts
        .env
        .iter()
        .filter_map(|(k, v)| {
            ENV_PREFIXES.iter().enumerate().find_map(|(rank, prefix)| {
                k.strip_prefix(prefix)
                    .map(|name| (rank, name, k.as_str(), v.as_str()))
            })
        })
        .collect();
    env.sort();
    for (_, name, key, raw) in env {
        // Environment variables for other stacks are common: skip unknown names silently,
        // as Terraform does.
        if !declared.iter().any(|d| d == name) {
            continue;
        }
        let string = is_string(name);
        let label = format!("<environment {key}>");
        match raw_value(stack, &label, raw, string) {
            Ok(v) => {
                values.insert(name.to_owned(), v);
            }
            Err(d) => diags.push(d),
        }
    }

    let mut files = auto_var_files(&stack.root_dir);
    files.extend(opts.var_files.iter().cloned());
    for file in files {
        read_var_file(stack, &file, &declared, &mut values, &mut diags);
    }

    for arg in &opts.vars {
        let Some((name, raw)) = arg.split_once('=') else {
            diags.push(
                Diagnostic::error(format!("invalid `--var` argument `{arg}`"))
                    .with_help("write `--var name=value`, e.g. `--var 'zones=[\"a\",\"b\"]'`"),
            );
            continue;
        };
        let name = name.trim();
        if !declared.iter().any(|d| d == name) {
            let mut d = Diagnostic::error(format!("value for undeclared variable `{name}`"))
                .with_detail("`--var` sets variables declared in the root module");
            if let Some(s) = did_you_mean(name, declared.iter().map(String::as_str)) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            diags.push(d);
            continue;
        }
        let string = is_string(name);
        match raw_value(stack, &format!("<--var {name}>"), raw, string) {
            Ok(v) => {
                values.insert(name.to_owned(), v);
            }
            Err(d) => diags.push(d),
        }
    }
    for (name, value) in &opts.preset {
        let text = value.to_string();
        let id = stack.sources.add(Path::new("<plan file>"), text.clone());
        values.insert(
            name.clone(),
            InputValue {
                value: value.clone(),
                span: Span::new(id, 0..text.len()),
            },
        );
    }
    (values, diags)
}

/// A value typed on the command line or in the environment: HCL syntax, except that a
/// string variable takes the raw text (as in Terraform) and unparsable text is a string.
fn raw_value(
    stack: &mut Stack,
    label: &str,
    raw: &str,
    string: bool,
) -> Result<InputValue, Diagnostic> {
    let id = stack.sources.add(Path::new(label), raw.to_owned());
    let span = Span::new(id, 0..raw.len());
    if string {
        return Ok(InputValue {
            value: Value::String(raw.to_owned()),
            span,
        });
    }
    match raw.parse::<hcl_edit::expr::Expression>() {
        // Text that is not a constant (a bare word like `many`) is taken as a string, so
        // the type check explains the problem instead of the expression parser.
        Ok(expr) => match eval_constant(&Expr { file: id, expr }) {
            Ok(value) => Ok(InputValue { value, span }),
            Err(_) => Ok(InputValue {
                value: Value::String(raw.to_owned()),
                span,
            }),
        },
        Err(_) => Ok(InputValue {
            value: Value::String(raw.to_owned()),
            span,
        }),
    }
}

/// The variable files loaded without being named: Terraform's `terraform.tfvars` first, then
/// every `*.auto.vars.hcl` and `*.auto.tfvars`, sorted by name.
fn auto_var_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".auto.vars.hcl") || n.ends_with(".auto.tfvars"))
        })
        .collect();
    files.sort();
    let tfvars = dir.join("terraform.tfvars");
    if tfvars.is_file() {
        files.insert(0, tfvars);
    }
    files
}

fn read_var_file(
    stack: &mut Stack,
    file: &Path,
    declared: &[String],
    values: &mut HashMap<String, InputValue>,
    diags: &mut Diagnostics,
) {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            diags.push(
                Diagnostic::error(format!("cannot read variable file `{}`", file.display()))
                    .with_detail(e.to_string()),
            );
            return;
        }
    };
    let id = stack.sources.add(file, text);
    let text = stack.sources.get(id).map_or("", |f| f.text.as_str());
    let body = match hcl_edit::parser::parse_body(text) {
        Ok(b) => b,
        Err(e) => {
            diags.push(parse_error(&e, id, text));
            return;
        }
    };
    for structure in body.iter() {
        let Some(attr) = structure.as_attribute() else {
            if let Some(block) = structure.as_block() {
                diags.push(
                    Diagnostic::error("blocks are not allowed in variable files")
                        .with_span(super::model::span_of(id, &block.ident))
                        .with_help("a variable file holds `name = value` lines"),
                );
            }
            continue;
        };
        let name = attr.key.as_str();
        let key_span = super::model::span_of(id, &attr.key);
        if !declared.iter().any(|d| d == name) {
            let mut d = Diagnostic::warning(format!("value for undeclared variable `{name}`"))
                .with_span(key_span)
                .with_label("no variable with this name in the root module");
            if let Some(s) = did_you_mean(name, declared.iter().map(String::as_str)) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            diags.push(d);
            continue;
        }
        let expr = Expr {
            file: id,
            expr: attr.value.clone(),
        };
        match eval_constant(&expr) {
            Ok(value) => {
                values.insert(
                    name.to_owned(),
                    InputValue {
                        value,
                        span: expr.span(),
                    },
                );
            }
            Err(d) => diags.push(d),
        }
    }
}
