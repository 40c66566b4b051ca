"""Faults where fleetgen writes: concurrent runbook commands, full/read-only/forbidden filesystems,
read-only trees, locks per output directory, Ctrl-C, and fleet paths that are not regular files.

Real processes, real permissions (as ``nobody`` through setpriv when the tests run as root),
a real full filesystem (a small tmpfs) and a real read-only mount (both in a private mount
namespace). Each test checks the exit code, the message, and that nothing was lost.
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from importlib import metadata
from pathlib import Path

import fleetgen
import pytest
from click.testing import CliRunner
from fleetgen.main import cli

ROOT = Path(__file__).resolve().parents[1]
BASE = (ROOT / "tests" / "fleets" / "base.yaml").read_text()
POOLS = "network:\n  allocation: {pods: 10.0.0.0/12, podPrefix: 16, services: 10.100.0.0/14, servicePrefix: 20}\n"
FLEET = BASE.replace("defaults:", POOLS + "defaults:", 1)
NOBODY = 65534


def _requirement_closure(name: str, seen: set[str]) -> set[str]:
    """The distributions ``name`` needs at run time (extras' requirements left out), itself included."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return seen
    if dist.metadata["Name"].lower() in seen:
        return seen
    seen.add(dist.metadata["Name"].lower())
    for requirement in dist.requires or []:
        if "extra ==" not in requirement:
            _requirement_closure(re.match(r"[A-Za-z0-9._-]+", requirement).group(), seen)
    return seen


def _copy_distribution(name: str, top: Path) -> None:
    dist = metadata.distribution(name)
    for file in dist.files or []:
        source = Path(dist.locate_file(file)).resolve()
        if source.is_file() and "__pycache__" not in file.parts and not str(file).startswith(".."):
            (top / file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, top / file)


@functools.cache
def _package_another_user_can_read() -> str:
    """A world-readable copy of fleetgen and its run-time dependencies, for processes run as ``nobody``.

    CI installs fleetgen as root, from a clone made under a 077 umask or below a 0700 home, so
    ``nobody`` may not read what site-packages holds. The copy is what the tests import, byte for byte.
    """
    top = Path(tempfile.mkdtemp(prefix="fleetgen-package-"))
    atexit.register(shutil.rmtree, top, ignore_errors=True)
    needed: set[str] = set()
    for requirement in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        _requirement_closure(re.match(r"[A-Za-z0-9._-]+", requirement).group(), needed)
    for name in sorted(needed):
        _copy_distribution(name, top)
    package = Path(fleetgen.__file__).resolve().parent
    shutil.copytree(package, top / package.name, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    for path in [top, *top.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return str(top)


ENV = {**os.environ, "CI": "1", "PYTHONDONTWRITEBYTECODE": "1"}
ROOT_USER = os.geteuid() == 0
FLEETGEN = [sys.executable, "-m", "fleetgen"]
ADD = ("add-cluster", "{name}", "--environment", "staging", "--region", "us-west-2", "--provider", "docker")
# One edit per runbook command that writes fleet.yaml (FLEET has stage-a without a server, at 1.31).
EDITS = {
    "add-cluster": [a.format(name="new-a") for a in ADD],
    "register": ["register", "stage-a", "--server", "https://stage-a.example.com"],
    "upgrade": ["upgrade", "--to", "1.31"],
    "remove-cluster": ["remove-cluster", "stage-a"],
}


def first_stderr_line(proc: subprocess.Popen, timeout: float = 120) -> str:
    """The process's first line on stderr, or "" at EOF; a process that neither writes nor exits within
    ``timeout`` fails the test instead of hanging it (``readline`` alone would wait forever)."""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stderr, selectors.EVENT_READ)
        if not selector.select(timeout):
            proc.kill()
            proc.communicate()
            pytest.fail(f"no line on stderr within {timeout}s")
    return proc.stderr.readline()


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def snapshot(top: Path) -> dict[str, bytes | None]:
    """Every path under ``top`` (directories as None), so a leftover file or directory shows too."""
    return {p.relative_to(top).as_posix(): (p.read_bytes() if p.is_file() else None) for p in sorted(top.rglob("*"))}


def as_other_user(args, cwd: Path) -> subprocess.CompletedProcess:
    """fleetgen as a user without root's override of permissions: ``nobody`` when we are root (skipped when
    ``nobody`` cannot run fleetgen here). The package copy is made on first use, only when we are root."""
    if not ROOT_USER:
        return _as("", [], args, cwd)
    problem = _other_user_cannot_run_fleetgen()
    if problem:
        pytest.skip(problem)
    return _as(_package_another_user_can_read(), _DROP_ROOT, args, cwd)


_DROP_ROOT = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def _as(package: str, prefix: list[str], args, cwd: Path) -> subprocess.CompletedProcess:
    path = os.pathsep.join(filter(None, [package, os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [*prefix, *FLEETGEN, *map(str, args)],
        cwd=cwd,
        env={**ENV, "HOME": str(cwd), "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=600,
    )


def _works(*command: str) -> bool:
    try:
        return subprocess.run(list(command), capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@functools.cache
def _other_user_cannot_run_fleetgen() -> str:
    """Why fleetgen cannot run as ``nobody`` here (dependencies it may not read), or "". Asked once, when the
    first test needs it, not at collection."""
    package = _package_another_user_can_read()
    probe = _as(package, _DROP_ROOT, ["--version"], Path(package))
    return "" if probe.returncode == 0 else f"nobody cannot run fleetgen's interpreter: {probe.stderr[-300:]}"


other_user = pytest.mark.skipif(ROOT_USER and not shutil.which("setpriv"), reason="needs setpriv to drop root")
mount_namespace = pytest.mark.skipif(
    not _works("unshare", "-m", "true"), reason="needs a private mount namespace (unshare -m) for real mounts"
)


def world_readable(top: Path) -> None:
    for path in [top, *top.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.fixture
def public():
    """A directory another user can reach (pytest's own tmp dirs are 0700), holding a rendered fleet.

    Made and used under umask 077, as CI's clone is: what the test gives the other user is made
    readable explicitly (``world_readable``), never by relying on the umask."""
    umask = os.umask(0o077)
    top = Path(tempfile.mkdtemp(prefix="fleetgen-faults-"))
    try:
        (top / "fleet.yaml").write_text(FLEET)
        assert run("render", top / "fleet.yaml").exit_code == 0
        assert (top / "fleet.yaml").stat().st_mode & 0o077 == 0  # the scenario: nothing readable by others yet
        world_readable(top)
        yield top
    finally:
        os.umask(umask)
        for path in [top, *top.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(top)


# ---------------------------------------------------------------- lost updates


def test_concurrent_add_clusters_serialise_and_keep_every_cluster(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET)
    names = [f"new-{i}" for i in range(4)]
    holder = os.open(fleet, os.O_RDONLY)  # as a runbook command in progress holds it
    fcntl.flock(holder, fcntl.LOCK_EX)
    procs = [
        subprocess.Popen(
            [*FLEETGEN, *[a.format(name=n) for a in ADD], str(fleet)],
            env=ENV,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for n in names
    ]
    try:
        for proc in procs:  # every one of them is waiting for the lock, none has read the file yet
            assert "waiting for another fleetgen command that is editing" in first_stderr_line(proc)
    finally:
        os.close(holder)
    outcomes = [(*proc.communicate(timeout=600), proc.returncode) for proc in procs]  # never blocks on a full pipe
    outcomes = [(code, out, err) for out, err, code in outcomes]
    assert [code for code, _, _ in outcomes] == [0] * 4, outcomes
    assert all(f"updated {fleet}" in out for _, out, _ in outcomes)
    text = fleet.read_text()
    assert all(f"  - name: {name}\n" in text for name in [*names, "prod-a", "prod-b", "stage-a"])
    linted = run("lint", fleet)  # each allocated from the file the previous one wrote: no overlapping CIDRs
    assert linted.exit_code == 0 and "0 errors" in linted.output, linted.output
    pods = sorted(line.split("pods: ")[1].split(",")[0] for line in text.splitlines() if "network: {pods:" in line)
    assert pods == [f"10.{i}.0.0/16" for i in range(7)]  # the pool's next four /16s, one per new cluster


@pytest.mark.parametrize("command", sorted(EDITS))
def test_every_runbook_command_edits_the_file_the_lock_holder_wrote(tmp_path, command):
    """Each runbook command reads fleet.yaml only under its lock: the result is the same as running it
    after the holder's edit, never the holder's edit lost."""
    # prod-b on Docker: upgrade writes a minor, which a GKE cluster would refuse (gke-version)
    first = FLEET.replace("    provider: {type: gcp, project: example-project}\n", "    provider: {type: docker}\n")
    first = first.replace('    kubernetesVersion: "1.30.2"\n', "")
    later = first.replace("replicas: 6", "replicas: 9")  # what the holder writes meanwhile
    assert first != FLEET and later != first
    expected, racing = tmp_path / "expected", tmp_path / "racing"
    for top in (expected, racing):
        top.mkdir()
        (top / "fleet.yaml").write_text(first)
        assert run("render", top / "fleet.yaml").exit_code == 0
    (expected / "fleet.yaml").write_text(later)
    sequential = run(*EDITS[command], expected / "fleet.yaml")
    assert sequential.exit_code == 0, sequential.output
    fleet = racing / "fleet.yaml"
    holder = os.open(fleet, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    proc = subprocess.Popen(
        [*FLEETGEN, *EDITS[command], str(fleet)], env=ENV, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert "waiting for another fleetgen command that is editing" in first_stderr_line(proc)
        (racing / "edited").write_text(later)
        os.replace(racing / "edited", fleet)  # as a runbook command replaces it
    finally:
        os.close(holder)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0 and f"updated {fleet}" in out, err
    assert fleet.read_text() == (expected / "fleet.yaml").read_text() != later


KUBECONFIG = ROOT / "tests" / "imports" / "kubeconfig.yaml"


def test_import_waits_for_the_fleet_lock_and_merges_into_the_file_the_holder_wrote(tmp_path):
    """``fleetgen import`` reads fleet.yaml only once it holds the lock: an edit made meanwhile survives."""
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET)
    holder = os.open(fleet, os.O_RDONLY)  # a runbook command in progress
    fcntl.flock(holder, fcntl.LOCK_EX)
    proc = subprocess.Popen(
        [*FLEETGEN, "import", str(KUBECONFIG), "--fleet", str(fleet), "--environment", "staging"],
        env=ENV,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert "waiting for another fleetgen command that is editing" in first_stderr_line(proc)
        edited = tmp_path / "edited"  # what the holder writes: a new file renamed over fleet.yaml
        edited.write_text(FLEET.replace("replicas: 6", "replicas: 9"))
        os.replace(edited, fleet)
    finally:
        os.close(holder)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 1, err  # lint: the kubeconfig holds no CIDRs; the file is written all the same
    assert f"updated {fleet}" in out and "Traceback" not in err
    text = fleet.read_text()
    assert "replicas: 9" in text and "replicas: 6" not in text  # the holder's edit is kept
    assert all(f"  - name: {name}\n" in text for name in ("prod-a", "stage-a", "prod-aps1", "kind-dev"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fleet.yaml"]


def test_import_keeps_the_fleet_files_line_ends_and_bom(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_bytes(b"\xef\xbb\xbf" + FLEET.replace("\n", "\r\n").encode())
    result = run("import", KUBECONFIG, "--fleet", fleet, "--environment", "staging")
    assert "updated" in result.output, result.output
    data = fleet.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"  - name: kind-dev\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")  # no bare LF: every line end is CRLF


def test_import_that_cannot_write_leaves_the_fleet_unchanged(tmp_path, monkeypatch):
    from fleetgen import tree

    def full(candidate, target, new_mode=0o644):
        candidate.unlink()
        raise OSError(28, os.strerror(28), str(target))

    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET)
    monkeypatch.setattr(tree, "replace_file", full)
    result = CliRunner().invoke(cli, ["import", str(KUBECONFIG), "--fleet", str(fleet)])
    assert result.exit_code == 2, result.output
    assert result.output.endswith(
        f"fleetgen: cannot write {fleet} in {tmp_path}: No space left on device — {fleet} is unchanged\n"
    ), result.output
    assert fleet.read_text() == FLEET and sorted(p.name for p in tmp_path.iterdir()) == ["fleet.yaml"]


def test_import_never_creates_over_a_fleet_that_appeared_meanwhile(tmp_path, monkeypatch):
    """The fleet file did not exist when import looked; another command created it before import wrote:
    import merges into that file under its lock instead of replacing it."""
    from fleetgen import tree

    fleet = tmp_path / "fleet.yaml"
    create = tree.create_file

    def raced(target, data, mode=0o644):
        fleet.write_text(FLEET)  # the other command wins the race
        monkeypatch.setattr(tree, "create_file", create)
        create(target, data, mode)

    monkeypatch.setattr(tree, "create_file", raced)
    result = CliRunner().invoke(cli, ["import", str(KUBECONFIG), "--fleet", str(fleet), "--environment", "staging"])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    text = fleet.read_text()
    assert text.startswith(FLEET.split("clusters:")[0])  # the other command's file, extended
    assert all(f"  - name: {name}\n" in text for name in ("prod-a", "stage-a", "prod-aps1", "kind-dev"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fleet.yaml"]


# ---------------------------------------------------------------- full, read-only and forbidden filesystems


@other_user
@pytest.mark.parametrize("command", sorted(EDITS))
def test_runbook_commands_in_a_directory_they_may_not_write(public, command):
    fleet = public / "fleet.yaml"
    before = snapshot(public)
    public.chmod(0o555)
    result = as_other_user([*EDITS[command], fleet], public)
    assert result.returncode == 2, result.stderr
    assert result.stderr.endswith(
        "fleetgen: cannot write fleet.yaml in .: Permission denied — fleet.yaml is unchanged\n"
    ), result.stderr  # paths as typed: relative to the working dir
    assert "Traceback" not in result.stderr
    assert snapshot(public) == before


@mount_namespace
def test_add_cluster_on_a_full_disk(tmp_path):
    disk, saved = tmp_path / "disk", tmp_path / "saved"
    disk.mkdir()
    saved.mkdir()
    script = (
        f'mount -t tmpfs -o size=256k tmpfs {disk} && printf %s "$FLEET" > {disk}/fleet.yaml && '
        f"(dd if=/dev/zero of={disk}/filler bs=4k 2>/dev/null; true) && "
        f"{' '.join(FLEETGEN)} {' '.join(a.format(name='new-a') for a in ADD)} {disk}/fleet.yaml; "
        f"code=$?; cp -a {disk}/. {saved}/; exit $code"
    )
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", script], env={**ENV, "FLEET": FLEET}, capture_output=True, text=True, timeout=600
    )
    fleet = disk / "fleet.yaml"
    assert result.returncode == 2, result.stderr
    assert result.stderr.endswith(
        f"fleetgen: cannot write {fleet} in {disk}: No space left on device — {fleet} is unchanged\n"
    ), result.stderr
    assert sorted(p.name for p in saved.iterdir()) == ["filler", "fleet.yaml"]  # no temporary file left
    assert (saved / "fleet.yaml").read_text() == FLEET


@mount_namespace
def test_add_cluster_on_a_read_only_filesystem(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET)
    before = snapshot(tmp_path)
    script = (
        f"mount --bind {tmp_path} {tmp_path} && mount -o remount,bind,ro {tmp_path} && "
        f"{' '.join(FLEETGEN)} {' '.join(a.format(name='new-a') for a in ADD)} {fleet}"
    )
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], env=ENV, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2, result.stderr
    assert result.stderr.endswith(
        f"fleetgen: cannot write {fleet} in {tmp_path}: Read-only file system — {fleet} is unchanged\n"
    ), result.stderr
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------------- a rendered tree the user may not change


@other_user
def test_render_into_a_read_only_tree_refuses_before_swapping_and_recovers(public):
    fleet, out = public / "fleet.yaml", public / "rendered"
    if ROOT_USER:
        os.chown(public, NOBODY, NOBODY)  # the user owns the repository, not rendered/ (root's, mode 555)
    fleet.write_text(FLEET.replace("replicas: 6", "replicas: 9"))
    out.chmod(0o555)
    before = snapshot(public)
    for _ in range(2):  # the second run finds the same state, not a leftover
        result = as_other_user(["render", fleet], public)
        assert result.returncode == 2, result.stderr
        owner = f"owner uid {0 if ROOT_USER else os.geteuid()}"
        assert (
            f"fleetgen: cannot write {out}: {out} is not writable (Permission denied: mode 0555, {owner}, "
            f"this is uid {NOBODY if ROOT_USER else os.geteuid()}) — the previous tree is unchanged" in result.stderr
        ), result.stderr
        assert "Traceback" not in result.stderr
        assert snapshot(public) == before
    out.chmod(0o755)
    if ROOT_USER:
        for path in [out, *out.rglob("*")]:
            os.chown(path, NOBODY, NOBODY)
    result = as_other_user(["render", fleet], public)
    assert result.returncode == 0 and "written" in result.stdout, result.stderr
    assert run("check", fleet).exit_code == 0


@other_user
def test_render_removes_a_read_only_leftover_an_older_run_left(public):
    """What an older fleetgen left after swapping a mode-555 tree in: the next render cleans it up."""
    fleet = public / "fleet.yaml"
    leftover = public / ".rendered.fleetgen-staging"
    shutil.copytree(public / "rendered", leftover)
    for path in [public, *public.rglob("*")]:
        if ROOT_USER:
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    for directory in [leftover / "hub", leftover]:
        directory.chmod(0o555)
    fleet.write_text(FLEET.replace("replicas: 6", "replicas: 9"))
    result = as_other_user(["render", fleet], public)
    assert result.returncode == 0, result.stderr
    assert not leftover.exists()
    assert run("check", fleet).exit_code == 0


# ---------------------------------------------------------------- one lock per output directory


def test_renders_into_sibling_directories_do_not_conflict(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET)
    x, y = tmp_path / "a" / "x", tmp_path / "a" / "y"
    assert run("render", fleet, "--out", x).exit_code == 0
    holder = os.open(x, os.O_RDONLY | os.O_DIRECTORY)  # a render of a/x in progress holds this lock
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        into_y = run("render", fleet, "--out", y)
        assert into_y.exit_code == 0 and f"into {y}" in into_y.output, into_y.output
        fleet.write_text(FLEET.replace("replicas: 6", "replicas: 9"))
        before = snapshot(x)
        into_x = CliRunner().invoke(cli, ["render", str(fleet), "--out", str(x)])
        assert into_x.exit_code == 2
        assert into_x.output == f"fleetgen: another fleetgen render is writing {x}; wait for it to finish\n"
        assert snapshot(x) == before
    finally:
        os.close(holder)
    assert run("render", fleet, "--out", x).exit_code == 0
    assert snapshot(x) != before


def test_a_failed_first_render_leaves_no_empty_directory(tmp_path, monkeypatch):
    from fleetgen import swap

    def full(*_):
        raise OSError(28, os.strerror(28))

    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET)
    monkeypatch.setattr(swap, "_write_file", full)
    result = CliRunner().invoke(cli, ["render", str(fleet)])
    assert result.exit_code == 2 and "No space left on device — the previous tree is unchanged" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fleet.yaml"]


# ---------------------------------------------------------------- Ctrl-C


HOLD_BEFORE_SWAP = """
import sys, time
from pathlib import Path
from fleetgen import swap
from fleetgen.main import cli

def held(staging, out, exchange=swap._exchange):
    Path(sys.argv[1]).write_text("staged")  # the staging tree is complete: now press Ctrl-C
    time.sleep(3600)
    exchange(staging, out)

swap._exchange = held
cli(sys.argv[2:], prog_name="fleetgen")
"""


def test_ctrl_c_while_writing_exits_130_and_leaves_nothing_behind(tmp_path, monkeypatch):
    from fleetgen import cachedir

    monkeypatch.delenv("FLEETGEN_CACHE_DIR")  # this process and the held one: .fleetgen-cache beside the tree
    fleet, flag = tmp_path / "fleet.yaml", tmp_path.parent / f"{tmp_path.name}.staged"
    fleet.write_text(FLEET)
    assert run("render", fleet).exit_code == 0
    fleet.write_text(FLEET.replace("replicas: 6", "replicas: 9"))
    before = snapshot(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_BEFORE_SWAP, str(flag), "render", str(fleet)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while not flag.exists() and proc.poll() is None:
        time.sleep(0.01)
    standby = cachedir.standby(tmp_path / "rendered")
    assert snapshot(standby) != snapshot(tmp_path / "rendered")  # the new tree is staged in the standby tree
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 130, err
    assert err.endswith("fleetgen: interrupted\n") and "Traceback" not in err, err

    def outside_the_cache(tree):
        return {rel: data for rel, data in tree.items() if not rel.startswith(cachedir.NAME)}

    assert outside_the_cache(snapshot(tmp_path)) == outside_the_cache(before)  # nothing left, the tree intact
    assert run("render", fleet).exit_code == 0 and run("check", fleet).exit_code == 0


# ---------------------------------------------------------------- fleet paths that are not regular files


@pytest.mark.parametrize("args", [["lint"], ["render"], [a.format(name="new-a") for a in ADD]])
def test_a_fifo_is_refused_not_waited_on(tmp_path, args):
    fifo = tmp_path / "fleet.yaml"
    os.mkfifo(fifo)
    result = subprocess.run([*FLEETGEN, *args, str(fifo)], env=ENV, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2
    assert result.stderr == (
        f"fleetgen: {fifo}: is a named pipe (FIFO), not a regular file: fleetgen reads the "
        "fleet only from a regular file\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fleet.yaml"]


def test_a_device_is_refused():
    result = run("lint", "/dev/null")
    assert result.exit_code == 2
    assert result.output == (
        "fleetgen: /dev/null: is a character device, not a regular file: fleetgen reads the "
        "fleet only from a regular file\n"
    )
