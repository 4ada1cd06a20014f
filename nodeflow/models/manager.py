"""The model manager: one per engine. Loaded models are shared across prompts (keyed by file
identity, least recently used dropped first when over the RAM budget); modules are placed on the
compute device only while a node runs them (``use``), with a VRAM budget and LRU offload."""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import torch

from .block_stream import BlockStream
from .compiled import compiled_module
from .fast_modes import check_modes, prepare_module

log = logging.getLogger(__name__)
TEXT_KINDS = ("text", "clip")  # "clip": the text-encoder loaders' older name


def _kind(kind: str) -> str:
    return "text" if kind in TEXT_KINDS else kind


class OutOfMemory(RuntimeError):
    """A model ran out of device memory; the manager has already unloaded everything."""


def pick_device(cpu: bool = False) -> torch.device:
    if cpu:
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def module_bytes(module: Any) -> int:
    """Bytes of parameters and buffers of an nn.Module (0 for anything else)."""
    if not isinstance(module, torch.nn.Module):
        return 0
    return sum(t.numel() * t.element_size() for t in list(module.parameters()) + list(module.buffers()))


def entry_bytes(value: Any) -> int:
    """Bytes of every tensor reachable from a cached value: tensors, nn.Modules (parameters and
    buffers), objects with ``memory_bytes()`` (DiffusionModel, ClipModel, VAE, ...) or wrapping a
    module as ``.model`` (spandrel's upscaler descriptors), inside any
    nesting of tuples, lists and dicts, e.g. the (model, clip, vae) a checkpoint is cached as.
    A module, object or tensor storage reached twice is counted once."""
    seen_objects: set[int] = set()
    seen_storages: set[tuple] = set()

    def tensor(t: torch.Tensor) -> int:
        if t.device.type == "meta":
            return 0
        storage = t.untyped_storage()
        key = (t.device.type, t.device.index, storage.data_ptr())
        if key in seen_storages:
            return 0
        seen_storages.add(key)
        return storage.nbytes()

    def walk(item: Any) -> int:
        if item is None or isinstance(item, (str, bytes, int, float, bool)) or id(item) in seen_objects:
            return 0
        seen_objects.add(id(item))
        if isinstance(item, torch.Tensor):
            return tensor(item)
        if isinstance(item, torch.nn.Module):
            return sum(tensor(t) for t in [*item.parameters(), *item.buffers()])
        if isinstance(item, dict):
            return sum(walk(v) for v in item.values())
        if isinstance(item, (tuple, list, set, frozenset)):
            return sum(walk(v) for v in item)
        size = getattr(item, "memory_bytes", None)
        if callable(size):
            return int(size())
        wrapped = getattr(item, "model", None)  # e.g. a spandrel upscaler descriptor
        return walk(wrapped) if isinstance(wrapped, torch.nn.Module) else 0

    return walk(value)


