//! References: what an expression points at (`var.region`, `aws_vpc.main`,
//! `module.net.vpc_id`, `each.key`...). The graph builds its edges from them and the
//! evaluator resolves them.

use crate::addrs::ResourceAddr;
use crate::config::model::{span_of, Expr};
use crate::diagnostics::{Diagnostic, FileId, Span};
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::template::{Directive, Element, Template};

/// What a reference names, within the module it appears in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    Var(String),
    Local(String),
    /// `module.NAME`, and the output name when the reference names one (`module.net.vpc_id`).
    Module {
        name: String,
        output: Option<String>,
    },
    Resource(ResourceAddr),
    CountIndex,
    EachKey,
    EachValue,
    /// `path.module`, `path.root` or `path.cwd`.
    Path(String),
    /// `terraform.workspace`.
    Workspace,
    /// `self`: the resource instance itself, in its `postcondition` blocks.
    SelfValue,
}

/// One reference found in an expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    pub subject: Subject,
    /// The span of the part that names the subject (`var.region`, not its `.attr`s).
    pub span: Span,
    /// How many traversal operators the subject consumed; the rest apply to its value.
    pub consumed: usize,
}

/// Parses the subject of a traversal rooted at `root` with `ops` following it.
pub fn parse_subject(
    root: &str,
    root_span: Span,
    ops: &[hcl_edit::Decorated<TraversalOperator>],
    file: FileId,
) -> Result<Reference, Diagnostic> {
    let attr = |i: usize| match ops.get(i).map(|o| o.value()) {
        Some(TraversalOperator::GetAttr(name)) => Some(name.as_str().to_owned()),
        _ => None,
    };
    let span_to = |n: usize| match n.checked_sub(1).and_then(|i| ops.get(i)) {
        Some(op) => root_span.to(span_of(file, op)),
        None => root_span,
    };
    let need = |what: &str, example: &str| {
        Diagnostic::error(format!("invalid reference to `{root}`"))
            .with_span(span_to(ops.len().min(1)))
            .with_label(format!("`{root}` must be followed by {what}"))
            .with_help(format!("write `{example}`"))
    };
    let (subject, consumed) = match root {
        "var" => (
            Subject::Var(attr(0).ok_or_else(|| need("a variable name", "var.NAME"))?),
            1,
        ),
        "local" => (
            Subject::Local(attr(0).ok_or_else(|| need("a local name", "local.NAME"))?),
            1,
        ),
        "module" => {
            let name = attr(0).ok_or_else(|| need("a module name", "module.NAME.OUTPUT"))?;
            let output = match ops.get(1).map(|o| o.value()) {
                Some(TraversalOperator::GetAttr(out)) => Some(out.as_str().to_owned()),
                Some(TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_)) => attr(2),
                _ => None,
            };
            (Subject::Module { name, output }, 1)
        }
        "data" => {
            let type_name = attr(0).ok_or_else(|| need("a type and name", "data.TYPE.NAME"))?;
            let name = attr(1).ok_or_else(|| need("a type and name", "data.TYPE.NAME"))?;
            (Subject::Resource(ResourceAddr::data(&type_name, &name)), 2)
        }
        "count" => match attr(0).as_deref() {
            Some("index") => (Subject::CountIndex, 1),
            _ => return Err(need("`.index`", "count.index")),
        },
        "each" => match attr(0).as_deref() {
            Some("key") => (Subject::EachKey, 1),
            Some("value") => (Subject::EachValue, 1),
            _ => return Err(need("`.key` or `.value`", "each.key")),
        },
        "path" => match attr(0).as_deref() {
            Some(p @ ("module" | "root" | "cwd")) => (Subject::Path(p.to_owned()), 1),
            _ => return Err(need("`.module`, `.root` or `.cwd`", "path.module")),
        },
        "terraform" | "gantry" => match attr(0).as_deref() {
            Some("workspace") => (Subject::Workspace, 1),
            _ => return Err(need("`.workspace`", "terraform.workspace")),
        },
        "self" => (Subject::SelfValue, 0),
        type_name => {
            let name =
                attr(0).ok_or_else(|| need("a resource name", &format!("{type_name}.NAME")))?;
            (
                Subject::Resource(ResourceAddr::managed(type_name, &name)),
                1,
            )
        }
    };
    Ok(Reference {
        subject,
        span: span_to(consumed),
        consumed,
    })
}

/// Collects every reference in `expr` (ignoring names bound by `for` expressions and by the
/// given `bound` names, such as a `dynamic` block's iterator). Malformed references become
/// diagnostics.
pub fn references(expr: &Expr, bound: &[String]) -> (Vec<Reference>, Vec<Diagnostic>) {
    let mut walker = Walker {
        file: expr.file,
        bound: bound.to_vec(),
        refs: Vec::new(),
        diags: Vec::new(),
    };
    walker.expr(&expr.expr);
    (walker.refs, walker.diags)
}

struct Walker {
    file: FileId,
    bound: Vec<String>,
    refs: Vec<Reference>,
    diags: Vec<Diagnostic>,
}

