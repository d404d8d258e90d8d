#!/usr/bin/env python3
"""Start moto server on loopback for gantry's AWS end-to-end tests.

    python tests/moto/launcher.py --port 0 [--faults FILE] [--host 127.0.0.1]

Prints exactly one line, `ready http://HOST:PORT`, on stdout once the server
accepts requests; every other output goes to stderr. Exits when stdin reaches
EOF (the test process that owns the pipe died or finished) or on SIGTERM/SIGINT.

In front of moto's own WSGI app sits a small middleware that

* injects faults read from the JSON file given by --faults on every request
  (EC2 capacity errors, throttling, any error for the next N calls of an action, EC2
  Service Quotas values, EKS updates and deletions that fail), and
* closes gaps of moto 5.2.5 that a Terraform-like provider trips over
  (placement groups, ClientToken idempotency, availability-zone fields, NAT gateway
  deletion, FSx lifecycle and data repository associations, SageMaker, EKS lifecycle
  states, node group updates and DescribeUpdate).

tests/moto/README.md documents the contract, every gap and its fake.
moto is imported lazily: the module top only imports the standard library.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import fnmatch
import hashlib
import http
import io
import json
import logging
import os
import random
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, urlencode
from xml.sax.saxutils import escape

LOG = logging.getLogger("gantry.moto")

EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
EC2_API_VERSION = "2016-11-15"
SERVICE_QUOTAS_TARGET = "ServiceQuotasV20190624"
DEFAULT_REGION = "us-east-1"


# --------------------------------------------------------------------------
# Replies


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def send(self, start_response: Callable) -> list[bytes]:
        reason = http.HTTPStatus(self.status).phrase
        headers = [h for h in self.headers if h[0].lower() != "content-length"]
        headers.append(("Content-Length", str(len(self.body))))
        start_response(f"{self.status} {reason}", headers)
        return [self.body]


def request_id() -> str:
    return str(uuid.uuid4())


def xml_reply(status: int, body: str) -> Reply:
    rid = request_id()
    return Reply(
        status,
        [("Content-Type", "text/xml;charset=UTF-8"), ("x-amzn-RequestId", rid)],
        body.encode("utf-8"),
    )


def json_reply(status: int, doc: Any) -> Reply:
    rid = request_id()
    return Reply(
        status,
        [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", rid)],
        json.dumps(doc).encode("utf-8"),
    )


def ec2_reply(action: str, inner: str) -> Reply:
    """A successful EC2 Query response: <ActionResponse><requestId/>...</ActionResponse>."""
    return xml_reply(
        200,
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{action}Response xmlns="{EC2_NS}"><requestId>{request_id()}</requestId>'
        f"{inner}</{action}Response>",
    )


def ec2_error_reply(status: int, code: str, message: str) -> Reply:
    """EC2's error shape differs from every other Query service: Response/Errors/Error."""
    return xml_reply(
        status,
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Response><Errors><Error><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error></Errors>"
        f"<RequestID>{request_id()}</RequestID></Response>",
    )


def query_error_reply(status: int, code: str, message: str, call: "Call") -> Reply:
    """The ErrorResponse shape of IAM, STS and the other Query services."""
    version = call.params.get("Version", "")
    xmlns = f' xmlns="https://{call.service}.amazonaws.com/doc/{version}/"' if version else ""
    kind = "Receiver" if status >= 500 else "Sender"
    return xml_reply(
        status,
        f"<ErrorResponse{xmlns}><Error><Type>{kind}</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id()}</RequestId></ErrorResponse>",
    )


def json_error_reply(status: int, code: str, message: str) -> Reply:
    reply = json_reply(status, {"__type": code, "message": message})
    reply.headers.append(("x-amzn-ErrorType", code))
    return reply


def error_reply(call: "Call", status: int, code: str, message: str) -> Reply:
    """An error in the shape the caller's protocol expects."""
    if call.protocol == "json":
        return json_error_reply(status, code, message)
    if call.is_ec2:
        return ec2_error_reply(status, code, message)
    if call.protocol == "query":
        return query_error_reply(status, code, message, call)
    return json_error_reply(status, code, message)


# --------------------------------------------------------------------------
# Requests

SIGV4_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass
class Call:
    """What the middleware needs to know about one request."""

    environ: dict
    protocol: str  # "query" (EC2, IAM, STS ...), "json" (X-Amz-Target) or "rest"
    action: str | None
    service: str | None  # SigV4 signing name, e.g. "ec2"
    region: str
    params: dict[str, str] = field(default_factory=dict)  # query protocol
    body_json: dict = field(default_factory=dict)  # json protocol
    target_prefix: str = ""

    @property
    def is_ec2(self) -> bool:
        if self.protocol != "query":
            return False
        return self.service == "ec2" or self.params.get("Version") == EC2_API_VERSION

    @cached_property
    def account(self) -> str:
        return account_for(self.environ)

    @property
    def dry_run(self) -> bool:
        return self.params.get("DryRun", "").lower() == "true"


def header(environ: dict, name: str) -> str:
    return environ.get("HTTP_" + name.upper().replace("-", "_"), "")


def read_body(environ: dict) -> bytes:
    """Read the body and put it back, so moto can read it again."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b""  # nothing to inspect; leave a streamed body to moto
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def parse_call(environ: dict) -> Call:
    auth = header(environ, "Authorization")
    scope = SIGV4_SCOPE.search(auth)
    region, service = (scope.group(1), scope.group(2)) if scope else (DEFAULT_REGION, None)
    target = header(environ, "X-Amz-Target")
    content_type = environ.get("CONTENT_TYPE", "")

    # Only the protocols the middleware inspects have their body read; REST
    # bodies (S3 uploads, possibly streamed) go to moto untouched.
    if target:
        prefix, _, action = target.rpartition(".")
        try:
            doc = json.loads(read_body(environ) or b"{}")
        except ValueError:
            doc = {}
        return Call(environ, "json", action, service, region,
                    body_json=doc if isinstance(doc, dict) else {}, target_prefix=prefix)
    if content_type.startswith("application/x-www-form-urlencoded"):
        params = dict(parse_qsl(read_body(environ).decode("utf-8", "replace"), keep_blank_values=True))
        return Call(environ, "query", params.get("Action"), service, region, params=params)
    query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    if environ.get("REQUEST_METHOD") == "GET" and "Action" in query:
        return Call(environ, "query", query["Action"], service, region, params=query)
    if service == "eks":
        # REST-JSON: the action is in the method and path; bodies are small JSON documents.
        action = eks_action(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
        try:
            doc = json.loads(read_body(environ) or b"{}")
        except ValueError:
            doc = {}
        return Call(environ, "rest", action, service, region, params=query,
                    body_json=doc if isinstance(doc, dict) else {})
    return Call(environ, "rest", None, service, region)


# The EKS API Reference's request paths: (method, path pattern) -> action.
EKS_ROUTES = [
    ("POST", r"/clusters", "CreateCluster"),
    ("GET", r"/clusters", "ListClusters"),
    ("GET", r"/clusters/(?P<cluster>[^/]+)", "DescribeCluster"),
    ("DELETE", r"/clusters/(?P<cluster>[^/]+)", "DeleteCluster"),
    ("POST", r"/clusters/(?P<cluster>[^/]+)/update-config", "UpdateClusterConfig"),
    ("POST", r"/clusters/(?P<cluster>[^/]+)/updates", "UpdateClusterVersion"),
    ("GET", r"/clusters/(?P<cluster>[^/]+)/updates", "ListUpdates"),
    ("GET", r"/clusters/(?P<cluster>[^/]+)/updates/(?P<update>[^/]+)", "DescribeUpdate"),
    ("POST", r"/clusters/(?P<cluster>[^/]+)/node-groups", "CreateNodegroup"),
    ("GET", r"/clusters/(?P<cluster>[^/]+)/node-groups", "ListNodegroups"),
    ("GET", r"/clusters/(?P<cluster>[^/]+)/node-groups/(?P<nodegroup>[^/]+)", "DescribeNodegroup"),
    ("DELETE", r"/clusters/(?P<cluster>[^/]+)/node-groups/(?P<nodegroup>[^/]+)", "DeleteNodegroup"),
    ("POST", r"/clusters/(?P<cluster>[^/]+)/node-groups/(?P<nodegroup>[^/]+)/update-config",
     "UpdateNodegroupConfig"),
    ("POST", r"/clusters/(?P<cluster>[^/]+)/node-groups/(?P<nodegroup>[^/]+)/update-version",
     "UpdateNodegroupVersion"),
    ("POST", r"/tags/(?P<arn>.+)", "TagResource"),
    ("DELETE", r"/tags/(?P<arn>.+)", "UntagResource"),
    ("GET", r"/tags/(?P<arn>.+)", "ListTagsForResource"),
]


def eks_route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The EKS action of a request and its path parameters (URL-decoded)."""
    from urllib.parse import unquote

    for verb, pattern, action in EKS_ROUTES:
        match = re.fullmatch(pattern, path.rstrip("/") or "/")
        if verb == method and match:
            return action, {k: unquote(v) for k, v in match.groupdict().items()}
    return None


def eks_action(method: str, path: str) -> str | None:
    route = eks_route(method, path)
    return route[0] if route else None


