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

const source = new EventSource(`${data.progress_url}?_xsrf=${encodeURIComponent(data.xsrf_token)}`);
source.onmessage = (e) => {
  const evt = JSON.parse(e.data);
  show(evt);
  if (evt.ready) {
    source.close();
    bar.classList.add("done");
    window.location.replace(data.next_url || evt.url);
  } else if (evt.failed) {
    source.close();
    bar.classList.add("failed");
    errorBox.textContent = evt.message;
    errorBox.classList.remove("hidden");
    actions.classList.remove("hidden");
    document.querySelector("#spawn-pending h1").textContent = "Spawn failed";
  }
};
source.onerror = () => {
  // The stream ended without a final event (hub restart): look again in a moment.
  source.close();
  setTimeout(() => window.location.reload(), 2000);
};
