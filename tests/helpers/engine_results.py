"""Read what an engine run saved."""

from safetensors.torch import load_file


def latent_of(env, result, node="6"):
    assert result.status == "success", result.error
    record = result.outputs[node]["latents"][0]
    return load_file(str(env.output_dir / record["subfolder"] / record["filename"]))["latent_tensor"]
