"""What the fake knows beyond the discovery documents, by method id: the values a server
computes on insert, and how the faults a test injects read. Kept small on purpose: the
routes, schemas and operations all come from the documents (discovery.py, server.py).
"""

import base64
import hashlib
import ipaddress
import re
import uuid

from errors import now_rfc3339


def on_insert(method_id, obj, key, lookup):
    """Values the server computes for a new object (output-only fields the schema names
    but whose value the documents do not give), or (http code, reason, message) when the
    server refuses it. `lookup(link)` is the stored object a reference names."""
    if method_id == "compute.subnetworks.insert" and "ipCidrRange" in obj:
        net = ipaddress.ip_network(obj["ipCidrRange"], strict=False)
        obj["ipCidrRange"] = str(net)
        obj["gatewayAddress"] = str(next(net.hosts()))
        obj.setdefault("privateIpGoogleAccess", False)
        obj.setdefault("stackType", "IPV4_ONLY")
        obj.setdefault("purpose", "PRIVATE")
    if method_id == "compute.networks.insert":
        obj.setdefault("routingConfig", {"routingMode": "REGIONAL"})
        obj.setdefault("networkFirewallPolicyEnforcementOrder", "AFTER_CLASSIC_FIREWALL")
    if method_id == "compute.firewalls.insert":
        obj.setdefault("priority", 1000)
        obj.setdefault("direction", "INGRESS")
        obj.setdefault("disabled", False)
        if obj["direction"] == "INGRESS" and "sourceRanges" not in obj and "sourceTags" not in obj \
                and "sourceServiceAccounts" not in obj:
            obj["sourceRanges"] = ["0.0.0.0/0"]
    if method_id == "compute.instances.insert":
        return instance(obj, lookup)
    return None


def instance(obj, lookup):
    scheduling = obj.setdefault("scheduling", {})
    spot = scheduling.get("provisioningModel") == "SPOT" or scheduling.get("preemptible")
    gpus = obj.get("guestAccelerators") or any(
        obj["machineType"].rsplit("/", 1)[-1].startswith(p) for p in ("a2-", "a3-", "a4-", "g2-"))
    scheduling.setdefault("onHostMaintenance", "TERMINATE" if spot else "MIGRATE")
    scheduling.setdefault("automaticRestart", not spot)
    scheduling.setdefault("provisioningModel", "SPOT" if spot else "STANDARD")
    if gpus and scheduling["onHostMaintenance"] == "MIGRATE":
        return (400, "badRequest", "Instances with guest accelerators do not support live migration.")
    for i, nic in enumerate(obj.get("networkInterfaces", [])):
        nic["name"] = f"nic{i}"
        subnet = lookup(nic.get("subnetwork")) if nic.get("subnetwork") else None
        if subnet and "networkIP" not in nic:
            net = ipaddress.ip_network(subnet["ipCidrRange"])
            nic["networkIP"] = str(list(net.hosts())[2 + (hash(obj["name"]) % 200)])
        if subnet and "network" not in nic:
            nic["network"] = subnet["network"]
        for n, ac in enumerate(nic.get("accessConfigs", [])):
            ac.setdefault("natIP", f"34.1.{i}.{10 + n}")
            ac.setdefault("kind", "compute#accessConfig")
    obj["status"] = "RUNNING"
    obj["cpuPlatform"] = "Intel Sapphire Rapids"
    obj.setdefault("labels", {})
    return None


def on_patch(method_id, obj, changes):
    """(http code, reason, message) when the server refuses a change before it starts the
    operation; None when it accepts it."""
    if method_id == "compute.subnetworks.patch" and changes.get("ipCidrRange", obj.get("ipCidrRange")) != obj.get("ipCidrRange"):
        return (400, "invalid", "Invalid value for field 'resource.ipCidrRange': the range of "
                "an existing subnetwork is changed with expandIpCidrRange")
    return None


def call_fault(fault):
    """(http code, reason, message) for a fault that fails the call itself."""
    kind = fault["kind"]
    if kind == "throttle":
        return (429, "rateLimitExceeded",
                "Rate Limit Exceeded: Quota exceeded for quota metric 'Queries' and limit "
                "'Queries per minute' of service 'compute.googleapis.com'")
    if kind == "permission":
        return (403, "forbidden",
                f"Required '{fault.get('permission', 'compute.networks.create')}' permission for "
                f"'{fault.get('resource', 'projects/-')}'")
    if kind == "quota" and fault.get("at") == "call":
        return (403, "quotaExceeded",
                f"Quota '{fault.get('metric', 'CPUS')}' exceeded.  Limit: "
                f"{fault.get('limit', 8.0)} in region {fault.get('region', 'us-central1')}.")
    return None


def operation_fault(fault, where):
    """(code, message, http code) for a fault the operation reports when it finishes, as
    Compute Engine reports stockouts and most quota errors."""
    if fault is None:
        return None
    kind = fault["kind"]
    zone = where.get("zone") or fault.get("zone") or "us-central1-a"
    if kind == "stockout":
        return ("ZONE_RESOURCE_POOL_EXHAUSTED",
                f"The zone 'projects/{fault.get('project', '-')}/zones/{zone}' does not have "
                "enough resources available to fulfill the request.  Try a different zone, "
                "or try again later.", 503)
    if kind == "quota" and fault.get("at") != "call":
        region = fault.get("region") or zone.rsplit("-", 1)[0]
        return ("QUOTA_EXCEEDED",
                f"Quota '{fault.get('metric', 'NVIDIA_H100_GPUS')}' exceeded.  Limit: "
                f"{fault.get('limit', 0.0)} in region {region}.", 403)
    return None


# --- how long operations take ------------------------------------------------------------

