"""Long-running operations, as the ARM RPC's async-api-reference describes them.

An operation is a change set: for each resource it touches, the body before (None: it did
not exist) and after (None: it goes). The store holds the "after" bodies from the start, in
their transitional provisioning state (Creating, Updating, Deleting), because that is what a
GET shows while ARM works. When the operation's time comes (`--operation-seconds` after it
started, checked lazily on every request) it either commits (provisioningState Succeeded,
deleted resources gone) or, when it was doomed from the start (an injected fault, a quota
overrun, a restricted SKU), fails and rolls back: created resources vanish, updated ones
get their old bodies back. Nothing a failed operation touched is left behind.

Two ways to poll (the RPC's two headers):
- `Azure-AsyncOperation: .../providers/{Namespace}/locations/{loc}/operationStatuses/{id}`:
  200 `{"id", "name", "status": InProgress|Succeeded|Failed|Canceled, "startTime",
  "endTime", "percentComplete", "error"}` (error only when failed);
- `Location: .../providers/{Namespace}/locations/{loc}/operationResults/{id}` (or, for a
  resource group's delete, `/subscriptions/{s}/operationresults/{id}`): 202 while running;
  done: 200 with the resource (PUT/PATCH) or 204 (DELETE); failed: the error's own HTTP
  status and ARM error body.
"""

import copy
import time
import uuid

from errors import ArmError, now_iso


class Change:
    __slots__ = ("key", "before", "after")

    def __init__(self, key, before, after):
        self.key, self.before, self.after = key, before, after


class Operation:
    def __init__(self, subscription, namespace, location, verb, changes, seconds, error=None,
                 result_key=None, api_version=None):
        self.id = str(uuid.uuid4())
        self.subscription = subscription
        self.namespace = namespace  # None: a resource group operation (no provider path)
        self.location = location
        self.verb = verb  # PUT | PATCH | DELETE
        self.changes = changes
        self.error = error  # an ArmError: the operation will fail with it
        self.result_key = result_key  # what a finished PUT/PATCH answers on its Location
        self.api_version = api_version
        self.started = time.time()
        self.done_at = self.started + seconds
        self.start_time = now_iso()
        self.end_time = None
        self.status = "InProgress"

    @property
    def running(self):
        return self.status == "InProgress"

    def keys(self):
        return {c.key for c in self.changes}

    def path(self, kind):
        """The path of this operation's status (`operationStatuses`) or result
        (`operationResults`) resource."""
        if self.namespace is None:
            return f"/subscriptions/{self.subscription}/operationresults/{self.id}"
        return (f"/subscriptions/{self.subscription}/providers/{self.namespace}/locations/"
                f"{self.location}/{kind}/{self.id}")

    def url(self, base, kind):
        return f"{base}{self.path(kind)}?api-version={self.api_version or '2024-01-01'}"

    def status_body(self):
        body = {"id": self.path("operationStatuses"), "name": self.id, "status": self.status,
                "startTime": self.start_time}
        if self.running:
            span = max(self.done_at - self.started, 1e-9)
            body["percentComplete"] = round(min(99.0, 100.0 * (time.time() - self.started) / span), 1)
        else:
            body["endTime"] = self.end_time
            body["percentComplete"] = 100.0
        if self.status == "Failed" and self.error is not None:
            body["error"] = self.error.inner()
        return body

    def state(self):
        return {**self.status_body(), "verb": self.verb, "resources": sorted(self.keys()),
                "namespace": self.namespace, "location": self.location}


def settle(store):
    """Finishes every operation whose time has come (the caller holds the store's lock)."""
    t = time.time()
    for op in store.operations.values():
        if op.running and t >= op.done_at:
            if op.error is None:
                commit(store, op)
                op.status = "Succeeded"
            else:
                rollback(store, op)
                op.status = "Failed"
            op.end_time = now_iso()


def commit(store, op):
    for change in op.changes:
        if change.after is None:
            gone = store.resources.pop(change.key, None)
            if gone is not None:
                store.removed(gone)
            continue
        res = store.resources.get(change.key)
        if res is None or res is not change.after:
            continue  # gone meanwhile (its resource group was deleted)
        store.finalize(res)


def rollback(store, op):
    for change in reversed(op.changes):
        current = store.resources.get(change.key)
        if change.before is None:
            if current is change.after:
                store.resources.pop(change.key, None)
        else:
            store.resources[change.key] = change.before


def result(store, op, base):
    """(status, headers, body) of a GET on the operation's Location (operationResults)."""
    if op.running:
        return 202, {"Location": op.url(base, "operationResults"),
                     "Retry-After": str(store.retry_after)}, None
    if op.status == "Failed":
        raise ArmError(op.error.status, op.error.code, op.error.message,
                       details=op.error.details, target=op.error.target)
    if op.verb == "DELETE" or op.result_key is None:
        return 204, {}, None
    res = store.resources.get(op.result_key)
    if res is None:
        return 204, {}, None
    return 200, {}, copy.deepcopy(store.render(res))
