import threading

import pytest

from nodeflow.engine.context import ExecutionContext


@pytest.fixture
def node(env):
    """node(Class) -> an instance with a real execution context on a temp base folder."""

    def make(cls):
        obj = cls()
        obj.ctx = ExecutionContext("p", "1", lambda *a: None, threading.Event(), env=env)
        return obj

    return make
