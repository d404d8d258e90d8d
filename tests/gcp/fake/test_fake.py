"""Self-tests of the contract fake, driven by Google's own discovery-based client
(google-api-python-client): what the fake answers must parse and behave the way that
client expects of the real API.

    python -m unittest tests/gcp/fake/test_fake.py
"""

import json
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from google.oauth2.credentials import Credentials
from googleapiclient import discovery as gdiscovery
from googleapiclient.errors import HttpError

SERVER = Path(__file__).parent / "server.py"
PROJECT = "fake-selftest"


class FakeServer:
    def __init__(self, *args):
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVER), "--project", PROJECT, *args],
            stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "READY":
            raise RuntimeError("the fake did not start")
        self.port = int(line[1])
        self.base = f"http://127.0.0.1:{self.port}"

    def admin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            return json.loads(resp.read())

    def compute(self):
        return gdiscovery.build(
            "compute", "v1", static_discovery=True, cache_discovery=False,
            credentials=Credentials(token="fake-token"),
            client_options={"api_endpoint": f"{self.base}/compute/compute/v1/"})

    def client(self, name, version):
        return gdiscovery.build(
            name, version, static_discovery=True, cache_discovery=False,
            credentials=Credentials(token="fake-token"),
            client_options={"api_endpoint": f"{self.base}/{name}/"})

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def wait(compute, op):
    while op["status"] != "DONE":
        op = compute.globalOperations().wait(project=PROJECT, operation=op["name"]).execute()
    return op


def wait_region(compute, op, region):
    while op["status"] != "DONE":
        op = compute.regionOperations().wait(project=PROJECT, region=region,
                                             operation=op["name"]).execute()
    return op


def wait_zone(compute, op, zone):
    while op["status"] != "DONE":
        op = compute.zoneOperations().wait(project=PROJECT, zone=zone, operation=op["name"]).execute()
    return op


