"""``folder_paths.folder_names_and_paths`` as a live view of NodeFlow's ``Folders``.

ComfyUI's registry is a dict ``kind -> (list of folder paths, set of extensions)`` that packs read,
test, extend in place (``registry["checkpoints"][0].append(path)``) and add whole kinds to
(``registry["unet_gguf"] = (paths, {".gguf"})``). Every such change lands in the bound
``Folders`` (``model_paths`` and ``extensions``), so NodeFlow's file combos, ``/models`` and the
loaders see the folders a pack added, and folders NodeFlow adds show up here.

ComfyUI's kind names map onto NodeFlow's: ``clip`` -> ``text_encoders`` and ``diffusion_models``
-> ``unet`` (NodeFlow's ``unet`` kind already reads models/diffusion_models as well).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

# ComfyUI name -> NodeFlow kind, and the NodeFlow kinds shown under a ComfyUI name
TO_NODEFLOW = {"clip": "text_encoders", "diffusion_models": "unet"}
SHOWN_AS = {"unet": "diffusion_models"}
HIDDEN = {"clip", "diffusion_models"}  # NodeFlow kinds folded into another one in this view


def nodeflow_kind(name: str) -> str:
    return TO_NODEFLOW.get(name, name)


class _Live:
    """Mixin: call ``self._sync()`` after every in-place change."""

    _sync: Callable[[], None]

    def _changed(self, result: Any = None) -> Any:
        if hasattr(self, "_env"):  # not while copy/pickle rebuilds a detached instance
            self._sync()
        return result


class LivePaths(list, _Live):
    """The folder list of one kind; in-place changes are written to ``Folders.model_paths``."""

    def __init__(self, env: Any, kind: str) -> None:
        super().__init__()
        self._env, self._kind = env, kind

    def reload(self) -> LivePaths:
        list.__init__(self, (str(p) for p in self._env.model_paths.get(self._kind, [])))
        return self

    def _sync(self) -> None:
        self._env.model_paths[self._kind] = [Path(p) for p in self]

    def append(self, item: Any) -> None:
        self._changed(list.append(self, str(item)))

    def insert(self, index: int, item: Any) -> None:
        self._changed(list.insert(self, index, str(item)))

    def extend(self, items: Iterable) -> None:
        self._changed(list.extend(self, (str(i) for i in items)))

    def remove(self, item: Any) -> None:
        self._changed(list.remove(self, str(item)))

    def pop(self, index: int = -1) -> Any:
        return self._changed(list.pop(self, index))

    def clear(self) -> None:
        self._changed(list.clear(self))

    def __setitem__(self, index: Any, value: Any) -> None:
        self._changed(list.__setitem__(self, index, value))

    def __delitem__(self, index: Any) -> None:
        self._changed(list.__delitem__(self, index))

    def __iadd__(self, items: Iterable) -> LivePaths:
        self.extend(items)
        return self


class LiveExtensions(set, _Live):
    """The extension set of one kind; in-place changes are written to ``Folders.extensions``."""

    def __init__(self, env: Any, kind: str) -> None:
        super().__init__(env.extensions_of(kind) or ())
        self._env, self._kind = env, kind

    def _sync(self) -> None:
        self._env.extensions[self._kind] = {e.lower() for e in self}

    def add(self, item: str) -> None:
        self._changed(set.add(self, item))

    def update(self, *items: Iterable) -> None:
        self._changed(set.update(self, *items))

    def discard(self, item: str) -> None:
        self._changed(set.discard(self, item))

    def remove(self, item: str) -> None:
        self._changed(set.remove(self, item))

    def clear(self) -> None:
        self._changed(set.clear(self))

    def __ior__(self, items: Any) -> LiveExtensions:
        self.update(items)
        return self


class FolderRegistry(MutableMapping):
    """``folder_names_and_paths`` over a Folders object (see the module docstring). ``local``
    kinds are ComfyUI folder kinds that are no model folders (``custom_nodes``): they live here
    only, as plain (list, set) entries, and never show in NodeFlow's ``/models``."""

    def __init__(self, env_getter: Callable[[], Any]) -> None:
        self._env_getter = env_getter
        self._entries: dict[tuple[int, str], tuple[LivePaths, LiveExtensions]] = {}
        self.local: dict[str, tuple[list, set]] = {}

    def _entry(self, name: str) -> Any:
        if name in self.local:
            return self.local[name]
        env, kind = self._env_getter(), nodeflow_kind(name)
        if kind not in env.model_paths:
            raise KeyError(name)
        key = (id(env), kind)
        if key not in self._entries:
            self._entries[key] = (LivePaths(env, kind), LiveExtensions(env, kind))
        paths, extensions = self._entries[key]
        return paths.reload(), extensions

    def __getitem__(self, name: str) -> tuple[LivePaths, LiveExtensions]:
        return self._entry(name)

    def __setitem__(self, name: str, value: Any) -> None:
        try:
            paths, extensions = value
        except (TypeError, ValueError):
            raise TypeError(
                f"folder_names_and_paths[{name!r}] takes (list of folders, set of extensions), got {value!r}"
            ) from None
        if name in self.local:
            self.local[name] = (list(paths), set(extensions))
            return
        env, kind = self._env_getter(), nodeflow_kind(name)
        env.model_paths[kind] = [Path(p) for p in paths]
        env.extensions[kind] = {str(e).lower() for e in extensions}
        self._entries.pop((id(env), kind), None)

    def __delitem__(self, name: str) -> None:
        if name in self.local:
            del self.local[name]
            return
        env, kind = self._env_getter(), nodeflow_kind(name)
        if kind not in env.model_paths:
            raise KeyError(name)
        del env.model_paths[kind]
        env.extensions.pop(kind, None)
        self._entries.pop((id(env), kind), None)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self.local or nodeflow_kind(name) in self._env_getter().model_paths)

    def __iter__(self) -> Iterator[str]:
        kinds = [SHOWN_AS.get(kind, kind) for kind in self._env_getter().model_paths if kind not in HIDDEN]
        return iter(kinds + [name for name in self.local if name not in kinds])

    def __len__(self) -> int:
        return len(list(iter(self)))

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k!r}: ({list(v[0])!r}, {set(v[1])!r})" for k, v in self.items()) + "}"
