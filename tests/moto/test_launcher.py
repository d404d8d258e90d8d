"""Tests for tests/moto/launcher.py, through boto3 against the real launcher process.

    $HOME/.cache/gantry/venv/bin/python -m unittest tests/moto/test_launcher.py
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

LAUNCHER = Path(__file__).with_name("launcher.py")
AMI = "ami-12c6146b"  # one of moto's built-in AMIs
READY = re.compile(r"^ready (http://127\.0\.0\.1:(\d+))\n$")


class Launcher:
    """One launcher subprocess; the test holds its stdin pipe like the Rust harness does."""

    def __init__(self, faults: str | None = None, extra: list[str] | None = None):
        args = [sys.executable, str(LAUNCHER), "--port", "0"]
        if faults:
            args += ["--faults", faults]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            args + (extra or []),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.ready_line = self.proc.stdout.readline()
        self.startup_seconds = time.monotonic() - self.started
        match = READY.match(self.ready_line)
        if not match:
            self.proc.kill()
            raise AssertionError(f"no ready line: {self.ready_line!r}\n{self.proc.stderr.read()}")
        self.url = match.group(1)

    def client(self, service: str, region: str = "us-east-1", retries: int = 1):
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            # One attempt: the tests want to see each injected error, not the SDK's retries.
            config=Config(retries={"total_max_attempts": retries, "mode": "standard"}),
        )

    def stop(self) -> None:
        if not self.proc.stdin.closed:
            self.proc.stdin.close()  # what the Rust harness's exit does to the pipe
        if self.proc.poll() is None:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()


def error_of(call, *args, **kwargs) -> tuple[str, int, str]:
    try:
        call(*args, **kwargs)
    except ClientError as err:
        meta = err.response["ResponseMetadata"]
        return err.response["Error"]["Code"], meta["HTTPStatusCode"], err.response["Error"]["Message"]
    raise AssertionError("expected an error")


SHARED: dict = {}


def setUpModule() -> None:
    # One launcher for every SharedLauncher test: moto's EC2 backend takes seconds to load.
    SHARED["tmp"] = tempfile.TemporaryDirectory()
    SHARED["faults"] = os.path.join(SHARED["tmp"].name, "faults.json")
    SHARED["launcher"] = Launcher(SHARED["faults"])


def tearDownModule() -> None:
    stop_timed_launcher()
    SHARED["launcher"].stop()
    SHARED["tmp"].cleanup()


class SharedLauncher(unittest.TestCase):
    """Tests against the module's launcher; each test owns the faults file while it runs."""

    def setUp(self) -> None:
        self.launcher: Launcher = SHARED["launcher"]
        self.faults_path: str = SHARED["faults"]
        self.ec2 = self.launcher.client("ec2")

    def tearDown(self) -> None:
        if os.path.exists(self.faults_path):
            os.remove(self.faults_path)

    def write_faults(self, doc: dict) -> None:
        # Write then rename, so the launcher never reads a half-written file.
        tmp = self.faults_path + ".tmp"
        with open(tmp, "w") as handle:
            json.dump(doc, handle)
        os.replace(tmp, self.faults_path)

    def subnet_in(self, zone: str) -> str:
        vpc = self.ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        subnet = self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone=zone)
        return subnet["Subnet"]["SubnetId"]


class S3CreateBucketTagsTest(SharedLauncher):
    def test_tags_given_at_create_are_on_the_bucket_at_once(self) -> None:
        s3 = self.launcher.client("s3")
        s3.create_bucket(
            Bucket="tagged-at-create",
            CreateBucketConfiguration={"Tags": [
                {"Key": "gantry:stack", "Value": "lineage-1"},
                {"Key": "team", "Value": "ml & <infra>"},
            ]},
        )
        tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket="tagged-at-create")["TagSet"]}
        self.assertEqual(tags, {"gantry:stack": "lineage-1", "team": "ml & <infra>"})
        s3.create_bucket(Bucket="untagged")
        with self.assertRaises(s3.exceptions.ClientError):
            s3.get_bucket_tagging(Bucket="untagged")
        # Object uploads are not touched.
        s3.put_object(Bucket="untagged", Key="k", Body=b"<Tags>not a bucket</Tags>")
        self.assertEqual(s3.get_object(Bucket="untagged", Key="k")["Body"].read(), b"<Tags>not a bucket</Tags>")


class ReadyLineTest(SharedLauncher):
    def test_ready_line_names_a_serving_port(self) -> None:
        self.assertRegex(self.launcher.ready_line, READY)
        self.assertTrue(self.launcher.client("sts").get_caller_identity()["Account"])
        print(f"\nlauncher ready after {self.launcher.startup_seconds * 1000:.0f} ms", file=sys.stderr)


class PlacementGroupTest(SharedLauncher):
    def test_create_describe_delete(self) -> None:
        created = self.ec2.create_placement_group(
            GroupName="pg-crud",
            Strategy="cluster",
            TagSpecifications=[
                {"ResourceType": "placement-group", "Tags": [{"Key": "gantry:stack", "Value": "a"}]}
            ],
        )["PlacementGroup"]
        self.assertRegex(created["GroupId"], r"^pg-[0-9a-f]{17}$")
        self.assertEqual(created["GroupArn"], "arn:aws:ec2:us-east-1:123456789012:placement-group/pg-crud")
        self.assertEqual((created["State"], created["Strategy"]), ("available", "cluster"))
        self.assertEqual(created["Tags"], [{"Key": "gantry:stack", "Value": "a"}])

        by_name = self.ec2.describe_placement_groups(GroupNames=["pg-crud"])["PlacementGroups"]
        by_id = self.ec2.describe_placement_groups(GroupIds=[created["GroupId"]])["PlacementGroups"]
        self.assertEqual(by_name, [created])
        self.assertEqual(by_id, [created])

        self.ec2.delete_placement_group(GroupName="pg-crud")
        code, status, message = error_of(self.ec2.describe_placement_groups, GroupNames=["pg-crud"])
        self.assertEqual((code, status), ("InvalidPlacementGroup.Unknown", 400))
        self.assertEqual(message, "The Placement Group 'pg-crud' is unknown.")

    def test_strategies_and_their_options(self) -> None:
        spread = self.ec2.create_placement_group(GroupName="pg-spread", Strategy="spread")["PlacementGroup"]
        self.assertEqual(spread["SpreadLevel"], "rack")
        partition = self.ec2.create_placement_group(
            GroupName="pg-part", Strategy="partition", PartitionCount=5
        )["PlacementGroup"]
        self.assertEqual(partition["PartitionCount"], 5)
        default_partitions = self.ec2.create_placement_group(GroupName="pg-part2", Strategy="partition")
        self.assertEqual(default_partitions["PlacementGroup"]["PartitionCount"], 2)
        code, _, _ = error_of(self.ec2.create_placement_group, GroupName="x", Strategy="cluster", PartitionCount=3)
        self.assertEqual(code, "InvalidParameterCombination")
        code, _, _ = error_of(self.ec2.create_placement_group, GroupName="x", Strategy="clumped")
        self.assertEqual(code, "InvalidParameterValue")
        for name in ("pg-spread", "pg-part", "pg-part2"):
            self.ec2.delete_placement_group(GroupName=name)

    def test_filters(self) -> None:
        tags = [{"ResourceType": "placement-group", "Tags": [{"Key": "team", "Value": "ml"}]}]
        a = self.ec2.create_placement_group(GroupName="flt-a", Strategy="cluster", TagSpecifications=tags)
        self.ec2.create_placement_group(GroupName="flt-b", Strategy="spread")

        def names(filters: list[dict]) -> list[str]:
            groups = self.ec2.describe_placement_groups(Filters=filters)["PlacementGroups"]
            return sorted(g["GroupName"] for g in groups if g["GroupName"].startswith("flt-"))

        self.assertEqual(names([{"Name": "strategy", "Values": ["spread"]}]), ["flt-b"])
        self.assertEqual(names([{"Name": "group-name", "Values": ["flt-*"]}]), ["flt-a", "flt-b"])
        self.assertEqual(names([{"Name": "group-id", "Values": [a["PlacementGroup"]["GroupId"]]}]), ["flt-a"])
        self.assertEqual(names([{"Name": "tag:team", "Values": ["ml"]}]), ["flt-a"])
        self.assertEqual(names([{"Name": "tag-key", "Values": ["team"]}]), ["flt-a"])
        self.assertEqual(names([{"Name": "state", "Values": ["available"]}]), ["flt-a", "flt-b"])
        code, _, _ = error_of(self.ec2.describe_placement_groups, Filters=[{"Name": "colour", "Values": ["x"]}])
        self.assertEqual(code, "InvalidParameterValue")
        self.ec2.delete_placement_group(GroupName="flt-a")
        self.ec2.delete_placement_group(GroupName="flt-b")

    def test_errors(self) -> None:
        self.ec2.create_placement_group(GroupName="pg-dup", Strategy="cluster")
        code, status, message = error_of(self.ec2.create_placement_group, GroupName="pg-dup", Strategy="cluster")
        self.assertEqual((code, status), ("InvalidPlacementGroup.Duplicate", 400))
        self.assertEqual(message, "The placement group 'pg-dup' already exists.")
        code, _, _ = error_of(self.ec2.delete_placement_group, GroupName="pg-never")
        self.assertEqual(code, "InvalidPlacementGroup.Unknown")
        code, _, _ = error_of(self.ec2.describe_placement_groups, GroupIds=["pg-0123456789abcdef0"])
        self.assertEqual(code, "InvalidPlacementGroup.Unknown")
        code, status, _ = error_of(self.ec2.delete_placement_group, GroupName="pg-dup", DryRun=True)
        self.assertEqual((code, status), ("DryRunOperation", 412))
        self.ec2.delete_placement_group(GroupName="pg-dup")

    def test_tags_on_placement_group_ids(self) -> None:
        created = self.ec2.create_placement_group(GroupName="pg-tags", Strategy="cluster")
        group_id = created["PlacementGroup"]["GroupId"]
        self.ec2.create_tags(Resources=[group_id], Tags=[{"Key": "owner", "Value": "gantry"}])
        described = self.ec2.describe_placement_groups(GroupNames=["pg-tags"])["PlacementGroups"][0]
        self.assertEqual(described["Tags"], [{"Key": "owner", "Value": "gantry"}])
        tags = self.ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["placement-group"]}])["Tags"]
        self.assertIn(
            {"Key": "owner", "Value": "gantry", "ResourceId": group_id, "ResourceType": "placement-group"}, tags
        )
        self.ec2.delete_tags(Resources=[group_id], Tags=[{"Key": "owner"}])
        untagged = self.ec2.describe_placement_groups(GroupNames=["pg-tags"])["PlacementGroups"][0]
        self.assertEqual(untagged["Tags"], [])
        code, _, _ = error_of(
            self.ec2.create_tags, Resources=["pg-0123456789abcdef0"], Tags=[{"Key": "k", "Value": "v"}]
        )
        self.assertEqual(code, "InvalidPlacementGroup.Unknown")
        self.ec2.delete_placement_group(GroupName="pg-tags")
        self.assertNotIn(group_id, [t["ResourceId"] for t in self.ec2.describe_tags()["Tags"]])

    def test_instances_join_the_group_and_hold_it(self) -> None:
        self.ec2.create_placement_group(GroupName="pg-used", Strategy="cluster")
        run = self.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, Placement={"GroupName": "pg-used"})
        instance = run["Instances"][0]
        self.assertEqual(instance["Placement"]["GroupName"], "pg-used")
        described = self.ec2.describe_instances(InstanceIds=[instance["InstanceId"]])
        self.assertEqual(described["Reservations"][0]["Instances"][0]["Placement"]["GroupName"], "pg-used")
        filtered = self.ec2.describe_instances(Filters=[{"Name": "placement-group-name", "Values": ["pg-used"]}])
        self.assertEqual([i["InstanceId"] for r in filtered["Reservations"] for i in r["Instances"]],
                         [instance["InstanceId"]])

        code, status, _ = error_of(self.ec2.delete_placement_group, GroupName="pg-used")
        self.assertEqual((code, status), ("InvalidPlacementGroup.InUse", 400))
        self.ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
        self.ec2.delete_placement_group(GroupName="pg-used")

        code, _, _ = error_of(self.ec2.run_instances, ImageId=AMI, MinCount=1, MaxCount=1,
                              Placement={"GroupName": "pg-missing"})
        self.assertEqual(code, "InvalidPlacementGroup.Unknown")

    def test_launch_template_placement_group(self) -> None:
        self.ec2.create_placement_group(GroupName="pg-lt", Strategy="cluster")
        self.ec2.create_launch_template(
            LaunchTemplateName="lt-pg", LaunchTemplateData={"Placement": {"GroupName": "pg-lt"}}
        )
        run = self.ec2.run_instances(
            ImageId=AMI, MinCount=1, MaxCount=1, LaunchTemplate={"LaunchTemplateName": "lt-pg"}
        )
        self.assertEqual(run["Instances"][0]["Placement"]["GroupName"], "pg-lt")
        self.ec2.terminate_instances(InstanceIds=[run["Instances"][0]["InstanceId"]])
        self.ec2.delete_placement_group(GroupName="pg-lt")


