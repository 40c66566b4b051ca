"""Runbook edits keep fleet.yaml byte-for-byte outside the edited lines.

``tests/fleets/roundtrip.yaml`` has comments on every kind of line, single/double/plain quoting
and flow mappings and sequences. Each command runs through the real CLI on a copy; the diff
against the original must be exactly the expected lines, so every other line is untouched.
"""

from __future__ import annotations

import difflib
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleetgen.edit import EditError, FleetText, set_weights
from fleetgen.main import cli

ROUNDTRIP = Path(__file__).resolve().parent / "fleets" / "roundtrip.yaml"


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def changes(old: str, new: str) -> tuple[list[str], list[str]]:
    """(removed lines, added lines): everything else is byte-identical."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    removed, added = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += a[i1:i2]
            added += b[j1:j2]
    return removed, added


@pytest.fixture
def fleet(tmp_path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(ROUNDTRIP.read_text())
    assert run("render", str(path)).exit_code == 0
    return path


def edit(fleet: Path, *args: str) -> tuple[list[str], list[str]]:
    before = fleet.read_text()
    result = run(*args, str(fleet))
    assert result.exit_code == 0, result.output
    assert run("lint", str(fleet)).exit_code == 0
    return changes(before, fleet.read_text())


def test_register_replaces_keeping_each_quote_style(fleet):
    assert edit(fleet, "register", "prod-a", "--server", "https://a2.example.com") == (
        ["    server: 'https://a.example.com'   # single-quoted server\n"],
        ["    server: 'https://a2.example.com'   # single-quoted server\n"],
    )
    assert edit(fleet, "register", "prod-b", "--server", "https://b2.example.com:6443") == (
        ['    server: "https://b.example.com"\n'],
        ['    server: "https://b2.example.com:6443"\n'],
    )


def test_register_inserts_after_a_commented_line(fleet):
    assert edit(fleet, "register", "stage-a", "--server", "https://stage.example.com") == (
        [],
        ["    server: https://stage.example.com\n"],
    )
    text = fleet.read_text()
    assert "# staging runs ahead\n    server: https://stage.example.com\n" in text


def test_upgrade_writes_inherited_versions_on_the_cluster_one_wave_at_a_time(fleet):
    # production goes region by region, regions sorted: eu-west-1 (prod-b) first, then us-east-1
    assert edit(fleet, "upgrade", "--to", "1.31") == ([], ['    kubernetesVersion: "1.31"\n'])
    assert '      data-residency: "eu"\n    kubernetesVersion: "1.31"\n' in fleet.read_text()
    assert run("render", str(fleet)).exit_code == 0
    assert edit(fleet, "upgrade", "--to", "1.31") == ([], ['    kubernetesVersion: "1.31"\n'])
    assert '"team": platform}\n    kubernetesVersion: "1.31"\n' in fleet.read_text()
    assert "  kubernetesVersion: '1.30'\n" in fleet.read_text()  # defaults untouched


def test_upgrade_replaces_a_version_keeping_quotes_and_comment(fleet):
    for _ in range(2):
        assert run("upgrade", "--to", "1.31", str(fleet)).exit_code == 0
        assert run("render", str(fleet)).exit_code == 0
    assert edit(fleet, "upgrade", "--to", "1.32") == (
        ['    kubernetesVersion: "1.31"   # staging runs ahead\n'],
        ['    kubernetesVersion: "1.32"   # staging runs ahead\n'],
    )


# add-cluster of a GCP production cluster the roundtrip fleet has room for (pods 10.3.0.0/16, mesh id 4)
ADD_PROD_C = (
    "add-cluster",
    "prod-c",
    "--environment",
    "production",
    "--region",
    "ap-south-1",
    "--provider",
    "gcp",
    "--kubernetes-version",
    "1.30.5",
    "--provider-field",
    "project=example-project",
)


def test_add_cluster_appends_styled_like_its_siblings(fleet):
    removed, added = edit(
        fleet,
        *ADD_PROD_C,
        "--label",
        "tier=standard",
    )
    assert removed == []
    assert added == [
        "\n",
        "  - name: prod-c\n",
        "    environment: production\n",
        "    region: ap-south-1\n",
        "    labels:\n",
        "      tier: standard\n",
        "    kubernetesVersion: 1.30.5\n",
        "    provider: {type: gcp, project: example-project}\n",
        "    network: {pods: 10.3.0.0/16, services: 10.103.0.0/20, meshID: 4}\n",
    ]
    assert fleet.read_text().index("meshID: 4}\n  # trailing comment of the clusters list\n") > 0


def test_remove_cluster_takes_its_comment_weights_overrides_and_list_values(fleet):
    removed, added = edit(fleet, "remove-cluster", "prod-b")
    original = ROUNDTRIP.read_text().splitlines(keepends=True)
    start = original.index("  # the EU region; data stays in the EU\n")
    entry = original[start : original.index("  - name: stage-a\n")]
    override = original[original.index("      - clusters: {matchLabels: {name: prod-b}}   # EU only\n") :][:3]
    assert removed == [
        *entry,
        "        - {key: name, operator: In, values: [prod-a, 'prod-b', \"stage-a\"]}\n",
        "    weights: {prod-a: 2, 'prod-b': 1}\n",
        *override,
    ]
    assert added == ['        - {key: name, operator: In, values: [prod-a, "stage-a"]}\n', "    weights: {prod-a: 2}\n"]


def test_dry_run_prints_the_diff_and_writes_nothing(fleet):
    before = fleet.read_bytes()
    result = run("register", "stage-a", "--server", "https://stage.example.com", "--dry-run", str(fleet))
    assert result.exit_code == 0
    assert "+    server: https://stage.example.com\n" in result.output
    assert "- pending registration: stage-a" in result.output
    assert fleet.read_bytes() == before


def test_refuses_to_write_a_fleet_that_fails_lint(fleet):
    before = fleet.read_bytes()
    result = run(
        "add-cluster",
        "big",
        "--environment",
        "staging",
        "--region",
        "us-east-1",
        "--provider",
        "docker",
        "--nodes",
        "workers=docker:1:1000",
        str(fleet),
    )
    assert result.exit_code == 1
    assert "error[pod-cidr-capacity]" in result.output and "not changed" in result.output
    assert fleet.read_bytes() == before
    # no candidate file left behind
    assert sorted(p.name for p in fleet.parent.iterdir() if p.is_file()) == ["fleet.yaml"]


def test_crlf_bom_and_mode_survive(fleet):
    fleet.write_bytes(b"\xef\xbb\xbf" + ROUNDTRIP.read_text().replace("\n", "\r\n").encode())
    os.chmod(fleet, 0o640)
    assert run("register", "stage-a", "--server", "https://stage.example.com", str(fleet)).exit_code == 0
    raw = fleet.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\n" not in raw.replace(b"\r\n", b"")
    assert b"runs ahead\r\n    server: https://stage.example.com\r\n" in raw
    assert stat.S_IMODE(fleet.stat().st_mode) == 0o640


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("a", "m: {b: 'x', c: [1, 2]}  # keep\n"),
        ("b", "m: {a: 1, c: [1, 2]}  # keep\n"),
        ("c", "m: {a: 1, b: 'x'}  # keep\n"),
    ],
)
def test_flow_mapping_entries_are_cut_with_one_separator(key, expected):
    text = FleetText("m: {a: 1, b: 'x', c: [1, 2]}  # keep\n")
    text.delete(("m", key))
    assert text.result() == expected


def test_flow_sequence_items_and_only_entries():
    text = FleetText("s: [a, 'b', \"c\"]\nm: {only: 1}\n")
    text.delete(("s", 1))
    text.delete(("m", "only"))
    assert text.result() == 's: [a, "c"]\nm: {}\n'


def test_block_items_take_their_separator_and_the_comment_above():
    source = "l:\n  # one\n  - a: 1\n\n  # two\n  - a: 2\n\n  - a: 3\n\nnext: 1\n"
    first = FleetText(source)
    first.delete(("l", 0))
    assert first.result() == "l:\n  # two\n  - a: 2\n\n  - a: 3\n\nnext: 1\n"
    last = FleetText(source)
    last.delete(("l", 2))
    assert last.result() == "l:\n  # one\n  - a: 1\n\n  # two\n  - a: 2\n\nnext: 1\n"


def test_first_key_of_an_item_moves_the_next_key_onto_the_dash():
    text = FleetText("l:\n  - a: 1   # gone\n    b: 2\n")
    text.delete(("l", 0, "a"))
    assert text.result() == "l:\n  - b: 2\n"


def test_new_scalars_are_quoted_only_when_plain_would_change_them():
    text = FleetText("m:\n  a: 1\n")
    text.set(("m", "v"), "1.31")
    text.set(("m", "u"), "https://x.example.com:6443")
    text.set(("m", "n"), "123456789012")
    assert text.result() == 'm:\n  a: 1\n  v: "1.31"\n  u: https://x.example.com:6443\n  n: "123456789012"\n'


def test_indentation_is_detected_from_the_file():
    text = FleetText("l:\n- a: 1\n  n:\n      deep: 1\n")
    assert (text.indent.sequence, text.indent.offset, text.indent.mapping) == (2, 0, 4)
    text.append(("l",), {"a": 2, "n": {"deep": 2}})
    assert text.result() == "l:\n- a: 1\n  n:\n      deep: 1\n- a: 2\n  n:\n      deep: 2\n"


def test_a_splice_that_changes_something_else_is_caught():
    text = FleetText("a: 1\nb: 2\n")
    text.text = "a: 1\nb: 3\n"
    with pytest.raises(EditError, match="does not mean the edit"):
        text.result()


def test_register_records_the_ca_after_the_server(fleet):
    ca = next(line for line in ROUNDTRIP.read_text().splitlines() if line.startswith("    caData: ")).split()[1]
    assert edit(fleet, "register", "stage-a", "--server", "https://stage.example.com", "--ca-data", ca) == (
        [],
        ["    server: https://stage.example.com\n", f"    caData: {ca}\n"],
    )


def test_add_cluster_weight_gives_the_new_cluster_its_share(fleet):
    removed, added = edit(
        fleet,
        *ADD_PROD_C,
        "--weight",
        "orders=3",
    )
    assert removed == ["    weights: {prod-a: 2, 'prod-b': 1}\n"]
    assert "    weights: {prod-a: 2, 'prod-b': 1, prod-c: 3}\n" in added
    # without the weight the same cluster is selected but weightless: the zero-weight warning says so
    fleet.write_text(ROUNDTRIP.read_text())
    result = run(
        *ADD_PROD_C,
        str(fleet),
    )
    assert result.exit_code == 0, result.output
    lint = run("lint", str(fleet))
    assert lint.exit_code == 0 and "warning[zero-weight] workload 'orders' selects cluster 'prod-c'" in lint.output


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        ("nope=2", "no workload 'nope'"),
        ("orders=0", "a whole number from 1 to 1000000"),
        ("orders", "expected KEY=VALUE"),
    ],
)
def test_add_cluster_weight_refuses_what_it_cannot_write(fleet, weight, message):
    before = fleet.read_bytes()
    result = CliRunner().invoke(
        cli,
        [
            "add-cluster",
            "prod-c",
            "--environment",
            "production",
            "--region",
            "x",
            "--provider",
            "docker",
            "--weight",
            weight,
            str(fleet),
        ],
    )
    assert result.exit_code == 2 and message in result.output
    assert fleet.read_bytes() == before


def test_set_weights_refuses_a_duplicated_workload():
    editor = FleetText("workloads:\n  - name: web\n    replicas: 2\n")
    with pytest.raises(EditError, match="has no weights"):
        set_weights(editor, "prod-c", {"web": 1})
