"""``fleetgen plan``: what Argo CD and Karmada will do with the fleet, computed offline."""

from __future__ import annotations

import json

import click

from .. import pipeline, tree
from ..errors import FleetgenError
from ..plan import build_plan
from ..plan.adoption import adoptions
from ..report import LINT_FORMATS, plan_text
from .common import colour, fleet_argument, format_option, out_option, write_stdout


def parse_uids(values: tuple[str, ...], workloads: set[str]) -> dict[str, str]:
    """``WORKLOAD=UID`` pairs; a malformed pair or an unknown workload is a usage error."""
    uids = {}
    for value in values:
        workload, sep, uid = value.partition("=")
        if not sep or not workload or not uid:
            raise FleetgenError(f"--uid {value!r}: expected WORKLOAD=UID, e.g. --uid checkout=4858ca61-…")
        if workload not in workloads:
            raise FleetgenError(
                f"--uid {value!r}: no workload named {workload!r} (known: {', '.join(sorted(workloads)) or 'none'})"
            )
        uids[workload] = uid
    return uids


def check_failed(failed: tuple[str, ...], clusters: set[str]) -> list[str]:
    unknown = sorted(set(failed) - clusters)
    if unknown:
        raise FleetgenError(f"--fail {unknown[0]}: no cluster of that name in the fleet")
    return sorted(set(failed))


@click.command("plan")
@fleet_argument
@out_option
@click.option(
    "--fail",
    "failed",
    multiple=True,
    metavar="CLUSTER",
    help="Preview failover: the split once CLUSTER is lost (repeatable).",
)
@click.option(
    "--uid",
    "uids",
    multiple=True,
    metavar="WORKLOAD=UID",
    help="The workload object's UID, which decides Karmada's tie order (repeatable).",
)
@format_option("text", "json", "markdown")
def command(fleet, out, failed, uids, fmt) -> int:
    """Preview Applications, Karmada placements, failover, pending clusters and upgrade waves."""
    loaded = pipeline.load_and_lint(fleet, out)
    if not loaded.ok:
        write_stdout(LINT_FORMATS.get(fmt, LINT_FORMATS["text"])(loaded.findings, colour=colour()))
        return 1
    model = loaded.model
    lost = check_failed(failed, {c.name for c in model.clusters})
    uid_map = parse_uids(uids, {w.name for w in model.workloads})
    lock = tree.read_lock(out or pipeline.output_dir(fleet, model))
    plan = build_plan(model, lock.versions, lost, uid_map, adoptions(model, lock.files, lock.versions))
    if fmt == "json":
        write_stdout(json.dumps(plan.as_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        write_stdout((plan_text.markdown if fmt == "markdown" else plan_text.text)(plan, lost))
    return 0
