"""The files of a new GitOps repository (``fleetgen init``): fleet, schema, hooks, CI workflow, README."""

from __future__ import annotations

import json
import re
from importlib import resources
from importlib.metadata import PackageNotFoundError, distribution

from . import __version__
from .schema import schema_text

HOOKS_REPO = "https://github.com/fleetgen/fleetgen"
WORKFLOW = ".github/workflows/fleetgen.yaml"

FLEET = """\
# yaml-language-server: $schema=./fleet.schema.json
# The fleet fleetgen renders into {rendered}/. Add clusters with `fleetgen add-cluster`, bring
# existing ones in with `fleetgen import`, then `fleetgen render` and commit both.
apiVersion: fleetgen/v1alpha1
kind: Fleet
name: {name}

repo:
  url: {repo_url}
  revision: main
  renderedDir: {rendered}

hub:
  name: hub
  argocdNamespace: argocd

environments: [development, staging, production]

defaults:
  kubernetesVersion: "{kubernetes}"

network:
  mesh: cilium
  # add-cluster takes each new cluster's pod and service CIDRs from these pools.
  allocation:
    pods: 10.0.0.0/8
    podPrefix: 16
    services: 172.16.0.0/12
    servicePrefix: 20

clusters: []
"""

PRE_COMMIT = """\
# pre-commit hooks: lint fleet.yaml and keep {rendered}/ rendered (see fleetgen's README, "pre-commit").
repos:
  - repo: {repo}
    rev: {rev}  # {rev_note}
    hooks:
      - id: fleetgen-lint
      - id: fleetgen-render   # fails by re-rendering {rendered}/: stage the result and commit again
"""

README = """\
# {name}

The GitOps repository of the `{name}` fleet, managed with [fleetgen]({repo}) {version}.

- `fleet.yaml` describes every cluster; `{rendered}/` is what Argo CD syncs. Never edit
  `{rendered}/` by hand: change `fleet.yaml`, run `fleetgen render`, commit both.
- `fleetgen lint` checks the fleet; `fleetgen plan` shows what the controllers will do;
  `fleetgen check` is the CI gate (`{workflow}`); `pre-commit install` runs the hooks locally.
- `fleet.schema.json` is the schema editors validate `fleet.yaml` with (`fleetgen schema` prints
  it; refresh it after upgrading fleetgen).
- Existing clusters: `fleetgen import` reads Argo CD cluster Secrets, Cluster API manifests or a
  kubeconfig and adds them to `fleet.yaml` without copying any credential.
"""


def default_name(directory) -> str:
    """A fleet name from a directory's name: lower case, other characters as ``-``."""
    name = re.sub(r"[^a-z0-9-]+", "-", directory.resolve().name.lower()).strip("-")[:63].strip("-")
    return name or "fleet"


_COMMIT = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")


def installed_commit() -> str | None:
    """The git commit pip installed fleetgen from (``pip install "fleetgen @ git+URL@REF"`` records it in
    PEP 610's ``direct_url.json`` as ``vcs_info.commit_id``); None for any other install."""
    try:
        raw = distribution("fleetgen").read_text("direct_url.json")
        commit = (json.loads(raw or "{}").get("vcs_info") or {}).get("commit_id")
    except (PackageNotFoundError, ValueError, AttributeError):
        return None
    return commit if isinstance(commit, str) and _COMMIT.fullmatch(commit) else None


def pin() -> tuple[str, str]:
    """(ref, why) the new repository pins fleetgen to: the installed commit, else the version's release tag,
    which exists only once that version is released, as the comment says."""
    commit = installed_commit()
    if commit:
        return commit, f"the fleetgen commit that wrote this file (fleetgen {__version__})"
    return (
        f"v{__version__}",
        f"the release tag of fleetgen {__version__}: if `git ls-remote --tags {HOOKS_REPO}` does not list it, "
        "set a commit SHA",
    )


def workflow() -> str:
    """The CI workflow shipped with fleetgen, installing the fleetgen that wrote it (``pin``)."""
    text = resources.files("fleetgen").joinpath("templates/github-workflow.yaml").read_text("utf-8")
    # the example leaves FLEETGEN_REF unset on purpose (an unpinned copy fails at install); init pins it
    ref, why = pin()
    return re.sub(r'(FLEETGEN_REF: )"[^"\n]*"', lambda m: f'{m.group(1)}"{ref}"  # {why}', text, count=1)


def files(name: str, repo_url: str, kubernetes: str = "1.31", rendered: str = "rendered") -> dict[str, str]:
    """Relative path -> text of every file ``init`` writes."""
    values = {
        "name": name,
        "repo_url": repo_url,
        "rendered": rendered,
        "kubernetes": kubernetes,
        "repo": HOOKS_REPO,
        "version": __version__,
        "workflow": WORKFLOW,
    }
    values["rev"], values["rev_note"] = pin()
    return {
        "fleet.yaml": FLEET.format(**values),
        "fleet.schema.json": schema_text(),
        ".pre-commit-config.yaml": PRE_COMMIT.format(**values),
        WORKFLOW: workflow(),
        "README.md": README.format(**values),
    }
