"""Self-tests of the Azure Resource Manager contract fake, driven by Microsoft's own Python
SDKs (azure-mgmt-*, on azure-core's ARM polling): what the fake answers must parse and
behave the way those clients expect of the real ARM, long-running operations included.
Only the token endpoint, the metadata document and the fake's admin calls are reached with
plain urllib.

    python -W ignore -m unittest tests/azure/fake/test_fake.py
"""

import json
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.resource import ResourceManagementClient
from azure.mgmt.storage import StorageManagementClient

SERVER = Path(__file__).parent / "server.py"
MSI_SECRET = "fake-identity-header-" + uuid.uuid4().hex
SUB = "00000000-0000-0000-0000-00000000a11c"
OTHER_SUB = "00000000-0000-0000-0000-0000000000b0"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "0e4d1c3a-6a4c-4d2e-9a55-1d2f3b4c5d6e"
SECRET = "fake-client-secret-value"
READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"  # Storage Blob Data Reader


class FakeServer:
    def __init__(self, *args):
        self.certs = tempfile.TemporaryDirectory()
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVER), "--subscription", SUB, "--subscription", OTHER_SUB,
             "--tenant", TENANT, "--client-id", CLIENT_ID, "--client-secret", SECRET,
             "--cert-dir", self.certs.name, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "READY":
            raise RuntimeError("the fake did not start")
        self.port = int(line[1])
        self.base = f"https://127.0.0.1:{self.port}"
        self.ca = str(Path(self.certs.name) / "ca.pem")
        self.tls = ssl.create_default_context(cafile=self.ca)

    def call(self, method, path, body=None, headers=None, form=None):
        """(status, headers, JSON body) of a raw request."""
        data = None
        hdrs = dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, context=self.tls) as resp:
                raw = resp.read()
                return resp.status, dict(resp.headers), json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, dict(e.headers), json.loads(raw) if raw else None

    def admin(self, method, path, body=None):
        status, _, out = self.call(method, path, body)
        assert status == 200, (status, out)
        return out

    def token(self, scope="https://management.azure.com/.default"):
        status, _, out = self.call("POST", f"/{TENANT}/oauth2/v2.0/token", form={
            "client_id": CLIENT_ID, "client_secret": SECRET, "grant_type": "client_credentials",
            "scope": scope})
        assert status == 200, out
        return out["access_token"]

    def stop(self):
        self.proc.stdin.close()  # the fake exits when its stdin pipe closes
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.certs.cleanup()


class Credential:
    """What azure-identity's credentials do, against the fake's token endpoint."""

    def __init__(self, server):
        self.server = server

    def get_token(self, *scopes, **kwargs):
        return AccessToken(self.server.token(*scopes[:1]), int(time.time()) + 3000)


SERVER_INSTANCE = None


def setUpModule():
    global SERVER_INSTANCE
    SERVER_INSTANCE = FakeServer("--operation-seconds", "0.2", "--msi-secret", MSI_SECRET)


def tearDownModule():
    SERVER_INSTANCE.stop()


class Base(unittest.TestCase):
    def setUp(self):
        self.fake = SERVER_INSTANCE
        self.fake.admin("DELETE", "/_fake/faults")
        self.fake.admin("DELETE", "/_fake/skus")
        self.fake.admin("DELETE", "/_fake/quotas")
        self.fake.admin("POST", "/_fake/config", {"operation_seconds": 0.2, "principal_replication_seconds": 0,
                                                  "retry_after": 0})
        kw = dict(credential=Credential(self.fake), subscription_id=SUB, base_url=self.fake.base,
                  connection_verify=self.fake.ca, polling_interval=0)
        self.kw = kw
        self.resource = ResourceManagementClient(**kw)
        self.network = NetworkManagementClient(**kw)
        self.compute = ComputeManagementClient(**kw)
        self.aks = ContainerServiceClient(**kw)
        self.storage = StorageManagementClient(**kw)
        self.msi = ManagedServiceIdentityClient(**kw)
        self.auth = AuthorizationManagementClient(**kw)
        self.rg = "rg-" + uuid.uuid4().hex[:8]
        self.resource.resource_groups.create_or_update(self.rg, {"location": "eastus"})

    def rg_id(self, name=None):
        return f"/subscriptions/{SUB}/resourceGroups/{name or self.rg}"

    def cluster(self, name, pools=None, location="eastus"):
        body = {"location": location, "identity": {"type": "SystemAssigned"},
                "properties": {"dnsPrefix": name, "oidcIssuerProfile": {"enabled": True},
                               "agentPoolProfiles": pools or [
                                   {"name": "system", "vmSize": "Standard_D4s_v5", "count": 2, "mode": "System"}]}}
        return self.aks.managed_clusters.begin_create_or_update(self.rg, name, body).result()


