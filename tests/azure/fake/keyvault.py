"""The Key Vault keys data plane, as its REST reference (Key Vault `keys` operations:
Create Key, Get Key, Wrap Key, Unwrap Key) and its authentication protocol describe it.

NOT Azure: a local fake, served beside the Resource Manager fake on the same TLS port. A
real vault has a host of its own (`https://NAME.vault.azure.net`); here the fake is one
vault, whose URL is the fake's root, `https://127.0.0.1:PORT` (key ids are
`<vault>/keys/<name>/<version>`, which clients parse, so a vault cannot sit under a path).

Authentication is Key Vault's challenge protocol: a request without a bearer token gets 401
with `WWW-Authenticate: Bearer authorization="<authority>/<tenant>", resource="https://vault.azure.net"`;
the client then asks the token endpoint for that resource and retries. Only a live token the
fake issued for the `https://vault.azure.net` audience is accepted. Because the challenge
names `vault.azure.net` and the vault's host is 127.0.0.1, clients must be told not to
verify that the two match (`verify_challenge_resource`), as for any vault behind a custom
domain.

Keys are RSA (2048 or the requested `key_size`) with real RSA-OAEP, RSA-OAEP-256 and RSA1_5
wrapping (the `cryptography` package), versioned: a create on an existing name adds a
version; an operation without a version uses the newest. Values are base64url without
padding, as Key Vault writes them. Errors use Key Vault's body,
`{"error": {"code", "message"}}`: 404 KeyNotFound, 400 BadParameter (a bad algorithm or a
value that does not unwrap), 401 Unauthorized.
"""

import base64
import json
import threading
import time
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from errors import ArmError

AUDIENCE = "https://vault.azure.net"
PREFIX = "/keys/"


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_bytes(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def _padding(alg):
    if alg == "RSA-OAEP-256":
        return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    if alg == "RSA-OAEP":
        return padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    if alg == "RSA1_5":
        return padding.PKCS1v15()
    raise ArmError(400, "BadParameter", f"Invalid algorithm '{alg}' for an RSA key.")


class KeyVaults:
    """The vault's keys: {name: [(version, private_key, created), ...]}."""

    def __init__(self, ident):
        self.ident = ident
        self.lock = threading.Lock()
        self.keys = {}
        self.operations = []  # {name, version, op} for tests to read

    def handles(self, path):
        return path.startswith(PREFIX)

    def handle(self, method, path, headers, raw, base, tenant):
        """(status, headers, body) for one data-plane request."""
        self._authenticate(headers.get("Authorization"), base, tenant)
        segs = [s for s in path[len(PREFIX):].split("/") if s]
        if not segs:
            raise ArmError(404, "NotFound", f"{method} {path} is not a Key Vault keys operation.")
        name, rest = segs[0], segs[1:]
        body = json.loads(raw) if raw else {}
        if method == "POST" and rest == ["create"]:
            return 200, {}, self._create(base, name, body)
        if method == "GET" and len(rest) <= 1:
            version, key, created = self._key(name, rest[0] if rest else None)
            return 200, {}, self._bundle(base, name, version, key, created)
        if method == "POST" and rest and rest[-1] in ("wrapkey", "unwrapkey") and len(rest) <= 2:
            version = rest[0] if len(rest) == 2 else None
            return 200, {}, self._operate(base, name, version, rest[-1], body)
        raise ArmError(405, "MethodNotAllowed", f"{method} {path} is not supported.")

    def _authenticate(self, authorization, base, tenant):
        challenge = {"WWW-Authenticate": f'Bearer authorization="{base}/{tenant}", resource="{AUDIENCE}"'}
        if not authorization:
            raise ArmError(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.",
                           headers=challenge)
        scheme, _, token = authorization.partition(" ")
        with self.ident.lock:
            issued = self.ident.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if issued is None or issued["expires_at"] < time.time():
            raise ArmError(401, "Unauthorized", "AKV10022: Invalid audience or token.", headers=challenge)
        audience = issued["scope"].split()[0].removesuffix("/.default").rstrip("/")
        if audience != AUDIENCE:
            raise ArmError(401, "Unauthorized",
                           f"AKV10022: Invalid audience. Expected {AUDIENCE}, found: {audience}.",
                           headers=challenge)

    def _create(self, vault_url, name, body):
        kty = body.get("kty")
        if kty not in ("RSA", "RSA-HSM"):
            raise ArmError(400, "BadParameter", f"Key type '{kty}' is not supported by this vault (RSA only).")
        size = int(body.get("key_size") or 2048)
        key = rsa.generate_private_key(public_exponent=65537, key_size=size)
        version = uuid.uuid4().hex
        created = int(time.time())
        with self.lock:
            self.keys.setdefault(name, []).append((version, key, created))
        return self._bundle(vault_url, name, version, key, created)

    def _key(self, name, version):
        with self.lock:
            versions = self.keys.get(name, [])
            if version is None and versions:
                return versions[-1]
            for entry in versions:
                if entry[0] == version:
                    return entry
        what = f"A key with (name/id) {name}" + (f"/{version}" if version else "")
        raise ArmError(404, "KeyNotFound", f"{what} was not found in this key vault.")

    def _bundle(self, vault_url, name, version, key, created):
        numbers = key.public_key().public_numbers()
        return {
            "key": {"kid": f"{vault_url}/keys/{name}/{version}", "kty": "RSA",
                    "key_ops": ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"],
                    "n": _b64url(_int_bytes(numbers.n)), "e": _b64url(_int_bytes(numbers.e))},
            "attributes": {"enabled": True, "created": created, "updated": created,
                           "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90},
        }

    def _operate(self, vault_url, name, version, op, body):
        version, key, _ = self._key(name, version)
        pad = _padding(body.get("alg"))
        try:
            value = _unb64url(body.get("value") or "")
        except ValueError:
            raise ArmError(400, "BadParameter", "The value is not base64url.")
        if op == "wrapkey":
            out = key.public_key().encrypt(value, pad)
        else:
            try:
                out = key.decrypt(value, pad)
            except ValueError:
                raise ArmError(400, "BadParameter", "Unwrap failed: the value was not wrapped by this key version.")
        with self.lock:
            self.operations.append({"name": name, "version": version, "op": op})
        return {"kid": f"{vault_url}/keys/{name}/{version}", "value": _b64url(out)}

    def state(self):
        with self.lock:
            return {"keys": {n: [e[0] for e in ks] for n, ks in self.keys.items()},
                    "operations": list(self.operations)}
