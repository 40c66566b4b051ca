"""fleetgen import: Argo CD cluster Secrets, Cluster API manifests and kubeconfigs, as those tools write them.

Inputs are hand-written in the shapes ``kubectl get secrets -o yaml``, ``clusterctl generate
cluster`` (CAPA eks-managedmachinepool flavor) and ``aws eks update-kubeconfig`` / ``gcloud
container clusters get-credentials`` / ``kind`` produce; expected values are read off them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from fleetgen.importer.merge import merge
from fleetgen.importer.read import read_inputs
from fleetgen.main import cli
from fleetgen.scaffold import files
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

INPUTS = Path(__file__).resolve().parent / "imports"
CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJrVENDQVRlZ0F3SUJBZ0lJRXhhbXBsZQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg=="
# Every credential in the inputs; none may reach fleet.yaml or the output.
SECRETS = (
    "eyJhbGciOiJSUzI1NiIs",
    "Xy7~Q2abcdef",
    "s3cr3t-Pa55!",
    "ghp_notcopied",
    "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVkt",
    "LS0tLS1CRUdJTiBFQyBQUklWQVRF",
    "platform-admin",
)


def read(name: str):
    return read_inputs([INPUTS / name])


def test_argocd_secret_list_with_string_and_base64_data():
    found = read("argocd-secrets.yaml")
    assert found.clusters["prod-eks-use1"] == {
        "name": "prod-eks-use1",
        "environment": "production",
        "region": "us-east-1",
        "labels": {"team": "payments"},
        "server": "https://0A1B2C3D4E5F.gr7.us-east-1.eks.amazonaws.com",
        "caData": CA,
        "provider": {
            "type": "aws",
            "accountID": "210987654321",
            "roleARN": "arn:aws:iam::210987654321:role/argocd-deployer",
        },
        "lifecycle": "external",
    }
    assert found.clusters["gke-staging"] == {
        "name": "gke-staging",
        "environment": "staging",
        "server": "https://34.118.2.10",
        "caData": CA,
        "provider": {"type": "gcp"},
        "lifecycle": "external",
    }
    lab = found.clusters["onprem-lab"]  # "OnPrem_Lab" is no DNS label
    assert (
        lab["provider"] == {"type": "imported"}
        and "lifecycle" not in lab
        and lab["server"] == "https://10.20.30.40:6443"
    )
    notes = "\n".join(found.notes)
    assert "dropped bearerToken, tlsClientConfig.certData, tlsClientConfig.keyData" in notes
    assert "'OnPrem_Lab' is named 'onprem-lab'" in notes
    assert "1 document(s) are neither" in notes  # the repository Secret is not read at all


def test_argocd_multi_document_aks_and_agent_secrets():
    found = read("argocd-aks.yaml")
    assert found.clusters["aks-weu"]["provider"] == {"type": "azure"}
    assert found.clusters["aks-weu"]["region"] == "westeurope"
    edge = found.clusters["store-17"]
    assert edge["argocd"] == {"mode": "pull"} and "server" not in edge  # the resource proxy is not its endpoint
    assert found.gaps == [("store-17", "server")]
    notes = "\n".join(found.notes)
    assert "execProviderConfig.env.AAD_SERVICE_PRINCIPAL_CLIENT_SECRET" in notes
    assert "AAD_SERVICE_PRINCIPAL_CLIENT_ID" not in notes  # a client id is no credential
    assert "dropped username, password, tlsClientConfig.certData, tlsClientConfig.keyData" in notes


def test_capi_eks_manifests():
    found = read("capi-eks.yaml")
    assert found.clusters == {
        "prod-eks-euw1": {
            "name": "prod-eks-euw1",
            "region": "eu-west-1",
            "kubernetesVersion": "1.31.2",
            "provider": {"type": "aws"},
            "lifecycle": "managed",
            "network": {"pods": "192.168.0.0/16", "services": "10.96.0.0/16"},
            "nodePools": [
                {
                    "name": "pool-0",
                    "instanceType": "m6i.large",
                    "min": 2,
                    "max": 6,
                    "taints": [{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}],
                }
            ],
        }
    }
    # no eksClusterName: CAPA's webhook names it <namespace>_<control plane name>
    assert any("'default_prod-eks-euw1-control-plane'" in n for n in found.notes)


def test_capi_vsphere_manifests():
    """CAPV's default flavor (v1beta1 shape: kubeletExtraArgs as a mapping); the API server is the
    VSphereCluster's controlPlaneEndpoint, which the vSphere rule needs as ``server``."""
    found = read("capi-vsphere.yaml")
    thumbprint = "5C:1B:29:4E:AA:F0:8C:3A:D4:21:77:9E:0B:6F:C3:12:48:9A:DE:01"
    assert found.clusters == {
        "dc3-prod": {
            "name": "dc3-prod",
            "server": "https://10.40.0.10:6443",
            "kubernetesVersion": "1.31.4",
            "provider": {
                "type": "vsphere",
                "server": "vcenter.dc3.example.com",
                "thumbprint": thumbprint,
                "datacenter": "dc3",
                "template": "ubuntu-2204-kube-v1.31.4",
                "datastore": "vsanDatastore",
                "resourcePool": "k8s-pool",
                "folder": "k8s",
                "network": "k8s-nodes",
            },
            "lifecycle": "managed",
            "network": {"pods": "192.168.0.0/16"},
            "nodePools": [{"name": "md-0", "instanceType": "4x16", "min": 3, "max": 3}],
        }
    }
    assert found.notes == [] and found.conflicts == []


