// Calls to the hub's REST API with the page's session cookie and XSRF token.
const data = window.jhdata || {};

export function apiUrl(path) {
  return `${data.base_url}api${path}`;
}

export async function api(method, path, body) {
  const options = {
    method,
    headers: { "X-XSRFToken": data.xsrf_token, Accept: "application/json" },
    credentials: "same-origin",
  };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(apiUrl(path), options);
  let payload = null;
  const text = await response.text();
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = { message: text };
    }
  }
  if (!response.ok) {
    const message = (payload && payload.message) || `${response.status} ${response.statusText}`;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return { status: response.status, body: payload };
}

export function encodeName(name) {
  return encodeURIComponent(name);
}

export function showError(message) {
  const dialog = document.getElementById("error-dialog");
  if (!dialog) {
    alert(message);
    return;
  }
  dialog.querySelector(".ajax-error").textContent = message;
  dialog.hidden = false;
  dialog.querySelector("[data-close]").onclick = () => {
    dialog.hidden = true;
  };
}
