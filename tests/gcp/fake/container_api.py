"""Calls to GKE (container.v1), interpreted from its discovery methods: resource names as
paths (`projects/p/locations/l/clusters/c/nodePools/n`) like the resource-oriented APIs,
but creates whose request wraps the object (`{cluster: {...}}`, `{nodePool: {...}}`, the
id in the object's `name`), changes through custom methods (`:setResourceLabels`,
`:setSize`, `:setAutoscaling`) and PUT updates, and GKE's own operations (`status` PENDING
/ RUNNING / DONE, `targetLink`, a `google.rpc.Status` error). A cluster runs one operation
at a time: a change while one runs is refused with FAILED_PRECONDITION, as GKE does.

Only the `projects.locations.*` methods are served (google-cloud-rust's client uses those);
the legacy `projects.zones.*` ones are refused.
"""

import base64
import hashlib
import re
import time
import uuid

import behaviour
import discovery
from errors import HttpError, now_rfc3339
from resource_api import ResourceCall

SELF_LINK = "https://container.googleapis.com/v1/"

# The custom methods that change an object, with the operation type GKE reports.
CHANGES = {
    "setResourceLabels": "SET_LABELS",
    "setSize": "SET_NODE_POOL_SIZE",
    "setAutoscaling": "SET_NODE_POOL_AUTOSCALING",
    "setManagement": "SET_NODE_POOL_MANAGEMENT",
    "update": "UPDATE_CLUSTER",
}


