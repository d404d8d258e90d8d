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

    def test_calls_without_credentials_or_to_another_project_are_refused(self):
        anonymous = urllib.request.Request(
            f"{self.server.base}/compute/compute/v1/projects/{PROJECT}/global/networks")
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(anonymous)
        self.assertEqual(refused.exception.code, 401)
        with self.assertRaises(HttpError) as other:
            self.compute.networks().list(project="someone-else").execute()
        self.assertEqual(other.exception.resp.status, 404)


if __name__ == "__main__":
    unittest.main()
