"""What the fake knows about particular resource types, kept out of the generic machinery.

arm.py serves every resource type the same way, from its path alone (ARM ids are
`{scope}/providers/{Namespace}/{type}/{name}[/{childType}/{childName}...]`). Where real
resource providers differ, this table says how, per type (by its full type, lowercased):

- `put` / `patch` / `delete`: how the provider answers that verb (the RPC's three
  styles): "async" (200/201 + `Azure-AsyncOperation`; a DELETE 202 + `Azure-AsyncOperation`
  and `Location`), "location" (202, empty body, `Location` to poll) or "sync" (the final
  answer at once). Unlisted types take their namespace's defaults (NAMESPACE_DEFAULTS), else
  sync.
- `tracked`: whether a PUT needs `location` (top-level types do unless they are proxy or
  extension resources; child types never do).
- `provisioning`: whether the body has `properties.provisioningState`.
- `compute`: a function filling what the server owns (ids, endpoints, principal ids), given a
  `Ctx` (the new body, the previous one, the store). It never overwrites what the client sent
  except read-only values, and keeps generated values stable across updates.
- `inline`: child collections that also appear inside the parent's body
  (`properties.subnets` of a virtual network, `agentPoolProfiles` of an AKS cluster).
- `implicit`: children that exist as soon as the parent does (a storage account's
  `blobServices/default`).
- `capacity`: how many vCPUs of which VM size a resource holds, for usages and quotas.
- `unique`: a name that must be unique across all of Azure (storage accounts, key vaults).
- `write_only`: values a client may send but ARM never returns (admin passwords).
- `lock`: what a running operation blocks: "resource" (the resource itself and, for a
  child, its ancestors) or "top" (anything under the same top-level resource, as the
  network provider does: two subnets of one network cannot change at once).

Also here: Azure's typical operation times per type (TYPICAL_SECONDS, for --timings), the
VM SKU table (names, families, vCPUs, GPUs: the real ones), the built-in role definitions
(real GUIDs) and the shapes of quota and SKU errors.
"""

import copy
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Optional

from errors import ArmError, now_iso

KUBERNETES_VERSION = "1.30.6"
NODE_IMAGE_VERSION = "AKSUbuntu-2204gen2containerd-202411.12.0"
LOCATIONS = ["eastus", "westus3", "southcentralus", "westeurope"]
ZONES = ["1", "2", "3"]
DEFAULT_QUOTA = 1000


# --- helpers for compute functions ----------------------------------------------------

def dig(obj, path, default=None):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return default
        obj = obj[part]
    return obj


def put_path(obj, path, value):
    parts = path.split(".")
    for part in parts[:-1]:
        if not isinstance(obj.get(part), dict):
            obj[part] = {}
        obj = obj[part]
    obj[parts[-1]] = value


def default_path(obj, path, value):
    """Sets `path` unless the client sent it."""
    if dig(obj, path) is None:
        put_path(obj, path, value)


@dataclass
class Ctx:
    """What a compute function sees: the body being stored (mutable), the body before (None
    on create), the resource's names and place, and the store (for lookups and principals)."""
    body: dict
    previous: Optional[dict]
    id: str
    name: str
    type: str
    location: Optional[str]
    subscription: str
    resource_group: Optional[str]
    tenant: str
    store: object
    parent: Optional[dict] = None  # the parent's body, for children

    def keep(self, path, make):
        """A server-generated value: the previous one if there was one, else `make()`.
        Always overwrites what the client sent (it is read-only)."""
        value = dig(self.previous, path) if self.previous else None
        if value is None:
            value = make()
        put_path(self.body, path, value)
        return value

    @property
    def props(self):
        if not isinstance(self.body.get("properties"), dict):
            self.body["properties"] = {}
        return self.body["properties"]


def new_uuid():
    return str(uuid.uuid4())


def hex8():
    return uuid.uuid4().hex[:8]


# --- per-type compute functions -------------------------------------------------------

def system_identity(ctx):
    """Any resource asking for a system-assigned identity gets a principal (registered with
    the directory, so role assignments can name it once replicated); user-assigned ones are
    answered with their principal and client ids, as ARM does."""
    ident = ctx.body.get("identity")
    if not isinstance(ident, dict):
        return
    kind = str(ident.get("type", "")).lower()
    if "systemassigned" in kind:
        pid = ctx.keep("identity.principalId", new_uuid)
        ident["tenantId"] = ctx.tenant
        ctx.store.register_principal(pid, "ServicePrincipal", ctx.id)
    else:
        ident.pop("principalId", None)
        ident.pop("tenantId", None)
    users = ident.get("userAssignedIdentities")
    if isinstance(users, dict):
        for rid in list(users):
            found = ctx.store.find(rid)
            props = (found.body.get("properties") or {}) if found else {}
            users[rid] = {"principalId": props.get("principalId"), "clientId": props.get("clientId")}


def user_assigned_identity(ctx):
    pid = ctx.keep("properties.principalId", new_uuid)
    ctx.keep("properties.clientId", new_uuid)
    ctx.props["tenantId"] = ctx.tenant
    ctx.props.pop("provisioningState", None)  # identities have none
    ctx.store.register_principal(pid, "ServicePrincipal", ctx.id)


