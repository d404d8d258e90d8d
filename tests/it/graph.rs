//! `gantry graph`: the instance graph with typed addresses, in DOT and Mermaid.

use crate::support::{gantry, repo_root};

#[test]
fn dot_graph_of_quickstart_has_instance_edges() {
    let run = gantry(&repo_root(), &["graph", "examples/quickstart"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let dot = &run.stdout;
    assert!(dot.starts_with("digraph gantry {"), "{dot}");
    // A subnet depends on the network; a worker's node on its own zone's subnet only.
    assert!(
        dot.contains("\"gantry_data.subnet[\\\"us-east-1a\\\"]\" -> \"gantry_data.network\";"),
        "{dot}"
    );
    assert!(dot.contains(
        "\"module.worker[\\\"alpha\\\"].gantry_data.node\" -> \"gantry_data.subnet[\\\"us-east-1a\\\"]\";"
    ), "{dot}");
    assert!(dot.contains(
        "\"module.worker[\\\"beta\\\"].gantry_data.node\" -> \"gantry_data.subnet[\\\"us-east-1b\\\"]\";"
    ), "{dot}");
    // Module instances are kept apart: alpha's scratch disk waits for alpha's node only.
    assert!(dot.contains(
        "\"module.worker[\\\"alpha\\\"].gantry_data.scratch\" -> \"module.worker[\\\"alpha\\\"].gantry_data.node\";"
    ), "{dot}");
    assert!(!dot.contains(
        "\"module.worker[\\\"alpha\\\"].gantry_data.scratch\" -> \"module.worker[\\\"beta\\\"].gantry_data.node\";"
    ), "{dot}");
    // Checkpoints depend on nothing.
    assert!(!dot.contains("\"gantry_data.checkpoints[0]\" ->"), "{dot}");
}

#[test]
fn mermaid_graph_lists_every_instance() {
    let run = gantry(
        &repo_root(),
        &["graph", "--format", "mermaid", "examples/quickstart"],
    );
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stdout.starts_with("graph RL\n"));
    let nodes = run.stdout.lines().filter(|l| l.contains("[\"")).count();
    assert_eq!(nodes, 9, "{}", run.stdout);
    assert!(
        run.stdout.contains("[\"gantry_data.checkpoints[1]\"]"),
        "{}",
        run.stdout
    );
}

#[test]
fn cycle_fails_the_graph_command() {
    let run = gantry(&crate::support::fixtures(), &["graph", "cycle"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("cycle: gantry_data.x -> local.a -> local.b -> gantry_data.x"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}