class ComputeContract(unittest.TestCase):
    def setUp(self):
        self.server = FakeServer("--operation-seconds", "0.2")
        self.compute = self.server.compute()

    def tearDown(self):
        self.server.stop()

    def network(self, name="net-a"):
        op = self.compute.networks().insert(
            project=PROJECT, requestId=str(uuid.uuid4()),
            body={"name": name, "autoCreateSubnetworks": False, "mtu": 8896}).execute()
        self.assertEqual(op["status"], "RUNNING")
        return wait(self.compute, op)

    def test_an_insert_runs_as_an_operation_and_the_object_reads_back(self):
        done = self.network()
        self.assertNotIn("error", done)
        net = self.compute.networks().get(project=PROJECT, network="net-a").execute()
        self.assertEqual(net["mtu"], 8896)
        self.assertEqual(net["kind"], "compute#network")
        self.assertTrue(net["selfLink"].endswith(f"/projects/{PROJECT}/global/networks/net-a"))
        self.assertEqual(done["targetLink"], net["selfLink"])
        listed = self.compute.networks().list(project=PROJECT, filter='name = "net-a"').execute()
        self.assertEqual([n["name"] for n in listed["items"]], ["net-a"])

    def test_the_object_appears_only_when_its_operation_is_done(self):
        op = self.compute.networks().insert(project=PROJECT, body={"name": "late"}).execute()
        with self.assertRaises(HttpError) as missing:
            self.compute.networks().get(project=PROJECT, network="late").execute()
        self.assertEqual(missing.exception.resp.status, 404)
        wait(self.compute, op)
        self.compute.networks().get(project=PROJECT, network="late").execute()

    def test_the_same_request_id_returns_the_first_operation(self):
        rid = str(uuid.uuid4())
        first = self.compute.networks().insert(project=PROJECT, requestId=rid,
                                               body={"name": "once"}).execute()
        again = self.compute.networks().insert(project=PROJECT, requestId=rid,
                                               body={"name": "once"}).execute()
        self.assertEqual(first["name"], again["name"])
        self.assertEqual(again["clientOperationId"], rid)
        found = self.compute.globalOperations().list(
            project=PROJECT, filter=f'clientOperationId = "{rid}"').execute()
        self.assertEqual(len(found["items"]), 1)
        with self.assertRaises(HttpError) as bad:
            self.compute.networks().insert(project=PROJECT, requestId="not-a-uuid",
                                           body={"name": "x"}).execute()
        self.assertEqual(bad.exception.resp.status, 400)

    def test_requests_are_checked_against_the_schema(self):
        for body in ({"name": "n", "mtuu": 1500}, {"name": "n", "mtu": "big"},
                     {"name": "n", "autoCreateSubnetworks": "yes"},
                     {"name": "n", "routingConfig": {"routingMode": "SIDEWAYS"}}):
            with self.assertRaises(HttpError) as bad:
                self.compute.networks().insert(project=PROJECT, body=body).execute()
            self.assertEqual(bad.exception.resp.status, 400, body)
        # An enum by its number (protobuf JSON) is its name.
        wait(self.compute, self.compute.networks().insert(
            project=PROJECT, body={"name": "num", "routingConfig": {"routingMode": 0}}).execute())
        got = self.compute.networks().get(project=PROJECT, network="num").execute()
        self.assertIn(got["routingConfig"]["routingMode"], ("GLOBAL", "REGIONAL"))

    def test_references_must_exist_and_pin_what_they_name(self):
        with self.assertRaises(HttpError) as missing:
            self.compute.subnetworks().insert(
                project=PROJECT, region="us-central1",
                body={"name": "s", "ipCidrRange": "10.0.0.0/24",
                      "network": f"projects/{PROJECT}/global/networks/nope"}).execute()
        self.assertEqual(missing.exception.resp.status, 404)
        self.network()
        op = self.compute.subnetworks().insert(
            project=PROJECT, region="us-central1",
            body={"name": "s", "ipCidrRange": "10.0.0.0/24", "network": "global/networks/net-a",
                  "secondaryIpRanges": [{"rangeName": "pods", "ipCidrRange": "10.4.0.0/14"}]}).execute()
        wait_region(self.compute, op, "us-central1")
        sub = self.compute.subnetworks().get(project=PROJECT, region="us-central1",
                                             subnetwork="s").execute()
        self.assertEqual(sub["gatewayAddress"], "10.0.0.1")
        self.assertTrue(sub["network"].endswith("/global/networks/net-a"))
        self.assertTrue(sub["region"].endswith("/regions/us-central1"))
        with self.assertRaises(HttpError) as in_use:
            self.compute.networks().delete(project=PROJECT, network="net-a").execute()
        self.assertEqual(in_use.exception.resp.status, 400)
        self.assertIn("already being used", str(in_use.exception))

    def test_a_patch_needs_the_current_fingerprint(self):
        self.network()
        op = self.compute.subnetworks().insert(
            project=PROJECT, region="us-central1",
            body={"name": "s", "ipCidrRange": "10.0.0.0/24", "network": "global/networks/net-a"}).execute()
        wait_region(self.compute, op, "us-central1")
        sub = self.compute.subnetworks().get(project=PROJECT, region="us-central1", subnetwork="s").execute()
        with self.assertRaises(HttpError) as stale:
            self.compute.subnetworks().patch(project=PROJECT, region="us-central1", subnetwork="s",
                                             body={"fingerprint": "c3RhbGU=", "description": "x"}).execute()
        self.assertEqual(stale.exception.resp.status, 412)
        op = self.compute.subnetworks().patch(
            project=PROJECT, region="us-central1", subnetwork="s",
            body={"fingerprint": sub["fingerprint"], "description": "x"}).execute()
        wait_region(self.compute, op, "us-central1")
        after = self.compute.subnetworks().get(project=PROJECT, region="us-central1", subnetwork="s").execute()
        self.assertEqual(after["description"], "x")
        self.assertNotEqual(after["fingerprint"], sub["fingerprint"])

    def test_faults_read_as_the_real_api_reports_them(self):
        self.server.admin("POST", "/_fake/faults", {"method": "compute.networks.insert",
                                                     "kind": "stockout", "times": 1})
        done = wait(self.compute, self.compute.networks().insert(
            project=PROJECT, body={"name": "full"}).execute())
        self.assertEqual(done["error"]["errors"][0]["code"], "ZONE_RESOURCE_POOL_EXHAUSTED")
        with self.assertRaises(HttpError):
            self.compute.networks().get(project=PROJECT, network="full").execute()
        self.server.admin("POST", "/_fake/faults", {"method": "compute.networks.insert",
                                                     "kind": "throttle", "times": 1})
        with self.assertRaises(HttpError) as throttled:
            self.compute.networks().insert(project=PROJECT, body={"name": "t"}).execute(num_retries=0)
        self.assertEqual(throttled.exception.resp.status, 429)

    def test_accelerator_types_are_per_zone(self):
        types = self.compute.acceleratorTypes()
        got = types.get(project=PROJECT, zone="us-central1-a", acceleratorType="nvidia-h100-80gb").execute()
        self.assertEqual(got["name"], "nvidia-h100-80gb")
        with self.assertRaises(HttpError) as missing:
            types.get(project=PROJECT, zone="us-central1-f", acceleratorType="nvidia-h100-80gb").execute()
        self.assertEqual(missing.exception.resp.status, 404)

    def test_calls_without_credentials_or_to_another_project_are_refused(self):
        anonymous = urllib.request.Request(
            f"{self.server.base}/compute/compute/v1/projects/{PROJECT}/global/networks")
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(anonymous)
        self.assertEqual(refused.exception.code, 401)
        with self.assertRaises(HttpError) as other:
            self.compute.networks().list(project="someone-else").execute()
        self.assertEqual(other.exception.resp.status, 404)


