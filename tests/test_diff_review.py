"""``fleetgen diff`` as a pull-request review, on real git repositories: the merge base, list entries
matched by identity, destruction first, links to the rendered files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.test_diff import BASE, CA_LINE, CHANGED, commit_rendered, diff, git, history, init_repo

STAGE_B = """\
  - name: stage-b
    environment: staging
    region: eu-west-1
    kubernetesVersion: "1.31"
    provider: {type: docker}
    network: {pods: 10.4.0.0/16, services: 10.104.0.0/16, meshID: 5}
"""
ON_MAIN = BASE.replace("applicationSets:\n", STAGE_B + "applicationSets:\n")  # another PR, merged meanwhile


@pytest.fixture(scope="module")
def moved_on(tmp_path_factory) -> Path:
    """main: base -> stage-b added (after the branch point); feature: base -> prod-c added, checked out."""
    path = tmp_path_factory.mktemp("moved") / "repo"
    init_repo(path)
    commit_rendered(path, BASE, "base fleet")
    git(path, "checkout", "-q", "-b", "feature")
    commit_rendered(path, CHANGED, "add prod-c")
    git(path, "checkout", "-q", "main")
    commit_rendered(path, ON_MAIN, "add stage-b")
    git(path, "checkout", "-q", "feature")
    return path


def as_json(repo: Path, *args: str) -> dict:
    result = diff(repo, *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_base_that_moved_on_is_compared_at_the_merge_base(moved_on):
    body = as_json(moved_on, "--base", "main")
    branch_point = git(moved_on, "rev-parse", "main~1").strip()
    assert (body["base"], body["base_commit"], body["merge_base"]) == ("main", branch_point, True)
    files = {m["file"] for m in body["manifests"]}
    assert "hub/capi/prod-c.yaml" in files
    assert not any("stage-b" in f for f in files)  # main's own new cluster is not part of this change
    assert not any(m["status"] == "removed" for m in body["manifests"])
    text = diff(moved_on, "--base", "main").output
    tip = git(moved_on, "rev-parse", "main").strip()
    assert text.startswith(f"fleetgen diff against merge base {branch_point[:12]} of main ({tip[:12]}) and HEAD\n")
    markdown = diff(moved_on, "--base", "main", "--format", "markdown").output
    assert f"## fleetgen diff against merge base `{branch_point[:12]}` of `main` and HEAD\n" in markdown
    assert "stage-b" not in markdown


def test_no_merge_base_compares_with_the_ref_itself(moved_on):
    body = as_json(moved_on, "--base", "main", "--no-merge-base")
    tip = git(moved_on, "rev-parse", "main").strip()
    assert (body["base_commit"], body["merge_base"]) == (tip, False)
    removed = {m["file"] for m in body["manifests"] if m["status"] == "removed"}
    assert "hub/capi/stage-b.yaml" in removed  # what a tip-of-main comparison wrongly reports
    assert diff(moved_on, "--base", "main", "--no-merge-base").output.startswith(
        f"fleetgen diff against main ({tip[:12]})\n"
    )
    markdown = diff(moved_on, "--base", "main", "--no-merge-base", "--format", "markdown").output
    assert markdown.startswith(f"<!-- fleetgen diff -->\n## fleetgen diff against `main` (`{tip[:12]}`)\n")


def test_unrelated_histories_are_a_usage_error(tmp_path):
    path = tmp_path / "repo"
    init_repo(path)
    commit_rendered(path, BASE, "base fleet")
    git(path, "checkout", "-q", "--orphan", "other")
    commit_rendered(path, CHANGED, "unrelated root")
    result = diff(path, "--base", "main")
    assert result.exit_code == 2 and "no merge base" in result.output and "fetch-depth: 0" in result.output
    assert diff(path, "--base", "main", "--no-merge-base").exit_code == 0


# ---------------------------------------------------------------- list entries by identity


@pytest.fixture(scope="module")
def added(tmp_path_factory) -> dict:
    """prod-c added between prod-b and stage-a: in the middle of every sorted list that names clusters."""
    return as_json(history(tmp_path_factory.mktemp("added") / "repo", BASE, CHANGED), "--base", "HEAD~1")


def list_changes(body: dict) -> dict[tuple[str, str], list[dict]]:
    """Changes of the changed YAML documents, by (file, path)."""
    out: dict[tuple[str, str], list[dict]] = {}
    for m in body["manifests"]:
        if m["status"] == "changed" and m["file"] != "README.md":
            for change in m["changes"]:
                out.setdefault((m["file"], change["path"]), []).append(change)
    return out


def test_a_cluster_added_in_the_middle_is_one_added_entry_per_list(added):
    peer = {"name": "prod-c", "address": "prod-c.clustermesh.test-fleet.internal", "port": 2379}
    destination = {"server": "https://c.example.com", "namespace": "monitoring"}
    # prod-c is provisioned: fleet-root may now write its Cluster API namespace on the hub
    hub = {"server": "https://kubernetes.default.svc", "namespace": "prod-c"}
    sidecars = "--endpoint=dns+thanos-sidecar.prod-c.test-fleet.internal:10901"  # dns+: both HA replicas
    store = "--endpoint=thanos-store-prod-c.monitoring.svc:10901"  # one store gateway per cluster prefix
    expected = {
        # stage-a (docker) is no ClusterMesh member: it gets no peers, and is nobody's peer
        **{
            (f"clusters/{c}/cilium/values.yaml", "clustermesh.config.clusters[name=prod-c]"): [{"new": peer}]
            for c in ("prod-a", "prod-b")
        },
        **{
            (f, 'spec.destinations[server="https://c.example.com",namespace=monitoring]'): [{"new": destination}]
            for f in ("bootstrap/root-app.yaml", "hub/argocd/projects/fleet-platform.yaml")
        },
        **{
            (f, 'spec.destinations[server="https://kubernetes.default.svc",namespace=prod-c]'): [{"new": hub}]
            for f in ("bootstrap/root-app.yaml", "hub/argocd/projects/fleet-platform.yaml")
        },
        # the querier's arguments after prod-c is added: ..., sidecars of the dialled clusters prod-a,
        # prod-b, prod-c (args[4..6]; stage-a has no server), then store gateways prod-a, prod-b, prod-c, stage-a
        ("hub/observability/thanos-querier.yaml", "spec.template.spec.containers[name=thanos-query].args[6]"): [
            {"new": sidecars}
        ],
        ("hub/observability/thanos-querier.yaml", "spec.template.spec.containers[name=thanos-query].args[9]"): [
            {"new": store}
        ],
        ("karmada/workloads/orders.yaml", "spec.placement.clusterAffinity.clusterNames[2]"): [{"new": "prod-c"}],
        # prod-a moves to 1.31 in the same change
        ("hub/capi/prod-a.yaml", "spec.version"): [{"old": "v1.30", "new": "v1.31"}],
        ("hub/capi/prod-a.yaml", "spec.template.spec.version"): [{"old": "v1.30.0", "new": "v1.31.0"}],
    }
    got = {
        key: [{k: v for k, v in c.items() if k != "path"} for c in changes]
        for key, changes in list_changes(added).items()
    }
    assert got == expected


# Every list kind a cluster joins: the base fleet with a RollingSync set and a Karmada override for
# production; prod-ab (aws, a new region) goes between prod-a and prod-b, weighted.
EVERY_LIST = BASE.replace("    namespace: web\n", "    namespace: web\n    strategy: RollingSync\n").replace(
    "    weights: {prod-a: 2, prod-b: 1}\n",
    "    weights: {prod-a: 2, prod-b: 1}\n"
    "    overrides:\n"
    "      - clusters: {matchLabels: {environment: production}}\n"
    "        patches: [{op: replace, path: /spec/replicas, value: 3}]\n",
)
PROD_AB = (
    """\
  - name: prod-ab
    environment: production
    region: me-south-1
    labels: {tier: standard}
    server: https://ab.example.com
    provider: {type: aws, accountID: "123456789012", roleARN: "arn:aws:iam::123456789012:role/argocd"}
    network: {pods: 10.5.0.0/16, services: 10.105.0.0/16, meshID: 6, nodes: 172.17.0.0/16}
