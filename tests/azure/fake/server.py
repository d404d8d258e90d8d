"""A local fake of Azure Resource Manager (ARM) that follows ARM's published contract.

NOT Azure: no emulator exists for Resource Manager, so this serves what the ARM RPC
(github.com/Azure/azure-resource-manager-rpc: resource-api-reference, async-api-reference)
says every resource provider does: PUT/GET/PATCH/DELETE on any resource id, generic over
resource types (arm.py routes by path pattern, never by type), long-running operations in
the three styles providers use (`Azure-AsyncOperation`, `Location`, synchronous; lro.py)
that stay running for a configurable time and can fail inside the operation as Azure does
(quota, SKU restrictions, injected allocation failures), ARM's error body everywhere, and
the identity side a client needs first: Entra's token endpoint and ARM's cloud metadata
document (identity.py). The little it knows beyond the contract (which types answer in
which style, what a provider computes, which children show inline, VM sizes and built-in
roles) is in behaviour.py, by type.

It serves HTTPS only (certs.py): azure_core refuses to send a bearer token over http.

    python tests/azure/fake/server.py --subscription SUB [--subscription OTHER ...] \\
        --tenant TENANT --client-id ID --client-secret SECRET --cert-dir DIR \\
        [--client-object-id OID] [--operation-seconds S] [--timings SCALE] [--retry-after N] \\
        [--principal-replication-seconds S] [--port 0] [--verbose]

`--timings 1/20` holds each operation InProgress for Azure's typical time for its type x
1/20 (behaviour.TYPICAL_SECONDS: create and delete times per ARM type; a synchronous
answer of a listed type is itself held back that long), for benchmarks
(bench/azure_timings.sh); types not listed take --operation-seconds.

makes DIR/ca.pem (trust it) unless there, then prints `READY <port>` once listening on
127.0.0.1, and serves until killed (or, when its stdin is a pipe, until that pipe closes,
so a test that dies without stopping it does not leave it running).

Admin calls (no auth, same port, JSON bodies; each answers the resulting setting):
    POST   /_fake/config   {"operation_seconds": 2.0, "principal_replication_seconds": 3,
                            "retry_after": 0, "timings": "1/20"}  (timings null: off)
    POST   /_fake/quotas   {"location": "eastus", "name": "standardNDSH100v5Family", "limit": 96}
                           (names: a family, "cores" or "lowPriorityCores"); DELETE clears
    POST   /_fake/skus     {"location": "eastus", "name": "Standard_ND96isr_H100_v5",
                            "restriction": {"type": "Zone", "zones": ["2"],
                                            "reasonCode": "NotAvailableForSubscription"}}
                           (or "type": "Location"); DELETE /_fake/skus clears
    POST   /_fake/faults   {"method": "PUT", "type": "Microsoft.ContainerService/managedClusters/agentPools",
                            "name": "gpu", "times": 1, "status": 409,
                            "error": {"code": "...", "message": "..."},
                            "in_operation": true, "retry_after": 5}
                           (name optional; times omitted: until cleared); DELETE clears
    POST   /_fake/principals {"principal_id": "...", "type": "User"}  a directory object
    GET    /_fake/state    everything: resources, operations, principals, tokens, client
                           assertions, faults, quotas, restrictions, the request log
    GET    /_fake/requests the request log alone ({"method", "path", "api-version"})
    GET    /_fake/keyvault the Key Vault data plane's keys (names and versions) and the
                           wrap/unwrap operations made

The Key Vault keys data plane (keyvault.py) is served under /keys/: the fake is one vault,
whose URL is https://127.0.0.1:PORT.
"""

