"""The secret-material rule: credentials must never be committed in fleet.yaml."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Issue, issue
from .registry import Context, rule


@rule("secret-material", fix="remove it, rotate it, and reference a Secret managed outside git by name",
      needs_model=False)
def secret_material(ctx: Context) -> Iterator[Issue]:
    """A value in fleet.yaml looks like a credential.

    fleet.yaml is committed and rendered into a tree Argo CD syncs: a key, token or password in it
    is leaked to everyone who can read the repository, forever (git history). Detected: AWS access
    keys, PEM private keys, GitHub/GitLab/Slack tokens, JWTs, `user:password@` in URLs and
    high-entropy values under password/token/secret-like keys. The message masks the value. A
    fleet with this finding renders nothing.
    """
    from ..secrets import scan_data

    for hit in scan_data(ctx.data):
        yield issue("secret-material", hit.path, f"{hit.kind} in fleet.yaml ({hit.masked})")