"""
    + CA_LINE
)
WITH_PROD_AB = EVERY_LIST.replace("  - name: prod-b\n", PROD_AB + "  - name: prod-b\n").replace(
    "weights: {prod-a: 2, prod-b: 1}", "weights: {prod-a: 2, prod-ab: 3, prod-b: 1}"
)
AB_PEER = {"name": "prod-ab", "address": "prod-ab.clustermesh.test-fleet.internal", "port": 2379}
AB_DESTINATION = {"server": "https://ab.example.com", "namespace": "monitoring"}
AB_STEP = {
    "matchExpressions": [
        {"key": "fleetgen.io/environment", "operator": "In", "values": ["production"]},
        {"key": "fleetgen.io/region", "operator": "In", "values": ["me-south-1"]},
    ]
}
AB_WEIGHT = {"targetCluster": {"clusterNames": ["prod-ab"]}, "weight": 3}


def every_list(side: str) -> dict[tuple[str, str], list[dict]]:
    """What prod-ab joining (``new``) or leaving (``old``) does to every list that names clusters."""
    querier = "hub/observability/thanos-querier.yaml"
    querier_args = "spec.template.spec.containers[name=thanos-query].args"  # containers: upstream key `name`
    orders = "karmada/workloads/orders.yaml"
    return {
        # prod-a, prod-b: ClusterMesh members; stage-a (docker) is none
        **{
            (f"clusters/{c}/cilium/values.yaml", "clustermesh.config.clusters[name=prod-ab]"): [{side: AB_PEER}]
            for c in ("prod-a", "prod-b")
        },
        # query, 3 flags, sidecars of prod-a, prod-ab (args[5]), prod-b, then stores prod-a, prod-ab (args[8]), ...
        (querier, f"{querier_args}[5]"): [{side: "--endpoint=dns+thanos-sidecar.prod-ab.test-fleet.internal:10901"}],
        (querier, f"{querier_args}[8]"): [{side: "--endpoint=thanos-store-prod-ab.monitoring.svc:10901"}],
        **{
            (f, 'spec.destinations[server="https://ab.example.com",namespace=monitoring]'): [{side: AB_DESTINATION}]
            for f in ("bootstrap/root-app.yaml", "hub/argocd/projects/fleet-platform.yaml")
        },
        # fleet-platform lists the hub namespaces fleetgen renders into: prod-ab's Cluster API namespace
        **{
            (f, 'spec.destinations[server="https://kubernetes.default.svc",namespace=prod-ab]'): [
                {side: {"namespace": "prod-ab", "server": "https://kubernetes.default.svc"}}
            ]
            for f in ("bootstrap/root-app.yaml", "hub/argocd/projects/fleet-platform.yaml")
        },
        # RollingSync: production one region per step, regions sorted: eu-west-1, me-south-1, us-east-1
        ("hub/argocd/applicationsets/services.yaml", "spec.strategy.rollingSync.steps[1]"): [{side: AB_STEP}],
        # the account's role identity admits each of its clusters' namespaces: prod-a, then prod-ab
        ("hub/capi-identities/aws.yaml", "spec.allowedNamespaces.list[1]"): [{side: "prod-ab"}],
        (orders, "spec.placement.clusterAffinity.clusterNames[1]"): [{side: "prod-ab"}],
        (
            orders,
            'spec.placement.replicaScheduling.weightPreference.staticWeightList[targetCluster={"clusterNames": '
            '["prod-ab"]}]',
        ): [{side: AB_WEIGHT}],
        (orders, "spec.overrideRules[0].targetCluster.clusterNames[1]"): [{side: "prod-ab"}],
    }


def without_path(changes: dict[tuple[str, str], list[dict]]) -> dict[tuple[str, str], list[dict]]:
    return {key: [{k: v for k, v in c.items() if k != "path"} for c in found] for key, found in changes.items()}


def test_a_cluster_added_in_the_middle_is_one_entry_in_every_kind_of_list(tmp_path):
    repo = history(tmp_path / "repo", EVERY_LIST, WITH_PROD_AB)
    assert without_path(list_changes(as_json(repo, "--base", "HEAD~1"))) == every_list("new")


def test_a_cluster_removed_from_the_middle_is_one_entry_in_every_kind_of_list(tmp_path):
    repo = history(tmp_path / "repo", WITH_PROD_AB, EVERY_LIST)
    body = as_json(repo, "--base", "HEAD~1")
    assert without_path(list_changes(body)) == every_list("old")
    # Webster over 2:3:1 for 6 replicas: quotients 3 (ab), 2 (a), 1 (ab), 1 (b) | 0.67 (a): 2 / 3 / 1
    assert body["destroy"]["replicas"] == [{"workload": "orders", "cluster": "prod-ab", "old": 3, "new": 0}]
    assert body["destroy"]["peers"] == {"prod-ab": 2}
    assert body["destroy"]["clusters"] == ["prod-ab/prod-ab"]
    assert "  mesh peer prod-ab: removed from the ClusterMesh of 2 clusters\n" in diff(repo, "--base", "HEAD~1").output
    # the peer removal is the same in prod-a and prod-b: one block for both, not one per shifted entry
    out = diff(repo, "--base", "HEAD~1", "--format", "markdown").output
    assert out.count("<code>cilium/values.yaml</code> in 2 clusters") == 1
    assert "#### The same change in several clusters (1)" in out


def test_an_app_added_in_the_middle_of_a_set_is_one_list_generator_element(tmp_path):
    apps = "    apps: [{name: web, path: apps/web}]"
    two = BASE.replace(apps, "    apps: [{name: api, path: apps/api}, {name: web, path: apps/web}]")
    three = two.replace("{name: api, path: apps/api}, ", "{name: api, path: apps/api}, {name: cart, path: apps/cart}, ")
    body = as_json(history(tmp_path / "repo", two, three), "--base", "HEAD~1")
    element = {
        "app": "cart",
        "path": "apps/cart",
        "repoURL": "https://github.com/example/fleet",
        "targetRevision": "main",
    }
    assert without_path(list_changes(body)) == {
        ("hub/argocd/applicationsets/services.yaml", "spec.generators[0].matrix.generators[1].list.elements[1]"): [
            {"new": element}
        ]
    }


MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: tools, namespace: platform-tools}}
spec:
  selector: {{matchLabels: {{app: tools}}}}
  template:
    metadata: {{labels: {{app: tools}}}}
    spec:
      containers:
{containers}
"""
APP = """\
        - name: app
          image: registry.example.com/tools:1
          env: [{env}]
          ports: [{ports}]
"""
SIDECAR = "        - {name: proxy, image: registry.example.com/proxy:1}\n"
PORTS = "{containerPort: 8080, protocol: TCP}, {containerPort: 9090, protocol: TCP}"
PORTS_REORDERED = "{containerPort: 9090, protocol: TCP}, {containerPort: 8080, protocol: TCP}"


