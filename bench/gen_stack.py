#!/usr/bin/env python3
"""Generates a large synthetic stack for benchmarks.

    python3 bench/gen_stack.py OUT_DIR --resources 10000 --modules 50

Each module gets `for_each` subnets carved with `cidrsubnet`, `count` nodes that pick a
subnet by index and compute an address with `cidrhost`, and an output that the next module
consumes, so the graph has cross-module references.
"""
import argparse
import os
import shutil

MODULE = """\
variable "base_cidr" {{
  type = string
}}

variable "upstream" {{
  type    = list(string)
  default = []
}}

locals {{
  subnets = {{ for i in range({subnets}) : "s${{i}}" => cidrsubnet(var.base_cidr, 8, i) }}
}}

resource "gantry_data" "subnet" {{
  for_each = local.subnets

  input = {{
    cidr     = each.value
    upstream = length(var.upstream)
  }}
}}

resource "gantry_data" "node" {{
  count = {nodes}

  input = {{
    subnet = gantry_data.subnet["s${{count.index % {subnets}}}"].id
    ip     = cidrhost(local.subnets["s${{count.index % {subnets}}}"], count.index % 200 + 10)
    name   = format("node-%05d", count.index)
  }}
}}

output "subnet_ids" {{
  value = [for s in gantry_data.subnet : s.id]
}}
"""

ROOT_CALL = """\
module "m{i}" {{
  source    = "./modules/m{i}"
  base_cidr = cidrsubnet("10.0.0.0/8", 8, {i})
  upstream  = {upstream}
}}

"""


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--resources", type=int, default=10000)
    p.add_argument("--modules", type=int, default=50)
    a = p.parse_args()
    per_module = max(2, a.resources // a.modules)
    # A fixed fan-in (at most 50 subnets a node may reference) keeps edges linear in resources.
    subnets = max(1, min(50, per_module // 4))
    nodes = per_module - subnets
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    os.makedirs(os.path.join(a.out, "modules"))
    root = []
    for i in range(a.modules):
        d = os.path.join(a.out, "modules", f"m{i}")
        os.makedirs(d)
        with open(os.path.join(d, "main.hcl"), "w") as f:
            f.write(MODULE.format(subnets=subnets, nodes=nodes))
        upstream = "[]" if i == 0 else f"module.m{i - 1}.subnet_ids"
        root.append(ROOT_CALL.format(i=i, upstream=upstream))
    with open(os.path.join(a.out, "main.hcl"), "w") as f:
        f.write("".join(root))
    print(f"{a.modules} modules x ({subnets} subnets + {nodes} nodes) = "
          f"{a.modules * (subnets + nodes)} resources in {a.out}")


if __name__ == "__main__":
    main()
