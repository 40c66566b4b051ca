"""Cluster API render target: upstream-valid documents that mean what the fleet says."""

from __future__ import annotations

import re

import pytest
from fleetgen.render import capi

from tests.conftest import fleet_from_text

HEADER = """\
apiVersion: fleetgen/v1alpha1
kind: Fleet
name: capi-test
repo:
  url: https://github.com/example/platform
hub: {name: hub}
network: {mesh: MESH}
"""

CLUSTERS = """\
clusters:
  - name: eks-one
    environment: production
    region: us-east-1
    labels: {tier: gold, example.com/team: platform}
    kubernetesVersion: "1.30"
    provider: {type: aws, accountID: "123456789012", roleARN: "arn:aws:iam::123456789012:role/argocd"}
    network: {pods: 10.16.0.0/14, services: 10.100.0.0/16, meshID: 1}
    nodePools:
      - {name: general, instanceType: m6i.2xlarge, min: 3, max: 12}
      - name: arm
        instanceType: m7g.xlarge
        min: 2
        max: 2
        labels: {arch: arm64}
        taints: [{key: dedicated, value: arm, effect: NoExecute}]
  - name: gke-one
    environment: production
    region: us-central1
    kubernetesVersion: "1.31.4"
    provider: {type: gcp, project: ml-prod}
    network: {pods: 10.40.0.0/16, services: 10.111.0.0/20, meshID: 2}
    nodePools:
      - name: a100
        instanceType: a2-highgpu-1g
        min: 0
        max: 8
        labels: {gpu: a100}
        taints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]
  - name: aks-one
    environment: staging
    region: westeurope
    kubernetesVersion: "1.31"
    provider: {type: azure, subscriptionID: 6f1c2d3e-0000-4000-8000-1234567890ab, resourceGroup: rg-one}
    network: {pods: 10.44.0.0/16, services: 10.112.0.0/20, meshID: 3}
    nodePools:
      - {name: system, instanceType: Standard_D4s_v5, min: 2, max: 2}
      - name: batch-jobs
        instanceType: Standard_D8s_v5
        min: 1
        max: 20
        taints: [{key: batch, effect: NoSchedule}]
  - name: vsphere-one
    environment: staging
    region: dc1
    server: https://vip.dc1.example.com:6443
    kubernetesVersion: "1.30.7"
    provider:
      {type: vsphere, server: vcenter.example.com, datacenter: DC1, template: ubuntu-2204-kube-v1.30.7}
    network: {pods: 10.60.0.0/16, services: 10.61.0.0/20, meshID: 4}
    nodePools:
      - name: workers
        instanceType: 4x16
        min: 2
        max: 6
        labels: {role: worker, node-role.kubernetes.io/worker: "", node.kubernetes.io/pool: workers}
        taints: [{key: team, value: a, effect: PreferNoSchedule}]
  - name: kind-one
    environment: development
    region: local
    kubernetesVersion: "1.31"
    provider: {type: docker}
    network: {pods: 10.250.0.0/16, services: 10.251.0.0/20, meshID: 5}
    nodePools:
      - {name: workers, instanceType: docker, min: 1, max: 3}
  - name: edge-one
    environment: production
    region: us-east-1
    server: https://10.200.42.10:6443
    kubernetesVersion: "1.30"
    provider: {type: imported}
    network: {pods: 10.64.0.0/20, services: 10.65.0.0/22, meshID: 6}
"""


def build(mesh: str = "cilium", clusters: str = CLUSTERS):
    return fleet_from_text(HEADER.replace("MESH", mesh) + clusters)


@pytest.fixture(scope="module")
def files():
    return {f.path: f for f in capi.render(build())}


def docs(files, cluster: str) -> list[dict]:
    return list(files[f"hub/capi/{cluster}.yaml"].documents)


def one(documents: list[dict], kind: str) -> dict:
    found = [d for d in documents if d["kind"] == kind]
    assert len(found) == 1, (kind, [d["kind"] for d in documents])
    return found[0]


def every(documents: list[dict], kind: str) -> list[dict]:
    return [d for d in documents if d["kind"] == kind]


def by_ref(documents: list[dict], ref: dict) -> dict:
    """The document a v1beta2 ref points at: same group, kind and name, in this file."""
    assert set(ref) == {"apiGroup", "kind", "name"}, ref
    found = [
        d
        for d in documents
        if d["kind"] == ref["kind"]
        and d["metadata"]["name"] == ref["name"]
        and d["apiVersion"].rsplit("/", 1)[0] == ref["apiGroup"]
    ]
    assert len(found) == 1, ref
    return found[0]


