"""Hostile fleet files: each gives positioned findings and exit 1, in bounded time and memory."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "fleet.yaml").read_text()
GIB = 1 << 30


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (GIB, GIB))  # "well under 1 GiB": a run over it dies and fails


def lint(path: Path, *extra: str) -> subprocess.CompletedProcess:
    # timeout is a hang guard, not a benchmark: these finish in well under a second
    return subprocess.run(
        [sys.executable, "-m", "fleetgen", "lint", str(path), "--format", "json", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_memory,
    )


def alias_bomb() -> bytes:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    return ("\n".join(lines) + "\n").encode()


HOSTILE: dict[str, bytes] = {
    "empty": b"",
    "binary": bytes(range(256)) * 4,
    "invalid utf-8": EXAMPLE.encode().replace(b"example-platform", b"example-\xc3\x28platform"),
    "tabs": EXAMPLE.replace("  name: hub", "\tname: hub").encode(),
    "alias bomb": alias_bomb(),
    "5000-deep nesting": b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "5000-deep block nesting": "".join(f"{'  ' * i}k{i}:\n" for i in range(5000)).encode(),
    "30-digit integer": EXAMPLE.replace("replicas: 60", "replicas: 123456789012345678901234567890").encode(),
    "lookalike name": EXAMPLE.replace("name: prod-us-east-1", "name: prod-us-eаst-1").encode(),  # Cyrillic а
    "bidi control": EXAMPLE.replace("region: us-east-1", 'region: "us-east-1\u202e"', 1).encode(),
    "template syntax": EXAMPLE.replace("namespace: production", 'namespace: "{{ .Values.x }}"', 1)
    .replace("path: charts/api-gateway", 'path: "${HOME}/{{lookup}}"')
    .encode(),
    "many documents": b"a: 1\n---\nb: 2\n",
    "top-level list": b"- 1\n- 2\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_gives_positioned_findings(tmp_path, name):
    path = tmp_path / "fleet.yaml"
    path.write_bytes(HOSTILE[name])
    result = lint(path)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert findings and all(f["line"] >= 1 and f["column"] >= 1 and f["file"] == str(path) for f in findings)


def test_template_syntax_is_a_finding_only_where_it_is_invalid(tmp_path):
    path = tmp_path / "fleet.yaml"
    path.write_bytes(HOSTILE["template syntax"])
    findings = json.loads(lint(path).stdout)["findings"]
    assert [f["path"] for f in findings] == ["applicationSets[0].namespace"]  # a path may hold any text


def rendered_elements(tmp_path, text: str) -> list[dict]:
    """Render ``text`` with the CLI; the List elements of the example's multi-app set."""
    import yaml

    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "fleetgen", "render", str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "rendered" / "hub" / "argocd" / "applicationsets" / "platform-charts.yaml").read_text()
    (appset,) = [d for d in yaml.safe_load_all(text) if d["kind"] == "ApplicationSet"]
    return appset["spec"]["generators"][0]["matrix"]["generators"][1]["list"]["elements"]


def test_template_actions_cannot_be_injected_into_applicationsets(tmp_path):
    elements = rendered_elements(
        tmp_path, EXAMPLE.replace("path: charts/api-gateway", 'path: "charts/{{.server}}/{{.metadata}}"')
    )
    assert 'charts/{{"{{"}}.server}}/{{"{{"}}.metadata}}' in [e["path"] for e in elements]
    # plain Applications (pull-mode clusters) are not templates: the literal text is what Argo CD syncs


def test_100_mb_file_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "fleet.yaml"
    with path.open("wb") as fh:
        fh.write(b"a: " + b"x" * (100 * 2**20) + b"\n")
    result = lint(path)
    (finding,) = json.loads(result.stdout)["findings"]
    assert result.returncode == 1 and finding["rule"] == "yaml-syntax" and "MiB" in finding["message"]


def test_missing_and_unreadable_paths_exit_two(tmp_path):
    result = lint(tmp_path / "missing.yaml")
    assert result.returncode == 2 and "no such file" in result.stderr and "Traceback" not in result.stderr
    assert lint(tmp_path).returncode == 2


def test_secret_material_renders_nothing(tmp_path):
    path = tmp_path / "fleet.yaml"
    path.write_text(
        EXAMPLE.replace("  name: hub\n", "  name: hub\n  # fleetgen: ignore[schema]\n").replace(
            "objectStorageSecret: thanos-objstore",
            'objectStorageSecret: thanos-objstore\n    password: "aB3$xY9!qW2#eR5%"',
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "fleetgen", "render", str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1 and "secret-material" in result.stderr
    assert "aB3$xY9!qW2#eR5%" not in result.stderr + result.stdout
    assert not (tmp_path / "rendered").exists()


def test_template_actions_cannot_be_injected_through_helm_values_or_parameters(tmp_path):
    hostile = (
        '{name: api-gateway, path: charts/api-gateway, helm: {values: {"{{.server}}": {a: "{{.name}}"}}, '
        'parameters: [{name: "{{.x}}", value: "{{.metadata}}"}]}}'
    )
    elements = rendered_elements(tmp_path, EXAMPLE.replace("{name: api-gateway, path: charts/api-gateway}", hostile))
    # the Matrix renders keys and values at every depth of an element: all of them are escaped
    assert elements[0]["helm"] == {
        "parameters": [{"name": '{{"{{"}}.x}}', "value": '{{"{{"}}.metadata}}'}],
        "valuesObject": {'{{"{{"}}.server}}': {"a": '{{"{{"}}.name}}'}},
    }


def test_the_invisible_character_prefilter_sees_every_control_character():
    """schema._may_hide skips the invisible-character walk; on ASCII text it deletes the visible bytes."""
    from fleetgen.schema import _may_hide

    hidden_ascii = {*range(0, 9), *range(11, 32), 127, 92}  # C0 controls but tab and newline, DEL; "\\" escapes
    for code in range(128):
        assert _may_hide(f"name: a{chr(code)}b\n") is (code in hidden_ascii), code
    for char, hides in (("\u202e", True), ("\u200b", True), ("\x85", True), ("\ufeff", True), ("é", False)):
        assert _may_hide(f"name: a{char}b\n") is hides, repr(char)
    assert _may_hide("") and _may_hide('name: "\\u202e"\n')  # an escape can make one
