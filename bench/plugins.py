"""Plugin start-up benchmark (prints JSON): how long NodeFlow takes to load ComfyUI-style packs,
and how much of that is NodeFlow's own plugin runtime rather than the packs' code.

Each figure comes from a fresh Python process (cold imports), with torch, numpy and PIL imported
first, since every real pack imports them itself. For each pack in tests/plugins/packs/ plus the
census pack (tests/plugins/comfy_census_pack.py, which imports every ComfyUI symbol the census
lists):
- ``pack_s``: the pack's import time as NodeFlow's loader reports it (PackStatus.import_seconds),
  including the ComfyUI API modules it pulls in the first time;
- ``own_s``: the same pack imported again in the same process once the API modules are loaded
  (its own code; the baseline);
- ``runtime_share``: (pack_s - own_s) / pack_s.
Then the total start-up (builtin registry + every pack) with 1 and with all N packs.
Goal (issue #25): the runtime adds <= 10% to a pack's own import time. The test packs are tiny
(their own code imports in milliseconds), so their share is dominated by the one-time cost of the
API modules (``runtime_once_s_median``), which real packs (0.1-2 s each) amortise.

    python bench/plugins.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKS = ROOT / "tests" / "plugins" / "packs"
CENSUS = ROOT / "tests" / "plugins" / "comfy_census_pack.py"

CHILD = r"""
import json, sys, time, importlib
sys.path.insert(0, {root!r})
import torch, numpy, PIL.Image  # what real packs import themselves
from pathlib import Path
from nodeflow.runtime import build_runtime
start = time.perf_counter()
runtime = build_runtime({base!r}, cpu=True, custom_node_whitelist={names!r})
total = time.perf_counter() - start
statuses = {{s["name"]: s for s in (x.to_dict() for x in runtime.plugin_status)}}
own = {{}}
for name, status in statuses.items():
    if not status["ok"]:
        continue
    for key in [k for k in sys.modules if k == f"custom_nodes.{{name}}" or k.startswith(f"custom_nodes.{{name}}.")]:
        del sys.modules[key]
    from nodeflow.plugins.loader import _import
    t = time.perf_counter()
    _import(name, Path(status["path"]))
    own[name] = time.perf_counter() - t
print(json.dumps({{"total_s": total, "statuses": statuses, "own": own}}))
"""


def run(packs: list[Path]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "custom_nodes"  # the base directory's own custom_nodes/
        folder.mkdir()
        for pack in packs:
            target = folder / pack.name
            (shutil.copytree if pack.is_dir() else shutil.copy)(pack, target)
        code = CHILD.format(root=str(ROOT), base=tmp, names=[p.stem for p in packs])
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    packs = sorted(p for p in PACKS.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists())
    packs = [p for p in packs if "missing" not in p.name] + [CENSUS]
    per_pack = {}
    for pack in packs:
        result = run([pack])
        name = pack.stem
        status = result["statuses"].get(name, {})
        pack_s, own_s = status.get("import_seconds", 0.0), result["own"].get(name)
        per_pack[name] = {
            "ok": status.get("ok", False),
            "pack_s": round(pack_s, 4),
            "own_s": None if own_s is None else round(own_s, 4),
            "runtime_share": None if not pack_s or own_s is None else round(max(0.0, pack_s - own_s) / pack_s, 3),
            "startup_s": round(result["total_s"], 3),
        }
    everything = run(packs)
    runtime_once = sorted(p["pack_s"] - (p["own_s"] or 0.0) for p in per_pack.values() if p["ok"])
    print(
        json.dumps(
            {
                "benchmark": "plugin_startup",
                "packs": len(packs),
                "per_pack": per_pack,
                "startup_one_pack_s": round(min(p["startup_s"] for p in per_pack.values()), 3),
                "startup_all_packs_s": round(everything["total_s"], 3),
                # paid once per process, whatever the number of packs: the ComfyUI API modules' first import
                "runtime_once_s_median": round(runtime_once[len(runtime_once) // 2], 4) if runtime_once else None,
                "all_packs_import_s": round(sum(s["import_seconds"] for s in everything["statuses"].values()), 4),
                "all_packs_own_s": round(sum(everything["own"].values()), 4),
                "target_runtime_share": 0.10,
            }
        )
    )


if __name__ == "__main__":
    main()