def account_for(environ: dict) -> str:
    """The account moto files this request under, by moto's own rules
    (moto.core.responses.BaseResponse.get_current_account)."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    explicit = header(environ, "x-moto-account-id")
    if explicit:
        return explicit
    from moto.core.responses import BaseResponse
    from moto.iam.models import get_account_id_from

    match = BaseResponse.access_key_regex.search(header(environ, "Authorization"))
    return get_account_id_from(match.group(1) if match else "AKIAEXAMPLE")


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


# --------------------------------------------------------------------------
# Query-protocol parameter helpers (EC2 flattens lists as Name.1, Name.2 ...)


def indexed(params: dict[str, str], prefix: str) -> list[str]:
    """Values of prefix.1, prefix.2 ... in index order."""
    found = []
    for key, value in params.items():
        head, _, index = key.rpartition(".")
        if head == prefix and index.isdigit():
            found.append((int(index), value))
    return [value for _, value in sorted(found)]


def members(params: dict[str, str], prefix: str) -> list[dict[str, str]]:
    """prefix.N.rest=value -> [{rest: value}, ...] in index order."""
    groups: dict[int, dict[str, str]] = {}
    lead = prefix + "."
    for key, value in params.items():
        if not key.startswith(lead):
            continue
        index, _, rest = key[len(lead):].partition(".")
        if index.isdigit() and rest:
            groups.setdefault(int(index), {})[rest] = value
    return [groups[i] for i in sorted(groups)]


def query_filters(params: dict[str, str]) -> list[tuple[str, list[str]]]:
    return [(f.get("Name", ""), indexed(f, "Value")) for f in members(params, "Filter")]


def tag_specifications(params: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    specs = []
    for spec in members(params, "TagSpecification"):
        tags = {t.get("Key", ""): t.get("Value", "") for t in members(spec, "Tag")}
        specs.append((spec.get("ResourceType", ""), tags))
    return specs


def matches_any(value: str | None, patterns: list[str]) -> bool:
    """EC2 filter values allow * and ? wildcards."""
    return value is not None and any(fnmatch.fnmatchcase(value, p) for p in patterns)


class Ec2Error(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


# --------------------------------------------------------------------------
# Faults file


class FaultsFileError(Exception):
    pass


@dataclass
class Faults:
    capacity: list[dict] = field(default_factory=list)
    throttle: list[dict] = field(default_factory=list)
    # Any error, for the next `count` calls of an action (IAM propagation refusals...).
    errors: list[dict] = field(default_factory=list)
    ec2_quotas: dict[str, float] = field(default_factory=dict)
    # Codes with only an AWS default value (an account that never had an increase).
    ec2_default_quotas: dict[str, float] = field(default_factory=dict)
    # EKS operations that fail in the service after the call was accepted.
    eks_failures: list[dict] = field(default_factory=list)
    # Seconds of AWS time per transition, replacing AWS_SECONDS (scaled by --aws-timings).
    aws_timings: dict[str, float] = field(default_factory=dict)
    # Replaces --max-rps while the file says so (0: no limit); None: --max-rps as given.
    max_rps: float | None = None
    version: tuple = ()  # identifies one write of the file: (sha256, inode, mtime_ns)


EKS_FAILING_OPERATIONS = ("UpdateNodegroupConfig", "UpdateNodegroupVersion", "DeleteNodegroup", "DeleteCluster")


def validate_error_entries(entries: Any) -> list[dict]:
    if not isinstance(entries, list):
        raise FaultsFileError("errors must be a list")
    for entry in entries:
        if (not isinstance(entry, dict) or not isinstance(entry.get("action"), str)
                or not isinstance(entry.get("count"), int) or not isinstance(entry.get("code"), str)
                or not isinstance(entry.get("message", ""), str)
                or not isinstance(entry.get("status", 400), int)
                or set(entry) - {"action", "count", "code", "message", "status", "service"}):
            raise FaultsFileError(
                f"errors entry {entry!r}: needs action, code (strings) and count (integer); "
                "message, status and service are optional")
    return entries


def validate_eks_failures(entries: Any) -> list[dict]:
    if not isinstance(entries, list):
        raise FaultsFileError("eks_failures must be a list")
    for entry in entries:
        if (not isinstance(entry, dict) or entry.get("operation") not in EKS_FAILING_OPERATIONS
                or not isinstance(entry.get("cluster"), str)
                or set(entry) - {"operation", "cluster", "nodegroup", "code", "message"}):
            raise FaultsFileError(
                f"eks_failures entry {entry!r}: needs operation (one of {list(EKS_FAILING_OPERATIONS)}) "
                "and cluster; nodegroup, code and message are optional")
    return entries


def validate_faults(doc: Any) -> Faults:
    """Reject typos loudly: a silently ignored fault makes a test pass for the wrong reason."""
    if not isinstance(doc, dict):
        raise FaultsFileError("top level must be a JSON object")
    unknown = set(doc) - {"capacity", "throttle", "errors", "ec2_quotas", "ec2_default_quotas", "eks_failures",
                          "aws_timings", "max_rps"}
    if unknown:
        raise FaultsFileError(f"unknown keys {sorted(unknown)}")
    capacity = doc.get("capacity") or []
    for entry in capacity:
        if not isinstance(entry, dict) or set(entry) - {"instance_type", "zone"}:
            raise FaultsFileError(f"capacity entry {entry!r}: keys are instance_type, zone")
    throttle = doc.get("throttle") or []
    for entry in throttle:
        if (not isinstance(entry, dict) or not isinstance(entry.get("action"), str)
                or not isinstance(entry.get("count"), int) or set(entry) - {"action", "count", "service"}):
            raise FaultsFileError(f"throttle entry {entry!r}: needs action (string) and count (integer)")
    maps = {}
    for key in ("ec2_quotas", "ec2_default_quotas"):
        quotas = doc.get(key) or {}
        if not isinstance(quotas, dict) or not all(isinstance(v, (int, float)) for v in quotas.values()):
            raise FaultsFileError(f"{key} must map quota codes to numbers")
        maps[key] = {k: float(v) for k, v in quotas.items()}
    errors = validate_error_entries(doc.get("errors") or [])
    eks_failures = validate_eks_failures(doc.get("eks_failures") or [])
    timings = doc.get("aws_timings") or {}
    if (not isinstance(timings, dict) or set(timings) - set(AWS_SECONDS)
            or not all(isinstance(v, (int, float)) and v >= 0 for v in timings.values())):
        raise FaultsFileError(f"aws_timings must map transitions ({', '.join(AWS_SECONDS)}) "
                              "to seconds (numbers, at least 0)")
    max_rps = doc.get("max_rps")
    if max_rps is not None and (isinstance(max_rps, bool) or not isinstance(max_rps, (int, float)) or max_rps < 0):
        raise FaultsFileError("max_rps must be a number of requests per second, at least 0 (0: no limit)")
    return Faults(capacity, throttle, errors, maps["ec2_quotas"], maps["ec2_default_quotas"], eks_failures,
                  {k: float(v) for k, v in timings.items()}, None if max_rps is None else float(max_rps))


class FaultsFile:
    """The --faults file, read on every request, plus the throttle counters.

    Counters are keyed by the file's content, inode and mtime, so a test that
    rewrites the file (even with the same content) starts counting afresh. The
    inode catches a write-and-rename within one tick of the file-time clock.
    """

    def __init__(self, path: str | None):
        self.path = path
        self.lock = threading.Lock()
        self.used: dict[tuple, int] = {}

    def load(self) -> Faults:
        if not self.path:
            return Faults()
        try:
            stat = os.stat(self.path)
            with open(self.path, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            return Faults()
        if not raw.strip():
            return Faults()
        try:
            doc = json.loads(raw)
        except ValueError as err:
            raise FaultsFileError(f"not JSON: {err}") from err
        faults = validate_faults(doc)
        faults.version = (hashlib.sha256(raw).hexdigest(), stat.st_ino, stat.st_mtime_ns)
        return faults

    def take_throttle(self, faults: Faults, call: Call) -> bool:
        """True if this call is one of the next `count` calls of a throttled action."""
        return self.take(faults.throttle, "throttle", faults.version, call) is not None

    def take_error(self, faults: Faults, call: Call) -> dict | None:
        """The `errors` entry this call is one of the next `count` calls of, if any."""
        return self.take(faults.errors, "errors", faults.version, call)

    def take(self, entries: list[dict], kind: str, version: tuple, call: Call) -> dict | None:
        for index, entry in enumerate(entries):
            if entry["action"] != call.action:
                continue
            if entry.get("service") and entry["service"] != call.service:
                continue
            key = (version, kind, index)
            with self.lock:
                if self.used.get(key, 0) < entry["count"]:
                    self.used[key] = self.used.get(key, 0) + 1
                    return entry
        return None


def s3_error_reply(call: Call, status: int, code: str, message: str) -> Reply:
    """S3's REST error shape: <Error><Code/><Message/><RequestId/></Error> (no body for HEAD)."""
    body = "" if call.environ.get("REQUEST_METHOD") == "HEAD" else (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{request_id()}</RequestId></Error>")
    reply = xml_reply(status, body)
    reply.headers.append(("x-amz-request-id", request_id()))
    return reply


def throttle_reply(call: Call) -> Reply:
    """The service's own "slow down" answer, in its protocol's shape and status."""
    if call.is_ec2:
        return ec2_error_reply(503, "RequestLimitExceeded", "Request limit exceeded.")
    if call.service == "s3" and call.protocol == "rest":
        return s3_error_reply(call, 503, "SlowDown", "Please reduce your request rate.")
    if call.protocol in ("json", "rest"):
        return json_error_reply(400, "ThrottlingException", "Rate exceeded")
    return query_error_reply(400, "Throttling", "Rate exceeded", call)


# --------------------------------------------------------------------------
# AWS timings (--aws-timings SCALE): transitional states that last, as on AWS

# Typical seconds AWS keeps an object in a transitional state (tests/moto/README.md gives
# the basis of each figure). --aws-timings SCALE multiplies them; the faults file's
# `aws_timings` replaces any of them. Keys are "<object>:<operation>".
AWS_SECONDS: dict[str, float] = {
    "eks-cluster:create": 600,  # CREATING -> ACTIVE
    "eks-cluster:delete": 300,  # DELETING -> gone
    "eks-nodegroup:create": 240,  # CREATING -> ACTIVE
    "eks-nodegroup:update": 300,  # UPDATING -> ACTIVE (the update InProgress -> Successful)
    "eks-nodegroup:delete": 240,  # DELETING -> gone
    "fsx-lustre:create": 600,  # CREATING -> AVAILABLE
    "fsx-lustre:update": 300,  # UPDATING -> AVAILABLE
    "fsx-lustre:delete": 300,  # DELETING -> gone
    "sagemaker-domain:create": 240,  # Pending -> InService
    "sagemaker-domain:delete": 180,  # Deleting -> gone
    "sagemaker-notebook:create": 180,  # Pending -> InService
    "sagemaker-notebook:start": 180,  # Pending -> InService
    "sagemaker-notebook:stop": 60,  # Stopping -> Stopped
    "sagemaker-notebook:update": 60,  # Updating -> Stopped
    "sagemaker-notebook:delete": 60,  # Deleting -> gone
    "ec2-instance:run": 30,  # pending -> running
    "ec2-instance:start": 30,  # pending -> running
    "ec2-instance:stop": 60,  # stopping -> stopped
    "ec2-instance:terminate": 60,  # shutting-down -> terminated
    "nat-gateway:create": 90,  # pending -> available
    "nat-gateway:delete": 60,  # deleting -> deleted
}

# Turns time.monotonic() readings into Unix times, for reports that line up with a
# benchmark's own clock.
EPOCH = time.time() - time.monotonic()


@dataclass
class Hold:
    """One object in a transitional state."""

    transition: str  # "eks-cluster:create"
    state: str  # what describes show meanwhile ("CREATING")
    ends: float | None  # time.monotonic() deadline; None: until one describe has shown it
    finish: Callable[[], None] | None = None  # moves moto's object on (or deletes it)
    record: dict | None = None  # its entry in Transitions.log (timed holds)


class Transitions:
    """Objects in transitional states, keyed (service, account, region, kind, name...).

    A scale of 0 (the default) times nothing: the transitions the launcher always showed
    (EKS and FSx creates and updates) are seen by exactly one describe, and every other
    change is immediate, as in moto. With a scale above 0 each transition lasts
    AWS_SECONDS x scale: moto's object is put in the transitional state (so moto's own
    checks, filters and lists see it too), describes show it until the time is up, and
    the first request to the service after that runs `finish` (the final state; for a
    delete, the deletion in moto). So clients wait as long as on AWS, scaled.
    """

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.lock = threading.Lock()
        self.holds: dict[tuple, Hold] = {}
        self.finished: dict[tuple, dict] = {}  # key -> record, until a describe sees it done
        self.log: list[dict] = []  # every timed hold, for /_gantry/stats

    @property
    def timed(self) -> bool:
        return self.scale > 0

    def seconds(self, transition: str, faults: Faults) -> float:
        """How long `transition` lasts here: AWS's seconds (or the faults file's) x scale."""
        return faults.aws_timings.get(transition, AWS_SECONDS[transition]) * self.scale

    def begin(self, key: tuple, transition: str, state: str, faults: Faults,
              finish: Callable[[], None] | None = None) -> None:
        """A timed transition: `key` shows `state` for the transition's time, then `finish`
        runs. It replaces any transition of the same object, unfinished (an instance
        terminated while pending never becomes running)."""
        now = time.monotonic()
        ends = now + self.seconds(transition, faults)
        record = {"transition": transition, "object": "/".join(key[4:]), "state": state,
                  "began": round(now + EPOCH, 3), "ends": round(ends + EPOCH, 3),
                  "finished": None, "observed": None}
        with self.lock:
            self.holds[key] = Hold(transition, state, ends, finish, record)
            self.finished.pop(key, None)
            self.log.append(record)

    def begin_once(self, key: tuple, transition: str, state: str) -> None:
        """Scale 0: the next describe of `key` shows `state`, later ones do not."""
        with self.lock:
            self.holds[key] = Hold(transition, state, None)

    def state(self, key: tuple) -> str | None:
        """The transitional state of `key` now, or None; consumes nothing."""
        with self.lock:
            hold = self.holds.get(key)
        return hold.state if hold else None

    def shown(self, key: tuple) -> str | None:
        """What a describe of `key` shows now: its transitional state, or None once over.
        A once-only hold ends with the describe that shows it. The first describe after a
        timed hold finished is logged as the moment a client saw it done (`observed`)."""
        with self.lock:
            hold = self.holds.get(key)
            if hold is None:
                record = self.finished.pop(key, None)
                if record is not None:
                    record["observed"] = round(time.time(), 3)
                return None
            if hold.ends is None:
                del self.holds[key]
            return hold.state

    def cancel(self, key: tuple) -> None:
        """The object left its transition another way (deleted at once, failed)."""
        with self.lock:
            self.holds.pop(key, None)
            self.finished.pop(key, None)

    def settle(self, service: str) -> None:
        """Ends every timed hold of `service` whose time is up. Run first by every request
        to the service, so what moto answers is already the final state. `finish` runs
        under the lock (it takes no other lock), so no describe sees a half-finished
        object."""
        now = time.monotonic()
        with self.lock:
            due = [k for k, h in self.holds.items() if k[0] == service and h.ends is not None and h.ends <= now]
            for key in due:
                hold = self.holds.pop(key)
                if hold.finish is not None:
                    try:
                        hold.finish()
                    except Exception:  # the object went another way meanwhile
                        LOG.info("finishing %s of %s: %s", hold.transition, key, traceback.format_exc(limit=1))
                if hold.record is not None:
                    hold.record["finished"] = round(time.time(), 3)
                    self.finished[key] = hold.record

    def observe(self, service: str, account: str, region: str, kind: str, names: Iterable[str]) -> None:
        """A describe that names these objects saw them as they are now."""
        for name in names:
            self.shown((service, account, region, kind, name))


# --------------------------------------------------------------------------
# Request rate (--max-rps) and request counts (/_gantry/stats)


class RateLimit:
    """--max-rps RATE [--burst N]: one token bucket per account and region, as AWS meters
    EC2 (and most services') API requests per account per Region. A request that finds
    the bucket empty gets its service's throttling error (throttle_reply) and takes no
    token, so a client must back off to get through. IAM's global endpoint signs for
    us-east-1 and shares that region's bucket; S3 shares it too. One bucket for every
    service is stricter than AWS (which has buckets per service and action class); it
    makes the bound simple: N calls need at least (N - burst) / RATE seconds."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.lock = threading.Lock()
        self.buckets: dict[tuple, tuple[float, float]] = {}  # key -> (tokens, as of)

    def admit(self, key: tuple) -> bool:
        now = time.monotonic()
        with self.lock:
            tokens, since = self.buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - since) * self.rate)
            admitted = tokens >= 1.0
            self.buckets[key] = (tokens - 1.0 if admitted else tokens, now)
        return admitted


STATS_PATH = "/_gantry/stats"  # "_" cannot start a bucket name, so no S3 path is shadowed
S3_PARAMS = {"prefix", "delimiter", "encoding-type", "max-keys", "list-type", "continuation-token",
             "start-after", "fetch-owner", "versionId", "key-marker", "version-id-marker", "uploadId",
             "partNumber", "max-uploads", "upload-id-marker", "max-parts", "part-number-marker"}


def call_name(call: Call) -> str:
    """"SERVICE Action" for counting. S3 names no action in its requests: the SDK's
    `x-id` query parameter when sent, else the method, what the path names (service,
    bucket, object) and the sub-resources (`s3 GET bucket?tagging`)."""
    service = call.service or "?"
    if call.action:
        return f"{service} {call.action}"
    method = call.environ.get("REQUEST_METHOD", "")
    query = parse_qsl(call.environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if service == "s3":
        explicit = [v for k, v in query if k == "x-id"]
        if explicit:
            return f"s3 {explicit[0]}"
        parts = call.environ.get("PATH_INFO", "").strip("/").split("/", 1)
        target = "object" if len(parts) == 2 and parts[1] else "bucket" if parts[0] else "service"
        subresources = sorted(k for k, _ in query if k not in S3_PARAMS)
        return f"s3 {method} {target}" + ("?" + "&".join(subresources) if subresources else "")
    return f"{service} {method} {call.environ.get('PATH_INFO', '')}"


class RequestStats:
    """Requests per "SERVICE Action" since the launcher started, and those that --max-rps
    refused: a benchmark reads them from GET /_gantry/stats (before and after a command)
    to count the calls the command made instead of guessing."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: dict[str, int] = {}
        self.throttled: dict[str, int] = {}

    def count(self, call: Call, throttled: bool) -> None:
        name = call_name(call)
        with self.lock:
            table = self.throttled if throttled else self.requests
            table[name] = table.get(name, 0) + 1

    def reply(self, transitions: Transitions) -> Reply:
        with self.lock:
            doc = {
                "requests": dict(sorted(self.requests.items())),
                "throttled": dict(sorted(self.throttled.items())),
                "total": sum(self.requests.values()),
                "throttled_total": sum(self.throttled.values()),
            }
        with transitions.lock:
            doc["transitions"] = [dict(r) for r in transitions.log]
        doc["time"] = round(time.time(), 3)
        return Reply(200, [("Content-Type", "application/json")], json.dumps(doc).encode())


# --------------------------------------------------------------------------
# moto access


def ec2_backend(call: Call) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[call.account][call.region]


_TEACH_LOCK = threading.Lock()


def teach_moto_placement_groups() -> None:
    """Two table entries moto lacks, added to moto's own lookup tables:

    * the `pg` resource-id prefix, so moto's CreateTags/DeleteTags/DescribeTags
      accept placement group ids: their tags then live in moto's tag store and
      DescribeTags reports them with resource type "placement-group";
    * the DescribeInstances filter `placement-group-name` (moto answers an
      unknown instance filter with HTTP 500), matched against the group name
      the launcher records on instances (see join_placement_group).
    """
    from moto.ec2 import utils

    with _TEACH_LOCK:
        utils.EC2_RESOURCE_TO_PREFIX.setdefault("placement-group", "pg")
        utils.EC2_PREFIX_TO_RESOURCE.setdefault("pg", "placement-group")
        utils.filter_dict_attribute_mapping.setdefault("placement-group-name", "placement.group_name")


# --------------------------------------------------------------------------
# EC2 placement groups (moto 5.2.5 implements none of the three actions)

PG_STRATEGIES = ("cluster", "spread", "partition")


@dataclass
class PlacementGroup:
    name: str
    group_id: str
    arn: str
    strategy: str
    partition_count: int | None
    spread_level: str | None
    state: str = "available"


class PlacementGroups:
    """In-memory placement groups per (account, region); tags live in moto's tag store."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.groups: dict[tuple[str, str], dict[str, PlacementGroup]] = {}

    def scope(self, call: Call) -> dict[str, PlacementGroup]:
        return self.groups.setdefault((call.account, call.region), {})

    def by_name(self, call: Call, name: str) -> PlacementGroup:
        group = self.scope(call).get(name)
        if group is None:
            raise Ec2Error("InvalidPlacementGroup.Unknown", f"The Placement Group '{name}' is unknown.")
        return group

    def by_id(self, call: Call, group_id: str) -> PlacementGroup:
        for group in self.scope(call).values():
            if group.group_id == group_id:
                return group
        raise Ec2Error("InvalidPlacementGroup.Unknown", f"The Placement Group '{group_id}' is unknown.")

    # -- actions

    def create(self, call: Call) -> Reply:
        p = call.params
        name, strategy = p.get("GroupName"), p.get("Strategy")
        if not name:
            raise Ec2Error("MissingParameter", "The request must contain the parameter groupName")
        if strategy not in PG_STRATEGIES:
            raise Ec2Error("InvalidParameterValue", f"Value ({strategy}) for parameter strategy is invalid. "
                           f"Valid values are: {', '.join(PG_STRATEGIES)}.")
        partitions = self.partition_count(strategy, p.get("PartitionCount"))
        spread_level = self.spread_level(strategy, p.get("SpreadLevel"))
        tags = self.creation_tags(p)
        dry_run_check(call)
        backend = ec2_backend(call)
        with self.lock:
            if name in self.scope(call):
                raise Ec2Error("InvalidPlacementGroup.Duplicate", f"The placement group '{name}' already exists.")
            group = PlacementGroup(
                name=name,
                group_id="pg-" + "%017x" % random.getrandbits(68),
                arn=f"arn:{partition_of(call.region)}:ec2:{call.region}:{call.account}:placement-group/{name}",
                strategy=strategy,
                partition_count=partitions,
                spread_level=spread_level,
            )
            self.scope(call)[name] = group
            if tags:
                backend.create_tags([group.group_id], tags)
        return ec2_reply("CreatePlacementGroup", f"<placementGroup>{self.render(group, backend)}</placementGroup>")

    @staticmethod
    def partition_count(strategy: str, raw: str | None) -> int | None:
        if raw is None:
            return 2 if strategy == "partition" else None  # AWS's default for partition groups
        if strategy != "partition":
            raise Ec2Error("InvalidParameterCombination",
                           "The parameter partitionCount is only valid with the partition strategy.")
        if not raw.isdigit() or not 1 <= int(raw) <= 7:
            raise Ec2Error("InvalidParameterValue", f"Value ({raw}) for parameter partitionCount is invalid. "
                           "Valid values are between 1 and 7.")
        return int(raw)

    @staticmethod
    def spread_level(strategy: str, raw: str | None) -> str | None:
        if raw is None:
            return "rack" if strategy == "spread" else None
        if strategy != "spread":
            raise Ec2Error("InvalidParameterCombination",
                           "The parameter spreadLevel is only valid with the spread strategy.")
        if raw not in ("host", "rack"):
            raise Ec2Error("InvalidParameterValue", f"Value ({raw}) for parameter spreadLevel is invalid.")
        return raw

    @staticmethod
    def creation_tags(params: dict[str, str]) -> dict[str, str]:
        tags: dict[str, str] = {}
        for resource_type, spec_tags in tag_specifications(params):
            if resource_type != "placement-group":
                raise Ec2Error("InvalidParameterValue",
                               f"'{resource_type}' is not a valid taggable resource type for this operation.")
            tags.update(spec_tags)
        return tags

    def describe(self, call: Call) -> Reply:
        names = indexed(call.params, "GroupName")
        ids = indexed(call.params, "GroupId")
        filters = query_filters(call.params)
        dry_run_check(call)
        backend = ec2_backend(call)
        with self.lock:
            selected = list(self.scope(call).values())
            if names:
                chosen = {self.by_name(call, n).name for n in names}
                selected = [g for g in selected if g.name in chosen]
            if ids:
                chosen = {self.by_id(call, i).group_id for i in ids}
                selected = [g for g in selected if g.group_id in chosen]
            selected = [g for g in selected if self.passes(g, filters, self.tags(backend, g))]
            items = "".join(f"<item>{self.render(g, backend)}</item>" for g in selected)
        return ec2_reply("DescribePlacementGroups", f"<placementGroupSet>{items}</placementGroupSet>")

    @staticmethod
    def passes(group: PlacementGroup, filters: list[tuple[str, list[str]]], tags: dict[str, str]) -> bool:
        fields = {
            "group-name": group.name,
            "group-id": group.group_id,
            "group-arn": group.arn,
            "state": group.state,
            "strategy": group.strategy,
            "spread-level": group.spread_level,
            "partition-count": None if group.partition_count is None else str(group.partition_count),
        }
        for name, values in filters:
            if name in fields:
                ok = matches_any(fields[name], values)
            elif name.startswith("tag:"):
                ok = matches_any(tags.get(name[4:]), values)
            elif name == "tag-key":
                ok = any(matches_any(key, values) for key in tags)
            else:
                raise Ec2Error("InvalidParameterValue", f"The filter '{name}' is invalid")
            if not ok:
                return False
        return True

    def delete(self, call: Call) -> Reply:
        name = call.params.get("GroupName")
        if not name:
            raise Ec2Error("MissingParameter", "The request must contain the parameter groupName")
        backend = ec2_backend(call)
        with self.lock:
            group = self.by_name(call, name)
            if self.in_use(backend, name):
                raise Ec2Error("InvalidPlacementGroup.InUse",
                               f"The placement group '{name}' is in use and may not be deleted.")
            dry_run_check(call)
            del self.scope(call)[name]
            backend.tags.pop(group.group_id, None)
        return ec2_reply("DeletePlacementGroup", "<return>true</return>")

    @staticmethod
    def in_use(backend: Any, name: str) -> bool:
        return any(
            instance.placement.group_name == name and instance.state != "terminated"
            for instance in backend.all_instances()
        )

    @staticmethod
    def tags(backend: Any, group: PlacementGroup) -> dict[str, str]:
        return dict(backend.tags.get(group.group_id, {}))

    def render(self, group: PlacementGroup, backend: Any) -> str:
        parts = [
            f"<groupName>{escape(group.name)}</groupName>",
            f"<state>{group.state}</state>",
            f"<strategy>{group.strategy}</strategy>",
        ]
        if group.partition_count is not None:
            parts.append(f"<partitionCount>{group.partition_count}</partitionCount>")
        parts.append(f"<groupId>{group.group_id}</groupId>")
        if group.spread_level is not None:
            parts.append(f"<spreadLevel>{group.spread_level}</spreadLevel>")
        parts.append(f"<groupArn>{escape(group.arn)}</groupArn>")
        tags = self.tags(backend, group)
        items = "".join(
            f"<item><key>{escape(k)}</key><value>{escape(v)}</value></item>" for k, v in sorted(tags.items())
        )
        parts.append(f"<tagSet>{items}</tagSet>" if items else "<tagSet/>")
        return "".join(parts)

    def check_tag_targets(self, call: Call) -> None:
        """CreateTags/DeleteTags on a pg- id must name an existing group (moto cannot check)."""
        with self.lock:
            for resource_id in indexed(call.params, "ResourceId"):
                if resource_id.startswith("pg-"):
                    self.by_id(call, resource_id)


def dry_run_check(call: Call) -> None:
    """EC2 answers a permitted DryRun with HTTP 412 DryRunOperation."""
    if call.dry_run:
        raise Ec2Error("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412)


# --------------------------------------------------------------------------
# RunInstances: what it launches, where, and into which placement group


@dataclass
class Launch:
    instance_type: str
    zone: str | None
    placement_group: str | None


def launch_template_data(call: Call, backend: Any) -> dict:
    p = call.params
    arg = {k: p[f"LaunchTemplate.{k}"] for k in ("LaunchTemplateId", "LaunchTemplateName", "Version")
           if f"LaunchTemplate.{k}" in p}
    if "LaunchTemplateId" not in arg and "LaunchTemplateName" not in arg:
        return {}
    try:
        return backend._get_template_from_args(arg).data or {}
    except Exception:  # unknown template: moto answers with the proper error later
        return {}


def zone_of_subnet(backend: Any, subnet_id: str | None) -> str | None:
    if not subnet_id:
        return None
    try:
        return backend.get_subnet(subnet_id).availability_zone
    except Exception:  # unknown subnet: moto answers with the proper error later
        return None


def zone_of_eni(backend: Any, eni_id: str | None) -> str | None:
    if not eni_id:
        return None
    try:
        return backend.get_network_interface(eni_id).subnet.availability_zone
    except Exception:
        return None


def zone_of_zone_id(backend: Any, zone_id: str | None) -> str | None:
    if not zone_id:
        return None
    zones = backend.describe_availability_zones(zone_ids=[zone_id])
    return zones[0].name if zones else None


def resolve_launch(call: Call, backend: Any, groups: PlacementGroups) -> Launch:
    """Instance type, zone and placement group of a RunInstances request;
    request parameters win over the launch template's data, as in EC2."""
    p = call.params
    template = launch_template_data(call, backend)
    t_placement = template.get("Placement") or {}
    t_nics = template.get("NetworkInterfaces") or []
    nics = members(p, "NetworkInterface")

    instance_type = p.get("InstanceType") or template.get("InstanceType") or "m1.small"
    zone = (
        p.get("Placement.AvailabilityZone")
        or zone_of_zone_id(backend, p.get("Placement.AvailabilityZoneId"))
        or zone_of_subnet(backend, p.get("SubnetId"))
        or next(filter(None, (zone_of_subnet(backend, n.get("SubnetId")) for n in nics)), None)
        or next(filter(None, (zone_of_eni(backend, n.get("NetworkInterfaceId")) for n in nics)), None)
        or t_placement.get("AvailabilityZone")
        or next(filter(None, (zone_of_subnet(backend, n.get("SubnetId")) for n in t_nics)), None)
    )
    group_name = p.get("Placement.GroupName") or t_placement.get("GroupName")
    group_id = p.get("Placement.GroupId") or t_placement.get("GroupId")
    if group_name:
        groups.by_name(call, group_name)
    elif group_id:
        group_name = groups.by_id(call, group_id).name
    return Launch(instance_type, zone, group_name)


def capacity_blocks(entry: dict, instance_type: str, zone: str | None) -> bool:
    """A capacity entry without instance_type or zone applies to every type or zone.
    A request without a zone lets EC2 pick one, so only zone-less entries block it."""
    if entry.get("instance_type") not in (None, instance_type):
        return False
    return entry.get("zone") is None or entry.get("zone") == zone


def check_capacity(faults: Faults, launch: Launch, backend: Any) -> None:
    itype, zone = launch.instance_type, launch.zone
    if not any(capacity_blocks(e, itype, zone) for e in faults.capacity):
        return
    if zone is None:
        raise Ec2Error("InsufficientInstanceCapacity",
                       f"We currently do not have sufficient {itype} capacity in the Region you requested. "
                       "Our system will be working on provisioning additional capacity.", 500)
    other_zones = [
        z.name for z in backend.describe_availability_zones()
        if z.name != zone and not any(capacity_blocks(e, itype, z.name) for e in faults.capacity)
    ]
    message = (f"We currently do not have sufficient {itype} capacity in the Availability Zone you requested "
               f"({zone}). Our system will be working on provisioning additional capacity.")
    if other_zones:
        message += (f" You can currently get {itype} capacity by not specifying an Availability Zone in your "
                    f"request or choosing {', '.join(other_zones)}.")
    raise Ec2Error("InsufficientInstanceCapacity", message, 500)


INSTANCE_ID = re.compile(rb"<instanceId>(i-[0-9a-f]+)</instanceId>")


def join_placement_group(reply: Reply, backend: Any, group_name: str) -> Reply:
    """moto drops Placement.GroupName; record it on the instances (so DescribeInstances
    and the InUse check see it) and in this response's empty <groupName/>."""
    for instance_id in INSTANCE_ID.findall(reply.body):
        backend.get_instance_by_id(instance_id.decode()).placement.group_name = group_name
    filled = f"<placement><groupName>{escape(group_name)}</groupName>".encode()
    reply.body = reply.body.replace(b"<placement><groupName/>", filled)
    return reply


# --------------------------------------------------------------------------
# ClientToken idempotency (moto stores the token but never looks it up)


class Idempotency:
    """Replays the first successful response for a (account, region, action, ClientToken)."""

    IGNORED = {"ClientToken", "Action", "Version", "DryRun"}

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key_locks: dict[tuple, threading.Lock] = {}
        self.done: dict[tuple, tuple[str, Reply]] = {}

    def key(self, call: Call) -> tuple | None:
        token = call.params.get("ClientToken")
        if not token or call.dry_run:
            return None
        return (call.account, call.region, call.action, token)

    def key_lock(self, key: tuple) -> threading.Lock:
        # One lock per token: a retry that arrives while the first call is still
        # running waits for it instead of creating a second set of resources.
        with self.lock:
            return self.key_locks.setdefault(key, threading.Lock())

    def fingerprint(self, call: Call) -> str:
        return json.dumps(sorted((k, v) for k, v in call.params.items() if k not in self.IGNORED))

    def run(self, call: Call, work: Callable[[], Reply]) -> Reply:
        key = self.key(call)
        if key is None:
            return work()
        with self.key_lock(key):
            if key in self.done:
                fingerprint, reply = self.done[key]
                if fingerprint != self.fingerprint(call):
                    raise Ec2Error("IdempotentParameterMismatch",
                                   f"The client token '{key[3]}' was already used with different parameters.")
                return Reply(reply.status, list(reply.headers), reply.body)
            reply = work()
            if reply.status == 200:
                self.done[key] = (self.fingerprint(call), reply)
            return reply


# --------------------------------------------------------------------------
# DescribeInstances' `client-token` filter (moto answers it with HTTP 500)


def describe_instances_by_client_token(call: Call, forward: Callable[[Call], Reply]) -> Reply | None:
    """DescribeInstances with a `client-token` filter: the instances launched with one of the
    tokens, the other filters and parameters applied by moto. None without such a filter."""
    filters = members(call.params, "Filter")
    tokens = [set(indexed(f, "Value")) for f in filters if f.get("Name") == "client-token"]
    if not tokens:
        return None
    ids = [i.id for i in ec2_backend(call).all_instances()
           if all(getattr(i, "client_token", None) in wanted for wanted in tokens)]
    if not ids:
        return ec2_reply("DescribeInstances", "<reservationSet/>")
    # The same request without the token filter, restricted to those instances.
    params = {k: v for k, v in call.params.items() if not k.startswith("Filter.")}
    for n, f in enumerate((f for f in filters if f.get("Name") != "client-token"), start=1):
        params[f"Filter.{n}.Name"] = f.get("Name", "")
        for m, value in enumerate(indexed(f, "Value"), start=1):
            params[f"Filter.{n}.Value.{m}"] = value
    wanted_ids = set(indexed(call.params, "InstanceId"))
    ids = [i for i in ids if not wanted_ids or i in wanted_ids]
    if not ids:
        return ec2_reply("DescribeInstances", "<reservationSet/>")
    params = {k: v for k, v in params.items() if not k.startswith("InstanceId.")}
    for n, instance_id in enumerate(ids, start=1):
        params[f"InstanceId.{n}"] = instance_id
    body = urlencode(params).encode()
    environ = dict(call.environ, CONTENT_LENGTH=str(len(body)), QUERY_STRING="",
                   CONTENT_TYPE="application/x-www-form-urlencoded")
    environ["wsgi.input"] = io.BytesIO(body)
    environ["REQUEST_METHOD"] = "POST"
    return forward(dataclasses.replace(call, environ=environ, params=params))


# --------------------------------------------------------------------------
# DescribeAvailabilityZones (moto omits OptInStatus, GroupName, NetworkBorderGroup
# and ignores unknown zone names and filters)


ZONE_FILTERS = {"zone-name", "zone-id", "region-name", "state", "zone-type",
                "opt-in-status", "group-name", "network-border-group"}


def zone_fields(zone: Any) -> dict[str, str]:
    return {
        "zone-name": zone.name,
        "zone-id": zone.zone_id,
        "region-name": zone.region_name,
        "state": zone.state,
        "zone-type": zone.zone_type,
        "opt-in-status": "opt-in-not-required",
        "group-name": zone.region_name,
        "network-border-group": zone.region_name,
    }


def describe_availability_zones(call: Call) -> Reply:
    dry_run_check(call)
    zones = ec2_backend(call).describe_availability_zones()
    names, ids = indexed(call.params, "ZoneName"), indexed(call.params, "ZoneId")
    unknown = [n for n in names if n not in {z.name for z in zones}]
    unknown += [i for i in ids if i not in {z.zone_id for z in zones}]
    if unknown:
        raise Ec2Error("InvalidParameterValue", f"Invalid availability zone: [{', '.join(unknown)}]")
    filters = query_filters(call.params)
    for name, _ in filters:
        if name not in ZONE_FILTERS:
            raise Ec2Error("InvalidParameterValue", f"The filter '{name}' is invalid")
    selected = [
        z for z in zones
        if (not names or z.name in names) and (not ids or z.zone_id in ids)
        and all(matches_any(zone_fields(z).get(n), v) for n, v in filters)
    ]
    items = "".join(
        "<item>"
        f"<zoneName>{z.name}</zoneName><zoneState>{z.state}</zoneState>"
        f"<regionName>{z.region_name}</regionName><zoneId>{z.zone_id}</zoneId>"
        f"<zoneType>{z.zone_type}</zoneType><optInStatus>opt-in-not-required</optInStatus>"
        f"<groupName>{z.region_name}</groupName><networkBorderGroup>{z.region_name}</networkBorderGroup>"
        "<messageSet/></item>"
        for z in selected
    )
    return ec2_reply("DescribeAvailabilityZones", f"<availabilityZoneInfo>{items}</availabilityZoneInfo>")


# --------------------------------------------------------------------------
# DeleteNatGateway (moto keeps the gateway's network interface and Elastic IP association,
# and answers an unknown id with HTTP 500)


def delete_nat_gateway(call: Call, forward: Callable[[], Reply], transitions: Transitions, faults: Faults) -> Reply:
    """As AWS does when a NAT gateway is deleted: its Elastic IPs are disassociated and its
    network interface goes away, so the address can be released or given to a new gateway.
    An unknown id is NatGatewayNotFound. Timed (--aws-timings), the gateway is `deleting`
    for a while first and keeps its address and interface until it is `deleted`."""
    backend = ec2_backend(call)
    gateway_id = call.params.get("NatGatewayId", "")
    gateway = backend.nat_gateways.get(gateway_id)
    if gateway is None:
        raise Ec2Error("NatGatewayNotFound", f"The Nat Gateway {gateway_id} was not found")
    if transitions.timed and gateway.state != "deleted":
        dry_run_check(call)
        if gateway.state != "deleting":
            gateway.state = "deleting"

            def finish() -> None:
                gateway.state = "deleted"
                release_nat_gateway(backend, gateway)

            key = ("ec2", call.account, call.region, "nat-gateway", gateway_id)
            transitions.begin(key, "nat-gateway:delete", "deleting", faults, finish)
        return ec2_reply("DeleteNatGateway", f"<natGatewayId>{escape(gateway_id)}</natGatewayId>")
    reply = forward()
    if reply.status != 200:
        return reply
    release_nat_gateway(backend, gateway)
    return reply


def release_nat_gateway(backend: Any, gateway: Any) -> None:
    """A deleted gateway's Elastic IPs are disassociated and its interface is gone."""
    for address in gateway.address_set:
        association = address.get("associationId")
        if association:
            try:
                backend.disassociate_address(association_id=association)
            except Exception:  # already disassociated (a repeated delete)
                pass
    backend.enis.pop(gateway._eni.id, None)


NAT_GATEWAY_ID = re.compile(rb"<natGatewayId>(nat-[0-9a-f]+)</natGatewayId>")

# EC2 instance transitions under --aws-timings: action -> (transition, state meanwhile
# (name, code), final state (name, code)), per the EC2 instance lifecycle.
INSTANCE_TRANSITIONS = {
    "RunInstances": ("ec2-instance:run", ("pending", 0), ("running", 16)),
    "StartInstances": ("ec2-instance:start", ("pending", 0), ("running", 16)),
    "StopInstances": ("ec2-instance:stop", ("stopping", 64), ("stopped", 80)),
    "TerminateInstances": ("ec2-instance:terminate", ("shutting-down", 32), ("terminated", 48)),
}


# --------------------------------------------------------------------------
# EC2 dispatch


class Ec2Fakes:
    def __init__(self, moto: Callable[[Call], Reply], transitions: Transitions) -> None:
        self.moto = moto  # runs a request through moto
        self.transitions = transitions
        self.placement_groups = PlacementGroups()
        self.idempotency = Idempotency()

    def handle(self, call: Call, faults: Faults, forward: Callable[[], Reply]) -> Reply | None:
        """A reply for the actions the launcher owns or alters; None passes the call to moto."""
        teach_moto_placement_groups()
        self.transitions.settle("ec2")
        pgs = self.placement_groups
        owned = {
            "CreatePlacementGroup": pgs.create,
            "DescribePlacementGroups": pgs.describe,
            "DeletePlacementGroup": pgs.delete,
            "DescribeAvailabilityZones": describe_availability_zones,
        }
        try:
            if call.action in owned:
                return owned[call.action](call)
            if call.action == "RunInstances":
                return self.idempotency.run(call, lambda: self.run_instances(call, faults, forward))
            if call.action in ("CreateLaunchTemplate", "CreateLaunchTemplateVersion"):
                return self.idempotency.run(call, forward)
            if call.action == "CreateNatGateway":
                return self.idempotency.run(call, lambda: self.create_nat_gateway(call, faults, forward))
            if call.action == "DeleteNatGateway":
                return delete_nat_gateway(call, forward, self.transitions, faults)
            if call.action in ("StartInstances", "StopInstances", "TerminateInstances") and self.transitions.timed:
                return self.change_instances(call, faults, forward)
            if call.action == "DescribeInstances":
                reply = describe_instances_by_client_token(call, self.moto)
                if self.transitions.timed:
                    reply = reply or forward()
                    self.observe(call, "instance", indexed(call.params, "InstanceId"))
                return reply
            if call.action == "DescribeNatGateways" and self.transitions.timed:
                reply = forward()
                self.observe(call, "nat-gateway", indexed(call.params, "NatGatewayId"))
                return reply
            if call.action in ("CreateTags", "DeleteTags"):
                pgs.check_tag_targets(call)
        except Ec2Error as err:
            return ec2_error_reply(err.status, err.code, err.message)
        return None

    def observe(self, call: Call, kind: str, ids: list[str]) -> None:
        self.transitions.observe("ec2", call.account, call.region, kind, ids)

    def run_instances(self, call: Call, faults: Faults, forward: Callable[[], Reply]) -> Reply:
        backend = ec2_backend(call)
        launch = resolve_launch(call, backend, self.placement_groups)
        check_capacity(faults, launch, backend)
        reply = forward()
        if reply.status == 200 and launch.placement_group:
            reply = join_placement_group(reply, backend, launch.placement_group)
        if reply.status == 200 and self.transitions.timed:
            # moto's answer already says pending (as EC2's does); moto's instance does not.
            ids = [m.decode() for m in INSTANCE_ID.findall(reply.body)]
            self.hold_instances(call, faults, backend, ids, INSTANCE_TRANSITIONS["RunInstances"])
        return reply

    def change_instances(self, call: Call, faults: Faults, forward: Callable[[], Reply]) -> Reply:
        """Start, stop, terminate under --aws-timings: moto changes the state at once (its
        answer already names the transitional state); the instance then shows that state
        for its time. One already in the final state stays there."""
        backend = ec2_backend(call)
        transition = INSTANCE_TRANSITIONS[call.action or ""]
        ids = indexed(call.params, "InstanceId")
        before = {}
        for instance_id in ids:
            try:
                before[instance_id] = backend.get_instance(instance_id)._state.name
            except Exception:
                pass  # moto answers the unknown id
        reply = forward()
        if reply.status == 200:
            moving = [i for i in ids if before.get(i) not in (None, transition[2][0])]
            self.hold_instances(call, faults, backend, moving, transition)
        return reply

    def hold_instances(self, call: Call, faults: Faults, backend: Any, ids: list[str], transition: tuple) -> None:
        name, (state, code), (final, final_code) = transition
        for instance_id in ids:
            instance = backend.get_instance(instance_id)
            instance._state.name, instance._state.code = state, code

            def finish(instance: Any = instance) -> None:
                instance._state.name, instance._state.code = final, final_code

            key = ("ec2", call.account, call.region, "instance", instance_id)
            self.transitions.begin(key, name, state, faults, finish)

    def create_nat_gateway(self, call: Call, faults: Faults, forward: Callable[[], Reply]) -> Reply:
        reply = forward()
        if reply.status != 200 or not self.transitions.timed:
            return reply
        match = NAT_GATEWAY_ID.search(reply.body)
        gateway = ec2_backend(call).nat_gateways.get(match.group(1).decode()) if match else None
        if gateway is None:
            return reply
        gateway.state = "pending"
        key = ("ec2", call.account, call.region, "nat-gateway", gateway.id)
        self.transitions.begin(key, "nat-gateway:create", "pending", faults,
                               lambda: setattr(gateway, "state", "available"))
        reply.body = reply.body.replace(b"<state>available</state>", b"<state>pending</state>", 1)
        return reply


# --------------------------------------------------------------------------
# Service Quotas for EC2 (moto serves only the `vpc` service)

EC2_SERVICE_NAME = "Amazon Elastic Compute Cloud (Amazon EC2)"

# Quota code -> (QuotaName, usage metric class), as AWS names them.
EC2_QUOTAS = {
    "L-1216C47A": ("Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", "Standard/OnDemand"),
    "L-417A185B": ("Running On-Demand P instances", "P/OnDemand"),
    "L-DB2E81BA": ("Running On-Demand G and VT instances", "G/OnDemand"),
    "L-2E2D4B0E": ("Running On-Demand Trn instances", "Trn/OnDemand"),
    "L-1945791B": ("Running On-Demand Inf instances", "Inf/OnDemand"),
    "L-7212CCBC": ("All P Spot Instance Requests", "P/Spot"),
    "L-3819A6DF": ("All G and VT Spot Instance Requests", "G/Spot"),
}


def ec2_quota(call: Call, code: str, value: float, default: bool) -> dict:
    name, usage_class = EC2_QUOTAS.get(code, (code, None))
    # The default-quota ARN carries no account id, the applied one does.
    account = "" if default else call.account
    quota = {
        "ServiceCode": "ec2",
        "ServiceName": EC2_SERVICE_NAME,
        "QuotaArn": f"arn:{partition_of(call.region)}:servicequotas:{call.region}:{account}:ec2/{code}",
        "QuotaCode": code,
        "QuotaName": name,
        "Value": value,
        "Unit": "None",
        "Adjustable": True,
        "GlobalQuota": False,
    }
    if usage_class:
        quota["UsageMetric"] = {
            "MetricNamespace": "AWS/Usage",
            "MetricName": "ResourceCount",
            "MetricDimensions": {"Class": usage_class, "Resource": "vCPU", "Service": "EC2", "Type": "Resource"},
            "MetricStatisticRecommendation": "Maximum",
        }
    if not default:
        quota["QuotaAppliedAtLevel"] = "ACCOUNT"
    return quota


def no_such_quota(code: str) -> Reply:
    return json_error_reply(400, "NoSuchResourceException",
                            f"The request failed because the specified quota ({code}) does not exist.")


def page(items: list, body: dict) -> dict:
    """Offset pagination with an opaque base64 NextToken, MaxResults 1..100."""
    try:
        start = int(base64.b64decode(body.get("NextToken") or "MA==").decode())
    except ValueError:
        start = 0
    size = max(1, min(int(body.get("MaxResults") or 100), 100))
    result: dict[str, Any] = {"Quotas": items[start:start + size]}
    if start + size < len(items):
        result["NextToken"] = base64.b64encode(str(start + size).encode()).decode()
    return result


def service_quotas(call: Call, faults: Faults) -> Reply | None:
    body = call.body_json
    if body.get("ServiceCode") != "ec2":
        return None
    default = call.action in ("GetAWSDefaultServiceQuota", "ListAWSDefaultServiceQuotas")
    # Default-only codes have no applied value: only the default operations know them.
    quotas = {**faults.ec2_default_quotas, **faults.ec2_quotas} if default else faults.ec2_quotas
    if call.action in ("GetServiceQuota", "GetAWSDefaultServiceQuota"):
        code = body.get("QuotaCode", "")
        if code not in quotas:
            return no_such_quota(code)
        return json_reply(200, {"Quota": ec2_quota(call, code, quotas[code], default)})
    if call.action in ("ListServiceQuotas", "ListAWSDefaultServiceQuotas"):
        codes = sorted(c for c in quotas if body.get("QuotaCode") in (None, c))
        return json_reply(200, page([ec2_quota(call, c, quotas[c], default) for c in codes], body))
    return None


# --------------------------------------------------------------------------
# FSx for Lustre (moto 5.2.5 stores CreateFileSystem's request and little else)

FSX_TARGET = "AWSSimbaAPIService_v20180301"
FSX_REPOSITORY_KEYS = ("ImportPath", "ExportPath", "ImportedFileChunkSize", "AutoImportPolicy")
FSX_UPDATABLE_LUSTRE_KEYS = (
    "WeeklyMaintenanceStartTime", "DailyAutomaticBackupStartTime", "AutomaticBackupRetentionDays",
    "DataCompressionType", "LogConfiguration", "RootSquashConfiguration", "PerUnitStorageThroughput",
    "MetadataConfiguration",
)


def fsx_backend(call: Call) -> Any:
    from moto.fsx.models import fsx_backends

    return fsx_backends[call.account][call.region]


def fsx_error(code: str, message: str) -> Reply:
    return json_error_reply(400, code, message)


def lustre_response_shape(request: dict, created: float) -> dict:
    """A CreateFileSystemLustreConfiguration turned into the LustreFileSystemConfiguration
    that DescribeFileSystems returns (S3 settings move under DataRepositoryConfiguration)."""
    config = {k: v for k, v in request.items() if k not in FSX_REPOSITORY_KEYS}
    deployment = config.setdefault("DeploymentType", "SCRATCH_1")
    config.setdefault("WeeklyMaintenanceStartTime", "1:05:00")
    config.setdefault("DataCompressionType", "NONE")
    config.setdefault("LogConfiguration", {"Level": "DISABLED"})
    # SCRATCH_1 always mounts as "fsx"; the others get a name unique in the region.
    config["MountName"] = "fsx" if deployment == "SCRATCH_1" else uuid.uuid4().hex[:8]
    if request.get("ImportPath"):
        bucket = "/".join(request["ImportPath"].split("/")[:3])
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(created))
        config["DataRepositoryConfiguration"] = {
            "Lifecycle": "AVAILABLE",
            "ImportPath": request["ImportPath"],
            "ExportPath": request.get("ExportPath") or f"{bucket}/FSxLustre{stamp}",
            "ImportedFileChunkSize": request.get("ImportedFileChunkSize", 1024),
            "AutoImportPolicy": request.get("AutoImportPolicy", "NONE"),
        }
    return config