# Google's typical times, in seconds, for an operation to finish (what the console and the
# docs show for small objects; a TPU slice or a Filestore share takes minutes). `--timings
# 1/20` holds each operation for its time x 1/20, for benchmarks (bench/gcp_timings.sh).
TYPICAL_SECONDS = {
    "compute.networks.insert": 20, "compute.networks.delete": 20,
    "compute.subnetworks.insert": 15, "compute.subnetworks.delete": 15,
    "compute.firewalls.insert": 10, "compute.firewalls.delete": 10,
    "compute.routers.insert": 10, "compute.routers.update": 15, "compute.routers.patch": 15,
    "compute.routers.delete": 10,
    "compute.instances.insert": 40, "compute.instances.delete": 60,
    "tpu.projects.locations.nodes.create": 300, "tpu.projects.locations.nodes.delete": 120,
    "file.projects.locations.instances.create": 420, "file.projects.locations.instances.delete": 240,
    "file.projects.locations.instances.patch": 120,
    "notebooks.projects.locations.instances.create": 240,
    "notebooks.projects.locations.instances.delete": 120,
    "container.projects.locations.clusters.create": 420,
    "container.projects.locations.clusters.delete": 300,
    "container.projects.locations.clusters.nodePools.create": 180,
    "container.projects.locations.clusters.nodePools.delete": 120,
}


# --- what the cloud owns: regions and their quotas -------------------------------------

# GPUs of the machine types that come with them (family, count).
BUILT_IN_GPUS = {
    "a3-highgpu-8g": ("H100", 8), "a3-megagpu-8g": ("H100_MEGA", 8), "a3-ultragpu-8g": ("H200", 8),
    "a2-highgpu-1g": ("A100", 1), "a2-highgpu-8g": ("A100", 8), "a2-ultragpu-8g": ("A100_80GB", 8),
    "g2-standard-4": ("L4", 1), "g2-standard-48": ("L4", 4),
}
ACCELERATOR_FAMILY = {"nvidia-h100-80gb": "H100", "nvidia-tesla-a100": "A100", "nvidia-l4": "L4",
                      "nvidia-tesla-t4": "T4"}
DEFAULT_LIMITS = {"CPUS": 2400.0, "NVIDIA_H100_GPUS": 64.0, "PREEMPTIBLE_NVIDIA_H100_GPUS": 64.0,
                  "NVIDIA_A100_GPUS": 64.0, "NVIDIA_L4_GPUS": 64.0, "PREEMPTIBLE_NVIDIA_L4_GPUS": 64.0,
                  "TPU_LITE_PODSLICE_V5": 64.0, "PREEMPTIBLE_TPU_LITE_PODSLICE_V5": 64.0}


def gpu_usage(instance):
    """{metric: gpus} one VM uses."""
    spot = instance.get("scheduling", {}).get("provisioningModel") == "SPOT"
    prefix = "PREEMPTIBLE_" if spot else ""
    machine = instance["machineType"].rsplit("/", 1)[-1]
    out = {}
    if machine in BUILT_IN_GPUS:
        family, count = BUILT_IN_GPUS[machine]
        out[f"{prefix}NVIDIA_{family}_GPUS"] = count
    for acc in instance.get("guestAccelerators", []):
        family = ACCELERATOR_FAMILY.get(acc["acceleratorType"].rsplit("/", 1)[-1], "OTHER")
        metric = f"{prefix}NVIDIA_{family}_GPUS"
        out[metric] = out.get(metric, 0) + int(acc.get("acceleratorCount", 1))
    return out


def node_pool_usage(pool):
    """{metric: n} a GKE node pool's nodes use: GPUs as a VM's, TPU v5e chips of GKE's TPU
    machine types (Compute Engine quotas, not Cloud TPU API ones)."""
    config = pool.get("config") or {}
    nodes = int(pool.get("initialNodeCount") or 0) * max(1, len(pool.get("locations") or []))
    spot = config.get("spot") or config.get("preemptible")
    prefix = "PREEMPTIBLE_" if spot else ""
    vm = {"machineType": config.get("machineType", ""),
          "guestAccelerators": config.get("accelerators") or [],
          "scheduling": {"provisioningModel": "SPOT" if spot else "STANDARD"}}
    out = {m: n * nodes for m, n in gpu_usage(vm).items()}
    tpu = re.fullmatch(r"ct5lp-hightpu-(\d+)t", config.get("machineType", ""))
    if tpu:
        out[f"{prefix}TPU_LITE_PODSLICE_V5"] = int(tpu.group(1)) * nodes
    return out


GPU_TYPES = ("nvidia-h100-80gb", "nvidia-h100-mega-80gb", "nvidia-a100-80gb", "nvidia-tesla-a100",
             "nvidia-l4", "nvidia-tesla-t4")


def accelerator_type(project, zone, name):
    """`acceleratorTypes.get`: the GPU in the zone, or (404, ...) where the zone has none.
    Every fake zone has every GPU but the H100s, which zones ending in -f and the
    asia-southeast1 zones lack."""
    h100 = name.startswith("nvidia-h100")
    if zone not in ZONE_NAMES() or name not in GPU_TYPES or (h100 and (zone.endswith("-f") or zone.startswith("asia-"))):
        return (404, "notFound", f"The resource 'projects/{project}/zones/{zone}/acceleratorTypes/{name}' was not found")
    link = f"https://www.googleapis.com/compute/v1/projects/{project}/zones/{zone}/acceleratorTypes/{name}"
    return {"kind": "compute#acceleratorType", "name": name, "zone": link.rsplit("/acceleratorTypes", 1)[0],
            "selfLink": link, "maximumCardsPerInstance": 8, "description": name}


