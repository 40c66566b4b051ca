"""The typed, immutable fleet: built from schema-valid data, with defaults merged in.

Past this module nothing handles raw dicts. Every object keeps ``path``, its
place in fleet.yaml, so lint rules can point at the exact value.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

from .findings import Path

T = TypeVar("T")
AUTO_LABELS = ("name", "environment", "region", "provider")
DEFAULT_ENVIRONMENTS = ("development", "staging", "production")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


_OCTET = r"(0|[1-9][0-9]{0,2})"
_IPV4_CIDR = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}/(0|[1-9][0-9]?)")


@lru_cache(maxsize=1 << 16)
def network(cidr: str) -> Network:
    """``ipaddress.ip_network(cidr, strict=True)``, cached: the schema check and the model parse each CIDR once.

    A plain ``a.b.c.d/n`` with its host bits clear (what a fleet writes) is built from its integers,
    five times faster than ipaddress parses the text; anything else (IPv6, leading zeros, an error to
    report) goes to ipaddress itself.
    """
    match = _IPV4_CIDR.fullmatch(cidr)
    if match:
        a, b, c, d, prefix = map(int, match.groups())
        address = a << 24 | b << 16 | c << 8 | d
        if max(a, b, c, d) < 256 and prefix <= 32 and not address & ((1 << (32 - prefix)) - 1):
            return _ipv4(address, prefix)
    return ipaddress.ip_network(cidr, strict=True)


def _ipv4_set(address: int, prefix: int) -> ipaddress.IPv4Network:
    """``IPv4Network((address, prefix))`` of a network address (host bits clear), its attributes set as
    ``IPv4Network.__init__`` sets them, without parsing its argument again (three times faster).
    /31 and /32, which __init__ gives a ``hosts`` of their own, are left to it."""
    if prefix > 30:
        return _ipv4_new(address, prefix)
    start = object.__new__(ipaddress.IPv4Address)
    start._ip = address  # type: ignore[attr-defined]  # IPv4Address.__init__ for an int
    net = object.__new__(ipaddress.IPv4Network)
    net.network_address = start
    net.netmask, net._prefixlen = ipaddress.IPv4Network._make_netmask(prefix)  # type: ignore[attr-defined]
    return net


def _ipv4_new(address: int, prefix: int) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network((address, prefix))


def _ipv4_state(net: ipaddress.IPv4Network) -> tuple:
    return sorted(vars(net)), net.network_address, net.netmask, net.prefixlen, net.broadcast_address, hash(net)


# The shortcut only where it makes what the constructor makes, attribute for attribute (this Python's ipaddress).
_ipv4 = (
    _ipv4_set
    if all(
        _ipv4_state(_ipv4_set(address, prefix)) == _ipv4_state(ipaddress.IPv4Network((address, prefix)))
        for prefix in range(31)
        for address in (0, (0xFFFFFFFF >> (32 - prefix)) << (32 - prefix) if prefix else 0, 0x0A000000)
        if not address & ((1 << (32 - prefix)) - 1)
    )
    else _ipv4_new
)


def ipv4_network(cidr: str) -> ipaddress.IPv4Network:
    """``ipaddress.IPv4Network(cidr)`` (strict), through the ``network`` cache."""
    try:
        found = network(cidr)
    except ValueError:
        found = None  # IPv4Network's own error follows
    return found if found is not None and found.version == 4 else ipaddress.IPv4Network(cidr)


def frozen_map(data: Mapping | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(sorted((data or {}).items())))


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # In | NotIn | Exists | DoesNotExist
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Selector:
    """A Kubernetes label selector (matchLabels AND matchExpressions)."""

    match_labels: Mapping[str, str]
    match_expressions: tuple[Requirement, ...]
    path: Path

    @property
    def empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def to_k8s(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.match_labels:
            out["matchLabels"] = dict(self.match_labels)
        if self.match_expressions:
            out["matchExpressions"] = [
                {"key": r.key, "operator": r.operator, **({"values": list(r.values)} if r.values else {})}
                for r in self.match_expressions
            ]
        return out


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str


@dataclass(frozen=True)
class NodePool:
    name: str
    instance_type: str
    min: int
    max: int
    labels: Mapping[str, str]
    taints: tuple[Taint, ...]
    path: Path = field(repr=False, compare=False)  # where it is in fleet.yaml, for findings: see Cluster.path


@dataclass(frozen=True)
class Provider:
    type: str  # aws | gcp | azure | vsphere | docker | imported
    account_id: str = ""
    role_arn: str = ""
    project: str = ""
    subscription_id: str = ""
    resource_group: str = ""
    server: str = ""
    datacenter: str = ""
    template: str = ""
    endpoint_access: str = "private"  # aws: CAPA AWSManagedControlPlane endpointAccess
    vpc_cni_version: str = ""  # aws, IPv6: the vpc-cni EKS add-on version CAPA must be given
    thumbprint: str = ""  # vsphere: vCenter certificate SHA-1; empty = CAPV and the CPI skip TLS verification
    datastore: str = ""  # vsphere placement (VSphereMachineTemplate); empty = govmomi's default
    storage_policy: str = ""
    resource_pool: str = ""
    folder: str = ""
    network: str = ""  # vsphere port group; empty = "VM Network"
    load_balancer: str = "kube-vip"  # vsphere: kube-vip static pods | external


@dataclass(frozen=True)
class ClusterNetwork:
    pods: Network
    services: Network
    node_mask: int
    mesh_id: int | None
    mesh_member: bool = True  # a Cilium ClusterMesh peer (network.clustermesh.member)
    mesh_load_balancer: str = "internal"  # internal | public: the clustermesh-apiserver Service
    nodes: ipaddress.IPv4Network | None = None  # VPC / subnet / VNet of the nodes, when fleet.yaml gives it

    @property
    def family(self) -> int:
        """4 or 6: the IP family of the pod network, read without parsing it (a schema-valid IPv6 CIDR holds a colon,
        an IPv4 one none)."""
        texts = self.__dict__.get("_cidrs")
        return family(texts["pods"]) if texts is not None else self.pods.version


class _Cidr:
    """A CIDR field of :class:`ClusterNetwork` the model left as text (``_cidrs``, see :func:`_network`), parsed when
    first read and kept in the instance's dict, which Python looks in first (a descriptor without ``__set__``): the
    constructor's value, parsed as the model parses it (tests/test_model_made.py).

    An incremental render or check reads the CIDRs of the clusters it renders again and of those the lint rules that
    run again look at, not of all 5,000: parsing them all took a third of building the model. A network made by its
    constructor holds its CIDRs in its dict, and never comes here."""

    def __init__(self, name: str, parse: Callable[[str], Any], default: Any = dataclasses.MISSING):
        self.name, self.parse, self.default = name, parse, default

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        texts = instance.__dict__.get("_cidrs") if instance is not None else None
        if texts is None or self.name not in texts:
            if self.default is dataclasses.MISSING:
                raise AttributeError(f"{(owner or type(instance)).__name__!r} object has no attribute {self.name!r}")
            return self.default  # (the class's default, as the dataclass left it)
        value = self.parse(texts[self.name])
        instance.__dict__[self.name] = value
        return value


ClusterNetwork.pods = _Cidr("pods", network)  # type: ignore[assignment]
ClusterNetwork.services = _Cidr("services", network)  # type: ignore[assignment]
ClusterNetwork.nodes = _Cidr("nodes", ipv4_network, None)  # type: ignore[assignment]


@dataclass(frozen=True)
class Cluster:
    # tracing.clusters_read gives this class a stand-in for each field while one fleet-wide render unit runs, to
    # record which fields it reads: render units run one at a time in a process (one thread, or a forked worker).
    name: str
    environment: str
    region: str
    labels: Mapping[str, str]  # user labels plus the automatic ones
    kubernetes_version: str
    server: str | None
    ca_data: str | None  # base64 PEM of the API server's CA (public), for Argo CD's TLS check
    provider: Provider
    network: ClusterNetwork
    node_pools: tuple[NodePool, ...]
    argocd_mode: str  # push | pull
    karmada_member: bool
    # Where it is in fleet.yaml, for findings. Not in repr or equality: nothing rendered depends on a cluster's
    # position (tests/test_incremental.py holds every renderer to that), so a render unit's key, made from the
    # repr, does not change for every cluster after one that is added or removed above it.
    path: Path = field(repr=False, compare=False)
    lifecycle: str = "managed"  # managed: Cluster API owns it | external: it exists and is run elsewhere

    @property
    def registered(self) -> bool:
        """Has an API endpoint: Argo CD and Karmada can reach (or be reached by) it."""
        return self.server is not None

    @property
    def provisioned(self) -> bool:
        """Cluster API creates and owns it: a ``managed`` cluster of a real provider (not ``imported``)."""
        return self.provider.type != "imported" and self.lifecycle == "managed"


@dataclass(frozen=True)
class ValuesRepo:
    """Helm value files from another repository: Argo CD's multi-source ``ref`` source."""

    repo_url: str
    revision: str | None
    value_files: tuple[str, ...]


