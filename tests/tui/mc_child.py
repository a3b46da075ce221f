"""Pane 6 run headless in this process's network namespace, printing what it shows as one JSON
object: the querier table, the note above it, and the findings for GROUP.

The "cannot observe" test runs this under `ip netns exec` of a test namespace with CAP_NET_RAW
dropped, so the real observer meets the real refusal (a process cannot drop a capability for
one of its threads only). Usage: python mc_child.py GROUP
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE)]

from textual.widgets import DataTable, Static  # noqa: E402

from tests.tui.tui_helpers import make_app, type_into, wait_for  # noqa: E402
from udpscope.tui.mc_sources import MulticastSources  # noqa: E402
from udpscope.tui.widgets.findings import FindingsList  # noqa: E402


async def main(group: str) -> dict[str, object]:
    # The real observer: this runs only under `ip netns exec` of a test's namespace.
    app = make_app(binds=[("0.0.0.0", 0)], multicast_sources=MulticastSources())
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("6")
        await wait_for(lambda: type(app.screen).__name__ == "MulticastScreen", 10, what="pane 6", pilot=pilot)
        table = app.screen.query_one("#queriers", DataTable)
        await wait_for(lambda: table.row_count, 10, what="querier rows", pilot=pilot)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        note = str(app.screen.query_one("#querier-note", Static).render())
        await type_into(pilot, "#check-group", group)
        await pilot.press("enter")
        findings = app.screen.query_one(FindingsList)
        await wait_for(lambda: findings.findings, 20, what="findings", pilot=pilot)
        return {"rows": rows, "note": note,
                "findings": {f.id: f.level for f in findings.findings},
                "text": app.screen.findings_text()}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))), flush=True)
