//! The front half of the data flow, in one call: load the stack, read input values, build
//! the configuration graph, report cycles, evaluate everything and expand it into the
//! resource-instance graph. `validate`, `graph` and `plan` all start here.

use crate::config::inputs::{collect_inputs, InputOptions, InputValue};
use crate::config::load::{load_stack, LoadOptions, ModuleSelection, Stack};
use crate::config::sources::ModuleFetcher;
use crate::diagnostics::Diagnostics;
use crate::graph::build::{build, ConfigGraph};
use crate::graph::cycle::find_cycles;
use crate::graph::instances::{build_instances, InstanceGraph};
use crate::graph::walk::{walk, Evaluation, WalkMode};
use std::collections::HashMap;
use std::path::Path;

/// A loaded stack with its inputs and configuration graph: the part of the data flow every
/// command shares before it evaluates (`validate` and `graph` with [`walk`], `plan` with the
/// planner).
pub struct Prepared {
    pub stack: Stack,
    pub inputs: HashMap<String, InputValue>,
    /// `None` when the stack could not be loaded at all.
    pub graph: Option<ConfigGraph>,
    /// The graph has a cycle: nothing can be evaluated in order.
    pub has_cycles: bool,
    pub diagnostics: Diagnostics,
}

/// Loads the stack at `path`, reads its inputs, builds the graph and reports cycles.
pub fn prepare(path: &Path, inputs: &InputOptions, fetcher: &ModuleFetcher) -> Prepared {
    prepare_selected(path, inputs, fetcher, &ModuleSelection::new())
}

/// [`prepare`] with the module calls that have `failover` loading the alternatives
/// `selection` names.
pub fn prepare_selected(
    path: &Path,
    inputs: &InputOptions,
    fetcher: &ModuleFetcher,
    selection: &ModuleSelection,
) -> Prepared {
    let (stack, mut diags) = load_stack(&LoadOptions {
        path,
        fetcher,
        selection,
    });
    // The stack's catalog (with its override files) must be in place before any
    // `accelerator_*` function is evaluated.
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(path)
    };
    let mut stack = stack;
    match crate::catalog::Catalog::load(Some(dir)) {
        Ok(catalog) => stack.catalog = std::sync::Arc::new(catalog),
        Err(e) => diags.push(crate::catalog::diagnostic(&e)),
    }
    prepare_loaded(stack, diags, inputs)
}

/// [`prepare`] for a stack already loaded (or built in memory).
pub fn prepare_loaded(mut stack: Stack, mut diags: Diagnostics, inputs: &InputOptions) -> Prepared {
    if stack.root().is_none() {
        return Prepared {
            stack,
            inputs: HashMap::new(),
            graph: None,
            has_cycles: false,
            diagnostics: diags,
        };
    }
    if let Some(d) = crate::state::backend::check(&stack) {
        diags.push(d);
    }
    diags.extend(crate::plan::refactor::check(&stack));
    diags.extend(crate::plan::imports::check(&stack));
    let (values, input_diags) = collect_inputs(&mut stack, inputs);
    diags.extend(input_diags);
    let graph = build(&stack, &mut diags);
    let cycles = find_cycles(&graph, &stack.sources);
    let has_cycles = !cycles.is_empty();
    for c in cycles {
        diags.push(c);
    }
    Prepared {
        stack,
        inputs: values,
        graph: Some(graph),
        has_cycles,
        diagnostics: diags,
    }
}

/// A stack, understood: everything later stages need.
pub struct Analysis {
    pub stack: Stack,
    pub config_graph: Option<ConfigGraph>,
    pub evaluation: Option<Evaluation>,
    pub instances: Option<InstanceGraph>,
    pub diagnostics: Diagnostics,
}

/// Options for [`analyze`].
pub struct AnalyzeOptions<'a> {
    pub path: &'a Path,
    pub inputs: &'a InputOptions,
    pub mode: WalkMode,
    pub fetcher: &'a ModuleFetcher,
    /// Build the instance graph (not needed to validate).
    pub instance_graph: bool,
}

/// Runs load -> inputs -> graph -> walk -> instances, collecting every diagnostic. Later
/// steps are skipped only when an earlier one makes them meaningless (a syntax error, a
/// cycle).
pub fn analyze(opts: &AnalyzeOptions<'_>) -> Analysis {
    let prepared = prepare(opts.path, opts.inputs, opts.fetcher);
    evaluate(prepared, opts.mode, opts.instance_graph)
}

