"""``fleetgen diff --format markdown``: the pull-request comment.

Layout: a summary table, the plan delta (tables), then the manifests: one collapsible
``<details>`` for the changes repeated identically across clusters (each shown once with its
cluster list) and one ``<details>`` per cluster for the rest, where a change made identically to several
documents of one kind is shown once with their names (``diff.per_cluster``).

GitHub rejects a comment over 65,536 characters. Every section is a list of blocks; when the
whole does not fit, the budget is shared out between sections (small sections keep everything,
big ones split what is left), each section keeps whole blocks while they fit, cuts the next one
between lines, always closes its code fence, and says what it left out. Sizes are counted in
UTF-8 bytes, which is never less than GitHub's character count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..diff import DocumentDiff, FleetDiff, Repeated, Shared, group_shared, per_cluster
from ..gitbase import SHORT
from ..links import Links
from ..plan.applications import Application
from ..plan.delta import PlanDelta
from .diff_text import (
    MARK,
    change_line,
    cluster_list,
    destroy_headline,
    destroy_items,
    moved,
    repeated_head,
    shared_lines,
    summary,
    where_files,
)
from .plan_text import PLACEMENTS_TITLE, table

LIMIT = 65_536
MARKER = "<!-- fleetgen diff -->"  # first line: the workflow finds its own comment by it and updates it
MARGIN = 512  # headroom for the notes added while cutting
MIN_BLOCK = 4096  # a cut block shows at least this much (about 30 lines), else it is only counted
NOTE_ROOM = 256  # room kept for a section's "… N more not shown" note
LIMIT_NOTE = "to fit GitHub's comment limit"
CUT_HINT = "run `fleetgen diff --base {ref}` locally for everything"


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def fence_for(lines: Iterable[str]) -> str:
    """A backtick fence longer than any backtick run inside, so no value can close it early."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


@dataclass(frozen=True)
class Block:
    """A unit of output that may be cut between ``lines``: head, lines, close (fence), tail.

    A line may itself be a Block (a document inside a cluster's block), which is cut in turn when
    it is the first that does not fit whole.
    """

    head: str
    lines: tuple[str | Block, ...]
    close: str = ""
    tail: str = ""
    what: str = "lines"  # what a line is, for the note when cut

    def full(self) -> str:
        return self.head + "".join(_text(line) for line in self.lines) + self.close + self.tail

    def cut(self, budget: int, hint: str) -> str | None:
        """As many lines as fit in ``budget`` bytes, with the fence closed and a note; None if none fit."""
        fixed = size(self.head) + size(self.close) + size(self.tail) + NOTE_ROOM + size(hint)
        kept, used = [], fixed
        for line in self.lines:
            text = _text(line)
            if used + size(text) > budget:
                part = line.cut(budget - used, hint) if isinstance(line, Block) else None
                kept += [part] if part else []
                break
            kept.append(text)
            used += size(text)
        if not kept:
            return None
        note = f"\n_… {len(self.lines) - len(kept)} more {self.what} cut {LIMIT_NOTE}; {hint}._\n"
        return self.head + "".join(kept) + self.close + note + self.tail


def _text(line: str | Block) -> str:
    return line.full() if isinstance(line, Block) else line


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]
    what: str  # what a block is, for the note when blocks are left out

    def full(self) -> str:
        return self.title + "".join(b.full() for b in self.blocks)

    def fit(self, budget: int, hint: str) -> str:
        """The section in ``budget`` bytes: the first blocks that can each show at least MIN_BLOCK
        (or all of themselves) share the room; small ones whole, big ones cut; the rest are counted."""
        room = budget - size(self.title) - NOTE_ROOM - size(hint)
        sizes = [size(b.full()) for b in self.blocks]
        shown = _prefix_within([min(s, MIN_BLOCK) for s in sizes], room)
        parts = [
            b.full() if s <= share else b.cut(share, hint)
            for b, s, share in zip(self.blocks, sizes, allot(sizes[:shown], room), strict=False)
        ]
        left = len(self.blocks) - sum(p is not None for p in parts)
        note = f"\n_… {left} more {self.what} not shown {LIMIT_NOTE}; {hint}._\n\n" if left else ""
        return self.title + "".join(p for p in parts if p) + note


