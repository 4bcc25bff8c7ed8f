// The agent workspace. Server-rendered HTML; this module swaps fragments, follows the live socket, and adds
// the composer's conveniences (drafts, @mentions, canned replies, collision warnings) and keyboard shortcuts.
import { formatter } from "./format.js";
import { LiveSocket } from "./socket.js";

const boot = JSON.parse(document.getElementById("tl-boot").textContent);
const strings = JSON.parse(document.getElementById("tl-strings").textContent);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const me = boot.membership_id;
const format = formatter(document.documentElement.lang, boot.time_zone, strings);
const phone = window.matchMedia("(max-width: 720px)");
const fmt = (template, values) => template.replace(/%\((\w+)\)s/g, (_, key) => values[key] ?? "");
const $ = (selector, scope = document) => scope.querySelector(selector);
const $$ = (selector, scope = document) => [...scope.querySelectorAll(selector)];

const state = {
  conversationId: Number($("#conversation")?.dataset.conversationId) || null,
  query: new URLSearchParams(location.search),
  selected: new Set(),
  viewers: [],
  composeBase: null, // last message id when the agent started writing (collision detection)
  notifications: localStorage.getItem("threadline.notify") === "1",
};

// ── server calls ─────────────────────────────────────────────────────────────────────────────────────
async function request(url, { method = "GET", body } = {}) {
  const headers = { "X-Requested-With": "fetch" };
  if (method !== "GET") headers["X-CSRFToken"] = csrf;
  readiness.calls += 1;
  try {
    const response = await fetch(url, { method, headers, body, credentials: "same-origin" });
    if (response.status === 401) {
      readiness.leaving = true;
      location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
      throw new Error("signed out");
    }
    const type = response.headers.get("Content-Type") || "";
    const data = type.includes("json") ? await response.json() : await response.text();
    if (!response.ok) throw Object.assign(new Error(data.message || strings.failed), { code: data.code, status: response.status });
    return data;
  } finally {
    readiness.calls -= 1;
    setTimeout(settle);  // after the caller's own continuation (a macrotask runs after every pending microtask)
  }
}

const post = (url, form) => request(url, { method: "POST", body: form instanceof FormData ? form : toForm(form) });

function toForm(values) {
  const form = new FormData();
  for (const [key, value] of Object.entries(values)) {
    for (const item of [].concat(value)) form.append(key, item);
  }
  return form;
}

function flash(text, kind = "error") {
  const line = $("#connection");
  line.textContent = text;
  line.dataset.kind = kind;
  line.hidden = false;
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => (line.hidden = true), 5000);
}

// ── debounced refreshes ──────────────────────────────────────────────────────────────────────────────
const timers = {};
const waiting = new Set();  // the names of the refreshes due
function soon(name, fn, wait = 200) {
  clearTimeout(timers[name]);
  waiting.add(name);
  timers[name] = setTimeout(() => {
    waiting.delete(name);
    fn();
    settle();
  }, wait);
}

// ── start: `data-state` on <html> ────────────────────────────────────────────────────────────────────
// "starting" until the page's start is done: the socket has caught up on what it missed, and no server call
// or refresh it caused (the counts, the list, a conversation's panel apps and seen mark, the browser's
// defaults) is still under way; then "ready". A page about to reload or leave stays "starting". The browser
// tests check a screen once it is ready, instead of waiting for the network to be quiet for a while.
const readiness = { caughtUp: false, calls: 0, leaving: false };
document.documentElement.dataset.state = "starting";

function settle() {
  if (readiness.caughtUp && readiness.calls === 0 && waiting.size === 0 && !readiness.leaving
      && document.documentElement.dataset.state !== "ready") {
    document.documentElement.dataset.state = "ready";
  }
}

async function refreshCounts() {
  const data = await request("/app/x/counts");
  for (const element of $$("[data-count-for]")) {
    const n = data.counts[element.dataset.countFor];
    element.dataset.n = n ?? 0;
    element.textContent = n ? format.number(n) : "";
  }
}

async function loadMore(link) {
  const params = new URLSearchParams(state.query);
  params.set("after", link.dataset.more);
  link.textContent = strings.loading;
  const html = await request(`/app/x/list?${params}`);
  const holder = document.createElement("template");
  holder.innerHTML = html;
  format.times(holder.content);
  link.closest("li").replaceWith(holder.content);
  markOpenRow();
}

async function loadList(query = state.query) {
  const pane = $("#list-pane");
  pane.innerHTML = await request(`/app/x/list?${query}`);
  state.selected.clear();
  markOpenRow();
  format.times(pane);
  updateBulk();
}

function markOpenRow() {
  for (const row of $$(".row")) {
    const open = Number(row.dataset.conversationId) === state.conversationId;
    row.classList.toggle("open", open);
    row.querySelector(".row-link")?.toggleAttribute("aria-current", open);
    row.querySelector(".select").checked = state.selected.has(Number(row.dataset.conversationId));
  }
}