class ClientTokenTest(SharedLauncher):
    def instance_count(self) -> int:
        return sum(len(r["Instances"]) for r in self.ec2.describe_instances()["Reservations"])

    def test_run_instances_is_idempotent(self) -> None:
        before = self.instance_count()
        first = self.ec2.run_instances(ImageId=AMI, MinCount=2, MaxCount=2, ClientToken="tok-run-1")
        again = self.ec2.run_instances(ImageId=AMI, MinCount=2, MaxCount=2, ClientToken="tok-run-1")
        self.assertEqual(first["ReservationId"], again["ReservationId"])
        self.assertEqual(
            [i["InstanceId"] for i in first["Instances"]], [i["InstanceId"] for i in again["Instances"]]
        )
        self.assertEqual(self.instance_count(), before + 2)

        other = self.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, ClientToken="tok-run-2")
        self.assertNotEqual(other["ReservationId"], first["ReservationId"])
        code, status, _ = error_of(
            self.ec2.run_instances, ImageId=AMI, MinCount=3, MaxCount=3, ClientToken="tok-run-1"
        )
        self.assertEqual((code, status), ("IdempotentParameterMismatch", 400))

    def test_describe_instances_by_client_token(self) -> None:
        ours = self.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, ClientToken="token-filter-a",
                                      InstanceType="t3.micro")["Instances"][0]["InstanceId"]
        other = self.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, ClientToken="token-filter-b",
                                       InstanceType="t3.small")["Instances"][0]["InstanceId"]

        def found(**kwargs) -> list[str]:
            out = self.ec2.describe_instances(**kwargs)
            return sorted(i["InstanceId"] for r in out["Reservations"] for i in r["Instances"])

        by_token = [{"Name": "client-token", "Values": ["token-filter-a"]}]
        self.assertEqual(found(Filters=by_token), [ours])
        both = [{"Name": "client-token", "Values": ["token-filter-a", "token-filter-b"]}]
        self.assertEqual(found(Filters=both), sorted([ours, other]))
        # Combined with moto's own filters and instance ids.
        typed = both + [{"Name": "instance-type", "Values": ["t3.small"]}]
        self.assertEqual(found(Filters=typed), [other])
        self.assertEqual(found(Filters=both, InstanceIds=[ours]), [ours])
        self.assertEqual(found(Filters=[{"Name": "client-token", "Values": ["nobody"]}]), [])
        self.ec2.terminate_instances(InstanceIds=[ours, other])

    def test_create_launch_template_is_idempotent(self) -> None:
        data = {"InstanceType": "p5.48xlarge"}
        create = self.ec2.create_launch_template
        first = create(LaunchTemplateName="lt-idem", LaunchTemplateData=data, ClientToken="t1")
        again = create(LaunchTemplateName="lt-idem", LaunchTemplateData=data, ClientToken="t1")
        self.assertEqual(first["LaunchTemplate"]["LaunchTemplateId"], again["LaunchTemplate"]["LaunchTemplateId"])
        code, _, _ = error_of(create, LaunchTemplateName="lt-idem", LaunchTemplateData=data)
        self.assertEqual(code, "InvalidLaunchTemplateName.AlreadyExistsException")


class NatGatewayTest(SharedLauncher):
    def test_delete_frees_the_elastic_ip_and_the_interface(self) -> None:
        subnet = self.subnet_in("us-east-1a")
        allocation = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
        first = self.ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]
        eni = first["NatGatewayAddresses"][0]["NetworkInterfaceId"]
        self.ec2.delete_nat_gateway(NatGatewayId=first["NatGatewayId"])
        gone = self.ec2.describe_nat_gateways(NatGatewayIds=[first["NatGatewayId"]])["NatGateways"]
        self.assertEqual(gone[0]["State"], "deleted")
        address = self.ec2.describe_addresses(AllocationIds=[allocation])["Addresses"][0]
        self.assertNotIn("AssociationId", address)
        interfaces = self.ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [subnet]}])
        self.assertNotIn(eni, [i["NetworkInterfaceId"] for i in interfaces["NetworkInterfaces"]])
        # The address can go to a new gateway (moto alone: Resource.AlreadyAssociated).
        second = self.ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]
        self.assertEqual(second["NatGatewayAddresses"][0]["AllocationId"], allocation)

    def test_unknown_id_and_client_token(self) -> None:
        code, status, _ = error_of(self.ec2.delete_nat_gateway, NatGatewayId="nat-0123456789abcdef0")
        self.assertEqual((code, status), ("NatGatewayNotFound", 400))
        subnet = self.subnet_in("us-east-1b")
        allocation = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
        create = self.ec2.create_nat_gateway
        first = create(SubnetId=subnet, AllocationId=allocation, ClientToken="nat-tok-1")["NatGateway"]
        again = create(SubnetId=subnet, AllocationId=allocation, ClientToken="nat-tok-1")["NatGateway"]
        self.assertEqual(first["NatGatewayId"], again["NatGatewayId"])


class CapacityTest(SharedLauncher):
    def setUp(self) -> None:
        super().setUp()
        self.write_faults({"capacity": [{"instance_type": "p5.48xlarge", "zone": "us-east-1a"}]})

    def assert_no_capacity(self, **run_args) -> str:
        code, status, message = error_of(self.ec2.run_instances, ImageId=AMI, MinCount=1, MaxCount=1, **run_args)
        self.assertEqual((code, status), ("InsufficientInstanceCapacity", 500))
        return message

    def test_by_availability_zone(self) -> None:
        message = self.assert_no_capacity(InstanceType="p5.48xlarge", Placement={"AvailabilityZone": "us-east-1a"})
        self.assertEqual(
            message,
            "We currently do not have sufficient p5.48xlarge capacity in the Availability Zone you requested "
            "(us-east-1a). Our system will be working on provisioning additional capacity. You can currently get "
            "p5.48xlarge capacity by not specifying an Availability Zone in your request or choosing us-east-1b, "
            "us-east-1c, us-east-1d, us-east-1e, us-east-1f.",
        )
        ok = self.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, InstanceType="p5.48xlarge",
                                    Placement={"AvailabilityZone": "us-east-1b"})
        self.assertEqual(ok["Instances"][0]["Placement"]["AvailabilityZone"], "us-east-1b")
        self.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, InstanceType="m5.large",
                               Placement={"AvailabilityZone": "us-east-1a"})

    def test_by_subnet_and_network_interface(self) -> None:
        subnet = self.subnet_in("us-east-1a")
        self.assert_no_capacity(InstanceType="p5.48xlarge", SubnetId=subnet)
        self.assert_no_capacity(InstanceType="p5.48xlarge",
                                NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "InterfaceType": "efa"}])

    def test_by_launch_template(self) -> None:
        subnet = self.subnet_in("us-east-1a")
        template = self.ec2.create_launch_template(
            LaunchTemplateName="lt-p5", LaunchTemplateData={"InstanceType": "p5.48xlarge"}
        )["LaunchTemplate"]["LaunchTemplateId"]
        self.assert_no_capacity(LaunchTemplate={"LaunchTemplateId": template}, SubnetId=subnet)
        self.assert_no_capacity(LaunchTemplate={"LaunchTemplateName": "lt-p5"}, SubnetId=subnet)

    def test_rewriting_the_file_lifts_the_fault(self) -> None:
        self.assert_no_capacity(InstanceType="p5.48xlarge", Placement={"AvailabilityZone": "us-east-1a"})
        self.write_faults({})
        self.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, InstanceType="p5.48xlarge",
                               Placement={"AvailabilityZone": "us-east-1a"})