def test_kubeconfig_contexts():
    found = read("kubeconfig.yaml")
    assert found.clusters["prod-aps1"] == {
        "name": "prod-aps1",
        "region": "ap-south-1",
        "server": "https://9F8E7D6C5B4A.gr7.ap-south-1.eks.amazonaws.com",
        "caData": CA,
        "provider": {"type": "aws", "accountID": "123456789012"},
        "lifecycle": "external",
    }
    assert found.clusters["gpu-inference"]["provider"] == {"type": "gcp", "project": "ml-platform-prod"}
    assert found.clusters["gpu-inference"]["region"] == "us-central1"
    assert found.clusters["kind-dev"] == {"name": "kind-dev", "server": "https://127.0.0.1:40215", "caData": CA}
    assert any("dropped the user's client-key-data, client-certificate-data" in n for n in found.notes)


def test_merge_keeps_comments_adds_missing_and_reports_conflicts():
    fleet = (Path(__file__).resolve().parents[1] / "fleet.yaml").read_text()
    # prod-us-east-1 without its caData: the import adds the missing key, and reports the region conflict
    fleet = re.sub(r"(eks\.amazonaws\.com\n)    caData: \S+\n", r"\1", fleet, count=1)
    clusters = {
        "prod-us-east-1": {
            "name": "prod-us-east-1",
            "region": "us-west-2",
            "caData": CA,
            "labels": {"tier": "standard", "team": "core"},
        },
        "new-one": {
            "name": "new-one",
            "environment": "staging",
            "region": "eu-west-1",
            "provider": {"type": "gcp", "project": "proj-12345"},
        },
    }
    text, conflicts = merge(fleet, clusters)
    assert conflicts == [
        "cluster 'prod-us-east-1': region is 'us-east-1' in fleet.yaml but 'us-west-2' in the import; left as it is"
    ]
    assert text.startswith(fleet.split("clusters:")[0])  # everything above the clusters, comments included
    assert "    labels: {tier: standard, team: core}\n    server: https://4F2A9C1E" in text  # flow style kept
    assert f"eks.amazonaws.com\n    caData: {CA}\n    provider:" in text  # in the contract's key order
    assert (
        "\n\n  - name: new-one\n    environment: staging\n    region: eu-west-1\n    provider:\n      type: gcp\n"
        "      project: proj-12345\n\napplicationSets:"
    ) in text  # separated like the other clusters


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_builds_a_fleet_from_nothing_and_never_writes_a_credential(workdir):
    inputs = [str(INPUTS / n) for n in ("argocd-secrets.yaml", "argocd-aks.yaml", "capi-eks.yaml", "kubeconfig.yaml")]
    result = CliRunner().invoke(cli, ["import", *inputs, "--environment", "production"], catch_exceptions=False)
    text = (workdir / "fleet.yaml").read_text()
    assert result.exit_code == 1  # lint: CIDRs, a GKE project, a pull endpoint are not in those inputs
    assert text.startswith("# yaml-language-server: $schema=./fleet.schema.json\n")
    assert "9 cluster(s) read" in result.output and "error[schema]" in result.output
    for secret in SECRETS:
        assert secret not in text and secret not in result.output
    assert "environment: production" in text and "- name: store-17" in text


