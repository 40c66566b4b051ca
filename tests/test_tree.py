"""The rendered tree on disk: ownership, check findings, atomic replacement, confinement."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleetgen import swap, tree
from fleetgen.errors import FleetgenError
from fleetgen.main import cli
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def repo(tmp_path) -> Path:
    shutil.copy(ROOT / "fleet.yaml", tmp_path / "fleet.yaml")
    assert run("render", tmp_path / "fleet.yaml").exit_code == 0
    return tmp_path


def check(repo: Path):
    return run("check", repo / "fleet.yaml", "--format", "json")


def rules(result) -> set[tuple[str, str]]:
    import json

    return {(f["rule"], f["file"].split("rendered/", 1)[1]) for f in json.loads(result.output)["findings"]}


def test_fresh_render_checks_clean(repo):
    result = run("check", repo / "fleet.yaml")
    assert result.exit_code == 0, result.output


def test_render_is_idempotent_and_skips_unchanged(repo):
    before = {p: p.stat().st_ino for p in (repo / "rendered").rglob("*.yaml")}
    result = run("render", repo / "fleet.yaml")
    assert "0 written" in result.output
    assert {p: p.stat().st_ino for p in (repo / "rendered").rglob("*.yaml")} == before


def test_stale_render(repo):
    fleet = repo / "fleet.yaml"
    fleet.write_text(fleet.read_text().replace("replicas: 60", "replicas: 90"))
    result = check(repo)
    assert result.exit_code == 1
    assert rules(result) == {("stale-render", "README.md")}  # the split is documented there, not in policies


def test_missing_file_is_stale(repo):
    (repo / "rendered" / "hub" / "capi" / "dev-local.yaml").unlink()
    assert rules(check(repo)) == {("stale-render", "hub/capi/dev-local.yaml")}


def test_hand_edit(repo):
    target = repo / "rendered" / "hub" / "argocd" / "projects" / "staging.yaml"
    target.write_text(target.read_text() + "# tweak\n")
    result = check(repo)
    assert result.exit_code == 1 and rules(result) == {("hand-edit", "hub/argocd/projects/staging.yaml")}
    text = run("check", repo / "fleet.yaml").output
    assert "+++" in text and "fleetgen render" in text


def test_orphan_yaml_but_not_notes(repo):
    (repo / "rendered" / "hub" / "stray.yaml").write_text("kind: ConfigMap\n")
    (repo / "rendered" / "hub" / "NOTES.txt").write_text("hello\n")
    assert rules(check(repo)) == {("orphan", "hub/stray.yaml")}


def test_stray_manifest_fails_render_and_check_alike_until_it_is_removed(repo):
    stray = repo / "rendered" / "hub" / "extra.yaml"
    stray.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: default}\n")
    rendered, checked = run("render", repo / "fleet.yaml"), run("check", repo / "fleet.yaml")
    assert (rendered.exit_code, checked.exit_code) == (1, 1)
    for result in (rendered, checked):  # the pre-commit render hook and CI's check say the same thing
        assert "error[orphan]" in result.output and "hub/extra.yaml" in result.output
        assert (
            "1 stray manifest(s) that fleetgen does not own: delete them or move them out of the rendered "
            "tree" in result.output
        )
        assert "out of date" not in result.output
    assert stray.exists()  # fleetgen never deletes a file it did not write
    stray.unlink()
    assert run("render", repo / "fleet.yaml").exit_code == 0 and run("check", repo / "fleet.yaml").exit_code == 0


def test_each_orphan_fix_that_check_names_makes_render_and_check_pass(repo):
    """Whatever check says to do about an orphan, done, leaves render and check (the hook and CI) clean."""
    import json

    fleet = repo / "fleet.yaml"
    text = fleet.read_text()
    fleet.write_text(text[: text.index("  - name: dev-local")] + text[text.index("applicationSets:") :])
    stray = repo / "rendered" / "hub" / "tools.yaml"
    stray.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: platform-tools}\n")
    findings = json.loads(check(repo).output)["findings"]
    orphans = {f["file"].split("rendered/", 1)[1]: f["message"] for f in findings if f["rule"] == "orphan"}
    # dev-local's files, owned (in .fleetgen.lock): check says render deletes them
    owned = {rel: why for rel, why in orphans.items() if rel != "hub/tools.yaml"}
    assert "hub/capi/dev-local.yaml" in owned
    assert all(why.endswith("fleet.yaml no longer produces it: `fleetgen render` deletes it") for why in owned.values())
    assert orphans["hub/tools.yaml"].endswith(tree.STRAY)
    [hint] = {f["hint"] for f in findings if f["rule"] == "orphan"}
    assert "`extraManifests`" in hint
    # the hinted fixes: render (deletes what fleetgen owns, fails on the stray), then list the stray in fleet.yaml
    assert run("render", fleet).exit_code == 1
    assert not any((repo / "rendered" / rel).exists() for rel in owned) and stray.exists()
    (repo / "manifests").mkdir()
    stray.rename(repo / "manifests" / "tools.yaml")
    fleet.write_text(fleet.read_text() + "extraManifests:\n  - source: manifests/tools.yaml\n")
    assert run("render", fleet).exit_code == 0
    assert check(repo).exit_code == 0 and (repo / "rendered/hub/extra/manifests/tools.yaml").is_file()


def test_render_never_deletes_foreign_files_and_removes_owned_ones(repo):
    notes = repo / "rendered" / "NOTES.md"
    notes.write_text("ours, not fleetgen's\n")
    fleet = repo / "fleet.yaml"
    text = fleet.read_text()
    start = text.index("  - name: dev-local")
    end = text.index("applicationSets:")
    fleet.write_text(text[:start] + text[end:])
    assert run("render", fleet).exit_code == 0
    assert notes.read_text() == "ours, not fleetgen's\n"
    assert not (repo / "rendered" / "hub" / "capi" / "dev-local.yaml").exists()
    assert run("check", fleet).exit_code == 0


def test_render_refuses_to_overwrite_a_foreign_file(repo):
    lock = repo / "rendered" / tree.LOCK_NAME
    body = lock.read_text().replace('"README.md"', '"README-not.md"')
    lock.write_text(body)
    (repo / "rendered" / "README.md").write_text("mine\n")
    result = CliRunner().invoke(cli, ["render", str(repo / "fleet.yaml")])
    assert result.exit_code == 2 and "did not write it" in result.output
    assert (repo / "rendered" / "README.md").read_text() == "mine\n"


def test_fleet_with_errors_renders_nothing(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text((ROOT / "fleet.yaml").read_text().replace("meshID: 2}", "meshID: 1}"))
    assert run("render", fleet).exit_code == 1
    assert not (tmp_path / "rendered").exists()


def test_out_option(tmp_path):
    shutil.copy(ROOT / "fleet.yaml", tmp_path / "fleet.yaml")
    assert run("render", tmp_path / "fleet.yaml", "--out", tmp_path / "elsewhere").exit_code == 0
    assert (tmp_path / "elsewhere" / "README.md").exists()
    assert run("check", tmp_path / "fleet.yaml", "--out", tmp_path / "elsewhere").exit_code == 0


@pytest.mark.parametrize(
    "bad",
    ["../x.yaml", "/etc/passwd", "a/../../b", "a//b", "", "a/./b", "a\\b", ".", "..", "a/..", "a/."]
    + ["x.yaml\n", "a/\n"],  # a name ending in a line break (re's "$" matches before one)
)
def test_rendered_paths_are_confined(bad):
    with pytest.raises(FleetgenError):
        tree.check_relpath(bad)


@pytest.mark.parametrize("good", ["x.yaml", ".x", "..x", "a/...", "a/.b/c..d", "clusters/prod-1/a_b-c.yaml"])
def test_dots_inside_a_name_are_a_name(good):
    assert tree.check_relpath(good) == good


def test_rendered_dir_symlink_out_of_the_repo_is_refused(tmp_path):
    shutil.copy(ROOT / "fleet.yaml", tmp_path / "fleet.yaml")
    outside = tmp_path.parent / (tmp_path.name + "-outside")
    outside.mkdir()
    os.symlink(outside, tmp_path / "rendered")
    result = CliRunner().invoke(cli, ["render", str(tmp_path / "fleet.yaml")])
    assert result.exit_code == 2 and "outside" in result.output
    assert list(outside.iterdir()) == []


def test_symlink_inside_the_tree_is_never_followed(repo):
    secret = repo.parent / (repo.name + "-secret.txt")
    secret.write_text("do not touch\n")
    os.symlink(secret, repo / "rendered" / "link.yaml")
    result = check(repo)
    assert ("orphan", "link.yaml") in rules(result)
    fleet = repo / "fleet.yaml"
    fleet.write_text(fleet.read_text().replace("replicas: 60", "replicas: 90"))
    assert run("render", fleet).exit_code == 1  # rendered, but a stray manifest is left (see test_stray_manifest…)
    assert secret.read_text() == "do not touch\n" and (repo / "rendered" / "link.yaml").is_symlink()
    assert rules(check(repo)) == {("orphan", "link.yaml")}  # the new render was written all the same


@pytest.mark.parametrize("code,words", [(28, "No space left"), (30, "Read-only"), (13, "Permission denied")])
def test_write_failure_leaves_the_old_tree(repo, monkeypatch, code, words):
    before = {p.relative_to(repo): p.read_bytes() for p in (repo / "rendered").rglob("*") if p.is_file()}

    def boom(*_):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(swap, "_write_file", boom)
    fleet = repo / "fleet.yaml"
    fleet.write_text(fleet.read_text().replace("replicas: 60", "replicas: 90"))
    result = CliRunner().invoke(cli, ["render", str(fleet)])
    assert result.exit_code == 2 and words in result.output and "unchanged" in result.output
    after = {p.relative_to(repo): p.read_bytes() for p in (repo / "rendered").rglob("*") if p.is_file()}
    assert after == before
    assert not any(p.name.endswith("fleetgen-staging") for p in repo.iterdir())


def test_second_concurrent_render_gets_a_clear_error(repo):
    import fcntl

    fd = os.open(repo / "rendered", os.O_RDONLY | os.O_DIRECTORY)  # what a render in progress holds
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        result = CliRunner().invoke(cli, ["render", str(repo / "fleet.yaml")])
        assert result.exit_code == 2 and f"another fleetgen render is writing {repo / 'rendered'}" in result.output
    finally:
        os.close(fd)


def test_committed_tree_is_what_the_committed_fleet_renders():
    from fleetgen import pipeline
    from fleetgen.produce import produce

    loaded = pipeline.load_and_lint(ROOT / "fleet.yaml")
    drift = tree.compare(ROOT / "rendered", produce(loaded.fleet, "fleet.yaml").files)
    assert drift == [], "rendered/ is stale: run `fleetgen render` and commit"


def _unshare_works() -> bool:
    import subprocess

    try:
        return subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(
    not _unshare_works(), reason="needs a private mount namespace (unshare -m) for a real read-only mount"
)
def test_real_read_only_mount_leaves_the_old_tree(repo):
    import subprocess
    import sys

    before = {p.relative_to(repo): p.read_bytes() for p in (repo / "rendered").rglob("*") if p.is_file()}
    fleet = repo / "fleet.yaml"
    fleet.write_text(fleet.read_text().replace("replicas: 60", "replicas: 90"))
    script = (
        f"mount --bind {repo} {repo} && mount -o remount,bind,ro {repo} && {sys.executable} -m fleetgen render {fleet}"
    )
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Read-only file system" in result.stderr and "unchanged" in result.stderr
    after = {p.relative_to(repo): p.read_bytes() for p in (repo / "rendered").rglob("*") if p.is_file()}
    assert after == before


# ---------------------------------------------------------------- create_file: new files, never over one


@pytest.mark.parametrize("existing", ["file", "dangling symlink", "directory"])
def test_create_file_never_replaces_what_is_there(tmp_path, existing):
    target = tmp_path / "fleet.yaml"
    if existing == "file":
        target.write_text("mine\n")
    elif existing == "dangling symlink":
        target.symlink_to(tmp_path / "nowhere")
    else:
        target.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(FileExistsError):
        tree.create_file(target, b"new\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temporary file left
    assert existing != "file" or target.read_text() == "mine\n"
    assert not (tmp_path / "nowhere").exists()  # a link at the target is never followed


def test_create_file_writes_whole_files_with_the_umask_applied(tmp_path):
    old = os.umask(0o077)
    try:
        tree.create_file(tmp_path / "private", b"a\n")
    finally:
        os.umask(old)
    tree.create_file(tmp_path / "group-readable", b"b\n", 0o640)
    assert (tmp_path / "private").read_bytes() == b"a\n" and (tmp_path / "group-readable").read_bytes() == b"b\n"
    assert (tmp_path / "private").stat().st_mode & 0o777 == 0o600  # 0o644 masked by 077
    assert (tmp_path / "group-readable").stat().st_mode & 0o777 == 0o640 & ~old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["group-readable", "private"]


def test_create_file_on_a_full_disk_leaves_no_file(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(28, os.strerror(28))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        tree.create_file(tmp_path / "fleet.yaml", b"x\n")
    assert list(tmp_path.iterdir()) == []


def test_create_file_without_rename_noreplace_falls_back_to_a_hard_link(tmp_path, monkeypatch):
    """Filesystems whose rename has no RENAME_NOREPLACE (EINVAL) still never overwrite."""
    import ctypes

    class NoFlag:
        def __getattr__(self, name):
            def renameat2(*_):
                ctypes.set_errno(22)
                return -1

            return renameat2

    from fleetgen import atomic

    monkeypatch.setattr(atomic.ctypes, "CDLL", lambda *a, **k: NoFlag())
    tree.create_file(tmp_path / "a", b"a\n")
    (tmp_path / "b").write_text("mine\n")
    with pytest.raises(FileExistsError):
        tree.create_file(tmp_path / "b", b"b\n")
    assert (tmp_path / "a").read_bytes() == b"a\n" and (tmp_path / "b").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_the_caches_gitignore_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    from fleetgen import atomic, cachedir

    monkeypatch.delenv("FLEETGEN_CACHE_DIR", raising=False)
    out = tmp_path / "rendered"
    top = tmp_path / ".fleetgen-cache"

    def full(fd):
        raise OSError(28, os.strerror(28))

    with monkeypatch.context() as m:
        m.setattr(atomic.os, "fsync", full)
        with pytest.raises(OSError, match="No space left"):
            cachedir.make(top / "render", out)
    assert list(top.iterdir()) == []  # no empty or partial .gitignore that would let git see the cache
    cachedir.make(top / "render", out)
    assert (top / ".gitignore").read_text() == cachedir.IGNORE
    (top / ".gitignore").write_text("*\n# the team's own\n")
    cachedir.make(top / "render", out)  # an existing .gitignore is left as it is
    assert (top / ".gitignore").read_text() == "*\n# the team's own\n"


@pytest.mark.parametrize(
    "files,versions",
    [
        ({}, {}),
        ({"a.yaml": "0" * 64}, {}),
        ({"b/c.yaml": "1" * 64, "a.yaml": "2" * 64}, {"prod-a": "1.31", 'édge-"q"\\x': "1.30\u2028"}),
    ],
)
def test_the_lock_is_written_as_json_dumps_with_indent_writes_it(tmp_path, files, versions):
    """Lock.to_bytes builds the text itself (the json module encodes in Python when indenting): byte for byte
    what ``json.dumps(body, indent=2)`` gives, quoting included, so committed locks do not change."""
    from fleetgen.settled import Settled

    settled = Settled(255, {"prod-a": 3}, {"prod-a": 4}) if versions else tree.NOTHING
    lock = tree.Lock(files, versions, settled)
    body = {
        "generator": "fleetgen",
        "format": 1,
        "files": dict(sorted(files.items())),
        "kubernetesVersions": dict(sorted(versions.items())),
        "installed": settled.to_json(),
    }
    assert lock.to_bytes() == (json.dumps(body, indent=2) + "\n").encode()
    (tmp_path / tree.LOCK_NAME).write_bytes(lock.to_bytes())
    assert tree.read_lock(tmp_path) == lock


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_a_file_name_that_is_not_utf8_is_reported_never_a_traceback(repo, fmt):
    """A stray file whose name is not UTF-8 (bytes Python keeps as lone surrogates) made `check` and `render`
    raise UnicodeEncodeError while writing their report to a UTF-8 stream; the name is now shown escaped."""
    os.close(os.open(os.fsencode(repo / "rendered" / "hub") + b"/bad\xff.yaml", os.O_CREAT | os.O_WRONLY, 0o644))
    checked = CliRunner().invoke(cli, ["check", str(repo / "fleet.yaml"), "--format", fmt])
    rendered = CliRunner().invoke(cli, ["render", str(repo / "fleet.yaml")])
    name = "hub/bad\\xff.yaml"
    for result, shown in ((checked, json.dumps(name)[1:-1] if fmt in ("json", "sarif") else name), (rendered, name)):
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert result.exit_code == 1 and shown in result.output


def test_write_checks_the_names_of_kept_files_the_lock_does_not_vouch_for(tmp_path, monkeypatch):
    """A file an incremental render keeps (its name from the unit cache) is checked to stay inside the tree, unless
    the lock holds its name: a lock's names were checked when it was read (25,000 names a render at 5,000 clusters)."""
    out = tmp_path / "rendered"
    out.mkdir()
    (out / "a.yaml").write_text("a\n")
    (out / tree.LOCK_NAME).write_bytes(
        tree.Lock({"a.yaml": tree.digest(b"a\n"), "../up.yaml": "0" * 64}, {}).to_bytes()
    )
    assert "../up.yaml" not in tree.read_lock(out).files  # dropped when read
    checked: list[str] = []
    real = tree.check_relpath
    monkeypatch.setattr(tree, "check_relpath", lambda rel: checked.append(rel) or real(rel))
    known = {"a.yaml": tree.digest(b"a\n"), "../up.yaml": "0" * 64, "b/../../x.yaml": "1" * 64}
    with pytest.raises(FleetgenError, match="refusing to write '../up.yaml'"):
        tree.write(out, {"new.yaml": b"n\n"}, {}, known=known)
    assert checked == ["new.yaml", "../up.yaml"]
    assert sorted(p.name for p in out.iterdir()) == [tree.LOCK_NAME, "a.yaml"]


