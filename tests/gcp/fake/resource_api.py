"""Calls to Google's resource-oriented APIs (AIP-121: Cloud TPU, Filestore, Workbench, ...),
interpreted from their discovery methods: objects named by their full resource name
(`projects/p/locations/z/nodes/n`), the standard methods `create` (the new id in a
`<kind>Id` query parameter), `get`, `list`, `patch` (with an `updateMask`) and `delete`,
and `google.longrunning` operations (`done`, then `error` or `response`). Compute Engine's
older style is in server.py (`Compute`).
"""

import re
import base64
import random
import time
import uuid

import behaviour
import discovery
from errors import HttpError, now_rfc3339


class ResourceCall:
    """One call to a resource-oriented API."""

    def __init__(self, cloud, method, params, query, body):
        self.cloud, self.method, self.query = cloud, method, query
        self.body = body if body is not None else {}
        self.api = method.api
        # Each API's objects apart: Filestore's and Workbench's are both
        # `projects/p/locations/z/instances/n`.
        self.objects = cloud.objects_of(method.api.name)
        # The version segment (`v2/`) is part of the route, not of resource names.
        path = re.sub(r"^v[0-9][a-z0-9]*/", "", method.template)
        for name, value in params.items():
            path = path.replace("{" + name + "}", value).replace("{+" + name + "}", value)
        # A custom method (`projects/p:getIamPolicy`) acts on the object before the colon.
        if re.search(r":[A-Za-z]+$", method.template):
            path = path.rsplit(":", 1)[0]
        self.path = path  # without the version: projects/p/locations/l/nodes/n
        parts = path.split("/")
        self.project = parts[1] if len(parts) > 1 and parts[0] == "projects" else None
        if self.project not in cloud.projects:
            raise HttpError(404, "notFound", f"Project '{self.project}' not found or permission denied.")
        self.location = parts[3] if len(parts) > 3 and parts[2] == "locations" else None

    def run(self):
        m = self.method
        if m.request:
            discovery.validate(self.api, m.request, self.body, m.request.lower())
            self.body = discovery.enum_names(self.api, m.request, self.body)
        if ".operations." in m.id:
            return self.operation()
        catalogue = (behaviour.catalogue(m.id, self.project, self.location, self.query)
                     or behaviour.cloud_quota(m.id, self.path, self.project, self.cloud.cloud_quota_limits))
        if catalogue is not None:
            if isinstance(catalogue, tuple):
                raise HttpError(*catalogue)
            return 200, catalogue
        if m.verb == "getIamPolicy":
            return 200, self.iam_policy(self.path)
        if m.verb == "setIamPolicy":
            return 200, self.set_iam_policy()
        if m.verb == "create":
            return self.create()
        if m.verb == "get":
            return 200, self.get(self.path)
        if m.verb == "list":
            return 200, self.list()
        if m.verb == "delete":
            return self.delete()
        if m.verb == "patch":
            return self.patch()
        if m.verb in ("stop", "start") and m.api.name == "notebooks":
            return self.power(m.verb)
        if m.verb in ("encrypt", "decrypt") and m.api.name == "cloudkms":
            self.raise_call_fault(self.cloud.fault_for(m.id, {"zone": self.location}))
            key = self.get(self.path)
            return 200, behaviour.kms_crypt(m.verb, self.path, key, self.body)
        raise HttpError(400, "badRequest", f"the fake does not implement {m.id}")

    # --- objects ---------------------------------------------------------------------

    def resource_schema(self):
        """The schema of the objects this method's collection holds (its `get` response)."""
        for m in self.api.methods:
            if m.verb == "get" and m.resource == self.method.resource:
                return m.response
        return self.method.request

    def get(self, key):
        obj = self.objects.get(key)
        if obj is None:
            raise HttpError(404, "notFound", f"Resource '{key}' was not found")
        return obj

    def list(self):
        prefix = self.path + "/"
        items = [o for k, o in self.objects.items()
                 if k.startswith(prefix) and "/" not in k[len(prefix):]]
        # The response names its list after the collection (`nodes`, `instances`).
        props = self.api.schemas[self.method.response]["properties"]
        field = next(k for k, p in props.items() if p.get("type") == "array" and k != "unreachable")
        return {field: items} if items else {}

    def long_running(self):
        """True when the method answers with a google.longrunning operation, False when
        with the object itself (IAM's service accounts)."""
        return "done" in self.api.schemas.get(self.method.response or "", {}).get("properties", {})

    def new_object(self, schema):
        """The new object's id and body. The id is a `<kind>Id` query parameter (Cloud TPU's
        `nodeId`), or, for APIs whose request wraps the object (IAM's
        `{accountId, serviceAccount}`), a `...Id` field beside it."""
        id_param = next((p for p, spec in self.method.parameters.items()
                         if spec.get("location") == "query" and p.endswith("Id") and p != "requestId"), None)
        if id_param:
            return self.query.get(id_param), dict(self.body), id_param
        if self.method.request != schema:
            props = self.api.schemas[self.method.request]["properties"]
            id_field = next((k for k in props if k.endswith("Id")), None)
            wrapped = next((k for k, p in props.items() if p.get("$ref") == schema), None)
            if id_field and wrapped:
                return self.body.get(id_field), dict(self.body.get(wrapped) or {}), id_field
        return self.body.get("name"), dict(self.body), "name"

    def create(self):
        schema = self.resource_schema()
        name, body, id_field = self.new_object(schema)
        if not name:
            raise HttpError(400, "badRequest", f"{id_field} is required")
        refused = behaviour.check_id(self.method.id, name)
        if refused:
            raise HttpError(*refused)
        key = f"{self.path}/{behaviour.object_id(self.method.id, self.project, name)}"
        fault = self.cloud.fault_for(self.method.id, {"zone": self.location})
        self.raise_call_fault(fault)
        request_id = self.query.get("requestId")
        earlier = self.cloud.lro_for(request_id, key)
        if earlier:
            return 200, earlier
        if key in self.objects or self.cloud.lro_pending(key):
            raise HttpError(409, "alreadyExists", f"Resource '{key}' already exists")
        obj = body
        for field in discovery.read_only_fields(self.api, schema):
            obj.pop(field, None)
        obj["name"] = key
        props = self.api.schemas.get(schema, {}).get("properties", {})
        if "createTime" in props:
            obj["createTime"] = now_rfc3339()
        refused = behaviour.on_create(self.method.id, obj, self.location or self.project)
        if refused:
            raise HttpError(*refused)
        if not self.long_running():
            behaviour.on_ready(self.method.id, obj)
            self.objects[key] = obj
            return 200, obj
        error = behaviour.lro_fault(fault, self.method.id, self.location, obj)

        def apply():
            behaviour.on_ready(self.method.id, obj)
            self.objects[key] = obj
            return obj

        return 200, self.start("create", key, apply, error, request_id, schema)

    def delete(self):
        key = self.path
        self.get(key)
        if not self.long_running():
            self.objects.pop(key)
            self.cloud.policies.pop(key, None)
            return 200, {}

        def apply():
            self.objects.pop(key, None)
            return None

        return 200, self.start("delete", key, apply, None, self.query.get("requestId"), None)

    def patch(self):
        """An update with a mask: each path (`labels`, `gce_setup.machine_type`) sets that
        field, nested ones inside their parent, from the body."""
        key = self.path
        obj = self.get(key)
        schema = self.resource_schema()
        body, mask = self.body, self.query.get("updateMask")
        if self.method.request != schema:
            # The request wraps the object beside its mask (IAM's PatchServiceAccountRequest).
            props = self.api.schemas[self.method.request]["properties"]
            wrapped = next((k for k, p in props.items() if p.get("$ref") == schema), None)
            body, mask = self.body.get(wrapped) or {}, self.body.get("updateMask")
        mask = [p for p in (mask or "").split(",") if p]
        if not mask:
            raise HttpError(400, "badRequest", "update_mask is required")
        read_only = discovery.read_only_fields(self.api, schema)
        changes = {}
        for path in mask:
            fields = self.mask_fields(schema, path)
            if fields is None or fields[0] in read_only:
                raise HttpError(400, "badRequest", f"Invalid update mask path: {path!r}")
            value = body
            for f in fields:
                value = value.get(f) if isinstance(value, dict) else None
            changes[".".join(fields)] = value
        refused = behaviour.on_update(self.method.id, obj, changes)
        if refused:
            raise HttpError(*refused)

        def apply():
            for path, v in changes.items():
                *parents, last = path.split(".")
                target = obj
                for f in parents:
                    target = target.setdefault(f, {})
                if v is None:
                    target.pop(last, None)
                else:
                    target[last] = v
            return obj

        if not self.long_running():
            return 200, apply()
        return 200, self.start("update", key, apply, None, self.query.get("requestId"), schema)

    def mask_fields(self, schema, path):
        """A mask path (snake_case or camelCase, dotted) as the schema's field names, None
        when it names no field."""
        fields = []
        for part in path.split("."):
            props = self.api.schemas.get(schema, {}).get("properties", {})
            name = next((k for k in props if k.lower() == part.replace("_", "").lower()), None)
            if name is None:
                return None
            fields.append(name)
            schema = props[name].get("$ref") or props[name].get("items", {}).get("$ref")
        return fields

    def power(self, verb):
        """Workbench's `:stop` and `:start`: the VM's state, after an operation."""
        key = self.path
        obj = self.get(key)
        wanted = "STOPPED" if verb == "stop" else "ACTIVE"
        obj["state"] = "STOPPING" if verb == "stop" else "STARTING"

        def apply():
            obj["state"] = wanted
            return obj

        return 200, self.start(verb, key, apply, None, None, self.resource_schema())

    # --- IAM policies (the google.iam.v1.IAMPolicy methods every resource may have) -------

    def iam_policy(self, key):
        if key not in self.objects and not behaviour.owned_by_cloud(self.method.api.name, key, self.cloud.projects):
            raise HttpError(404, "notFound", f"Resource '{key}' was not found")
        return self.cloud.policies.setdefault(key, {"version": 1, "etag": etag(), "bindings": []})

    def set_iam_policy(self):
        """Replaces the policy; a policy whose etag is not the current one was read before
        someone else's change and is refused (409 ABORTED), as IAM does."""
        current = self.iam_policy(self.path)
        wanted = dict(self.body.get("policy") or {})
        fault = self.cloud.fault_for(self.method.id, {})
        if wanted.get("etag") and wanted["etag"] != current["etag"] or (fault and fault["kind"] == "conflict"):
            raise HttpError(409, "aborted", "There were concurrent policy changes. Please retry "
                            "the whole read-modify-write with exponential backoff.")
        bindings = [b for b in wanted.get("bindings", []) if b.get("members")]
        for b in bindings:
            refused = behaviour.check_member(b, self.cloud.objects_of("iam"))
            if refused:
                raise HttpError(*refused)
        policy = {"version": wanted.get("version", 1), "etag": etag(), "bindings": bindings}
        self.cloud.policies[self.path] = policy
        return policy

    def raise_call_fault(self, fault):
        if fault is None:
            return
        error = behaviour.call_fault(fault)
        if error:
            raise HttpError(*error)

    # --- operations ------------------------------------------------------------------

    def start(self, verb, target, apply, error, request_id, schema):
        """A google.longrunning operation that finishes after the cloud's operation time."""
        location = self.location or "global"
        name = f"projects/{self.project}/locations/{location}/operations/operation-{int(time.time() * 1000)}-{uuid.uuid4().hex[:16]}"
        package = self.api.name
        body = {
            "name": name,
            "metadata": {
                "@type": f"type.googleapis.com/google.cloud.{package}.{self.api.version}.OperationMetadata",
                "createTime": now_rfc3339(), "target": target, "verb": verb,
                "apiVersion": self.api.version,
            },
            "done": False,
        }
        response_type = (f"type.googleapis.com/google.cloud.{package}.{self.api.version}.{schema}"
                         if schema else "type.googleapis.com/google.protobuf.Empty")
        self.cloud.start_lro(name, body, apply, error, request_id, target, response_type,
                             seconds=self.cloud.hold(self.method.id))
        return body

    def operation(self):
        verb = self.method.verb
        if verb == "list":
            prefix = self.path + "/"
            ops = [o["body"] for k, o in self.cloud.operations.items() if k.startswith(prefix)]
            return 200, {"operations": ops} if ops else {}
        op = self.cloud.operations.get(self.path)
        if op is None:
            raise HttpError(404, "notFound", f"Operation '{self.path}' was not found")
        if verb == "delete":
            self.cloud.operations.pop(self.path)
            return 200, {}
        if verb == "cancel":
            raise HttpError(400, "badRequest", "the fake does not cancel operations")
        return 200, op["body"]


def etag():
    return base64.b64encode(random.randbytes(8)).decode()
