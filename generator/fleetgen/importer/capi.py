"""Cluster API manifests -> cluster entries: provider, region, version, CIDRs and node pools.

A ``Cluster`` (``cluster.x-k8s.io``, v1beta1 or v1beta2) is followed through its
``controlPlaneRef``/``infrastructureRef`` to the provider's objects, and every MachinePool or
MachineDeployment with its ``clusterName`` to its infrastructure. Read as the providers define
them: CAPA ``AWSManagedControlPlane`` (``region``, ``version`` ``v1.30``) and
``AWSManagedMachinePool`` (``eksNodegroupName``, ``scaling``); CAPG ``GCPManagedControlPlane``
(``project``, ``location``) and ``GCPManagedMachinePool`` (``nodePoolName``, ``scaling``); CAPZ
``AzureASOManaged*`` with their embedded ASO ``ResourceGroup``/``ManagedCluster``/
``ManagedClustersAgentPool``; ``KubeadmControlPlane`` with ``VSphereCluster``/``DockerCluster``
and their machine templates (a vSphere size becomes ``<cpus>x<GiB>``). Pool sizes come from the
provider's autoscaling bounds, the cluster-autoscaler annotations, or a fixed ``replicas``.
Nothing in these objects is a credential; identity Secrets are not read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from ..labels import PREFIX as FLEET_PREFIX
from ..machines import capi_synced
from ..render.cilium import AGENT_NOT_READY_TAINT
from . import Found
from .common import cluster_entry

Doc = dict[str, Any]
MIN_SIZE = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size"
MAX_SIZE = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size"
_EKS_EFFECTS = {"no-schedule": "NoSchedule", "no-execute": "NoExecute", "prefer-no-schedule": "PreferNoSchedule"}
_AKS_TAINT = re.compile(r"^(?P<key>[^=:]+)(=(?P<value>[^:]*))?:(?P<effect>\w+)$")


def is_capi(doc: Any) -> bool:
    return isinstance(doc, dict) and str(doc.get("apiVersion", "")).split("/")[0].endswith("cluster.x-k8s.io")


class Objects:
    """The CAPI documents of one input, looked up by (namespace, kind, name)."""

    def __init__(self, docs: Iterable[Doc]):
        self.docs = [d for d in docs if isinstance(d.get("metadata"), dict)]
        self.index = {(_ns(d), d.get("kind"), d["metadata"].get("name")): d for d in self.docs}

    def ref(self, namespace: str, ref: Any) -> Doc:
        ref = ref if isinstance(ref, dict) else {}
        return self.index.get((namespace, ref.get("kind"), ref.get("name"))) or {}

    def of_kind(self, namespace: str, cluster: str, *kinds: str) -> list[Doc]:
        return [
            d
            for d in self.docs
            if _ns(d) == namespace and d.get("kind") in kinds and (d.get("spec") or {}).get("clusterName") == cluster
        ]


def _ns(doc: Doc) -> str:
    return str(doc["metadata"].get("namespace") or "default")


def from_documents(docs: list[Doc], source: str, found: Found) -> None:
    objects = Objects(docs)
    for doc in objects.docs:
        if doc.get("kind") == "Cluster" and str(doc.get("apiVersion", "")).startswith("cluster.x-k8s.io/"):
            found.add(_cluster(doc, objects, f"{source}: Cluster {doc['metadata'].get('name')}", found), source)


def _cluster(doc: Doc, objects: Objects, where: str, found: Found) -> Doc:
    name, namespace, spec = doc["metadata"]["name"], _ns(doc), doc.get("spec") or {}
    labels = doc["metadata"].get("labels") or {}
    control_plane = objects.ref(namespace, spec.get("controlPlaneRef"))
    infra = objects.ref(namespace, spec.get("infrastructureRef"))
    reader = _READERS.get(str(control_plane.get("kind")))
    if reader is None:
        found.note(
            where,
            f"control plane kind {control_plane.get('kind')!r} is not one fleetgen renders; "
            "only its network and labels were read",
        )
        facts: Doc = {}
    else:
        facts = reader(control_plane, infra, objects, name, namespace)
    for note in facts.pop("notes", ()):
        found.note(where, note)
    fleet_labels = {k[len(FLEET_PREFIX) :]: v for k, v in labels.items() if k.startswith(FLEET_PREFIX)}
    user = {
        k: str(v)
        for k, v in sorted(
            {
                **fleet_labels,
                **{
                    k: v
                    for k, v in labels.items()
                    if "/" in k and not k.startswith((FLEET_PREFIX, "cluster.x-k8s.io/"))
                },
            }.items()
        )
        if k not in ("name", "environment", "region", "provider")
    }
    network = spec.get("clusterNetwork") or {}
    cidrs: Doc = {key: _first(network, key, where, found) for key in ("pods", "services")}
    cidrs["nodes"] = facts.pop("nodes", None)
    mask = facts.pop("nodeMask", None)
    if mask is not None and mask != (64 if ":" in str(cidrs["pods"]) else 24):  # model.py's defaults
        cidrs["nodeMask"] = mask
    return cluster_entry(
        name,
        where,
        found,
        environment=fleet_labels.get("environment"),
        region=facts.pop("region", None) or fleet_labels.get("region"),
        labels=user,
        server=facts.pop("server", None),
        kubernetesVersion=facts.pop("version", None),
        provider=facts.pop("provider", None),
        lifecycle="managed" if reader else None,
        network={k: v for k, v in cidrs.items() if v},
        nodePools=facts.pop("pools", None),
    )


def _first(network: Doc, key: str, where: str, found: Found) -> str | None:
    blocks = (network.get(key) or {}).get("cidrBlocks") or []
    if len(blocks) > 1:
        found.note(where, f"{key} has {len(blocks)} CIDR blocks (dual stack); fleet.yaml takes the first")
    return str(blocks[0]) if blocks else None


# ---------------------------------------------------------------- versions


def _version(control_plane: str | None, pools: Iterable[str | None] = ()) -> str | None:
    """The fleet version: the control plane's, or a pool's pinned patch of the same minor.

    fleetgen renders ``1.30`` as ``v1.30.0`` where a full version is required, so a ``.0`` patch
    reads back as the minor alone.
    """
    if not control_plane:
        return None
    base = control_plane.lstrip("v")
    for pool in pools:
        pool = (pool or "").lstrip("v")
        if pool.startswith(base + ".") and not pool.endswith(".0") and base.count(".") == 1:
            return pool
    return base[:-2] if base.count(".") == 2 and base.endswith(".0") else base


def _sizes(spec_min: Any, spec_max: Any, machine_pool: Doc) -> tuple[int, int]:
    if spec_min is not None and spec_max is not None:
        return int(spec_min), int(spec_max)
    notes = (machine_pool.get("metadata") or {}).get("annotations") or {}
    if MIN_SIZE in notes and MAX_SIZE in notes:
        return int(notes[MIN_SIZE]), int(notes[MAX_SIZE])
    replicas = int((machine_pool.get("spec") or {}).get("replicas") or 0)
    return replicas, replicas


def _pool_name(cluster: str, machine_pool: Doc, provider_name: str | None = None) -> str:
    name = str(machine_pool["metadata"]["name"])
    prefixed = name[len(cluster) + 1 :] if name.startswith(cluster + "-") else None
    return provider_name or prefixed or name


def _pool(name: str, instance_type: Any, sizes: tuple[int, int], labels: Any, taints: list[Doc]) -> Doc:
    pool: Doc = {"name": name, "instanceType": str(instance_type), "min": sizes[0], "max": sizes[1]}
    if labels:
        pool["labels"] = {str(k): str(v) for k, v in labels.items()}
    if taints:
        pool["taints"] = taints
    return pool


def _pools(objects: Objects, namespace: str, cluster: str, read: Callable[[Doc, Doc], Doc | None]) -> list[Doc]:
    out = []
    for machine_pool in objects.of_kind(namespace, cluster, "MachinePool", "MachineDeployment"):
        template = ((machine_pool.get("spec") or {}).get("template") or {}).get("spec") or {}
        pool = read(machine_pool, objects.ref(namespace, template.get("infrastructureRef")))
        if pool is not None:
            out.append(pool)
    return out


def _pool_versions(objects: Objects, namespace: str, cluster: str) -> list[str | None]:
    return [
        (((mp.get("spec") or {}).get("template") or {}).get("spec") or {}).get("version")
        for mp in objects.of_kind(namespace, cluster, "MachinePool", "MachineDeployment")
    ]


# ---------------------------------------------------------------- AWS (CAPA)


def _aws(cp: Doc, infra: Doc, objects: Objects, name: str, namespace: str) -> Doc:
    spec = cp.get("spec") or {}

    def pool(machine_pool: Doc, infra_pool: Doc) -> Doc | None:
        s = infra_pool.get("spec") or {}
        if infra_pool.get("kind") != "AWSManagedMachinePool":
            return None
        scaling = s.get("scaling") or {}
        taints = [
            {"key": t["key"], "value": str(t.get("value", "")), "effect": _EKS_EFFECTS.get(t["effect"], t["effect"])}
            for t in s.get("taints") or ()
        ]
        return _pool(
            _pool_name(name, machine_pool, s.get("eksNodegroupName")),
            s.get("instanceType", ""),
            _sizes(scaling.get("minSize"), scaling.get("maxSize"), machine_pool),
            s.get("labels"),
            taints,
        )

    # CAPA names an EKS cluster and node group ``<namespace>_<object name>`` when the spec does not
    # (controlplane/eks/webhooks/awsmanagedcontrolplane_webhook.go, pkg/eks/eks.go GenerateEKSName).
    eks_name = spec.get("eksClusterName") or f"{namespace}_{cp['metadata']['name']}".replace(".", "_")
    notes = (
        []
        if eks_name == name
        else [
            f"the EKS cluster is named {eks_name!r} but fleetgen renders eksClusterName: {name!r}; Cluster API adopts "
            "an EKS cluster only by its name, so keep this cluster lifecycle: external"
        ]
    )
    return {
        "provider": _aws_provider(spec),
        "region": spec.get("region"),
        "notes": notes,
        "version": _version(spec.get("version"), _pool_versions(objects, namespace, name)),
        "pools": _pools(objects, namespace, name, pool),
        "nodes": ((spec.get("network") or {}).get("vpc") or {}).get("cidrBlock"),
    }


_AWS_IDENTITY = re.compile(r"^aws-(?P<account>[0-9]{12})$")  # render/capi/aws.py identity_name
_ENDPOINT_ACCESS = {(True, False): "public", (True, True): "public-and-private"}  # private is the default


def _aws_provider(spec: Doc) -> Doc:
    """What fleetgen's own EKS objects say of the provider: the account of the AWSClusterRoleIdentity it
    names, Argo CD's role from the access entry, and a non-default API endpoint access."""
    provider: Doc = {"type": "aws"}
    ref = spec.get("identityRef") or {}
    account = _AWS_IDENTITY.match(str(ref.get("name", ""))) if ref.get("kind") == "AWSClusterRoleIdentity" else None
    if account:
        provider["accountID"] = account["account"]
    entries = [e for e in spec.get("accessEntries") or () if isinstance(e, dict) and e.get("principalARN")]
    if len(entries) == 1:
        provider["roleARN"] = str(entries[0]["principalARN"])
    access = spec.get("endpointAccess") or {}
    mode = _ENDPOINT_ACCESS.get((bool(access.get("public")), bool(access.get("private"))))
    if access and mode:
        provider["endpointAccess"] = mode
    addons = [a for a in spec.get("addons") or () if isinstance(a, dict) and a.get("version")]
    cni = [a["version"] for a in addons if a.get("name") == "vpc-cni"]
    if cni:
        provider["vpcCniVersion"] = str(cni[0])  # render/capi/aws.py: IPv6 clusters
    return provider


