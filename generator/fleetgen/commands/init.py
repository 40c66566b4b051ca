"""``fleetgen init [DIR]``: a new GitOps repository in one command; it never overwrites a file."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click

from ..errors import FleetgenError
from ..scaffold import default_name, files

_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


@click.command("init")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), default=".", required=False)
@click.option("--name", help="Fleet name (a DNS-1123 label; default: the directory's name).")
@click.option("--repo-url", default=None, help="The git URL Argo CD pulls this repository from.")
def command(directory: Path, name: str | None, repo_url: str | None) -> int:
    """Create fleet.yaml, its schema, pre-commit hooks, the CI workflow and a README in DIRECTORY."""
    name = name or default_name(directory)
    if not _NAME.fullmatch(name):
        raise click.BadParameter(f"{name!r} is not a DNS-1123 label", param_hint="--name")
    texts = files(name, repo_url or f"https://git.example.com/{name}.git")
    existing = sorted(p for p in texts if (directory / p).exists() or (directory / p).is_symlink())
    if existing:
        raise FleetgenError(
            f"{directory}: {', '.join(existing)} already exist(s); init never overwrites. "
            "Use `fleetgen import` to extend an existing fleet"
        )
    for rel, text in texts.items():
        _create(directory / rel, text)
        click.echo(f"created {directory / rel}")
    click.echo(
        "next: set repo.url in fleet.yaml, add clusters (fleetgen add-cluster / fleetgen import), "
        "fleetgen render, commit"
    )
    return 0


def _create(path: Path, text: str) -> None:
    """Write a new file; O_EXCL, so a file that appeared meanwhile is never replaced."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except OSError as exc:
        raise FleetgenError(f"{path}: cannot create: {exc.strerror}") from None
