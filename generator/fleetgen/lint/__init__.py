"""Lint: the explicit rule list, and the runner that positions, suppresses and sorts findings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..findings import ERROR, WARNING, Finding
from ..load import Document
from ..model import Fleet
from ..settled import Settled
from . import (
    addressing,
    clusters,
    hub,
    installed,
    kubeadm,
    network,
    observability,
    overrides,
    placement,
    providers,
    secrets,
    security,
    versions,
)
from .registry import Context, Rule, stage_rule, stamped
from .reuse import Memory, Reuse

YAML_SYNTAX = stage_rule(
    "yaml-syntax",
    ERROR,
    """The file is not YAML fleetgen can read.

    Undecodable bytes, tabs used for indentation, duplicate keys, custom tags, recursive or
    exploding aliases, more than one document, or a top level that is not a mapping.""",
    "fix the YAML at the position shown",
)
SCHEMA = stage_rule(
    "schema",
    ERROR,
    """fleet.yaml does not match the fleet schema (schemas/fleet.schema.json).

    Unknown fields (with a did-you-mean hint), wrong types, invalid names, CIDRs, versions or URLs,
    missing required fields, overridden automatic labels, or an environment not in `environments`.""",
    "follow the hint; the schema documents every field",
)
STALE_RENDER = stage_rule(
    "stale-render",
    ERROR,
    """A rendered file differs from what fleet.yaml renders now, or is missing.

    Argo CD syncs the committed tree, not fleet.yaml: until it is re-rendered, the change to
    fleet.yaml does nothing.""",
    "run `fleetgen render` and commit the result",
)
HAND_EDIT = stage_rule(
    "hand-edit",
    ERROR,
    """A file fleetgen owns was edited by hand (its bytes no longer match the recorded hash).

    The next render overwrites the edit. Make the change in fleet.yaml instead.""",
    "move the change into fleet.yaml, then run `fleetgen render`",
)
ORPHAN = stage_rule(
    "orphan",
    ERROR,
    """A YAML or JSON file in the rendered tree that the render does not produce.

    Argo CD syncs every manifest in the tree, so a stray file deploys something fleet.yaml does
    not describe. A file fleetgen rendered before is deleted by the next `fleetgen render`; a
    file fleetgen never wrote is never deleted by it, and `render` fails on it as `check` does.
    Notes and docs (other extensions) are left alone.""",
    "if fleetgen rendered it before, run `fleetgen render`; a manifest you wrote: list it in fleet.yaml "
    "`extraManifests` (fleetgen copies and owns it), or express the change as `patches` on a rendered document; "
    "otherwise delete it",
)
EXTRA_MANIFEST = stage_rule(
    "extra-manifest",
    ERROR,
    """An `extraManifests` entry cannot be copied into the rendered tree.

    Reported by every command that reads the fleet, at the entry in fleet.yaml or at the line and column
    in the manifest: the source does not exist, resolves (symbolic links followed) outside fleet.yaml's
    directory or inside the rendered tree, is a link to a directory, holds no `.yaml`/`.yml` file, is not
    UTF-8 YAML as Kubernetes tools read it, has a document without apiVersion, kind and metadata.name, or
    is copied twice. For an entry with `clusters` (copied to spokes, with Argo CD's permissions there
    computed from the documents), also: a Namespace document, a namespaced object without
    `metadata.namespace` (a kind not known to be cluster-scoped counts as namespaced) or with one that
    is no DNS-1123 label, a cluster-scoped one with it, or an object fleetgen renders on that spoke itself.""",
    "name a manifest file or directory below fleet.yaml's directory, outside the rendered tree",
)
WORKLOAD_REPLICAS = stage_rule(
    "workload-replicas",
    WARNING,
    """A workload's `replicas` differs from the `spec.replicas` of its Deployment or StatefulSet.

    Karmada divides each resource's own `spec.replicas` (1 when unset) among the clusters, one binding
    per resource (v1.18.2 `pkg/resourceinterpreter/default/native/replica.go`); `workloads[].replicas`
    only feeds `fleetgen plan`, `diff` and the rendered README, which then show a split Karmada will not
    make. Checked where the manifests are plain YAML directly in the workload's `source.path` below
    fleet.yaml's directory (Argo CD's directory source); a chart or kustomization is not read.""",
    "make workloads[].replicas and the manifest's spec.replicas the same number",
)
PATCH_TARGET = stage_rule(
    "patch-target",
    ERROR,
    """A `patches` entry matches no rendered document.

    Reported by `render` and `check` at the patch's `target`: no document has that kind and name (and
    namespace, apiVersion or API group, where given), or none of them is in the per-cluster files of
    the clusters `target.clusters` selects. A patch that does nothing is a typo or a leftover.""",
    "correct the target (the kind and metadata.name of a rendered document), or remove the patch",
)
PATCH_FAILED = stage_rule(
    "patch-failed",
    ERROR,
    """An operation of a `patches` entry cannot be applied to a document it targets.

    Reported by `render` and `check` at the operation, naming the document: RFC 6902 `remove`, `replace`
    and `move` need an existing path, `add` an existing parent, and a `test` that does not hold fails the
    patch. That document is left without the patch, and nothing is rendered.""",
    "fix the operation's path (or test value) so it holds for every document the target matches",
)

ALLOCATION = stage_rule(
    "allocation",
    ERROR,
    """add-cluster cannot allocate a pod CIDR, a service CIDR, a node network or a mesh id for the new cluster.

    There is no `network.allocation` to allocate CIDRs from, a pool has no free block of the
    requested prefix left (every block overlaps a CIDR of an existing cluster), or every mesh id
    from 1 to `network.maxConnectedClusters` is taken.""",
    "add or widen the pool in network.allocation, or remove clusters that are gone",
)

UPSTREAM_SCHEMA = stage_rule(
    "upstream-schema",
    ERROR,
    """A rendered document, or a Helm values file, does not validate against its upstream schema.

    Reported by `fleetgen validate-rendered`, strictly: an unknown field, a wrong type or a missing
    required field would be pruned or rejected by the API server (or silently ignored by Helm). The
    schemas are vendored in schemas/upstream (see its PROVENANCE.md).""",
    "fix the renderer (or the hand-made file) so the field matches the upstream API",
)
UPSTREAM_CEL = stage_rule(
    "upstream-cel",
    ERROR,
    """A rendered document breaks a CEL rule (x-kubernetes-validations) of its CRD.

    The API server would reject the object. Transition rules (those that read oldSelf) need the
    stored object and are skipped; a rule that calls a function fleetgen does not implement is a
    warning, never a pass.""",
    "change the value so the rule's condition holds (the message quotes the rule)",
)
UNKNOWN_KIND = stage_rule(
    "unknown-kind",
    ERROR,
    """A rendered YAML document has an apiVersion/kind with no vendored schema, or is no manifest.

    fleetgen validates only what it can check against the real API: a kind it does not render, a
    values file of a chart without a vendored values schema, or YAML without apiVersion and kind.""",
    "remove the file, or vendor the kind's schema (schemas/upstream/PROVENANCE.md says how)",
)

LINT_RULES: tuple[Rule, ...] = (
    clusters.duplicate_cluster,
    clusters.duplicate_name,
    clusters.cluster_name,
    clusters.pool_min_max,
    network.cidr_overlap,
    network.cidr_overlap_internal,
    network.service_cidr_size,
    network.pod_cidr_capacity,
    addressing.node_mask,
    addressing.ip_family,
    network.mesh_id,
    network.mesh_member,
    network.mesh_datapath,
    network.global_service_mesh,
    network.node_network_overlap,
    versions.version_skew,
    versions.promotion_order,
    versions.upgrade_skip,
    versions.version_downgrade,
    installed.immutable_setting,
    providers.gke_version,
    providers.gke_regional_pool,
    providers.ca_data,
    providers.account_mismatch,
    kubeadm.vsphere_thumbprint,
    kubeadm.vsphere_placement,
    kubeadm.vsphere_instance_type,
    kubeadm.control_plane_vip,
    kubeadm.endpoint_port,
    kubeadm.node_label_dropped,
    providers.vsphere_server,
    providers.aks_system_pool,
    providers.untainted_pool,
    placement.unknown_cluster,
    placement.empty_selector,
    placement.application_name,
    placement.reserved_label,
    placement.override_unsupported,
    placement.zero_weight,
    placement.rolling_sync_pull,
    overrides.override_kind,
    overrides.override_path,
    hub.karmada_external_server,
    hub.principal_unreachable,
    secrets.secret_material,
    secrets.ca_data_private_key,
    observability.replica_label,
    observability.thanos_version,
    observability.sidecar_endpoint_port,
    security.system_namespace,
    security.reserved_project,
    security.reserved_appset,
)
RULES: tuple[Rule, ...] = (
    YAML_SYNTAX,
    SCHEMA,
    *LINT_RULES,
    STALE_RENDER,
    HAND_EDIT,
    ORPHAN,
    PATCH_TARGET,
    PATCH_FAILED,
    EXTRA_MANIFEST,
    WORKLOAD_REPLICAS,
    ALLOCATION,
    UPSTREAM_SCHEMA,
    UPSTREAM_CEL,
    UNKNOWN_KIND,
)
BY_ID: Mapping[str, Rule] = {r.id: r for r in RULES}


@dataclass(frozen=True)
class LintResult:
    findings: list[Finding]
    suppressed: int
    remembered: Mapping[str, list[str]] = field(default_factory=dict)  # what the rules remember for the next run
    memory: Memory | None = None  # what each rule read and found, for the next run (``run``'s ``keep``)
    reused: tuple[str, ...] = ()  # the rules whose findings were taken from the last run's memory


def run(
    doc: Document,
    fleet: Fleet | None,
    rendered_versions: Mapping[str, str] | None = None,
    select: frozenset[str] | None = None,
    installed: Settled | None = None,
    sources: Mapping[str, str] | None = None,
    remembered: Mapping[str, list[str]] | None = None,
    memory: Memory | None = None,
    keep: bool = False,
) -> LintResult:
    """Run every rule (only the model-free ones when ``fleet`` is None); position, suppress, sort. ``sources`` and
    ``remembered``: see :class:`Context`. ``memory``: what the last render's rules read and found, reused for each rule
    whose reads did not change; ``keep``: record it again for the next run (``fleetgen.lint.reuse``)."""
    ctx = Context(fleet, doc.data, rendered_versions, installed, sources=sources, remembered=remembered or {})
    reuse = Reuse(ctx, memory, keep)
    placed: list[Finding] = []
    for r in LINT_RULES:
        if (fleet is None and r.needs_model) or (select is not None and r.id not in select):
            continue
        assert r.check is not None  # every LINT_RULES entry checks something
        placed.extend(doc.place(stamped(i, r)) for i in reuse.issues(r))
    kept = [f for f in placed if not doc.suppressed(f)]
    return LintResult(
        sorted(set(kept)), len(placed) - len(kept), ctx.remember, reuse.memory_to_keep(), tuple(reuse.reused)
    )


__all__ = ["RULES", "LINT_RULES", "BY_ID", "LintResult", "Memory", "run", "ERROR", "WARNING"]
