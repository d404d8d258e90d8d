//! The built-in function library of the stack language (`cidrsubnet`, `merge`, `format`...),
//! matching Terraform's documented behaviour. Each family lives in its own file; this module
//! holds the registry and the calling convention the evaluator uses.
//!
//! `try` and `can` are not here: they need their arguments unevaluated, so the evaluator
//! implements them itself.

mod accelerator;
mod args;
mod collection;
mod conversion;
mod crypto;
mod encoding;
mod filesystem;
mod format;
mod network;
mod numeric;
mod pattern;
mod sets;
mod string;
mod text;
mod yaml;

#[cfg(test)]
mod test_support;

use gantry_provider::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

/// What a function may know about where it is called from.
pub struct FnContext<'a> {
    /// `path.module` of the calling module: relative paths in `file()` and friends resolve here.
    pub module_dir: &'a Path,
    /// False while planning or validating: `uuid()` and `timestamp()` are then unknown.
    pub apply_time: bool,
    /// Renders a template file's text with the given variables (for `templatefile`); the
    /// evaluator provides it because it owns template evaluation.
    pub render_template: &'a dyn Fn(&str, &Value) -> Result<Value, String>,
    /// The accelerator catalog of the stack being evaluated.
    pub catalog: &'a crate::catalog::Catalog,
}

/// Why a call failed. The evaluator turns this into a diagnostic pointing at the call
/// (or at the offending argument).
#[derive(Debug, Clone, PartialEq)]
pub enum FnError {
    /// Wrong number of arguments.
    Arity { expected: String, got: usize },
    /// Argument `index` (0-based) is invalid.
    Arg { index: usize, message: String },
    /// The call as a whole failed.
    Call(String),
}

impl FnError {
    pub fn arg(index: usize, message: impl Into<String>) -> FnError {
        FnError::Arg {
            index,
            message: message.into(),
        }
    }

    pub fn call(message: impl Into<String>) -> FnError {
        FnError::Call(message.into())
    }
}

pub type FnImpl = fn(&FnContext<'_>, &[Value]) -> Result<Value, FnError>;

/// A function's calling convention.
pub struct FunctionDef {
    pub name: &'static str,
    /// Minimum number of arguments.
    pub min_args: usize,
    /// Maximum number of arguments; `None` for variadic functions.
    pub max_args: Option<usize>,
    /// When false, any argument that is not wholly known makes the result unknown without
    /// calling `body`. Functions like `length` set it to true and deal with unknowns.
    pub handles_unknown: bool,
    /// One line shown in diagnostics: `cidrsubnet(prefix, newbits, netnum)`.
    pub signature: &'static str,
    pub body: FnImpl,
}

/// Looks a function up by name.
pub fn lookup(name: &str) -> Option<&'static FunctionDef> {
    registry().get(name)
}

/// All function names, for "did you mean" suggestions.
pub fn names() -> impl Iterator<Item = &'static str> {
    registry().keys().copied()
}

/// Calls `def` with `args`, checking arity and applying the unknown rule.
pub fn call(def: &FunctionDef, ctx: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let arity_ok = args.len() >= def.min_args && def.max_args.is_none_or(|max| args.len() <= max);
    if !arity_ok {
        let expected = match def.max_args {
            Some(max) if max == def.min_args => format!("{max}"),
            Some(max) => format!("{} to {max}", def.min_args),
            None => format!("at least {}", def.min_args),
        };
        return Err(FnError::Arity {
            expected,
            got: args.len(),
        });
    }
    if conversion::MARK_AWARE.contains(&def.name) {
        return (def.body)(ctx, args);
    }
    // Sensitive marks: the function works on plain values; its result is sensitive when any
    // argument was (Terraform's rule), and an error never quotes a secret.
    if args.iter().any(Value::contains_sensitive) {
        let secrets: Vec<String> = args
            .iter()
            .flat_map(crate::config::sensitive::secret_strings)
            .collect();
        let plain: Vec<Value> = args.iter().map(|a| a.clone().unmark_deep().0).collect();
        let scrub = |m: String| crate::ui::redact::scrub(&m, &secrets);
        return call_plain(def, ctx, &plain)
            .map(Value::sensitive)
            .map_err(|e| match e {
                FnError::Arg { index, message } => FnError::Arg {
                    index,
                    message: scrub(message),
                },
                FnError::Call(message) => FnError::Call(scrub(message)),
                other => other,
            });
    }
    call_plain(def, ctx, args)
}

fn call_plain(def: &FunctionDef, ctx: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    if !def.handles_unknown && args.iter().any(|a| !a.is_wholly_known()) {
        return Ok(Value::unknown());
    }
    (def.body)(ctx, args)
}

