"""fleetgen.survey: the tree's cache, stats and listing taken in a forked child while fleet.yaml is validated give
what the same work gives in this process, and ``check`` and ``render`` with it report and write what they did
without it."""

from __future__ import annotations

import os
import shutil
import time
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


def test_a_cache_saved_between_the_childs_read_and_this_ones_is_checked_here(alongside, tmp_path):
    """The child reads the cache itself and this process reads it again when the units are planned. A ``check``
    beside a ``render`` that saved its cache in between reads other records than the child checked: a file that
    render rewrote, edited since, matched its old record in the child and is not in the new one's as it is. The
    identities differ, and the stat check is taken again here, against the records this process uses."""
    fleet = rendered(tmp_path)
    out = tmp_path / "rendered"
    pending = survey.Pending()
    pending.start(out, alongside=True)  # check's survey: no lock
    try:
        pending._child.result()  # the child has read the cache and checked its records
        data = synth_fleet(6, "cilium")
        data["clusters"][0]["nodePools"][0]["max"] += 1
        fleet.write_text(dump(data))
        before = snapshot(out)
        assert run("render", str(fleet))[0] == 0  # saves its cache, recording the files it rewrote
        recorded = units.read_body(out)["stats"]
        rewritten = sorted(rel for rel, data in snapshot(out).items() if before.get(rel) != data and rel in recorded)
        assert rewritten
        edited = out / rewritten[0]
        edited.write_bytes(edited.read_bytes() + b"# edited\n")
        found = pending.result(out)
        assert found is not None
        assert found.moved == {rewritten[0]}  # checked against the records read here
    finally:
        pending.close()


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

    def slow_listing(top, writable=False, reuse=None):  # in the child: waits until the parent has the stat check
        while not gate.exists():
            __import__("time").sleep(0.01)
        return listing(top, writable, reuse)

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


# ---------------------------------------------------------------- the listings reused directory by directory


def _tree(top: Path) -> None:
    for rel in ("a/x.yaml", "a/b/y.yaml", "a/b/c/z.yaml", "d/w.yaml", "top.yaml", "e/f/.keep"):
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_text(rel)
    (top / "g").mkdir()  # empty


def _move_dir(top: Path) -> None:
    os.rename(top / "a" / "b", top / "d" / "b")


def _symlink_for_dir(top: Path) -> None:
    shutil.rmtree(top / "a" / "b")
    (top / "a" / "b").symlink_to(top / "d")


def _added_with_mtime_put_back(top: Path) -> None:
    before = os.stat(top / "d")
    (top / "d" / "hidden.yaml").write_text("h")
    os.utime(top / "d", ns=(before.st_atime_ns, before.st_mtime_ns))  # as a tool restoring times would; not ctime


def _new_inode_same_name(top: Path) -> None:
    (top / "a" / "b" / "y.yaml").unlink()
    (top / "a" / "b" / "y.yaml").write_text("again")