def wait_lro(get, op):
    while not op.get("done"):
        time.sleep(0.05)
        op = get(name=op["name"]).execute()
    return op


class ResourceOrientedContract(unittest.TestCase):
    """Cloud TPU as the resource-oriented APIs' representative: `create` with the id in
    the query, google.longrunning operations, `patch` with an update mask."""

    ZONE = "us-west4-a"

    def setUp(self):
        self.server = FakeServer("--operation-seconds", "0.2")
        self.tpu = self.server.client("tpu", "v2")
        self.parent = f"projects/{PROJECT}/locations/{self.ZONE}"

    def tearDown(self):
        self.server.stop()

    def create(self, node_id, body):
        nodes = self.tpu.projects().locations().nodes()
        op = nodes.create(parent=self.parent, nodeId=node_id, body=body).execute()
        self.assertFalse(op["done"])
        return wait_lro(self.tpu.projects().locations().operations().get, op)

    def test_a_slice_is_created_by_a_long_running_operation_and_reads_back(self):
        op = self.create("slice-a", {"acceleratorType": "v5litepod-16",
                                     "runtimeVersion": "v2-alpha-tpuv5-lite",
                                     "labels": {"team": "ml"}})
        self.assertNotIn("error", op)
        self.assertEqual(op["response"]["@type"], "type.googleapis.com/google.cloud.tpu.v2.Node")
        node = self.tpu.projects().locations().nodes().get(name=f"{self.parent}/nodes/slice-a").execute()
        self.assertEqual(node["state"], "READY")
        self.assertEqual(node["acceleratorConfig"], {"type": "V5LITE_POD", "topology": "4x4"})
        self.assertEqual(len(node["networkEndpoints"]), 4)  # four hosts of four chips
        listed = self.tpu.projects().locations().nodes().list(parent=self.parent).execute()
        self.assertEqual([n["name"] for n in listed["nodes"]], [node["name"]])
        with self.assertRaises(HttpError) as again:
            self.tpu.projects().locations().nodes().create(
                parent=self.parent, nodeId="slice-a",
                body={"acceleratorType": "v5litepod-16", "runtimeVersion": "x"}).execute()
        self.assertEqual(again.exception.resp.status, 409)

    def test_enums_arrive_as_proto_numbers_or_names(self):
        # google-cloud-rust sends an enum as its proto number (V5LITE_POD = 9, though it is
        # the fifth name in the document).
        op = self.create("by-number", {"acceleratorConfig": {"type": 9, "topology": "2x2"},
                                       "runtimeVersion": "v2-alpha-tpuv5-lite"})
        self.assertEqual(op["response"]["acceleratorType"], "v5litepod-4")
        with self.assertRaises(HttpError) as bad:
            self.tpu.projects().locations().nodes().create(
                parent=self.parent, nodeId="bad-number",
                body={"acceleratorConfig": {"type": 5, "topology": "2x2"}, "runtimeVersion": "x"}).execute()
        self.assertEqual(bad.exception.resp.status, 400)

    def test_patch_changes_only_what_the_mask_names(self):
        self.create("slice-b", {"acceleratorConfig": {"type": "V5LITE_POD", "topology": "2x4"},
                                "runtimeVersion": "v2-alpha-tpuv5-lite", "description": "a"})
        name = f"{self.parent}/nodes/slice-b"
        nodes = self.tpu.projects().locations().nodes()
        op = nodes.patch(name=name, updateMask="labels",
                         body={"labels": {"k": "v"}, "description": "ignored"}).execute()
        wait_lro(self.tpu.projects().locations().operations().get, op)
        node = nodes.get(name=name).execute()
        self.assertEqual((node["labels"], node["description"], node["acceleratorType"]),
                         ({"k": "v"}, "a", "v5litepod-8"))
        with self.assertRaises(HttpError) as fixed:
            nodes.patch(name=name, updateMask="acceleratorType", body={"acceleratorType": "v5litepod-4"}).execute()
        self.assertEqual(fixed.exception.resp.status, 400)

    def test_what_the_zone_does_not_offer_is_refused_and_a_stockout_fails_the_operation(self):
        nodes = self.tpu.projects().locations().nodes()
        with self.assertRaises(HttpError) as unknown:
            nodes.create(parent=self.parent, nodeId="big",
                         body={"acceleratorType": "v5p-8", "runtimeVersion": "v2-alpha-tpuv5"}).execute()
        self.assertEqual(unknown.exception.resp.status, 400)
        self.server.admin("POST", "/_fake/faults", {"method": "tpu.projects.locations.nodes.create",
                                                    "zone": self.ZONE, "kind": "stockout", "times": 1})
        op = self.create("slice-c", {"acceleratorType": "v5litepod-4", "runtimeVersion": "v2-alpha-tpuv5-lite"})
        self.assertEqual(op["error"]["code"], 8)
        self.assertIn("no more capacity", op["error"]["message"])
        with self.assertRaises(HttpError) as gone:
            nodes.get(name=f"{self.parent}/nodes/slice-c").execute()
        self.assertEqual(gone.exception.resp.status, 404)
        types = self.tpu.projects().locations().acceleratorTypes().list(parent=self.parent).execute()
        self.assertIn("v5litepod-256", [t["type"] for t in types["acceleratorTypes"]])


