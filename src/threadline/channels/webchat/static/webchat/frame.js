// The chat frame (inside the iframe /widget.js adds to the customer's site). No build step: a plain ES module.
// The visitor token lives in localStorage, so history survives reloads and new tabs.
const boot = JSON.parse(document.getElementById("tl-boot").textContent);
const strings = JSON.parse(document.getElementById("tl-strings").textContent);
const channelId = boot.channel_id;
const tokenKey = `threadline.visitor.${channelId}`;
const base = `/widget/${channelId}`;

const log = document.getElementById("log");
const typingLine = document.getElementById("typing");
const statusLine = document.getElementById("status");
const availability = document.getElementById("availability");
const composer = document.getElementById("composer");
const textArea = document.getElementById("text");
const filesInput = document.getElementById("files");
const details = document.getElementById("details");
const detailsIntro = document.getElementById("details-intro");
const detailsError = document.getElementById("details-error");

const shown = new Map(); // message id → element
const pending = new Map(); // client id → {element, text}
// The token comes from the page that embeds us (kept in its own, first-party storage: browsers may deny
// storage to third-party frames), else from our storage when allowed.
const storage = {
  get(key) { try { return localStorage.getItem(key); } catch { return null; } },
  set(key, value) { try { localStorage.setItem(key, value); } catch { /* third-party storage blocked */ } },
  remove(key) { try { localStorage.removeItem(key); } catch { /* idem */ } },
};
const fragment = new URLSearchParams(location.hash.slice(1));
let token = fragment.get("token") || storage.get(tokenKey) || "";
const initialIdentity = fragment.get("identity");
history.replaceState(null, "", location.pathname + location.search);  // keep the token out of the history
let visitor = {};
let socket = null;
let retry = 0;
let isOpen = false;
let unread = 0;
let lastAgentMessage = 0;
let agentsAvailable = boot.agents_available;
let typingTimer = null;
let typingSent = false;
let detailsSkipped = false;

const fmt = (template, values) => template.replace(/%\((\w+)\)s/g, (_, key) => values[key] ?? "");
const post = (message) => window.parent.postMessage({ threadline: true, ...message }, "*");
const newId = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`).replace(/[^\w-]/g, "");
const timeFormat = new Intl.DateTimeFormat(boot.language, { hour: "numeric", minute: "2-digit" });

async function api(path, { method = "GET", body, form } = {}) {
  const headers = { "X-Visitor-Token": token, "Accept-Language": boot.language };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${base}/${path}`, {
    method, headers, body: form || (body !== undefined ? JSON.stringify(body) : undefined),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(data.message || response.statusText), { code: data.code, status: response.status });
  return data;
}

function forgetShown() {
  shown.forEach((element) => element.remove());
  shown.clear();
}

async function startSession() {
  const data = await api("session", { method: "POST", body: { token, locale: navigator.language, page_url: document.referrer } });
  if (token && data.token !== token) forgetShown();  // a new visitor: nothing of the old one stays on screen
  if (data.identity_expired) {
    post({ type: "error", command: "identify", code: "identity_expired", message: "" });
  }
  token = data.token;
  storage.set(tokenKey, token);
  post({ type: "token", token });
  visitor = data.visitor;
}

function attachmentUrl(file) {
  return `${base}/attachments/${file.id}?token=${encodeURIComponent(token)}`;
}

function meta(message) {
  const time = timeFormat.format(new Date(message.created_at));
  if (message.direction === "out") {
    return `${message.author_kind === "bot" ? strings.bot : message.author || strings.someone} · ${time}`;
  }
  const state = message.status === "read" ? strings.seen : "";
  return [strings.you, time, state].filter(Boolean).join(" · ");
}

