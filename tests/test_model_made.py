"""``model.made``: the per-cluster model objects built by setting their dict at once are the ones their dataclass
constructors make, attribute for attribute, for every cluster of the fleets the tests know."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from fleetgen.load import load_bytes
from fleetgen.model import Cluster, ClusterNetwork, NodePool, build

ROOT = Path(__file__).resolve().parent.parent
FLEETS = [ROOT / "fleet.yaml", *sorted((ROOT / "tests" / "fleets").glob("*.yaml"))]


def _made_objects(fleet_file: Path) -> list:
    doc, _ = load_bytes(fleet_file.read_bytes(), str(fleet_file))
    assert doc is not None
    fleet = build(doc.data)
    assert fleet.clusters
    return [obj for c in fleet.clusters for obj in (c, c.network, *c.node_pools)]


@pytest.mark.parametrize("fleet_file", FLEETS, ids=lambda p: p.name)
def test_made_is_what_the_constructor_makes(fleet_file: Path) -> None:
    objects = _made_objects(fleet_file)
    assert {type(obj) for obj in objects} == {Cluster, ClusterNetwork, NodePool}
    for obj in objects:
        constructed = type(obj)(**{f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})
        assert list(vars(obj).items()) == list(vars(constructed).items())  # every field, in the constructor's order
        assert obj == constructed and repr(obj) == repr(constructed)
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.name = "changed"  # type: ignore[misc]


def test_made_classes_have_no_post_init() -> None:
    """``made`` skips ``__init__``; a ``__post_init__`` added to one of these classes would be skipped with it."""
    for cls in (Cluster, ClusterNetwork, NodePool):
        assert not hasattr(cls, "__post_init__"), cls
