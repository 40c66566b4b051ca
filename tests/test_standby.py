"""The standby tree: the tree a render swapped out, kept in the cache directory to build the next one in.

Each render brings it up to date touching only what differs (``swap._update``) and swaps it in with one
``renameat2``. Whatever happened to it (a killed run, hand edits, another filesystem, permissions), the live
tree afterwards is byte for byte a full render's, foreign files are kept, and nothing is read from it on trust.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleetgen import cachedir, swap, tree
from fleetgen.main import cli
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def snapshot(top: Path) -> dict[str, bytes | None]:
    """Every path under ``top``: file bytes, symlink targets, directories as None."""
    out: dict[str, bytes | None] = {}
    for path in sorted(top.rglob("*")):
        rel = path.relative_to(top).as_posix()
        out[rel] = os.readlink(path).encode() if path.is_symlink() else path.read_bytes() if path.is_file() else None
    return out


def from_scratch(fleet_text: str, where: Path) -> dict[str, bytes | None]:
    where.mkdir()
    (where / "fleet.yaml").write_text(fleet_text)
    assert run("render", where / "fleet.yaml", "--full")[0] == 0
    return snapshot(where / "rendered")


@pytest.fixture
def repo(tmp_path) -> Path:
    """The repository's own fleet rendered, then re-rendered with other replicas: a standby exists, holding
    the first tree (``first.json`` in the work directory lists the files that second render changed)."""
    work = tmp_path / "repo"
    work.mkdir()
    text = (ROOT / "fleet.yaml").read_text()
    (work / "fleet.yaml").write_text(text)
    assert run("render", work / "fleet.yaml")[0] == 0
    first = snapshot(work / "rendered")
    (work / "fleet.yaml").write_text(replicas(text, 1))
    assert run("render", work / "fleet.yaml")[0] == 0
    second = snapshot(work / "rendered")
    (tmp_path / "changed-by-second").write_text(
        "\n".join(sorted(rel for rel in second if second[rel] != first.get(rel) and rel != tree.LOCK_NAME))
    )
    assert standby_of(work).is_dir()
    return work


def standby_of(work: Path) -> Path:
    return cachedir.standby(work / "rendered")


def replicas(text: str, step: int) -> str:
    """A workload edit: its Karmada policies and the README change."""
    edited, count = re.subn(r"^    replicas: \d+$", f"    replicas: {60 + step}", text, count=1, flags=re.M)
    assert count == 1 and edited != text
    return edited


def edit(text: str, step: int) -> str:
    """A cluster edit, changing other files than ``replicas`` does: the first cluster's largest pool."""
    edited, count = re.subn(r"min: 6, max: \d+\}", f"min: 6, max: {40 + step}}}", text, count=1)
    assert count == 1 and edited != text
    return edited


def assert_renders_as_from_scratch(repo: Path) -> None:
    """A cluster edit rendered over the tree leaves it byte for byte what a full render from nothing makes."""
    text = edit((repo / "fleet.yaml").read_text(), 2)
    (repo / "fleet.yaml").write_text(text)
    code, output = run("render", repo / "fleet.yaml")
    assert code == 0, output
    assert snapshot(repo / "rendered") == from_scratch(text, repo.parent / "scratch")


def counting(monkeypatch) -> dict[str, list[str]]:
    calls: dict[str, list[str]] = {"link": [], "write": [], "unlink": []}
    link, write, unlink = swap._link, swap._write_file, os.unlink

    def counted_link(src, dst):
        calls["link"].append(str(dst))
        return link(src, dst)

    def counted_write(path, data):
        calls["write"].append(str(path))
        return write(path, data)

    def counted_unlink(path, *args, **kwargs):
        calls["unlink"].append(str(path))
        return unlink(path, *args, **kwargs)

    monkeypatch.setattr(swap, "_link", counted_link)
    monkeypatch.setattr(swap, "_write_file", counted_write)
    monkeypatch.setattr(swap.os, "unlink", counted_unlink)
    return calls


