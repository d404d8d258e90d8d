"""The sequential baseline of bench/azure_timings.sh: what examples/llm-training-azure makes
(its modules stacks/azure/network, gpu-fleet, training-storage and ml-platform), made and
deleted one object after another with Microsoft's azure-mgmt SDKs (the ones the contract
fake's self-test uses: tests/azure/fake/requirements.txt), waiting for each long-running
operation as a careful script does (azure-core's ARM polling, every second x SCALE when the
answer's Retry-After says nothing), against the contract fake (tests/azure/fake).

    python bench/azure_client_baseline.py BASE_URL CA_PEM SUBSCRIPTION TENANT CLIENT_ID CLIENT_SECRET SCALE
        -> {"create_s": ..., "destroy_s": ..., "objects": 19}

The token comes from the fake's Entra endpoint (`/{tenant}/oauth2/v2.0/token`, client
credentials), as azure-identity's ClientSecretCredential would get it. The venv has no
azure-mgmt-applicationinsights or azure-mgmt-machinelearningservices: the Application
Insights component and the ML workspace go through azure-mgmt-resource's generic
resources API (by id, the API versions gantry uses), which polls the same way.
"""

import json
import ssl
import sys
import time
import urllib.parse
import urllib.request
import uuid
from fractions import Fraction

from azure.core.credentials import AccessToken
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.resource import ResourceManagementClient
from azure.mgmt.storage import StorageManagementClient

BASE, CA, SUB, TENANT, CLIENT_ID, SECRET = sys.argv[1:7]
SCALE = float(Fraction(sys.argv[7]))
POLL = 1.0 * SCALE

# The example's defaults (examples/llm-training-azure/main.hcl) and its modules'.
LOCATION, NAME, INSTANCES = "eastus", "llmtrain", 2
VM_SIZE, ZONE = "Standard_ND96isr_H100_v5", "1"
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGFudHJ5LWV4YW1wbGUta2V5LXJlcGxhY2UtbWU= replace-me"
TAGS = {"project": NAME, "managed-by": "gantry"}  # the provider's default_tags
RG = f"{NAME}-rg"
ML = f"{NAME}-ml"
DATA_ACCOUNT, ARTIFACTS_ACCOUNT = f"{NAME}data", f"{NAME}mlart"
INSIGHTS_API, WORKSPACE_API = "2020-02-02", "2024-04-01"


class Credential:
    """Client credentials from the fake's token endpoint (what ClientSecretCredential does)."""

    def __init__(self):
        self.tls = ssl.create_default_context(cafile=CA)
        self.token = None

    def get_token(self, *scopes, **kwargs):
        if self.token and self.token.expires_on > time.time() + 300:
            return self.token  # one token for every client, as a shared credential caches it
        form = urllib.parse.urlencode({
            "client_id": CLIENT_ID, "client_secret": SECRET, "grant_type": "client_credentials",
            "scope": "https://management.azure.com/.default"}).encode()
        req = urllib.request.Request(f"{BASE}/{TENANT}/oauth2/v2.0/token", data=form)
        got = json.loads(urllib.request.urlopen(req, context=self.tls).read())
        self.token = AccessToken(got["access_token"], int(time.time()) + int(got.get("expires_in", 3000)))
        return self.token


kw = dict(credential=Credential(), subscription_id=SUB, base_url=BASE, connection_verify=CA,
          polling_interval=POLL)
resource = ResourceManagementClient(**kw)
network = NetworkManagementClient(**kw)
compute = ComputeManagementClient(**kw)
storage = StorageManagementClient(**kw)
msi = ManagedServiceIdentityClient(**kw)
auth = AuthorizationManagementClient(**kw)
keyvault = KeyVaultManagementClient(**kw)

RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"


def rid(provider_path):
    return f"{RG_ID}/providers/{provider_path}"


def role_id(scope, name):
    """The role definition's id, looked up by name at the assignment's scope (what azurerm's
    `role_definition_name` does)."""
    found = list(auth.role_definitions.list(scope, filter=f"roleName eq '{name}'"))
    assert len(found) == 1, (name, found)
    return found[0].id


def grant(scope, role, principal):
    name = str(uuid.uuid4())
    auth.role_assignments.create(scope, name, {
        "role_definition_id": role_id(scope, role), "principal_id": principal,
        "principal_type": "ServicePrincipal"})
    return scope, name


