// Machine translation in the conversation view: customer messages the cache has not translated yet are fetched
// (the page renders at once; translations fill in), and the composer's "translate before sending" preview.
// Internal notes are never translated: in note mode the translate controls are hidden and their box disabled,
// so the note form never carries `translate`.
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const started = new WeakSet();

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST", body, credentials: "same-origin", headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrf },
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.message || response.statusText);
  return data;
}

async function translateMessage(box) {
  const target = box.querySelector(".translated");
  try {
    const data = await post(box.dataset.translateUrl, new FormData());
    target.textContent = data.text;
    box.dataset.translation = "done";
  } catch (error) {
    target.textContent = error.message;
    target.classList.add("error");
    box.dataset.translation = "failed";
    box.querySelector("details.translation-original")?.setAttribute("open", "");
  }
}

const noteMode = () => document.querySelector('#composer input[name="mode"]:checked')?.value === "note";

function syncMode() {
  const panel = document.getElementById("composer-translate");
  if (!panel) return;
  panel.hidden = noteMode();
  const toggle = document.getElementById("translate-toggle");
  if (toggle) toggle.disabled = noteMode();
}

async function preview(panel) {
  const text = document.getElementById("composer-text");
  const box = document.getElementById("translate-preview");
  const out = document.getElementById("translate-preview-text");
  if (!text.value.trim()) {
    text.focus();
    return;
  }
  box.hidden = false;
  out.textContent = panel.dataset.pending;
  out.classList.remove("error");
  try {
    const body = new FormData();
    body.set("text", text.value);
    out.textContent = (await post(panel.dataset.previewUrl, body)).translated;
  } catch (error) {
    out.textContent = error.message;
    out.classList.add("error");
  }
}

function wireComposer() {
  const panel = document.getElementById("composer-translate");
  if (!panel || panel.dataset.wired) return;
  panel.dataset.wired = "1";
  document.getElementById("translate-preview-button")?.addEventListener("click", () => preview(panel));
  document.getElementById("composer-text")?.addEventListener("input", () => {
    const box = document.getElementById("translate-preview");
    if (box) box.hidden = true; // the preview no longer matches what is written
  });
  syncMode();
}

// One request at a time: a conversation with many untranslated messages does not fire them all at once
// (each one writes the cache and the month's usage).
let queue = Promise.resolve();

function scan() {
  for (const box of document.querySelectorAll('[data-translation="pending"][data-translate-url]')) {
    if (started.has(box)) continue;
    started.add(box);
    queue = queue.then(() => (box.isConnected ? translateMessage(box) : null));
  }
  wireComposer();
}

document.addEventListener("change", (event) => {
  if (event.target.name === "mode") syncMode();
});
new MutationObserver(scan).observe(document.body, { childList: true, subtree: true });
scan();
