"""Calls to the Cloud Storage JSON API (storage.v1), interpreted from its discovery
methods: buckets named by `name` in the insert body (one global namespace, the project in
the `project` query parameter), synchronous answers (no operations), PATCH with merge
semantics (a label set to null is removed), and the refusal to delete a bucket that holds
objects.

Objects as the API documents them: created through the media upload path
(`uploadType=media` or `multipart`, metadata validated against the `Object` schema), read
as metadata or as their bytes (`alt=media`, the generation in `x-goog-generation`), listed
by prefix in name order with page tokens, deleted; every one of these honours the
documented generation and metageneration preconditions (`ifGenerationMatch=0`: only if
no live object), failing with 412 `conditionNotMet`.

The fake serves buckets for the fields fake-gcs-server (the Cloud Storage emulator the
tests also run) drops: labels, lifecycle rules and `iamConfiguration`, and its location;
and objects for the preconditions the emulator ignores on delete.
"""

import base64
import email.parser
import email.policy
import hashlib
import itertools
import json
import time

import discovery
from errors import HttpError, now_rfc3339

OBJECTS = "storage.objects"
# Generations are microsecond timestamps in Cloud Storage; a counter keeps them unique.
_GENERATIONS = itertools.count(int(time.time() * 1_000_000))


class Media:
    """An `alt=media` answer: bytes and headers rather than JSON."""

    def __init__(self, data, content_type, headers):
        self.data, self.content_type, self.headers = data, content_type, headers


class MediaUpload:
    """The body of a media upload: its content type, raw bytes and query."""

    def __init__(self, content_type, raw, query):
        self.content_type, self.raw, self.query = content_type, raw, query

    def parts(self):
        """(metadata, media bytes, media content type) of the upload."""
        kind = self.query.get("uploadType", "media")
        if kind == "media":
            return {}, self.raw, self.content_type or "application/octet-stream"
        if kind != "multipart":
            raise HttpError(400, "invalid", f"the fake does not implement uploadType={kind}")
        if not self.content_type.startswith("multipart/related"):
            raise HttpError(400, "invalid", "a multipart upload must be multipart/related")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + self.content_type.encode() + b"\r\n\r\n" + self.raw)
        parts = list(message.iter_parts())
        if len(parts) != 2:
            raise HttpError(400, "invalid", f"a multipart upload has 2 parts, not {len(parts)}")
        metadata = _json_metadata(parts[0].get_payload(decode=True))
        return metadata, parts[1].get_payload(decode=True), parts[1].get_content_type()


def _json_metadata(raw):
    """The metadata part of a multipart upload."""
    try:
        return json.loads(raw or b"{}")
    except ValueError as e:
        raise HttpError(400, "parseError", f"Invalid JSON payload received. {e}")

SELF_LINK = "https://www.googleapis.com/storage/v1/"


class StorageCall:
    """One call to the Cloud Storage JSON API."""

    def __init__(self, cloud, method, params, query, body):
        self.cloud, self.method, self.params, self.query = cloud, method, params, query
        self.body = body if body is not None else {}
        self.api = method.api

    def run(self):
        m = self.method
        if m.id.startswith("storage.objects."):
            return ObjectCall(self.cloud, m, self.params, self.query, self.body).run()
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
            if any(o["bucket"] == bucket for o in self.cloud.objects_of(OBJECTS).values()):
                raise HttpError(409, "conflict", "The bucket you tried to delete is not empty.")
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