def test_upstream_list_map_keys_match_entries_as_the_api_server_does(tmp_path):
    """containers by name, env by name, ports by containerPort+protocol (k8s.io/api core/v1 types.go)."""
    before = APP.format(env="{name: A, value: a}, {name: C, value: c}", ports=PORTS)
    after = APP.format(env="{name: A, value: a}, {name: B, value: b}, {name: C, value: c}", ports=PORTS_REORDERED)
    fleet = BASE + "extraManifests:\n  - source: manifests/tools.yaml\n"
    path = tmp_path / "repo"
    init_repo(path)
    (path / "manifests").mkdir()
    for containers in (before, SIDECAR + after):  # a container first, an env var in the middle, ports reordered
        (path / "manifests" / "tools.yaml").write_text(MANIFEST.format(containers=containers))
        commit_rendered(path, fleet, "tools")
    body = as_json(path, "--base", "HEAD~1")
    prefix = "spec.template.spec.containers"
    assert without_path(list_changes(body)) == {
        ("hub/extra/manifests/tools.yaml", f"{prefix}[name=proxy]"): [
            {"new": {"name": "proxy", "image": "registry.example.com/proxy:1"}}
        ],
        ("hub/extra/manifests/tools.yaml", f"{prefix}[name=app].env[name=B]"): [{"new": {"name": "B", "value": "b"}}],
    }