def test_the_writers_each_take_one_contiguous_run_of_the_sorted_paths_and_stop_on_a_failure():
    """``swap._parallel``: every path once, each thread a contiguous run of the sorted paths in order (threads
    creating files in one directory wait on each other); a few paths in the calling thread; a failure reaches the
    caller, and no path is done twice or out of its run's order."""
    import threading

    paths = [f"clusters/c{n:04d}/file.yaml" for n in range(1000)]
    done: list[tuple[int, str]] = []
    lock = threading.Lock()

    def record(rel: str) -> None:
        with lock:
            done.append((threading.get_ident(), rel))

    swap._parallel(record, reversed(paths))
    assert sorted(rel for _, rel in done) == paths
    by_thread: dict[int, list[int]] = {}
    for thread, rel in done:
        by_thread.setdefault(thread, []).append(paths.index(rel))
    # each thread did its runs one after another (a pool thread may take a second run): in order, contiguous
    blocks = sum(1 + sum(b != a + 1 for a, b in zip(done_, done_[1:])) for done_ in by_thread.values())
    assert all(done_ == sorted(done_) for done_ in by_thread.values())
    assert blocks <= swap.WRITERS

    done.clear()
    swap._parallel(record, paths[: swap.SERIAL_BELOW - 1])
    assert {thread for thread, _ in done} == {threading.get_ident()}

    done.clear()

    def fail_once(rel: str) -> None:
        if rel == paths[0]:
            raise OSError(28, "No space left on device")
        record(rel)

    with pytest.raises(OSError, match="No space"):
        swap._parallel(fail_once, paths)
    seen = [rel for _, rel in done]
    assert len(seen) == len(set(seen)) and paths[0] not in seen


