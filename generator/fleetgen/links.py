"""Links from the pull-request comment to the rendered files on GitHub.

Taken from the environment GitHub Actions sets: ``GITHUB_SERVER_URL`` (``https://github.com``),
``GITHUB_REPOSITORY`` (``owner/name``) and the head commit: the pull request's head SHA from the
event payload (``GITHUB_EVENT_PATH``, ``pull_request.head.sha``) when there is one, else
``GITHUB_SHA``. On a ``pull_request`` event ``GITHUB_SHA`` is GitHub's temporary merge commit,
so the payload's head SHA is preferred: it is the commit the reviewer is looking at. A file
that the change removes is linked at the base commit instead, where it still exists. Without all
three values there are no links.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote

_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_SERVER = re.compile(r"https://[A-Za-z0-9.-]+(:[0-9]+)?")


@dataclass(frozen=True)
class Links:
    head: str  # URL of the rendered directory at the head commit, ending in /
    base: str  # the same at the base commit

    def url(self, file: str, removed: bool = False) -> str:
        return (self.base if removed else self.head) + quote(file)


def pr_head(event_path: str | None) -> str | None:
    """``pull_request.head.sha`` of the event payload, None when there is no readable pull-request event."""
    if not event_path:
        return None
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
        return str(event["pull_request"]["head"]["sha"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def from_environment(
    env: Mapping[str, str], head_dir: PurePosixPath, base_dir: PurePosixPath, base_commit: str
) -> Links | None:
    """Links when the GitHub variables are set and well-formed, else None."""
    server, repo = env.get("GITHUB_SERVER_URL", ""), env.get("GITHUB_REPOSITORY", "")
    sha = pr_head(env.get("GITHUB_EVENT_PATH")) or env.get("GITHUB_SHA", "")
    if not (_SERVER.fullmatch(server) and _REPO.fullmatch(repo) and _SHA.fullmatch(sha)):
        return None
    blob = f"{server}/{repo}/blob"
    return Links(f"{blob}/{sha}/{_dir(head_dir)}", f"{blob}/{base_commit}/{_dir(base_dir)}")


def _dir(path: PurePosixPath) -> str:
    text = path.as_posix()
    return "" if text in ("", ".") else quote(text) + "/"