def test_a_reordered_keyed_list_is_not_a_change():
    from fleetgen.diff import compare_trees

    peers = [{"name": n, "address": f"{n}.mesh", "port": 2379} for n in ("a", "b", "c")]
    old = {"clusters/x/cilium/values.yaml": json.dumps({"clustermesh": {"config": {"clusters": peers}}}).encode()}
    new = {"clusters/x/cilium/values.yaml": json.dumps({"clustermesh": {"config": {"clusters": peers[::-1]}}}).encode()}
    assert compare_trees(old, new) == ()


# ---------------------------------------------------------------- destruction first


WITHOUT_PROD_B = BASE.replace(BASE[BASE.index("  - name: prod-b\n") : BASE.index("  - name: stage-a\n")], "").replace(
    "weights: {prod-a: 2, prod-b: 1}", "weights: {prod-a: 2}"
)


@pytest.fixture(scope="module")
def removed(tmp_path_factory) -> Path:
    return history(tmp_path_factory.mktemp("removed") / "repo", BASE, WITHOUT_PROD_B)


def test_a_removed_cluster_is_named_destroyed_first(removed):
    body = as_json(removed, "--base", "HEAD~1")
    destroy = body["destroy"]
    assert destroy["clusters"] == ["prod-b/prod-b"]
    # its Application goes with its cluster Secret: Argo CD drops the finalizer of an Application whose
    # destination no longer exists, so nothing is deleted on the (departing) cluster
    assert destroy["applications"] == [
        {
            "name": "prod-b-web",
            "source": "services",
            "deletesResources": False,
            "why": "destination cluster removed: Argo CD drops the finalizer and leaves the resources",
        }
    ]
    assert destroy["replicas"] == [{"workload": "orders", "cluster": "prod-b", "old": 2, "new": 0}]
    assert destroy["peers"] == {"prod-b": 1}  # leaves prod-a's ClusterMesh (stage-a, docker, is no member)
    text = diff(removed, "--base", "HEAD~1").output.splitlines()
    assert text[1] == (
        f"Destroys: 1 cluster, 1 Argo CD Application (0 with their resources), 1 Karmada placement "
        f"losing replicas, 1 mesh peer, {destroy['removedDocuments']} manifests removed"
    )
    assert text[2] == "  cluster prod-b/prod-b: Cluster API deletes it with its machines and infrastructure"
    assert text[3] == (
        "  Application prod-b-web (services): deleted, its resources are left in place (destination cluster "
        "removed: Argo CD drops the finalizer and leaves the resources)"
    )
    assert text[4:6] == [
        "  placement orders on prod-b: 2 → 0 replicas",
        "  mesh peer prod-b: removed from the ClusterMesh of 1 cluster",
    ]


