"""What a user might write instead of gantry: the example GPU stack
(examples/aws-gpu-cluster) created and then deleted with plain boto3, one call after
another, waiting where the objects need it. bench/aws.sh and bench/aws_timings.sh time it
against gantry on the same moto launcher.

    python bench/aws_boto3_baseline.py http://127.0.0.1:PORT [SCALE]

It waits the way a careful script does: for each object to be ready before using it
(FSx AVAILABLE, instances running, the EKS cluster ACTIVE before its node group, the node
group ACTIVE, the SageMaker domain InService) and, when deleting, for each object to be
gone before deleting what it uses (the node group before its cluster, the cluster,
instances, file system and domain before the security group, subnets and roles). It
polls like boto3's waiters: every 30 s for EKS (cluster_active, nodegroup_active,
cluster_deleted, nodegroup_deleted), 15 s for EC2 instances (instance_running,
instance_terminated), and 30 s for FSx and the SageMaker domain, which have no waiter;
with the launcher's --aws-timings SCALE, pass the same SCALE and the delays shrink with
it (30 s x 1/20 = 1.5 s). Without SCALE it polls every 0.05 s (instances: 1 s), for moto
without timings, where everything is ready at once.
"""

import json
import sys
import time

import boto3

ENDPOINT = sys.argv[1]
SCALE = float(__import__("fractions").Fraction(sys.argv[2])) if len(sys.argv) > 2 else 0.0
REGION = "us-east-1"
NAME = "llm-train"


def delay(waiter_seconds: float, unscaled: float = 0.05) -> float:
    """The poll interval of a boto3 waiter that sleeps `waiter_seconds` on AWS; `unscaled`
    without SCALE."""
    return waiter_seconds * SCALE if SCALE > 0 else unscaled


def waiter(waiter_seconds: float, unscaled: float = 0.05) -> dict:
    """WaiterConfig for a boto3 waiter whose delay on AWS is `waiter_seconds`."""
    return {"Delay": delay(waiter_seconds, unscaled), "MaxAttempts": 100000}


def client(service):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def wait_for(check, what, waiter_seconds=30, timeout=3600):
    start = time.time()
    while not check():
        if time.time() - start > timeout:
            raise TimeoutError(what)
        time.sleep(delay(waiter_seconds))


def gone(describe, missing: str) -> bool:
    try:
        describe()
    except Exception as err:  # botocore ClientError
        if getattr(err, "response", {}).get("Error", {}).get("Code") == missing:
            return True
        raise
    return False


def assume(service):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": f"{service}.amazonaws.com"}}]})