CHANGES = {
    "nothing": lambda top: None,
    "a file added deep down": lambda top: (top / "a" / "b" / "c" / "new.yaml").write_text("n"),
    "a file removed": lambda top: (top / "d" / "w.yaml").unlink(),
    "a file added, the directory's mtime put back": _added_with_mtime_put_back,
    "a file renamed": lambda top: os.rename(top / "a" / "x.yaml", top / "a" / "x2.yaml"),
    "a file replaced (new inode)": _new_inode_same_name,
    "a directory added": lambda top: (top / "g" / "h").mkdir(),
    "a directory removed": lambda top: shutil.rmtree(top / "e"),
    "a directory moved": _move_dir,
    "a symlink where a directory was": _symlink_for_dir,
    "a directory's mode": lambda top: os.chmod(top / "a", 0o700),
    "a file's content (no listing change)": lambda top: (top / "top.yaml").write_text("edited in place"),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_a_listing_reused_from_its_records_is_the_listing_read_afresh(tmp_path, monkeypatch, change):
    """Whatever changed in the tree since the records were taken, the listing that reuses them is the one read
    afresh, and only the directories whose entries changed (or whose place did) are read again."""
    top = tmp_path / "tree"
    _tree(top)
    os.utime(top / "a", ns=(1, 1))  # times of the past; the ctimes are settled once RACY_NS has passed
    time.sleep(units.RACY_NS / 1e9 + 0.02)
    first = swap.Reuse({}, units.now_ns(top) - units.RACY_NS)
    assert swap.listing(top, reuse=first) == swap.listing(top)
    assert len(first.records) == 8  # every directory: each was settled when recorded
    CHANGES[change](top)
    read: list[str] = []
    real = swap._entries
    monkeypatch.setattr(swap, "_entries", lambda path, rel: read.append(rel) or real(path, rel))
    again = swap.listing(top, reuse=swap.Reuse(first.records, 0))
    monkeypatch.setattr(swap, "_entries", real)
    assert again == swap.listing(top)
    if change in ("nothing", "a file's content (no listing change)"):
        assert read == []
    else:
        assert 0 < len(read) <= 4, read  # the changed directory, its parent, a moved one with its own


def test_a_directory_changed_in_the_tick_it_was_recorded_is_not_kept(tmp_path):
    """Records are kept only for directories whose times are older than the filesystem's now less RACY_NS when the
    listing began: one changed later in the same timestamp tick would show no new time."""
    top = tmp_path / "tree"
    _tree(top)
    reuse = swap.Reuse({}, units.now_ns(top) - units.RACY_NS)
    swap.listing(top, reuse=reuse)
    assert reuse.records == {}


def test_render_records_the_listings_and_check_reads_them_without_writing(alongside, tmp_path):
    fleet = rendered(tmp_path)
    out = tmp_path / "rendered"
    records = cachedir.listing_cache(out)
    assert run("render", str(fleet))[0] == 0  # a render with a cache: its survey lists the trees and records them
    assert records.is_file()
    written = records.stat().st_mtime_ns
    stray = out / "clusters" / sorted(os.listdir(out / "clusters"))[0] / "stray.yaml"
    stray.write_text("kind: ConfigMap\n")
    code, output = run("check", str(fleet))
    assert code == 1 and "stray.yaml" in output
    assert records.stat().st_mtime_ns == written


def test_a_listings_file_of_another_shape_is_read_as_none(alongside, tmp_path):
    fleet = rendered(tmp_path)
    out = tmp_path / "rendered"
    records = cachedir.listing_cache(out)
    for body in ({"format": survey.LISTING_FORMAT, "records": {(1, 2): ("x", 1)}}, {"format": "0"}, [1, 2], None):
        records.parent.mkdir(parents=True, exist_ok=True)
        records.write_bytes(cachedir.encode(body) or b"junk")
        assert survey._trees(out, False)[0] == swap.listing(out)
        assert run("check", str(fleet))[0] == 0


def _records_file(top: Path, records: dict, reader=None) -> None:
    body = {"format": survey.LISTING_FORMAT, "generator": "fleetgen", "reader": reader or survey._reader()}
    body["records"] = records
    path = cachedir.listing_cache(top)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cachedir.encode(body))


@pytest.mark.parametrize(
    "record",
    [
        {},  # a dict where a tuple belongs
        ("", "mtime", "ctime", (), ()),  # (the times are filled in below unless they are the point)
        "SELF",  # its own directory as its subdirectory: a walk that never ends
        ("", 0, 0, (("../outside.yaml", 1),), ()),  # paths a render would unlink, link or make outside the tree
        ("", 0, 0, (), ("a/../..",)),
        ("", 0, 0, (("a", "inode"),), ()),
        ("", 0, 0, (("a/x.yaml", 1, 2),), ()),
        ("", 0, 0, (), (".",)),
        ("", 0, 0, [], ()),
    ],
    ids=["dict", "wrong times", "self", "file outside", "dir outside", "inode", "triple", "dot", "list"],
)
def test_a_record_of_any_other_shape_is_read_afresh(tmp_path, record):
    """Records fleetgen did not write are never a traceback, a loop or a path outside their directory: the directory
    is read (review of the eleventh round)."""
    top = tmp_path / "rendered"
    _tree(top)
    info = os.stat(top)
    if record == "SELF":
        record = ("", info.st_mtime_ns, info.st_ctime_ns, (), ("",))
    elif isinstance(record, tuple) and record[1] == 0:
        record = ("", info.st_mtime_ns, info.st_ctime_ns, *record[3:])
    _records_file(top, {(info.st_dev, info.st_ino): record})
    assert survey._trees(top, False)[0] == swap.listing(top)


def test_records_of_another_reader_are_not_used(tmp_path):
    """A directory one user may read and another may not is skipped by the other's walk: records are used only by
    the user and groups that wrote them (the cache beside the tree may be shared)."""
    top = tmp_path / "rendered"
    _tree(top)
    info = os.stat(top)
    records = {(info.st_dev, info.st_ino): ("", info.st_mtime_ns, info.st_ctime_ns, (("top.yaml", 1),), ())}
    _records_file(top, records)
    assert survey._recorded_listings(top) == records
    euid, egid, groups = survey._reader()
    for reader in ((euid + 1, egid, groups), (euid, egid + 1, groups), (euid, egid, (*groups, 99999))):
        _records_file(top, records, reader)
        assert survey._recorded_listings(top) == {}