def test_markdown_puts_destruction_before_the_tables(removed):
    out = diff(removed, "--base", "HEAD~1", "--format", "markdown").output
    first = out.split("\n\n")[1]
    assert first.startswith("> [!CAUTION]\n> **Destroys: 1 cluster,")
    assert "> - placement orders on prod-b: 2 → 0 replicas\n" in first
    # one peer removal, in prod-a only: stage-a (docker) is no ClusterMesh member
    assert "<details><summary><code>prod-a</code>: 0 added, 0 removed, 1 changed</summary>" in out
    assert "`~ cilium/values.yaml` · `clusters/prod-a/cilium/values.yaml`" in out


def test_fail_on_destroy_exits_one_only_when_something_is_deleted(removed):
    assert diff(removed, "--base", "HEAD~1").exit_code == 0
    assert diff(removed, "--base", "HEAD~1", "--fail-on", "destroy").exit_code == 1
    assert diff(removed, "--base", "HEAD", "--fail-on", "destroy").exit_code == 0


EXTERNAL_KARMADA = BASE.replace(
    "    server: https://karmada.example.com:5443\n",
    "    server: https://karmada.example.com:5443\n    externalServer: https://karmada.example.net:5443\n",
)
EDGE_A = """\
  - name: edge-a
    environment: staging
    region: us-east-1
    labels: {tier: standard}
    provider: {type: imported}
    server: https://10.200.0.10:6443
    argocd: {mode: pull}
    network: {pods: 10.6.0.0/16, services: 10.106.0.0/16, meshID: 7}
"""


