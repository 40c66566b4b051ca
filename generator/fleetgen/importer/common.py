"""What every importer shares: names, regions from endpoint host names, provider ids, labels."""

from __future__ import annotations

import re
from typing import Any

from ..labels import PREFIX
from ..model import AUTO_LABELS

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
# Endpoint host names that carry the region: EKS ``<id>.gr7.<region>.eks.amazonaws.com`` and AKS
# ``<dns-prefix>-<hash>.hcp.<region>.azmk8s.io`` (also ``privatelink``); GKE endpoints are bare IPs.
_EKS_HOST = re.compile(r"\.(?P<region>[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d)\.eks\.amazonaws\.com(\.cn)?$")
_AKS_HOST = re.compile(r"\.(hcp|privatelink)\.(?P<region>[a-z0-9]+)\.azmk8s\.io$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>[0-9]{12}):role/")
# Label keys that belong to the tools, not to the fleet: Argo CD's, argocd-agent's, fleetgen's own.
_TOOL_PREFIXES = (
    "argocd.argoproj.io/",
    "argocd-agent.argoproj-labs.io/",
    PREFIX,
    "cluster.x-k8s.io/",
    "app.kubernetes.io/managed-by",
)
PROVIDER_TYPES = ("aws", "gcp", "azure", "vsphere", "docker", "imported")


def dns_label(name: str) -> str:
    """A fleet cluster name for ``name``: lower case, other characters as ``-`` (the caller notes a change)."""
    label = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:63].strip("-")
    return label or "cluster"


def valid_name(name: str) -> bool:
    return _DNS_LABEL.fullmatch(name) is not None


def region_from_server(server: str) -> str | None:
    host = re.sub(r"^https://", "", server).split("/", 1)[0].split(":", 1)[0].lower()
    found = _EKS_HOST.search(host) or _AKS_HOST.search(host)
    return found["region"] if found else None


def account_from_role(role_arn: str) -> str | None:
    found = _ROLE_ARN.match(role_arn)
    return found["account"] if found else None


def user_labels(labels: dict[str, Any]) -> dict[str, str]:
    """The labels a fleet.yaml cluster carries itself: not the automatic ones, not the tools' own."""
    return {
        str(k): str(v)
        for k, v in sorted(labels.items())
        if k not in AUTO_LABELS and not str(k).startswith(_TOOL_PREFIXES)
    }


def cluster_entry(name: str, source: str, found, **fields: Any) -> dict[str, Any]:
    """A fleet.yaml cluster entry named ``name`` (made a DNS label, with a note), fields that are set only."""
    label = name if valid_name(name) else dns_label(name)
    if label != name:
        found.note(source, f"cluster {name!r} is named {label!r} in fleet.yaml (names are DNS-1123 labels)")
    return {"name": label, **{k: v for k, v in fields.items() if v not in (None, {}, [], "")}}


def existing(provider_type: str | None) -> str | None:
    """``lifecycle`` of a running cluster known from Argo CD or a kubeconfig: it exists, Cluster API did not
    create it (an ``imported`` cluster needs no lifecycle; Cluster API manifests say ``managed``)."""
    return "external" if provider_type and provider_type != "imported" else None
