//! The expression evaluator: HCL expressions (hcl-edit syntax, with spans) evaluated to
//! [`Value`]s, with unknown values propagating as Terraform's do. It knows nothing about
//! modules or resources: a [`Resolver`] answers what `var.x`, `aws_vpc.main` and friends
//! are, so the same evaluator serves validate, plan and apply.

mod forexpr;
mod ops;
pub mod refs;
mod template;
mod traverse;

pub use refs::{references, Reference, Subject};

use crate::config::functions::{self, FnContext, FnError};
use crate::config::model::{span_of, Expr};
use crate::diagnostics::{did_you_mean, Diagnostic, FileId, Span};
use gantry_provider::{Type, Value};
use hcl_edit::expr::{Expression, TraversalOperator};
use std::borrow::Cow;
use std::path::Path;

/// A resolved reference. Values are borrowed where the resolver holds them, so that
/// `local.subnets["a"]` does not copy the whole map.
pub struct Resolved<'a> {
    pub value: Cow<'a, Value>,
    /// True when the value's attributes are not fully described (a resource whose schema is
    /// not known): a missing attribute is then unknown instead of an error.
    pub open: bool,
}

impl From<Value> for Resolved<'_> {
    fn from(value: Value) -> Self {
        Resolved {
            value: Cow::Owned(value),
            open: false,
        }
    }
}

impl<'a> From<&'a Value> for Resolved<'a> {
    fn from(value: &'a Value) -> Self {
        Resolved {
            value: Cow::Borrowed(value),
            open: false,
        }
    }
}

/// Answers references for the evaluator.
pub trait Resolver {
    /// The value of `reference`, or a diagnostic (undeclared name, with a suggestion).
    fn resolve(&self, reference: &Reference) -> Result<Resolved<'_>, Diagnostic>;

    /// The accelerator catalog the `accelerator_*` functions read (the stack's own);
    /// `None`: the built-in data.
    fn catalog(&self) -> Option<&crate::catalog::Catalog> {
        None
    }
}

/// A resolver for constant expressions: every reference is an error.
pub struct NoReferences;

impl Resolver for NoReferences {
    fn resolve(&self, reference: &Reference) -> Result<Resolved<'_>, Diagnostic> {
        Err(Diagnostic::error("references are not allowed here")
            .with_span(reference.span)
            .with_label("only constant values can be used here"))
    }
}

/// Evaluates `expr` when it may not refer to anything (type defaults, literals).
pub fn eval_constant(expr: &Expr) -> Result<Value, Diagnostic> {
    Evaluator::new(&NoReferences, Path::new(".")).eval(expr)
}

/// Evaluates expressions of one module instance.
pub struct Evaluator<'r> {
    resolver: &'r dyn Resolver,
    module_dir: &'r Path,
    apply_time: bool,
    /// Names bound by `for` expressions, template `for` directives and `dynamic` iterators,
    /// innermost last.
    locals: Vec<(String, Value)>,
    /// Indexes into `locals` of values taken from an open collection (the instances of a
    /// resource whose schema is not known): their missing attributes are unknown.
    open_locals: Vec<usize>,
}