# cluster-autoscaler (utils/taints IgnoreTaintPrefix) leaves taints of this prefix out of its template node
CILIUM_TAINT = "ignore-taint.cluster-autoscaler.kubernetes.io/cilium-agent-not-ready"
PROVISIONED = ["eks-one", "gke-one", "aks-one", "vsphere-one", "kind-one"]


def test_one_file_per_provisioned_cluster_and_none_for_imported(files):
    expected = [f"hub/capi/{c}.yaml" for c in PROVISIONED] + ["hub/capi-identities/aws.yaml"]
    assert sorted(files) == sorted(expected)


def test_identities_file_passes_the_upstream_schema(files, upstream):
    for doc in files["hub/capi-identities/aws.yaml"].documents:
        assert upstream(doc) == []


@pytest.mark.parametrize("cluster", PROVISIONED)
def test_every_document_passes_the_upstream_schema(files, upstream, cluster):
    for doc in docs(files, cluster):
        assert upstream(doc) == [], (doc["kind"], doc["metadata"]["name"])


def test_mesh_none_also_validates(upstream):
    for file in capi.render(build("none")):
        for doc in file.documents:
            assert upstream(doc) == [], (file.path, doc["kind"])


def test_example_fleet_validates(example_fleet, upstream):
    rendered = capi.render(example_fleet)
    assert rendered
    assert all(upstream(doc) == [] for f in rendered for doc in f.documents)


EXPECTED_KINDS = {
    "eks-one": [
        ("v1", "Namespace"),
        ("cluster.x-k8s.io/v1beta2", "Cluster"),
        ("infrastructure.cluster.x-k8s.io/v1beta2", "AWSManagedCluster"),
        ("controlplane.cluster.x-k8s.io/v1beta2", "AWSManagedControlPlane"),
        ("cluster.x-k8s.io/v1beta2", "MachinePool"),
        ("infrastructure.cluster.x-k8s.io/v1beta2", "AWSManagedMachinePool"),
        ("cluster.x-k8s.io/v1beta2", "MachinePool"),
        ("infrastructure.cluster.x-k8s.io/v1beta2", "AWSManagedMachinePool"),
    ],
    "gke-one": [
        ("v1", "Namespace"),
        ("cluster.x-k8s.io/v1beta2", "Cluster"),
        ("infrastructure.cluster.x-k8s.io/v1beta1", "GCPManagedCluster"),
        ("infrastructure.cluster.x-k8s.io/v1beta1", "GCPManagedControlPlane"),
        ("cluster.x-k8s.io/v1beta2", "MachinePool"),
        ("infrastructure.cluster.x-k8s.io/v1beta1", "GCPManagedMachinePool"),
    ],
    "kind-one": [
        ("v1", "Namespace"),
        ("cluster.x-k8s.io/v1beta2", "Cluster"),
        ("infrastructure.cluster.x-k8s.io/v1beta2", "DockerCluster"),
        ("controlplane.cluster.x-k8s.io/v1beta2", "KubeadmControlPlane"),
        ("infrastructure.cluster.x-k8s.io/v1beta2", "DockerMachineTemplate"),
        ("cluster.x-k8s.io/v1beta2", "MachineDeployment"),
        ("infrastructure.cluster.x-k8s.io/v1beta2", "DockerMachineTemplate"),
        ("bootstrap.cluster.x-k8s.io/v1beta2", "KubeadmConfigTemplate"),
        ("cluster.x-k8s.io/v1beta2", "MachineHealthCheck"),
    ],
}


@pytest.mark.parametrize("cluster", sorted(EXPECTED_KINDS))
def test_kinds_and_api_versions(files, cluster):
    assert [(d["apiVersion"], d["kind"]) for d in docs(files, cluster)] == EXPECTED_KINDS[cluster]


def test_azure_uses_the_aso_kinds_not_the_deprecated_managed_ones(files):
    kinds = {d["kind"] for d in docs(files, "aks-one")}
    assert {"AzureASOManagedCluster", "AzureASOManagedControlPlane", "AzureASOManagedMachinePool"} <= kinds
    assert not kinds & {"AzureManagedCluster", "AzureManagedControlPlane", "AzureManagedMachinePool"}