@dataclass(frozen=True)
class App:
    name: str
    path: str
    repo_url: str | None
    revision: str | None
    value_files: tuple[str, ...]
    values: Mapping[str, Any] | None = None  # helm.values, rendered as helm.valuesObject
    parameters: tuple[Mapping[str, Any], ...] = ()  # helm.parameters: {name, value, forceString?}
    values_repo: ValuesRepo | None = None  # helm.valuesRepo


@dataclass(frozen=True)
class SyncPolicy:
    prune: bool = True
    self_heal: bool = True
    create_namespace: bool = True
    preserve_resources_on_deletion: bool = True  # no resources finalizer on generated Applications
    sync_options: tuple[str, ...] = ()  # beyond CreateNamespace=true
    retry: Mapping[str, Any] | None = None  # Argo CD RetryStrategy, as fleet.yaml spells it


@dataclass(frozen=True)
class ApplicationSet:
    name: str
    project: str
    clusters: Selector
    apps: tuple[App, ...]
    namespace: str
    sync_policy: SyncPolicy
    path: Path
    extra_resources: tuple[tuple[str, str], ...] = ()  # (API group, plural resource) beyond DEPLOYABLE
    ignore_differences: tuple[Mapping[str, Any], ...] = ()  # Argo CD ResourceIgnoreDifferences entries
    strategy: str = "AllAtOnce"  # AllAtOnce | RollingSync