def test_a_failure_in_any_run_stops_every_writer_before_its_next_file(monkeypatch):
    """A run that fails stops the others itself: the caller meets the failures in the runs' order, so a stop set
    only there would first wait for every run before the failing one to finish. Here the last run fails at its first
    path while every other run holds its first path until the stop is set: each writes that one, and no more."""
    import threading
    from types import SimpleNamespace

    events: list[threading.Event] = []

    class Watched(threading.Event):
        def __init__(self) -> None:
            super().__init__()
            events.append(self)

    monkeypatch.setattr(swap, "threading", SimpleNamespace(Event=Watched))
    paths = [f"clusters/c{n:04d}/file.yaml" for n in range(1000)]
    size = -(-len(paths) // swap.WRITERS)
    failing = paths[(swap.WRITERS - 1) * size]
    firsts = [paths[k * size] for k in range(swap.WRITERS - 1)]
    written: list[str] = []

    def write(rel: str) -> None:
        if rel == failing:
            raise OSError(28, "No space left on device")
        if rel in firsts:
            events[0].wait(10)  # the stop: _parallel's only event (without it, the run goes on after 10 s)
        written.append(rel)

    with pytest.raises(OSError, match="No space"):
        swap._parallel(write, paths)
    assert sorted(written) == firsts


def test_the_workload_hook_has_nothing_to_miss():
    """tracing.Recording hooks the Workload class from a unit's first read of ``fleet.workloads`` on; it misses
    nothing only while no other read of the fleet hands out a Workload (the derived and per-argument reads give
    names and documents, the cluster views clusters) and a read of everything (``tracing.EVERYTHING``: a digest of the
    fleet's repr) shows every field of every workload."""
    import dataclasses

    from fleetgen.model import Fleet, Workload

    assert all(f.repr for f in dataclasses.fields(Workload))
    assert Fleet.DERIVED == frozenset({"mesh_members", "extra_spokes"})
    assert Fleet.PER_ARGUMENT == {"spoke_extras": "extra_files"} and set(Fleet.CLUSTER_VIEWS) == {"of_provider"}
    hints = {name: getattr(Fleet, name) for name in (*Fleet.DERIVED, *Fleet.PER_ARGUMENT, *Fleet.CLUSTER_VIEWS)}
    assert "tuple[str, ...]" in str(hints["mesh_members"].func.__annotations__["return"])
    assert "tuple[str, ...]" in str(hints["extra_spokes"].func.__annotations__["return"])
    assert "dict[str, Any]" in str(hints["spoke_extras"].__annotations__["return"])
    assert "tuple[Cluster, ...]" in str(hints["of_provider"].__annotations__["return"])


PATH_PIECES = ["a", "b.yaml", "x-y_z", ".", "..", ".x", "/", "//", "", "\n", "é", "a\\b", "9"]


@given(st.lists(st.lists(st.sampled_from(PATH_PIECES), max_size=5).map("".join), max_size=6))
@settings(max_examples=500, deadline=None)
def test_the_locks_paths_checked_at_once_are_safe_path_by_path(paths):
    """``_plain_paths`` (one check for a lock's 25,000 paths) vouches only for lists whose every path the per-path
    expression accepts; a list it leaves to that check is any other (a dot file, an empty list)."""
    if tree._plain_paths(paths):
        assert paths and all(tree._SAFE_PATH.fullmatch(p) for p in paths)
        assert not any(segment.startswith(".") for p in paths for segment in p.split("/"))
    elif paths and all(tree._SAFE_PATH.fullmatch(p) for p in paths):
        assert any(segment.startswith(".") for p in paths for segment in p.split("/"))


@pytest.mark.parametrize(
    "files",
    [
        {"a.yaml": "1" * 64, "hub/b.yaml": "2" * 64},  # checked at once
        {"a.yaml": "1" * 64, ".x/b.yaml": "2" * 64, "../up.yaml": "3" * 64, "a//b": "4"},  # path by path
        {"a.yaml": 7, "b.yaml": "2" * 64},  # a value that is no string: path by path, as str
    ],
)
def test_a_lock_reads_the_same_either_way(tmp_path, files):
    (tmp_path / tree.LOCK_NAME).write_text(json.dumps({"files": files}))
    expected = {str(k): str(v) for k, v in files.items() if tree._SAFE_PATH.fullmatch(k)}
    assert tree.read_lock(tmp_path).files == expected


@given(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=6))
@settings(max_examples=400, deadline=None)
def test_the_locks_maps_are_written_as_json_dumps_writes_them(mapping):
    """``_indented_map`` formats plain keys and values in C and quotes any other with json's own encoder: either way
    the text ``json.dumps(indent=2, sort_keys=True)`` gives one level down."""
    expected = json.dumps({"m": mapping}, indent=2, sort_keys=True)
    assert '{\n  "m": ' + tree._indented_map(mapping) + "\n}" == expected