def region(project, name, objects, limits):
    """`regions.get`: the region with its quotas, usage counted from the VMs in its zones
    and the nodes of GKE node pools in it."""
    usage = {}
    for key, obj in objects.items():
        counted = {}
        if f"/zones/{name}-" in key and "/instances/" in key:
            counted = gpu_usage(obj)
        elif "/nodePools/" in key and (f"/locations/{name}/" in key or f"/locations/{name}-" in key):
            counted = node_pool_usage(obj)
        for metric, n in counted.items():
            usage[metric] = usage.get(metric, 0) + n
    merged = dict(DEFAULT_LIMITS)
    merged.update(limits.get(name, {}))
    link = f"https://www.googleapis.com/compute/v1/projects/{project}/regions/{name}"
    return {
        "kind": "compute#region", "name": name, "status": "UP", "selfLink": link,
        "zones": [f"https://www.googleapis.com/compute/v1/projects/{project}/zones/{name}-{z}" for z in "abcf"],
        "quotas": [{"metric": m, "limit": l, "usage": float(usage.get(m, 0))} for m, l in sorted(merged.items())],
    }


def project_quotas(project, objects, limits):
    """`projects.get` of Compute Engine: the project with its global quotas;
    `GPUS_ALL_REGIONS` counts every GPU in every region, spot ones included."""
    gpus = 0
    for key, obj in objects.items():
        if "/zones/" in key and "/instances/" in key:
            counted = gpu_usage(obj)
        elif "/nodePools/" in key:
            counted = node_pool_usage(obj)
        else:
            continue
        gpus += sum(n for metric, n in counted.items() if "_GPUS" in metric)
    limit = limits.get("global", {}).get("GPUS_ALL_REGIONS", 128.0)
    return {
        "kind": "compute#project", "name": project, "id": str(abs(hash(project)) % 10**18),
        "selfLink": f"https://www.googleapis.com/compute/v1/projects/{project}",
        "quotas": [{"metric": "GPUS_ALL_REGIONS", "limit": limit, "usage": float(gpus)}],
    }


ZONES = {"us-central1": "abcf", "us-east1": "bcd", "us-east4": "abc", "us-west1": "abc", "us-west4": "abc",
         "europe-west4": "abc", "asia-southeast1": "abc"}


def zones(project, down=()):
    """`zones.list`: every zone of the regions the fake knows; `down` ones DOWN."""
    base = f"https://www.googleapis.com/compute/v1/projects/{project}"
    return [{"kind": "compute#zone", "name": f"{r}-{z}", "status": "DOWN" if f"{r}-{z}" in down else "UP",
             "region": f"{base}/regions/{r}", "selfLink": f"{base}/zones/{r}-{z}"}
            for r, letters in ZONES.items() for z in letters]


# --- Cloud TPU: the accelerator types each zone offers, and how a slice is laid out ----

# Generation -> (AcceleratorConfig type, the size in a type's name counts cores (v4, v5p:
# two per chip) or chips, sizes offered, chips per host).
TPU_GENERATIONS = {
    "v4": ("V4", 2, (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096), 4),
    "v5p": ("V5P", 2, (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 6144, 12288), 4),
    "v5litepod": ("V5LITE_POD", 1, (1, 4, 8, 16, 32, 64, 128, 256), 4),
    "v6e": ("V6E", 1, (1, 4, 8, 16, 32, 64, 128, 256), 4),
}
TPU_ZONES = {
    "us-central1-a": ("v5litepod",), "us-central2-b": ("v4",), "us-east1-d": ("v6e",),
    "us-east5-a": ("v5p",), "us-west4-a": ("v5litepod",),
    "europe-west4-a": ("v5litepod", "v6e"), "europe-west4-b": ("v5p",),
}


def tpu_topology(generation, chips):
    """The default topology of a slice: 2D (AxB) for v5e/v6e, 3D (AxBxC) for v4/v5p."""
    if generation in ("v5litepod", "v6e"):
        a = 1
        while (a * 2) * (a * 2) <= chips:
            a *= 2
        return f"{a}x{chips // a}"
    dims = [1, 1, 1]
    i = 0
    while dims[0] * dims[1] * dims[2] < chips:
        dims[i % 3] *= 2
        i += 1
    dims.sort()
    if dims[0] == 1:
        dims = dims[1:] + [1]  # `2x2x1`, as Cloud TPU writes a one-deep slice
    return "x".join(str(d) for d in dims)


def tpu_types(zone):
    out = []
    for generation in TPU_ZONES.get(zone, ()):
        kind, per_chip, sizes, _ = TPU_GENERATIONS[generation]
        for size in sizes:
            chips = size // per_chip
            out.append((f"{generation}-{size}", kind, tpu_topology(generation, chips), chips))
    return out


def catalogue(method_id, project, location, query):
    """What the cloud owns and lists (accelerator types, runtime versions, the projects):
    the response, None for methods on stored objects, or (http code, reason, message)."""
    if method_id == "cloudresourcemanager.projects.get":
        number = str(100000000000 + abs(hash(project)) % 900000000000)
        return {"name": f"projects/{number}", "projectId": project, "state": "ACTIVE",
                "displayName": project, "parent": "organizations/123456789012",
                "createTime": "2024-01-15T10:00:00.000Z", "labels": {"env": "test"},
                "etag": "W/\"abc\""}
    if method_id == "tpu.projects.locations.acceleratorTypes.list":
        if location not in TPU_ZONES and location not in ZONE_NAMES():
            return (404, "notFound", f"Location {location} is not found or access is unauthorized.")
        return {"acceleratorTypes": [
            {"name": f"projects/{project}/locations/{location}/acceleratorTypes/{name}", "type": name,
             "acceleratorConfigs": [{"type": kind, "topology": topology}]}
            for name, kind, topology, _ in tpu_types(location)]}
    if method_id == "tpu.projects.locations.runtimeVersions.list":
        return {"runtimeVersions": [
            {"name": f"projects/{project}/locations/{location}/runtimeVersions/{v}", "version": v}
            for v in ("tpu-ubuntu2204-base", "v2-alpha-tpuv5-lite", "v2-alpha-tpuv5", "v2-alpha-tpuv6e",
                      "tpu-vm-tf-2.16.1-pjrt")]}
    return None


