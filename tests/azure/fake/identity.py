"""Microsoft Entra ID's token endpoint and ARM's cloud metadata document, as the fake serves
them.

Token: `POST /{tenant}/oauth2/v2.0/token`, a form with the client-credentials grant, exactly
what azure_identity's ClientSecretCredential / ClientAssertionCredential send (`client_id`,
`scope`, `grant_type=client_credentials`, and `client_secret` or `client_assertion` +
`client_assertion_type`). A wrong tenant, client or secret is answered with Entra's own error
body (`error`, `error_description` starting with the AADSTS code, `error_codes`). The
descriptions hold no character JSON must escape: azure_identity reads `error_description`
as a borrowed string, which serde cannot do through an escape.

Tokens are JWT-shaped (header.claims.signature, base64url, the signature random) with the
claims ARM tokens carry (`aud`, `iss`, `tid`, `oid`, `appid`, `exp`, ...), so a client that
peeks into its token finds what it would in Azure; the fake itself only checks that a bearer
token is one it issued and has not expired.

Managed identity: `GET /msi/token?api-version=2019-08-01&resource=...`, App Service's
managed identity endpoint (what a client finds in IDENTITY_ENDPOINT, with the secret of
IDENTITY_HEADER in the `X-IDENTITY-HEADER` header), when the fake is started with
`--msi-secret`. It answers `access_token`, `expires_on` (epoch seconds, as a string),
`resource`, `token_type` and `client_id`, as App Service does; the token's `via` is
`managed_identity`, so a test can tell which credential a client used.

Metadata: `GET /metadata/endpoints?api-version=...`, what azurerm's `metadata_host` (and
go-azure-sdk's environments.FromEndpoint) read. The 2022-09-01 version answers ONE
environment object; older versions (2019-05-01, ...) a JSON array of environments, as
management.azure.com does.
"""

import base64
import json
import secrets
import threading
import time
import urllib.parse
import uuid

from errors import ArmError

