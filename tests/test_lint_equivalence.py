"""Lint's findings do not move when lint gets faster (issue 10, "identical findings").

Every fleet below is linted and its ``--format json`` output compared with the output the
implementation gave before the speed-ups of issue 10's point 4, recorded in
tests/lint_golden.json (a SHA-256 of the JSON plus the count per rule, so a failure says which
rule moved). The fleets: every lint-rule case of tests/test_lint_rules.py, the fleets under
tests/fleets, the repository's own fleet.yaml and examples/, and synthetic fleets of 5 to
1,000 clusters (bench/synth.py) with seeded mutations that trigger rules: duplicate names,
overlapping CIDRs, secrets in labels, version skew, bad pools, schema errors, flow style and
anchors.

Regenerate the golden file only for a change that is meant to alter findings:
``python -m tests.test_lint_equivalence --write``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import random
import sys
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
import yaml
from fleetgen import pipeline
from fleetgen.report import json_report

from bench.synth import fleet

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).with_name("lint_golden.json")

# base64 of a certificate followed by an EC private key (dummy bodies), as tests/test_lint_rules.py
_CA_WITH_KEY = (
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClpYaGhiWEJzWlNCRFFTQm1iM0lnZEdWemRITT0KLS0tLS1FTkQgQ0VSVElGSUNB"
    "VEUtLS0tLQotLS0tLUJFR0lOIEVDIFBSSVZBVEUgS0VZLS0tLS0KYm05MElHRWdhMlY1Ci0tLS0tRU5EIEVDIFBSSVZBVEUgS0VZ"
    "LS0tLS0K"
)


def _mutate(data: dict, rng: random.Random, count: int, schema_errors: bool) -> dict:
    """``count`` rule-triggering edits at seeded places (and, with ``schema_errors``, two schema errors)."""
    data = copy.deepcopy(data)
    clusters = data["clusters"]

    def pick() -> dict:
        return clusters[rng.randrange(len(clusters))]

    edits = [
        lambda: pick().update(name=pick()["name"]),  # duplicate-cluster / duplicate-name
        lambda: pick()["network"].update(pods=pick()["network"]["pods"]),  # cidr-overlap
        lambda: pick()["network"].update(services=pick()["network"]["pods"]),
        lambda: pick()["network"].update(nodes=pick()["network"]["nodes"]),  # node-network-overlap
        lambda: pick()["labels"].update(apiToken="Xk9aLm2Qp7zRw4Tb"),  # secret-material (password-like)
        lambda: pick()["labels"].update(team="AKIAIOSFODNN7EXAMPLE"),  # secret-material (AWS key)
        lambda: pick().update(kubernetesVersion="1.27"),  # version-skew / promotion-order
        lambda: pick().update(caData=_CA_WITH_KEY),  # ca-data-private-key
        lambda: pick().update(nodePools=[{"name": "big", "instanceType": "m6i.xlarge", "min": 9, "max": 2}]),
        lambda: pick()["network"].update(nodeMask=30),  # node-mask
        lambda: pick()["network"].update(services="100.64.0.0/28"),  # service-cidr-size
        lambda: pick().pop("server", None),  # pending registration
        lambda: data["applicationSets"][0]["clusters"].update(matchLabels={"tier": "nowhere"}),  # empty-selector
        lambda: data["applicationSets"][1].update(namespace="kube-system"),  # system-namespace
    ]
    for edit in rng.sample(edits, min(count, len(edits))):  # distinct edits first, then repeats
        edit()
    for _ in range(count - len(edits)):
        rng.choice(edits)()
    if schema_errors:
        pick()["nodePools"][0]["instanceTyp"] = "m6i.xlarge"  # unknown field (did-you-mean)
        pick()["network"]["pods"] = "10.0.0.1/8"  # host bits set
    return data


def _synthetic() -> dict[str, str]:
    out: dict[str, str] = {}
    for n in (5, 12, 40, 150, 600):
        base = fleet(n)
        for seed in range(2):
            rng = random.Random(n * 100 + seed)
            data = _mutate(base, rng, count=3 + n // 40, schema_errors=seed == 1 and n in (12, 150))
            out[f"synth-{n}-{seed}"] = yaml.safe_dump(data, sort_keys=False, width=1000)
    out["synth-1000-clean"] = yaml.safe_dump(fleet(1000), sort_keys=False, width=1000)
    out["synth-60-flow"] = yaml.safe_dump(fleet(60), sort_keys=False, default_flow_style=None, width=120)
    shared = fleet(30)
    for c in shared["clusters"][1:]:
        if c["provider"]["type"] == shared["clusters"][0]["provider"]["type"]:
            c["provider"] = shared["clusters"][0]["provider"]  # the dumper writes anchors and aliases
        c["nodePools"] = shared["clusters"][0]["nodePools"]
    out["synth-30-anchors"] = yaml.safe_dump(shared, sort_keys=False, width=1000)
    return out


@cache
def fleets() -> dict[str, str]:
    """Every fleet text the check lints, by a stable name."""
    from .test_lint_rules import CASES

    out = {f"case-{name}": text for name, text in CASES.items()}
    for path in sorted((ROOT / "tests" / "fleets").glob("*.yaml")):
        out[f"fleets-{path.name}"] = path.read_text("utf-8")
    out["repo-fleet.yaml"] = (ROOT / "fleet.yaml").read_text("utf-8")
    out["examples-fleet.yaml"] = (ROOT / "examples" / "fleet.yaml").read_text("utf-8")
    out.update(_synthetic())
    return out


def lint_json(directory: Path, text: str) -> str:
    """``fleetgen lint --format json fleet.yaml`` in ``directory``, as the CLI would print it."""
    (directory / "fleet.yaml").write_text(text, "utf-8")
    cwd = Path.cwd()
    os.chdir(directory)
    try:
        result = pipeline.load_and_lint(Path("fleet.yaml"))
    finally:
        os.chdir(cwd)
    return json_report.render(result.findings, suppressed=result.suppressed)


def summary(output: str) -> dict:
    rules = Counter(f["rule"] for f in json.loads(output)["findings"])
    return {"sha256": hashlib.sha256(output.encode()).hexdigest(), "rules": dict(sorted(rules.items()))}


@cache
def _golden() -> dict:
    return json.loads(GOLDEN.read_text())


def test_the_golden_file_covers_every_fleet_and_many_findings():
    golden = _golden()
    assert set(golden) == set(fleets())
    rules = {rule for entry in golden.values() for rule in entry["rules"]}
    assert len(rules) >= 40  # the mutations and cases trigger (nearly) every rule, not just a clean run
    synthetic = [entry for name, entry in golden.items() if name.startswith("synth-")]
    assert sum(sum(entry["rules"].values()) for entry in synthetic) >= 100


@pytest.mark.parametrize("name", sorted(_golden()))
def test_lint_output_is_unchanged(tmp_path, name):
    assert summary(lint_json(tmp_path, fleets()[name])) == _golden()[name]


if __name__ == "__main__":  # python -m tests.test_lint_equivalence --write
    import tempfile

    assert sys.argv[1:] == ["--write"], __doc__
    with tempfile.TemporaryDirectory() as tmp:
        record = {}
        for name, text in sorted(fleets().items()):
            work = Path(tmp) / name
            work.mkdir()
            record[name] = summary(lint_json(work, text))
    GOLDEN.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
