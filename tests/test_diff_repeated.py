"""``fleetgen diff``: one change made identically to several documents of one kind in one cluster (the hub's
Thanos store gateway per cluster) is shown once, with the count and the documents; on real git repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fleetgen.diff import Change, DocumentDiff, group_repeated

from tests.test_diff import BASE, diff, history

OLD_IMAGE, NEW_IMAGE = "quay.io/thanos/thanos:v0.38.0", "quay.io/thanos/thanos:v0.38.1"  # v0.38.0: the default
SECRET = BASE.replace(
    "applicationSets:\n", "observability:\n  thanos:\n    objectStorageSecret: metrics-bucket\napplicationSets:\n"
)
SECRET_AND_IMAGE = SECRET.replace("    objectStorageSecret:", f"    image: {NEW_IMAGE}\n    objectStorageSecret:")
QUERIER = "hub/observability/thanos-querier.yaml"  # the Querier; each cluster's store gateway is in its own file


def store(cluster: str) -> str:
    return f"hub/observability/stores/{cluster}.yaml"


CLUSTERS = ("prod-a", "prod-b", "stage-a")
STORES = ", ".join(store(c) for c in CLUSTERS)  # the grouped entry names each file
HUB_IMAGE = (  # the hub's part of the text report for the image change: the Querier, then the gateways once
    "  hub\n"
    f"    ~ apps/Deployment monitoring/thanos-querier  ({QUERIER})\n"
    f'        ~ spec.template.spec.containers[name=thanos-query].image: "{OLD_IMAGE}" → "{NEW_IMAGE}"\n'
    f"    ~ apps/StatefulSet in 3 documents  ({STORES})\n"
    f'        ~ spec.template.spec.containers[name=thanos-store].image: "{OLD_IMAGE}" → "{NEW_IMAGE}"\n'
    "        in 3 documents: monitoring/thanos-store-prod-a, monitoring/thanos-store-prod-b, "
    "monitoring/thanos-store-stage-a\n"
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """base -> a new object-store Secret name (each gateway reads `<secret>-<cluster>`) -> a new Thanos image."""
    return history(tmp_path_factory.mktemp("repeated") / "repo", BASE, SECRET, SECRET_AND_IMAGE)


def output(repo: Path, *args: str) -> str:
    result = diff(repo, *args)
    assert result.exit_code == 0, result.output
    return result.output


def test_an_image_change_is_one_entry_naming_each_store_gateway(repo):
    out = output(repo, "--base", "HEAD~1")
    body = out.split("\n", 1)[1]  # after the line naming the base commit
    assert body == (
        "Destroys nothing: no cluster, Application, placement, mesh peer or manifest is deleted\n"
        "Plan: unchanged\n"
        "Manifests: 0 added, 0 removed, 7 changed\n"
        "  the same change in several clusters\n"
        "    ~ monitoring.coreos.com/Prometheus monitoring/fleet\n"
        f'        ~ spec.thanos.image: "{OLD_IMAGE}" → "{NEW_IMAGE}"\n'
        '        ~ spec.thanos.version: "v0.38.0" → "v0.38.1"\n'
        "        in 3 clusters: prod-a, prod-b, stage-a\n" + HUB_IMAGE
    )


def test_markdown_shows_the_image_change_once_in_the_hubs_block(repo):
    out = output(repo, "--base", "HEAD~1", "--format", "markdown")
    hub = out[out.index("#### Per cluster (1)\n") :]
    assert hub == (
        "#### Per cluster (1)\n\n"
        "<details><summary><code>hub</code>: 0 added, 0 removed, 4 changed</summary>\n\n"
        f"`~ apps/Deployment monitoring/thanos-querier` · `{QUERIER}`\n\n"
        "```diff\n"
        f'~ spec.template.spec.containers[name=thanos-query].image: "{OLD_IMAGE}" → "{NEW_IMAGE}"\n'
        "```\n\n"
        f"`~ apps/StatefulSet in 3 documents` · {', '.join(f'`{store(c)}`' for c in CLUSTERS)}\n\n"
        "```diff\n"
        f'~ spec.template.spec.containers[name=thanos-store].image: "{OLD_IMAGE}" → "{NEW_IMAGE}"\n'
        "in 3 documents: monitoring/thanos-store-prod-a, monitoring/thanos-store-prod-b, "
        "monitoring/thanos-store-stage-a\n"
        "```\n\n"
        "</details>\n\n"
    )
    assert out.count("thanos-store].image") == 1


def test_the_groups_file_links_to_the_head_when_github_variables_are_set(repo):
    from tests.test_diff_review import markdown_with

    env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/fleet", "GITHUB_SHA": "e" * 40}
    url = f"https://github.com/acme/fleet/blob/{'e' * 40}/rendered/"
    links = ", ".join(f"[{store(c)}]({url}{store(c)})" for c in CLUSTERS)
    assert f"`~ apps/StatefulSet in 3 documents` · {links}\n" in markdown_with(repo, env)


def test_json_adds_the_group_and_keeps_every_document(repo):
    body = json.loads(output(repo, "--base", "HEAD~1", "--format", "json"))
    image = {"path": "spec.template.spec.containers[name=thanos-store].image", "old": OLD_IMAGE, "new": NEW_IMAGE}
    gateways = [f"apps/StatefulSet monitoring/thanos-store-{c}" for c in CLUSTERS]
    assert body["repeated"] == [
        {
            "cluster": "hub",
            "kind": "apps/StatefulSet",
            "status": "changed",
            "count": 3,
            "changes": [image],
            "documents": [{"id": g, "file": store(c)} for g, c in zip(gateways, CLUSTERS)],
        }
    ]
    # backward compatible: `manifests` still lists each gateway with its change (and its patch)
    listed = {m["id"]: m for m in body["manifests"] if m["id"] in gateways}
    assert [listed[g]["changes"] for g in gateways] == [[image]] * 3
    assert listed[gateways[0]]["patch"] == [
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": NEW_IMAGE}
    ]


def test_a_change_that_differs_per_document_stays_per_document(repo):
    """A new object-store Secret: each gateway reads its own `<secret>-<cluster>`, so each is listed; with the
    image in the same change, the image is grouped and each gateway keeps its own line."""
    secret = "spec.template.spec.volumes[name=objstore].secret.secretName"
    own = "".join(
        f"    ~ apps/StatefulSet monitoring/thanos-store-{c}  ({store(c)})\n"
        f'        ~ {secret}: "thanos-objstore-{c}" → "metrics-bucket-{c}"\n'
        for c in CLUSTERS
    )
    both = output(repo, "--base", "HEAD~2")
    assert both.endswith(HUB_IMAGE + own)
    body = json.loads(output(repo, "--base", "HEAD~2", "--format", "json"))
    assert [(r["kind"], r["count"], [c["path"] for c in r["changes"]]) for r in body["repeated"]] == [
        ("apps/StatefulSet", 3, ["spec.template.spec.containers[name=thanos-store].image"])
    ]


def test_secret_alone_groups_nothing(tmp_path):
    repo = history(tmp_path / "repo", BASE, SECRET)
    out = output(repo, "--base", "HEAD~1")
    secret = "spec.template.spec.volumes[name=objstore].secret.secretName"
    assert out.endswith(
        "  hub\n"
        + "".join(
            f"    ~ apps/StatefulSet monitoring/thanos-store-{c}  ({store(c)})\n"
            f'        ~ {secret}: "thanos-objstore-{c}" → "metrics-bucket-{c}"\n'
            for c in CLUSTERS
        )
    )
    assert " documents" not in out
    assert json.loads(output(repo, "--base", "HEAD~1", "--format", "json"))["repeated"] == []
    markdown = output(repo, "--base", "HEAD~1", "--format", "markdown")
    assert "`~ apps/StatefulSet monitoring/thanos-store-prod-b` · `hub/observability/stores/prod-b.yaml`" in markdown


# ---------------------------------------------------------------- what groups, at the diff layer

IMAGE = Change("spec.image", "a", "b")


def doc(cluster: str, kind: str, name: str, *changes: Change, status: str = "changed") -> DocumentDiff:
    ident = f"{kind} {name}" if kind else name
    return DocumentDiff(cluster, ident, f"{cluster}/{name}.yaml", status, changes, kind=kind)


def test_only_the_same_change_in_documents_of_one_kind_in_one_cluster_groups():
    docs = [
        doc("hub", "apps/StatefulSet", "ns/s1", IMAGE),
        doc("hub", "apps/StatefulSet", "ns/s2", IMAGE, Change("spec.replicas", 1, 2)),
        doc("hub", "apps/Deployment", "ns/d1", IMAGE),  # another kind: its own line
        doc("c1", "apps/StatefulSet", "ns/s1", IMAGE),  # another cluster
        doc("hub", "apps/StatefulSet", "ns/s3", Change("spec.image", "a", "c")),  # another new value
        doc("hub", "apps/StatefulSet", "ns/s4", status="added"),  # no change to compare
        doc("hub", "apps/StatefulSet", "ns/s5", status="added"),
        doc("hub", "", "README.md", Change("line 1", "x", "y")),  # documents without a kind never group
        doc("hub", "", "notes.md", Change("line 1", "x", "y")),
    ]
    groups, rest = group_repeated(docs)
    assert [(g.cluster, g.kind, g.changes, g.names, g.files) for g in groups] == [
        ("hub", "apps/StatefulSet", (IMAGE,), ["ns/s1", "ns/s2"], ["hub/ns/s1.yaml", "hub/ns/s2.yaml"])
    ]
    assert [(d.cluster, d.ident, d.changes) for d in rest] == [
        ("hub", "apps/StatefulSet ns/s2", (Change("spec.replicas", 1, 2),)),
        ("hub", "apps/Deployment ns/d1", (IMAGE,)),
        ("c1", "apps/StatefulSet ns/s1", (IMAGE,)),
        ("hub", "apps/StatefulSet ns/s3", (Change("spec.image", "a", "c"),)),
        ("hub", "apps/StatefulSet ns/s4", ()),
        ("hub", "apps/StatefulSet ns/s5", ()),
        ("hub", "README.md", (Change("line 1", "x", "y"),)),
        ("hub", "notes.md", (Change("line 1", "x", "y"),)),
    ]


# ---------------------------------------------------------------- a 5,000-cluster image change


def thanos_tree(names: list[str], image: str) -> dict[str, bytes]:
    """The files a Thanos image change touches, where the renderer puts them, as JSON (which is YAML): the hub's
    Querier file, each cluster's store gateway file on the hub and each cluster's Prometheus."""

    def workload(kind: str, name: str, container: str) -> str:
        spec = {"template": {"spec": {"containers": [{"name": container, "image": image}]}}}
        return json.dumps(
            {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": "monitoring"}, "spec": spec}
        )

    files = {QUERIER: workload("Deployment", "thanos-querier", "thanos-query").encode()}
    for n in names:
        files[store(n)] = workload("StatefulSet", f"thanos-store-{n}", "thanos-store").encode()
        prometheus = {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "Prometheus",
            "metadata": {"name": "fleet", "namespace": "monitoring"},
            "spec": {"thanos": {"image": image}},
        }
        files[f"clusters/{n}/monitoring/prometheus.yaml"] = json.dumps(prometheus).encode()
    return files


def test_markdown_of_a_5000_cluster_image_change_is_not_cut():
    """bench/diff_bench.py's "new Thanos image" at the diff layer: 5,000 store gateways on the hub, one
    Prometheus per cluster. Before the grouping the hub's block listed 5,000 identical entries and was cut."""
    from fleetgen.diff import compare
    from fleetgen.gitbase import Base
    from fleetgen.model import build
    from fleetgen.report import diff_text, markdown

    from bench.diff_bench import fleet_wide
    from bench.synth import fleet
    from tests.test_diff import fences_balanced

    base_data = fleet(5000)
    names = [c["name"] for c in base_data["clusters"]]
    result = compare(
        Base("main", "a" * 40, "b" * 40, True),
        thanos_tree(names, OLD_IMAGE),
        thanos_tree(names, NEW_IMAGE),
        build(base_data),
        build(fleet_wide(base_data)),
        patches=False,
    )
    assert len(result.documents) == 10_001
    out = markdown.render(result)
    assert markdown.LIMIT_NOTE not in out and "more clusters not shown" not in out
    assert fences_balanced(out) and out.count("<details>") == out.count("</details>")
    first = sorted(names)[:30]  # documents in identity order: the store gateways by cluster name
    gateways = ", ".join(f"monitoring/thanos-store-{n}" for n in first)
    files = ", ".join(f"`{store(n)}`" for n in first[:3])  # then counted
    assert out.endswith(
        "#### Per cluster (1)\n\n"
        "<details><summary><code>hub</code>: 0 added, 0 removed, 5001 changed</summary>\n\n"
        f"`~ apps/Deployment monitoring/thanos-querier` · `{QUERIER}`\n\n"
        "```diff\n"
        f'~ spec.template.spec.containers[name=thanos-query].image: "{OLD_IMAGE}" → "{NEW_IMAGE}"\n'
        "```\n\n"
        f"`~ apps/StatefulSet in 5000 documents` · {files} and 4997 more files\n\n"
        "```diff\n"
        f'~ spec.template.spec.containers[name=thanos-store].image: "{OLD_IMAGE}" → "{NEW_IMAGE}"\n'
        f"in 5000 documents: {gateways} and 4970 more\n"
        "```\n\n"
        "</details>\n\n"
    )
    assert "    in 5000 clusters: " in out  # the Prometheus change, once, as before
    assert len(out.encode()) < 8_000
    assert len(diff_text.render(result).encode()) < 8_000  # the text view too: 1.2 MB before
