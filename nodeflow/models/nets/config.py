"""A network's configuration: a plain dict (``dict(module.config)`` feeds the key converters) that
also reads as attributes (``module.config.in_channels``), as diffusers' configs do."""

from __future__ import annotations

from typing import Any


class NetConfig(dict):
    """dict with read access by attribute; a missing key raises AttributeError."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r}") from None