// ── stacked screens on phones: list → conversation → customer, each a history entry ───────────────────
function currentScreen() {
  if (state.conversationId && /^\/app\/c\/\d+\/$/.test(location.pathname)) {
    return location.hash === "#customer" ? "contact" : "conversation";
  }
  return location.hash === "#views" ? "views" : "list";
}

function applyScreen() {
  const workspace = $("#workspace");
  if (!workspace) return;
  const screen = currentScreen();
  workspace.dataset.screen = screen;
  if (phone.matches && screen === "contact") $("#contact-panel")?.focus?.();
}

function listUrl() {
  const query = String(state.query);
  return `/app/${query ? `?${query}` : ""}`;
}

function goBack(to) {
  // Back to the screen we came from when it is the previous history entry, else to that screen anew.
  if (history.state?.from === to) {
    history.back();
    return;
  }
  if (to === "conversation" && state.conversationId) {
    history.pushState({ id: state.conversationId }, "", `/app/c/${state.conversationId}/?${state.query}`);
  } else {
    history.pushState({ list: true }, "", listUrl());
    loadList().catch((error) => flash(error.message));
  }
  applyScreen();
}

// ── the open conversation ────────────────────────────────────────────────────────────────────────────
async function openConversation(id, { push = true } = {}) {
  const html = await request(`/app/x/conversations/${id}`);
  saveDraft();
  state.conversationId = id;
  state.composeBase = null;
  $("#conversation-pane").innerHTML = html;
  if (push) history.pushState({ id, from: currentScreen() === "list" ? "list" : null }, "", `/app/c/${id}/?${state.query}`);
  applyScreen();
  document.title = `${$("#conversation h2")?.textContent || ""} · Threadline`;
  wireConversation();
  markOpenRow();
  live.view(id);
  post(`/app/x/conversations/${id}/seen`, {}).then(() => soon("counts", refreshCounts)).catch(() => {});
}

function markCustomerMessagesRead() {
  // The customer (on a live channel) sees "Seen" once an agent has the conversation in front of them.
  if (document.hidden || !state.conversationId) return;
  const ids = $$("#timeline .message.in:not(.other)").map((el) => Number(el.dataset.messageId));
  if (ids.length) live.send({ type: "read", conversation_id: state.conversationId, message_id: Math.max(...ids) });
}

function lastMessageId() {
  return Math.max(0, ...$$("#timeline [data-message-id]").map((el) => Number(el.dataset.messageId)));
}

async function refreshTimeline() {
  const id = state.conversationId;
  if (!id) return;
  const holder = $("#timeline-scroll");
  const atBottom = holder.scrollHeight - holder.scrollTop - holder.clientHeight < 80;
  const before = lastMessageId();
  const html = await request(`/app/x/conversations/${id}/timeline`);
  if (id !== state.conversationId) return;
  holder.innerHTML = html;
  format.times(holder);
  if (atBottom) holder.scrollTop = holder.scrollHeight;
  markCustomerMessagesRead();
  // Someone else answered while this agent is writing: say so now, before they press Send.
  const text = $("#composer-text")?.value.trim();
  const newer = $$("#timeline .message.out:not(.note)").filter((el) => Number(el.dataset.messageId) > before
    && Number(el.dataset.authorId) !== me);
  if (text && before && newer.length) {
    const name = newer[0].querySelector(".author")?.textContent.trim() || "";
    warn(fmt(strings.replied_meanwhile, { name }));
  }
}

async function loadEarlier(button) {
  const holder = $("#timeline-scroll");
  const height = holder.scrollHeight;
  button.disabled = true;
  const html = await request(`/app/x/conversations/${state.conversationId}/timeline?before=${encodeURIComponent(button.dataset.before)}`);
  const fresh = document.createElement("template");
  fresh.innerHTML = html;
  const items = $$("#timeline > li", fresh.content).filter((li) => !li.classList.contains("empty"));
  format.times(fresh.content);
  button.closest("li").replaceWith(...items);
  holder.scrollTop += holder.scrollHeight - height; // keep what the agent was reading in place
}

async function refreshConversationParts({ force = false } = {}) {
  // Status, assignee, tags and the customer panel changed: swap those parts, keep the composer as it is.
  // `force`: the agent acted inside the panel (merge, "not the same", unmerge) or the head (snooze, a macro), so
  // it is replaced even though it has the focus.
  const id = state.conversationId;
  if (!id) return;
  const html = await request(`/app/x/conversations/${id}`);
  if (id !== state.conversationId) return;
  const fresh = document.createElement("template");
  fresh.innerHTML = html;
  for (const selector of [".conversation-head", "#contact-panel"]) {
    const next = $(selector, fresh.content);
    const current = $(selector);
    if (next && current && (force || !current.contains(document.activeElement))) current.replaceWith(next);
  }
  const scheduled = $("#scheduled", fresh.content);
  if ($("#scheduled")) $("#scheduled").replaceWith(scheduled || document.createComment("scheduled"));
  else if (scheduled) $("#composer")?.before(scheduled);
  const options = $("#channel-select", fresh.content);
  if (options && $("#channel-select")) $("#channel-select").innerHTML = options.innerHTML;
  wireHead();
  format.times($("#conversation"));
  loadPanelApps();
  await refreshTimeline();
}

