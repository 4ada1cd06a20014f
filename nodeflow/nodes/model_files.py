"""What loader nodes share: a model file's identity and fingerprint (cache keys), the model
manager's cache, CLIP outputs that know the embeddings folders, text encoders joined from files."""

from __future__ import annotations

from pathlib import Path


def file_identity(path: Path) -> tuple:
    st = path.stat()
    return (str(path), st.st_size, st.st_mtime_ns)


def model_fingerprint(env, kind: str, name: str) -> str:
    try:
        path = env.model_path(kind, name)
        st = path.stat()
    except (OSError, ValueError):
        return f"missing:{kind}/{name}"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def cached(ctx, key: tuple, factory):
    manager = getattr(ctx, "models", None)
    return manager.load(key, factory) if manager is not None else factory()


def manager(ctx):
    return getattr(ctx, "models", None)


def clip_output(ctx, clip):
    """A clone of ``clip`` that knows the embeddings folders (custom nodes tokenize with ``clip.tokenize``)."""
    if clip is None:
        return None
    clip = clip.clone()
    env = getattr(ctx, "env", None)
    if env is not None:
        clip.embedding_directory = [str(p) for p in env.model_paths.get("embeddings", [])]
    return clip


def find_embedding(ctx):
    """The embedding lookup a CLIP encode uses (names from the embeddings folders)."""
    from nodeflow.models.embeddings import embedding_finder

    env = getattr(ctx, "env", None)
    return embedding_finder(list(env.model_paths.get("embeddings", []))) if env is not None else None


def load_text_encoders(ctx, names: list[str], clip_type: str):
    from nodeflow.models.checkpoint_file import load_state_dict
    from nodeflow.models.text_towers import clip_from_files

    paths = [ctx.env.model_path("text_encoders", name) for name in names]
    key = ("clip_files", clip_type, *(file_identity(p) for p in paths))
    clip = cached(
        ctx, key, lambda: clip_from_files([(p.name, load_state_dict(p)) for p in paths], clip_type, manager(ctx))
    )
    return clip_output(ctx, clip)