# ---------------------------------------------------------------- GCP (CAPG)


def _gcp(cp: Doc, infra: Doc, objects: Objects, name: str, namespace: str) -> Doc:
    spec, infra_spec = cp.get("spec") or {}, infra.get("spec") or {}

    def pool(machine_pool: Doc, infra_pool: Doc) -> Doc | None:
        s = infra_pool.get("spec") or {}
        if infra_pool.get("kind") != "GCPManagedMachinePool":
            return None
        scaling = s.get("scaling") or {}
        taints = [
            {"key": t["key"], "value": str(t.get("value", "")), "effect": t["effect"]}
            for t in s.get("kubernetesTaints") or ()
            if t.get("key") != AGENT_NOT_READY_TAINT["key"]  # fleetgen adds it with mesh: cilium
        ]
        return _pool(
            _pool_name(name, machine_pool, s.get("nodePoolName")),
            s.get("machineType", ""),
            _sizes(scaling.get("minCount"), scaling.get("maxCount"), machine_pool),
            s.get("kubernetesLabels"),
            taints,
        )

    project = spec.get("project") or infra_spec.get("project")
    return {
        "provider": {"type": "gcp", **({"project": project} if project else {})},
        "region": spec.get("location") or infra_spec.get("region"),
        "version": _version(
            spec.get("version") or spec.get("controlPlaneVersion"), _pool_versions(objects, namespace, name)
        ),
        "pools": _pools(objects, namespace, name, pool),
        "nodes": _gcp_nodes(infra_spec),
    }