async function loadPanelApps() {
  // The apps' cards come from other systems over the network: the panel shows them when they arrive.
  const slot = $("#panel-apps[data-apps-src]");
  if (!slot) return;
  const id = state.conversationId;
  try {
    const html = await request(slot.dataset.appsSrc);
    if (id === state.conversationId && slot.isConnected) slot.innerHTML = html;
  } catch (error) {
    if (slot.isConnected) slot.textContent = error.message;
  }
}

function wireConversation() {
  const pane = $("#conversation-pane");
  format.times(pane);
  const holder = $("#timeline-scroll");
  if (holder) holder.scrollTop = holder.scrollHeight;
  wireHead();
  wireComposer();
  renderViewers();
  loadPanelApps();
  setTimeout(markCustomerMessagesRead, 300);  // after the socket has joined the conversation
}

function wireHead() {
  const form = $("#update-form");
  if (!form) return;
  for (const select of $$("select", form)) {
    select.addEventListener("change", () => update({ [select.name]: select.value }));
  }
  const tags = $("#tags-input");
  tags?.addEventListener("change", () => update({ tags: tags.value }));
  for (const selector of ["#snooze-form", "#merge-form", "#snooze-presets", "#macro-form"]) {
    $(selector)?.addEventListener("submit", (event) => submitForm(event, (data) => {
      if (data.conversation_id && data.conversation_id !== state.conversationId) openConversation(data.conversation_id);
      else refreshConversationParts({ force: true }).catch(() => {});  // the clicked button has the focus
    }));
  }
}

async function update(values) {
  try {
    await post(`/app/x/conversations/${state.conversationId}/update`, values);
  } catch (error) {
    flash(error.message);
    refreshConversationParts();
  }
}

async function submitForm(event, after) {
  event.preventDefault();
  const form = event.target.closest("form");
  const submitter = event.submitter && event.submitter.form === form ? event.submitter : null;
  try {
    // (`formAction` reads as the page's URL when the button has no formaction of its own)
    const action = submitter?.hasAttribute("formaction") ? submitter.formAction : form.action;
    const data = await post(action, new FormData(form, submitter));
    if (after) after(data);
  } catch (error) {
    flash(error.message);
  }
}

// ── composer ─────────────────────────────────────────────────────────────────────────────────────────
const draftKey = (id) => `threadline.draft.${me}.${id}`;

function mode() {
  return $('#composer input[name="mode"]:checked')?.value || "reply";
}

function saveDraft() {
  const text = $("#composer-text");
  if (!text || !state.conversationId) return;
  if (text.value.trim()) localStorage.setItem(draftKey(state.conversationId), JSON.stringify({ text: text.value, mode: mode() }));
  else localStorage.removeItem(draftKey(state.conversationId));
}

function setMode(value) {
  const form = $("#composer");
  const note = value === "note";
  form.action = note ? form.dataset.noteAction : form.dataset.replyAction;
  form.classList.toggle("note-mode", note);
  $("#composer-channel").hidden = note;
  const text = $("#composer-text");
  text.placeholder = note ? text.dataset.notePlaceholder : text.dataset.replyPlaceholder;
  const radio = $(`#composer input[name="mode"][value="${value}"]`);
  if (radio) radio.checked = true;
}

let typingTimer = null;
let typingOn = false;
function typing(on) {
  if (typingOn === on) return;
  typingOn = on;
  live.send({ type: "typing", typing: on, internal: mode() === "note" });
}

function warn(text, { offerForce = false } = {}) {
  const box = $("#composer-warning");
  if (!box) return;
  box.replaceChildren(document.createTextNode(text));
  if (offerForce) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = strings.send_anyway;
    button.addEventListener("click", () => {
      $("#force").value = "1";
      $("#composer").requestSubmit();
    });
    box.append(" ", button);
  }
  box.hidden = false;
}

// The composer stays one line until used: focusing it, a restored draft, or files dragged in open it.
function openComposer() {
  $("#composer")?.classList.add("open");
  const text = $("#composer-text");
  if (text && text.rows < 4) text.rows = 4;
}

function closeComposer() {
  const form = $("#composer");
  if (!form || form.contains(document.activeElement) || $("#composer-text").value.trim() || $("#composer-files").files.length) return;
  form.classList.remove("open");
  $("#composer-text").rows = 1;
}

function addFiles(files) {
  const input = $("#composer-files");
  const all = new DataTransfer();
  for (const file of [...input.files, ...files]) all.items.add(file);
  input.files = all.files;
  showFiles();
}