class Identity(Base):
    def test_a_wrong_secret_tenant_or_client_gets_entra_errors(self):
        form = {"client_id": CLIENT_ID, "client_secret": "nope", "grant_type": "client_credentials",
                "scope": "https://management.azure.com/.default"}
        status, _, out = self.fake.call("POST", f"/{TENANT}/oauth2/v2.0/token", form=form)
        self.assertEqual(status, 401)
        self.assertEqual(out["error"], "invalid_client")
        self.assertEqual(out["error_codes"], [7000215])
        self.assertTrue(out["error_description"].startswith("AADSTS7000215: Invalid client secret provided."))
        self.assertNotIn("\\", json.dumps(out["error_description"]), "azure_identity borrows it: no escapes")
        status, _, out = self.fake.call("POST", "/other-tenant/oauth2/v2.0/token", form={**form, "client_secret": SECRET})
        self.assertEqual((status, out["error_codes"]), (400, [90002]))
        status, _, out = self.fake.call("POST", f"/{TENANT}/oauth2/v2.0/token",
                                        form={**form, "client_secret": SECRET, "client_id": "someone-else"})
        self.assertEqual((status, out["error_codes"]), (400, [700016]))

    def test_a_client_assertion_is_accepted_and_recorded(self):
        status, _, out = self.fake.call("POST", f"/{TENANT}/oauth2/v2.0/token", form={
            "client_id": CLIENT_ID, "grant_type": "client_credentials", "scope": "https://management.azure.com/.default",
            "client_assertion": "header.claims.sig",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
        self.assertEqual(status, 200, out)
        self.assertEqual(out["token_type"], "Bearer")
        self.assertEqual(out["expires_in"], 3599)
        state = self.fake.admin("GET", "/_fake/state")
        self.assertIn("header.claims.sig", state["client_assertions"])
        self.assertIn(out["access_token"], [t["token"] for t in state["tokens"]])
        self.assertTrue(state["client"]["object_id"])

    def test_a_managed_identity_token_through_azure_identity(self):
        """azure-identity's ManagedIdentityCredential, in App Service's environment, gets an
        ARM token from the fake and ARM takes it; a wrong secret is refused."""
        from azure.identity import ManagedIdentityCredential
        from unittest import mock

        endpoint = self.fake.base + "/msi/token"
        with mock.patch.dict("os.environ", {"IDENTITY_ENDPOINT": endpoint, "IDENTITY_HEADER": MSI_SECRET}):
            credential = ManagedIdentityCredential(connection_verify=self.fake.ca)
            token = credential.get_token("https://management.azure.com/.default")
            client = ResourceManagementClient(credential=credential, subscription_id=SUB,
                                              base_url=self.fake.base, connection_verify=self.fake.ca)
            names = [g.name for g in client.resource_groups.list()]
        self.assertIn(self.rg, names)
        self.assertGreater(token.expires_on, time.time() + 600)
        issued = self.fake.admin("GET", "/_fake/state")["tokens"]
        self.assertIn({"token": token.token, "via": "managed_identity"},
                      [{"token": t["token"], "via": t["via"]} for t in issued])
        status, _, out = self.fake.call(
            "GET", "/msi/token?api-version=2019-08-01&resource=https://management.azure.com/",
            headers={"X-IDENTITY-HEADER": "wrong"})
        self.assertEqual(status, 401, out)

    def test_the_metadata_document_points_at_the_fake(self):
        status, _, env = self.fake.call("GET", "/metadata/endpoints?api-version=2022-09-01")
        self.assertEqual(status, 200)
        self.assertEqual(env["resourceManager"], self.fake.base + "/")
        self.assertEqual(env["authentication"]["loginEndpoint"], self.fake.base + "/")
        self.assertIn("https://management.azure.com/", env["authentication"]["audiences"])
        self.assertEqual(env["suffixes"]["storage"], "core.windows.net")
        _, _, old = self.fake.call("GET", "/metadata/endpoints?api-version=2019-05-01")
        self.assertIsInstance(old, list)
        self.assertEqual(old[0]["resourceManager"], self.fake.base + "/")

    def test_arm_needs_a_token_it_issued_and_an_api_version(self):
        status, headers, out = self.fake.call("GET", f"/subscriptions/{SUB}/resourcegroups?api-version=2021-04-01")
        self.assertEqual((status, out["error"]["code"]), (401, "AuthenticationFailed"))
        self.assertIn("WWW-Authenticate", headers)
        status, _, out = self.fake.call("GET", f"/subscriptions/{SUB}/resourcegroups?api-version=2021-04-01",
                                        headers={"Authorization": "Bearer made-up"})
        self.assertEqual((status, out["error"]["code"]), (401, "InvalidAuthenticationToken"))
        token = {"Authorization": "Bearer " + self.fake.token()}
        status, _, out = self.fake.call("GET", f"/subscriptions/{SUB}/resourcegroups", headers=token)
        self.assertEqual((status, out["error"]["code"]), (400, "MissingApiVersionParameter"))

        class Bad:
            def get_token(self, *scopes, **kw):
                return AccessToken("not-issued", int(time.time()) + 3000)

        client = ResourceManagementClient(**{**self.kw, "credential": Bad()})
        with self.assertRaises(ClientAuthenticationError) as e:
            client.resource_groups.get(self.rg)
        self.assertEqual(e.exception.error.code, "InvalidAuthenticationToken")

    def test_subscriptions(self):
        token = {"Authorization": "Bearer " + self.fake.token()}
        status, _, sub = self.fake.call("GET", f"/subscriptions/{SUB}?api-version=2022-12-01", headers=token)
        self.assertEqual((status, sub["subscriptionId"], sub["tenantId"], sub["state"]), (200, SUB, TENANT, "Enabled"))
        status, _, out = self.fake.call("GET", f"/subscriptions/{uuid.uuid4()}?api-version=2022-12-01", headers=token)
        self.assertEqual((status, out["error"]["code"]), (404, "SubscriptionNotFound"))


class ResourceGroups(Base):
    def test_create_get_list_update_and_refusals(self):
        got = self.resource.resource_groups.get(self.rg.upper())  # names are case-insensitive
        self.assertEqual((got.name, got.location, got.properties.provisioning_state), (self.rg, "eastus", "Succeeded"))
        self.assertIn(self.rg, [g.name for g in self.resource.resource_groups.list()])
        again = self.resource.resource_groups.create_or_update(self.rg, {"location": "East US", "tags": {"a": "1"}})
        self.assertEqual(again.tags, {"a": "1"})
        patched = self.resource.resource_groups.update(self.rg, {"tags": {"b": "2"}})
        self.assertEqual(patched.tags, {"b": "2"})
        self.assertEqual([g.name for g in self.resource.resource_groups.list(filter="tagName eq 'b' and tagValue eq '2'")],
                         [self.rg])
        with self.assertRaises(HttpResponseError) as e:
            self.resource.resource_groups.create_or_update(self.rg, {"location": "westus3"})
        self.assertEqual((e.exception.status_code, e.exception.error.code), (409, "InvalidResourceGroupLocation"))
        with self.assertRaises(HttpResponseError) as e:
            self.resource.resource_groups.create_or_update("no-location-rg", {"tags": {}})
        self.assertEqual(e.exception.error.code, "LocationRequired")
        self.assertTrue(self.resource.resource_groups.check_existence(self.rg))
        self.assertFalse(self.resource.resource_groups.check_existence("never-made"))
        with self.assertRaises(ResourceNotFoundError) as e:
            self.resource.resource_groups.get("never-made")
        self.assertEqual(e.exception.error.code, "ResourceGroupNotFound")

    def test_delete_takes_everything_inside(self):
        self.network.virtual_networks.begin_create_or_update(self.rg, "v", {
            "location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                                                 "subnets": [{"name": "s", "properties": {"addressPrefix": "10.0.1.0/24"}}]}}).result()
        poller = self.resource.resource_groups.begin_delete(self.rg)
        self.assertEqual(poller.status(), "InProgress")
        self.assertEqual(self.resource.resource_groups.get(self.rg).properties.provisioning_state, "Deleting")
        poller.result()
        self.assertFalse(self.resource.resource_groups.check_existence(self.rg))
        state = self.fake.admin("GET", "/_fake/state")
        self.assertFalse([i for i in state["resources"] if i.lower().startswith(self.rg_id().lower())])
        with self.assertRaises(ResourceNotFoundError) as e:
            self.resource.resource_groups.begin_delete(self.rg)
        self.assertEqual(e.exception.error.code, "ResourceGroupNotFound")


class Network(Base):
    def test_a_network_and_subnet_through_async_operations(self):
        poller = self.network.virtual_networks.begin_create_or_update(self.rg, "Train-VNet", {
            "location": "eastus", "tags": {"t": "1"},
            "properties": {"addressSpace": {"addressPrefixes": ["10.20.0.0/16"]}}})
        self.assertEqual(poller.status(), "InProgress")
        during = self.network.virtual_networks.get(self.rg, "train-vnet")
        self.assertEqual(during.provisioning_state, "Creating")
        vnet = poller.result()
        self.assertEqual((vnet.name, vnet.provisioning_state), ("Train-VNet", "Succeeded"))
        self.assertTrue(vnet.etag.startswith('W/"'))
        subnet = self.network.subnets.begin_create_or_update(self.rg, "train-vnet", "nodes", {
            "properties": {"addressPrefixes": ["10.20.1.0/24"],
                           "serviceEndpoints": [{"service": "Microsoft.Storage"}]}}).result()
        self.assertEqual(subnet.id, f"{self.rg_id()}/providers/Microsoft.Network/virtualNetworks/Train-VNet/subnets/nodes")
        self.assertEqual(subnet.service_endpoints[0].provisioning_state, "Succeeded")
        got = self.network.virtual_networks.get(self.rg.upper(), "TRAIN-VNET")
        self.assertEqual([s.name for s in got.subnets], ["nodes"])
        self.assertEqual(got.subnets[0].address_prefixes, ["10.20.1.0/24"])
        self.assertEqual([s.name for s in self.network.subnets.list(self.rg, "train-vnet")], ["nodes"])
        # A PUT without `subnets` keeps them (API versions since 2023-09-01).
        self.network.virtual_networks.begin_create_or_update(self.rg, "train-vnet", {
            "location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["10.20.0.0/16"]}}}).result()
        self.assertEqual([s.name for s in self.network.virtual_networks.get(self.rg, "train-vnet").subnets], ["nodes"])
        # Tags PATCH is synchronous in the network provider.
        tagged = self.network.virtual_networks.update_tags(self.rg, "train-vnet", {"tags": {"t": "2"}})
        self.assertEqual(tagged.tags, {"t": "2"})
        self.network.virtual_networks.begin_delete(self.rg, "train-vnet").result()
        with self.assertRaises(ResourceNotFoundError) as e:
            self.network.subnets.get(self.rg, "train-vnet", "nodes")
        self.assertEqual(e.exception.error.code, "ParentResourceNotFound")

    def test_404_bodies(self):
        with self.assertRaises(ResourceNotFoundError) as e:
            self.network.virtual_networks.get(self.rg, "missing")
        self.assertEqual(e.exception.error.code, "ResourceNotFound")
        self.assertIn("The Resource 'Microsoft.Network/virtualNetworks/missing' under resource group", e.exception.error.message)
        with self.assertRaises(ResourceNotFoundError) as e:
            self.network.virtual_networks.get("no-such-rg", "missing")
        self.assertEqual(e.exception.error.code, "ResourceGroupNotFound")
        # DELETE of something missing: 204, no error (the RPC).
        self.network.virtual_networks.begin_delete(self.rg, "missing").result()

    def test_a_security_group_has_its_rules_and_the_default_ones(self):
        nsg = self.network.network_security_groups.begin_create_or_update(self.rg, "nsg", {
            "location": "eastus", "properties": {"securityRules": [{"name": "ssh", "properties": {
                "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                "sourcePortRange": "*", "destinationPortRange": "22", "sourceAddressPrefix": "10.0.0.0/8",
                "destinationAddressPrefix": "*"}}]}}).result()
        self.assertEqual([(r.name, r.destination_port_range, r.provisioning_state) for r in nsg.security_rules],
                         [("ssh", "22", "Succeeded")])
        self.assertEqual(len(nsg.default_security_rules), 6)
        rule = self.network.security_rules.get(self.rg, "nsg", "ssh")
        self.assertEqual(rule.priority, 100)


class Storage(Base):
    def test_an_account_through_a_location_operation_and_a_container(self):
        name = "acct" + uuid.uuid4().hex[:10]
        poller = self.storage.storage_accounts.begin_create(self.rg, name, {
            "location": "westus3", "kind": "StorageV2", "sku": {"name": "Standard_ZRS"},
            "properties": {"isHnsEnabled": True, "minimumTlsVersion": "TLS1_2"}, "tags": {"p": "ckpt"}})
        account = poller.result()
        self.assertEqual(account.primary_endpoints.blob, f"https://{name}.blob.core.windows.net/")
        self.assertEqual((account.primary_location, account.status_of_primary), ("westus3", "available"))
        self.assertTrue(account.is_hns_enabled)
        log = self.fake.admin("GET", "/_fake/requests")["requests"]
        self.assertTrue(any("/operationResults/" in r["path"] for r in log), "polled through its Location")
        container = self.storage.blob_containers.create(self.rg, name, "runs", {
            "properties": {"publicAccess": "None", "metadata": {"owner": "ml"}}})
        self.assertEqual(container.public_access, "None")
        self.assertEqual([c.name for c in self.storage.blob_containers.list(self.rg, name)], ["runs"])
        changed = self.storage.storage_accounts.update(self.rg, name, {"properties": {"minimumTlsVersion": "TLS1_1"}})
        self.assertEqual(changed.minimum_tls_version, "TLS1_1")
        # Account names are global: taken in another group.
        other = "rg-" + uuid.uuid4().hex[:8]
        self.resource.resource_groups.create_or_update(other, {"location": "eastus"})
        with self.assertRaises(HttpResponseError) as e:
            self.storage.storage_accounts.begin_create(other, name, {
                "location": "eastus", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}).result()
        self.assertEqual((e.exception.status_code, e.exception.error.code), (409, "StorageAccountAlreadyTaken"))
        self.storage.storage_accounts.delete(self.rg, name)  # synchronous
        with self.assertRaises(ResourceNotFoundError):
            self.storage.blob_containers.get(self.rg, name, "runs")

    def test_a_failure_inside_a_location_operation(self):
        self.fake.admin("POST", "/_fake/faults", {
            "method": "PUT", "type": "Microsoft.Storage/storageAccounts", "times": 1, "in_operation": True,
            "status": 409, "error": {"code": "StorageAccountOperationInProgress", "message": "busy"}})
        name = "acct" + uuid.uuid4().hex[:10]
        with self.assertRaises(HttpResponseError) as e:
            self.storage.storage_accounts.begin_create(self.rg, name, {
                "location": "eastus", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}).result()
        self.assertEqual(e.exception.error.code, "ResourceOperationFailure")
        self.assertEqual(e.exception.error.details[0].code, "StorageAccountOperationInProgress")
        with self.assertRaises(ResourceNotFoundError):
            self.storage.storage_accounts.get_properties(self.rg, name)


class Authorization(Base):
    def role_id(self, name):
        found = list(self.auth.role_definitions.list(self.rg_id(), filter=f"roleName eq '{name}'"))
        self.assertEqual(len(found), 1)
        return found[0].id

    def test_an_identity_gets_a_role_once_the_directory_has_replicated_it(self):
        self.fake.admin("POST", "/_fake/config", {"principal_replication_seconds": 1.0})
        ident = self.msi.user_assigned_identities.create_or_update(self.rg, "trainer", {"location": "eastus"})
        self.assertTrue(ident.principal_id and ident.client_id)
        self.assertEqual(ident.tenant_id, TENANT)
        again = self.msi.user_assigned_identities.create_or_update(self.rg, "trainer", {"location": "eastus", "tags": {"x": "y"}})
        self.assertEqual(again.principal_id, ident.principal_id, "stable across updates")
        role = self.role_id("Storage Blob Data Reader")
        self.assertEqual(role, f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{READER}")
        params = {"role_definition_id": role, "principal_id": ident.principal_id, "principal_type": "ServicePrincipal"}
        name = str(uuid.uuid4())
        with self.assertRaises(HttpResponseError) as e:
            self.auth.role_assignments.create(self.rg_id(), name, params)
        self.assertEqual((e.exception.status_code, e.exception.error.code), (400, "PrincipalNotFound"))
        time.sleep(1.0)
        made = self.auth.role_assignments.create(self.rg_id(), name, params)
        self.assertEqual((made.principal_id, made.role_definition_id, made.scope), (ident.principal_id, role, self.rg_id()))
        got = self.auth.role_assignments.get(self.rg_id(), name)
        self.assertEqual(got.id, f"{self.rg_id()}/providers/Microsoft.Authorization/roleAssignments/{name}")
        with self.assertRaises(HttpResponseError) as e:
            self.auth.role_assignments.create(self.rg_id(), str(uuid.uuid4()), params)
        self.assertEqual((e.exception.status_code, e.exception.error.code), (409, "RoleAssignmentExists"))
        listed = list(self.auth.role_assignments.list_for_scope(self.rg_id(), filter=f"principalId eq '{ident.principal_id}'"))
        self.assertEqual([a.name for a in listed], [name])
        self.auth.role_assignments.delete(self.rg_id(), name)
        self.assertEqual(list(self.auth.role_assignments.list_for_scope(self.rg_id(), filter="atScope()")), [])

    def test_roles_on_a_resource_scope_and_for_the_client_itself(self):
        me = self.fake.admin("GET", "/_fake/state")["client"]["object_id"]
        ident = self.msi.user_assigned_identities.create_or_update(self.rg, "scoped", {"location": "eastus"})
        name = str(uuid.uuid4())
        made = self.auth.role_assignments.create(ident.id, name, {
            "role_definition_id": self.role_id("Managed Identity Operator"), "principal_id": me})
        self.assertEqual(made.scope, ident.id)
        # An extension resource's id keeps its provider namespace under the scope, and a
        # GET by that id finds it.
        self.assertEqual(made.id, f"{ident.id}/providers/Microsoft.Authorization/roleAssignments/{name}")
        self.assertEqual(self.auth.role_assignments.get_by_id(made.id).principal_id, me)
        with self.assertRaises(HttpResponseError) as e:
            self.auth.role_assignments.create(self.rg_id(), str(uuid.uuid4()), {
                "role_definition_id": self.role_id("Reader"), "principal_id": str(uuid.uuid4())})
        self.assertEqual(e.exception.error.code, "PrincipalNotFound")
        # The scope goes, its assignments go.
        self.msi.user_assigned_identities.delete(self.rg, "scoped")
        with self.assertRaises(ResourceNotFoundError):
            self.auth.role_assignments.get(ident.id, name)
        by_id = self.auth.role_definitions.get_by_id(f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c")
        self.assertEqual((by_id.role_name, by_id.role_type), ("Contributor", "BuiltInRole"))


class Kubernetes(Base):
    def test_a_cluster_its_pools_and_their_usage(self):
        cluster = self.cluster("train-aks")
        self.assertEqual(cluster.provisioning_state, "Succeeded")
        self.assertRegex(cluster.fqdn, r"^train-aks-[0-9a-f]{8}\.hcp\.eastus\.azmk8s\.io$")
        self.assertEqual(cluster.node_resource_group, f"MC_{self.rg}_train-aks_eastus")
        self.assertTrue(cluster.oidc_issuer_profile.issuer_url.startswith("https://eastus.oic.prod-aks.azure.com/"))
        self.assertTrue(cluster.identity.principal_id)
        self.assertEqual(cluster.kubernetes_version, "1.30.6")
        self.assertEqual([(p.name, p.count, p.mode) for p in cluster.agent_pool_profiles], [("system", 2, "System")])
        pool = self.aks.agent_pools.begin_create_or_update(self.rg, "train-aks", "h100", {
            "properties": {"vmSize": "Standard_ND96isr_H100_v5", "count": 1, "availabilityZones": ["2"],
                           "gpuProfile": {"driver": "Install"}}}).result()
        self.assertEqual((pool.provisioning_state, pool.mode, pool.orchestrator_version), ("Succeeded", "User", "1.30.6"))
        self.aks.agent_pools.begin_create_or_update(self.rg, "train-aks", "spot", {
            "properties": {"vmSize": "Standard_NC24ads_A100_v4", "count": 2, "scaleSetPriority": "Spot"}}).result()
        got = self.aks.managed_clusters.get(self.rg, "TRAIN-AKS")
        self.assertEqual(sorted(p.name for p in got.agent_pool_profiles), ["h100", "spot", "system"])
        self.assertEqual(sorted(p.name for p in self.aks.agent_pools.list(self.rg, "train-aks")), ["h100", "spot", "system"])
        usage = {u.name.value: u for u in self.compute.usage.list("eastus")}
        self.assertGreaterEqual(usage["standardDSv5Family"].current_value, 8)
        self.assertGreaterEqual(usage["standardNDSH100v5Family"].current_value, 96)
        self.assertGreaterEqual(usage["lowPriorityCores"].current_value, 48)
        self.assertEqual(usage["lowPriorityCores"].name.localized_value, "Total Regional Low-priority vCPUs")
        self.assertEqual(usage["cores"].name.localized_value, "Total Regional vCPUs")
        self.aks.agent_pools.begin_delete(self.rg, "train-aks", "spot").result()
        self.aks.managed_clusters.begin_delete(self.rg, "train-aks").result()
        with self.assertRaises(ResourceNotFoundError):
            self.aks.agent_pools.get(self.rg, "train-aks", "h100")

    def test_a_pool_over_its_family_quota_fails_inside_its_operation(self):
        self.cluster("quota-aks", location="southcentralus")
        self.fake.admin("POST", "/_fake/quotas", {"location": "southcentralus", "name": "standardNDSH100v5Family", "limit": 96})
        self.aks.agent_pools.begin_create_or_update(self.rg, "quota-aks", "one", {
            "properties": {"vmSize": "Standard_ND96isr_H100_v5", "count": 1}}).result()
        poller = self.aks.agent_pools.begin_create_or_update(self.rg, "quota-aks", "two", {
            "properties": {"vmSize": "Standard_ND96isr_H100_v5", "count": 1}})
        with self.assertRaises(HttpResponseError) as e:
            poller.result()
        err = e.exception.error
        self.assertEqual(err.code, "QuotaExceeded")
        self.assertEqual(err.details[0].code, "OperationNotAllowed")
        self.assertIn("exceeding approved standardNDSH100v5Family Cores quota", err.details[0].message)
        self.assertIn("Location: southcentralus, Current Limit: 96, Current Usage: 96, Additional Required: 96, "
                      "(Minimum) New Limit Required: 192", err.details[0].message)
        self.assertEqual(sorted(p.name for p in self.aks.agent_pools.list(self.rg, "quota-aks")), ["one", "system"])
        usage = {u.name.value: u for u in self.compute.usage.list("southcentralus")}
        self.assertEqual((usage["standardNDSH100v5Family"].current_value, usage["standardNDSH100v5Family"].limit), (96, 96))

    def test_an_injected_allocation_failure_surfaces_in_the_error_details(self):
        self.cluster("fault-aks")
        message = ("Allocation failed. VM(s) with the following constraints cannot be allocated, because the condition "
                   "is too restrictive. Please remove some constraints and try again. Constraints applied are: - "
                   "Availability Zone: 2 - VM Size: Standard_ND96isr_H100_v5")
        self.fake.admin("POST", "/_fake/faults", {
            "method": "PUT", "type": "Microsoft.ContainerService/managedClusters/agentPools", "name": "H100",
            "times": 1, "status": 409, "in_operation": True,
            "error": {"code": "OverconstrainedZonalAllocationRequest", "message": message}})
        body = {"properties": {"vmSize": "Standard_ND96isr_H100_v5", "count": 1, "availabilityZones": ["2"]}}
        with self.assertRaises(HttpResponseError) as e:
            self.aks.agent_pools.begin_create_or_update(self.rg, "fault-aks", "h100", body).result()
        self.assertEqual(e.exception.error.code, "ResourceOperationFailure")
        self.assertEqual(e.exception.error.details[0].code, "OverconstrainedZonalAllocationRequest")
        self.assertIn("Availability Zone: 2", e.exception.error.details[0].message)
        with self.assertRaises(ResourceNotFoundError):
            self.aks.agent_pools.get(self.rg, "fault-aks", "h100")
        pool = self.aks.agent_pools.begin_create_or_update(self.rg, "fault-aks", "h100", body).result()
        self.assertEqual(pool.availability_zones, ["2"])


class Compute(Base):
    def scale_set(self, name, size, capacity, zones=None, location="westeurope", spot=False):
        body = {"location": location, "sku": {"name": size, "tier": "Standard", "capacity": capacity},
                "properties": {"orchestrationMode": "Uniform", "upgradePolicy": {"mode": "Manual"},
                               "virtualMachineProfile": {
                                   "osProfile": {"computerNamePrefix": name, "adminUsername": "azureuser",
                                                 "adminPassword": "Secret-Passw0rd!"},
                                   **({"priority": "Spot", "evictionPolicy": "Delete"} if spot else {})}}}
        if zones:
            body["zones"] = zones
        return self.compute.virtual_machine_scale_sets.begin_create_or_update(self.rg, name, body)

    def test_skus_and_usages(self):
        skus = [s for s in self.compute.resource_skus.list(filter="location eq 'eastus'")]
        by_name = {s.name: s for s in skus}
        h100 = by_name["Standard_ND96isr_H100_v5"]
        caps = {c.name: c.value for c in h100.capabilities}
        self.assertEqual((h100.family, caps["vCPUs"], caps["GPUs"]), ("standardNDSH100v5Family", "96", "8"))
        self.assertEqual(h100.location_info[0].zones, ["1", "2", "3"])
        self.assertEqual(by_name["Standard_ND96isr_H200_v5"].family, "standardNDISRH200V5Family")
        self.assertTrue(all(s.locations == ["eastus"] for s in skus))
        names = {u.name.value for u in self.compute.usage.list("eastus")}
        self.assertTrue({"cores", "lowPriorityCores", "standardNDSH100v5Family", "StandardNCADSA100v4Family",
                         "standardNCASv3_T4Family", "standardDSv5Family", "standardESv5Family"} <= names)

    def test_a_scale_set_counts_and_hits_its_quota_and_restrictions(self):
        vmss = self.scale_set("cpu", "Standard_D16s_v5", 2).result()
        self.assertTrue(vmss.unique_id)
        self.assertIsNone(vmss.virtual_machine_profile.os_profile.admin_password, "write-only")
        usage = {u.name.value: u.current_value for u in self.compute.usage.list("westeurope")}
        self.assertGreaterEqual(usage["standardDSv5Family"], 32)
        self.fake.admin("POST", "/_fake/quotas", {"location": "westeurope", "name": "cores", "limit": usage["cores"] + 8})
        with self.assertRaises(HttpResponseError) as e:
            self.scale_set("more", "Standard_D16s_v5", 1).result()
        self.assertEqual(e.exception.error.details[0].code, "OperationNotAllowed")
        self.assertIn("Total Regional Cores quota", e.exception.error.details[0].message)
        with self.assertRaises(ResourceNotFoundError):
            self.compute.virtual_machine_scale_sets.get(self.rg, "more")
        self.fake.admin("POST", "/_fake/quotas", {"location": "westeurope", "name": "lowPriorityCores", "limit": 8})
        with self.assertRaises(HttpResponseError) as e:
            self.scale_set("spot", "Standard_D16s_v5", 1, spot=True).result()
        self.assertIn("Low Priority Cores quota", e.exception.error.details[0].message)
        self.fake.admin("POST", "/_fake/skus", {"location": "westeurope", "name": "Standard_NC4as_T4_v3",
                                                "restriction": {"type": "Zone", "zones": ["2"]}})
        t4 = [s for s in self.compute.resource_skus.list(filter="location eq 'westeurope'") if s.name == "Standard_NC4as_T4_v3"][0]
        self.assertEqual((t4.restrictions[0].type, t4.restrictions[0].restriction_info.zones), ("Zone", ["2"]))
        with self.assertRaises(HttpResponseError) as e:
            self.scale_set("t4", "Standard_NC4as_T4_v3", 1, zones=["2"]).result()
        self.assertEqual(e.exception.error.code, "SkuNotAvailable")
        self.scale_set("t4", "Standard_NC4as_T4_v3", 1, zones=["1"]).result()


class Generic(Base):
    def test_other_types_through_the_generic_resource_api(self):
        kv = KeyVaultManagementClient(**self.kw)
        name = "kv-" + uuid.uuid4().hex[:8]
        vault = kv.vaults.begin_create_or_update(self.rg, name, {
            "location": "eastus", "properties": {"tenantId": TENANT, "sku": {"family": "A", "name": "standard"}}}).result()
        self.assertEqual(vault.properties.vault_uri, f"https://{name}.vault.azure.net/")
        by_id = self.resource.resources.begin_create_or_update_by_id
        comp = by_id(f"{self.rg_id()}/providers/Microsoft.Insights/components/ai", "2020-02-02", {
            "location": "eastus", "kind": "web", "properties": {"Application_Type": "web"}}).result()
        self.assertTrue(comp.properties["InstrumentationKey"])
        self.assertIn(f"InstrumentationKey={comp.properties['InstrumentationKey']};", comp.properties["ConnectionString"])
        ws = by_id(f"{self.rg_id()}/providers/Microsoft.MachineLearningServices/workspaces/ws", "2024-04-01", {
            "location": "eastus", "identity": {"type": "SystemAssigned"}, "properties": {}}).result()
        self.assertTrue(ws.identity.principal_id)
        self.assertEqual(ws.properties["discoveryUrl"], "https://eastus.api.azureml.ms/discovery")
        self.assertEqual(ws.properties["provisioningState"], "Succeeded")
        with self.assertRaises(HttpResponseError) as e:
            by_id(f"{self.rg_id()}/providers/Microsoft.Example/widgets/w/gadgets/g", "2024-01-01", {
                "properties": {"size": 3}}).result()
        self.assertEqual(e.exception.error.code, "ParentResourceNotFound")
        with self.assertRaises(HttpResponseError) as e:
            by_id(f"{self.rg_id()}/providers/Microsoft.Example/widgets/w", "2024-01-01", {"properties": {}}).result()
        self.assertEqual(e.exception.error.code, "LocationRequired")
        by_id(f"{self.rg_id()}/providers/Microsoft.Example/widgets/w", "2024-01-01", {
            "location": "eastus", "properties": {"size": 1}}).result()
        gadget = by_id(f"{self.rg_id()}/providers/Microsoft.Example/widgets/w/gadgets/g", "2024-01-01", {
            "properties": {"size": 3}}).result()
        self.assertEqual(gadget.type, "Microsoft.Example/widgets/gadgets")
        names = sorted(r.name for r in self.resource.resources.list_by_resource_group(self.rg))
        self.assertEqual(names, sorted(["ai", "ws", "w", name]))
        self.assertIn("ws", [r.name for r in self.resource.resources.list(
            filter="resourceType eq 'Microsoft.MachineLearningServices/workspaces'")])
        self.assertIn(name, [v.name for v in kv.vaults.list_by_subscription()])


class SoftDelete(Base):
    def vault(self, kv, name, protect=False):
        props = {"tenantId": TENANT, "sku": {"family": "A", "name": "standard"}, "enableRbacAuthorization": True}
        if protect:
            props["enablePurgeProtection"] = True
        return kv.vaults.begin_create_or_update(self.rg, name, {"location": "eastus", "properties": props}).result()

    def test_a_deleted_vault_keeps_its_name_until_it_is_purged(self):
        kv = KeyVaultManagementClient(**self.kw)
        name = "kv-" + uuid.uuid4().hex[:10]
        self.vault(kv, name)
        kv.vaults.delete(self.rg, name)
        deleted = kv.vaults.get_deleted(name, "eastus")
        self.assertEqual(deleted.properties.vault_id, f"{self.rg_id()}/providers/Microsoft.KeyVault/vaults/{name}")
        self.assertIn(name, [v.name for v in kv.vaults.list_deleted()])
        with self.assertRaises(HttpResponseError) as e:
            self.vault(kv, name)
        self.assertEqual(e.exception.error.code, "ConflictError")
        kv.vaults.begin_purge_deleted(name, "eastus").result()
        self.assertNotIn(name, [v.name for v in kv.vaults.list_deleted()])
        with self.assertRaises(ResourceNotFoundError):
            kv.vaults.get_deleted(name, "eastus")
        self.vault(kv, name)

    def test_purge_protection_refuses_the_purge_and_a_group_delete_soft_deletes_its_vaults(self):
        kv = KeyVaultManagementClient(**self.kw)
        name = "kv-" + uuid.uuid4().hex[:10]
        self.vault(kv, name, protect=True)
        self.resource.resource_groups.begin_delete(self.rg).result()
        self.assertIn(name, [v.name for v in kv.vaults.list_deleted()])
        with self.assertRaises(HttpResponseError) as e:
            kv.vaults.begin_purge_deleted(name, "eastus").result()
        self.assertEqual(e.exception.status_code, 409)
        self.resource.resource_groups.create_or_update(self.rg, {"location": "eastus"})


class WorkspaceSoftDelete(Base):
    """Azure ML's workspace soft delete, through azure-mgmt-resource's generic resource
    client: a plain DELETE keeps the name taken until a DELETE with forceToPurge=true."""

    API = "2024-04-01"

    def workspace(self, rid):
        body = {"location": "eastus", "identity": {"type": "SystemAssigned"}, "properties": {}}
        return self.resource.resources.begin_create_or_update_by_id(rid, self.API, body).result()

    def purge(self, rid):
        status, _, body = self.fake.call("DELETE", f"{rid}?api-version={self.API}&forceToPurge=true",
                                         headers={"Authorization": "Bearer " + self.fake.token()})
        return status, body

    def test_a_deleted_workspace_keeps_its_name_until_it_is_purged(self):
        rid = f"{self.rg_id()}/providers/Microsoft.MachineLearningServices/workspaces/ws-{uuid.uuid4().hex[:8]}"
        self.workspace(rid)
        self.resource.resources.begin_delete_by_id(rid, self.API).result()
        with self.assertRaises(ResourceNotFoundError):
            self.resource.resources.get_by_id(rid, self.API)
        with self.assertRaises(HttpResponseError) as e:
            self.workspace(rid)
        self.assertEqual(e.exception.status_code, 400)
        self.assertIn("Soft-deleted workspace exists", str(e.exception))
        deleted = self.fake.admin("GET", "/_fake/state")["deleted_workspaces"]
        self.assertIn(rid.lower(), [d["id"].lower() for d in deleted])
        # The soft-deleted workspace purged: the name is free.
        status, _ = self.purge(rid)
        self.assertEqual(status, 204)
        self.workspace(rid)
        # Deleted with forceToPurge=true: gone at once, nothing soft-deleted.
        status, _ = self.purge(rid)
        self.assertIn(status, (200, 202, 204))
        for _ in range(100):
            try:
                self.resource.resources.get_by_id(rid, self.API)
            except ResourceNotFoundError:
                break
            time.sleep(0.05)
        self.workspace(rid)


class KeyVaultKeys(Base):
    """The Key Vault keys data plane, through azure-keyvault-keys: the challenge protocol,
    versioned keys, and a wrap the SDK makes locally from the fake's public key (n, e) that
    the fake unwraps with the private key."""

    def client(self):
        from azure.keyvault.keys import KeyClient
        return KeyClient(self.fake.base, Credential(self.fake),
                         verify_challenge_resource=False, connection_verify=self.fake.ca)

    def test_keys_wrap_locally_and_unwrap_in_the_vault(self):
        from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm
        keys = self.client()
        first = keys.create_rsa_key("state", size=2048)
        second = keys.create_rsa_key("state", size=2048)
        self.assertNotEqual(first.properties.version, second.properties.version)
        self.assertEqual(keys.get_key("state").properties.version, second.properties.version)
        self.assertEqual(keys.get_key("state", first.properties.version).id, first.id)
        secret = uuid.uuid4().bytes * 2
        # The SDK wraps with the public key it read, on this machine; the vault unwraps.
        crypto = CryptographyClient(first, Credential(self.fake), verify_challenge_resource=False,
                                    connection_verify=self.fake.ca)
        wrapped = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, secret)
        self.assertEqual(crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key).key, secret)
        ops = self.fake.admin("GET", "/_fake/keyvault")["operations"]
        self.assertIn({"name": "state", "version": first.properties.version, "op": "unwrapkey"}, ops)
        # Another version's private key does not unwrap it.
        other = CryptographyClient(second, Credential(self.fake), verify_challenge_resource=False,
                                   connection_verify=self.fake.ca)
        with self.assertRaises(HttpResponseError):
            other.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key)
        with self.assertRaises(ResourceNotFoundError):
            keys.get_key("missing")

    def test_a_management_token_is_not_a_vault_token(self):
        status, headers, body = self.fake.call("GET", "/keys/state?api-version=7.5")
        self.assertEqual(status, 401)
        self.assertIn('resource="https://vault.azure.net"', headers["WWW-Authenticate"])
        status, _, body = self.fake.call("GET", "/keys/state?api-version=7.5",
                                         headers={"Authorization": "Bearer " + self.fake.token()})
        self.assertEqual(status, 401, body)
        self.assertIn("Invalid audience", body["error"]["message"])


class Faults(Base):
    def test_throttling_with_retry_after(self):
        self.fake.admin("POST", "/_fake/faults", {
            "method": "PUT", "type": "Microsoft.Network/virtualNetworks", "times": 1, "status": 429, "retry_after": 7,
            "error": {"code": "TooManyRequests", "message": "slow down"}})
        no_retry = NetworkManagementClient(**self.kw, retry_total=0)
        body = {"location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}
        with self.assertRaises(HttpResponseError) as e:
            no_retry.virtual_networks.begin_create_or_update(self.rg, "v", body)
        self.assertEqual(e.exception.status_code, 429)
        self.assertEqual(e.exception.response.headers["Retry-After"], "7")
        self.assertEqual(e.exception.error.code, "TooManyRequests")
        # A client that retries gets through: the fault was one-off.
        self.fake.admin("POST", "/_fake/faults", {
            "method": "PUT", "type": "Microsoft.Network/virtualNetworks", "times": 1, "status": 429, "retry_after": 0,
            "error": {"code": "TooManyRequests", "message": "slow down"}})
        self.network.virtual_networks.begin_create_or_update(self.rg, "v", body).result()
        puts = [r for r in self.fake.admin("GET", "/_fake/requests")["requests"]
                if r["method"] == "PUT" and r["path"].endswith(f"{self.rg}/providers/Microsoft.Network/virtualNetworks/v")]
        self.assertEqual(len(puts), 3)

    def test_a_second_change_while_an_operation_runs_is_refused(self):
        self.fake.admin("POST", "/_fake/config", {"operation_seconds": 2.0})
        self.aks.managed_clusters.begin_create_or_update(self.rg, "busy", {
            "location": "eastus", "properties": {"dnsPrefix": "busy", "agentPoolProfiles": [
                {"name": "system", "vmSize": "Standard_D4s_v5", "count": 1}]}})
        with self.assertRaises(HttpResponseError) as e:
            self.aks.agent_pools.begin_create_or_update(self.rg, "busy", "more", {
                "properties": {"vmSize": "Standard_D4s_v5", "count": 1}})
        self.assertEqual((e.exception.status_code, e.exception.error.code), (409, "AnotherOperationInProgress"))
        state = self.fake.admin("GET", "/_fake/state")
        self.assertTrue(any(o["status"] == "InProgress" for o in state["operations"].values()))
        # Another provider's resource on it (a role assignment) is not held up.
        cluster_id = f"{self.rg_id()}/providers/Microsoft.ContainerService/managedClusters/busy"
        made = self.auth.role_assignments.create(cluster_id, str(uuid.uuid4()), {
            "role_definition_id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
                                  "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
            "principal_id": state["client"]["object_id"]})
        self.assertEqual(made.scope, cluster_id)


class Timings(unittest.TestCase):
    def test_timings_hold_operations_for_azure_typical_times_scaled(self):
        sys.path.insert(0, str(SERVER.parent))
        import behaviour
        self.assertEqual(behaviour.typical_seconds("microsoft.network/VIRTUALNETWORKS", "PUT"), 10)
        self.assertEqual(behaviour.typical_seconds("Microsoft.Compute/virtualMachineScaleSets", "DELETE"), 180)
        self.assertIsNone(behaviour.typical_seconds("Microsoft.ManagedIdentity/userAssignedIdentities", "PUT"))
        fake = FakeServer("--timings", "1/25")  # a network 0.4 s, a key vault 0.8 s (held answer)
        try:
            kw = dict(credential=Credential(fake), subscription_id=SUB, base_url=fake.base,
                      connection_verify=fake.ca, polling_interval=0.05)
            ResourceManagementClient(**kw).resource_groups.create_or_update("timed", {"location": "eastus"})
            network, msi = NetworkManagementClient(**kw), ManagedServiceIdentityClient(**kw)
            t0 = time.time()
            poller = network.virtual_networks.begin_create_or_update("timed", "v", {
                "location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}})
            self.assertEqual(poller.status().lower(), "inprogress")
            poller.result()
            self.assertGreaterEqual(time.time() - t0, 0.4)
            self.assertLess(time.time() - t0, 3.0)
            t0 = time.time()
            KeyVaultManagementClient(**kw).vaults.begin_create_or_update("timed", "timed-kv", {
                "location": "eastus", "properties": {"tenantId": TENANT, "sku": {"family": "A", "name": "standard"}}}).result()
            self.assertGreaterEqual(time.time() - t0, 0.8)
            t0 = time.time()
            msi.user_assigned_identities.create_or_update("timed", "fast", {"location": "eastus"})
            self.assertLess(time.time() - t0, 0.4, "an identity is not held")
            self.assertEqual(fake.admin("GET", "/_fake/config")["timings"], 0.04)
        finally:
            fake.stop()


if __name__ == "__main__":
    unittest.main()
