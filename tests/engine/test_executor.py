"""The executor on toy nodes: order, caching, list semantics, lazy inputs, errors, interrupts."""

import threading

from nodeflow.engine.executor import Engine

from . import toy_nodes


def chain(value=1, b=2, label=""):
    return {
        "1": {"class_type": "Const", "inputs": {"value": value}},
        "2": {"class_type": "Add", "inputs": {"a": ["1", 0], "b": b}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0], "label": label}},
    }


def types(events):
    return [t for t, _ in events]


def test_runs_in_dependency_order_and_reports_events(run):
    result, events = run(chain(1, 2))
    assert result.status == "success"
    assert toy_nodes.RUNS == ["Const", "Add", "Show"]
    assert result.outputs == {"3": {"text": ["3"]}}
    assert types(events)[0] == "execution_start"
    assert types(events)[1] == "execution_cached"
    assert ("executed", {"node": "3", "display_node": "3", "output": {"text": ["3"]}, "prompt_id": "p1"}) in events
    assert types(events)[-2:] == ["execution_success", "executing"]
    assert events[-1][1]["node"] is None
    executing = [d["node"] for t, d in events if t == "executing" and d["node"]]
    assert executing == ["1", "2", "3"]


def test_unchanged_rerun_executes_no_node(run):
    run(chain())
    result, events = run(chain())
    assert toy_nodes.RUNS == []
    assert result.executed == []
    cached = next(d for t, d in events if t == "execution_cached")["nodes"]
    assert sorted(cached) == ["1", "2", "3"]
    # cached output nodes still report their output
    assert [d["output"] for t, d in events if t == "executed"] == [{"text": ["3"]}]


def test_one_widget_change_reruns_only_descendants(run):
    run(chain(1, 2))
    result, _ = run(chain(1, 5))
    assert toy_nodes.RUNS == ["Add", "Show"]
    assert result.outputs["3"] == {"text": ["6"]}
    result, _ = run(chain(1, 5, label="x="))
    assert toy_nodes.RUNS == ["Show"]
    assert result.outputs["3"] == {"text": ["x=6"]}


def test_cache_is_shared_across_prompts_with_other_ids(run):
    run(chain(7, 1))
    other = {
        "a": {"class_type": "Const", "inputs": {"value": 7}},
        "b": {"class_type": "Scale", "inputs": {"x": ["a", 0], "factor": 2.0, "mode": "floor"}},
        "c": {"class_type": "Show", "inputs": {"value": ["b", 0]}},
    }
    result, _ = run(other)
    assert toy_nodes.RUNS == ["Scale", "Show"]
    assert result.outputs["c"] == {"text": ["14.0"]}


def test_cache_none_reexecutes_everything(registry, env, run):
    engine = Engine(registry, env, cache_enabled=False)
    run(chain(), engine=engine)
    run(chain(), engine=engine)
    assert toy_nodes.RUNS == ["Const", "Add", "Show"]


def test_cache_budget_evicts_least_recently_used(registry, env):
    engine = Engine(registry, env, cache_ram_gb=1e-9)  # ~1 byte: nothing tensor-sized fits
    engine.cache.put("a", ([[b"x" * 10]], None))
    assert "a" not in engine.cache
    engine = Engine(registry, env, cache_ram_gb=25 / 1024**3)
    engine.cache.put("a", ([[b"x" * 10]], None))
    engine.cache.put("b", ([[b"y" * 10]], None))
    engine.cache.get("a")
    engine.cache.put("c", ([[b"z" * 10]], None))
    assert "a" in engine.cache and "c" in engine.cache and "b" not in engine.cache


def test_non_deterministic_nodes_always_rerun(run):
    prompt = {"1": {"class_type": "Random", "inputs": {}}, "2": {"class_type": "Show", "inputs": {"value": ["1", 0]}}}
    run(prompt)
    run(prompt)
    assert toy_nodes.RUNS == ["Random", "Show"]


