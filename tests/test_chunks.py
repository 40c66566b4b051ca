"""fleetgen.chunks: fleet.yaml read cluster by cluster gives exactly what the whole parse gives, or is refused.

The promise under test: whenever a chunked load returns data, the whole parse of the same text has no
finding and the same data (types included). Random line edits probe where the text may be cut wrongly.
"""

from __future__ import annotations

import fcntl
import marshal
import os
import random
import re
from io import StringIO
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleetgen import cachedir, chunks, pipeline
from fleetgen.load import load_text
from fleetgen.main import cli
from ruamel.yaml import YAML

from bench.synth import fleet as synth_fleet
from tests.text_edits import random_line_edit


def dump(data, indent: bool = True) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    if indent:
        yaml.indent(mapping=2, sequence=4, offset=2)  # "  - name": the items' "-" in column 2
    out = StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def fleet_text(n: int = 8, indent: bool = True) -> str:
    data = synth_fleet(n, "cilium")
    data["defaults"] = {"labels": {"team": "core"}}
    text = dump(data, indent)
    return text.replace("clusters:\n", "# the fleet's clusters\nclusters:\n", 1) + "# trailing comment\n"


def whole(text: str):
    doc, findings = load_text(text, "fleet.yaml")
    return doc, findings


def same(a, b) -> bool:
    """Equal data, types and key order included (True is not 1, 1.0 is not 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def chunked(text: str, cache: dict):
    parts = chunks.split(text)
    if parts is None:
        return None
    assembled = chunks.assemble(parts, "fleet.yaml", cache)
    return None if assembled is None else assembled[0]


def load(text: str, cache: Path):
    """``load_text`` with the cache, which is then saved as ``render`` saves it."""
    doc, findings = load_text(text, "fleet.yaml", cache, keep=True)
    cachedir.write(cache, doc.parts if doc is not None else None, cache)
    return doc, findings


def cache_of(text: str) -> dict:
    parts = chunks.split(text)
    doc, findings = whole(text)
    assert parts is not None and doc is not None and not findings
    entries = chunks.parts_of(parts, doc.data)
    assert entries is not None
    return marshal.loads(marshal.dumps(entries))  # as read back from the cache file


@pytest.mark.parametrize("indent", [True, False], ids=["indented", "indentless"])
def test_a_chunked_load_is_the_whole_parse(monkeypatch, indent):
    text = fleet_text(indent=indent)
    parts = chunks.split(text)
    assert parts is not None and len(parts.starts) == 8
    doc, _ = whole(text)
    assert same(chunked(text, cache_of(text)), doc.data)
    assert chunked(text, {}) is None  # every part new: one whole parse is faster
    monkeypatch.setattr(chunks, "WHOLE_FROM", 1.0)
    assert same(chunked(text, {}), doc.data)  # each part parsed alone


@pytest.mark.parametrize("seed,indent", [(1, True), (2, False), (3, True), (4, False)])
def test_random_edits_load_chunked_as_whole_or_not_at_all(monkeypatch, seed, indent):
    """Every part new (WHOLE_FROM 1: each cluster parsed alone) and every part cached but the edited one."""
    monkeypatch.setattr(chunks, "WHOLE_FROM", 1.0)
    rng = random.Random(seed)
    text = fleet_text(indent=indent)
    cache = cache_of(text)
    agreed = 0
    for _ in range(200):
        edited, where = random_line_edit(text, rng)
        for parts_cache in ({}, cache):
            data = chunked(edited, dict(parts_cache))
            if data is None:
                continue
            doc, findings = whole(edited)
            assert doc is not None and not findings, (where, findings)
            assert same(data, doc.data), where
            agreed += 1
    assert agreed > 150  # most edits still read part by part: the promise was tested, not skipped


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t + "x-anchor: &a 1\n",
        lambda t: t + "x-alias: *a\n",
        lambda t: t.replace("name:", "name: !!str", 1),
        lambda t: "%YAML 1.2\n---\n" + t,
        lambda t: t + "---\n",
        lambda t: t.replace("\n", "\r\n"),
        lambda t: t + "clusters:\n",
        lambda t: t.replace("clusters:\n", "clusters: # the list\n", 1).replace("  - ", "- ", 1),
        lambda t: t.replace("  - name:", "  -\n    name:", 1),
    ],
    ids=["anchor", "alias", "tag", "directive", "marker", "crlf", "two-keys", "two-columns", "dash-alone"],
)
def test_text_that_may_not_be_cut_is_read_whole(monkeypatch, change):
    monkeypatch.setattr(chunks, "WHOLE_FROM", 1.0)
    assert chunked(fleet_text(), {}) is not None
    text = change(fleet_text())
    parts = chunks.split(text)
    assert parts is None or chunks.assemble(parts, "fleet.yaml", {}) is None


def test_blank_lines_a_kept_block_scalar_ends_the_list_with_belong_to_the_last_cluster(tmp_path):
    """``|+`` keeps the line breaks after it: blank lines between the last cluster and the next key are part of its
    value, so they are part of its lines (they were cut off once, and a cached value outlived an edit of them)."""
    cache = tmp_path / "load.marshal"
    text = fleet_text()
    parts = chunks.split(text)
    assert parts is not None
    kept = text[: parts.end] + "    note: |+\n      kept\n\n\n" + text[parts.end :]  # before the next top-level key
    load(kept, cache)
    for edited in (kept, kept.replace("kept\n\n\n", "kept\n\n", 1)):
        doc, findings = load(edited, cache)
        assert doc is not None and not findings
        assert same(doc.data, whole(edited)[0].data)


def test_an_edit_parses_only_the_edited_cluster_and_the_cache_follows(tmp_path, monkeypatch):
    cache = tmp_path / "load.marshal"
    text = fleet_text()
    doc, findings = load(text, cache)  # no cache yet: parsed whole, cache filled
    assert doc is not None and not doc.chunked and not findings and cache.exists()
    parsed: list[str] = []
    real = chunks.parse_cluster
    monkeypatch.setattr(chunks, "parse_cluster", lambda t, f: parsed.append(t) or real(t, f))
    edited = text.replace("max: 8", "max: 7", 1)
    doc, findings = load(edited, cache)
    assert doc is not None and doc.chunked and not findings
    assert len(parsed) == 1 and "max: 7" in parsed[0]
    assert same(doc.data, whole(edited)[0].data)
    again, _ = load(edited, cache)  # unchanged: nothing parsed, nothing to save
    assert again is not None and again.chunked and again.parts is None and len(parsed) == 1
    assert set(chunks.read(cache)[0]) == set(chunks.parts_of(chunks.split(edited), doc.data))  # only live parts


def test_a_finding_takes_the_whole_parse_with_its_position(tmp_path):
    cache = tmp_path / "load.marshal"
    text = fleet_text()
    load(text, cache)
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("region:"))
    lines.insert(at + 1, lines[at])  # a duplicate key in one cluster
    edited = "\n".join(lines)
    doc, findings = load(edited, cache)
    assert (doc is None) == bool(findings)
    assert findings == whole(edited)[1] and findings and findings[0].line == at + 2


def test_positions_of_a_chunked_document_are_the_whole_parses(tmp_path):
    cache = tmp_path / "load.marshal"
    text = fleet_text()
    load(text, cache)
    doc, _ = load(text, cache)
    assert doc is not None and doc.chunked and doc.node is None
    reference, _ = whole(text)
    for path in (("clusters", 5, "network", "pods"), ("workloads", 0), ("defaults", "labels", "team")):
        assert doc.locate(path) == reference.locate(path)


@pytest.mark.parametrize("body", [b"", b"\x00garbage", marshal.dumps({"format": "other", "parts": {}}), b"\xfa" * 9])
def test_a_broken_or_foreign_cache_is_no_cache(tmp_path, body):
    cache = tmp_path / "load.marshal"
    cache.write_bytes(body)
    assert chunks.read(cache)[0] == {}
    text = fleet_text()
    doc, findings = load_text(text, "fleet.yaml", cache)
    assert doc is not None and not findings and same(doc.data, whole(text)[0].data)


def test_a_cache_another_process_is_writing_is_left_to_it(tmp_path):
    cache = tmp_path / "load.marshal"
    fd = os.open(cache.with_name(cache.name + ".tmp"), os.O_WRONLY | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    blob = chunks.blob({"a": 1}, "context")
    assert blob is not None
    try:
        cachedir.write(cache, blob, cache)
        assert not cache.exists()
    finally:
        os.close(fd)
    cachedir.write(cache, blob, cache)  # a killed writer's file is taken over
    assert chunks.read(cache)[0] == {"a": 1}


def test_only_render_writes_the_cache_beside_the_fleet_in_a_directory_git_ignores(tmp_path, monkeypatch):
    """fleetgen writes its cache from ``render`` only, once the tree is written; lint, validate and check read it."""
    monkeypatch.delenv("FLEETGEN_CACHE_DIR", raising=False)
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(fleet_text())
    for command in (["lint"], ["validate"], ["check"]):
        CliRunner().invoke(cli, [*command, str(fleet)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fleet.yaml"]
    assert CliRunner().invoke(cli, ["render", str(fleet)]).exit_code == 0
    cache_dir = tmp_path / ".fleetgen-cache"
    # the lint rules' memory too (fleetgen.lintcache): a first render keeps no findings, only what the rules remember;
    # and the digest of the lock it wrote (tree.keep_record)
    assert sorted(p.parent.name for p in cache_dir.rglob("*.marshal")) == ["lint", "load", "lock", "render"]
    assert (cache_dir / ".gitignore").read_text().endswith("\n*\n")
    fleet.write_text(fleet_text().replace("max: 8", "max: 7", 1))
    assert CliRunner().invoke(cli, ["lint", str(fleet)]).exit_code == 0
    doc = pipeline.validate(fleet).doc
    assert doc is not None and doc.chunked  # read part by part from what render kept


@pytest.mark.parametrize("command", ["render", "check"])
def test_full_reads_the_fleet_file_whole(tmp_path, monkeypatch, command):
    """``--full`` trusts no cache: not the parsed clusters either (render still fills it for the next run)."""
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(fleet_text())
    assert CliRunner().invoke(cli, ["render", str(fleet)]).exit_code == 0
    read: list[bool] = []
    real = pipeline.validate
    monkeypatch.setattr(pipeline, "validate", lambda *a, **k: read.append(k.get("cached", True)) or real(*a, **k))
    assert CliRunner().invoke(cli, [command, "--full", str(fleet)]).exit_code == 0
    assert CliRunner().invoke(cli, [command, str(fleet)]).exit_code == 0
    assert read == [False, True]
    doc = real(fleet, cached=False).doc
    assert doc is not None and not doc.chunked and real(fleet).doc.chunked


# ---------------------------------------------------------------- split, held to the patterns it was written with


def reference_split(text: str) -> tuple[int, int, tuple[int, ...], int] | None:
    """What ``chunks.split`` computed with MULTILINE ``^`` patterns (each tried at every position of the text; the
    module now starts every search with a literal): ``(key_end, dash, starts, end)``, or None."""
    if re.search("[*&!%\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]", text):
        return None
    if re.search(r"^(---|\.\.\.)([ \t]|$)", text, re.MULTILINE):
        return None
    keys = list(re.finditer(r"^clusters:[ \t]*(?:#.*)?$", text, re.MULTILINE))
    if len(keys) != 1:
        return None
    key_end = text.find("\n", keys[0].end()) + 1
    first = re.compile(r"^( *)([^ #\n])(.?)", re.MULTILINE).search(text, key_end) if key_end else None
    if first is None:
        return None
    dash = len(first.group(1))
    if first.group(2) != "-" or first.group(3) != " ":
        return None
    top = r"^(?!-[ \n]|-$)[^ #\n]" if dash == 0 else r"^[^ #\n]"
    next_key = re.compile(top, re.MULTILINE).search(text, first.start())
    end = next_key.start() if next_key else len(text)
    starts = tuple(m.start() for m in re.compile(rf"^ {{{dash}}}- ", re.MULTILINE).finditer(text, first.start(), end))
    return key_end, dash, starts, end


def cut(text: str) -> tuple[int, int, tuple[int, ...], int] | None:
    parts = chunks.split(text)
    return None if parts is None else (parts.key_end, parts.dash, parts.starts, parts.end)


ODD_TEXTS = [
    "clusters:\n- a: 1\n",
    "clusters:\n- a: 1",
    "clusters:",
    "clusters:\n",
    "clusters:\n-\n",
    "clusters:\n-",
    "clusters:\n  -x\n",
    "clusters:\n\t- a: 1\n",
    "clusters:\n   \n  # c\n  - a: 1\n  - b: 2\nnext: 1\n",
    "clusters:  # the list\n- a: 1\n-\nz: 1\n",
    "clusters:\t\n- a: 1\n- b\n-x: 1\n",
    "clusters: x\n- a: 1\n",
    "clusters:\n- a: 1\nclusters:\n",
    " clusters:\n- a: 1\n",
    "---\nclusters:\n- a: 1\n",
    "clusters:\n- a: 1\n--- \n",
    "clusters:\n- a: 1\n---x\n",
    "clusters:\n- a: 1\n---\tx\n",
    "...\tx\nclusters:\n- a: 1\n",
    "clusters:\n- a: 1\n...",
    "clusters:\n- a: 1\n....\n",
    "x: 1\nclusters:\n  - a: 1\n  - b: 2\n    - c\n  -\n#c\ny: 2\n",
    "clusters:\n- a: 1\n- b: 2\n",
    "clusters:\n- a: 1\n- \n",
]


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_split_cuts_odd_texts_as_the_multiline_patterns_did(text):
    assert cut(text) == reference_split(text)


@pytest.mark.parametrize("seed,indent", [(5, True), (6, False)])
def test_split_cuts_randomly_edited_fleets_as_the_multiline_patterns_did(seed, indent):
    rng = random.Random(seed)
    text = fleet_text(indent=indent)
    assert cut(text) == reference_split(text) is not None
    for _ in range(300):
        edited, where = random_line_edit(text, rng)
        assert cut(edited) == reference_split(edited), where
        text = edited if rng.random() < 0.3 and cut(edited) is not None else text  # edits pile up now and then


# ---------------------------------------------------------------- the schema checks what the cache has not seen pass


class _Seen:
    """jsonschema-rs's validator, recording how many clusters each document it checks holds."""

    def __init__(self, real):
        self.real, self.clusters = real, []

    def is_valid(self, data):
        self.clusters.append(len(data["clusters"]))
        return self.real.is_valid(data)


