// The spawn-pending page: follow the server's progress stream and go to the server when ready.
const data = window.jhdata;
const bar = document.getElementById("progress-bar");
const barBox = bar.parentElement;
const message = document.getElementById("progress-message");
const log = document.getElementById("progress-log");
const errorBox = document.getElementById("progress-error");
const actions = document.getElementById("progress-actions");

function show(evt) {
  if (typeof evt.progress === "number") {
    bar.style.width = `${evt.progress}%`;
    barBox.setAttribute("aria-valuenow", String(evt.progress));
  }
  const text = evt.message || "";
  message.textContent = text;
  const line = document.createElement("div");
  line.className = "progress-log-event";
  line.textContent = text;
  log.appendChild(line);
}

// A failed start: the page stops promising a redirect and says why once, in the error box
// (the message ends with the server's last lines of output, so it is kept as written).
function showFailure(evt) {
  bar.style.width = "100%";
  barBox.setAttribute("aria-valuenow", "100");
  bar.classList.add("failed");
  message.textContent = "";
  document.getElementById("progress-redirect").classList.add("hidden");
  errorBox.textContent = evt.message || "Spawn failed";
  errorBox.classList.remove("hidden");
  actions.classList.remove("hidden");
  document.querySelector("#spawn-pending h1").textContent = "Spawn failed";
}

const source = new EventSource(`${data.progress_url}?_xsrf=${encodeURIComponent(data.xsrf_token)}`);
source.onmessage = (e) => {
  const evt = JSON.parse(e.data);
  if (evt.failed) {
    source.close();
    showFailure(evt);
    return;
  }
  show(evt);
  if (evt.ready) {
    source.close();
    bar.classList.add("done");
    window.location.replace(data.next_url || evt.url);
  }
};
source.onerror = () => {
  // The stream ended without a final event (hub restart): look again in a moment.
  source.close();
  setTimeout(() => window.location.reload(), 2000);
};
