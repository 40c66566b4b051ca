"""``fleetgen register``: record a cluster's API endpoint once it exists.

With a ``server`` the cluster gets its Argo CD cluster Secret (and so the Applications its
selectors match) and becomes a Karmada member on the next render. ``--ca-data`` records the API
server's public CA, which Argo CD needs to trust an EKS, GKE or AKS endpoint (lint ``ca-data``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import click

from ..render.karmada import member_commands
from .common import fleet_argument, out_option
from .runbook import cluster_index, dry_run_option, finish, keys_before, open_fleet


def check_server(url: str) -> str:
    """An https URL with a host and nothing that could carry a credential (user info, query, fragment)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise click.BadParameter(f"{url!r}: {exc}", param_hint="--server") from None
    extra = parts.query or parts.fragment or url.endswith(("?", "#"))
    problem = (
        "must start with https://"
        if parts.scheme != "https"
        else "has no host"
        if not parts.hostname
        else "must not carry user info (credentials never go into fleet.yaml)"
        if "@" in parts.netloc
        else "must not have a query or fragment"
        if extra
        else "has port 0"
        if port == 0
        else None
    )
    if problem:
        raise click.BadParameter(f"{url!r} {problem}", param_hint="--server")
    return url


@click.command("register")
@click.argument("name")
@fleet_argument
@click.option("--server", required=True, metavar="URL", help="The cluster's API endpoint, https://host[:port].")
@click.option(
    "--ca-data",
    "ca_data",
    metavar="BASE64",
    help="The API server's public CA bundle, base64 PEM (a kubeconfig's certificate-authority-data).",
)
@out_option
@dry_run_option
def command(name, fleet, server, ca_data, out, dry_run) -> int:
    """Set the API endpoint of cluster NAME in FLEET: turns on its Argo CD Secret and Karmada membership."""
    session = open_fleet(fleet, out)
    index = cluster_index(session, name)
    editor = session.editor()
    editor.set(("clusters", index, "server"), check_server(server), after=keys_before("server"))
    if ca_data:
        editor.set(("clusters", index, "caData"), ca_data, after=keys_before("caData"))
    after = finish(session, editor.result(), dry_run)
    if after is None or dry_run:
        return 0
    commands = dict(member_commands(after.model))
    click.echo(f"next: `fleetgen render` and commit; then make {name} a Karmada member:")
    click.echo(f"  {commands[name]}" if name in commands else "  (not a Karmada member: nothing to join)")
    return 0
