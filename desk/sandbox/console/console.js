// The console: a small Slack over the sandbox's JSON API (/sandbox/api/). No framework, no build step.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const esc = BlockKit.esc;
  const LONDON = { timeZone: "Europe/London" };
  const ui = { people: [], channels: [], shortcuts: [], me: null, where: null, thread: null, shown: "",
               modal: null, lastFocus: null, violations: 0 };

  async function api(method, name, body, query = "") {
    const answer = await fetch(`/sandbox/api/${name}${query}`, {
      method, headers: { "Content-Type": "application/json" }, body: body ? JSON.stringify(body) : undefined });
    const data = await answer.json().catch(() => ({ error: `HTTP ${answer.status}` }));
    if (!answer.ok) throw new Error(data.error || `HTTP ${answer.status}`);
    return data;
  }
  function say(message, kind = "info") {
    const status = $("status");
    status.textContent = message;
    status.className = `status ${kind}`;
    status.setAttribute("role", kind === "error" ? "alert" : "status");
    clearTimeout(ui.statusTimer);
    if (kind !== "error") ui.statusTimer = setTimeout(() => { if (status.textContent === message) status.textContent = ""; }, 4000);
  }
  async function act(label, work) {
    say(`${label}…`);
    try { const result = await work(); say(`${label}: done.`); return result; }
    catch (err) { say(`${label} failed: ${err.message}`, "error"); return null; }
  }
  function person(id) { return ui.people.find((p) => p.id === id); }
  function when(iso, withDay) {
    const at = new Date(iso);
    const options = withDay ? { ...LONDON, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }
                            : { ...LONDON, hour: "2-digit", minute: "2-digit" };
    return at.toLocaleString("en-GB", options);
  }

  // --- who and where ----------------------------------------------------------------------------------
  function roleLabel(p) {
    return { engineer: "engineer", duty_lead: "duty lead", service_manager: "service manager",
             stranger: "not a partner", council: "council" }[p.role] || p.role;
  }
  // The reactions a person is offered on a message: everyone has :ticket: (open a request from it); the
  // support team also has desk's emoji actions (👀 claims, ✅ resolves, 🚨 raises to the top priority).
  function reactionsFor(p) {
    return p.council || p.role === "stranger" ? ["ticket"] : ["ticket", "eyes", "white_check_mark", "rotating_light"];
  }
  function fillPicker() {
    const groups = new Map();
    for (const p of ui.people) {
      const group = p.council ? (ui.councilNames[p.council] || p.council) : p.role === "stranger" ? "Other organisations" : "Support team";
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group).push(p);
    }
    $("acting-as").innerHTML = [...groups].map(([group, members]) => `<optgroup label="${esc(group)}">${members.map((p) =>
      `<option value="${esc(p.id)}">${esc(p.name)} (${esc(roleLabel(p))})</option>`).join("")}</optgroup>`).join("");
    $("acting-as").value = ui.me.id;
  }
  function myChannels() { return ui.channels.filter((c) => c.members.includes(ui.me.id)); }
  function navItem(kind, id, label, extra = "") {
    const current = ui.where && ui.where.kind === kind && ui.where.id === id;
    return `<li><button type="button" class="nav-item" data-kind="${kind}" data-id="${esc(id)}"${current ? ' aria-current="page"' : ""}>${label}${extra}</button></li>`;
  }
  function renderSidebar() {
    $("channels").innerHTML = myChannels().map((c) => navItem("channel", c.id, `<span aria-hidden="true"># </span>${esc(c.name)}`,
      c.council ? "" : ' <span class="badge">support</span>')).join("");
    $("dms").innerHTML = navItem("dm", ui.me.id, "desk <span class=\"badge\">app</span>");
    $("apps").innerHTML = navItem("home", ui.me.id, "desk — Home");
  }
  function chooseDefault() {
    const mine = myChannels();
    const council = mine.find((c) => c.council && c.council === ui.me.council);
    const triage = mine.find((c) => !c.council);
    const first = council || (ui.me.council ? null : triage) || mine[0];
    return first ? { kind: "channel", id: first.id } : { kind: "dm", id: ui.me.id };
  }

  // --- conversations ----------------------------------------------------------------------------------
  async function open(where, focusMain = false) {
    ui.where = where; ui.thread = null; ui.shown = ""; ui.count = undefined;
    renderSidebar();
    setThread(null);
    const home = where.kind === "home";
    $("messages").hidden = home; $("composer").hidden = home; $("home").hidden = !home;
    if (where.kind === "channel") {
      const c = ui.channels.find((x) => x.id === where.id);
      $("conversation-title").textContent = `# ${c.name}`;
      $("conversation-about").textContent = c.council ? `Shared with ${ui.councilNames[c.council] || c.council} (Slack Connect)` : "The support team's triage channel";
    } else if (where.kind === "dm") {
      $("conversation-title").textContent = "desk (direct messages)";
      $("conversation-about").textContent = "What desk sends you alone";
    } else {
      $("conversation-title").textContent = "desk — Home";
      $("conversation-about").textContent = `App Home, as ${ui.me.name} sees it`;
      await openHome();
    }
    if (focusMain) $("conversation").focus();
    await refresh();
  }
  async function openHome() {
    const answer = await act("Opening App Home", () => api("POST", "home", { as: ui.me.id }));
    renderHome(answer && answer.view);
  }
  function renderHome(view) {
    ui.homeView = view;
    $("home").innerHTML = view ? `<div class="view" data-view-id="${esc(view.id)}">${BlockKit.blocks(view.blocks, { key: view.id })}</div>`
                               : `<p>desk has not published a Home tab for you.</p>`;
  }
  async function refresh() {
    if (!ui.where || ui.where.kind === "home") return;
    let list;
    try { list = await api("GET", "messages", null, `?channel=${encodeURIComponent(ui.where.id)}&as=${encodeURIComponent(ui.me.id)}`); }
    catch (err) { say(`Could not read messages: ${err.message}`, "error"); return; }
    const json = JSON.stringify(list);
    if (json === ui.shown) return;
    const focused = document.activeElement && document.activeElement.id;
    const stick = $("messages").scrollHeight - $("messages").scrollTop - $("messages").clientHeight < 80;
    const before = ui.count;
    ui.shown = json; ui.count = list.length;
    renderMessages(list);
    if (before !== undefined && list.length > before) {  // one short announcement, not the whole list again
      const last = list[list.length - 1];
      const who = last.bot ? "desk" : (person(last.user) || { name: "someone" }).name;
      $("announce").textContent = `${list.length - before} new message${list.length - before === 1 ? "" : "s"}, the latest from ${who}.`;
    }
    if (focused && $(focused) && $("messages").contains($(focused))) $(focused).focus();
    if (stick) $("messages").scrollTop = $("messages").scrollHeight;
  }
  function renderMessages(list) {
    const top = list.filter((m) => !m.thread_ts || m.thread_ts === m.ts);
    const replies = (ts) => list.filter((m) => m.thread_ts === ts && m.ts !== ts);
    $("messages").innerHTML = top.length ? top.map((m) => {
      const thread = replies(m.ts);
      return `${message(m, false)}${thread.length ? `<div class="thread" role="group" aria-label="${thread.length} ${thread.length === 1 ? "reply" : "replies"}">${thread.map((r) => message(r, true)).join("")}</div>` : ""}`;
    }).join("") : `<p class="empty">No messages yet.</p>`;
  }
  function message(m, inThread) {
    const who = m.bot ? "desk" : (person(m.user) || { name: m.user }).name;
    const p = person(m.user);
    const org = p ? (p.council ? ui.councilNames[p.council] : p.role === "stranger" ? "Acme Outsourcing" : "Support") : "";
    const body = m.blocks && m.blocks.length ? BlockKit.blocks(m.blocks, { key: m.ts }) : `<p>${BlockKit.mrkdwn(m.text)}</p>`;
    const files = m.files.map((f) => /\.(png|jpe?g|gif|svg|webp)$/i.test(f.name || "")
      ? `<figure class="file"><img src="${esc(f.url)}" alt="${esc(f.title || f.name)}"><figcaption>${esc(f.title || f.name)}</figcaption></figure>`
      : `<p class="file"><a href="${esc(f.url)}" download="${esc(f.name)}">${esc(f.title || f.name)}</a> <span class="org">(${esc(f.name)})</span></p>`).join("");
    const reactions = m.reactions.length ? `<p class="reactions">${m.reactions.map((r) => `<span class="reaction">${BlockKit.mrkdwn(`:${r}:`)} <span class="visually-hidden">${esc(r)}</span></span>`).join("")}</p>` : "";
    const tools = m.ephemeral ? "" : `<div class="message-tools" role="group" aria-label="Actions on this message">
        ${inThread ? "" : `<button type="button" data-tool="reply" data-ts="${esc(m.ts)}">Reply in thread</button>`}
        ${reactionsFor(ui.me).map((name) => `<button type="button" data-tool="react" data-name="${name}" data-ts="${esc(m.ts)}">Add :${name}:</button>`).join("")}
        ${ui.shortcuts.filter((s) => s.type === "message").map((s) => `<button type="button" data-tool="shortcut" data-callback="${esc(s.callback_id)}" data-ts="${esc(m.ts)}">${esc(s.name)}</button>`).join("")}
      </div>`;
    return `<article class="message${m.ephemeral ? " ephemeral" : ""}${inThread ? " reply" : ""}" data-ts="${esc(m.ts)}" aria-label="${esc(who)}, ${esc(when(m.at))}">
      <header class="message-head"><span class="author">${esc(who)}</span>${m.bot ? ' <span class="badge">app</span>' : ""}
        ${org ? `<span class="org">${esc(org)}</span>` : ""}<time datetime="${esc(m.at)}">${esc(when(m.at, true))}</time>
        ${m.edited ? '<span class="edited">(edited)</span>' : ""}${m.ephemeral ? '<span class="only-you">Only visible to you</span>' : ""}</header>
      <div class="message-body">${body}${files}</div>${reactions}${tools}</article>`;
  }
  function setThread(ts) {
    ui.thread = ts;
    $("thread-target").hidden = !ts;
    $("composer-label").textContent = ts ? "Reply in thread" : "Message";
    if (ts) $("thread-target-text").textContent = "Replying in a thread.";
  }

  // --- doing things -----------------------------------------------------------------------------------
  async function send(text) {
    const where = ui.where;
    if (text.startsWith("/")) {
      const [command, ...rest] = text.split(/\s+/);
      if (command !== "/desk") { say(`${command} is not a command here; desk's is /desk`, "error"); return; }
      const answer = await act(`Running ${text}`, () => api("POST", "command", { as: ui.me.id, channel: where.id, text: rest.join(" ") }));
      if (answer && answer.view) showModal(answer.view);
    } else {
      await act("Sending", () => api("POST", "say", { as: ui.me.id, channel: where.id, text, thread_ts: ui.thread || undefined }));
    }
    await refresh();
  }
  async function click(target, value) {
    const view = target.closest("[data-view-id]");
    const body = { as: ui.me.id, action_id: target.dataset.actionId, value: value ?? undefined };
    if (view) body.view_id = view.dataset.viewId;
    else { body.channel = ui.where.id; body.ts = target.closest("[data-ts]").dataset.ts; }
    const answer = await act(`Sending “${target.textContent.trim().slice(0, 40) || target.dataset.actionId}”`, () => api("POST", "click", body));
    if (answer && answer.view && answer.view.type === "modal") showModal(answer.view, view && ui.modal ? "push" : "open");
    else if (answer && answer.view && answer.view.type === "home") renderHome(answer.view);
    if (ui.where.kind === "home" && !(answer && answer.view && answer.view.type === "modal")) await openHome();
    await refresh();
  }
  function commit(select) {
    delete select.dataset.pending; delete select.dataset.keyboard;
    if (select.value) click(select, select.value);
  }
  async function tool(button) {
    const ts = button.dataset.ts;
    if (button.dataset.tool === "reply") { setThread(ts); $("composer-text").focus(); return; }
    if (button.dataset.tool === "react") {
      const name = button.dataset.name || "ticket";
      await act(`Adding :${name}:`, () => api("POST", "react", { as: ui.me.id, channel: ui.where.id, ts, name }));
    }
    if (button.dataset.tool === "shortcut") {
      const answer = await act("Using the shortcut", () => api("POST", "shortcut", { as: ui.me.id, channel: ui.where.id, ts, callback_id: button.dataset.callback }));
      if (answer && answer.view) showModal(answer.view);
    }
    await refresh();
  }

  // --- modals -----------------------------------------------------------------------------------------
  // A modal is a stack of views (views.push): a pushed view goes back to the one below when it is
  // submitted or cancelled; `mode` is "open" (a new modal), "push", or "replace" (views.update).
  function showModal(view, mode = "open") {
    if (!ui.modal) ui.lastFocus = document.activeElement;
    if (mode === "open" || !ui.modal) ui.stack = [];
    else if (mode === "push" && ui.modal.id !== view.id) ui.stack.push(ui.modal);
    ui.modal = view;
    $("modal").innerHTML = `<form class="view" data-view-id="${esc(view.id)}" novalidate>
      <h2 id="modal-title">${esc(BlockKit.plain(view.title))}</h2>
      <div class="modal-body">${BlockKit.blocks(view.blocks, { key: view.id })}</div>
      <div class="modal-footer"><button type="button" data-modal="close">${esc(BlockKit.plain(view.close) || "Cancel")}</button>
      ${view.submit ? `<button type="submit" class="primary">${esc(BlockKit.plain(view.submit))}</button>` : ""}</div></form>`;
    $("modal-backdrop").hidden = false;
    const first = $("modal").querySelector("input, textarea, select, button");
    if (first) first.focus();
  }
  async function refreshModal() {
    // desk may update the open modal after the fact (views.update): show what Slack would
    const shown = ui.modal;
    const current = await api("GET", "view", null, `?id=${encodeURIComponent(shown.id)}`).catch(() => null);
    if (current && ui.modal === shown && current.hash !== shown.hash) showModal(current, "replace");
  }
  async function backOrClose() {
    const below = (ui.stack || []).pop();
    if (!below) { closeModal(); return; }
    const fresh = await api("GET", "view", null, `?id=${encodeURIComponent(below.id)}`).catch(() => below);
    showModal(fresh, "replace");
  }
  function closeModal() {
    ui.modal = null; ui.stack = [];
    $("modal-backdrop").hidden = true;
    $("modal").innerHTML = "";
    if (ui.lastFocus && document.body.contains(ui.lastFocus)) ui.lastFocus.focus();
  }
  function showErrors(errors) {
    let first = null;
    for (const box of $("modal").querySelectorAll(".input-block")) {
      const problem = errors[box.dataset.block];
      const note = box.querySelector(".field-error");
      const control = box.querySelector("input, textarea, select");
      note.hidden = !problem; note.textContent = problem || "";
      if (control) control.setAttribute("aria-invalid", problem ? "true" : "false");
      if (problem && !first) first = control;
    }
    if (first) first.focus();
  }
  async function submitModal(form) {
    const values = {};
    const missing = {};
    for (const control of form.querySelectorAll("[data-input-block]")) {
      const block = control.dataset.inputBlock;
      values[block] = values[block] || {};
      values[block][control.dataset.inputAction] = control.value;
      if (control.required && control.value === "") missing[block] = "Please fill this in.";
    }
    if (Object.keys(missing).length) { showErrors(missing); return; }  // as Slack's client refuses it
    const answer = await act("Submitting", () => api("POST", "submit", { as: ui.me.id, view_id: form.dataset.viewId, values }));
    if (!answer) return;
    if (answer.errors) { showErrors(answer.errors); say("desk asked for changes on the form.", "error"); return; }
    if (answer.view) showModal(answer.view, answer.view.id === ui.modal.id ? "replace" : "push");
    else if (answer.clear) closeModal();
    else await backOrClose();
    if (ui.where.kind === "home") await openHome();
    await refresh();
  }

  // --- the clock, state and polling -------------------------------------------------------------------
  async function moveClock(body, label) {
    const answer = await act(`Moving the clock ${label} and running desk's due work`, () => api("POST", "clock", body));
    if (answer) $("now").textContent = when(answer.now, true);
    await loadState(false);
    if (ui.where.kind === "home") await openHome();
    await refresh();
  }
  async function loadState(first) {
    const state = await api("GET", "state");
    ui.people = state.people; ui.channels = state.channels; ui.shortcuts = state.shortcuts || [];
    ui.councilNames = state.council_names || {};
    BlockKit.setDirectory(Object.fromEntries(ui.people.map((p) => [p.id, p])), Object.fromEntries(ui.channels.map((c) => [c.id, c])));
    $("now").textContent = when(state.now, true);
    $("now").setAttribute("datetime", state.now);
    if (first) {
      const wanted = new URLSearchParams(location.search).get("as");
      ui.me = person(wanted) || ui.people.find((p) => p.role === "council") || ui.people[0];
      fillPicker();
    }
    const list = state.violations || [];
    $("violations").hidden = list.length === 0;
    $("violations-list").innerHTML = list.map((v) => `<li><code>${esc(v)}</code></li>`).join("");
    if (list.length > ui.violations) say(`Slack would have refused ${list.length - ui.violations} call(s): see below.`, "error");
    ui.violations = list.length;
  }

  function wire() {
    $("acting-as").addEventListener("change", (e) => { ui.me = person(e.target.value); open(chooseDefault()); });
    document.querySelector(".sidebar").addEventListener("click", (e) => {
      const item = e.target.closest(".nav-item");
      if (item) open({ kind: item.dataset.kind, id: item.dataset.id }, true);
    });
    for (const button of document.querySelectorAll(".clock button")) {
      button.addEventListener("click", () => moveClock(button.dataset.advance ? { advance: button.dataset.advance } : { to: button.dataset.to }, button.textContent));
    }
    $("composer").addEventListener("submit", (e) => {
      e.preventDefault();
      const text = $("composer-text").value.trim();
      if (!text) { say("Type a message first.", "error"); $("composer-text").focus(); return; }
      $("composer-text").value = "";
      send(text);
    });
    $("composer-text").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); }
    });
    $("thread-cancel").addEventListener("click", () => { setThread(null); $("composer-text").focus(); });
    for (const area of [$("messages"), $("home"), $("modal")]) {
      area.addEventListener("click", (e) => {
        const button = e.target.closest("button[data-kind='button']");
        const toolButton = e.target.closest("button[data-tool]");
        if (button) click(button, button.dataset.value || undefined);
        else if (toolButton) tool(toolButton);
        else if (e.target.closest("[data-modal='close']")) backOrClose();
      });
      // A choice is sent when made with the mouse, or with Enter (or leaving the menu) after arrowing
      // through it from the keyboard: arrowing alone must not assign each person in turn.
      area.addEventListener("keydown", (e) => {
        const select = e.target.closest("select[data-kind='select']");
        if (!select) return;
        if (e.key === "Enter" && select.dataset.pending) { e.preventDefault(); commit(select); }
        else if (e.key !== "Tab" && e.key !== "Enter") select.dataset.keyboard = "1";
      });
      area.addEventListener("change", (e) => {
        const select = e.target.closest("select[data-kind='select']");
        if (!select || !select.value) return;
        if (select.dataset.keyboard) { select.dataset.pending = "1"; return; }
        commit(select);
      });
      area.addEventListener("focusout", (e) => {
        const select = e.target.closest && e.target.closest("select[data-kind='select']");
        if (select && select.dataset.pending) commit(select);
      });
    }
    $("modal").addEventListener("submit", (e) => { e.preventDefault(); submitModal(e.target); });
    $("modal").addEventListener("keydown", (e) => {
      if (e.key === "Escape") { backOrClose(); return; }
      if (e.key !== "Tab") return;
      const focusable = [...$("modal").querySelectorAll("button, input, textarea, select, a[href]")].filter((x) => !x.disabled);
      const first = focusable[0], last = focusable[focusable.length - 1];
      if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
    });
  }

  async function start() {
    wire();
    await loadState(true);
    await open(chooseDefault());
    let tick = 0;
    setInterval(async () => {
      tick += 1;
      if (!ui.modal) await refresh();
      else await refreshModal();
      if (tick % 4 === 0) await loadState(false).catch(() => {});
    }, 1500);
  }
  start().catch((err) => say(`The sandbox did not start: ${err.message}`, "error"));
})();