@pytest.mark.parametrize("cluster", PROVISIONED)
def test_cluster_carries_cidrs_labels_and_v1beta2_refs(files, cluster):
    documents = docs(files, cluster)
    fleet_cluster = build().cluster(cluster)
    obj = one(documents, "Cluster")
    assert obj["spec"]["clusterNetwork"] == {
        "pods": {"cidrBlocks": [str(fleet_cluster.network.pods)]},
        "services": {"cidrBlocks": [str(fleet_cluster.network.services)]},
    }
    assert "topology" not in obj["spec"]  # so the version lives on the control plane
    for key in ("controlPlaneRef", "infrastructureRef"):
        assert by_ref(documents, obj["spec"][key])["metadata"]["name"] == cluster
    labels = obj["metadata"]["labels"]
    assert labels["fleetgen.io/environment"] == fleet_cluster.environment
    assert labels["cluster.x-k8s.io/cluster-name"] == cluster
    assert all(d["metadata"].get("namespace", cluster) == cluster for d in documents)
    # the Cluster's labels, then the Pod Security labels at the fleet's level (baseline by default)
    psa = {f"pod-security.kubernetes.io/{mode}": "baseline" for mode in ("enforce", "audit", "warn")}
    assert documents[0] == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": cluster, "labels": {**labels, **psa}},
    }


def test_prefixed_user_labels_stay_as_they_are(files):
    labels = one(docs(files, "eks-one"), "Cluster")["metadata"]["labels"]
    assert labels["example.com/team"] == "platform" and labels["fleetgen.io/tier"] == "gold"


@pytest.mark.parametrize("cluster", PROVISIONED)
def test_pool_refs_point_at_objects_in_the_same_file(files, cluster):
    documents = docs(files, cluster)
    for owner in every(documents, "MachinePool") + every(documents, "MachineDeployment"):
        spec = owner["spec"]["template"]["spec"]
        assert spec["clusterName"] == cluster == owner["spec"]["clusterName"]
        by_ref(documents, spec["infrastructureRef"])
        if "configRef" in spec["bootstrap"]:
            assert by_ref(documents, spec["bootstrap"]["configRef"])["kind"] == "KubeadmConfigTemplate"
        else:
            assert spec["bootstrap"] == {"dataSecretName": ""}  # the cloud bootstraps managed nodes
    for kcp in every(documents, "KubeadmControlPlane"):
        by_ref(documents, kcp["spec"]["machineTemplate"]["spec"]["infrastructureRef"])


@pytest.mark.parametrize("cluster", ["eks-one", "gke-one", "aks-one"])
def test_no_health_check_where_there_are_no_machines(files, cluster):
    # A MachineHealthCheck selects Machines; managed MachinePools create none, so it would do nothing.
    assert every(docs(files, cluster), "MachineHealthCheck") == []
    assert every(docs(files, cluster), "Machine") == []


@pytest.mark.parametrize("cluster", ["vsphere-one", "kind-one"])
def test_health_check_selects_the_cluster(files, cluster):
    mhc = one(docs(files, cluster), "MachineHealthCheck")
    assert mhc["spec"]["clusterName"] == cluster
    assert mhc["spec"]["selector"] == {"matchLabels": {"cluster.x-k8s.io/cluster-name": cluster}}
    assert {c["status"] for c in mhc["spec"]["checks"]["unhealthyNodeConditions"]} == {"Unknown", "False"}
    assert "maxUnhealthy" not in mhc["spec"]  # the v1beta1 field; v1beta2 uses remediation.triggerIf