class IamContract(unittest.TestCase):
    """IAM's service accounts (a synchronous create whose id is in the body) and the
    project's IAM policy (read-modify-write guarded by its etag)."""

    def setUp(self):
        self.server = FakeServer()
        self.iam = self.server.client("iam", "v1")
        self.crm = self.server.client("cloudresourcemanager", "v3")

    def tearDown(self):
        self.server.stop()

    def test_a_service_account_is_named_by_its_email(self):
        accounts = self.iam.projects().serviceAccounts()
        made = accounts.create(name=f"projects/{PROJECT}", body={
            "accountId": "trainer-sa", "serviceAccount": {"displayName": "Trainer"}}).execute()
        email = f"trainer-sa@{PROJECT}.iam.gserviceaccount.com"
        self.assertEqual((made["email"], made["displayName"]), (email, "Trainer"))
        got = accounts.get(name=f"projects/{PROJECT}/serviceAccounts/{email}").execute()
        self.assertEqual(got["uniqueId"], made["uniqueId"])
        patched = accounts.patch(name=f"projects/{PROJECT}/serviceAccounts/{email}", body={
            "serviceAccount": {"description": "runs training"}, "updateMask": "description"}).execute()
        self.assertEqual((patched["description"], patched["displayName"]), ("runs training", "Trainer"))
        with self.assertRaises(HttpError) as bad:
            accounts.create(name=f"projects/{PROJECT}", body={"accountId": "x"}).execute()
        self.assertEqual(bad.exception.resp.status, 400)
        accounts.delete(name=f"projects/{PROJECT}/serviceAccounts/{email}").execute()
        with self.assertRaises(HttpError) as gone:
            accounts.get(name=f"projects/{PROJECT}/serviceAccounts/{email}").execute()
        self.assertEqual(gone.exception.resp.status, 404)

    def test_a_policy_written_from_a_stale_read_is_refused(self):
        projects = self.crm.projects()
        resource = f"projects/{PROJECT}"
        first = projects.getIamPolicy(resource=resource, body={}).execute()
        binding = {"role": "roles/viewer", "members": ["user:a@example.com"]}
        written = projects.setIamPolicy(resource=resource, body={"policy": {
            "etag": first["etag"], "bindings": [binding]}}).execute()
        self.assertNotEqual(written["etag"], first["etag"])
        with self.assertRaises(HttpError) as stale:
            projects.setIamPolicy(resource=resource, body={"policy": {
                "etag": first["etag"], "bindings": []}}).execute()
        self.assertEqual(stale.exception.resp.status, 409)
        self.assertEqual(projects.getIamPolicy(resource=resource, body={}).execute()["bindings"], [binding])
        with self.assertRaises(HttpError) as unknown:
            projects.setIamPolicy(resource=resource, body={"policy": {"bindings": [
                {"role": "roles/viewer", "members": [f"serviceAccount:ghost@{PROJECT}.iam.gserviceaccount.com"]}]}}).execute()
        self.assertEqual(unknown.exception.resp.status, 400)
        project = projects.get(name=resource).execute()
        self.assertEqual(project["projectId"], PROJECT)
        self.assertRegex(project["name"], r"^projects/[0-9]+$")