class FsxFakes:
    """Per the Amazon FSx API Reference: DescribeFileSystems gets Lifecycle (CREATING or
    UPDATING once after a change, then AVAILABLE), OwnerId, CreationTime, VpcId,
    NetworkInterfaceIds (real ENIs in moto's EC2, deleted with the file system),
    FileSystemTypeVersion, AdministrativeActions and the response shape of
    LustreConfiguration (MountName, DataRepositoryConfiguration); an unknown id is
    FileSystemNotFound. CreateFileSystem checks the subnet and security groups and is
    idempotent per ClientRequestToken. UpdateFileSystem (missing in moto) is implemented for
    Lustre; data repository associations (missing too) by FsxAssociations. Under
    --aws-timings, CREATING and UPDATING last their time, and a deleted file system is
    DELETING (with its network interfaces) for a while before it is gone."""

    def __init__(self, transitions: Transitions) -> None:
        self.transitions = transitions
        self.lock = threading.Lock()
        self.extras: dict[tuple, dict] = {}  # (account, region, id) -> what moto lacks
        self.tokens: dict[tuple, tuple[str, str]] = {}  # (account, region, token) -> (request, id)
        self.associations = FsxAssociations(self)

    def handle(self, call: Call, faults: Faults, forward: Callable[[], Reply]) -> Reply | None:
        with self.lock:
            self.transitions.settle("fsx")
        handler = {
            "CreateFileSystem": self.create,
            "DescribeFileSystems": self.describe,
            "UpdateFileSystem": self.update,
            "DeleteFileSystem": self.delete,
            "CreateDataRepositoryAssociation": self.associations.create,
            "DescribeDataRepositoryAssociations": self.associations.describe,
            "UpdateDataRepositoryAssociation": self.associations.update,
            "DeleteDataRepositoryAssociation": self.associations.delete,
        }.get(call.action or "")
        if handler is None:
            return None
        with self.lock:
            if handler.__self__ is self:
                return handler(call, faults, forward)
            return handler(call, forward)

    def key(self, call: Call, fs_id: str) -> tuple:
        return (call.account, call.region, fs_id)

    @staticmethod
    def hold_key(call: Call, fs_id: str) -> tuple:
        return ("fsx", call.account, call.region, "file-system", fs_id)

    def pending(self, call: Call, fs_id: str) -> str | None:
        """CREATING, UPDATING or DELETING while the file system is in that state."""
        return self.transitions.state(self.hold_key(call, fs_id))

    def render(self, call: Call, fs: Any, consume: bool) -> dict:
        doc = fs.to_dict()
        doc.pop("SecurityGroupIds", None)  # not part of the FileSystem shape
        extra = self.extras.get(self.key(call, fs.file_system_id))
        if extra is None:
            return doc
        key = self.hold_key(call, fs.file_system_id)
        # A transition is seen by one describe at scale 0; timed, until its time is up.
        pending = self.transitions.shown(key) if consume else self.transitions.state(key)
        if pending != "UPDATING":
            for action in extra["actions"]:
                if action["Status"] == "IN_PROGRESS":
                    action["Status"] = "COMPLETED"
        doc.update(
            OwnerId=call.account,
            CreationTime=extra["created"],
            Lifecycle=pending or "AVAILABLE",
            VpcId=extra["vpc_id"],
            NetworkInterfaceIds=extra["enis"],
            FileSystemTypeVersion=extra["version"],
        )
        if extra["actions"]:
            doc["AdministrativeActions"] = [dict(a) for a in extra["actions"]]
        return doc

    def begin(self, call: Call, faults: Faults, fs_id: str, operation: str, state: str,
              finish: Callable[[], None] | None = None) -> None:
        key = self.hold_key(call, fs_id)
        if self.transitions.timed:
            self.transitions.begin(key, f"fsx-lustre:{operation}", state, faults, finish)
        else:
            self.transitions.begin_once(key, f"fsx-lustre:{operation}", state)

    def create(self, call: Call, faults: Faults, forward: Callable[[], Reply]) -> Reply | None:
        body = call.body_json
        if body.get("FileSystemType") != "LUSTRE":
            return None
        token = body.get("ClientRequestToken")
        request = json.dumps({k: v for k, v in body.items() if k != "ClientRequestToken"}, sort_keys=True)
        token_key = (call.account, call.region, token)
        if token and token_key in self.tokens:
            first_request, fs_id = self.tokens[token_key]
            fs = fsx_backend(call).file_systems.get(fs_id)
            if fs is not None:
                if first_request != request:
                    return fsx_error("IncompatibleParameterError",
                                     f"The client request token {token} was already used with other parameters.")
                return json_reply(200, {"FileSystem": self.render(call, fs, consume=False)})
        ec2 = ec2_backend(call)
        subnet_ids = body.get("SubnetIds") or []
        subnets = []
        for subnet_id in subnet_ids:
            try:
                subnets.append(ec2.get_subnet(subnet_id))
            except Exception:
                return fsx_error("InvalidNetworkSettings", f"The subnet ID '{subnet_id}' does not exist")
        if not subnets:
            return fsx_error("BadRequest", "SubnetIds must name one subnet")
        groups = body.get("SecurityGroupIds") or []
        for group_id in groups:
            if ec2.get_security_group_from_id(group_id) is None:
                return fsx_error("InvalidNetworkSettings", f"The security group '{group_id}' does not exist")
        reply = forward()
        if reply.status != 200:
            return reply
        fs_id = json.loads(reply.body)["FileSystem"]["FileSystemId"]
        fs = fsx_backend(call).file_systems[fs_id]
        created = time.time()
        fs.lustre_configuration = lustre_response_shape(body.get("LustreConfiguration") or {}, created)
        deployment = fs.lustre_configuration["DeploymentType"]
        description = f"ENI for Amazon FSx file system {fs_id}"
        enis = [
            ec2.create_network_interface(subnets[0], None, group_ids=groups or None, description=description).id
            for _ in range(2)
        ]
        self.extras[self.key(call, fs_id)] = {
            "created": created,
            "vpc_id": subnets[0].vpc_id,
            "enis": enis,
            "version": body.get("FileSystemTypeVersion") or ("2.12" if deployment == "PERSISTENT_2" else "2.10"),
            "actions": [],
        }
        self.begin(call, faults, fs_id, "create", "CREATING")
        if token:
            self.tokens[token_key] = (request, fs_id)
        return json_reply(200, {"FileSystem": self.render(call, fs, consume=False)})

    def describe(self, call: Call, faults: Faults, forward: Callable[[], Reply]) -> Reply:
        file_systems = fsx_backend(call).file_systems
        wanted = call.body_json.get("FileSystemIds") or []
        for fs_id in wanted:
            if fs_id not in file_systems:
                return fsx_error("FileSystemNotFound", f"File system '{fs_id}' does not exist.")
        reply = forward()
        if reply.status != 200:
            return reply
        doc = json.loads(reply.body)
        doc["FileSystems"] = [
            self.render(call, file_systems[f["FileSystemId"]], consume=True)
            for f in doc.get("FileSystems", []) if f["FileSystemId"] in file_systems
        ]
        if not doc.get("NextToken"):
            doc.pop("NextToken", None)
        return json_reply(200, doc)

    def update(self, call: Call, faults: Faults, forward: Callable[[], Reply]) -> Reply:
        body = call.body_json
        fs_id = body.get("FileSystemId", "")
        fs = fsx_backend(call).file_systems.get(fs_id)
        if fs is None:
            return fsx_error("FileSystemNotFound", f"File system '{fs_id}' does not exist.")
        extra = self.extras.get(self.key(call, fs_id))
        if fs.file_system_type != "LUSTRE" or extra is None:
            return fsx_error("BadRequest", "the moto launcher implements UpdateFileSystem for Lustre file systems it created")
        pending = self.pending(call, fs_id)
        if pending:
            return fsx_error("BadRequest", f"File system {fs_id} is {pending}; wait until it is AVAILABLE")
        lustre = body.get("LustreConfiguration") or {}
        capacity = body.get("StorageCapacity")
        config = fs.lustre_configuration
        deployment = config["DeploymentType"]
        if capacity is None and not lustre:
            return fsx_error("BadRequest", "Specify at least one setting to update")
        if capacity is not None:
            if deployment == "SCRATCH_1":
                return fsx_error("BadRequest", "Storage capacity increases are not supported on SCRATCH_1 file systems")
            if capacity <= fs.storage_capacity:
                return fsx_error("BadRequest", "The new storage capacity must be greater than the current storage capacity")
        if "PerUnitStorageThroughput" in lustre and not deployment.startswith("PERSISTENT"):
            return fsx_error("BadRequest", f"PerUnitStorageThroughput is not supported on {deployment} file systems")
        if "AutoImportPolicy" in lustre and "DataRepositoryConfiguration" not in config:
            return fsx_error("BadRequest", "AutoImportPolicy needs a file system linked to S3 (ImportPath)")
        target: dict[str, Any] = {}
        if capacity is not None:
            fs.storage_capacity = target["StorageCapacity"] = capacity
        for name in FSX_UPDATABLE_LUSTRE_KEYS:
            if name in lustre:
                config[name] = lustre[name]
        if "AutoImportPolicy" in lustre:
            config["DataRepositoryConfiguration"]["AutoImportPolicy"] = lustre["AutoImportPolicy"]
        if lustre:
            target["LustreConfiguration"] = lustre
        extra["actions"].append({
            "AdministrativeActionType": "FILE_SYSTEM_UPDATE",
            "RequestTime": time.time(),
            "Status": "IN_PROGRESS",
            "TargetFileSystemValues": target,
        })
        self.begin(call, faults, fs_id, "update", "UPDATING")
        return json_reply(200, {"FileSystem": self.render(call, fs, consume=False)})

    def delete(self, call: Call, faults: Faults, forward: Callable[[], Reply]) -> Reply:
        fs_id = call.body_json.get("FileSystemId", "")
        timed = self.transitions.timed and self.key(call, fs_id) in self.extras
        if not timed:
            self.transitions.cancel(self.hold_key(call, fs_id))
            reply = forward()
            if reply.status == 200:
                self.forget(call, fs_id)
            return reply
        # Timed: DELETING for a while (network interfaces still there), then gone.
        if self.pending(call, fs_id) != "DELETING":
            def finish() -> None:
                fsx_backend(call).delete_file_system(fs_id, "", None, None, None)
                self.forget(call, fs_id)

            self.begin(call, faults, fs_id, "delete", "DELETING", finish)
        return json_reply(200, {"FileSystemId": fs_id, "Lifecycle": "DELETING"})

    def forget(self, call: Call, fs_id: str) -> None:
        """A deleted file system takes its associations and network interfaces with it."""
        extra = self.extras.pop(self.key(call, fs_id), None)
        self.associations.forget_file_system(call, fs_id)
        if extra is not None:
            ec2 = ec2_backend(call)
            for eni in extra["enis"]:
                ec2.enis.pop(eni, None)


