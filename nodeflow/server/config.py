"""Server settings, as one plain object built from the command line or by tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ServerConfig:
    listen: str = "127.0.0.1"
    port: int = 8188
    web_dir: Path | None = None
    database: Path | None = None  # default: <user dir>/nodeflow.db
    max_upload_mb: float = 100.0
    max_upload_pixels: int = 64_000_000
    max_history: int = 10_000
    # () -> {"devices": [...], "pytorch_version": ...}; supplied by main.py so the server never imports torch
    system_info: Callable[[], dict] | None = None
    extensions: list[str] = field(default_factory=list)  # JS URLs the editor loads
    extension_dirs: dict[str, Path] = field(default_factory=dict)  # url prefix name -> folder
    plugin_status: list[Any] = field(default_factory=list)
    allowed_hosts: list[str] = field(default_factory=list)  # names besides loopback; "*" allows any
    access_token: str | None = None  # required on every route when set (non-loopback binding)
    cors_origins: list[str] = field(default_factory=list)  # --enable-cors-header; '*' is refused
