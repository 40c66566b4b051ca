"""List identity for ``fleetgen diff``: the shipped table of upstream list-map keys, the maintainer script
that extracts it, and the sequence alignment used for every other list."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fleetgen.listkeys import GENERATED, Key, align, table_for, upstream

ROOT = Path(__file__).resolve().parents[1]
ABSENT = object()


def test_shipped_table_holds_the_upstream_list_maps():
    # k8s.io/api core/v1 types.go: +listMapKey=name on containers and env, containerPort+protocol on ports,
    # mountPath on volumeMounts; ServiceSpec.ports: port+protocol.
    deployment = upstream()["apps/v1 Deployment"]
    assert deployment["spec.template.spec.containers"] == ("name",)
    assert deployment["spec.template.spec.containers[].env"] == ("name",)
    assert deployment["spec.template.spec.containers[].ports"] == ("containerPort", "protocol")
    assert deployment["spec.template.spec.containers[].volumeMounts"] == ("mountPath",)
    assert upstream()["v1 Service"]["spec.ports"] == ("port", "protocol")


def test_generated_lists_have_documented_keys():
    project = table_for({"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject"}, "hub/x.yaml")
    assert project["spec.destinations"] == ("server", "name", "namespace")
    assert table_for({"cluster": {}}, "cilium/values.yaml") == {"clustermesh.config.clusters": ("name",)}
    assert (
        "spec.placement.replicaScheduling.weightPreference.staticWeightList"
        in GENERATED["policy.karmada.io/v1alpha1 PropagationPolicy"]
    )


def test_extraction_script_follows_refs_items_and_combinators(tmp_path):
    schema = {
        "properties": {
            "apiVersion": {"const": "example.io/v1"},
            "kind": {"const": "Widget"},
            "spec": {"$ref": "#/definitions/Spec"},
        },
        "definitions": {
            "Spec": {
                "properties": {
                    "parts": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["id"],
                        "items": {"$ref": "#/definitions/Part"},
                    },
                    "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                    "child": {"allOf": [{"$ref": "#/definitions/Spec"}]},  # recursive: cut at the repetition
                }
            },
            "Part": {
                "properties": {
                    "ports": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["port", "protocol"],
                    }
                }
            },
        },
    }
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "widget_v1.json").write_text(json.dumps(schema))
    (tmp_path / "in" / "nokind.json").write_text(json.dumps({"properties": {}}))
    out = tmp_path / "keys.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "list_map_keys.py"), str(tmp_path / "in"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == {
        "example.io/v1 Widget": {"spec.parts": ["id"], "spec.parts[].ports": ["port", "protocol"]}
    }


def test_sequence_alignment_inserts_one_entry():
    pairs = list(align(["a", "b", "d"], ["a", "b", "c", "d"], None, ABSENT))
    assert pairs == [(2, ABSENT, "c")]


def test_same_length_replacement_is_compared_in_place():
    pairs = list(align([{"x": 1}, "k"], [{"x": 2}, "k"], None, ABSENT))
    assert pairs == [(0, {"x": 1}, {"x": 2})]


def test_keyed_alignment_and_fallback_on_repeated_keys():
    old, new = [{"name": "a", "v": 1}, {"name": "b"}], [{"name": "b"}, {"name": "a", "v": 2}]
    assert list(align(old, new, ("name",), ABSENT)) == [  # in the new order; equal pairs are skipped later
        (Key(("name",), ("b",)), old[1], new[0]),
        (Key(("name",), ("a",)), old[0], new[1]),
    ]
    repeated = [{"name": "a"}, {"name": "a"}]
    assert list(align(repeated, [{"name": "a"}], ("name",), ABSENT)) == [(1, {"name": "a"}, ABSENT)]
    assert str(Key(("server", "name"), ("https://x", None))) == '[server="https://x"]'


def test_cluster_affinity_groups_are_matched_by_affinity_name():
    """Karmada's webhook requires unique affinityName (pkg/util/validation/validation.go): a group inserted
    first and a cluster added inside another group are one added group and one added name."""
    from fleetgen.diff import ABSENT as ABSENT_SIDE
    from fleetgen.diff import Change, field_changes

    def policy(*groups):
        terms = [{"affinityName": name, "clusterNames": list(names)} for name, names in groups]
        return {
            "apiVersion": "policy.karmada.io/v1alpha1",
            "kind": "PropagationPolicy",
            "spec": {"placement": {"clusterAffinities": terms}},
        }

    old = policy(("primary", ["a", "c"]), ("backup", ["x"]))
    new = policy(("local", ["l"]), ("primary", ["a", "b", "c"]), ("backup", ["x"]))
    assert field_changes(old, new) == (
        Change(
            "spec.placement.clusterAffinities[affinityName=local]",
            ABSENT_SIDE,
            {"affinityName": "local", "clusterNames": ["l"]},
        ),
        Change("spec.placement.clusterAffinities[affinityName=primary].clusterNames[1]", ABSENT_SIDE, "b"),
    )
