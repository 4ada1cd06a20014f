"""ComfyUI's ``execution`` for custom-node packs: prompt validation as POST /prompt does it
(NodeFlow's ``validate_prompt`` over the bound registry and folders) and type names for reports."""

from __future__ import annotations

from typing import Any

from nodeflow.comfy_compat import binding, missing


def full_type_name(klass: type) -> str:
    """'module.QualName' of a class ('QualName' for builtins)."""
    module = klass.__module__
    return klass.__qualname__ if module == "builtins" else f"{module}.{klass.__qualname__}"


async def validate_prompt(
    prompt_id: Any, prompt: dict | None = None, partial_execution_list: list[str] | None = None
) -> tuple[bool, dict | None, list, dict]:
    """(valid, error, output node ids that can run, node_errors) for an API-format prompt.
    The older one-argument form ``validate_prompt(prompt)`` is accepted too."""
    from nodeflow.graph.validate import validate_prompt as validate

    if prompt is None and isinstance(prompt_id, dict):
        prompt = prompt_id
    result = validate(binding.registry(), binding.folders(), prompt, partial_execution_list)
    return result.ok, result.error, list(result.outputs), result.node_errors


__getattr__ = missing("execution")
