"""``fleetgen diff``: on real git repositories (two commits, ``fleetgen render`` between), all formats,
truncation under GitHub's comment limit, and the semantic diff engine itself."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from fleetgen.diff import (
    ABSENT,
    Change,
    DocumentDiff,
    FleetDiff,
    compare_trees,
    field_path,
    group_shared,
)
from fleetgen.main import cli
from fleetgen.plan.delta import PlanDelta
from fleetgen.report import markdown

from bench.synth import fleet as synthetic_fleet

ROOT = Path(__file__).resolve().parents[1]
BASE = (ROOT / "tests" / "fleets" / "base.yaml").read_text()
CA_LINE = next(line for line in BASE.splitlines(keepends=True) if line.startswith("    caData: "))
PROD_C = (
    """\
  - name: prod-c
    environment: production
    region: ap-south-1
    labels: {tier: standard}
    kubernetesVersion: "1.30.4"
    server: https://c.example.com
    provider: {type: gcp, project: example-project}
    network: {pods: 10.3.0.0/16, services: 10.103.0.0/16, meshID: 4, nodes: 172.22.0.0/20}  # prod-b has the auto VPC
"""
    + CA_LINE
)
# The change under review: more replicas, a new production cluster, prod-a one minor up.
CHANGED = (
    BASE.replace("replicas: 6", "replicas: 9")
    .replace("  - name: stage-a\n", PROD_C + "  - name: stage-a\n")
    .replace(
        "    server: https://a.example.com\n", '    kubernetesVersion: "1.31"\n    server: https://a.example.com\n'
    )
)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def init_repo(repo: Path) -> None:
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "user.name", "test")


def commit_rendered(repo: Path, fleet_text: str, message: str) -> None:
    (repo / "fleet.yaml").write_text(fleet_text)
    result = CliRunner().invoke(cli, ["render", str(repo / "fleet.yaml")])
    assert result.exit_code == 0, result.output
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def history(path: Path, *fleets: str) -> Path:
    """A new repository at ``path`` with one rendered commit per fleet text, oldest first."""
    init_repo(path)
    for number, fleet_text in enumerate(fleets, 1):
        commit_rendered(path, fleet_text, f"fleet version {number}")
    return path


def diff(repo: Path, *args: str):
    return CliRunner().invoke(cli, ["diff", str(repo / "fleet.yaml"), *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return history(tmp_path_factory.mktemp("gitops") / "repo", BASE, CHANGED)  # prod-c, more orders, prod-a 1.31


def fences_balanced(text: str) -> bool:
    """Every opening fence line is closed by a fence line of the same backticks."""
    open_fence = None
    for line in text.splitlines():
        match = re.fullmatch(r"(`{3,})\w*", line)
        if match and open_fence is None:
            open_fence = match.group(1)
        elif open_fence is not None and line == open_fence:
            open_fence = None
    return open_fence is None


# ---------------------------------------------------------------- on a real repository


def test_text_shows_plan_delta_and_semantic_changes(repo):
    result = diff(repo, "--base", "HEAD~1")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "  + prod-c-web (services): apps/web → https://c.example.com\n" in out
    assert "  orders: prod-a 4 → 6, prod-b 2 → 3, prod-c — → 0\n" in out
    assert "  wave 1: 1.30 → 1.31: prod-a\n" in out
    capi = "controlplane.cluster.x-k8s.io/AWSManagedControlPlane prod-a/prod-a  (hub/capi/prod-a.yaml)"
    assert f'    ~ {capi}\n        ~ spec.version: "v1.30" → "v1.31"\n' in out
    assert "    + Secret argocd/cluster-prod-c  (hub/argocd/clusters/prod-c.yaml)\n" in out
    assert re.search(r"^  prod-c\n    \+ ", out, re.M)  # the new cluster's own documents, under its name


def test_repeated_change_is_shown_once_with_its_clusters(repo):
    out = diff(repo, "--base", "HEAD~1").output
    # stage-a (docker) is no ClusterMesh member, so prod-c is a new peer of prod-a and prod-b only.
    assert out.count('+ clustermesh.config.clusters[name=prod-c]: {"name": "prod-c"') == 1
    assert "in 2 clusters: prod-a, prod-b" in out


def test_one_change_to_two_documents_of_a_kind_names_both_files(repo):
    """fleet-platform is in the bootstrap file and in the hub's projects (the second numbered #2): prod-c's
    two destinations are added to both, shown once with both files."""
    out = diff(repo, "--base", "HEAD~1").output
    assert (
        "    ~ argoproj.io/AppProject in 2 documents  (bootstrap/root-app.yaml, "
        "hub/argocd/projects/fleet-platform.yaml)\n"
        '        + spec.destinations[server="https://c.example.com",namespace=monitoring]: '
        '{"server": "https://c.example.com", "namespace": "monitoring"}\n'
        '        + spec.destinations[server="https://kubernetes.default.svc",namespace=prod-c]: '
        '{"server": "https://kubernetes.default.svc", "namespace": "prod-c"}\n'
        "        in 2 documents: argocd/fleet-platform, argocd/fleet-platform #2\n"
    ) in out
    markdown_out = diff(repo, "--base", "HEAD~1", "--format", "markdown").output
    assert (
        "`~ argoproj.io/AppProject in 2 documents` · `bootstrap/root-app.yaml`, "
        "`hub/argocd/projects/fleet-platform.yaml`\n" in markdown_out
    )


def test_json(repo):
    body = json.loads(diff(repo, "--base", "HEAD~1", "--format", "json").output)
    assert body["base"] == "HEAD~1" and body["notes"] == []
    assert body["plan"]["placements"]["orders"] == {
        "prod-a": {"old": 4, "new": 6},
        "prod-b": {"old": 2, "new": 3},
        "prod-c": {"old": None, "new": 0},
    }
    assert [a["name"] for a in body["plan"]["applications"]["added"]] == ["prod-c-web"]
    assert body["plan"]["upgrades"] == [{"wave": 1, "clusters": ["prod-a"], "from": "1.30", "to": "1.31"}]
    ident = "controlplane.cluster.x-k8s.io/AWSManagedControlPlane prod-a/prod-a"
    capi = next(m for m in body["manifests"] if m["id"] == ident)
    assert capi["cluster"] == "hub"
    assert capi["changes"] == [{"path": "spec.version", "old": "v1.30", "new": "v1.31"}]
    assert capi["patch"] == [{"op": "replace", "path": "/spec/version", "value": "v1.31"}]
    added = {(m["cluster"], m["id"]) for m in body["manifests"] if m["status"] == "added"}
    assert ("prod-c", "monitoring.coreos.com/Prometheus monitoring/fleet") in added


def test_markdown_comment(repo):
    out = diff(repo, "--base", "HEAD~1", "--format", "markdown").output
    base = git(repo, "rev-parse", "HEAD~1").strip()
    assert out.startswith(
        f"<!-- fleetgen diff -->\n## fleetgen diff against merge base `{base[:12]}` of `HEAD~1` "
        "and HEAD\n\n**Destroys nothing: no cluster, Application, placement, mesh peer or manifest "
        "is deleted.**\n\n|  | change |\n"
    )
    assert "| Placements | 3 change(s) in 1 workload(s) |" in out
    assert "| orders | prod-a | 4 → 6 |" in out
    assert out.count("<details>") == out.count("</details>") == 4  # shared (the new peer) + hub, karmada, prod-c
    # access.yaml: 2 Namespaces, Argo CD's ClusterRole/Binding, 2 Roles + 2 RoleBindings, Prometheus'
    # ClusterRole/Binding (only here: the monitoring dir Argo CD syncs holds no RBAC); monitoring: the
    # headless thanos-sidecar Service, ServiceAccount, Prometheus, NetworkPolicy; the Cilium values
    assert "<summary><code>prod-c</code>: 15 added, 0 removed, 0 changed</summary>" in out
    assert fences_balanced(out)


def test_no_difference_is_exit_zero(repo):
    result = diff(repo, "--base", "HEAD")
    assert result.exit_code == 0
    assert "no differences" in result.output


def test_missing_ref_exits_two(repo):
    result = CliRunner().invoke(cli, ["diff", str(repo / "fleet.yaml"), "--base", "no-such-branch"])
    assert result.exit_code == 2
    assert "--base no-such-branch: no such commit, branch or tag" in result.output


def test_stale_working_tree_is_noted(tmp_path):
    path = tmp_path / "repo"
    init_repo(path)
    commit_rendered(path, BASE, "base fleet")
    (path / "fleet.yaml").write_text(CHANGED)  # not rendered
    body = json.loads(diff(path, "--base", "HEAD", "--format", "json").output)
    assert "is not what fleet.yaml renders" in body["notes"][0]
    assert body["plan"]["placements"]["orders"]["prod-a"] == {"old": 4, "new": 6}  # the plan uses the model
    assert body["manifests"] == []  # the tree on disk did not change


def test_huge_change_is_truncated_under_githubs_limit(tmp_path):
    base = synthetic_fleet(300)
    changed = synthetic_fleet(300)
    # Every cluster's objects change differently: the pod CIDRs in reverse order. (Not the mesh ids: a
    # Cilium cluster.id cannot change once installed, lint immutable-setting.)
    pods = [c["network"]["pods"] for c in changed["clusters"]]
    for cluster, cidr in zip(changed["clusters"], reversed(pods), strict=True):
        cluster["network"]["pods"] = cidr
    path = tmp_path / "repo"
    init_repo(path)
    commit_rendered(path, json.dumps(base), "300 clusters")
    commit_rendered(path, json.dumps(changed), "pod CIDRs reversed")
    out = diff(path, "--base", "HEAD~1", "--format", "markdown").output
    assert len(out) < 65_536 and len(out.encode()) <= 65_536
    assert fences_balanced(out) and out.count("<details>") == out.count("</details>")
    assert re.search(
        r"_… \d+ more clusters not shown to fit GitHub's comment limit; run `fleetgen diff "
        r"--base HEAD~1` locally for everything\._",
        out,
    )
    full = diff(path, "--base", "HEAD~1").output
    # the text view keeps everything: 250 provisioned Clusters (every 6th cluster is imported), and the
    # cluster-pool values of the azure, vsphere, docker and imported clusters (4 of every 6)
    assert full.count("~ spec.clusterNetwork.pods.cidrBlocks[0]: ") == 250
    assert full.count("~ ipam.operator.clusterPoolIPv4PodCIDRList[0]: ") == 200


# ---------------------------------------------------------------- the engine


def test_key_order_and_formatting_are_not_changes():
    old = {"a.yaml": b"kind: ConfigMap\napiVersion: v1\nmetadata: {name: x, namespace: y}\ndata: {k: 'v'}\n"}
    new = {"a.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: y\n  name: x\ndata:\n  k: v\n"}
    assert compare_trees(old, new) == ()


def test_type_changes_are_changes():
    old = {"clusters/c1/x.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {on: 1}\n"}
    new = {"clusters/c1/x.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {on: true}\n"}
    (doc,) = compare_trees(old, new)
    assert (doc.cluster, doc.ident, doc.changes) == ("c1", "ConfigMap x", (Change("data.on", 1, True),))


def test_field_paths_quote_keys_that_are_not_identifiers():
    path = field_path(["metadata", "labels", "app.kubernetes.io/name"])
    assert path == 'metadata.labels["app.kubernetes.io/name"]'
    assert field_path(["spec", "containers", 0, "image"]) == "spec.containers[0].image"


def test_grouping_keeps_cluster_specific_changes_apart():
    same, own = Change("spec.image", "a", "b"), Change("spec.id", 1, 2)
    docs = [
        DocumentDiff("c1", "K x", "clusters/c1/f.yaml", "changed", (same, own)),
        DocumentDiff("c2", "K x", "clusters/c2/f.yaml", "changed", (same,)),
    ]
    shared, rest = group_shared(docs)
    assert [(s.changes, s.clusters) for s in shared] == [((same,), ("c1", "c2"))]
    assert [(d.cluster, d.changes) for d in rest] == [("c1", (own,))]


def test_a_value_with_backticks_cannot_break_the_fence():
    value = "```\n# not a heading```"
    docs = tuple(
        DocumentDiff(
            f"c{i:03d}",
            "ConfigMap x",
            f"clusters/c{i:03d}/x.yaml",
            "changed",
            tuple(Change(f"data.k{j}", ABSENT, f"{value * 40}{i}") for j in range(40)),
        )
        for i in range(60)
    )
    out = markdown.render(FleetDiff("main", docs, PlanDelta()), limit=20_000)
    assert len(out.encode()) <= 20_000 and fences_balanced(out)
    assert re.search(r"^`{7}diff$", out, re.M) and "more clusters not shown" in out  # "```" * 2 inside


def test_a_template_renamed_for_its_new_content_is_a_change_not_a_destroy(tmp_path):
    """A VM image bump renames the VSphereMachineTemplates (their names carry their content's digest): the review
    shows each as one changed document, its name and image, and `--fail-on destroy` does not fail on it."""
    onprem = (Path(__file__).parent / "fleets" / "onprem.yaml").read_text()
    newer = onprem.replace("ubuntu-2404-kube-v1.31.4", "ubuntu-2404-kube-v1.31.5")
    repo = history(tmp_path / "repo", onprem, newer)
    result = diff(repo, "--base", "HEAD~1", "--no-merge-base", "--format", "json", "--fail-on", "destroy")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    templates = [m for m in body["manifests"] if "/VSphereMachineTemplate " in m["id"]]
    assert templates and {m["status"] for m in templates} == {"changed"}
    for m in templates:
        paths = {c["path"] for c in m["changes"]}
        assert {"metadata.name", "spec.template.spec.template"} <= paths, paths
    assert body["destroy"]["removedDocuments"] == 0


def _template(name: str, spec: dict) -> bytes:
    doc = {
        "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta2",
        "kind": "DockerMachineTemplate",
        "metadata": {"name": name, "namespace": "c"},
        "spec": spec,
    }
    return yaml.safe_dump(doc).encode()


def _statuses(old: bytes, new: bytes) -> list[str]:
    from fleetgen.diff import compare_trees

    return sorted(d.status for d in compare_trees({"hub/capi/c.yaml": old}, {"hub/capi/c.yaml": new}))


def test_only_a_name_ending_in_its_own_contents_digest_is_taken_for_a_rename():
    """A pool name may end in 8 hex digits itself: only the digest of the document's own spec counts as one."""
    from fleetgen.render.capi.common import content_digest

    spec = {"template": {"spec": {}}}
    digest = content_digest(spec)
    # the first render by a fleetgen that names templates after their content: plain name -> digested one
    assert _statuses(_template("c-workers-20250101", spec), _template(f"c-workers-20250101-{digest}", spec)) == [
        "changed"
    ]
    # a pool `gpu-1a2b3c4d` replaced by a pool `gpu`: a real removal and an addition, never paired
    assert _statuses(_template("c-gpu-1a2b3c4d", spec), _template(f"c-gpu-{digest}", spec)) == ["added", "removed"]


def test_a_patch_that_breaks_a_documents_metadata_is_no_traceback():
    from fleetgen.render import File
    from fleetgen.render.capi.common import content_named

    broken = {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "MachineHealthCheck", "metadata": "x"}
    [f] = content_named([File("hub/capi/c.yaml", (broken, None))])
    assert f.documents == (broken, None)


def test_a_change_that_upgrades_several_waves_at_once_says_so(tmp_path):
    """The waves are an order to merge upgrades in: one commit with two waves is synced at once."""
    both = BASE.replace('    kubernetesVersion: "1.30.2"\n', '    kubernetesVersion: "1.31.1"\n')
    a_server = "    server: https://a.example.com\n"
    both = both.replace(a_server, '    kubernetesVersion: "1.31"\n' + a_server)
    repo = history(tmp_path / "repo", BASE, both)
    body = json.loads(diff(repo, "--base", "HEAD~1", "--no-merge-base", "--format", "json").output)
    assert len(body["plan"]["upgrades"]) > 1, body["plan"]["upgrades"]  # the edit upgrades two waves
    assert any("waves at once" in n for n in body["notes"]), body["notes"]
    one = history(tmp_path / "one", BASE, CHANGED)  # prod-a alone: one wave
    notes = json.loads(diff(one, "--base", "HEAD~1", "--format", "json").output)["notes"]
    assert not any("waves at once" in n for n in notes)
