"""A local fake of Google Cloud's REST APIs that follows Google's published contract.

NOT Google Cloud: no emulator exists for Compute Engine (and GKE, TPU, Filestore, ...), so
this serves what the discovery documents describe (see discovery.py; for Cloud Quotas, which
has none, the same contract read from its generated client library: proto_contract.py):
every method's route,
request bodies validated against the schemas, responses shaped by them, long-running
operations that stay RUNNING for a configurable time and finish with their own error, and
injectable stockouts, quota errors and throttling. Four API styles, each generic over its
documents: Compute Engine's (`Compute` below: objects named in the body, operations with
`status` and `targetLink`), the resource-oriented one of Cloud TPU, IAM, Resource Manager,
Filestore and Workbench (resource_api.py: `<kind>Id` creates, google.longrunning
operations, update masks, IAM policies with etags), GKE's (container_api.py: wrapped
creates, GKE operations, one operation per cluster) and the Cloud Storage JSON API's
buckets (storage_api.py: synchronous, merge patches). The little it knows beyond the documents (what a server
computes, how a stockout reads, which zones offer which TPU slices) is in behaviour.py,
by method id.

    python tests/gcp/fake/server.py --project gantry-test [--apis compute.v1,tpu.v2,iam.v1,cloudresourcemanager.v3,file.v1,notebooks.v2,container.v1,storage.v1,cloudkms.v1,cloudquotas.v1] [--port 0]

prints `READY <port>` once listening. Admin calls (no auth):
    POST /_fake/config  {"operation_seconds": 2.0}
    POST /_fake/quotas  {"region": "us-central1", "metric": "NVIDIA_H100_GPUS", "limit": 8}
                        (region "global": the project's, GPUS_ALL_REGIONS)
                        {"service": "tpu.googleapis.com", "quota_id": "TPUV6EPerProjectPerZoneForTPUAPI",
                         "location": "us-east1-d", "limit": 8}   (Cloud Quotas' QuotaInfos)
    POST /_fake/zones   {"down": ["us-central1-c"]}
    POST /_fake/faults  {"method": "compute.instances.insert", "zone": "us-central1-a",
                         "kind": "stockout" | "quota" | "throttle" | "permission"
                                 | "conflict" (setIamPolicy),
                         "times": 1}           (times omitted: until cleared)
    DELETE /_fake/faults
    GET  /_fake/state   every stored object and operation, for debugging
"""

import argparse
import json
import random
import re
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import behaviour  # noqa: E402
import discovery  # noqa: E402
from discovery import ContractError  # noqa: E402
from errors import GRPC_CODE, HttpError, now_rfc3339  # noqa: E402
from container_api import ContainerCall  # noqa: E402
from resource_api import ResourceCall  # noqa: E402
from storage_api import Media, MediaUpload, StorageCall  # noqa: E402

COMPUTE_LINK = "https://www.googleapis.com/compute/v1/"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def numeric_id():
    return str(random.randrange(10**18, 10**19))


