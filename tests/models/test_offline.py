"""No node fetches URLs: the model code never imports a network client, every from_pretrained is
local-only, and the Hugging Face libraries run in offline mode."""

import os
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "nodeflow"
NETWORK = re.compile(r"\b(urllib\.request|urlopen|requests\.|httpx|hf_hub_download|snapshot_download|aiohttp)\b")


def test_model_and_node_code_has_no_network_calls():
    offenders = []
    for folder in ("models", "nodes", "sampling", "engine", "demo", "imaging"):
        for path in (PACKAGE / folder).rglob("*.py"):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if NETWORK.search(line.split("#")[0]):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert offenders == []


def test_from_pretrained_is_always_local_only():
    calls = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        for match in re.finditer(r"from_pretrained\(", text):
            call = text[match.start() : text.index(")", match.start()) + 200]
            calls.append((path.name, "local_files_only=True" in call))
    assert calls and all(ok for _, ok in calls), calls


def test_hugging_face_libraries_are_offline():
    import nodeflow.models  # noqa: F401 -- importing it is what sets the offline variables

    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