impl Walker {
    fn root(&mut self, name: &str, span: Span, ops: &[hcl_edit::Decorated<TraversalOperator>]) {
        if self.bound.iter().any(|b| b == name) {
            return;
        }
        match parse_subject(name, span, ops, self.file) {
            Ok(r) => self.refs.push(r),
            Err(d) => self.diags.push(d),
        }
    }

    fn with_bound(&mut self, names: &[&str], f: impl FnOnce(&mut Walker)) {
        let len = self.bound.len();
        self.bound.extend(names.iter().map(|n| (*n).to_owned()));
        f(self);
        self.bound.truncate(len);
    }

    fn expr(&mut self, expr: &Expression) {
        match expr {
            Expression::Null(_)
            | Expression::Bool(_)
            | Expression::Number(_)
            | Expression::String(_) => {}
            Expression::Array(items) => items.iter().for_each(|e| self.expr(e)),
            Expression::Object(obj) => {
                for (k, v) in obj.iter() {
                    if let hcl_edit::expr::ObjectKey::Expression(e) = k {
                        // A bare name as key is a literal, as in Terraform.
                        if !matches!(e, Expression::Variable(_)) {
                            self.expr(e);
                        }
                    }
                    self.expr(v.expr());
                }
            }
            Expression::StringTemplate(t) => self.template_elements(t.iter()),
            Expression::HeredocTemplate(h) => self.template(&h.template),
            Expression::Parenthesis(p) => self.expr(p.inner()),
            Expression::Variable(v) => {
                let span = span_of(self.file, v);
                self.root(v.as_str(), span, &[]);
            }
            Expression::Conditional(c) => {
                self.expr(&c.cond_expr);
                self.expr(&c.true_expr);
                self.expr(&c.false_expr);
            }
            Expression::FuncCall(call) => call.args.iter().for_each(|e| self.expr(e)),
            Expression::Traversal(t) => {
                if let Expression::Variable(v) = &t.expr {
                    let span = span_of(self.file, v);
                    self.root(v.as_str(), span, &t.operators);
                } else {
                    self.expr(&t.expr);
                }
                for op in &t.operators {
                    if let TraversalOperator::Index(e) = op.value() {
                        self.expr(e);
                    }
                }
            }
            Expression::UnaryOp(u) => self.expr(&u.expr),
            Expression::BinaryOp(b) => {
                self.expr(&b.lhs_expr);
                self.expr(&b.rhs_expr);
            }
            Expression::ForExpr(f) => {
                self.expr(&f.intro.collection_expr);
                let mut names = vec![f.intro.value_var.as_str()];
                if let Some(k) = &f.intro.key_var {
                    names.push(k.as_str());
                }
                self.with_bound(&names, |w| {
                    if let Some(k) = &f.key_expr {
                        w.expr(k);
                    }
                    w.expr(&f.value_expr);
                    if let Some(c) = &f.cond {
                        w.expr(&c.expr);
                    }
                });
            }
        }
    }

    fn template(&mut self, t: &Template) {
        self.template_elements(t.iter());
    }

    fn template_elements<'a>(&mut self, elements: impl Iterator<Item = &'a Element>) {
        for element in elements {
            match element {
                Element::Literal(_) => {}
                Element::Interpolation(i) => self.expr(&i.expr),
                Element::Directive(d) => match &**d {
                    Directive::If(d) => {
                        self.expr(&d.if_expr.cond_expr);
                        self.template(&d.if_expr.template);
                        if let Some(e) = &d.else_expr {
                            self.template(&e.template);
                        }
                    }
                    Directive::For(d) => {
                        self.expr(&d.for_expr.collection_expr);
                        let mut names = vec![d.for_expr.value_var.as_str()];
                        if let Some(k) = &d.for_expr.key_var {
                            names.push(k.as_str());
                        }
                        self.with_bound(&names, |w| w.template(&d.for_expr.template));
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs_of(src: &str) -> Vec<Subject> {
        let expr: Expression = src.parse().unwrap_or_else(|e| panic!("{e}"));
        references(
            &Expr {
                file: FileId(0),
                expr,
            },
            &[],
        )
        .0
        .into_iter()
        .map(|r| r.subject)
        .collect()
    }

    #[test]
    fn finds_every_kind_of_reference() {
        let subjects = refs_of(
            r#""${var.a}-${local.b}" == module.net.vpc_id ? aws_vpc.main.id : data.aws_ami.x[0].id"#,
        );
        assert_eq!(
            subjects,
            vec![
                Subject::Var("a".into()),
                Subject::Local("b".into()),
                Subject::Module {
                    name: "net".into(),
                    output: Some("vpc_id".into())
                },
                Subject::Resource(ResourceAddr::managed("aws_vpc", "main")),
                Subject::Resource(ResourceAddr::data("aws_ami", "x")),
            ]
        );
    }

    #[test]
    fn for_variables_are_not_references() {
        let subjects = refs_of("[for k, v in var.m : upper(v) if k != local.skip]");
        assert_eq!(
            subjects,
            vec![Subject::Var("m".into()), Subject::Local("skip".into())]
        );
    }

    #[test]
    fn index_expressions_are_walked() {
        let subjects = refs_of("aws_subnet.private[count.index].id");
        assert_eq!(
            subjects,
            vec![
                Subject::Resource(ResourceAddr::managed("aws_subnet", "private")),
                Subject::CountIndex
            ]
        );
    }
}