def test_a_render_touches_only_the_files_that_differ_from_the_standby(repo, monkeypatch):
    live, standby = repo / "rendered", standby_of(repo)
    files = tree.listing(live).files
    before = snapshot(live)
    changed_before = (repo.parent / "changed-by-second").read_text().split("\n")
    shared = [rel for rel, inode in tree.listing(standby).files.items() if files.get(rel) == inode]
    assert sorted(shared) == sorted(set(files) - set(changed_before))  # one inode under two names
    calls = counting(monkeypatch)
    (repo / "fleet.yaml").write_text(edit((repo / "fleet.yaml").read_text(), 2))
    code, output = run("render", repo / "fleet.yaml")
    assert code == 0, output
    after = snapshot(live)
    changed = sorted(rel for rel in after if after[rel] != before.get(rel) and rel != tree.LOCK_NAME)
    assert changed and not set(changed) & set(changed_before) and len(changed) + len(changed_before) < 20

    def under_standby(paths):
        return sorted(Path(p).relative_to(standby).as_posix() for p in paths if Path(p).is_relative_to(standby))

    # written: this render's changes and the lock; linked again from the live tree: what the previous render
    # changed (the standby held their older versions), each unlinked first with the lock; nothing else
    assert under_standby(calls["write"]) == sorted([tree.LOCK_NAME, *changed])
    assert under_standby(calls["link"]) == sorted(changed_before)
    assert under_standby(calls["unlink"]) == sorted([tree.LOCK_NAME, *changed, *changed_before])
    assert after == from_scratch((repo / "fleet.yaml").read_text(), repo.parent / "scratch")