def wait_done(api, op):
    while not op.get("done"):
        time.sleep(0.05)
        op = api.projects().locations().operations().get(name=op["name"]).execute()
    return op


class FilestoreAndWorkbenchContract(unittest.TestCase):
    def setUp(self):
        self.server = FakeServer("--operation-seconds", "0.1")
        self.file = self.server.client("file", "v1")
        self.notebooks = self.server.client("notebooks", "v2")

    def tearDown(self):
        self.server.stop()

    def test_a_share_is_made_by_an_operation_grown_by_a_mask_and_checked_by_tier(self):
        instances = self.file.projects().locations().instances()
        parent = f"projects/{PROJECT}/locations/us-central1-a"
        body = {"tier": "BASIC_SSD", "fileShares": [{"name": "share1", "capacityGb": "2560"}],
                "networks": [{"network": "default", "modes": ["MODE_IPV4"]}]}
        op = wait_done(self.file, instances.create(parent=parent, instanceId="data", body=body).execute())
        self.assertNotIn("error", op)
        got = instances.get(name=f"{parent}/instances/data").execute()
        self.assertEqual(got["state"], "READY")
        self.assertTrue(got["networks"][0]["ipAddresses"])
        wait_done(self.file, instances.patch(name=got["name"], updateMask="file_shares", body={
            "fileShares": [{"name": "share1", "capacityGb": "4096"}]}).execute())
        self.assertEqual(instances.get(name=got["name"]).execute()["fileShares"][0]["capacityGb"], "4096")
        with self.assertRaises(HttpError) as small:
            instances.create(parent=parent, instanceId="tiny", body={
                **body, "fileShares": [{"name": "share1", "capacityGb": "1024"}]}).execute()
        self.assertEqual(small.exception.resp.status, 400)

    def test_a_running_notebook_must_be_stopped_to_change_its_machine(self):
        instances = self.notebooks.projects().locations().instances()
        parent = f"projects/{PROJECT}/locations/us-central1-a"
        op = instances.create(parent=parent, instanceId="nb", requestId=str(uuid.uuid4()), body={
            "gceSetup": {"machineType": "g2-standard-8",
                         "acceleratorConfigs": [{"type": "NVIDIA_L4", "coreCount": "1"}]}}).execute()
        wait_done(self.notebooks, op)
        name = f"{parent}/instances/nb"
        self.assertEqual(instances.get(name=name).execute()["state"], "ACTIVE")
        change = {"gceSetup": {"machineType": "g2-standard-16"}}
        with self.assertRaises(HttpError) as running:
            instances.patch(name=name, updateMask="gce_setup.machine_type", body=change).execute()
        self.assertEqual(running.exception.resp.status, 400)
        wait_done(self.notebooks, instances.stop(name=name, body={}).execute())
        wait_done(self.notebooks, instances.patch(name=name, updateMask="gce_setup.machine_type",
                                                 body=change).execute())
        got = instances.get(name=name).execute()
        self.assertEqual(got["gceSetup"]["machineType"], "g2-standard-16")
        self.assertEqual(got["gceSetup"]["acceleratorConfigs"][0]["type"], "NVIDIA_L4",
                         "a nested mask changes only the field it names")