function showFiles() {
  const list = $("#composer-files-list");
  const input = $("#composer-files");
  list.replaceChildren(...[...input.files].map((file, index) => {
    const item = document.createElement("li");
    const name = document.createElement("bdi");
    name.textContent = file.name;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link";
    remove.textContent = strings.remove;
    remove.setAttribute("aria-label", `${strings.remove} ${file.name}`);
    remove.addEventListener("click", () => {
      const keep = new DataTransfer();
      [...input.files].forEach((f, i) => i !== index && keep.items.add(f));
      input.files = keep.files;
      showFiles();
    });
    item.append(name, " ", remove);
    return item;
  }));
}

function pastedName(file, index) {
  const extension = (file.type.split("/")[1] || "png").replace("jpeg", "jpg");
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
  return `pasted-${stamp}${index ? `-${index}` : ""}.${extension}`;
}

function wireComposer() {
  const form = $("#composer");
  if (!form) return;
  const text = $("#composer-text");
  const draft = JSON.parse(localStorage.getItem(draftKey(state.conversationId)) || "null");
  if (draft) {
    text.value = draft.text;
    setMode(draft.mode);
    $("#draft-state").textContent = strings.draft_restored;
    openComposer();
  }
  text.addEventListener("focus", openComposer);
  form.addEventListener("focusout", () => setTimeout(closeComposer, 150));
  $("#composer-files").addEventListener("change", showFiles);
  form.addEventListener("dragover", (event) => {
    if (![...event.dataTransfer.types].includes("Files")) return;
    event.preventDefault();
    openComposer();
    form.classList.add("dropping");
  });
  form.addEventListener("dragleave", () => form.classList.remove("dropping"));
  form.addEventListener("drop", (event) => {
    if (!event.dataTransfer.files.length) return;
    event.preventDefault();
    form.classList.remove("dropping");
    addFiles(event.dataTransfer.files);
  });
  text.addEventListener("paste", (event) => {
    const images = [...(event.clipboardData?.files || [])].filter((file) => file.type.startsWith("image/"));
    if (!images.length) return;
    event.preventDefault();
    addFiles(images.map((file, i) => new File([file], file.name && file.name !== "image.png" ? file.name : pastedName(file, i), { type: file.type })));
  });
  for (const button of $$("[data-send-at]", form)) {
    button.addEventListener("click", () => schedule(button.dataset.sendAt));
  }
  for (const radio of $$('input[name="mode"]', form)) radio.addEventListener("change", () => setMode(radio.value));
  text.addEventListener("input", () => {
    if (state.composeBase === null && text.value.trim()) state.composeBase = lastMessageId();
    soon("draft", saveDraft, 400);
    typing(Boolean(text.value.trim()));
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => typing(false), 3000);
    if (!mentionMenu(text)) cannedMenu(text);
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    } else if (!$("#mention-menu").hidden && ["ArrowDown", "ArrowUp", "Enter", "Tab", "Escape"].includes(event.key)) {
      mentionKey(event);
    }
  });
  $("#canned-select")?.addEventListener("change", async (event) => {
    const select = event.target;
    if (!select.value) return;
    const channel = $("#channel-select")?.value || "";
    try {
      const data = await request(`${select.dataset.url}${select.value}?channel_id=${channel}`);
      insertText(text, data.text);
    } catch (error) {
      flash(error.message);
    }
    select.value = "";
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (event.submitter?.id === "schedule-button") {
      schedule($("#send-at-input").value);
      return;
    }
    if (!text.value.trim() && !$("#composer-files").files.length) return;
    const body = new FormData(form);
    body.set("seen_message_id", String(state.composeBase ?? lastMessageId()));
    $("#send-button").disabled = true;
    try {
      await post(form.action, body);
      clearComposer();
      $("#composer-warning").hidden = true;
      $("#draft-state").textContent = "";
      localStorage.removeItem(draftKey(state.conversationId));
      state.composeBase = null;
      typing(false);
      refreshTimeline();
    } catch (error) {
      if (error.code === "replied_meanwhile") warn(error.message, { offerForce: true });
      else warn(error.message);
    } finally {
      $("#send-button").disabled = false;
    }
  });
}

function clearComposer() {
  $("#composer-text").value = "";
  $("#composer-files").value = "";
  showFiles();
  $("#force").value = "";
  $("#composer-warning").hidden = true;
  $("#draft-state").textContent = "";
  localStorage.removeItem(draftKey(state.conversationId));
  state.composeBase = null;
  closeComposer();
}

async function schedule(sendAt) {
  const form = $("#composer");
  const text = $("#composer-text");
  if (!text.value.trim()) {
    text.focus();
    return;
  }
  try {
    await post(form.dataset.scheduleAction, { text: text.value, send_at: sendAt, channel_id: $("#channel-select")?.value || "" });
    $("#send-later").open = false;
    clearComposer();
    flash(strings.scheduled, "info");
    refreshConversationParts().catch(() => {});
  } catch (error) {
    warn(error.message);
  }
}