@dataclass(frozen=True)
class Patch:
    op: str
    path: str
    value: Any
    has_value: bool


@dataclass(frozen=True)
class Override:
    clusters: Selector
    patches: tuple[Patch, ...]
    path: Path
    kinds: tuple[str, ...] = ()  # resource kinds it patches; empty: every resource of the workload


@dataclass(frozen=True)
class Resource:
    api_version: str
    kind: str
    name: str


@dataclass(frozen=True)
class GlobalService:
    shared: bool = True
    affinity: str | None = None  # local | remote | none


@dataclass(frozen=True)
class Failover:
    unreachable_seconds: int | None
    not_ready_seconds: int | None


@dataclass(frozen=True)
class Workload:
    name: str
    namespace: str
    source_path: str
    resources: tuple[Resource, ...]
    clusters: Selector
    replicas: int
    weights: Mapping[str, int]  # empty: Duplicated scheduling
    failover: Failover | None
    overrides: tuple[Override, ...]
    global_service: GlobalService | None
    path: Path


@dataclass(frozen=True)
class Thanos:
    image: str
    cluster_label: str
    replica_label: str
    object_storage_secret: str
    sidecar_endpoint: str = "thanos-sidecar.{cluster}.{fleet}.internal:10901"  # {cluster}/{fleet} placeholders


@dataclass(frozen=True)
class Allocation:
    pods: Network
    pod_prefix: int
    services: Network
    service_prefix: int
    nodes: ipaddress.IPv4Network | None = None
    node_prefix: int = 0


@dataclass(frozen=True)
class PatchTarget:
    """Which rendered documents a fleet.yaml ``patches`` entry changes (None: any)."""

    kind: str
    name: str
    namespace: str | None = None
    api_version: str | None = None
    group: str | None = None
    clusters: Selector | None = None  # only the per-cluster files of the selected clusters


@dataclass(frozen=True)
class DocumentPatch:
    """One ``patches`` entry: RFC 6902 operations (canonical JSON, so the model stays hashable and immutable)."""

    target: PatchTarget
    operations: tuple[str, ...]
    path: Path


@dataclass(frozen=True)
class ExtraManifest:
    """One ``extraManifests`` entry: a file or directory of hand-written manifests, relative to fleet.yaml."""

    source: str
    path: Path
    clusters: Selector | None = None  # None: the hub; else a copy for each selected cluster


@dataclass(frozen=True)
class ExtraFile:
    """One hand-written manifest as fleetgen copies it (extras.py reads it; the model itself does no I/O)."""

    path: str  # in the rendered tree: hub/extra/<its path below fleet.yaml's directory>, or clusters/<c>/extra/<…>
    data: bytes  # the exact bytes written: a header line, then the source's text
    documents: tuple[dict[str, Any], ...] = field(default=(), compare=False)  # as Kubernetes tools read them
    cluster: str | None = None  # the spoke it is synced to; None: the hub
    source: str = ""  # its path below fleet.yaml's directory
    entry: Path = ()  # the extraManifests entry that names it


