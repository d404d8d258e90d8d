"""The ARM error body and timestamps, shared by every part of the fake.

Azure Resource Manager answers every failure with one shape (the RPC's "Error Response
Content"): `{"error": {"code", "message", "target", "details": [same shape], "additionalInfo":
[]}}`. A failed long-running operation carries the same object (without the `error`
wrapper) in its status body, so `ArmError.inner()` is the part both use.
"""

from datetime import datetime, timezone


class ArmError(Exception):
    """A request ARM refuses: HTTP `status`, an error `code` and `message`, nested `details`
    (each a dict of the same shape, from `inner()`), extra response `headers`."""

    def __init__(self, status, code, message, details=None, target=None, headers=None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.details = list(details or [])
        self.target = target
        self.headers = dict(headers or {})

    def inner(self):
        return error_object(self.code, self.message, self.details, self.target)

    def body(self):
        return {"error": self.inner()}


def error_object(code, message, details=None, target=None):
    """One ARM error object; `details` are error objects too (missing keys filled)."""
    return {
        "code": code,
        "message": message,
        "target": target,
        "details": [error_object(d.get("code", ""), d.get("message", ""), d.get("details"), d.get("target"))
                    for d in (details or [])],
        "additionalInfo": [],
    }


def now_iso():
    """ARM's timestamps: ISO 8601 in UTC with a `Z` and 7 fractional digits, as ARM writes
    them (`2024-05-01T12:00:00.1234567Z`)."""
    t = datetime.now(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}0Z"