# --------------------------------------------------------------------------
# FSx data repository associations (moto 5.2.5 implements none of the four actions)

DRA_EVENTS = ("NEW", "CHANGED", "DELETED")
DRA_LIMIT = 8  # associations per file system
DRA_FILTERS = ("file-system-id", "data-repository-type", "file-cache-id")
S3_PATH = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/.*)?$")


def dra_not_found(association_id: str) -> Reply:
    return fsx_error("DataRepositoryAssociationNotFound",
                     f"Data repository association '{association_id}' does not exist.")


def dra_path_key(path: str) -> str:
    """A file system or S3 path without its trailing slash, for overlap checks."""
    return path.rstrip("/") or "/"


def dra_overlap(a: str, b: str) -> bool:
    """True when one path is the other or lies inside it (`/` holds every path)."""
    a, b = dra_path_key(a), dra_path_key(b)
    return a == b or "/" in (a, b) or a.startswith(b + "/") or b.startswith(a + "/")


def dra_s3_problem(s3: Any) -> str | None:
    """What is wrong with an S3DataRepositoryConfiguration, or None."""
    if not isinstance(s3, dict):
        return "S3 must be an object"
    for name in ("AutoImportPolicy", "AutoExportPolicy"):
        policy = s3.get(name)
        if policy is None:
            continue
        events = policy.get("Events", []) if isinstance(policy, dict) else None
        if not isinstance(events, list) or len(events) > 3 or len(set(events)) != len(events):
            return f"{name}.Events must list up to three distinct events"
        unknown = [e for e in events if e not in DRA_EVENTS]
        if unknown:
            return f"{name}.Events: unknown event {unknown[0]!r} (NEW, CHANGED or DELETED)"
    return None


