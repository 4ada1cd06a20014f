"""The prompt of one run: the nodes the client sent plus the ephemeral nodes that node expansion
adds while it runs. The engine reads nodes from it as from a dict; nodes that declare a hidden
DYNPROMPT input receive it (ComfyUI packs call get_node, get_original_prompt, ... on it)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class NodeNotFoundError(KeyError):
    """A node id that is neither in the prompt nor added by an expansion."""


class DynamicPrompt(Mapping):
    def __init__(self, original_prompt: dict) -> None:
        self.original_prompt = {str(k): v for k, v in original_prompt.items()}
        self.ephemeral_prompt: dict[str, dict] = {}
        self.ephemeral_parents: dict[str, str] = {}
        self.ephemeral_display: dict[str, str] = {}

    # -- Mapping: what the engine reads -----------------------------------------------
    def __getitem__(self, node_id: str) -> dict:
        node = self.ephemeral_prompt.get(node_id)
        if node is None:
            node = self.original_prompt.get(node_id)
        if node is None:
            raise NodeNotFoundError(f"node {node_id!r} is not in the prompt")
        return node

    def __iter__(self) -> Iterator[str]:
        yield from self.original_prompt
        yield from (n for n in self.ephemeral_prompt if n not in self.original_prompt)

    def __len__(self) -> int:
        return len(self.original_prompt) + sum(1 for n in self.ephemeral_prompt if n not in self.original_prompt)

    # -- ComfyUI's method names ----------------------------------------------------------
    def get_node(self, node_id: str) -> dict:
        return self[node_id]

    def has_node(self, node_id: str) -> bool:
        return node_id in self

    def add_ephemeral_node(self, node_id: str, node_info: dict, parent_id: str, display_id: str) -> None:
        self.ephemeral_prompt[node_id] = node_info
        self.ephemeral_parents[node_id] = parent_id
        self.ephemeral_display[node_id] = display_id

    def get_real_node_id(self, node_id: str) -> str:
        """The node of the original prompt that (through expansions) created ``node_id``."""
        while node_id in self.ephemeral_parents:
            node_id = self.ephemeral_parents[node_id]
        return node_id

    def get_parent_node_id(self, node_id: str) -> str | None:
        return self.ephemeral_parents.get(node_id)

    def get_display_node_id(self, node_id: str) -> str:
        """The node the editor shows progress and results on (expansions show on their parent)."""
        seen = set()
        while node_id in self.ephemeral_display and node_id not in seen:
            seen.add(node_id)
            shown = self.ephemeral_display[node_id]
            if shown == node_id:
                break
            node_id = shown
        return node_id

    def all_node_ids(self) -> set[str]:
        return set(self.original_prompt) | set(self.ephemeral_prompt)

    def get_original_prompt(self) -> dict[str, Any]:
        return self.original_prompt
