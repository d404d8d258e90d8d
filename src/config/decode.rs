//! Decoding one parsed HCL file into the [`Module`] model: checks block types, label counts,
//! allowed arguments and duplicates, and keeps every span. Problems become diagnostics; the
//! decoder keeps going so a user sees every mistake at once.

use super::model::*;
use super::typeexpr::parse_type;
use crate::addrs::{ResourceAddr, ResourceMode};
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, FileId, Span};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body, Structure};

const TOP_LEVEL_BLOCKS: &[&str] = &[
    "variable",
    "locals",
    "output",
    "resource",
    "data",
    "module",
    "provider",
    "backend",
    "terraform",
    "budget",
    "moved",
    "removed",
    "import",
    "check",
];

/// Decodes the top-level body of one file into `module`.
pub fn decode_file(module: &mut Module, file: FileId, body: &Body, diags: &mut Diagnostics) {
    let d = Decoder { file };
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attr) => diags.push(
                Diagnostic::error("unexpected argument at the top level")
                    .with_span(span_of(file, attr))
                    .with_label("arguments belong inside a block")
                    .with_help("wrap it in a `locals { }` block to name a value"),
            ),
            Structure::Block(block) => d.decode_top_block(module, block, diags),
        }
    }
}

struct Decoder {
    file: FileId,
}

impl Decoder {
    fn span(&self, node: &impl hcl_edit::Span) -> Span {
        span_of(self.file, node)
    }

    fn expr(&self, e: &Expression) -> Expr {
        Expr {
            file: self.file,
            expr: e.clone(),
        }
    }

    /// The span of `resource "a" "b"`, without the body.
    fn header_span(&self, block: &Block) -> Span {
        let start = self.span(&block.ident);
        match block.labels.last() {
            Some(label) => start.to(self.span(label)),
            None => start,
        }
    }

