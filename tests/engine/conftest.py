import threading

import pytest

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.schema.registry import Registry

from . import toy_nodes


@pytest.fixture
def registry():
    reg = Registry()
    reg.add_module(toy_nodes)
    return reg


@pytest.fixture
def run(registry, env):
    """run(prompt, outputs=None, engine=None) -> (result, events); clears toy_nodes.RUNS first."""
    default_engine = Engine(registry, env)

    def _run(prompt, outputs=None, engine=None, interrupt=None, prompt_id="p1"):
        toy_nodes.RUNS.clear()
        events = []
        eng = engine or default_engine
        outs = outputs or [nid for nid, n in prompt.items() if registry.get(n["class_type"]).output_node]
        job = Job(prompt_id=prompt_id, prompt=prompt, outputs_to_execute=outs)
        result = eng.execute(job, lambda t, d: events.append((t, d)), interrupt or threading.Event())
        return result, events

    _run.engine = default_engine
    return _run
