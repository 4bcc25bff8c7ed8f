/* Threadline chat widget loader: <script src="https://support.example.com/widget.js" data-channel="ID" async></script>
 *
 * JavaScript API (calls made before the script loads are queued):
 *   window.Threadline = window.Threadline || function () { (Threadline.q = Threadline.q || []).push(arguments); };
 *   Threadline("open"); Threadline("close"); Threadline("toggle");
 *   Threadline("identify", { token });   // a JWT your server signs (HS256, the channel's secret): sub, email, name, phone, iat, exp
 *   Threadline("setAttributes", { plan: "pro" });
 *   Threadline("track", "checkout_failed", { order: 123 });
 *   Threadline("on", "unread" | "open" | "close" | "ready" | "identified" | "error" | "proactive", callback);
 *   Threadline.proactive("name");        // show the proactive message of the rule with this call name (also Threadline("proactive", "name"))
 * Proactive messages (rules set in /app/admin/outreach) also show by themselves on pages whose address matches a
 * rule's pattern, or after a rule's seconds on the page; each at most once per page, one at a time, never while the
 * chat is open.
 *   // error {code: "identity_expired"}: the identity token ran out; call identify again with a fresh one
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector('script[src*="/widget.js"][data-channel]');
  if (!script || window.__threadlineLoaded) return;
  window.__threadlineLoaded = true;
  var base = new URL(script.src, location.href).origin;
  var channel = script.getAttribute("data-channel");
  var queued = (window.Threadline && window.Threadline.q) || [];
  var listeners = {};
  var frame = null;
  var launcher = null;
  var badge = null;
  var ready = false;
  var open = false;
  var outbox = [];
  var config = null;
  var tokenKey = "threadline.visitor." + channel;
  var initialIdentity = null;

  function stored() {
    try { return localStorage.getItem(tokenKey) || ""; } catch (e) { return ""; }
  }

  function store(token) {
    try { localStorage.setItem(tokenKey, token); } catch (e) { /* storage disabled: the chat lasts this page */ }
  }

  function emit(name, value) {
    (listeners[name] || []).forEach(function (callback) {
      try { callback(value); } catch (e) { setTimeout(function () { throw e; }); }
    });
  }

  function toFrame(command, payload) {
    if (!ready) { outbox.push([command, payload]); return; }
    frame.contentWindow.postMessage({ threadline: true, command: command, payload: payload }, base);
  }

  // On a phone the open chat takes the whole screen (its own header closes it); elsewhere a panel by the launcher.
  var phone = window.matchMedia ? window.matchMedia("(max-width: 480px)") : { matches: false };
  function layout() {
    if (!frame) return;
    var side = config && config.position === "left" ? "left" : "right";
    var shown = "display:" + (open ? "block" : "none") + ";";
    frame.style.cssText = phone.matches
      ? "position:fixed;inset:0;width:100%;height:100%;border:0;border-radius:0;background:#fff;z-index:2147483647;" + shown
      : "position:fixed;bottom:88px;" + side + ":20px;width:370px;height:560px;" +
        "max-width:calc(100vw - 40px);max-height:calc(100vh - 110px);border:0;border-radius:14px;background:#fff;" +
        "box-shadow:0 8px 30px rgba(0,0,0,.25);z-index:2147483647;" + shown;
    launcher.style.visibility = phone.matches && open ? "hidden" : "";
  }
  if (phone.addEventListener) phone.addEventListener("change", layout);

  function setOpen(value) {
    open = value;
    if (open && bubble) { bubble.remove(); bubble = null; }
    if (!frame) return;
    layout();
    launcher.setAttribute("aria-expanded", String(open));
    toFrame(open ? "open" : "close");
    emit(open ? "open" : "close");
  }

  function api(command) {
    var args = Array.prototype.slice.call(arguments, 1);
    switch (command) {
      case "open": setOpen(true); break;
      case "close": setOpen(false); break;
      case "toggle": setOpen(!open); break;
      case "identify":
        // Before the frame exists the identity travels with it (in the URL fragment, never sent to a
        // server), so the visitor is identified before their first message.
        if (!frame) initialIdentity = args[0] || {};
        else toFrame("identify", args[0] || {});
        break;
      case "setAttributes": toFrame("setAttributes", args[0] || {}); break;
      case "track": toFrame("track", { name: args[0], properties: args[1] || {} }); break;
      case "on": (listeners[args[0]] = listeners[args[0]] || []).push(args[1]); break;
      case "proactive": proactiveCall(args[0]); break;
      default: if (window.console) console.warn("Threadline: unknown command", command);
    }
  }

  function build(data) {
    config = data;
    // "hide" when nobody is online: no button; the page's own open() calls still open the chat
    var side = config.position === "left" ? "left" : "right";
    launcher = document.createElement("button");
    launcher.type = "button";
    launcher.id = "threadline-launcher";
    launcher.setAttribute("aria-label", config.launcher_label);
    launcher.setAttribute("aria-expanded", "false");
    launcher.title = config.launcher_label;
    launcher.style.cssText = "position:fixed;bottom:20px;" + side + ":20px;width:56px;height:56px;border-radius:50%;" +
      "border:0;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483646;display:grid;place-items:center;padding:0;" +
      "background:" + config.color + ";color:" + config.text_color + ";";
    launcher.innerHTML = '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" fill="none" stroke="currentColor" ' +
      'stroke-width="2" stroke-linecap="round" stroke-linejoin="round" style="vertical-align:middle">' +
      '<path d="M21 11.5a8.4 8.4 0 0 1-9 8.4 9 9 0 0 1-4-.9L3 20l1.1-4A8 8 0 0 1 3 11.5 8.4 8.4 0 0 1 12 3a8.4 8.4 0 0 1 9 8.5z"/></svg>';
    badge = document.createElement("span");
    badge.style.cssText = "position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;border-radius:10px;" +
      "background:#dc2626;color:#fff;font:600 12px/20px system-ui,sans-serif;display:none;padding:0 5px;";
    launcher.appendChild(badge);
    launcher.addEventListener("click", function () { setOpen(!open); });

    frame = document.createElement("iframe");
    frame.id = "threadline-frame";
    frame.title = config.title;
    frame.src = base + "/widget/" + encodeURIComponent(channel) + "/?lang=" + encodeURIComponent(navigator.language || "") +
      "#token=" + encodeURIComponent(stored()) +
      (initialIdentity ? "&identity=" + encodeURIComponent(JSON.stringify(initialIdentity)) : "");
    frame.setAttribute("allow", "clipboard-write");
    document.body.appendChild(frame);
    layout();
    if (config.offline === "hide" && !config.agents_available) launcher.style.display = "none";
    document.body.appendChild(launcher);
    if (open) setOpen(true);
    startProactive();
  }

  // ── proactive messages: a bubble by the launcher; a click opens the chat ──
  var shownRules = {};
  var bubble = null;
  function pattern(glob) {
    return new RegExp("^" + String(glob).replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*") + "$");
  }
  function showProactive(rule) {
    if (!config || open || shownRules[rule.id] || !launcher || bubble) return;  // one at a time, never over the chat
    shownRules[rule.id] = true;
    var side = config.position === "left" ? "left" : "right";
    bubble = document.createElement("div");
    bubble.id = "threadline-proactive";
    bubble.setAttribute("role", "status");
    bubble.dir = config.direction || "ltr";
    bubble.lang = config.language || "";
    bubble.style.cssText = "position:fixed;bottom:88px;" + side + ":20px;max-width:min(300px,calc(100vw - 40px));" +
      "background:#fff;color:#111827;border-radius:12px;box-shadow:0 4px 18px rgba(0,0,0,.2);padding:12px 36px 12px 14px;" +
      "font:15px/1.4 system-ui,sans-serif;cursor:pointer;z-index:2147483646;white-space:pre-line;";
    var text = document.createElement("span");
    text.className = "threadline-proactive-text";
    text.textContent = rule.text;
    var dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.textContent = "\u00d7";
    dismiss.setAttribute("aria-label", config.dismiss_label || "Dismiss");
    dismiss.style.cssText = "position:absolute;top:4px;inset-inline-end:6px;border:0;background:none;font-size:20px;" +
      "line-height:1;cursor:pointer;color:#6b7280;";
    dismiss.addEventListener("click", function (event) { event.stopPropagation(); bubble.remove(); bubble = null; });
    bubble.appendChild(text);
    bubble.appendChild(dismiss);
    bubble.addEventListener("click", function () { bubble.remove(); bubble = null; setOpen(true); });
    document.body.appendChild(bubble);
    emit("proactive", { id: rule.id, text: rule.text });
  }
  function proactiveCall(name) {
    ((config && config.proactive) || []).forEach(function (rule) {
      if (rule.trigger === "call" && rule.call_name === name) showProactive(rule);
    });
  }
  function startProactive() {
    (config.proactive || []).forEach(function (rule) {
      if (rule.trigger === "url" && pattern(rule.url_pattern).test(location.href)) showProactive(rule);
      else if (rule.trigger === "time") setTimeout(function () { showProactive(rule); }, rule.seconds * 1000);
    });
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== base || !frame || event.source !== frame.contentWindow) return;
    var data = event.data || {};
    if (!data.threadline) return;
    if (data.type === "ready") {
      ready = true;
      if (open) toFrame("open");
      outbox.splice(0).forEach(function (item) { toFrame(item[0], item[1]); });
      emit("ready");
    } else if (data.type === "close") {
      setOpen(false);
    } else if (data.type === "unread") {
      badge.textContent = data.count > 9 ? "9+" : String(data.count);
      badge.style.display = data.count > 0 && !open ? "block" : "none";
      emit("unread", data.count);
    } else if (data.type === "error") {
      emit("error", data);
      if (window.console) console.warn("Threadline:", data.command, data.code, data.message);
    } else if (data.type === "token") {
      store(data.token);
    } else if (data.type === "identified") {
      emit("identified");
    }
  });

  api.proactive = function (name) { api("proactive", name); };
  window.Threadline = api;
  function start() {
    fetch(base + "/widget/" + encodeURIComponent(channel) + "/config?lang=" + encodeURIComponent(navigator.language || ""))
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
      .then(function (data) {
        queued.forEach(function (args) { if (args[0] === "identify" || args[0] === "on") api.apply(null, args); });
        build(data);
        queued.forEach(function (args) { if (args[0] !== "identify" && args[0] !== "on") api.apply(null, args); });
        queued = [];
      })
      .catch(function (error) { if (window.console) console.warn("Threadline widget unavailable:", error); });
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
