"""The secret rules: credentials must never be committed in fleet.yaml."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ..findings import Issue
from ..schema import ca_pem
from .registry import Context, flag, rule


@rule(
    "secret-material", fix="remove it, rotate it, and reference a Secret managed outside git by name", needs_model=False
)
def secret_material(ctx: Context) -> Iterator[Issue]:
    """A value in fleet.yaml looks like a credential.

    fleet.yaml is committed and rendered into a tree Argo CD syncs: a key, token or password in it
    is leaked to everyone who can read the repository, forever (git history). Detected: AWS access
    keys, PEM private keys, GitHub/GitLab/Slack tokens, JWTs, `user:password@` in URLs and
    high-entropy values under password/token/secret-like keys. The message masks the value. A
    fleet with this finding renders nothing.
    """
    from ..secrets import scan_data

    clean, clusters = _clean_clusters(ctx)
    data = ctx.data
    if clean.intersection(clusters):  # a remembered cluster is looked at as an empty mapping: no finding
        data = {**data, "clusters": [{} if s in clean else raw for s, raw in zip(clusters, data["clusters"])]}
    hits = scan_data(data)
    if clusters:
        found = {hit.path[1] for hit in hits if len(hit.path) > 1 and hit.path[0] == "clusters"}
        ctx.remember[SECRET_MATERIAL] = sorted({source for i, source in enumerate(clusters) if i not in found})
    for hit in hits:
        yield flag(hit.path, f"{hit.kind} in fleet.yaml ({hit.masked})")


SECRET_MATERIAL = "secret-material"


def _clean_clusters(ctx: Context) -> tuple[frozenset[str], list[str]]:
    """The source digests the last run found no credential in, and each cluster's, in order (none: the text alone
    does not decide the clusters' data, fleetgen.sources).

    A cluster's findings are its own data's: the scan reads nothing outside the cluster's mapping to judge a value
    in it (a key it stands under is inside it too). Its data is decided by its source (its lines, and the context
    they are read in: ``fleetgen.sources``), and the detectors by the code digest the memory is kept under
    (``fleetgen.lintcache``). So a cluster whose source was found clean is clean: at 5,000 clusters the scan of
    the clusters that did not change is most of this rule's 0.1 s."""
    raws = ctx.data.get("clusters") if isinstance(ctx.data, Mapping) else None
    if ctx.sources is None or not isinstance(raws, list):
        return frozenset(), []
    clusters = [ctx.sources[raw["name"]] for raw in raws]  # fleetgen.sources: every item a mapping with its name
    return frozenset(ctx.remembered.get(SECRET_MATERIAL, ())), clusters


@rule(
    "ca-data-private-key",
    fix="use the CA certificate only: a kubeconfig's certificate-authority-data",
    needs_model=False,
)
def ca_data_private_key(ctx: Context) -> Iterator[Issue]:
    """A cluster's `caData` holds a private key, which must never be in git.

    `caData` is the public CA bundle Argo CD verifies the API server with (base64 PEM
    certificates). A kubeconfig's `client-key-data`, or a CA's key pasted along with its
    certificate, would be committed and rendered into the cluster Secret for everyone who can
    read the repository. Checked on the raw file, so it is reported even when other fields fail
    the schema.
    """
    clusters = ctx.data.get("clusters") if isinstance(ctx.data, Mapping) else None
    for i, cluster in enumerate(clusters if isinstance(clusters, list) else []):
        value = cluster.get("caData") if isinstance(cluster, Mapping) else None
        if isinstance(value, str) and "PRIVATE KEY" in ca_pem(value):
            yield flag(("clusters", i, "caData"), "caData holds a private key, which must never be in git")
