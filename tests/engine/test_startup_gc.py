"""Start-up pauses the cyclic collector and freezes what it built (nodeflow.startup_gc); checked in
fresh processes, since frozen objects are never collected."""

import json
import subprocess
import sys

PROBE = """
import gc, json
from nodeflow.startup_gc import paused_then_frozen
if {disabled_before}:
    gc.disable()
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info["generation"]))
with paused_then_frozen():
    inside = gc.isenabled()
    from nodeflow.schema.registry import builtin_registry  # torch and every node module
    registry = builtin_registry()
during = list(collections)
frozen = gc.get_freeze_count()
class Cycle:
    pass
a = Cycle(); a.me = a; del a
found = gc.collect()
print(json.dumps({{"inside": inside, "during": during, "frozen": frozen, "enabled": gc.isenabled(),
                  "found": found, "nodes": len(registry)}}))
"""


def probe(disabled_before: bool) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(disabled_before=disabled_before)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_startup_runs_without_collections_then_freezes_and_collects_new_garbage():
    result = probe(False)
    assert result["nodes"] > 50
    assert result["inside"] is False and result["during"] == []  # no collection while torch and the nodes load
    assert result["frozen"] > 50_000  # what start-up built is frozen: later full collections skip it
    assert result["enabled"] is True
    assert result["found"] >= 1  # a cycle made afterwards is still collected


def test_a_collector_turned_off_before_stays_off():
    result = probe(True)
    assert result["enabled"] is False and result["during"] == []
