"""Plain data that crosses the engine boundary: a job in, events and a result out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# emit(event_type, data). Event types are the ComfyUI websocket message types
# (execution_start, execution_cached, executing, progress, executed, execution_success,
# execution_error, execution_interrupted) plus two binary kinds:
#   "preview": data = {"prompt_id", "node", "format": "JPEG"|"PNG", "image": bytes}
#   "text":    data = {"prompt_id", "node", "text": str}   (streamed tokens, appended)
Emit = Callable[[str, dict], None]


@dataclass
class Job:
    prompt_id: str
    prompt: dict
    outputs_to_execute: list[str]
    extra_data: dict = field(default_factory=dict)
    client_id: str | None = None
    # whether anyone receives live previews now (the server: a connected editor); None: always make them.
    # Previews nobody receives are not made (the first one fits the VAE's preview colours: ~0.4 s).
    previews_wanted: Callable[[], bool] | None = None


@dataclass
class JobResult:
    status: str  # "success" | "error" | "interrupted"
    outputs: dict[str, dict] = field(default_factory=dict)  # node id -> ui dict
    messages: list[list[Any]] = field(default_factory=list)  # [[event, data], ...] as in history
    executed: list[str] = field(default_factory=list)  # node ids run (not cached)
    cached: list[str] = field(default_factory=list)  # node ids served from cache
    error: dict | None = None  # the execution_error / execution_interrupted payload

    @property
    def status_str(self) -> str:
        return "success" if self.status == "success" else "error"
