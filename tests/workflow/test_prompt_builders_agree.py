"""One prompt: the editor's buildPrompt (web/js/model/prompt.js, run under node) and the server's
to_api_prompt (nodeflow/workflow/to_api.py) turn the same workflows into the same API prompt.

Each fixture goes the way the editor takes it: a ComfyUI file through the server's converter into
the NodeFlow format (as the editor's loader does), loaded into the editor's Graph, built into a
prompt. Workflows with subgraphs are flattened first (the editor hands those to the server's
converter, so the builders meet on the flattened graph). Fixtures: every workflow under
tests/data/workflows, the editor's examples and its default workflow, with both NodeFlow's
/object_info and ComfyUI's core one.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from nodeflow.schema.registry import builtin_registry
from nodeflow.workflow.convert import to_nodeflow
from nodeflow.workflow.subgraphs import flatten
from nodeflow.workflow.to_api import to_api_prompt

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "js" / "build_prompt.mjs"
FIXTURES = [
    *sorted((ROOT / "tests" / "data" / "workflows").glob("*.json")),
    *sorted((ROOT / "web" / "examples").glob("*.json")),
    ROOT / "web" / "default_workflow.json",
]

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the editor's modules")


def object_infos(env) -> dict[str, dict]:
    return {
        "nodeflow": builtin_registry().object_info(env),
        "comfyui-core": json.loads((ROOT / "tests" / "data" / "core_nodes_object_info.json").read_text()),
    }


def editor_prompts(object_info: dict, workflows: dict[str, dict], tmp_path: Path) -> dict[str, dict]:
    request = tmp_path / "workflows.json"
    request.write_text(json.dumps({"object_info": object_info, "workflows": workflows}))
    done = subprocess.run(["node", str(SCRIPT), str(request)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("info_name", ["nodeflow", "comfyui-core"])
def test_editor_and_server_build_the_same_prompt(env, tmp_path, info_name):
    object_info = object_infos(env)[info_name]
    workflows = {}
    for path in FIXTURES:
        workflow, _ = to_nodeflow(json.loads(path.read_text()), object_info)
        workflows[f"{path.parent.name}/{path.name}"] = flatten(workflow)
    assert len(workflows) >= 9
    server = {name: to_api_prompt(workflow, object_info)[0] for name, workflow in workflows.items()}
    editor = editor_prompts(object_info, workflows, tmp_path)
    assert set(editor) == set(server)
    for name in workflows:
        assert server[name], f"{name}: an empty prompt compares nothing"
        assert editor[name] == server[name], name


def test_the_cases_fixture_exercises_what_it_is_for(env):
    """prompt_builder_cases.json holds the hard cases; pin what the server makes of them, so a
    change that made both builders wrong in the same way would still be seen."""
    object_info = object_infos(env)["comfyui-core"]
    path = ROOT / "tests" / "data" / "workflows" / "prompt_builder_cases.json"
    workflow, _ = to_nodeflow(json.loads(path.read_text()), object_info)
    prompt, _ = to_api_prompt(workflow, object_info)
    assert set(prompt) == {"1", "2", "3", "4", "5", "6", "7", "12", "15", "16", "17"}  # muted, bypassed, editor-only,
    assert (
        prompt["12"]["inputs"] == {}
    )  # unknown left out; an input fed by a muted node is left out (validation says so)
    assert prompt["5"]["inputs"]["latent_image"] == ["4", 0]  # through the bypassed upscale
    assert prompt["5"]["inputs"]["seed"] == 42 and prompt["5"]["inputs"]["steps"] == 12  # primitive, converted widget
    assert "old_widget" not in prompt["5"]["inputs"]
    assert prompt["6"]["inputs"] == {"samples": ["5", 0], "vae": ["1", 2]}  # links through reroutes
    assert prompt["4"]["inputs"] == {"width": 512, "height": 512, "batch_size": 1}  # defaults filled
    assert prompt["15"]["inputs"] == {"images": ["6", 0]}  # a bypassed IMAGE node passes its input through
    assert prompt["16"]["inputs"]["scale_by"] == 1.0  # a null widget value is no value: the default
    assert prompt["17"]["inputs"]["device"] == "default"  # an optional widget gets its default, as in the editor
    assert prompt["2"]["_meta"]["title"] == "Positive"
    assert prompt["3"]["_meta"]["title"] == object_info["CLIPTextEncode"]["display_name"]
