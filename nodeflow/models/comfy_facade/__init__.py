"""ComfyUI's object interfaces over NodeFlow's own MODEL, CLIP and VAE objects.

ComfyUI custom-node packs receive NodeFlow's objects unchanged and call ComfyUI's methods on them
(``model.clone()``, ``model.model_options``, ``model.add_patches(...)``, ``clip.tokenize(...)``,
``vae.decode_tiled(...)``). Those methods live here as mixins that ``DiffusionModel``, ``CLIP`` and
``VAE`` inherit, written against NodeFlow's own pieces (weight patches, families, schedules). Nothing
here imports the ``comfy`` shim package: ``nodeflow/comfy_compat/modules/comfy/*`` re-exports these
classes under ComfyUI's names and registers NodeFlow's classes as ComfyUI's (``isinstance`` holds).

- ``state.py``: what a clone carries for ComfyUI code (model_options, object patches, wrappers ...)
- ``keys.py``: ComfyUI's weight names <-> NodeFlow module parameters
- ``weights.py``: ComfyUI patch values (diff, set, lora, loha, lokr, merged models) -> weight deltas
- ``wrappers.py``: ComfyUI's wrapper/callback protocol (WrapperExecutor, names of the points)
- ``model_sampling.py``, ``latent_formats.py``, ``base_model.py``: ``model.model`` and its parts
- ``patcher.py`` + ``patcher_options.py``: the ModelPatcher interface; ``clip.py``, ``vae.py``
"""
