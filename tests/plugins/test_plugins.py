"""Plugin packs: a ComfyUI V1 pack used unchanged, the example pack, failures that never stop
loading, name clashes, the status list, scaffolding."""

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.folders import Folders
from nodeflow.graph.validate import validate_prompt
from nodeflow.plugins import loader
from nodeflow.plugins.loader import load_plugins
from nodeflow.plugins.scaffold import scaffold_pack
from nodeflow.schema.registry import builtin_registry

from .v1_pack_source import SOURCE

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def packs(tmp_path):
    folder = tmp_path / "custom_nodes"
    (folder / "v1pack" / "js").mkdir(parents=True)
    (folder / "v1pack" / "__init__.py").write_text(SOURCE)
    (folder / "v1pack" / "js" / "ext.js").write_text("// extension")
    (folder / "broken_syntax.py").write_text("def oops(:\n")
    (folder / "missing_dep.py").write_text("import surely_not_installed_pkg\n")
    (folder / "raises.py").write_text("raise RuntimeError('kaboom at import')\n")
    (folder / "exits.py").write_text("import sys\nsys.exit(3)\n")
    (folder / "slow.py").write_text("import time\ntime.sleep(0.3)\nNODE_CLASS_MAPPINGS = {}\n")
    (folder / "zz_clash.py").write_text(SOURCE.replace('"V1Show": V1Show,', '"ImageInvert": V1Show,'))
    (folder / "off.py.disabled").write_text("raise SystemExit\n")
    (folder / "__pycache__").mkdir()
    return folder


@pytest.fixture
def loaded(packs, tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "SLOW_IMPORT_SECONDS", 0.2)
    registry = builtin_registry()
    statuses = {s.name: s for s in load_plugins(registry, [packs])}
    env = Folders(tmp_path / "base")
    env.ensure()
    return registry, statuses, env


def run(registry, env, prompt):
    events = []
    validation = validate_prompt(registry, env, prompt)
    assert validation.ok, validation.node_errors
    result = Engine(registry, env).execute(
        Job("p", prompt, validation.outputs), lambda t, d: events.append((t, d)), threading.Event()
    )
    return result, events


def test_failing_packs_are_reported_and_do_not_stop_the_others(loaded):
    registry, statuses, _ = loaded
    assert sorted(statuses) == ["broken_syntax", "exits", "missing_dep", "raises", "slow", "v1pack", "zz_clash"]
    assert "SyntaxError" in statuses["broken_syntax"].error
    assert (
        "ModuleNotFoundError" in statuses["missing_dep"].error
        and "surely_not_installed_pkg" in statuses["missing_dep"].error
    )
    assert "kaboom at import" in statuses["raises"].error
    assert "SystemExit" in statuses["exits"].error
    assert statuses["slow"].ok and statuses["slow"].warnings[0].startswith("slow import")
    assert all(not statuses[n].ok for n in ("broken_syntax", "missing_dep", "raises", "exits"))
    assert statuses["v1pack"].ok and statuses["v1pack"].kind == "comfy_v1"
    assert statuses["v1pack"].scripts == ["/extensions/v1pack/ext.js"]
    assert "V1Invert" in registry and "ImageInvert" in registry


def test_clashes_keep_the_first_and_are_reported(loaded):
    registry, statuses, _ = loaded
    clash = statuses["zz_clash"]
    assert any("ImageInvert" in c for c in clash.clashes) and any("V1Invert" in c for c in clash.clashes)
    assert registry.get("ImageInvert").source == "builtin"
    assert registry.get("V1Invert").source == "v1pack"


def test_v1_object_info(loaded):
    registry, _, env = loaded
    info = registry.object_info(env)["V1Invert"]
    assert (
        info["display_name"] == "Invert (V1)" and info["category"] == "v1/test" and info["description"] == "A V1 node."
    )
    assert info["input"]["required"]["strength"] == [
        "FLOAT",
        {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.1, "round": 0.01, "tooltip": "how much"},
    ]
    assert info["input"]["required"]["mode"] == [["full", "half"], {"default": "full"}]
    assert info["input"]["optional"]["forced"][1]["forceInput"] is True
    assert info["input"]["hidden"] == {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO", "uid": "UNIQUE_ID"}
    assert info["output_name"] == ["inverted", "info"] and info["output_tooltips"] == ["the result", "what happened"]
    assert registry.object_info(env)["V1Listy"]["output_is_list"] == [True]


def test_v1_nodes_run_through_the_engine(loaded):
    registry, _, env = loaded
    prompt = {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 4, "height": 4, "batch_size": 1, "color": 0}},
        "2": {"class_type": "V1Invert", "inputs": {"image": ["1", 0], "strength": 1.0, "note": "n", "mode": "full"}},
        "3": {"class_type": "V1Show", "inputs": {"text": ["2", 1]}},
        "4": {"class_type": "PreviewAny", "inputs": {"source": ["2", 0]}},
        "5": {"class_type": "V1Listy", "inputs": {"count": 4}},
        "6": {"class_type": "V1Sum", "inputs": {"values": ["5", 0]}},
        "7": {"class_type": "V1Show", "inputs": {"text": ["6", 0]}},
    }
    result, _ = run(registry, env, prompt)
    assert result.status == "success", result.error
    assert result.outputs["3"] == {"text": ["2:7:n"]}  # hidden UNIQUE_ID and PROMPT were filled
    assert "[1, 4, 4, 3]" in result.outputs["4"]["text"][0]
    assert result.outputs["6"] == {"text": ["6"]}  # a ui dict from a non-output node is reported too
    assert result.outputs["7"] == {"text": ["6"]}