class Cloud:
    """Everything the fake holds: objects by key (`projects/p/global/networks/n`) and
    operations, guarded by one lock."""

    def __init__(self, apis, projects):
        self.apis = apis
        self.projects = set(projects)
        self.objects = {}  # Compute Engine's and the JSON API's
        self.api_objects = {}  # the resource-oriented APIs', each apart: api name -> {key: obj}
        self.policies = {}  # resource name -> IAM policy
        self.operations = {}  # key -> {"body": {...}, "done_at": t, "apply": fn}
        self.faults = []
        self.quota_limits = {}  # region -> {metric: limit}
        self.cloud_quota_limits = {}  # (service, quota id) -> {zone or region: limit}
        self.zones_down = set()
        self.operation_seconds = 0.0
        self.timing_scale = None  # --timings: Google's typical times x this, per method
        self.lock = threading.RLock()

    def objects_of(self, api):
        """The objects of one resource-oriented API (their names may repeat across APIs)."""
        return self.api_objects.setdefault(api, {})

    def all_objects(self):
        """Every object, keys prefixed by their API where kept apart (for quota usage)."""
        merged = dict(self.objects)
        for api, objects in self.api_objects.items():
            merged.update({f"{api}:{k}": o for k, o in objects.items()})
        return merged

    # --- operations ------------------------------------------------------------------

    def settle(self):
        """Finishes every operation whose time has come (callers hold the lock)."""
        t = time.time()
        for op in self.operations.values():
            body = op["body"]
            if op.get("style") == "lro":
                if not body["done"] and t >= op["done_at"]:
                    self.finish_lro(op)
                continue
            if op.get("style") == "gke":
                if body["status"] != "DONE" and t >= op["done_at"]:
                    self.finish_gke(op)
                continue
            if body["status"] != "DONE" and t >= op["done_at"]:
                error = op.get("error")
                if error is None and op.get("apply"):
                    try:
                        op["apply"]()
                    except HttpError as e:
                        error = (e.reason.upper(), e.message, e.code)
                body.update(status="DONE", progress=100, endTime=now_rfc3339())
                if error:
                    code, message, http = error
                    body["error"] = {"errors": [{"code": code, "message": message}]}
                    body["httpErrorStatusCode"] = http
                    body["httpErrorMessage"] = HttpError.STATUS.get(http, "ERROR")

    def finish_lro(self, op):
        body, error = op["body"], op.get("error")
        result = None
        if error is None:
            try:
                result = op["apply"]()
            except HttpError as e:
                error = (GRPC_CODE.get(e.code, 2), e.message)
        body["done"] = True
        body["metadata"]["endTime"] = now_rfc3339()
        if error:
            body["error"] = {"code": error[0], "message": error[1]}
        else:
            body["response"] = {"@type": op["response_type"], **(result or {})}

    def finish_gke(self, op):
        """A GKE operation ends DONE; a failed one carries a `google.rpc.Status` error
        (and its `statusMessage`, as GKE sets both)."""
        body, error = op["body"], op.get("error")
        if error is None:
            try:
                op["apply"]()
            except HttpError as e:
                error = (GRPC_CODE.get(e.code, 2), e.message)
        elif op.get("undo"):
            op["undo"]()
        body.update(status="DONE", endTime=now_rfc3339(),
                    progress={"status": "DONE"})
        if error:
            body["error"] = {"code": error[0], "message": error[1]}
            body["statusMessage"] = error[1]

    def hold(self, method_id):
        """How long an operation of `method_id` stays RUNNING: Google's typical time for it
        scaled by --timings, else the flat --operation-seconds."""
        if self.timing_scale is not None and method_id in behaviour.TYPICAL_SECONDS:
            return behaviour.TYPICAL_SECONDS[method_id] * self.timing_scale
        return self.operation_seconds

    def start_lro(self, name, body, apply, error, request_id, target, response_type, seconds=None):
        """A google.longrunning operation (resource-oriented APIs)."""
        self.operations[name] = {
            "style": "lro", "body": body, "apply": apply, "error": error,
            "request_id": request_id, "target": target, "response_type": response_type,
            "done_at": time.time() + (self.operation_seconds if seconds is None else seconds),
        }
        self.settle()

    def lro_for(self, request_id, target):
        """The operation an earlier create with this requestId started."""
        for op in self.operations.values() if request_id else ():
            if op.get("style") == "lro" and op["request_id"] == request_id and op["target"] == target:
                return op["body"]
        return None

    def lro_pending(self, target):
        return any(op.get("style") == "lro" and not op["body"]["done"] and op["target"] == target
                   and op["body"]["metadata"]["verb"] == "create"
                   for op in self.operations.values())

    def operation_for(self, request_id, target):
        """The operation an earlier call with this requestId started on this target."""
        for op in self.operations.values() if request_id else ():
            b = op["body"]
            if op.get("style") != "lro" and b.get("clientOperationId") == request_id and b["targetLink"] == target:
                return b
        return None

    def start_operation(self, project, scope, kind, target, request_id, apply, error=None, seconds=None):
        earlier = self.operation_for(request_id, target)
        if earlier:
            return earlier  # the same request again: its operation, not a second change
        name = f"operation-{int(time.time() * 1000)}-{uuid.uuid4().hex[:12]}"
        collection = {"global": "global/operations"}.get(scope[0]) or f"{scope[0]}s/{scope[1]}/operations"
        key = f"projects/{project}/{collection}/{name}"
        body = {
            "kind": "compute#operation", "id": numeric_id(), "name": name,
            "operationType": kind, "status": "RUNNING", "progress": 0,
            "targetLink": target, "targetId": numeric_id(), "user": "gantry-test@fake",
            "insertTime": now_rfc3339(), "startTime": now_rfc3339(),
            "selfLink": COMPUTE_LINK + key,
        }
        if request_id:
            body["clientOperationId"] = request_id
        if scope[0] == "zone":
            body["zone"] = f"{COMPUTE_LINK}projects/{project}/zones/{scope[1]}"
        if scope[0] == "region":
            body["region"] = f"{COMPUTE_LINK}projects/{project}/regions/{scope[1]}"
        self.operations[key] = {
            "body": body, "apply": apply, "error": error,
            "done_at": time.time() + (self.operation_seconds if seconds is None else seconds),
        }
        self.settle()
        return body

    # --- faults ----------------------------------------------------------------------

    def fault_for(self, method_id, where):
        for f in self.faults:
            if f["method"] != method_id:
                continue
            if f.get("zone") and f["zone"] != where.get("zone"):
                continue
            if f.get("region") and f["region"] != where.get("region"):
                continue
            if f.get("times") is not None:
                if f["times"] <= 0:
                    continue
                f["times"] -= 1
            return f
        return None


