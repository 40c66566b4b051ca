"""A kubeconfig -> cluster entries: the server and CA of each context's cluster, the provider of its user.

Context names say more than the cluster entry: ``aws eks update-kubeconfig`` names them by the
cluster ARN (``arn:aws:eks:<region>:<account>:cluster/<name>``), ``gcloud container clusters
get-credentials`` as ``gke_<project>_<location>_<name>``. The user's exec plugin names the
provider (``aws eks get-token``, ``gke-gcloud-auth-plugin``, ``kubelogin``). Tokens, client
certificates and keys, passwords and exec environments are never copied; each is a note.
"""

from __future__ import annotations

import re
from typing import Any

from . import Found
from .argocd import SECRET_NAME
from .common import cluster_entry, existing, region_from_server

_EKS_ARN = re.compile(r"^arn:aws[a-z-]*:eks:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):cluster/(?P<name>.+)$")
_GKE_CONTEXT = re.compile(r"^gke_(?P<project>[a-z][-a-z0-9]{4,28}[a-z0-9])_(?P<location>[a-z0-9-]+)_(?P<name>.+)$")
_USER_SECRETS = (
    "token",
    "tokenFile",
    "client-key-data",
    "client-key",
    "client-certificate-data",
    "client-certificate",
    "password",
    "username",
    "auth-provider",
)


def is_kubeconfig(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("kind") == "Config" and "clusters" in doc


def _named(doc: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    return {str(item.get("name")): item.get(key[:-1]) or {} for item in doc.get(key) or () if isinstance(item, dict)}


def from_kubeconfig(doc: dict[str, Any], source: str, found: Found) -> None:
    clusters, users = _named(doc, "clusters"), _named(doc, "users")
    for item in doc.get("contexts") or ():
        context = item.get("context") or {}
        cluster = clusters.get(str(context.get("cluster")))
        if cluster is None:
            continue
        where = f"{source}: context {item.get('name')}"
        user = users.get(str(context.get("user")), {})
        _drop(user, where, found)
        found.add(_entry(str(item.get("name")), cluster, user, where, found), where)


def _entry(context: str, cluster: dict[str, Any], user: dict[str, Any], where: str, found: Found) -> dict[str, Any]:
    server = cluster.get("server")
    provider, name, region = _from_user(user), context, region_from_server(server or "")
    eks, gke = _EKS_ARN.match(context), _GKE_CONTEXT.match(context)
    if eks:
        found.note(where, "set provider.roleARN to the role Argo CD assumes (the kubeconfig's role is yours)")
        name, region = eks["name"], eks["region"]
        provider = {"type": "aws", "accountID": eks["account"], **provider}
    elif gke:
        name, region = gke["name"], gke["location"]
        provider = {"type": "gcp", "project": gke["project"], **provider}
    if "certificate-authority" in cluster and "certificate-authority-data" not in cluster:
        found.note(where, "the CA is a file (certificate-authority); put its base64 PEM in caData")
    if cluster.get("insecure-skip-tls-verify"):
        found.note(where, "insecure-skip-tls-verify is set; fleetgen always verifies: set caData")
    return cluster_entry(
        name,
        where,
        found,
        region=region,
        server=server,
        caData=cluster.get("certificate-authority-data"),
        provider=provider,
        lifecycle=existing(provider.get("type")),
    )


def _from_user(user: dict[str, Any]) -> dict[str, str]:
    """Provider type and identity from the user's exec credential plugin."""
    run = user.get("exec") or {}
    command = str(run.get("command", "")).rsplit("/", 1)[-1]
    if command in ("aws", "aws-iam-authenticator"):  # a --role-arn here is the person's, not Argo CD's
        return {"type": "aws"}
    if command == "gke-gcloud-auth-plugin":
        return {"type": "gcp"}
    if command == "kubelogin":
        return {"type": "azure"}
    return {}


def _drop(user: dict[str, Any], where: str, found: Found) -> None:
    dropped = [k for k in _USER_SECRETS if user.get(k)]
    env = (user.get("exec") or {}).get("env") or ()
    names = [str(e.get("name")) for e in env if isinstance(e, dict)]
    dropped += [f"exec.env.{name}" for name in names if SECRET_NAME.search(name)]
    if dropped:
        found.note(where, f"dropped the user's {', '.join(dropped)}: credentials never go into fleet.yaml")
