"""The generic part of the fake: one store of resources keyed by lowercased ARM id, and one
router that serves any resource type from its path, following the ARM RPC's
resource-api-reference.

Paths (every segment case-insensitive; names returned as first written):

    /subscriptions[/{s}]                                          subscriptions
    /subscriptions/{s}/resourcegroups[/{rg}]                      resource groups
    /subscriptions/{s}/operationresults/{id}                      a group's delete
    /subscriptions/{s}[/resourcegroups/{rg}]/resources            generic resource lists
    {scope}/providers/{Namespace}/{type}/{name}[/{childType}/{childName}...]
                                                                  any resource
    {scope}/providers/{Namespace}/{type}[/{name}/{childType}...]  lists
    /subscriptions/{s}/providers/{Namespace}/locations/{loc}/operationStatuses/{id}
    /subscriptions/{s}/providers/{Namespace}/locations/{loc}/operationResults/{id}
    /subscriptions/{s}/providers/Microsoft.Compute/locations/{loc}/usages
    /subscriptions/{s}/providers/Microsoft.Compute/skus
    {scope}/providers/Microsoft.Authorization/roleDefinitions[/{guid}]
    {scope}/providers/Microsoft.Authorization/roleAssignments[/{guid}]
    /subscriptions/{s}/providers[/{Namespace}[/register]]         resource providers

`{scope}` is a subscription, a resource group or a resource id: a resource's parent is the
scope (a resource group for a top-level resource; the resource itself for an extension
resource such as a role assignment on a storage account) or, for a child, the resource
above it. Deleting anything deletes everything whose id it prefixes.

What differs between types (LRO style, computed properties, inline children, capacity) is
in behaviour.py; operations in lro.py.
"""

import copy
import json
import re
import threading
import time
import urllib.parse
import uuid
from fractions import Fraction

import behaviour
import lro
from behaviour import Ctx, dig
from errors import ArmError, now_iso

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
GROUP_TYPE = "Microsoft.Resources/resourceGroups"


def norm_location(value):
    return re.sub(r"\s+", "", str(value)).lower()


def deep_merge(into, changes):
    """A PATCH's merge: objects merge key by key, anything else replaces."""
    for k, v in changes.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            deep_merge(into[k], v)
        else:
            into[k] = copy.deepcopy(v)


def remove_path(obj, path):
    parts = path.split(".")
    for part in parts[:-1]:
        obj = obj.get(part) if isinstance(obj, dict) else None
        if obj is None:
            return
    if isinstance(obj, dict):
        obj.pop(parts[-1], None)


class Res:
    """One stored resource (resource groups included)."""
    __slots__ = ("key", "id", "type", "name", "body", "parent", "sub", "rg", "created")

    def __init__(self, key, rid, rtype, name, body, parent, sub, rg, created=None):
        self.key, self.id, self.type, self.name, self.body = key, rid, rtype, name, body
        self.parent, self.sub, self.rg = parent, sub, rg
        self.created = created if created is not None else time.time()

    def copy(self):
        return Res(self.key, self.id, self.type, self.name, copy.deepcopy(self.body), self.parent,
                   self.sub, self.rg, self.created)

    @property
    def behaviour(self):
        return behaviour.type_of(self.type)

    @property
    def location(self):
        return self.body.get("location")


class Scope:
    """Where a path's `/providers/` part hangs: a subscription, a resource group or a
    resource."""

    def __init__(self, kind, key, rid, sub, rg=None, res=None):
        self.kind, self.key, self.id, self.sub, self.rg, self.res = kind, key, rid, sub, rg, res


class Request:
    def __init__(self, method, path, query, headers, raw, base):
        self.method = method
        self.path = path
        self.segs = [urllib.parse.unquote(s) for s in path.split("/") if s]
        self.query = query  # name -> last value
        self.headers = headers
        self.raw = raw
        self.base = base
        self.hold = 0.0  # seconds to hold back a synchronous answer (--timings)

    def q(self, name):
        for k, v in self.query.items():
            if k.lower() == name.lower():
                return v
        return None

    @property
    def api_version(self):
        return self.q("api-version")

    def json(self):
        if not self.raw:
            raise ArmError(400, "InvalidRequestContent",
                           "The request content was invalid and could not be deserialized: the body is empty.")
        try:
            value = json.loads(self.raw)
        except ValueError as e:
            raise ArmError(400, "InvalidRequestContent",
                           f"The request content was invalid and could not be deserialized: '{e}'.")
        if not isinstance(value, dict):
            raise ArmError(400, "InvalidRequestContent",
                           "The request content was invalid and could not be deserialized: expected a JSON object.")
        return value