fn evaluate(prepared: Prepared, mode: WalkMode, instance_graph: bool) -> Analysis {
    let Prepared {
        stack,
        inputs,
        graph,
        has_cycles,
        mut diagnostics,
    } = prepared;
    let mut analysis = Analysis {
        stack: Stack::default(),
        config_graph: None,
        evaluation: None,
        instances: None,
        diagnostics: Diagnostics::new(),
    };
    if let (Some(graph), false) = (&graph, has_cycles) {
        let evaluation = walk(&stack, graph, &inputs, mode, &mut diagnostics);
        if instance_graph {
            analysis.instances = Some(build_instances(graph, &evaluation));
        }
        analysis.evaluation = Some(evaluation);
    }
    analysis.config_graph = graph;
    analysis.stack = stack;
    analysis.diagnostics = diagnostics;
    analysis
}

/// Evaluates one in-memory file as a whole stack (no modules are fetched, no inputs): the
/// entry point of the fuzz target, and handy in tests.
pub fn evaluate_text(text: &str) -> (Option<Evaluation>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut stack = Stack::default();
    let id = stack.sources.add(Path::new("stack.hcl"), text.to_owned());
    let mut module = crate::config::model::Module::default();
    match hcl_edit::parser::parse_body(text) {
        Ok(body) => crate::config::decode::decode_file(&mut module, id, &body, &mut diags),
        Err(e) => {
            diags.push(crate::config::load::parse_error(&e, id, text));
            return (None, diags);
        }
    }
    stack
        .modules
        .insert(crate::addrs::ModulePath::root(), module);
    let analysis = evaluate(
        prepare_loaded(stack, diags, &InputOptions::default()),
        WalkMode::Validate,
        true,
    );
    // Rendering is part of what must never panic.
    for d in analysis.diagnostics.iter() {
        let _ = crate::diagnostics::render::render_human(d, &analysis.stack.sources, false);
    }
    (analysis.evaluation, analysis.diagnostics)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use gantry_provider::Value;

    fn config_of(text: &str, addr: &str) -> Value {
        let (ev, diags) = evaluate_text(text);
        assert!(
            !diags.has_errors(),
            "{:?}",
            diags.iter().map(|d| &d.summary).collect::<Vec<_>>()
        );
        let ev = ev.unwrap();
        let found = ev.instances.iter().find(|i| i.addr.to_string() == addr);
        found
            .unwrap_or_else(|| panic!("no instance {addr}"))
            .config
            .clone()
    }

    #[test]
    fn dynamic_blocks_expand_with_their_iterator() {
        let text = r#"
locals {
  ports = { ssh = 22, efa = 0 }
}
resource "aws_security_group" "efa" {
  name = "efa"
  dynamic "ingress" {
    for_each = local.ports
    iterator = rule
    content {
      description = rule.key
      from_port   = rule.value
    }
  }
  egress {
    self = true
  }
}
"#;
        let config = config_of(text, "aws_security_group.efa");
        let ingress = config.as_map().unwrap()["ingress"].clone();
        assert_eq!(
            ingress,
            Value::List(vec![
                Value::map([
                    ("description", "efa".into()),
                    ("from_port", Value::from(0_i64))
                ]),
                Value::map([
                    ("description", "ssh".into()),
                    ("from_port", Value::from(22_i64))
                ]),
            ])
        );
        assert_eq!(
            config.as_map().unwrap()["egress"],
            Value::List(vec![Value::map([("self", true.into())])])
        );
    }

    #[test]
    fn count_and_for_each_bind_their_keys() {
        let text = r#"
resource "gantry_data" "n" {
  count = 2
  input = "node-${count.index}"
}
resource "gantry_data" "z" {
  for_each = { a = 1, b = 2 }
  input    = "${each.key}=${each.value}"
}
"#;
        assert_eq!(
            config_of(text, "gantry_data.n[1]").as_map().unwrap()["input"],
            Value::from("node-1")
        );
        assert_eq!(
            config_of(text, "gantry_data.z[\"b\"]").as_map().unwrap()["input"],
            Value::from("b=2")
        );
    }

    #[test]
    fn unknown_attributes_of_resources_propagate() {
        let text = r#"
resource "gantry_data" "vpc" {
  input = "10.0.0.0/16"
}
resource "gantry_data" "subnet" {
  input = { vpc = gantry_data.vpc.id, cidr = cidrsubnet(gantry_data.vpc.input, 8, 1) }
}
"#;
        let config = config_of(text, "gantry_data.subnet");
        let input = config.as_map().unwrap()["input"].as_map().unwrap().clone();
        assert!(input["vpc"].is_unknown(), "ids are known after apply");
        assert_eq!(
            input["cidr"],
            Value::from("10.0.1.0/24"),
            "configured attributes are known"
        );
    }
}
