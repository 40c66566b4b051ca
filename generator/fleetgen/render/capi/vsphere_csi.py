"""The vSphere CSI driver (storage) for a vSphere cluster, delivered by a ClusterResourceSet on the hub.

CAPV's own templates ship vsphere-csi-driver next to the CPI (``templates/cluster-template.yaml``,
built by ``packaging/flavorgen/flavors/crs/csi.go``): a Namespace ``vmware-system-csi``, the
driver's ``manifests/vanilla/vsphere-csi-driver.yaml`` and a Secret ``vsphere-config-secret`` holding
``csi-vsphere.conf`` (the vCenter and its credentials, INI). fleetgen applies the same manifest, the
one CAPV v1.16.1 vendors (``packaging/flavorgen/cloudprovider/csi/vsphere-csi-driver.yaml``:
vsphere-csi-driver v3.3.1 with the images on registry.k8s.io), copied unchanged into
``generator/fleetgen/templates/`` and pinned by its sha256 below.

Three differences from CAPV's flavor, all deliberate:

- the controller Deployment keeps the manifest's 3 replicas; CAPV patches it to 1 because its
  flavor may run one control-plane machine, while fleetgen's vSphere control planes have 3, one
  controller per control-plane node (the manifest's required pod anti-affinity);
- ``csi-vsphere.conf`` holds the vCenter password, so it never enters git: the ClusterResourceSet
  names the Secret ``vsphere-csi-credentials`` the operator creates on the hub
  (docs/controllers/capi.md), as for the CPI;
- the Namespace carries the Pod Security labels ``privileged`` (the node plugin runs privileged
  with hostPath mounts), so a cluster-wide PodSecurity default cannot reject it.

A StorageClass is rendered only for a cluster with ``storagePolicyName``: the CSI's
``storagepolicyname`` parameter (``pkg/csi/service/common/constants.go``), marked default.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

from ...emit import dump
from ...model import Cluster
from ..security import psa_labels
from .common import Doc
from .vsphere_cloud import resource_set

CSI_VERSION = "v3.3.1"
MANIFEST = f"vsphere-csi-driver-{CSI_VERSION}.yaml"  # under generator/fleetgen/templates/
# sha256 of the vendored file: byte for byte CAPV v1.16.1's (5b57d1db50a7)
# packaging/flavorgen/cloudprovider/csi/vsphere-csi-driver.yaml, which is vsphere-csi-driver v3.3.1's
# (9008b4bf9c3e) manifests/vanilla/vsphere-csi-driver.yaml with the images on registry.k8s.io
MANIFEST_SHA256 = "15adf4930fb1637b37a45a2c125b395e4752b10e7610a5ff87104deec162d9a7"
NAMESPACE = "vmware-system-csi"
PROVISIONER = "csi.vsphere.vmware.com"
CREDENTIALS = "vsphere-csi-credentials"  # on the hub, made by the operator (docs/controllers/capi.md)
ADDON = "vsphere-csi"
STORAGE_CLASS = "vsphere-csi"
DRIVER_KEY = "vsphere-csi-driver.yaml"
STORAGE_CLASS_KEY = "vsphere-csi-storageclass.yaml"
PSA = "privileged"


@cache
def driver_manifest() -> str:
    """The vendored vsphere-csi-driver manifest, as upstream wrote it (an altered copy is refused)."""
    data = resources.files("fleetgen").joinpath("templates", MANIFEST).read_bytes()
    if hashlib.sha256(data).hexdigest() != MANIFEST_SHA256:
        raise RuntimeError(f"fleetgen's templates/{MANIFEST} is not the vendored file (its sha256 differs)")
    return data.decode("utf-8")


def storage_class(policy: str) -> Doc:
    """The default StorageClass of a storage policy (vsphere-csi-driver's
    ``example/vanilla-k8s-RWO-filesystem-volumes/example-sc.yaml``, without a datastore URL).

    Its ``parameters`` are immutable: the API server refuses a changed policy, and the
    ClusterResourceSet reports the failure until the StorageClass is deleted in the cluster.
    """
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": STORAGE_CLASS,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": PROVISIONER,
        "allowVolumeExpansion": True,
        "parameters": {"storagepolicyname": policy, "csi.storage.k8s.io/fstype": "ext4"},
    }


def csi_data(cluster: Cluster) -> dict[str, str]:
    """The ConfigMap's data: the namespace and the driver, and the StorageClass if the cluster has a policy."""
    # The node plugin is privileged with hostPath mounts: its namespace cannot take the fleet's
    # podSecurity level (baseline or restricted would reject the DaemonSet's pods).
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE, "labels": psa_labels(PSA)}}
    data = {DRIVER_KEY: dump([namespace]) + "---\n" + driver_manifest()}
    policy = cluster.provider.storage_policy
    if policy:
        data[STORAGE_CLASS_KEY] = dump([storage_class(policy)])
    return data


def csi_addons(cluster: Cluster) -> list[Doc]:
    """The ConfigMap of CSI manifests and the ClusterResourceSet that applies it and the credentials."""
    return resource_set(cluster, ADDON, csi_data(cluster), CREDENTIALS)