// "/" at the start of a word lists the workspace's canned replies (by shortcut, then title); picking one
// puts its body, rendered for this customer and channel, in place of what was typed.
function cannedMenu(area) {
  const menu = $("#mention-menu");
  const before = area.value.slice(0, area.selectionStart);
  const match = before.match(/(?:^|\s)\/([\p{L}\p{N}._-]{0,30})$/u);
  const options = $$("#canned-select option[value]").filter((o) => o.value);
  if (!match || !options.length) {
    if (mentionState?.kind === "canned") menu.hidden = true;
    return false;
  }
  const needle = match[1].toLocaleLowerCase();
  const found = options.map((o) => ({ id: o.value, shortcut: o.dataset.shortcut || "", name: o.dataset.name || o.textContent.trim() }))
    .filter((c) => !needle || c.shortcut.toLocaleLowerCase().startsWith(needle) || c.name.toLocaleLowerCase().includes(needle))
    .sort((a, b) => Number(!a.shortcut.toLocaleLowerCase().startsWith(needle)) - Number(!b.shortcut.toLocaleLowerCase().startsWith(needle)))
    .slice(0, 8);
  if (!found.length) {
    menu.hidden = true;
    mentionState = null;
    return false;
  }
  mentionState = { kind: "canned", start: before.length - match[1].length - 1, end: area.selectionStart, found, index: 0 };
  menu.replaceChildren(...found.map((canned, index) => {
    const item = document.createElement("li");
    item.role = "option";
    item.id = `canned-option-${canned.id}`;
    item.textContent = canned.shortcut ? `/${canned.shortcut} · ${canned.name}` : canned.name;
    item.dir = "auto";
    item.dataset.cannedId = canned.id;
    item.setAttribute("aria-selected", String(index === 0));
    item.addEventListener("mousedown", (event) => {
      event.preventDefault();
      pickCanned(canned);
    });
    return item;
  }));
  menu.hidden = false;
  return true;
}

async function pickCanned(canned) {
  const area = $("#composer-text");
  const { start, end } = mentionState;
  $("#mention-menu").hidden = true;
  mentionState = null;
  const channel = $("#channel-select")?.value || "";
  try {
    const data = await request(`${$("#composer").dataset.cannedUrl}${canned.id}?channel_id=${channel}`);
    area.value = area.value.slice(0, start) + data.text + area.value.slice(end);
    area.selectionStart = area.selectionEnd = start + data.text.length;
    area.focus();
    area.dispatchEvent(new Event("input"));
  } catch (error) {
    flash(error.message);
  }
}

function insertText(area, value) {
  const start = area.selectionStart ?? area.value.length;
  area.value = area.value.slice(0, start) + value + area.value.slice(area.selectionEnd ?? start);
  area.focus();
  area.dispatchEvent(new Event("input"));
}

// @mentions: in a note, "@" followed by letters offers the agents whose name or email starts with them.
let mentionState = null;
function mentionMenu(area) {
  const menu = $("#mention-menu");
  const before = area.value.slice(0, area.selectionStart);
  const match = mode() === "note" && before.match(/(?:^|\s)@([\p{L}\p{N}._-]{0,30})$/u);
  if (!match) {
    menu.hidden = true;
    mentionState = null;
    return false;
  }
  const needle = match[1].toLocaleLowerCase();
  const found = boot.agents.filter((a) => a.id !== me && (a.name.toLocaleLowerCase().startsWith(needle)
    || a.email.startsWith(needle))).slice(0, 6);
  if (!found.length) {
    menu.hidden = true;
    return true;
  }
  mentionState = { kind: "mention", start: before.length - match[1].length - 1, end: area.selectionStart, found, index: 0 };
  menu.replaceChildren(...found.map((agent, index) => {
    const item = document.createElement("li");
    item.role = "option";
    item.textContent = `${agent.name} · ${agent.email}`;
    item.dir = "auto";
    item.setAttribute("aria-selected", String(index === 0));
    item.addEventListener("mousedown", (event) => {
      event.preventDefault();
      pickMention(agent);
    });
    return item;
  }));
  menu.hidden = false;
  return true;
}

function mentionKey(event) {
  const menu = $("#mention-menu");
  if (!mentionState) return;
  event.preventDefault();
  if (event.key === "Escape") {
    menu.hidden = true;
    return;
  }
  if (event.key === "Enter" || event.key === "Tab") {
    const chosen = mentionState.found[mentionState.index];
    if (mentionState.kind === "canned") pickCanned(chosen);
    else pickMention(chosen);
    return;
  }
  const step = event.key === "ArrowDown" ? 1 : -1;
  mentionState.index = (mentionState.index + step + mentionState.found.length) % mentionState.found.length;
  $$("li", menu).forEach((li, i) => li.setAttribute("aria-selected", String(i === mentionState.index)));
}