def managed_cluster(ctx):
    p = ctx.props
    loc = ctx.location
    prefix = p.get("dnsPrefix") or f"{ctx.name[:10]}-{ctx.resource_group[:16]}-{ctx.subscription[:6]}"
    p.setdefault("dnsPrefix", prefix)
    suffix = ctx.keep("properties.fqdn", lambda: f"{prefix}-{hex8()}.hcp.{loc}.azmk8s.io")
    hid = suffix.split(".")[0].rsplit("-", 1)[-1]
    p["azurePortalFQDN"] = f"{prefix}-{hid}.portal.hcp.{loc}.azmk8s.io"
    if dig(p, "apiServerAccessProfile.enablePrivateCluster"):
        p["privateFQDN"] = f"{prefix}-{hid}.{hid}.privatelink.{loc}.azmk8s.io"
    p.setdefault("nodeResourceGroup", f"MC_{ctx.resource_group}_{ctx.name}_{loc}")
    p.setdefault("kubernetesVersion", KUBERNETES_VERSION)
    p["currentKubernetesVersion"] = p["kubernetesVersion"]
    p.setdefault("enableRBAC", True)
    p.setdefault("maxAgentPools", 100)
    p["powerState"] = {"code": "Running"}
    if dig(p, "oidcIssuerProfile.enabled"):
        ctx.keep("properties.oidcIssuerProfile.issuerURL",
                 lambda: f"https://{loc}.oic.prod-aks.azure.com/{ctx.tenant}/{new_uuid()}/")
    elif isinstance(p.get("oidcIssuerProfile"), dict):
        p["oidcIssuerProfile"].pop("issuerURL", None)
    kubelet = ctx.keep("properties.identityProfile.kubeletidentity", lambda: {
        "resourceId": f"/subscriptions/{ctx.subscription}/resourcegroups/{p['nodeResourceGroup']}/providers/"
                      f"Microsoft.ManagedIdentity/userAssignedIdentities/{ctx.name}-agentpool",
        "clientId": new_uuid(), "objectId": new_uuid()})
    ctx.store.register_principal(kubelet["objectId"], "ServicePrincipal", ctx.id + "/kubeletidentity")
    net = p.setdefault("networkProfile", {})
    net.setdefault("networkPlugin", "kubenet")
    net.setdefault("loadBalancerSku", "standard")
    net.setdefault("outboundType", "loadBalancer")
    net.setdefault("serviceCidr", "10.0.0.0/16")
    net.setdefault("dnsServiceIP", "10.0.0.10")
    if net.get("networkPlugin") == "kubenet" or net.get("networkPluginMode") == "overlay":
        net.setdefault("podCidr", "10.244.0.0/16")
    ctx.body.setdefault("sku", {"name": "Base", "tier": "Free"})
    system_identity(ctx)


def agent_pool(ctx):
    p = ctx.props
    cluster = (ctx.parent or {}).get("properties") or {}
    p.setdefault("count", 1)
    p.setdefault("vmSize", "Standard_D2s_v5")
    p.setdefault("mode", "User")
    p.setdefault("osType", "Linux")
    p.setdefault("osSKU", "Ubuntu")
    p.setdefault("type", "VirtualMachineScaleSets")
    p.setdefault("osDiskSizeGB", 128)
    p.setdefault("osDiskType", "Managed")
    p.setdefault("kubeletDiskType", "OS")
    p.setdefault("maxPods", 250 if dig(cluster, "networkProfile.networkPluginMode") == "overlay" else 30)
    p.setdefault("orchestratorVersion", cluster.get("kubernetesVersion", KUBERNETES_VERSION))
    p["currentOrchestratorVersion"] = p["orchestratorVersion"]
    p["nodeImageVersion"] = NODE_IMAGE_VERSION
    p["powerState"] = {"code": "Running"}
    p.setdefault("enableAutoScaling", False)
    if str(p.get("scaleSetPriority", "")).lower() == "spot":
        p.setdefault("scaleSetEvictionPolicy", "Delete")
        p.setdefault("spotMaxPrice", -1)


def storage_account(ctx):
    p, name = ctx.props, ctx.name
    p["primaryEndpoints"] = {
        "blob": f"https://{name}.blob.core.windows.net/",
        "queue": f"https://{name}.queue.core.windows.net/",
        "table": f"https://{name}.table.core.windows.net/",
        "file": f"https://{name}.file.core.windows.net/",
        "web": f"https://{name}.z13.web.core.windows.net/",
        "dfs": f"https://{name}.dfs.core.windows.net/",
    }
    p["primaryLocation"] = ctx.location
    p["statusOfPrimary"] = "available"
    ctx.keep("properties.creationTime", now_iso)
    ctx.body.setdefault("kind", "StorageV2")
    if ctx.body["kind"] in ("StorageV2", "BlobStorage"):
        p.setdefault("accessTier", "Hot")
    p.setdefault("supportsHttpsTrafficOnly", True)
    p.setdefault("minimumTlsVersion", "TLS1_2")
    p.setdefault("allowBlobPublicAccess", False)
    p.setdefault("allowSharedKeyAccess", True)
    p.setdefault("isHnsEnabled", False)
    p.setdefault("networkAcls", {"bypass": "AzureServices", "virtualNetworkRules": [],
                                 "ipRules": [], "defaultAction": "Allow"})
    p.setdefault("encryption", {"services": {"blob": {"enabled": True, "keyType": "Account"},
                                             "file": {"enabled": True, "keyType": "Account"}},
                                "keySource": "Microsoft.Storage"})
    sku = str(dig(ctx.body, "sku.name", ""))
    if "GRS" in sku or "GZRS" in sku:
        p["secondaryLocation"] = {"eastus": "westus", "westus3": "eastus", "southcentralus": "northcentralus",
                                  "westeurope": "northeurope"}.get(ctx.location, ctx.location)
        p["statusOfSecondary"] = "available"
    system_identity(ctx)


