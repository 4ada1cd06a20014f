"""NodeFlow's own networks (same module trees, names and numbers as the diffusers / transformers classes)."""

from .. import meta_build  # noqa: F401 -- imported for its effect: layers built on the meta device skip initialising