impl<'r> Evaluator<'r> {
    pub fn new(resolver: &'r dyn Resolver, module_dir: &'r Path) -> Evaluator<'r> {
        Evaluator {
            resolver,
            module_dir,
            apply_time: false,
            locals: Vec::new(),
            open_locals: Vec::new(),
        }
    }

    /// During apply, `uuid()` and `timestamp()` produce values instead of unknowns.
    pub fn at_apply_time(mut self, yes: bool) -> Evaluator<'r> {
        self.apply_time = yes;
        self
    }

    /// Binds `name` for the expressions evaluated inside `f` (a `dynamic` iterator).
    pub fn with_local<T>(&mut self, name: &str, value: Value, f: impl FnOnce(&mut Self) -> T) -> T {
        self.locals.push((name.to_owned(), value));
        let out = f(self);
        self.locals.pop();
        out
    }

    pub fn eval(&mut self, expr: &Expr) -> Result<Value, Diagnostic> {
        self.expr(&expr.expr, expr.file)
    }

    /// Whether the innermost local named `name` comes from an open collection.
    fn local_is_open(&self, name: &str) -> bool {
        self.locals
            .iter()
            .rposition(|(n, _)| n == name)
            .is_some_and(|i| self.open_locals.contains(&i))
    }

    /// Whether `expr` is a reference the resolver answers as open (`aws_instance.node`).
    fn is_open_reference(&self, expr: &Expression, file: FileId) -> bool {
        let Expression::Traversal(t) = expr else {
            return false;
        };
        let Expression::Variable(v) = &t.expr else {
            return false;
        };
        if self.local(v.as_str()).is_some() {
            return false;
        }
        let Ok(reference) = refs::parse_subject(v.as_str(), span_of(file, v), &t.operators, file)
        else {
            return false;
        };
        reference.consumed == t.operators.len()
            && self
                .resolver
                .resolve(&reference)
                .is_ok_and(|resolved| resolved.open)
    }

    fn local(&self, name: &str) -> Option<&Value> {
        self.locals
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    pub(crate) fn expr(&mut self, expr: &Expression, file: FileId) -> Result<Value, Diagnostic> {
        let span = || span_of(file, expr);
        match expr {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(n) => Ok(Value::Number(n.value().as_f64().unwrap_or(f64::NAN))),
            Expression::String(s) => Ok(Value::String(s.value().clone())),
            Expression::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter() {
                    out.push(self.expr(item, file)?);
                }
                Ok(Value::List(out))
            }
            Expression::Object(obj) => self.object(obj, file),
            Expression::StringTemplate(t) => self.template_elements(t.iter(), file),
            Expression::HeredocTemplate(h) => self.template(&h.template, file),
            Expression::Parenthesis(p) => self.expr(p.inner(), file),
            Expression::Variable(v) => {
                if let Some(value) = self.local(v.as_str()) {
                    return Ok(value.clone());
                }
                let reference = refs::parse_subject(v.as_str(), span(), &[], file)?;
                Ok(self.resolver.resolve(&reference)?.value.into_owned())
            }
            Expression::Traversal(t) => self.traversal(t, file),
            Expression::Conditional(c) => {
                // A sensitive condition makes the result sensitive: which branch was taken
                // tells something about the secret.
                let (cond, marked) = self.expr(&c.cond_expr, file)?.unmark_deep();
                let result = match cond.convert(&Type::Bool) {
                    Ok(Value::Bool(true)) => self.expr(&c.true_expr, file)?,
                    Ok(Value::Bool(false)) => self.expr(&c.false_expr, file)?,
                    Ok(Value::Unknown(_)) => Value::unknown(),
                    Ok(Value::Null) => {
                        return Err(Diagnostic::error("null condition")
                            .with_span(span_of(file, &c.cond_expr))
                            .with_label("the condition is null; it must be true or false"))
                    }
                    _ => {
                        return Err(Diagnostic::error("invalid condition")
                            .with_span(span_of(file, &c.cond_expr))
                            .with_label(format!("a bool is required, got {}", cond.type_name())))
                    }
                };
                Ok(if marked {
                    Value::sensitive(result)
                } else {
                    result
                })
            }
            Expression::FuncCall(call) => self.func_call(call, file, span()),
            Expression::UnaryOp(u) => {
                let (operand, marked) = self.expr(&u.expr, file)?.unmark_deep();
                let out = ops::unary(*u.operator.value(), operand).map_err(|msg| {
                    Diagnostic::error("invalid operand")
                        .with_span(span())
                        .with_label(if marked {
                            SENSITIVE_OPERAND.to_owned()
                        } else {
                            msg
                        })
                })?;
                Ok(if marked { Value::sensitive(out) } else { out })
            }
            Expression::BinaryOp(b) => {
                let (lhs, lm) = self.expr(&b.lhs_expr, file)?.unmark_deep();
                let (rhs, rm) = self.expr(&b.rhs_expr, file)?.unmark_deep();
                let marked = lm || rm;
                let out = ops::binary(*b.operator.value(), lhs, rhs).map_err(|msg| {
                    Diagnostic::error("invalid operands")
                        .with_span(span())
                        .with_label(if marked {
                            SENSITIVE_OPERAND.to_owned()
                        } else {
                            msg
                        })
                })?;
                Ok(if marked { Value::sensitive(out) } else { out })
            }
            Expression::ForExpr(f) => self.for_expr(f, file),
        }
    }

    fn object(&mut self, obj: &hcl_edit::expr::Object, file: FileId) -> Result<Value, Diagnostic> {
        let mut out = std::collections::BTreeMap::new();
        let mut marked = false;
        for (key, value) in obj.iter() {
            let key_value = match key {
                hcl_edit::expr::ObjectKey::Ident(id) => Value::String(id.as_str().to_owned()),
                // `(var.name) = ...` and `"${x}" = ...` are evaluated; a bare name is literal.
                hcl_edit::expr::ObjectKey::Expression(Expression::Variable(v)) => {
                    Value::String(v.as_str().to_owned())
                }
                hcl_edit::expr::ObjectKey::Expression(e) => {
                    // A key can hold no mark of its own: the whole object takes it.
                    let (k, m) = self.expr(e, file)?.unmark_deep();
                    marked |= m;
                    k
                }
            };
            let v = self.expr(value.expr(), file)?;
            match key_value.convert(&Type::String) {
                Ok(Value::String(k)) => {
                    out.insert(k, v);
                }
                Ok(Value::Unknown(_)) => return Ok(Value::unknown()),
                _ => {
                    return Err(Diagnostic::error("invalid object key")
                        .with_span(span_of(file, key))
                        .with_label(format!(
                            "a string is required, got {}",
                            key_value.type_name()
                        )))
                }
            }
        }
        Ok(if marked {
            Value::sensitive(Value::Map(out))
        } else {
            Value::Map(out)
        })
    }

    fn traversal(
        &mut self,
        t: &hcl_edit::expr::Traversal,
        file: FileId,
    ) -> Result<Value, Diagnostic> {
        let start = span_of(file, &t.expr);
        let resolver = self.resolver;
        let (resolved, rest) = match &t.expr {
            Expression::Variable(v) if self.local(v.as_str()).is_none() => {
                let reference =
                    refs::parse_subject(v.as_str(), span_of(file, v), &t.operators, file)?;
                let resolved = resolver.resolve(&reference)?;
                (resolved, &t.operators[reference.consumed..])
            }
            other => {
                let open =
                    matches!(other, Expression::Variable(v) if self.local_is_open(v.as_str()));
                let mut resolved = Resolved::from(self.expr(other, file)?);
                resolved.open = open;
                (resolved, &t.operators[..])
            }
        };
        let open = resolved.open;
        // Walk attribute and index steps on the borrowed value; copy only what is reached.
        let mut current = resolved.value;
        let mut span = start;
        let mut used = 0;
        for op in rest {
            let op_span = span_of(file, op);
            let next = match op.value() {
                TraversalOperator::GetAttr(name) => {
                    traverse::get_attr_ref(current, name.as_str(), open)
                }
                TraversalOperator::Index(index_expr) => {
                    let key = self.expr(index_expr, file)?;
                    traverse::index_ref(current, &key, open)
                }
                TraversalOperator::LegacyIndex(n) => {
                    let key = Value::from(usize::try_from(*n.value()).unwrap_or(usize::MAX));
                    traverse::index_ref(current, &key, open)
                }
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => break,
            };
            current = next.map_err(|e| e.into_diagnostic(span.to(op_span)))?;
            span = span.to(op_span);
            used += 1;
        }
        self.apply_operators(current.into_owned(), &rest[used..], open, span, file)
    }

    /// Evaluates index expressions and applies `ops` to `value`.
    fn apply_operators(
        &mut self,
        mut value: Value,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
        open: bool,
        mut span: Span,
        file: FileId,
    ) -> Result<Value, Diagnostic> {
        for (i, op) in ops.iter().enumerate() {
            let op_span = span_of(file, op);
            match op.value() {
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let rest = &ops[i + 1..];
                    let (value, marked) = value.unmark();
                    if marked {
                        let out = self.apply_operators(value, &ops[i..], open, span, file)?;
                        return Ok(Value::sensitive(out));
                    }
                    let items = match value {
                        Value::Unknown(_) => return Ok(Value::unknown()),
                        Value::Null => Vec::new(),
                        Value::List(items) | Value::Set(items) => items,
                        single => vec![single],
                    };
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(self.apply_operators(item, rest, open, span.to(op_span), file)?);
                    }
                    return Ok(Value::List(out));
                }
                TraversalOperator::GetAttr(name) => {
                    value = traverse::get_attr(value, name.as_str(), open)
                        .map_err(|e| e.into_diagnostic(span.to(op_span)))?;
                }
                TraversalOperator::Index(index_expr) => {
                    let key = self.expr(index_expr, file)?;
                    value = traverse::index(value, &key, open)
                        .map_err(|e| e.into_diagnostic(span.to(op_span)))?;
                }
                TraversalOperator::LegacyIndex(n) => {
                    let key = Value::from(usize::try_from(*n.value()).unwrap_or(usize::MAX));
                    value = traverse::index(value, &key, open)
                        .map_err(|e| e.into_diagnostic(span.to(op_span)))?;
                }
            }
            span = span.to(op_span);
        }
        Ok(value)
    }

    fn func_call(
        &mut self,
        call: &hcl_edit::expr::FuncCall,
        file: FileId,
        span: Span,
    ) -> Result<Value, Diagnostic> {
        let name = call.name.name.as_str();
        let name_span = span_of(file, &call.name.name);
        match name {
            "try" => return self.try_call(call, file, span),
            "can" => {
                let args: Vec<&Expression> = call.args.iter().collect();
                let [arg] = args.as_slice() else {
                    return Err(arity_error("can", "can(expression)", "1", args.len(), span));
                };
                return Ok(match self.expr(arg, file) {
                    Ok(v) if !v.is_wholly_known() => Value::Unknown(Type::Bool),
                    Ok(_) => Value::Bool(true),
                    Err(_) => Value::Bool(false),
                });
            }
            _ => {}
        }
        let Some(def) = functions::lookup(name) else {
            let mut candidates: Vec<&str> = functions::names().collect();
            candidates.extend(["try", "can"]);
            let d = Diagnostic::error(format!("call to unknown function `{name}`"))
                .with_span(name_span)
                .with_label("no function with this name");
            return Err(match did_you_mean(name, candidates) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d,
            });
        };
        let mut args = Vec::with_capacity(call.args.len());
        let arg_exprs: Vec<&Expression> = call.args.iter().collect();
        for (i, arg) in arg_exprs.iter().enumerate() {
            let v = self.expr(arg, file)?;
            if call.args.expand_final() && i + 1 == arg_exprs.len() {
                let (v, marked) = v.unmark();
                let v = match v {
                    Value::List(items) | Value::Set(items) if marked => {
                        Value::List(items.into_iter().map(Value::sensitive).collect())
                    }
                    other => other,
                };
                match v {
                    Value::List(items) | Value::Set(items) => args.extend(items),
                    Value::Unknown(_) => return Ok(Value::unknown()),
                    other => {
                        return Err(Diagnostic::error("invalid expanding argument")
                            .with_span(span_of(file, *arg))
                            .with_label(format!("`...` needs a list, got {}", other.type_name())))
                    }
                }
            } else {
                args.push(v);
            }
        }
        let module_dir = self.module_dir;
        let render = |text: &str, vars: &Value| template::render_file(text, vars, module_dir);
        let ctx = FnContext {
            module_dir,
            apply_time: self.apply_time,
            render_template: &render,
            catalog: self
                .resolver
                .catalog()
                .unwrap_or_else(|| crate::catalog::builtin()),
        };
        functions::call(def, &ctx, &args).map_err(|e| match e {
            FnError::Arity { expected, got } => {
                arity_error(name, def.signature, &expected, got, span)
            }
            FnError::Arg { index, message } => {
                let arg_span = arg_exprs.get(index).map_or(span, |a| span_of(file, *a));
                Diagnostic::error(format!("invalid argument to `{name}`"))
                    .with_span(arg_span)
                    .with_label(message)
                    .with_help(format!("usage: {}", def.signature))
            }
            FnError::Call(message) => Diagnostic::error(format!("error in call to `{name}`"))
                .with_span(span)
                .with_label(message),
        })
    }

    /// `try(a, b, ...)`: the first argument that evaluates without error.
    fn try_call(
        &mut self,
        call: &hcl_edit::expr::FuncCall,
        file: FileId,
        span: Span,
    ) -> Result<Value, Diagnostic> {
        let mut last_error = None;
        for arg in call.args.iter() {
            match self.expr(arg, file) {
                Ok(v) if !v.is_wholly_known() => return Ok(Value::unknown()),
                Ok(v) => return Ok(v),
                Err(e) => last_error = Some(e),
            }
        }
        Err(match last_error {
            Some(e) => Diagnostic::error("no argument of `try` succeeded")
                .with_span(span)
                .with_label(format!("the last one failed: {}", e.summary))
                .with_help("add a final fallback value, such as `null`"),
            None => arity_error("try", "try(expressions...)", "at least 1", 0, span),
        })
    }
}

/// The label of an operator error on sensitive operands: the usual one would quote them.
const SENSITIVE_OPERAND: &str =
    "the operation is invalid for these values (they are sensitive and not shown)";

fn arity_error(name: &str, signature: &str, expected: &str, got: usize, span: Span) -> Diagnostic {
    Diagnostic::error(format!("wrong number of arguments to `{name}`"))
        .with_span(span)
        .with_label(format!("expected {expected} argument(s), got {got}"))
        .with_help(format!("usage: {signature}"))
}

#[cfg(test)]
mod tests;
