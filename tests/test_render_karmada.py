"""Karmada render target: placement, scheduling, failover, overrides and joins mean what fleet.yaml says."""

from __future__ import annotations

import textwrap

import pytest
import yaml
from fleetgen import overriders
from fleetgen.render import karmada

from tests.conftest import fleet_from_text

HEADER = """\
apiVersion: fleetgen/v1alpha1
kind: Fleet
name: small
repo: {url: "https://github.com/example/cfg"}
hub:
  name: hub
  karmada: {server: "https://karmada.example.com:5443"}
network: {mesh: none}
defaults: {kubernetesVersion: "1.30", environment: production, region: eu-west-1, provider: {type: docker}}
clusters:
  - {name: a, server: "https://a.example.com", labels: {tier: web},
     network: {pods: 10.0.0.0/16, services: 10.100.0.0/20}}
  - {name: b, server: "https://b.example.com", labels: {tier: web},
     network: {pods: 10.1.0.0/16, services: 10.101.0.0/20}}
  - {name: c, server: "https://c.example.com", labels: {tier: web}, argocd: {mode: pull},
     network: {pods: 10.2.0.0/16, services: 10.102.0.0/20}}
  - {name: pending, labels: {tier: web}, network: {pods: 10.3.0.0/16, services: 10.103.0.0/20}}
  - {name: optout, server: "https://o.example.com", labels: {tier: web}, karmada: {member: false},
     network: {pods: 10.4.0.0/16, services: 10.104.0.0/20}}
"""


def small_fleet(workloads: str):
    return fleet_from_text(HEADER + "workloads:\n" + workloads)


def workload_yaml(extra: str = "", selector: str = "{matchLabels: {tier: web}}") -> str:
    """One workload ``api`` (Deployment + Service); ``extra`` is more of its fields, unindented."""
    head = textwrap.dedent(f"""\
        - name: api
          namespace: prod
          source: {{path: workloads/api}}
          resources:
            - {{apiVersion: apps/v1, kind: Deployment, name: api}}
            - {{apiVersion: v1, kind: Service, name: api}}
          clusters: {selector}
        """)
    return textwrap.indent(head + textwrap.indent(extra, "  "), "  ")


def docs_of(files, path):
    return next(f.documents for f in files if f.path == path)


def by_kind(documents, kind, name=None):
    return [d for d in documents if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def propagation(fleet, name="api"):
    (pp,) = by_kind(docs_of(karmada.render(fleet), f"karmada/workloads/{name}.yaml"), "PropagationPolicy")
    return pp


# ---------------------------------------------------------------- upstream validity


def test_every_document_passes_the_upstream_schema(example_fleet, upstream):
    files = karmada.render(example_fleet)
    assert files
    for f in files:
        for doc in f.documents:
            assert upstream(doc) == [], (f.path, doc["kind"])


def test_no_workloads_renders_nothing():
    fleet = fleet_from_text(HEADER)
    assert karmada.render(fleet) == []


# ---------------------------------------------------------------- placement and scheduling


def test_placement_names_registered_members_the_selector_matches():
    pp = propagation(small_fleet(workload_yaml()))
    # pending has no server, optout is not a member: neither can receive the workload.
    assert pp["spec"]["placement"]["clusterAffinity"] == {"clusterNames": ["a", "b", "c"]}
    assert "labelSelector" not in pp["spec"]["placement"]["clusterAffinity"]


def test_resource_selectors_name_every_resource_in_the_workload_namespace():
    pp = propagation(small_fleet(workload_yaml()))
    assert pp["metadata"] == {"name": "api", "namespace": "prod"}
    assert pp["spec"]["resourceSelectors"] == [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "namespace": "prod"},
        {"apiVersion": "v1", "kind": "Service", "name": "api", "namespace": "prod"},
    ]


def test_weights_become_a_static_weight_list_per_cluster(example_fleet):
    pp = propagation(example_fleet, "order-service")
    scheduling = pp["spec"]["placement"]["replicaScheduling"]
    assert scheduling["replicaSchedulingType"] == "Divided"
    assert scheduling["replicaDivisionPreference"] == "Weighted"
    weights = {
        tuple(e["targetCluster"]["clusterNames"]): e["weight"]
        for e in scheduling["weightPreference"]["staticWeightList"]
    }
    assert weights == {("prod-us-east-1",): 3, ("prod-eu-west-1",): 2, ("prod-ap-south-1",): 1}
    assert "staticClusterWeight" not in scheduling["weightPreference"]