def test_whatever_the_standby_holds_the_live_tree_is_a_full_renders(repo):
    standby = standby_of(repo)
    files = sorted(tree.listing(standby).files)
    victim, other = files[0], files[len(files) // 2]
    (standby / victim).unlink()
    (standby / victim).write_text("# not what fleetgen rendered\n")  # a new inode: relinked from the live tree
    (standby / other).unlink()  # missing: linked again
    (standby / "stray.yaml").write_text("kind: Secret\n")  # not in the tree: removed
    (standby / "deep" / "er").mkdir(parents=True)  # directories the tree does not have: removed
    (standby / "deep" / "er" / "x.yaml").write_text("x: 1\n")
    (standby / tree.LOCK_NAME).write_text("{}")
    assert_renders_as_from_scratch(repo)
    assert run("check", repo / "fleet.yaml", "--full")[0] == 0


def test_a_file_where_the_tree_needs_a_directory_and_the_reverse(repo):
    standby = standby_of(repo)
    shutil.rmtree(standby / "hub")
    (standby / "hub").write_text("a file where a directory belongs\n")
    first = sorted(rel for rel in tree.listing(standby).files if "/" not in rel)[0]
    (standby / first).unlink()
    (standby / first).mkdir()
    (standby / first / "inside.yaml").write_text("x: 1\n")
    assert_renders_as_from_scratch(repo)


def test_an_in_place_edit_of_a_live_file_reaches_the_standby_and_is_still_repaired(repo):
    """The unchanged files are one inode under two names: an in-place edit shows under both."""
    live = repo / "rendered"
    standby = tree.listing(standby_of(repo)).files
    rel = next(r for r, inode in tree.listing(live).files.items() if standby.get(r) == inode)
    with open(live / rel, "a") as fh:  # in place: same inode
        fh.write("# edited in place\n")
    code, output = run("check", repo / "fleet.yaml")
    assert code == 1 and "hand-edit" in output and rel in output
    text = edit((repo / "fleet.yaml").read_text(), 2)
    (repo / "fleet.yaml").write_text(text)
    assert run("render", repo / "fleet.yaml")[0] == 0
    assert snapshot(live) == from_scratch(text, repo.parent / "scratch")


def test_foreign_files_are_kept_and_a_deleted_one_does_not_come_back_from_the_standby(repo):
    live = repo / "rendered"
    (live / "NOTES.md").write_text("ours, not fleetgen's\n")
    (repo / "fleet.yaml").write_text(edit((repo / "fleet.yaml").read_text(), 2))
    assert run("render", repo / "fleet.yaml")[0] == 0
    assert (live / "NOTES.md").read_text() == "ours, not fleetgen's\n"
    (repo / "fleet.yaml").write_text(edit((repo / "fleet.yaml").read_text(), 3))
    assert run("render", repo / "fleet.yaml")[0] == 0  # the standby now holds NOTES.md too
    assert (standby_of(repo) / "NOTES.md").exists()
    (live / "NOTES.md").unlink()
    (repo / "fleet.yaml").write_text(edit((repo / "fleet.yaml").read_text(), 4))
    assert run("render", repo / "fleet.yaml")[0] == 0
    assert not (live / "NOTES.md").exists()


def test_a_standby_that_cannot_be_updated_is_dropped_and_the_render_builds_afresh(repo, monkeypatch):
    updates = []

    def unwritable(standby, *_):
        updates.append(standby)
        raise PermissionError(13, os.strerror(13))

    monkeypatch.setattr(swap, "_update", unwritable)
    text = edit((repo / "fleet.yaml").read_text(), 2)
    (repo / "fleet.yaml").write_text(text)
    code, output = run("render", repo / "fleet.yaml")
    assert code == 0, output
    assert updates == [standby_of(repo)]
    assert snapshot(repo / "rendered") == from_scratch(text, repo.parent / "scratch")
    assert not (repo / ".rendered.fleetgen-staging").exists()
    assert standby_of(repo).is_dir()  # the tree swapped out became the new standby


def test_without_a_cache_on_the_trees_filesystem_the_render_builds_afresh(repo, monkeypatch):
    monkeypatch.setattr(swap, "_standby", lambda out: None)
    staged = []
    stage = swap._stage

    def recorded(staging, *args):
        staged.append(staging)
        return stage(staging, *args)

    monkeypatch.setattr(swap, "_stage", recorded)
    text = edit((repo / "fleet.yaml").read_text(), 2)
    (repo / "fleet.yaml").write_text(text)
    assert run("render", repo / "fleet.yaml")[0] == 0
    assert staged == [repo / ".rendered.fleetgen-staging"]
    assert snapshot(repo / "rendered") == from_scratch(text, repo.parent / "scratch")
    assert not staged[0].exists()


def test_the_standby_is_on_the_trees_filesystem_or_not_used(tmp_path, monkeypatch):
    out = tmp_path / "rendered"
    out.mkdir()
    assert swap._standby(out) == cachedir.standby(out)
    real_stat, standbys = os.stat, cachedir.standby(out).parent

    def elsewhere(path, *args, **kwargs):
        info = real_stat(path, *args, **kwargs)
        if Path(path) == standbys:
            return os.stat_result((info.st_mode, info.st_ino, info.st_dev + 1, *info[3:]))
        return info

    monkeypatch.setattr(swap.os, "stat", elsewhere)
    assert swap._standby(out) is None


def test_a_first_render_makes_no_cache_before_it_succeeds(tmp_path, monkeypatch):
    """The first render has nothing to keep: it builds in a sibling directory, never in the cache."""
    monkeypatch.delenv("FLEETGEN_CACHE_DIR")
    (tmp_path / "fleet.yaml").write_text((ROOT / "fleet.yaml").read_text())
    monkeypatch.setattr(swap, "_write_file", lambda *_: (_ for _ in ()).throw(OSError(28, os.strerror(28))))
    code, output = run("render", tmp_path / "fleet.yaml")
    assert code == 2 and "No space left on device" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fleet.yaml"]


@pytest.mark.parametrize("standby", [True, False], ids=["standby", "staging"])
def test_a_foreign_file_where_the_tree_needs_a_directory_is_refused_not_moved(repo, monkeypatch, standby):
    """Review 19: a file the user put where fleetgen writes a directory (``stores`` replacing ``stores/``) used to
    be copied *into* the new directory by ``_link``'s copy fallback (``stores/stores``) and the render succeeded:
    a foreign file silently moved. Now nothing is written and the error names the file."""
    if not standby:
        monkeypatch.setattr(swap, "_standby", lambda out: None)
    live = repo / "rendered"
    stores = live / "hub" / "observability" / "stores"
    shutil.rmtree(stores)
    stores.write_text("mine, not fleetgen's\n")
    before = snapshot(live)
    (repo / "fleet.yaml").write_text(edit((repo / "fleet.yaml").read_text(), 2))
    code, output = run("render", repo / "fleet.yaml")
    assert code == 2, output
    assert "hub/observability/stores" in output and "fleetgen did not write it" in output
    assert snapshot(live) == before


def test_a_foreign_directory_where_the_tree_needs_a_file_is_refused(repo):
    """The reverse: a directory holding a foreign file where fleetgen writes a file."""
    live = repo / "rendered"
    target = sorted(rel for rel in tree.listing(live).files if rel.startswith("hub/observability/stores/"))[0]
    (live / target).unlink()
    (live / target).mkdir()
    (live / target / "NOTES.md").write_text("mine\n")
    before = snapshot(live)
    (repo / "fleet.yaml").write_text(edit((repo / "fleet.yaml").read_text(), 2))
    code, output = run("render", repo / "fleet.yaml")
    assert code == 2, output
    assert f"{target}/NOTES.md" in output and "fleetgen did not write it" in output
    assert snapshot(live) == before


def test_a_cache_directory_inside_the_output_tree_is_refused(tmp_path, monkeypatch):
    """Review 19: ``FLEETGEN_CACHE_DIR=rendered/.cache`` put the incremental cache into the tree it describes: the
    cache file became a stray manifest (every render and check failed on it as an orphan) and the standby could
    never be swapped (``renameat2`` of a directory into itself). It is refused before anything is written."""
    (tmp_path / "fleet.yaml").write_text((ROOT / "fleet.yaml").read_text())
    monkeypatch.setenv("FLEETGEN_CACHE_DIR", str(tmp_path / "rendered" / "nested" / ".cache"))
    code, output = run("render", tmp_path / "fleet.yaml")
    assert code == 2, output
    assert "FLEETGEN_CACHE_DIR" in output and "inside the output directory" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fleet.yaml"]
    code, output = run("check", tmp_path / "fleet.yaml")
    assert code == 2 and "inside the output directory" in output


def test_a_symlink_in_place_of_a_rendered_directory_is_refused_not_reported_as_a_race(repo):
    """Review 19: ``hub/capi`` moved elsewhere and replaced by a symlink to it: the incremental render verified the
    reused units' files through the symlink, then found them missing from the tree's listing and said they
    "disappeared while rendering; run fleetgen render again", every time. It now says what ``--full`` says."""
    live = repo / "rendered"
    elsewhere = repo.parent / "capi-elsewhere"
    (live / "hub" / "capi").rename(elsewhere)
    (live / "hub" / "capi").symlink_to(elsewhere)
    before = snapshot(live)
    for args in ([], ["--full"]):
        code, output = run("render", repo / "fleet.yaml", *args)
        assert code == 2, output
        assert "refusing to move hub/capi " in output and "fleetgen did not write it" in output, output
        assert snapshot(live) == before


@pytest.mark.parametrize("standby", [True, False], ids=["standby", "staging"])
def test_an_empty_foreign_directory_is_kept(repo, monkeypatch, standby):
    """fleetgen deletes only what it owns: someone's empty directories stay, and a directory emptied by the
    files fleetgen no longer renders goes."""
    if not standby:
        monkeypatch.setattr(swap, "_standby", lambda out: None)
    live = repo / "rendered"
    (live / "notes" / "drafts").mkdir(parents=True)
    (live / "hub" / "empty").mkdir()
    for step in (2, 3):  # the second render builds in the standby the first one left (which has neither)
        (repo / "fleet.yaml").write_text(edit((repo / "fleet.yaml").read_text(), step))
        assert run("render", repo / "fleet.yaml")[0] == 0
        assert (live / "notes" / "drafts").is_dir() and (live / "hub" / "empty").is_dir()
    assert run("remove-cluster", "dev-local", repo / "fleet.yaml")[0] == 0  # its files go, and so do their dirs
    assert run("render", repo / "fleet.yaml")[0] == 0
    assert not (live / "clusters" / "dev-local").exists()
    listed = tree.listing(live)
    assert listed.dirs - swap.ancestors(listed.files) == {"notes", "notes/drafts", "hub/empty"}


MOUNTINFO = r"""22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 22 0:26 / /var/lib/docker/overlay2/x/merged rw,relatime - overlay overlay rw,lowerdir=/a,upperdir=/b
31 22 0:27 / /home/my\040repo rw,nosuid - tmpfs tmpfs rw
32 31 0:28 / /home/my\040repo rw - ext4 /dev/vdb rw
"""


@pytest.mark.parametrize(
    "path,kind",
    [
        ("/var/lib/docker/overlay2/x/merged/repo/rendered", "overlay"),
        ("/var/lib/docker/overlay2/x/mergedness", "ext4"),  # a longer name is not a path below the mount point
        ("/home/my repo/rendered", "ext4"),  # octal escapes; the last of two mounts on one point
        ("/", "ext4"),
    ],
)
def test_the_filesystem_of_a_path_is_read_from_mountinfo(path, kind):
    assert swap.mount_type(MOUNTINFO, path) == kind


def test_on_overlayfs_the_render_builds_afresh(repo, monkeypatch):
    """Inode numbers of files of different overlay layers may collide: no standby is used there."""
    monkeypatch.setattr(swap, "_filesystem", lambda path: "overlay")
    assert swap._standby(repo / "rendered") is None
    assert_renders_as_from_scratch(repo)


def standby_elsewhere(repo: Path) -> tuple[Path, Path, str]:
    """The fleet rendered into a second output directory twice, changing something: it has a standby too."""
    other, fleet = repo / "elsewhere", repo / "fleet.yaml"
    text = fleet.read_text()
    for step in (2, 3):
        fleet.write_text(edit(text, step))
        assert run("render", fleet, "--out", other)[0] == 0
    return other, fleet, text


def test_the_standby_of_an_output_directory_that_is_gone_is_removed(repo):
    """Renamed or removed output directories leave no whole tree behind in the cache."""
    other, fleet, text = standby_elsewhere(repo)
    gone = cachedir.standby(other)
    assert gone.is_dir() and cachedir.standby_owner(other).read_text() == str(other.resolve())
    assert cachedir.render_cache(other).exists() and cachedir.render_cache_changes(other).exists()
    shutil.rmtree(other)
    fleet.write_text(edit(text, 4))
    assert run("render", fleet)[0] == 0
    assert not gone.exists() and not cachedir.standby_owner(other).exists()
    assert not any(path.exists() for path in cachedir.render_cache_files(other))  # the base, its changes, their tmps
    assert standby_of(repo).is_dir()  # the live output directory's own standby stays


def test_a_standby_in_use_is_not_taken_for_an_orphan(repo):
    import fcntl

    other, fleet, text = standby_elsewhere(repo)
    shutil.rmtree(other)
    held = os.open(cachedir.standby(other), os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(held, fcntl.LOCK_EX)  # a render into it at work
    try:
        fleet.write_text(edit(text, 4))
        assert run("render", fleet)[0] == 0
        assert cachedir.standby(other).is_dir()
    finally:
        os.close(held)


@settings(max_examples=300, deadline=None)
@given(
    st.sets(st.sampled_from(["a", "b", "a/x", "a/y", "a/b/z", "c/d/e", "c/f", "g/h/i/j"]), min_size=1),
    st.sets(st.sampled_from(["e1", "a/e2", "k/l", "c/d/e3"])),
    st.data(),
)
def test_a_tree_whose_files_stay_keeps_its_directories(files, empty_dirs, data):
    """``Change.dirs`` takes the live tree's directories when no file comes or goes; that is what working them out
    from the files gives (someone's empty directories included)."""
    paths = {f for f in files if not any(other.startswith(f + "/") for other in files)}  # no file above a file
    dirs = swap.ancestors(paths) | {
        d
        for d in empty_dirs
        if d not in paths and not any(p.startswith(d + "/") or d.startswith(p + "/") for p in paths)
    }
    dirs |= swap.ancestors(f"{d}/" for d in dirs)
    live = swap.Listing({p: 1 for p in paths}, dirs)
    changed = data.draw(st.sets(st.sampled_from(sorted(paths))))
    change = swap.Change({rel: b"" for rel in changed}, live, changed, set(), b"")
    assert change.dirs == change.derived_dirs() == dirs