function pickMention(agent) {
  const area = $("#composer-text");
  const { start, end } = mentionState;
  area.value = `${area.value.slice(0, start)}@${agent.name} ${area.value.slice(end)}`;
  area.selectionStart = area.selectionEnd = start + agent.name.length + 2;
  $("#mention-menu").hidden = true;
  mentionState = null;
  area.focus();
}

// ── viewers, typing, presence ────────────────────────────────────────────────────────────────────────
function renderViewers() {
  const line = $("#viewers");
  if (!line) return;
  const others = state.viewers.filter((v) => v.membership_id !== me);
  line.hidden = !others.length;
  const names = others.map((v) => v.name).join(", ");
  const typists = others.filter((v) => v.typing).map((v) => v.name).join(", ");
  line.textContent = fmt(strings.viewing, { names }) + (typists ? ` · ${fmt(strings.typing, { names: typists })}` : "");
  line.classList.toggle("typing", Boolean(typists));
}

function setPresence(id, status) {
  const dot = $(`#agents [data-agent-id="${id}"] .dot`);
  if (dot) dot.dataset.status = status;
  const agent = boot.agents.find((a) => a.id === id);
  if (agent) agent.status = status;
  if (id === me) {
    $("#my-presence-dot").dataset.status = status;
    if (status !== "offline") $("#presence-select").value = status;
  }
}

// ── live events ──────────────────────────────────────────────────────────────────────────────────────
function notify(title, body, conversationId) {
  if (!state.notifications || !("Notification" in window) || Notification.permission !== "granted") return;
  if (!document.hidden && conversationId === state.conversationId) return;
  const note = new Notification(title, { body: (body || "").slice(0, 140), tag: `tl-${conversationId}` });
  note.onclick = () => {
    window.focus();
    if (conversationId) openConversation(conversationId);
  };
}

function onEvent({ id: eventId, event, payload }) {
  const id = payload.conversation_id;
  if (event.startsWith("conversation.") || event.startsWith("message.") || event === "agent.mentioned") {
    soon("list", () => loadList().catch(() => {}), 250);
    soon("counts", () => refreshCounts().catch(() => {}), 250);
  }
  const open = state.conversationId;
  if (open && (id === open || payload.into_id === open)) {
    // A reply can also change the status (new → open): refresh the head and panel along with the timeline.
    soon("parts", () => refreshConversationParts().catch(() => {}), 120);
    if (event === "message.received") $("#customer-typing").hidden = true;
  }
  if (open && event.startsWith("contact.") && payload.contact_id === Number($("#conversation")?.dataset.contactId)) {
    soon("parts", () => refreshConversationParts().catch(() => {}), 150);
  }
  // Admins: one more payload needs attention (the page counted those up to boot.last_event_id; the
  // catch-up after connecting replays a few older events too).
  if (event === "inbound_event.failed" && $("#attention-nav") && eventId > boot.last_event_id) {
    const count = $("#attention-count");
    count.textContent = String(Number(count.textContent || 0) + 1);
    $("#attention-nav").hidden = false;
  }
  // Members who may see reports: an alert rule fired or cleared (the page counted those firing at load).
  if ((event === "alert.fired" || event === "alert.cleared") && $("#alerts-nav") && eventId > boot.last_event_id) {
    const count = $("#alerts-count");
    const n = Math.max(0, Number(count.textContent || 0) + (event === "alert.fired" ? 1 : -1));
    count.textContent = String(n);
    $("#alerts-nav").hidden = n === 0;
  }
  if (event === "alert.fired" && (payload.recipient_ids || []).includes(me) && eventId > boot.last_event_id) {
    notify(fmt(strings.alert_fired, { name: payload.name }),
      fmt(strings.alert_body, { value: payload.value ?? "—", threshold: payload.threshold }), null);
  }
  if (event === "conversation.created") notify(strings.new_conversation, "", id);
  if (event === "message.received") notify(strings.new_message, payload.text, id);
  if (event === "agent.mentioned" && payload.membership_id === me) {
    const author = boot.agents.find((a) => a.id === payload.author_id)?.name || "";
    notify(fmt(strings.mentioned, { name: author }), payload.text, id);
  }
}

function onMessage(data) {
  if (data.type === "presence") setPresence(data.membership_id, data.status);
  else if (data.type === "viewers" && data.conversation_id === state.conversationId) {
    state.viewers = data.viewers;
    renderViewers();
  } else if (data.type === "customer_typing" && data.conversation_id === state.conversationId) {
    const line = $("#customer-typing");
    line.textContent = strings.customer_typing;
    line.hidden = !data.typing;
    clearTimeout(timers.customerTyping);
    timers.customerTyping = setTimeout(() => (line.hidden = true), 7000);
  } else if (data.type === "welcome") setPresence(me, data.status);
  else if (data.type === "resync") {
    loadList();
    refreshCounts();
    refreshConversationParts();
  }
  if (data.type === "caught_up" || data.type === "resync") {
    readiness.caughtUp = true;
    settle();
  }
}