# --- Cloud Quotas: the limits only it reports (Cloud TPU's per zone, GKE's v5p and v6e) ----

# (service, quota id) -> (metric, dimension, default limit, display name). Usage is not
# Cloud Quotas' to report: a client counts what runs.
CLOUD_QUOTAS = {
    ("tpu.googleapis.com", "TPUV4sPodPerProjectPerZoneForTPUAPI"):
        ("tpu.googleapis.com/v4_pod", "zone", 32, "TPU v4 pod chips per project per zone"),
    ("tpu.googleapis.com", "TPUV4sPreemptiblePodPerProjectPerZoneForTPUAPI"):
        ("tpu.googleapis.com/v4_pod_preemptible", "zone", 32, "Preemptible TPU v4 pod chips per project per zone"),
    ("tpu.googleapis.com", "TPUV5sLitepodPerProjectPerZoneForTPUAPI"):
        ("tpu.googleapis.com/v5s_litepod", "zone", 64, "TPU v5 Lite PodSlice chips per project per zone"),
    ("tpu.googleapis.com", "TPUV5sPreemptibleLitepodPerProjectPerZoneForTPUAPI"):
        ("tpu.googleapis.com/v5s_litepod_preemptible", "zone", 64,
         "Preemptible TPU v5 Lite PodSlice chips per project per zone"),
    ("tpu.googleapis.com", "TPUV5PPerProjectPerZoneForTPUAPI"):
        ("tpu.googleapis.com/v5p", "zone", 64, "TPU v5p chips per project per zone"),
    ("tpu.googleapis.com", "TPUV5PPreemptiblePerProjectPerZoneForTPUAPI"):
        ("tpu.googleapis.com/v5p_preemptible", "zone", 64, "Preemptible TPU v5p chips per project per zone"),
    ("tpu.googleapis.com", "TPUV6EPerProjectPerZoneForTPUAPI"):
        ("tpu.googleapis.com/v6e", "zone", 64, "TPU v6e chips per project per zone"),
    ("tpu.googleapis.com", "TPUV6EPreemptiblePerProjectPerZoneForTPUAPI"):
        ("tpu.googleapis.com/v6e_preemptible", "zone", 64, "Preemptible TPU v6e chips per project per zone"),
    ("compute.googleapis.com", "TPU-V6E-per-project-region"):
        ("compute.googleapis.com/tpu_v6e", "region", 64, "TPU v6e chips per project per region"),
    ("compute.googleapis.com", "PREEMPTIBLE-TPU-V6E-per-project-region"):
        ("compute.googleapis.com/preemptible_tpu_v6e", "region", 64,
         "Preemptible TPU v6e chips per project per region"),
    ("compute.googleapis.com", "TPU-V5P-per-project-region"):
        ("compute.googleapis.com/tpu_v5p", "region", 64, "TPU v5p chips per project per region"),
    ("compute.googleapis.com", "PREEMPTIBLE-TPU-V5P-per-project-region"):
        ("compute.googleapis.com/preemptible_tpu_v5p", "region", 64,
         "Preemptible TPU v5p chips per project per region"),
}


def cloud_quota(method_id, path, project, overrides):
    """`quotaInfos.get` and `.list` of Cloud Quotas (the response, or (http code, reason,
    message)), None for other methods. `overrides`: {(service, quota id): {location:
    limit}}, set through the admin call; each is a DimensionsInfo of its own, before the
    default one that applies everywhere else (the API orders them most specific first)."""
    if not method_id.startswith("cloudquotas.projects.locations.services.quotaInfos."):
        return None
    parts = path.split("/")  # projects/p/locations/global/services/s/quotaInfos[/id]
    if parts[3] != "global":
        return (400, "badRequest", "The location of a QuotaInfo must be `global`.")
    service = parts[5]
    if method_id.endswith(".list"):
        return {"quotaInfos": [quota_info(project, service, q, overrides)
                               for (s, q) in sorted(CLOUD_QUOTAS) if s == service]}
    if (service, parts[7]) not in CLOUD_QUOTAS:
        return (404, "notFound", f"QuotaInfo {path} not found.")
    return quota_info(project, service, parts[7], overrides)


def quota_info(project, service, quota_id, overrides):
    metric, dimension, default, display = CLOUD_QUOTAS[(service, quota_id)]
    locations = (sorted(ZONE_NAMES() | set(TPU_ZONES)) if dimension == "zone" else sorted(ZONES))
    specific = overrides.get((service, quota_id), {})
    infos = [{"dimensions": {dimension: where}, "details": {"value": str(int(limit))},
              "applicableLocations": [where]} for where, limit in sorted(specific.items())]
    infos.append({"dimensions": {}, "details": {"value": str(default)},
                  "applicableLocations": [w for w in locations if w not in specific]})
    return {
        "name": f"projects/{project}/locations/global/services/{service}/quotaInfos/{quota_id}",
        "quotaId": quota_id, "metric": metric, "service": service, "isPrecise": True,
        "containerType": "PROJECT", "dimensions": [dimension], "metricDisplayName": display,
        "quotaDisplayName": display, "metricUnit": "1",
        "quotaIncreaseEligibility": {"isEligible": True}, "isFixed": False, "isConcurrent": False,
        "serviceRequestQuotaUri": f"https://console.cloud.google.com/iam-admin/quotas?project={project}",
        "dimensionsInfos": infos,
    }


