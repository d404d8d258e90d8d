"""Google's published API contract, read from the discovery documents that ship with
google-api-python-client: the routes of every method and the JSON schemas its requests
and responses follow. Nothing in here names a resource type: what the fake serves is what
the documents describe.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import googleapiclient

import proto_contract

DOCUMENTS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"


class ContractError(Exception):
    """A request the real API would reject as malformed (HTTP 400 invalid)."""

    def __init__(self, message, reason="invalid"):
        super().__init__(message)
        self.reason = reason


@dataclass
class Method:
    api: "Api"
    id: str  # compute.networks.insert
    resource: str  # networks, globalOperations
    verb: str  # insert, get, list, delete, patch, setLabels, ...
    http_method: str
    template: str  # projects/{project}/global/networks/{network}
    regex: re.Pattern
    params: list
    parameters: dict
    request: str | None
    response: str | None
    # Served at the document's media upload path (`/upload/storage/v1/b/{bucket}/o`)
    # rather than its REST path: the body is the media, or metadata and media together.
    media_upload: bool = False


# Protocol-buffer-based APIs: clients built from the protos (google-cloud-rust) send an
# enum as its proto number, which discovery documents do not carry; the numbers come from
# the proto descriptors Google's Python client library of that API ships.
PROTO_PACKAGES = {
    "tpu.v2": ("google.cloud.tpu_v2.types", "google.cloud.tpu.v2"),
    "file.v1": ("google.cloud.filestore_v1.types", "google.cloud.filestore.v1"),
    "notebooks.v2": ("google.cloud.notebooks_v2.types", "google.cloud.notebooks.v2"),
    "container.v1": ("google.cloud.container_v1.types", "google.container.v1"),
    "cloudquotas.v1": ("google.cloud.cloudquotas_v1.types", "google.api.cloudquotas.v1"),
}


@dataclass
class Api:
    name: str
    version: str
    service_path: str
    schemas: dict
    methods: list = field(default_factory=list)
    _enums: dict = field(default_factory=dict)

    def enum_numbers(self, owner):
        """{proto number: name} of the enum field `owner` = (schema, field), or None when
        the API's enums are numbered by their place in the document (Compute Engine)."""
        if owner is None or f"{self.name}.{self.version}" not in PROTO_PACKAGES:
            return None
        if owner not in self._enums:
            import importlib

            from google.protobuf import descriptor_pool

            module, package = PROTO_PACKAGES[f"{self.name}.{self.version}"]
            importlib.import_module(module)
            message = self._message(descriptor_pool.Default(), package, owner[0])
            enum = message.fields_by_camelcase_name[owner[1]].enum_type
            self._enums[owner] = {v.number: v.name for v in enum.values}
        return self._enums[owner]

    def _message(self, pool, package, name):
        """The proto message a discovery schema names: `package.Name`, or a message nested
        in another (GKE's `NodePool.PlacementPolicy` is the schema `PlacementPolicy`)."""
        try:
            return pool.FindMessageTypeByName(f"{package}.{name}")
        except KeyError:
            pass
        files = {}
        for schema in self.schemas:
            try:
                fd = pool.FindMessageTypeByName(f"{package}.{schema}").file
            except KeyError:
                continue
            files[fd.name] = fd
        stack = [m for fd in files.values() for m in fd.message_types_by_name.values()]
        while stack:
            m = stack.pop()
            if m.name == name:
                return m
            stack.extend(m.nested_types)
        raise KeyError(f"no proto message {name} in {package}")

    @property
    def compute_style(self):
        """Compute Engine's style (objects named in the body, operations with `status`,
        `targetLink` and `insertTime`) rather than the resource-oriented one
        (`google.longrunning`)."""
        props = self.schemas.get("Operation", {}).get("properties", {})
        return "targetLink" in props and "insertTime" in props

    @property
    def json_style(self):
        """The Cloud Storage JSON API's style: no operations, objects named in the insert
        body, answers at once."""
        return "Operation" not in self.schemas and any(m.verb == "insert" for m in self.methods)

    @property
    def gke_style(self):
        """GKE's style: resource names as paths like the resource-oriented APIs, but create
        requests that wrap the object and operations of its own (`status`, `targetLink`,
        `operationType`, a `google.rpc.Status` error)."""
        props = self.schemas.get("Operation", {}).get("properties", {})
        return "operationType" in props and "targetLink" in props and not self.compute_style

    @property
    def mount(self):
        """Where the fake serves this API: `/<name>/` + the document's service path."""
        return f"/{self.name}/{self.service_path}"

    @property
    def upload_mount(self):
        """Where media uploads are served: `/<name>` + the document's upload paths."""
        return f"/{self.name}"