class Store:
    def __init__(self, subscriptions, identity, operation_seconds=0.0, retry_after=0,
                 principal_replication_seconds=0.0):
        self.subscriptions = {s.lower(): s for s in subscriptions}
        self.identity = identity
        self.tenant = identity.tenant
        self.operation_seconds = operation_seconds
        self.timing_scale = None  # --timings: Azure's typical times (behaviour.TYPICAL_SECONDS) x this
        self.retry_after = retry_after
        self.principal_replication_seconds = principal_replication_seconds
        self.resources = {}  # lowercased id -> Res
        self.operations = {}  # id -> lro.Operation
        self.principals = {}  # lowercased object id -> {"id", "type", "source", "created"}
        self.faults = []
        self.quotas = {}  # (location, quota name lowercased) -> limit
        self.quota_names = {}  # quota name lowercased -> as first written
        self.restrictions = {}  # (location, sku name lowercased) -> [restriction]
        self.requests = []
        self.unregistered = set()
        self.deleted_vaults = {}  # (subscription, vault name lowercased) -> deletedVaults body
        # ML workspaces deleted without `forceToPurge=true`: resource key -> soft-deleted body
        self.deleted_workspaces = {}
        self.purging = set()  # keys whose DELETE asked `forceToPurge=true`
        self.lock = threading.RLock()

    # --- small lookups ----------------------------------------------------------------

    def find(self, rid):
        return self.resources.get(str(rid).rstrip("/").lower())

    def register_principal(self, pid, kind, source):
        if pid and pid.lower() not in self.principals:
            self.principals[pid.lower()] = {"id": pid, "type": kind, "source": source, "created": time.time()}

    def removed(self, res):
        """A resource is gone: a key vault with soft delete on (always, since 2020) is kept
        as a deleted vault, its name taken, until it is purged or recovered; an ML workspace
        deleted without `forceToPurge=true` is kept soft-deleted, its name taken (Azure ML's
        workspace soft delete)."""
        if res.type.lower() == "microsoft.machinelearningservices/workspaces":
            if res.key in self.purging:
                self.purging.discard(res.key)
            else:
                self.deleted_workspaces[res.key] = {"id": res.id, "name": res.name,
                                                    "deletedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            return
        if res.type.lower() != "microsoft.keyvault/vaults":
            return
        props = res.body.get("properties") or {}
        if props.get("enableSoftDelete") is False:
            return
        location = norm_location(res.body.get("location"))
        days = int(props.get("softDeleteRetentionInDays") or 90)
        now = time.time()
        self.deleted_vaults[(res.sub.lower(), res.name.lower())] = {
            "id": f"/subscriptions/{res.sub}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{res.name}",
            "name": res.name,
            "type": "Microsoft.KeyVault/deletedVaults",
            "properties": {
                "vaultId": res.id,
                "location": location,
                "deletionDate": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                "scheduledPurgeDate": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + days * 86400)),
                "tags": res.body.get("tags") or {},
                "purgeProtectionEnabled": bool(props.get("enablePurgeProtection")),
            },
        }

    def finalize(self, res):
        if res.behaviour.provisioning or res.type == GROUP_TYPE:
            props = res.body.setdefault("properties", {})
            props["provisioningState"] = "Succeeded"

    def hold(self, full_type, verb):
        """How long an operation (`verb` on `full_type`) stays InProgress: Azure's typical
        time for it scaled by --timings, else the flat --operation-seconds."""
        if self.timing_scale is not None:
            typical = behaviour.typical_seconds(full_type, verb)
            if typical is not None:
                return typical * self.timing_scale
        return self.operation_seconds

    def sync_hold(self, full_type, verb):
        """How long a synchronous PUT or DELETE answer is held back: Azure's typical time
        for it scaled by --timings (a key vault's PUT, a resource group's); 0 otherwise, and
        for a PATCH (a tag update is quick)."""
        if self.timing_scale is None or verb == "PATCH":
            return 0.0
        return (behaviour.typical_seconds(full_type, verb) or 0) * self.timing_scale

    def running_ops(self):
        return [op for op in self.operations.values() if op.running]

    def deleting(self, key):
        return any(op.verb == "DELETE" and key in op.keys() for op in self.running_ops())

    def render(self, res):
        """A resource as GET answers it: its body, plus inline children."""
        body = copy.deepcopy(res.body)
        for prop, spec in res.behaviour.inline.items():
            kids = self.children(res.key, f"{res.type}/{spec.child}")
            items = []
            for kid in kids:
                if spec.full:
                    items.append(self.render(kid))
                else:
                    items.append({"name": kid.name, **copy.deepcopy(kid.body.get("properties") or {})})
            body.setdefault("properties", {})[prop] = items
        return body

    def children(self, parent_key, full_type=None):
        return [r for r in self.resources.values()
                if r.parent == parent_key and (full_type is None or r.type.lower() == full_type.lower())]

    def subtree(self, key):
        prefix = key + "/"
        return [r for k, r in self.resources.items() if k.startswith(prefix)]

    # --- faults -----------------------------------------------------------------------

    def fault_for(self, method, full_type, name):
        for f in self.faults:
            if str(f.get("method", "*")).upper() not in (method, "*"):
                continue
            if str(f.get("type", "")).lower() != full_type.lower():
                continue
            if f.get("name") and str(f["name"]).lower() != str(name).lower():
                continue
            if f.get("times") is not None:
                if f["times"] <= 0:
                    continue
                f["times"] -= 1
            f["hits"] = f.get("hits", 0) + 1
            return f
        return None

    @staticmethod
    def fault_error(fault):
        err = fault.get("error") or {}
        headers = {}
        if fault.get("retry_after") is not None:
            headers["Retry-After"] = str(fault["retry_after"])
        return ArmError(int(fault.get("status", 400 if fault.get("in_operation") else 500)),
                        err.get("code", "InternalServerError"), err.get("message", "Injected fault."),
                        details=err.get("details"), target=err.get("target"), headers=headers)

    def call_fault(self, method, full_type, name, allow_in_operation):
        """The fault for this call: raised now unless it is meant to fail the operation
        (returned then)."""
        fault = self.fault_for(method, full_type, name)
        if fault is None:
            return None
        if fault.get("in_operation") and allow_in_operation:
            return behaviour.operation_failure(self.fault_error(fault))
        raise self.fault_error(fault)

    # --- capacity ---------------------------------------------------------------------

    def contributions(self, res, lookup):
        cap = res.behaviour.capacity
        if cap is None:
            return []
        parent = lookup(res.parent) if res.parent else None
        return [c for c in cap(res.body, parent.body if parent else None) if c[0] and c[1]]

    def usage(self, sub, location, exclude=()):
        """vCPUs in use at `location`: {quota name lowercased: n} (families, cores,
        lowPriorityCores)."""
        doomed = set()
        for op in self.running_ops():
            if op.error is not None:
                doomed |= op.keys()
        out = {}
        for key, res in self.resources.items():
            if res.sub.lower() != sub.lower() or key in exclude or key in doomed:
                continue
            for loc, size, count, spot, _zones in self.contributions(res, self.resources.get):
                sku = behaviour.SKUS.get(str(size).lower())
                if sku is None or norm_location(loc) != location:
                    continue
                n = sku.vcpus * count
                if spot:
                    out["lowprioritycores"] = out.get("lowprioritycores", 0) + n
                else:
                    out[sku.family.lower()] = out.get(sku.family.lower(), 0) + n
                    out["cores"] = out.get("cores", 0) + n
        return out

    def limit(self, location, name):
        return self.quotas.get((location, name.lower()), behaviour.DEFAULT_QUOTA)

    def capacity_error(self, sub, changes):
        """The error a change set's operation fails with for want of capacity: a restricted
        size (SkuNotAvailable) or an exceeded quota (QuotaExceeded); None when it fits."""
        overlay = {c.key: c.after for c in changes}

        def lookup(key):
            return overlay[key] if key in overlay and overlay[key] is not None else self.resources.get(key)

        wanted = {}  # location -> {quota: vcpus}
        for change in changes:
            if change.after is None:
                continue
            for loc, size, count, spot, zones in self.contributions(change.after, lookup):
                loc = norm_location(loc)
                sku = behaviour.SKUS.get(str(size).lower())
                if sku is None:
                    continue
                for r in self.restrictions.get((loc, sku.name.lower()), []):
                    if r["type"] == "Location":
                        return behaviour.sku_not_available(sku.name, loc, [])
                    blocked = sorted(set(map(str, zones)) & set(r["restrictionInfo"].get("zones", [])))
                    if blocked:
                        return behaviour.sku_not_available(sku.name, loc, blocked)
                n = sku.vcpus * count
                need = wanted.setdefault(loc, {})
                if spot:
                    need["lowPriorityCores"] = need.get("lowPriorityCores", 0) + n
                else:
                    need[sku.family] = need.get(sku.family, 0) + n
                    need["cores"] = need.get("cores", 0) + n
        exclude = set(overlay)
        for loc, need in wanted.items():
            used = self.usage(sub, loc, exclude)
            # A family's own quota first, then the regional totals, as Compute reports them.
            for name in sorted(need, key=lambda n: (n in ("cores", "lowPriorityCores"), n)):
                have, limit = used.get(name.lower(), 0), self.limit(loc, name)
                if need[name] and have + need[name] > limit:
                    return behaviour.quota_exceeded(sub, loc, name, limit, have, need[name])
        return None

    # --- the request entry point ------------------------------------------------------

    def handle(self, req):
        with self.lock:
            lro.settle(self)
            return Router(self, req).route()

    # --- admin ------------------------------------------------------------------------

    def admin(self, method, path, body):
        with self.lock:
            lro.settle(self)
            body = body or {}
            if path == "/_fake/config" and method == "POST":
                for name in ("operation_seconds", "principal_replication_seconds"):
                    if name in body:
                        setattr(self, name, float(body[name]))
                if "timings" in body:
                    self.timing_scale = None if body["timings"] is None else float(Fraction(str(body["timings"])))
                if "retry_after" in body:
                    self.retry_after = int(body["retry_after"])
                return self.config()
            if path == "/_fake/config" and method == "GET":
                return self.config()
            if path == "/_fake/faults" and method == "POST":
                if not body.get("type") or not body.get("method"):
                    raise ArmError(400, "InvalidFault", "a fault needs `method` and `type`")
                self.faults.append(dict(body))
                return {"faults": self.faults}
            if path == "/_fake/faults" and method == "DELETE":
                self.faults.clear()
                return {"faults": []}
            if path == "/_fake/faults" and method == "GET":
                return {"faults": self.faults}
            if path == "/_fake/quotas" and method == "POST":
                loc, name = norm_location(body["location"]), str(body["name"])
                self.quotas[(loc, name.lower())] = int(body["limit"])
                self.quota_names[name.lower()] = name
                return {"quotas": self.quota_state()}
            if path == "/_fake/quotas" and method == "DELETE":
                self.quotas.clear()
                self.quota_names.clear()
                return {"quotas": {}}
            if path == "/_fake/quotas" and method == "GET":
                return {"quotas": self.quota_state()}
            if path == "/_fake/skus" and method == "POST":
                loc = norm_location(body["location"])
                sku = behaviour.SKUS.get(str(body["name"]).lower())
                if sku is None:
                    raise ArmError(400, "UnknownSku", f"no VM size {body['name']} in the SKU table")
                self.restrictions.setdefault((loc, sku.name.lower()), []).append(
                    behaviour.restriction(loc, body.get("restriction") or {}))
                return {"restrictions": self.restriction_state()}
            if path == "/_fake/skus" and method == "DELETE":
                self.restrictions.clear()
                return {"restrictions": {}}
            if path == "/_fake/principals" and method == "POST":
                self.register_principal(str(body["principal_id"]), body.get("type", "User"), "_fake")
                return {"principals": list(self.principals.values())}
            if path == "/_fake/requests" and method == "GET":
                return {"requests": self.requests}
            if path == "/_fake/state" and method == "GET":
                return self.state()
        raise ArmError(404, "NotFound", f"no admin call {method} {path}")

    def config(self):
        return {"operation_seconds": self.operation_seconds, "retry_after": self.retry_after,
                "principal_replication_seconds": self.principal_replication_seconds,
                "timings": self.timing_scale}

    def quota_state(self):
        out = {}
        for (loc, name), limit in self.quotas.items():
            out.setdefault(loc, {})[self.quota_names.get(name, name)] = limit
        return out

    def restriction_state(self):
        out = {}
        for (loc, sku), rs in self.restrictions.items():
            out.setdefault(loc, {})[behaviour.SKUS[sku].name] = rs
        return out

    def state(self):
        ident = self.identity.state()
        return {
            "subscriptions": list(self.subscriptions.values()),
            "tenant": self.tenant,
            "client": {"client_id": ident["client_id"], "object_id": ident["object_id"]},
            "config": self.config(),
            "resources": {r.id: self.render(r) for r in self.resources.values()},
            "operations": {op.id: op.state() for op in self.operations.values()},
            "principals": list(self.principals.values()),
            "tokens": ident["tokens"],
            "client_assertions": ident["client_assertions"],
            "faults": self.faults,
            "quotas": self.quota_state(),
            "sku_restrictions": self.restriction_state(),
            "deleted_workspaces": list(self.deleted_workspaces.values()),
            "requests": self.requests,
        }