def ZONE_NAMES():
    return {f"{r}-{z}" for r, letters in ZONES.items() for z in letters}


def on_create(method_id, obj, location):
    """Checks and server-set values of a resource-oriented create; (http code, reason,
    message) when the server refuses it. `location` is the zone or region, else the
    project."""
    if method_id == "tpu.projects.locations.nodes.create":
        return tpu_node(obj, location)
    if method_id == "file.projects.locations.instances.create":
        return filestore_instance(obj, location)
    if method_id == "notebooks.projects.locations.instances.create":
        return workbench_instance(obj, location)
    if method_id == "container.projects.locations.clusters.create":
        return gke_cluster(obj, location)
    if method_id == "container.projects.locations.clusters.nodePools.create":
        return gke_node_pool(obj, location)
    if method_id == "iam.projects.serviceAccounts.create":
        email = obj["name"].rsplit("/", 1)[1]
        obj.update(email=email, projectId=location, uniqueId=str(abs(hash(email)) % 10**21),
                   etag="MDEwMjE5MjA=", disabled=False)
        obj["oauth2ClientId"] = obj["uniqueId"]
    return None


def check_id(method_id, name):
    """The id rules a create enforces, as (http code, reason, message) when broken."""
    if method_id == "iam.projects.serviceAccounts.create" and not re.fullmatch(r"[a-z]([-a-z0-9]{4,28}[a-z0-9])", name):
        return (400, "badRequest", f"Invalid account id '{name}': 6-30 characters, lowercase "
                "letters, digits and hyphens, starting with a letter.")
    return None


def object_id(method_id, project, name):
    """The last segment of a new object's resource name: its id, or for IAM's service
    accounts the email the id makes."""
    if method_id == "iam.projects.serviceAccounts.create":
        return f"{name}@{project}.iam.gserviceaccount.com"
    return name


def owned_by_cloud(api, key, projects):
    """Objects the cloud has without anyone creating them (the projects themselves)."""
    return api == "cloudresourcemanager" and key.startswith("projects/") and key.split("/")[1] in projects


MEMBER = re.compile(r"(user|serviceAccount|group|domain|principal|principalSet):.+|allUsers|allAuthenticatedUsers")


def check_member(binding, objects):
    """A policy binding's checks: a known role form, members in IAM's forms, and a service
    account member that exists (IAM refuses one it does not know)."""
    role = binding.get("role", "")
    if not re.fullmatch(r"(roles|projects/[^/]+/roles|organizations/[^/]+/roles)/[A-Za-z0-9_.]+", role):
        return (400, "badRequest", f"Role {role} is not supported for this resource.")
    for member in binding["members"]:
        if not MEMBER.fullmatch(member):
            return (400, "badRequest", f"Invalid member {member!r}: expected user:, "
                    "serviceAccount:, group:, domain:, principal: or principalSet:.")
        if member.startswith("serviceAccount:") and member.endswith(".iam.gserviceaccount.com"):
            email = member.split(":", 1)[1]
            project = email.split("@")[1].split(".")[0]
            if f"projects/{project}/serviceAccounts/{email}" not in objects:
                return (400, "badRequest", f"Service account {email} does not exist.")
    return None


def tpu_node(obj, location):
    types = {name: (kind, topology, chips) for name, kind, topology, chips in tpu_types(location)}
    by_config = {(kind, topology): name for name, (kind, topology, _) in types.items()}
    if "acceleratorType" in obj and "acceleratorConfig" in obj:
        return (400, "badRequest", "Only one of accelerator_type and accelerator_config may be set.")
    if "acceleratorConfig" in obj:
        cfg = obj["acceleratorConfig"]
        name = by_config.get((cfg.get("type"), cfg.get("topology")))
        if name is None:
            return (400, "badRequest",
                    f"Accelerator config {cfg.get('type')} {cfg.get('topology')} is not available "
                    f"in zone {location}.")
        obj["acceleratorType"] = name
    else:
        name = obj.get("acceleratorType")
        if name not in types:
            return (400, "badRequest", f"Accelerator type {name} is not available in zone {location}.")
        kind, topology, _ = types[name]
        obj["acceleratorConfig"] = {"type": kind, "topology": topology}
    if not obj.get("runtimeVersion"):
        return (400, "badRequest", "runtime_version is required.")
    sched = obj.get("schedulingConfig") or {}
    if sum(bool(sched.get(k)) for k in ("spot", "preemptible", "reserved")) > 1:
        return (400, "badRequest", "At most one of spot, preemptible and reserved may be set.")
    obj["state"] = "CREATING"
    obj["apiVersion"] = "V2"
    obj["id"] = str(abs(hash(obj["name"])) % 10**18)
    obj.setdefault("labels", {})
    return None


