"""Calls to the Cloud Storage JSON API's buckets (storage.v1), interpreted from its
discovery methods: buckets named by `name` in the insert body (one global namespace, the
project in the `project` query parameter), synchronous answers (no operations), PATCH
with merge semantics (a label set to null is removed), and the refusal to delete a bucket
that holds objects.

The fake serves these for the fields fake-gcs-server (the Cloud Storage emulator the
tests also run) drops: labels, lifecycle rules and `iamConfiguration`, and its location.
Objects are left to the emulator.
"""

import discovery
from errors import HttpError, now_rfc3339

SELF_LINK = "https://www.googleapis.com/storage/v1/"


class StorageCall:
    """One call to the Cloud Storage JSON API."""

    def __init__(self, cloud, method, params, query, body):
        self.cloud, self.method, self.params, self.query = cloud, method, params, query
        self.body = body if body is not None else {}
        self.api = method.api

    def run(self):
        m = self.method
        if not m.id.startswith("storage.buckets."):
            raise HttpError(400, "badRequest", f"the fake does not implement {m.id}")
        if m.request:
            discovery.validate(self.api, m.request, self.body, m.request.lower())
        if m.verb == "insert":
            return 200, self.insert()
        if m.verb == "list":
            return 200, self.list()
        bucket = self.params.get("bucket")
        key = f"b/{bucket}"
        obj = self.cloud.objects.get(key)
        if obj is None:
            raise HttpError(404, "notFound", "The specified bucket does not exist.")
        if m.verb == "get":
            return 200, public(obj)
        if m.verb == "patch":
            return 200, self.patch(obj)
        if m.verb == "delete":
            del self.cloud.objects[key]
            return 204, None
        raise HttpError(400, "badRequest", f"the fake does not implement {m.id}")

    def insert(self):
        project = self.query.get("project")
        if project not in self.cloud.projects:
            raise HttpError(400, "invalid", f"Invalid project {project!r}.")
        name = self.body.get("name", "")
        key = f"b/{name}"
        if key in self.cloud.objects:
            owner = self.cloud.objects[key]["_project"]
            if owner == project:
                raise HttpError(409, "conflict", "Your previous request to create the named bucket "
                                "succeeded and you already own it.")
            raise HttpError(409, "conflict", "The requested bucket name is not available. The "
                            "bucket namespace is shared by all users of the system. Please select "
                            "a different name and try again.")
        obj = dict(self.body)
        for field in discovery.read_only_fields(self.api, "Bucket"):
            obj.pop(field, None)
        now = now_rfc3339()
        obj.update(
            kind="storage#bucket", id=name, name=name, selfLink=SELF_LINK + key,
            projectNumber=str(100000000000 + abs(hash(project)) % 900000000000),
            metageneration="1", etag="CAE=", timeCreated=now, updated=now,
            location=(obj.get("location") or "US").upper(),
            locationType="region" if "-" in (obj.get("location") or "") else "multi-region",
            _project=project,
        )
        obj.setdefault("storageClass", "STANDARD")
        iam = obj.setdefault("iamConfiguration", {})
        iam.setdefault("uniformBucketLevelAccess", {"enabled": False})
        iam.setdefault("publicAccessPrevention", "inherited")
        self.cloud.objects[key] = obj
        return public(obj)

    def list(self):
        project = self.query.get("project")
        items = [public(o) for k, o in sorted(self.cloud.objects.items())
                 if k.startswith("b/") and o.get("_project") == project]
        return {"kind": "storage#buckets", "items": items} if items else {"kind": "storage#buckets"}

    def patch(self, obj):
        """Merge semantics: nested objects merge field by field; a null removes."""
        read_only = set(discovery.read_only_fields(self.api, "Bucket"))
        for field, value in self.body.items():
            if field in read_only or field == "name":
                continue
            merge(obj, field, value)
        obj["metageneration"] = str(int(obj["metageneration"]) + 1)
        obj["updated"] = now_rfc3339()
        return public(obj)


def merge(target, field, value):
    if value is None:
        target.pop(field, None)
    elif isinstance(value, dict) and isinstance(target.get(field), dict):
        for k, v in value.items():
            merge(target[field], k, v)
    else:
        target[field] = value


def public(obj):
    return {k: v for k, v in obj.items() if not k.startswith("_")}