def fill(template: str, cluster: str, fleet: str) -> str:
    """Expand a fleet.yaml address template; plain replace, so no other brace can mean anything."""
    return template.replace("{cluster}", cluster).replace("{fleet}", fleet)


@dataclass(frozen=True)
class Fleet:
    name: str
    repo_url: str
    repo_revision: str
    rendered_dir: str
    hub_name: str
    argocd_namespace: str
    karmada_server: str | None
    karmada_external_server: str | None  # what pull members (karmadactl register) dial from outside the hub
    environments: tuple[str, ...]
    mesh: str  # cilium | none (submariner was removed: the schema rejects it with a migration hint)
    max_connected_clusters: int
    clustermesh_endpoint: str  # DNS name template with {cluster}/{fleet} placeholders
    clustermesh_issuer: str  # cert-manager ClusterIssuer signing with the mesh's one CA
    allocation: Allocation | None
    thanos: Thanos
    grafana_enabled: bool
    clusters: tuple[Cluster, ...]  # sorted by name: output never depends on file order
    application_sets: tuple[ApplicationSet, ...]  # sorted by name
    workloads: tuple[Workload, ...]  # sorted by name
    pod_security: str = "baseline"  # PSA level of every namespace fleetgen creates
    hub_provider: str | None = None  # aws | gcp | azure: internal load balancers on the hub
    patches: tuple[DocumentPatch, ...] = ()  # in fleet.yaml order: the order they are applied in
    extra_manifests: tuple[ExtraManifest, ...] = ()
    extra_files: tuple[ExtraFile, ...] = ()  # what extra_manifests name, read by extras.attach

    def cluster(self, name: str) -> Cluster | None:
        return self._by_name.get(name)

    @cached_property  # set on first use (a frozen dataclass allows it); not a field: eq, repr and replace ignore it
    def _by_name(self) -> Mapping[str, Cluster]:
        """Clusters by name, the first of each name: diff and plan look up every cluster (5,000 scans of 5,000)."""
        found: dict[str, Cluster] = {}
        for c in self.clusters:
            found.setdefault(c.name, c)
        return found

    # Methods of one argument that tracing.Traced keys a render unit by per call, by what they return for the
    # argument given: a cluster's units ask for that cluster's extra manifests only, so a spoke manifest edit
    # renders the units of the clusters it is copied to, not every cluster's.
    # Each names the field its value is computed from: while that field's digest is the recorded one, so is a call's.
    PER_ARGUMENT: ClassVar[Mapping[str, str]] = MappingProxyType({"spoke_extras": "extra_files"})
    # Values derived from the fields that tracing.Traced keys a render unit by (their own value), not by all the
    # fields they are computed from: a unit that reads only the mesh members' names is not rendered again
    # when another part of a cluster changes.
    DERIVED: ClassVar[frozenset[str]] = frozenset({"mesh_members", "extra_spokes"})
    # Methods whose value is some of the clusters, chosen by the cluster fields named here and the clusters' order:
    # tracing.Traced records a read of one as those fields of every cluster (a projection), plus what is read of the
    # clusters it gives, not as everything.
    CLUSTER_VIEWS: ClassVar[Mapping[str, tuple[str, ...]]] = MappingProxyType({"of_provider": ("provider",)})

    @cached_property  # in DERIVED
    def mesh_members(self) -> tuple[str, ...]:
        """The names of the clusters in the ClusterMesh that peer with every other member (Cilium's values)."""
        return tuple(c.name for c in self.clusters if c.network.mesh_id is not None and c.network.mesh_member)

    @cached_property  # in DERIVED
    def extra_spokes(self) -> tuple[str, ...]:
        """The names of the clusters extra manifests are copied to (those with ``spoke_extras``), sorted."""
        return tuple(sorted(name for name, docs in self._extras_by_cluster.items() if docs))

    def spoke_extras(self, name: str) -> tuple[dict[str, Any], ...]:
        """The documents of the extra manifests copied to cluster ``name`` (``clusters/<name>/extra``), by path."""
        return self._extras_by_cluster.get(name, ())

    @cached_property  # not a field, like _by_name: every cluster's access.yaml and projects ask
    def _extras_by_cluster(self) -> Mapping[str, tuple[dict[str, Any], ...]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for x in self.extra_files:
            if x.cluster is not None:
                found.setdefault(x.cluster, []).extend(x.documents)
        return {name: tuple(docs) for name, docs in found.items()}

    def of_provider(self, *types: str) -> tuple[Cluster, ...]:
        """The clusters whose provider is one of ``types``: by type in the order given, each in cluster order."""
        if len(types) == 1:
            return self._by_provider.get(types[0], ())
        return tuple(c for kind in dict.fromkeys(types) for c in self._by_provider.get(kind, ()))

    @cached_property  # as _by_name: lint's provider rules each read one provider's clusters
    def _by_provider(self) -> Mapping[str, tuple[Cluster, ...]]:
        found: dict[str, list[Cluster]] = {}
        for c in self.clusters:
            found.setdefault(c.provider.type, []).append(c)
        return {kind: tuple(clusters) for kind, clusters in found.items()}

    def named(self, name: str) -> Cluster:
        """The cluster ``name``, which the caller knows is in the fleet (KeyError otherwise)."""
        found = self.cluster(name)
        if found is None:
            raise KeyError(name)
        return found


# ---------------------------------------------------------------- building


def deep_merge(base: Any, over: Any) -> Any:
    """``over`` wins; mappings merge recursively; lists and scalars are replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = deep_merge(base.get(key), value) if key in base else value
        return merged
    return over


def rendered_dir(repo: Mapping[str, Any]) -> str:
    """``repo.renderedDir`` (default ``rendered``) as the output directory's path below fleet.yaml's directory."""
    return repo.get("renderedDir", "rendered").strip("/")


def build(data: Mapping[str, Any]) -> Fleet:
    """Schema-valid fleet data -> Fleet. Assumes ``schema.validate`` found no errors."""
    defaults = data.get("defaults") or {}
    repo, hub, net = data.get("repo", {}), data.get("hub", {}), data.get("network") or {}
    providers: dict[tuple, Provider] = {}  # clusters with the same provider settings share one (frozen) Provider
    clusters = [
        # without defaults the merge would only copy the cluster, which _cluster reads and never changes
        _cluster(deep_merge(defaults, raw) if defaults else raw, ("clusters", i), providers)
        for i, raw in enumerate(data.get("clusters") or [])
    ]
    appsets = [_appset(raw, ("applicationSets", i)) for i, raw in enumerate(data.get("applicationSets") or [])]
    workloads = [_workload(raw, ("workloads", i)) for i, raw in enumerate(data.get("workloads") or [])]
    return Fleet(
        name=data["name"],
        repo_url=repo["url"],
        repo_revision=repo.get("revision", "main"),
        rendered_dir=rendered_dir(repo),
        hub_name=hub.get("name", "hub"),
        argocd_namespace=hub.get("argocdNamespace", "argocd"),
        karmada_server=(hub.get("karmada") or {}).get("server"),
        karmada_external_server=(hub.get("karmada") or {}).get("externalServer"),
        environments=tuple(data.get("environments") or DEFAULT_ENVIRONMENTS),
        mesh=net.get("mesh", "cilium"),
        max_connected_clusters=net.get("maxConnectedClusters", 255),
        clustermesh_endpoint=net.get("clustermeshEndpoint", "{cluster}.clustermesh.{fleet}.internal"),
        clustermesh_issuer=net.get("clustermeshIssuer", "clustermesh-ca"),
        allocation=_allocation(net.get("allocation")),
        thanos=_thanos(((data.get("observability") or {}).get("thanos")) or {}),
        grafana_enabled=((data.get("observability") or {}).get("grafana") or {}).get("enabled", True),
        clusters=tuple(sorted(clusters, key=lambda c: c.name)),
        application_sets=tuple(sorted(appsets, key=lambda a: a.name)),
        workloads=tuple(sorted(workloads, key=lambda w: w.name)),
        pod_security=(data.get("security") or {}).get("podSecurity", "baseline"),
        hub_provider=hub.get("provider"),
        patches=tuple(_document_patch(raw, ("patches", i)) for i, raw in enumerate(data.get("patches") or [])),
        extra_manifests=tuple(
            _extra(raw, ("extraManifests", i)) for i, raw in enumerate(data.get("extraManifests") or [])
        ),
    )


def _selector(raw: Mapping | None, path: Path) -> Selector:
    raw = raw or {}
    exprs = tuple(
        Requirement(e["key"], e["operator"], tuple(e.get("values") or ())) for e in raw.get("matchExpressions") or ()
    )
    return Selector(frozen_map({k: str(v) for k, v in (raw.get("matchLabels") or {}).items()}), exprs, path)


def _cluster(raw: Mapping[str, Any], path: Path, providers: dict[tuple, Provider]) -> Cluster:
    provider = raw.get("provider") or {"type": "imported"}
    net = raw.get("network") or {}
    mode = (raw.get("argocd") or {}).get("mode", "push")
    labels = {str(k): str(v) for k, v in (raw.get("labels") or {}).items()}
    labels.update(name=raw["name"], environment=raw["environment"], region=raw["region"], provider=provider["type"])
    return made(
        Cluster,
        {
            "name": raw["name"],
            "environment": raw["environment"],
            "region": raw["region"],
            "labels": frozen_map(labels),
            "kubernetes_version": str(raw["kubernetesVersion"]),
            "server": raw.get("server"),
            "ca_data": raw.get("caData"),
            "provider": _shared_provider(provider, providers),
            "network": _network(net, mode, provider["type"]),
            "node_pools": tuple(_pool(p, (*path, "nodePools", i)) for i, p in enumerate(raw.get("nodePools") or [])),
            "argocd_mode": mode,
            "karmada_member": (raw.get("karmada") or {}).get("member", True),
            "path": path,
            "lifecycle": raw.get("lifecycle", "managed"),
        },
    )


def _network(net: Mapping[str, Any], mode: str, provider: str) -> ClusterNetwork:
    """A cluster's network, its CIDRs kept as text until read (:class:`_Cidr`)."""
    mesh = net.get("clustermesh") or {}
    cidrs = {"pods": net["pods"], "services": net["services"]}
    values = {
        "node_mask": net.get("nodeMask", 24 if family(net["pods"]) == 4 else 64),
        "mesh_id": net.get("meshID"),
        "mesh_member": mesh.get("member", default_mesh_member(mode, provider)),
        "mesh_load_balancer": mesh.get("loadBalancer", "internal"),
    }
    if "nodes" in net:
        cidrs["nodes"] = net["nodes"]
    else:
        values["nodes"] = None
    values["_cidrs"] = cidrs
    return made(ClusterNetwork, values)


def family(cidr: str) -> int:
    """The IP family of a schema-valid CIDR, from its text: IPv6 addresses are written with colons, IPv4 ones never."""
    return 6 if ":" in cidr else 4


def made(cls: type[T], values: dict[str, Any]) -> T:
    """``cls(**values)`` for the model's per-cluster classes (frozen dataclasses without ``__post_init__``), given
    every field (a network's CIDRs as text, :class:`_Cidr`): the instance's dict set at once. A frozen dataclass's
    ``__init__`` sets each field through ``object.__setattr__``, and a cluster is three of them: 7 of the 17 µs its
    model took, 5,000 times a run. The instance is the one ``__init__`` makes, attribute for attribute
    (tests/test_model_made.py)."""
    instance = object.__new__(cls)
    instance.__dict__.update(values)
    return instance


# fleetgen's own Argo CD projects (render/projects.py renders them); no user set may name one (reserved-project).
PLATFORM_PROJECT = "fleet-platform"
WORKLOAD_PROJECT = "fleet-workloads"
EXTRA_PROJECT = "fleet-extra"  # the push-mode spokes' extra manifests (extraManifests[].clusters)
AGENT_PROJECT_PREFIX = "fleet-agent-"
# A pull-mode cluster's ApplicationSet Applications: ``fleet-agent-<cluster>.apps``. The dot keeps it apart from
# another cluster's agent project (a cluster name is a DNS label, without dots).
AGENT_APPS_SUFFIX = ".apps"


def agent_project_name(cluster_name: str) -> str:
    """The project of fleetgen's own Applications of a pull-mode cluster (monitoring, extra manifests)."""
    return f"{AGENT_PROJECT_PREFIX}{cluster_name}"


def agent_apps_project_name(cluster_name: str) -> str:
    """The project of the ApplicationSets' Applications of a pull-mode cluster."""
    return f"{AGENT_PROJECT_PREFIX}{cluster_name}{AGENT_APPS_SUFFIX}"


# fleetgen's own ApplicationSets (render/argocd.py) and the Application name each generates per cluster,
# <cluster>-<app>, which lint's application-name keeps user sets from generating too.
MONITORING_SET, MONITORING_APP = "fleet-spoke-monitoring", "monitoring"
EXTRA_SET, EXTRA_APP = "fleet-spoke-extra", "extra"  # where extraManifests entries with clusters reach
# fleetgen's own Applications in Argo CD's namespace, beside those the ApplicationSets generate there.
ROOT_APP, KARMADA_POLICIES_APP, WORKLOAD_APP_PREFIX = "fleet-root", "karmada-policies", "workload-"


def own_applications(fleet: Fleet) -> list[str]:
    """The names of the Applications fleetgen renders itself into Argo CD's namespace (render/argocd.py): the root
    Application, and with Karmada and workloads the policies' and one per workload."""
    karmada = [KARMADA_POLICIES_APP, *(f"{WORKLOAD_APP_PREFIX}{w.name}" for w in fleet.workloads)]
    return [ROOT_APP, *(karmada if fleet.karmada_server and fleet.workloads else [])]


def is_reserved_project(project: str) -> bool:
    reserved = (PLATFORM_PROJECT, WORKLOAD_PROJECT, EXTRA_PROJECT)
    return project in reserved or project.startswith(AGENT_PROJECT_PREFIX)


# Cilium's routing mode per provider, as render/cilium.py configures it: EKS (ENI) and GKE route pod addresses
# natively; AKS BYOCNI must tunnel (the chart refuses anything else), and so do vSphere, Docker and imported
# clusters (the chart's default).
NATIVE_ROUTING = frozenset({"aws", "gcp"})


def cilium_routing(provider_type: str) -> str:
    return "native" if provider_type in NATIVE_ROUTING else "tunnel"


def pods_routable(provider_type: str) -> bool:
    """Whether a pod address of the cluster is an address of its network, which the hub can route to: EKS (ENI or
    the VPC CNI) and GKE (alias ranges) with or without Cilium; AKS (BYOCNI tunnel, or Azure CNI overlay without
    Cilium), vSphere, Docker and imported clusters (a tunnel, or a CNI fleetgen does not know) are not."""
    return provider_type in NATIVE_ROUTING


def default_mesh_member(argocd_mode: str, provider_type: str) -> bool:
    """Peers dial each other's clustermesh-apiserver: outbound-only (pull) and local docker clusters cannot be."""
    return argocd_mode == "push" and provider_type != "docker"


def _shared_provider(raw: Mapping[str, Any], providers: dict[tuple, Provider]) -> Provider:
    """``_provider(raw)``, made once per distinct provider mapping (a few dozen for thousands of clusters)."""
    try:
        key = tuple(raw.items())
        found = providers.get(key)
    except TypeError:  # an unhashable value: not shared
        return _provider(raw)
    if found is None:
        found = providers[key] = _provider(raw)
    return found


def _provider(raw: Mapping[str, Any]) -> Provider:
    return Provider(
        type=raw["type"],
        account_id=str(raw.get("accountID", "")),
        role_arn=raw.get("roleARN", ""),
        project=raw.get("project", ""),
        subscription_id=raw.get("subscriptionID", ""),
        resource_group=raw.get("resourceGroup", ""),
        server=raw.get("server", ""),
        datacenter=raw.get("datacenter", ""),
        template=raw.get("template", ""),
        endpoint_access=raw.get("endpointAccess", "private"),
        vpc_cni_version=raw.get("vpcCniVersion", ""),
        thumbprint=raw.get("thumbprint", ""),
        datastore=raw.get("datastore", ""),
        storage_policy=raw.get("storagePolicyName", ""),
        resource_pool=raw.get("resourcePool", ""),
        folder=raw.get("folder", ""),
        network=raw.get("network", ""),
        load_balancer=raw.get("loadBalancer", "kube-vip"),
    )


def _pool(raw: Mapping[str, Any], path: Path) -> NodePool:
    taints = tuple(Taint(t["key"], str(t.get("value", "")), t["effect"]) for t in raw.get("taints") or ())
    labels = frozen_map({str(k): str(v) for k, v in (raw.get("labels") or {}).items()})
    return made(
        NodePool,
        {
            "name": raw["name"],
            "instance_type": raw["instanceType"],
            "min": raw["min"],
            "max": raw["max"],
            "labels": labels,
            "taints": taints,
            "path": path,
        },
    )


def _appset(raw: Mapping[str, Any], path: Path) -> ApplicationSet:
    clusters = _selector(raw.get("clusters"), (*path, "clusters"))
    sync = raw.get("syncPolicy") or {}
    apps = tuple(
        App(
            a["name"],
            a["path"],
            a.get("repoURL"),
            a.get("revision"),
            tuple((a.get("helm") or {}).get("valueFiles") or ()),
            (a.get("helm") or {}).get("values"),
            tuple((a.get("helm") or {}).get("parameters") or ()),
            _values_repo((a.get("helm") or {}).get("valuesRepo")),
        )
        for a in raw["apps"]
    )
    return ApplicationSet(
        name=raw["name"],
        project=raw.get("project") or clusters.match_labels.get("environment", "default"),
        clusters=clusters,
        apps=apps,
        namespace=raw["namespace"],
        sync_policy=SyncPolicy(
            sync.get("prune", True),
            sync.get("selfHeal", True),
            sync.get("createNamespace", True),
            sync.get("preserveResourcesOnDeletion", True),
            tuple(sync.get("syncOptions") or ()),
            sync.get("retry"),
        ),
        path=path,
        extra_resources=tuple((r["group"], r["resource"]) for r in raw.get("extraResources") or ()),
        ignore_differences=tuple(raw.get("ignoreDifferences") or ()),
        strategy=raw.get("strategy", "AllAtOnce"),
    )


def _values_repo(raw: Mapping[str, Any] | None) -> ValuesRepo | None:
    return None if raw is None else ValuesRepo(raw["repoURL"], raw.get("revision"), tuple(raw["valueFiles"]))


def _workload(raw: Mapping[str, Any], path: Path) -> Workload:
    failover = raw.get("failover")
    gs = raw.get("globalService")
    if gs is True:
        global_service: GlobalService | None = GlobalService()
    elif isinstance(gs, dict):
        global_service = GlobalService(gs.get("shared", True), gs.get("affinity"))
    else:
        global_service = None
    return Workload(
        name=raw["name"],
        namespace=raw["namespace"],
        source_path=raw["source"]["path"],
        resources=tuple(Resource(r["apiVersion"], r["kind"], r["name"]) for r in raw["resources"]),
        clusters=_selector(raw.get("clusters"), (*path, "clusters")),
        replicas=raw.get("replicas", 1),
        weights=frozen_map(raw.get("weights")),
        failover=Failover(failover.get("unreachableSeconds"), failover.get("notReadySeconds")) if failover else None,
        overrides=tuple(_override(o, (*path, "overrides", i)) for i, o in enumerate(raw.get("overrides") or ())),
        global_service=global_service,
        path=path,
    )


def _override(raw: Mapping[str, Any], path: Path) -> Override:
    patches = tuple(Patch(p["op"], p["path"], p.get("value"), "value" in p) for p in raw["patches"])
    kinds = tuple(sorted(raw.get("kinds") or ()))
    return Override(_selector(raw.get("clusters"), (*path, "clusters")), patches, path, kinds)


def _document_patch(raw: Mapping[str, Any], path: Path) -> DocumentPatch:
    t = raw["target"]
    clusters = _selector(t["clusters"], (*path, "target", "clusters")) if "clusters" in t else None
    target = PatchTarget(t["kind"], t["name"], t.get("namespace"), t.get("apiVersion"), t.get("group"), clusters)
    return DocumentPatch(target, tuple(json.dumps(op) for op in raw["operations"]), path)


def _extra(raw: Mapping[str, Any], path: Path) -> ExtraManifest:
    clusters = _selector(raw["clusters"], (*path, "clusters")) if "clusters" in raw else None
    return ExtraManifest(raw["source"], path, clusters)


def _thanos(raw: Mapping[str, Any]) -> Thanos:
    return Thanos(
        image=raw.get("image", "quay.io/thanos/thanos:v0.38.0"),
        cluster_label=raw.get("clusterLabel", "cluster"),
        replica_label=raw.get("replicaLabel", "prometheus_replica"),
        object_storage_secret=raw.get("objectStorageSecret", "thanos-objstore"),
        sidecar_endpoint=raw.get("sidecarEndpoint", "thanos-sidecar.{cluster}.{fleet}.internal:10901"),
    )


def _allocation(raw: Mapping[str, Any] | None) -> Allocation | None:
    if not raw:
        return None
    nodes = ipaddress.IPv4Network(raw["nodes"]) if "nodes" in raw else None
    pods, services = ipaddress.ip_network(raw["pods"]), ipaddress.ip_network(raw["services"])
    return Allocation(pods, raw["podPrefix"], services, raw["servicePrefix"], nodes, raw.get("nodePrefix", 0))