def _gcp_nodes(infra_spec: Doc) -> str | None:
    """The node subnet's primary range of the custom-mode VPC fleetgen renders (render/capi/gcp.py)."""
    subnets: list[Any] = (infra_spec.get("network") or {}).get("subnets") or []
    return str(subnets[0]["cidrBlock"]) if len(subnets) == 1 and subnets[0].get("cidrBlock") else None


# ---------------------------------------------------------------- Azure (CAPZ with ASO)


def _resource(doc: Doc, kind: str) -> Doc:
    return next((r for r in (doc.get("spec") or {}).get("resources") or () if r.get("kind") == kind), {})


def _azure(cp: Doc, infra: Doc, objects: Objects, name: str, namespace: str) -> Doc:
    resource_group = _resource(infra, "ResourceGroup")
    group, managed = resource_group.get("spec") or {}, _resource(cp, "ManagedCluster").get("spec") or {}
    # ASO names the Azure resource after metadata.name unless spec.azureName says otherwise.
    group_name = group.get("azureName") or (resource_group.get("metadata") or {}).get("name")

    def pool(machine_pool: Doc, infra_pool: Doc) -> Doc | None:
        s = _resource(infra_pool, "ManagedClustersAgentPool").get("spec") or {}
        if infra_pool.get("kind") != "AzureASOManagedMachinePool":
            return None
        sizes = (s.get("minCount"), s.get("maxCount")) if s.get("enableAutoScaling") else (None, None)
        taints = [m.groupdict() for m in map(_AKS_TAINT.match, s.get("nodeTaints") or ()) if m]
        taints = [{**t, "value": t["value"] or ""} for t in taints]
        return _pool(
            _pool_name(name, machine_pool)
            if machine_pool["metadata"]["name"].startswith(name + "-")
            else str(s.get("azureName")),
            s.get("vmSize", ""),
            _sizes(*sizes, machine_pool),
            s.get("nodeLabels"),
            taints,
        )

    provider = {"type": "azure", **({"resourceGroup": group_name} if group_name else {})}
    subnet = _resource(infra, "VirtualNetworksSubnet").get("spec") or {}  # the node subnet (render/capi/azure.py)
    return {
        "provider": provider,
        "region": managed.get("location") or group.get("location"),
        "version": _version((cp.get("spec") or {}).get("version")),
        "pools": _pools(objects, namespace, name, pool),
        "nodes": subnet.get("addressPrefix"),
    }


