"""``fleetgen add-cluster``: append a cluster with free CIDRs and mesh id, then print its runbook.

The new entry has no ``server`` unless ``--server`` gives one: the cluster is pending registration
(no Argo CD Secret, no Karmada membership) until ``fleetgen register`` records its endpoint. A
vSphere cluster needs it up front: CAPV's VSphereCluster takes the control-plane endpoint before any
VM exists (with kube-vip, the free IPv4 address kube-vip will announce). Its version, when not
given, is the newest its environment runs in fleet.yaml, written only when ``defaults`` would
give another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click

from .. import versions
from ..allocate import Allocated, allocate
from ..edit import set_weights
from ..model import Cluster, Fleet
from ..render.karmada import join_command, karmada_endpoint, register_command, register_server
from ..report import text
from ..schema import schema_document
from .check import display
from .common import colour, fleet_argument, out_option
from .runbook import Session, dry_run_option, finish, open_fleet

PROVIDERS = ("aws", "gcp", "azure", "vsphere", "docker", "imported")
WAIT_TIMEOUT = "60m"


def provider_fields() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Per provider type, (required, allowed) ``provider.*`` fields, read from the fleet schema."""
    spec = schema_document()["$defs"]["cluster"]["properties"]["provider"]
    allowed = tuple(k for k in spec["properties"] if k != "type")
    required = {rule["if"]["properties"]["type"]["const"]: tuple(rule["then"]["required"]) for rule in spec["allOf"]}
    return {p: (required.get(p, ()), allowed) for p in PROVIDERS}