def test_aws_versions_networking_and_pools(files):
    documents = docs(files, "eks-one")
    cp = one(documents, "AWSManagedControlPlane")["spec"]
    assert cp == {
        "eksClusterName": "eks-one",
        "identityRef": {"kind": "AWSClusterRoleIdentity", "name": "aws-123456789012"},
        "region": "us-east-1",
        "version": "v1.30",
        # CAPA's webhook accepts accessEntries only with api or api_and_config_map.
        "accessConfig": {"authenticationMode": "api_and_config_map"},
        "accessEntries": [
            {
                "principalARN": "arn:aws:iam::123456789012:role/argocd",
                "type": "standard",
                "kubernetesGroups": ["fleetgen:argocd-manager"],
            }
        ],
        "vpcCni": {"disable": True},  # mesh: cilium
        "endpointAccess": {"public": False, "private": True},  # private unless fleet.yaml asks
    }
    pools = {p["metadata"]["name"]: p for p in every(documents, "MachinePool")}
    general, arm = pools["eks-one-general"], pools["eks-one-arm"]
    assert "replicas" not in general["spec"]  # CAPI defaults it to the min-size annotation
    assert general["metadata"]["annotations"] == {capi.MAX_SIZE: "12", capi.MIN_SIZE: "3"}
    assert general["metadata"]["labels"]["fleetgen.io/autoscaler"] == "cluster-autoscaler"
    assert arm["spec"]["replicas"] == 2
    assert "annotations" not in arm["metadata"] and "fleetgen.io/autoscaler" not in arm["metadata"]["labels"]
    assert general["spec"]["template"]["spec"]["version"] == "v1.30.0"
    infra = {p["metadata"]["name"]: p["spec"] for p in every(documents, "AWSManagedMachinePool")}
    assert infra["eks-one-general"]["scaling"] == {"minSize": 3, "maxSize": 12}
    assert infra["eks-one-general"]["amiType"] == "AL2023_x86_64_STANDARD"
    assert infra["eks-one-arm"]["amiType"] == "AL2023_ARM_64_STANDARD"
    assert infra["eks-one-arm"]["labels"] == {"arch": "arm64"}
    assert infra["eks-one-arm"]["taints"] == [{"key": "dedicated", "value": "arm", "effect": "no-execute"}]


def test_gcp_versions_networking_and_pools(files):
    documents = docs(files, "gke-one")
    assert one(documents, "GCPManagedCluster")["spec"] == {
        "project": "ml-prod",
        "region": "us-central1",
        "network": {"name": "gke-one"},  # CAPG dereferences spec.network.name when it creates the cluster
    }
    cp = one(documents, "GCPManagedControlPlane")["spec"]
    assert (cp["clusterName"], cp["project"], cp["location"], cp["version"]) == (
        "gke-one",
        "ml-prod",
        "us-central1",
        "1.31.4",
    )
    assert cp["clusterNetwork"] == {
        "useIPAliases": True,
        "pod": {"cidrBlock": "10.40.0.0/16"},
        "service": {"cidrBlock": "10.111.0.0/20"},
    }
    pool = one(documents, "MachinePool")
    # a region: created with the min raised to a multiple of its 3 zones (CAPG's preflight), then GKE's
    # autoscaler owns the count and nothing writes replicas back
    assert pool["spec"]["replicas"] == 0
    assert pool["metadata"]["annotations"] == {capi.MAX_SIZE: "8", capi.MIN_SIZE: "0"}
    assert pool["metadata"]["labels"]["fleetgen.io/autoscaler"] == "gke"
    # autoUpgrade moves nodes past a pinned patch, and CAPG would push them back: no node version.
    assert "version" not in pool["spec"]["template"]["spec"]
    infra = one(documents, "GCPManagedMachinePool")["spec"]
    assert infra["scaling"] == {"minCount": 0, "maxCount": 8}
    assert infra["machineType"] == "a2-highgpu-1g" and infra["kubernetesLabels"] == {"gpu": "a100"}
    # mesh: cilium adds the taint of Cilium's GKE guide (`--node-taints node.cilium.io/agent-not-ready=true:NoExecute`)
    # under the key prefix cluster-autoscaler drops from its template node, so the pool still scales up from 0
    assert infra["kubernetesTaints"] == [
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},
        {"key": CILIUM_TAINT, "value": "true", "effect": "NoExecute"},
    ]


def test_gke_pools_without_cilium_keep_only_their_own_taints():
    (file,) = [f for f in capi.render(build("none")) if f.path.endswith("gke-one.yaml")]
    infra = one(list(file.documents), "GCPManagedMachinePool")["spec"]
    assert infra["kubernetesTaints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    untainted = build(
        "cilium", CLUSTERS.replace("        taints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]\n", "")
    )
    (file,) = [f for f in capi.render(untainted) if f.path.endswith("gke-one.yaml")]
    infra = one(list(file.documents), "GCPManagedMachinePool")["spec"]
    assert infra["kubernetesTaints"] == [{"key": CILIUM_TAINT, "value": "true", "effect": "NoExecute"}]