@pytest.mark.parametrize("files", [None, 5, True, 1.5, [1, 2], [["a"]], ["a", "b"], "abc"], ids=repr)
def test_a_lock_whose_files_are_not_an_object_reads_as_an_empty_lock(tmp_path, files):
    """As before the paths were checked at once (review of the eleventh round): never a traceback."""
    (tmp_path / tree.LOCK_NAME).write_text(json.dumps({"files": files}))
    assert tree.read_lock(tmp_path).files == {}


SPLICE_PATHS = ["a.yaml", "b/c.yaml", "b/d.yaml", "hub/x.yaml", "hub/y.yml", ".dot/e.yaml", "z", "README.md"]
DIGESTS = ["0" * 64, "1" * 64, "f" * 64, "abc", "e" * 64, 'q"\\', "é"]


@given(st.data(), st.dictionaries(st.sampled_from(SPLICE_PATHS), st.sampled_from(DIGESTS), max_size=8))
@settings(max_examples=800, deadline=None)
def test_a_lock_cut_from_the_last_one_is_the_lock_formatted_whole(data, old_files):
    """``lock_bytes`` gives ``to_bytes`` byte for byte whatever changed: digests of some of the same files (the lines
    cut, in any order), files added or gone, versions, quoting, and a last lock whose bytes are not known to be its
    own (``written``)."""
    versions = {"prod-a": "1.31"}
    old = tree.Lock(old_files, versions)
    if data.draw(st.booleans()):
        old = tree.Lock(old_files, versions, written=old.to_bytes())
    new_files = dict(old_files)
    for rel in data.draw(st.lists(st.sampled_from(sorted(old_files)), unique=True) if old_files else st.just([])):
        new_files[rel] = data.draw(st.sampled_from(DIGESTS))
    if data.draw(st.integers(0, 9)) == 0:  # a file added, or one gone
        new_files.pop(data.draw(st.sampled_from(SPLICE_PATHS)), None) or new_files.setdefault("new.yaml", "d" * 64)
    new = tree.Lock(new_files, {"prod-a": "1.32"} if data.draw(st.integers(0, 9)) == 0 else versions)
    assert tree.lock_bytes(new, old) == new.to_bytes()


