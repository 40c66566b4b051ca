"""fleetgen init: a new repository that lints, renders and checks clean at once; fleetgen schema."""

from __future__ import annotations

import json

from click.testing import CliRunner
from fleetgen import __version__
from fleetgen.main import cli


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_init_then_lint_render_check_pass_in_an_empty_directory(tmp_path, monkeypatch):
    repo = tmp_path / "platform-gitops"
    result = run("init", str(repo))
    assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file())
    assert files == [
        ".github/workflows/fleetgen.yaml",
        ".pre-commit-config.yaml",
        "README.md",
        "fleet.schema.json",
        "fleet.yaml",
    ]
    fleet = (repo / "fleet.yaml").read_text()
    assert fleet.startswith("# yaml-language-server: $schema=./fleet.schema.json\n")
    assert "name: platform-gitops\n" in fleet and "  allocation:\n    pods: 10.0.0.0/8\n" in fleet
    hooks = (repo / ".pre-commit-config.yaml").read_text()
    # this test's fleetgen is an editable install, with no commit recorded: the release tag, and how to check it
    assert f"    rev: v{__version__}  # the release tag of fleetgen {__version__}: if `git ls-remote" in hooks
    assert "id: fleetgen-lint" in hooks
    workflow = (repo / ".github/workflows/fleetgen.yaml").read_text()
    assert f'  FLEETGEN_REF: "v{__version__}"  # the release tag of fleetgen' in workflow and "SET-ME" not in workflow
    assert json.loads((repo / "fleet.schema.json").read_text())["$id"].endswith("fleet.schema.json")
    monkeypatch.chdir(repo)
    for command in ("lint", "render", "check"):
        outcome = run(command)
        assert outcome.exit_code == 0, (command, outcome.output)
    added = run(
        "add-cluster",
        "dev-a",
        "--environment",
        "development",
        "--region",
        "local",
        "--provider",
        "docker",
        "--nodes",
        "workers=docker:1:3",
    )
    assert added.exit_code == 0, added.output  # network.allocation is there for add-cluster


def test_init_refuses_to_overwrite(tmp_path):
    (tmp_path / "README.md").write_text("mine\n")
    result = run("init", str(tmp_path))
    assert result.exit_code == 2 and "README.md" in result.output and "never overwrites" in result.output
    assert (tmp_path / "README.md").read_text() == "mine\n" and not (tmp_path / "fleet.yaml").exists()


def test_init_rejects_a_name_that_is_no_dns_label(tmp_path):
    assert run("init", str(tmp_path), "--name", "Bad_Name").exit_code == 2


def test_schema_prints_the_shipped_schema_byte_for_byte():
    from pathlib import Path

    shipped = (Path(__file__).resolve().parents[1] / "schemas" / "fleet.schema.json").read_text()
    result = run("schema")
    assert result.exit_code == 0 and result.output == shipped
    assert "lifecycle" in json.loads(result.output)["$defs"]["cluster"]["properties"]


class Installed:
    """A fleetgen distribution as importlib.metadata sees it, with the given direct_url.json."""

    def __init__(self, direct_url: str | None):
        self.direct_url = direct_url

    def read_text(self, name: str) -> str | None:
        return self.direct_url if name == "direct_url.json" else None


def test_init_pins_the_commit_pip_installed_fleetgen_from(tmp_path, monkeypatch):
    """``pip install "fleetgen @ git+URL@REF"`` records the commit (PEP 610): the hooks and CI pin it."""
    from fleetgen import scaffold

    sha = "0123456789abcdef0123456789abcdef01234567"
    vcs = {"url": "https://github.com/fleetgen/fleetgen", "vcs_info": {"vcs": "git", "commit_id": sha}}
    monkeypatch.setattr(scaffold, "distribution", lambda name: Installed(json.dumps(vcs)))
    assert run("init", str(tmp_path / "repo")).exit_code == 0
    hooks = (tmp_path / "repo" / ".pre-commit-config.yaml").read_text()
    assert f"    rev: {sha}  # the fleetgen commit that wrote this file (fleetgen {__version__})\n" in hooks
    workflow = (tmp_path / "repo" / ".github/workflows/fleetgen.yaml").read_text()
    assert f'  FLEETGEN_REF: "{sha}"  #' in workflow
    # anything else (an editable or wheel install, a malformed record): the release tag
    for raw in ('{"dir_info": {"editable": true}, "url": "file:///src"}', "not json", None, '{"vcs_info": []}'):
        monkeypatch.setattr(scaffold, "distribution", lambda name, raw=raw: Installed(raw))
        assert scaffold.pin()[0] == f"v{__version__}"


def test_init_creates_every_file_or_none(tmp_path, monkeypatch):
    import os

    from fleetgen import tree

    create = tree.create_file

    def full_at_fleet(target, data, mode=0o644):
        if target.name == "fleet.yaml":
            raise OSError(28, os.strerror(28), str(target))
        create(target, data, mode)

    repo = tmp_path / "repo"
    monkeypatch.setattr(tree, "create_file", full_at_fleet)
    result = CliRunner().invoke(cli, ["init", str(repo)])
    assert result.exit_code == 2
    reason = "cannot create: No space left on device; nothing was created"
    assert result.output == f"fleetgen: {repo}/fleet.yaml: {reason}\n"
    assert list(tmp_path.iterdir()) == []  # the files made before, .github/workflows and repo itself are gone


def test_init_never_overwrites_a_file_that_appears_meanwhile(tmp_path, monkeypatch):
    from fleetgen import tree

    create = tree.create_file

    def raced(target, data, mode=0o644):
        if target.name == "README.md":
            target.write_text("mine\n")  # written by someone else after init checked
        create(target, data, mode)

    monkeypatch.setattr(tree, "create_file", raced)
    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output == (
        f"fleetgen: {tmp_path}/README.md: cannot create: already exists; init never overwrites; nothing was created\n"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"] and (tmp_path / "README.md").read_text() == "mine\n"
