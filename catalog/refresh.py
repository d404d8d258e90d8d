#!/usr/bin/env python3
"""Validate and refresh gantry's accelerator catalog (catalog/catalog.toml).

Offline (what CI runs):

    python3 catalog/refresh.py --check                 # validate the built-in catalog
    python3 catalog/refresh.py --check FILE            # validate another full catalog file
    python3 catalog/refresh.py --check-override FILE   # merge a user override onto the built-in
                                                       # catalog as gantry does, validate the result

Online (needs network; rewrites prices in place, bumps `taken` and `version`):

    python3 catalog/refresh.py --aws [--aws-spot]      # AWS Price List bulk API (+ spot via aws CLI)
    python3 catalog/refresh.py --azure                 # Azure Retail Prices API
    GCP_API_KEY=... python3 catalog/refresh.py --gcp   # Cloud Billing Catalog API
    python3 catalog/refresh.py --all --dry-run         # fetch everything, print, write nothing

Standard library only. The refresh edits the price fields of the region lines in place and
leaves everything else in the file (comments, order, layout) as it is, so the committed file is
exactly what a refresh writes. Only prices are refreshed; which regions and zones sell a type,
specs and quotas are maintained by hand (see catalog/README.md).

Safety: a fetched price that differs from the catalog's by more than --max-change (default 2x)
either way is reported and not written unless --force: a wrong SKU match must not silently
replace a plausible price. A price that cannot be matched to exactly one offer is left unchanged
and reported.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CATALOG = os.path.join(HERE, "catalog.toml")
USER_AGENT = "gantry-catalog-refresh/1"

CLOUDS = {"aws", "gcp", "azure"}
KINDS = {"gpu", "tpu", "trainium", "inferentia"}
VENDORS = {"nvidia", "google", "aws"}
UNITS = {"vcpus", "gpus", "chips"}
INTERCONNECTS = {
    "EFA",
    "GPUDirect-TCPX",
    "GPUDirect-TCPXO",
    "GPUDirect-RDMA",
    "InfiniBand",
    "ICI",
    "Ethernet",
}
QUOTA_SERVICES = {"aws": {"ec2"}, "gcp": {"compute", "tpu"}, "azure": {"Microsoft.Compute"}}

# The project's tests run against emulators that offer these placements; the built-in catalog
# must keep them (checked only for the built-in file, not for user catalogs).
TEST_FIXTURES = {
    ("aws", "p5.48xlarge"): {"us-east-1", "us-west-2"},
    ("aws", "p4d.24xlarge"): {"us-east-1"},
    ("aws", "g6.xlarge"): {"us-east-1"},
    ("aws", "g6.2xlarge"): {"us-east-1"},
    ("aws", "g6.12xlarge"): {"us-east-1"},
    ("aws", "g5.xlarge"): {"us-east-1"},
    ("aws", "trn1.32xlarge"): {"us-east-1"},
    ("aws", "inf2.xlarge"): {"us-east-1"},
}
TEST_FIXTURE_ZONES = {"us-east-1": {"us-east-1a", "us-east-1b", "us-east-1c"}}


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def aws_family(instance_type: str) -> str:
    """The letters before the generation digit: p5e.48xlarge -> p, trn1n.32xlarge -> trn."""
    m = re.match(r"([a-z]+)\d", instance_type)
    return m.group(1) if m else ""


def topology_product(topology: str) -> int | None:
    parts = topology.split("x")
    if not all(p.isdigit() and int(p) > 0 for p in parts):
        return None
    return math.prod(int(p) for p in parts)


def gke_tpu_machine_type(typ: str) -> bool:
    """A GKE TPU machine type (`ct5lp-hightpu-4t`): one node of a slice, on Compute Engine."""
    return re.fullmatch(r"ct[0-9a-z]+-[a-z]+-\d+t", typ) is not None


def tpu_chips_from_type(accelerator_type: str) -> int | None:
    """Chips implied by a TPU accelerator type name. v4/v5p suffixes count TensorCores (two per
    chip); v5litepod/v6e suffixes count chips; a GKE TPU machine type's `-Nt` counts chips."""
    gke = re.fullmatch(r"ct[0-9a-z]+-[a-z]+-(\d+)t", accelerator_type)
    if gke:
        return int(gke.group(1))
    m = re.fullmatch(r"(v4|v5p|v5litepod|v6e)-(\d+)", accelerator_type)
    if not m:
        return None
    n = int(m.group(2))
    return n // 2 if m.group(1) in ("v4", "v5p") else n


ZONE_PATTERNS = {
    "aws": lambda region, zone: re.fullmatch(re.escape(region) + r"[a-z]", zone) is not None,
    "gcp": lambda region, zone: re.fullmatch(re.escape(region) + r"-[a-z]", zone) is not None,
    "azure": lambda region, zone: zone in {"1", "2", "3"},
}