function render(message) {
  const element = shown.get(message.id) || document.createElement("div");
  element.className = `msg ${message.direction}`;
  element.dataset.id = message.id;
  element.replaceChildren();
  if (message.text) {
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.dir = "auto";
    bubble.textContent = message.text;
    element.append(bubble);
  }
  if (message.choices?.length && !message.answered) {
    // the bot's buttons ("did this answer your question?"): a press sends the choice, its label as the text
    const choices = document.createElement("div");
    choices.className = "choices";
    for (const choice of message.choices) {
      const button = document.createElement("button");
      button.type = "button";
      button.dir = "auto";
      button.textContent = choice.label;
      button.dataset.choice = choice.id;
      button.addEventListener("click", () => choose(message, choice));
      choices.append(button);
    }
    element.append(choices);
  }
  if (message.attachments?.length) {
    const files = document.createElement("div");
    files.className = "files";
    for (const file of message.attachments) {
      const link = document.createElement("a");
      link.href = attachmentUrl(file);
      link.target = "_blank";
      link.rel = "noopener";
      if (file.content_type.startsWith("image/")) {
        const image = document.createElement("img");
        image.src = link.href;
        image.alt = file.filename;
        link.append(image);
      } else {
        link.textContent = file.filename;
      }
      files.append(link);
    }
    element.append(files);
  }
  const line = document.createElement("span");
  line.className = "meta";
  line.textContent = meta(message);
  element.append(line);
  element.message = message;
  return element;
}

function show(message) {
  const known = shown.has(message.id);
  const element = render(message);
  if (!known) {
    shown.set(message.id, element);
    const after = [...log.querySelectorAll(".msg[data-id]")].find((el) => Number(el.dataset.id) > message.id);
    log.insertBefore(element, after || null);
  }
  if (message.direction === "in") {  // the customer wrote after the bot's buttons: they are answered
    for (const earlier of shown.values()) {
      if (earlier.message.id < message.id && earlier.message.choices?.length && !earlier.message.answered) {
        earlier.message.answered = true;
        render(earlier.message);
      }
    }
  }
  if (message.direction === "out" && !known) {
    lastAgentMessage = Math.max(lastAgentMessage, message.id);
    if (!isOpen || document.hidden) {
      unread += 1;
      post({ type: "unread", count: unread });
    }
    receipt();
    showTyping(false);
  }
  log.scrollTop = log.scrollHeight;
}

function receipt() {
  if (!lastAgentMessage || !socket || socket.readyState !== WebSocket.OPEN) return;
  const status = isOpen && !document.hidden ? "read" : "delivered";
  socket.send(JSON.stringify({ type: "receipt", status, up_to: lastAgentMessage }));
}

function markRead(upTo) {
  for (const [id, element] of shown) {
    if (id <= upTo && element.message.direction === "in" && element.message.status !== "read") {
      element.message.status = "read";
      render(element.message);
    }
  }
}

let typingHide = null;
function showTyping(on, name) {
  clearTimeout(typingHide);
  typingLine.hidden = !on;
  if (on) {
    typingLine.textContent = fmt(strings.typing, { name: name || strings.someone });
    typingHide = setTimeout(() => (typingLine.hidden = true), 6000);
  }
}

function setAvailability(available) {
  agentsAvailable = available;
  availability.textContent = available ? strings.online : strings.offline;
  availability.classList.toggle("online", available);
  updateDetails();
}

const prechatFields = boot.prechat_fields || ["name", "email"];
const prechatDone = () => visitor.identified || prechatFields.every((name) => visitor[name]);

function updateDetails() {
  // offline "ask_email": an address to answer by email; "message"/"hide": only say nobody is online
  const offlineAsk = !agentsAvailable && (boot.offline || "ask_email") === "ask_email" && !visitor.email;
  const prechatAsk = boot.prechat !== "off" && !prechatDone() && shown.size === 0;
  const ask = !detailsSkipped && (offlineAsk || prechatAsk);
  details.hidden = !ask;
  const wanted = new Set(offlineAsk ? ["email", ...prechatFields] : prechatFields);
  for (const name of ["name", "email"]) {
    details.elements[name].closest("label").hidden = !wanted.has(name);
  }
  details.elements.email.required = wanted.has("email");
  document.getElementById("details-skip").hidden = boot.prechat === "required" && prechatAsk;
  detailsIntro.textContent = offlineAsk ? `${strings.offline} ${strings.offline_ask}` : strings.prechat_ask;
  composer.hidden = ask && boot.prechat === "required" && prechatAsk;
}