def test_a_removed_pull_mode_cluster_prunes_its_plain_applications_and_deletes_no_cluster(tmp_path):
    with_edge = EXTERNAL_KARMADA.replace("  - name: prod-a\n", EDGE_A + "  - name: prod-a\n")
    repo = history(tmp_path / "repo", with_edge, EXTERNAL_KARMADA)
    destroy = as_json(repo, "--base", "HEAD~1")["destroy"]
    # imported: Cluster API never owned it; its Applications are plain documents in the tree, pruned by
    # fleet-root, and carry no resources finalizer (preserveResourcesOnDeletion, the default)
    assert destroy["clusters"] == [] and destroy["replicas"] == [] and destroy["peers"] == {}
    assert [(a["name"], a["deletesResources"], a["why"]) for a in destroy["applications"]] == [
        ("edge-a-monitoring", False, "no resources finalizer"),
        ("edge-a-web", False, "no resources finalizer"),
    ]
    assert diff(repo, "--base", "HEAD~1", "--fail-on", "destroy").exit_code == 1


def test_a_removed_workload_deletes_its_resources_and_its_replicas(tmp_path):
    repo = history(tmp_path / "repo", BASE, BASE[: BASE.index("workloads:\n")])
    destroy = as_json(repo, "--base", "HEAD~1")["destroy"]
    # workload-* Applications keep the resources finalizer: removing the workload removes it from Karmada
    assert [(a["name"], a["deletesResources"]) for a in destroy["applications"]] == [
        ("karmada-policies", False),  # no workload left, no policies Application; no finalizer: policies stay
        ("workload-orders", True),
    ]
    # 6 replicas over 2:1 (Webster: 2, 1, 0.67, 0.4, 0.33, 0.29): 4 on prod-a, 2 on prod-b, now none
    assert destroy["replicas"] == [
        {"workload": "orders", "cluster": "prod-a", "old": 4, "new": 0},
        {"workload": "orders", "cluster": "prod-b", "old": 2, "new": 0},
    ]
    text = diff(repo, "--base", "HEAD~1").output.splitlines()
    assert text[1].startswith("Destroys: 2 Argo CD Applications (1 with their resources), 2 Karmada placements")


def test_an_application_no_longer_selected_keeps_its_resources_by_default(tmp_path):
    narrowed = BASE.replace(
        "clusters: {matchLabels: {tier: standard}}", "clusters: {matchLabels: {tier: standard, region: us-east-1}}"
    )
    body = as_json(history(tmp_path / "repo", BASE, narrowed), "--base", "HEAD~1")
    # fleetgen renders preserveResourcesOnDeletion: true, so the controller adds no resources finalizer
    assert body["destroy"]["applications"] == [
        {"name": "prod-b-web", "source": "services", "deletesResources": False, "why": "preserveResourcesOnDeletion"}
    ]
    assert body["destroy"]["clusters"] == [] and body["destroy"]["count"] == 1