def test_weights_outside_the_placement_are_dropped():
    fleet = small_fleet(workload_yaml("weights: {a: 2, pending: 5}\n"))
    scheduling = propagation(fleet)["spec"]["placement"]["replicaScheduling"]
    entries = scheduling["weightPreference"]["staticWeightList"]
    assert entries == [{"targetCluster": {"clusterNames": ["a"]}, "weight": 2}]


def test_no_weights_means_duplicated(example_fleet):
    pp = propagation(example_fleet, "store-inventory")
    assert pp["spec"]["placement"]["replicaScheduling"] == {"replicaSchedulingType": "Duplicated"}


def test_workload_matching_no_member_renders_no_policy():
    # An empty clusterNames would mean "every cluster" to Karmada.
    fleet = small_fleet(workload_yaml(selector="{matchLabels: {tier: nothing}}"))
    paths = [f.path for f in karmada.render(fleet)]
    assert paths == ["karmada/cluster-taint-policy.yaml"]


# ---------------------------------------------------------------- failover


def test_failover_seconds_become_no_execute_tolerations(example_fleet):
    placement = propagation(example_fleet, "order-service")["spec"]["placement"]
    tolerations = {t["key"]: t for t in placement["clusterTolerations"]}
    assert tolerations["cluster.karmada.io/not-ready"]["tolerationSeconds"] == 300
    assert tolerations["cluster.karmada.io/unreachable"]["tolerationSeconds"] == 60
    assert {t["effect"] for t in tolerations.values()} == {"NoExecute"}
    assert {t["operator"] for t in tolerations.values()} == {"Exists"}


def test_seconds_fleet_yaml_leaves_out_default_to_300():
    pp = propagation(small_fleet(workload_yaml("failover: {unreachableSeconds: 45}\n")))
    assert pp["spec"]["placement"]["clusterTolerations"] == [
        {"key": "cluster.karmada.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "cluster.karmada.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 45},
    ]
    assert pp["spec"]["failover"] == {"cluster": {"purgeMode": "Gracefully"}}


def test_without_failover_both_taints_are_tolerated_for_300_seconds(example_fleet):
    spec = propagation(example_fleet, "store-inventory")["spec"]
    assert spec["placement"]["clusterTolerations"] == [
        {"key": "cluster.karmada.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {
            "key": "cluster.karmada.io/unreachable",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        },
    ]
    assert "failover" not in spec


def eviction_after(taints: list[dict], tolerations: list[dict]) -> float | None:
    """Karmada's taint manager (pkg/controllers/cluster/taint_manager.go needEvictionWithCurrentTime,
    pkg/util/helper/taint.go GetMatchingTolerations / GetMinTolerationTimeWithCurrentTime) for taints
    added at t=0: seconds until eviction; 0 when a NoExecute taint is not tolerated; None for never.
    Karmada >= 1.15 adds no default tolerations (karmada-webhook's defaults were removed).
    """
    used = []
    for taint in (t for t in taints if t["effect"] == "NoExecute"):
        matching = [
            t
            for t in tolerations
            if t.get("effect") in (None, "", taint["effect"])
            and (
                t["operator"] == "Exists"
                and t.get("key") in (None, "", taint["key"])
                or t["operator"] == "Equal"
                and t.get("key") == taint["key"]
                and t.get("value", "") == taint.get("value", "")
            )
        ]
        if not matching:
            return 0
        used += matching
    seconds = [t["tolerationSeconds"] for t in used if "tolerationSeconds" in t]
    return min(seconds) if seconds else None