def test_azure_aso_resources_and_pools(files):
    documents = docs(files, "aks-one")
    group = one(documents, "AzureASOManagedCluster")["spec"]["resources"]
    credential = {"serviceoperator.azure.com/credential-from": "aso-credential-6f1c2d3e-0000-4000-8000-1234567890ab"}
    assert group == [
        {
            "apiVersion": "resources.azure.com/v1api20200601",
            "kind": "ResourceGroup",
            "metadata": {"name": "aks-one", "annotations": credential},
            "spec": {"azureName": "rg-one", "location": "westeurope"},
        }
    ]
    cp = one(documents, "AzureASOManagedControlPlane")["spec"]
    assert cp["version"] == "v1.31"
    (managed,) = cp["resources"]
    assert managed["kind"] == "ManagedCluster" and managed["spec"]["owner"] == {"name": "aks-one"}
    assert managed["metadata"]["annotations"] == credential
    assert managed["spec"]["aadProfile"] == {"enableAzureRBAC": False, "managed": True}
    # CAPZ fills these from the Cluster and MachinePools and rejects different values.
    assert not {"kubernetesVersion", "agentPoolProfiles"} & set(managed["spec"])
    assert not {"podCidr", "serviceCidr"} & set(managed["spec"]["networkProfile"])
    # BYO CNI for the fleet's Cilium; the DNS service IP is 10.112.0.0/20's tenth address.
    assert managed["spec"]["networkProfile"] == {"networkPlugin": "none", "dnsServiceIP": "10.112.0.10"}
    agent = {
        p["metadata"]["name"]: p["spec"]["resources"][0]["spec"] for p in every(documents, "AzureASOManagedMachinePool")
    }
    assert agent["aks-one-system"]["mode"] == "System" and "enableAutoScaling" not in agent["aks-one-system"]
    batch = agent["aks-one-batch-jobs"]
    assert (batch["mode"], batch["azureName"], batch["owner"]) == ("User", "batchjobs", {"name": "aks-one"})
    assert (batch["enableAutoScaling"], batch["minCount"], batch["maxCount"]) == (True, 1, 20)
    assert batch["nodeTaints"] == ["batch:NoSchedule"]
    pools = {p["metadata"]["name"]: p["spec"] for p in every(documents, "MachinePool")}
    # CAPZ writes the live count into spec.replicas of an autoscaled pool; git must not hold one.
    assert "replicas" not in pools["aks-one-batch-jobs"] and pools["aks-one-system"]["replicas"] == 2
    assert "version" not in pools["aks-one-batch-jobs"]["template"]["spec"]  # 1.31.0 is no AKS release


def test_azure_without_cilium_uses_azure_cni_overlay():
    (file,) = [f for f in capi.render(build("none")) if f.path.endswith("aks-one.yaml")]
    managed = one(list(file.documents), "AzureASOManagedControlPlane")["spec"]["resources"][0]
    assert managed["spec"]["networkProfile"] == {
        "networkPlugin": "azure",
        "networkPluginMode": "overlay",
        "dnsServiceIP": "10.112.0.10",
    }


def test_aks_pool_names_are_valid_and_unique():
    fleet = build(clusters=CLUSTERS.replace("{name: system,", "{name: batchjobs,"))
    names = capi.aks_pool_names(fleet.cluster("aks-one").node_pools)
    assert names == ["batchjobs", "batchjobs01"]
    assert all(re.fullmatch(r"[a-z][a-z0-9]{0,11}", n) for n in names)


KUBE_SEMVER = re.compile(r"v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")


def test_vsphere_kubeadm_objects(files):
    documents = docs(files, "vsphere-one")
    assert one(documents, "VSphereCluster")["spec"] == {
        "server": "vcenter.example.com",
        "controlPlaneEndpoint": {"host": "vip.dc1.example.com", "port": 6443},
    }
    kcp = one(documents, "KubeadmControlPlane")["spec"]
    assert kcp["version"] == "v1.30.7" and kcp["replicas"] == 3
    deployment = one(documents, "MachineDeployment")
    assert "replicas" not in deployment["spec"]
    assert deployment["metadata"]["annotations"] == {capi.MAX_SIZE: "6", capi.MIN_SIZE: "2"}
    assert deployment["spec"]["template"]["spec"]["version"] == "v1.30.7"
    worker = by_ref(documents, deployment["spec"]["template"]["spec"]["infrastructureRef"])["spec"]["template"]["spec"]
    assert (worker["numCPUs"], worker["memoryMiB"]) == (4, 16384)
    assert (worker["datacenter"], worker["template"], worker["server"]) == (
        "DC1",
        "ubuntu-2204-kube-v1.30.7",
        "vcenter.example.com",
    )
    config = by_ref(documents, deployment["spec"]["template"]["spec"]["bootstrap"]["configRef"])
    registration = config["spec"]["template"]["spec"]["joinConfiguration"]["nodeRegistration"]
    args = {a["name"]: a["value"] for a in registration["kubeletExtraArgs"]}
    # node-role.kubernetes.io is a kubelet-restricted label namespace: the kubelet would refuse to start.
    assert args == {
        "cloud-provider": "external",
        "node-labels": "node.kubernetes.io/pool=workers,role=worker",
    }
    assert registration["taints"] == [{"key": "team", "value": "a", "effect": "PreferNoSchedule"}]
    # ... so it goes on the Machines, from which Cluster API copies node-role.kubernetes.io/* to the Node.
    assert deployment["spec"]["template"]["metadata"]["labels"] == {
        "cluster.x-k8s.io/cluster-name": "vsphere-one",
        "node-role.kubernetes.io/worker": "",
    }


