"""The import direction of README's "Layers": a module imports only from its own group or a lower layer.

Every import counts, including those inside functions (lazy) and under ``TYPE_CHECKING``: a lazy
import hides a cycle from Python, not from the design.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "generator" / "fleetgen"

# (rank, group) per module prefix, the longest prefix wins. A module may import its own group and any
# lower rank; two groups of one rank (lint and plan) may not import each other.
LAYERS: dict[str, tuple[int, str]] = {
    # leaf utilities: import nothing of fleetgen above them
    "fleetgen": (0, "leaf"),
    "fleetgen.errors": (0, "leaf"),
    "fleetgen.findings": (0, "leaf"),
    "fleetgen.emit": (0, "leaf"),
    "fleetgen.hints": (0, "leaf"),
    "fleetgen.stages": (0, "leaf"),
    "fleetgen.listkeys": (0, "leaf"),
    "fleetgen.links": (0, "leaf"),
    "fleetgen.versions": (0, "leaf"),
    "fleetgen.labels": (0, "leaf"),
    "fleetgen.compose": (0, "leaf"),
    "fleetgen.secrets": (0, "leaf"),
    "fleetgen.deferred": (0, "leaf"),
    "fleetgen.cachedir": (0, "leaf"),
    "fleetgen.atomic": (0, "leaf"),
    "fleetgen.fork": (0, "leaf"),
    "fleetgen.exiting": (0, "leaf"),
    # reading fleet.yaml's text
    "fleetgen.construct": (1, "load"),
    "fleetgen.load": (1, "load"),
    "fleetgen.documents": (1, "load"),
    "fleetgen.sources": (1, "load"),
    "fleetgen.chunks": (1, "load"),
    "fleetgen.upstream": (1, "load"),  # the vendored schemas: validating rendered YAML documents
    # the model and the facts derived from it that several layers share
    "fleetgen.model": (2, "model"),
    "fleetgen.selectors": (2, "model"),
    "fleetgen.schema": (2, "model"),
    "fleetgen.allocate": (2, "model"),
    "fleetgen.destinations": (2, "model"),
    "fleetgen.overriders": (2, "model"),
    "fleetgen.machines": (2, "model"),
    "fleetgen.rollout": (2, "model"),
    "fleetgen.settled": (2, "model"),
    "fleetgen.tracing": (2, "model"),  # what a computation reads of the model: keys of render units and lint rules
    # what the model means: findings about it, and what the controllers will do with it
    "fleetgen.lint": (3, "lint"),
    "fleetgen.lintcache": (3, "lint"),  # the rules' findings kept by render for the next command
    "fleetgen.plan": (3, "plan"),
    # documents for the rendered tree
    "fleetgen.render": (4, "render"),
    "fleetgen.patches": (4, "render"),
    # writing, checking and comparing trees
    "fleetgen.produce": (5, "output"),
    "fleetgen.tree": (5, "output"),
    "fleetgen.swap": (5, "output"),
    "fleetgen.drift": (5, "output"),
    "fleetgen.diff": (5, "output"),
    "fleetgen.destroy": (5, "output"),
    "fleetgen.gitbase": (5, "output"),
    "fleetgen.pipeline": (5, "output"),
    "fleetgen.importer": (5, "output"),
    "fleetgen.scaffold": (5, "output"),
    "fleetgen.edit": (5, "output"),
    "fleetgen.extras": (5, "output"),
    "fleetgen.workload_replicas": (5, "output"),
    "fleetgen.units": (5, "output"),
    "fleetgen.incremental": (5, "output"),
    "fleetgen.survey": (5, "output"),
    # text, JSON, SARIF, markdown for people and machines
    "fleetgen.report": (6, "report"),
    # the command line
    "fleetgen.commands": (7, "cli"),
    "fleetgen.main": (7, "cli"),
    "fleetgen.__main__": (7, "cli"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, name: str | None = None) -> set[str]:
    """Every fleetgen module the file imports, anywhere in it; ``from . import x`` names module x.

    ``name``: the module the file stands for (default: where it is in the package).
    """
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join([*base, node.module] if node.module else base)
            found.add(target)
            found |= {f"{target}.{a.name}" for a in node.names if _is_module(f"{target}.{a.name}")}
    return {m for m in found if m == "fleetgen" or m.startswith("fleetgen.")}


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def layer(module: str) -> tuple[int, str]:
    prefix = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[prefix]


def allowed(source: str, target: str) -> bool:
    (rank, group), (to_rank, to_group) = layer(source), layer(target)
    return group == to_group or to_rank < rank


def back_edges(modules: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{src} -> {dst} ({layer(src)[1]} -> {layer(dst)[1]})"
        for src, targets in modules.items()
        for dst in targets
        if not allowed(src, dst)
    )


def test_every_module_is_in_a_layer_on_purpose():
    """A new top-level module must be placed in LAYERS (and README's list), not fall into the root's leaf."""
    top = {".".join(module_name(p).split(".")[:2]) for p in PACKAGE.rglob("*.py")} - {"fleetgen"}
    assert sorted(top - LAYERS.keys()) == []


def test_no_module_imports_a_higher_layer():
    modules = {module_name(p): imported(p) for p in PACKAGE.rglob("*.py")}
    assert back_edges(modules) == []


@pytest.mark.parametrize(
    "source, body, edge",
    [
        # the two back-edges this layering removed, written the way they were: lazily and at the top
        (
            "lint/placement.py",
            "def f():\n    from ..render.karmada import unsupported_patches\n",
            "fleetgen.lint.placement -> fleetgen.render.karmada (lint -> render)",
        ),
        (
            "plan/applications.py",
            "from ..render.argocd import destination_server\n",
            "fleetgen.plan.applications -> fleetgen.render.argocd (plan -> render)",
        ),
        ("lint/hub.py", "from .. import plan\n", "fleetgen.lint.hub -> fleetgen.plan (lint -> plan)"),
        ("model.py", "import fleetgen.report.text\n", "fleetgen.model -> fleetgen.report.text (model -> report)"),
    ],
)
def test_a_back_edge_is_reported(tmp_path, source, body, edge):
    copy = tmp_path / Path(source).name
    copy.write_text(body)
    name = module_name(PACKAGE / source)
    assert back_edges({name: imported(copy, name)}) == [edge]


def test_layers_are_written_down_in_the_readme():
    readme = (PACKAGE.parent.parent / "README.md").read_text(encoding="utf-8")
    for group in {g for _, g in LAYERS.values()}:
        assert f"**{group}**" in readme