@pytest.fixture
def seen(monkeypatch):
    from fleetgen import schema

    spy = _Seen(schema._fast_validator())
    monkeypatch.setattr(schema, "_fast_validator", lambda: spy)
    return spy


def _schema_findings(text: str, cache: Path):
    from fleetgen import schema

    doc, findings = load_text(text, "fleet.yaml", cache)
    assert doc is not None and not findings
    return schema.validate(doc)


def test_clusters_read_from_the_cache_in_their_context_are_not_checked_again(tmp_path, seen, monkeypatch):
    from fleetgen import schema

    cache = tmp_path / "load.marshal"
    text = fleet_text()
    assert load(text, cache)[0] is not None  # as render keeps the parts of a fleet that passed
    edited = text.replace("max: 8", "max: 7", 1)
    assert _schema_findings(edited, cache) == [] and seen.clusters == [1]  # the edited cluster alone
    broken = text.replace("max: 8", "max: -7", 1)
    reference = schema.validate(whole(broken)[0])
    assert reference and _schema_findings(broken, cache) == reference  # explained on the whole data
    seen.clusters.clear()
    assert _schema_findings(text.replace("team: core", "team: edge"), cache) == [] and seen.clusters == [8]
    seen.clusters.clear()
    monkeypatch.setattr(schema, "_alone", lambda: False)  # a schema that looks across clusters
    assert _schema_findings(edited, cache) == [] and seen.clusters == [8]
    monkeypatch.setattr(schema, "_alone", lambda: True)
    seen.clusters.clear()
    monkeypatch.setattr(cachedir, "code_digest", lambda: "another fleetgen")  # the schema may have changed
    assert _schema_findings(edited, cache) == [] and seen.clusters == [8]


def test_the_schema_checks_each_cluster_on_its_own():
    """What leaving the cached clusters out rests on (schema._alone), on the shipped schema."""
    from fleetgen import schema

    assert schema._alone()


@pytest.mark.parametrize("seed", [7, 8])
def test_random_edits_get_the_schema_findings_of_a_whole_check(tmp_path, seed):
    from fleetgen import schema

    cache = tmp_path / "load.marshal"
    text = fleet_text()
    assert not schema.validate(whole(text)[0])  # what render requires before it keeps the parts
    load(text, cache)
    rng = random.Random(seed)
    compared = 0
    for _ in range(150):
        edited, where = random_line_edit(text, rng)
        doc, findings = load_text(edited, "fleet.yaml", cache)
        reference, _ = whole(edited)
        if doc is None or reference is None:
            continue
        assert schema.validate(doc) == schema.validate(reference), where
        compared += doc.chunked and bool(doc.checked)
    assert compared > 50