class Router:
    """One ARM request, routed by its path."""

    def __init__(self, store, req):
        self.store, self.req = store, req
        self.method = req.method
        self.segs = req.segs
        self.low = [s.lower() for s in req.segs]

    # --- helpers ----------------------------------------------------------------------

    def ok(self, body, status=200, headers=None):
        return status, headers or {}, body

    def not_found_route(self):
        raise ArmError(404, "NotFound", f"The fake serves no {self.method} {self.req.path}.")

    def subscription(self, s):
        sub = self.store.subscriptions.get(s.lower())
        if sub is None:
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{s}' could not be found.")
        return sub

    def group(self, sub, name):
        return self.store.resources.get(f"/subscriptions/{sub}/resourcegroups/{name}".lower())

    def need_group(self, sub, name):
        rg = self.group(sub, name)
        if rg is None:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
        return rg

    def op_headers(self, op, style):
        base = self.req.base
        h = {"Retry-After": str(self.store.retry_after)}
        if style == "async":
            h["Azure-AsyncOperation"] = op.url(base, "operationStatuses")
            if op.verb == "DELETE":
                h["Location"] = op.url(base, "operationResults")
        else:
            h["Location"] = op.url(base, "operationResults")
        return h

    def start(self, sub, namespace, location, verb, changes, full_type, error=None, result_key=None):
        op = lro.Operation(sub, namespace, location, verb, changes, self.store.hold(full_type, verb),
                           error=error, result_key=result_key, api_version=self.req.api_version)
        self.store.operations[op.id] = op
        return op

    def conflict(self, key, T):
        for op in self.store.running_ops():
            for k in op.keys():
                if provider_scope(k) != provider_scope(key):
                    continue  # another provider's resource (a role assignment on a cluster)
                if T.lock == "top":
                    hit = top_key(k) == top_key(key)
                else:
                    hit = k == key or key.startswith(k + "/") or k.startswith(key + "/")
                if hit:
                    url = op.url(self.req.base, "operationStatuses")
                    if T.conflict_status == 429:
                        raise ArmError(429, "AnotherOperationInProgress",
                                       "Another operation on this or dependent resource is in progress. To "
                                       f"retrieve status of the operation use uri: {url}.",
                                       headers={"Retry-After": str(max(1, self.store.retry_after))})
                    raise ArmError(409, "AnotherOperationInProgress",
                                   f"Operation is not allowed: Another operation ({op.verb}) is in progress, "
                                   f"please wait for it to finish before starting a new operation. See {url}.")

    def preconditions(self, existing):
        match = self.req.headers.get("If-Match")
        none_match = self.req.headers.get("If-None-Match")
        etag = existing.body.get("etag") if existing else None
        if match and match != "*" and (existing is None or match != etag):
            raise ArmError(412, "PreconditionFailed", f"The specified precondition 'If-Match = {match}' failed.")
        if match == "*" and existing is None:
            raise ArmError(412, "PreconditionFailed", "The specified precondition 'If-Match = *' failed.")
        if none_match == "*" and existing is not None:
            raise ArmError(412, "PreconditionFailed", "The specified precondition 'If-None-Match = *' failed.")

    # --- routing ----------------------------------------------------------------------

    def route(self):
        low, segs, m = self.low, self.segs, self.method
        if not segs:
            self.not_found_route()
        if low[0] == "providers":  # tenant-level: role definitions by id, provider lists
            if len(segs) >= 3 and low[1] == "microsoft.authorization" and low[2] == "roledefinitions":
                return self.role_definitions(None, segs[3:])
            self.not_found_route()
        if low[0] != "subscriptions":
            self.not_found_route()
        if len(segs) == 1:
            if m != "GET":
                self.not_found_route()
            return self.ok({"value": [self.subscription_body(s) for s in self.store.subscriptions.values()]})
        sub = self.subscription(segs[1])
        if len(segs) == 2:
            if m != "GET":
                self.not_found_route()
            return self.ok(self.subscription_body(sub))
        if "providers" in low[2:]:
            return self.provider_path(sub)
        if low[2] == "resourcegroups":
            if len(segs) == 3:
                if m != "GET":
                    self.not_found_route()
                groups = [r for r in self.store.resources.values()
                          if r.type == GROUP_TYPE and r.sub == sub]
                return self.ok({"value": [copy.deepcopy(g.body) for g in self.filtered(groups)]})
            if len(segs) == 4:
                return self.resource_group(sub, segs[3])
            if len(segs) == 5 and low[4] == "resources" and m == "GET":
                rg = self.need_group(sub, segs[3])
                found = [r for r in self.store.resources.values() if r.parent == rg.key and r.type != GROUP_TYPE]
                return self.ok({"value": [self.generic(r) for r in self.filtered(found)]})
        if low[2] == "operationresults" and len(segs) == 4 and m == "GET":
            return self.operation(sub, segs[3], "operationresults")
        if low[2] == "resources" and len(segs) == 3 and m == "GET":
            found = [r for r in self.store.resources.values()
                     if r.sub == sub and r.type != GROUP_TYPE and r.parent and self.is_group_key(r.parent)]
            return self.ok({"value": [self.generic(r) for r in self.filtered(found)]})
        if low[2] == "locations" and len(segs) == 3 and m == "GET":
            return self.ok({"value": [{"id": f"/subscriptions/{sub}/locations/{loc}", "name": loc,
                                       "displayName": loc, "regionalDisplayName": loc,
                                       "type": "Region"} for loc in behaviour.LOCATIONS]})
        self.not_found_route()

    def is_group_key(self, key):
        res = self.store.resources.get(key)
        return res is not None and res.type == GROUP_TYPE

    def subscription_body(self, sub):
        return {"id": f"/subscriptions/{sub}", "authorizationSource": "RoleBased", "managedByTenants": [],
                "subscriptionId": sub, "tenantId": self.store.tenant,
                "displayName": f"gantry fake subscription {sub}", "state": "Enabled",
                "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01",
                                         "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"}}

    def generic(self, res):
        """A resource as the generic `/resources` list shows it."""
        out = {"id": res.id, "name": res.name, "type": res.type}
        for k in ("location", "tags", "sku", "kind", "identity", "managedBy", "zones", "extendedLocation"):
            if k in res.body:
                out[k] = copy.deepcopy(res.body[k])
        return out

    def filtered(self, items):
        """`$filter` of the list calls: `tagName eq 'k' [and tagValue eq 'v']`,
        `resourceType eq 'A/b'`, `name eq 'n'`, `location eq 'l'`, joined by `and`."""
        expr = self.req.q("$filter")
        if not expr:
            return items
        clauses = dict((k.lower(), v) for k, v in re.findall(r"(\w+)\s+eq\s+'([^']*)'", expr))
        out = []
        for r in items:
            tags = r.body.get("tags") or {}
            if "tagname" in clauses:
                hit = {k.lower(): v for k, v in tags.items()}
                if clauses["tagname"].lower() not in hit:
                    continue
                if "tagvalue" in clauses and hit[clauses["tagname"].lower()] != clauses["tagvalue"]:
                    continue
            if "resourcetype" in clauses and r.type.lower() != clauses["resourcetype"].lower():
                continue
            if "name" in clauses and r.name.lower() != clauses["name"].lower():
                continue
            if "location" in clauses and norm_location(r.location or "") != norm_location(clauses["location"]):
                continue
            out.append(r)
        return out

    # --- operations -------------------------------------------------------------------

    def operation(self, sub, op_id, kind):
        op = self.store.operations.get(op_id)
        if op is None or op.subscription.lower() != sub.lower():
            raise ArmError(404, "OperationNotFound" if kind != "operationresults" else "NotFound",
                           f"The operation '{op_id}' could not be found.")
        if kind == "operationresults":
            return lro.result(self.store, op, self.req.base)
        headers = {"Retry-After": str(self.store.retry_after)} if op.running else {}
        return self.ok(op.status_body(), headers=headers)

    # --- resource groups --------------------------------------------------------------

    def resource_group(self, sub, name):
        m = self.method
        key = f"/subscriptions/{sub}/resourcegroups/{name}".lower()
        rg = self.store.resources.get(key)
        fault = self.store.call_fault(m, GROUP_TYPE, name, allow_in_operation=(m == "DELETE"))
        if m == "HEAD":
            return (204 if rg else 404), {}, None
        if m == "GET":
            if rg is None:
                self.need_group(sub, name)
            return self.ok(copy.deepcopy(rg.body))
        if m == "PUT":
            body = self.req.json()
            if not body.get("location"):
                raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
            loc = norm_location(body["location"])
            if rg is not None:
                if self.store.deleting(key):
                    raise ArmError(409, "ResourceGroupBeingDeleted",
                                   f"The resource group '{rg.name}' is in deprovisioning state and cannot perform this operation.")
                if rg.location != loc:
                    raise ArmError(409, "InvalidResourceGroupLocation",
                                   f"Invalid resource group location '{loc}'. The Resource group already exists in "
                                   f"location '{rg.location}'.")
            shown = rg.name if rg else name
            out = {"id": f"/subscriptions/{sub}/resourceGroups/{shown}", "name": shown, "type": GROUP_TYPE,
                   "location": loc}
            if body.get("tags") is not None:
                out["tags"] = dict(body["tags"])
            if body.get("managedBy"):
                out["managedBy"] = body["managedBy"]
            out["properties"] = {"provisioningState": "Succeeded"}
            self.req.hold = self.store.sync_hold(GROUP_TYPE, "PUT")
            if rg is None:
                self.store.resources[key] = Res(key, out["id"], GROUP_TYPE, shown, out,
                                                f"/subscriptions/{sub}".lower(), sub, None)
                return self.ok(copy.deepcopy(out), 201)
            rg.body = out
            return self.ok(copy.deepcopy(out), 200)
        if m == "PATCH":
            if rg is None:
                self.need_group(sub, name)
            body = self.req.json()
            if "tags" in body:
                rg.body["tags"] = dict(body["tags"] or {})
            if body.get("managedBy") is not None:
                rg.body["managedBy"] = body["managedBy"]
            return self.ok(copy.deepcopy(rg.body))
        if m == "DELETE":
            if rg is None:
                self.need_group(sub, name)
            if self.store.deleting(key):
                op = next(o for o in self.store.running_ops() if o.verb == "DELETE" and key in o.keys())
                return 202, self.op_headers(op, "location"), None
            changes = []
            for res in [rg] + self.store.subtree(key):
                changes.append(lro.Change(res.key, res, None))
                shown = res.copy()
                if res.type == GROUP_TYPE or res.behaviour.provisioning:
                    shown.body.setdefault("properties", {})["provisioningState"] = "Deleting"
                self.store.resources[res.key] = shown
            op = self.start(sub, None, rg.location, "DELETE", changes, GROUP_TYPE, error=fault)
            return 202, self.op_headers(op, "location"), None
        self.not_found_route()

    # --- provider paths ---------------------------------------------------------------

    def scope_of(self, sub, prefix):
        low = [s.lower() for s in prefix]
        if len(prefix) == 2:
            return Scope("subscription", f"/subscriptions/{sub}".lower(), f"/subscriptions/{sub}", sub)
        if len(prefix) == 4 and low[2] == "resourcegroups":
            rg = self.need_group(sub, prefix[3])
            return Scope("group", rg.key, rg.id, sub, rg=rg)
        if len(prefix) >= 4 and low[2] == "resourcegroups":
            rg = self.need_group(sub, prefix[3])
            key = "/" + "/".join(low)
            res = self.store.resources.get(key)
            if res is None:
                raise ArmError(404, "ResourceNotFound",
                               f"The Resource '{'/'.join(prefix[5:])}' under resource group '{rg.name}' was not found. "
                               "For more details please go to https://aka.ms/ARMResourceNotFoundFix")
            return Scope("resource", res.key, res.id, sub, rg=rg, res=res)
        self.not_found_route()

    def provider_path(self, sub):
        low, segs, m = self.low, self.segs, self.method
        p = max(i for i, s in enumerate(low) if s == "providers" and i >= 2)
        prefix, rest, lrest = segs[:p], segs[p + 1:], low[p + 1:]
        at_subscription = len(prefix) == 2
        if not rest:
            if at_subscription and m == "GET":
                return self.ok({"value": [self.provider_body(sub, ns) for ns in self.namespaces()]})
            self.not_found_route()
        ns = rest[0]
        if len(rest) == 1 and at_subscription and m == "GET":
            return self.ok(self.provider_body(sub, ns))
        if len(rest) == 2 and at_subscription and lrest[1] in ("register", "unregister") and m == "POST":
            (self.store.unregistered.discard if lrest[1] == "register" else self.store.unregistered.add)(ns.lower())
            return self.ok(self.provider_body(sub, ns))
        if at_subscription and len(rest) == 5 and lrest[1] == "locations" and \
                lrest[3] in ("operationstatuses", "operations", "asyncoperations", "operationresults") and m == "GET":
            return self.operation(sub, rest[4], "operationresults" if lrest[3] == "operationresults" else "status")
        if at_subscription and lrest == ["microsoft.compute", "locations", lrest[2] if len(lrest) > 2 else "", "usages"] \
                and m == "GET":
            return self.usages(sub, norm_location(rest[2]))
        if at_subscription and lrest == ["microsoft.compute", "skus"] and m == "GET":
            return self.skus()
        if at_subscription and lrest[0] == "microsoft.keyvault" and "deletedvaults" in lrest:
            return self.deleted_vaults(sub, rest, lrest)
        if lrest[0] == "microsoft.authorization" and len(rest) >= 2 and lrest[1] == "roledefinitions":
            scope = self.scope_of(sub, prefix)
            return self.role_definitions(scope, rest[2:])
        scope = self.scope_of(sub, prefix)
        if len(rest) < 2:
            self.not_found_route()
        if lrest[0] == "microsoft.authorization" and lrest[1] == "roleassignments" and len(rest) == 2:
            if m != "GET":
                self.not_found_route()
            return self.role_assignments(scope)
        if len(rest) % 2 == 0:
            if m != "GET":
                self.not_found_route()
            return self.collection(scope, rest)
        return self.resource(scope, rest)

    def deleted_vaults(self, sub, rest, lrest):
        """Soft-deleted key vaults: list them, get one by location and name, purge one (an
        operation polled at its Location, refused under purge protection)."""
        store, m = self.store, self.method
        if lrest == ["microsoft.keyvault", "deletedvaults"] and m == "GET":
            return self.ok({"value": [v for (s_, _), v in store.deleted_vaults.items() if s_ == sub.lower()]})
        if len(rest) in (5, 6) and lrest[1] == "locations" and lrest[3] == "deletedvaults":
            location, name = norm_location(rest[2]), rest[4]
            found = store.deleted_vaults.get((sub.lower(), name.lower()))
            if found is not None and found["properties"]["location"] != location:
                found = None
            if found is None:
                raise ArmError(404, "ResourceNotFound",
                               f"The Resource 'Microsoft.KeyVault/deletedVaults/{name}' under resource group "
                               "'<null>' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix")
            if len(rest) == 5 and m == "GET":
                return self.ok(found)
            if len(rest) == 6 and lrest[5] == "purge" and m == "POST":
                if found["properties"]["purgeProtectionEnabled"]:
                    raise ArmError(409, "Conflict",
                                   f"Operation 'DeletedVaultPurge' is not allowed as the vault '{name}' has purge "
                                   "protection enabled. It will be purged on its scheduled purge date.")
                store.deleted_vaults.pop((sub.lower(), name.lower()), None)
                op = self.start(sub, "Microsoft.KeyVault", location, "POST", [], "Microsoft.KeyVault/deletedVaults")
                return 202, self.op_headers(op, "location"), None
        self.not_found_route()

    def namespaces(self):
        seen = {}
        for t in behaviour.TYPES.values():
            ns = t.name.split("/")[0]
            seen.setdefault(ns.lower(), ns)
        for extra in ("Microsoft.Resources", "Microsoft.Authorization"):
            seen.setdefault(extra.lower(), extra)
        return sorted(seen.values())

    def provider_body(self, sub, ns):
        canon = next((n for n in self.namespaces() if n.lower() == ns.lower()), ns)
        types = sorted({"/".join(t.name.split("/")[1:]) for t in behaviour.TYPES.values()
                        if t.name.split("/")[0].lower() == ns.lower()})
        state = "NotRegistered" if ns.lower() in self.store.unregistered else "Registered"
        return {"id": f"/subscriptions/{sub}/providers/{canon}", "namespace": canon,
                "registrationState": state, "registrationPolicy": "RegistrationRequired",
                "resourceTypes": [{"resourceType": t, "locations": list(behaviour.LOCATIONS),
                                   "apiVersions": ["2024-01-01"], "capabilities": "None"} for t in types]}

    # --- compute capacity data ----------------------------------------------------------

    def usages(self, sub, location):
        used = self.store.usage(sub, location)
        names = [behaviour.REGIONAL, behaviour.LOW_PRIORITY]
        names += sorted(behaviour.FAMILY_NAMES.items())
        known = {n.lower() for n, _ in names}
        for low_name, name in self.store.quota_names.items():
            if low_name not in known:
                names.append((name, name))
        value = []
        for name, label in names:
            value.append({"currentValue": used.get(name.lower(), 0), "limit": self.store.limit(location, name),
                          "name": {"value": name, "localizedValue": label}, "unit": "Count"})
        vmss = sum(1 for r in self.store.resources.values()
                   if r.type.lower() == "microsoft.compute/virtualmachinescalesets" and r.sub == sub
                   and norm_location(r.location or "") == location)
        value.append({"currentValue": vmss, "limit": self.store.limit(location, "virtualMachineScaleSets"),
                      "name": {"value": "virtualMachineScaleSets", "localizedValue": "Virtual Machine Scale Sets"},
                      "unit": "Count"})
        return self.ok({"value": value})

    def skus(self):
        expr = self.req.q("$filter") or ""
        found = re.search(r"location\s+eq\s+'([^']*)'", expr)
        return self.ok({"value": behaviour.sku_entries(norm_location(found.group(1)) if found else None,
                                                       self.store.restrictions)})

    # --- authorization ------------------------------------------------------------------

    def role_definitions(self, scope, rest):
        if self.method != "GET":
            self.not_found_route()
        sub = scope.sub if scope else next(iter(self.store.subscriptions.values()))
        if rest:
            guid = rest[0].lower()
            if guid not in behaviour.ROLES:
                raise ArmError(404, "RoleDefinitionDoesNotExist",
                               f"The specified role definition with ID '{rest[0]}' does not exist.")
            body = behaviour.role_definition(sub, guid)
            if scope is None:
                body["id"] = f"/providers/Microsoft.Authorization/roleDefinitions/{guid}"
            return self.ok(body)
        expr = self.req.q("$filter") or ""
        wanted = re.search(r"roleName\s+eq\s+'([^']*)'", expr, re.I)
        kind = re.search(r"type\s+eq\s+'([^']*)'", expr, re.I)
        out = []
        for guid, (name, *_rest) in behaviour.ROLES.items():
            if wanted and name.lower() != wanted.group(1).lower():
                continue
            if kind and kind.group(1).lower() != "builtinrole":
                continue
            out.append(behaviour.role_definition(sub, guid))
        return self.ok({"value": out})

    def role_assignments(self, scope):
        expr = self.req.q("$filter") or ""
        at_scope = "atscope()" in expr.lower()
        principal = re.search(r"(?:principalId\s+eq\s+'|assignedTo\(')([^']*)'", expr, re.I)
        out = []
        for res in self.store.resources.values():
            if res.type.lower() != "microsoft.authorization/roleassignments" or res.sub != scope.sub:
                continue
            a_scope = res.parent
            above = scope.key == a_scope or scope.key.startswith(a_scope + "/")
            below = a_scope.startswith(scope.key + "/")
            if not (above or (below and not at_scope)):
                continue
            if principal and dig(res.body, "properties.principalId", "").lower() != principal.group(1).lower():
                continue
            out.append(self.store.render(res))
        return self.ok({"value": out})

    def check_role_assignment(self, scope, name, body, existing, key):
        if not GUID.match(name):
            raise ArmError(400, "InvalidRoleAssignmentId",
                           f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.")
        props = body.get("properties") or {}
        rd, pid = props.get("roleDefinitionId"), props.get("principalId")
        if not rd or not pid:
            raise ArmError(400, "InvalidRequestContent",
                           "The request content was invalid: properties.roleDefinitionId and "
                           "properties.principalId are required.")
        guid = str(rd).rstrip("/").rsplit("/", 1)[-1].lower()
        if guid not in behaviour.ROLES:
            raise ArmError(400, "RoleDefinitionDoesNotExist",
                           f"The specified role definition with ID '{guid}' does not exist.")
        props["roleDefinitionId"] = f"/subscriptions/{scope.sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
        known = self.store.principals.get(str(pid).lower())
        if str(pid).lower() == self.store.identity.object_id.lower():
            known = {"type": "ServicePrincipal", "created": 0}
        if known is None or time.time() < known["created"] + self.store.principal_replication_seconds:
            raise behaviour.principal_not_found(str(pid), self.store.tenant)
        props.setdefault("principalType", known["type"])
        if existing is not None:
            old = existing.body["properties"]
            if old["principalId"].lower() != str(pid).lower() or old["roleDefinitionId"].lower() != props["roleDefinitionId"].lower():
                raise ArmError(400, "RoleAssignmentUpdateNotPermitted",
                               "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
        for res in self.store.resources.values():
            if res.type.lower() != "microsoft.authorization/roleassignments" or res.key == key:
                continue
            p = res.body.get("properties") or {}
            if res.parent == scope.key and p.get("principalId", "").lower() == str(pid).lower() and \
                    p.get("roleDefinitionId", "").lower() == props["roleDefinitionId"].lower():
                raise ArmError(409, "RoleAssignmentExists", "The role assignment already exists.",
                               details=[{"code": "RoleAssignmentExists",
                                         "message": f"The role assignment already exists with ID '{res.name}'."}])
        props["scope"] = scope.id
        stamp = now_iso()
        props["createdOn"] = dig(existing.body, "properties.createdOn") if existing else stamp
        props["updatedOn"] = stamp
        props["createdBy"] = dig(existing.body, "properties.createdBy") if existing else self.store.identity.object_id
        props["updatedBy"] = self.store.identity.object_id
        props.setdefault("condition", None)
        props.setdefault("conditionVersion", None)
        props.setdefault("delegatedManagedIdentityResourceId", None)
        props.setdefault("description", None)

    # --- generic resources --------------------------------------------------------------

    def parse(self, scope, rest):
        """(key, id, full type, name, parent key, behaviour) of the resource at
        `{scope}/providers/{rest}`."""
        ns, pairs = rest[0], [(rest[i], rest[i + 1]) for i in range(1, len(rest), 2)]
        spelled = ns + "/" + "/".join(t for t, _ in pairs)
        T = behaviour.type_of(spelled)
        canon = T.name.split("/")
        rid = f"{scope.id}/providers/{canon[0]}/" + "/".join(f"{canon[i + 1]}/{n}" for i, (_, n) in enumerate(pairs))
        key = rid.lower()
        if len(pairs) == 1:
            parent = scope.key
        else:
            parent = key.rsplit("/", 2)[0]
        # Ids spell names as first written: an existing resource's own, else its parent's.
        stored = self.store.resources.get(key) or self.store.resources.get(parent)
        if stored is not None and stored.key == key:
            rid = stored.id
        elif stored is not None and stored.type != GROUP_TYPE and len(pairs) > 1:
            # A child: its parent's id as first written. (An extension resource at a
            # resource's scope, a role assignment, keeps its `/providers/{Namespace}/`.)
            rid = f"{stored.id}/{canon[-1]}/{pairs[-1][1]}"
        return key, rid, T.name, pairs[-1][1], parent, T

    def missing(self, scope, full_type, name, rid):
        where = f" under resource group '{scope.rg.name}'" if scope.rg else ""
        path = rid.split("/providers/", 1)[-1] if scope.kind != "resource" else rid.rsplit("/providers/", 1)[-1]
        return ArmError(404, "ResourceNotFound",
                        f"The Resource '{path}'{where} was not found. For more details please go to "
                        "https://aka.ms/ARMResourceNotFoundFix")

    def need_parent(self, scope, parent_key, full_type):
        if parent_key == scope.key:
            return scope.res or scope.rg
        parent = self.store.resources.get(parent_key)
        if parent is None:
            pname = parent_key.rsplit("/", 1)[-1]
            ptype = "/".join(full_type.split("/")[:-1])
            raise ArmError(404, "ParentResourceNotFound",
                           f"Can not perform requested operation on nested resource. Parent resource "
                           f"'{pname}' not found.", details=[{"code": "ParentResourceNotFound",
                                                              "message": f"Parent {ptype} '{pname}' not found."}])
        return parent

    def collection(self, scope, rest):
        ns, types = rest[0], rest[1::2]
        names = rest[2::2]
        spelled = ns + "/" + "/".join(types)
        T = behaviour.type_of(spelled)
        if not names:
            if scope.kind == "subscription":
                found = [r for r in self.store.resources.values()
                         if r.sub == scope.sub and r.type.lower() == T.name.lower()]
            else:
                found = self.store.children(scope.key, T.name)
        else:
            parent_rest = rest[:-1]
            key, rid, ptype, pname, pparent, PT = self.parse(scope, parent_rest)
            self.need_parent(scope, pparent, ptype)
            if key not in self.store.resources:
                raise self.missing(scope, ptype, pname, rid)
            found = self.store.children(key, T.name)
        return self.ok({"value": [self.store.render(r) for r in self.filtered(found)]})

    def resource(self, scope, rest):
        key, rid, full_type, name, parent_key, T = self.parse(scope, rest)
        m = self.method
        existing = self.store.resources.get(key)
        if m == "GET" or m == "HEAD":
            self.store.call_fault(m, full_type, name, allow_in_operation=False)
            if existing is None:
                self.need_parent(scope, parent_key, full_type)
                if m == "HEAD":
                    return 404, {}, None
                raise self.missing(scope, full_type, name, rid)
            if m == "HEAD":
                return 204, {}, None
            return self.ok(self.store.render(existing))
        if m == "DELETE":
            return self.delete(scope, key, full_type, name, parent_key, T, existing)
        if m in ("PUT", "PATCH"):
            parent = self.need_parent(scope, parent_key, full_type)
            if scope.rg is not None and self.store.deleting(scope.rg.key):
                raise ArmError(409, "ResourceGroupBeingDeleted",
                               f"The resource group '{scope.rg.name}' is in deprovisioning state and cannot "
                               "perform this operation.")
            if parent is not None and parent.type != GROUP_TYPE and self.store.deleting(parent.key):
                raise ArmError(409, "ParentResourceBeingDeleted",
                               f"The parent resource '{parent.name}' is being deleted.")
            if m == "PATCH" and existing is None:
                raise self.missing(scope, full_type, name, rid)
            self.preconditions(existing)
            self.conflict(key, T)
            style = T.style(m)
            error = self.store.call_fault(m, full_type, name, allow_in_operation=style != "sync")
            body = self.req.json()
            if m == "PATCH":
                sent_inline = body.get("properties") if isinstance(body.get("properties"), dict) else {}
                merged = copy.deepcopy(existing.body)
                for k, v in body.items():
                    if k == "tags":
                        merged["tags"] = copy.deepcopy(v)
                    elif isinstance(v, dict) and isinstance(merged.get(k), dict):
                        deep_merge(merged[k], {kk: vv for kk, vv in v.items()
                                               if not (k == "properties" and kk in T.inline)})
                    elif k not in ("id", "name", "type"):
                        merged[k] = copy.deepcopy(v)
                body = merged
                inline_source = sent_inline
            else:
                inline_source = body.get("properties") if isinstance(body.get("properties"), dict) else {}
            return self.write(m, scope, key, rid, full_type, name, parent, T, existing, body, style,
                              error, inline_source)
        self.not_found_route()

    def resource_location(self, parent):
        """The location a child or extension resource lives in: its top-level ancestor's."""
        res = parent
        while res is not None:
            if res.type != GROUP_TYPE and res.location:
                return norm_location(res.location)
            if res.type == GROUP_TYPE:
                return res.location
            res = self.store.resources.get(res.parent)
        return None

    def build(self, scope, key, rid, full_type, name, parent_key, parent_body, T, previous, body,
              tracked, location, state):
        """A new Res for `body` (the client's, or a PATCH's merge), with what the server owns."""
        b = copy.deepcopy(body)
        for k in ("id", "name", "type"):
            b.pop(k, None)
        out = {"id": rid, "name": previous.name if previous else name, "type": full_type}
        if tracked:
            out["location"] = location
        else:
            b.pop("location", None)
        out.update(b)
        for path in T.write_only:
            remove_path(out, path)
        props = out.get("properties")
        if not isinstance(props, dict):
            props = out["properties"] = {}
        for prop in T.inline:
            props.pop(prop, None)
        if T.etag:
            out["etag"] = f'W/"{uuid.uuid4()}"'
        ctx = Ctx(body=out, previous=previous.body if previous else None, id=rid, name=out["name"],
                  type=full_type, location=location, subscription=scope.sub,
                  resource_group=scope.rg.name if scope.rg else None, tenant=self.store.tenant,
                  store=self.store, parent=parent_body)
        if T.compute:
            T.compute(ctx)
        else:
            behaviour.system_identity(ctx)
        if T.provisioning:
            props = out.setdefault("properties", {})
            props["provisioningState"] = state
        if not out.get("properties") and not T.provisioning and "properties" not in body:
            out.pop("properties", None)
        return Res(key, rid, full_type, out["name"], out, parent_key, scope.sub,
                   scope.rg.key if scope.rg else None, previous.created if previous else None)

    def write(self, verb, scope, key, rid, full_type, name, parent, T, existing, body, style, error,
              inline_source):
        """A PUT or PATCH, whatever the type: validation, the new bodies (the resource, its
        inline and implicit children), then the answer in the type's LRO style."""
        store = self.store
        if T.validate_name and existing is None:
            T.validate_name(name)
        if T.unique and existing is None:
            for other in store.resources.values():
                if other.type.lower() == full_type.lower() and other.name.lower() == name.lower():
                    raise ArmError(409, T.unique[0], T.unique[1].format(name=name))
        if full_type.lower() == "microsoft.keyvault/vaults" and existing is None:
            deleted = (scope.sub.lower(), name.lower())
            if deleted in store.deleted_vaults:
                mode = ((body.get("properties") or {}).get("createMode") or "default").lower()
                if mode != "recover":
                    raise ArmError(409, "ConflictError",
                                   f"A vault with the same name already exists in deleted state. You need to either "
                                   f"recover or purge existing key vault. Follow this link "
                                   f"https://go.microsoft.com/fwlink/?linkid=2149745 for more information on soft delete.")
                store.deleted_vaults.pop(deleted, None)
        if full_type.lower() == "microsoft.machinelearningservices/workspaces" and existing is None \
                and key in store.deleted_workspaces:
            raise ArmError(400, "BadRequest",
                           "Soft-deleted workspace exists. Please purge or recover it. https://aka.ms/wsoftdelete")
        if full_type.lower() == "microsoft.authorization/roleassignments":
            self.check_role_assignment(scope, name, body, existing, key)
        top_level = key.count("/providers/") == 1 and len(key.split("/providers/", 1)[1].split("/")) == 3
        tracked = T.tracked if T.tracked is not None else (top_level and scope.kind == "group")
        if tracked:
            if not body.get("location"):
                raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
            location = norm_location(body["location"])
            if existing is not None and existing.location and norm_location(existing.location) != location:
                raise ArmError(409, "InvalidResourceLocation",
                               f"The resource '{name}' already exists in location '{existing.location}' in resource "
                               f"group '{scope.rg.name if scope.rg else ''}'. A resource with the same name cannot be "
                               f"created in location '{location}'. Please select a new resource name.")
        else:
            location = self.resource_location(parent)
        sync = style == "sync"
        state = "Succeeded" if sync else ("Updating" if existing is not None else "Creating")
        parent_body = parent.body if parent is not None and parent.type != GROUP_TYPE else None
        new = self.build(scope, key, rid, full_type, name, parent.key if parent else scope.key, parent_body,
                         T, existing, body, tracked, location, state)
        changes = [lro.Change(key, existing, new)]
        changes += self.inline_changes(scope, new, T, inline_source, verb, state)
        if existing is None:
            for seg, child_name, child_body in T.implicit:
                ckey, crid = f"{key}/{seg.lower()}/{child_name.lower()}", f"{rid}/{seg}/{child_name}"
                CT = behaviour.type_of(f"{full_type}/{seg}")
                kid = self.build(scope, ckey, crid, CT.name, child_name, key, new.body, CT, None,
                                 child_body, False, location, "Succeeded")
                changes.append(lro.Change(ckey, store.resources.get(ckey), kid))
        if error is None and not sync:
            error = store.capacity_error(scope.sub, changes)
        for c in changes:
            store.resources[c.key] = c.after if c.after is not None else self._deleting(c)
        status = 200 if existing is not None else 201
        if sync:
            for c in changes:
                if c.after is None:
                    store.resources.pop(c.key, None)
                else:
                    store.finalize(c.after)
            self.req.hold = store.sync_hold(full_type, verb)
            return self.ok(store.render(new), status)
        ns = full_type.split("/")[0]
        op = self.start(scope.sub, ns, location or "global", verb, changes, full_type, error=error,
                        result_key=key)
        if style == "location":
            return 202, self.op_headers(op, "location"), None
        return self.ok(store.render(new), status, self.op_headers(op, "async"))

    def _deleting(self, change):
        shown = change.before.copy()
        if shown.behaviour.provisioning:
            shown.body.setdefault("properties", {})["provisioningState"] = "Deleting"
        return shown

    def inline_changes(self, scope, parent, T, sent, verb, state):
        changes = []
        for prop, spec in T.inline.items():
            present = prop in sent
            if not present and (verb == "PATCH" or spec.absent_keeps(self.req.api_version)):
                continue
            items = sent.get(prop) or []
            CT = behaviour.type_of(f"{parent.type}/{spec.child}")
            wanted = set()
            for i, item in enumerate(items):
                if not isinstance(item, dict) or not item.get("name"):
                    raise ArmError(400, "InvalidRequestFormat",
                                   f"Cannot parse the request: every item of properties.{prop} needs a name.")
                cname = item["name"]
                ckey = f"{parent.key}/{spec.child.lower()}/{cname.lower()}"
                crid = f"{parent.id}/{CT.name.split('/')[-1]}/{cname}"
                wanted.add(ckey)
                if spec.full:
                    cbody = {k: v for k, v in item.items() if k not in ("id", "name", "type", "etag")}
                else:
                    cbody = {"properties": {k: v for k, v in item.items() if k != "name"}}
                    if i == 0:
                        for k, v in spec.first_defaults.items():
                            cbody["properties"].setdefault(k, v)
                before = self.store.resources.get(ckey)
                cstate = state if state == "Succeeded" else ("Updating" if before else "Creating")
                kid = self.build(scope, ckey, crid, CT.name, cname, parent.key, parent.body, CT, before,
                                 cbody, False, self.resource_location(parent) or parent.location, cstate)
                changes.append(lro.Change(ckey, before, kid))
            if present and spec.prune:
                for kid in self.store.children(parent.key, CT.name):
                    if kid.key not in wanted:
                        changes.append(lro.Change(kid.key, kid, None))
                        for sub in self.store.subtree(kid.key):
                            changes.append(lro.Change(sub.key, sub, None))
        return changes

    def delete(self, scope, key, full_type, name, parent_key, T, existing):
        store = self.store
        style = T.style("DELETE")
        error = store.call_fault("DELETE", full_type, name, allow_in_operation=style != "sync")
        purge = full_type.lower() == "microsoft.machinelearningservices/workspaces" \
            and (self.req.q("forceToPurge") or "").lower() == "true"
        if purge and existing is None and store.deleted_workspaces.pop(key, None) is not None:
            return 204, {}, None  # a soft-deleted workspace, purged
        if purge and existing is not None:
            store.purging.add(key)
        if existing is None:
            if parent_key != scope.key and parent_key not in store.resources:
                return 204, {}, None
            return 204, {}, None
        if store.deleting(key):
            op = next(o for o in store.running_ops() if o.verb == "DELETE" and key in o.keys())
            return 202, self.op_headers(op, style if style != "sync" else "location"), None
        self.conflict(key, T)
        changes = [lro.Change(r.key, r, None) for r in [existing] + store.subtree(key)]
        if style == "sync":
            body = store.render(existing)
            for c in changes:
                gone = store.resources.pop(c.key, None)
                if gone is not None:
                    store.removed(gone)
            self.req.hold = store.sync_hold(full_type, "DELETE")
            return self.ok(body if T.name.lower() == "microsoft.authorization/roleassignments" else None, 200)
        for c in changes:
            store.resources[c.key] = self._deleting(c)
        location = self.resource_location(existing) or "global"
        op = self.start(scope.sub, full_type.split("/")[0], location, "DELETE", changes, full_type,
                        error=error)
        return 202, self.op_headers(op, style), None


def provider_scope(key):
    """What a resource hangs under in its own provider's tree: its resource group (or
    subscription) for ordinary resources and their children, the resource it extends for an
    extension resource."""
    return key.rsplit("/providers/", 1)[0]


def top_key(key):
    """The key of the top-level resource `key` belongs to (itself when top-level)."""
    segs = key.split("/")
    try:
        i = segs.index("providers")
    except ValueError:
        return key
    return "/".join(segs[:i + 4])
