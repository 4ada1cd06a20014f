"""First run: the editor opens on the bundled demo workflow (prompt expansion -> encode -> sample
-> decode -> upscale -> save) and it runs offline on the demo pack, producing a 256x256 picture."""

import numpy as np
import pytest
import torch
from PIL import Image

from nodeflow.demo.judge import load_judge
from nodeflow.demo.plan import pack_path

pytestmark = pytest.mark.slow  # Chromium editor tests (the fast tier keeps two of tests/web/test_editor_e2e.py)


def test_default_workflow_runs_on_the_demo_pack(page, server):
    types = page.evaluate("() => [...window.nodeflow.graph.nodes.values()].map(n => n.type)")
    assert "ExpandPrompt" in types and "KSampler" in types and "SaveImage" in types
    page.click("#queue-button")
    save = page.evaluate("() => [...window.nodeflow.graph.nodes.values()].find(n => n.type === 'SaveImage').id")
    page.wait_for_function("(id) => window.nodeflow.app.state.runtime.images.has(id)", arg=save, timeout=120000)
    outputs = sorted((server["base"] / "output").glob("NodeFlow_*.png"))
    assert outputs
    with Image.open(outputs[-1]) as img:
        assert img.size == (256, 256)
        picture = torch.from_numpy(np.array(img.convert("RGB"))).float()[None] / 255
    # a recognisable picture of the prompt ("red star"), as the demo pack's judge sees it
    assert load_judge(pack_path("judge")).classify(picture) == [("red", "star")]
