//! The front half of the data flow, in one call: load the stack, read input values, build
//! the configuration graph, report cycles, evaluate everything and expand it into the
//! resource-instance graph. `validate`, `graph` and (later) `plan` all start here.

use crate::config::inputs::{collect_inputs, InputOptions};
use crate::config::load::{load_stack, LoadOptions, Stack};
use crate::config::sources::ModuleFetcher;
use crate::diagnostics::Diagnostics;
use crate::graph::build::{build, ConfigGraph};
use crate::graph::cycle::find_cycles;
use crate::graph::instances::{build_instances, InstanceGraph};
use crate::graph::walk::{walk, Evaluation, WalkMode};
use std::path::Path;

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
}

/// Runs load -> inputs -> graph -> walk -> instances, collecting every diagnostic. Later
/// steps are skipped only when an earlier one makes them meaningless (a syntax error, a
/// cycle).
pub fn analyze(opts: &AnalyzeOptions<'_>) -> Analysis {
    let (mut stack, mut diags) = load_stack(&LoadOptions {
        path: opts.path,
        fetcher: opts.fetcher,
    });
    let mut analysis = Analysis {
        stack: Stack::default(),
        config_graph: None,
        evaluation: None,
        instances: None,
        diagnostics: Diagnostics::new(),
    };
    if stack.root().is_none() {
        analysis.stack = stack;
        analysis.diagnostics = diags;
        return analysis;
    }
    let (inputs, input_diags) = collect_inputs(&mut stack, opts.inputs);
    diags.extend(input_diags);
    let graph = build(&stack, &mut diags);
    let cycles = find_cycles(&graph, &stack.sources);
    let has_cycles = !cycles.is_empty();
    for c in cycles {
        diags.push(c);
    }
    if !has_cycles {
        let evaluation = walk(&stack, &graph, &inputs, opts.mode, &mut diags);
        analysis.instances = Some(build_instances(&graph, &evaluation));
        analysis.evaluation = Some(evaluation);
    }
    analysis.config_graph = Some(graph);
    analysis.stack = stack;
    analysis.diagnostics = diags;
    analysis
}

/// Analyzes one in-memory file as a whole stack (no modules are fetched): the entry point
/// of the fuzz target, and handy in tests.
pub fn analyze_text(text: &str) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let mut stack = Stack::default();
    let id = stack.sources.add(Path::new("fuzz.hcl"), text.to_owned());
    let mut module = crate::config::model::Module::default();
    match hcl_edit::parser::parse_body(text) {
        Ok(body) => crate::config::decode::decode_file(&mut module, id, &body, &mut diags),
        Err(e) => {
            diags.push(crate::config::load::parse_error(&e, id, text));
            return diags;
        }
    }
    stack
        .modules
        .insert(crate::addrs::ModulePath::root(), module);
    let graph = build(&stack, &mut diags);
    let cycles = find_cycles(&graph, &stack.sources);
    if cycles.is_empty() {
        let evaluation = walk(
            &stack,
            &graph,
            &Default::default(),
            WalkMode::Validate,
            &mut diags,
        );
        let _ = build_instances(&graph, &evaluation);
    }
    for c in cycles {
        diags.push(c);
    }
    // Rendering is part of what must never panic.
    for d in diags.iter() {
        let _ = crate::diagnostics::render::render_human(d, &stack.sources, false);
    }
    diags
}
