// Example editor extension: marks the example node's title when it is created.
// Uses the hook API described in docs/plugins.md (window.nodeflow.registerExtension).
const extension = {
  name: "example_pack.vignette",
  nodeCreated(node) {
    if (node.type === "ExampleVignette") node.color = "#4a3a6a";
  },
};

if (window.nodeflow && typeof window.nodeflow.registerExtension === "function") {
  window.nodeflow.registerExtension(extension);
} else {
  (window.nodeflowPendingExtensions ||= []).push(extension);
}
