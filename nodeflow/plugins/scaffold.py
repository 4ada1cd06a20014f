"""``python -m nodeflow new-node NAME``: a new plugin pack with a typed node, a web extension and a test."""

from __future__ import annotations

import keyword
from pathlib import Path

INIT = '''"""{name}: a NodeFlow plugin pack."""
from nodeflow.api import Float, Image, Node

WEB_DIRECTORY = "web"


class {cls}(Node):
    """Scale the brightness of an image."""
    name = "{cls}"
    display_name = "{title}"
    category = "{name}"
    version = "1.0"
    inputs = {{"image": Image(), "factor": Float(default=1.0, min=0.0, max=4.0, step=0.05)}}
    outputs = {{"IMAGE": Image()}}

    def run(self, image, factor):
        return (image * factor).clamp(0, 1)


NODES = [{cls}]
'''

WEB = """// Editor extension of the {name} pack (hook API: docs/plugins.md).
const extension = {{ name: "{name}", nodeCreated(node) {{}} }};
if (window.nodeflow && window.nodeflow.registerExtension) window.nodeflow.registerExtension(extension);
else (window.nodeflowPendingExtensions ||= []).push(extension);
"""

TEST = '''"""Tests of the {name} pack: run with python -m pytest {name}/tests"""
import torch

from {name} import {cls}


def test_factor_scales_brightness():
    image = torch.full((1, 2, 2, 3), 0.25)
    assert torch.allclose({cls}().run(image, 2.0), torch.full((1, 2, 2, 3), 0.5))
    assert {cls}().run(image, 8.0).max() <= 1.0
'''

CONFTEST = """import importlib.util
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the folder holding the pack
if importlib.util.find_spec("nodeflow") is None:  # NodeFlow run from its folder, not installed
    sys.path.insert(0, {nodeflow_root!r})
"""
NODEFLOW_ROOT = str(Path(__file__).resolve().parents[2])


def scaffold_pack(dest_dir: Path, name: str) -> Path:
    """Write ``dest_dir/name`` as a pack; refuse names that are not identifiers or exist already."""
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise ValueError(f"{name!r} is not a valid pack name: use letters, digits and _ (e.g. my_nodes)")
    target = dest_dir / name
    if target.exists():
        raise FileExistsError(f"{target} already exists; pick another name or remove it")
    cls = "".join(part.capitalize() for part in name.split("_") if part) + "Node"
    title = " ".join(part.capitalize() for part in name.split("_") if part)
    (target / "web").mkdir(parents=True)
    (target / "tests").mkdir()
    (target / "__init__.py").write_text(INIT.format(name=name, cls=cls, title=title))
    (target / "web" / f"{name}.js").write_text(WEB.format(name=name))
    (target / "tests" / f"test_{name}.py").write_text(TEST.format(name=name, cls=cls))
    (target / "tests" / "conftest.py").write_text(CONFTEST.format(nodeflow_root=NODEFLOW_ROOT))
    return target
