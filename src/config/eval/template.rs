//! String templates and heredocs: `"${var.name}-gpu"`, `%{ if } ... %{ endif }`,
//! `%{ for x in xs } ... %{ endfor }`, and the `~` strip markers.

use super::Evaluator;
use crate::config::model::span_of;
use crate::diagnostics::{Diagnostic, FileId};
use gantry_provider::{Type, Value};
use hcl_edit::template::{Directive, Element, Template};
use std::path::Path;

/// Output being built: `strip_next` removes leading whitespace of the next literal.
#[derive(Default)]
struct Out {
    text: String,
    unknown: bool,
    strip_next: bool,
    /// A sensitive value went into the text: the result is sensitive.
    sensitive: bool,
}

impl Out {
    fn literal(&mut self, s: &str) {
        if self.strip_next {
            self.text.push_str(s.trim_start());
            self.strip_next = false;
        } else {
            self.text.push_str(s);
        }
    }

    fn strip_before(&mut self) {
        let trimmed = self.text.trim_end().len();
        self.text.truncate(trimmed);
    }
}

impl Evaluator<'_> {
    pub(super) fn template(&mut self, t: &Template, file: FileId) -> Result<Value, Diagnostic> {
        self.template_elements(t.iter(), file)
    }

    pub(super) fn template_elements<'a>(
        &mut self,
        elements: impl Iterator<Item = &'a Element>,
        file: FileId,
    ) -> Result<Value, Diagnostic> {
        let elements: Vec<&Element> = elements.collect();
        // A template that is a single interpolation yields the value itself, unconverted.
        if let [Element::Interpolation(i)] = elements.as_slice() {
            return self.expr(&i.expr, file);
        }
        let mut out = Out::default();
        self.render(&elements, file, &mut out)?;
        let v = if out.unknown {
            Value::Unknown(Type::String)
        } else {
            Value::String(out.text)
        };
        Ok(if out.sensitive {
            Value::sensitive(v)
        } else {
            v
        })
    }

    fn render(
        &mut self,
        elements: &[&Element],
        file: FileId,
        out: &mut Out,
    ) -> Result<(), Diagnostic> {
        for element in elements {
            match element {
                Element::Literal(s) => out.literal(s.value()),
                Element::Interpolation(i) => {
                    if i.strip.strip_start() {
                        out.strip_before();
                    }
                    let v = self.expr(&i.expr, file)?;
                    self.append(&v, &i.expr, file, out)?;
                    out.strip_next = i.strip.strip_end();
                }
                Element::Directive(d) => match &**d {
                    Directive::If(d) => {
                        if d.if_expr.strip.strip_start() {
                            out.strip_before();
                        }
                        out.strip_next = d.if_expr.strip.strip_end();
                        let (cond, m) = self.expr(&d.if_expr.cond_expr, file)?.unmark_deep();
                        out.sensitive |= m;
                        match cond.convert(&Type::Bool) {
                            Ok(Value::Bool(true)) => {
                                self.render(
                                    &d.if_expr.template.iter().collect::<Vec<_>>(),
                                    file,
                                    out,
                                )?;
                            }
                            Ok(Value::Bool(false)) => {
                                if let Some(e) = &d.else_expr {
                                    if e.strip.strip_start() {
                                        out.strip_before();
                                    }
                                    out.strip_next = e.strip.strip_end();
                                    self.render(&e.template.iter().collect::<Vec<_>>(), file, out)?;
                                }
                            }
                            Ok(Value::Unknown(_)) => out.unknown = true,
                            _ => {
                                return Err(Diagnostic::error("invalid template condition")
                                    .with_span(span_of(file, &d.if_expr.cond_expr))
                                    .with_label(format!(
                                        "a bool is required, got {}",
                                        cond.type_name()
                                    )))
                            }
                        }
                        if d.endif_expr.strip.strip_start() {
                            out.strip_before();
                        }
                        out.strip_next = d.endif_expr.strip.strip_end();
                    }
                    Directive::For(d) => {
                        let f = &d.for_expr;
                        if f.strip.strip_start() {
                            out.strip_before();
                        }
                        let (collection, m) = self.expr(&f.collection_expr, file)?.unmark();
                        out.sensitive |= m;
                        let pairs = super::forexpr::iterate(&collection).map_err(|msg| {
                            Diagnostic::error("invalid template `for` collection")
                                .with_span(span_of(file, &f.collection_expr))
                                .with_label(msg)
                        })?;
                        let Some(pairs) = pairs else {
                            out.unknown = true;
                            continue;
                        };
                        let body: Vec<&Element> = f.template.iter().collect();
                        for (k, v) in pairs {
                            out.strip_next = f.strip.strip_end();
                            self.locals.push((f.value_var.as_str().to_owned(), v));
                            if let Some(kv) = &f.key_var {
                                self.locals.push((kv.as_str().to_owned(), k));
                            }
                            let result = self.render(&body, file, out);
                            if f.key_var.is_some() {
                                self.locals.pop();
                            }
                            self.locals.pop();
                            result?;
                            if d.endfor_expr.strip.strip_start() {
                                out.strip_before();
                            }
                        }
                        out.strip_next = d.endfor_expr.strip.strip_end();
                    }
                },
            }
        }
        Ok(())
    }

    fn append(
        &self,
        v: &Value,
        expr: &hcl_edit::expr::Expression,
        file: FileId,
        out: &mut Out,
    ) -> Result<(), Diagnostic> {
        let v = if v.contains_sensitive() {
            out.sensitive = true;
            &v.clone().unmark_deep().0
        } else {
            v
        };
        match v.convert(&Type::String) {
            Ok(Value::String(s)) => {
                out.text.push_str(&s);
                Ok(())
            }
            Ok(Value::Unknown(_)) => {
                out.unknown = true;
                Ok(())
            }
            Ok(Value::Null) => Err(Diagnostic::error("invalid template interpolation value")
                .with_span(span_of(file, expr))
                .with_label("this value is null")
                .with_help("use `coalesce(x, \"\")` or a conditional to handle null")),
            _ => Err(Diagnostic::error("invalid template interpolation value")
                .with_span(span_of(file, expr))
                .with_label(format!("cannot include a {} in a string", v.type_name()))
                .with_help("use `join`, `jsonencode` or a `%{ for }` directive")),
        }
    }
}

/// Renders the text of a template file (for `templatefile`): its only references are the
/// given variables.
pub fn render_file(text: &str, vars: &Value, module_dir: &Path) -> Result<Value, String> {
    let template: Template = text
        .parse()
        .map_err(|e: hcl_edit::parser::Error| e.to_string())?;
    let Value::Map(vars) = vars else {
        return Err("template variables must be a map or object".into());
    };
    let resolver = super::NoReferences;
    let mut eval = Evaluator::new(&resolver, module_dir);
    for (k, v) in vars {
        eval.locals.push((k.clone(), v.clone()));
    }
    // Files rendered here have no source map entry: report the message only.
    eval.template(&template, FileId(u32::MAX))
        .map_err(|d| match d.label {
            Some(label) => format!("{}: {label}", d.summary),
            None => d.summary,
        })
}
