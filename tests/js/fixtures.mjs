// Shared /object_info entries for the editor model tests.

export const INFO = {
  EmptyImage: { input: { required: { width: ["INT", { default: 512, min: 1, max: 16384 }], height: ["INT", { default: 512 }] } },
    input_order: { required: ["width", "height"] }, output: ["IMAGE"], output_name: ["IMAGE"], category: "image" },
  ImageInvert: { input: { required: { image: ["IMAGE"] } }, output: ["IMAGE"], output_name: ["IMAGE"], category: "image" },
  KSampler: { input: { required: { seed: ["INT", { default: 0, control_after_generate: true }], latent_image: ["LATENT"] } },
    output: ["LATENT"], output_name: ["LATENT"], category: "sampling" },
};
