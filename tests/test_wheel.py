"""The built wheel: ``import fleetgen`` and ``python -m fleetgen`` work from it, and the console script is unchanged.

The wheel is built from a copy of the sources (so nothing is written into the checkout) without
build isolation (setuptools comes from the test extra: no package index), then unpacked as pip
unpacks a pure-Python wheel and run from outside the repository, so only the wheel's files are
importable as ``fleetgen``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sources(tmp_path: Path) -> Path:
    """A copy of what a wheel is built from."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "setup.cfg", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "generator", source / "generator", ignore=shutil.ignore_patterns("__pycache__"))
    return source


def build_wheel(source: Path, dist: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-w",
            str(dist),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("fleetgen-*.whl")
    return wheel


def test_a_stale_build_directory_never_reaches_the_wheel(tmp_path):
    """``build/`` left by another revision, with files newer than the sources (kept timestamps): the wheel
    still holds the sources' modules."""
    source = sources(tmp_path)
    stale = source / "build" / "lib" / "fleetgen" / "units.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("raise SystemExit('another revision')\n")
    future = (source / "generator" / "fleetgen" / "units.py").stat().st_mtime + 3600
    os.utime(stale, (future, future))
    wheel = build_wheel(source, tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("fleetgen/units.py") == (source / "generator" / "fleetgen" / "units.py").read_bytes()


def test_the_wheel_imports_runs_and_keeps_the_console_script(tmp_path):
    wheel = build_wheel(sources(tmp_path), tmp_path / "dist")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(site)
    assert "fleetgen/__main__.py" in names and "fleetgen/schemas/fleet.schema.json" in names
    # Render reads the vendored vSphere CSI manifest; validate-rendered the schemas of its kinds.
    assert {
        "fleetgen/templates/vsphere-csi-driver-v3.3.1.yaml",
        "fleetgen/schemas/upstream/storage.k8s.io/csidriver_v1.json",
        "fleetgen/schemas/upstream/storage.k8s.io/storageclass_v1.json",
    } <= set(names)
    assert not any(n.startswith("generator/") for n in names)  # the import name is fleetgen only
    (meta,) = site.glob("fleetgen-*.dist-info")
    assert "[console_scripts]\nfleetgen = fleetgen.main:run\n" in (meta / "entry_points.txt").read_text()

    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import fleetgen; print(fleetgen.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()) == site / "fleetgen" / "__init__.py"
    version = subprocess.run(
        [sys.executable, "-m", "fleetgen", "--version"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout == "fleetgen, version 0.1.0\n"
