"""Running fleetgen in-process leaves the caller's interpreter as it was (issue 18, "no global side effects")."""

from __future__ import annotations

import gc

import pytest
from click.testing import CliRunner
from fleetgen import produce
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
