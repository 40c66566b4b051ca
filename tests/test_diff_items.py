"""A comma-separated list of names in one string (argocd-agent's ``principal.allowedNamespaces``) is reviewed as
the names it gains and loses, not as two long strings cut at 200 characters."""

from __future__ import annotations

import json

import pytest
from fleetgen.diff import ABSENT, Change, Items, list_items
from fleetgen.report.diff_text import VALUE_LIMIT, change_line

from bench.synth import cluster as synth_cluster
from bench.synth import fleet as synth_fleet
from tests.test_diff import diff, history
from tests.test_incremental import dump

NAMES = [f"edge-imported-{i:05d}" for i in range(40)]


@pytest.mark.parametrize(
    "old,new,expected",
    [
        ("a,b", "a,b,c", Items(("c",), (), 2, 3)),
        ("a,b,c", "c,a", Items((), ("b",), 3, 2, reordered=True)),
        ("", "a,b", Items(("a", "b"), (), 0, 2)),  # the first names
        ("a,b,c", "a,b,b", Items((), ("c",), 3, 3, recounted=("b",))),  # b twice: not hidden by the counts
        ("a,b,b,d", "d,b,a,e", Items(("e",), (), 4, 4, recounted=("b",), reordered=True)),
        ("1,000", "1,500", None),  # a number, not a list of names
        ("a", "b", None),  # one name on each side: a plain change
        ("mtls:CN=([^,]+)", "mtls:CN=([^,]*)", None),  # a pattern, not a list
        ("a, b", "a, b, c", None),  # prose
        ("a,,b", "a,b", None),  # an empty item: not a list of names
        ("a,b", ["a", "b"], None),  # not two strings
        (ABSENT, "a,b", None),
    ],
)
def test_which_changes_are_lists_of_names(old, new, expected):
    assert list_items(Change("p", old, new)) == expected


def test_a_long_list_shows_the_names_it_gains_and_loses_and_a_short_one_both_strings():
    old = ",".join(NAMES)
    new = ",".join([n for n in NAMES if n != NAMES[7]] + ["edge-imported-99999"])
    assert len(json.dumps(old)) > VALUE_LIMIT  # whole, it would be cut
    line = change_line(Change("principal.allowedNamespaces", old, new))
    gained_and_lost = "+ edge-imported-99999; - edge-imported-00007"
    assert line == f"~ principal.allowedNamespaces: comma-separated list of 40 → 40 items: {gained_and_lost}"
    assert change_line(Change("p", "a,b", "a,c")) == '~ p: "a,b" → "a,c"'
    reordered = change_line(Change("p", old, ",".join(reversed(NAMES))))
    assert reordered.endswith("40 → 40 items: the names kept are in another order")
    moved_and_added = change_line(Change("p", old, ",".join([*reversed(NAMES), "edge-imported-99999"])))
    assert moved_and_added.endswith("40 → 41 items: + edge-imported-99999; the names kept are in another order")
    repeated = change_line(Change("p", old, ",".join([*NAMES[:-1], NAMES[0]])))
    assert repeated.endswith("40 → 40 items: - edge-imported-00039; repeated a different number of times: " + NAMES[0])
    many = change_line(Change("p", old, ",".join(NAMES + [f"new-{i}" for i in range(35)])))
    assert "+ new-0, new-1," in many and "new-29 and 5 more" in many and " - " not in many


def test_a_pull_mode_cluster_joining_is_one_name_in_the_principals_allowed_namespaces(tmp_path):
    """End to end: 80 synthetic clusters, 12 registered in pull mode (a 250-character list), and one more joins."""
    data = synth_fleet(80, "cilium")
    before = dump(data)
    joining = synth_cluster(83, "cilium", 300)  # provider imported: registered, pull mode
    data["clusters"].append(joining)
    repo = history(tmp_path / "repo", before, dump(data))
    text = diff(repo, "--base", "HEAD~1", "--format", "text").output
    line = next(x for x in text.splitlines() if "principal.allowedNamespaces" in x)
    assert line.strip() == f"~ principal.allowedNamespaces: comma-separated list of 12 → 13 items: + {joining['name']}"
    body = json.loads(diff(repo, "--base", "HEAD~1", "--format", "json").output)
    changes = [c for m in body["manifests"] for c in m["changes"] if c["path"] == "principal.allowedNamespaces"]
    assert [c["items"] for c in changes] == [
        {"added": [joining["name"]], "removed": [], "recounted": [], "reordered": False}
    ]
    kept = [name for name in changes[0]["new"].split(",") if name != joining["name"]]
    assert kept == changes[0]["old"].split(",")  # old and new are still there, whole
    markdown = diff(repo, "--base", "HEAD~1", "--format", "markdown").output
    assert f"comma-separated list of 12 → 13 items: + {joining['name']}" in markdown
