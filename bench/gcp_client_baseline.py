"""The sequential baseline of bench/gcp_timings.sh: what examples/llm-training-gcp makes,
made and deleted one object after another with google-api-python-client (Google's own
discovery-based client), waiting for each operation as a careful script does (polling
every second x SCALE), against the contract fake.

    python bench/gcp_client_baseline.py BASE_URL SCALE  -> {"create_s": ..., "destroy_s": ...}
"""

import json
import sys
import time
from fractions import Fraction

from google.oauth2.credentials import Credentials
from googleapiclient import discovery

BASE, SCALE = sys.argv[1], float(Fraction(sys.argv[2]))
PROJECT, REGION, ZONE, NAME = "gantry-test", "us-west4", "us-west4-a", "llm-train"
POLL = 1.0 * SCALE


def client(name, version, path):
    return discovery.build(name, version, static_discovery=True, cache_discovery=False,
                           credentials=Credentials(token="fake-token"),
                           client_options={"api_endpoint": f"{BASE}/{path}"})


compute = client("compute", "v1", "compute/compute/v1/")
tpu = client("tpu", "v2", "tpu/")
iam = client("iam", "v1", "iam/")
crm = client("cloudresourcemanager", "v3", "cloudresourcemanager/")
files = client("file", "v1", "file/")
notebooks = client("notebooks", "v2", "notebooks/")
storage = client("storage", "v1", "storage/storage/v1/")


def wait(op):
    """A Compute Engine operation, polled until DONE."""
    while op["status"] != "DONE":
        time.sleep(POLL)
        if "zone" in op:
            op = compute.zoneOperations().get(project=PROJECT, zone=ZONE, operation=op["name"]).execute()
        elif "region" in op:
            op = compute.regionOperations().get(project=PROJECT, region=REGION, operation=op["name"]).execute()
        else:
            op = compute.globalOperations().get(project=PROJECT, operation=op["name"]).execute()
    assert "error" not in op, op
    return op


def wait_lro(api, op):
    while not op.get("done"):
        time.sleep(POLL)
        op = api.projects().locations().operations().get(name=op["name"]).execute()
    assert "error" not in op, op
    return op


def grant(member, roles, add=True):
    policy = crm.projects().getIamPolicy(resource=f"projects/{PROJECT}", body={}).execute()
    bindings = {b["role"]: set(b["members"]) for b in policy.get("bindings", [])}
    for role in roles:
        members = bindings.setdefault(role, set())
        (members.add if add else members.discard)(member)
    policy["bindings"] = [{"role": r, "members": sorted(m)} for r, m in bindings.items() if m]
    crm.projects().setIamPolicy(resource=f"projects/{PROJECT}", body={"policy": policy}).execute()