def test_an_application_no_longer_selected_deletes_its_resources_when_the_set_opts_in(tmp_path):
    opt_in = "    namespace: web\n    syncPolicy: {preserveResourcesOnDeletion: false}\n"
    cascading = BASE.replace("    namespace: web\n", opt_in)
    narrowed = cascading.replace(
        "clusters: {matchLabels: {tier: standard}}", "clusters: {matchLabels: {tier: standard, region: us-east-1}}"
    )
    body = as_json(history(tmp_path / "repo", cascading, narrowed), "--base", "HEAD~1")
    # the ApplicationSet controller deletes it and, with the resources finalizer it then adds, its resources
    assert body["destroy"]["applications"] == [
        {
            "name": "prod-b-web",
            "source": "services",
            "deletesResources": True,
            "why": "resources-finalizer.argocd.argoproj.io",
        }
    ]


def test_application_set_policies_decide_what_is_deleted():
    from fleetgen.destroy import generated
    from fleetgen.plan import Application

    app = Application("web", "c1-web", "c1", "https://c1", "apps/web", "web")
    servers = {"https://c1"}
    preserve = {"spec": {"syncPolicy": {"preserveResourcesOnDeletion": True}}}
    only = {"spec": {"syncPolicy": {"applicationsSync": "create-only"}}}
    delete = {"spec": {"syncPolicy": {"applicationsSync": "create-delete"}}}
    assert generated(app, (preserve, preserve), servers).deletes_resources is False
    assert generated(app, (only, only), servers) is None
    assert generated(app, (delete, delete), servers).deletes_resources
    # the running Application carries the finalizer the set gave it before the change; the set's policy after
    # the change decides whether it is deleted (applicationset_controller.go createOrUpdateInCluster/deleteInCluster)
    assert generated(app, ({"spec": {}}, preserve), servers).deletes_resources  # preserve turned on in the same PR
    assert generated(app, (preserve, {"spec": {}}), servers).deletes_resources is False
    assert generated(app, (preserve, only), servers) is None
    own = {
        "spec": {
            "template": {"metadata": {"finalizers": ["resources-finalizer.argocd.argoproj.io/background"]}},
            "syncPolicy": {"preserveResourcesOnDeletion": True},
        }
    }
    assert generated(app, (own, own), servers).deletes_resources  # the template's own finalizers win


# ---------------------------------------------------------------- links to the rendered files

GITHUB_VARS = ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_EVENT_PATH")


def markdown_with(repo: Path, env: dict[str, str | None]) -> str:
    from click.testing import CliRunner
    from fleetgen.main import cli

    unset: dict[str, str | None] = dict.fromkeys(GITHUB_VARS)
    result = CliRunner().invoke(
        cli,
        ["diff", str(repo / "fleet.yaml"), "--base", "HEAD~1", "--format", "markdown"],
        env={**unset, **env},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_files_link_to_the_pull_request_head_when_github_variables_are_set(removed, tmp_path):
    head = git(removed, "rev-parse", "HEAD").strip()
    base = git(removed, "rev-parse", "HEAD~1").strip()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"head": {"sha": head}}}))
    out = markdown_with(
        removed,
        {
            "GITHUB_SERVER_URL": "https://github.example.com",
            "GITHUB_REPOSITORY": "acme/fleet",
            "GITHUB_SHA": "f" * 40,
            "GITHUB_EVENT_PATH": str(event),
        },
    )
    blob = "https://github.example.com/acme/fleet/blob"
    # changed: at the pull request's head (not GITHUB_SHA, GitHub's merge commit); removed: at the base
    assert (
        f"`~ apps/Deployment monitoring/thanos-querier` · [hub/observability/thanos-querier.yaml]({blob}/{head}/"
        "rendered/hub/observability/thanos-querier.yaml)\n" in out
    )
    assert (
        f"`- cluster.x-k8s.io/Cluster prod-b/prod-b` · [hub/capi/prod-b.yaml]({blob}/{base}/rendered/hub/capi/"
        "prod-b.yaml)\n" in out
    )
    assert "f" * 40 not in out