def test_cli_merges_inputs_of_one_cluster(workdir):
    # without its pool's taint: an EKS cluster whose only pool is tainted is lint untainted-pool (no DNS)
    taint = "  taints:\n    - key: dedicated\n      value: batch\n      effect: no-schedule\n"
    capi_text = (INPUTS / "capi-eks.yaml").read_text()
    assert taint in capi_text
    (workdir / "capi.yaml").write_text(capi_text.replace(taint, ""))
    (workdir / "secret.yaml").write_text(f"""\
apiVersion: v1
kind: Secret
metadata:
  name: prod-eks-euw1
  labels: {{argocd.argoproj.io/secret-type: cluster, environment: production}}
stringData:
  name: prod-eks-euw1
  server: https://AB12.gr7.eu-west-1.eks.amazonaws.com
  config: '{{"awsAuthConfig":{{"clusterName":"prod-eks-euw1","roleARN":"arn:aws:iam::111122223333:role/argocd"}},
    "tlsClientConfig":{{"insecure":false,"caData":"{CA}"}}}}'
""")
    CliRunner().invoke(cli, ["init"], catch_exceptions=False)
    fleet = workdir / "fleet.yaml"
    fleet.write_text(fleet.read_text().replace("mesh: cilium", "mesh: none"))
    result = CliRunner().invoke(cli, ["import", "secret.yaml", "capi.yaml"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output
    entry = fleet.read_text().split("clusters:\n", 1)[1]
    assert entry.startswith(
        "  - name: prod-eks-euw1\n    environment: production\n    region: eu-west-1\n"
        "    kubernetesVersion: 1.31.2\n    server: https://AB12.gr7.eu-west-1.eks.amazonaws.com\n"
    )
    assert (
        '    provider:\n      type: aws\n      accountID: "111122223333"\n'
        "      roleARN: arn:aws:iam::111122223333:role/argocd\n"
    ) in entry
    assert "lifecycle" not in entry  # Cluster API objects exist: managed, the default
    again = CliRunner().invoke(cli, ["import", "secret.yaml", "capi.yaml"], catch_exceptions=False)
    assert "updated" not in again.output  # importing twice changes nothing


def test_cli_dry_run_writes_nothing(workdir):
    result = CliRunner().invoke(cli, ["import", str(INPUTS / "kubeconfig.yaml"), "--dry-run"], catch_exceptions=False)
    assert result.exit_code == 0 and "+  - name: prod-aps1" in result.output
    assert not (workdir / "fleet.yaml").exists()


def test_unreadable_input_is_a_usage_error(workdir):
    (workdir / "bad.yaml").write_bytes(b"key: [unclosed\n")
    result = CliRunner().invoke(cli, ["import", "bad.yaml"])
    assert result.exit_code == 2 and "not YAML" in result.output


def test_capi_gke_and_aks_aso_manifests():
    found = read("capi-gke-aks.yaml")
    assert found.clusters["ml-gke"] == {
        "name": "ml-gke",
        "region": "europe-west4",
        "kubernetesVersion": "1.31.4",
        "provider": {"type": "gcp", "project": "ml-platform-prod"},
        "lifecycle": "managed",
        "network": {"pods": "10.48.0.0/14", "services": "10.52.0.0/20"},
        "nodePools": [
            {
                "name": "gpu",
                "instanceType": "g2-standard-8",
                "min": 0,
                "max": 4,
                "labels": {"accelerator": "nvidia-l4"},
                "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}],
            }
        ],
    }
    # ASO names the Azure resource after metadata.name when azureName is not set
    assert found.clusters["aks-analytics"] == {
        "name": "aks-analytics",
        "region": "northeurope",
        "kubernetesVersion": "1.30.6",
        "provider": {"type": "azure", "resourceGroup": "rg-analytics"},
        "lifecycle": "managed",
        "network": {"pods": "10.244.0.0/16", "services": "10.0.0.0/16"},
        "nodePools": [
            {
                "name": "pool0",
                "instanceType": "Standard_D4s_v5",
                "min": 3,
                "max": 3,
                "taints": [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NoSchedule"}],
            }
        ],
    }
    assert not found.conflicts


# ---------------------------------------------------------------- hostile inputs: notes, never a traceback

_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**12),
    st.text(max_size=12),
    st.lists(st.text(max_size=4), max_size=2),
    st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
)


def _paths(node, at=()):
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*at, i))


def _replace(node, at, value):
    if not at:
        return value
    node[at[0]] = _replace(node[at[0]], at[1:], value)
    return node


@settings(  # derandomized: the same mutations on every run
    max_examples=100,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    name=st.sampled_from(
        ["argocd-secrets.yaml", "argocd-aks.yaml", "capi-eks.yaml", "capi-gke-aks.yaml", "kubeconfig.yaml"]
    ),
    data=st.data(),
)
def test_mutated_inputs_give_notes_never_a_traceback(tmp_path_factory, name, data):
    docs = list(yaml.safe_load_all((INPUTS / name).read_text()))
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(docs) - 1))
        at = data.draw(st.sampled_from(list(_paths(docs[index]))))
        docs[index] = _replace(docs[index], at, data.draw(_JUNK))
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_text(yaml.safe_dump_all(docs))
    found = read_inputs([path])
    merge(INIT_FLEET, found.clusters)  # an EditError would be a bug too: the entries are plain data


INIT_FLEET = files("fuzz", "https://git.example.com/fuzz.git")["fleet.yaml"]