def test_a_lock_whose_bytes_are_not_its_own_is_formatted_whole():
    """Bytes said to be the last lock's that are not (a hand-formatted lock with the record's digest cannot happen;
    this is what a wrong ``written`` would do): the lines to cut are not found, and the lock is formatted whole."""
    files = {"a.yaml": "0" * 64, "b.yaml": "1" * 64}
    reordered = b'{\n  "files": {\n    "b.yaml": "' + b"1" * 64 + b'",\n    "a.yaml": "' + b"0" * 64 + b'"\n  }\n}\n'
    new = tree.Lock({**files, "a.yaml": "2" * 64}, {})
    assert tree.lock_bytes(new, tree.Lock(files, {}, written=reordered)) == new.to_bytes()


def test_a_render_cuts_its_lock_from_the_one_it_wrote_and_only_from_that(repo, monkeypatch):
    """The lock a render wrote comes back with its bytes (the record holds their digest); a lock file edited since,
    even to an equal lock formatted otherwise, does not, and the next render formats its lock whole."""
    out = repo / "rendered"
    lock = tree.read_lock(out)
    assert lock.written == (out / tree.LOCK_NAME).read_bytes() and lock.written == lock.to_bytes()
    formatted = {}

    def to_bytes(self):
        formatted["whole"] = True
        return real(self)

    real = tree.Lock.to_bytes
    monkeypatch.setattr(tree.Lock, "to_bytes", to_bytes)
    fleet = repo / "fleet.yaml"
    text = fleet.read_text()
    assert "min: 6, max: 40}" in text
    fleet.write_text(text.replace("min: 6, max: 40}", "min: 6, max: 41}", 1))
    assert run("render", fleet).exit_code == 0
    assert tree.read_lock(out) != lock and not formatted  # a new lock, cut from the last one
    assert tree.read_lock(out).written == (out / tree.LOCK_NAME).read_bytes() == real(tree.read_lock(out))
    body = json.loads((out / tree.LOCK_NAME).read_text())
    (out / tree.LOCK_NAME).write_text(json.dumps(body, indent=4))  # the same lock, formatted otherwise
    assert tree.read_lock(out).written is None
    fleet.write_text(text)
    assert run("render", fleet).exit_code == 0
    assert formatted and tree.read_lock(out) == lock  # formatted whole
    assert (out / tree.LOCK_NAME).read_bytes() == real(tree.read_lock(out))
    assert check(repo).exit_code == 0