import argparse
import json
import os
import ssl
import stat
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import arm  # noqa: E402
import certs  # noqa: E402
import identity  # noqa: E402
import keyvault  # noqa: E402
from errors import ArmError  # noqa: E402


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    store: arm.Store = None
    ident: identity.Identity = None

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            super().log_message(fmt, *args)

    def send(self, status, headers, body):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        request_id = str(uuid.uuid4())
        self.send_header("x-ms-request-id", request_id)
        self.send_header("x-ms-correlation-request-id", request_id)
        self.send_header("Cache-Control", "no-cache")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status not in (204, 304):
            if body is not None:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status in (204, 304) or self.command == "HEAD":
            return
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (a killed gantry): nothing to answer

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def base(self):
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        return f"https://{host}"

    def do_GET(self):
        self.dispatch("GET")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        path = url.path.rstrip("/") or "/"
        try:
            raw = self.read_body()
            if path == "/_fake/keyvault" and method == "GET":
                return self.send(200, {}, self.keyvaults.state())
            if path.startswith("/_fake/"):
                try:
                    body = json.loads(raw) if raw else None
                    out = self.store.admin(method, path, body)
                except (KeyError, ValueError, TypeError, AttributeError) as e:
                    raise ArmError(400, "InvalidAdminCall", f"{method} {path}: bad body ({e!r})")
                return self.send(200, {}, out)
            api_version = next((v for k, v in query.items() if k.lower() == "api-version"), None)
            with self.store.lock:
                self.store.requests.append({"method": method, "path": url.path, "api-version": api_version,
                                            "time": time.time()})
            segs = [s for s in path.split("/") if s]
            if method == "POST" and len(segs) == 4 and segs[1:] == ["oauth2", "v2.0", "token"]:
                status, body = self.ident.token(urllib.parse.unquote(segs[0]), raw)
                return self.send(status, {}, body)
            if path == "/msi/token" and method == "GET":
                status, body = self.ident.managed_identity_token(self.headers.get("X-IDENTITY-HEADER"), query)
                return self.send(status, {}, body)
            if path.lower() == "/metadata/endpoints" and method == "GET":
                return self.send(200, {}, identity.metadata(self.base(), api_version))
            if self.keyvaults.handles(path):
                status, headers, body = self.keyvaults.handle(method, path, self.headers, raw, self.base(),
                                                              self.ident.tenant)
                return self.send(status, headers, body)
            self.ident.check(self.headers.get("Authorization"))
            if not api_version:
                raise ArmError(400, "MissingApiVersionParameter",
                               "The api-version query parameter (?api-version=) is required for all requests.")
            req = arm.Request(method, path, query, self.headers, raw, self.base())
            status, headers, body = self.store.handle(req)
            if req.hold > 0:  # a slow synchronous answer (--timings), outside the store's lock
                time.sleep(req.hold)
            self.send(status, headers, body)
        except ArmError as e:
            self.send(e.status, e.headers, e.body())
        except Exception as e:  # a fake's bug: answer it as ARM would a server error, loudly
            traceback.print_exc()
            self.send(500, {}, ArmError(500, "InternalServerError", f"the fake failed: {e!r}").body())


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, context, verbose):
        super().__init__(address, handler)
        self.context = context
        self.verbose = verbose

    def finish_request(self, request, client_address):
        # The TLS handshake in the connection's own thread, so a slow or refusing client
        # (one that does not trust ca.pem) never blocks the accept loop.
        try:
            request = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            if self.verbose:
                print(f"TLS handshake with {client_address} failed: {e}", file=sys.stderr)
            return
        try:
            super().finish_request(request, client_address)
        finally:
            try:
                request.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def watch_stdin():
    """Exits when stdin, a pipe from whoever started the fake, closes."""
    try:
        if not stat.S_ISFIFO(os.fstat(0).st_mode):
            return
    except OSError:
        return

    def wait():
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        os._exit(0)

    threading.Thread(target=wait, daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscription", action="append", required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--client-object-id", default=None,
                        help="the service principal's object id (default: derived from the client id)")
    parser.add_argument("--msi-secret", default=None,
                        help="serve App Service's managed identity endpoint (/msi/token) for this "
                             "IDENTITY_HEADER secret, as the same client")
    parser.add_argument("--cert-dir", required=True)
    parser.add_argument("--operation-seconds", type=float, default=0.0)
    parser.add_argument("--timings", default=None, metavar="SCALE",
                        help="hold each operation for Azure's typical time for its type x SCALE "
                             "(a fraction: 1/20), per behaviour.TYPICAL_SECONDS")
    parser.add_argument("--retry-after", type=int, default=0,
                        help="the Retry-After (seconds) of every polling answer")
    parser.add_argument("--principal-replication-seconds", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()

    _ca, cert, key = certs.ensure(args.cert_dir)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])

    ident = identity.Identity(args.tenant, args.client_id, args.client_secret, args.client_object_id,
                              msi_secret=args.msi_secret)
    store = arm.Store(args.subscription, ident, operation_seconds=args.operation_seconds,
                      retry_after=args.retry_after,
                      principal_replication_seconds=args.principal_replication_seconds)
    if args.timings:
        store.timing_scale = float(Fraction(args.timings))
    Handler.store, Handler.ident = store, ident
    Handler.keyvaults = keyvault.KeyVaults(ident)
    server = TLSServer(("127.0.0.1", args.port), Handler, context, args.verbose)
    watch_stdin()
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
