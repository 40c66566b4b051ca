"""The on-prem example fleet (tests/fleets/onprem.yaml): three vSphere clusters and a Docker dev cluster.

Expected values are worked out by hand from the upstream sources:

- CAPV v1.16.1 ``templates/cluster-template.yaml``: VSphereCluster ``server``/``thumbprint``/
  ``controlPlaneEndpoint`` (port default 6443), VSphereMachineTemplate placement fields, the
  kube-vip static pod (``ghcr.io/kube-vip/kube-vip:v0.6.4``, env ``address`` = the endpoint IP,
  ``port`` 6443) and the CPI ClusterResourceSet (``packaging/flavorgen/flavors/crs/cpi.go``).
- CAPV ``pkg/services/vimmachine.go``: VSphereVMs inherit the cluster's thumbprint, so the machine
  templates carry none.
- Cluster API v1.14 ``util/labels/helpers.go`` GetManagedLabels: ``node-role.kubernetes.io/*`` goes
  on the Machine template; the kubelet may set ``topology.kubernetes.io/zone`` and unprefixed keys.
- kubernetes/cloud-provider-vsphere tags: the CPI for 1.31 is v1.31.1, for 1.32 v1.32.3 (no v1.32.0).
- The CSI: CAPV v1.16.1 ``packaging/flavorgen/cloudprovider/csi/`` (``vsphere-csi-driver.yaml``, sha256
  15adf493…d9a7 by ``sha256sum`` of ``git show v1.16.1:…``; ``kustomization.yaml`` adds the Namespace
  ``vmware-system-csi``) and ``flavors/crs/csi.go`` (Secret ``vsphere-config-secret``, key
  ``csi-vsphere.conf``); vsphere-csi-driver v3.3.1 ``example/vanilla-k8s-RWO-filesystem-volumes/example-sc.yaml``
  (StorageClass) and ``pkg/csi/service/common/constants.go`` (``storagepolicyname``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import fleetgen
import pytest
import yaml
from click.testing import CliRunner
from fleetgen.main import cli
from fleetgen.render.capi import vsphere_csi
from fleetgen.upstream.manifests import Validator

FLEET = Path(__file__).parent / "fleets" / "onprem.yaml"
VCENTER = "vcenter.dc1.example.com"
THUMBPRINT = "5F:2A:9C:11:0B:7E:44:D3:82:6A:19:E0:C7:3B:58:F1:0D:A2:6E:94"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("onprem") / "rendered"
    result = CliRunner().invoke(cli, ["render", str(FLEET), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def docs(rendered: Path, cluster: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((rendered / "hub" / "capi" / f"{cluster}.yaml").read_text()) if d]


def one(documents: list[dict], kind: str, name: str | None = None) -> dict:
    """The one document of ``kind`` (named ``name``; a template by its name before the content digest)."""
    found = [d for d in documents if d["kind"] == kind and name in (None, _unrotated(d["metadata"]["name"]))]
    assert len(found) == 1, (kind, name, [d["kind"] for d in documents])
    return found[0]


def _unrotated(name: str) -> str:
    base, _, digest = name.rpartition("-")
    return base if len(digest) == 8 and all(c in "0123456789abcdef" for c in digest) else name


def machine(documents: list[dict], name: str) -> dict:
    return one(documents, "VSphereMachineTemplate", name)["spec"]["template"]["spec"]


def test_lint_finds_only_the_missing_port(tmp_path):
    result = CliRunner().invoke(cli, ["lint", str(FLEET), "--format", "json"])
    findings = json.loads(result.output)["findings"]
    assert result.exit_code == 0
    assert [(f["rule"], f["severity"], f["line"], f["path"]) for f in findings] == [
        ("endpoint-port", "warning", 49, "clusters[1].server")
    ]


def test_the_rendered_tree_validates_strictly(rendered):
    result = CliRunner().invoke(cli, ["validate-rendered", str(rendered)])
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings" in result.output


def test_vsphere_cluster_connects_with_the_thumbprint(rendered):
    assert one(docs(rendered, "prod-dc1"), "VSphereCluster")["spec"] == {
        "server": VCENTER,
        "thumbprint": THUMBPRINT,
        "controlPlaneEndpoint": {"host": "10.20.0.10", "port": 6443},
    }
    # No port in server: the API server's own 6443, not https's 443.
    assert one(docs(rendered, "prod-dc2"), "VSphereCluster")["spec"]["controlPlaneEndpoint"] == {
        "host": "10.30.0.10",
        "port": 6443,
    }


def test_placement_with_defaults_inherited_and_overridden(rendered):
    # prod-dc1: its own datastore; pool, folder and network from defaults.provider; 8x32 workers.
    assert machine(docs(rendered, "prod-dc1"), "prod-dc1-workers") == {
        "cloneMode": "linkedClone",
        "datacenter": "DC1",
        "datastore": "vsanDatastore",
        "diskGiB": 25,
        "folder": "/DC1/vm/kubernetes",
        "memoryMiB": 32768,
        "network": {"devices": [{"dhcp4": True, "networkName": "k8s-nodes"}]},
        "numCPUs": 8,
        "os": "Linux",
        "powerOffMode": "trySoft",
        "resourcePool": "/DC1/host/Cluster-A/Resources/kubernetes",
        "server": VCENTER,
        "template": "ubuntu-2404-kube-v1.31.4",
    }
    # prod-dc2: a storage policy instead of a datastore, its own pool and folder; defaults' 4x16 pool.
    dc2 = machine(docs(rendered, "prod-dc2"), "prod-dc2-workers")
    assert (dc2["storagePolicyName"], dc2["resourcePool"], dc2["folder"], dc2["datacenter"]) == (
        "vSAN Default Storage Policy",
        "/DC2/host/Cluster-B/Resources/kubernetes",
        "/DC2/vm/kubernetes",
        "DC2",
    )
    assert "datastore" not in dc2 and (dc2["numCPUs"], dc2["memoryMiB"]) == (4, 16384)
    control_plane = machine(docs(rendered, "prod-dc2"), "prod-dc2-control-plane")
    assert (control_plane["numCPUs"], control_plane["memoryMiB"]) == (2, 8192)
    assert "thumbprint" not in control_plane  # inherited from the VSphereCluster by CAPV


def test_kube_vip_static_pod_on_control_planes(rendered):
    config = one(docs(rendered, "prod-dc1"), "KubeadmControlPlane")["spec"]["kubeadmConfigSpec"]
    manifest, hosts = config["files"]
    assert (manifest["path"], manifest["owner"], manifest["permissions"]) == (
        "/etc/kubernetes/manifests/kube-vip.yaml",
        "root:root",
        "0644",
    )
    assert hosts == {
        "content": "127.0.0.1 localhost kubernetes\n",
        "owner": "root:root",
        "path": "/etc/kube-vip.hosts",
        "permissions": "0644",
    }
    pod = yaml.safe_load(manifest["content"])
    (container,) = pod["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert container["image"] == "ghcr.io/kube-vip/kube-vip:v0.6.4"
    assert (env["address"], env["port"], env["vip_arp"], env["cp_enable"]) == ("10.20.0.10", "6443", "true", "true")
    assert pod["spec"]["hostNetwork"] is True
    # kubeadm >= 1.29: the init node's kube-vip needs super-admin.conf until init has finished.
    assert config["preKubeadmCommands"][-1] == (
        "if [ -f /run/kubeadm/kubeadm.yaml ]; then sed -i 's#path: /etc/kubernetes/admin.conf#"
        "path: /etc/kubernetes/super-admin.conf#' /etc/kubernetes/manifests/kube-vip.yaml; fi"
    )
    # ... and only until then: system:masters, which bypasses RBAC, is not left in a pod for the machine's lifetime
    assert config["postKubeadmCommands"] == [
        "if [ -f /run/kubeadm/kubeadm.yaml ]; then sed -i 's#path: /etc/kubernetes/super-admin.conf#"
        "path: /etc/kubernetes/admin.conf#' /etc/kubernetes/manifests/kube-vip.yaml; fi"
    ]
    workers = one(docs(rendered, "prod-dc1"), "KubeadmConfigTemplate")["spec"]["template"]["spec"]
    assert "files" not in workers and not any("kube-vip" in c for c in workers["preKubeadmCommands"])
    assert "postKubeadmCommands" not in workers


def test_external_load_balancer_gets_no_kube_vip(rendered):
    documents = docs(rendered, "stage-dc1")
    config = one(documents, "KubeadmControlPlane")["spec"]["kubeadmConfigSpec"]
    assert "files" not in config and len(config["preKubeadmCommands"]) == 3  # the hostname commands only
    assert "postKubeadmCommands" not in config
    assert one(documents, "VSphereCluster")["spec"]["controlPlaneEndpoint"] == {
        "host": "api.stage.dc1.example.com",
        "port": 6443,
    }


def test_node_role_labels_go_on_machines_and_kubelet_labels_to_the_kubelet(rendered):
    documents = docs(rendered, "prod-dc1")
    deployment = one(documents, "MachineDeployment")
    assert deployment["spec"]["template"]["metadata"]["labels"] == {
        "cluster.x-k8s.io/cluster-name": "prod-dc1",
        "node-role.kubernetes.io/worker": "",
    }
    registration = one(documents, "KubeadmConfigTemplate")["spec"]["template"]["spec"]["joinConfiguration"][
        "nodeRegistration"
    ]
    assert {a["name"]: a["value"] for a in registration["kubeletExtraArgs"]} == {
        "cloud-provider": "external",
        "node-labels": "team=payments",
    }
    assert registration["taints"] == [{"key": "dedicated", "value": "payments", "effect": "NoSchedule"}]
    inherited = one(docs(rendered, "prod-dc2"), "KubeadmConfigTemplate")["spec"]["template"]["spec"]
    args = {a["name"]: a["value"] for a in inherited["joinConfiguration"]["nodeRegistration"]["kubeletExtraArgs"]}
    assert args["node-labels"] == "topology.kubernetes.io/zone=dc1-a"  # a kubelet label (well_known_labels.go)
    docker = one(docs(rendered, "dev-local"), "MachineDeployment")
    assert docker["spec"]["template"]["metadata"]["labels"]["node-role.kubernetes.io/worker"] == ""


def prod_dc1_resource_set(addon: str) -> dict:
    """prod-dc1's ClusterResourceSet for the vSphere ``cpi`` or ``csi``, as CAPV's flavor writes one."""
    return {
        "apiVersion": "addons.cluster.x-k8s.io/v1beta2",
        "kind": "ClusterResourceSet",
        "metadata": {
            "name": f"prod-dc1-vsphere-{addon}",
            "namespace": "prod-dc1",
            "labels": {"cluster.x-k8s.io/cluster-name": "prod-dc1"},
        },
        "spec": {
            "clusterSelector": {"matchLabels": {"cluster.x-k8s.io/cluster-name": "prod-dc1"}},
            "resources": [
                {"kind": "ConfigMap", "name": f"vsphere-{addon}"},
                {"kind": "Secret", "name": f"vsphere-{addon}-credentials"},
            ],
            "strategy": "Reconcile",
        },
    }


def test_cpi_delivered_by_a_cluster_resource_set(rendered):
    documents = docs(rendered, "prod-dc1")
    assert one(documents, "ClusterResourceSet", "prod-dc1-vsphere-cpi") == prod_dc1_resource_set("cpi")
    # The CRS selects the Cluster by its label: it must carry it.
    assert one(documents, "Cluster")["metadata"]["labels"]["cluster.x-k8s.io/cluster-name"] == "prod-dc1"
    # The credentials Secret is the operator's: fleetgen renders no Secret and no password.
    assert not [d for d in documents if d["kind"] == "Secret"]
    assert "password" not in (rendered / "hub" / "capi" / "prod-dc1.yaml").read_text().lower()


def cpi(rendered: Path, cluster: str) -> list[dict]:
    config_map = one(docs(rendered, cluster), "ConfigMap", "vsphere-cpi")
    return list(yaml.safe_load_all(config_map["data"]["vsphere-cpi.yaml"]))


def test_cpi_manifests_and_config(rendered):
    manifests = cpi(rendered, "prod-dc1")
    assert [(d["kind"], d["metadata"]["name"]) for d in manifests] == [
        ("ServiceAccount", "cloud-controller-manager"),
        ("ClusterRole", "cloud-controller-manager"),
        ("ClusterRoleBinding", "cloud-controller-manager"),
        ("RoleBinding", "cloud-controller-manager:apiserver-authentication-reader"),
        ("ConfigMap", "cloud-config"),
        ("DaemonSet", "vsphere-cpi"),
    ]
    config = yaml.safe_load(manifests[4]["data"]["vsphere.conf"])
    assert config == {
        "global": {
            "port": 443,
            "secretName": "cloud-provider-vsphere-credentials",
            "secretNamespace": "kube-system",
            "thumbprint": THUMBPRINT,
        },
        "vcenter": {VCENTER: {"datacenters": ["DC1"], "server": VCENTER}},
    }
    pod = manifests[5]["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "registry.k8s.io/cloud-pv-vsphere/cloud-provider-vsphere:v1.31.1"
    assert {"key": "node.cloudprovider.kubernetes.io/uninitialized", "value": "true", "effect": "NoSchedule"} in (
        pod["tolerations"]
    )
    stage = cpi(rendered, "stage-dc1")
    assert stage[5]["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":v1.32.3")


def test_cpi_manifests_validate_against_upstream_schemas(rendered):
    manifests = cpi(rendered, "prod-dc2")
    text = yaml.safe_dump_all(manifests)
    result = Validator().check_rendered("cpi.yaml", manifests, text.encode(), "payload")
    assert result.findings == []


def test_no_cpi_or_csi_for_docker(rendered):
    kinds = {d["kind"] for d in docs(rendered, "dev-local")}
    assert "ClusterResourceSet" not in kinds and "ConfigMap" not in kinds


def test_a_broken_payload_is_a_positioned_finding(rendered, tmp_path):
    text = (rendered / "hub" / "capi" / "prod-dc1.yaml").read_text()
    broken = text.replace(
        "          hostNetwork: true\n          dnsPolicy",
        "          hostNetwork: true\n          hostNetwrok: true\n          dnsPolicy",
        1,
    )
    assert broken != text
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / "prod-dc1.yaml").write_text(broken)
    result = CliRunner().invoke(cli, ["validate-rendered", str(tmp_path), "--format", "json"])
    (finding,) = json.loads(result.output)["findings"]
    assert result.exit_code == 1 and finding["rule"] == "upstream-schema"
    assert "data.vsphere-cpi.yaml: DaemonSet/vsphere-cpi" in finding["message"] and "hostNetwrok" in finding["message"]
    line = text.splitlines().index("  vsphere-cpi.yaml: |") + 1
    assert finding["line"] == line


CSI_MANIFEST = Path(fleetgen.__file__).parent / "templates" / "vsphere-csi-driver-v3.3.1.yaml"
# sha256sum of `git show v1.16.1:packaging/flavorgen/cloudprovider/csi/vsphere-csi-driver.yaml` in CAPV.
CSI_SHA256 = "15adf4930fb1637b37a45a2c125b395e4752b10e7610a5ff87104deec162d9a7"


def csi_data(rendered: Path, cluster: str) -> dict[str, str]:
    return one(docs(rendered, cluster), "ConfigMap", "vsphere-csi")["data"]


def test_vendored_csi_manifest_is_capvs_byte_for_byte():
    assert hashlib.sha256(CSI_MANIFEST.read_bytes()).hexdigest() == CSI_SHA256
    assert vsphere_csi.MANIFEST_SHA256 == CSI_SHA256  # what render checks the packaged file against
    text = CSI_MANIFEST.read_text()
    # CAPV's copy is vsphere-csi-driver v3.3.1 with the images moved from gcr.io to registry.k8s.io.
    assert text.count("image: registry.k8s.io/csi-vsphere/driver:v3.3.1") == 3
    assert text.count("image: registry.k8s.io/csi-vsphere/syncer:v3.3.1") == 1
    assert "gcr.io" not in text


def test_csi_delivered_by_a_cluster_resource_set(rendered):
    documents = docs(rendered, "prod-dc1")
    # The manifests (which create vmware-system-csi) first, then the operator's Secret that goes there.
    assert one(documents, "ClusterResourceSet", "prod-dc1-vsphere-csi") == prod_dc1_resource_set("csi")
    assert [d["metadata"]["name"] for d in documents if d["kind"] == "ClusterResourceSet"] == [
        "prod-dc1-vsphere-cpi",
        "prod-dc1-vsphere-csi",
    ]


def test_csi_manifests_are_the_namespace_and_the_vendored_release(rendered):
    data = csi_data(rendered, "prod-dc1")
    assert list(data) == ["vsphere-csi-driver.yaml"]  # no storagePolicyName: no StorageClass
    # The node plugin is privileged: its namespace says so for every Pod Security mode.
    psa = "".join(f"    pod-security.kubernetes.io/{mode}: privileged\n" for mode in ("enforce", "audit", "warn"))
    namespace = f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: vmware-system-csi\n  labels:\n{psa}---\n"
    assert data["vsphere-csi-driver.yaml"] == namespace + CSI_MANIFEST.read_text()
    manifests = [d for d in yaml.safe_load_all(data["vsphere-csi-driver.yaml"]) if d]
    assert [(d["kind"], d["metadata"]["name"]) for d in manifests] == [
        ("Namespace", "vmware-system-csi"),
        ("CSIDriver", "csi.vsphere.vmware.com"),
        ("ServiceAccount", "vsphere-csi-controller"),
        ("ClusterRole", "vsphere-csi-controller-role"),
        ("ClusterRoleBinding", "vsphere-csi-controller-binding"),
        ("ServiceAccount", "vsphere-csi-node"),
        ("ClusterRole", "vsphere-csi-node-cluster-role"),
        ("ClusterRoleBinding", "vsphere-csi-node-cluster-role-binding"),
        ("Role", "vsphere-csi-node-role"),
        ("RoleBinding", "vsphere-csi-node-binding"),
        ("ConfigMap", "internal-feature-states.csi.vsphere.vmware.com"),
        ("Service", "vsphere-csi-controller"),
        ("Deployment", "vsphere-csi-controller"),
        ("DaemonSet", "vsphere-csi-node"),
        ("DaemonSet", "vsphere-csi-node-windows"),
    ]
    controller = manifests[12]["spec"]
    # The manifest's 3 replicas, one per control-plane node (CAPV patches 1 for its 1-node flavor).
    assert controller["replicas"] == 3
    volumes = {v["name"]: v for v in controller["template"]["spec"]["volumes"]}
    assert volumes["vsphere-config-volume"]["secret"] == {"secretName": "vsphere-config-secret"}
    env = {e["name"]: e.get("value") for c in controller["template"]["spec"]["containers"] for e in c.get("env", [])}
    assert env["VSPHERE_CSI_CONFIG"] == "/etc/cloud/csi-vsphere.conf"
    # The same payload for every vSphere cluster: nothing cluster-specific, no credential.
    assert csi_data(rendered, "stage-dc1")["vsphere-csi-driver.yaml"] == data["vsphere-csi-driver.yaml"]
    assert "password" not in data["vsphere-csi-driver.yaml"].lower()


def test_storage_class_only_with_a_storage_policy(rendered):
    data = csi_data(rendered, "prod-dc2")
    assert sorted(data) == ["vsphere-csi-driver.yaml", "vsphere-csi-storageclass.yaml"]
    assert list(yaml.safe_load_all(data["vsphere-csi-storageclass.yaml"])) == [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "vsphere-csi",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "csi.vsphere.vmware.com",
            "allowVolumeExpansion": True,
            "parameters": {"storagepolicyname": "vSAN Default Storage Policy", "csi.storage.k8s.io/fstype": "ext4"},
        }
    ]
    assert list(csi_data(rendered, "stage-dc1")) == ["vsphere-csi-driver.yaml"]  # a datastore, no policy


def test_csi_manifests_validate_against_upstream_schemas(rendered):
    data = csi_data(rendered, "prod-dc2")
    for key, text in sorted(data.items()):
        manifests = [d for d in yaml.safe_load_all(text) if d]
        result = Validator().check_rendered(key, manifests, text.encode(), "payload")
        assert result.findings == [], key
    # CSIDriver and StorageClass have vendored schemas: an unknown field is found, not an unknown kind.
    storage_class = yaml.safe_load(data["vsphere-csi-storageclass.yaml"])
    driver = next(d for d in yaml.safe_load_all(data["vsphere-csi-driver.yaml"]) if d and d["kind"] == "CSIDriver")
    for doc, typo in ((storage_class, "provisoner"), (driver["spec"], "attachRequried")):
        doc[typo] = "x"
    bad = [storage_class, driver]
    result = Validator().check_rendered("bad.yaml", bad, yaml.safe_dump_all(bad).encode(), "payload")
    assert [(f.rule, f.file) for f in result.findings] == [("upstream-schema", "payload/bad.yaml")] * 2
    assert any("provisoner" in f.message for f in result.findings)
    assert any("attachRequried" in f.message for f in result.findings)


def test_a_broken_storage_class_in_the_csi_config_map_is_a_positioned_finding(rendered, tmp_path):
    text = (rendered / "hub" / "capi" / "prod-dc2.yaml").read_text()
    broken = text.replace("    provisioner: csi.vsphere.vmware.com\n", "    provisoner: csi.vsphere.vmware.com\n", 1)
    assert broken != text
    (tmp_path / "hub").mkdir()
    # Two files with the same payload: each payload text is checked once, and reported in both files.
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / "hub" / name).write_text(broken)
    result = CliRunner().invoke(cli, ["validate-rendered", str(tmp_path), "--format", "json"])
    assert result.exit_code == 1
    findings = json.loads(result.output)["findings"]
    # provisoner is unknown, provisioner missing: two findings in each file.
    assert sorted((f["file"].rsplit("/", 1)[1], f["rule"]) for f in findings) == [
        ("a.yaml", "upstream-schema"),
        ("a.yaml", "upstream-schema"),
        ("b.yaml", "upstream-schema"),
        ("b.yaml", "upstream-schema"),
    ]
    prefix = "data.vsphere-csi-storageclass.yaml: StorageClass/vsphere-csi"
    assert all(f["message"].startswith(prefix) for f in findings)
    line = text.splitlines().index("  vsphere-csi-storageclass.yaml: |") + 1
    assert {f["line"] for f in findings} == {line}


def test_add_cluster_vsphere_needs_and_takes_server(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        FLEET.read_text().replace(
            "defaults:\n",
            "network:\n  allocation: {pods: 10.64.0.0/12, podPrefix: 16, services: 10.96.0.0/16, "
            "servicePrefix: 20}\ndefaults:\n",
            1,
        )
    )
    args = [
        "add-cluster",
        "prod-dc3",
        str(fleet),
        "--environment",
        "production",
        "--region",
        "dc3",
        "--provider",
        "vsphere",
        "--provider-field",
        f"server={VCENTER}",
        "--provider-field",
        "datacenter=DC3",
        "--provider-field",
        "template=ubuntu-2404-kube-v1.31.4",
        "--provider-field",
        "datastore=ds3",
        "--out",
        str(tmp_path / "rendered"),
    ]
    before = fleet.read_text()
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 2 and "--server" in refused.output and fleet.read_text() == before
    added = CliRunner().invoke(cli, [*args, "--server", "https://10.40.0.10:6443"])
    assert added.exit_code == 0, added.output
    entry = yaml.safe_load(fleet.read_text())["clusters"][-1]
    assert (entry["name"], entry["server"], entry["provider"]["datastore"]) == (
        "prod-dc3",
        "https://10.40.0.10:6443",
        "ds3",
    )
    # Lowest free blocks of the pools: 10.64-10.66 and 10.96.0/16..10.96.48/20 are taken.
    assert entry["network"] == {"pods": "10.67.0.0/16", "services": "10.96.64.0/20", "meshID": 5}
    assert "vsphere-cpi-credentials" in added.output and "fleetgen register" not in added.output
    assert "create secret generic vsphere-csi-credentials" in added.output


def test_import_reads_placement_thumbprint_and_synced_labels_back(rendered, tmp_path):
    fleet = tmp_path / "fleet.yaml"
    result = CliRunner().invoke(
        cli, ["import", str(rendered / "hub" / "capi"), "--fleet", str(fleet), "--environment", "production"]
    )
    assert "4 cluster(s) read" in result.output, result.output
    clusters = {c["name"]: c for c in yaml.safe_load(fleet.read_text())["clusters"]}
    assert clusters["prod-dc1"]["provider"] == {
        "type": "vsphere",
        "server": VCENTER,
        "thumbprint": THUMBPRINT,
        "datacenter": "DC1",
        "template": "ubuntu-2404-kube-v1.31.4",
        "datastore": "vsanDatastore",
        "resourcePool": "/DC1/host/Cluster-A/Resources/kubernetes",
        "folder": "/DC1/vm/kubernetes",
        "network": "k8s-nodes",
    }
    assert clusters["stage-dc1"]["provider"]["loadBalancer"] == "external"
    assert clusters["prod-dc1"]["nodePools"][0]["labels"] == {"team": "payments", "node-role.kubernetes.io/worker": ""}


@pytest.mark.parametrize(
    ("version", "tag"),
    [("1.31.4", "v1.31.1"), ("1.32", "v1.32.3"), ("1.27.3", "v1.27.0"), ("1.24", "v1.26.2"), ("1.40", "v1.36.0")],
)
def test_cpi_release_per_minor(version, tag):
    from fleetgen.render.capi.vsphere_cloud import cpi_release

    assert cpi_release(version) == tag


def _templates(text: str, tmp_path: Path) -> dict:
    """The machine and bootstrap templates of the onprem fleet rendered from ``text``, by name, and the refs to them."""
    tmp_path.mkdir()
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(text)
    result = CliRunner().invoke(cli, ["render", str(fleet)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    documents = docs(tmp_path / "rendered", "prod-dc1")
    kinds = {"VSphereMachineTemplate", "KubeadmConfigTemplate"}
    refs = [one(documents, "KubeadmControlPlane")["spec"]["machineTemplate"]["spec"]["infrastructureRef"]["name"]]
    for deployment in (d for d in documents if d["kind"] == "MachineDeployment"):
        spec = deployment["spec"]["template"]["spec"]
        refs += [spec["infrastructureRef"]["name"], spec["bootstrap"]["configRef"]["name"]]
    return {"templates": {d["metadata"]["name"]: d for d in documents if d["kind"] in kinds}, "refs": refs}


def test_a_changed_template_is_a_new_object_the_machines_roll_out_to(tmp_path):
    """CAPV rejects any update of a VSphereMachineTemplate's spec (its webhook's ValidateUpdate), and a
    MachineDeployment rolls out only when a template reference changes: a new VM image is a new template name."""
    text = FLEET.read_text()
    before = _templates(text, tmp_path / "before")
    again = _templates(text, tmp_path / "again")
    assert before == again  # the name is the content's: the same fleet, the same names
    assert sorted(before["refs"]) == sorted(before["templates"])  # every template is referenced, by its new name
    for template in before["templates"].values():
        assert template["metadata"]["annotations"] == {"argocd.argoproj.io/sync-options": "PruneLast=true"}
    after = _templates(text.replace("ubuntu-2404-kube-v1.31.4", "ubuntu-2404-kube-v1.32.3"), tmp_path / "after")
    kinds = {name: t["kind"] for name, t in {**before["templates"], **after["templates"]}.items()}
    renamed = set(before["templates"]) ^ set(after["templates"])
    # the machine templates (image changed) have new names; the bootstrap templates (unchanged) keep theirs
    assert renamed and {kinds[n] for n in renamed} == {"VSphereMachineTemplate"}
    assert not set(after["refs"]) & (set(before["templates"]) - set(after["templates"]))
    for name in set(after["templates"]) - set(before["templates"]):
        spec = after["templates"][name]["spec"]["template"]["spec"]
        assert spec["template"] == "ubuntu-2404-kube-v1.32.3"


def test_a_patch_targets_a_template_by_its_rendered_name_and_renames_it(tmp_path):
    """fleet.yaml's patches apply before templates are named after their content: a patch finds
    `prod-dc1-workers` as the renderer names it, and what it changes is a new template the pool rolls out to."""
    text = FLEET.read_text()
    plain = _templates(text, tmp_path / "plain")
    patch = (
        "patches:\n  - target: {kind: VSphereMachineTemplate, name: prod-dc1-workers}\n"
        "    operations: [{op: replace, path: /spec/template/spec/diskGiB, value: 80}]\n"
    )
    patched = _templates(text + patch, tmp_path / "patched")
    renamed = set(plain["templates"]) ^ set(patched["templates"])
    assert len(renamed) == 2 and all(n.startswith("prod-dc1-workers-") for n in renamed)
    [new] = set(patched["templates"]) - set(plain["templates"])
    assert patched["templates"][new]["spec"]["template"]["spec"]["diskGiB"] == 80
    assert new in patched["refs"] and not set(plain["templates"]) - set(patched["templates"]) & set(patched["refs"])
