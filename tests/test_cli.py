"""The CLI: every lint format, exit codes, usage errors, colour rules, and the rule listing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleetgen import __version__
from fleetgen.lint import RULES
from fleetgen.main import cli

from tests.conftest import ADD_EKS_PROD_C

ROOT = Path(__file__).resolve().parents[1]
BAD = (ROOT / "tests" / "fleets" / "base.yaml").read_text().replace("meshID: 2}", "meshID: 1}")


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def bad_fleet(tmp_path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(BAD)
    return path


def test_clean_example_exits_zero():
    result = run("lint", str(ROOT / "fleet.yaml"))
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


def test_repo_example_exits_zero():
    assert run("lint", str(ROOT / "fleet.yaml")).exit_code == 0


def test_contract_example_fails_only_the_provider_readiness_rules():
    # The platform guide's fleet has a GKE minor, EKS VPCs on CAPA's one default (10.0.0.0/16), AKS's managed
    # VNet 10.224.0.0/12 inside GKE's auto-mode 10.128.0.0/9, and a GKE cluster whose only pool is GPU-tainted
    # (its header says so). Its edge cluster is in pull mode and its hub has no provider: the principal's
    # Service would be ClusterIP (principal-unreachable, a warning). Its Thanos v0.36.1 sidecar cannot read
    # Prometheus 3's configuration (thanos-version). Its AKS cluster (a tunnel) is a ClusterMesh member beside
    # natively routed EKS and GKE ones (mesh-datapath, a warning).
    body = json.loads(run("lint", str(ROOT / "examples" / "fleet.yaml"), "--format", "json").output)
    rules = {"gke-version", "node-network-overlap", "untainted-pool", "principal-unreachable", "thanos-version"}
    rules.add("mesh-datapath")
    assert {f["rule"] for f in body["findings"]} == rules
    assert [f["line"] for f in body["findings"] if f["rule"] == "gke-version"] == [30]  # defaults: "1.30"


ADD_TO_EXAMPLE = (*ADD_EKS_PROD_C, "--dry-run")


def test_add_cluster_allocates_from_the_repository_fleets_pools():
    result = run(*ADD_TO_EXAMPLE, str(ROOT / "fleet.yaml"))
    assert result.exit_code == 0, result.output
    # Hand-checked against fleet.yaml: pods 10.0.0.0/9 by /16 (10.16/14 and up are taken: 10.0/16 is
    # free), services 10.128.0.0/12 by /20, nodes 172.16.0.0/12 by /16 (172.16-172.21 taken),
    # mesh ids 1, 2, 3, 10, 20, 30, 100 taken.
    network = "{pods: 10.0.0.0/16, services: 10.128.0.0/20, nodes: 172.22.0.0/16, meshID: 4}"
    assert f"+    network: {network}\n" in result.output


def test_add_cluster_on_the_contract_example_is_refused_only_for_its_deliberate_findings(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_bytes((ROOT / "examples" / "fleet.yaml").read_bytes())
    result = run(*ADD_TO_EXAMPLE, str(fleet))
    assert result.exit_code == 1
    rules = set(re.findall(r"error\[([a-z-]+)\]", result.output))
    # no `allocation`: the pools are there; thanos-version is the example's old Thanos image
    assert rules == {"gke-version", "node-network-overlap", "untainted-pool", "thanos-version"}


def test_text_is_compiler_style(bad_fleet):
    result = run("lint", str(bad_fleet))
    assert result.exit_code == 1
    assert re.search(rf"^{re.escape(str(bad_fleet))}:29:67: error\[mesh-id\] ", result.output, re.M)
    assert "fix:" in result.output and "\x1b[" not in result.output


def test_json_matches_the_contract(bad_fleet):
    body = json.loads(run("lint", str(bad_fleet), "--format", "json").output)
    (finding,) = body["findings"]
    assert set(finding) >= {"rule", "severity", "message", "file", "line", "column", "path"}
    assert finding["path"] == "clusters[1].network.meshID" and body["summary"]["errors"] == 1


def test_github_workflow_commands(bad_fleet):
    out = run("lint", str(bad_fleet), "--format", "github").output
    assert out.startswith(f"::error file={bad_fleet},line=29,col=67,title=mesh-id::")


def test_sarif(bad_fleet):
    sarif = json.loads(run("lint", str(bad_fleet), "--format", "sarif").output)
    assert sarif["version"] == "2.1.0"
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in RULES]
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "mesh-id" and rules[result["ruleIndex"]]["id"] == "mesh-id"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 29, "startColumn": 67}
    assert result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 21


def test_validate_is_schema_only(bad_fleet):
    assert run("validate", str(bad_fleet)).exit_code == 0  # a mesh-id clash is lint's business


@pytest.mark.parametrize("args", [["lint", "--format", "xml"], ["lint", "--nope"], ["frobnicate"]])
def test_bad_option_exits_two(args):
    assert run(*args).exit_code == 2


def test_missing_file_exits_two(tmp_path):
    result = run("lint", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2 and "no such file" in result.output


def test_directory_exits_two(tmp_path):
    assert run("lint", str(tmp_path)).exit_code == 2


def test_syntax_error_exits_one(tmp_path):
    path = tmp_path / "fleet.yaml"
    path.write_text("a: [\n")
    result = run("lint", str(path))
    assert result.exit_code == 1 and "error[yaml-syntax]" in result.output


def test_rules_lists_every_rule():
    out = run("rules").output
    for r in RULES:
        assert f"{r.id} ({r.severity})" in out
    assert json.loads(run("rules", "--format", "json").output)[0]["id"] == "yaml-syntax"


def test_version():
    assert __version__ in run("--version").output


def test_colour_only_on_a_tty(monkeypatch):
    from fleetgen.report import text

    class Tty:
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert text.use_colour(Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not text.use_colour(Tty())


def test_readme_rule_table_is_generated_from_the_registry():
    from fleetgen.commands.rules import as_markdown

    readme = (ROOT / "README.md").read_text()
    assert as_markdown() in readme, "README rule table is stale: paste `fleetgen rules --format markdown`"


def test_lint_takes_several_files(tmp_path, bad_fleet):
    body = json.loads(run("lint", str(ROOT / "fleet.yaml"), str(bad_fleet), "--format", "json").output)
    assert [f["file"] for f in body["findings"]] == [str(bad_fleet)]


def test_lint_imports_only_what_lint_needs():
    """Commands are imported when run (fleetgen.commands.COMMANDS): start-up is part of every pre-commit lint."""
    import subprocess
    import sys

    probe = (
        "import sys\nfrom fleetgen.main import cli\n"
        f"try:\n    cli(['lint', {str(ROOT / 'fleet.yaml')!r}])\nexcept SystemExit as exc:\n    print(exc.code)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('fleetgen.commands.', 'fleetgen.render', "
        "'fleetgen.diff', 'fleetgen.importer', 'fleetgen.plan', 'fleetgen.produce', 'fleetgen.upstream.manifests'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    assert out.splitlines()[-2:] == ["0", "['fleetgen.commands.common', 'fleetgen.commands.lint']"]


def test_every_command_is_listed_and_loads():
    from fleetgen.commands import COMMANDS

    listed = re.findall(r"^  ([a-z][a-z-]*)\s", run("--help").output.split("Commands:")[1], re.MULTILINE)
    assert listed == sorted(COMMANDS) and len(listed) == 15
    for name in COMMANDS:
        assert run(name, "--help").exit_code == 0, name


def fleetgen_process(*args: str, prelude: str = "", **kwargs):
    """``python -m fleetgen ARGS`` as the console script runs it (``fleetgen.main.run``), after ``prelude``."""
    import subprocess
    import sys

    code = f"import sys\n{prelude}\nsys.argv = ['fleetgen', *{list(args)!r}]\nfrom fleetgen.main import run\nrun()\n"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, **kwargs)


def test_the_console_script_keeps_exit_codes_output_and_atexit_handlers(bad_fleet):
    """``run`` ends the process with os._exit (no heap teardown): every exit code, all of standard output and error
    and the atexit handlers (coverage's, a library's) must come through as from a normal exit."""
    clean = fleetgen_process("lint", "fleet.yaml", prelude="import atexit\natexit.register(print, 'atexit ran')")
    assert (clean.returncode, clean.stdout) == (0, "0 errors, 0 warnings\natexit ran\n")
    findings = fleetgen_process("lint", str(bad_fleet), "--format", "json")
    assert findings.returncode == 1 and json.loads(findings.stdout)["findings"]  # the whole JSON document
    assert fleetgen_process("lint", "no-such-fleet.yaml").returncode == 2
    assert fleetgen_process("no-such-command").returncode == 2  # click's usage error
    rules = fleetgen_process("rules")  # longer than a pipe's buffer: flushed before the exit
    assert rules.returncode == 0 and rules.stdout == run("rules").output and len(rules.stdout) > 4096
    message = fleetgen_process("lint", "fleet.yaml", prelude="import atexit, sys\natexit.register(sys.exit, 'bye')")
    assert message.returncode == 0  # an atexit handler's SystemExit changes nothing, as at a normal exit


def test_a_reader_that_leaves_early_is_an_exit_status_never_a_traceback():
    """A closed pipe while the command writes is click's exit 1; one found only by the final flush (output an atexit
    handler left in the buffer) is CPython's 120. Neither prints a traceback."""
    import os
    import subprocess
    import sys

    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before anything is written
    try:
        early = subprocess.run(
            [sys.executable, "-m", "fleetgen", "rules"], stdout=writer, stderr=subprocess.PIPE, text=True, cwd=ROOT
        )
    finally:
        os.close(writer)
    assert early.returncode == 1 and "Traceback" not in early.stderr
    late = fleetgen_process(
        "lint",
        "fleet.yaml",
        prelude="import atexit, io\nclass Gone(io.StringIO):\n    gone = False\n"
        "    def flush(self):\n        if self.gone:\n            raise BrokenPipeError(32, 'Broken pipe')\n"
        "out = sys.stdout = Gone()\natexit.register(setattr, out, 'gone', True)",
    )
    assert late.returncode == 120 and late.stderr == ""