    fn decode_top_block(&self, module: &mut Module, block: &Block, diags: &mut Diagnostics) {
        let kind = block.ident.as_str();
        match kind {
            "variable" => {
                if let Some(l) = self.labels(block, &["name"], diags) {
                    self.decode_variable(module, block, l[0], diags);
                }
            }
            "locals" => {
                if self.labels(block, &[], diags).is_some() {
                    self.decode_locals(module, block, diags);
                }
            }
            "output" => {
                if let Some(l) = self.labels(block, &["name"], diags) {
                    self.decode_output(module, block, l[0], diags);
                }
            }
            "resource" | "data" => {
                if let Some(l) = self.labels(block, &["type", "name"], diags) {
                    let mode = if kind == "data" {
                        ResourceMode::Data
                    } else {
                        ResourceMode::Managed
                    };
                    self.decode_resource(module, block, mode, l[0], l[1], diags);
                }
            }
            "module" => {
                if let Some(l) = self.labels(block, &["name"], diags) {
                    self.decode_module_call(module, block, l[0], diags);
                }
            }
            "provider" => {
                if let Some(l) = self.labels(block, &["name"], diags) {
                    self.decode_provider(module, block, l[0], diags);
                }
            }
            "backend" => {
                if let Some(l) = self.labels(block, &["kind"], diags) {
                    self.decode_backend(module, block, l[0], diags);
                }
            }
            "terraform" => {
                if self.labels(block, &[], diags).is_some() {
                    self.decode_terraform(module, block, diags);
                }
            }
            "budget" => {
                if self.labels(block, &[], diags).is_some() {
                    self.decode_budget(module, block, diags);
                }
            }
            "moved" => {
                if self.labels(block, &[], diags).is_some() {
                    self.decode_moved(module, block, diags);
                }
            }
            "removed" => {
                if self.labels(block, &[], diags).is_some() {
                    self.decode_removed(module, block, diags);
                }
            }
            "import" => {
                if self.labels(block, &[], diags).is_some() {
                    self.decode_import(module, block, diags);
                }
            }
            "check" => {
                if let Some(l) = self.labels(block, &["name"], diags) {
                    self.decode_check(module, block, l[0], diags);
                }
            }
            other => {
                let mut d = Diagnostic::error(format!("unsupported block type `{other}`"))
                    .with_span(self.span(&block.ident))
                    .with_label("not a block gantry knows");
                d = match did_you_mean(other, TOP_LEVEL_BLOCKS.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!(
                        "top-level blocks are: {}",
                        TOP_LEVEL_BLOCKS.join(", ")
                    )),
                };
                diags.push(d);
            }
        }
    }

    /// The block's labels when their count matches `names`; a diagnostic otherwise.
    fn labels<'b>(
        &self,
        block: &'b Block,
        names: &[&str],
        diags: &mut Diagnostics,
    ) -> Option<Vec<&'b str>> {
        let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
        if labels.len() == names.len() {
            if let Some((i, _)) = labels.iter().enumerate().find(|(_, l)| l.is_empty()) {
                diags.push(
                    Diagnostic::error(format!("empty {} label", names[i]))
                        .with_span(self.span(&block.labels[i]))
                        .with_label("labels must not be empty"),
                );
                return None;
            }
            return Some(labels);
        }
        let kind = block.ident.as_str();
        let expected = if names.is_empty() {
            format!("a `{kind}` block takes no labels")
        } else {
            let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
            format!(
                "a `{kind}` block takes {} label(s): {kind} {}",
                names.len(),
                quoted.join(" ")
            )
        };
        diags.push(
            Diagnostic::error(format!("wrong number of labels on `{kind}` block"))
                .with_span(self.header_span(block))
                .with_label(format!("found {} label(s)", labels.len()))
                .with_help(expected),
        );
        None
    }

    fn decode_variable(
        &self,
        module: &mut Module,
        block: &Block,
        name: &str,
        diags: &mut Diagnostics,
    ) {
        let span = self.header_span(block);
        if let Some(prev) = module.variables.get(name) {
            diags.push(duplicate("variable", name, span, prev.span));
            return;
        }
        let mut var = Variable {
            name: name.to_owned(),
            span,
            ty: gantry_provider::Type::Any,
            type_span: None,
            default: None,
            description: None,
            sensitive: false,
            nullable: true,
            validations: Vec::new(),
        };
        let mut seen = Seen::default();
        for s in block.body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let key = a.key.as_str();
                    if !seen.insert(key, self.span(a), diags) {
                        continue;
                    }
                    match key {
                        "type" => {
                            var.type_span = Some(self.span(&a.value));
                            match parse_type(&a.value, self.file) {
                                Ok(t) => var.ty = t,
                                Err(d) => diags.push(d),
                            }
                        }
                        "default" => var.default = Some(self.expr(&a.value)),
                        "description" => var.description = self.literal_string(&a.value, diags),
                        "sensitive" => var.sensitive = self.literal_bool(&a.value, diags),
                        "nullable" => var.nullable = self.literal_bool(&a.value, diags),
                        other => diags.push(self.unsupported_argument(
                            "variable",
                            other,
                            a,
                            &["type", "default", "description", "sensitive", "nullable"],
                        )),
                    }
                }
                Structure::Block(b) if b.ident.as_str() == "validation" => {
                    if let Some(v) = self.decode_validation(b, diags) {
                        var.validations.push(v);
                    }
                }
                Structure::Block(b) => {
                    diags.push(self.unsupported_block("variable", b, &["validation"]));
                }
            }
        }
        module.variables.insert(name.to_owned(), var);
    }

    /// A `validation`, `precondition`, `postcondition` or `assert` block: a condition and
    /// the message shown when it is false.
    fn decode_validation(&self, block: &Block, diags: &mut Diagnostics) -> Option<Validation> {
        let kind = block.ident.as_str();
        let mut condition = None;
        let mut error_message = None;
        for s in block.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.as_str() {
                    "condition" => condition = Some(self.expr(&a.value)),
                    "error_message" => error_message = Some(self.expr(&a.value)),
                    other => diags.push(self.unsupported_argument(
                        kind,
                        other,
                        a,
                        &["condition", "error_message"],
                    )),
                },
                Structure::Block(b) => diags.push(self.unsupported_block(kind, b, &[])),
            }
        }
        let span = self.span(&block.ident);
        match (condition, error_message) {
            (Some(condition), Some(error_message)) => Some(Validation {
                condition,
                error_message,
            }),
            (None, _) => {
                diags.push(missing_argument(kind, "condition", span));
                None
            }
            (_, None) => {
                diags.push(missing_argument(kind, "error_message", span));
                None
            }
        }
    }

    fn decode_locals(&self, module: &mut Module, block: &Block, diags: &mut Diagnostics) {
        for s in block.body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let name = a.key.as_str();
                    let span = self.span(&a.key);
                    if let Some(prev) = module.locals.get(name) {
                        diags.push(duplicate("local value", name, span, prev.span));
                        continue;
                    }
                    module.locals.insert(
                        name.to_owned(),
                        Local {
                            name: name.to_owned(),
                            span,
                            value: self.expr(&a.value),
                        },
                    );
                }
                Structure::Block(b) => diags.push(
                    Diagnostic::error("blocks are not allowed in `locals`")
                        .with_span(self.header_span(b))
                        .with_help("a local value is written `name = expression`"),
                ),
            }
        }
    }

    fn decode_output(&self, module: &mut Module, block: &Block, name: &str, d: &mut Diagnostics) {
        let span = self.header_span(block);
        if let Some(prev) = module.outputs.get(name) {
            d.push(duplicate("output", name, span, prev.span));
            return;
        }
        let mut value = None;
        let mut output_description = None;
        let mut sensitive = false;
        let mut depends_on = Vec::new();
        let mut preconditions = Vec::new();
        let mut seen = Seen::default();
        for s in block.body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let key = a.key.as_str();
                    if !seen.insert(key, self.span(a), d) {
                        continue;
                    }
                    match key {
                        "value" => value = Some(self.expr(&a.value)),
                        "description" => output_description = self.literal_string(&a.value, d),
                        "sensitive" => sensitive = self.literal_bool(&a.value, d),
                        "depends_on" => depends_on = self.depends_on(&a.value, d),
                        other => d.push(self.unsupported_argument(
                            "output",
                            other,
                            a,
                            &["value", "description", "sensitive", "depends_on"],
                        )),
                    }
                }
                Structure::Block(b) if b.ident.as_str() == "precondition" => {
                    if let Some(c) = self.decode_validation(b, d) {
                        preconditions.push(c);
                    }
                }
                Structure::Block(b) => {
                    d.push(self.unsupported_block("output", b, &["precondition"]))
                }
            }
        }
        let Some(value) = value else {
            d.push(missing_argument("output", "value", span));
            return;
        };
        module.outputs.insert(
            name.to_owned(),
            Output {
                name: name.to_owned(),
                span,
                value,
                description: output_description,
                sensitive,
                depends_on,
                preconditions,
            },
        );
    }

    fn decode_resource(
        &self,
        module: &mut Module,
        block: &Block,
        mode: ResourceMode,
        type_name: &str,
        name: &str,
        diags: &mut Diagnostics,
    ) {
        let span = self.header_span(block);
        let addr = ResourceAddr {
            mode,
            type_name: type_name.into(),
            name: name.into(),
        };
        if let Some(prev) = module.resources.get(&addr) {
            let what = if mode == ResourceMode::Data {
                "data source"
            } else {
                "resource"
            };
            diags.push(duplicate(what, &addr.to_string(), span, prev.span));
            return;
        }
        let mut resource = Resource {
            addr: addr.clone(),
            span,
            count: None,
            for_each: None,
            depends_on: Vec::new(),
            provider: None,
            lifecycle: Lifecycle::default(),
            timeouts: TimeoutsBlock::default(),
            body: BodyConfig::default(),
            failover: None,
        };
        let mut seen = Seen::default();
        for s in block.body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let key = a.key.as_str();
                    if !seen.insert(key, self.span(a), diags) {
                        continue;
                    }
                    match key {
                        "count" => resource.count = Some(self.expr(&a.value)),
                        "for_each" => resource.for_each = Some(self.expr(&a.value)),
                        "depends_on" => resource.depends_on = self.depends_on(&a.value, diags),
                        "provider" => resource.provider = self.provider_ref(&a.value, diags),
                        _ => self.add_attribute(&mut resource.body, a),
                    }
                }
                Structure::Block(b) if b.ident.as_str() == "lifecycle" => {
                    if mode == ResourceMode::Data {
                        diags.push(self.unsupported_block("data", b, &[]));
                    } else {
                        resource.lifecycle = self.decode_lifecycle(b, diags);
                    }
                }
                Structure::Block(b) if b.ident.as_str() == "timeouts" => {
                    if mode == ResourceMode::Data {
                        diags.push(self.unsupported_block("data", b, &[]));
                    } else {
                        resource.timeouts = self.decode_timeouts(b, diags);
                    }
                }
                Structure::Block(b) if b.ident.as_str() == "failover" => {
                    if mode == ResourceMode::Data {
                        diags.push(self.unsupported_block("data", b, &[]));
                    } else if let Some(prev) = &resource.failover {
                        diags.push(duplicate(
                            "block",
                            "failover",
                            self.header_span(b),
                            prev.span,
                        ));
                    } else {
                        resource.failover = self.decode_failover(b, false, diags);
                    }
                }
                Structure::Block(b) if matches!(b.ident.as_str(), "provisioner" | "connection") => {
                    diags.push(
                        Diagnostic::error(format!(
                            "`{}` blocks are not supported",
                            b.ident.as_str()
                        ))
                        .with_span(self.header_span(b))
                        .with_help("configure machines with cloud-init (`user_data`) instead"),
                    );
                }
                Structure::Block(b) => self.add_block(&mut resource.body, b, diags),
            }
        }
        if let (Some(count), Some(_)) = (&resource.count, &resource.for_each) {
            diags.push(
                Diagnostic::error("`count` and `for_each` cannot be used together")
                    .with_span(count.span())
                    .with_address(addr.to_string())
                    .with_help("use `count` for N identical instances, `for_each` to key them"),
            );
        }
        module.resources.insert(addr, resource);
    }

    fn add_attribute(&self, body: &mut BodyConfig, a: &hcl_edit::structure::Attribute) {
        let name = a.key.as_str().to_owned();
        body.attributes.insert(
            name.clone(),
            Attribute {
                name,
                span: self.span(a),
                value: self.expr(&a.value),
            },
        );
    }

    fn add_block(&self, body: &mut BodyConfig, b: &Block, diags: &mut Diagnostics) {
        if b.ident.as_str() == "dynamic" {
            if let Some(d) = self.decode_dynamic(b, diags) {
                body.blocks.push(BlockItem::Dynamic(d));
            }
            return;
        }
        let mut nested = BodyConfig::default();
        let mut seen = Seen::default();
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => {
                    if seen.insert(a.key.as_str(), self.span(a), diags) {
                        self.add_attribute(&mut nested, a);
                    }
                }
                Structure::Block(inner) => self.add_block(&mut nested, inner, diags),
            }
        }
        body.blocks.push(BlockItem::Static(NestedBlock {
            type_name: b.ident.as_str().to_owned(),
            labels: b.labels.iter().map(|l| l.as_str().to_owned()).collect(),
            span: self.header_span(b),
            body: nested,
        }));
    }

    fn decode_dynamic(&self, block: &Block, diags: &mut Diagnostics) -> Option<DynamicBlock> {
        let [label] = block.labels.as_slice() else {
            diags.push(
                Diagnostic::error("wrong number of labels on `dynamic` block")
                    .with_span(self.header_span(block))
                    .with_help("write `dynamic \"BLOCK_TYPE\" { ... }`"),
            );
            return None;
        };
        let type_name = label.as_str().to_owned();
        let mut for_each = None;
        let mut iterator = type_name.clone();
        let mut labels = Vec::new();
        let mut content = None;
        for s in block.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.as_str() {
                    "for_each" => for_each = Some(self.expr(&a.value)),
                    "iterator" => match &a.value {
                        Expression::Variable(v) => iterator = v.as_str().to_owned(),
                        other => diags.push(
                            Diagnostic::error("`iterator` must be a bare name")
                                .with_span(self.span(other))
                                .with_help("write `iterator = item`"),
                        ),
                    },
                    "labels" => match &a.value {
                        Expression::Array(items) => {
                            labels = items.iter().map(|e| self.expr(e)).collect();
                        }
                        other => diags.push(
                            Diagnostic::error("`labels` must be a list")
                                .with_span(self.span(other)),
                        ),
                    },
                    other => diags.push(self.unsupported_argument(
                        "dynamic",
                        other,
                        a,
                        &["for_each", "iterator", "labels"],
                    )),
                },
                Structure::Block(b) if b.ident.as_str() == "content" => {
                    let mut body = BodyConfig::default();
                    for inner in b.body.iter() {
                        match inner {
                            Structure::Attribute(a) => self.add_attribute(&mut body, a),
                            Structure::Block(nb) => self.add_block(&mut body, nb, diags),
                        }
                    }
                    content = Some(body);
                }
                Structure::Block(b) => {
                    diags.push(self.unsupported_block("dynamic", b, &["content"]));
                }
            }
        }
        let span = self.header_span(block);
        let Some(for_each) = for_each else {
            diags.push(missing_argument("dynamic", "for_each", span));
            return None;
        };
        let Some(content) = content else {
            diags.push(
                Diagnostic::error("missing `content` block in `dynamic` block")
                    .with_span(span)
                    .with_help("add `content { ... }` with the generated block's arguments"),
            );
            return None;
        };
        Some(DynamicBlock {
            type_name,
            span,
            for_each,
            iterator,
            labels,
            content,
        })
    }

    fn decode_lifecycle(&self, block: &Block, diags: &mut Diagnostics) -> Lifecycle {
        let mut lc = Lifecycle::default();
        for s in block.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.as_str() {
                    "create_before_destroy" => {
                        lc.create_before_destroy = self.literal_bool(&a.value, diags);
                    }
                    "prevent_destroy" => lc.prevent_destroy = self.literal_bool(&a.value, diags),
                    "ignore_changes" => match &a.value {
                        Expression::Variable(v) if v.as_str() == "all" => {
                            lc.ignore_all_changes = true;
                        }
                        Expression::Array(items) => {
                            for item in items.iter() {
                                match attribute_path(item) {
                                    Some(steps) => lc.ignore_changes.push(IgnorePath {
                                        steps,
                                        span: self.span(item),
                                    }),
                                    None => diags.push(
                                        Diagnostic::error("invalid `ignore_changes` entry")
                                            .with_span(self.span(item))
                                            .with_label("not an attribute path")
                                            .with_help("list attribute paths: `[tags[\"Name\"], scaling_config[0].desired_size]`"),
                                    ),
                                }
                            }
                        }
                        other => diags.push(
                            Diagnostic::error("`ignore_changes` must be a list or `all`")
                                .with_span(self.span(other)),
                        ),
                    },
                    "replace_triggered_by" => {}
                    other => diags.push(self.unsupported_argument(
                        "lifecycle",
                        other,
                        a,
                        &["create_before_destroy", "prevent_destroy", "ignore_changes"],
                    )),
                },
                Structure::Block(b) if b.ident.as_str() == "precondition" => {
                    if let Some(c) = self.decode_validation(b, diags) {
                        lc.preconditions.push(c);
                    }
                }
                Structure::Block(b) if b.ident.as_str() == "postcondition" => {
                    if let Some(c) = self.decode_validation(b, diags) {
                        lc.postconditions.push(c);
                    }
                }
                Structure::Block(b) => diags.push(self.unsupported_block(
                    "lifecycle",
                    b,
                    &["precondition", "postcondition"],
                )),
            }
        }
        lc
    }

    /// `failover { on = [...] order = "..." wait_for_capacity = "..." alternative { } }`;
    /// `on`, `order` and the wait are literals (they shape the plan before anything is
    /// evaluated), the alternatives are expressions evaluated per instance.
    ///
    /// On a module call (`for_module`), an alternative overrides inputs and may name another
    /// `source`, `version` and `providers`; `alternatives = [...]` is refused there, because
    /// the module an alternative loads must be known before anything is evaluated.
    fn decode_failover(
        &self,
        block: &Block,
        for_module: bool,
        diags: &mut Diagnostics,
    ) -> Option<Failover> {
        let mut out = Failover {
            span: self.header_span(block),
            on: vec![FailoverOn::Capacity],
            order: FailoverOrder::Stack,
            wait_for_capacity: None,
            alternatives: Vec::new(),
            alternatives_expr: None,
        };
        let mut seen = Seen::default();
        for s in block.body.iter() {
            match s {
                Structure::Attribute(a) => {
                    if !seen.insert(a.key.as_str(), self.span(a), diags) {
                        continue;
                    }
                    let span = self.span(&a.value);
                    match a.key.as_str() {
                        "on" => {
                            let Expression::Array(items) = &a.value else {
                                diags.push(
                                    Diagnostic::error("`on` must be a list")
                                        .with_span(span)
                                        .with_help("write `on = [\"capacity\"]` or `on = [\"capacity\", \"quota\"]`"),
                                );
                                continue;
                            };
                            out.on.clear();
                            for item in items.iter() {
                                match item {
                                    Expression::String(t) if t.value() == "capacity" => {
                                        out.on.push(FailoverOn::Capacity);
                                    }
                                    Expression::String(t) if t.value() == "quota" => {
                                        out.on.push(FailoverOn::Quota);
                                    }
                                    other => diags.push(
                                        Diagnostic::error("unknown failover trigger")
                                            .with_span(self.span(other))
                                            .with_label("expected \"capacity\" or \"quota\"")
                                            .with_help("failover reacts to the cloud having no capacity (\"capacity\") or an account quota being reached (\"quota\")"),
                                    ),
                                }
                            }
                            if out.on.is_empty() {
                                diags.push(
                                    Diagnostic::error("`on` lists no trigger")
                                        .with_span(span)
                                        .with_help("write `on = [\"capacity\"]`"),
                                );
                            }
                        }
                        "order" => match &a.value {
                            Expression::String(t) if t.value() == "stack" => {
                                out.order = FailoverOrder::Stack;
                            }
                            Expression::String(t) if t.value() == "cost" => {
                                out.order = FailoverOrder::Cost;
                            }
                            _ => diags.push(
                                Diagnostic::error("invalid failover `order`")
                                    .with_span(span)
                                    .with_label("expected \"stack\" or \"cost\"")
                                    .with_help("\"stack\" tries the alternatives as written, \"cost\" the cheapest first"),
                            ),
                        },
                        "wait_for_capacity" => {
                            let parsed = match &a.value {
                                Expression::String(text) => parse_duration(text.value()),
                                _ => Err("a duration string is required".to_owned()),
                            };
                            match parsed {
                                Ok(d) => out.wait_for_capacity = Some(d),
                                Err(why) => diags.push(
                                    Diagnostic::error("invalid `wait_for_capacity`")
                                        .with_span(span)
                                        .with_label(why)
                                        .with_help("write a duration such as `\"2h\"` or `\"30m\"`"),
                                ),
                            }
                        }
                        "alternatives" if for_module => diags.push(
                            Diagnostic::error("`alternatives` is not supported on a module call")
                                .with_span(self.span(a))
                                .with_help("write each alternative as an `alternative { }` block: the module each one loads must be known before the stack is evaluated"),
                        ),
                        "alternatives" => out.alternatives_expr = Some(self.expr(&a.value)),
                        other => diags.push(self.unsupported_argument(
                            "failover",
                            other,
                            a,
                            &["on", "order", "wait_for_capacity", "alternatives"],
                        )),
                    }
                }
                Structure::Block(b) if b.ident.as_str() == "alternative" => {
                    let mut body = BodyConfig::default();
                    let mut provider = None;
                    let mut module = ModuleAlternative::default();
                    let mut seen = Seen::default();
                    for inner in b.body.iter() {
                        let Structure::Attribute(a) = inner else {
                            if let Structure::Block(nested) = inner {
                                if for_module {
                                    diags.push(self.unsupported_block("alternative", nested, &[]));
                                } else {
                                    self.add_block(&mut body, nested, diags);
                                }
                            }
                            continue;
                        };
                        if !seen.insert(a.key.as_str(), self.span(a), diags) {
                            continue;
                        }
                        match a.key.as_str() {
                            "provider" if !for_module => {
                                provider = self.provider_ref(&a.value, diags);
                            }
                            "provider" => diags.push(
                                Diagnostic::error("`provider` is not an argument of a module alternative")
                                    .with_span(self.span(a))
                                    .with_help("give the module its provider configurations with `providers = { aws = aws.west }`"),
                            ),
                            "source" if for_module => {
                                if let Some(source) = self.literal_string(&a.value, diags) {
                                    module.source = Some((source, self.span(&a.value)));
                                }
                            }
                            "version" if for_module => {
                                module.version = self.literal_string(&a.value, diags);
                            }
                            "providers" if for_module => {
                                module.providers = Some(self.provider_map(&a.value, diags));
                            }
                            "count" | "for_each" | "depends_on" if for_module => diags.push(
                                Diagnostic::error(format!(
                                    "`{}` cannot differ between a module's alternatives",
                                    a.key.as_str()
                                ))
                                .with_span(self.span(a))
                                .with_help("set it on the module block itself"),
                            ),
                            _ => self.add_attribute(&mut body, a),
                        }
                    }
                    out.alternatives.push(AlternativeBlock {
                        span: self.header_span(b),
                        body,
                        provider,
                        module,
                    });
                }
                Structure::Block(b) => {
                    diags.push(self.unsupported_block("failover", b, &["alternative"]));
                }
            }
        }
        if out.alternatives.is_empty() && out.alternatives_expr.is_none() {
            diags.push(
                Diagnostic::error("`failover` block without alternatives")
                    .with_span(out.span)
                    .with_help("add `alternative { availability_zone = \"...\" }` blocks, or `alternatives = [...]`"),
            );
            return None;
        }
        Some(out)
    }

    /// `timeouts { create = "90m" delete = "1h30m" }`: literal Go-style durations.
    fn decode_timeouts(&self, block: &Block, diags: &mut Diagnostics) -> TimeoutsBlock {
        let mut out = TimeoutsBlock {
            span: Some(self.header_span(block)),
            entries: Vec::new(),
        };
        for s in block.body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let name = a.key.as_str();
                    if !matches!(name, "create" | "update" | "delete" | "read") {
                        diags.push(self.unsupported_argument(
                            "timeouts",
                            name,
                            a,
                            &["create", "update", "delete"],
                        ));
                        continue;
                    }
                    let span = self.span(&a.value);
                    let parsed = match &a.value {
                        Expression::String(text) => parse_duration(text.value()),
                        _ => Err("a duration string is required".to_owned()),
                    };
                    match parsed {
                        Ok(d) => out.entries.push((name.to_owned(), d, span)),
                        Err(why) => diags.push(
                            Diagnostic::error(format!("invalid `{name}` timeout"))
                                .with_span(span)
                                .with_label(why)
                                .with_help(
                                    "write a duration such as `\"90m\"`, `\"1h30m\"` or `\"45s\"`",
                                ),
                        ),
                    }
                }
                Structure::Block(b) => diags.push(self.unsupported_block("timeouts", b, &[])),
            }
        }
        out
    }

    fn decode_module_call(
        &self,
        module: &mut Module,
        block: &Block,
        name: &str,
        diags: &mut Diagnostics,
    ) {
        let span = self.header_span(block);
        if let Some(prev) = module.module_calls.get(name) {
            diags.push(duplicate("module", name, span, prev.span));
            return;
        }
        let mut call = ModuleCall {
            name: name.to_owned(),
            span,
            source: String::new(),
            source_span: span,
            version: None,
            count: None,
            for_each: None,
            depends_on: Vec::new(),
            providers: Vec::new(),
            inputs: indexmap::IndexMap::new(),
            failover: None,
            chosen: 0,
        };
        let mut has_source = false;
        let mut seen = Seen::default();
        for s in block.body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let key = a.key.as_str();
                    if !seen.insert(key, self.span(a), diags) {
                        continue;
                    }
                    match key {
                        "source" => {
                            call.source_span = self.span(&a.value);
                            if let Some(s) = self.literal_string(&a.value, diags) {
                                call.source = s;
                                has_source = true;
                            }
                        }
                        "version" => call.version = self.literal_string(&a.value, diags),
                        "count" => call.count = Some(self.expr(&a.value)),
                        "for_each" => call.for_each = Some(self.expr(&a.value)),
                        "depends_on" => call.depends_on = self.depends_on(&a.value, diags),
                        "providers" => call.providers = self.provider_map(&a.value, diags),
                        _ => {
                            call.inputs.insert(
                                key.to_owned(),
                                Attribute {
                                    name: key.to_owned(),
                                    span: self.span(a),
                                    value: self.expr(&a.value),
                                },
                            );
                        }
                    }
                }
                Structure::Block(b) if b.ident.as_str() == "failover" => {
                    if let Some(prev) = &call.failover {
                        diags.push(duplicate(
                            "failover",
                            "failover",
                            self.header_span(b),
                            prev.span,
                        ));
                    } else {
                        call.failover = self.decode_failover(b, true, diags);
                    }
                }
                Structure::Block(b) => {
                    diags.push(self.unsupported_block("module", b, &["failover"]));
                }
            }
        }
        if !has_source && !seen.contains("source") {
            diags.push(missing_argument("module", "source", span));
            return;
        }
        if let (Some(count), Some(_)) = (&call.count, &call.for_each) {
            diags.push(
                Diagnostic::error("`count` and `for_each` cannot be used together")
                    .with_span(count.span()),
            );
        }
        module.module_calls.insert(name.to_owned(), call);
    }

    fn decode_provider(&self, module: &mut Module, block: &Block, name: &str, d: &mut Diagnostics) {
        let mut body = BodyConfig::default();
        let mut alias = None;
        for s in block.body.iter() {
            match s {
                Structure::Attribute(a) if a.key.as_str() == "alias" => {
                    alias = self.literal_string(&a.value, d);
                }
                Structure::Attribute(a) => self.add_attribute(&mut body, a),
                Structure::Block(b) => self.add_block(&mut body, b, d),
            }
        }
        let span = self.header_span(block);
        if let Some(prev) = module
            .providers
            .iter()
            .find(|p| p.name == name && p.alias == alias)
        {
            let what = match &alias {
                Some(a) => format!("{name}.{a}"),
                None => name.to_owned(),
            };
            d.push(
                duplicate("provider configuration", &what, span, prev.span)
                    .with_help("give the second one an `alias` and select it with `provider =`"),
            );
            return;
        }
        module.providers.push(ProviderConfig {
            name: name.to_owned(),
            alias,
            span,
            body,
        });
    }

    fn decode_backend(&self, module: &mut Module, block: &Block, kind: &str, d: &mut Diagnostics) {
        let span = self.header_span(block);
        if let Some(prev) = &module.backend {
            d.push(duplicate("backend", kind, span, prev.span));
            return;
        }
        let mut body = BodyConfig::default();
        for s in block.body.iter() {
            match s {
                Structure::Attribute(a) => self.add_attribute(&mut body, a),
                Structure::Block(b) => self.add_block(&mut body, b, d),
            }
        }
        module.backend = Some(Backend {
            kind: kind.to_owned(),
            span,
            body,
        });
    }

    /// `budget { max_hourly = 500, max_monthly = 300000 }`: literal amounts in USD, so a
    /// budget cannot be loosened by a variable a CI job passes by mistake.
    fn decode_budget(&self, module: &mut Module, block: &Block, d: &mut Diagnostics) {
        let span = self.header_span(block);
        if let Some(prev) = &module.budget {
            d.push(duplicate("budget", "budget", span, prev.span));
            return;
        }
        let mut budget = Budget {
            span,
            max_hourly: None,
            max_monthly: None,
        };
        const ALLOWED: &[&str] = &["max_hourly", "max_monthly"];
        for s in block.body.iter() {
            match s {
                Structure::Attribute(a) if ALLOWED.contains(&a.key.as_str()) => {
                    let value_span = self.span(&a.value);
                    let amount = match &a.value {
                        Expression::Number(n) => n.value().as_f64().filter(|v| *v > 0.0),
                        _ => None,
                    };
                    let Some(amount) = amount else {
                        d.push(
                            Diagnostic::error(format!("invalid `{}`", a.key.as_str()))
                                .with_span(value_span)
                                .with_label("expected a positive number of US dollars")
                                .with_help("write the amount itself, e.g. `max_hourly = 500`"),
                        );
                        continue;
                    };
                    if a.key.as_str() == "max_hourly" {
                        budget.max_hourly = Some((amount, value_span));
                    } else {
                        budget.max_monthly = Some((amount, value_span));
                    }
                }
                Structure::Attribute(a) => {
                    d.push(self.unsupported_argument("budget", a.key.as_str(), a, ALLOWED))
                }
                Structure::Block(b) => d.push(self.unsupported_block("budget", b, &[])),
            }
        }
        module.budget = Some(budget);
    }

    /// `moved { from = ADDRESS  to = ADDRESS }`.
    fn decode_moved(&self, module: &mut Module, block: &Block, d: &mut Diagnostics) {
        let span = self.header_span(block);
        let (mut from, mut to) = (None, None);
        const ALLOWED: &[&str] = &["from", "to"];
        for s in block.body.iter() {
            match s {
                Structure::Attribute(a) if a.key.as_str() == "from" => {
                    from = self.move_endpoint(&a.value, d);
                }
                Structure::Attribute(a) if a.key.as_str() == "to" => {
                    to = self.move_endpoint(&a.value, d);
                }
                Structure::Attribute(a) => {
                    d.push(self.unsupported_argument("moved", a.key.as_str(), a, ALLOWED))
                }
                Structure::Block(b) => d.push(self.unsupported_block("moved", b, &[])),
            }
        }
        match (from, to) {
            (Some((from, from_span)), Some((to, to_span))) => module.moved.push(Moved {
                from,
                from_span,
                to,
                to_span,
                span,
            }),
            (f, t) => {
                let missing: Vec<&str> = [(f.is_none(), "from"), (t.is_none(), "to")]
                    .into_iter()
                    .filter_map(|(m, n)| m.then_some(n))
                    .collect();
                // An endpoint that failed to parse has its own diagnostic already.
                let written = |name: &str| {
                    block
                        .body
                        .iter()
                        .any(|s| matches!(s, Structure::Attribute(a) if a.key.as_str() == name))
                };
                if missing.iter().any(|n| !written(n)) {
                    d.push(
                        Diagnostic::error("incomplete `moved` block")
                            .with_span(span)
                            .with_label(format!("missing `{}`", missing.join("` and `")))
                            .with_help(
                                "write both: `moved { from = aws_vpc.old  to = aws_vpc.new }`",
                            ),
                    );
                }
            }
        }
    }

    /// `removed { from = ADDRESS  lifecycle { destroy = BOOL } }`.
    fn decode_removed(&self, module: &mut Module, block: &Block, d: &mut Diagnostics) {
        let span = self.header_span(block);
        let mut from = None;
        let mut from_written = false;
        let mut destroy = true;
        for s in block.body.iter() {
            match s {
                Structure::Attribute(a) if a.key.as_str() == "from" => {
                    from_written = true;
                    from = self.move_endpoint(&a.value, d);
                }
                Structure::Attribute(a) => {
                    d.push(self.unsupported_argument("removed", a.key.as_str(), a, &["from"]))
                }
                Structure::Block(b) if b.ident.as_str() == "lifecycle" => {
                    for s in b.body.iter() {
                        match s {
                            Structure::Attribute(a) if a.key.as_str() == "destroy" => {
                                destroy = self.literal_bool(&a.value, d);
                            }
                            Structure::Attribute(a) => d.push(self.unsupported_argument(
                                "lifecycle",
                                a.key.as_str(),
                                a,
                                &["destroy"],
                            )),
                            Structure::Block(b) => {
                                d.push(self.unsupported_block("lifecycle", b, &[]))
                            }
                        }
                    }
                }
                Structure::Block(b) => d.push(self.unsupported_block("removed", b, &["lifecycle"])),
            }
        }
        match from {
            Some((from, from_span)) => module.removed.push(Removed {
                from,
                from_span,
                destroy,
                span,
            }),
            None if !from_written => d.push(
                Diagnostic::error("incomplete `removed` block")
                    .with_span(span)
                    .with_label("missing `from`")
                    .with_help("write `removed { from = aws_instance.old  lifecycle { destroy = false } }`"),
            ),
            None => {}
        }
    }

    /// `check "NAME" { assert { condition = ...  error_message = ... } }`.
    fn decode_check(&self, module: &mut Module, block: &Block, name: &str, d: &mut Diagnostics) {
        let span = self.header_span(block);
        if let Some(prev) = module.checks.iter().find(|c| c.name == name) {
            d.push(duplicate("check", name, span, prev.span));
            return;
        }
        let mut asserts = Vec::new();
        for s in block.body.iter() {
            match s {
                Structure::Block(b) if b.ident.as_str() == "assert" => {
                    if let Some(c) = self.decode_validation(b, d) {
                        asserts.push(c);
                    }
                }
                Structure::Block(b) if b.ident.as_str() == "data" => d.push(
                    Diagnostic::error("data sources inside `check` blocks are not supported")
                        .with_span(self.header_span(b))
                        .with_help("declare the data source at the top level and refer to it from the assert"),
                ),
                Structure::Block(b) => d.push(self.unsupported_block("check", b, &["assert"])),
                Structure::Attribute(a) => {
                    d.push(self.unsupported_argument("check", a.key.as_str(), a, &[]))
                }
            }
        }
        if asserts.is_empty() {
            d.push(
                Diagnostic::error(format!("check `{name}` has no `assert` block"))
                    .with_span(span)
                    .with_help("add `assert { condition = ...  error_message = \"...\" }`"),
            );
            return;
        }
        module.checks.push(Check {
            name: name.to_owned(),
            span,
            asserts,
        });
    }

    /// `import { to = ADDRESS  id = EXPR }`.
    fn decode_import(&self, module: &mut Module, block: &Block, d: &mut Diagnostics) {
        let span = self.header_span(block);
        let (mut to, mut id) = (None, None);
        let mut to_written = false;
        for s in block.body.iter() {
            match s {
                Structure::Attribute(a) if a.key.as_str() == "to" => {
                    to_written = true;
                    let to_span = self.span(&a.value);
                    let text = a.value.to_string();
                    match crate::addrs::parse_resource_instance(text.trim()) {
                        Ok(addr) if addr.resource.mode == ResourceMode::Managed => {
                            to = Some((addr, to_span));
                        }
                        Ok(_) => d.push(
                            Diagnostic::error("a data source cannot be imported")
                                .with_span(to_span)
                                .with_label("`to` names a `data` block")
                                .with_help("import into a `resource` block"),
                        ),
                        Err(e) => d.push(
                            Diagnostic::error("invalid address")
                                .with_span(to_span)
                                .with_label(e.reason)
                                .with_help("write the resource instance, without quotes: `to = aws_vpc.main` or `to = aws_subnet.private[\"a\"]`"),
                        ),
                    }
                }
                Structure::Attribute(a) if a.key.as_str() == "id" => id = Some(self.expr(&a.value)),
                Structure::Attribute(a) => {
                    d.push(self.unsupported_argument("import", a.key.as_str(), a, &["to", "id"]))
                }
                Structure::Block(b) => d.push(self.unsupported_block("import", b, &[])),
            }
        }
        match (to, id) {
            (Some((to, to_span)), Some(id)) => module.imports.push(Import {
                to,
                to_span,
                id,
                span,
            }),
            (to, id) if id.is_none() || !to_written => {
                let missing = match (to_written, id.is_some()) {
                    (false, false) => "`to` and `id`",
                    (false, true) => "`to`",
                    _ => "`id`",
                };
                d.push(
                    Diagnostic::error("incomplete `import` block")
                        .with_span(span)
                        .with_label(format!("missing {missing}"))
                        .with_help("write both: `import { to = aws_vpc.main  id = \"vpc-0123\" }`"),
                );
                let _ = to;
            }
            _ => {}
        }
    }

    /// The address written as a `moved`/`removed` endpoint, or a diagnostic.
    fn move_endpoint(
        &self,
        value: &Expression,
        d: &mut Diagnostics,
    ) -> Option<(crate::addrs::MoveEndpoint, Span)> {
        let span = self.span(value);
        let text = value.to_string();
        match crate::addrs::parse_move_endpoint(text.trim()) {
            Ok(endpoint) => Some((endpoint, span)),
            Err(e) => {
                d.push(
                    Diagnostic::error("invalid address")
                        .with_span(span)
                        .with_label(e.reason)
                        .with_help("write a resource (`aws_vpc.a`, `aws_vpc.a[0]`) or a module (`module.net`, `module.net[\"a\"]`), without quotes"),
                );
                None
            }
        }
    }

    /// `terraform { backend "x" {} encryption {} required_providers {} required_version = "" }`,
    /// accepted so Terraform and OpenTofu stacks load unchanged.
    fn decode_terraform(&self, module: &mut Module, block: &Block, diags: &mut Diagnostics) {
        for s in block.body.iter() {
            match s {
                Structure::Block(b) if b.ident.as_str() == "backend" => {
                    if let Some(l) = self.labels(b, &["kind"], diags) {
                        self.decode_backend(module, b, l[0], diags);
                    }
                }
                Structure::Block(b) if b.ident.as_str() == "required_providers" => {}
                // Read by the state layer before anything else (`state::encryption`).
                Structure::Block(b) if b.ident.as_str() == "encryption" => {}
                Structure::Attribute(a) if a.key.as_str() == "required_version" => {}
                Structure::Attribute(a) => diags.push(self.unsupported_argument(
                    "terraform",
                    a.key.as_str(),
                    a,
                    &["required_version"],
                )),
                Structure::Block(b) => diags.push(self.unsupported_block(
                    "terraform",
                    b,
                    &["backend", "encryption", "required_providers"],
                )),
            }
        }
    }

    fn depends_on(&self, value: &Expression, diags: &mut Diagnostics) -> Vec<Expr> {
        match value {
            Expression::Array(items) => items
                .iter()
                .filter_map(|item| {
                    if matches!(item, Expression::Traversal(_) | Expression::Variable(_)) {
                        Some(self.expr(item))
                    } else {
                        diags.push(
                            Diagnostic::error("invalid `depends_on` entry")
                                .with_span(self.span(item))
                                .with_label("not a reference")
                                .with_help(
                                    "list resources or modules: `[aws_vpc.main, module.net]`",
                                ),
                        );
                        None
                    }
                })
                .collect(),
            other => {
                diags.push(
                    Diagnostic::error("`depends_on` must be a list of references")
                        .with_span(self.span(other)),
                );
                Vec::new()
            }
        }
    }

    fn provider_ref(&self, value: &Expression, diags: &mut Diagnostics) -> Option<ProviderRef> {
        let span = self.span(value);
        match value {
            Expression::Variable(v) => Some(ProviderRef {
                name: v.as_str().to_owned(),
                alias: None,
                span,
            }),
            Expression::Traversal(t) => match (&t.expr, t.operators.as_slice()) {
                (Expression::Variable(v), [op]) => match op.value() {
                    hcl_edit::expr::TraversalOperator::GetAttr(alias) => Some(ProviderRef {
                        name: v.as_str().to_owned(),
                        alias: Some(alias.as_str().to_owned()),
                        span,
                    }),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
        .or_else(|| {
            diags.push(
                Diagnostic::error("invalid provider reference")
                    .with_span(span)
                    .with_help("write `provider = NAME` or `provider = NAME.ALIAS`"),
            );
            None
        })
    }

    fn provider_map(
        &self,
        value: &Expression,
        diags: &mut Diagnostics,
    ) -> Vec<(ProviderRef, ProviderRef)> {
        let Expression::Object(obj) = value else {
            diags.push(
                Diagnostic::error("`providers` must be a map")
                    .with_span(self.span(value))
                    .with_help("write `providers = { aws = aws.west }`"),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, val) in obj.iter() {
            let key_expr = match key {
                hcl_edit::expr::ObjectKey::Ident(id) => {
                    Expression::Variable(hcl_edit::Decorated::new(id.value().clone()))
                }
                hcl_edit::expr::ObjectKey::Expression(e) => e.clone(),
            };
            let child = self.provider_ref(&key_expr, diags).map(|mut r| {
                r.span = self.span(key);
                r
            });
            let parent = self.provider_ref(val.expr(), diags);
            if let (Some(c), Some(p)) = (child, parent) {
                out.push((c, p));
            }
        }
        out
    }

    fn literal_string(&self, value: &Expression, diags: &mut Diagnostics) -> Option<String> {
        if let Expression::String(s) = value {
            return Some(s.value().clone());
        }
        diags.push(
            Diagnostic::error("a literal string is required here")
                .with_span(self.span(value))
                .with_label("expressions are not allowed in this argument"),
        );
        None
    }

    fn literal_bool(&self, value: &Expression, diags: &mut Diagnostics) -> bool {
        if let Expression::Bool(b) = value {
            return *b.value();
        }
        diags.push(
            Diagnostic::error("a literal `true` or `false` is required here")
                .with_span(self.span(value)),
        );
        false
    }

    fn unsupported_argument(
        &self,
        block: &str,
        name: &str,
        attr: &hcl_edit::structure::Attribute,
        allowed: &[&str],
    ) -> Diagnostic {
        let d = Diagnostic::error(format!("unsupported argument `{name}` in `{block}` block"))
            .with_span(self.span(&attr.key))
            .with_label("not expected here");
        match did_you_mean(name, allowed.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None if allowed.is_empty() => d,
            None => d.with_help(format!("`{block}` accepts: {}", allowed.join(", "))),
        }
    }

    fn unsupported_block(&self, parent: &str, block: &Block, allowed: &[&str]) -> Diagnostic {
        let name = block.ident.as_str();
        let d = Diagnostic::error(format!("unsupported block `{name}` in `{parent}` block"))
            .with_span(self.span(&block.ident))
            .with_label("not expected here");
        match did_you_mean(name, allowed.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None if allowed.is_empty() => d,
            None => d.with_help(format!("`{parent}` accepts blocks: {}", allowed.join(", "))),
        }
    }
}

/// Tracks argument names in one body to report duplicates.
#[derive(Default)]
struct Seen {
    names: Vec<(String, Span)>,
}

impl Seen {
    fn insert(&mut self, name: &str, span: Span, diags: &mut Diagnostics) -> bool {
        if let Some((_, prev)) = self.names.iter().find(|(n, _)| n == name) {
            diags.push(duplicate("argument", name, span, *prev));
            return false;
        }
        self.names.push((name.to_owned(), span));
        true
    }

    fn contains(&self, name: &str) -> bool {
        self.names.iter().any(|(n, _)| n == name)
    }
}

fn duplicate(what: &str, name: &str, span: Span, previous: Span) -> Diagnostic {
    Diagnostic::error(format!("duplicate {what} `{name}`"))
        .with_span(span)
        .with_label("declared again here")
        .with_note(previous, "first declared here")
        .with_help(format!(
            "{what} names must be unique within a module; rename or remove one"
        ))
}

fn missing_argument(block: &str, name: &str, span: Span) -> Diagnostic {
    Diagnostic::error(format!(
        "missing required argument `{name}` in `{block}` block"
    ))
    .with_span(span)
    .with_help(format!("add `{name} = ...` to the block"))
}

/// `tags`, `tags["x"]` or `scaling_config[0].desired_size` in `ignore_changes`, as path
/// steps (a string names a top-level attribute, as Terraform 0.11 wrote them).
fn attribute_path(expr: &Expression) -> Option<Vec<PathStep>> {
    use hcl_edit::expr::TraversalOperator as Op;
    match expr {
        Expression::Variable(v) => Some(vec![PathStep::Attr(v.as_str().to_owned())]),
        Expression::String(s) => Some(
            s.value()
                .split('.')
                .map(|p| match p.parse::<usize>() {
                    Ok(i) => PathStep::Index(i),
                    Err(_) => PathStep::Attr(p.to_owned()),
                })
                .collect(),
        ),
        Expression::Traversal(t) => {
            let mut out = attribute_path(&t.expr)?;
            for op in &t.operators {
                out.push(match op.value() {
                    Op::GetAttr(n) => PathStep::Attr(n.as_str().to_owned()),
                    Op::Index(Expression::String(s)) => PathStep::Key(s.value().clone()),
                    Op::Index(Expression::Number(n)) => {
                        PathStep::Index(usize::try_from(n.value().as_u64()?).ok()?)
                    }
                    Op::LegacyIndex(n) => PathStep::Index(usize::try_from(*n.value()).ok()?),
                    _ => return None,
                });
            }
            Some(out)
        }
        _ => None,
    }
}

/// A Go-style duration (Terraform's `timeouts` syntax): `90m`, `1h30m`, `1.5h`, `45s`,
/// `500ms`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the duration is empty".into());
    }
    let mut total = 0.0_f64;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("`{text}` has a number without a unit (h, m, s, ms)"))?;
        let number: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{text}` is not a duration"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            other => {
                return Err(format!(
                    "unknown unit `{other}` in `{text}` (use h, m, s, ms)"
                ))
            }
        };
        total += number * seconds;
        rest = &rest[unit_len..];
    }
    if !(total.is_finite() && total > 0.0 && total < 1.0e9) {
        return Err(format!("`{text}` is not a positive duration"));
    }
    Ok(std::time::Duration::from_secs_f64(total))
}