def storage_name(name):
    if not re.fullmatch(r"[a-z0-9]{3,24}", name):
        raise ArmError(400, "AccountNameInvalid",
                       f"{name} is not a valid storage account name. Storage account name must be between 3 "
                       "and 24 characters in length and use numbers and lower-case letters only.")


def blob_container(ctx):
    p = ctx.props
    p.pop("provisioningState", None)
    p.setdefault("publicAccess", "None")
    p.setdefault("defaultEncryptionScope", "$account-encryption-key")
    p.setdefault("denyEncryptionScopeOverride", False)
    p.setdefault("metadata", {})
    p["leaseStatus"] = "Unlocked"
    p["leaseState"] = "Available"
    p["hasImmutabilityPolicy"] = False
    p["hasLegalHold"] = False
    p["deleted"] = False
    p["remainingRetentionDays"] = 0
    p["lastModifiedTime"] = now_iso()
    ctx.body["etag"] = f'"0x8DC{uuid.uuid4().hex[:12].upper()}"'


def key_vault(ctx):
    ctx.props["vaultUri"] = f"https://{ctx.name}.vault.azure.net/"
    ctx.props.setdefault("tenantId", ctx.tenant)
    ctx.props.setdefault("enableSoftDelete", True)
    ctx.props.setdefault("softDeleteRetentionInDays", 90)
    ctx.props.setdefault("accessPolicies", [])
    system_identity(ctx)


def insights_component(ctx):
    key = ctx.keep("properties.InstrumentationKey", new_uuid)
    app = ctx.keep("properties.AppId", new_uuid)
    loc = ctx.location
    ctx.props["ConnectionString"] = (
        f"InstrumentationKey={key};IngestionEndpoint=https://{loc}-0.in.applicationinsights.azure.com/;"
        f"LiveEndpoint=https://{loc}.livediagnostics.monitor.azure.com/;ApplicationId={app}")
    ctx.props["ApplicationId"] = ctx.name
    ctx.props["Name"] = ctx.name
    ctx.props["TenantId"] = ctx.subscription
    ctx.keep("properties.CreationDate", now_iso)
    ctx.props.setdefault("Application_Type", "web")
    ctx.body.setdefault("kind", "web")


def ml_workspace(ctx):
    ctx.keep("properties.workspaceId", new_uuid)
    loc = ctx.location
    ctx.props["discoveryUrl"] = f"https://{loc}.api.azureml.ms/discovery"
    ctx.props["mlFlowTrackingUri"] = (
        f"azureml://{loc}.api.azureml.ms/mlflow/v1.0/subscriptions/{ctx.subscription}/resourceGroups/"
        f"{ctx.resource_group}/providers/Microsoft.MachineLearningServices/workspaces/{ctx.name}")
    ctx.props.setdefault("friendlyName", ctx.name)
    ctx.body.setdefault("kind", "Default")
    system_identity(ctx)


def scale_set(ctx):
    ctx.keep("properties.uniqueId", new_uuid)
    ctx.keep("properties.timeCreated", now_iso)
    ctx.props.setdefault("orchestrationMode", "Uniform")
    system_identity(ctx)


def virtual_machine(ctx):
    ctx.keep("properties.vmId", new_uuid)
    ctx.keep("properties.timeCreated", now_iso)
    system_identity(ctx)


def nsg(ctx):
    ctx.keep("properties.resourceGuid", new_uuid)
    rules = []
    for name, priority, direction, access, src, dst, desc in [
        ("AllowVnetInBound", 65000, "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork",
         "Allow inbound traffic from all VMs in VNET"),
        ("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "AzureLoadBalancer", "*",
         "Allow inbound traffic from azure load balancer"),
        ("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*", "Deny all inbound traffic"),
        ("AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork",
         "Allow outbound traffic from all VMs to all VMs in VNET"),
        ("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet",
         "Allow outbound traffic from all VMs to Internet"),
        ("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*", "Deny all outbound traffic"),
    ]:
        rules.append({
            "name": name, "id": f"{ctx.id}/defaultSecurityRules/{name}",
            "etag": ctx.body.get("etag"),
            "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
            "properties": {"provisioningState": "Succeeded", "description": desc, "protocol": "*",
                           "sourcePortRange": "*", "destinationPortRange": "*",
                           "sourceAddressPrefix": src, "destinationAddressPrefix": dst,
                           "access": access, "priority": priority, "direction": direction,
                           "sourcePortRanges": [], "destinationPortRanges": [],
                           "sourceAddressPrefixes": [], "destinationAddressPrefixes": []},
        })
    ctx.props["defaultSecurityRules"] = rules