def _template_regex(template):
    out, names = "", []
    for part in re.split(r"(\{\+?[A-Za-z0-9_]+\})", template):
        m = re.fullmatch(r"\{(\+?)([A-Za-z0-9_]+)\}", part)
        if m:
            names.append(m.group(2))
            out += "(.+)" if m.group(1) else "([^/]+)"
        else:
            out += re.escape(part)
    return re.compile(out + r"$"), names


def _walk(resources, prefix=""):
    for name, res in (resources or {}).items():
        for verb, m in (res.get("methods") or {}).items():
            yield name, verb, m
        yield from _walk(res.get("resources"), prefix + name + ".")


def load(name_version):
    """Loads `compute.v1` (etc.) from the documents google-api-python-client ships, or,
    for an API it ships none for (Cloud Quotas), the same contract as Google's client
    library generated from the API's protos carries it (proto_contract.py)."""
    shipped = DOCUMENTS / f"{name_version}.json"
    if not shipped.exists() and proto_contract.available(name_version):
        doc = proto_contract.document(name_version)
    else:
        doc = json.loads(shipped.read_text())
    api = Api(doc["name"], doc["version"], doc.get("servicePath", ""), doc["schemas"])
    for resource, verb, m in _walk(doc.get("resources")):
        template = m.get("flatPath") or m["path"]
        regex, names = _template_regex(template)
        api.methods.append(
            Method(
                api=api,
                id=m["id"],
                resource=resource,
                verb=verb,
                http_method=m["httpMethod"],
                template=template,
                regex=regex,
                params=names,
                parameters=m.get("parameters", {}),
                request=(m.get("request") or {}).get("$ref"),
                response=(m.get("response") or {}).get("$ref"),
            )
        )
        upload = (((m.get("mediaUpload") or {}).get("protocols") or {}).get("simple") or {}).get("path")
        if upload:
            regex, names = _template_regex(upload)
            api.methods.append(
                Method(
                    api=api, id=m["id"], resource=resource, verb=verb,
                    http_method=m["httpMethod"], template=upload, regex=regex, params=names,
                    parameters=m.get("parameters", {}),
                    request=(m.get("request") or {}).get("$ref"),
                    response=(m.get("response") or {}).get("$ref"),
                    media_upload=True,
                )
            )
    # Literal segments win over variables (`.../networks/{network}` against
    # `.../networks/{network}/addPeering`): longest literal text first.
    api.methods.sort(key=lambda m: -len(re.sub(r"\{[^}]*\}", "", m.template)))
    return api


def route(apis, http_method, path):
    """The method a request path names, with its path parameters."""
    for api in apis:
        for m in api.methods:
            mount = api.upload_mount if m.media_upload else api.mount
            if m.http_method != http_method or not path.startswith(mount):
                continue
            found = m.regex.match(path[len(mount):])
            if found:
                return m, dict(zip(m.params, found.groups()))
    return None, None


# --- request validation ----------------------------------------------------------------

_INT64 = re.compile(r"-?[0-9]+$")


def validate(api, schema_name, value, where):
    """Checks a request body against a schema as Google's JSON parser does: unknown
    fields and wrong types are rejected; int64 may come as a string or a number; an enum
    may come as its name or its number (protobuf JSON)."""
    _check(api, {"$ref": schema_name}, value, where)


