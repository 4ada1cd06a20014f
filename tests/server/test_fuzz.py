"""Thousands of malformed prompts: every one gets a 4xx JSON error, never a 500."""

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
values = st.recursive(
    leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3), max_leaves=8
)
node_ids = st.sampled_from(["1", "2", "3", "x", "ü", ""]) | st.text(max_size=3)
links = st.lists(node_ids | st.integers(-2, 5), min_size=0, max_size=3)
inputs = st.dictionaries(
    st.sampled_from(["a", "b", "value", "x", "factor", "mode", "label", "n", "ünï"]), values | links, max_size=4
)
nodes = st.fixed_dictionaries(
    {
        "class_type": st.sampled_from(["Const", "Add", "Show", "Scale", "Split", "Sum", "Nope"]) | values,
        "inputs": inputs | values,
    }
)
prompts = st.dictionaries(node_ids, nodes | values, max_size=5) | values
bodies = st.fixed_dictionaries(
    {"prompt": prompts},
    optional={
        "client_id": values,
        "extra_data": values,
        "front": values,
        "number": values,
        "partial_execution_targets": values,
        "prompt_id": values,
    },
)


@pytest.mark.slow  # 23 s of CPU: 1,000 malformed bodies
def test_malformed_prompts_never_500(api):
    loop = asyncio.get_event_loop()
    statuses = []

    @settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
    @given(bodies)
    def check(body):
        async def post():
            raw = json.dumps(body, allow_nan=False) if _finite(body) else json.dumps(body)
            r = await api.client.post("/prompt", data=raw, headers={"Content-Type": "application/json"})
            payload = await r.json()
            return r.status, payload

        status, payload = loop.run_until_complete(post())
        statuses.append(status)
        assert status < 500, (body, payload)
        if status >= 400:
            assert payload["error"]["message"]

    check()
    assert len(statuses) >= 500 and statuses.count(400) > len(statuses) // 2


def _finite(value):
    try:
        json.dumps(value, allow_nan=False)
        return True
    except ValueError:
        return False