def security_rule(ctx):
    p = ctx.props
    for f in ("sourcePortRanges", "destinationPortRanges", "sourceAddressPrefixes", "destinationAddressPrefixes"):
        p.setdefault(f, [])


def virtual_network(ctx):
    ctx.keep("properties.resourceGuid", new_uuid)
    ctx.props.setdefault("enableDdosProtection", False)
    ctx.props.setdefault("virtualNetworkPeerings", [])


def subnet(ctx):
    p = ctx.props
    p.setdefault("privateEndpointNetworkPolicies", "Disabled")
    p.setdefault("privateLinkServiceNetworkPolicies", "Enabled")
    p.setdefault("delegations", [])
    for ep in p.get("serviceEndpoints") or []:
        if isinstance(ep, dict):
            ep.setdefault("locations", [ctx.location or "*"])
            ep["provisioningState"] = "Succeeded"
    if "addressPrefix" not in p and "addressPrefixes" not in p:
        raise ArmError(400, "InvalidRequestFormat",
                       "Cannot parse the request: a subnet needs addressPrefix or addressPrefixes.")


def public_ip(ctx):
    ctx.keep("properties.resourceGuid", new_uuid)
    if str(ctx.props.get("publicIPAllocationMethod", "")).lower() == "static" or \
            str(dig(ctx.body, "sku.name", "")).lower() == "standard":
        ctx.keep("properties.ipAddress", lambda: f"20.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}")


def container_registry(ctx):
    ctx.props["loginServer"] = f"{ctx.name.lower()}.azurecr.io"
    ctx.keep("properties.creationDate", now_iso)
    ctx.props.setdefault("adminUserEnabled", False)
    system_identity(ctx)


def role_assignment(ctx):
    ctx.props.pop("provisioningState", None)


# --- capacity: the vCPUs a resource holds ---------------------------------------------

def scale_set_capacity(body, parent):
    prio = str(dig(body, "properties.virtualMachineProfile.priority", "Regular")).lower()
    return [(body.get("location"), dig(body, "sku.name"), int(dig(body, "sku.capacity", 0) or 0),
             prio in ("spot", "low"), body.get("zones") or [])]


def vm_capacity(body, parent):
    prio = str(dig(body, "properties.priority", "Regular")).lower()
    return [(body.get("location"), dig(body, "properties.hardwareProfile.vmSize"), 1,
             prio in ("spot", "low"), body.get("zones") or [])]


def agent_pool_capacity(body, parent):
    p = body.get("properties") or {}
    return [((parent or {}).get("location"), p.get("vmSize"), int(p.get("count") or 0),
             str(p.get("scaleSetPriority", "")).lower() == "spot", p.get("availabilityZones") or [])]


# --- the table ------------------------------------------------------------------------

@dataclass
class Type:
    name: str
    put: Optional[str] = None  # None: the namespace's default (NAMESPACE_DEFAULTS), else "sync"
    patch: Optional[str] = None
    delete: Optional[str] = None
    tracked: Optional[bool] = None
    provisioning: bool = True
    etag: Optional[bool] = None
    compute: Optional[Callable] = None
    inline: dict = field(default_factory=dict)   # parent property -> Inline
    implicit: list = field(default_factory=list)  # [(child type segment, name, body)]
    capacity: Optional[Callable] = None
    unique: Optional[tuple] = None                # (code, message with {name})
    validate_name: Optional[Callable] = None
    write_only: tuple = ()
    lock: Optional[str] = None
    conflict_status: Optional[int] = None

    def __post_init__(self):
        defaults = {"put": "sync", "patch": None, "etag": False, "lock": "resource", "conflict_status": 409,
                    **NAMESPACE_DEFAULTS.get(self.name.split("/")[0].lower(), {})}
        for name, value in defaults.items():
            if getattr(self, name) is None:
                setattr(self, name, value)

    def style(self, verb):
        if verb == "PUT":
            return self.put
        if verb == "PATCH":
            return self.patch or ("sync" if self.put == "location" else self.put)
        return self.delete or ("sync" if self.put == "location" else self.put)


@dataclass
class Inline:
    """A child collection shown inside the parent's body. `child` is the child type segment;
    `full`: items are whole child bodies (subnets) or flattened `{name, **properties}`
    (agentPoolProfiles); `absent_keeps`: a PUT without the field leaves children alone (a PATCH always does);
    `prune`: children missing from a sent list are deleted (AKS keeps them: a cluster's PUT
    never deletes a node pool)."""
    child: str
    full: bool = True
    absent_keeps: Callable = lambda api_version: True
    first_defaults: dict = field(default_factory=dict)
    prune: bool = True  # a PUT's list is the whole set: children not in it are deleted


NAMESPACE_DEFAULTS = {
    # The network provider: async creates and deletes, synchronous tag PATCHes, weak etags,
    # one operation at a time under a top-level resource, 429 AnotherOperationInProgress.
    "microsoft.network": dict(put="async", patch="sync", etag=True, lock="top", conflict_status=429),
    "microsoft.containerservice": dict(put="async"),
    "microsoft.compute": dict(put="async"),
    "microsoft.machinelearningservices": dict(put="async"),
    "microsoft.containerregistry": dict(put="async", patch="async"),
}

