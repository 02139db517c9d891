// The token page: request a new API token, revoke existing ones.
import { api, encodeName } from "./jhapi.js";

const user = window.jhdata.user;
const form = document.getElementById("request-token-form");
const errorBox = document.getElementById("token-error");

function fail(message) {
  errorBox.textContent = message;
  errorBox.classList.remove("hidden");
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errorBox.classList.add("hidden");
  const note = document.getElementById("token-note").value;
  const expires = parseInt(document.getElementById("token-expiration-seconds").value, 10);
  const scopeText = document.getElementById("token-scopes").value.trim();
  const body = { note: note || "Requested via token page" };
  if (expires > 0) body.expires_in = expires;
  if (scopeText) body.scopes = scopeText.split(/[\s,]+/).filter((s) => s);
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const { body: reply } = await api("POST", `/users/${encodeName(user)}/tokens`, body);
    document.getElementById("token-result").textContent = reply.token;
    document.getElementById("token-area").style.display = "block";
  } catch (err) {
    fail(err.message);
  } finally {
    button.disabled = false;
  }
});

for (const button of document.querySelectorAll(".revoke-token-btn")) {
  button.addEventListener("click", async () => {
    const row = button.closest("tr");
    const id = row.dataset.tokenId;
    button.disabled = true;
    try {
      await api("DELETE", `/users/${encodeName(user)}/tokens/${encodeName(id)}`);
      row.remove();
    } catch (err) {
      button.disabled = false;
      fail(err.message);
    }
  });
}