class ModelManager:
    """Device choice, dtype policy, model cache and device placement.

    ``load(key, factory)`` returns the cached model for ``key`` or calls ``factory()``;
    ``use(module)`` is a context manager that puts ``module`` on ``device`` while it runs."""

    def __init__(
        self,
        cpu: bool = False,
        lowvram: bool = False,
        device: str | torch.device | None = None,
        ram_budget_gb: float = 12.0,
        vram_budget_gb: float | None = None,
        force_dtype: torch.dtype | None = None,
        plain_kernels: bool = False,
        dtypes: dict[str, torch.dtype] | None = None,
        channels_last: bool = False,
        int8_linear: bool = False,
    ) -> None:
        self.device = torch.device(device) if device is not None else pick_device(cpu)
        self.offload_device = torch.device("cpu")
        self.lowvram = lowvram
        self.force_dtype = force_dtype  # --force-fp32/--force-fp16: every kind (an fp16 VAE excepted)
        self.dtypes = {_kind(k): v for k, v in (dtypes or {}).items()}  # --bf16-unet, --fp32-vae, ...: per kind
        self.channels_last = channels_last  # --force-channels-last
        self.int8_linear = int8_linear  # --int8-linear
        self.plain_kernels = plain_kernels  # --plain-kernels: torch's conv/linear kernels (kernels.py)
        check_modes(self)
        self.ram_budget = int(ram_budget_gb * 2**30)
        if vram_budget_gb is None and self.device.type == "cuda":
            vram_budget_gb = torch.cuda.get_device_properties(self.device).total_memory / 2**30 * 0.85
        self.vram_budget = int(vram_budget_gb * 2**30) if vram_budget_gb else None
        self._models: OrderedDict[tuple, Any] = OrderedDict()  # key -> loaded model (LRU order)
        self._sizes: dict[tuple, int] = {}  # key -> entry_bytes of the loaded model, measured once
        self._resident: OrderedDict[int, torch.nn.Module] = OrderedDict()  # id -> module on device (LRU)
        self._lock = threading.RLock()
        self._streams: dict[int, BlockStream] = {}  # id -> a module run block by block (--lowvram)
        self._placed_sizes: dict[int, int] = {}  # id -> bytes of each module placed so far (use_text_encoder)
        self.loads = 0  # models loaded from disk (cache misses) since start: what Ray's affinity saves

    # dtype policy -----------------------------------------------------------------------------
    def dtype(self, kind: str = "unet") -> torch.dtype:
        """The dtype of ``kind`` ("unet", "vae", "text"; "clip" is "text"): a per-kind flag first, then
        --force-fp32/--force-fp16 (which leaves the VAE out of fp16), then the device's default: fp32 on
        CPU; fp16 on GPUs (bf16 where supported); the VAE stays fp32 on devices without bf16 (fp16 VAEs
        overflow to NaN)."""
        kind = _kind(kind)
        if kind in self.dtypes:
            return self.dtypes[kind]
        if self.force_dtype is not None and (kind != "vae" or self.force_dtype == torch.float32):
            return self.force_dtype
        if self.device.type == "cpu":
            return torch.float32
        if self.device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32 if kind == "vae" else torch.float16

    def prepare(self, module: torch.nn.Module, kind: str) -> torch.nn.Module:
        """Put a freshly loaded ``module`` of ``kind`` in the layout the fast-mode flags ask for (the
        loaders call it once per module): for "unet", channels_last memory format (--force-channels-last)
        and dynamic int8 linear layers on the CPU (--int8-linear). Changes ``module`` in place and returns
        it; calling it again is a no-op."""
        return prepare_module(self, module, _kind(kind))

    def compiled(self, module: torch.nn.Module, backend: str) -> Callable[..., Any]:
        """``torch.compile(module, backend=backend)``, made once per module and backend and shared by
        every clone and prompt using ``module`` (TorchCompileModel)."""
        with self._lock:
            return compiled_module(module, backend)

    # the model cache --------------------------------------------------------------------------
    def load(self, key: tuple, factory: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        value = factory()
        size = entry_bytes(value)
        with self._lock:
            self.loads += 1
            self._models[key] = value
            self._sizes[key] = size
            self._models.move_to_end(key)
            self._trim_ram(keep=key)
        return value

    def cached_keys(self) -> list[tuple]:
        with self._lock:
            return list(self._models)

    def cached_bytes(self) -> int:
        """Bytes of every model in the cache (what the RAM budget counts)."""
        with self._lock:
            return sum(self._sizes.values())

    def _trim_ram(self, keep: tuple) -> None:
        total = sum(self._sizes.values())
        for key in list(self._models):
            if total <= self.ram_budget:
                break
            if key == keep:
                continue
            self._models.pop(key)
            total -= self._sizes.pop(key)
            log.info("model cache over budget (%d of %d bytes): dropped %s", total, self.ram_budget, key[:2])

    # device placement -------------------------------------------------------------------------
    @contextlib.contextmanager
    def use(self, *modules: torch.nn.Module) -> Iterator[torch.device]:
        """Place ``modules`` on the compute device for the duration of the block. Running out of
        memory unloads every model and raises an error that says what to do."""
        on_device = self.places_modules()
        try:
            if on_device:
                with self._lock:
                    self._make_room(sum(module_bytes(m) for m in modules), keep={id(m) for m in modules})
                    for m in modules:
                        self._place(m)
                        self._resident[id(m)] = m
                        self._resident.move_to_end(id(m))
            yield self.device
        except torch.OutOfMemoryError as exc:
            self.free()
            raise OutOfMemory(
                f"out of memory on {self.device} ({str(exc).splitlines()[0][:160]}); every model "
                "was unloaded so the next prompt starts clean. Try a smaller image or batch, "
                "--lowvram, or --force-fp16."
            ) from None
        finally:
            if on_device and self.lowvram:
                with self._lock:
                    for m in modules:
                        self._offload(id(m))

    def _make_room(self, need: int, keep: set[int]) -> None:
        if self.vram_budget is None:
            return
        used = sum(module_bytes(m) for m in self._resident.values())
        for key in list(self._resident):
            if used + need <= self.vram_budget:
                break
            if key in keep:
                continue
            used -= module_bytes(self._resident[key])
            self._offload(key)

    def _offload(self, key: int) -> None:
        module = self._resident.pop(key, None)
        if module is not None:
            self._unplace(module)

    # placement details: --lowvram streaming, text encoders ---------------------------------------
    def places_modules(self) -> bool:
        """Whether ``use`` moves modules (a compute device apart from the offload device)."""
        return self.device != self.offload_device

    def _place(self, module: torch.nn.Module) -> None:
        """The whole module onto the device; with --lowvram a module over the VRAM budget is run block
        by block instead (``BlockStream``), so the device never holds more than the budget."""
        size = module_bytes(module)
        self._placed_sizes[id(module)] = size
        if self.lowvram and self.vram_budget is not None and size > self.vram_budget:
            if id(module) not in self._streams:
                self._streams[id(module)] = BlockStream(module, self.device, self.offload_device, self.vram_budget)
            return
        module.to(self.device)

    def _unplace(self, module: torch.nn.Module) -> None:
        stream = self._streams.pop(id(module), None)
        if stream is not None:
            stream.close()
        module.to(self.offload_device)

    def device_bytes(self) -> int:
        """Bytes on the device now: resident modules, and what streamed ones hold at this moment."""
        with self._lock:
            return sum(
                self._streams[key].live_bytes if key in self._streams else module_bytes(m)
                for key, m in self._resident.items()
            )

    def text_encoder_device(self) -> torch.device:
        """Where text encoders run: the CPU with --lowvram (as ComfyUI's text_encoder_device), else the device."""
        return self.offload_device if self.lowvram else self.device

    @contextlib.contextmanager
    def use_text_encoder(self, module: torch.nn.Module) -> Iterator[torch.device]:
        """``use`` for a text encoder. With --lowvram it stays on the CPU. Otherwise, when VRAM is short
        (the encoder and the biggest module placed before, e.g. the diffusion model of the last prompt,
        do not fit the budget together), it is offloaded as soon as the encoding is done, so the big T5
        never waits on the device for LRU eviction."""
        if self.lowvram or not self.places_modules():
            yield self.text_encoder_device()
            return
        with self.use(module) as device:
            yield device
        with self._lock:
            others = max((n for key, n in self._placed_sizes.items() if key != id(module)), default=0)
            if self.vram_budget is not None and module_bytes(module) + others > self.vram_budget:
                self._offload(id(module))

    def free(self) -> None:
        """Unload every model (the /free route with unload_models, and after out-of-memory)."""
        with self._lock:
            for key in list(self._resident):
                self._offload(key)
            self._models.clear()
            self._sizes.clear()
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def stats(self) -> dict:
        """Device list in the /system_stats shape."""
        dev = self.device
        entry = {"name": str(dev), "type": dev.type, "index": dev.index or 0}
        if dev.type == "cuda":
            free, total = torch.cuda.mem_get_info(dev)
            entry.update(
                vram_total=total,
                vram_free=free,
                torch_vram_total=torch.cuda.memory_reserved(dev),
                torch_vram_free=torch.cuda.memory_reserved(dev) - torch.cuda.memory_allocated(dev),
            )
        else:
            entry.update(vram_total=0, vram_free=0, torch_vram_total=0, torch_vram_free=0)
        with self._lock:
            entry["models_loaded"] = len(self._models)
            entry["models_bytes"] = sum(self._sizes.values())
        return entry