def subnet_body(nsg_id=None):
    body = {"properties": {"addressPrefixes": ["10.20.0.0/20"], "serviceEndpoints": [
        {"service": "Microsoft.Storage"}, {"service": "Microsoft.KeyVault"}]}}
    if nsg_id:
        body["properties"]["networkSecurityGroup"] = {"id": nsg_id}
    return body


def rule(name, priority, protocol, port, source, access="Allow"):
    return {"name": name, "properties": {
        "priority": priority, "direction": "Inbound", "access": access, "protocol": protocol,
        "sourcePortRange": "*", "destinationPortRange": port, "sourceAddressPrefix": source,
        "destinationAddressPrefix": "*"}}


def create():
    made = {}
    # The resource group and stacks/azure/network.
    resource.resource_groups.create_or_update(RG, {"location": LOCATION})
    network.virtual_networks.begin_create_or_update(RG, NAME, {
        "location": LOCATION, "tags": TAGS,
        "properties": {"addressSpace": {"addressPrefixes": ["10.20.0.0/16"]}}}).result()
    subnet = network.subnets.begin_create_or_update(RG, NAME, "nodes", subnet_body()).result()
    nsg = network.network_security_groups.begin_create_or_update(RG, f"{NAME}-nodes", {
        "location": LOCATION, "tags": TAGS, "properties": {"securityRules": [
            rule("inside-network", 100, "*", "*", "10.20.0.0/16"),
            rule("ssh", 200, "Tcp", "22", "Internet", access="Deny")]}}).result()
    network.subnets.begin_create_or_update(RG, NAME, "nodes", subnet_body(nsg.id)).result()  # the association
    # The trainers' identity, then stacks/azure/gpu-fleet.
    trainers = msi.user_assigned_identities.create_or_update(RG, f"{NAME}-trainers", {
        "location": LOCATION, "tags": TAGS})
    ppg = compute.proximity_placement_groups.create_or_update(RG, f"{NAME}-ppg", {
        "location": LOCATION, "tags": TAGS, "zones": [ZONE],
        "properties": {"intent": {"vmSizes": [VM_SIZE]}}})
    compute.virtual_machine_scale_sets.begin_create_or_update(RG, NAME, {
        "location": LOCATION, "tags": TAGS, "zones": [ZONE],
        "sku": {"name": VM_SIZE, "tier": "Standard", "capacity": INSTANCES},
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {trainers.id: {}}},
        "properties": {
            "orchestrationMode": "Uniform", "upgradePolicy": {"mode": "Manual"},
            "singlePlacementGroup": True, "platformFaultDomainCount": 1, "overprovision": False,
            "proximityPlacementGroup": {"id": ppg.id},
            "virtualMachineProfile": {
                "priority": "Regular",
                "osProfile": {"computerNamePrefix": NAME, "adminUsername": "azureuser",
                              "linuxConfiguration": {"disablePasswordAuthentication": True, "ssh": {"publicKeys": [
                                  {"path": "/home/azureuser/.ssh/authorized_keys", "keyData": SSH_KEY}]}}},
                "storageProfile": {
                    "imageReference": {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc",
                                       "sku": "2204", "version": "latest"},
                    "osDisk": {"caching": "ReadWrite", "createOption": "FromImage", "diskSizeGB": 256,
                               "managedDisk": {"storageAccountType": "Premium_LRS"}}},
                "networkProfile": {"networkInterfaceConfigurations": [{
                    "name": f"{NAME}-nic", "properties": {
                        "primary": True, "enableAcceleratedNetworking": True,
                        "ipConfigurations": [{"name": "internal", "properties": {
                            "primary": True, "subnet": {"id": subnet.id}}}]}}]}}}}).result()
    # stacks/azure/training-storage.
    data = storage.storage_accounts.begin_create(RG, DATA_ACCOUNT, {
        "location": LOCATION, "tags": TAGS, "kind": "StorageV2", "sku": {"name": "Standard_ZRS"},
        "properties": {"isHnsEnabled": True, "minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False,
                       "allowSharedKeyAccess": False, "supportsHttpsTrafficOnly": True}}).result()
    for container in ("datasets", "checkpoints"):
        storage.blob_containers.create(RG, DATA_ACCOUNT, container, {"properties": {"publicAccess": "None"}})
    made["grants"] = [grant(data.id, "Storage Blob Data Contributor", trainers.principal_id)]
    # stacks/azure/ml-platform.
    jobs = msi.user_assigned_identities.create_or_update(RG, f"{ML}-jobs", {"location": LOCATION, "tags": TAGS})
    vault = keyvault.vaults.begin_create_or_update(RG, f"{ML}-kv", {
        "location": LOCATION, "tags": TAGS, "properties": {
            "tenantId": TENANT, "sku": {"family": "A", "name": "standard"}, "enableRbacAuthorization": True,
            "softDeleteRetentionInDays": 7, "accessPolicies": []}}).result()
    artifacts = storage.storage_accounts.begin_create(RG, ARTIFACTS_ACCOUNT, {
        "location": LOCATION, "tags": TAGS, "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
        "properties": {"minimumTlsVersion": "TLS1_2", "supportsHttpsTrafficOnly": True}}).result()
    insights = resource.resources.begin_create_or_update_by_id(
        rid(f"Microsoft.Insights/components/{ML}-insights"), INSIGHTS_API, {
            "location": LOCATION, "tags": TAGS, "kind": "web",
            "properties": {"Application_Type": "web"}}).result()
    workspace = resource.resources.begin_create_or_update_by_id(
        rid(f"Microsoft.MachineLearningServices/workspaces/{ML}"), WORKSPACE_API, {
            "location": LOCATION, "tags": TAGS, "identity": {"type": "SystemAssigned"},
            "sku": {"name": "Basic", "tier": "Basic"},
            "properties": {"applicationInsights": insights.id, "keyVault": vault.id,
                           "storageAccount": artifacts.id, "publicNetworkAccess": "Enabled",
                           "friendlyName": ML}}).result()
    made["grants"].append(grant(workspace.id, "AzureML Data Scientist", jobs.principal_id))
    made["grants"].append(grant(artifacts.id, "Storage Blob Data Contributor", jobs.principal_id))
    made["workspace"], made["insights"] = workspace.id, insights.id
    return made


