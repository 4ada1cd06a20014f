"""What a running node sees of the engine: progress, interrupt, previews, models, folders."""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable, Iterator
from typing import Any

from .job import Emit


class Interrupted(Exception):
    """Raised inside a node when the user interrupted the prompt."""


class ExecutionContext:
    """Handed to each node as ``node.ctx`` before ``run``."""

    def __init__(
        self,
        prompt_id: str,
        node_id: str,
        emit: Emit,
        interrupt: threading.Event,
        env: Any = None,
        models: Any = None,
        display_node: str | None = None,
        previews_wanted: Callable[[], bool] | None = None,
    ) -> None:
        self.prompt_id = prompt_id
        self.node_id = node_id
        self.display_node = display_node or node_id
        self._emit = emit
        self._interrupt = interrupt
        self.env = env  # nodeflow.folders.Folders
        self.models = models  # the model manager (nodeflow.models), or None
        self._previews_wanted = previews_wanted

    def wants_previews(self) -> bool:
        """Whether a live preview made now reaches anyone (a node may skip making one when not)."""
        return self._previews_wanted is None or bool(self._previews_wanted())

    def is_interrupted(self) -> bool:
        return self._interrupt.is_set()

    def request_interrupt(self, value: bool = True) -> None:
        """Interrupt the running prompt (``value=False`` withdraws a pending request)."""
        if value:
            self._interrupt.set()
        else:
            self._interrupt.clear()

    def check_interrupt(self) -> None:
        if self._interrupt.is_set():
            raise Interrupted(f"interrupted while running node {self.node_id}")

    def progress(self, value: float, total: float, preview: Any = None) -> None:
        """Report progress; ``preview`` is a PIL image (sent as a JPEG preview frame), a function
        making one (called only when someone receives previews) or None. Also the place where an
        interrupt takes effect."""
        self.check_interrupt()
        self._emit("progress", {"value": value, "max": total, "prompt_id": self.prompt_id, "node": self.node_id})
        if preview is not None and self.wants_previews():
            image = preview() if callable(preview) else preview
            if image is not None:
                self.send_preview(image)

    def send_preview(self, image: Any, fmt: str = "JPEG") -> None:
        import io

        buf = io.BytesIO()
        image.convert("RGB").save(buf, format=fmt, quality=85) if fmt == "JPEG" else image.save(buf, format=fmt)
        self._emit(
            "preview", {"prompt_id": self.prompt_id, "node": self.node_id, "format": fmt, "image": buf.getvalue()}
        )

    def send_text(self, text: str) -> None:
        """Stream text (e.g. generated tokens) to the editor as it is produced."""
        self._emit("text", {"prompt_id": self.prompt_id, "node": self.node_id, "text": text})


_CURRENT: contextvars.ContextVar[ExecutionContext | None] = contextvars.ContextVar(
    "nodeflow_node_context", default=None
)


def current_context() -> ExecutionContext | None:
    """The context of the node running in this thread (or task), or None outside a node. For code
    that has no ``self.ctx`` to hand, e.g. the ComfyUI API shims (``comfy.utils.ProgressBar``)."""
    return _CURRENT.get()


@contextlib.contextmanager
def running(ctx: ExecutionContext | None) -> Iterator[None]:
    token = _CURRENT.set(ctx)
    try:
        yield
    finally:
        _CURRENT.reset(token)
