"""Argo CD cluster Secrets -> cluster entries: name, server, labels, caData, provider and its identity.

The Secret layout is Argo CD's declarative cluster (docs/operator-manual/declarative-setup.md,
util/db/cluster.go ``SecretToCluster``): ``name``, ``server`` and the ``config`` JSON in
``stringData`` or base64 ``data``. The provider comes from the credential-free authentication
the Secret uses: ``awsAuthConfig`` (EKS), ``execProviderConfig`` running ``argocd-k8s-auth
gcp|azure|aws``, ``gke-gcloud-auth-plugin``, ``kubelogin`` or ``aws eks get-token``; else from
a ``provider`` label; else ``imported``. Bearer tokens, basic-auth passwords, client
certificates and keys, and exec environments are never copied: each one dropped is a note.
An argocd-agent Secret (label ``argocd-agent.argoproj-labs.io/agent-name``) is a pull-mode
cluster whose ``server`` is the principal's resource proxy, not the cluster's API endpoint.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from ..labels import MODE_LABEL
from . import Found
from .common import PROVIDER_TYPES, account_from_role, cluster_entry, existing, region_from_server, user_labels

SECRET_TYPE = "argocd.argoproj.io/secret-type"
AGENT_LABEL = "argocd-agent.argoproj-labs.io/agent-name"
_CREDENTIALS = ("bearerToken", "username", "password")
_CLIENT_TLS = ("certData", "keyData")
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|KEY|CREDENTIAL", re.I)  # exec env names holding one


def is_cluster_secret(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and doc.get("kind") == "Secret"
        and ((doc.get("metadata") or {}).get("labels") or {}).get(SECRET_TYPE) == "cluster"
    )


def secret_fields(doc: dict[str, Any]) -> dict[str, str]:
    """``stringData`` over base64-decoded ``data``, as the API server merges them."""
    out: dict[str, str] = {}
    for key, value in (doc.get("data") or {}).items():
        try:
            out[key] = base64.b64decode(str(value), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue
    out.update({k: str(v) for k, v in (doc.get("stringData") or {}).items()})
    return out


def from_secret(doc: dict[str, Any], source: str, found: Found) -> None:
    meta = doc.get("metadata") or {}
    labels, fields = meta.get("labels") or {}, secret_fields(doc)
    where = f"{source}: Secret {meta.get('name', '?')}"
    try:
        config = json.loads(fields.get("config") or "{}")
    except json.JSONDecodeError:
        found.note(where, "config is not JSON; its authentication was not read")
        config = {}
    config = config if isinstance(config, dict) else {}
    _drop_credentials(config, where, found)
    provider, identity = _provider(config, labels)
    pull = AGENT_LABEL in labels or labels.get(MODE_LABEL) == "pull"
    name = str(labels[AGENT_LABEL] if AGENT_LABEL in labels else fields.get("name") or meta.get("name", ""))
    server = None if pull else fields.get("server")
    if pull:
        found.gap(
            name,
            "server",
            where,
            f"pull-mode (argocd-agent) cluster {name!r}: its server is the principal's "
            "resource proxy, not the cluster's API endpoint; set server to the cluster's "
            "own endpoint",
        )
    tls = config.get("tlsClientConfig") or {}
    if tls.get("insecure"):
        found.note(where, "tlsClientConfig.insecure is set; fleetgen always verifies: set caData instead")
    region = labels.get("region") or (region_from_server(server) if server else None)
    entry = cluster_entry(
        name,
        where,
        found,
        environment=labels.get("environment"),
        region=region,
        labels=user_labels(labels),
        server=server,
        caData=tls.get("caData"),
        provider={"type": provider, **identity},
        lifecycle=existing(provider),
        argocd={"mode": "pull"} if pull else None,
    )
    found.add(entry, where)
    eks_name = (config.get("awsAuthConfig") or {}).get("clusterName")
    if eks_name and eks_name != entry["name"]:
        found.note(
            where,
            f"the EKS cluster is named {eks_name!r} but the fleet cluster {entry['name']!r}: fleetgen "
            "uses the fleet name as the EKS name (awsAuthConfig, eksClusterName); name it "
            f"{eks_name!r} in fleet.yaml if it is a DNS label",
        )


def _drop_credentials(config: dict[str, Any], where: str, found: Found) -> None:
    dropped = [k for k in _CREDENTIALS if config.get(k)]
    dropped += [f"tlsClientConfig.{k}" for k in _CLIENT_TLS if (config.get("tlsClientConfig") or {}).get(k)]
    env = (config.get("execProviderConfig") or {}).get("env") or {}
    dropped += [f"execProviderConfig.env.{k}" for k in sorted(env) if SECRET_NAME.search(str(k))]
    if dropped:
        found.note(
            where,
            f"dropped {', '.join(dropped)}: credentials never go into fleet.yaml; fleetgen renders "
            "credential-free authentication or expects them merged outside git",
        )


def _provider(config: dict[str, Any], labels: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """(provider type, identity fields) from the authentication the Secret configures."""
    aws = config.get("awsAuthConfig") or {}
    if aws:
        return "aws", aws_identity(aws.get("roleARN", ""))
    run = config.get("execProviderConfig") or {}
    command, args = str(run.get("command", "")).rsplit("/", 1)[-1], [str(a) for a in run.get("args") or ()]
    if command == "argocd-k8s-auth" and args and args[0] in ("aws", "gcp", "azure"):
        return args[0], aws_identity(flag(args, "--role-arn")) if args[0] == "aws" else {}
    if command == "gke-gcloud-auth-plugin":
        return "gcp", {}
    if command == "kubelogin":
        return "azure", {}
    if command in ("aws", "aws-iam-authenticator"):
        return "aws", aws_identity(flag(args, "--role-arn") or flag(args, "-r"))
    label = labels.get("provider")
    return (label, {}) if label in PROVIDER_TYPES else ("imported", {})


def aws_identity(role_arn: str) -> dict[str, str]:
    account = account_from_role(role_arn) if role_arn else None
    return {**({"accountID": account} if account else {}), **({"roleARN": role_arn} if role_arn else {})}


def flag(args: list[str], flag: str) -> str:
    """The value of ``--flag value`` or ``--flag=value`` in an argument list."""
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return ""
