"""Google's published contract of an API that google-api-python-client ships no discovery
document for (Cloud Quotas), read from the Google client library generated for it from
the API's protos (the GAPIC package, e.g. google-cloud-quotas): the REST routes of each
RPC (its `google.api.http` rules, which the library's REST transport carries) and the
proto messages its requests and responses are. The result has the shape of a discovery
document, so discovery.py serves it like any other: nothing in here names a resource type.
"""

import importlib
import inspect
import pkgutil
import re

from google.protobuf.descriptor import FieldDescriptor

# `name.version` -> (GAPIC package, its service's REST transport: module, class).
PACKAGES = {
    "cloudquotas.v1": ("google.cloud.cloudquotas_v1",
                       "google.cloud.cloudquotas_v1.services.cloud_quotas.transports.rest",
                       "CloudQuotasRestTransport"),
}

# Well-known types as their proto3 JSON mapping writes them.
WELL_KNOWN = {
    "google.protobuf.Timestamp": {"type": "string", "format": "google-datetime"},
    "google.protobuf.Duration": {"type": "string", "format": "google-duration"},
    "google.protobuf.FieldMask": {"type": "string", "format": "google-fieldmask"},
    "google.protobuf.Int64Value": {"type": "string", "format": "int64"},
    "google.protobuf.UInt64Value": {"type": "string", "format": "uint64"},
    "google.protobuf.Int32Value": {"type": "integer", "format": "int32"},
    "google.protobuf.UInt32Value": {"type": "integer", "format": "uint32"},
    "google.protobuf.StringValue": {"type": "string"},
    "google.protobuf.BytesValue": {"type": "string", "format": "byte"},
    "google.protobuf.BoolValue": {"type": "boolean"},
    "google.protobuf.DoubleValue": {"type": "number", "format": "double"},
    "google.protobuf.FloatValue": {"type": "number", "format": "float"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": {"type": "any"}},
    "google.protobuf.Value": {"type": "any"},
    "google.protobuf.Any": {"type": "object", "additionalProperties": {"type": "any"}},
    "google.protobuf.Empty": {"type": "object", "properties": {}},
}

_SCALARS = {
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number", "format": "float"},
    FieldDescriptor.TYPE_INT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_SINT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_SFIXED64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_UINT64: {"type": "string", "format": "uint64"},
    FieldDescriptor.TYPE_FIXED64: {"type": "string", "format": "uint64"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "format": "uint32"},
    FieldDescriptor.TYPE_FIXED32: {"type": "integer", "format": "uint32"},
}


def available(name_version):
    return name_version in PACKAGES


def document(name_version):
    """The discovery-shaped document of `name.version`: `name`, `version`, `servicePath`,
    `schemas` (every message of the package's types, by simple name) and `resources`
    (each RPC under the collections of its URI, with its verb)."""
    package, transport_module, transport_class = PACKAGES[name_version]
    name, version = name_version.split(".", 1)
    messages = _messages(package)
    schemas = {}
    for descriptor in messages.values():
        schemas[_schema_id(descriptor)] = _schema(descriptor)
    resources = {}
    transport = getattr(importlib.import_module(transport_module), transport_class)
    base = transport.__mro__[1]
    for attr in dir(base):
        if not attr.startswith("_Base"):
            continue
        rpc = attr[len("_Base"):]
        call = getattr(transport, f"_{rpc}", None)
        if call is None:
            continue
        signature = inspect.signature(call.__call__)
        request = signature.parameters["request"].annotation.pb().DESCRIPTOR
        response = signature.return_annotation.pb().DESCRIPTOR
        for rule in getattr(base, attr)._get_http_options():
            path, flat, params = _paths(rule["uri"])
            literal = re.sub(r"\{[^}]*\}", "", flat.rsplit(":", 1)[0])
            collections = [s for s in literal.split("/")[1:] if s]
            verb = _verb(rpc, rule["method"], flat)
            body = rule.get("body")
            body_schema = (None if not body else _schema_id(request) if body == "*"
                           else _schema_id(request.fields_by_name[body].message_type))
            query = {f.json_name: {"location": "query", **_field_type(f)}
                     for f in request.fields if f.name not in params and f.name != body}
            method = {
                "id": ".".join([name, *collections, verb]),
                "httpMethod": rule["method"].upper(),
                "path": path,
                "flatPath": flat,
                "parameters": {**{p: {"location": "path", "type": "string", "required": True}
                                  for p in _flat_params(flat)}, **query},
                "response": {"$ref": _schema_id(response)},
            }
            if body_schema:
                method["request"] = {"$ref": body_schema}
            node = {"resources": resources}
            for collection in collections:
                node = node["resources"].setdefault(collection, {"resources": {}})
            node.setdefault("methods", {})[verb] = method
    return {"name": name, "version": version, "servicePath": "", "schemas": schemas,
            "resources": resources}


def _messages(package):
    """Every proto message (nested ones too) the package's `types` modules define."""
    types = importlib.import_module(f"{package}.types")
    out = {}
    for info in pkgutil.iter_modules(types.__path__):
        module = importlib.import_module(f"{types.__name__}.{info.name}")
        for value in vars(module).values():
            if inspect.isclass(value) and hasattr(value, "pb") and hasattr(value, "meta"):
                stack = [value.pb().DESCRIPTOR]
                while stack:
                    d = stack.pop()
                    if not d.GetOptions().map_entry:
                        out[d.full_name] = d
                    stack.extend(d.nested_types)
    return out


def _schema_id(descriptor):
    """A message's schema name: its own name, as discovery documents name nested messages
    (GKE's `NodePool.PlacementPolicy` is `PlacementPolicy`)."""
    return descriptor.name


def _schema(descriptor):
    return {"id": _schema_id(descriptor), "type": "object",
            "properties": {f.json_name: _field_type(f) for f in descriptor.fields}}


def _field_type(field):
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        value = field.message_type.fields_by_name["value"]
        return {"type": "object", "additionalProperties": _single_type(value)}
    single = _single_type(field)
    if _repeated(field):
        return {"type": "array", "items": single}
    return single


def _repeated(field):
    # protobuf 6 replaced `label` with `is_repeated`.
    if hasattr(field, "is_repeated"):
        return field.is_repeated
    return field.label == FieldDescriptor.LABEL_REPEATED


def _single_type(field):
    if field.type == FieldDescriptor.TYPE_ENUM:
        return {"type": "string", "enum": [v.name for v in field.enum_type.values]}
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        full = field.message_type.full_name
        return dict(WELL_KNOWN[full]) if full in WELL_KNOWN else {"$ref": _schema_id(field.message_type)}
    return dict(_SCALARS[field.type])


def _paths(uri):
    """`/v1/{name=projects/*/locations/*}` -> (`v1/{+name}`,
    `v1/projects/{projectsId}/locations/{locationsId}`, {"name"}), as discovery writes
    an http rule's path and flat path."""
    params = set()

    def path_var(m):
        field = m.group(1)
        params.add(field.split(".")[0])
        return "{+" + field + "}" if m.group(2) else "{" + field + "}"

    path = re.sub(r"\{([a-z_.]+)(=[^}]*)?\}", path_var, uri).lstrip("/")

    def flat_var(m):
        pattern = m.group(2)
        if pattern is None:
            return "{" + m.group(1).split(".")[-1] + "}"
        segments = pattern.split("/")
        out = []
        for i, seg in enumerate(segments):
            if seg in ("*", "**"):
                out.append("{" + (segments[i - 1] if i else m.group(1)) + "Id}")
            else:
                out.append(seg)
        return "/".join(out)

    flat = re.sub(r"\{([a-z_.]+)(?:=([^}]*))?\}", flat_var, uri).lstrip("/")
    return path, flat, params


def _flat_params(flat):
    return re.findall(r"\{([A-Za-z0-9_]+)\}", flat)


def _verb(rpc, http_method, flat):
    """The discovery verb of an RPC: AIP-131..135's standard methods by their prefix, a
    custom method (`:cancel`) by its name."""
    custom = re.search(r":([A-Za-z]+)$", flat)
    if custom:
        return custom.group(1)
    for prefix, verb in (("Get", "get"), ("List", "list"), ("Create", "create"),
                         ("Update", "patch"), ("Delete", "delete")):
        if rpc.startswith(prefix):
            return verb
    return rpc[0].lower() + rpc[1:]