_TYPES = [
    Type("Microsoft.Network/virtualNetworks", compute=virtual_network,
         # Before API version 2023-09-01 a PUT without `subnets` deleted every subnet; since
         # then it keeps them (an explicit [] or null still deletes them all).
         inline={"subnets": Inline("subnets", absent_keeps=lambda v: (v or "") >= "2023-09-01")}),
    Type("Microsoft.Network/virtualNetworks/subnets", compute=subnet),
    Type("Microsoft.Network/networkSecurityGroups", compute=nsg,
         inline={"securityRules": Inline("securityRules", absent_keeps=lambda v: False)}),
    Type("Microsoft.Network/networkSecurityGroups/securityRules", compute=security_rule),
    Type("Microsoft.Network/routeTables",
         inline={"routes": Inline("routes", absent_keeps=lambda v: False)}),
    Type("Microsoft.Network/routeTables/routes"),
    Type("Microsoft.Network/publicIPAddresses", compute=public_ip),
    Type("Microsoft.Network/natGateways"),
    Type("Microsoft.Network/privateDnsZones"),
    Type("Microsoft.Network/privateDnsZones/virtualNetworkLinks"),
    Type("Microsoft.Network/privateEndpoints"),
    Type("Microsoft.Network/networkInterfaces"),
    Type("Microsoft.ContainerService/managedClusters", patch="async", compute=managed_cluster,
         inline={"agentPoolProfiles": Inline("agentPools", full=False, first_defaults={"mode": "System"},
                                            prune=False)},
         write_only=("properties.servicePrincipalProfile.secret", "properties.windowsProfile.adminPassword")),
    Type("Microsoft.ContainerService/managedClusters/agentPools", compute=agent_pool,
         capacity=agent_pool_capacity),
    Type("Microsoft.Compute/virtualMachineScaleSets", patch="async", compute=scale_set,
         capacity=scale_set_capacity,
         write_only=("properties.virtualMachineProfile.osProfile.adminPassword",
                     "properties.virtualMachineProfile.osProfile.customData")),
    Type("Microsoft.Compute/virtualMachines", patch="async", compute=virtual_machine, capacity=vm_capacity,
         write_only=("properties.osProfile.adminPassword", "properties.osProfile.customData")),
    Type("Microsoft.Compute/proximityPlacementGroups", put="sync", provisioning=False),
    Type("Microsoft.Compute/availabilitySets", put="sync", provisioning=False),
    Type("Microsoft.Compute/disks"),
    Type("Microsoft.Storage/storageAccounts", put="location", patch="sync", delete="sync",
         compute=storage_account, validate_name=storage_name,
         unique=("StorageAccountAlreadyTaken", "The storage account named {name} is already taken."),
         implicit=[("blobServices", "default", {"properties": {"cors": {"corsRules": []},
                                                               "deleteRetentionPolicy": {"allowPermanentDelete": False, "enabled": False}}}),
                   ("fileServices", "default", {"properties": {"cors": {"corsRules": []}}}),
                   ("queueServices", "default", {"properties": {"cors": {"corsRules": []}}}),
                   ("tableServices", "default", {"properties": {"cors": {"corsRules": []}}})]),
    Type("Microsoft.Storage/storageAccounts/blobServices", provisioning=False),
    Type("Microsoft.Storage/storageAccounts/fileServices", provisioning=False),
    Type("Microsoft.Storage/storageAccounts/queueServices", provisioning=False),
    Type("Microsoft.Storage/storageAccounts/tableServices", provisioning=False),
    Type("Microsoft.Storage/storageAccounts/blobServices/containers", provisioning=False, compute=blob_container),
    Type("Microsoft.ManagedIdentity/userAssignedIdentities", provisioning=False, compute=user_assigned_identity),
    Type("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials", provisioning=False),
    Type("Microsoft.Authorization/roleAssignments", tracked=False, provisioning=False, compute=role_assignment),
    Type("Microsoft.KeyVault/vaults", compute=key_vault,
         unique=("VaultAlreadyExists", "The vault name '{name}' is already in use. Vault names are globally unique "
                 "so it is possible that the name is already taken.")),
    Type("Microsoft.KeyVault/vaults/secrets"),
    Type("Microsoft.Insights/components", compute=insights_component),
    Type("Microsoft.OperationalInsights/workspaces"),
    Type("Microsoft.MachineLearningServices/workspaces", compute=ml_workspace),
    Type("Microsoft.MachineLearningServices/workspaces/computes"),
    Type("Microsoft.ContainerRegistry/registries", compute=container_registry),
]
TYPES = {t.name.lower(): t for t in _TYPES}


def type_of(full_type):
    """The behaviour of `full_type` (any spelling): from the table, else its namespace's
    defaults, named as spelled."""
    known = TYPES.get(full_type.lower())
    if known:
        return known
    return Type(full_type)


# --- how long operations take ---------------------------------------------------------

