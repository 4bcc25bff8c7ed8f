// /app/admin/channels: copy buttons, the connection test without a page load, the live "last event received",
// and the widget editor's live preview. The screens work without it (plain forms).
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

for (const button of document.querySelectorAll("[data-copy]")) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const text = document.getElementById(button.dataset.copy).textContent;
    const label = button.textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "✓";
    } catch {
      const range = document.createRange();  // no clipboard access: select it for Ctrl+C
      range.selectNodeContents(document.getElementById(button.dataset.copy));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
    }
    setTimeout(() => (button.textContent = label), 1500);
  });
}

// the connection test and the webhook registration: one provider call, its outcome shown in place
for (const form of document.querySelectorAll("[data-connection-test]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const output = form.querySelector("output");
    const button = form.querySelector("button");
    button.disabled = true;
    output.textContent = "…";
    try {
      const response = await fetch(form.action, { method: "POST", headers: { "X-CSRFToken": csrf, "X-Requested-With": "fetch" } });
      const data = await response.json();
      output.textContent = data.message;
      output.className = `ch-result ${data.ok ? "ok" : "failed"}`;
    } catch {
      form.submit();
    } finally {
      button.disabled = false;
    }
  });
}

const status = document.querySelector("[data-status-url]");
if (status) {
  const ago = new Intl.RelativeTimeFormat(document.documentElement.lang || undefined, { numeric: "auto" });
  const refresh = async () => {
    const response = await fetch(status.dataset.statusUrl, { headers: { "X-Requested-With": "fetch" } }).catch(() => null);
    if (!response?.ok) return;
    const data = await response.json();
    if (!data.last_event_at) return;
    const at = new Date(data.last_event_at);
    const minutes = Math.round((at - Date.now()) / 60000);
    const shown = document.createElement("time");
    shown.dateTime = data.last_event_at;
    shown.title = at.toLocaleString();
    shown.dataset.lastEvent = "";
    shown.textContent = Math.abs(minutes) < 60 ? ago.format(minutes, "minute") : ago.format(Math.round(minutes / 60), "hour");
    document.getElementById("last-event").replaceChildren(shown);
  };
  setInterval(refresh, 15000);
}

const preview = document.getElementById("widget-preview");
const settings = document.getElementById("settings");
if (preview && settings) {
  const looks = ["color", "title", "position", "prechat", "prechat_fields", "offline", "offline_message", "language", "greetings"];
  const offline = document.getElementById("preview-offline");
  let timer = null;
  const update = () => {
    const form = new FormData(settings);
    const query = new URLSearchParams();
    for (const name of looks) for (const value of form.getAll(name)) query.append(name, value);
    if (offline.checked) query.set("online", "0");
    query.set("lang", form.get("language") || document.documentElement.lang || "en");
    preview.src = `${preview.src.split("?")[0]}?${query}`;
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(update, 400); };
  settings.addEventListener("input", later);
  settings.addEventListener("change", later);
  offline.addEventListener("change", update);
}