@pytest.mark.parametrize("closed", [1, 2])
def test_a_command_started_with_stdout_or_stderr_closed_keeps_its_exit_code(tmp_path, closed, bad_fleet):
    """CPython then sets sys.stdout (or sys.stderr) to None: nothing to flush, and the command's own exit code
    (0 clean, 1 findings), as with a normal exit; ``render`` still writes its tree."""
    import os
    import subprocess
    import sys

    def started(*args: str) -> int:
        command = [sys.executable, "-m", "fleetgen", *args]
        return subprocess.run(command, cwd=ROOT, preexec_fn=lambda: os.close(closed)).returncode

    assert started("lint", "fleet.yaml") == 0
    assert started("lint", str(bad_fleet)) == 1
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text((ROOT / "fleet.yaml").read_text())
    assert started("render", str(fleet)) == 0 and (tmp_path / "rendered" / ".fleetgen.lock").is_file()


def test_the_console_script_leaves_a_commands_objects_and_the_cyclic_collector_for_the_exit():
    """What ``run`` skips at the end: freeing the model one object at a time, and a last pass of the cyclic collector
    over everything the command made (both would cost 0.1 s at 5,000 clusters); in-process, nothing is held."""
    probe = (
        "import atexit, gc\nfrom fleetgen import exiting\n"
        "atexit.register(lambda: print(len(exiting._kept), gc.isenabled()))"
    )
    ran = fleetgen_process("lint", "fleet.yaml", prelude=probe)
    assert ran.returncode == 0 and ran.stdout.splitlines()[-1] == "1 False"
    from fleetgen import exiting

    assert run("lint", "fleet.yaml").exit_code == 0 and exiting._kept == []