class ThrottleTest(SharedLauncher):
    def test_ec2_query_action(self) -> None:
        self.write_faults({"throttle": [{"action": "DescribeVpcs", "count": 2}]})
        for _ in range(2):
            code, status, _ = error_of(self.ec2.describe_vpcs)
            self.assertEqual((code, status), ("RequestLimitExceeded", 503))
        self.ec2.describe_vpcs()
        self.ec2.describe_subnets()  # other actions are never throttled

        # A rewrite, even with the same content, starts the count again.
        self.write_faults({"throttle": [{"action": "DescribeVpcs", "count": 2}]})
        self.assertEqual(error_of(self.ec2.describe_vpcs)[0], "RequestLimitExceeded")

    def test_sdk_retries_absorb_throttling(self) -> None:
        self.write_faults({"throttle": [{"action": "DescribeVpcs", "count": 2}]})
        self.launcher.client("ec2", retries=3).describe_vpcs()

    def test_iam_query_action(self) -> None:
        self.write_faults({"throttle": [{"action": "ListRoles", "count": 1}]})
        iam = self.launcher.client("iam")
        code, status, _ = error_of(iam.list_roles)
        self.assertEqual((code, status), ("Throttling", 400))
        iam.list_roles()

    def test_json_protocol_action(self) -> None:
        self.write_faults({"throttle": [{"action": "GetServiceQuota", "count": 1}]})
        quotas = self.launcher.client("service-quotas")
        code, status, _ = error_of(quotas.get_service_quota, ServiceCode="vpc", QuotaCode="L-F678F1CE")
        self.assertEqual((code, status), ("ThrottlingException", 400))
        quotas.get_service_quota(ServiceCode="vpc", QuotaCode="L-F678F1CE")

    def test_broken_faults_file_fails_loudly(self) -> None:
        self.write_faults({"throttles": []})
        code, status, message = error_of(self.ec2.describe_vpcs)
        self.assertEqual((code, status), ("LauncherFaultsFileInvalid", 400))
        self.assertIn("throttles", message)


class ServiceQuotasTest(SharedLauncher):
    def setUp(self) -> None:
        super().setUp()
        self.write_faults({"ec2_quotas": {"L-417A185B": 192, "L-1216C47A": 1152}})
        self.quotas = self.launcher.client("service-quotas")

    def test_get_ec2_quota(self) -> None:
        quota = self.quotas.get_service_quota(ServiceCode="ec2", QuotaCode="L-417A185B")["Quota"]
        self.assertEqual(quota["Value"], 192.0)
        self.assertEqual(quota["QuotaName"], "Running On-Demand P instances")
        self.assertEqual(quota["ServiceName"], "Amazon Elastic Compute Cloud (Amazon EC2)")
        self.assertEqual(quota["QuotaArn"], "arn:aws:servicequotas:us-east-1:123456789012:ec2/L-417A185B")
        self.assertEqual((quota["Unit"], quota["Adjustable"], quota["GlobalQuota"]), ("None", True, False))
        self.assertEqual(quota["UsageMetric"]["MetricDimensions"]["Class"], "P/OnDemand")
        default = self.quotas.get_aws_default_service_quota(ServiceCode="ec2", QuotaCode="L-1216C47A")["Quota"]
        self.assertEqual(default["QuotaArn"], "arn:aws:servicequotas:us-east-1::ec2/L-1216C47A")

    def test_unknown_quota_code(self) -> None:
        code, status, _ = error_of(self.quotas.get_service_quota, ServiceCode="ec2", QuotaCode="L-DB2E81BA")
        self.assertEqual((code, status), ("NoSuchResourceException", 400))

    def test_list_and_paginate(self) -> None:
        listed = self.quotas.list_service_quotas(ServiceCode="ec2")["Quotas"]
        self.assertEqual([q["QuotaCode"] for q in listed], ["L-1216C47A", "L-417A185B"])
        first = self.quotas.list_service_quotas(ServiceCode="ec2", MaxResults=1)
        second = self.quotas.list_service_quotas(ServiceCode="ec2", MaxResults=1, NextToken=first["NextToken"])
        pages = [first["Quotas"][0]["QuotaCode"], second["Quotas"][0]["QuotaCode"]]
        self.assertEqual(pages, ["L-1216C47A", "L-417A185B"])
        self.assertNotIn("NextToken", second)

    def test_default_only_quotas(self) -> None:
        self.write_faults({"ec2_quotas": {"L-417A185B": 192}, "ec2_default_quotas": {"L-DB2E81BA": 64}})
        code, status, _ = error_of(self.quotas.get_service_quota, ServiceCode="ec2", QuotaCode="L-DB2E81BA")
        self.assertEqual((code, status), ("NoSuchResourceException", 400))
        default = self.quotas.get_aws_default_service_quota(ServiceCode="ec2", QuotaCode="L-DB2E81BA")["Quota"]
        self.assertEqual((default["Value"], default["QuotaName"]), (64.0, "Running On-Demand G and VT instances"))
        listed = self.quotas.list_service_quotas(ServiceCode="ec2")["Quotas"]
        self.assertEqual([q["QuotaCode"] for q in listed], ["L-417A185B"])
        defaults = self.quotas.list_aws_default_service_quotas(ServiceCode="ec2")["Quotas"]
        self.assertEqual([q["QuotaCode"] for q in defaults], ["L-417A185B", "L-DB2E81BA"])

    def test_other_services_reach_moto(self) -> None:
        quota = self.quotas.get_service_quota(ServiceCode="vpc", QuotaCode="L-F678F1CE")["Quota"]
        self.assertEqual(quota["QuotaName"], "VPCs per Region")


class AvailabilityZonesTest(SharedLauncher):
    def test_fields_and_errors(self) -> None:
        zones = self.ec2.describe_availability_zones(
            Filters=[{"Name": "opt-in-status", "Values": ["opt-in-not-required"]}]
        )["AvailabilityZones"]
        self.assertEqual(len(zones), 6)
        self.assertEqual(
            {k: zones[0][k] for k in
             ("ZoneName", "ZoneId", "OptInStatus", "GroupName", "NetworkBorderGroup", "State")},
            {"ZoneName": "us-east-1a", "ZoneId": "use1-az6", "OptInStatus": "opt-in-not-required",
             "GroupName": "us-east-1", "NetworkBorderGroup": "us-east-1", "State": "available"},
        )
        only_b = self.ec2.describe_availability_zones(ZoneNames=["us-east-1b"])["AvailabilityZones"]
        self.assertEqual([z["ZoneId"] for z in only_b], ["use1-az1"])
        code, _, _ = error_of(self.ec2.describe_availability_zones, ZoneNames=["us-east-1z"])
        self.assertEqual(code, "InvalidParameterValue")


