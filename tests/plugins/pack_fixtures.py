"""Load test packs into a real registry and run prompts through a real Engine."""

import threading

from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.folders import Folders
from nodeflow.graph.validate import validate_prompt
from nodeflow.plugins.loader import load_plugins
from nodeflow.schema.registry import builtin_registry


def load_packs(tmp_path, sources: dict):
    """(registry, {pack: status}, env) with each ``{name: source}`` written as a package pack."""
    folder = tmp_path / "custom_nodes"
    for name, source in sources.items():
        (folder / name).mkdir(parents=True)
        (folder / name / "__init__.py").write_text(source)
    registry = builtin_registry()
    statuses = {s.name: s for s in load_plugins(registry, [folder])}
    env = Folders(tmp_path / "base")
    env.ensure()
    return registry, statuses, env


class Runner:
    """Validates and runs prompts on one Engine (its cache lives across runs)."""

    def __init__(self, registry, env):
        self.registry, self.env = registry, env
        self.engine = Engine(registry, env)

    def __call__(self, prompt, expect_valid=True):
        validation = validate_prompt(self.registry, self.env, prompt)
        assert validation.ok == expect_valid, validation.node_errors
        events = []
        result = self.engine.execute(
            Job("p", prompt, validation.outputs), lambda t, d: events.append((t, d)), threading.Event()
        )
        return result, events


def errors(events):
    return [d for t, d in events if t == "execution_error"]
