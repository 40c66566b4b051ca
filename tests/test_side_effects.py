"""Running fleetgen in-process leaves the caller's interpreter as it was (issue 18, "no global side effects")."""

from __future__ import annotations

import gc
import subprocess
import sys
import types

import pytest
from click.testing import CliRunner
from fleetgen import produce
from fleetgen.deferred import deferred
from fleetgen.main import cli, without_cyclic_gc


@pytest.mark.parametrize("enabled", [True, False])
def test_a_command_restores_the_callers_collector_state(enabled):
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        assert CliRunner().invoke(cli, ["rules", "--format", "json"]).exit_code == 0
        assert gc.isenabled() is enabled
        with pytest.raises(ValueError), without_cyclic_gc():
            assert not gc.isenabled()
            raise ValueError  # restored on the way out of a failure too
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_the_worker_pool_keeps_no_state_in_the_parent(example_fleet):
    parallel = produce.produce(example_fleet, parallel=True)
    assert not hasattr(produce._Worker, "job")  # set in the forked workers only
    assert parallel.files == produce.produce(example_fleet, parallel=False).files


def test_detect_secrets_is_imported_without_requests_and_leaves_sys_modules_as_it_was():
    """fleetgen.deferred: lint never verifies a secret over the network, so it does not pay for importing requests."""
    probe = (
        "import sys; import fleetgen.secrets; import detect_secrets.plugins.base as base\n"
        "print(sorted(m for m in ('requests', 'urllib3', 'http.client', 'multiprocessing') if m in sys.modules))\n"
        "print(base.requests.exceptions.RequestException.__module__)\n"  # the stand-in imports the real module
        "import requests; print(requests.__name__, type(requests).__name__, 'urllib3' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    assert out.splitlines() == ["[]", "requests.exceptions", "requests module True"]


def test_a_deferred_module_already_imported_is_left_alone():
    import json as real

    with deferred("json", "fleetgen_no_such_module"):
        import json

        assert json is real
        assert isinstance(sys.modules["fleetgen_no_such_module"], types.ModuleType)
    assert "fleetgen_no_such_module" not in sys.modules