def dra_chunk_problem(body: dict) -> str | None:
    chunk = body.get("ImportedFileChunkSize")
    if chunk is not None and (not isinstance(chunk, int) or not 1 <= chunk <= 512000):
        return "ImportedFileChunkSize must be from 1 to 512000 (MiB)"
    return None


class FsxAssociations:
    """Per the Amazon FSx API Reference: CreateDataRepositoryAssociation,
    DescribeDataRepositoryAssociations, UpdateDataRepositoryAssociation and
    DeleteDataRepositoryAssociation, on Lustre file systems the launcher created. Lifecycle
    CREATING (create response and the first describe), UPDATING (likewise after an update),
    DELETING (delete response and the first describe, after which the association is gone),
    else AVAILABLE. Tags live in moto's FSx tag store under the association's ARN, so
    TagResource / UntagResource / ListTagsForResource (moto's) work on it."""

    def __init__(self, fsx: "FsxFakes") -> None:
        self.fsx = fsx
        # (account, region) -> association id -> the association, in creation order
        self.scopes: dict[tuple, dict[str, dict]] = {}
        self.tokens: dict[tuple, tuple[str, str]] = {}  # (account, region, token) -> (request, id)

    def scope(self, call: Call) -> dict[str, dict]:
        return self.scopes.setdefault((call.account, call.region), {})

    def render(self, call: Call, dra: dict, consume: bool) -> dict:
        doc = {
            "AssociationId": dra["id"],
            "ResourceARN": dra["arn"],
            "FileSystemId": dra["fs_id"],
            "Lifecycle": dra["pending"] or "AVAILABLE",
            "FileSystemPath": dra["fs_path"],
            "DataRepositoryPath": dra["repo_path"],
            "BatchImportMetaDataOnCreate": dra["batch"],
            "ImportedFileChunkSize": dra["chunk"],
            "Tags": fsx_backend(call).list_tags_for_resource(dra["arn"]),
            "CreationTime": dra["created"],
        }
        if dra["s3"] is not None:
            doc["S3"] = json.loads(json.dumps(dra["s3"]))
        if consume:
            if dra["pending"] == "DELETING":
                self.forget(call, dra)
            else:
                dra["pending"] = None
        return doc

    def forget(self, call: Call, dra: dict) -> None:
        self.scope(call).pop(dra["id"], None)
        backend = fsx_backend(call)
        backend.untag_resource(dra["arn"], [t["Key"] for t in backend.list_tags_for_resource(dra["arn"])])

    def forget_file_system(self, call: Call, fs_id: str) -> None:
        """A deleted file system takes its associations with it."""
        for dra in [d for d in self.scope(call).values() if d["fs_id"] == fs_id]:
            self.forget(call, dra)

    def create(self, call: Call, forward: Callable[[], Reply]) -> Reply:
        body = call.body_json
        token = body.get("ClientRequestToken")
        request = json.dumps({k: v for k, v in body.items() if k != "ClientRequestToken"}, sort_keys=True)
        token_key = (call.account, call.region, token)
        if token and token_key in self.tokens:
            first_request, dra_id = self.tokens[token_key]
            dra = self.scope(call).get(dra_id)
            if dra is not None:
                if first_request != request:
                    return fsx_error("IncompatibleParameterError",
                                     f"The client request token {token} was already used with other parameters.")
                return json_reply(200, {"Association": self.render(call, dra, consume=False)})
        problem = self.create_problem(call, body)
        if problem is not None:
            return problem
        fs_id = body["FileSystemId"]
        dra_id = "dra-" + uuid.uuid4().hex[:17]
        dra = {
            "id": dra_id,
            "arn": f"arn:{partition_of(call.region)}:fsx:{call.region}:{call.account}:association/{fs_id}/{dra_id}",
            "fs_id": fs_id,
            "fs_path": body["FileSystemPath"],
            "repo_path": body["DataRepositoryPath"],
            "batch": bool(body.get("BatchImportMetaDataOnCreate", False)),
            "chunk": body.get("ImportedFileChunkSize", 1024),
            "s3": body.get("S3"),
            "created": time.time(),
            "pending": "CREATING",
        }
        tags = body.get("Tags") or []
        if tags:
            fsx_backend(call).tag_resource(dra["arn"], {t["Key"]: t.get("Value", "") for t in tags})
        self.scope(call)[dra_id] = dra
        if token:
            self.tokens[token_key] = (request, dra_id)
        return json_reply(200, {"Association": self.render(call, dra, consume=False)})

    def create_problem(self, call: Call, body: dict) -> Reply | None:
        fs_id = body.get("FileSystemId", "")
        fs_path = body.get("FileSystemPath")
        repo_path = body.get("DataRepositoryPath")
        if not fs_id or not fs_path or not repo_path:
            return fsx_error("BadRequest", "FileSystemId, FileSystemPath and DataRepositoryPath are required")
        fs = fsx_backend(call).file_systems.get(fs_id)
        if fs is None:
            return fsx_error("FileSystemNotFound", f"File system '{fs_id}' does not exist.")
        extra = self.fsx.extras.get(self.fsx.key(call, fs_id))
        config = fs.lustre_configuration or {}
        deployment = config.get("DeploymentType")
        # Current FSx: no associations on SCRATCH_1, on Lustre 2.10 (the fake's version for
        # everything but PERSISTENT_2 unless one is asked for) or next to an ImportPath link.
        if (fs.file_system_type != "LUSTRE" or extra is None or deployment == "SCRATCH_1"
                or extra["version"] == "2.10" or "DataRepositoryConfiguration" in config):
            return fsx_error("BadRequest",
                             f"Data repository associations are not supported on file system {fs_id} "
                             f"({deployment}, Lustre {extra['version'] if extra else '?'}); use PERSISTENT_2")
        pending = self.fsx.pending(call, fs_id)
        if pending:
            return fsx_error("BadRequest", f"File system {fs_id} is {pending}; wait until it is AVAILABLE")
        if not fs_path.startswith("/"):
            return fsx_error("BadRequest", "FileSystemPath must begin with /")
        match = S3_PATH.match(repo_path)
        if match is None:
            return fsx_error("BadRequest", "DataRepositoryPath must be s3://BUCKET or s3://BUCKET/PREFIX")
        if not self.bucket_exists(call, match.group(1)):
            return fsx_error("BadRequest", f"The S3 bucket {match.group(1)} does not exist or is not accessible")
        problem = dra_chunk_problem(body) or (dra_s3_problem(body["S3"]) if "S3" in body else None)
        if problem:
            return fsx_error("BadRequest", problem)
        siblings = [d for d in self.scope(call).values() if d["fs_id"] == fs_id and d["pending"] != "DELETING"]
        for other in siblings:
            if dra_overlap(other["fs_path"], fs_path):
                return fsx_error("BadRequest", f"FileSystemPath {fs_path} overlaps {other['fs_path']} "
                                               f"of association {other['id']}")
            if dra_overlap(other["repo_path"][len("s3:/"):], repo_path[len("s3:/"):]):
                return fsx_error("BadRequest", f"DataRepositoryPath {repo_path} overlaps {other['repo_path']} "
                                               f"of association {other['id']}")
        if len(siblings) >= DRA_LIMIT:
            return fsx_error("ServiceLimitExceeded",
                             f"File system {fs_id} already has {DRA_LIMIT} data repository associations")
        return None

    @staticmethod
    def bucket_exists(call: Call, bucket: str) -> bool:
        from moto.s3.models import s3_backends

        return bucket in s3_backends[call.account][partition_of(call.region)].buckets

    def describe(self, call: Call, forward: Callable[[], Reply]) -> Reply:
        body = call.body_json
        scope = self.scope(call)
        wanted = body.get("AssociationIds") or []
        for dra_id in wanted:
            if dra_id not in scope:
                return dra_not_found(dra_id)
        found = [scope[i] for i in wanted] if wanted else list(scope.values())
        for entry in body.get("Filters") or []:
            name, values = entry.get("Name"), entry.get("Values") or []
            if name not in DRA_FILTERS:
                return fsx_error("BadRequest", f"Filter name {name!r} is not supported here ({', '.join(DRA_FILTERS)})")
            if name == "data-repository-type" and set(values) - {"S3", "NFS"}:
                return fsx_error("InvalidDataRepositoryType", f"Data repository type {values} is not supported")
            if name == "file-system-id":
                found = [d for d in found if d["fs_id"] in values]
            elif name == "data-repository-type":
                found = [d for d in found if "S3" in values]
            else:
                found = []  # no File Cache here
        start = 0
        if body.get("NextToken"):
            try:
                start = int(body["NextToken"])
            except ValueError:
                return fsx_error("BadRequest", "Invalid NextToken")
        limit = body.get("MaxResults") or 25
        doc: dict[str, Any] = {
            "Associations": [self.render(call, d, consume=True) for d in found[start:start + limit]],
        }
        if start + limit < len(found):
            doc["NextToken"] = str(start + limit)
        return json_reply(200, doc)

    def update(self, call: Call, forward: Callable[[], Reply]) -> Reply:
        body = call.body_json
        dra_id = body.get("AssociationId", "")
        dra = self.scope(call).get(dra_id)
        if dra is None:
            return dra_not_found(dra_id)
        if dra["pending"]:
            return fsx_error("BadRequest", f"Data repository association {dra_id} is {dra['pending']}; "
                                           "wait until it is AVAILABLE")
        if "ImportedFileChunkSize" not in body and "S3" not in body:
            return fsx_error("BadRequest", "Specify ImportedFileChunkSize or S3 to update")
        problem = dra_chunk_problem(body) or (dra_s3_problem(body["S3"]) if "S3" in body else None)
        if problem:
            return fsx_error("BadRequest", problem)
        if "ImportedFileChunkSize" in body:
            dra["chunk"] = body["ImportedFileChunkSize"]
        if "S3" in body:
            dra["s3"] = body["S3"]
        dra["pending"] = "UPDATING"
        return json_reply(200, {"Association": self.render(call, dra, consume=False)})

    def delete(self, call: Call, forward: Callable[[], Reply]) -> Reply:
        body = call.body_json
        dra_id = body.get("AssociationId", "")
        dra = self.scope(call).get(dra_id)
        if dra is None:
            return dra_not_found(dra_id)
        if dra["pending"] in ("CREATING", "UPDATING"):
            return fsx_error("BadRequest", f"Data repository association {dra_id} is {dra['pending']}; "
                                           "wait until it is AVAILABLE")
        dra["pending"] = "DELETING"
        return json_reply(200, {
            "AssociationId": dra_id,
            "Lifecycle": "DELETING",
            "DeleteDataInFileSystem": bool(body.get("DeleteDataInFileSystem", False)),
        })