def check_catalog(doc: dict, builtin: bool) -> list[str]:
    """Every problem found in a full catalog document, as readable lines. `builtin` adds the
    rules for the shipped file: the test-fixture placements, and fields that gantry's loader
    would default (quota `spot`, `request_url`, `interconnect_gbps`) must be written out."""
    errors: list[str] = []
    err = errors.append

    if not isinstance(doc.get("version"), str) or not doc.get("version"):
        err("top level: `version` must be a non-empty string")
    taken = doc.get("taken")
    try:
        dt.date.fromisoformat(taken if isinstance(taken, str) else "")
    except ValueError:
        err(f"top level: `taken` must be a YYYY-MM-DD date, got {taken!r}")
    hpm = doc.get("hours_per_month")
    if not isinstance(hpm, (int, float)) or not 600 <= hpm <= 800:
        err(f"top level: `hours_per_month` must be a number near 730, got {hpm!r}")

    for i, s in enumerate(doc.get("source", [])):
        where = f"source #{i + 1}"
        if s.get("cloud") not in CLOUDS:
            err(f"{where}: cloud {s.get('cloud')!r} not one of {sorted(CLOUDS)}")
        if not s.get("what"):
            err(f"{where}: `what` is empty")
        if not str(s.get("url", "")).startswith("https://"):
            err(f"{where}: url must be https, got {s.get('url')!r}")
    if not doc.get("source"):
        err("no [[source]] entries: every figure must say where it comes from")

    # Accelerators: names and aliases share one case-insensitive namespace.
    accelerators: dict[str, dict] = {}
    spellings: dict[str, str] = {}
    for a in doc.get("accelerator", []):
        name = a.get("name")
        where = f"accelerator {name!r}"
        if not isinstance(name, str) or not name:
            err("accelerator without a name")
            continue
        if name in accelerators:
            err(f"{where}: defined twice")
        accelerators[name] = a
        for spelling in [name] + list(a.get("aliases", [])):
            key = spelling.lower()
            if key in spellings and spellings[key] != name:
                err(f"{where}: spelling {spelling!r} also names {spellings[key]!r}")
            spellings[key] = name
        if a.get("kind") not in KINDS:
            err(f"{where}: kind {a.get('kind')!r} not one of {sorted(KINDS)}")
        if a.get("vendor") not in VENDORS:
            err(f"{where}: vendor {a.get('vendor')!r} not one of {sorted(VENDORS)}")
        if not isinstance(a.get("memory_gib"), (int, float)) or a.get("memory_gib", 0) <= 0:
            err(f"{where}: memory_gib must be > 0")

    quotas: dict[tuple[str, str], dict] = {}
    for q in doc.get("quota", []):
        cloud, code = q.get("cloud"), q.get("code")
        where = f"quota {cloud}/{code}"
        if cloud not in CLOUDS:
            err(f"{where}: unknown cloud")
            continue
        if (cloud, code) in quotas:
            err(f"{where}: defined twice")
        quotas[(cloud, code)] = q
        if q.get("service") not in QUOTA_SERVICES[cloud]:
            err(f"{where}: service {q.get('service')!r} not one of {sorted(QUOTA_SERVICES[cloud])}")
        if q.get("unit") not in UNITS:
            err(f"{where}: unit {q.get('unit')!r} not one of {sorted(UNITS)}")
        if not q.get("name"):
            err(f"{where}: name is empty")
        if not isinstance(q.get("spot", False if not builtin else None), bool):
            err(f"{where}: `spot` must be true or false")
        if cloud == "aws":
            if not re.fullmatch(r"L-[0-9A-F]{8}", str(code)):
                err(f"{where}: not an AWS quota code (L-XXXXXXXX)")
            if not q.get("families"):
                err(f"{where}: aws quotas need `families`")
            if q.get("unit") != "vcpus":
                err(f"{where}: EC2 instance quotas count vcpus")
        elif "families" in q:
            err(f"{where}: `families` is for aws quotas only")
        if cloud == "azure" and q.get("unit") != "vcpus":
            err(f"{where}: Azure compute quotas count vcpus")
        if (builtin or "request_url" in q) and not str(q.get("request_url", "")).startswith("https://"):
            err(f"{where}: request_url must be https")

    seen: set[tuple[str, str]] = set()
    for inst in doc.get("instance", []):
        cloud, typ = inst.get("cloud"), inst.get("type")
        where = f"instance {cloud}/{typ}"
        if cloud not in CLOUDS or not isinstance(typ, str) or not typ:
            err(f"{where}: needs a known cloud and a type")
            continue
        if (cloud, typ) in seen:
            err(f"{where}: defined twice")
        seen.add((cloud, typ))

        acc = accelerators.get(inst.get("accelerator", ""))
        if acc is None:
            err(f"{where}: accelerator {inst.get('accelerator')!r} is not a canonical [[accelerator]] name")
        count = inst.get("accelerator_count")
        if not isinstance(count, int) or count <= 0:
            err(f"{where}: accelerator_count must be a positive integer")
            count = None
        for k in ("vcpus", "memory_gib"):
            if not isinstance(inst.get(k), (int, float)) or inst.get(k) <= 0:
                err(f"{where}: {k} must be > 0")
        gbps = inst.get("interconnect_gbps")
        if not isinstance(gbps, (int, float)) or gbps < 0 or (builtin and gbps == 0):
            err(f"{where}: interconnect_gbps must be > 0")
        if not isinstance(inst.get("network_interfaces"), int) or inst["network_interfaces"] < 0:
            err(f"{where}: network_interfaces must be an integer >= 0")
        if inst.get("interconnect") not in INTERCONNECTS:
            err(f"{where}: interconnect {inst.get('interconnect')!r} not one of {sorted(INTERCONNECTS)}")
        if cloud == "aws" and inst.get("interconnect") == "EFA" and inst.get("network_interfaces", 0) < 1:
            err(f"{where}: EFA instances need network_interfaces >= 1 (max EFA interfaces)")

        # Quotas: the on-demand quota must exist and not be a spot quota, and the other way round.
        for key, want_spot in (("quota", False), ("spot_quota", True)):
            code = inst.get(key)
            if code is None:
                if key == "quota":
                    err(f"{where}: no quota")
                continue
            q = quotas.get((cloud, code))
            if q is None:
                err(f"{where}: {key} {code!r} is not a [[quota]] of cloud {cloud}")
                continue
            if q.get("spot", False) is not want_spot:
                err(f"{where}: {key} {code!r} has spot = {q.get('spot', False)}")
            if cloud == "aws" and aws_family(typ) not in q.get("families", []):
                err(f"{where}: {key} {code!r} does not count family {aws_family(typ)!r}")
            if acc is not None and q.get("unit") != "vcpus":
                want_unit = "chips" if acc.get("kind") == "tpu" else "gpus"
                if q.get("unit") != want_unit:
                    err(f"{where}: {key} {code!r} counts {q.get('unit')}, expected {want_unit}")
            if cloud == "gcp" and acc is not None:
                # TPUs made by GKE draw on Compute Engine quotas, not Cloud TPU API ones.
                by_tpu_api = acc.get("kind") == "tpu" and not gke_tpu_machine_type(typ)
                want_service = "tpu" if by_tpu_api else "compute"
                if q.get("service") != want_service:
                    err(f"{where}: {key} {code!r} is a {q.get('service')} quota, expected {want_service}")

        # TPU slices: topology, and the type name's size must agree with the chip count.
        topology = inst.get("topology")
        is_tpu = acc is not None and acc.get("kind") == "tpu"
        if is_tpu:
            if not isinstance(topology, str):
                err(f"{where}: TPU slices need a topology")
            else:
                product = topology_product(topology)
                if product is None:
                    err(f"{where}: topology {topology!r} is not like 2x2 or 2x2x4")
                elif count is not None and product != count:
                    err(f"{where}: topology {topology} has {product} chips, accelerator_count is {count}")
                version = inst.get("accelerator", "")
                dims = topology.count("x") + 1
                if version in ("tpu-v4", "tpu-v5p") and dims != 3:
                    err(f"{where}: {version} topologies are 3-D")
                if version in ("tpu-v5e", "tpu-v6e") and dims != 2:
                    err(f"{where}: {version} topologies are 2-D")
            implied = tpu_chips_from_type(typ)
            if implied is None:
                err(f"{where}: not a TPU accelerator type name (v4-N, v5p-N, v5litepod-N, v6e-N) "
                    "or GKE TPU machine type (ct5lp-hightpu-4t)")
            elif count is not None and implied != count:
                err(f"{where}: the type name implies {implied} chips, accelerator_count is {count}")
            if cloud != "gcp":
                err(f"{where}: TPUs are sold by gcp only")
        elif topology is not None:
            err(f"{where}: topology is for TPU slices only")
        if inst.get("slice_node", False) is not gke_tpu_machine_type(typ):
            err(f"{where}: slice_node = true marks GKE TPU machine types (one node of a slice), and only them")

        regions = inst.get("regions")
        if not isinstance(regions, list) or not regions:
            err(f"{where}: needs at least one region")
            continue
        has_spot = False
        region_names: set[str] = set()
        for reg in regions:
            rname = reg.get("region")
            rwhere = f"{where} in {rname}"
            if not isinstance(rname, str) or not rname:
                err(f"{where}: region entry without a region name")
                continue
            if rname in region_names:
                err(f"{rwhere}: region listed twice")
            region_names.add(rname)
            zones = reg.get("zones")
            if not isinstance(zones, list) or not zones:
                err(f"{rwhere}: no zones")
            else:
                if len(set(zones)) != len(zones):
                    err(f"{rwhere}: a zone is listed twice")
                for z in zones:
                    if not ZONE_PATTERNS[cloud](rname, str(z)):
                        err(f"{rwhere}: zone {z!r} is not a zone name of this region")
            od = reg.get("on_demand")
            if not isinstance(od, (int, float)) or not od > 0:
                err(f"{rwhere}: on_demand must be > 0")
            if "spot" in reg:
                has_spot = True
                sp = reg["spot"]
                if not isinstance(sp, (int, float)) or not sp > 0:
                    err(f"{rwhere}: spot must be > 0")
                elif isinstance(od, (int, float)) and sp >= od:
                    err(f"{rwhere}: spot {sp} is not below on-demand {od}")
        if has_spot and not inst.get("spot_quota"):
            err(f"{where}: sells spot but names no spot_quota")

    if builtin:
        by_key = {(i.get("cloud"), i.get("type")): i for i in doc.get("instance", [])}
        for key, need_regions in TEST_FIXTURES.items():
            inst = by_key.get(key)
            if inst is None:
                err(f"test fixture: instance {key[0]}/{key[1]} is missing")
                continue
            have = {r.get("region"): set(r.get("zones", [])) for r in inst.get("regions", [])}
            for rname in need_regions:
                if rname not in have:
                    err(f"test fixture: {key[1]} must list region {rname}")
                elif not TEST_FIXTURE_ZONES.get(rname, set()) <= have[rname]:
                    err(f"test fixture: {key[1]} in {rname} must list zones "
                        f"{sorted(TEST_FIXTURE_ZONES[rname])}")
    return errors