# ---------------------------------------------------------------- kubeadm (vSphere, Docker)


_PLACEMENT = ("datastore", "resourcePool", "folder", "storagePolicyName")


def _vsphere_placement(machine: Doc) -> Doc:
    """Placement fields of a VSphereMachineTemplate as fleet.yaml writes them (render/capi/vsphere.py)."""
    devices = (machine.get("network") or {}).get("devices") or [{}]
    network = devices[0].get("networkName") if isinstance(devices[0], dict) else None
    return {**{k: machine.get(k) for k in _PLACEMENT}, "network": None if network == "VM Network" else network}


def _has_kube_vip(cp: Doc) -> bool:
    """The control plane serves its endpoint with kube-vip (a static pod fleetgen and CAPV write)."""
    files = ((cp.get("spec") or {}).get("kubeadmConfigSpec") or {}).get("files") or ()
    return any(isinstance(f, dict) and f.get("path") == "/etc/kubernetes/manifests/kube-vip.yaml" for f in files)


def _kubeadm(cp: Doc, infra: Doc, objects: Objects, name: str, namespace: str) -> Doc:
    kind = infra.get("kind")
    provider: Doc = {"type": {"VSphereCluster": "vsphere", "DockerCluster": "docker"}.get(str(kind), "imported")}

    def pool(machine_pool: Doc, template: Doc) -> Doc | None:
        machine = ((template.get("spec") or {}).get("template") or {}).get("spec") or {}
        if template.get("kind") == "VSphereMachineTemplate":
            provider.update(
                datacenter=machine.get("datacenter"), template=machine.get("template"), **_vsphere_placement(machine)
            )
            size = f"{machine.get('numCPUs', 2)}x{int(machine.get('memoryMiB', 8192)) // 1024}"
        else:
            size = "docker"  # CAPD machines have no size: kind nodes share the Docker host
        mp_spec = ((machine_pool.get("spec") or {}).get("template") or {}).get("spec") or {}
        config = objects.ref(namespace, (mp_spec.get("bootstrap") or {}).get("configRef"))
        registration = (
            (((config.get("spec") or {}).get("template") or {}).get("spec") or {}).get("joinConfiguration") or {}
        ).get("nodeRegistration") or {}
        args = _args(registration.get("kubeletExtraArgs"))
        labels = dict(kv.split("=", 1) for kv in str(args.get("node-labels") or "").split(",") if "=" in kv)
        machine_labels = (((machine_pool.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")
        labels.update({k: str(v) for k, v in (machine_labels or {}).items() if capi_synced(str(k))})
        taints = [
            {"key": t["key"], "value": str(t.get("value", "")), "effect": t["effect"]}
            for t in registration.get("taints") or ()
        ]
        return _pool(_pool_name(name, machine_pool), size, _sizes(None, None, machine_pool), labels, taints)

    facts: Doc = {}
    if kind == "VSphereCluster":
        provider["server"] = (infra.get("spec") or {}).get("server")
        provider["thumbprint"] = (infra.get("spec") or {}).get("thumbprint")
        provider["loadBalancer"] = None if _has_kube_vip(cp) else "external"
        facts["server"] = _api_server((infra.get("spec") or {}).get("controlPlaneEndpoint"))
    pools = _pools(objects, namespace, name, pool)
    return {
        **facts,
        "provider": {k: v for k, v in provider.items() if v},
        "version": _version((cp.get("spec") or {}).get("version")),
        "pools": pools,
        "nodeMask": _node_mask(cp),
    }


def _api_server(endpoint: Any) -> str | None:
    """fleet.yaml's ``server`` from a VSphereCluster's ``controlPlaneEndpoint`` (render/capi/vsphere.py
    writes it from ``server``; the vSphere rule needs it), or None without a host."""
    if not isinstance(endpoint, dict) or not endpoint.get("host"):
        return None
    host, port = str(endpoint["host"]), endpoint.get("port") or 6443
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


def _node_mask(cp: Doc) -> int | None:
    """kube-controller-manager's node-cidr-mask-size-ipv4/-ipv6 (render/capi/networking.py), if a number."""
    config = ((cp.get("spec") or {}).get("kubeadmConfigSpec") or {}).get("clusterConfiguration") or {}
    args = _args((config.get("controllerManager") or {}).get("extraArgs"))
    masks = [str(args[k]) for k in ("node-cidr-mask-size-ipv4", "node-cidr-mask-size-ipv6") if k in args]
    return int(masks[0]) if masks and masks[0].isdigit() else None


def _args(args: Any) -> dict[str, Any]:
    """kubeadm extra args as a mapping: v1beta2 writes a list of ``{name, value}``, v1beta1 a mapping."""
    if isinstance(args, dict):
        return {str(k): v for k, v in args.items()}
    return {str(a.get("name")): a.get("value") for a in args or () if isinstance(a, dict)}


_READERS: dict[str, Callable[[Doc, Doc, Objects, str, str], Doc]] = {
    "AWSManagedControlPlane": _aws,
    "GCPManagedControlPlane": _gcp,
    "AzureASOManagedControlPlane": _azure,
    "KubeadmControlPlane": _kubeadm,
}