class FsxTest(SharedLauncher):
    def setUp(self) -> None:
        super().setUp()
        self.fsx = self.launcher.client("fsx")
        vpc = self.ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
        self.vpc = vpc
        self.subnet = self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.1.0/24")["Subnet"]["SubnetId"]
        self.group = self.ec2.create_security_group(GroupName=f"fsx-{time.monotonic_ns()}", Description="fsx",
                                                    VpcId=vpc)["GroupId"]

    def create(self, **extra) -> dict:
        args = dict(FileSystemType="LUSTRE", StorageCapacity=1200, SubnetIds=[self.subnet],
                    SecurityGroupIds=[self.group],
                    LustreConfiguration={"DeploymentType": "PERSISTENT_2", "PerUnitStorageThroughput": 125})
        args.update(extra)
        return self.fsx.create_file_system(**args)["FileSystem"]

    def test_describe_fills_in_the_file_system(self) -> None:
        created = self.create(Tags=[{"Key": "team", "Value": "ml"}])
        self.assertEqual(created["Lifecycle"], "CREATING")
        fs_id = created["FileSystemId"]
        first = self.fsx.describe_file_systems(FileSystemIds=[fs_id])["FileSystems"][0]
        self.assertEqual(first["Lifecycle"], "CREATING")
        fs = self.fsx.describe_file_systems(FileSystemIds=[fs_id])["FileSystems"][0]
        self.assertEqual(fs["Lifecycle"], "AVAILABLE")
        self.assertEqual(fs["OwnerId"], "123456789012")
        self.assertEqual(fs["VpcId"], self.vpc)
        self.assertEqual(fs["FileSystemTypeVersion"], "2.12")
        self.assertEqual(fs["Tags"], [{"Key": "team", "Value": "ml"}])
        lustre = fs["LustreConfiguration"]
        self.assertEqual(lustre["DeploymentType"], "PERSISTENT_2")
        self.assertEqual(lustre["PerUnitStorageThroughput"], 125)
        self.assertEqual(len(lustre["MountName"]), 8)
        self.assertEqual(lustre["WeeklyMaintenanceStartTime"], "1:05:00")
        enis = self.ec2.describe_network_interfaces(NetworkInterfaceIds=fs["NetworkInterfaceIds"])
        self.assertEqual(len(enis["NetworkInterfaces"]), 2)
        self.assertEqual({g["GroupId"] for g in enis["NetworkInterfaces"][0]["Groups"]}, {self.group})
        self.fsx.delete_file_system(FileSystemId=fs_id)
        left = self.ec2.describe_network_interfaces(
            Filters=[{"Name": "network-interface-id", "Values": fs["NetworkInterfaceIds"]}])
        self.assertEqual(left["NetworkInterfaces"], [])
        self.assertEqual(error_of(self.fsx.describe_file_systems, FileSystemIds=[fs_id])[:2],
                         ("FileSystemNotFound", 400))

    def test_s3_settings_move_under_the_data_repository(self) -> None:
        fs = self.create(LustreConfiguration={"DeploymentType": "SCRATCH_2", "ImportPath": "s3://data/train",
                                              "AutoImportPolicy": "NEW"})
        repo = fs["LustreConfiguration"]["DataRepositoryConfiguration"]
        self.assertEqual(repo["ImportPath"], "s3://data/train")
        self.assertTrue(repo["ExportPath"].startswith("s3://data/FSxLustre"), repo)
        self.assertEqual((repo["AutoImportPolicy"], repo["ImportedFileChunkSize"]), ("NEW", 1024))
        self.assertNotIn("ImportPath", fs["LustreConfiguration"])

    def test_client_request_token_is_idempotent(self) -> None:
        first = self.create(ClientRequestToken="tok-1")
        again = self.create(ClientRequestToken="tok-1")
        self.assertEqual(first["FileSystemId"], again["FileSystemId"])
        code, status, _ = error_of(self.create, ClientRequestToken="tok-1", StorageCapacity=2400)
        self.assertEqual((code, status), ("IncompatibleParameterError", 400))

    def test_network_settings_are_checked(self) -> None:
        self.assertEqual(error_of(self.create, SubnetIds=["subnet-00000000"])[0], "InvalidNetworkSettings")
        self.assertEqual(error_of(self.create, SecurityGroupIds=["sg-00000000"])[0], "InvalidNetworkSettings")

    def test_update_file_system(self) -> None:
        fs_id = self.create()["FileSystemId"]
        self.fsx.describe_file_systems(FileSystemIds=[fs_id])  # CREATING seen once
        updated = self.fsx.update_file_system(
            FileSystemId=fs_id, StorageCapacity=2400,
            LustreConfiguration={"DataCompressionType": "LZ4", "PerUnitStorageThroughput": 250})["FileSystem"]
        self.assertEqual(updated["Lifecycle"], "UPDATING")
        action = updated["AdministrativeActions"][0]
        self.assertEqual((action["AdministrativeActionType"], action["Status"]), ("FILE_SYSTEM_UPDATE", "IN_PROGRESS"))
        self.assertEqual(action["TargetFileSystemValues"]["StorageCapacity"], 2400)
        self.fsx.describe_file_systems(FileSystemIds=[fs_id])
        fs = self.fsx.describe_file_systems(FileSystemIds=[fs_id])["FileSystems"][0]
        self.assertEqual((fs["Lifecycle"], fs["StorageCapacity"]), ("AVAILABLE", 2400))
        self.assertEqual(fs["AdministrativeActions"][0]["Status"], "COMPLETED")
        self.assertEqual(fs["LustreConfiguration"]["DataCompressionType"], "LZ4")
        self.assertEqual(fs["LustreConfiguration"]["PerUnitStorageThroughput"], 250)
        self.assertEqual(error_of(self.fsx.update_file_system, FileSystemId=fs_id, StorageCapacity=1200)[:2],
                         ("BadRequest", 400))
        self.assertEqual(error_of(self.fsx.update_file_system, FileSystemId="fs-00000000", StorageCapacity=9600)[0],
                         "FileSystemNotFound")
        scratch = self.create(LustreConfiguration={"DeploymentType": "SCRATCH_1"})["FileSystemId"]
        self.fsx.describe_file_systems(FileSystemIds=[scratch])
        self.assertEqual(error_of(self.fsx.update_file_system, FileSystemId=scratch, StorageCapacity=3600)[0],
                         "BadRequest")


class FsxAssociationTest(SharedLauncher):
    def setUp(self) -> None:
        super().setUp()
        self.fsx = self.launcher.client("fsx")
        self.s3 = self.launcher.client("s3")
        vpc = self.ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        self.subnet = self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.1.0/24")["Subnet"]["SubnetId"]
        self.bucket = f"dra-{time.monotonic_ns()}"
        self.s3.create_bucket(Bucket=self.bucket)

    def file_system(self, deployment: str = "PERSISTENT_2", **lustre) -> str:
        lustre["DeploymentType"] = deployment
        if deployment.startswith("PERSISTENT"):
            lustre.setdefault("PerUnitStorageThroughput", 125 if deployment == "PERSISTENT_2" else 50)
        fs_id = self.fsx.create_file_system(FileSystemType="LUSTRE", StorageCapacity=1200, SubnetIds=[self.subnet],
                                            LustreConfiguration=lustre)["FileSystem"]["FileSystemId"]
        self.fsx.describe_file_systems(FileSystemIds=[fs_id])  # CREATING seen once: now AVAILABLE
        return fs_id

    def associate(self, fs_id: str, path: str = "/data", prefix: str = "", **extra) -> dict:
        args = dict(FileSystemId=fs_id, FileSystemPath=path, DataRepositoryPath=f"s3://{self.bucket}{prefix}")
        args.update(extra)
        return self.fsx.create_data_repository_association(**args)["Association"]

    def describe(self, dra_id: str) -> dict:
        return self.fsx.describe_data_repository_associations(AssociationIds=[dra_id])["Associations"][0]

    def test_lifecycle_create_describe_update_delete(self) -> None:
        fs_id = self.file_system()
        policies = {"AutoImportPolicy": {"Events": ["NEW", "CHANGED", "DELETED"]},
                    "AutoExportPolicy": {"Events": ["NEW", "CHANGED", "DELETED"]}}
        created = self.associate(fs_id, S3=policies, BatchImportMetaDataOnCreate=True,
                                 Tags=[{"Key": "team", "Value": "ml"}])
        dra_id = created["AssociationId"]
        self.assertRegex(dra_id, r"^dra-[0-9a-f]{17}$")
        self.assertEqual(created["Lifecycle"], "CREATING")
        self.assertEqual(created["ResourceARN"], f"arn:aws:fsx:us-east-1:123456789012:association/{fs_id}/{dra_id}")
        self.assertEqual(self.describe(dra_id)["Lifecycle"], "CREATING")
        dra = self.describe(dra_id)
        self.assertEqual(dra["Lifecycle"], "AVAILABLE")
        self.assertEqual((dra["FileSystemId"], dra["FileSystemPath"], dra["DataRepositoryPath"]),
                         (fs_id, "/data", f"s3://{self.bucket}"))
        self.assertEqual((dra["BatchImportMetaDataOnCreate"], dra["ImportedFileChunkSize"]), (True, 1024))
        self.assertEqual(dra["S3"], policies)
        self.assertEqual(dra["Tags"], [{"Key": "team", "Value": "ml"}])
        self.assertIn("CreationTime", dra)

        # Tags through moto's own TagResource / ListTagsForResource on the association's ARN.
        self.fsx.tag_resource(ResourceARN=dra["ResourceARN"], Tags=[{"Key": "tier", "Value": "hot"}])
        self.assertIn({"Key": "tier", "Value": "hot"}, self.describe(dra_id)["Tags"])

        updated = self.fsx.update_data_repository_association(
            AssociationId=dra_id, ImportedFileChunkSize=2048,
            S3={"AutoExportPolicy": {"Events": ["NEW"]}})["Association"]
        self.assertEqual(updated["Lifecycle"], "UPDATING")
        self.assertEqual(error_of(self.fsx.update_data_repository_association, AssociationId=dra_id,
                                  ImportedFileChunkSize=10)[:2], ("BadRequest", 400))
        self.describe(dra_id)
        dra = self.describe(dra_id)
        self.assertEqual((dra["Lifecycle"], dra["ImportedFileChunkSize"]), ("AVAILABLE", 2048))
        self.assertEqual(dra["S3"], {"AutoExportPolicy": {"Events": ["NEW"]}})

        deleted = self.fsx.delete_data_repository_association(AssociationId=dra_id, DeleteDataInFileSystem=True)
        self.assertEqual((deleted["AssociationId"], deleted["Lifecycle"], deleted["DeleteDataInFileSystem"]),
                         (dra_id, "DELETING", True))
        self.assertEqual(self.describe(dra_id)["Lifecycle"], "DELETING")
        code, status, _ = error_of(self.fsx.describe_data_repository_associations, AssociationIds=[dra_id])
        self.assertEqual((code, status), ("DataRepositoryAssociationNotFound", 400))
        self.assertEqual(self.fsx.list_tags_for_resource(ResourceARN=dra["ResourceARN"])["Tags"], [])
        for call, args in ((self.fsx.update_data_repository_association, {"ImportedFileChunkSize": 1}),
                           (self.fsx.delete_data_repository_association, {})):
            self.assertEqual(error_of(call, AssociationId=dra_id, **args)[0], "DataRepositoryAssociationNotFound")

    def test_client_request_token_is_idempotent(self) -> None:
        fs_id = self.file_system()
        first = self.associate(fs_id, ClientRequestToken="dra-tok-1")
        again = self.associate(fs_id, ClientRequestToken="dra-tok-1")
        self.assertEqual(first["AssociationId"], again["AssociationId"])
        code, _, _ = error_of(self.associate, fs_id, path="/other", ClientRequestToken="dra-tok-1")
        self.assertEqual(code, "IncompatibleParameterError")

    def test_only_lustre_2_12_file_systems_that_are_not_scratch_1(self) -> None:
        for deployment in ("PERSISTENT_1", "SCRATCH_1", "SCRATCH_2"):
            fs_id = self.file_system(deployment)
            self.assertEqual(error_of(self.associate, fs_id)[:2], ("BadRequest", 400), deployment)
        self.assertEqual(error_of(self.associate, "fs-00000000")[0], "FileSystemNotFound")
        creating = self.fsx.create_file_system(
            FileSystemType="LUSTRE", StorageCapacity=1200, SubnetIds=[self.subnet],
            LustreConfiguration={"DeploymentType": "PERSISTENT_2", "PerUnitStorageThroughput": 125},
        )["FileSystem"]["FileSystemId"]
        self.assertIn("CREATING", error_of(self.associate, creating)[2])

    def test_paths_events_and_buckets_are_checked(self) -> None:
        fs_id = self.file_system()
        self.associate(fs_id, path="/data", prefix="/train")
        bad = {
            "relative path": dict(path="data", prefix="/x"),
            "overlapping file system path": dict(path="/data/sub", prefix="/other"),
            "overlapping S3 prefix": dict(path="/other", prefix="/train/2024"),
            "missing bucket": dict(path="/other", DataRepositoryPath="s3://no-such-bucket-here"),
            "not S3": dict(path="/other", DataRepositoryPath="nfs://server/export"),
            "unknown event": dict(path="/other", prefix="/x", S3={"AutoExportPolicy": {"Events": ["MOVED"]}}),
            "chunk size": dict(path="/other", prefix="/x", ImportedFileChunkSize=600000),
        }
        for why, args in bad.items():
            self.assertEqual(error_of(self.associate, fs_id, **args)[0], "BadRequest", why)
        self.associate(fs_id, path="/other", prefix="/eval")

    def test_describe_filters_and_pages(self) -> None:
        fs_id = self.file_system()
        other = self.file_system()
        ids = [self.associate(fs_id, path=f"/d{i}", prefix=f"/p{i}")["AssociationId"] for i in range(3)]
        self.associate(other)
        by_fs = [{"Name": "file-system-id", "Values": [fs_id]}]
        listed = self.fsx.describe_data_repository_associations(Filters=by_fs)["Associations"]
        self.assertEqual([d["AssociationId"] for d in listed], ids)
        page = self.fsx.describe_data_repository_associations(Filters=by_fs, MaxResults=2)
        self.assertEqual(len(page["Associations"]), 2)
        rest = self.fsx.describe_data_repository_associations(Filters=by_fs, MaxResults=2,
                                                               NextToken=page["NextToken"])
        self.assertEqual([d["AssociationId"] for d in rest["Associations"]], ids[2:])
        self.assertNotIn("NextToken", rest)
        code, _, _ = error_of(self.fsx.describe_data_repository_associations,
                              Filters=[{"Name": "data-repository-type", "Values": ["FTP"]}])
        self.assertEqual(code, "InvalidDataRepositoryType")

    def test_deleting_the_file_system_deletes_its_associations(self) -> None:
        fs_id = self.file_system()
        dra_id = self.associate(fs_id)["AssociationId"]
        self.fsx.delete_file_system(FileSystemId=fs_id)
        self.assertEqual(error_of(self.fsx.describe_data_repository_associations, AssociationIds=[dra_id])[0],
                         "DataRepositoryAssociationNotFound")