# Azure's typical times, in seconds, from a request to the end of what it starts, per ARM
# type: (create or update, delete). `--timings 1/20` (server.py) holds each long-running
# operation InProgress for its time x 1/20, for benchmarks (bench/azure_timings.sh); a
# verb this fake answers synchronously (resource groups' PUT, key vaults, Application
# Insights, storage accounts' DELETE) has its answer itself held back that long, as a slow
# synchronous ARM call is. Types not listed answer at once (or after --operation-seconds):
# proximity placement groups, user-assigned identities, role assignments and blob
# containers are synchronous and take well under a second. The times are typical,
# observed ones (what Terraform's azurerm provider reports as "Creation complete after
# Ns" / "Destruction complete after Ns" in eastus, and the portal's deployment durations),
# rounded: a large GPU scale set or an AKS cluster varies by minutes from run to run.
TYPICAL_SECONDS = {
    "Microsoft.Resources/resourceGroups": (2, 10),  # PUT synchronous; deleting an empty group ~10 s
    "Microsoft.Network/virtualNetworks": (10, 10),
    "Microsoft.Network/virtualNetworks/subnets": (5, 5),  # also the NSG association (a subnet PUT)
    "Microsoft.Network/networkSecurityGroups": (5, 5),
    "Microsoft.Storage/storageAccounts": (25, 2),  # PUT 202 + Location; DELETE synchronous
    "Microsoft.KeyVault/vaults": (20, 2),
    "Microsoft.Insights/components": (10, 2),
    "Microsoft.MachineLearningServices/workspaces": (60, 60),
    "Microsoft.Compute/virtualMachineScaleSets": (300, 180),  # 2 x Standard_ND96isr_H100_v5
    "Microsoft.ContainerService/managedClusters": (420, 300),
    "Microsoft.ContainerService/managedClusters/agentPools": (240, 180),
}
_TYPICAL = {name.lower(): times for name, times in TYPICAL_SECONDS.items()}


def typical_seconds(full_type, verb):
    """Azure's typical time for `verb` (PUT, PATCH: the create time; DELETE) on `full_type`
    (any spelling), or None when the type is not in TYPICAL_SECONDS."""
    times = _TYPICAL.get(full_type.lower())
    if times is None:
        return None
    return times[1] if verb.upper() == "DELETE" else times[0]


# --- VM sizes -------------------------------------------------------------------------

@dataclass
class Sku:
    name: str
    family: str
    vcpus: int
    gpus: int
    memory_gb: float
    locations: list = field(default_factory=lambda: list(LOCATIONS))

    @property
    def size(self):
        return self.name.split("_", 1)[1]


_SKUS = [
    Sku("Standard_ND96isr_H100_v5", "standardNDSH100v5Family", 96, 8, 1900),
    Sku("Standard_ND96isr_H200_v5", "standardNDISRH200V5Family", 96, 8, 1850),
    Sku("Standard_NC24ads_A100_v4", "StandardNCADSA100v4Family", 24, 1, 220),
    Sku("Standard_NC48ads_A100_v4", "StandardNCADSA100v4Family", 48, 2, 440),
    Sku("Standard_NC96ads_A100_v4", "StandardNCADSA100v4Family", 96, 4, 880),
    Sku("Standard_ND96asr_v4", "standardNDASv4_A100Family", 96, 8, 900),
    Sku("Standard_ND96amsr_A100_v4", "standardNDAMSv4_A100Family", 96, 8, 1900),
    Sku("Standard_NC4as_T4_v3", "standardNCASv3_T4Family", 4, 1, 28),
    Sku("Standard_NC8as_T4_v3", "standardNCASv3_T4Family", 8, 1, 56),
    Sku("Standard_D2s_v5", "standardDSv5Family", 2, 0, 8),
    Sku("Standard_D4s_v5", "standardDSv5Family", 4, 0, 16),
    Sku("Standard_D8s_v5", "standardDSv5Family", 8, 0, 32),
    Sku("Standard_D16s_v5", "standardDSv5Family", 16, 0, 64),
    Sku("Standard_E8s_v5", "standardESv5Family", 8, 0, 64),
    Sku("Standard_DS2_v2", "standardDSv2Family", 2, 0, 7),
]
SKUS = {s.name.lower(): s for s in _SKUS}

FAMILY_NAMES = {
    "standardNDSH100v5Family": "Standard NDSH100v5 Family vCPUs",
    "standardNDISRH200V5Family": "Standard NDISRH200V5 Family vCPUs",
    "StandardNCADSA100v4Family": "Standard NCADS_A100_v4 Family vCPUs",
    "standardNDASv4_A100Family": "Standard NDASv4_A100 Family vCPUs",
    "standardNDAMSv4_A100Family": "Standard NDAMSv4_A100 Family vCPUs",
    "standardNCASv3_T4Family": "Standard NCASv3_T4 Family vCPUs",
    "standardDSv5Family": "Standard DSv5 Family vCPUs",
    "standardESv5Family": "Standard ESv5 Family vCPUs",
    "standardDSv2Family": "Standard DSv2 Family vCPUs",
}
REGIONAL = ("cores", "Total Regional vCPUs")
LOW_PRIORITY = ("lowPriorityCores", "Total Regional Low-priority vCPUs")


