"""Label selection as Kubernetes defines it (selectors.select, the loop lint runs per set and workload)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fleetgen.model import Requirement, Selector, frozen_map
from fleetgen.selectors import select

CLUSTERS = [
    SimpleNamespace(name="a", labels={"env": "prod", "tier": "web"}),
    SimpleNamespace(name="b", labels={"env": "prod", "tier": "gpu"}),
    SimpleNamespace(name="c", labels={"env": "dev"}),
]


@pytest.mark.parametrize(
    ("labels", "exprs", "names"),
    [
        ({}, (), ["a", "b", "c"]),  # empty selects everything
        ({"env": "prod"}, (), ["a", "b"]),
        ({"env": "prod", "tier": "gpu"}, (), ["b"]),
        ({"env": "prod"}, (Requirement("tier", "NotIn", ("gpu",)),), ["a"]),
        ({}, (Requirement("tier", "NotIn", ("gpu",)),), ["a", "c"]),  # NotIn matches an absent key
        ({}, (Requirement("tier", "In", ("gpu", "web")),), ["a", "b"]),
        ({}, (Requirement("tier", "Exists"),), ["a", "b"]),
        ({}, (Requirement("tier", "DoesNotExist"),), ["c"]),
        ({"env": "dev"}, (Requirement("tier", "Exists"),), []),
        ({"tier": "web", "env": "dev"}, (), []),
    ],
)
def test_select(labels, exprs, names):
    selector = Selector(frozen_map(labels), exprs, ())
    assert [c.name for c in select(selector, CLUSTERS)] == names  # type: ignore[arg-type]
