"""fleetgen.sources: a cluster's source digest changes whenever its model cluster can, and only its own.

The incremental render keys cluster units by these digests (tests/test_incremental.py renders random edit
sequences through them and from scratch); here the digest itself is held to its one promise, same digest =>
same model cluster, under random edits of the text, including edits that change how lines are read.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from fleetgen import cachedir
from fleetgen.load import load_text
from fleetgen.model import build
from fleetgen.sources import cluster_sources
from ruamel.yaml import YAML

from bench.synth import fleet as synth_fleet
from tests.text_edits import random_line_edit

ROOT = Path(__file__).resolve().parents[1]


def dump(data) -> str:
    from io import StringIO

    yaml = YAML()
    yaml.default_flow_style = False
    out = StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def sources(text: str):
    doc, findings = load_text(text, "fleet.yaml")
    assert doc is not None, findings
    return cluster_sources(doc)


def models(text: str) -> dict[str, str] | None:
    """Cluster name -> repr of the model cluster (position left out, as the keys leave it out); None if unbuildable."""
    doc, _ = load_text(text, "fleet.yaml")
    if doc is None:
        return None
    try:  # (a network's CIDRs are parsed when first read: by repr)
        return {c.name: repr(c) for c in build(doc.data).clusters}
    except Exception:  # noqa: BLE001 - a mutation may leave the schema: such texts are not compared
        return None


def test_each_cluster_has_its_own_digest_and_moving_it_changes_none():
    data = synth_fleet(6, "cilium")
    before = sources(dump(data))
    assert before is not None and sorted(before) == sorted(c["name"] for c in data["clusters"])
    assert len(set(before.values())) == 6
    data["clusters"].reverse()
    assert sources(dump(data)) == before  # positions are not in the digest
    data["clusters"][2]["nodePools"][0]["max"] += 1
    after = sources(dump(data))
    assert after is not None
    assert {n for n in before if before[n] != after[n]} == {data["clusters"][2]["name"]}


def test_defaults_change_every_digest_and_directives_leave_none():
    text = dump(synth_fleet(3, "cilium"))
    before = sources(text)
    assert before is not None
    with_defaults = sources(text + "defaults:\n  labels:\n    team: core\n")
    assert with_defaults is not None and all(with_defaults[n] != before[n] for n in before)
    assert sources("%YAML 1.2\n---\n" + text) is None  # a directive could change how every line is read


def test_a_cluster_read_part_by_part_has_the_digest_of_the_whole_parse(tmp_path):
    """The digest must not depend on how the file was read (chunked, or whole after a cache miss)."""
    text = dump(synth_fleet(6, "cilium"))
    cache = tmp_path / "load.marshal"
    whole, _ = load_text(text, "fleet.yaml", cache, keep=True)
    assert whole is not None and whole.parts is not None
    cachedir.write(cache, whole.parts, cache)  # as render does
    parts, _ = load_text(text, "fleet.yaml", cache)
    assert whole is not None and parts is not None and not whole.chunked and parts.chunked
    assert cluster_sources(whole) == cluster_sources(parts) is not None


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t + "x-anchor: &a 1\nx-alias: *a\n",  # an alias, anywhere
        lambda t: t.replace("\n", "\r\n"),  # CRLF: lines are not cut here
        lambda t: t.replace("clusters:\n- ", "clusters:\n-\n  ", 1),  # "-" alone on its line
    ],
    ids=["alias", "crlf", "dash-alone"],
)
def test_text_whose_lines_may_not_decide_a_cluster_has_no_digests(change):
    text = dump(synth_fleet(3, "cilium"))
    assert sources(text) is not None
    doc, _ = load_text(change(text), "fleet.yaml")
    assert doc is not None
    assert cluster_sources(doc) is None


def test_a_flow_style_cluster_list_has_no_digests():
    doc, _ = load_text("apiVersion: fleetgen/v1alpha1\nclusters: [{name: a}, {name: b}]\n", "fleet.yaml")
    assert doc is not None and cluster_sources(doc) is None


@pytest.mark.parametrize("seed", range(2))
def test_same_digest_means_same_model_cluster_under_random_text_edits(seed):
    """The digest's promise: a text edit that keeps a cluster's digest keeps its model cluster (the other way round
    it may be conservative). Random line edits anywhere, kept when the text still builds a fleet."""
    rng = random.Random(seed)
    text = dump(synth_fleet(8, "cilium")) + "defaults:\n  labels:\n    team: core\n"
    base_sources, base_models = sources(text), models(text)
    assert base_sources is not None and base_models is not None
    compared = 0
    for _ in range(200):
        edited, where = random_line_edit(text, rng)
        doc, _ = load_text(edited, "fleet.yaml")
        after_models = models(edited)
        if doc is None or after_models is None:
            continue
        after_sources = cluster_sources(doc)
        if after_sources is None:
            continue
        for name in base_sources.keys() & after_sources.keys():
            if base_sources[name] == after_sources[name]:
                assert base_models.get(name) == after_models.get(name), where
                compared += 1
    assert compared > 500  # most edits leave most clusters alone: the promise was tested, not skipped
