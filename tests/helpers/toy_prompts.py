"""API-format prompts of the toy test nodes (tests/engine/toy_nodes.py, loaded by every test server)."""


def slow_prompt(value: int, steps: int) -> dict:
    """Const -> Slow (``steps`` sleeps of the toy node) -> Show: a prompt that runs as long as asked."""
    return {
        "1": {"class_type": "Const", "inputs": {"value": value}},
        "2": {"class_type": "Slow", "inputs": {"value": ["1", 0], "steps": steps}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0]}},
    }


def add_prompt(client: int, i: int) -> dict:
    """Const(i) + client -> Show labelled with the client: a quick prompt whose output names its sender."""
    return {
        "1": {"class_type": "Const", "inputs": {"value": i}},
        "2": {"class_type": "Add", "inputs": {"a": ["1", 0], "b": client}},
        "3": {"class_type": "Show", "inputs": {"value": ["2", 0], "label": f"c{client}-"}},
    }