OVERRIDE_TABLES = {"source", "accelerator", "quota", "instance", "rate"}
INSTANCE_FIELDS_REQUIRED_WHEN_NEW = ("accelerator", "accelerator_count", "vcpus", "memory_gib")


def merge_override(base: dict, override: dict) -> tuple[dict, list[str]]:
    """The built-in catalog with a user override applied the way gantry's loader
    (src/catalog/load.rs) applies it: an instance with the same (cloud, type) is merged field by
    field, and its `regions` merge by region, an override region entry replacing the built-in
    entry for that region whole; accelerators (by name), quotas (by cloud + code) and rates
    (by cloud + resource + when) replace whole entries; anything new is added; sources are
    appended. An override has no top-level keys. Returns the merged catalog and the problems."""
    problems = [f"override: top-level `{k}` is not allowed in an override file"
                for k in override if k not in OVERRIDE_TABLES]
    merged = json.loads(json.dumps(base))  # deep copy of plain TOML data
    merged.setdefault("source", []).extend(override.get("source", []))

    def replace_or_add(table: str, key_of) -> None:
        entries = merged.setdefault(table, [])
        for entry in override.get(table, []):
            for n, existing in enumerate(entries):
                if key_of(existing) == key_of(entry):
                    entries[n] = entry
                    break
            else:
                entries.append(entry)

    replace_or_add("accelerator", lambda e: e.get("name"))
    replace_or_add("quota", lambda e: (e.get("cloud"), e.get("code")))
    replace_or_add("rate", lambda e: (e.get("cloud"), e.get("resource"), e.get("when", {})))

    instances = merged.setdefault("instance", [])
    for entry in override.get("instance", []):
        key = (entry.get("cloud"), entry.get("type"))
        target = next((i for i in instances if (i.get("cloud"), i.get("type")) == key), None)
        if target is None:
            missing = [f for f in INSTANCE_FIELDS_REQUIRED_WHEN_NEW if f not in entry]
            if missing:
                problems.append(f"override: new instance {key[0]}/{key[1]} needs {', '.join(missing)}")
                continue
            new_entry = {"interconnect": "Ethernet", "interconnect_gbps": 0, "network_interfaces": 0,
                         "regions": []} | entry
            instances.append(new_entry)
            continue
        for field_name, value in entry.items():
            if field_name != "regions":
                target[field_name] = value
        regions = target.setdefault("regions", [])
        for reg in entry.get("regions", []):
            for n, existing in enumerate(regions):
                if existing.get("region") == reg.get("region"):
                    kept = {k: existing[k] for k in ("zones", "spot") if k in existing and k not in reg}
                    regions[n] = reg | kept
                    break
            else:
                regions.append(reg)
    return merged, problems


