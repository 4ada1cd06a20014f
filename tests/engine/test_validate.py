"""Every validation error type, the node_errors shape, cycles, partial targets."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nodeflow.graph.validate import validate_prompt


def check(registry, env, prompt, **kw):
    return validate_prompt(registry, env, prompt, **kw)


def good():
    return {
        "1": {"class_type": "Const", "inputs": {"value": 1}},
        "2": {"class_type": "Add", "inputs": {"a": ["1", 0], "b": 2}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
    }


def only_error(v, node="2"):
    errors = v.node_errors[node]["errors"]
    assert len(errors) == 1, errors
    return errors[0]


def test_good_prompt_passes(registry, env):
    v = check(registry, env, good())
    assert v.ok and v.outputs == ["3"] and v.node_errors == {} and v.error is None


def test_not_an_object_is_invalid_prompt(registry, env):
    for bad in (
        [],
        "x",
        3,
        None,
        {"1": "node"},
        {"1": {"inputs": {}}},
        {"1": {"class_type": 5}},
        {"1": {"class_type": "Const", "inputs": []}},
    ):
        v = check(registry, env, bad)
        assert not v.ok and v.error["type"] == "invalid_prompt", bad
        assert v.error["message"]


def test_unknown_class_type_names_it(registry, env):
    p = good()
    p["2"]["class_type"] = "NoSuchNode"
    v = check(registry, env, p)
    assert v.error["type"] == "invalid_prompt" and "NoSuchNode" in v.error["message"]


def test_no_outputs(registry, env):
    v = check(registry, env, {"1": {"class_type": "Const", "inputs": {"value": 1}}})
    assert v.error["type"] == "prompt_no_outputs"
    assert check(registry, env, {}).error["type"] == "prompt_no_outputs"


def test_required_input_missing(registry, env):
    p = good()
    del p["2"]["inputs"]["b"]
    v = check(registry, env, p)
    assert v.error["type"] == "prompt_outputs_failed_validation"
    err = only_error(v)
    assert err["type"] == "required_input_missing" and err["details"] == "b"
    assert v.node_errors["2"]["dependent_outputs"] == ["3"]
    assert v.node_errors["2"]["class_type"] == "Add"
    assert set(err) == {"type", "message", "details", "extra_info"}


def test_bad_linked_inputs(registry, env):
    for link in (["9", 0], ["1", 3], ["1", 0, 1], ["1"]):
        p = good()
        p["2"]["inputs"]["a"] = link
        assert only_error(check(registry, env, p))["type"] == "bad_linked_input", link


def test_return_type_mismatch_and_unions(registry, env):
    p = good()
    p["4"] = {"class_type": "Scale", "inputs": {"x": ["2", 0], "factor": 1.0, "mode": "floor"}}
    p["5"] = {"class_type": "Add", "inputs": {"a": ["4", 0], "b": 1}}  # FLOAT into INT
    p["6"] = {"class_type": "Show", "inputs": {"value": ["5", 0]}}
    v = check(registry, env, p)
    assert v.ok and v.outputs == ["3"]  # the valid output still runs
    err = only_error(v, "5")
    assert err["type"] == "return_type_mismatch" and "FLOAT" in err["details"]
    assert "4" not in v.node_errors  # INT into "INT,FLOAT" matches


def test_literal_checks(registry, env):
    cases = [
        ({"b": "abc"}, "invalid_input_type"),
        ({"b": 5000}, "value_bigger_than_max"),
        ({"b": -5000}, "value_smaller_than_min"),
        ({"b": 1.5}, "invalid_input_type"),
        ({"b": True}, "invalid_input_type"),
        ({"b": 10**30}, "value_bigger_than_max"),
    ]
    for inputs, kind in cases:
        p = good()
        p["2"]["inputs"].update(inputs)
        assert only_error(check(registry, env, p))["type"] == kind, inputs
    p = good()
    p["2"]["inputs"]["a"] = "five"  # a primitive socket given a literal is checked as that type
    assert only_error(check(registry, env, p))["type"] == "invalid_input_type"
    p["2"]["inputs"]["a"] = 5
    assert check(registry, env, p).ok
    p = {"1": {"class_type": "TakesImage", "inputs": {"image": [[0.5]]}}}  # data types only come through links
    v = check(registry, env, p)
    assert v.node_errors["1"]["errors"][0]["type"] in ("invalid_input_type", "bad_linked_input")
    p["1"]["inputs"]["image"] = "picture.png"
    assert only_error(check(registry, env, p), "1")["type"] == "invalid_input_type"


def test_combo_and_float(registry, env):
    p = good()
    p["4"] = {"class_type": "Scale", "inputs": {"x": ["2", 0], "factor": 1e400, "mode": "ceil"}}
    p["5"] = {"class_type": "Show", "inputs": {"value": ["4", 0]}}
    v = check(registry, env, p)
    kinds = sorted(e["type"] for e in v.node_errors["4"]["errors"])
    assert kinds == ["invalid_input_type", "value_not_in_list"]
    p["4"]["inputs"].update(factor="2.5", mode="round")
    assert check(registry, env, p).node_errors == {}


def test_custom_validation(registry, env):
    p = {
        "1": {"class_type": "Checked", "inputs": {"value": 3}},
        "2": {"class_type": "Show", "inputs": {"value": ["1", 0]}},
    }
    err = only_error(check(registry, env, p), "1")
    assert err["type"] == "custom_validation_failed" and "even" in err["details"]


def test_cycle_is_reported_naming_the_nodes(registry, env):
    p = {
        "1": {"class_type": "Add", "inputs": {"a": ["2", 0], "b": 1}},
        "2": {"class_type": "Add", "inputs": {"a": ["1", 0], "b": 1}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
    }
    v = check(registry, env, p)
    assert not v.ok
    err = v.node_errors["1"]["errors"][0]
    assert err["type"] == "dependency_cycle" and "1 (Add)" in err["message"] and "2 (Add)" in err["message"]


def test_partial_execution_targets(registry, env):
    p = good()
    p["4"] = {"class_type": "Show", "inputs": {"value": ["1", 0]}}
    assert check(registry, env, p, partial_execution_targets=["4"]).outputs == ["4"]
    assert check(registry, env, p, partial_execution_targets=["nope"]).error["type"] == "invalid_prompt"


def test_literal_list_values_are_unwrapped(registry, env):
    p = good()
    p["2"]["inputs"]["b"] = {"__value__": 3}
    assert check(registry, env, p).ok


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.dictionaries(
        st.text(max_size=4),
        st.fixed_dictionaries(
            {
                "class_type": st.sampled_from(["Const", "Add", "Show", "Scale", "Nope"]) | json_values,
                "inputs": st.dictionaries(
                    st.sampled_from(["a", "b", "value", "x", "factor", "mode"]), json_values, max_size=4
                ),
            }
        ),
        max_size=5,
    )
)
@pytest.mark.slow  # 13 s of CPU: hypothesis generates hundreds of prompts
def test_validation_never_raises(registry, env, prompt):
    v = validate_prompt(registry, env, prompt)
    assert v.ok or v.error["type"] in {"invalid_prompt", "prompt_no_outputs", "prompt_outputs_failed_validation"}