fn registry() -> &'static HashMap<&'static str, FunctionDef> {
    static REGISTRY: OnceLock<HashMap<&'static str, FunctionDef>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut map = HashMap::new();
        for def in all_functions() {
            map.insert(def.name, def);
        }
        map
    })
}

fn all_functions() -> Vec<FunctionDef> {
    [
        numeric::functions(),
        string::functions(),
        format::functions(),
        pattern::functions(),
        collection::functions(),
        sets::functions(),
        encoding::functions(),
        network::functions(),
        filesystem::functions(),
        conversion::functions(),
        crypto::functions(),
        accelerator::functions(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every function the language documents, by family.
    const EXPECTED: &[&str] = &[
        "abs",
        "ceil",
        "floor",
        "max",
        "min",
        "parseint",
        "pow",
        "signum",
        "log", // numeric
        "chomp",
        "format",
        "formatlist",
        "indent",
        "join",
        "lower",
        "upper",
        "replace",
        "split",
        "strrev",
        "substr",
        "title",
        "trim",
        "trimprefix",
        "trimsuffix",
        "trimspace",
        "regex",
        "regexall",
        "startswith",
        "endswith",
        "strcontains", // string
        "alltrue",
        "anytrue",
        "chunklist",
        "coalesce",
        "coalescelist",
        "compact",
        "concat",
        "contains",
        "distinct",
        "element",
        "flatten",
        "index",
        "keys",
        "values",
        "length",
        "lookup",
        "merge",
        "one",
        "range",
        "reverse",
        "setintersection",
        "setproduct",
        "setsubtract",
        "setunion",
        "slice",
        "sort",
        "sum",
        "transpose",
        "zipmap", // collection
        "base64encode",
        "base64decode",
        "jsonencode",
        "jsondecode",
        "yamlencode",
        "yamldecode",
        "urlencode", // encoding
        "cidrhost",
        "cidrnetmask",
        "cidrsubnet",
        "cidrsubnets", // network
        "file",
        "fileexists",
        "templatefile",
        "abspath",
        "basename",
        "dirname", // filesystem
        "tobool",
        "tolist",
        "tomap",
        "tonumber",
        "toset",
        "tostring", // conversion
        "sensitive",
        "nonsensitive",
        "issensitive",
        "sha256",
        "md5",
        "uuid",
        "timestamp", // crypto and misc
        "accelerator_instance_type",
        "accelerator_instance_types",
        "accelerator_zones",
        "accelerator_offered",
        "accelerator_count",
        "accelerator_topology",
        "instance_type_info", // accelerator catalog
    ];

    #[test]
    fn registry_holds_every_documented_function_once() {
        let all = all_functions();
        let mut names: Vec<&str> = all.iter().map(|d| d.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate function names");
        let mut expected = EXPECTED.to_vec();
        expected.sort_unstable();
        assert_eq!(names, expected);
        assert_eq!(super::names().count(), EXPECTED.len());
    }

    #[test]
    fn signatures_name_their_function() {
        for def in all_functions() {
            assert!(
                def.signature.starts_with(&format!("{}(", def.name)),
                "{}: {}",
                def.name,
                def.signature
            );
            if let Some(max) = def.max_args {
                assert!(max >= def.min_args, "{}", def.name);
            }
        }
    }

    #[test]
    fn call_checks_arity() {
        let ctx = test_support::context(Path::new("."));
        let def = lookup("cidrsubnet").map(|d| call(d, &ctx, &[Value::from("10.0.0.0/8")]));
        assert_eq!(
            def,
            Some(Err(FnError::Arity {
                expected: "3".into(),
                got: 1
            }))
        );
        let def = lookup("range").map(|d| call(d, &ctx, &[]));
        assert_eq!(
            def,
            Some(Err(FnError::Arity {
                expected: "1 to 3".into(),
                got: 0
            }))
        );
        let def = lookup("concat").map(|d| call(d, &ctx, &[]));
        assert_eq!(
            def,
            Some(Err(FnError::Arity {
                expected: "at least 1".into(),
                got: 0
            }))
        );
    }

    #[test]
    fn unknown_arguments_make_unknown_results() {
        let ctx = test_support::context(Path::new("."));
        let result = lookup("upper").map(|d| call(d, &ctx, &[Value::unknown()]));
        assert!(matches!(result, Some(Ok(Value::Unknown(_)))));
        let partly = Value::List(vec!["a".into(), Value::unknown()]);
        let result = lookup("join").map(|d| call(d, &ctx, &[",".into(), partly]));
        assert!(matches!(result, Some(Ok(Value::Unknown(_)))));
        assert!(lookup("nosuchfunction").is_none());
    }
}