@pytest.mark.parametrize(
    "workload, expected",
    [
        ("order-service", {"cluster.karmada.io/not-ready": 300, "cluster.karmada.io/unreachable": 60}),
        ("store-inventory", {"cluster.karmada.io/not-ready": 300, "cluster.karmada.io/unreachable": 300}),
    ],
)
def test_no_workload_is_evicted_at_once_by_fleetgens_own_taints(example_fleet, workload, expected):
    """Each taint a ClusterTaintPolicy adds is tolerated for the fleet's seconds (or 300), never 0 s."""
    policies = karmada.cluster_taint_policies()
    tolerations = propagation(example_fleet, workload)["spec"]["placement"]["clusterTolerations"]
    for policy in policies:
        taints = policy["spec"]["taints"]
        (key,) = {t["key"] for t in taints}
        assert eviction_after(taints, tolerations) == expected[key]
    # The model is not vacuous: without tolerations the same taints evict at once.
    assert eviction_after(policies[0]["spec"]["taints"], []) == 0


def apply_taint_policies(policies, ready: str, taints: set[str]) -> set[str]:
    """Karmada's cluster-taint-policy controller: conditions ANDed, add evaluated before remove."""

    def matches(conditions):
        ready_conditions = [c for c in conditions if c["conditionType"] == "Ready"]
        return bool(conditions) and all(
            (ready in c["statusValues"]) == (c["operator"] == "In") for c in ready_conditions
        )

    taints = set(taints)
    for policy in policies:
        keys = {(t["key"], t["effect"]) for t in policy["spec"]["taints"]}
        if matches(policy["spec"]["addOnConditions"]):
            taints |= keys
        if matches(policy["spec"]["removeOnConditions"]):
            taints -= keys
    return taints


@pytest.mark.parametrize(
    "sequence, expected",
    [
        (["False"], {"cluster.karmada.io/not-ready"}),
        (["Unknown"], {"cluster.karmada.io/unreachable"}),
        (["False", "Unknown"], {"cluster.karmada.io/unreachable"}),
        (["Unknown", "False"], {"cluster.karmada.io/not-ready"}),
        (["False", "True"], set()),
        (["Unknown", "True"], set()),
        (["True"], set()),
    ],
)
def test_cluster_taint_policies_taint_on_ready_condition(example_fleet, sequence, expected):
    policies = by_kind(
        docs_of(karmada.render(example_fleet), "karmada/cluster-taint-policy.yaml"), "ClusterTaintPolicy"
    )
    assert len(policies) == 2
    taints: set = set()
    for ready in sequence:
        taints = apply_taint_policies(policies, ready, taints)
    assert taints == {(key, "NoExecute") for key in expected}


def test_failover_flags_name_the_controller_switches():
    assert "--feature-gates=Failover=true" in karmada.FAILOVER_FLAGS["karmada-controller-manager"]
    assert "--enable-no-execute-taint-eviction=true" in karmada.FAILOVER_FLAGS["karmada-controller-manager"]
    assert "--allow-no-execute-taint-policy=true" in karmada.FAILOVER_FLAGS["karmada-webhook"]


# ---------------------------------------------------------------- overrides


def test_override_patches_become_plaintext_overriders(example_fleet):
    documents = docs_of(karmada.render(example_fleet), "karmada/workloads/store-inventory.yaml")
    (op,) = by_kind(documents, "OverridePolicy", "store-inventory")
    assert "targetCluster" not in op["spec"]
    (rule,) = op["spec"]["overrideRules"]
    assert rule["targetCluster"] == {"clusterNames": ["edge-store-042"]}
    assert rule["overriders"] == {
        "plaintext": [
            {
                "path": "/spec/template/spec/containers/0/resources/limits/memory",
                "operator": "replace",
                "value": "256Mi",
            }
        ]
    }


OVERRIDES = """\
overrides:
  - clusters: {matchLabels: {name: b}}
    patches:
      - {op: add, path: /metadata/labels/x, value: "1"}
      - {op: move, from: /spec/a, path: /spec/b}
      - {op: remove, path: /spec/c}
      - {op: test, path: /spec/d, value: 1}
      - {op: copy, from: /spec/e, path: /spec/f}
      - {op: replace, path: /spec/g}
  - clusters: {matchLabels: {name: pending}}
    patches:
      - {op: replace, path: /spec/replicas, value: 1}
"""