class ObjectCall:
    """One call to the JSON API's objects."""

    def __init__(self, cloud, method, params, query, body):
        self.cloud, self.method, self.params, self.query, self.body = cloud, method, params, query, body
        self.api = method.api
        self.bucket = params.get("bucket")
        self.store = cloud.objects_of(OBJECTS)

    def run(self):
        if f"b/{self.bucket}" not in self.cloud.objects:
            raise HttpError(404, "notFound", "The specified bucket does not exist.")
        verb = self.method.verb
        if verb == "insert":
            if not self.method.media_upload:
                raise HttpError(400, "invalid", "Upload requests must include an uploadType URL parameter and a URL path beginning with /upload/")
            return 200, self.insert()
        if verb == "list":
            return 200, self.list()
        name = self.params.get("object", "")
        current = self.store.get(f"{self.bucket}/{name}")
        self.check_preconditions(current)
        if current is None:
            raise HttpError(404, "notFound", f"No such object: {self.bucket}/{name}")
        if verb == "get":
            if self.query.get("alt") == "media":
                return 200, Media(current["_data"], current.get("contentType", "application/octet-stream"), {
                    "x-goog-generation": current["generation"],
                    "x-goog-metageneration": current["metageneration"],
                    "x-goog-stored-content-length": current["size"],
                })
            return 200, public(current)
        if verb == "delete":
            del self.store[f"{self.bucket}/{name}"]
            return 204, None
        raise HttpError(400, "badRequest", f"the fake does not implement {self.method.id}")

    def check_preconditions(self, current):
        """The documented preconditions of a write, read or delete."""
        q = self.query
        generation = int(current["generation"]) if current else 0
        metageneration = int(current["metageneration"]) if current else None
        failed = False
        if "ifGenerationMatch" in q and int(q["ifGenerationMatch"]) != generation:
            failed = True
        if "ifGenerationNotMatch" in q and (current is None or int(q["ifGenerationNotMatch"]) == generation):
            failed = True
        if "ifMetagenerationMatch" in q and (current is None or int(q["ifMetagenerationMatch"]) != metageneration):
            failed = True
        if "ifMetagenerationNotMatch" in q and current is not None and int(q["ifMetagenerationNotMatch"]) == metageneration:
            failed = True
        if failed:
            raise HttpError(412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.")

    def insert(self):
        metadata, data, content_type = self.body.parts()
        discovery.validate(self.api, "Object", metadata, "object")
        name = self.query.get("name") or metadata.get("name")
        if not name:
            raise HttpError(400, "required", "Required object name")
        key = f"{self.bucket}/{name}"
        self.check_preconditions(self.store.get(key))
        generation = str(next(_GENERATIONS))
        now = now_rfc3339()
        obj = {k: v for k, v in metadata.items()
               if k not in discovery.read_only_fields(self.api, "Object")}
        obj.update(
            kind="storage#object", name=name, bucket=self.bucket,
            id=f"{self.bucket}/{name}/{generation}", generation=generation, metageneration="1",
            size=str(len(data)), timeCreated=now, updated=now, storageClass="STANDARD",
            md5Hash=base64.b64encode(hashlib.md5(data).digest()).decode(),
            etag=base64.b64encode(generation.encode()).decode(),
            selfLink=f"{SELF_LINK}b/{self.bucket}/o/{name}",
        )
        obj.setdefault("contentType", metadata.get("contentType") or content_type)
        if self.query.get("kmsKeyName"):
            obj["kmsKeyName"] = self.query["kmsKeyName"]
        obj["_data"] = data
        self.store[key] = obj
        return public(obj)

    def list(self):
        prefix = self.query.get("prefix", "")
        delimiter = self.query.get("delimiter")
        limit = min(int(self.query.get("maxResults", 1000)), 1000)
        after = self.query.get("pageToken")
        after = base64.urlsafe_b64decode(after.encode()).decode() if after else None
        names = sorted(o["name"] for o in self.store.values()
                       if o["bucket"] == self.bucket and o["name"].startswith(prefix))
        items, prefixes = [], set()
        for name in names:
            if after is not None and name <= after:
                continue
            if delimiter and delimiter in name[len(prefix):]:
                prefixes.add(prefix + name[len(prefix):].split(delimiter, 1)[0] + delimiter)
                continue
            if len(items) == limit:
                out = {"kind": "storage#objects", "items": items,
                       "nextPageToken": base64.urlsafe_b64encode(items[-1]["name"].encode()).decode()}
                return out | ({"prefixes": sorted(prefixes)} if prefixes else {})
            items.append(public(self.store[f"{self.bucket}/{name}"]))
        out = {"kind": "storage#objects"}
        if items:
            out["items"] = items
        if prefixes:
            out["prefixes"] = sorted(prefixes)
        return out