class SageMakerTest(SharedLauncher):
    def setUp(self) -> None:
        super().setUp()
        self.sm = self.launcher.client("sagemaker")

    def test_unknown_domain_is_resource_not_found(self) -> None:
        for call in (self.sm.describe_domain, self.sm.delete_domain):
            code, status, _ = error_of(call, DomainId="d-doesnotexist")
            self.assertEqual((code, status), ("ResourceNotFound", 400))
        vpc = self.ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        created = self.sm.create_domain(DomainName="known", AuthMode="IAM", VpcId=vpc, SubnetIds=["subnet-1"],
                                        DefaultUserSettings={"ExecutionRole": "arn:aws:iam::123456789012:role/x"})
        domain_id = created["DomainArn"].rsplit("/", 1)[1]
        self.assertEqual(self.sm.describe_domain(DomainId=domain_id)["Status"], "InService")
        self.sm.delete_domain(DomainId=domain_id)

    def test_update_notebook_instance(self) -> None:
        role = "arn:aws:iam::123456789012:role/nb"
        self.sm.create_notebook_instance(NotebookInstanceName="nb-update", InstanceType="ml.t3.medium", RoleArn=role)
        code, _, message = error_of(self.sm.update_notebook_instance, NotebookInstanceName="nb-update",
                                    InstanceType="ml.p3.2xlarge")
        self.assertEqual(code, "ValidationException")
        self.assertIn("Status (InService)", message)
        self.sm.stop_notebook_instance(NotebookInstanceName="nb-update")
        self.sm.update_notebook_instance(NotebookInstanceName="nb-update", InstanceType="ml.p3.2xlarge",
                                         VolumeSizeInGB=20, RootAccess="Disabled")
        nb = self.sm.describe_notebook_instance(NotebookInstanceName="nb-update")
        self.assertEqual((nb["InstanceType"], nb["VolumeSizeInGB"], nb["RootAccess"], nb["NotebookInstanceStatus"]),
                         ("ml.p3.2xlarge", 20, "Disabled", "Stopped"))
        self.assertEqual(error_of(self.sm.update_notebook_instance, NotebookInstanceName="nb-update",
                                  VolumeSizeInGB=10)[0], "ValidationException")
        self.assertEqual(error_of(self.sm.update_notebook_instance, NotebookInstanceName="nb-update",
                                  InstanceType="ml.nope")[0], "ValidationException")
        self.assertEqual(error_of(self.sm.update_notebook_instance, NotebookInstanceName="nb-missing",
                                  InstanceType="ml.t3.medium")[2], "RecordNotFound")
        self.sm.delete_notebook_instance(NotebookInstanceName="nb-update")


class InjectedErrorTest(SharedLauncher):
    def test_the_next_calls_of_an_action_fail_with_the_given_error(self) -> None:
        message = ("Value (gpu-node) for parameter iamInstanceProfile.name is invalid. "
                   "Invalid IAM Instance Profile name")
        self.write_faults({"errors": [{"action": "RunInstances", "count": 2, "code": "InvalidParameterValue",
                                       "message": message}]})
        for _ in range(2):
            code, status, text = error_of(self.ec2.run_instances, ImageId=AMI, MinCount=1, MaxCount=1)
            self.assertEqual((code, status, text), ("InvalidParameterValue", 400, message))
        self.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)

    def test_rest_json_actions_get_the_rest_json_shape(self) -> None:
        eks = self.launcher.client("eks")
        message = ("Role with arn: arn:aws:iam::123456789012:role/eks, could not be assumed because it does "
                   "not exist or the trusted entity is not correct")
        self.write_faults({"errors": [{"action": "CreateCluster", "count": 1, "code": "InvalidParameterException",
                                       "message": message}]})
        request = {"name": "injected", "roleArn": "arn:aws:iam::123456789012:role/eks",
                   "resourcesVpcConfig": {"subnetIds": ["subnet-1"]}}
        self.assertEqual(error_of(eks.create_cluster, **request), ("InvalidParameterException", 400, message))
        eks.create_cluster(**request)
        eks.delete_cluster(name="injected")

    def test_entries_are_checked(self) -> None:
        self.write_faults({"errors": [{"action": "RunInstances", "count": 1}]})
        code, _, message = error_of(self.ec2.describe_vpcs)
        self.assertEqual(code, "LauncherFaultsFileInvalid")
        self.assertIn("errors entry", message)
        self.write_faults({"eks_failures": [{"operation": "CreateCluster", "cluster": "x"}]})
        code, _, message = error_of(self.ec2.describe_vpcs)
        self.assertEqual(code, "LauncherFaultsFileInvalid")
        self.assertIn("eks_failures entry", message)