const live = new LiveSocket({
  path: "/ws/agent/",
  lastEventId: boot.last_event_id,
  onEvent,
  onMessage,
  onState(stateName) {
    const line = $("#connection");
    if (stateName === "open") {
      line.hidden = true;
      refreshCounts().catch(() => {});
    } else if (stateName === "signed-out") {
      readiness.leaving = true;
      location.href = "/login";
    } else {
      line.textContent = strings.reconnecting;
      line.dataset.kind = "warning";
      line.hidden = false;
    }
  },
});

// ── bulk selection ───────────────────────────────────────────────────────────────────────────────────
function updateBulk() {
  const bar = $("#bulk");
  if (!bar) return;
  bar.hidden = state.selected.size === 0;
  $("#bulk-count").textContent = fmt(strings.selected, { n: format.number(state.selected.size) });
}

document.addEventListener("change", (event) => {
  if (event.target.matches(".row .select")) {
    const id = Number(event.target.value);
    if (event.target.checked) state.selected.add(id);
    else state.selected.delete(id);
    updateBulk();
  } else if (event.target.id === "presence-select") {
    post("/app/x/presence", { status: event.target.value }).then((d) => setPresence(me, d.status)).catch((e) => flash(e.message));
  } else if (event.target.id === "sort-select") {
    const params = new URLSearchParams(state.query);
    params.delete("after");
    params.set("sort", event.target.value);
    state.query = params;
    history.pushState({ list: true }, "", listUrl());
    loadList().catch((error) => flash(error.message));
  } else if (event.target.id === "language-select") {
    event.target.form.submit();
  }
});

document.addEventListener("click", async (event) => {
  const bulk = event.target.closest("[data-bulk]");
  if (bulk) {
    let value = bulk.dataset.value || "";
    if (bulk.dataset.bulk === "add_tag") value = prompt(bulk.textContent) || "";
    if (bulk.dataset.bulk === "add_tag" && !value) return;
    try {
      await post("/app/x/bulk", { action: bulk.dataset.bulk, value, ids: [...state.selected] });
      await loadList();
    } catch (error) {
      flash(error.message);
    }
    return;
  }
  const earlier = event.target.closest(".load-earlier");
  if (earlier) {
    loadEarlier(earlier).catch((error) => flash(error.message));
    return;
  }
  if (event.target.closest("#panel-toggle")) {
    event.preventDefault();
    togglePanel();
    return;
  }
  const link = event.target.closest("a");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || link.target) return;
  if (link.matches(".load-more")) {
    event.preventDefault();
    loadMore(link).catch((error) => flash(error.message));
    return;
  }
  if (link.matches(".back-link")) {
    event.preventDefault();
    goBack(link.dataset.back);
    return;
  }
  if (link.matches(".views-link")) {
    event.preventDefault();
    history.pushState({ views: true, from: "list" }, "", `${listUrl()}#views`);
    applyScreen();
    return;
  }
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin) return;
  const conversation = url.pathname.match(/^\/app\/c\/(\d+)\/$/);
  if (conversation) {
    event.preventDefault();
    openConversation(Number(conversation[1])).catch((error) => flash(error.message));
  } else if (url.pathname === "/app/" && link.closest(".views, .search-results, .contact-panel")) {
    event.preventDefault();
    state.query = url.searchParams;
    for (const item of $$(".views a")) item.toggleAttribute("aria-current", item === link);
    history.pushState({ list: true }, "", `/app/${url.search}`);
    applyScreen();
    loadList().catch((error) => flash(error.message));
  }
});

async function findMergeCandidates(form) {
  const query = new FormData(form).get("merge_q").trim();
  const params = new URLSearchParams({ q: query, back: form.dataset.back });
  const html = query.length < 2 ? "" : await request(`${form.dataset.url}?${params}`);
  const fresh = document.createElement("template");
  fresh.innerHTML = html || '<ul class="merge-results" id="merge-results" aria-live="polite"></ul>';
  format.times(fresh.content);
  $("#merge-results")?.replaceWith(fresh.content);
}

document.addEventListener("input", (event) => {
  const form = event.target.closest(".merge-search-form");
  if (form) soon("merge-search", () => findMergeCandidates(form).catch((error) => flash(error.message)), 250);
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.matches(".merge-search-form")) {
    event.preventDefault();
    findMergeCandidates(form).catch((error) => flash(error.message));
    return;
  }
  if (form.matches(".panel-action")) {
    submitForm(event, (data) => {
      flash(data.message, "info");
      refreshConversationParts({ force: true });
    });
    return;
  }
  if (form.matches(".suggestions form, .merges form, .merge-pick")) {
    submitForm(event, () => refreshConversationParts({ force: true }));
    return;
  }
  if (form.matches(".split-form, .redact-form, .suggestions form, .merges form, .contact-panel details form, "
    + ".failure-form, .cancel-scheduled")) {
    submitForm(event, (data) => {
      if (data.conversation_id) openConversation(data.conversation_id);
      else refreshConversationParts();
    });
  } else if (form.matches(".search")) {
    event.preventDefault();
    const q = new FormData(form).get("q");
    request(`/app/search?q=${encodeURIComponent(q)}`).then((html) => {
      $("#list-pane").innerHTML = html;
      format.times($("#list-pane"));
    }).catch((error) => flash(error.message));
  } else if (form.id === "presence-form") {
    event.preventDefault();
  }
});