def scope_of(key):
    m = re.search(r"/(zones|regions)/([^/]+)/", key)
    if m:
        return ("zone" if m.group(1) == "zones" else "region", m.group(2))
    return ("global", None)


def canonical_reference(value, project):
    """`https://.../compute/v1/projects/p/global/networks/n`, `projects/p/global/...` and
    `global/networks/n` name the same object: its key. None when the value names none."""
    v = value
    if v.startswith("https://") or v.startswith("http://"):
        m = re.search(r"/compute/v1/(projects/.*)$", v)
        if not m:
            return None
        v = m.group(1)
    if not v.startswith("projects/"):
        v = f"projects/{project}/{v}"
    if re.fullmatch(r"projects/[^/]+/(global|regions/[^/]+|zones/[^/]+)/[A-Za-z]+/[^/]+", v):
        return v
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    cloud: Cloud = None

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            super().log_message(fmt, *args)

    def send_json(self, code, body):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (a killed gantry): nothing to answer

    def read_raw(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    @staticmethod
    def parse_json(raw):
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError as e:
            raise HttpError(400, "parseError", f"Invalid JSON payload received. {e}")

    def send_media(self, media):
        """An `alt=media` answer: the object's bytes, its generation in a header."""
        self.send_response(200)
        self.send_header("Content-Type", media.content_type)
        self.send_header("Content-Length", str(len(media.data)))
        for name, value in media.headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(media.data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, http_method):
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        try:
            raw = self.read_raw()
            if url.path.startswith("/_fake/"):
                return self.send_json(200, self.admin(http_method, url.path, self.parse_json(raw)))
            # A path parameter may hold an escaped `/` (Cloud Storage object names): route
            # the path as sent, then unescape the parameters; else route it unescaped.
            method, params = discovery.route(self.cloud.apis, http_method, url.path)
            if method is not None:
                params = {k: urllib.parse.unquote(v) for k, v in params.items()}
            else:
                method, params = discovery.route(self.cloud.apis, http_method, urllib.parse.unquote(url.path))
            if method is None:
                raise HttpError(404, "notFound", f"No method serves {http_method} {url.path}")
            if method.media_upload:
                body = MediaUpload(self.headers.get("Content-Type") or "", raw, query)
            else:
                body = self.parse_json(raw)
            if not (self.headers.get("Authorization") or "").startswith("Bearer "):
                raise HttpError(401, "required", "Request is missing required authentication credential.")
            with self.cloud.lock:
                self.cloud.settle()
                style = (Compute if method.api.compute_style
                         else ContainerCall if method.api.gke_style
                         else StorageCall if method.api.json_style else ResourceCall)
                code, out = style(self.cloud, method, params, query, body).run()
            if isinstance(out, Media):
                return self.send_media(out)
            self.send_json(code, out)
        except ContractError as e:
            self.send_json(400, HttpError(400, e.reason, str(e)).body())
        except HttpError as e:
            self.send_json(e.code, e.body())

    def admin(self, http_method, path, body):
        cloud = self.cloud
        with cloud.lock:
            if path == "/_fake/config" and http_method == "POST":
                cloud.operation_seconds = float(body.get("operation_seconds", cloud.operation_seconds))
                return {"operation_seconds": cloud.operation_seconds}
            if path == "/_fake/faults" and http_method == "POST":
                cloud.faults.append(dict(body))
                return {"faults": cloud.faults}
            if path == "/_fake/quotas" and http_method == "POST" and "quota_id" in body:
                key = (body["service"], body["quota_id"])
                cloud.cloud_quota_limits.setdefault(key, {})[body["location"]] = float(body["limit"])
                return {"quotas": {f"{s}/{q}": v for (s, q), v in cloud.cloud_quota_limits.items()}}
            if path == "/_fake/quotas" and http_method == "POST":
                cloud.quota_limits.setdefault(body["region"], {})[body["metric"]] = float(body["limit"])
                return {"quotas": cloud.quota_limits}
            if path == "/_fake/zones" and http_method == "POST":
                cloud.zones_down = set(body.get("down", []))
                return {"down": sorted(cloud.zones_down)}
            if path == "/_fake/faults" and http_method == "DELETE":
                cloud.faults.clear()
                return {"faults": []}
            if path == "/_fake/state":
                cloud.settle()
                return {"objects": cloud.all_objects(),
                        "operations": {k: o["body"] for k, o in cloud.operations.items()}}
        raise HttpError(404, "notFound", f"no admin call {http_method} {path}")


class Compute:
    """One call to a Compute-Engine-style API (objects named in the body, operations with
    `status` and `targetLink`), interpreted from its discovery method."""

    def __init__(self, cloud, method, params, query, body):
        self.cloud, self.method, self.params, self.query = cloud, method, params, query
        self.body = body if body is not None else {}
        self.api = method.api
        self.project = params.get("project")
        if self.project not in cloud.projects:
            raise HttpError(404, "notFound", f"The resource 'projects/{self.project}' was not found")
        self.path = method.template
        for name, value in params.items():
            self.path = self.path.replace("{" + name + "}", value).replace("{+" + name + "}", value)

    def run(self):
        m = self.method
        self.check_parameters()
        if m.request:
            discovery.validate(self.api, m.request, self.body, m.request.lower())
            self.body = discovery.enum_names(self.api, m.request, self.body)
        if m.resource.endswith("Operations"):
            return self.operations()
        if m.verb == "insert":
            return self.insert()
        if m.id == "compute.regions.get":
            return 200, behaviour.region(self.project, self.params["region"], self.cloud.all_objects(),
                                         self.cloud.quota_limits)
        if m.id == "compute.acceleratorTypes.get":
            found = behaviour.accelerator_type(self.project, self.params["zone"], self.params["acceleratorType"])
            if isinstance(found, tuple):
                raise HttpError(*found)
            return 200, found
        if m.id == "compute.projects.get":
            return 200, behaviour.project_quotas(self.project, self.cloud.all_objects(), self.cloud.quota_limits)
        if m.id == "compute.zones.list":
            items = [z for z in behaviour.zones(self.project, self.cloud.zones_down)
                     if matches(z, self.query.get("filter"))]
            return 200, {"kind": "compute#zoneList", "id": self.path, "items": items,
                         "selfLink": COMPUTE_LINK + self.path}
        if m.verb == "get":
            return 200, self.get(self.path)
        if m.verb == "list":
            return 200, self.list()
        if m.verb == "delete":
            return self.delete()
        if m.verb in ("patch", "update"):
            return self.patch(self.path, self.body)
        if m.id == "compute.instanceGroupManagers.resize":
            # The new size is a query parameter, not a body.
            size = int(self.query.get("size", -1))
            if size < 0:
                raise HttpError(400, "invalid", "Invalid value for field 'size': must be at least 0.")
            return self.patch(self.path.rsplit("/", 1)[0], {"targetSize": size})
        if m.http_method == "POST" and m.response == "Operation":
            return self.set_fields()
        raise HttpError(400, "badRequest", f"the fake does not implement {m.id}")

    def check_parameters(self):
        for name, spec in self.method.parameters.items():
            if spec.get("location") != "query" or name not in self.query:
                continue
            if name == "requestId" and not _UUID.match(self.query[name]):
                raise HttpError(400, "invalid",
                                f"Invalid value for field 'requestId': '{self.query[name]}'. "
                                "The request id must be a valid UUID.")
            if spec.get("type") == "boolean" and self.query[name] not in ("true", "false"):
                raise HttpError(400, "invalid", f"Invalid boolean value for '{name}'")

    # --- objects ---------------------------------------------------------------------

    def get(self, key):
        obj = self.cloud.objects.get(key)
        if obj is None:
            raise HttpError(404, "notFound", f"The resource '{key}' was not found")
        return obj

    def list(self):
        prefix = self.path + "/"
        items = [o for k, o in self.cloud.objects.items()
                 if k.startswith(prefix) and "/" not in k[len(prefix):]]
        items = [o for o in items if matches(o, self.query.get("filter"))]
        return {"kind": f"compute#{self.method.response[0].lower()}{self.method.response[1:]}",
                "id": self.path, "items": items, "selfLink": COMPUTE_LINK + self.path}

    def references(self, value, out):
        """Every key this request body names, each checked to exist (the real API answers
        404 for a missing network, subnetwork, ...)."""
        if isinstance(value, dict):
            return {k: self.references(v, out) for k, v in value.items()}
        if isinstance(value, list):
            return [self.references(v, out) for v in value]
        if isinstance(value, str):
            key = canonical_reference(value, self.project)
            if key and self.stored_collection(key):
                if key not in self.cloud.objects:
                    raise HttpError(404, "notFound", f"The resource '{key}' was not found")
                out.append(key)
            if key:
                return COMPUTE_LINK + key  # the server answers references as links
        return value

    def lookup(self, link):
        key = canonical_reference(link, self.project)
        return self.cloud.objects.get(key) if key else None

    def stored_collection(self, key):
        """True when the key is in a collection objects are inserted into (networks), not a
        catalogue the cloud owns (machineTypes, zones)."""
        collection = key.rsplit("/", 2)[-2]
        return any(m.verb == "insert" and m.template.endswith("/" + collection)
                   for m in self.api.methods)

    def insert(self):
        resource_schema = self.method.request
        name = self.body.get("name")
        if not name:
            raise HttpError(400, "required", f"Required field 'resource.name' not specified")
        if not re.fullmatch(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?", name):
            raise HttpError(400, "invalid", f"Invalid value for field 'resource.name': '{name}'. "
                            "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'")
        key = f"{self.path}/{name}"
        request_id = self.query.get("requestId")
        scope = scope_of(key + "/")
        where = {scope[0]: scope[1]} if scope[1] else {}
        fault = self.cloud.fault_for(self.method.id, where)
        self.raise_call_fault(fault)
        # The same requestId again returns the first call's operation (even when that one
        # failed), exactly as Compute Engine does.
        earlier = self.cloud.operation_for(request_id, COMPUTE_LINK + key)
        if earlier:
            return 200, earlier
        if key in self.cloud.objects or self.pending(key, "insert"):
            raise HttpError(409, "alreadyExists", f"The resource '{key}' already exists")
        refs = []
        obj = self.references(dict(self.body), refs)
        for field in discovery.read_only_fields(self.api, resource_schema):
            obj.pop(field, None)
        obj["name"] = name
        self.fill_output_only(obj, key, resource_schema)
        refused = behaviour.on_insert(self.method.id, obj, key, self.lookup)
        if refused:
            raise HttpError(*refused)
        error = behaviour.operation_fault(fault, where)

        def apply():
            self.cloud.objects[key] = obj

        return 200, self.cloud.start_operation(self.project, scope, "insert", COMPUTE_LINK + key,
                                               request_id, apply, error, seconds=self.cloud.hold(self.method.id))

    def fill_output_only(self, obj, key, schema_name):
        props = self.api.schemas[schema_name].get("properties", {})
        scope = scope_of(key + "/")
        fills = {
            "id": numeric_id(),
            "kind": props.get("kind", {}).get("default") or f"compute#{schema_name[0].lower()}{schema_name[1:]}",
            "selfLink": COMPUTE_LINK + key,
            "creationTimestamp": now_rfc3339(),
        }
        fills["selfLinkWithId"] = COMPUTE_LINK + key.rsplit("/", 1)[0] + "/" + fills["id"]
        if scope[0] in ("region", "zone"):
            fills[scope[0]] = f"{COMPUTE_LINK}projects/{self.project}/{scope[0]}s/{scope[1]}"
        for field, value in fills.items():
            if field in props:
                obj[field] = value
        for field, prop in props.items():
            if field.endswith("ingerprint") and prop.get("format") == "byte":
                obj[field] = fingerprint()

    def pending(self, key, kind):
        return any(o.get("style") != "lro" and o["body"]["status"] != "DONE"
                   and o["body"]["operationType"] == kind
                   and o["body"]["targetLink"] == COMPUTE_LINK + key
                   for o in self.cloud.operations.values())

    def delete(self):
        key = self.path
        self.get(key)
        users = [k for k, o in self.cloud.objects.items()
                 if k != key and mentions(o, COMPUTE_LINK + key)]
        if users:
            kind = key.rsplit("/", 2)[-2].rstrip("s")
            raise HttpError(400, "resourceInUseByAnotherResource",
                            f"The {kind} resource '{key}' is already being used by '{users[0]}'")
        fault = self.cloud.fault_for(self.method.id, dict([scope_of(key + "/")]))
        self.raise_call_fault(fault)

        def apply():
            self.cloud.objects.pop(key, None)

        return 200, self.cloud.start_operation(self.project, scope_of(key + "/"), "delete",
                                               COMPUTE_LINK + key, self.query.get("requestId"), apply, seconds=self.cloud.hold(self.method.id))

    def patch(self, key, changes):
        obj = self.get(key)
        for field in ("fingerprint", "labelFingerprint"):
            if field in changes and changes[field] != obj.get(field):
                raise HttpError(412, "conditionNotMet",
                                f"Supplied fingerprint does not match current fingerprint of '{key}'")
        refs = []
        changes = self.references(dict(changes), refs)
        schema_name = self.method.request or ""
        read_only = discovery.read_only_fields(self.api, schema_name) if schema_name in self.api.schemas else set()
        staged = {k: v for k, v in changes.items() if k not in read_only and k != "name"}
        if "name" in changes and changes["name"] != obj["name"]:
            raise HttpError(400, "invalid", "The name of an existing resource cannot be changed")
        refused = behaviour.on_patch(self.method.id, obj, staged)
        if refused:
            raise HttpError(*refused)

        def apply():
            if self.method.verb == "update":
                # A PUT replaces the object: what the body leaves out is gone, except what
                # the server owns.
                for field in [f for f in obj if f not in read_only and f != "name"]:
                    del obj[field]
            obj.update(staged)
            for field in ("fingerprint", "labelFingerprint"):
                if field in obj and (field == "fingerprint" or "labels" in staged):
                    obj[field] = fingerprint()

        return 200, self.cloud.start_operation(self.project, scope_of(key + "/"),
                                               self.method.verb, COMPUTE_LINK + key,
                                               self.query.get("requestId"), apply, seconds=self.cloud.hold(self.method.id))

    def set_fields(self):
        """A POST verb on an object (`setLabels`, `setPrivateIpGoogleAccess`): the body's
        fields that the object's schema has are set on it."""
        key = self.path.rsplit("/", 1)[0]
        obj = self.get(key)
        resource_schema = self.get_schema_for(key)
        props = self.api.schemas.get(resource_schema, {}).get("properties", {})
        changes = {k: v for k, v in self.body.items() if k in props}
        if not changes:
            raise HttpError(400, "badRequest", f"the fake cannot apply {self.method.id}")
        return self.patch(key, changes) if obj else None

    def get_schema_for(self, key):
        collection = key.rsplit("/", 2)[-2]
        for m in self.api.methods:
            if m.verb == "get" and m.template.endswith(f"/{collection}/{{{m.params[-1]}}}"):
                return m.response
        return None

    def raise_call_fault(self, fault):
        if fault is None:
            return
        error = behaviour.call_fault(fault)
        if error:
            raise HttpError(*error)

    # --- operations ------------------------------------------------------------------

    def operations(self):
        verb = self.method.verb
        ops = self.cloud.operations
        if verb == "list":
            prefix = self.path + "/"
            items = [o["body"] for k, o in ops.items() if k.startswith(prefix) and o.get("style") != "lro"]
            items = [b for b in items if matches(b, self.query.get("filter"))]
            return 200, {"kind": "compute#operationList", "id": self.path, "items": items,
                         "selfLink": COMPUTE_LINK + self.path}
        key = self.path
        if not self.method.template.endswith("}"):
            key = key.rsplit("/", 1)[0]  # `.../operations/{operation}/wait`
        op = ops.get(key)
        if op is None:
            raise HttpError(404, "notFound", f"The resource '{key}' was not found")
        if verb == "wait":
            # Returns when the operation is done or after a while, as the real `wait` does
            # (at most two minutes there; shorter here so tests never hang on it).
            deadline = time.time() + 30
            while op["body"]["status"] != "DONE" and time.time() < deadline:
                self.cloud.lock.release()
                try:
                    time.sleep(min(0.05, max(0.0, op["done_at"] - time.time())) or 0.01)
                finally:
                    self.cloud.lock.acquire()
                self.cloud.settle()
            return 200, op["body"]
        if verb == "delete":
            ops.pop(key)
            return 200, {}
        return 200, op["body"]


def fingerprint():
    """Compute Engine writes fingerprints (`format: byte`) in URL-safe base64, and the
    google-cloud-rust models read them so."""
    import base64
    return base64.urlsafe_b64encode(random.randbytes(8)).decode()


def mentions(value, link):
    if isinstance(value, dict):
        return any(k not in ("selfLink", "selfLinkWithId") and mentions(v, link) for k, v in value.items())
    if isinstance(value, list):
        return any(mentions(v, link) for v in value)
    return value == link


def matches(obj, expression):
    """The list filter of Compute Engine, in the forms clients send: `name = "x"`,
    `(a = "x") AND (b != "y")`, `labels.k = v`, `name eq x`."""
    if not expression:
        return True
    clauses = re.findall(r"\(?\s*([A-Za-z_][\w.]*)\s*(=|!=|eq|ne)\s*(\"[^\"]*\"|\S+?)\s*\)?(?:\s+AND\s+|\s*$)",
                         expression)
    if not clauses:
        raise HttpError(400, "invalid", f"Invalid list filter expression '{expression}'")
    for field, op, wanted in clauses:
        wanted = wanted.strip('"')
        value = obj
        for part in field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        value = "" if value is None else str(value)
        if op in ("eq", "ne"):
            hit = re.fullmatch(wanted, value) is not None
        else:
            hit = value == wanted
        if hit != (op in ("=", "eq")):
            return False
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", action="append", required=True)
    parser.add_argument("--apis", default="compute.v1,tpu.v2,iam.v1,cloudresourcemanager.v3,"
                        "file.v1,notebooks.v2,container.v1,storage.v1,cloudkms.v1,cloudquotas.v1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--operation-seconds", type=float, default=0.0)
    parser.add_argument("--timings", default=None,
                        help="hold each operation for Google's typical time for it x SCALE "
                             "(a fraction: 1/20), per behaviour.TYPICAL_SECONDS")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    apis = [discovery.load(n) for n in args.apis.split(",")]
    cloud = Cloud(apis, args.project)
    cloud.operation_seconds = args.operation_seconds
    if args.timings:
        from fractions import Fraction
        cloud.timing_scale = float(Fraction(args.timings))
    Handler.cloud = cloud
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.verbose = args.verbose
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