def sku_entries(location_filter, restrictions):
    """The resource SKUs list: one entry per (size, location), as ARM answers it."""
    out = []
    for sku in _SKUS:
        for loc in sku.locations:
            if location_filter and loc != location_filter:
                continue
            out.append({
                "resourceType": "virtualMachines", "name": sku.name, "tier": "Standard",
                "size": sku.size, "family": sku.family, "locations": [loc],
                "locationInfo": [{"location": loc, "zones": list(ZONES), "zoneDetails": []}],
                "capabilities": [
                    {"name": "MaxResourceVolumeMB", "value": "0"},
                    {"name": "vCPUs", "value": str(sku.vcpus)},
                    {"name": "vCPUsAvailable", "value": str(sku.vcpus)},
                    {"name": "GPUs", "value": str(sku.gpus)},
                    {"name": "MemoryGB", "value": f"{sku.memory_gb:g}"},
                    {"name": "HyperVGenerations", "value": "V2" if sku.gpus else "V1,V2"},
                    {"name": "LowPriorityCapable", "value": "True"},
                    {"name": "PremiumIO", "value": "True"},
                    {"name": "AcceleratedNetworkingEnabled", "value": "True"},
                    {"name": "CpuArchitectureType", "value": "x64"},
                ],
                "restrictions": copy.deepcopy(restrictions.get((loc, sku.name.lower()), [])),
            })
    return out


def restriction(location, spec):
    """A restriction as the SKU list shows it, from `/_fake/skus`' `restriction`."""
    kind = spec.get("type", "Location")
    info = {"locations": [location]}
    if kind == "Zone":
        info["zones"] = [str(z) for z in spec.get("zones", ZONES)]
    return {"type": kind, "values": [location], "restrictionInfo": info,
            "reasonCode": spec.get("reasonCode", "NotAvailableForSubscription")}


def sku_not_available(size, location, zones):
    """SkuNotAvailable, as Compute answers a size it cannot place there."""
    where = f"location '{location}'" + (f" and zones '{','.join(zones)}'" if zones else "")
    msg = (f"The requested VM size for resource 'Following SKUs have failed for Capacity Restrictions: {size}' "
           f"is currently not available in {where}. Please try another size or deploy to a different "
           f"location or zones. See https://aka.ms/azureskunotavailable for details.")
    return ArmError(409, "SkuNotAvailable", msg)


def quota_exceeded(subscription, location, quota_name, limit, usage, required):
    """A quota overrun as ARM reports it inside a failed operation: `QuotaExceeded` at the
    top, Compute's `OperationNotAllowed` (with the numbers) in its details."""
    label = {"cores": "Total Regional Cores", "lowPriorityCores": "Low Priority Cores"}.get(quota_name, quota_name + " Cores")
    new = usage + required
    msg = (f"Operation could not be completed as it results in exceeding approved {label} quota. "
           f"Additional details - Deployment Model: Resource Manager, Location: {location}, "
           f"Current Limit: {limit}, Current Usage: {usage}, Additional Required: {required}, "
           f"(Minimum) New Limit Required: {new}. Submit a request for Quota increase at "
           f"https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView/Parameters/"
           f"%7B%22SubscriptionId%22:%22{subscription}%22,%22Command%22:%22openQuotaApprovalBlade%22,"
           f"%22QuotaRequests%22:%5B%7B%22Location%22:%22{location}%22,%22Family%22:%22{quota_name}%22,"
           f"%22NewLimit%22:{new}%7D%5D%7D by specifying parameters listed in the \u2018Details\u2019 section "
           f"for deployment to succeed. Please read more about quota limits at "
           f"https://docs.microsoft.com/en-us/azure/azure-supportability/per-vm-quota-requests")
    top = (f"Operation results in exceeding quota limits of Core. Maximum allowed: {limit}, Current in use: "
           f"{usage}, Additional requested: {required}. Please read more about quota limits at "
           "https://docs.microsoft.com/en-us/azure/azure-supportability/per-vm-quota-requests.")
    return ArmError(409, "QuotaExceeded", top, details=[{"code": "OperationNotAllowed", "message": msg}])


def operation_failure(error):
    """How a failed operation carries an injected fault: ARM's generic top-level error with
    the resource provider's own error nested in `details`."""
    return ArmError(error.status, "ResourceOperationFailure",
                    "The resource operation completed with terminal provisioning state 'Failed'.",
                    details=[error.inner()])


