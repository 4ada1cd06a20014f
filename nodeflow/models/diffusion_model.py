"""The MODEL socket's object: a denoising UNet with its family, prediction type, noise schedule
and this clone's weight patches. ``apply`` runs the raw network on the compute device. It is also
ComfyUI's ModelPatcher for custom-node packs (``comfy_facade``: ``model_options``, ``add_patches``,
``model.model`` ...); what those set travels with the clone in ``facade_state``."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace

import torch

from .comfy_facade.patcher import ModelPatcherFacade
from .comfy_facade.state import FacadeState
from .family import ModelFamily, family_named
from .kernels import prepare_network
from .latent_format import LatentFormat
from .patching import PatchedModule


@dataclass
class DiffusionModel(ModelPatcherFacade):
    """A denoising network of one model family (``family`` is the variant: prediction type and
    inpainting included; everything family-specific is asked of it)."""

    unet: PatchedModule  # wraps the family's network (a diffusers UNet2DConditionModel for SD)
    family: ModelFamily
    # LATENT -> RGB preview projection fitted to the checkpoint's VAE: its rows, or a callable fitting
    # them on first use (``vae_model.LazyRGBFit``: the fit encodes colours, a second of every cold load)
    rgb_fit: object = None
    preview_vae: object = None  # a VAE small enough to decode every step's preview (else the projection)
    manager: object = None
    source: str = ""
    compiled: object = None  # TorchCompileModel: a CompiledNetwork calling the shared torch.compile'd network
    facade_state: FacadeState = field(default_factory=FacadeState, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.family, str):
            self.family = family_named(self.family)
        prepare_network(self.unet.module, self.manager)
        prepare = getattr(self.manager, "prepare", None)  # --force-channels-last / --int8-linear, once per module
        if prepare is not None:
            prepare(self.unet.module, "unet")

    def clone(self) -> DiffusionModel:
        return replace(self, unet=self.unet.clone(), facade_state=self.facade_state.copy())

    @property
    def latent_rgb_factors(self) -> list | None:
        fit = self.rgb_fit
        return fit() if callable(fit) else fit

    @latent_rgb_factors.setter
    def latent_rgb_factors(self, rows: list | None) -> None:
        self.rgb_fit = rows

    @property
    def sampling_override(self):
        """A ComfyUI ModelSampling put on this clone (``add_object_patch("model_sampling", ...)``), or None."""
        return self.facade_state.object_patches.get("model_sampling")

    @property
    def prediction(self) -> str:
        override = getattr(self.sampling_override, "prediction", None)
        return override if override is not None else self.family.prediction

    @property
    def latent_format(self) -> LatentFormat:
        return self.family.latent_format

    @property
    def latent_channels(self) -> int:
        return self.family.latent_channels

    @property
    def in_channels(self) -> int:
        return (
            int(self.unet.module.config.in_channels) // self.family.patch_channels
            if hasattr(self.unet.module, "config")
            else self.latent_channels
        )

    def process_latent_in(self, latent: torch.Tensor) -> torch.Tensor:
        return self.latent_format.process_in(latent)

    def process_latent_out(self, latent: torch.Tensor) -> torch.Tensor:
        return self.latent_format.process_out(latent)

    @property
    def schedule(self):
        """The family's noise schedule (the discrete SD one for SD1/SD2/SDXL), or that of a
        ModelSampling object patched onto this clone."""
        override = getattr(self.sampling_override, "schedule", None)
        return override if override is not None else self.family.schedule()

    @property
    def device(self) -> torch.device:
        return self.manager.device if self.manager is not None else torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        """The compute dtype (weights stored in fp8 compute in their layerwise-casting dtype)."""
        compute = getattr(self.unet.module, "nodeflow_compute_dtype", None)
        return compute if compute is not None else next(self.unet.module.parameters()).dtype

    def placed(self):
        """Context manager: weights patched for this clone and on the compute device."""
        self.unet.activate()
        if self.manager is None:
            return contextlib.nullcontext(torch.device("cpu"))
        return self.manager.use(self.unet.module)

    def adm(self, options: dict, batch: int, height: int, width: int) -> dict | None:
        """The family's extra conditioning (SDXL's pooled text and size ids), or None."""
        extra = self.family.extra_conds
        return extra(options, batch, height, width) if extra is not None else None

    def apply(
        self,
        x: torch.Tensor,
        timestep: torch.Tensor,
        context: torch.Tensor,
        y: dict | None = None,
        concat: torch.Tensor | None = None,
        control=None,
    ) -> torch.Tensor:
        """Raw network output (eps or v) for ``x`` already scaled by 1/sqrt(sigma²+1). ``control``:
        ``(x, timestep, context, y)`` -> ControlNet / T2I-Adapter residuals (or None) to add."""
        residuals = control(x, timestep, context, y) if control is not None else None
        if concat is not None:
            x = torch.cat([x, concat.to(x)], dim=1)
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"this model takes {self.in_channels} input channels, got {x.shape[1]}"
                + (": an inpainting model needs InpaintModelConditioning" if self.in_channels == 9 else "")
            )
        with self.placed() as device:
            dtype = self.dtype
            added = None
            if y is not None:
                added = {k: v.to(device=device, dtype=dtype) for k, v in y.items()}
            if self.family.forward is not None:
                if residuals is not None:
                    raise ValueError(f"ControlNets and T2I-Adapters guide UNet models; {self.family.label} has none")
                out = self.family.forward(
                    self.compiled if self.compiled is not None else self.unet.module,
                    x.to(device=device, dtype=dtype),
                    timestep.to(device=device, dtype=dtype),
                    context.to(device=device, dtype=dtype),
                    added,
                )
            else:
                network = self.compiled if self.compiled is not None else self.unet.module
                out = network(
                    x.to(device=device, dtype=dtype),
                    timestep.to(device=device, dtype=torch.float32),
                    encoder_hidden_states=context.to(device=device, dtype=dtype),
                    added_cond_kwargs=added,
                    return_dict=False,
                    **(residuals.unet_kwargs(device, dtype) if residuals is not None else {}),
                )[0]
        return out.to(device=x.device, dtype=torch.float32)

    def memory_bytes(self) -> int:
        return sum(p.numel() * p.element_size() for p in self.unet.module.parameters())