class GkeContract(unittest.TestCase):
    def setUp(self):
        self.server = FakeServer("--operation-seconds", "0.3")
        self.container = self.server.client("container", "v1")
        self.parent = f"projects/{PROJECT}/locations/us-central1"

    def tearDown(self):
        self.server.stop()

    def wait(self, op):
        ops = self.container.projects().locations().operations()
        while op["status"] != "DONE":
            time.sleep(0.05)
            op = ops.get(name=f"{self.parent}/operations/{op['name']}").execute()
        return op

    def test_one_operation_at_a_time_per_cluster_and_a_stockout_fails_the_pool(self):
        clusters = self.container.projects().locations().clusters()
        op = clusters.create(parent=self.parent, body={"cluster": {
            "name": "c", "nodePools": [{"name": "default-pool", "initialNodeCount": 1}]}}).execute()
        self.assertEqual(op["operationType"], "CREATE_CLUSTER")
        pools = clusters.nodePools()
        with self.assertRaises(HttpError) as busy:
            pools.create(parent=f"{self.parent}/clusters/c", body={"nodePool": {"name": "p"}}).execute()
        self.assertEqual(busy.exception.resp.status, 400)
        self.assertIn("incompatible operation", str(busy.exception))
        self.wait(op)
        cluster = clusters.get(name=f"{self.parent}/clusters/c").execute()
        self.assertEqual(cluster["status"], "RUNNING")
        # A regional cluster without `locations` gets GKE's three default zones.
        self.assertEqual(len(cluster["locations"]), 3)
        self.assertTrue(all(z.startswith("us-central1-") for z in cluster["locations"]))
        self.assertEqual([p["name"] for p in cluster["nodePools"]], ["default-pool"])
        self.server.admin("POST", "/_fake/faults", {
            "method": "container.projects.locations.clusters.nodePools.create",
            "zone": "us-central1", "kind": "stockout", "times": 1})
        failed = self.wait(pools.create(parent=f"{self.parent}/clusters/c", body={"nodePool": {
            "name": "gpu", "initialNodeCount": 1, "config": {"machineType": "a3-highgpu-8g"}}}).execute())
        self.assertEqual(failed["error"]["code"], 8)
        self.assertIn("GCE_STOCKOUT", failed["error"]["message"])
        names = [p["name"] for p in pools.list(parent=f"{self.parent}/clusters/c").execute()["nodePools"]]
        self.assertEqual(names, ["default-pool"], "a failed create leaves no pool")

    def test_a_tpu_slice_pool_must_make_up_its_topology(self):
        clusters = self.container.projects().locations().clusters()
        self.wait(clusters.create(parent=self.parent, body={"cluster": {"name": "t"}}).execute())
        pool = {"name": "v5e", "initialNodeCount": 2, "config": {"machineType": "ct5lp-hightpu-4t"},
                "placementPolicy": {"type": "COMPACT", "tpuTopology": "4x4"}}
        with self.assertRaises(HttpError) as wrong:
            clusters.nodePools().create(parent=f"{self.parent}/clusters/t", body={"nodePool": pool}).execute()
        self.assertEqual(wrong.exception.resp.status, 400)
        pool["initialNodeCount"] = 4
        done = self.wait(clusters.nodePools().create(parent=f"{self.parent}/clusters/t",
                                                     body={"nodePool": pool}).execute())
        self.assertNotIn("error", done)
        labels = clusters.get(name=f"{self.parent}/clusters/t").execute()
        with self.assertRaises(HttpError) as stale:
            clusters.setResourceLabels(name=f"{self.parent}/clusters/t", body={
                "resourceLabels": {"a": "b"}, "labelFingerprint": "stale"}).execute()
        self.assertEqual(stale.exception.resp.status, 409)
        self.wait(clusters.setResourceLabels(name=f"{self.parent}/clusters/t", body={
            "resourceLabels": {"a": "b"}, "labelFingerprint": labels["labelFingerprint"]}).execute())
        self.assertEqual(clusters.get(name=f"{self.parent}/clusters/t").execute()["resourceLabels"], {"a": "b"})


    def test_a_pools_size_lives_in_its_instance_groups_which_compute_reads_and_resizes(self):
        clusters = self.container.projects().locations().clusters()
        self.wait(clusters.create(parent=self.parent, body={"cluster": {"name": "g"}}).execute())
        pools = clusters.nodePools()
        pool_name = f"{self.parent}/clusters/g/nodePools/n"
        self.wait(pools.create(parent=f"{self.parent}/clusters/g", body={"nodePool": {
            "name": "n", "initialNodeCount": 2, "locations": ["us-central1-a", "us-central1-b"]}}).execute())
        urls = pools.get(name=pool_name).execute()["instanceGroupUrls"]
        self.assertEqual(len(urls), 2)
        compute = self.server.compute()

        def sizes():
            out = []
            for url in urls:
                zone, name = url.split("/zones/")[1].split("/instanceGroupManagers/")
                out.append(compute.instanceGroupManagers().get(
                    project=PROJECT, zone=zone, instanceGroupManager=name).execute()["targetSize"])
            return out

        self.assertEqual(sizes(), [2, 2])
        self.wait(pools.setSize(name=pool_name, body={"nodeCount": 3}).execute())
        self.assertEqual(sizes(), [3, 3])
        zone, name = urls[0].split("/zones/")[1].split("/instanceGroupManagers/")
        wait_zone(compute, compute.instanceGroupManagers().resize(
            project=PROJECT, zone=zone, instanceGroupManager=name, size=5).execute(), zone)
        self.assertEqual(sizes(), [5, 3])
        self.wait(pools.delete(name=pool_name).execute())
        with self.assertRaises(HttpError) as gone:
            sizes()
        self.assertEqual(gone.exception.resp.status, 404)