# --- built-in role definitions (real ids) ---------------------------------------------

ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": ("Owner", "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.", ["*"], []),
    "b24988ac-6180-42a0-ab88-20f7382dd24c": ("Contributor", "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.", ["*"], []),
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": ("Reader", "View all resources, but does not allow you to make any changes.", ["*/read"], []),
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": ("User Access Administrator", "Lets you manage user access to Azure resources.", ["*/read", "Microsoft.Authorization/*"], []),
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": ("Role Based Access Control Administrator", "Manage access to Azure resources by assigning roles using Azure RBAC.", ["Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete", "*/read"], []),
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": ("Storage Blob Data Contributor", "Allows for read, write and delete access to Azure Storage blob containers and data", ["Microsoft.Storage/storageAccounts/blobServices/containers/*"], ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*"]),
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": ("Storage Blob Data Reader", "Allows for read access to Azure Storage blob containers and data", ["Microsoft.Storage/storageAccounts/blobServices/containers/read"], ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"]),
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": ("Storage Blob Data Owner", "Allows for full access to Azure Storage blob containers and data, including assigning POSIX access control.", ["Microsoft.Storage/storageAccounts/blobServices/containers/*"], ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*"]),
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": ("Storage Account Contributor", "Lets you manage storage accounts, including accessing storage account keys which provide full access to storage account data.", ["Microsoft.Storage/storageAccounts/*"], []),
    "7f951dda-4ed3-4680-a7ca-43fe172d538d": ("AcrPull", "acr pull", ["Microsoft.ContainerRegistry/registries/pull/read"], []),
    "8311e382-0749-4cb8-b61a-304f252e45ec": ("AcrPush", "acr push", ["Microsoft.ContainerRegistry/registries/pull/read", "Microsoft.ContainerRegistry/registries/push/write"], []),
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": ("Key Vault Administrator", "Perform all data plane operations on a key vault and all objects in it, including certificates, keys, and secrets.", ["Microsoft.KeyVault/vaults/*/read"], ["Microsoft.KeyVault/vaults/*"]),
    "4633458b-17de-408a-b874-0445c86b69e6": ("Key Vault Secrets User", "Read secret contents.", [], ["Microsoft.KeyVault/vaults/secrets/getSecret/action", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"]),
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": ("Key Vault Secrets Officer", "Perform any action on the secrets of a key vault, except manage permissions.", ["Microsoft.KeyVault/vaults/*/read"], ["Microsoft.KeyVault/vaults/secrets/*"]),
    "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b": ("Azure Kubernetes Service RBAC Cluster Admin", "Lets you manage all resources in the cluster.", ["Microsoft.ContainerService/managedClusters/listClusterUserCredential/action"], ["Microsoft.ContainerService/managedClusters/*"]),
    "3498e952-d568-435e-9b2c-8d77e338d7f7": ("Azure Kubernetes Service RBAC Admin", "Lets you manage all resources under cluster/namespace, except update or delete resource quotas and namespaces.", ["Microsoft.ContainerService/managedClusters/listClusterUserCredential/action"], ["Microsoft.ContainerService/managedClusters/*"]),
    "4abbcc35-e782-43d8-92c5-2d3f1bd2253f": ("Azure Kubernetes Service Cluster User Role", "List cluster user credential action.", ["Microsoft.ContainerService/managedClusters/listClusterUserCredential/action", "Microsoft.ContainerService/managedClusters/read"], []),
    "f1a07417-d97a-45cb-824c-7a7467783830": ("Managed Identity Operator", "Read and Assign User Assigned Identity", ["Microsoft.ManagedIdentity/userAssignedIdentities/*/read", "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action"], []),
    "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59": ("Managed Identity Contributor", "Create, Read, Update, and Delete User Assigned Identity", ["Microsoft.ManagedIdentity/userAssignedIdentities/read", "Microsoft.ManagedIdentity/userAssignedIdentities/write", "Microsoft.ManagedIdentity/userAssignedIdentities/delete"], []),
    "4d97b98b-1d4f-4787-a291-c67834d212e7": ("Network Contributor", "Lets you manage networks, but not access to them.", ["Microsoft.Network/*"], []),
    "f6c7c914-8db3-469d-8ca1-694a8f32e121": ("AzureML Data Scientist", "Can perform all actions within an Azure Machine Learning workspace, except for creating or deleting compute resources and modifying the workspace itself.", ["Microsoft.MachineLearningServices/workspaces/*/read"], []),
    "e503ece1-11d0-4e8e-8e2c-7a6c3bf38815": ("AzureML Compute Operator", "Can access and perform CRUD operations on Machine Learning Services managed compute resources (including Notebook VMs).", ["Microsoft.MachineLearningServices/workspaces/computes/*"], []),
    "3913510d-42f4-4e42-8a64-420c390055eb": ("Monitoring Metrics Publisher", "Enables publishing metrics against Azure resources", ["Microsoft.Insights/Register/Action"], ["Microsoft.Insights/Metrics/Write"]),
    "9980e02c-c2be-4d73-94e8-173b1dc7cf3c": ("Virtual Machine Contributor", "Create and manage virtual machines, manage disks, install and run software.", ["Microsoft.Compute/virtualMachines/*"], []),
}


def role_definition(subscription, guid):
    name, description, actions, data_actions = ROLES[guid]
    return {
        "id": f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
        "name": guid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": name, "type": "BuiltInRole", "description": description,
            "assignableScopes": ["/"],
            "permissions": [{"actions": list(actions), "notActions": [],
                             "dataActions": list(data_actions), "notDataActions": []}],
            "createdOn": "2015-02-02T21:55:09.8806423Z", "updatedOn": "2024-01-10T20:15:33.4620128Z",
            "createdBy": None, "updatedBy": None,
        },
    }


def principal_not_found(principal, tenant):
    return ArmError(400, "PrincipalNotFound",
                    f"Principal {principal.replace('-', '')} does not exist in the directory {tenant}. Check that you "
                    "have the correct principal ID. If you are creating this principal and then immediately "
                    "assigning a role, this error might be related to a replication delay. In this case, set the "
                    "role assignment principalType property to a value, such as ServicePrincipal, User, or Group. "
                    "See https://aka.ms/docs-principaltype")


def now():
    return time.time()