def destroy(made):
    for scope, name in reversed(made["grants"][1:]):
        auth.role_assignments.delete(scope, name)
    resource.resources.begin_delete_by_id(made["workspace"], WORKSPACE_API).result()
    resource.resources.begin_delete_by_id(made["insights"], INSIGHTS_API).result()
    storage.storage_accounts.delete(RG, ARTIFACTS_ACCOUNT)
    keyvault.vaults.delete(RG, f"{ML}-kv")
    msi.user_assigned_identities.delete(RG, f"{ML}-jobs")
    scope, name = made["grants"][0]
    auth.role_assignments.delete(scope, name)
    for container in ("checkpoints", "datasets"):
        storage.blob_containers.delete(RG, DATA_ACCOUNT, container)
    storage.storage_accounts.delete(RG, DATA_ACCOUNT)
    compute.virtual_machine_scale_sets.begin_delete(RG, NAME).result()
    compute.proximity_placement_groups.delete(RG, f"{NAME}-ppg")
    msi.user_assigned_identities.delete(RG, f"{NAME}-trainers")
    network.subnets.begin_create_or_update(RG, NAME, "nodes", subnet_body()).result()  # the association
    network.network_security_groups.begin_delete(RG, f"{NAME}-nodes").result()
    network.subnets.begin_delete(RG, NAME, "nodes").result()
    network.virtual_networks.begin_delete(RG, NAME).result()
    resource.resource_groups.begin_delete(RG).result()


OBJECTS = 19  # resource group, network 4, trainers, fleet 2, storage 4, platform 7

kw["credential"].get_token()  # not timed: the token, as a running script already holds one
t0 = time.time()
made = create()
t1 = time.time()
# Not timed: everything is there (the group's 11 top-level resources in the generic list;
# the subnet, the containers and the role assignments hang under them).
top = sorted(r.name for r in resource.resources.list_by_resource_group(RG))
assert len(top) == 11, top
destroy(made)
t2 = time.time()
assert not resource.resource_groups.check_existence(RG), "the resource group is still there"
print(json.dumps({"create_s": round(t1 - t0, 2), "destroy_s": round(t2 - t1, 2), "objects": OBJECTS}))