class EksTest(SharedLauncher):
    ROLE = "arn:aws:iam::123456789012:role/eks"

    def setUp(self) -> None:
        super().setUp()
        self.eks = self.launcher.client("eks")
        self.vpc = self.ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
        self.subnet = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.50.1.0/24")["Subnet"]["SubnetId"]

    def cluster(self, name: str) -> None:
        created = self.eks.create_cluster(name=name, roleArn=self.ROLE,
                                          resourcesVpcConfig={"subnetIds": [self.subnet]})
        self.assertEqual(created["cluster"]["status"], "CREATING")

    def nodegroup(self, cluster: str, name: str, **extra) -> None:
        created = self.eks.create_nodegroup(clusterName=cluster, nodegroupName=name, nodeRole=self.ROLE,
                                            subnets=[self.subnet], **extra)
        self.assertEqual(created["nodegroup"]["status"], "CREATING")

    def statuses(self, cluster: str, nodegroup: str | None = None, times: int = 2) -> list[str]:
        if nodegroup is None:
            return [self.eks.describe_cluster(name=cluster)["cluster"]["status"] for _ in range(times)]
        return [self.eks.describe_nodegroup(clusterName=cluster, nodegroupName=nodegroup)["nodegroup"]["status"]
                for _ in range(times)]

    def update_statuses(self, cluster: str, nodegroup: str, update: str, times: int = 2) -> list[dict]:
        return [self.eks.describe_update(name=cluster, nodegroupName=nodegroup, updateId=update)["update"]
                for _ in range(times)]

    def test_new_clusters_and_node_groups_are_creating_once(self) -> None:
        self.cluster("lifecycle")
        self.assertEqual(self.statuses("lifecycle"), ["CREATING", "ACTIVE"])
        self.nodegroup("lifecycle", "gpu")
        self.assertEqual(self.statuses("lifecycle", "gpu"), ["CREATING", "ACTIVE"])

    def test_a_node_group_without_capacity_in_its_zones_fails_to_create(self) -> None:
        zone = self.ec2.describe_subnets(SubnetIds=[self.subnet])["Subnets"][0]["AvailabilityZone"]
        self.write_faults({"capacity": [{"instance_type": "p5.48xlarge", "zone": zone}]})
        self.cluster("full")
        self.statuses("full")
        self.nodegroup("full", "gpu", instanceTypes=["p5.48xlarge"])
        self.assertEqual(self.statuses("full", "gpu"), ["CREATING", "CREATE_FAILED"])
        issues = self.eks.describe_nodegroup(clusterName="full", nodegroupName="gpu")["nodegroup"]["health"]["issues"]
        self.assertEqual(issues[0]["code"], "AsgInstanceLaunchFailures")
        self.assertIn(f"InsufficientInstanceCapacity - We currently do not have sufficient p5.48xlarge capacity in "
                      f"the Availability Zone you requested ({zone})", issues[0]["message"])
        # Other types launch there; a failed group is deleted like any other.
        self.nodegroup("full", "cpu", instanceTypes=["m5.large"])
        self.assertEqual(self.statuses("full", "cpu"), ["CREATING", "ACTIVE"])
        self.eks.delete_nodegroup(clusterName="full", nodegroupName="gpu")
        self.assertEqual(error_of(self.eks.describe_nodegroup, clusterName="full", nodegroupName="gpu")[0],
                         "ResourceNotFoundException")
        self.write_faults({})

    def test_a_node_group_config_update_is_followed_by_its_id(self) -> None:
        self.cluster("config")
        self.nodegroup("config", "gpu", scalingConfig={"minSize": 1, "maxSize": 2, "desiredSize": 1})
        self.statuses("config", "gpu")
        update = self.eks.update_nodegroup_config(clusterName="config", nodegroupName="gpu",
                                                  scalingConfig={"minSize": 1, "maxSize": 4, "desiredSize": 3})
        update = update["update"]
        self.assertEqual((update["status"], update["type"]), ("InProgress", "ConfigUpdate"))
        self.assertEqual(self.statuses("config", "gpu"), ["UPDATING", "ACTIVE"])
        seen = self.update_statuses("config", "gpu", update["id"])
        self.assertEqual([u["status"] for u in seen], ["InProgress", "Successful"])
        self.assertEqual(seen[1]["errors"], [])
        described = self.eks.describe_nodegroup(clusterName="config", nodegroupName="gpu")["nodegroup"]
        self.assertEqual(described["scalingConfig"]["desiredSize"], 3)
        # The update belongs to that node group of that cluster only.
        self.assertEqual(error_of(self.eks.describe_update, name="config", updateId=update["id"])[:2],
                         ("ResourceNotFoundException", 404))
        self.assertEqual(error_of(self.eks.describe_update, name="config", nodegroupName="gpu",
                                  updateId="nope")[:2], ("ResourceNotFoundException", 404))

    def test_a_node_group_version_update_sets_the_launch_template_version(self) -> None:
        template = self.ec2.create_launch_template(LaunchTemplateName="eks-nodes",
                                                   LaunchTemplateData={"InstanceType": "g5.xlarge"})
        template_id = template["LaunchTemplate"]["LaunchTemplateId"]
        self.cluster("version")
        self.nodegroup("version", "lt", launchTemplate={"id": template_id, "version": "1"})
        self.nodegroup("version", "plain")
        update = self.eks.update_nodegroup_version(clusterName="version", nodegroupName="lt",
                                                   launchTemplate={"id": template_id, "version": "2"})["update"]
        self.assertEqual((update["status"], update["type"]), ("InProgress", "VersionUpdate"))
        self.assertEqual(update["params"], [{"type": "LaunchTemplateVersion", "value": "2"}])
        seen = self.update_statuses("version", "lt", update["id"])
        self.assertEqual([u["status"] for u in seen], ["InProgress", "Successful"])
        group = self.eks.describe_nodegroup(clusterName="version", nodegroupName="lt")["nodegroup"]
        self.assertEqual(group["launchTemplate"]["version"], "2")
        code, status, _ = error_of(self.eks.update_nodegroup_version, clusterName="version",
                                   nodegroupName="plain", launchTemplate={"id": template_id, "version": "2"})
        self.assertEqual((code, status), ("InvalidParameterException", 400))
        self.assertEqual(error_of(self.eks.update_nodegroup_version, clusterName="version",
                                  nodegroupName="missing", version="1.31")[:2],
                         ("ResourceNotFoundException", 404))

    def test_a_failing_update_fails_after_it_was_accepted(self) -> None:
        self.cluster("failing")
        self.nodegroup("failing", "gpu")
        self.write_faults({"eks_failures": [{"operation": "UpdateNodegroupConfig", "cluster": "failing",
                                             "nodegroup": "gpu", "code": "NodeCreationFailure",
                                             "message": "Instances failed to join the kubernetes cluster"}]})
        update = self.eks.update_nodegroup_config(clusterName="failing", nodegroupName="gpu",
                                                  labels={"addOrUpdateLabels": {"gpu": "h100"}})["update"]
        self.assertEqual(update["status"], "InProgress")
        seen = self.update_statuses("failing", "gpu", update["id"], times=3)
        self.assertEqual([u["status"] for u in seen], ["InProgress", "Failed", "Failed"])
        self.assertEqual(seen[1]["errors"], [{"errorCode": "NodeCreationFailure",
                                              "errorMessage": "Instances failed to join the kubernetes cluster",
                                              "resourceIds": ["gpu"]}])
        # The group itself is back to ACTIVE: only the update says it failed.
        self.assertEqual(self.statuses("failing", "gpu"), ["UPDATING", "ACTIVE"])

    def test_a_failing_node_group_delete_ends_in_delete_failed(self) -> None:
        self.cluster("undeletable")
        self.nodegroup("undeletable", "gpu")
        self.write_faults({"eks_failures": [{"operation": "DeleteNodegroup", "cluster": "undeletable",
                                             "nodegroup": "gpu", "message": "sg-0123 is in use"}]})
        deleted = self.eks.delete_nodegroup(clusterName="undeletable", nodegroupName="gpu")
        self.assertEqual(deleted["nodegroup"]["status"], "DELETING")
        self.assertEqual(self.statuses("undeletable", "gpu"), ["DELETING", "DELETE_FAILED"])
        group = self.eks.describe_nodegroup(clusterName="undeletable", nodegroupName="gpu")["nodegroup"]
        self.assertEqual(group["health"]["issues"],
                         [{"code": "Ec2SecurityGroupDeletionFailure", "message": "sg-0123 is in use",
                           "resourceIds": []}])
        # Without the fault the delete goes through.
        self.write_faults({})
        self.eks.delete_nodegroup(clusterName="undeletable", nodegroupName="gpu")
        self.assertEqual(error_of(self.eks.describe_nodegroup, clusterName="undeletable",
                                  nodegroupName="gpu")[:2], ("ResourceNotFoundException", 404))

    def test_a_failing_cluster_delete_ends_in_failed(self) -> None:
        self.cluster("stuck")
        self.write_faults({"eks_failures": [{"operation": "DeleteCluster", "cluster": "stuck"}]})
        self.assertEqual(self.eks.delete_cluster(name="stuck")["cluster"]["status"], "DELETING")
        self.assertEqual(self.statuses("stuck"), ["DELETING", "FAILED"])
        issues = self.eks.describe_cluster(name="stuck")["cluster"]["health"]["issues"]
        self.assertEqual([i["code"] for i in issues], ["ClusterUnreachable"])
        self.write_faults({})
        self.eks.delete_cluster(name="stuck")
        self.assertEqual(error_of(self.eks.describe_cluster, name="stuck")[:2],
                         ("ResourceNotFoundException", 404))


# --------------------------------------------------------------------------
# --aws-timings: transitional states that last

TIMED: dict = {}
# The timed launcher runs at --aws-timings 1/2 and each test's faults file sets every
# transition to AWS_HOLD seconds of "AWS time": HOLD seconds here (so both the scale and
# the faults file's aws_timings are exercised).
AWS_HOLD = 1.6
HOLD = AWS_HOLD / 2
TRANSITIONS = [
    "eks-cluster:create", "eks-cluster:delete", "eks-nodegroup:create", "eks-nodegroup:update",
    "eks-nodegroup:delete", "fsx-lustre:create", "fsx-lustre:update", "fsx-lustre:delete",
    "sagemaker-domain:create", "sagemaker-domain:delete", "sagemaker-notebook:create",
    "sagemaker-notebook:start", "sagemaker-notebook:stop", "sagemaker-notebook:update",
    "sagemaker-notebook:delete", "ec2-instance:run", "ec2-instance:start", "ec2-instance:stop",
    "ec2-instance:terminate", "nat-gateway:create", "nat-gateway:delete",
]


def stop_timed_launcher() -> None:
    if "launcher" in TIMED:
        TIMED.pop("launcher").stop()
        TIMED.pop("tmp").cleanup()


def stats_of(launcher: Launcher) -> dict:
    import urllib.request

    with urllib.request.urlopen(launcher.url + "/_gantry/stats") as answer:
        return json.load(answer)


class TimedLauncher(unittest.TestCase):
    """Tests against a launcher started with --aws-timings 1/2 (shared by these tests)."""

    def setUp(self) -> None:
        if "launcher" not in TIMED:
            TIMED["tmp"] = tempfile.TemporaryDirectory()
            TIMED["faults"] = os.path.join(TIMED["tmp"].name, "faults.json")
            TIMED["launcher"] = Launcher(TIMED["faults"], extra=["--aws-timings", "1/2"])
        self.launcher: Launcher = TIMED["launcher"]
        tmp = TIMED["faults"] + ".tmp"
        with open(tmp, "w") as handle:
            json.dump({"aws_timings": {t: AWS_HOLD for t in TRANSITIONS}}, handle)
        os.replace(tmp, TIMED["faults"])
        self.ec2 = self.launcher.client("ec2")
        self.vpc = self.ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
        self.subnet = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.60.1.0/24")["Subnet"]["SubnetId"]

    def until(self, read, want, started: float, limit: float = 10.0) -> list:
        """Reads until `read()` gives `want`; every value seen before it, in order (repeats
        collapsed). Fails if `want` comes sooner than HOLD after `started` or not at all."""
        seen: list = []
        while time.monotonic() - started < limit:
            value = read()
            if not seen or seen[-1] != value:
                seen.append(value)
            if value == want:
                self.assertGreaterEqual(time.monotonic() - started, HOLD - 0.05, seen)
                return seen
            time.sleep(0.05)
        self.fail(f"never {want!r}: {seen}")