window.addEventListener("popstate", () => {
  const query = new URLSearchParams(location.search);
  const sameList = String(query) === String(state.query);
  state.query = query;
  const match = location.pathname.match(/^\/app\/c\/(\d+)\/$/);
  if (!sameList) loadList().catch(() => {});
  if (match && Number(match[1]) !== state.conversationId) {
    openConversation(Number(match[1]), { push: false }).catch(() => {});
  }
  applyScreen();
});

// ── preferences: density, the contact panel, sort ─────────────────────────────────────────────────────
async function togglePanel() {
  if (phone.matches) {
    history.pushState({ id: state.conversationId, from: "conversation" }, "", `${location.pathname}${location.search}#customer`);
    applyScreen();
    return;
  }
  const article = $("#conversation");
  const collapsed = !article.classList.contains("panel-collapsed");
  article.classList.toggle("panel-collapsed", collapsed);
  $("#panel-toggle").setAttribute("aria-expanded", String(!collapsed));
  post("/app/x/ui", { contact_panel: collapsed ? "collapsed" : "open" }).catch((error) => flash(error.message));
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.id === "density-form") {
    event.preventDefault();
    const compact = !document.body.classList.contains("density-compact");
    document.body.classList.toggle("density-compact", compact);
    $("#density-toggle").setAttribute("aria-pressed", String(compact));
    post("/app/x/ui", { density: compact ? "compact" : "comfortable" }).catch((error) => flash(error.message));
  } else if (form.matches(".panel-form")) {
    event.preventDefault();
  }
});

// ── keyboard shortcuts ───────────────────────────────────────────────────────────────────────────────
function moveSelection(step) {
  const rows = $$(".row");
  if (!rows.length) return;
  const index = rows.findIndex((row) => Number(row.dataset.conversationId) === state.conversationId);
  const next = rows[Math.min(Math.max(index + step, 0), rows.length - 1)];
  openConversation(Number(next.dataset.conversationId)).catch(() => {});
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest("input, textarea, select, [contenteditable]")) {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  const actions = {
    j: () => moveSelection(1),
    k: () => moveSelection(-1),
    r: () => { setMode("reply"); openComposer(); $("#composer-text")?.focus(); },
    n: () => { setMode("note"); openComposer(); $("#composer-text")?.focus(); },
    a: () => state.conversationId && update({ assignee: String(me) }),
    e: () => state.conversationId && update({ status: "solved" }),
    o: () => state.conversationId && update({ status: "open" }),
    x: () => {
      const box = $(`.row[data-conversation-id="${state.conversationId}"] .select`);
      if (box) { box.checked = !box.checked; box.dispatchEvent(new Event("change", { bubbles: true })); }
    },
    "/": () => $("#search-input").focus(),
    "?": () => $("#shortcuts").showModal(),
  };
  const action = actions[event.key];
  if (action) {
    event.preventDefault();
    action();
  }
});

// ── start ────────────────────────────────────────────────────────────────────────────────────────────
$("#shortcuts-button").addEventListener("click", () => $("#shortcuts").showModal());
$("#notify-button").addEventListener("click", async () => {
  if (!("Notification" in window)) return;
  const permission = await Notification.requestPermission();
  state.notifications = permission === "granted";
  localStorage.setItem("threadline.notify", state.notifications ? "1" : "0");
  if (state.notifications) flash(strings.notifications_on, "info");
});
$("#language-apply")?.classList.add("hidden");
format.times();
for (const element of $$("[data-count-for]")) {
  const n = Number(element.textContent);
  element.textContent = n ? format.number(n) : "";
}
setInterval(() => format.times(), 60000);
window.addEventListener("beforeunload", saveDraft);
document.addEventListener("visibilitychange", markCustomerMessagesRead);
if (state.conversationId) {
  wireConversation();
  live.viewing = state.conversationId;
  post(`/app/x/conversations/${state.conversationId}/seen`, {}).catch(() => {});
}
markOpenRow();
applyScreen();
if (boot.report_time_zone) {
  // First visit: the browser's time zone becomes the agent's unless they chose one (saved once).
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone) {
    post("/app/x/browser-defaults", { time_zone: zone }).then((data) => {
      if (!data.changed) return;
      readiness.leaving = true;
      location.reload();
    }).catch(() => {});
  }
}
phone.addEventListener("change", applyScreen);
live.connect();
window.threadline = { live, state, openConversation, loadList, refreshCounts };
