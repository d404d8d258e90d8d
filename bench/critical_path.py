"""The critical path of a stack under the moto launcher's --aws-timings, and where an
apply's (or destroy's) wall time went, from the launcher's own transition log.

    python bench/critical_path.py --graph GRAPH.dot --scale 0.05 --phase create \
        [--stats STATS.json --start T0 --end T1]

How the critical path is computed: `gantry graph` gives the stack's dependency edges
(resource instance -> what it depends on). Each resource gets a weight: the time the
launcher holds its type in a transitional state for this phase (AWS_SECONDS in
tests/moto/launcher.py x SCALE: an EKS cluster's create is 600 s x SCALE, its delete
300 s x SCALE ...), every other resource 0 (it is ready when its API call answers). The
critical path is the heaviest chain of dependent resources (creates follow the edges'
reverse: a resource starts after what it depends on; deletes follow them: a resource goes
before what it depends on), i.e. the least time any tool can need, given unlimited
parallelism and instant API calls. With --stats (GET /_gantry/stats after the run) and
the run's start and end (Unix seconds), the chain's held objects are looked up in the
launcher's transition log (by transition name, inside the run's window) and the wall time
is split into: lead-in (start -> first hold on the chain began), holds, poll overshoot
(hold ended -> the client's first describe that saw it done), gaps between links, tail.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("launcher", ROOT / "tests" / "moto" / "launcher.py")
launcher = importlib.util.module_from_spec(spec)
sys.modules["launcher"] = launcher  # dataclasses look their module up
spec.loader.exec_module(launcher)  # standard library only at import time

# resource type -> the launcher transition of its create and of its delete (a notebook
# instance is stopped before it is deleted: both holds).
TRANSITIONS = {
    "aws_eks_cluster": (["eks-cluster:create"], ["eks-cluster:delete"]),
    "aws_eks_node_group": (["eks-nodegroup:create"], ["eks-nodegroup:delete"]),
    "aws_fsx_lustre_file_system": (["fsx-lustre:create"], ["fsx-lustre:delete"]),
    "aws_sagemaker_domain": (["sagemaker-domain:create"], ["sagemaker-domain:delete"]),
    "aws_sagemaker_notebook_instance": (["sagemaker-notebook:create"],
                                        ["sagemaker-notebook:stop", "sagemaker-notebook:delete"]),
    "aws_instance": (["ec2-instance:run"], ["ec2-instance:terminate"]),
    "aws_nat_gateway": (["nat-gateway:create"], ["nat-gateway:delete"]),
}

EDGE = re.compile(r'^\s*"((?:[^"\\]|\\.)*)"\s*->\s*"((?:[^"\\]|\\.)*)"')
NODE = re.compile(r'^\s*"((?:[^"\\]|\\.)*)"\s*;')


def parse_dot(text: str) -> tuple[set[str], dict[str, set[str]]]:
    """Nodes and `depends on` edges of `gantry graph` DOT output."""
    nodes: set[str] = set()
    deps: dict[str, set[str]] = {}
    for line in text.splitlines():
        edge = EDGE.match(line)
        if edge:
            a, b = (x.replace('\\"', '"') for x in edge.groups())
            nodes |= {a, b}
            deps.setdefault(a, set()).add(b)
            continue
        node = NODE.match(line)
        if node:
            nodes.add(node.group(1).replace('\\"', '"'))
    return nodes, deps


def kind(address: str) -> str:
    return address.split(".")[0]


def holds(address: str, phase: str) -> list[str]:
    pair = TRANSITIONS.get(kind(address))
    return [] if pair is None else pair[0 if phase == "create" else 1]


def critical_path(nodes: set[str], deps: dict[str, set[str]], phase: str, scale: float) -> tuple[float, list[str]]:
    """The heaviest chain: for a create, a resource starts once everything it depends on is
    done; for a delete, once everything that depends on it is gone."""
    after: dict[str, set[str]] = {n: set() for n in nodes}  # n starts after these
    for a, bs in deps.items():
        for b in bs:
            if phase == "create":
                after[a].add(b)
            else:
                after[b].add(a)

    def weight(n: str) -> float:
        return sum(launcher.AWS_SECONDS[t] for t in holds(n, phase)) * scale

    @lru_cache(maxsize=None)
    def finish(n: str) -> tuple[float, tuple[str, ...]]:
        best: tuple[float, tuple[str, ...]] = (0.0, ())
        for m in after[n]:
            best = max(best, finish(m))
        return best[0] + weight(n), best[1] + (n,)

    total, chain = max((finish(n) for n in nodes), default=(0.0, ()))
    return total, [n for n in chain if weight(n) > 0]


def breakdown(chain: list[str], phase: str, stats: dict, start: float, end: float) -> dict:
    """Where the wall time between `start` and `end` went along `chain`."""
    log = [r for r in stats.get("transitions", []) if start <= r["began"] <= end]
    links = []
    for address in chain:
        for transition in holds(address, phase):
            found = [r for r in log if r["transition"] == transition]
            if not found:
                return {"error": f"no {transition} in the launcher's log between start and end"}
            # Several objects of the type (instances): the one the chain waited for longest.
            links.append(max(found, key=lambda r: r["observed"] or r["finished"] or r["ends"]))
    out = {"lead_in_s": round(links[0]["began"] - start, 2) if links else None, "links": []}
    previous = None
    for link in links:
        seen = link["observed"] or link["finished"] or link["ends"]
        out["links"].append({
            "transition": link["transition"],
            "object": link["object"],
            "gap_before_s": round(link["began"] - previous, 2) if previous is not None else None,
            "hold_s": round(link["ends"] - link["began"], 2),
            "overshoot_s": round(seen - link["ends"], 2),
        })
        previous = seen
    if previous is not None:
        out["tail_s"] = round(end - previous, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graph", required=True, help="`gantry graph` DOT output")
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--phase", choices=["create", "delete"], default="create")
    parser.add_argument("--stats", help="GET /_gantry/stats JSON, taken after the run")
    parser.add_argument("--start", type=float, help="Unix time the run started")
    parser.add_argument("--end", type=float, help="Unix time the run ended")
    args = parser.parse_args()
    nodes, deps = parse_dot(Path(args.graph).read_text())
    total, chain = critical_path(nodes, deps, args.phase, args.scale)
    result: dict = {"phase": args.phase, "critical_path_s": round(total, 2), "chain": chain}
    if args.stats:
        stats = json.loads(Path(args.stats).read_text())
        result["wall_s"] = round(args.end - args.start, 2)
        result["ratio"] = round((args.end - args.start) / total, 3) if total else None
        result["breakdown"] = breakdown(chain, args.phase, stats, args.start, args.end)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
