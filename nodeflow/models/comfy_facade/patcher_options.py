"""ComfyUI's ModelPatcher interface: ``model_options`` and what is registered in it.

NodeFlow's sampler honours, on every sampling path (NodeFlow's own KSampler nodes too):
``sampler_cfg_function``, ``sampler_pre_cfg_function`` / ``sampler_post_cfg_function`` lists,
``model_function_wrapper``, ``denoise_mask_function``, ``disable_cfg1_optimization`` and the
``apply_model`` wrappers; patcher callbacks ``on_pre_run`` / ``on_cleanup`` run around each
sampling. The comfy.samplers entry points (CFGGuider, KSampler, comfy.sample) also run the
``outer_sample``, ``sampler_sample`` and ``predict_noise`` wrappers. UNet block and attention
patches (``set_model_attn2_patch`` and friends) are stored as ComfyUI stores them, but NodeFlow's
UNet does not run them: sampling a MODEL that carries them raises an error naming them."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator
from typing import Any

from .state import clone_model_options
from .wrappers import CallbacksMP


class PatcherOptions:
    @property
    def model_options(self) -> dict:
        return self.facade_state.model_options

    @model_options.setter
    def model_options(self, value: dict) -> None:
        self.facade_state.model_options = value

    @property
    def object_patches(self) -> dict:
        return self.facade_state.object_patches

    def _transformer_options(self) -> dict:
        return self.model_options.setdefault("transformer_options", {})

    # ---- guidance hooks --------------------------------------------------------------------------
    def set_model_sampler_cfg_function(
        self, sampler_cfg_function: Callable, disable_cfg1_optimization: bool = False
    ) -> None:
        fn = sampler_cfg_function
        if len(inspect.signature(fn).parameters) == 3:  # the old (cond, uncond, cond_scale) form
            self.model_options["sampler_cfg_function"] = lambda args: fn(
                args["cond"], args["uncond"], args["cond_scale"]
            )
        else:
            self.model_options["sampler_cfg_function"] = fn
        if disable_cfg1_optimization:
            self.model_options["disable_cfg1_optimization"] = True

    def set_model_sampler_post_cfg_function(
        self, post_cfg_function: Callable, disable_cfg1_optimization: bool = False
    ) -> None:
        self.model_options["sampler_post_cfg_function"] = [
            *self.model_options.get("sampler_post_cfg_function", []),
            post_cfg_function,
        ]
        if disable_cfg1_optimization:
            self.model_options["disable_cfg1_optimization"] = True

    def set_model_sampler_pre_cfg_function(
        self, pre_cfg_function: Callable, disable_cfg1_optimization: bool = False
    ) -> None:
        self.model_options["sampler_pre_cfg_function"] = [
            *self.model_options.get("sampler_pre_cfg_function", []),
            pre_cfg_function,
        ]
        if disable_cfg1_optimization:
            self.model_options["disable_cfg1_optimization"] = True

    def set_model_sampler_calc_cond_batch_function(self, fn: Callable) -> None:
        self.model_options["sampler_calc_cond_batch_function"] = fn

    def set_model_unet_function_wrapper(self, unet_wrapper_function: Callable) -> None:
        self.model_options["model_function_wrapper"] = unet_wrapper_function

    def set_model_denoise_mask_function(self, denoise_mask_function: Callable) -> None:
        self.model_options["denoise_mask_function"] = denoise_mask_function

    # ---- UNet patches (stored; see the module docstring) -------------------------------------------
    def set_model_patch(self, patch: Any, name: str) -> None:
        self._transformer_options().setdefault("patches", {}).setdefault(name, []).append(patch)

    def set_model_patch_replace(
        self, patch: Any, name: str, block_name: str, number: int, transformer_index: int | None = None
    ) -> None:
        block = (block_name, number) if transformer_index is None else (block_name, number, transformer_index)
        self._transformer_options().setdefault("patches_replace", {}).setdefault(name, {})[block] = patch

    def set_model_attn1_patch(self, patch: Any) -> None:
        self.set_model_patch(patch, "attn1_patch")

    def set_model_attn2_patch(self, patch: Any) -> None:
        self.set_model_patch(patch, "attn2_patch")

    def set_model_attn1_replace(
        self, patch: Any, block_name: str, number: int, transformer_index: int | None = None
    ) -> None:
        self.set_model_patch_replace(patch, "attn1", block_name, number, transformer_index)

    def set_model_attn2_replace(
        self, patch: Any, block_name: str, number: int, transformer_index: int | None = None
    ) -> None:
        self.set_model_patch_replace(patch, "attn2", block_name, number, transformer_index)

    def set_model_attn1_output_patch(self, patch: Any) -> None:
        self.set_model_patch(patch, "attn1_output_patch")

    def set_model_attn2_output_patch(self, patch: Any) -> None:
        self.set_model_patch(patch, "attn2_output_patch")

    def set_model_input_block_patch(self, patch: Any) -> None:
        self.set_model_patch(patch, "input_block_patch")

    def set_model_input_block_patch_after_skip(self, patch: Any) -> None:
        self.set_model_patch(patch, "input_block_patch_after_skip")

    def set_model_output_block_patch(self, patch: Any) -> None:
        self.set_model_patch(patch, "output_block_patch")

    def set_model_forward_timestep_embed_patch(self, patch: Any) -> None:
        self.set_model_patch(patch, "forward_timestep_embed_patch")

    def set_model_emb_patch(self, patch: Any) -> None:
        self.set_model_patch(patch, "emb_patch")

    def unet_patches(self) -> list[str]:
        """Names of the UNet patches this MODEL carries that NodeFlow's UNet would not run."""
        to = self.model_options.get("transformer_options", {})
        return sorted(
            [n for n, fns in to.get("patches", {}).items() if fns]
            + [n for n, blocks in to.get("patches_replace", {}).items() if blocks]
        )

    # ---- wrappers and callbacks --------------------------------------------------------------------
    def add_wrapper_with_key(self, wrapper_type: str, key: str, wrapper: Callable) -> None:
        self._transformer_options().setdefault("wrappers", {}).setdefault(wrapper_type, {}).setdefault(key, []).append(
            wrapper
        )

    def add_wrapper(self, wrapper_type: str, wrapper: Callable) -> None:
        self.add_wrapper_with_key(wrapper_type, None, wrapper)

    def get_wrappers(self, wrapper_type: str, key: str) -> list:
        return self._transformer_options().get("wrappers", {}).get(wrapper_type, {}).get(key, [])

    def remove_wrappers_with_key(self, wrapper_type: str, key: str) -> None:
        self._transformer_options().get("wrappers", {}).get(wrapper_type, {}).pop(key, None)

    def add_callback_with_key(self, call_type: str, key: str, callback: Callable) -> None:
        self.facade_state.callbacks.setdefault(call_type, {}).setdefault(key, []).append(callback)

    def add_callback(self, call_type: str, callback: Callable) -> None:
        self.add_callback_with_key(call_type, None, callback)

    def get_callbacks(self, call_type: str, key: str) -> list:
        return self.facade_state.callbacks.get(call_type, {}).get(key, [])

    def get_all_callbacks(self, call_type: str) -> list:
        return [fn for fns in self.facade_state.callbacks.get(call_type, {}).values() for fn in fns]

    def remove_callbacks_with_key(self, call_type: str, key: str) -> None:
        self.facade_state.callbacks.get(call_type, {}).pop(key, None)

    def pre_run(self) -> None:
        for callback in self.get_all_callbacks(CallbacksMP.ON_PRE_RUN):
            callback(self)

    def cleanup(self) -> None:
        for callback in self.get_all_callbacks(CallbacksMP.ON_CLEANUP):
            callback(self)

    def prepare_state(self, timestep: Any) -> None:
        for callback in self.get_all_callbacks(CallbacksMP.ON_PREPARE_STATE):
            callback(self, timestep)

    @contextlib.contextmanager
    def sampling_session(self) -> Iterator[None]:
        """Around one sampling run: refuse UNet patches NodeFlow cannot run; pre-run and cleanup callbacks."""
        unsupported = self.unet_patches()
        if unsupported:
            raise NotImplementedError(
                f"this MODEL carries ComfyUI UNet patches NodeFlow's UNet does not run "
                f"({', '.join(unsupported)}); the custom node that added them is not supported yet"
            )
        self.pre_run()
        try:
            yield
        finally:
            self.cleanup()

    # ---- additional models and attachments -----------------------------------------------------------
    def set_additional_models(self, key: str, models: list) -> None:
        self.facade_state.additional_models[key] = list(models)

    def remove_additional_models(self, key: str) -> None:
        self.facade_state.additional_models.pop(key, None)

    def get_additional_models_with_key(self, key: str) -> list:
        return self.facade_state.additional_models.get(key, [])

    def get_additional_models(self) -> list:
        return [m for models in self.facade_state.additional_models.values() for m in models]

    def set_attachments(self, key: str, attachment: Any) -> None:
        self.facade_state.attachments[key] = attachment

    def get_attachment(self, key: str) -> Any:
        return self.facade_state.attachments.get(key)

    def remove_attachments(self, key: str) -> None:
        self.facade_state.attachments.pop(key, None)

    def set_injections(self, key: str, injections: list) -> None:
        self.facade_state.injections[key] = list(injections)

    def get_injections(self, key: str) -> list:
        return self.facade_state.injections.get(key, [])

    def copy_model_options(self) -> dict:
        return clone_model_options(self.model_options)