# --------------------------------------------------------------------------
# SageMaker (moto 5.2.5: unknown domains are ValidationException, no UpdateNotebookInstance)

SAGEMAKER_TARGET = "SageMaker"


# --------------------------------------------------------------------------
# EKS (moto 5.2.5 gaps): lifecycle states, node group updates, failures after acceptance


def eks_backend(call: Call) -> Any:
    from moto.eks.models import eks_backends

    return eks_backends[call.account][call.region]


def eks_not_found(message: str) -> Reply:
    return json_error_reply(404, "ResourceNotFoundException", message)


class EksFakes:
    """Per the Amazon EKS API Reference, where moto 5.2.5 differs:

    * CreateCluster and CreateNodegroup answer with status CREATING, and the first
      DescribeCluster / DescribeNodegroup after shows CREATING too (moto: ACTIVE at once).
    * UpdateNodegroupConfig (moto applies it and answers an update that is already
      Successful, then forgets it) and UpdateNodegroupVersion (missing in moto: it sets the
      group's launch template version, Kubernetes version or release version) answer an
      update that is InProgress; the first DescribeNodegroup after shows the group UPDATING.
      DescribeUpdate (missing in moto) shows such an update InProgress the first time, then
      Successful, or Failed with the error of an `eks_failures` fault.
    * CreateNodegroup whose instance types have no capacity (the `capacity` faults, as for
      RunInstances) in any of its subnets' zones: the group is created (CREATING, as
      above), then shows CREATE_FAILED with EKS's `AsgInstanceLaunchFailures` health issue
      naming InsufficientInstanceCapacity, the type and the zone, as EKS does when its Auto
      Scaling group cannot launch a node; it can be deleted as any group.
    * DeleteNodegroup / DeleteCluster under an `eks_failures` fault do not delete: they
      answer DELETING, the first describe after shows DELETING, later ones DELETE_FAILED
      (a node group) or FAILED (a cluster, the status EKS has for it) with the fault's error
      as a health issue.

    Under --aws-timings the states above last their time instead of one describe (moto's
    object carries them too, so moto refuses a node group for a cluster still CREATING),
    and DeleteCluster / DeleteNodegroup leave the object DELETING for a while (listed,
    described, still blocking its cluster's deletion) before it is gone.
    """

    def __init__(self, moto: Callable[[Call], Reply], transitions: Transitions) -> None:
        self.moto = moto  # runs a request through moto
        self.transitions = transitions
        self.lock = threading.Lock()
        self.updates: dict[tuple, dict] = {}  # (account, region, cluster, update id) -> state
        self.delete_failures: dict[tuple, dict] = {}  # object key -> {"fault", "seen"}
        self.create_failures: dict[tuple, dict] = {}  # node group key -> its health issue

    def handle(self, call: Call, faults: Faults, forward: Callable[[], Reply]) -> Reply | None:
        route = eks_route(call.environ.get("REQUEST_METHOD", ""), call.environ.get("PATH_INFO", ""))
        if route is None:
            return None
        action, path = route
        handler = {
            "CreateCluster": self.create,
            "CreateNodegroup": self.create,
            "DescribeCluster": self.describe,
            "DescribeNodegroup": self.describe,
            "UpdateNodegroupConfig": self.update_config,
            "UpdateNodegroupVersion": self.update_version,
            "DescribeUpdate": self.describe_update,
            "DeleteNodegroup": self.delete,
            "DeleteCluster": self.delete,
        }.get(action)
        with self.lock:
            self.transitions.settle("eks")
            if handler is None:
                return None
            return handler(call, faults, path, forward)

    @staticmethod
    def key(call: Call, path: dict[str, str]) -> tuple:
        nodegroup = path.get("nodegroup")
        base = (call.account, call.region, path.get("cluster"))
        return base + (nodegroup,) if nodegroup else base

    @staticmethod
    def hold_key(call: Call, path: dict[str, str]) -> tuple:
        nodegroup = path.get("nodegroup")
        if nodegroup:
            return ("eks", call.account, call.region, "nodegroup", path.get("cluster", ""), nodegroup)
        return ("eks", call.account, call.region, "cluster", path.get("cluster", ""))

    @staticmethod
    def model(call: Call, path: dict[str, str]) -> Any:
        """moto's cluster or node group, or None."""
        cluster = eks_backend(call).clusters.get(path.get("cluster"))
        if cluster is None or not path.get("nodegroup"):
            return cluster
        return cluster.nodegroups.get(path["nodegroup"])

    def transition(self, call: Call, faults: Faults, path: dict, operation: str, state: str,
                   finish: Callable[[], None] | None = None) -> None:
        """The cluster or node group `path` names enters `state`: timed, moto's object shows
        it until `finish` (default: back to ACTIVE); at scale 0, the next describe shows it."""
        key = self.hold_key(call, path)
        name = f"eks-{key[3]}:{operation}"
        if not self.transitions.timed:
            self.transitions.begin_once(key, name, state)
            return
        obj = self.model(call, path)
        obj.status = state
        self.transitions.begin(key, name, state, faults, finish or (lambda: setattr(obj, "status", "ACTIVE")))

    def described(self, call: Call) -> Reply:
        """The object as moto describes it (the same path, GET): the answer of a delete."""
        environ = dict(call.environ, REQUEST_METHOD="GET", CONTENT_LENGTH="0")
        environ["wsgi.input"] = io.BytesIO(b"")
        return self.moto(dataclasses.replace(call, environ=environ))

    @staticmethod
    def field(action: str) -> str:
        return "nodegroup" if "Nodegroup" in action else "cluster"

    @staticmethod
    def decode(reply: Reply) -> dict:
        try:
            doc = json.loads(reply.body or b"{}")
        except ValueError:
            return {}
        return doc if isinstance(doc, dict) else {}

    def create(self, call: Call, faults: Faults, path: dict, forward: Callable[[], Reply]) -> Reply:
        reply = forward()
        doc = self.decode(reply)
        kind = self.field(call.action or "")
        if reply.status != 200 or kind not in doc:
            return reply
        if kind == "nodegroup":
            path = dict(path, nodegroup=doc[kind].get("nodegroupName", ""))
        else:
            path = dict(path, cluster=doc[kind].get("name", ""))
        # A new object of an old name starts afresh.
        self.delete_failures.pop(self.key(call, path), None)
        self.create_failures.pop(self.key(call, path), None)
        if kind == "nodegroup":
            issue = self.launch_failure(call, faults, doc[kind])
            if issue is not None:
                self.create_failures[self.key(call, path)] = issue
        self.transition(call, faults, path, "create", "CREATING")
        doc[kind]["status"] = "CREATING"
        return json_reply(200, doc)

    @staticmethod
    def launch_failure(call: Call, faults: Faults, group: dict) -> dict | None:
        """The health issue of a node group none of whose instance types has capacity in any
        of its subnets' zones, or None."""
        types = group.get("instanceTypes") or ["t3.medium"]
        backend = ec2_backend(call)
        zones = [zone_of_subnet(backend, s) for s in group.get("subnets") or []]
        if not zones or not all(
            any(capacity_blocks(e, t, z) for e in faults.capacity) for t in types for z in zones
        ):
            return None
        spot = group.get("capacityType") == "SPOT"
        message = (
            "Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot capacity "
            f"available that matches your request ({types[0]} in {zones[0]}). Launching EC2 instance failed."
            if spot else
            f"Could not launch On-Demand Instances. InsufficientInstanceCapacity - We currently do not have "
            f"sufficient {types[0]} capacity in the Availability Zone you requested ({zones[0]}). Our system "
            "will be working on provisioning additional capacity. Launching EC2 instance failed."
        )
        asg = f"eks-{group.get('nodegroupName', '')}-{uuid.uuid4()}"
        return {"code": "AsgInstanceLaunchFailures", "message": message, "resourceIds": [asg]}

    def describe(self, call: Call, faults: Faults, path: dict, forward: Callable[[], Reply]) -> Reply:
        reply = forward()
        doc = self.decode(reply)
        kind = self.field(call.action or "")
        if reply.status != 200 or kind not in doc:
            return reply
        failure = self.delete_failures.get(self.key(call, path))
        launch = self.create_failures.get(self.key(call, path))
        state = self.transitions.shown(self.hold_key(call, path))
        if failure is not None:
            doc[kind]["status"] = self.after_failed_delete(kind, failure, doc[kind])
        elif state:
            doc[kind]["status"] = state
        elif launch is not None:
            doc[kind]["status"] = "CREATE_FAILED"
            doc[kind]["health"] = {"issues": [launch]}
        return json_reply(200, doc)

    @staticmethod
    def after_failed_delete(kind: str, failure: dict, obj: dict) -> str:
        """DELETING for the first describe after the delete (timed: until the delete's time
        is up), then the failure."""
        if failure["ends"] is not None:
            if time.monotonic() < failure["ends"]:
                return "DELETING"
        elif not failure["seen"]:
            failure["seen"] = True
            return "DELETING"
        fault = failure["fault"]
        if kind == "nodegroup":
            code = fault.get("code", "Ec2SecurityGroupDeletionFailure")
            message = fault.get("message", "Could not delete the remote access security group")
        else:
            code = fault.get("code", "ClusterUnreachable")
            message = fault.get("message", "The cluster could not be deleted")
        obj["health"] = {"issues": [{"code": code, "message": message, "resourceIds": []}]}
        return "DELETE_FAILED" if kind == "nodegroup" else "FAILED"

    @staticmethod
    def failure(faults: Faults, operation: str, path: dict) -> dict | None:
        for entry in faults.eks_failures:
            if entry["operation"] != operation or entry["cluster"] != path.get("cluster"):
                continue
            if entry.get("nodegroup") not in (None, path.get("nodegroup")):
                continue
            return entry
        return None

    def record_update(self, call: Call, faults: Faults, path: dict, update: dict) -> Reply:
        update = dict(update, status="InProgress", errors=[])
        update["createdAt"] = time.time()
        key = (call.account, call.region, path["cluster"], update["id"])
        timed = self.transitions.timed
        self.updates[key] = {
            "update": update,
            "nodegroup": path.get("nodegroup"),
            "described": False,
            # Timed: InProgress until the group's UPDATING is over; else for one describe.
            "ends": time.monotonic() + self.transitions.seconds("eks-nodegroup:update", faults) if timed else None,
            "fault": self.failure(faults, call.action or "", path),
        }
        # An update of a group means its create is over (EKS refuses updates before).
        self.transition(call, faults, path, "update", "UPDATING")
        return json_reply(200, {"update": update})

    def update_config(self, call: Call, faults: Faults, path: dict, forward: Callable[[], Reply]) -> Reply:
        reply = forward()
        doc = self.decode(reply)
        if reply.status != 200 or "update" not in doc:
            return reply
        return self.record_update(call, faults, path, doc["update"])

    def update_version(self, call: Call, faults: Faults, path: dict, forward: Callable[[], Reply]) -> Reply:
        cluster = eks_backend(call).clusters.get(path["cluster"])
        if cluster is None:
            return eks_not_found(f"No cluster found for name: {path['cluster']}.")
        nodegroup = cluster.nodegroups.get(path["nodegroup"])
        if nodegroup is None:
            return eks_not_found(f"No node group found for name: {path['nodegroup']}.")
        body = call.body_json
        params = []
        template = body.get("launchTemplate")
        if template:
            if not nodegroup.launch_template:
                return json_error_reply(400, "InvalidParameterException",
                                        "The node group was not created with a launch template")
            nodegroup.launch_template = dict(nodegroup.launch_template, **template)
            params.append({"type": "LaunchTemplateVersion", "value": str(template.get("version", ""))})
        for name, param in (("version", "Version"), ("releaseVersion", "ReleaseVersion")):
            if body.get(name):
                setattr(nodegroup, "version" if name == "version" else "release_version", body[name])
                params.append({"type": param, "value": body[name]})
        if not params:
            return json_error_reply(400, "InvalidParameterException", "No changes needed for the node group")
        update = {"id": str(uuid.uuid4()), "type": "VersionUpdate", "params": params}
        return self.record_update(call, faults, path, update)

    def describe_update(self, call: Call, faults: Faults, path: dict, forward: Callable[[], Reply]) -> Reply:
        key = (call.account, call.region, path["cluster"], path["update"])
        state = self.updates.get(key)
        if state is None or state["nodegroup"] != call.params.get("nodegroupName"):
            return eks_not_found(f"No update found for ID: {path['update']}.")
        update = dict(state["update"])
        done = state["described"] if state["ends"] is None else time.monotonic() >= state["ends"]
        if done:
            fault = state["fault"]
            if fault is None:
                update["status"] = "Successful"
            else:
                update["status"] = "Failed"
                update["errors"] = [{
                    "errorCode": fault.get("code", "NodeCreationFailure"),
                    "errorMessage": fault.get("message", "Instances failed to join the kubernetes cluster"),
                    "resourceIds": [state["nodegroup"] or path["cluster"]],
                }]
            state["update"] = update
        state["described"] = True
        return json_reply(200, {"update": update})

    def delete(self, call: Call, faults: Faults, path: dict, forward: Callable[[], Reply]) -> Reply:
        self.create_failures.pop(self.key(call, path), None)
        fault = self.failure(faults, call.action or "", path)
        timed = self.transitions.timed
        if fault is None and not timed:
            self.delete_failures.pop(self.key(call, path), None)
            self.transitions.cancel(self.hold_key(call, path))
            return forward()
        obj = self.model(call, path)
        if obj is None or (fault is None and not path.get("nodegroup") and obj.nodegroup_count):
            return forward()  # moto's own answer: not found, or the cluster has node groups
        described = self.described(call)
        doc = self.decode(described)
        kind = self.field(call.action or "")
        if described.status != 200 or kind not in doc:
            return described
        doc[kind]["status"] = "DELETING"
        key = self.key(call, path)
        if fault is not None:
            self.transitions.cancel(self.hold_key(call, path))
            ends = time.monotonic() + self.transitions.seconds(f"eks-{kind}:delete", faults) if timed else None
            self.delete_failures[key] = {"fault": fault, "seen": False, "ends": ends}
            return json_reply(200, doc)
        # Timed: DELETING (listed, described, blocking its cluster) until its time is up.
        self.delete_failures.pop(key, None)
        if self.transitions.state(self.hold_key(call, path)) != "DELETING":
            backend = eks_backend(call)
            if path.get("nodegroup"):
                remove = lambda: backend.delete_nodegroup(path["cluster"], path["nodegroup"])  # noqa: E731
            else:
                remove = lambda: backend.delete_cluster(path["cluster"])  # noqa: E731
            self.transition(call, faults, path, "delete", "DELETING", remove)
        return json_reply(200, doc)