class StorageContract(unittest.TestCase):
    def setUp(self):
        self.server = FakeServer()
        self.storage = gdiscovery.build(
            "storage", "v1", static_discovery=True, cache_discovery=False,
            credentials=Credentials(token="fake-token"),
            client_options={"api_endpoint": f"{self.server.base}/storage/storage/v1/"})

    def tearDown(self):
        self.server.stop()

    def test_bucket_names_are_global_and_patches_merge(self):
        buckets = self.storage.buckets()
        made = buckets.insert(project=PROJECT, body={"name": "b1", "location": "us-west4",
                                                     "labels": {"a": "1", "b": "2"}}).execute()
        self.assertEqual(made["location"], "US-WEST4")
        with self.assertRaises(HttpError) as taken:
            buckets.insert(project=PROJECT, body={"name": "b1"}).execute()
        self.assertEqual(taken.exception.resp.status, 409)
        patched = buckets.patch(bucket="b1", body={"labels": {"a": None, "c": "3"}}).execute()
        self.assertEqual(patched["labels"], {"b": "2", "c": "3"})
        buckets.delete(bucket="b1").execute()
        self.assertNotIn("items", buckets.list(project=PROJECT).execute())

    def upload(self, name, data, **query):
        """A multipart upload (google-api-python-client sends uploads to Google's own
        root whatever the endpoint, so this one is made by hand, as the JSON API
        documents it)."""
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
                + json.dumps({"name": name}) + f"\r\n--{boundary}\r\n"
                "Content-Type: application/json\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        params = "&".join(f"{k}={v}" for k, v in {"uploadType": "multipart", **query}.items())
        req = urllib.request.Request(
            f"{self.server.base}/storage/upload/storage/v1/b/state/o?{params}", data=body, method="POST",
            headers={"Content-Type": f"multipart/related; boundary={boundary}",
                     "Authorization": "Bearer fake-token"})
        try:
            with urllib.request.urlopen(req) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_objects_honour_generation_preconditions_on_every_call(self):
        self.storage.buckets().insert(project=PROJECT, body={"name": "state"}).execute()
        objects = self.storage.objects()
        code, made = self.upload("team/default.tflock", b'{"id":"a"}', ifGenerationMatch=0)
        self.assertEqual(code, 200, made)
        generation = made["generation"]
        # Only if absent: a second create is refused, whoever sends it.
        code, refused = self.upload("team/default.tflock", b'{"id":"b"}', ifGenerationMatch=0)
        self.assertEqual((code, refused["error"]["errors"][0]["reason"]), (412, "conditionNotMet"))
        media = objects.get_media(bucket="state", object="team/default.tflock").execute()
        self.assertEqual(media, b'{"id":"a"}')
        # A replace or delete against an older generation is refused too.
        code, replaced = self.upload("team/default.tflock", b'{"id":"a2"}', ifGenerationMatch=generation)
        self.assertEqual(code, 200, replaced)
        self.assertNotEqual(replaced["generation"], generation)
        with self.assertRaises(HttpError) as stale:
            objects.delete(bucket="state", object="team/default.tflock", ifGenerationMatch=generation).execute()
        self.assertEqual(stale.exception.resp.status, 412)
        objects.delete(bucket="state", object="team/default.tflock",
                       ifGenerationMatch=replaced["generation"]).execute()
        with self.assertRaises(HttpError) as gone:
            objects.get(bucket="state", object="team/default.tflock").execute()
        self.assertEqual(gone.exception.resp.status, 404)

    def test_objects_list_by_prefix_in_name_order_across_pages(self):
        self.storage.buckets().insert(project=PROJECT, body={"name": "state"}).execute()
        for name in ["b/2", "a/1", "b/1", "b/10", "c"]:
            self.assertEqual(self.upload(name, b"x")[0], 200)
        pages, token = [], None
        while True:
            page = self.storage.objects().list(bucket="state", prefix="b/", maxResults=2,
                                               pageToken=token).execute()
            pages.append([o["name"] for o in page.get("items", [])])
            token = page.get("nextPageToken")
            if not token:
                break
        self.assertEqual(pages, [["b/1", "b/10"], ["b/2"]])
        with self.assertRaises(HttpError) as full:
            self.storage.buckets().delete(bucket="state").execute()
        self.assertEqual(full.exception.resp.status, 409)