def test_github_sha_is_used_without_a_pull_request_event(removed):
    out = markdown_with(
        removed, {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/fleet", "GITHUB_SHA": "e" * 40}
    )
    assert f"[README.md](https://github.com/acme/fleet/blob/{'e' * 40}/rendered/README.md)" in out


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_SHA": "e" * 40},
        {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/fleet"},
    ],
)
def test_no_links_without_the_github_variables(removed, env):
    out = markdown_with(removed, env)
    assert "](" not in out and "`hub/capi/prod-b.yaml`" in out


# ---------------------------------------------------------------- a 5,000-cluster change


def capi_cluster(name: str) -> bytes:
    doc = {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "metadata": {"name": name, "namespace": name}}
    return json.dumps(doc).encode()  # JSON is YAML, and far cheaper to write than rendering 5,000 clusters


def cilium_values(pods: str) -> bytes:
    return json.dumps({"ipam": {"operator": {"clusterPoolIPv4PodCIDRList": [pods]}}}).encode()


def synthetic_tree(clusters: list[dict]) -> dict[str, bytes]:
    """Two files per cluster, where the renderer puts them: its Cluster API object (unchanged bytes when the
    cluster stays, so not even parsed) and its Cilium values."""
    files = {}
    for c in clusters:
        files[f"hub/capi/{c['name']}.yaml"] = capi_cluster(c["name"])
        files[f"clusters/{c['name']}/cilium/values.yaml"] = cilium_values(c["network"]["pods"])
    return files


def test_markdown_of_a_5000_cluster_change_fits_githubs_limit():
    """One cluster removed, one added, and every other cluster's pod CIDR moved (a change that differs in
    every cluster, so nothing is grouped): built at the diff layer from the 5,000-cluster synthetic fleet,
    without rendering it (bench/diff_bench.py measures the real thing, ``servers-moved`` cut included)."""
    from fleetgen.diff import compare
    from fleetgen.gitbase import Base
    from fleetgen.model import build
    from fleetgen.report import diff_text, markdown

    from bench.diff_bench import REMOVED, add_and_remove
    from bench.synth import fleet
    from tests.test_diff import fences_balanced

    base_data = fleet(5000)
    head_data = add_and_remove(base_data, 5000)
    pods = [c["network"]["pods"] for c in head_data["clusters"]]
    for cluster, cidr in zip(head_data["clusters"], reversed(pods), strict=True):
        cluster["network"]["pods"] = cidr
    removed = base_data["clusters"][REMOVED]["name"]
    result = compare(
        Base("main", "a" * 40, "b" * 40, True),
        synthetic_tree(base_data["clusters"]),
        synthetic_tree(head_data["clusters"]),
        build(base_data),
        build(head_data),
        patches=False,
    )
    assert len({d.cluster for d in result.documents}) == 5002  # hub, 4,999 kept, the removed and the new
    assert len(diff_text.render(result).encode()) > 10 * 65_536  # the text view: far over the limit
    out = markdown.render(result)
    assert len(out.encode()) <= 65_536
    assert fences_balanced(out) and out.count("<details>") == out.count("</details>")
    # destruction first, whatever is cut later
    assert out.split("\n\n")[1].startswith("> [!CAUTION]\n> **Destroys: 1 cluster,")
    assert f"> - cluster {removed}/{removed}: Cluster API deletes it" in out
    assert re.search(r"_… \d{4} more clusters not shown to fit GitHub's comment limit; run `fleetgen diff ", out)