class ContainerCall(ResourceCall):
    """One call to GKE."""

    def run(self):
        m = self.method
        if ".projects.zones." in m.id:
            raise HttpError(400, "badRequest", "the fake serves GKE's projects.locations.* methods only")
        if m.request:
            discovery.validate(self.api, m.request, self.body, m.request.lower())
            self.body = discovery.enum_names(self.api, m.request, self.body)
        if ".operations." in m.id:
            return self.operation()
        if m.verb == "create":
            return self.create()
        if m.verb == "get":
            return 200, self.shown(self.get(self.path))
        if m.verb == "list":
            return 200, self.list()
        if m.verb == "delete":
            return self.delete()
        if m.verb in CHANGES:
            return self.change()
        raise HttpError(400, "badRequest", f"the fake does not implement {m.id}")

    # --- what is stored ----------------------------------------------------------------

    def kind(self):
        return "nodePool" if "nodePools" in self.method.id else "cluster"

    def cluster_key(self, key):
        """The cluster an object belongs to (a cluster is its own)."""
        return key.split("/nodePools/")[0]

    def pools_of(self, cluster_key):
        prefix = cluster_key + "/nodePools/"
        return [o for k, o in self.objects.items() if k.startswith(prefix)]

    def shown(self, obj):
        """A cluster as GKE answers: with its node pools."""
        if "/nodePools/" in obj["_key"]:
            return public(obj)
        out = public(obj)
        pools = [public(p) for p in self.pools_of(obj["_key"])]
        if pools:
            out["nodePools"] = pools
        return out

    def list(self):
        if self.kind() == "nodePool":
            cluster = self.path.rsplit("/nodePools", 1)[0]
            self.get(cluster)
            pools = [public(p) for p in self.pools_of(cluster)]
            return {"nodePools": pools} if pools else {}
        # `locations/-` lists every location of the project.
        location = self.path.split("/")[3]
        prefix = f"projects/{self.project}/locations/"
        clusters = [self.shown(o) for k, o in self.objects.items()
                    if k.startswith(prefix) and "/nodePools/" not in k and "/clusters/" in k
                    and (location == "-" or k.split("/")[3] == location)]
        return {"clusters": clusters} if clusters else {}

    # --- changes -----------------------------------------------------------------------

    def busy(self, cluster_key):
        """GKE's refusal while another operation runs on the cluster."""
        for op in self.cloud.operations.values():
            body = op["body"]
            if op.get("style") == "gke" and body["status"] != "DONE" and op["cluster"] == cluster_key:
                raise HttpError(400, "failedPrecondition",
                                f"Cluster is running incompatible operation {body['name']}.")

    def create(self):
        schema = "Cluster" if self.kind() == "cluster" else "NodePool"
        wrapped = self.body.get(schema[0].lower() + schema[1:]) or {}
        name = wrapped.get("name")
        if not name:
            raise HttpError(400, "badRequest", f"{schema}.name is required")
        key = f"{self.path}/{name}"
        cluster_key = self.cluster_key(key)
        if self.kind() == "nodePool":
            self.get(cluster_key)
        fault = self.cloud.fault_for(self.method.id, {"zone": self.location})
        self.raise_call_fault(fault)
        self.busy(cluster_key)
        if key in self.objects:
            raise HttpError(409, "alreadyExists", f"Already exists: {key}.")
        obj = dict(wrapped)
        for field in discovery.read_only_fields(self.api, schema):
            obj.pop(field, None)
        pools = obj.pop("nodePools", []) if schema == "Cluster" else []
        refused = behaviour.on_create(self.method.id, obj, self.location)
        if refused:
            raise HttpError(*refused)
        self.store(key, obj, schema)
        made = [key]
        for pool in pools:
            pool_key = f"{key}/nodePools/{pool['name']}"
            pool = dict(pool)
            refused = behaviour.on_create("container.projects.locations.clusters.nodePools.create",
                                          pool, self.location)
            if refused:
                self.objects.pop(key, None)
                raise HttpError(*refused)
            self.store(pool_key, pool, "NodePool")
            made.append(pool_key)
        error = behaviour.gke_fault(fault, self.location, obj)

        def apply():
            for k in made:
                behaviour.on_ready(self.method.id, self.objects[k])
                if "/nodePools/" in k:
                    groups = behaviour.gke_instance_groups(k, self.objects[k])
                    self.cloud.objects.update(groups)
                    self.objects[k]["instanceGroupUrls"] = [g["selfLink"] for g in groups.values()]

        def undo():
            # A create that failed (a stockout) leaves nothing behind.
            for k in made:
                self.objects.pop(k, None)

        kind = "CREATE_CLUSTER" if schema == "Cluster" else "CREATE_NODE_POOL"
        return 200, self.start_gke(kind, key, cluster_key, apply, error, undo)

    def store(self, key, obj, schema):
        obj["name"] = key.rsplit("/", 1)[1]
        obj["_key"] = key
        obj["selfLink"] = SELF_LINK + key
        obj["status"] = "PROVISIONING"
        if schema == "Cluster":
            obj["location"] = self.location
            obj["zone"] = self.location
            obj["createTime"] = now_rfc3339()
            obj["labelFingerprint"] = fingerprint(obj.get("resourceLabels") or {})
        self.objects[key] = obj

    def delete(self):
        key = self.path
        obj = self.get(key)
        cluster_key = self.cluster_key(key)
        self.busy(cluster_key)
        obj["status"] = "STOPPING"

        def apply():
            for k in [k for k in self.objects if k == key or k.startswith(key + "/")]:
                for group in self.instance_groups(self.objects.pop(k, None)):
                    self.cloud.objects.pop(group, None)

        kind = "DELETE_NODE_POOL" if "/nodePools/" in key else "DELETE_CLUSTER"
        return 200, self.start_gke(kind, key, cluster_key, apply, None)

    def change(self):
        key = self.path
        obj = self.get(key)
        cluster_key = self.cluster_key(key)
        self.busy(cluster_key)
        verb = self.method.verb
        body = self.body
        changes = {}
        if verb == "setResourceLabels":
            if body.get("labelFingerprint") != obj.get("labelFingerprint"):
                raise HttpError(409, "aborted", "Labels could not be set due to fingerprint mismatch.")
            changes["resourceLabels"] = body.get("resourceLabels") or {}
        elif verb == "setSize":
            if int(body.get("nodeCount", -1)) < 0:
                raise HttpError(400, "badRequest", "node_count must be at least 0.")
            # A NodePool carries no current size: its instance groups do.
            size = int(body["nodeCount"])
        elif verb == "setAutoscaling":
            changes["autoscaling"] = body.get("autoscaling") or {}
        elif verb == "setManagement":
            changes["management"] = body.get("management") or {}
        elif "/nodePools/" in key:
            changes.update(node_pool_update(obj, body))
        else:
            changes.update(cluster_update(body.get("update") or {}))
        refused = behaviour.on_update(self.method.id, obj, changes)
        if refused:
            raise HttpError(*refused)

        def apply():
            obj.update(changes)
            if verb == "setSize":
                for group in self.instance_groups(obj):
                    if group in self.cloud.objects:
                        self.cloud.objects[group]["targetSize"] = size
            if "resourceLabels" in changes:
                obj["labelFingerprint"] = fingerprint(changes["resourceLabels"])

        kind = CHANGES[verb]
        if verb == "update" and "/nodePools/" in key:
            kind = "UPGRADE_NODES"
        return 200, self.start_gke(kind, key, cluster_key, apply, None)

    @staticmethod
    def instance_groups(pool):
        """The Compute Engine keys of a node pool's instance groups."""
        return [url.split("/compute/v1/", 1)[1] for url in (pool or {}).get("instanceGroupUrls") or []]

    # --- operations --------------------------------------------------------------------

    def start_gke(self, kind, target, cluster_key, apply, error, undo=None):
        name = f"operation-{int(time.time() * 1000)}-{uuid.uuid4().hex[:8]}"
        key = f"projects/{self.project}/locations/{self.location}/operations/{name}"
        body = {
            "name": name, "zone": self.location, "location": self.location,
            "operationType": kind, "status": "RUNNING",
            "selfLink": SELF_LINK + key, "targetLink": SELF_LINK + target,
            "startTime": now_rfc3339(),
        }
        self.cloud.operations[key] = {
            "style": "gke", "body": body, "apply": apply, "error": error, "undo": undo,
            "cluster": cluster_key, "done_at": time.time() + self.cloud.hold(self.method.id),
        }
        self.cloud.settle()
        return body

    def operation(self):
        verb = self.method.verb
        if verb == "list":
            prefix = self.path.rsplit("/operations", 1)[0] + "/operations/"
            ops = [o["body"] for k, o in self.cloud.operations.items()
                   if k.startswith(prefix) and o.get("style") == "gke"]
            return 200, {"operations": ops} if ops else {}
        op = self.cloud.operations.get(self.path)
        if op is None or op.get("style") != "gke":
            raise HttpError(404, "notFound", f"Operation '{self.path}' was not found")
        if verb == "cancel":
            raise HttpError(400, "badRequest", "the fake does not cancel operations")
        return 200, op["body"]