def test_unsupported_ops_are_reported_with_their_fleet_path():
    (workload,) = small_fleet(workload_yaml(OVERRIDES)).workloads
    reported = dict(overriders.unsupported_patches(workload))
    base = ("workloads", 0, "overrides", 0, "patches")
    assert set(reported) == {(*base, 1, "op"), (*base, 3, "op"), (*base, 4, "op"), (*base, 5)}
    assert "move" in reported[(*base, 1, "op")]
    assert "value" in reported[(*base, 5)]


def test_unsupported_ops_and_unplaced_clusters_are_not_rendered():
    documents = docs_of(karmada.render(small_fleet(workload_yaml(OVERRIDES))), "karmada/workloads/api.yaml")
    (op,) = by_kind(documents, "OverridePolicy", "api")
    # The second override targets a pending cluster the workload is not placed on: no rule at all.
    (rule,) = op["spec"]["overrideRules"]
    assert rule["targetCluster"] == {"clusterNames": ["b"]}
    assert rule["overriders"]["plaintext"] == [
        {"path": "/metadata/labels/x", "operator": "add", "value": "1"},
        {"path": "/spec/c", "operator": "remove"},
    ]


def test_supported_patches_report_nothing(example_fleet):
    assert all(overriders.unsupported_patches(w) == [] for w in example_fleet.workloads)


# ---------------------------------------------------------------- global service


def global_service_policy(fleet):
    documents = docs_of(karmada.render(fleet), "karmada/workloads/api.yaml")
    return by_kind(documents, "OverridePolicy", "api-global-service")


def test_global_service_annotates_only_the_services(example_fleet):
    documents = docs_of(karmada.render(example_fleet), "karmada/workloads/order-service.yaml")
    (op,) = by_kind(documents, "OverridePolicy", "order-service-global-service")
    assert op["spec"]["resourceSelectors"] == [
        {"apiVersion": "v1", "kind": "Service", "name": "order-service", "namespace": "production"}
    ]
    (rule,) = op["spec"]["overrideRules"]
    assert "targetCluster" not in rule  # the same annotated Service in every cluster
    assert rule["overriders"]["annotationsOverrider"] == [
        {"operator": "add", "value": {"service.cilium.io/global": "true", "service.cilium.io/shared": "true"}}
    ]


def test_global_service_shared_false_and_affinity():
    fleet = small_fleet(workload_yaml("globalService: {shared: false, affinity: local}\n"))
    (op,) = global_service_policy(fleet)
    assert op["spec"]["overrideRules"][0]["overriders"]["annotationsOverrider"][0]["value"] == {
        "service.cilium.io/global": "true",
        "service.cilium.io/shared": "false",
        "service.cilium.io/affinity": "local",
    }


def test_global_service_true_defaults_to_shared():
    (op,) = global_service_policy(small_fleet(workload_yaml("globalService: true\n")))
    value = op["spec"]["overrideRules"][0]["overriders"]["annotationsOverrider"][0]["value"]
    assert value["service.cilium.io/shared"] == "true" and "service.cilium.io/affinity" not in value


def test_no_global_service_no_annotation_policy():
    assert global_service_policy(small_fleet(workload_yaml("globalService: false\n"))) == []


# ---------------------------------------------------------------- member commands


def test_member_commands_join_push_and_register_pull():
    commands = dict(karmada.member_commands(small_fleet(workload_yaml())))
    assert set(commands) == {"a", "b", "c"}
    assert commands["a"].startswith("karmadactl join a ")
    assert "--kubeconfig=/etc/karmada/karmada-apiserver.config" in commands["a"]
    assert "--cluster-kubeconfig=a.kubeconfig" in commands["a"]
    assert commands["c"].startswith("karmadactl register karmada.example.com:5443 ")
    for flag in ("--token=", "--discovery-token-ca-cert-hash=", "--cluster-name=c"):
        assert flag in commands["c"]


def test_pull_members_register_at_the_external_server():
    external = HEADER.replace(
        'karmada: {server: "https://karmada.example.com:5443"}',
        'karmada: {server: "https://karmada-apiserver.karmada-system.svc:5443", '
        'externalServer: "https://karmada.hub.example.net"}',
    )
    commands = dict(karmada.member_commands(fleet_from_text(external + "workloads:\n" + workload_yaml())))
    # karmadactl register takes host:port; 443 is the https default the URL leaves out.
    assert commands["c"].startswith("karmadactl register karmada.hub.example.net:443 ")
    assert "karmada-system.svc" not in commands["c"]
    assert "karmada-system.svc" not in commands["a"]  # join uses the kubeconfig, not the URL