class TimedEksTest(TimedLauncher):
    ROLE = "arn:aws:iam::123456789012:role/eks"

    def setUp(self) -> None:
        super().setUp()
        self.eks = self.launcher.client("eks")

    def status(self, cluster: str, nodegroup: str | None = None) -> str:
        try:
            if nodegroup is None:
                return self.eks.describe_cluster(name=cluster)["cluster"]["status"]
            return self.eks.describe_nodegroup(clusterName=cluster, nodegroupName=nodegroup)["nodegroup"]["status"]
        except ClientError as err:
            return err.response["Error"]["Code"]

    def test_create_and_delete_last_their_time(self) -> None:
        started = time.monotonic()
        created = self.eks.create_cluster(name="timed", roleArn=self.ROLE,
                                          resourcesVpcConfig={"subnetIds": [self.subnet]})
        self.assertEqual(created["cluster"]["status"], "CREATING")
        # moto's cluster is CREATING too, so a node group is refused until it is ACTIVE.
        code, status, message = error_of(self.eks.create_nodegroup, clusterName="timed", nodegroupName="gpu",
                                         nodeRole=self.ROLE, subnets=[self.subnet])
        self.assertEqual((code, status), ("InvalidRequestException", 400), message)
        self.assertEqual(self.until(lambda: self.status("timed"), "ACTIVE", started), ["CREATING", "ACTIVE"])

        started = time.monotonic()
        self.eks.create_nodegroup(clusterName="timed", nodegroupName="gpu", nodeRole=self.ROLE,
                                  subnets=[self.subnet])
        self.assertEqual(self.until(lambda: self.status("timed", "gpu"), "ACTIVE", started),
                         ["CREATING", "ACTIVE"])

        started = time.monotonic()
        deleting = self.eks.delete_nodegroup(clusterName="timed", nodegroupName="gpu")
        self.assertEqual(deleting["nodegroup"]["status"], "DELETING")
        # Still listed, and still blocking the cluster's deletion, until it is gone.
        self.assertEqual(self.eks.list_nodegroups(clusterName="timed")["nodegroups"], ["gpu"])
        self.assertEqual(error_of(self.eks.delete_cluster, name="timed")[:2], ("ResourceInUseException", 409))
        self.assertEqual(self.eks.delete_nodegroup(clusterName="timed", nodegroupName="gpu")["nodegroup"]["status"],
                         "DELETING")
        self.assertEqual(self.until(lambda: self.status("timed", "gpu"), "ResourceNotFoundException", started),
                         ["DELETING", "ResourceNotFoundException"])
        self.assertEqual(self.eks.list_nodegroups(clusterName="timed")["nodegroups"], [])

        started = time.monotonic()
        self.assertEqual(self.eks.delete_cluster(name="timed")["cluster"]["status"], "DELETING")
        self.assertIn("timed", self.eks.list_clusters()["clusters"])
        self.assertEqual(self.until(lambda: self.status("timed"), "ResourceNotFoundException", started),
                         ["DELETING", "ResourceNotFoundException"])

    def test_a_node_group_update_is_in_progress_for_its_time(self) -> None:
        self.eks.create_cluster(name="timed-update", roleArn=self.ROLE, resourcesVpcConfig={"subnetIds": [self.subnet]})
        self.until(lambda: self.status("timed-update"), "ACTIVE", time.monotonic() - HOLD)
        self.eks.create_nodegroup(clusterName="timed-update", nodegroupName="gpu", nodeRole=self.ROLE,
                                  subnets=[self.subnet], scalingConfig={"minSize": 1, "maxSize": 2, "desiredSize": 1})
        self.until(lambda: self.status("timed-update", "gpu"), "ACTIVE", time.monotonic() - HOLD)
        started = time.monotonic()
        update = self.eks.update_nodegroup_config(clusterName="timed-update", nodegroupName="gpu",
                                                  scalingConfig={"minSize": 1, "maxSize": 4, "desiredSize": 2})
        update_id = update["update"]["id"]
        read = lambda: self.eks.describe_update(name="timed-update", nodegroupName="gpu",  # noqa: E731
                                                updateId=update_id)["update"]["status"]
        self.assertEqual(self.until(read, "Successful", started), ["InProgress", "Successful"])
        self.assertEqual(self.status("timed-update", "gpu"), "ACTIVE")

    def test_a_failing_delete_is_deleting_for_its_time_then_fails(self) -> None:
        self.eks.create_cluster(name="timed-fail", roleArn=self.ROLE, resourcesVpcConfig={"subnetIds": [self.subnet]})
        self.until(lambda: self.status("timed-fail"), "ACTIVE", time.monotonic() - HOLD)
        with open(TIMED["faults"], "w") as handle:
            json.dump({"aws_timings": {t: AWS_HOLD for t in TRANSITIONS},
                       "eks_failures": [{"operation": "DeleteCluster", "cluster": "timed-fail"}]}, handle)
        started = time.monotonic()
        self.eks.delete_cluster(name="timed-fail")
        self.assertEqual(self.until(lambda: self.status("timed-fail"), "FAILED", started), ["DELETING", "FAILED"])


class TimedFsxTest(TimedLauncher):
    def test_create_update_delete_last_their_time(self) -> None:
        fsx = self.launcher.client("fsx")
        started = time.monotonic()
        created = fsx.create_file_system(FileSystemType="LUSTRE", StorageCapacity=1200, SubnetIds=[self.subnet],
                                         LustreConfiguration={"DeploymentType": "PERSISTENT_2",
                                                              "PerUnitStorageThroughput": 125})["FileSystem"]
        fs_id = created["FileSystemId"]
        self.assertEqual(created["Lifecycle"], "CREATING")

        def lifecycle() -> str:
            try:
                return fsx.describe_file_systems(FileSystemIds=[fs_id])["FileSystems"][0]["Lifecycle"]
            except ClientError as err:
                return err.response["Error"]["Code"]

        self.assertEqual(self.until(lifecycle, "AVAILABLE", started), ["CREATING", "AVAILABLE"])

        started = time.monotonic()
        fsx.update_file_system(FileSystemId=fs_id, StorageCapacity=2400)
        self.assertEqual(error_of(fsx.update_file_system, FileSystemId=fs_id, StorageCapacity=4800)[0], "BadRequest")
        action = lambda: fsx.describe_file_systems(FileSystemIds=[fs_id])["FileSystems"][0][  # noqa: E731
            "AdministrativeActions"][0]["Status"]
        self.assertEqual(action(), "IN_PROGRESS")
        self.assertEqual(self.until(lifecycle, "AVAILABLE", started), ["UPDATING", "AVAILABLE"])
        self.assertEqual(action(), "COMPLETED")

        enis = created["NetworkInterfaceIds"]
        started = time.monotonic()
        self.assertEqual(fsx.delete_file_system(FileSystemId=fs_id)["Lifecycle"], "DELETING")
        # Its network interfaces stay until it is gone (the subnet cannot go before).
        self.assertEqual(len(self.ec2.describe_network_interfaces(NetworkInterfaceIds=enis)["NetworkInterfaces"]), 2)
        self.assertEqual(self.until(lifecycle, "FileSystemNotFound", started), ["DELETING", "FileSystemNotFound"])
        remaining = self.ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [self.subnet]}])
        self.assertEqual(remaining["NetworkInterfaces"], [])


class TimedSageMakerTest(TimedLauncher):
    def test_domain_is_pending_then_in_service_and_deleting_then_gone(self) -> None:
        sm = self.launcher.client("sagemaker")
        started = time.monotonic()
        created = sm.create_domain(DomainName="timed", AuthMode="IAM", VpcId=self.vpc, SubnetIds=[self.subnet],
                                   DefaultUserSettings={"ExecutionRole": "arn:aws:iam::123456789012:role/x"})
        domain_id = created["DomainArn"].rsplit("/", 1)[1]

        def status() -> str:
            try:
                return sm.describe_domain(DomainId=domain_id)["Status"]
            except ClientError as err:
                return err.response["Error"]["Code"]

        self.assertEqual(self.until(status, "InService", started), ["Pending", "InService"])
        started = time.monotonic()
        sm.delete_domain(DomainId=domain_id)
        self.assertEqual([d["Status"] for d in sm.list_domains()["Domains"] if d["DomainId"] == domain_id],
                         ["Deleting"])
        self.assertEqual(self.until(status, "ResourceNotFound", started), ["Deleting", "ResourceNotFound"])

    def test_notebook_instance_lifecycle(self) -> None:
        sm = self.launcher.client("sagemaker")
        name = "timed-notebook"

        def status() -> str:
            try:
                return sm.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"]
            except ClientError as err:
                return err.response["Error"]["Code"]

        started = time.monotonic()
        sm.create_notebook_instance(NotebookInstanceName=name, InstanceType="ml.t3.medium",
                                    RoleArn="arn:aws:iam::123456789012:role/x")
        self.assertEqual(self.until(status, "InService", started), ["Pending", "InService"])
        started = time.monotonic()
        sm.stop_notebook_instance(NotebookInstanceName=name)
        # Not deletable while Stopping, as on SageMaker.
        self.assertEqual(error_of(sm.delete_notebook_instance, NotebookInstanceName=name)[0], "ValidationException")
        self.assertEqual(self.until(status, "Stopped", started), ["Stopping", "Stopped"])
        started = time.monotonic()
        sm.update_notebook_instance(NotebookInstanceName=name, VolumeSizeInGB=10)
        self.assertEqual(self.until(status, "Stopped", started)[0], "Updating")
        started = time.monotonic()
        sm.delete_notebook_instance(NotebookInstanceName=name)
        self.assertEqual(self.until(status, "ValidationException", started), ["Deleting", "ValidationException"])


