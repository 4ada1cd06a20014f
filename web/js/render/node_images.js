// Which images a node shows: the run's outputs (runtime.images), else for a node with an image
// upload widget (Load Image) the file its widget names, so a file picked from the list shows at
// once and again after a reload. Also the pager state of a batch (runtime.pager, per tab).
import { imageRef, viewPath } from "../model/image_refs.js";
import { inputSpecs, options } from "../model/types.js";

const UPLOAD = new WeakMap(); // object_info entry -> the name of its image-upload widget ("" for none)

/** The name of the widget that holds an uploaded image's file name, or "". */
export function uploadWidget(info) {
  if (!info) return "";
  let name = UPLOAD.get(info);
  if (name === undefined) {
    name = (inputSpecs(info).find(({ spec }) => options(spec).image_upload) || {}).name || "";
    UPLOAD.set(info, name);
  }
  return name;
}

/** The picture of an upload widget's file: a stable [url] per value (the pager keys on arrays). */
function inputImages(runtime, node, info) {
  const name = uploadWidget(info);
  if (!name || node.inputs.some((i) => i.name === name)) return null; // converted to a socket: no file of its own
  const value = node.widgets[name];
  const ref = imageRef(value);
  if (!ref) return null;
  const cache = runtime.inputImages || (runtime.inputImages = new Map());
  let entry = cache.get(node.id);
  if (!entry || entry.value !== value) cache.set(node.id, (entry = { value, urls: [viewPath(ref)] }));
  return entry.urls;
}

/** The image URLs `node` shows (newest run's outputs first), or null. */
export function nodeImages(state, node, info) {
  const urls = state.runtime.images.get(node.id);
  if (urls && urls.length) return urls;
  return inputImages(state.runtime, node, info);
}

/** -1 for the grid of a batch, else the index shown large (reset when new images arrive). */
export function pagerIndex(runtime, nodeId, urls) {
  const entry = runtime.pager && runtime.pager.get(nodeId);
  return entry && entry.urls === urls ? entry.index : -1;
}

export function setPagerIndex(runtime, nodeId, urls, index) {
  if (!runtime.pager) runtime.pager = new Map();
  runtime.pager.set(nodeId, { urls, index: index < 0 ? -1 : index % urls.length }); // -1: the grid
}

/** The image a menu or the mask editor acts on: the one shown large, else the first. */
export function currentImage(state, node, info) {
  const urls = nodeImages(state, node, info);
  if (!urls) return null;
  return urls[Math.max(0, pagerIndex(state.runtime, node.id, urls))];
}
