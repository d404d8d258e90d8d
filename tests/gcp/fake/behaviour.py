"""What the fake knows beyond the discovery documents, by method id: the values a server
computes on insert, and how the faults a test injects read. Kept small on purpose: the
routes, schemas and operations all come from the documents (discovery.py, server.py).
"""

import ipaddress


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
                  "NVIDIA_A100_GPUS": 64.0, "NVIDIA_L4_GPUS": 64.0, "PREEMPTIBLE_NVIDIA_L4_GPUS": 64.0}


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


def region(project, name, objects, limits):
    """`regions.get`: the region with its quotas, usage counted from the VMs in its zones."""
    usage = {}
    for key, obj in objects.items():
        if f"/zones/{name}-" in key and "/instances/" in key:
            for metric, n in gpu_usage(obj).items():
                usage[metric] = usage.get(metric, 0) + n
    merged = dict(DEFAULT_LIMITS)
    merged.update(limits.get(name, {}))
    link = f"https://www.googleapis.com/compute/v1/projects/{project}/regions/{name}"
    return {
        "kind": "compute#region", "name": name, "status": "UP", "selfLink": link,
        "zones": [f"https://www.googleapis.com/compute/v1/projects/{project}/zones/{name}-{z}" for z in "abcf"],
        "quotas": [{"metric": m, "limit": l, "usage": float(usage.get(m, 0))} for m, l in sorted(merged.items())],
    }


ZONES = {"us-central1": "abcf", "us-east1": "bcd", "us-east4": "abc", "us-west1": "abc",
         "europe-west4": "abc", "asia-southeast1": "abc"}


def zones(project, down=()):
    """`zones.list`: every zone of the regions the fake knows; `down` ones DOWN."""
    base = f"https://www.googleapis.com/compute/v1/projects/{project}"
    return [{"kind": "compute#zone", "name": f"{r}-{z}", "status": "DOWN" if f"{r}-{z}" in down else "UP",
             "region": f"{base}/regions/{r}", "selfLink": f"{base}/zones/{r}-{z}"}
            for r, letters in ZONES.items() for z in letters]