def public(obj):
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def fingerprint(labels):
    digest = hashlib.sha256(repr(sorted(labels.items())).encode()).digest()
    return base64.b16encode(digest[:8]).decode().lower()


def cluster_update(update):
    """`ClusterUpdate`'s `desiredX` fields as the cluster fields they set (the ones that
    map one to one; the fake refuses the rest rather than ignore them)."""
    changes = {}
    for field, value in update.items():
        m = re.fullmatch(r"desired([A-Z]\w*)", field)
        if not m:
            raise HttpError(400, "badRequest", f"the fake does not apply ClusterUpdate.{field}")
        target = m.group(1)[0].lower() + m.group(1)[1:]
        changes[target] = value
    return changes


def node_pool_update(pool, request):
    """`UpdateNodePoolRequest`'s fields on the pool: labels, resource labels and taints of
    its nodes' config, its version and locations."""
    config = dict(pool.get("config") or {})
    changes = {}
    for field, value in request.items():
        if field in ("name", "projectId", "zone", "clusterId", "nodePoolId", "etag"):
            continue
        if field in ("labels", "resourceLabels"):
            config[field] = (value or {}).get("labels") or {}
        elif field == "taints":
            config["taints"] = (value or {}).get("taints") or []
        elif field == "nodeVersion":
            changes["version"] = value
        elif field == "locations":
            changes["locations"] = value
        else:
            raise HttpError(400, "badRequest", f"the fake does not apply UpdateNodePoolRequest.{field}")
    changes["config"] = config
    return changes