def on_ready(method_id, obj):
    """What a finished create leaves (a TPU node READY with one endpoint per host, a
    Filestore share with its address, a notebook ACTIVE behind its proxy, a GKE cluster or
    node pool RUNNING)."""
    if method_id == "file.projects.locations.instances.create":
        obj["state"] = "READY"
        for i, net in enumerate(obj.get("networks") or []):
            net["ipAddresses"] = [f"10.{200 + i}.{abs(hash(obj['name'])) % 250}.2"]
            net.setdefault("reservedIpRange", f"10.{200 + i}.{abs(hash(obj['name'])) % 250}.0/29")
            net.setdefault("connectMode", "DIRECT_PEERING")
    if method_id == "notebooks.projects.locations.instances.create":
        obj.update(state="ACTIVE", healthState="HEALTHY", updateTime=now_rfc3339(),
                   proxyUri=f"{abs(hash(obj['name'])):016x}-dot-us-central1.notebooks.googleusercontent.com")
    if method_id.startswith("container.projects.locations.clusters"):
        obj["status"] = "RUNNING"
    if method_id == "tpu.projects.locations.nodes.create":
        generation = obj["acceleratorType"].rsplit("-", 1)[0]
        _, per_chip, _, per_host = TPU_GENERATIONS[generation]
        chips = int(obj["acceleratorType"].rsplit("-", 1)[1]) // per_chip
        hosts = max(1, chips // per_host) if chips != 8 or generation not in ("v5litepod", "v6e") else 1
        obj["networkEndpoints"] = [{"ipAddress": f"10.130.0.{10 + h}", "port": 8470} for h in range(hosts)]
        obj["state"] = "READY"
        obj["health"] = "HEALTHY"
        obj.setdefault("networkConfig", {"network": "default", "subnetwork": "default"})


def on_update(method_id, obj, changes):
    """Checks of a change (`changes`: field paths as the mask names them, camelCase) as
    (http code, reason, message) when the server refuses it."""
    if method_id == "notebooks.projects.locations.instances.patch":
        needs_stop = {"gceSetup.machineType", "gceSetup.acceleratorConfigs"} & set(changes)
        if needs_stop and obj.get("state") != "STOPPED":
            return (400, "failedPrecondition",
                    f"Instance {obj['name']} must be STOPPED to update {', '.join(sorted(needs_stop))} "
                    f"(it is {obj.get('state')}).")
    if method_id == "file.projects.locations.instances.patch" and "fileShares" in changes:
        shares = changes["fileShares"] or []
        minimum = FILESTORE_MINIMUM_GB.get(obj.get("tier"), 1024)
        if shares and int(shares[0].get("capacityGb", 0)) < minimum:
            return (400, "badRequest", f"File share capacity must be at least {minimum} GB for tier {obj.get('tier')}.")
        if shares and [s.get("name") for s in shares] != [s.get("name") for s in obj.get("fileShares") or []]:
            return (400, "badRequest", "File share names cannot be changed.")
    if method_id == "tpu.projects.locations.nodes.patch":
        fixed = {"acceleratorType", "acceleratorConfig", "runtimeVersion", "schedulingConfig"}
        if fixed & set(changes):
            return (400, "badRequest", f"Field(s) {sorted(fixed & set(changes))} cannot be updated.")
    return None


def lro_fault(fault, method_id, location, obj):
    """(google.rpc code, message) that a long-running create finishes with, for an
    injected fault, as Cloud TPU reports them."""
    if fault is None:
        return None
    kind = fault["kind"]
    if kind == "stockout" and not method_id.startswith("tpu."):
        return (8, f"The zone 'projects/-/zones/{location}' does not have enough resources "
                   "available to fulfill the request. Try a different zone, or try again later.")
    if kind == "stockout":
        return (8, f"There is no more capacity in the zone \"{location}\"; you can try in another "
                   "zone where Cloud TPU Nodes are offered (see "
                   "https://cloud.google.com/tpu/docs/regions) [EID: 0x5ac3b1e6]")
    if kind == "quota" and fault.get("at") != "call":
        metric = fault.get("metric", "TPUV5sLitepodServingPerProjectPerZoneForTPUAPI")
        return (8, f"Quota limit '{metric}' has been exceeded. Limit: {fault.get('limit', 8)} in "
                   f"zone {location}.")
    return None


# --- Filestore ---------------------------------------------------------------------------

FILESTORE_MINIMUM_GB = {"STANDARD": 1024, "PREMIUM": 2560, "BASIC_HDD": 1024, "BASIC_SSD": 2560,
                        "HIGH_SCALE_SSD": 10240, "ZONAL": 1024, "REGIONAL": 1024, "ENTERPRISE": 1024}


def filestore_instance(obj, location):
    tier = obj.get("tier")
    if tier not in FILESTORE_MINIMUM_GB:
        return (400, "badRequest", f"Invalid tier {tier!r}.")
    regional = tier in ("REGIONAL", "ENTERPRISE")
    if regional != (region_of(location) == location):
        return (400, "badRequest", f"Tier {tier} instances are {'regional' if regional else 'zonal'}: "
                f"location {location} is not a {'region' if regional else 'zone'}.")
    shares = obj.get("fileShares") or []
    if len(shares) != 1:
        return (400, "badRequest", "Exactly one file share is required.")
    capacity = int(shares[0].get("capacityGb", 0))
    if capacity < FILESTORE_MINIMUM_GB[tier]:
        return (400, "badRequest", f"File share capacity must be at least {FILESTORE_MINIMUM_GB[tier]} GB "
                f"for tier {tier}; got {capacity} GB.")
    if not obj.get("networks"):
        return (400, "badRequest", "A network is required.")
    obj["state"] = "CREATING"
    obj.setdefault("protocol", "NFS_V3")
    obj["etag"] = "1a2b3c"
    obj.setdefault("labels", {})
    return None


def region_of(location):
    m = re.fullmatch(r"([a-z]+-[a-z]+[0-9])-[a-z]", location or "")
    return m.group(1) if m else location


# --- Workbench (Notebooks v2) ---------------------------------------------------------------

WORKBENCH_ACCELERATORS = {"NVIDIA_TESLA_T4", "NVIDIA_L4", "NVIDIA_A100_80GB", "NVIDIA_TESLA_A100",
                          "NVIDIA_TESLA_V100", "NVIDIA_TESLA_P100", "NVIDIA_TESLA_P4",
                          "NVIDIA_H100_80GB", "NVIDIA_H100_MEGA_80GB"}
SCOPES = ["https://www.googleapis.com/auth/cloud-platform",
          "https://www.googleapis.com/auth/userinfo.email"]


def workbench_instance(obj, location):
    if location not in ZONE_NAMES():
        return (400, "badRequest", f"Location {location} is not a zone Workbench serves.")
    setup = obj.setdefault("gceSetup", {})
    for accelerator in setup.get("acceleratorConfigs") or []:
        if accelerator.get("type") not in WORKBENCH_ACCELERATORS:
            return (400, "badRequest", f"Accelerator type {accelerator.get('type')} is not supported.")
    project = obj["name"].split("/")[1]
    setup.setdefault("machineType", "e2-standard-4")
    accounts = setup.get("serviceAccounts") or [{"email": f"{abs(hash(project)) % 10**12}-compute@developer.gserviceaccount.com"}]
    setup["serviceAccounts"] = [{**a, "scopes": SCOPES} for a in accounts]
    setup.setdefault("bootDisk", {"diskSizeGb": "150", "diskType": "PD_STANDARD"})
    setup.setdefault("networkInterfaces", [{
        "network": f"projects/{project}/global/networks/default",
        "subnet": f"projects/{project}/regions/{region_of(location)}/subnetworks/default"}])
    # Workbench adds its own metadata keys beside the user's.
    setup["metadata"] = {**(setup.get("metadata") or {}), "proxy-mode": "service_account",
                         "notebooks-api": "PROD"}
    obj.update(state="PROVISIONING", creator="gantry-test@fake", id=str(uuid.uuid4()),
               healthState="HEALTH_STATE_UNSPECIFIED")
    obj.setdefault("labels", {})
    return None


# --- GKE ---------------------------------------------------------------------------------

GKE_VERSION = "1.31.1-gke.1846000"
GKE_GPUS = {"nvidia-h100-80gb", "nvidia-h100-mega-80gb", "nvidia-a100-80gb", "nvidia-tesla-a100",
            "nvidia-l4", "nvidia-tesla-t4"}


def gke_cluster(obj, location):
    if not re.fullmatch(r"[a-z]([-a-z0-9]{0,38}[a-z0-9])?", obj.get("name", "")):
        return (400, "badRequest", "Cluster name must be 1-40 lowercase letters, digits and hyphens.")
    seed = abs(hash(obj["name"]))
    policy = obj.get("ipAllocationPolicy")
    if policy is not None:
        policy["useIpAliases"] = True
        policy.setdefault("clusterIpv4CidrBlock", "10.64.0.0/14")
        policy.setdefault("servicesIpv4CidrBlock", "10.68.0.0/20")
        policy.setdefault("clusterIpv4Cidr", policy["clusterIpv4CidrBlock"])
        policy.setdefault("servicesIpv4Cidr", policy["servicesIpv4CidrBlock"])
    obj["clusterIpv4Cidr"] = (policy or {}).get("clusterIpv4CidrBlock", "10.64.0.0/14")
    obj["servicesIpv4Cidr"] = (policy or {}).get("servicesIpv4CidrBlock", "10.68.0.0/20")
    private = obj.get("privateClusterConfig")
    if private is not None and private.get("enablePrivateNodes"):
        cidr = private.get("masterIpv4CidrBlock")
        if not cidr or not cidr.endswith("/28"):
            return (400, "badRequest", "master_ipv4_cidr_block must be a /28 for private nodes.")
        private["privateEndpoint"] = cidr.rsplit(".", 1)[0] + ".2"
        private["publicEndpoint"] = f"34.{seed % 250}.{seed // 250 % 250}.10"
    obj.update(endpoint=f"34.{seed % 250}.{seed // 250 % 250}.10",
               currentMasterVersion=GKE_VERSION, currentNodeVersion=GKE_VERSION,
               initialClusterVersion=obj.get("initialClusterVersion") or GKE_VERSION,
               masterAuth={"clusterCaCertificate": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="})
    obj.setdefault("network", "default")
    obj.setdefault("subnetwork", "default")
    obj.setdefault("resourceLabels", {})
    # Where the nodes go: a zonal cluster's zone; a regional cluster's three default zones
    # unless its `locations` are given (GKE's default for regional clusters).
    if not obj.get("locations"):
        region = region_of(location)
        obj["locations"] = [location] if region != location else [f"{region}-{z}" for z in "abc"]
    return None


def gke_node_pool(obj, location):
    config = obj.setdefault("config", {})
    config.setdefault("machineType", "e2-medium")
    config.setdefault("diskSizeGb", 100)
    config.setdefault("diskType", "pd-balanced")
    config.setdefault("imageType", "COS_CONTAINERD")
    config.setdefault("serviceAccount", "default")
    config.setdefault("oauthScopes", ["https://www.googleapis.com/auth/cloud-platform"])
    zones = obj.get("locations") or [f"{region_of(location)}-a"]
    obj["locations"] = zones
    for accelerator in config.get("accelerators") or []:
        if accelerator.get("acceleratorType") not in GKE_GPUS:
            return (400, "badRequest", f"Accelerator type \"{accelerator.get('acceleratorType')}\" "
                    f"does not exist in zone {zones[0]}.")
    refused = gke_tpu_slice(obj, config)
    if refused:
        return refused
    obj.setdefault("management", {"autoRepair": True, "autoUpgrade": True})
    obj["version"] = GKE_VERSION
    return None


def gke_instance_groups(pool_key, pool):
    """The Compute Engine managed instance groups a ready node pool runs its nodes in, one
    per zone: {key: instanceGroupManager}. GKE keeps a pool's current size there (the
    NodePool carries only its initial count)."""
    parts = pool_key.split("/")  # projects/p/locations/l/clusters/c/nodePools/n
    project, cluster, name = parts[1], parts[5], parts[7]
    suffix = hashlib.sha1(pool_key.encode()).hexdigest()[:8]
    out = {}
    for zone in pool.get("locations") or []:
        group = f"gke-{cluster}-{name}-{suffix}-grp"[:63]
        key = f"projects/{project}/zones/{zone}/instanceGroupManagers/{group}"
        link = "https://www.googleapis.com/compute/v1/" + key
        out[key] = {
            "kind": "compute#instanceGroupManager", "name": group, "id": numeric_id_of(key),
            "zone": f"https://www.googleapis.com/compute/v1/projects/{project}/zones/{zone}",
            "selfLink": link, "baseInstanceName": f"gke-{cluster}-{name}-{suffix}",
            "instanceGroup": link.replace("instanceGroupManagers", "instanceGroups"),
            "instanceTemplate": f"https://www.googleapis.com/compute/v1/projects/{project}/global/"
                                f"instanceTemplates/gke-{cluster}-{name}-{suffix}",
            "targetSize": int(pool.get("initialNodeCount") or 0),
            "status": {"isStable": True}, "creationTimestamp": now_rfc3339(),
            "fingerprint": base64.b64encode(suffix.encode()).decode(),
        }
    return out


def numeric_id_of(key):
    return str(int(hashlib.sha1(key.encode()).hexdigest()[:15], 16))


def gke_tpu_slice(obj, config):
    """A TPU node pool: a multi-host slice's nodes must make up its topology exactly."""
    m = re.fullmatch(r"ct[0-9a-z]+-[a-z]+-(\d+)t", config.get("machineType", ""))
    topology = (obj.get("placementPolicy") or {}).get("tpuTopology")
    if topology and not m:
        return (400, "badRequest", "tpu_topology is only supported with TPU machine types.")
    if not m or not topology:
        return None
    chips = 1
    for d in topology.split("x"):
        chips *= int(d)
    per_node = int(m.group(1))
    nodes = int(obj.get("initialNodeCount") or 0)
    if chips % per_node or nodes != chips // per_node:
        return (400, "badRequest",
                f"Invalid node count {nodes} for TPU topology {topology} with machine type "
                f"{config['machineType']}: expected {chips // per_node} nodes.")
    return None


def gke_fault(fault, location, obj):
    """(google.rpc code, message) a GKE create's operation finishes with, for an injected
    fault, as GKE reports a stockout (GCE_STOCKOUT) or a quota."""
    if fault is None:
        return None
    if fault["kind"] == "stockout":
        zone = (obj.get("locations") or [f"{location}-a"])[0]
        return (8, f"Google Compute Engine: Not all instances running in IGM after 5m0s. Expected "
                   f"{obj.get('initialNodeCount', 1)}, running 0, transitioning 1. Current errors: "
                   f"[GCE_STOCKOUT]: Instance 'gke-{obj['name']}-0' creation failed: The zone "
                   f"'projects/p/zones/{zone}' does not have enough resources available to fulfill "
                   "the request.  Try a different zone, or try again later.")
    if fault["kind"] == "quota":
        metric = fault.get("metric", "NVIDIA_H100_GPUS")
        return (8, f"Insufficient quota to satisfy the request: Not all instances running in IGM. "
                   f"Current errors: [QUOTA_EXCEEDED]: Quota '{metric}' exceeded. Limit: "
                   f"{fault.get('limit', 8.0)} in region {region_of(location)}.")
    return None


# --- Cloud KMS -----------------------------------------------------------------------------
#
# What `cryptoKeys.encrypt` and `:decrypt` do is the service's secret; the documents give
# only the shapes. The fake wraps with a secret of each key (made when the key is first
# used): a keystream from SHA-256 and an HMAC tag, so a ciphertext opens only with the key
# that made it, and a changed byte or another key fails as Cloud KMS fails them.

_KMS_SECRETS = {}


def _kms_stream(secret, nonce, length):
    import hashlib
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(secret + nonce + counter.to_bytes(8, "big")).digest()
        counter += 1
    return out[:length]


def kms_crypt(verb, key_name, key, body):
    """The answer of `cryptoKeys.encrypt` or `:decrypt` with `key` (the CryptoKey)."""
    import base64
    import hashlib
    import hmac
    import os
    if key.get("purpose", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
        raise _kms_refuse(f"Operation requires purpose ENCRYPT_DECRYPT but key has purpose {key.get('purpose')}.")
    secret = _KMS_SECRETS.setdefault(key_name, os.urandom(32))
    version = f"{key_name}/cryptoKeyVersions/1"
    if verb == "encrypt":
        plain = base64.b64decode(body.get("plaintext") or "")
        nonce = os.urandom(16)
        sealed = bytes(a ^ b for a, b in zip(plain, _kms_stream(secret, nonce, len(plain))))
        tag = hmac.new(secret, nonce + sealed, hashlib.sha256).digest()
        return {"name": version, "ciphertext": base64.b64encode(b"FK1" + nonce + sealed + tag).decode(),
                "verifiedPlaintextCrc32c": False, "verifiedAdditionalAuthenticatedDataCrc32c": False,
                "protectionLevel": "SOFTWARE"}
    blob = base64.b64decode(body.get("ciphertext") or "")
    nonce, sealed, tag = blob[3:19], blob[19:-32], blob[-32:]
    if not blob.startswith(b"FK1") or len(blob) < 51 or not hmac.compare_digest(
            tag, hmac.new(secret, nonce + sealed, hashlib.sha256).digest()):
        raise _kms_refuse("Decryption failed: verify that 'name' refers to the correct CryptoKey.")
    plain = bytes(a ^ b for a, b in zip(sealed, _kms_stream(secret, nonce, len(sealed))))
    return {"plaintext": base64.b64encode(plain).decode(), "usedPrimary": True,
            "protectionLevel": "SOFTWARE"}


def _kms_refuse(message):
    from errors import HttpError
    return HttpError(400, "badRequest", message)

