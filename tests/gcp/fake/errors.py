"""Google's error body and timestamps, shared by both API styles the fake serves."""

from datetime import datetime, timezone


class HttpError(Exception):
    STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
              404: "NOT_FOUND", 409: "ALREADY_EXISTS", 412: "FAILED_PRECONDITION",
              429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}

    def __init__(self, code, reason, message):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def body(self):
        return {"error": {
            "code": self.code,
            "message": self.message,
            "status": self.STATUS.get(self.code, "UNKNOWN"),
            "errors": [{"message": self.message, "domain": "global", "reason": self.reason}],
        }}


def now_rfc3339():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")

# google.rpc.Code of an HTTP status, as a long-running operation's `error.code` carries it.
GRPC_CODE = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 412: 9, 429: 8, 500: 13, 503: 14}