def test_member_commands_carry_no_credential(example_fleet):
    for _, command in karmada.member_commands(example_fleet):
        if "register" in command:
            assert '--token="$KARMADA_BOOTSTRAP_TOKEN"' in command


def test_member_commands_need_a_karmada_server():
    fleet = fleet_from_text(HEADER.replace('  karmada: {server: "https://karmada.example.com:5443"}\n', ""))
    assert karmada.member_commands(fleet) == []


# ---------------------------------------------------------------- determinism


def test_render_is_deterministic_and_independent_of_cluster_order(example_fleet, example_text):
    data = yaml.safe_load(example_text)
    data["clusters"].reverse()
    data["workloads"].reverse()
    reordered = fleet_from_text(yaml.safe_dump(data, sort_keys=False))
    assert karmada.render(example_fleet) == karmada.render(example_fleet) == karmada.render(reordered)
    assert karmada.member_commands(example_fleet) == karmada.member_commands(reordered)


# ---------------------------------------------------------------- overrides per kind

KIND_OVERRIDES = """\
overrides:
  - clusters: {matchLabels: {name: b}}
    patches:
      - {op: add, path: /metadata/labels/x, value: "1"}
  - clusters: {matchLabels: {name: a}}
    kinds: [Deployment]
    patches:
      - {op: replace, path: /spec/template/spec/containers/0/image, value: "registry.example.com/api:2"}
  - clusters: {matchLabels: {name: b}}
    kinds: [Service]
    patches:
      - {op: replace, path: /spec/type, value: LoadBalancer}
"""


def strict_findings(documents) -> list:
    from fleetgen.upstream.manifests import Validator

    data = yaml.safe_dump_all(documents).encode()
    return Validator().check_rendered("karmada/workloads/api.yaml", documents, data, "rendered").findings


def test_an_override_naming_kinds_gets_its_own_policy_selecting_only_those_resources():
    documents = docs_of(karmada.render(small_fleet(workload_yaml(KIND_OVERRIDES))), "karmada/workloads/api.yaml")
    assert [d["metadata"]["name"] for d in documents if d["kind"] == "OverridePolicy"] == [
        "api",
        "api-for-deployment",
        "api-for-service",
    ]
    everything, deployment, service = by_kind(documents, "OverridePolicy")
    assert everything["spec"] == {
        "resourceSelectors": [
            {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "namespace": "prod"},
            {"apiVersion": "v1", "kind": "Service", "name": "api", "namespace": "prod"},
        ],
        "overrideRules": [
            {
                "targetCluster": {"clusterNames": ["b"]},
                "overriders": {"plaintext": [{"path": "/metadata/labels/x", "operator": "add", "value": "1"}]},
            }
        ],
    }
    assert deployment["spec"] == {
        "resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "namespace": "prod"}],
        "overrideRules": [
            {
                "targetCluster": {"clusterNames": ["a"]},
                "overriders": {
                    "plaintext": [
                        {
                            "path": "/spec/template/spec/containers/0/image",
                            "operator": "replace",
                            "value": "registry.example.com/api:2",
                        }
                    ]
                },
            }
        ],
    }
    assert service["spec"] == {
        "resourceSelectors": [{"apiVersion": "v1", "kind": "Service", "name": "api", "namespace": "prod"}],
        "overrideRules": [
            {
                "targetCluster": {"clusterNames": ["b"]},
                "overriders": {"plaintext": [{"path": "/spec/type", "operator": "replace", "value": "LoadBalancer"}]},
            }
        ],
    }
    assert strict_findings(documents) == []


def test_kinds_the_workload_does_not_deploy_render_no_policy():
    extra = (
        "overrides:\n  - clusters: {matchLabels: {name: b}}\n    kinds: [ConfigMap]\n    patches:\n"
        "      - {op: add, path: /data/x, value: '1'}\n"
    )
    documents = docs_of(karmada.render(small_fleet(workload_yaml(extra))), "karmada/workloads/api.yaml")
    assert by_kind(documents, "OverridePolicy") == []
