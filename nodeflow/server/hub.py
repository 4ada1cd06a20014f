"""The websocket hub: connected editors by sid, and delivery of engine events to them.

Text frames are JSON ``{type, data}``. Binary frames start with a big-endian uint32 event
type: 1 = preview image (then uint32 format 1=JPEG 2=PNG, then the bytes); 3 = text stream
(then uint32 length of the node id, the node id, then UTF-8 text)."""

from __future__ import annotations

import json
import logging
import struct
from collections.abc import Callable

from aiohttp import web

log = logging.getLogger(__name__)
PREVIEW_IMAGE = 1
TEXT = 3
IMAGE_FORMATS = {"JPEG": 1, "PNG": 2}


def encode_binary(event: str, data: dict) -> bytes:
    if event == "preview":
        return struct.pack(">II", PREVIEW_IMAGE, IMAGE_FORMATS.get(data.get("format", "JPEG"), 1)) + data["image"]
    node = str(data.get("node") or "").encode()
    return struct.pack(">II", TEXT, len(node)) + node + str(data.get("text", "")).encode()


class Hub:
    def __init__(self) -> None:
        self.sockets: dict[str, web.WebSocketResponse] = {}
        # called with (event, data, sid) for every event sent (e.g. ComfyUI's PromptServer tracks
        # the running node from them); an observer must not raise
        self.observers: list[Callable[[str, dict, str | None], None]] = []

    def add(self, sid: str, ws: web.WebSocketResponse) -> None:
        self.sockets[sid] = ws

    def watching(self, sid: str | None) -> bool:
        """Whether an event for ``sid`` (None: for everyone) reaches an open socket now (any thread)."""
        if sid is not None:
            ws = self.sockets.get(sid)
            return ws is not None and not ws.closed
        return any(not ws.closed for ws in list(self.sockets.values()))

    def remove(self, sid: str, ws: web.WebSocketResponse) -> None:
        if self.sockets.get(sid) is ws:
            del self.sockets[sid]

    async def send(self, event: str, data: dict, sid: str | None = None) -> None:
        """To the socket ``sid`` when it is connected; to every socket when ``sid`` is None."""
        for observe in self.observers:
            observe(event, data, sid)
        if event in ("preview", "text"):
            payload: bytes | str = encode_binary(event, data)
        else:
            payload = json.dumps({"type": event, "data": data}, default=str)
        await self.deliver(payload, sid)

    async def send_json(self, event: str, data: object, sid: str | None = None) -> None:
        """A JSON event whatever its name (``send`` turns "preview" and "text" into binary frames)."""
        await self.deliver(json.dumps({"type": event, "data": data}, default=str), sid)

    async def deliver(self, payload: bytes | str, sid: str | None = None) -> None:
        """A ready frame (bytes: binary, str: text) to ``sid``, or to every socket when None."""
        if sid is not None:
            targets = [self.sockets[sid]] if sid in self.sockets else []
        else:
            targets = list(self.sockets.values())
        for ws in targets:
            if ws.closed:
                continue
            try:
                if isinstance(payload, bytes):
                    await ws.send_bytes(payload)
                else:
                    await ws.send_str(payload)
            except (ConnectionError, RuntimeError) as exc:  # a client that went away mid-send
                log.debug("websocket send failed: %s", exc)