def create():
    ec2, iam, s3, kms = client("ec2"), client("iam"), client("s3"), client("kms")
    fsx, eks, sm, sts = client("fsx"), client("eks"), client("sagemaker"), client("sts")
    ids = {}
    account = sts.get_caller_identity()["Account"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    ids["vpc"] = vpc
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i * 16}.0/20", AvailabilityZone=z)["Subnet"]["SubnetId"]
               for i, z in enumerate(zones)]
    ids["subnets"] = subnets
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    ids["igw"] = igw
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ids["rtb"] = rtb
    ids["assoc"] = [ec2.associate_route_table(RouteTableId=rtb, SubnetId=s)["AssociationId"] for s in subnets]
    sg = ec2.create_security_group(GroupName=f"{NAME}-efa", Description="EFA", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": sg}]}])
    ec2.authorize_security_group_egress(GroupId=sg, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": sg}]}])
    ids["sg"] = sg
    ec2.create_placement_group(GroupName=f"{NAME}-gpu", Strategy="cluster")
    roles = {}
    for role, service in [("node", "ec2"), ("cluster", "eks"), ("sagemaker", "sagemaker")]:
        roles[role] = iam.create_role(RoleName=f"{NAME}-{role}", AssumeRolePolicyDocument=assume(service))["Role"]["Arn"]
    attachments = [("node", "AmazonEKSWorkerNodePolicy"), ("node", "AmazonEC2ContainerRegistryReadOnly"),
                   ("node", "AmazonS3ReadOnlyAccess"), ("cluster", "AmazonEKSClusterPolicy"),
                   ("sagemaker", "AmazonSageMakerFullAccess")]
    for role, policy in attachments:
        iam.attach_role_policy(RoleName=f"{NAME}-{role}", PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
    iam.create_instance_profile(InstanceProfileName=f"{NAME}-node")
    iam.add_role_to_instance_profile(InstanceProfileName=f"{NAME}-node", RoleName=f"{NAME}-node")
    key = kms.create_key(Description=f"{NAME} data")["KeyMetadata"]
    ids["key"] = key["KeyId"]
    bucket = f"{NAME}-data-{account}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]},
        "BucketKeyEnabled": True}]})
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    ids["bucket"] = bucket
    fs = fsx.create_file_system(FileSystemType="LUSTRE", StorageCapacity=1200, SubnetIds=[subnets[0]],
                                SecurityGroupIds=[sg], LustreConfiguration={
                                    "DeploymentType": "PERSISTENT_2", "PerUnitStorageThroughput": 250})
    ids["fsx"] = fs["FileSystem"]["FileSystemId"]
    wait_for(lambda: fsx.describe_file_systems(FileSystemIds=[ids["fsx"]])["FileSystems"][0]["Lifecycle"] == "AVAILABLE", "fsx")
    lt = ec2.create_launch_template(LaunchTemplateName=f"{NAME}-gpu", LaunchTemplateData={
        "ImageId": "ami-0123456789abcdef0", "InstanceType": "p5.48xlarge",
        "IamInstanceProfile": {"Name": f"{NAME}-node"},
        "NetworkInterfaces": [{"DeviceIndex": 0, "NetworkCardIndex": 0, "InterfaceType": "efa",
                               "SubnetId": subnets[0], "Groups": [sg]}],
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 500, "VolumeType": "gp3", "Encrypted": True}}],
        "Placement": {"GroupName": f"{NAME}-gpu"}})["LaunchTemplate"]["LaunchTemplateId"]
    ids["lt"] = lt
    instances = []
    for _ in range(2):
        out = ec2.run_instances(MinCount=1, MaxCount=1, LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"})
        instances += [i["InstanceId"] for i in out["Instances"]]
    ec2.get_waiter("instance_running").wait(InstanceIds=instances,
                                            WaiterConfig=waiter(15, unscaled=1))
    ids["instances"] = instances
    eks.create_cluster(name=NAME, roleArn=roles["cluster"], version="1.31",
                       resourcesVpcConfig={"subnetIds": subnets, "securityGroupIds": [sg], "endpointPrivateAccess": True})
    eks.get_waiter("cluster_active").wait(name=NAME, WaiterConfig=waiter(30))
    eks.create_nodegroup(clusterName=NAME, nodegroupName="gpu", nodeRole=roles["node"], subnets=[subnets[0]],
                         instanceTypes=["p5.48xlarge"], amiType="AL2_x86_64_GPU", capacityType="ON_DEMAND",
                         scalingConfig={"desiredSize": 2, "minSize": 0, "maxSize": 4},
                         labels={"nvidia.com/gpu.present": "true"},
                         taints=[{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}])
    eks.get_waiter("nodegroup_active").wait(clusterName=NAME, nodegroupName="gpu",
                                            WaiterConfig=waiter(30))
    domain = sm.create_domain(DomainName=NAME, AuthMode="IAM", VpcId=vpc, SubnetIds=subnets,
                              DefaultUserSettings={"ExecutionRole": roles["sagemaker"], "SecurityGroups": [sg]})
    ids["domain"] = domain["DomainArn"].split("/")[-1]
    wait_for(lambda: sm.describe_domain(DomainId=ids["domain"])["Status"] == "InService", "domain")
    return ids, attachments


def destroy(ids, attachments):
    ec2, iam, s3, kms = client("ec2"), client("iam"), client("s3"), client("kms")
    fsx, eks, sm = client("fsx"), client("eks"), client("sagemaker")
    sm.delete_domain(DomainId=ids["domain"], RetentionPolicy={"HomeEfsFileSystem": "Delete"})
    wait_for(lambda: gone(lambda: sm.describe_domain(DomainId=ids["domain"]), "ResourceNotFound"), "domain deleted")
    eks.delete_nodegroup(clusterName=NAME, nodegroupName="gpu")
    eks.get_waiter("nodegroup_deleted").wait(clusterName=NAME, nodegroupName="gpu",
                                             WaiterConfig=waiter(30))
    eks.delete_cluster(name=NAME)
    eks.get_waiter("cluster_deleted").wait(name=NAME, WaiterConfig=waiter(30))
    ec2.terminate_instances(InstanceIds=ids["instances"])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=ids["instances"],
                                               WaiterConfig=waiter(15, unscaled=1))
    ec2.delete_launch_template(LaunchTemplateId=ids["lt"])
    fsx.delete_file_system(FileSystemId=ids["fsx"])
    wait_for(lambda: gone(lambda: fsx.describe_file_systems(FileSystemIds=[ids["fsx"]]), "FileSystemNotFound"),
             "file system deleted")
    s3.delete_public_access_block(Bucket=ids["bucket"])
    s3.delete_bucket_encryption(Bucket=ids["bucket"])
    s3.delete_bucket(Bucket=ids["bucket"])
    kms.schedule_key_deletion(KeyId=ids["key"], PendingWindowInDays=7)
    iam.remove_role_from_instance_profile(InstanceProfileName=f"{NAME}-node", RoleName=f"{NAME}-node")
    iam.delete_instance_profile(InstanceProfileName=f"{NAME}-node")
    for role, policy in attachments:
        iam.detach_role_policy(RoleName=f"{NAME}-{role}", PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
    for role in ["node", "cluster", "sagemaker"]:
        iam.delete_role(RoleName=f"{NAME}-{role}")
    ec2.delete_placement_group(GroupName=f"{NAME}-gpu")
    ec2.delete_security_group(GroupId=ids["sg"])
    for a in ids["assoc"]:
        ec2.disassociate_route_table(AssociationId=a)
    ec2.delete_route_table(RouteTableId=ids["rtb"])
    ec2.detach_internet_gateway(InternetGatewayId=ids["igw"], VpcId=ids["vpc"])
    ec2.delete_internet_gateway(InternetGatewayId=ids["igw"])
    for s in ids["subnets"]:
        ec2.delete_subnet(SubnetId=s)
    ec2.delete_vpc(VpcId=ids["vpc"])


if __name__ == "__main__":
    t0 = time.time()
    ids, attachments = create()
    t1 = time.time()
    destroy(ids, attachments)
    t2 = time.time()
    print(json.dumps({"create_s": round(t1 - t0, 2), "destroy_s": round(t2 - t1, 2)}))