# --------------------------------------------------------------------------------------------
# Fetching (online)
# --------------------------------------------------------------------------------------------


@dataclass
class Fetched:
    """Prices found per (cloud, type, region), and what could not be matched."""

    prices: dict[tuple[str, str, str], dict[str, float]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def put(self, cloud: str, typ: str, region: str, kind: str, price: float) -> None:
        self.prices.setdefault((cloud, typ, region), {})[kind] = price


def http_get(url: str, timeout: float) -> bytes:
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.read()


def http_json(url: str, timeout: float) -> dict:
    return json.loads(http_get(url, timeout))


def instances_of(doc: dict, cloud: str) -> list[dict]:
    return [i for i in doc.get("instance", []) if i.get("cloud") == cloud]


def models_spot(inst: dict) -> bool:
    """Spot prices are fetched only for types the catalog sells as spot, i.e. that name a spot
    quota: adding spot to a type is a hand edit (the quota has to be known too)."""
    return bool(inst.get("spot_quota"))


# AWS ----------------------------------------------------------------------------------------
# Price List bulk API: region_index.json names the current offer file of every region; each
# offer file also exists as CSV next to the JSON. The CSV is streamed row by row (us-east-1 is
# several hundred MB) and only the catalog's instance types are kept.
AWS_PRICING_HOST = "https://pricing.us-east-1.amazonaws.com"
AWS_REGION_INDEX = AWS_PRICING_HOST + "/offers/v1.0/aws/AmazonEC2/current/region_index.json"


def aws_on_demand_row(row: dict[str, str], wanted: set[str]) -> bool:
    """The one row per instance type that is the plain on-demand Linux price: OnDemand term,
    shared tenancy, no pre-installed software, no license, a running instance (not an unused
    capacity reservation), priced per hour in USD."""
    return (
        row.get("Instance Type") in wanted
        and row.get("TermType") == "OnDemand"
        and row.get("Product Family", "").startswith("Compute Instance")
        and row.get("Operating System") == "Linux"
        and row.get("Tenancy") == "Shared"
        and row.get("Pre Installed S/W") in ("NA", "")
        and row.get("License Model") in ("No License required", "")
        and row.get("CapacityStatus") in ("Used", "")
        and row.get("Operation", "RunInstances") == "RunInstances"
        and row.get("Unit") == "Hrs"
        and row.get("Currency", "USD") == "USD"
    )


def fetch_aws(doc: dict, timeout: float, with_spot: bool) -> Fetched:
    out = Fetched()
    by_region: dict[str, set[str]] = {}
    zones_of: dict[tuple[str, str], list[str]] = {}
    spot_types = {i["type"] for i in instances_of(doc, "aws") if models_spot(i)}
    for inst in instances_of(doc, "aws"):
        for reg in inst["regions"]:
            by_region.setdefault(reg["region"], set()).add(inst["type"])
            zones_of[(inst["type"], reg["region"])] = reg["zones"]

    index = http_json(AWS_REGION_INDEX, timeout)
    for region, wanted in sorted(by_region.items()):
        entry = index.get("regions", {}).get(region)
        if entry is None:
            out.problems.append(f"aws: region {region} is not in the price list region index")
            continue
        csv_url = AWS_PRICING_HOST + entry["currentVersionUrl"].replace(".json", ".csv")
        print(f"aws: reading {csv_url}", file=sys.stderr)
        found: dict[str, set[float]] = {}
        req = urllib.request.Request(csv_url, headers={"User-Agent": USER_AGENT})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = io.TextIOWrapper(resp, encoding="utf-8", newline="")
            reader = csv.reader(text)
            header: list[str] | None = None
            for raw in reader:
                if header is None:
                    # The file opens with metadata lines (FormatVersion, Disclaimer, ...).
                    if raw and raw[0] == "SKU":
                        header = raw
                    continue
                row = dict(zip(header, raw))
                if aws_on_demand_row(row, wanted):
                    try:
                        price = float(row["PricePerUnit"])
                    except ValueError:
                        continue
                    if price > 0:
                        found.setdefault(row["Instance Type"], set()).add(price)
        for typ in sorted(wanted):
            prices = found.get(typ, set())
            if len(prices) == 1:
                out.put("aws", typ, region, "on_demand", prices.pop())
            elif not prices:
                out.problems.append(f"aws: no on-demand Linux price for {typ} in {region} "
                                    "(capacity-block-only types have none)")
            else:
                out.problems.append(f"aws: {typ} in {region} matched several prices {sorted(prices)}")
        if with_spot:
            for typ in sorted(wanted & spot_types):
                spot = aws_spot_price(typ, region, zones_of[(typ, region)], timeout)
                if spot is None:
                    out.problems.append(f"aws: no spot price for {typ} in {region}")
                else:
                    out.put("aws", typ, region, "spot", spot)
    return out


def aws_spot_price(typ: str, region: str, zones: list[str], timeout: float) -> float | None:
    """Median current spot price over the catalog's zones. Needs the aws CLI and credentials
    (ec2:DescribeSpotPriceHistory); there is no unauthenticated spot price API."""
    if shutil.which("aws") is None:
        return None
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    cmd = [
        "aws", "ec2", "describe-spot-price-history", "--region", region,
        "--instance-types", typ, "--product-descriptions", "Linux/UNIX",
        "--start-time", now, "--output", "json",
    ]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        print(f"aws: spot price lookup failed for {typ} in {region}: {e}", file=sys.stderr)
        return None
    history = json.loads(res.stdout).get("SpotPriceHistory", [])
    latest: dict[str, float] = {}
    for h in sorted(history, key=lambda h: h.get("Timestamp", "")):
        if h.get("AvailabilityZone") in zones:
            latest[h["AvailabilityZone"]] = float(h["SpotPrice"])
    return round(statistics.median(latest.values()), 4) if latest else None


# Azure --------------------------------------------------------------------------------------
# Retail Prices API: unauthenticated OData. Filter values are case-sensitive from
# api-version 2023-01-01-preview on. One VM size in one region gives a handful of Consumption
# meters: Linux, Windows (productName ends in "Windows"), "... Spot" and "... Low Priority".
AZURE_PRICES = "https://prices.azure.com/api/retail/prices"


def fetch_azure(doc: dict, timeout: float) -> Fetched:
    out = Fetched()
    for inst in instances_of(doc, "azure"):
        for reg in inst["regions"]:
            flt = (
                "serviceName eq 'Virtual Machines' and priceType eq 'Consumption' "
                f"and armSkuName eq '{inst['type']}' and armRegionName eq '{reg['region']}'"
            )
            url = AZURE_PRICES + "?" + urllib.parse.urlencode(
                {"api-version": "2023-01-01-preview", "$filter": flt})
            items: list[dict] = []
            while url:
                page = http_json(url, timeout)
                items.extend(page.get("Items", []))
                url = page.get("NextPageLink")
            on_demand, spot = [], []
            for it in items:
                meter = f"{it.get('meterName', '')} {it.get('skuName', '')}"
                if "Windows" in it.get("productName", ""):
                    continue
                if it.get("unitOfMeasure") != "1 Hour" or it.get("currencyCode", "USD") != "USD":
                    continue
                if "Low Priority" in meter:
                    continue
                (spot if "Spot" in meter else on_demand).append(it)
            wanted = [("on_demand", on_demand)] + ([("spot", spot)] if models_spot(inst) else [])
            for kind, cands in wanted:
                if not cands:
                    if kind == "on_demand" or "spot" in reg:
                        out.problems.append(f"azure: no {kind} meter for {inst['type']} in {reg['region']}")
                    continue
                # Several meters can be live at once when a price change is scheduled: the
                # latest effective one wins.
                best = max(cands, key=lambda it: it.get("effectiveStartDate", ""))
                out.put("azure", inst["type"], reg["region"], kind, float(best["retailPrice"]))
    return out


# GCP ----------------------------------------------------------------------------------------
# Cloud Billing Catalog API: needs an API key (env GCP_API_KEY). A GPU VM has no single SKU:
# its price is vCPUs x "<series> Instance Core" + GiB x "<series> Instance Ram" + GPUs x the GPU
# SKU, each matched by description, category.resourceGroup, usageType (OnDemand or
# Preemptible) and serviceRegions. TPU SKUs are per chip-hour ("TpuV5e", "TpuV5p", "TpuV6e" in
# the Compute Engine service, "Tpu-v4 ... Pod" in the Cloud TPU service); preemptible TPU SKUs
# say "Preemptible" in the description while their usageType stays OnDemand. The matching
# strings follow SkyPilot's GCP catalog fetcher; a type whose SKUs are not found exactly is
# reported, not guessed.
GCP_BILLING = "https://cloudbilling.googleapis.com/v1"
GCE_SERVICE_ID = "6F81-5844-456A"
TPU_SERVICE_ID = "E000-3F24-B8AA"
GCP_EXCLUDE = ("custom", "premium", "reserved", "sole tenancy", "commit", "dws", "flex",
               "calendar", "defined duration", "confidential", "extended")

# machine-type prefix -> (core/ram description candidates, most specific first; GPU descriptions)
GCP_VM_SKUS = {
    "a2-highgpu": (["A2 Instance"], ["A100 GPU"]),
    "a2-ultragpu": (["A2 Instance"], ["A100 80GB GPU"]),
    "a3-highgpu": (["A3 Instance"], ["H100 80GB GPU"]),
    "a3-megagpu": (["A3 Mega Instance", "A3 Instance"],
                   ["H100 80GB Mega GPU", "H100 Mega 80GB GPU", "H100 80GB Plus GPU"]),
    "a3-ultragpu": (["A3 Ultra Instance", "A3 Instance"], ["H200 141GB GPU"]),
    "g2-standard": (["G2 Instance"], ["L4 GPU"]),
}
GCP_TPU_SKUS = {"tpu-v4": "Tpu-v4", "tpu-v5e": "TpuV5e", "tpu-v5p": "TpuV5p", "tpu-v6e": "TpuV6e"}


def gcp_skus(service_id: str, key: str, timeout: float) -> list[dict]:
    skus: list[dict] = []
    token = ""
    while True:
        params = {"key": key, "currencyCode": "USD", "pageSize": "5000"}
        if token:
            params["pageToken"] = token
        page = http_json(f"{GCP_BILLING}/services/{service_id}/skus?" + urllib.parse.urlencode(params), timeout)
        skus.extend(page.get("skus", []))
        token = page.get("nextPageToken", "")
        if not token:
            break
    return [
        s for s in skus
        if s.get("category", {}).get("resourceFamily") == "Compute"
        and s.get("category", {}).get("usageType") in ("OnDemand", "Preemptible")
        and not any(word in s.get("description", "").lower() for word in GCP_EXCLUDE)
    ]


def gcp_unit_price(sku: dict) -> float:
    expr = sku["pricingInfo"][0]["pricingExpression"]
    rate = min(expr["tieredRates"], key=lambda t: t.get("startUsageAmount", 0))["unitPrice"]
    return int(rate.get("units", 0)) + rate.get("nanos", 0) / 1e9


def gcp_pick(skus: list[dict], region: str, usage: str, pred) -> list[dict]:
    return [s for s in skus
            if region in s.get("serviceRegions", [])
            and s["category"]["usageType"] == usage
            and pred(s)]


def fetch_gcp(doc: dict, timeout: float) -> Fetched:
    out = Fetched()
    key = os.environ.get("GCP_API_KEY")
    if not key:
        out.problems.append("gcp: set GCP_API_KEY (an API key with the Cloud Billing API enabled)")
        return out
    gce = gcp_skus(GCE_SERVICE_ID, key, timeout)
    tpu = gcp_skus(TPU_SERVICE_ID, key, timeout)
    accelerators = {a["name"]: a for a in doc.get("accelerator", [])}

    for inst in instances_of(doc, "gcp"):
        typ = inst["type"]
        is_tpu = accelerators.get(inst["accelerator"], {}).get("kind") == "tpu"
        for reg in inst["regions"]:
            region = reg["region"]
            kinds = ["on_demand"] + (["spot"] if models_spot(inst) else [])
            for kind in kinds:
                if is_tpu:
                    price, why = gcp_tpu_price(inst, region, kind == "spot", gce + tpu)
                else:
                    price, why = gcp_vm_price(inst, region, kind == "spot", gce)
                if price is None:
                    out.problems.append(f"gcp: {typ} {kind} in {region}: {why}")
                else:
                    out.put("gcp", typ, region, kind, round(price, 6))
    return out


def gcp_vm_price(inst: dict, region: str, spot: bool, skus: list[dict]) -> tuple[float | None, str]:
    prefix = "-".join(inst["type"].split("-")[:2])
    if prefix not in GCP_VM_SKUS:
        return None, f"no SKU rule for machine family {prefix}"
    series_names, gpu_names = GCP_VM_SKUS[prefix]
    usage = "Preemptible" if spot else "OnDemand"

    def one(pred, what: str) -> tuple[float | None, str]:
        found = gcp_pick(skus, region, usage, pred)
        prices = {gcp_unit_price(s) for s in found}
        if len(prices) == 1:
            return prices.pop(), ""
        return None, f"{len(found)} SKUs match {what}"

    for series in series_names:
        def is_series(s, part):
            d = s["description"]
            group = s["category"].get("resourceGroup", "")
            return series.lower() in d.lower() and (part in d or group == ("CPU" if part == "Core" else "RAM"))
        core, why_core = one(lambda s: is_series(s, "Core") and "Ram" not in s["description"], f"{series} Core")
        ram, why_ram = one(lambda s: is_series(s, "Ram") and "Core" not in s["description"], f"{series} Ram")
        if core is not None and ram is not None:
            break
    else:
        return None, f"{why_core}; {why_ram}"
    gpu, why_gpu = one(lambda s: s["category"].get("resourceGroup") == "GPU"
                       and any(g in s["description"] for g in gpu_names), f"GPU {gpu_names}")
    if gpu is None:
        return None, why_gpu
    return core * inst["vcpus"] + ram * inst["memory_gib"] + gpu * inst["accelerator_count"], ""


def gcp_tpu_price(inst: dict, region: str, spot: bool, skus: list[dict]) -> tuple[float | None, str]:
    tag = GCP_TPU_SKUS.get(inst["accelerator"])
    if tag is None:
        return None, f"no SKU rule for {inst['accelerator']}"

    def pred(s):
        d = s["description"]
        if tag not in d or ("Preemptible" in d) != spot:
            return False
        return "Pod" in d if tag == "Tpu-v4" else "Pod" not in d

    found = gcp_pick(skus, region, "OnDemand", pred)
    prices = {gcp_unit_price(s) for s in found}
    if len(prices) != 1:
        return None, f"{len(found)} SKUs match {tag} ({'preemptible' if spot else 'on-demand'})"
    # All four are priced per chip-hour; a slice costs chips x that.
    return prices.pop() * inst["accelerator_count"], ""


# --------------------------------------------------------------------------------------------
# Writing prices back in place
# --------------------------------------------------------------------------------------------

REGION_LINE = re.compile(r'^(\s*\{\s*region\s*=\s*")([^"]+)(".*\})(\s*,?\s*)$')
NUMBER = r"[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"


def format_price(x: float) -> str:
    return repr(round(x, 6))


def apply_prices(text: str, fetched: Fetched, max_change: float, force: bool) -> tuple[str, list[str], list[str]]:
    """Rewrite on_demand/spot on the region lines of the instances that were fetched. Returns
    the new text, the changes made and the changes refused by the sanity bound."""
    lines = text.splitlines(keepends=True)
    cloud = typ = None
    in_instance = False
    changes: list[str] = []
    refused: list[str] = []
    for n, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("[[") or stripped.startswith("["):
            in_instance = stripped == "[[instance]]"
            cloud = typ = None
            continue
        if in_instance:
            m = re.match(r'^(cloud|type)\s*=\s*"([^"]*)"', stripped)
            if m:
                if m.group(1) == "cloud":
                    cloud = m.group(2)
                else:
                    typ = m.group(2)
                continue
        m = REGION_LINE.match(line.rstrip("\n"))
        if not (in_instance and m and cloud and typ):
            continue
        new = fetched.prices.get((cloud, typ, m.group(2)))
        if not new:
            continue
        body = line.rstrip("\n")
        for kind in ("on_demand", "spot"):
            if kind not in new:
                continue
            price = new[kind]
            where = f"{cloud}/{typ} {m.group(2)} {kind}"
            current = re.search(rf"\b{kind}\s*=\s*({NUMBER})", body)
            if current:
                old = float(current.group(1))
                ratio = price / old if old > 0 else math.inf
                if not force and not (1 / max_change <= ratio <= max_change):
                    refused.append(f"{where}: {old} -> {price} (x{ratio:.2f}); rerun with --force if right")
                    continue
                if format_price(old) == format_price(price):
                    continue
                body = body[: current.start(1)] + format_price(price) + body[current.end(1):]
                changes.append(f"{where}: {old} -> {format_price(price)}")
            elif kind == "spot":
                body = re.sub(r"\s*\}(\s*,?\s*)$", f", spot = {format_price(price)} }}\\1", body)
                changes.append(f"{where}: (none) -> {format_price(price)}")
        lines[n] = body + ("\n" if line.endswith("\n") else "")
    return "".join(lines), changes, refused


def bump_header(text: str, today: dt.date) -> str:
    """taken = today; version = YYYY.MM.N, N counting refreshes within the month."""
    def version(m: re.Match) -> str:
        parts = m.group(1).split(".")
        month = f"{today.year}.{today.month:02d}"
        if len(parts) == 3 and f"{parts[0]}.{int(parts[1]):02d}" == month and parts[2].isdigit():
            return f'version = "{today.year}.{today.month}.{int(parts[2]) + 1}"'
        return f'version = "{today.year}.{today.month}.1"'

    text = re.sub(r'^version\s*=\s*"([^"]*)"', version, text, count=1, flags=re.M)
    return re.sub(r'^taken\s*=\s*"[^"]*"', f'taken = "{today.isoformat()}"', text, count=1, flags=re.M)


# --------------------------------------------------------------------------------------------


def load(path: str) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--catalog", default=DEFAULT_CATALOG, help="catalog to refresh (default: %(default)s)")
    p.add_argument("--check", nargs="?", const=DEFAULT_CATALOG, metavar="FILE",
                   help="validate a full catalog offline (default: the built-in one)")
    p.add_argument("--check-override", metavar="FILE",
                   help="merge a user override onto --catalog and validate the result")
    p.add_argument("--aws", action="store_true", help="refresh AWS on-demand prices (Price List bulk API)")
    p.add_argument("--aws-spot", action="store_true", help="also AWS spot prices (aws CLI + credentials)")
    p.add_argument("--azure", action="store_true", help="refresh Azure prices (Retail Prices API)")
    p.add_argument("--gcp", action="store_true", help="refresh GCP prices (Cloud Billing Catalog API, GCP_API_KEY)")
    p.add_argument("--all", action="store_true", help="--aws --azure --gcp")
    p.add_argument("--dry-run", action="store_true", help="print what would change, write nothing")
    p.add_argument("--force", action="store_true", help="write changes beyond --max-change too")
    p.add_argument("--max-change", type=float, default=2.0, help="largest accepted price ratio (default 2)")
    p.add_argument("--timeout", type=float, default=300.0, help="per-request timeout in seconds")
    args = p.parse_args(argv)

    if args.check:
        try:
            doc = load(args.check)
        except (OSError, tomllib.TOMLDecodeError) as e:
            print(f"{args.check}: {e}", file=sys.stderr)
            return 1
        builtin = os.path.abspath(args.check) == os.path.abspath(DEFAULT_CATALOG)
        errors = check_catalog(doc, builtin=builtin)
        for e in errors:
            print(f"{args.check}: {e}", file=sys.stderr)
        if errors:
            return 1
        counts = {c: len(instances_of(doc, c)) for c in sorted(CLOUDS)}
        print(f"{args.check}: ok: {len(doc.get('instance', []))} instances {counts}, "
              f"{len(doc.get('accelerator', []))} accelerators, {len(doc.get('quota', []))} quotas, "
              f"taken {doc.get('taken')}")
        return 0

    if args.check_override:
        try:
            merged, errors = merge_override(load(args.catalog), load(args.check_override))
        except (OSError, tomllib.TOMLDecodeError) as e:
            print(f"{e}", file=sys.stderr)
            return 1
        errors += check_catalog(merged, builtin=False)
        for e in errors:
            print(f"{args.check_override} (merged): {e}", file=sys.stderr)
        if not errors:
            print(f"{args.check_override}: ok: merged catalog has {len(merged.get('instance', []))} instances")
        return 1 if errors else 0

    if args.all:
        args.aws = args.azure = args.gcp = True
    if not (args.aws or args.azure or args.gcp):
        p.print_help()
        return 2

    with open(args.catalog, encoding="utf-8") as f:
        text = f.read()
    doc = tomllib.loads(text)
    fetched = Fetched()
    try:
        for enabled, fetch in (
            (args.aws, lambda: fetch_aws(doc, args.timeout, args.aws_spot)),
            (args.azure, lambda: fetch_azure(doc, args.timeout)),
            (args.gcp, lambda: fetch_gcp(doc, args.timeout)),
        ):
            if enabled:
                part = fetch()
                fetched.prices.update(part.prices)
                fetched.problems.extend(part.problems)
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        print(f"fetch failed: {e}", file=sys.stderr)
        return 1
    except (ValueError, KeyError, IndexError) as e:
        # An answer that is not the documented shape: stop rather than write half a refresh.
        print(f"unexpected API answer: {e!r}", file=sys.stderr)
        return 1

    new_text, changes, refused = apply_prices(text, fetched, args.max_change, args.force)
    for line in fetched.problems:
        print(f"not matched: {line}", file=sys.stderr)
    for line in refused:
        print(f"refused: {line}", file=sys.stderr)
    for line in changes:
        print(f"changed: {line}")
    if not changes:
        print("no price changed")
        return 0
    new_text = bump_header(new_text, dt.date.today())
    errors = check_catalog(tomllib.loads(new_text), builtin=os.path.abspath(args.catalog) == DEFAULT_CATALOG)
    if errors:
        for e in errors:
            print(f"refreshed catalog is invalid: {e}", file=sys.stderr)
        return 1
    if args.dry_run:
        print(f"dry run: {len(changes)} changes not written")
        return 0
    tmp = args.catalog + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(new_text)
    os.replace(tmp, args.catalog)
    print(f"wrote {args.catalog}: {len(changes)} prices changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
