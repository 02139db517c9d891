// The home page: stop the default server, and start, stop or delete named servers.
import { api, encodeName, showError } from "./jhapi.js";

const data = window.jhdata;
const user = encodeName(data.user);
const status = document.getElementById("server-status");

function serverPath(name) {
  return name ? `/users/${user}/servers/${encodeName(name)}` : `/users/${user}/server`;
}

async function waitStopped(name) {
  // Polls the user model until the server is gone (bounded: 2 minutes).
  for (let i = 0; i < 240; i++) {
    const { body } = await api("GET", `/users/${user}`);
    const servers = body.servers || {};
    if (!servers[name]) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error("The server is taking long to stop; reload the page later.");
}

async function stop(name, button) {
  button.setAttribute("aria-disabled", "true");
  status.textContent = "Stopping…";
  try {
    const { status: code } = await api("DELETE", serverPath(name));
    if (code === 202) await waitStopped(name);
    window.location.reload();
  } catch (err) {
    status.textContent = "";
    button.removeAttribute("aria-disabled");
    showError(err.message);
  }
}

const stopButton = document.getElementById("stop");
if (stopButton) stopButton.addEventListener("click", () => stop("", stopButton));

for (const row of document.querySelectorAll(".home-server-row[data-server-name]")) {
  const name = row.dataset.serverName;
  const stopNamed = row.querySelector(".stop-server");
  const deleteNamed = row.querySelector(".delete-server");
  if (stopNamed) stopNamed.addEventListener("click", () => stop(name, stopNamed));
  if (deleteNamed)
    deleteNamed.addEventListener("click", async () => {
      try {
        await api("DELETE", serverPath(name), { remove: true });
        row.remove();
      } catch (err) {
        showError(err.message);
      }
    });
}

const addButton = document.querySelector(".new-server-btn");
if (addButton)
  addButton.addEventListener("click", () => {
    const input = document.querySelector(".new-server-name");
    const name = input.value.trim();
    if (!name) {
      showError("Give the new server a name.");
      return;
    }
    window.location.href = `${data.base_url}spawn/${user}/${encodeName(name)}`;
  });