def test_node_exception_reports_execution_error_and_engine_goes_on(run):
    prompt = {
        "1": {"class_type": "Const", "inputs": {"value": 3}},
        "2": {"class_type": "Fail", "inputs": {"value": ["1", 0]}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
    }
    result, events = run(prompt)
    assert result.status == "error"
    err = next(d for t, d in events if t == "execution_error")
    assert err["node_id"] == "2" and err["node_type"] == "Fail"
    assert err["exception_type"] == "ValueError"
    assert "always fails" in err["exception_message"]
    assert any("always fails" in line for line in err["traceback"])
    assert err["current_inputs"] == {"value": 3}
    assert err["executed"] == ["1"]
    result, _ = run(chain())
    assert result.status == "success"


def test_interrupt_during_progress_stops_the_node(run):
    interrupt = threading.Event()
    prompt = {
        "1": {"class_type": "Const", "inputs": {"value": 3}},
        "2": {"class_type": "Slow", "inputs": {"value": ["1", 0], "steps": 500}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
    }
    timer = threading.Timer(0.2, interrupt.set)
    timer.start()
    result, events = run(prompt, interrupt=interrupt)
    timer.join()
    assert result.status == "interrupted"
    progress = [d for t, d in events if t == "progress"]
    assert 0 < len(progress) < 500
    assert progress[0] == {"value": 1, "max": 500, "prompt_id": "p1", "node": "2"}
    stop = next(d for t, d in events if t == "execution_interrupted")
    assert stop["node_id"] == "2" and stop["node_type"] == "Slow" and stop["executed"] == ["1"]
    assert "Show" not in toy_nodes.RUNS


def test_output_list_maps_over_consumers_and_input_is_list_receives_whole(run):
    prompt = {
        "1": {"class_type": "Split", "inputs": {"n": 4}},
        "2": {"class_type": "Add", "inputs": {"a": ["1", 0], "b": 10}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
        "4": {"class_type": "Sum", "inputs": {"values": ["2", 0]}},
        "5": {"class_type": "Show", "inputs": {"value": ["4", 0], "label": "sum="}},
    }
    result, _ = run(prompt)
    assert toy_nodes.RUNS.count("Add") == 4
    assert result.outputs["3"] == {"text": ["10", "11", "12", "13"]}
    assert result.outputs["5"] == {"text": ["sum=46"]}


def test_empty_list_input_runs_consumer_zero_times(run):
    prompt = {
        "1": {"class_type": "Split", "inputs": {"n": 0}},
        "2": {"class_type": "Add", "inputs": {"a": ["1", 0], "b": 1}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
    }
    result, _ = run(prompt)
    assert result.status == "success"
    assert "Add" not in toy_nodes.RUNS


def test_lazy_inputs_only_evaluate_the_requested_branch(run):
    prompt = {
        "1": {"class_type": "Const", "inputs": {"value": 1}},
        "2": {"class_type": "Fail", "inputs": {"value": ["1", 0]}},
        "3": {"class_type": "Switch", "inputs": {"pick_a": True, "a": ["1", 0], "b": ["2", 0]}},
        "4": {"class_type": "Show", "inputs": {"value": ["3", 0]}},
    }
    result, _ = run(prompt)
    assert result.status == "success"
    assert "Fail" not in toy_nodes.RUNS
    assert result.outputs["4"] == {"text": ["1"]}


def test_hidden_inputs_are_filled(run):
    prompt = {
        "1": {"class_type": "Const", "inputs": {"value": 1}},
        "9": {"class_type": "WithPrompt", "inputs": {"value": ["1", 0]}},
    }
    result, _ = run(prompt)
    assert result.outputs["9"] == {"text": ["9:2"]}


def test_only_requested_outputs_run(run):
    prompt = chain()
    prompt["4"] = {"class_type": "Show", "inputs": {"value": ["1", 0], "label": "other"}}
    result, _ = run(prompt, outputs=["4"])
    assert toy_nodes.RUNS == ["Const", "Show"]
    assert set(result.outputs) == {"4"}


def test_long_chain_runs_without_recursion_limit(run):
    prompt = {"0": {"class_type": "Const", "inputs": {"value": 0}}}
    for i in range(1, 1500):
        prompt[str(i)] = {"class_type": "Add", "inputs": {"a": [str(i - 1), 0], "b": 1}}
    prompt["out"] = {"class_type": "Show", "inputs": {"value": ["1499", 0]}}
    result, _ = run(prompt)
    assert result.outputs["out"] == {"text": ["1499"]}