def create():
    net = f"projects/{PROJECT}/global/networks/{NAME}"
    wait(compute.networks().insert(project=PROJECT, body={
        "name": NAME, "autoCreateSubnetworks": False, "mtu": 8896, "routingConfig": {"routingMode": "REGIONAL"}}).execute())
    wait(compute.subnetworks().insert(project=PROJECT, region=REGION, body={
        "name": f"{NAME}-nodes", "network": net, "ipCidrRange": "10.0.0.0/20", "privateIpGoogleAccess": True,
        "secondaryIpRanges": [{"rangeName": "pods", "ipCidrRange": "10.64.0.0/14"},
                              {"rangeName": "services", "ipCidrRange": "10.68.0.0/20"}]}).execute())
    wait(compute.firewalls().insert(project=PROJECT, body={
        "name": f"{NAME}-internal", "network": net, "sourceRanges": ["10.0.0.0/8"],
        "allowed": [{"IPProtocol": "all"}]}).execute())
    wait(compute.firewalls().insert(project=PROJECT, body={
        "name": f"{NAME}-iap-ssh", "network": net, "sourceRanges": ["35.235.240.0/20"],
        "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}]}).execute())
    wait(compute.routers().insert(project=PROJECT, region=REGION, body={
        "name": f"{NAME}-router", "network": net}).execute())
    router = compute.routers().get(project=PROJECT, region=REGION, router=f"{NAME}-router").execute()
    router["nats"] = [{"name": f"{NAME}-nat", "natIpAllocateOption": "AUTO_ONLY",
                       "sourceSubnetworkIpRangesToNat": "ALL_SUBNETWORKS_ALL_IP_RANGES"}]
    wait(compute.routers().update(project=PROJECT, region=REGION, router=f"{NAME}-router", body=router).execute())
    accounts = iam.projects().serviceAccounts()
    workers = accounts.create(name=f"projects/{PROJECT}", body={"accountId": f"{NAME}-workers"}).execute()["email"]
    grant(f"serviceAccount:{workers}", ["roles/storage.objectAdmin", "roles/logging.logWriter",
                                        "roles/monitoring.metricWriter"])
    for i in range(2):
        wait_lro(tpu, tpu.projects().locations().nodes().create(
            parent=f"projects/{PROJECT}/locations/{ZONE}", nodeId=f"{NAME}-{i}", body={
                "acceleratorType": "v5litepod-16", "runtimeVersion": "v2-alpha-tpuv5-lite",
                "networkConfig": {"network": net, "subnetwork": f"projects/{PROJECT}/regions/{REGION}/subnetworks/{NAME}-nodes"},
                "serviceAccount": {"email": workers}}).execute())
    storage.buckets().insert(project=PROJECT, body={
        "name": f"{PROJECT}-{NAME}-data", "location": REGION, "versioning": {"enabled": True},
        "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": True}}}).execute()
    wait_lro(files, files.projects().locations().instances().create(
        parent=f"projects/{PROJECT}/locations/{ZONE}", instanceId=NAME, body={
            "tier": "BASIC_SSD", "fileShares": [{"name": "share1", "capacityGb": "2560"}],
            "networks": [{"network": NAME, "modes": ["MODE_IPV4"]}]}).execute())
    nb = accounts.create(name=f"projects/{PROJECT}", body={"accountId": f"{NAME}-nb-nb"}).execute()["email"]
    grant(f"serviceAccount:{nb}", ["roles/aiplatform.user", "roles/storage.objectUser"])
    wait_lro(notebooks, notebooks.projects().locations().instances().create(
        parent=f"projects/{PROJECT}/locations/{ZONE}", instanceId=f"{NAME}-nb", body={
            "gceSetup": {"machineType": "g2-standard-8",
                         "acceleratorConfigs": [{"type": "NVIDIA_L4", "coreCount": "1"}],
                         "serviceAccounts": [{"email": nb}]}}).execute())
    return workers, nb


def destroy(workers, nb):
    wait_lro(notebooks, notebooks.projects().locations().instances().delete(
        name=f"projects/{PROJECT}/locations/{ZONE}/instances/{NAME}-nb").execute())
    grant(f"serviceAccount:{nb}", ["roles/aiplatform.user", "roles/storage.objectUser"], add=False)
    iam.projects().serviceAccounts().delete(name=f"projects/{PROJECT}/serviceAccounts/{nb}").execute()
    wait_lro(files, files.projects().locations().instances().delete(
        name=f"projects/{PROJECT}/locations/{ZONE}/instances/{NAME}").execute())
    storage.buckets().delete(bucket=f"{PROJECT}-{NAME}-data").execute()
    for i in range(2):
        wait_lro(tpu, tpu.projects().locations().nodes().delete(
            name=f"projects/{PROJECT}/locations/{ZONE}/nodes/{NAME}-{i}").execute())
    grant(f"serviceAccount:{workers}", ["roles/storage.objectAdmin", "roles/logging.logWriter",
                                        "roles/monitoring.metricWriter"], add=False)
    iam.projects().serviceAccounts().delete(name=f"projects/{PROJECT}/serviceAccounts/{workers}").execute()
    router = compute.routers().get(project=PROJECT, region=REGION, router=f"{NAME}-router").execute()
    router["nats"] = []
    wait(compute.routers().update(project=PROJECT, region=REGION, router=f"{NAME}-router", body=router).execute())
    wait(compute.routers().delete(project=PROJECT, region=REGION, router=f"{NAME}-router").execute())
    for fw in ("internal", "iap-ssh"):
        wait(compute.firewalls().delete(project=PROJECT, firewall=f"{NAME}-{fw}").execute())
    wait(compute.subnetworks().delete(project=PROJECT, region=REGION, subnetwork=f"{NAME}-nodes").execute())
    wait(compute.networks().delete(project=PROJECT, network=NAME).execute())


t0 = time.time()
made = create()
t1 = time.time()
destroy(*made)
t2 = time.time()
print(json.dumps({"create_s": round(t1 - t0, 2), "destroy_s": round(t2 - t1, 2)}))
