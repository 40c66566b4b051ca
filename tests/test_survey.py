"""fleetgen.survey: the tree's cache, stats and listing taken in a forked child while fleet.yaml is validated give
what the same work gives in this process, and ``check`` and ``render`` with it report and write what they did
without it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from fleetgen import cachedir, pipeline, survey, swap, units

from tests.test_incremental import dump, run, snapshot, synth_fleet


@pytest.fixture
def alongside(monkeypatch):
    """As from 300 clusters on two cores: the survey (and the lint rules) run in forked children."""
    monkeypatch.setattr(pipeline, "LINT_ALONGSIDE_FROM", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(units, "RACY_NS", 0)  # every recorded stat trusted: what the survey reports decides


def rendered(tmp_path: Path) -> Path:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(dump(synth_fleet(6, "cilium")))
    assert run("render", str(fleet))[0] == 0
    return fleet


def surveyed(out: Path, *, forked: bool) -> survey.Survey:
    pending = survey.Pending()
    pending.start(out, alongside=forked, locked=True)
    try:
        found = pending.result(out)
        assert found is not None
        found.live  # noqa: B018 - the listings are taken when first asked for (from the child: its second stage)
    finally:
        pending.close()
    return found


def test_a_survey_in_a_child_is_the_survey_taken_here(alongside, tmp_path):
    fleet = rendered(tmp_path)
    data = synth_fleet(6, "cilium")
    data["clusters"][0]["nodePools"][0]["max"] += 1
    fleet.write_text(dump(data))
    assert run("render", str(fleet))[0] == 0  # over a tree: the one it replaces becomes the standby
    out = tmp_path / "rendered"
    files = sorted(p for p in out.rglob("*.yaml") if "clusters" in p.parts)
    files[0].write_bytes(files[0].read_bytes() + b"# edited\n")
    files[1].unlink()
    (out / "stray.yaml").write_text("kind: ConfigMap\n")
    child, here = surveyed(out, forked=True), surveyed(out, forked=False)
    assert (child.out, child.body, child.moved) == (here.out, here.body, here.moved)
    assert (child.live, child.standby) == (here.live, here.standby)
    assert child.moved == {p.relative_to(out).as_posix() for p in files[:2]}
    assert "stray.yaml" in child.live.files and files[1].relative_to(out).as_posix() not in child.live.files
    assert child.body == here.body and child.body["stats"]
    assert child.standby == swap.listing(cachedir.standby(out)) and child.standby.files  # the previous tree
    assert fleet.exists()


def test_render_surveys_under_its_lock(alongside, tmp_path):
    """The listings render writes by are taken under the render lock: a second render meanwhile is refused."""
    fleet = rendered(tmp_path)
    pending = survey.Pending()
    pending.start(tmp_path / "rendered", alongside=True, locked=True)
    try:
        code, output = run("render", str(fleet))
        assert code == 2 and "another fleetgen render is writing" in output, output
    finally:
        pending.close()
    assert run("render", str(fleet))[0] == 0  # released


def test_no_cache_no_survey(alongside, tmp_path):
    """A first render (no cache) surveys nothing and takes its lock when it writes, as before."""
    pending = survey.Pending()
    pending.start(tmp_path / "rendered", alongside=True, locked=True)
    assert pending.hold is None and pending.result(tmp_path / "rendered") is None
    assert not (tmp_path / "rendered").exists()


def test_a_survey_of_another_directory_is_not_used(alongside, tmp_path):
    rendered(tmp_path)
    pending = survey.Pending()
    pending.start(tmp_path / "rendered", alongside=True)
    try:
        assert pending.result(tmp_path / "elsewhere") is None
        assert pending.result(tmp_path / "rendered") is not None
    finally:
        pending.close()
    assert survey.Pending().result(tmp_path / "rendered") is None  # never started (a full render)


def test_a_survey_never_collected_is_ended(alongside, tmp_path):
    rendered(tmp_path)
    pending = survey.Pending()
    pending.start(tmp_path / "rendered", alongside=True)
    child = pending._child
    assert child is not None
    pending.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(child._pid, os.WNOHANG)  # reaped: no process left behind


def test_the_survey_starts_before_the_schema_is_checked(alongside, tmp_path):
    """So it runs alongside validation and the model; a fleet that fails the schema still has it ended."""
    fleet = rendered(tmp_path)
    seen: list[str] = []
    stages = pipeline.Stages()
    pipeline.validate(fleet, stages, loaded=lambda data: seen.append(",".join(stages.times)))
    assert seen == ["load"]
    fleet.write_text(fleet.read_text().replace("name: ", "name: [", 1) + "\n")
    code, output = run("check", str(fleet))
    assert code == 1


def test_check_and_render_with_a_survey_find_and_repair_what_they_did_without(alongside, tmp_path):
    fleet = rendered(tmp_path)
    out = tmp_path / "rendered"
    files = sorted(p for p in out.rglob("*.yaml") if "clusters" in p.parts)
    data = files[0].read_bytes()
    files[0].write_bytes(data.replace(b"fleetgen", b"fleetgem", 1))  # a hand edit of the same size
    (out / "stray.yaml").write_text("kind: ConfigMap\n")
    code, output = run("check", "--profile", str(fleet))
    assert code == 1 and "survey of the tree" in output, output
    assert "edited by hand" in output and "stray.yaml" in output
    code, output = run("render", "--profile", str(fleet))
    assert code == 1 and "survey of the tree" in output and "stray" in output  # a stray fails render too
    assert files[0].read_bytes() == data  # repaired
    (out / "stray.yaml").unlink()
    assert run("check", str(fleet))[0] == 0
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    shutil.copy(fleet, scratch / "fleet.yaml")
    assert run("render", "--full", str(scratch / "fleet.yaml"))[0] == 0
    assert snapshot(out) == snapshot(scratch / "rendered")


def test_the_listings_are_taken_while_the_units_are_planned(alongside, tmp_path, monkeypatch):
    """The child sends the stat check first: the units are planned with it while the child lists the trees (only
    the write needs the listings)."""
    rendered(tmp_path)
    out = tmp_path / "rendered"
    gate = tmp_path / "listed"
    listing = swap.listing

    def slow_listing(top, writable=False):  # in the child: waits until the parent has the stat check
        while not gate.exists():
            __import__("time").sleep(0.01)
        return listing(top, writable)

    monkeypatch.setattr(survey, "listing", slow_listing)
    pending = survey.Pending()
    pending.start(out, alongside=True, locked=True)
    try:
        found = pending.result(out)  # does not wait for the listings
        assert found is not None and found.moved == frozenset()
        gate.touch()
        assert found.live == listing(out, True) and found.standby == listing(cachedir.standby(out))
    finally:
        pending.close()


def test_renders_survey_finds_the_directories_it_could_not_replace_and_the_write_looks_at_them_again(
    alongside, tmp_path, monkeypatch
):
    """``render``'s survey lists the directories above the tree's files this user cannot write or enter (in the child,
    off the critical path); the write looks at those again only, and refuses with the reason while one still is."""
    from fleetgen import tree

    fleet = rendered(tmp_path)
    out = tmp_path / "rendered"
    refused = {str(out / "hub")}  # as if mode 555 for this user (root passes every access check)
    access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: str(path) not in refused and access(path, mode, **kw))
    child, here = surveyed(out, forked=True), surveyed(out, forked=False)
    assert child.live.unwritable == here.live.unwritable == ("hub",)
    assert swap.listing(out).unwritable is None  # not asked: check's listing
    data = synth_fleet(6, "cilium")
    data["clusters"][0]["nodePools"][0]["max"] += 1
    fleet.write_text(dump(data))
    before = snapshot(out)
    code, output = run("render", str(fleet))
    assert code == 2 and f"{out / 'hub'} is not writable" in output and snapshot(out) == before, output
    looked_at: list[str] = []
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: looked_at.append(str(path)) or access(path, mode, **kw))
    tree._check_removable(out, swap.Listing(child.live.files, child.live.dirs, ("hub",)))  # writable by now: passes
    assert looked_at == [str(out / "hub")]
    refused.clear()
    assert run("render", str(fleet))[0] == 0