def sagemaker_backend(call: Call) -> Any:
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[call.account][call.region]


# SageMaker transitions under --aws-timings: action -> (transition, state meanwhile, final
# state; None: the object is deleted at the end).
SAGEMAKER_TRANSITIONS = {
    "CreateDomain": ("sagemaker-domain:create", "Pending", "InService"),
    "DeleteDomain": ("sagemaker-domain:delete", "Deleting", None),
    "CreateNotebookInstance": ("sagemaker-notebook:create", "Pending", "InService"),
    "StartNotebookInstance": ("sagemaker-notebook:start", "Pending", "InService"),
    "StopNotebookInstance": ("sagemaker-notebook:stop", "Stopping", "Stopped"),
    "UpdateNotebookInstance": ("sagemaker-notebook:update", "Updating", "Stopped"),
    "DeleteNotebookInstance": ("sagemaker-notebook:delete", "Deleting", None),
}


class SageMakerFakes:
    """DescribeDomain and DeleteDomain answer an unknown DomainId with ResourceNotFound (HTTP
    400), as the SageMaker API Reference lists, instead of moto's ValidationException.
    UpdateNotebookInstance is implemented on moto's notebook instances. Under
    --aws-timings, domains and notebook instances pass through their transitional
    statuses (SAGEMAKER_TRANSITIONS) for their time, deletions included; moto makes every
    change at once."""

    def __init__(self, transitions: Transitions) -> None:
        self.transitions = transitions
        self.lock = threading.Lock()

    def handle(self, call: Call, faults: Faults, forward: Callable[[], Reply]) -> Reply | None:
        with self.lock:
            self.transitions.settle("sagemaker")
            if call.action in ("DescribeDomain", "DeleteDomain"):
                domain_id = call.body_json.get("DomainId", "")
                if domain_id not in sagemaker_backend(call).domains:
                    return json_error_reply(400, "ResourceNotFound", f"Domain {domain_id} not found")
            if not self.transitions.timed:
                return self.update_notebook_instance(call) if call.action == "UpdateNotebookInstance" else None
            return self.timed(call, faults, forward)

    def timed(self, call: Call, faults: Faults, forward: Callable[[], Reply]) -> Reply | None:
        body = call.body_json
        backend = sagemaker_backend(call)
        if call.action in ("DescribeDomain", "DescribeNotebookInstance"):
            reply = forward()
            kind, name = self.object_of(call, body)
            self.transitions.observe("sagemaker", call.account, call.region, kind, [name])
            return reply
        if call.action == "DeleteDomain":
            domain = backend.domains[body["DomainId"]]
            if domain.status != "Deleting":
                self.hold(call, faults, domain, lambda: backend.domains.pop(domain.id, None))
            return json_reply(200, {})
        if call.action == "DeleteNotebookInstance":
            nb = backend.notebook_instances.get(body.get("NotebookInstanceName", ""))
            if nb is None or not nb.is_deletable:
                return forward()  # moto's own refusal
            self.hold(call, faults, nb, lambda: backend.notebook_instances.pop(nb.notebook_instance_name, None))
            return json_reply(200, {})
        if call.action not in SAGEMAKER_TRANSITIONS:
            return None
        reply = self.update_notebook_instance(call) if call.action == "UpdateNotebookInstance" else forward()
        if reply.status != 200:
            return reply
        if call.action == "CreateDomain":
            obj = backend.domains.get(json.loads(reply.body)["DomainArn"].split("/")[-1])
        else:
            obj = backend.notebook_instances.get(body.get("NotebookInstanceName", ""))
        if obj is not None:
            self.hold(call, faults, obj)
        return reply

    @staticmethod
    def object_of(call: Call, body: dict) -> tuple[str, str]:
        if "Domain" in (call.action or ""):
            return "domain", body.get("DomainId", "")
        return "notebook", body.get("NotebookInstanceName", "")

    def hold(self, call: Call, faults: Faults, obj: Any, remove: Callable[[], Any] | None = None) -> None:
        """moto's domain or notebook instance shows the action's transitional status until
        its time is up, then its final one (or it is deleted: `remove`)."""
        transition, state, final = SAGEMAKER_TRANSITIONS[call.action or ""]
        kind = "domain" if transition.startswith("sagemaker-domain") else "notebook"
        name = obj.id if kind == "domain" else obj.notebook_instance_name
        obj.status = state
        finish = remove if final is None else (lambda: setattr(obj, "status", final))
        key = ("sagemaker", call.account, call.region, kind, name)
        self.transitions.begin(key, transition, state, faults, finish)

    def update_notebook_instance(self, call: Call) -> Reply:
        body = call.body_json
        backend = sagemaker_backend(call)
        name = body.get("NotebookInstanceName", "")
        nb = backend.notebook_instances.get(name)
        invalid = lambda message: json_error_reply(400, "ValidationException", message)  # noqa: E731
        if nb is None:
            return invalid("RecordNotFound")
        if nb.status not in ("Stopped", "Failed"):
            return invalid(f"Status ({nb.status}) not in ([Stopped, Failed]). Unable to transition to "
                           f"(Updating) for Notebook Instance ({nb.arn})")
        if "InstanceType" in body:
            try:
                nb.validate_instance_type(body["InstanceType"])
            except Exception as err:
                return invalid(getattr(err, "message", str(err)))
        size = body.get("VolumeSizeInGB")
        if size is not None and size < nb.volume_size_in_gb:
            return invalid(f"Volume size cannot be decreased: {nb.volume_size_in_gb} GB to {size} GB")
        config = body.get("LifecycleConfigName")
        if config and config not in backend.notebook_instance_lifecycle_configurations:
            return invalid(f"Unable to describe Notebook Instance Lifecycle Config '{config}'")
        fields = {"InstanceType": "instance_type", "RoleArn": "role_arn", "VolumeSizeInGB": "volume_size_in_gb",
                  "RootAccess": "root_access", "LifecycleConfigName": "lifecycle_config_name",
                  "DefaultCodeRepository": "default_code_repository",
                  "AdditionalCodeRepositories": "additional_code_repositories",
                  "AcceleratorTypes": "accelerator_types"}
        for param, attr in fields.items():
            if param in body:
                setattr(nb, attr, body[param])
        for flag, attr in (("DisassociateLifecycleConfig", "lifecycle_config_name"),
                           ("DisassociateDefaultCodeRepository", "default_code_repository"),
                           ("DisassociateAdditionalCodeRepositories", "additional_code_repositories"),
                           ("DisassociateAcceleratorTypes", "accelerator_types")):
            if body.get(flag):
                setattr(nb, attr, None)
        from moto.core.utils import utcnow

        nb.last_modified_time = utcnow()
        return json_reply(200, {})


