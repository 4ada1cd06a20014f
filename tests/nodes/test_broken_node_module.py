"""A built-in node module that fails to import: fatal under NODEFLOW_STRICT_NODES (set for the whole
test suite in tests/conftest.py), else logged and listed while the other modules' nodes load."""

import logging

import pytest

import nodeflow.nodes
from nodeflow.schema.registry import STRICT_ENV, NodeModuleError, builtin_registry, strict_node_modules


@pytest.fixture
def broken_module(tmp_path, monkeypatch):
    (tmp_path / "zz_broken_for_test.py").write_text("from nodeflow.schema.node import Nod  # a typo\n")
    monkeypatch.setattr(nodeflow.nodes, "__path__", [*nodeflow.nodes.__path__, str(tmp_path)])
    return "nodeflow.nodes.zz_broken_for_test"


def test_the_suite_runs_strict():
    assert strict_node_modules()


def test_strict_stops_naming_the_module_and_the_error(broken_module):
    with pytest.raises(NodeModuleError) as caught:
        builtin_registry()
    message = str(caught.value)
    assert broken_module in message and "ImportError" in message and "'Nod'" in message


def test_not_strict_logs_and_keeps_the_other_nodes(broken_module, monkeypatch, caplog):
    monkeypatch.setenv(STRICT_ENV, "0")
    with caplog.at_level(logging.ERROR):
        registry = builtin_registry()
    assert list(registry.failed_modules) == [broken_module]
    assert "KSampler" in registry and "CheckpointLoaderSimple" in registry
    assert any(broken_module in r.getMessage() and r.exc_info for r in caplog.records)
