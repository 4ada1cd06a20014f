import os
import threading

import pytest

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.models.manager import ModelManager
from nodeflow.schema.registry import builtin_registry

from .tiny import write_tiny_sd1


@pytest.fixture(scope="session")
def tiny_ckpt_file(tmp_path_factory):
    return write_tiny_sd1(tmp_path_factory.mktemp("ckpt") / "tiny_sd1.safetensors")


@pytest.fixture
def sd_env(env, tiny_ckpt_file):
    """A base folder whose models/checkpoints holds the tiny SD1 file."""
    os.link(tiny_ckpt_file, env.models_dir / "checkpoints" / "tiny.safetensors")  # symlinks: test_symlinked_models
    return env


@pytest.fixture(scope="session")
def registry():
    return builtin_registry()


@pytest.fixture
def engine(registry, sd_env):
    return Engine(registry, sd_env, models=ModelManager(cpu=True))


@pytest.fixture
def run_prompt(engine):
    """run_prompt(prompt, interrupt=None) -> (JobResult, events)."""

    def run(prompt, interrupt=None, prompt_id="p1", on_event=None):
        events = []

        def emit(kind, data):
            events.append((kind, data))
            if on_event is not None:
                on_event(kind, data)

        outs = [nid for nid, n in prompt.items() if engine.registry.get(n["class_type"]).output_node]
        result = engine.execute(
            Job(prompt_id=prompt_id, prompt=prompt, outputs_to_execute=outs), emit, interrupt or threading.Event()
        )
        return result, events

    return run