def parse_pairs(values: Sequence[str], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key or not item:
            raise click.BadParameter(f"{value!r}: expected KEY=VALUE", param_hint=option)
        if key in pairs:
            raise click.BadParameter(f"{key!r} given twice", param_hint=option)
        pairs[key] = item
    return pairs


def parse_weights(values: Sequence[str]) -> dict[str, int]:
    """``WORKLOAD=N`` pairs; N as the schema allows a weight (1 to 1,000,000)."""
    out = {}
    for key, value in parse_pairs(values, "--weight").items():
        if not value.isdigit() or not 1 <= int(value) <= 1_000_000:
            raise click.BadParameter(
                f"{key}={value}: the weight is a whole number from 1 to 1000000", param_hint="--weight"
            )
        out[key] = int(value)
    return out


def parse_pool(spec: str) -> dict[str, Any]:
    """``POOL=TYPE:MIN:MAX`` -> a nodePools entry."""
    name, sep, rest = spec.partition("=")
    parts = rest.rsplit(":", 2)
    if not sep or not name or len(parts) != 3 or not all(p.isdigit() for p in parts[1:]) or not parts[0]:
        raise click.BadParameter(
            f"{spec!r}: expected POOL=TYPE:MIN:MAX, e.g. general=m6i.xlarge:3:10", param_hint="--nodes"
        )
    low, high = int(parts[1]), int(parts[2])
    if low > high:
        raise click.BadParameter(f"{spec!r}: MIN {low} is above MAX {high}", param_hint="--nodes")
    return {"name": name, "instanceType": parts[0], "min": low, "max": high}


def check_provider(provider: str, fields: Mapping[str, str]) -> None:
    required, allowed = provider_fields()[provider]
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise click.BadParameter(
            f"unknown provider field(s) {', '.join(unknown)}; provider fields are {', '.join(allowed)}",
            param_hint="--provider-field",
        )
    missing = [f for f in required if f not in fields]
    if missing:
        example = " ".join(f"--provider-field {f}=…" for f in missing)
        raise click.BadParameter(
            f"provider {provider} needs {', '.join(missing)}: add {example}", param_hint="--provider-field"
        )


def environment_version(fleet: Fleet, environment: str) -> str | None:
    """The newest version fleet.yaml gives a cluster of ``environment`` (what it is moving to)."""
    found = [c.kubernetes_version for c in fleet.clusters if c.environment == environment]
    return max(found, key=versions.parse) if found else None


def cluster_entry(options: Mapping[str, Any], allocated: Allocated, version: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": options["name"],
        "environment": options["environment"],
        "region": options["region"],
    }
    if options["labels"]:
        entry["labels"] = dict(options["labels"])
    if version is not None:
        entry["kubernetesVersion"] = version
    if options.get("server"):
        entry["server"] = options["server"]
    entry["provider"] = {"type": options["provider"], **options["fields"]}
    network: dict[str, Any] = {"pods": str(allocated.pods), "services": str(allocated.services)}
    if allocated.nodes is not None:
        network["nodes"] = str(allocated.nodes)
    if allocated.mesh_id is not None:
        network["meshID"] = allocated.mesh_id
    entry["network"] = network
    if options["pools"]:
        entry["nodePools"] = list(options["pools"])
    return entry


def _version(session: Session, environment: str, wanted: str | None) -> str | None:
    """The version to write on the entry; None to inherit ``defaults`` unchanged."""
    inherited = (session.before.document.data.get("defaults") or {}).get("kubernetesVersion")
    version = wanted or environment_version(session.fleet, environment) or inherited
    if version is None:
        raise click.BadParameter(
            "no defaults.kubernetesVersion and no cluster in this environment to copy "
            "it from: pass --kubernetes-version",
            param_hint="--kubernetes-version",
        )
    return None if version == inherited else version


def check_server(provider: str, server: str | None) -> None:
    """A vSphere cluster cannot be created without its endpoint (the schema's vSphere rule)."""
    if provider == "vsphere" and not server:
        raise click.BadParameter(
            "a vSphere cluster needs its control-plane endpoint before it exists: add "
            "--server https://<free IPv4 address for kube-vip>:6443 (or your load "
            "balancer's URL with --provider-field loadBalancer=external)",
            param_hint="--server",
        )


def _validate(session: Session, name: str, environment: str, labels: Mapping[str, str]) -> None:
    if session.fleet.cluster(name) is not None:
        raise click.BadParameter(f"cluster {name!r} already exists in {session.label}", param_hint="NAME")
    if environment not in session.fleet.environments:
        raise click.BadParameter(
            f"{environment!r} is not one of the fleet's environments: {', '.join(session.fleet.environments)}",
            param_hint="--environment",
        )
    reserved = sorted(set(labels) & {"name", "environment", "region", "provider"})
    if reserved:
        raise click.BadParameter(f"{', '.join(reserved)} are set automatically", param_hint="--label")


@click.command("add-cluster")
@click.argument("name")
@fleet_argument
@click.option("--environment", required=True, help="One of the fleet's environments.")
@click.option("--region", required=True, help="Provider region (us-east-1, europe-west1, westeurope, …).")
@click.option("--provider", "provider", required=True, type=click.Choice(PROVIDERS), help="provider.type")
@click.option(
    "--provider-field",
    "fields",
    multiple=True,
    metavar="KEY=VALUE",
    help="A provider.* field, repeatable: aws accountID, roleARN; gcp project; azure "
    "subscriptionID, resourceGroup; vsphere server (vCenter), datacenter, template, thumbprint, "
    "datastore, resourcePool, folder, network, storagePolicyName, loadBalancer.",
)
@click.option(
    "--server",
    metavar="URL",
    help="The cluster's API endpoint, when known now (a vSphere cluster "
    "needs it: the kube-vip address https://<IPv4>:6443 or its load balancer).",
)
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE", help="An extra cluster label, repeatable.")
@click.option(
    "--nodes",
    "pools",
    multiple=True,
    metavar="POOL=TYPE:MIN:MAX",
    help="A node pool, repeatable (default: the pools in defaults).",
)
@click.option(
    "--kubernetes-version",
    "version",
    metavar="X.Y",
    help="Default: the newest version of the environment, else defaults.kubernetesVersion.",
)
@click.option(
    "--weight",
    "weights",
    multiple=True,
    metavar="WORKLOAD=N",
    help="The new cluster's static weight in a weighted workload, repeatable (lint zero-weight).",
)
@out_option
@dry_run_option
def command(
    name, fleet, environment, region, provider, fields, server, labels, pools, version, weights, out, dry_run
) -> int:
    """Append cluster NAME to FLEET with free pod/service (and node) CIDRs and mesh id from network.allocation."""
    session = open_fleet(fleet, out)
    options = {
        "name": name,
        "environment": environment,
        "region": region,
        "provider": provider,
        "labels": parse_pairs(labels, "--label"),
        "fields": parse_pairs(fields, "--provider-field"),
        "pools": [parse_pool(p) for p in pools],
        "server": server,
    }
    _validate(session, name, environment, options["labels"])
    check_provider(provider, options["fields"])
    check_server(provider, server)
    allocated = allocate(session.fleet, provider)
    if not isinstance(allocated, Allocated):
        click.echo(text.render([session.before.document.place(allocated)], colour=colour()), nl=False, err=True)
        return 1
    editor = session.editor()
    editor.append(("clusters",), cluster_entry(options, allocated, _version(session, environment, version)))
    set_weights(editor, name, parse_weights(weights))
    after = finish(session, editor.result(), dry_run)
    if after is not None and not dry_run:
        click.echo(next_steps(session, after.model.named(name)), nl=False)
    return 0


def next_steps(session: Session, cluster: Cluster) -> str:
    """The runbook for the new cluster, from render to verified Applications."""
    fleet_arg = "" if session.label == "fleet.yaml" else f" {session.label}"
    name = cluster.name
    steps = [f"fleetgen render{fleet_arg}   # then commit fleet.yaml and the rendered tree, open the PR"]
    if cluster.provisioned and cluster.provider.type == "vsphere":
        steps += [
            f"kubectl -n {name} create secret generic vsphere-cpi-credentials "
            "--type=addons.cluster.x-k8s.io/resource-set --from-file=data=cpi-credentials.yaml"
            "   # on the hub: the vCenter account the cloud controller uses "
            "(docs/controllers/capi.md#vsphere-cloud-controller-cpi)",
            f"kubectl -n {name} create secret generic vsphere-csi-credentials "
            "--type=addons.cluster.x-k8s.io/resource-set --from-file=data=csi-credentials.yaml"
            "   # on the hub: csi-vsphere.conf for the CSI driver (docs/controllers/capi.md#vsphere-csi-driver)",
        ]
    if cluster.provisioned:
        steps += [
            f"kubectl wait --for=condition=ControlPlaneInitialized cluster/{name} -n {name} "
            f"--timeout={WAIT_TIMEOUT}   # on the hub, once Argo CD synced hub/capi/{name}.yaml",
            f"clusterctl get kubeconfig {name} -n {name} > {name}.kubeconfig",
            f"kubectl get cluster/{name} -n {name} -o jsonpath="
            "'https://{.spec.controlPlaneEndpoint.host}:{.spec.controlPlaneEndpoint.port}'"
            "   # the API endpoint",
        ]
    ca = " --ca-data <certificate-authority-data>" if cluster.provider.type in ("aws", "gcp", "azure") else ""
    if not cluster.registered:
        steps += [
            f"fleetgen register {name}{fleet_arg} --server https://<api-endpoint>{ca}",
            f"fleetgen render{fleet_arg}   # adds its Argo CD Secret and Karmada placements; commit",
        ]
    steps += [
        f"kubectl --kubeconfig {name}.kubeconfig apply -f "
        f"{display(session.out)}/clusters/{name}/access.yaml   # Argo CD's RBAC on the spoke, once"
    ]
    steps += _karmada_step(session.fleet, cluster)
    steps += [f"fleetgen plan{fleet_arg}   # verify the Applications and placements for {cluster.name}"]
    notes = (
        "The v1beta2 Cluster has no Ready condition; ControlPlaneInitialized means its API server "
        "answers (Available also waits for worker nodes, which need the CNI Argo CD delivers after "
        "registration).\n"
        if cluster.provisioned
        else ""
    )
    body = "".join(f"  {i}. {step}\n" for i, step in enumerate(steps, 1))
    return f"next steps for {cluster.name}:\n{body}{notes}"


def _karmada_step(fleet: Fleet, cluster: Cluster) -> list[str]:
    if fleet.karmada_server is None or not cluster.karmada_member:
        return []
    if cluster.argocd_mode == "pull":
        return [
            register_command(cluster, karmada_endpoint(register_server(fleet)))
            + "   # on the member: it dials out, installs karmada-agent"
        ]
    return [join_command(cluster) + "   # joins it to Karmada (push mode)"]
