"""The Ray actor's interrupt without a cluster: the head marks a slot busy when it dispatches a prompt,
so POST /interrupt can reach the actor before that prompt's ``run`` has begun there; the interrupt
must still stop it (a lost interrupt left a 100,000-step prompt running in CI)."""

import uuid

import pytest

from nodeflow.cluster.actor import NodeFlowWorker
from tests.helpers.toy_prompts import slow_prompt


@pytest.fixture
def worker(tmp_path):
    w = NodeFlowWorker(
        {
            "base_directory": str(tmp_path),
            "cpu": True,
            "custom_nodes": False,
            "extra_node_modules": ["tests.engine.toy_nodes"],
        }
    )
    yield w
    w.close()


def job(steps: int) -> tuple[str, dict]:
    pid = uuid.uuid4().hex
    return pid, {"prompt_id": pid, "prompt": slow_prompt(1, steps), "outputs_to_execute": ["3"]}


def events_until_the_end(worker, job_dict) -> list[str]:
    names = []
    run = worker.run(job_dict, [])
    try:
        for item in run:  # the closing ("result", ...) item describes the Ray node: stop before it
            names.append(item[1])
            if item[1] in ("execution_success", "execution_error", "execution_interrupted"):
                break
    finally:
        run.close()
    return names


def test_an_interrupt_that_arrives_before_the_run_stops_it(worker):
    pid, job_dict = job(100000)
    assert worker.interrupt(pid) is False  # not running yet: kept for when it starts
    assert events_until_the_end(worker, job_dict)[-1] == "execution_interrupted"
    assert worker.running is None


def test_an_early_interrupt_touches_only_its_own_prompt(worker):
    pid, job_dict = job(2)
    worker.interrupt("some-other-prompt")
    assert events_until_the_end(worker, job_dict)[-1] == "execution_success"
    # and a finished prompt's interrupt does not stop the next one
    worker.interrupt(pid)
    _, again = job(2)
    assert events_until_the_end(worker, again)[-1] == "execution_success"
