// A status page until the canvas editor lands: node library by category and the live queue.
const $ = (id) => document.getElementById(id);

async function loadNodes() {
  const info = await (await fetch("object_info")).json();
  const names = Object.keys(info);
  $("nodes").textContent = String(names.length);
  const byCategory = new Map();
  for (const name of names) {
    const category = info[name].category || "misc";
    if (!byCategory.has(category)) byCategory.set(category, []);
    byCategory.get(category).push(info[name].display_name || name);
  }
  const list = $("categories");
  list.replaceChildren();
  for (const [category, nodes] of [...byCategory].sort()) {
    const item = document.createElement("li");
    item.textContent = `${category}: ${nodes.sort().join(", ")}`;
    list.append(item);
  }
}

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${proto}://${location.host}/ws`);
  socket.addEventListener("open", () => { $("state").textContent = "Connected."; });
  socket.addEventListener("message", (event) => {
    if (typeof event.data !== "string") return;
    const msg = JSON.parse(event.data);
    if (msg.type === "status") $("queue").textContent = `${msg.data.status.exec_info.queue_remaining} remaining`;
  });
  socket.addEventListener("close", () => {
    $("state").textContent = "Disconnected; reconnecting…";
    setTimeout(connect, 1000);
  });
}

loadNodes().catch((err) => { $("state").textContent = `Could not load nodes: ${err}`; });
connect();