class KmsContract(unittest.TestCase):
    def setUp(self):
        self.server = FakeServer()
        self.kms = self.server.client("cloudkms", "v1")

    def tearDown(self):
        self.server.stop()

    def test_a_ciphertext_opens_only_with_the_key_that_made_it(self):
        import base64
        rings = self.kms.projects().locations().keyRings()
        parent = f"projects/{PROJECT}/locations/global"
        ring = rings.create(parent=parent, keyRingId="state", body={}).execute()
        keys = rings.cryptoKeys()
        one = keys.create(parent=ring["name"], cryptoKeyId="one", body={"purpose": "ENCRYPT_DECRYPT"}).execute()
        two = keys.create(parent=ring["name"], cryptoKeyId="two", body={"purpose": "ENCRYPT_DECRYPT"}).execute()
        secret = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
        wrapped = keys.encrypt(name=one["name"], body={"plaintext": secret}).execute()
        self.assertNotIn(secret, wrapped["ciphertext"])
        self.assertTrue(wrapped["name"].startswith(one["name"] + "/cryptoKeyVersions/"))
        opened = keys.decrypt(name=one["name"], body={"ciphertext": wrapped["ciphertext"]}).execute()
        self.assertEqual(opened["plaintext"], secret)
        with self.assertRaises(HttpError) as other:
            keys.decrypt(name=two["name"], body={"ciphertext": wrapped["ciphertext"]}).execute()
        self.assertEqual(other.exception.resp.status, 400)
        with self.assertRaises(HttpError) as missing:
            keys.encrypt(name=ring["name"] + "/cryptoKeys/absent", body={"plaintext": secret}).execute()
        self.assertEqual(missing.exception.resp.status, 404)


class CloudQuotasContract(unittest.TestCase):
    """Cloud Quotas has no discovery document: the fake serves the contract of its
    protos and http rules (proto_contract.py), and Google's client library generated from
    the same protos (google-cloud-quotas, over REST) must parse what it answers."""

    def setUp(self):
        self.server = FakeServer()
        from google.cloud import cloudquotas_v1
        self.quotas = cloudquotas_v1.CloudQuotasClient(
            transport="rest", credentials=Credentials(token="fake-token"),
            client_options={"api_endpoint": f"{self.server.base}/cloudquotas"})

    def tearDown(self):
        self.server.stop()

    def test_a_zone_of_its_own_comes_before_the_default_and_both_read_back(self):
        service = "tpu.googleapis.com"
        quota = "TPUV6EPerProjectPerZoneForTPUAPI"
        self.server.admin("POST", "/_fake/quotas",
                          {"service": service, "quota_id": quota, "location": "us-east1-d", "limit": 8})
        name = f"projects/{PROJECT}/locations/global/services/{service}/quotaInfos/{quota}"
        info = self.quotas.get_quota_info(name=name)
        self.assertEqual(info.quota_id, quota)
        self.assertEqual(list(info.dimensions), ["zone"])
        first, last = info.dimensions_infos[0], info.dimensions_infos[-1]
        self.assertEqual(dict(first.dimensions), {"zone": "us-east1-d"})
        self.assertEqual(first.details.value, 8)
        self.assertEqual(dict(last.dimensions), {})
        self.assertGreater(last.details.value, 8)
        self.assertNotIn("us-east1-d", last.applicable_locations)
        self.assertIn(quota, [q.quota_id for q in self.quotas.list_quota_infos(
            parent=f"projects/{PROJECT}/locations/global/services/{service}")])

    def test_the_answer_follows_the_schema_and_an_unknown_quota_is_not_found(self):
        import sys
        sys.path.insert(0, str(SERVER.parent))
        import discovery
        from google.api_core import exceptions
        api = discovery.load("cloudquotas.v1")
        path = (f"/cloudquotas/v1/projects/{PROJECT}/locations/global/services/"
                "compute.googleapis.com/quotaInfos/TPU-V5P-per-project-region")
        req = urllib.request.Request(self.server.base + path,
                                     headers={"Authorization": "Bearer fake-token"})
        with urllib.request.urlopen(req) as resp:
            raw = json.loads(resp.read())
        discovery.validate(api, "QuotaInfo", raw, "quotaInfo")
        with self.assertRaises(discovery.ContractError):
            discovery.validate(api, "QuotaInfo", {**raw, "usage": 3}, "quotaInfo")
        with self.assertRaises(exceptions.NotFound):
            self.quotas.get_quota_info(name=f"projects/{PROJECT}/locations/global/services/"
                                            "tpu.googleapis.com/quotaInfos/NoSuchQuota")


if __name__ == "__main__":
    unittest.main()