TOKEN_SECONDS = 3599
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Identity:
    def __init__(self, tenant, client_id, client_secret, object_id=None, msi_secret=None):
        self.tenant = tenant
        self.msi_secret = msi_secret
        self.client_id = client_id
        self.client_secret = client_secret
        # The service principal's object id: what a role assignment to "this client" names.
        self.object_id = object_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"gantry-fake-sp:{client_id}"))
        self.tokens = {}  # token -> {"expires_at", "scope", "via"}
        self.assertions = []  # every client assertion seen, in order
        self.lock = threading.Lock()

    # --- token endpoint ---------------------------------------------------------------

    def token(self, tenant, raw_body):
        """(status, body) for a token request to `/{tenant}/oauth2/v2.0/token`."""
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(raw_body.decode("utf-8", "replace"),
                                                           keep_blank_values=True).items()}
        trace = f"Trace ID: {uuid.uuid4()} Correlation ID: {uuid.uuid4()} Timestamp: {time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime())}"
        if tenant.lower() != self.tenant.lower():
            return 400, self._error("invalid_request", 90002,
                                    f"AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. {trace}")
        grant = form.get("grant_type", "")
        if grant != "client_credentials":
            return 400, self._error("unsupported_grant_type", 70003,
                                    f"AADSTS70003: The app requested an unsupported grant type '{grant}'. {trace}")
        if not form.get("scope"):
            return 400, self._error("invalid_request", 90014,
                                    f"AADSTS90014: The required field 'scope' is missing from the credential. {trace}")
        client = form.get("client_id", "")
        if client.lower() != self.client_id.lower():
            return 400, self._error("unauthorized_client", 700016,
                                    f"AADSTS700016: Application with identifier '{client}' was not found in the directory '{self.tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. {trace}")
        if "client_assertion" in form or "client_assertion_type" in form:
            if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
                return 400, self._error("invalid_client", 50027,
                                        f"AADSTS50027: JWT token is invalid or malformed. {trace}")
            via = "client_assertion"
            with self.lock:
                self.assertions.append(form["client_assertion"])
        elif form.get("client_secret", "") != self.client_secret:
            return 401, self._error("invalid_client", 7000215,
                                    f"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{self.client_id}'. {trace}")
        else:
            via = "client_secret"
        token = self._issue(form["scope"], via)
        return 200, {"token_type": "Bearer", "expires_in": TOKEN_SECONDS,
                     "ext_expires_in": TOKEN_SECONDS, "access_token": token}

    def managed_identity_token(self, secret, query):
        """(status, body) for App Service's managed identity endpoint (`/msi/token`)."""
        if not self.msi_secret:
            return 404, {"statusCode": 404, "message": "No managed identity endpoint here."}
        if secret != self.msi_secret:
            return 401, {"statusCode": 401, "message": "Unauthorized: the X-IDENTITY-HEADER header is missing or wrong."}
        version = query.get("api-version")
        if version != "2019-08-01":
            return 400, {"statusCode": 400, "message": f"Unsupported api-version '{version}'."}
        resource = query.get("resource")
        if not resource:
            return 400, {"statusCode": 400, "message": "The 'resource' query parameter is required."}
        wanted = query.get("client_id")
        if wanted and wanted.lower() != self.client_id.lower():
            return 400, {"statusCode": 400, "message": f"No managed identity with client id '{wanted}' is assigned to this resource."}
        token = self._issue(resource.rstrip("/") + "/.default", "managed_identity")
        return 200, {"access_token": token, "expires_on": str(int(time.time()) + TOKEN_SECONDS),
                     "resource": resource, "token_type": "Bearer", "client_id": self.client_id}

    def _error(self, error, code, description):
        return {"error": error, "error_description": description, "error_codes": [code],
                "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
                "trace_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4()),
                "error_uri": f"https://login.microsoftonline.com/error?code={code}"}

    def _issue(self, scope, via):
        now = int(time.time())
        audience = scope.split()[0].removesuffix("/.default").removesuffix(".default")
        header = {"typ": "JWT", "alg": "RS256", "kid": "gantry-fake"}
        claims = {"aud": audience, "iss": f"https://sts.windows.net/{self.tenant}/",
                  "iat": now, "nbf": now, "exp": now + TOKEN_SECONDS,
                  "appid": self.client_id, "appidacr": "2" if via == "client_assertion" else "1",
                  "idtyp": "app", "oid": self.object_id, "sub": self.object_id,
                  "tid": self.tenant, "ver": "1.0", "uti": secrets.token_urlsafe(16)}
        token = ".".join([_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()),
                          _b64(secrets.token_bytes(64))])
        with self.lock:
            self.tokens[token] = {"expires_at": now + TOKEN_SECONDS, "scope": scope, "via": via}
        return token

    # --- bearer check -----------------------------------------------------------------

    def check(self, authorization):
        """Raises ArmError 401 unless `authorization` is `Bearer <a live token we issued>`."""
        challenge = {"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/'
                     + self.tenant + '", error="invalid_token", error_description="The authentication failed."'}
        if not authorization:
            raise ArmError(401, "AuthenticationFailed",
                           "Authentication failed. The 'Authorization' header is missing.", headers=challenge)
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ArmError(401, "AuthenticationFailed",
                           "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                           headers=challenge)
        with self.lock:
            issued = self.tokens.get(token.strip())
        if issued is None:
            raise ArmError(401, "InvalidAuthenticationToken",
                           "The access token is invalid.", headers=challenge)
        if issued["expires_at"] < time.time():
            raise ArmError(401, "ExpiredAuthenticationToken",
                           "The access token expiry UTC time is earlier than current UTC time.",
                           headers=challenge)

    def state(self):
        with self.lock:
            return {"tenant": self.tenant, "client_id": self.client_id, "object_id": self.object_id,
                    "tokens": [{"token": t, **v} for t, v in self.tokens.items()],
                    "client_assertions": list(self.assertions)}


def metadata(base, api_version):
    """ARM's cloud metadata: one environment object (2022-09-01 and later), or an array of
    them (earlier versions). `base` is `https://127.0.0.1:PORT`."""
    env = {
        "portal": base,
        "authentication": {
            "loginEndpoint": base + "/",
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": "https://rest.media.azure.net",
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "name": "AzureFake",
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "keyVaultDns": "vault.azure.net",
            "storage": "core.windows.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net",
        },
        "batch": "https://batch.core.windows.net/",
        "resourceManager": base + "/",
        "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/main/arm-compute/quickstart-templates/aliases.json",
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "microsoftGraphResourceId": "https://graph.microsoft.com/",
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
        "gallery": "https://gallery.azure.com/",
    }
    if (api_version or "") >= "2022-09-01":
        return env
    return [env]