function status(text) {
  statusLine.hidden = !text;
  statusLine.textContent = text || "";
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/ws/webchat/${channelId}/?token=${encodeURIComponent(token)}&lang=${boot.language}`;
  socket = new WebSocket(url);
  socket.addEventListener("open", () => {
    retry = 0;
    status("");
    for (const [clientId, item] of pending) sendText(clientId, item.text);
    receipt();
  });
  socket.addEventListener("message", (event) => handle(JSON.parse(event.data)));
  socket.addEventListener("close", (event) => {
    if (event.code === 4401) {
      // the token is no longer valid (channel changed, secret rotated, or the signed-in identity expired):
      // the server starts over with a new anonymous visitor
      startSession().then(loadHistory).then(connect).catch(() => setTimeout(connect, 5000));
      return;
    }
    status(strings.reconnecting);
    retry = Math.min(retry + 1, 6);
    setTimeout(connect, 500 * 2 ** retry);
  });
}

function handle(data) {
  switch (data.type) {
    case "welcome":
      setAvailability(data.agents_available);
      break;
    case "ack": {
      const item = pending.get(data.client_id);
      if (item) {
        item.element.remove();
        pending.delete(data.client_id);
      }
      show(data.message);
      updateDetails();
      break;
    }
    case "message":
      show(data.message);
      break;
    case "typing":
      showTyping(data.typing, data.name);
      break;
    case "read":
      markRead(data.up_to);
      break;
    case "error": {
      const item = pending.get(data.client_id);
      if (item) fail(data.client_id, item);
      if (data.code === "rate_limited") status(strings.rate_limited);
      break;
    }
  }
}

function fail(clientId, item) {
  item.element.classList.add("failed");
  item.element.querySelector(".meta").textContent = strings.failed;
  item.element.onclick = () => {
    item.element.classList.remove("failed");
    item.element.querySelector(".meta").textContent = strings.sending;
    sendText(clientId, item.text);
  };
}

function sendText(clientId, text, choice) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify({ type: "message", client_id: clientId, text, ...(choice ? { choice } : {}) }));
  }
}

function choose(message, choice) {
  if (boot.preview) return;
  for (const element of shown.values()) {  // a pick answers every earlier set of buttons
    if (element.message.choices?.length && !element.message.answered) {
      element.message.answered = true;
      render(element.message);
    }
  }
  const { clientId, element } = addPending(choice.label, []);
  pending.set(clientId, { element, text: choice.label });
  sendText(clientId, choice.label, choice.id);
}

function addPending(text, files) {
  const clientId = newId();
  const element = document.createElement("div");
  element.className = "msg in pending";
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  bubble.dir = "auto";
  bubble.textContent = text || files.map((f) => f.name).join(", ");
  const line = document.createElement("span");
  line.className = "meta";
  line.textContent = strings.sending;
  element.append(bubble, line);
  log.append(element);
  log.scrollTop = log.scrollHeight;
  return { clientId, element };
}

async function submit(event) {
  event.preventDefault();
  if (boot.preview) return;  // the admin's widget editor: nothing is sent
  const text = textArea.value.trim();
  const files = [...filesInput.files];
  if (!text && !files.length) return;
  textArea.value = "";
  filesInput.value = "";
  stopTyping();
  const { clientId, element } = addPending(text, files);
  if (files.length) {
    const form = new FormData();
    form.append("client_id", clientId);
    form.append("text", text);
    for (const file of files) form.append("files", file);
    try {
      const data = await api("messages", { method: "POST", form });
      element.remove();
      show(data.message);
    } catch {
      element.classList.add("failed");
      element.querySelector(".meta").textContent = strings.failed;
    }
    return;
  }
  pending.set(clientId, { element, text });
  sendText(clientId, text);
}

function stopTyping() {
  clearTimeout(typingTimer);
  if (typingSent && socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "typing", typing: false }));
  typingSent = false;
}

function onInput() {
  textArea.style.blockSize = "auto";
  textArea.style.blockSize = `${Math.min(textArea.scrollHeight, 120)}px`;
  if (!typingSent && socket?.readyState === WebSocket.OPEN && textArea.value.trim()) {
    socket.send(JSON.stringify({ type: "typing", typing: true }));
    typingSent = true;
  }
  clearTimeout(typingTimer);
  typingTimer = setTimeout(stopTyping, 3000);
}

async function loadHistory() {
  const data = await api("messages");
  visitor = data.visitor;
  for (const message of data.messages) show(message);
  unread = 0;
  post({ type: "unread", count: 0 });
  updateDetails();
}

async function saveDetails(event) {
  event.preventDefault();
  if (boot.preview) return;
  const form = new FormData(details);
  detailsError.hidden = true;
  try {
    const data = await api("details", { method: "POST", body: { email: form.get("email"), name: form.get("name") } });
    visitor = data.visitor;
    updateDetails();
    if (!agentsAvailable) status(fmt(strings.offline_saved, { email: visitor.email }));
  } catch (error) {
    detailsError.textContent = error.message;
    detailsError.hidden = false;
  }
}

async function identify(payload) {
  const result = await api("identify", { method: "POST", body: payload });
  if (result.token) {  // another user signed in on this browser: a visitor (and history) of their own
    token = result.token;
    storage.set(tokenKey, token);
    post({ type: "token", token });
    forgetShown();
  }
  visitor = result.visitor;
  post({ type: "identified" });
}

async function command(data) {
  // Commands from the web app, relayed by /widget.js.
  try {
    if (data.command === "open" || data.command === "close") {
      isOpen = data.command === "open";
      if (isOpen) {
        unread = 0;
        post({ type: "unread", count: 0 });
        receipt();
        textArea.focus();
      }
    } else if (data.command === "identify") {
      await identify(data.payload || {});
      socket?.close(4000);
      await loadHistory();
    } else if (data.command === "setAttributes") {
      await api("attributes", { method: "POST", body: { attributes: data.payload || {} } });
    } else if (data.command === "track") {
      await api("events", { method: "POST", body: { name: data.payload?.name, properties: data.payload?.properties || {} } });
    }
  } catch (error) {
    post({ type: "error", command: data.command, code: error.code, message: error.message });
  }
}

window.addEventListener("message", (event) => {
  if (event.source !== window.parent || !event.data || event.data.threadline !== true) return;
  command(event.data);
});
document.addEventListener("visibilitychange", receipt);
document.getElementById("close").addEventListener("click", () => post({ type: "close" }));
document.getElementById("details-skip").addEventListener("click", () => {
  detailsSkipped = true;
  updateDetails();
});
details.addEventListener("submit", saveDetails);
composer.addEventListener("submit", submit);
textArea.addEventListener("input", onInput);
textArea.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) submit(event);
});
filesInput.addEventListener("change", () => filesInput.files.length && submit(new Event("submit")));
function keepAlive() {
  setInterval(() => socket?.readyState === WebSocket.OPEN && socket.send('{"type":"ping"}'), 25000);
  setInterval(async () => {
    // whether an agent is online changes over the day: look again every minute
    const response = await fetch(`${base}/config?lang=${boot.language}`).catch(() => null);
    if (response?.ok) setAvailability((await response.json()).agents_available);
  }, 60000);
}

async function identifyAtStart() {
  if (!initialIdentity) return;
  try {
    await identify(JSON.parse(initialIdentity));
  } catch (error) {
    post({ type: "error", command: "identify", code: error.code, message: error.message });
  }
}

// Start: a session, the signed-in identity, the history, then the socket. A step that fails (the server
// restarting, a network blip, a 429) is tried again with growing pauses, never left dead: a message written
// meanwhile waits as pending and goes once the socket opens. `data-state` on <html> says where the frame is
// ("starting", "ready"; "retrying" after a failure), for the page's tests and for styling.
let bootAttempt = 0;
function start() {
  document.documentElement.dataset.state = bootAttempt ? "retrying" : "starting";
  startSession()
    .then(identifyAtStart)
    .then(loadHistory)
    .then(() => {
      connect();
      document.documentElement.dataset.state = "ready";
      post({ type: "ready" });
    })
    .catch((error) => {
      status(error.message || strings.reconnecting);
      bootAttempt = Math.min(bootAttempt + 1, 6);
      setTimeout(start, 500 * 2 ** bootAttempt);
    });
}

setAvailability(agentsAvailable);
if (boot.preview) {
  document.documentElement.dataset.preview = "ready";  // the widget editor's preview: no session, no socket
} else {
  keepAlive();
  start();
}

// "See all your requests": for a visitor the site identified, a short-lived link into the customer portal,
// fetched on click (single use) and opened in a new tab.
const portalLink = document.getElementById("portal-link");
if (portalLink && !boot.preview) {
  const showPortalLink = () => { portalLink.hidden = !visitor.identified; };
  setInterval(showPortalLink, 1000);
  portalLink.addEventListener("click", async (event) => {
    event.preventDefault();
    const opened = window.open("", "_blank");
    try {
      const { url } = await api("portal-link", { method: "POST" });
      if (opened) { opened.opener = null; opened.location = url; } else { location.assign(url); }
    } catch (error) {
      opened?.close();
      statusLine.textContent = error.message;
      statusLine.hidden = false;
    }
  });
}