def _check(api, prop, value, where, owner=None):
    """`owner`: the (schema, field) `prop` is the type of, for enum numbers."""
    if "$ref" in prop:
        schema = api.schemas[prop["$ref"]]
        if schema.get("type") == "object" and "properties" in schema:
            if not isinstance(value, dict):
                raise ContractError(f"Invalid value at '{where}': expected an object")
            for key, item in value.items():
                sub = schema["properties"].get(key)
                if sub is None:
                    raise ContractError(
                        f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': "
                        "Cannot find field."
                    )
                _check(api, sub, item, f"{where}.{key}", (prop["$ref"], key))
            return
        return _check(api, schema, value, where, owner)
    kind = prop.get("type")
    if value is None:
        return
    if kind == "object":
        if not isinstance(value, dict):
            raise ContractError(f"Invalid value at '{where}': expected an object")
        extra = prop.get("additionalProperties")
        for key, item in value.items():
            if extra is not None:
                _check(api, extra, item, f"{where}[{key!r}]")
            elif key not in prop.get("properties", {}):
                raise ContractError(
                    f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}'"
                )
            else:
                _check(api, prop["properties"][key], item, f"{where}.{key}")
    elif kind == "array":
        if not isinstance(value, list):
            raise ContractError(f"Invalid value at '{where}': expected a list")
        for i, item in enumerate(value):
            _check(api, prop.get("items", {}), item, f"{where}[{i}]", owner)
    elif kind == "string":
        fmt = prop.get("format")
        if fmt in ("int64", "uint64"):
            if not (isinstance(value, int) and not isinstance(value, bool)) and not (
                isinstance(value, str) and _INT64.match(value)
            ):
                raise ContractError(f"Invalid value at '{where}' ({fmt}): {value!r}")
        elif "enum" in prop:
            if isinstance(value, int) and not isinstance(value, bool):
                numbers = api.enum_numbers(owner)
                known = value in numbers if numbers is not None else 0 <= value < len(prop["enum"])
                if not known:
                    raise ContractError(f"Invalid value at '{where}' (enum): {value}")
            elif value not in prop["enum"]:
                raise ContractError(
                    f"Invalid value at '{where}' ({'|'.join(prop['enum'])}): {value!r}"
                )
        elif not isinstance(value, str):
            raise ContractError(f"Invalid value at '{where}' (TYPE_STRING): {value!r}")
    elif kind == "integer":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and _INT64.match(value)
        )
        if not ok:
            raise ContractError(f"Invalid value at '{where}' (TYPE_INT32): {value!r}")
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ContractError(f"Invalid value at '{where}' (TYPE_DOUBLE): {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise ContractError(f"Invalid value at '{where}' (TYPE_BOOL): {value!r}")


def enum_names(api, schema_name, value):
    """Rewrites enum numbers to their names, as the server stores them."""
    return _names(api, {"$ref": schema_name}, value)


def _names(api, prop, value, owner=None):
    if "$ref" in prop:
        ref = prop["$ref"]
        schema = api.schemas[ref]
        if isinstance(value, dict) and "properties" in schema:
            return {k: _names(api, schema["properties"].get(k, {}), v, (ref, k))
                    for k, v in value.items()}
        return _names(api, schema, value, owner)
    if isinstance(value, dict):
        props = prop.get("properties", {})
        extra = prop.get("additionalProperties")
        return {
            k: _names(api, props.get(k) or extra or {}, v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_names(api, prop.get("items", {}), v, owner) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and "enum" in prop:
        numbers = api.enum_numbers(owner)
        return numbers[value] if numbers is not None else prop["enum"][value]
    return value


def read_only_fields(api, schema_name):
    """The fields a schema marks as output only (`readOnly`, or Compute Engine's older
    "[Output Only]" in the description): the server sets them, a request's are ignored."""
    props = api.schemas.get(schema_name, {}).get("properties", {})
    return {k for k, p in props.items()
            if p.get("readOnly") or "[Output Only]" in p.get("description", "")
            or p.get("description", "").startswith("Output only.")}
