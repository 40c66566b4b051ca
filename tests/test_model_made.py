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


def _clusters(fleet_file: Path) -> tuple[Cluster, ...]:
    doc, _ = load_bytes(fleet_file.read_bytes(), str(fleet_file))
    assert doc is not None
    clusters = build(doc.data).clusters
    assert clusters
    return clusters


def _made_objects(fleet_file: Path) -> list:
    return [obj for c in _clusters(fleet_file) for obj in (c, c.network, *c.node_pools)]


@pytest.mark.parametrize("fleet_file", FLEETS, ids=lambda p: p.name)
def test_made_is_what_the_constructor_makes(fleet_file: Path) -> None:
    objects = _made_objects(fleet_file)
    assert {type(obj) for obj in objects} == {Cluster, ClusterNetwork, NodePool}
    for obj in objects:
        lazy = dict(vars(obj).get("_cidrs", {}))  # a network's CIDRs, parsed when first read
        constructed = type(obj)(**{f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})
        made_fields = {name: value for name, value in vars(obj).items() if name != "_cidrs"}
        assert made_fields == vars(constructed)  # every field, the CIDRs parsed as the constructor was given them
        # in the constructor's order, but the CIDRs, which come when read
        assert [n for n in made_fields if n not in lazy] == [n for n in vars(constructed) if n not in lazy]
        assert obj == constructed and repr(obj) == repr(constructed)
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.name = "changed"  # type: ignore[misc]


def test_made_classes_have_no_post_init() -> None:
    """``made`` skips ``__init__``; a ``__post_init__`` added to one of these classes would be skipped with it."""
    for cls in (Cluster, ClusterNetwork, NodePool):
        assert not hasattr(cls, "__post_init__"), cls


@pytest.mark.parametrize("fleet_file", FLEETS, ids=lambda p: p.name)
def test_a_networks_cidrs_are_parsed_when_first_read(fleet_file: Path) -> None:
    """A network built by the model holds its CIDRs as text until one is read (an incremental render reads those of
    the clusters it renders again); its IP family comes from the text, as the parsed network's version."""
    for cluster in _clusters(fleet_file):
        net = cluster.network
        assert not {"pods", "services"} & vars(net).keys()
        assert net.family == net.pods.version and "pods" in vars(net) and net.family == net.pods.version
        assert net.nodes is None or net.nodes.version == 4
        with pytest.raises(AttributeError):
            net.missing  # noqa: B018 - not a field: no CIDR behind it
