"""``fleetgen init [DIR]``: a new GitOps repository in one command; it never overwrites a file."""

from __future__ import annotations

import re
from pathlib import Path

import click

from .. import tree
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
    created = _create_all(directory, texts)
    for path in created:
        click.echo(f"created {path}")
    click.echo(
        "next: set repo.url in fleet.yaml, add clusters (fleetgen add-cluster / fleetgen import), "
        "fleetgen render, commit"
    )
    return 0


def _create_all(directory: Path, texts: dict[str, str]) -> list[Path]:
    """Every file or none: each created atomically and never over an existing one (``tree.create_file``);
    when one fails (it appeared meanwhile, a full disk, a directory it may not write) the files this
    run created are removed again and the directories it made, if empty."""
    created: list[Path] = []
    made: list[Path] = []
    path = directory
    try:
        for rel, text in texts.items():
            path = directory / rel
            made += reversed([p for p in (path.parent, *path.parent.parents) if not p.exists()])
            path.parent.mkdir(parents=True, exist_ok=True)
            tree.create_file(path, text.encode("utf-8"))
            created.append(path)
    except OSError as exc:
        for done in created:
            done.unlink(missing_ok=True)
        for folder in reversed(made):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        reason = "already exists; init never overwrites" if isinstance(exc, FileExistsError) else exc.strerror
        raise FleetgenError(f"{path}: cannot create: {reason}; nothing was created") from None
    return created