class TimedEc2Test(TimedLauncher):
    def state(self, instance_id: str) -> str:
        found = self.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        return found["State"]["Name"]

    def test_instances_pend_stop_and_shut_down_for_their_time(self) -> None:
        started = time.monotonic()
        instance = self.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=self.subnet)["Instances"][0]
        instance_id = instance["InstanceId"]
        self.assertEqual(instance["State"]["Name"], "pending")
        pending = self.ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["pending"]}])
        self.assertIn(instance_id, [i["InstanceId"] for r in pending["Reservations"] for i in r["Instances"]])
        self.assertEqual(self.until(lambda: self.state(instance_id), "running", started), ["pending", "running"])
        started = time.monotonic()
        self.ec2.stop_instances(InstanceIds=[instance_id])
        self.assertEqual(self.until(lambda: self.state(instance_id), "stopped", started), ["stopping", "stopped"])
        started = time.monotonic()
        self.ec2.start_instances(InstanceIds=[instance_id])
        self.assertEqual(self.until(lambda: self.state(instance_id), "running", started), ["pending", "running"])
        started = time.monotonic()
        terminating = self.ec2.terminate_instances(InstanceIds=[instance_id])["TerminatingInstances"][0]
        self.assertEqual(terminating["CurrentState"]["Name"], "shutting-down")
        self.assertEqual(self.until(lambda: self.state(instance_id), "terminated", started),
                         ["shutting-down", "terminated"])
        # Terminating a terminated instance starts nothing.
        self.ec2.terminate_instances(InstanceIds=[instance_id])
        self.assertEqual(self.state(instance_id), "terminated")

    def test_nat_gateway_pends_and_keeps_its_address_while_deleting(self) -> None:
        allocation = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
        started = time.monotonic()
        gateway = self.ec2.create_nat_gateway(SubnetId=self.subnet, AllocationId=allocation)["NatGateway"]
        gateway_id = gateway["NatGatewayId"]
        self.assertEqual(gateway["State"], "pending")
        state = lambda: self.ec2.describe_nat_gateways(NatGatewayIds=[gateway_id])["NatGateways"][0]["State"]  # noqa: E731
        self.assertEqual(self.until(state, "available", started), ["pending", "available"])
        started = time.monotonic()
        self.ec2.delete_nat_gateway(NatGatewayId=gateway_id)
        associated = lambda: "AssociationId" in self.ec2.describe_addresses(  # noqa: E731
            AllocationIds=[allocation])["Addresses"][0]
        self.assertTrue(associated())
        self.assertEqual(self.until(state, "deleted", started), ["deleting", "deleted"])
        self.assertFalse(associated())
        self.ec2.release_address(AllocationId=allocation)


class TimedStatsTest(TimedLauncher):
    def test_stats_count_requests_and_log_transitions(self) -> None:
        before = stats_of(self.launcher)
        started = time.monotonic()
        instance_id = self.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                                             SubnetId=self.subnet)["Instances"][0]["InstanceId"]
        self.until(lambda: self.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0][
            "Instances"][0]["State"]["Name"], "running", started)
        after = stats_of(self.launcher)
        self.assertEqual(after["requests"]["ec2 RunInstances"] - before["requests"].get("ec2 RunInstances", 0), 1)
        self.assertGreaterEqual(after["total"] - before["total"], 3)
        record = [r for r in after["transitions"] if r["object"] == instance_id][0]
        self.assertEqual((record["transition"], record["state"]), ("ec2-instance:run", "pending"))
        self.assertAlmostEqual(record["ends"] - record["began"], HOLD, delta=0.01)
        self.assertGreaterEqual(record["finished"], record["ends"])
        self.assertGreaterEqual(record["observed"], record["finished"])

    def test_unknown_transitions_in_the_faults_file_fail_loudly(self) -> None:
        with open(TIMED["faults"], "w") as handle:
            json.dump({"aws_timings": {"eks-cluster:creation": 1}}, handle)
        code, status, message = error_of(self.ec2.describe_vpcs)
        self.assertEqual((code, status), ("LauncherFaultsFileInvalid", 400))
        self.assertIn("eks-cluster:create", message)


class UntimedTest(SharedLauncher):
    def test_without_timings_changes_are_at_once(self) -> None:
        """--aws-timings 0 (the default) keeps moto's at-once changes outside the launcher's
        once-only EKS and FSx states."""
        subnet = self.subnet_in("us-east-1a")
        instance = self.ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, SubnetId=subnet)["Instances"][0]
        described = self.ec2.describe_instances(InstanceIds=[instance["InstanceId"]])
        self.assertEqual(described["Reservations"][0]["Instances"][0]["State"]["Name"], "running")
        self.ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
        described = self.ec2.describe_instances(InstanceIds=[instance["InstanceId"]])
        self.assertEqual(described["Reservations"][0]["Instances"][0]["State"]["Name"], "terminated")
        sm = self.launcher.client("sagemaker")
        sm.create_notebook_instance(NotebookInstanceName="untimed", InstanceType="ml.t3.medium",
                                    RoleArn="arn:aws:iam::123456789012:role/x")
        self.assertEqual(sm.describe_notebook_instance(NotebookInstanceName="untimed")["NotebookInstanceStatus"],
                         "InService")
        self.assertEqual([r for r in stats_of(self.launcher)["transitions"]], [])


# --------------------------------------------------------------------------
# --max-rps: throttling by a token bucket


class RateLimitTest(unittest.TestCase):
    """A launcher at 0.5 requests/s with a bucket of 3: three calls pass, then every
    protocol gets its service's throttling error until a token comes back (2 s)."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.launcher = Launcher(extra=["--max-rps", "0.5", "--burst", "3"])

    @classmethod
    def tearDownClass(cls) -> None:
        cls.launcher.stop()

    def test_each_protocol_gets_its_throttling_error(self) -> None:
        # Load moto's EC2 models in another region (its own bucket) first: seconds.
        self.launcher.client("ec2", region="eu-west-1").describe_vpcs()
        ec2 = self.launcher.client("ec2")
        for _ in range(3):
            ec2.describe_vpcs()
        started = time.monotonic()
        refused = [
            error_of(ec2.describe_vpcs)[:2],
            error_of(self.launcher.client("iam").list_roles)[:2],
            error_of(self.launcher.client("sts").get_caller_identity)[:2],
            error_of(self.launcher.client("sagemaker").list_domains)[:2],
            error_of(self.launcher.client("eks").list_clusters)[:2],
            error_of(self.launcher.client("s3").list_buckets)[:2],
        ]
        self.assertLess(time.monotonic() - started, 1.5, "a token came back meanwhile")
        self.assertEqual(refused, [
            ("RequestLimitExceeded", 503),
            ("Throttling", 400),
            ("Throttling", 400),
            ("ThrottlingException", 400),
            ("ThrottlingException", 400),
            ("SlowDown", 503),
        ])
        # Another region of the account has its own bucket.
        self.launcher.client("ec2", region="eu-west-1").describe_vpcs()
        time.sleep(2.1)
        ec2.describe_vpcs()  # one token back
        self.assertEqual(error_of(ec2.describe_vpcs)[0], "RequestLimitExceeded")
        stats = stats_of(self.launcher)
        self.assertEqual(stats["throttled"]["ec2 DescribeVpcs"], 2)
        self.assertEqual(stats["throttled"]["s3 GET service"], 1)
        self.assertEqual(stats["throttled_total"], 7)

    def test_sdk_retries_ride_out_throttling(self) -> None:
        # The standard retry mode backs off (up to 20 s) until a token comes back.
        s3 = self.launcher.client("s3", region="ap-south-1", retries=10)
        for n in range(5):
            s3.create_bucket(Bucket=f"patient-{n}", CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
        self.assertEqual(len([b for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("patient-")]), 5)


class RateLimitFaultsFileTest(unittest.TestCase):
    """The faults file's `max_rps` replaces --max-rps while it says so: 0 lifts the limit
    (a benchmark measures the same moto unthrottled), another number sets a bucket of one
    second's worth of tokens, no key goes back to --max-rps."""

    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.faults = os.path.join(self.tmp.name, "faults.json")
        self.launcher = Launcher(self.faults, extra=["--max-rps", "0.5", "--burst", "3"])
        self.sts = self.launcher.client("sts")

    def tearDown(self) -> None:
        self.launcher.stop()
        self.tmp.cleanup()

    def write(self, doc: dict) -> None:
        with open(self.faults + ".tmp", "w") as handle:
            json.dump(doc, handle)
        os.replace(self.faults + ".tmp", self.faults)

    def passing(self, calls: int) -> int:
        """How many of `calls` back-to-back calls go through."""
        ok = 0
        for _ in range(calls):
            try:
                self.sts.get_caller_identity()
                ok += 1
            except ClientError as err:
                self.assertEqual(err.response["Error"]["Code"], "Throttling")
        return ok

    def test_the_faults_file_lifts_or_replaces_the_limit(self) -> None:
        self.assertEqual(self.passing(5), 3, "--max-rps 0.5 --burst 3")
        self.write({"max_rps": 0})
        self.assertEqual(self.passing(20), 20, "no limit")
        self.write({"max_rps": 2})
        self.assertEqual(self.passing(5), 2, "a bucket of two tokens at 2/s")
        self.write({})
        self.assertEqual(self.passing(3), 0, "--max-rps again: its bucket is still empty")
        self.write({"max_rps": -1})
        time.sleep(2.1)  # a token of --max-rps back, so the call gets as far as the file
        code, status, message = error_of(self.launcher.client("iam").list_roles)
        self.assertEqual((code, status), ("LauncherFaultsFileInvalid", 400))
        self.assertIn("max_rps", message)


class LifecycleTest(unittest.TestCase):
    def test_exits_on_stdin_eof(self) -> None:
        launcher = Launcher()
        launcher.proc.stdin.close()
        started = time.monotonic()
        self.assertEqual(launcher.proc.wait(5), 0)
        self.assertLess(time.monotonic() - started, 1.0)
        self.assertEqual(launcher.proc.stdout.read(), "")  # nothing after the ready line
        launcher.stop()

    def test_exits_on_sigterm(self) -> None:
        launcher = Launcher()
        launcher.proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        self.assertEqual(launcher.proc.wait(5), 0)
        self.assertLess(time.monotonic() - started, 1.0)
        launcher.stop()

    def test_quiet_by_default(self) -> None:
        launcher = Launcher()
        launcher.client("sts").get_caller_identity()
        launcher.proc.stdin.close()
        launcher.proc.wait(5)
        stderr = launcher.proc.stderr.read()
        self.assertNotIn("POST /", stderr)
        launcher.stop()


if __name__ == "__main__":
    unittest.main()