# --------------------------------------------------------------------------
# The middleware


def fix_s3_body(environ: dict, body: bytes) -> bytes:
    """moto 5.2.5 names GetBucketVersioning's root element GetBucketVersioningResponse; the
    S3 API reference (and every strict SDK parser, aws-sdk-rust's among them) expects
    VersioningConfiguration (the caller recomputes Content-Length)."""
    if environ.get("REQUEST_METHOD") != "GET" or "versioning" not in environ.get("QUERY_STRING", ""):
        return body
    return body.replace(b"GetBucketVersioningResponse", b"VersioningConfiguration")


S3_CREATE_TAG = re.compile(
    rb"<Tag>\s*<Key>(?P<key>[^<]*)</Key>\s*<Value>(?P<value>[^<]*)</Value>\s*</Tag>"
)


def s3_create_bucket_tags(environ: dict) -> tuple[str, dict[str, str]] | None:
    """The bucket and tags of a CreateBucket whose CreateBucketConfiguration carries Tags
    (the S3 API reference: tags applied atomically at creation), or None. Only a PUT of a
    bucket path (path-style, no sub-resource) with a small body is inspected, so object
    uploads stream to moto untouched."""
    if environ.get("REQUEST_METHOD") != "PUT" or environ.get("QUERY_STRING"):
        return None
    path = environ.get("PATH_INFO", "")
    bucket = path.strip("/")
    if not bucket or "/" in bucket:
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length <= 0 or length > 65536:
        return None
    body = read_body(environ)
    if b"<Tags>" not in body:
        return None
    unescape = lambda b: (b.decode("utf-8", "replace").replace("&lt;", "<").replace("&gt;", ">")
                          .replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&"))
    tags = {unescape(m.group("key")): unescape(m.group("value")) for m in S3_CREATE_TAG.finditer(body)}
    return bucket, tags


class LauncherApp:
    """WSGI app: the request rate and counts, then faults and fakes, everything else to
    moto."""

    def __init__(self, moto_app: Callable, faults: FaultsFile, latency: float = 0.0,
                 aws_timings: float = 0.0, rate: RateLimit | None = None):
        self.moto_app = moto_app
        self.faults = faults
        self.transitions = Transitions(aws_timings)
        self.ec2 = Ec2Fakes(self.forward, self.transitions)
        self.fsx = FsxFakes(self.transitions)
        self.sagemaker = SageMakerFakes(self.transitions)
        self.eks = EksFakes(self.forward, self.transitions)
        self.rate = rate  # --max-rps
        # The faults file's max_rps -> its buckets (of one second's worth of tokens).
        self.file_rates: dict[float, RateLimit] = {}
        self.rates_lock = threading.Lock()
        self.stats = RequestStats()
        self.latency = latency
        # moto's request handling is not thread-safe (S3's responses share one handler
        # object, so concurrent S3 calls can get each other's bodies): one request at a time
        # inside moto. The latency above is outside the lock, so clients still overlap.
        self.moto_lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == STATS_PATH and not header(environ, "Authorization"):
            return self.stats.reply(self.transitions).send(start_response)
        if self.latency:
            # A real AWS endpoint answers in tens of milliseconds; moto on loopback in
            # one. Benchmarks that compare sequential and parallel clients need the former.
            time.sleep(self.latency)
        call = None
        try:
            call = parse_call(environ)
            rate = self.rate_limit()
            throttled = rate is not None and not rate.admit((call.account, call.region))
            self.stats.count(call, throttled)
            reply = throttle_reply(call) if throttled else self.intercept(call)
        except Exception:
            LOG.error("launcher failed on a request:\n%s", traceback.format_exc())
            if call is None:
                raise
            reply = error_reply(call, 500, "InternalError", "gantry moto launcher: internal error, see its stderr")
        if reply is None:
            captured: dict[str, Any] = {}

            def capture(status: str, headers: list, exc_info: Any = None) -> Callable:
                captured["status"], captured["headers"] = status, list(headers)
                return lambda data: None

            create_tags = s3_create_bucket_tags(environ) if call.service == "s3" else None
            with self.moto_lock:
                chunks = self.moto_app(environ, capture)
                try:
                    body = b"".join(chunks)
                finally:
                    if hasattr(chunks, "close"):
                        chunks.close()
                if create_tags and captured["status"].startswith("200"):
                    # moto 5.2.5 ignores CreateBucketConfiguration's Tags: apply them in
                    # the same step, as S3 does, before anyone can see the bucket untagged.
                    from moto.s3.models import s3_backends
                    bucket, tags = create_tags
                    s3_backends[call.account][partition_of(call.region)].put_bucket_tagging(bucket, tags)
            body = fix_s3_body(environ, body)
            headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
            start_response(captured["status"], headers)
            return [body]
        return reply.send(start_response)

    def rate_limit(self) -> RateLimit | None:
        """--max-rps, unless the faults file's `max_rps` replaces it (0: no limit). A
        broken faults file leaves --max-rps (intercept reports the file)."""
        try:
            override = self.faults.load().max_rps
        except FaultsFileError:
            return self.rate
        if override is None:
            return self.rate
        if override == 0:
            return None
        with self.rates_lock:
            return self.file_rates.setdefault(override, RateLimit(override, override))

    def intercept(self, call: Call) -> Reply | None:
        if call.protocol == "rest" and call.service != "eks":
            return None
        try:
            faults = self.faults.load()
        except FaultsFileError as err:
            # 400, not 5xx: SDKs retry 5xx, and a broken test setup should fail at once.
            return error_reply(call, 400, "LauncherFaultsFileInvalid", f"faults file {self.faults.path}: {err}")
        if self.faults.take_throttle(faults, call):
            return throttle_reply(call)
        injected = self.faults.take_error(faults, call)
        if injected is not None:
            return error_reply(call, injected.get("status", 400), injected["code"], injected.get("message", ""))
        if call.service == "eks" and call.protocol == "rest":
            return self.eks.handle(call, faults, lambda: self.forward(call))
        if call.protocol == "json" and call.target_prefix == SERVICE_QUOTAS_TARGET:
            return service_quotas(call, faults)
        if call.protocol == "json" and call.target_prefix == FSX_TARGET:
            return self.fsx.handle(call, faults, lambda: self.forward(call))
        if call.protocol == "json" and call.target_prefix == SAGEMAKER_TARGET:
            return self.sagemaker.handle(call, faults, lambda: self.forward(call))
        if call.is_ec2:
            return self.ec2.handle(call, faults, lambda: self.forward(call))
        return None

    def forward(self, call: Call) -> Reply:
        """Run the request through moto and capture its response."""
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
            captured["status"], captured["headers"] = int(status.split()[0]), list(headers)
            return lambda data: None

        with self.moto_lock:
            chunks = self.moto_app(call.environ, start_response)
            try:
                body = b"".join(chunks)
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
        return Reply(captured["status"], captured["headers"], body)


# --------------------------------------------------------------------------
# Server lifecycle


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="moto server with gantry's fault injection and fakes")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (default)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--faults", help="JSON faults file, re-read on every request")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="delay every response by this many milliseconds (benchmarks: AWS-like round trips)")
    parser.add_argument("--aws-timings", type=scale, default=0.0, metavar="SCALE",
                        help="hold EKS, FSx, SageMaker, EC2 instance and NAT gateway objects in their "
                             "transitional states for AWS's typical time x SCALE (e.g. 1/20); 0 (default): "
                             "moto's at-once changes")
    parser.add_argument("--max-rps", type=float, default=None, metavar="RATE",
                        help="answer requests above RATE per second (token bucket per account and region) "
                             "with the service's throttling error")
    parser.add_argument("--burst", type=float, default=None, metavar="N",
                        help="token bucket size for --max-rps (default: RATE, one second's worth)")
    parser.add_argument("--ignore-stdin", action="store_true",
                        help="do not exit on stdin EOF (for running by hand or under nohup)")
    return parser.parse_args(argv)


def scale(text: str) -> float:
    """A scale as a number or a fraction ("0.05", "1/20"), at least 0."""
    from fractions import Fraction

    try:
        value = float(Fraction(text))
    except (ValueError, ZeroDivisionError) as err:
        raise argparse.ArgumentTypeError(f"not a number or fraction: {text!r}") from err
    if value < 0:
        raise argparse.ArgumentTypeError("must be at least 0")
    return value


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="moto-launcher: %(message)s")
    # werkzeug logs one INFO line per request; errors (tracebacks) stay visible.
    logging.getLogger("werkzeug").setLevel(logging.INFO if verbose else logging.WARNING)


def build_server(args: argparse.Namespace) -> Any:
    from werkzeug.serving import make_server

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    moto_app = DomainDispatcherApplication(create_backend_app)
    rate = None
    if args.max_rps:
        rate = RateLimit(args.max_rps, args.burst if args.burst is not None else args.max_rps)
    app = LauncherApp(moto_app, FaultsFile(args.faults), args.latency_ms / 1000.0, args.aws_timings, rate)
    return make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


def watch_stdin(stop: threading.Event) -> None:
    """Stop when stdin reaches EOF: the test that owns the pipe has gone."""
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    stop.set()


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    args = parse_args(argv)
    # stdout carries only the ready line; moto print()s diagnostics, send them to stderr.
    ready_out, sys.stdout = sys.stdout, sys.stderr
    # moto reads this when it creates the IAM backend; it must be set before.
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    configure_logging(args.verbose)

    server = build_server(args)
    host, port = server.server_address[:2]
    os.environ["MOTO_PORT"] = str(port)  # moto builds some self-referencing URLs from it

    stop = threading.Event()
    # The handler only records the signal: calling stop.set() from it could deadlock, as the
    # handler runs on the main thread, which may hold the event's lock inside stop.wait().
    signalled: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, _frame: signalled.append(signum))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    if not args.ignore_stdin:
        threading.Thread(target=watch_stdin, args=(stop,), daemon=True).start()

    ready_out.write(f"ready http://{host}:{port}\n")
    ready_out.flush()
    LOG.info("ready on http://%s:%s after %.0f ms", host, port, (time.monotonic() - started) * 1000)

    # A short timed wait keeps the main thread responsive to signals.
    while not signalled and not stop.wait(0.1):
        pass
    server.shutdown()
    server.server_close()
    sys.stderr.flush()
    # Request threads are daemons and may sit inside moto; leave without joining them.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
