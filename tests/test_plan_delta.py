"""The one plan delta (plan/delta.py) and the runbook's text of it (report/plan_text.delta_text).

Expected values are worked out by hand from the small fleets below.
"""

from __future__ import annotations

from fleetgen.plan.delta import plan_delta
from fleetgen.report.plan_text import delta_text

from tests.test_plan_split import fleet, workload


def appset(name: str, app: str = "web") -> dict:
    return {
        "name": name,
        "clusters": {"matchLabels": {"name": "a"}},
        "apps": [{"name": app, "path": "p"}],
        "namespace": "apps",
    }


def test_applications_are_keyed_by_set_and_name_a_move_between_sets_is_a_delete_and_a_create():
    """Argo CD: an ApplicationSet owns its Applications; another set's same-named one is a new object.

    The runbook used to key by name only and printed ``~ application a-web: applicationSet one -> two``.
    """
    before = fleet([{"name": "a"}], applicationSets=[appset("one")])
    after = fleet([{"name": "a"}], applicationSets=[appset("two")])
    delta = plan_delta(before, after, {})
    assert [(a.application_set, a.name) for a in delta.applications_removed] == [("one", "a-web")]
    assert [(a.application_set, a.name) for a in delta.applications_added] == [("two", "a-web")]
    assert delta.applications_changed == ()
    assert delta_text(delta) == (
        "plan changes:\n"  # ordered by name, then set
        "  - application a-web (one)\n"
        "  + application a-web (two): p -> a [https://a.example] namespace apps\n"
    )


def test_a_removed_pending_cluster_is_not_reported_as_registered():
    """Removing a cluster that never registered: nothing left pending, nothing registered (the diff's reading).

    The runbook used to print ``- pending registration: b`` as if b had been registered.
    """
    before = fleet([{"name": "a"}, {"name": "b", "server": None}])
    after = fleet([{"name": "a"}])
    delta = plan_delta(before, after, {})
    assert delta.pending_added == () and delta.pending_resolved == ()
    assert delta_text(delta) == "plan: no change\n"
    registered = plan_delta(before, fleet([{"name": "a"}, {"name": "b"}]), {})
    assert registered.pending_resolved == ("b",)


def test_placements_and_waves_against_one_baseline():
    w = workload("w", 4, {"a": 1, "b": 1})
    before = fleet([{"name": "a"}, {"name": "b"}], workloads=[w])
    after = fleet(
        [{"name": "a", "kubernetesVersion": "1.31"}, {"name": "b"}], workloads=[{**w, "weights": {"a": 3, "b": 1}}]
    )
    delta = plan_delta(before, after, {"a": "1.30", "b": "1.30"})
    # 4 replicas at 1:1 -> 2 and 2. At 3:1, Webster seat by seat, priority votes/(2*seats+1):
    # a 3 > b 1 -> a; a 1 = b 1, fewer seats wins -> b; a 1 > b 1/3 -> a; a 3/5 > b 1/3 -> a: 3 and 1.
    assert dict(delta.placements) == {"w": {"a": (2, 3), "b": (2, 1)}}
    assert [w.as_json() for w in delta.upgrades or ()] == [{"wave": 1, "clusters": ["a"], "from": "1.30", "to": "1.31"}]
    assert delta_text(delta) == (
        "plan changes:\n"
        "  ~ workload w replicas: a 2 -> 3, b 2 -> 1\n"
        "  upgrade waves (rendered tree -> fleet.yaml):\n"
        "    wave 1: 1.30 -> 1.31: a\n"
    )
    unchanged = plan_delta(before, before, {"a": "1.29", "b": "1.30"})
    assert unchanged.upgrades is None and unchanged.empty  # the same waves before and after: no change
