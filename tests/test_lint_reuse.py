"""The lint rules reused rule by rule (fleetgen.lint.reuse): the same findings as running every rule, always."""

from __future__ import annotations

import base64
import copy
import random
import re

import pytest
from fleetgen import lint, tracing
from fleetgen.lint.reuse import Memory
from fleetgen.load import load_text
from fleetgen.model import Fleet, build
from fleetgen.schema import validate
from fleetgen.settled import settled
from fleetgen.sources import cluster_sources

from bench.synth import CA_DATA
from bench.synth import cluster as synth_cluster
from bench.synth import fleet as synth_fleet
from tests.test_incremental import dump

# ---------------------------------------------------------------- edits that make (and mend) findings

PRIVATE_KEY = base64.b64encode(b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n").decode()


def edit_pool(data, rng):  # pool-min-max, pod-cidr-capacity, untainted-pool
    pool = rng.choice(data["clusters"])["nodePools"][0]
    pool["min"], pool["max"] = rng.choice([(1, 8), (9, 3), (1, 4000)])


def edit_overlap(data, rng):  # cidr-overlap: one cluster's pods moved onto another's, or back
    first, second = rng.sample(data["clusters"], 2)
    first["network"]["pods"] = second["network"]["pods"] if rng.random() < 0.7 else "10.250.0.0/22"


def edit_version(data, rng):  # version-skew, promotion-order, upgrade-skip, version-downgrade
    c = rng.choice([c for c in data["clusters"] if c["provider"]["type"] != "gcp"])
    c["kubernetesVersion"] = rng.choice(["1.29", "1.30", "1.31", "1.32"])


def edit_tier(data, rng):  # selectors that match nothing, weights on clusters not selected
    c = rng.choice(data["clusters"])
    c["labels"]["tier"] = rng.choice(["gpu", "standard", "edge", "none"])


def edit_weight(data, rng):  # unknown-cluster, zero-weight
    w = data["workloads"][0]
    w["weights"] = {rng.choice(data["clusters"])["name"]: rng.choice([1, 3]), "gone": 1}


def edit_secret(data, rng):  # ca-data-private-key and secret-material: a key pasted into a cluster's caData
    c = rng.choice([c for c in data["clusters"] if "caData" in c])
    c["caData"] = rng.choice([PRIVATE_KEY, CA_DATA])


def edit_name(data, rng):  # a cluster renamed: selectors, weights and application names see another name
    c = rng.choice(data["clusters"])
    c["name"] = c["name"][:-1] + "x" if not c["name"].endswith("x") else c["name"][:-1] + "0"


def edit_shuffle(data, rng):  # every cluster's position changes, its text does not
    rng.shuffle(data["clusters"])


def edit_remove(data, rng):
    if len(data["clusters"]) > 6:
        data["clusters"].remove(rng.choice(data["clusters"]))


def edit_add(data, rng):
    names = {c["name"] for c in data["clusters"]}
    index = rng.choice([i for i in range(20, 90) if not any(n.endswith(f"-{i:05d}") for n in names)])
    data["clusters"].insert(rng.randrange(len(data["clusters"]) + 1), synth_cluster(index, "cilium", 400 + index))


def edit_mesh(data, rng):  # mesh-id: two clusters with one id
    first, second = rng.sample(data["clusters"], 2)
    first["network"]["meshID"] = second["network"]["meshID"]


def edit_comment(data, rng):  # handled in the text: see _text
    data.setdefault("_comment", 0)
    data["_comment"] += 1


EDITS = [
    edit_pool,
    edit_overlap,
    edit_version,
    edit_tier,
    edit_weight,
    edit_secret,
    edit_name,
    edit_shuffle,
    edit_remove,
    edit_add,
    edit_mesh,
    edit_comment,
]


def _text(data: dict) -> str:
    """The fleet as fleet.yaml text; ``_comment`` odd: a suppression comment on the first cluster's line."""
    data = dict(data)
    suppress = data.pop("_comment", 0) % 2
    text = dump(data)
    if suppress:
        text = re.sub(
            r"\n(- environment: \w+)\n", r"\n\1  # fleetgen: ignore[version-skew,pool-min-max]\n", text, count=1
        )
    return text


def _loaded(text: str):
    doc, findings = load_text(text, "fleet.yaml")
    if doc is None or findings or validate(doc):
        return None
    return doc, build(doc.data), cluster_sources(doc)


def _lint(step, **kwargs) -> lint.LintResult:
    doc, fleet, sources = step
    return lint.run(doc, fleet, kwargs.pop("versions", None), sources=sources, **kwargs)


def _same(reused: lint.LintResult, whole: lint.LintResult) -> None:
    assert (reused.findings, reused.suppressed, dict(reused.remembered)) == (
        whole.findings,
        whole.suppressed,
        dict(whole.remembered),
    )


@pytest.mark.parametrize("seed", range(8))
def test_random_edit_sequences_lint_with_the_rules_reused_as_with_every_rule_run(seed):
    """Random edits that make and mend findings, move clusters and change the rendered versions and installed
    settings: every step, the rules reused from the step before (``render``: recorded again) and those reused by a
    ``check`` (recording nothing) find exactly what every rule run afresh finds."""
    rng = random.Random(seed)
    data = synth_fleet(14, "cilium")
    memory: Memory | None = None
    previous: Fleet | None = None
    reused = 0
    for _ in range(14):
        edited = copy.deepcopy(data)
        rng.choice(EDITS)(edited, rng)
        step = _loaded(_text(edited))
        if step is None:  # an edit the schema refuses: not a fleet the rules see
            continue
        data, fleet = edited, step[1]
        versions = {c.name: rng.choice(["1.29", "1.30", "1.31"]) for c in fleet.clusters if rng.random() < 0.3}
        installed = settled(previous) if previous is not None and rng.random() < 0.5 else None
        given = {"versions": versions, "installed": installed}
        whole = _lint(step, **given)
        checked = _lint(step, memory=memory, **given)
        rendered = _lint(step, memory=memory, keep=True, **given)
        _same(checked, whole)
        _same(rendered, whole)
        assert checked.reused == rendered.reused and checked.memory is None
        assert (rendered.memory is None) == (step[2] is None)  # no cluster sources (duplicate names): nothing kept
        reused += len(rendered.reused)
        memory, previous = rendered.memory, fleet
    assert reused > 14 * len(lint.LINT_RULES) // 4  # most rules were reused: the comparison above was not vacuous


def _ran(step, memory: Memory, **kwargs) -> set[str]:
    result = _lint(step, memory=memory, keep=True, **kwargs)
    return {r.id for r in lint.LINT_RULES} - set(result.reused)


ALWAYS = {"secret-material", "ca-data-private-key"}  # they read the raw data: never reused


@pytest.fixture()
def synth():
    data = synth_fleet(14, "cilium")
    step = _loaded(_text(data))
    assert step is not None
    return data, step, _lint(step, keep=True).memory


def _edited(data: dict, edit) -> tuple:
    edited = copy.deepcopy(data)
    edit(edited)
    step = _loaded(_text(edited))
    assert step is not None
    return step


def test_nothing_changed_reuses_every_rule_but_those_reading_the_raw_data(synth):
    data, step, memory = synth
    assert _ran(step, memory) == ALWAYS


def test_a_node_pool_edit_runs_only_the_rules_that_read_node_pools(synth):
    data, _, memory = synth

    def edit(d):
        d["clusters"][3]["nodePools"][0]["max"] = 9

    assert _ran(_edited(data, edit), memory) - ALWAYS == {
        "pool-min-max",
        "pod-cidr-capacity",
        "untainted-pool",
        "gke-regional-pool",
        "aks-system-pool",
        "vsphere-instance-type",
        "node-label-dropped",
    }


def test_a_version_edit_runs_the_version_rules_and_a_provider_edit_the_provider_rules(synth):
    data, _, memory = synth

    def version(d):
        d["clusters"][2]["kubernetesVersion"] = "1.29"

    ran = _ran(_edited(data, version), memory) - ALWAYS
    # (upgrade-skip and version-downgrade compare with the rendered versions: none here, so they read no cluster)
    assert {"version-skew", "promotion-order", "gke-version"} <= ran
    assert not ran & {"cidr-overlap-internal", "pool-min-max", "application-name", "empty-selector"}

    def region(d):  # the provider rules choose their clusters by provider (Fleet.of_provider)
        d["clusters"][1]["provider"]["accountID"] = "999999999999"

    ran = _ran(_edited(data, region), memory) - ALWAYS
    assert "account-mismatch" in ran and not ran & {"version-skew", "pool-min-max", "application-name"}


def test_a_cluster_moved_runs_every_rule_that_reads_clusters_and_its_findings_follow_it(synth):
    """Positions are not in a cluster's source digest: a cluster moved is the same text elsewhere, and every finding
    on a cluster names its position."""
    data, _, memory = synth

    def overlap(d):
        d["clusters"][5]["network"]["pods"] = d["clusters"][4]["network"]["pods"]

    step = _edited(data, overlap)
    before = _lint(step, memory=memory, keep=True)
    assert any(f.rule == "cidr-overlap" for f in before.findings)

    def moved(d):
        overlap(d)
        d["clusters"].insert(0, d["clusters"].pop(5))

    step = _edited(data, moved)
    after = _lint(step, memory=before.memory, keep=True)
    _same(after, _lint(step))
    assert not {"cidr-overlap", "duplicate-cluster", "version-skew"} & set(after.reused)
    assert [f.path for f in after.findings if f.rule == "cidr-overlap"] != [
        f.path for f in before.findings if f.rule == "cidr-overlap"
    ]


def test_the_rendered_versions_and_the_installed_settings_run_the_rules_that_read_them(synth):
    data, step, memory = synth
    fleet = step[1]
    versions = {fleet.clusters[0].name: "1.28"}
    assert _ran(step, memory, versions=versions) - ALWAYS == {"upgrade-skip", "version-downgrade"}
    other = copy.deepcopy(data)
    other["clusters"][0]["network"]["meshID"] = 499
    installed = settled(build(other))
    assert _ran(step, memory, installed=installed) - ALWAYS == {"immutable-setting"}


def test_a_fleet_file_with_aliases_reuses_and_records_nothing(synth):
    """Without cluster sources (fleetgen.sources: the text alone does not decide a cluster) no rule is reused."""
    data, step, memory = synth
    doc, fleet, _ = step
    result = lint.run(doc, fleet, sources=None, memory=memory, keep=True)
    assert result.reused == () and result.memory is None
    _same(result, lint.run(doc, fleet, sources=None))


def test_a_rule_recorded_gets_a_memo_of_its_own(synth, monkeypatch):
    """Rules share results through Context.memo; a value one rule computed would reach the next without the reads
    behind it, so each rule recorded runs with its own memo (two rules select the same selectors here)."""
    data, step, _ = synth
    seen: list[int] = []
    from fleetgen.lint import placement

    real = placement._selected

    def selected(selector, ctx):
        seen.append(id(ctx.memo))
        return real(selector, ctx)

    monkeypatch.setattr(placement, "_selected", selected)
    _lint(step, keep=True)
    recorded = set(seen)
    seen.clear()
    _lint(step)
    assert len(recorded) > 1 and len(set(seen)) == 1


def test_the_memory_reads_back_as_it_was_written_and_anything_else_is_none(synth):
    _, _, memory = synth
    assert memory is not None and memory.rules and len(memory.rows) == 14
    assert Memory.from_data(memory.to_data()) == memory
    broken = memory.to_data()
    broken["rows"] = {key: b"short" for key in broken["rows"]}
    assert Memory.from_data(broken) is None and Memory.from_data(None) is None and Memory.from_data([1]) is None


def test_a_cluster_view_is_recorded_as_the_fields_it_chooses_by():
    """Fleet.of_provider gives the clusters of some providers: read as the clusters' provider, in order, plus what is
    read of the clusters it gives (Fleet.CLUSTER_VIEWS), not as everything."""
    fleet = build(synth_fleet(6, "cilium"))
    found = []
    for _ in range(2):  # the first call reads every cluster's provider (Fleet._by_provider); the second, nothing
        recording = tracing.Recording(fleet, fleet_wide=True)
        with recording as traced:
            names = [c.name for c in traced.of_provider("aws")]
        found.append(recording.reads())
    assert names and found == [{"clusters.provider", "clusters.name,provider"}, {"clusters.provider", "clusters.name"}]


def test_a_rule_that_reads_the_clusters_whole_runs_again_when_a_cluster_moves(synth, monkeypatch):
    """A Fleet method (``named``) counts as reading everything, and everything's digest holds the clusters' source
    digests, which leave out their positions: a cluster moved, its text unchanged, runs the rule again, and its
    finding names the new position."""
    from fleetgen.lint.registry import flag, rule

    data, _, _ = synth
    name = data["clusters"][4]["name"]

    @rule("demo-named", fix="none")
    def named(ctx):
        yield flag((*ctx.fleet.named(name).path, "name"), "demo")

    monkeypatch.setattr(lint, "LINT_RULES", (named,))
    before = _lint(_loaded(_text(data)), keep=True)

    def moved(d):
        d["clusters"].insert(0, d["clusters"].pop(4))

    step = _edited(data, moved)
    after = _lint(step, memory=before.memory, keep=True)
    assert after.reused == () and [f.path for f in after.findings] == [("clusters", 0, "name")]
    assert [f.path for f in before.findings] == [("clusters", 4, "name")]


def test_the_vendored_schemas_override_path_walks_key_the_memory(synth, monkeypatch):
    """override-path walks the workloads' kinds' vendored schemas, which fleetgen's code digest leaves out: a change
    to one runs every rule again (and changes the kept findings' key, tests/test_lintcache.py)."""
    from fleetgen.lint import overrides

    data, step, memory = synth
    assert "override-path" in _lint(step, memory=memory).reused
    monkeypatch.setattr(overrides, "schemas_digest", lambda kinds: "other schemas")
    assert _lint(step, memory=memory).reused == ()