def test_v1_validate_inputs_is_changed_lazy_and_errors(loaded):
    registry, _, env = loaded
    bad = {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 4, "height": 4, "batch_size": 1, "color": 0}},
        "2": {"class_type": "V1Invert", "inputs": {"image": ["1", 0], "strength": 1.0, "note": "bad", "mode": "full"}},
        "3": {"class_type": "V1Show", "inputs": {"text": ["2", 1]}},
    }
    err = validate_prompt(registry, env, bad).node_errors["2"]["errors"][0]
    assert err["type"] == "custom_validation_failed" and "bad" in err["details"]
    module = sys.modules["custom_nodes.v1pack"]
    module.CALLS.clear()
    changing = {
        "1": {"class_type": "V1Changing", "inputs": {"seed": 5}},
        "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
    }
    engine = Engine(registry, env)
    for _ in range(2):
        engine.execute(Job("p", changing, ["2"]), lambda *a: None, threading.Event())
    assert module.CALLS.count(("V1Changing", 5)) == 2  # IS_CHANGED = NaN: never cached
    module.CALLS.clear()
    lazy = {
        "1": {"class_type": "PrimitiveString", "inputs": {"value": "A"}},
        "2": {"class_type": "V1Boom", "inputs": {"text": ["1", 0]}},
        "3": {"class_type": "V1Lazy", "inputs": {"use_a": True, "a": ["1", 0], "b": ["2", 0]}},
        "4": {"class_type": "V1Show", "inputs": {"text": ["3", 0]}},
    }
    result, _ = run(registry, env, lazy)
    assert result.outputs["4"] == {"text": ["A"]} and not any(c[0] == "V1Boom" for c in module.CALLS)
    lazy["3"]["inputs"]["use_a"] = False
    result, events = run(registry, env, lazy)
    assert result.status == "error"
    err = next(d for t, d in events if t == "execution_error")
    assert err["node_type"] == "V1Boom" and "boom from a plugin" in err["exception_message"]


def test_example_pack_and_whitelist(tmp_path):
    registry = builtin_registry()
    statuses = load_plugins(registry, [ROOT / "custom_nodes"], whitelist=["example_pack"])
    assert [s.name for s in statuses] == ["example_pack"] and statuses[0].ok
    assert statuses[0].scripts == ["/extensions/example_pack/vignette.js"]
    env = Folders(tmp_path)
    env.ensure()
    prompt = {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 9, "height": 9, "batch_size": 1, "color": 0xFFFFFF}},
        "2": {"class_type": "ExampleVignette", "inputs": {"image": ["1", 0], "strength": 1.0}},
        "3": {"class_type": "PreviewAny", "inputs": {"source": ["2", 0]}},
    }
    result, _ = run(registry, env, prompt)
    assert result.status == "success"
    assert load_plugins(builtin_registry(), [ROOT / "custom_nodes"], whitelist=[]) == []


@pytest.mark.slow  # 10 s of CPU: runs the scaffolded pack's own pytest
def test_scaffolded_pack_loads_and_its_test_passes(tmp_path):
    target = scaffold_pack(tmp_path, "bright_nodes")
    with pytest.raises(FileExistsError):
        scaffold_pack(tmp_path, "bright_nodes")
    for bad in ("1abc", "with-dash", "class", "_private"):
        with pytest.raises(ValueError):
            scaffold_pack(tmp_path, bad)
    registry = builtin_registry()
    status = load_plugins(registry, [tmp_path])[0]
    assert (
        status.ok
        and status.nodes == ["BrightNodesNode"]
        and status.scripts == ["/extensions/bright_nodes/bright_nodes.js"]
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target / "tests")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