def test_docker_kubeadm_objects(files):
    documents = docs(files, "kind-one")
    kcp = one(documents, "KubeadmControlPlane")["spec"]
    assert kcp["version"] == "v1.31.0" and kcp["replicas"] == 1
    deployment = one(documents, "MachineDeployment")
    assert deployment["metadata"]["annotations"] == {capi.MAX_SIZE: "3", capi.MIN_SIZE: "1"}
    assert by_ref(documents, deployment["spec"]["template"]["spec"]["infrastructureRef"])["kind"] == (
        "DockerMachineTemplate"
    )


@pytest.mark.parametrize("cluster", ["vsphere-one", "kind-one"])
def test_kubeadm_versions_are_full_semver(files, cluster):
    documents = docs(files, cluster)
    versions = [one(documents, "KubeadmControlPlane")["spec"]["version"]]
    versions += [d["spec"]["template"]["spec"]["version"] for d in every(documents, "MachineDeployment")]
    assert all(KUBE_SEMVER.fullmatch(v) for v in versions), versions


def test_fixed_size_pool_gets_replicas():
    fleet = build(
        clusters=CLUSTERS.replace("instanceType: docker, min: 1, max: 3", "instanceType: docker, min: 2, max: 2")
    )
    (file,) = [f for f in capi.render(fleet) if f.path.endswith("kind-one.yaml")]
    assert one(list(file.documents), "MachineDeployment")["spec"]["replicas"] == 2


@pytest.mark.parametrize(
    ("given", "semver", "eks", "gke"),
    [
        ("1.30", "v1.30.0", "v1.30", "1.30"),
        ("1.30.5", "v1.30.5", "v1.30", "1.30.5"),
        ("v1.31", "v1.31.0", "v1.31", "1.31"),
    ],
)
def test_version_formats(given, semver, eks, gke):
    assert (capi.semver(given), capi.minor_version(given), capi.gke_version(given)) == (semver, eks, gke)


@pytest.mark.parametrize(
    ("instance", "ami"),
    [
        ("m6i.xlarge", "AL2023_x86_64_STANDARD"),
        ("c7gn.large", "AL2023_ARM_64_STANDARD"),
        ("g5.2xlarge", "AL2023_x86_64_NVIDIA"),
        ("g5g.xlarge", "AL2023_ARM_64_NVIDIA"),
        ("p4d.24xlarge", "AL2023_x86_64_NVIDIA"),
        ("inf2.xlarge", "AL2023_x86_64_NEURON"),
    ],
)
def test_eks_ami_type(instance, ami):
    assert capi.eks_ami_type(instance) == ami


@pytest.mark.parametrize(
    ("instance", "size"),
    [
        ("4x16", (4, 16)),
        ("m6i.2xlarge", (8, 32)),
        ("docker", None),
        ("xlarge", (4, 16)),
        ("1x2", (2, 2)),
        ("4x", None),
        ("0x8", None),
    ],
)
def test_vsphere_size(instance, size):
    assert capi.vsphere_size(instance) == size


def test_no_credentials_rendered(files):
    text = repr([f.documents for f in files.values()]).lower()
    for word in ("password", "secretkey", "bearertoken", "privatekey", "accesskey", "clientsecret", "tenantid"):
        assert word not in text


def test_deterministic_and_independent_of_cluster_order():
    first, second = capi.render(build()), capi.render(build())
    assert first == second
    blocks = re.split(r"(?m)^(?=  - name: )", CLUSTERS.removeprefix("clusters:\n"))
    reversed_fleet = build(clusters="clusters:\n" + "".join(reversed(blocks)))
    assert capi.render(reversed_fleet) == first