def _prefix_within(floors: list[int], room: int) -> int:
    """How many leading blocks fit when each needs at least its floor."""
    total = 0
    for count, floor in enumerate(floors):
        total += floor
        if total > room:
            return count
    return len(floors)


def allot(sizes: list[int], total: int) -> list[int]:
    """Share ``total`` between sections: each gets its size or an equal share of what is left."""
    shares, left = [0] * len(sizes), total
    order = sorted(range(len(sizes)), key=lambda i: sizes[i])
    for rank, i in enumerate(order):
        shares[i] = min(sizes[i], left // (len(sizes) - rank))
        left -= shares[i]
    return shares


# ---------------------------------------------------------------- building the blocks


def details(summary_html: str, lines: list[str], what: str = "lines") -> Block:
    fence = fence_for(lines)
    head = f"<details><summary>{summary_html}</summary>\n\n{fence}diff\n"
    return Block(head, tuple(f"{ln}\n" for ln in lines), f"{fence}\n", "\n</details>\n\n", what)


def table_block(title: str, header: list[str], rows: list[list[str]], what: str) -> Block:
    first, rule, *body = table(header, rows)
    return Block(f"#### {title}\n\n{first}\n{rule}\n", tuple(f"{r}\n" for r in body), "", "\n", what)


def _app_row(what: str, app: Application) -> list[str]:
    return [what, f"`{app.name}`", app.application_set, f"`{app.path}` → `{app.server}`"]


def plan_sections(plan: PlanDelta) -> list[Section]:
    apps = [_app_row("added", a) for a in plan.applications_added]
    apps += [_app_row("removed", a) for a in plan.applications_removed]
    apps += [_app_row("changed", new) for _, new in plan.applications_changed]
    moves = [[w, c, moved(o, n)] for w, m in plan.placements.items() for c, (o, n) in m.items()]
    waves = [[str(w.number), w.source, w.target, cluster_list(w.clusters, 50)] for w in plan.upgrades or ()]
    parts = [
        ("Applications", ["", "Application", "ApplicationSet", "destination"], apps, "applications"),
        (PLACEMENTS_TITLE, ["workload", "cluster", "replicas"], moves, "placements"),
        ("Upgrade waves", ["wave", "from", "to", "clusters"], waves, "waves"),
    ]
    blocks = tuple(table_block(t, h, r, w) for t, h, r, w in parts if r)
    return [Section("### Plan\n\n", blocks, "tables")] if blocks else []


def shared_section(shared: list[Shared]) -> list[Section]:
    blocks = tuple(details(f"<code>{s.ident}</code> in {len(s.clusters)} clusters", shared_lines(s)) for s in shared)
    title = f"#### The same change in several clusters ({len(shared)})\n\n"
    return [Section(title, blocks, "repeated changes")] if blocks else []


def _file(file: str, status: str, links: Links | None) -> str:
    return f"[{file}]({links.url(file, status == 'removed')})" if links else f"`{file}`"


def _changes_block(head: str, lines: list[str]) -> Block:
    fence = fence_for(lines)
    return Block(f"{head}{fence}diff\n", tuple(f"{line}\n" for line in lines), f"{fence}\n", "\n", "changes")


def document_block(doc: DocumentDiff, links: Links | None) -> str | Block:
    """A document's line (its file linked when ``links``), then its field changes in a diff block."""
    head = f"`{MARK[doc.status]} {doc.ident}` · {_file(doc.file, doc.status, links)}\n\n"
    return _changes_block(head, [change_line(c) for c in doc.changes]) if doc.changes else head


def repeated_block(item: Repeated, links: Links | None) -> Block:
    """Changes made to several documents of one kind: the kind and count, the changes once, then the
    documents' names (the first 30 and how many more)."""
    where = where_files(item, lambda file: _file(file, item.status, links))
    lines = [*(change_line(c) for c in item.changes), f"in {len(item.documents)} documents: {cluster_list(item.names)}"]
    return _changes_block(f"`{repeated_head(item)}` · {where}\n\n", lines)


def cluster_section(rest: list[DocumentDiff], links: Links | None) -> list[Section]:
    grouped = per_cluster(rest)
    blocks = tuple(
        Block(
            f"<details><summary><code>{cluster}</code>: {summary(changes.documents)}</summary>\n\n",
            tuple(
                repeated_block(entry, links) if isinstance(entry, Repeated) else document_block(entry, links)
                for entry in changes.entries
            ),
            "",
            "</details>\n\n",
            "documents",
        )
        for cluster, changes in grouped.items()
    )
    return [Section(f"#### Per cluster ({len(grouped)})\n\n", blocks, "clusters")] if blocks else []


def manifest_sections(documents: tuple[DocumentDiff, ...], links: Links | None = None) -> list[Section]:
    """The repeated changes, then each cluster's own; the first section carries the heading."""
    shared, rest = group_shared(documents)
    sections = [*shared_section(shared), *cluster_section(rest, links)]
    if sections:
        first = sections[0]
        sections[0] = replace(first, title=f"### Manifests: {summary(documents)}\n\n{first.title}")
    return sections


# ---------------------------------------------------------------- the comment


def summary_table(result: FleetDiff) -> str:
    plan, docs = result.plan, result.documents
    rows = [
        [
            "Applications",
            f"+{len(plan.applications_added)} / −{len(plan.applications_removed)} / ~{len(plan.applications_changed)}",
        ],
        [
            "Placements",
            f"{sum(len(m) for m in plan.placements.values())} change(s) in {len(plan.placements)} workload(s)",
        ],
        ["Newly pending clusters", cluster_list(plan.pending_added, 10) or "none"],
        ["Registered since base", cluster_list(plan.pending_resolved, 10) or "none"],
        ["Upgrade waves", str(len(plan.upgrades or ()))],
        *([["Cluster API adoption (existing clusters)", cluster_list(plan.adopted, 10)]] if plan.adopted else []),
        *(
            [["**Not adoptable: Cluster API builds a second cluster**", cluster_list(plan.not_adoptable, 10)]]
            if plan.not_adoptable
            else []
        ),
        *(
            [["**Released from Cluster API: deleted unless orphaned first**", cluster_list(plan.released, 10)]]
            if plan.released
            else []
        ),
        ["Manifests", f"{summary(docs)} in {len({d.cluster for d in docs})} cluster(s)"],
    ]
    return "\n".join(table(["", "change"], rows)) + "\n\n"


def destroy_block(result: FleetDiff) -> str:
    """What the change deletes, before anything else: a CAUTION alert, or one line saying nothing is."""
    destroys = result.destroys
    if not destroys.any:
        return f"**{destroy_headline(destroys)}.**\n\n"
    items = "".join(f"> - {line}\n" for line in destroy_items(destroys))
    return f"> [!CAUTION]\n> **{destroy_headline(destroys)}**\n>\n{items}\n"


def header(result: FleetDiff) -> str:
    notes = "".join(f"> [!WARNING]\n> {n}\n\n" for n in result.notes)
    return f"{MARKER}\n## fleetgen diff against {_base(result)}\n\n{destroy_block(result)}{notes}"


def _base(result: FleetDiff) -> str:
    """``merge base `abc…` of `origin/main` and HEAD``: code spans for the commit and the ref."""
    base = result.against
    if base is None:
        return f"`{result.base}`"
    if base.merge_base:
        return f"merge base `{base.commit[:SHORT]}` of `{base.ref}` and HEAD"
    return f"`{base.ref}` (`{base.commit[:SHORT]}`)"


def render(result: FleetDiff, limit: int = LIMIT) -> str:
    top = header(result)
    if result.empty:
        return top + "No differences: the plan and the rendered manifests are unchanged.\n"
    top += summary_table(result)
    sections = [*plan_sections(result.plan), *manifest_sections(result.documents, result.links)]
    hint = CUT_HINT.format(ref=result.base)
    shares = allot([size(s.full()) for s in sections], limit - size(top) - MARGIN)
    body = [
        s.full() if size(s.full()) <= share else s.fit(share, hint) for s, share in zip(sections, shares, strict=True)
    ]
    return top + "".join(body)
