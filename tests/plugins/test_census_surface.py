"""Every ComfyUI module symbol that two or more of the ten census packs use
(tests/data/comfy-module-surface.md, a copy of shared/reference) is importable from NodeFlow's
shims under its ComfyUI name, with a callable where ComfyUI has a function or class. The ones
NodeFlow knowingly lacks are listed with the reason and must fail with a message naming them."""

import importlib
import re
from pathlib import Path

import pytest

from nodeflow.comfy_compat import install

CENSUS = (Path(__file__).resolve().parents[1] / "data" / "comfy-module-surface.md").read_text()
ENTRY = re.compile(r"^\*\*`([\w.]+)`\*\* — (\d+) packs?, \d+ uses?[^\n]*\n- signature: `([^`]*)`", re.M)
ENTRIES = [(name, int(packs), signature) for name, packs, signature in ENTRY.findall(CENSUS)]
SHARED = [(name, signature) for name, packs, signature in ENTRIES if packs >= 2]
# absent on purpose: each raises an error that names it (see docs/plugins.md)
LACKING: dict[str, str] = {}


def _resolve(dotted: str):
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"no module for {dotted}")


def test_the_census_was_read():
    assert len(ENTRIES) >= 250 and len(SHARED) >= 60


@pytest.mark.parametrize("name,signature", SHARED, ids=[n for n, _ in SHARED])
def test_symbol_used_by_two_or_more_packs_is_provided(name, signature):
    install()
    if name in LACKING:
        with pytest.raises((ImportError, AttributeError)) as err:
            _resolve(name)
        assert name.rsplit(".", 1)[-1] in str(err.value)
        return
    value = _resolve(name)
    if signature.startswith(("def(", "async def(", "class")):
        assert callable(value), f"{name} should be callable ({signature})"
