"""Rebuild cases.json from a checkout of yaml/yaml-test-suite's data (maintainers only; CI never runs it).

    git clone https://github.com/yaml/yaml-test-suite
    mkdir /tmp/yts && git -C yaml-test-suite archive data-2022-01-17 | tar -x -C /tmp/yts
    python tests/yaml_suite/vendor.py /tmp/yts > tests/yaml_suite/cases.json

Keeps what tests/test_yaml_suite.py needs: every invalid case (it must be a yaml-syntax finding)
and every valid single-document case whose top level is a mapping (it must load to in.json).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def cases(root: Path):
    for inp in sorted(root.glob("**/in.yaml")):
        case = inp.parent
        events = (case / "test.event").read_text("utf-8").splitlines()
        name = (case / "===").read_text("utf-8").strip()
        ident = str(case.relative_to(root))
        text = inp.read_text("utf-8")
        if (case / "error").exists():
            yield {"id": ident, "name": name, "yaml": text, "error": True}
            continue
        starts = [i for i, e in enumerate(events) if e.startswith("+DOC")]
        if len(starts) != 1 or not events[starts[0] + 1].startswith("+MAP"):
            continue
        entry = {"id": ident, "name": name, "yaml": text, "error": False}
        if (case / "in.json").exists():
            entry["json"] = json.loads((case / "in.json").read_text("utf-8"))
        yield entry


if __name__ == "__main__":
    out = list(cases(Path(sys.argv[1])))
    sys.stdout.write(json.dumps(out, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
