// Block Kit to HTML, as Slack draws it: header, section (mrkdwn, fields, accessory), context, divider,
// image, actions (buttons, static and user selects, overflow), rich_text, and a modal's inputs.
// Interactive elements carry data-action-id / data-value / data-block-id; console.js handles them.
"use strict";

const BlockKit = (() => {
  const EMOJI = { ticket: "🎫", white_check_mark: "✅", warning: "⚠️", rotating_light: "🚨", hourglass: "⏳",
    hourglass_flowing_sand: "⏳", star: "⭐", bell: "🔔", red_circle: "🔴", large_orange_circle: "🟠",
    large_yellow_circle: "🟡", large_green_circle: "🟢", large_blue_circle: "🔵", speech_balloon: "💬",
    pause_button: "⏸️", arrow_forward: "▶️", chart_with_upwards_trend: "📈", calendar: "📅", clock3: "🕒",
    eyes: "👀", x: "❌", heavy_check_mark: "✔️", memo: "📝", wave: "👋", mag: "🔍", bar_chart: "📊",
    sos: "🆘", fire: "🔥", raised_hands: "🙌", thumbsup: "👍", "+1": "👍", information_source: "ℹ️", crescent_moon: "🌙", office: "🏢", sunrise: "🌅", tada: "🎉",
    arrows_counterclockwise: "🔄", lock: "🔒", busts_in_silhouette: "👥", bust_in_silhouette: "👤" };
  let people = {};
  let channels = {};

  function setDirectory(peopleById, channelsById) { people = peopleById; channels = channelsById; }

  function esc(text) {
    return String(text ?? "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }
  function unescapeSlack(text) {
    return String(text ?? "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }
  // Colour emoji where the machine has a font for them, else the :name: Slack people type.
  const colourEmoji = (() => {
    try {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 16;
      const ctx = canvas.getContext("2d");
      ctx.textBaseline = "top"; ctx.font = "14px sans-serif"; ctx.fillText("\u{1F3AB}", 0, 0);
      const data = ctx.getImageData(0, 0, 16, 16).data;
      for (let i = 0; i < data.length; i += 4) if (data[i] !== data[i + 1] || data[i + 1] !== data[i + 2]) return true;
    } catch (err) { /* no canvas: text it is */ }
    return false;
  })();
  function emoji(text) {
    return text.replace(/:([a-z0-9_+\-]+):/g, (all, name) => EMOJI[name] && colourEmoji
      ? `<span role="img" aria-label="${name}">${EMOJI[name]}</span>` : `<span class="emoji-name">${all}</span>`);
  }
  function personName(id) { return people[id] ? people[id].name : id; }

  // Slack's mrkdwn: *bold* _italic_ ~strike~ `code` ```pre``` > quote, <url|text>, <@U>, <#C>, <!here>
  function mrkdwn(source) {
    const raw = String(source ?? "");
    const parts = raw.split(/(<[^>\s][^>]*>)/g);
    let html = "";
    for (const part of parts) {
      const link = part.match(/^<([@#!]?)([^>|]+)(?:\|([^>]*))?>$/);
      if (!link) { html += inline(esc(unescapeSlack(part))); continue; }
      const [, sigil, target, label] = link;
      if (sigil === "@") html += `<span class="mention">@${esc(personName(target))}</span>`;
      else if (sigil === "#") html += `<span class="mention">#${esc(label || (channels[target] || {}).name || target)}</span>`;
      else if (sigil === "!") html += `<span class="mention">@${esc(label || target.replace(/^subteam\^/, ""))}</span>`;
      else html += `<a href="${esc(unescapeSlack(target))}" rel="noopener noreferrer" target="_blank">${esc(unescapeSlack(label || target))}</a>`;
    }
    return html.split("\n").map((line) => line.startsWith("&gt; ") ? `<span class="quote">${line.slice(5)}</span>` : line).join("<br>");
  }
  function inline(html) {
    return emoji(html
      .replace(/```([\s\S]+?)```/g, "<pre>$1</pre>")
      .replace(/`([^`]+)`/g, "<code>$1</code>")
      .replace(/(^|[\s(])\*([^*\n]+)\*/g, "$1<strong>$2</strong>")
      .replace(/(^|[\s(])_([^_\n]+)_/g, "$1<em>$2</em>")
      .replace(/(^|[\s(])~([^~\n]+)~/g, "$1<s>$2</s>"));
  }
  function text(object) {
    if (!object) return "";
    return object.type === "mrkdwn" ? mrkdwn(object.text) : emoji(esc(object.text));
  }
  function plain(object) { return object ? String(object.text ?? "") : ""; }

  function element(el, blockId, ctx) {
    const data = `data-action-id="${esc(el.action_id)}" data-block-id="${esc(blockId)}"`;
    const key = `${ctx.key}-${blockId}-${el.action_id}`.replace(/[^A-Za-z0-9_.-]/g, "_");
    switch (el.type) {
      case "button": {
        const style = el.style === "primary" ? "primary" : el.style === "danger" ? "danger" : "";
        if (el.url) return `<a class="button ${style}" href="${esc(el.url)}" target="_blank" rel="noopener noreferrer">${text(el.text)}</a>`;
        return `<button type="button" id="${esc(key)}-${esc(el.value ?? "")}" class="${style}" ${data} data-kind="button" data-value="${esc(el.value ?? "")}">${text(el.text)}</button>`;
      }
      case "static_select": case "overflow": case "radio_buttons": {
        const options = (el.options || []).concat(...(el.option_groups || []).map((g) => g.options || []));
        const label = el.type === "overflow" ? "More actions" : plain(el.placeholder) || "Choose";
        const initial = el.initial_option ? el.initial_option.value : "";
        return `<span class="select"><label class="visually-hidden" for="${esc(key)}">${esc(label)}</label><select id="${esc(key)}" ${data} data-kind="select">
          <option value="">${esc(el.type === "overflow" ? "⋯ More" : label)}</option>
          ${options.map((o) => `<option value="${esc(o.value)}"${o.value === initial ? " selected" : ""}>${esc(plain(o.text))}</option>`).join("")}
        </select></span>`;
      }
      case "users_select": {
        const label = plain(el.placeholder) || "Choose someone";
        return `<span class="select"><label class="visually-hidden" for="${esc(key)}">${esc(label)}</label><select id="${esc(key)}" ${data} data-kind="select">
          <option value="">${esc(label)}</option>
          ${Object.values(people).map((p) => `<option value="${esc(p.id)}"${p.id === el.initial_user ? " selected" : ""}>${esc(p.name)}</option>`).join("")}
        </select></span>`;
      }
      case "image":
        return `<img class="accessory-image" src="${esc(el.image_url)}" alt="${esc(el.alt_text || "")}">`;
      default:
        return `<span class="unsupported">[${esc(el.type)}]</span>`;
    }
  }

  function richText(block) {
    const run = (els) => (els || []).map((e) => {
      if (e.type === "text") {
        let h = emoji(esc(e.text));
        const s = e.style || {};
        if (s.code) h = `<code>${h}</code>`; if (s.bold) h = `<strong>${h}</strong>`;
        if (s.italic) h = `<em>${h}</em>`; if (s.strike) h = `<s>${h}</s>`;
        return h.replace(/\n/g, "<br>");
      }
      if (e.type === "user") return `<span class="mention">@${esc(personName(e.user_id))}</span>`;
      if (e.type === "channel") return `<span class="mention">#${esc((channels[e.channel_id] || {}).name || e.channel_id)}</span>`;
      if (e.type === "usergroup") return `<span class="mention">@${esc(e.usergroup_id)}</span>`;
      if (e.type === "broadcast") return `<span class="mention">@${esc(e.range)}</span>`;
      if (e.type === "link") return `<a href="${esc(e.url)}" target="_blank" rel="noopener noreferrer">${esc(e.text || e.url)}</a>`;
      if (e.type === "emoji") return emoji(`:${esc(e.name)}:`);
      return "";
    }).join("");
    return (block.elements || []).map((part) => {
      if (part.type === "rich_text_section") return `<p>${run(part.elements)}</p>`;
      if (part.type === "rich_text_preformatted") return `<pre>${run(part.elements)}</pre>`;
      if (part.type === "rich_text_quote") return `<blockquote>${run(part.elements)}</blockquote>`;
      if (part.type === "rich_text_list") {
        const tag = part.style === "ordered" ? "ol" : "ul";
        return `<${tag}>${(part.elements || []).map((item) => `<li>${run(item.elements)}</li>`).join("")}</${tag}>`;
      }
      return "";
    }).join("");
  }

  function input(block, ctx) {
    const el = block.element || {};
    const id = `input-${esc(block.block_id)}`;
    const hint = block.hint ? `<p class="hint" id="${id}-hint">${esc(plain(block.hint))}</p>` : "";
    const error = `<p class="field-error" id="${id}-error" hidden></p>`;
    const described = `aria-describedby="${block.hint ? `${id}-hint ` : ""}${id}-error"`;
    const required = block.optional ? "" : " required";
    const label = `<label for="${id}">${esc(plain(block.label))}${block.optional ? ' <span class="optional">(optional)</span>' : ""}</label>`;
    const data = `data-input-block="${esc(block.block_id)}" data-input-action="${esc(el.action_id)}" data-input-type="${esc(el.type)}"`;
    let control;
    if (el.type === "plain_text_input") {
      const max = el.max_length ? ` maxlength="${el.max_length}"` : "";
      const placeholder = el.placeholder ? ` placeholder="${esc(plain(el.placeholder))}"` : "";
      control = el.multiline
        ? `<textarea id="${id}" rows="4" ${data} ${described}${max}${placeholder}${required}>${esc(el.initial_value || "")}</textarea>`
        : `<input id="${id}" type="text" ${data} ${described}${max}${placeholder}${required} value="${esc(el.initial_value || "")}">`;
    } else if (el.type === "static_select" || el.type === "radio_buttons") {
      const options = (el.options || []).concat(...(el.option_groups || []).map((g) => g.options || []));
      const initial = el.initial_option ? el.initial_option.value : "";
      control = `<select id="${id}" ${data} ${described}${required}><option value="">${esc(plain(el.placeholder) || "Choose")}</option>
        ${options.map((o) => `<option value="${esc(o.value)}"${o.value === initial ? " selected" : ""}>${esc(plain(o.text))}</option>`).join("")}</select>`;
    } else if (el.type === "users_select") {
      control = `<select id="${id}" ${data} ${described}${required}><option value="">${esc(plain(el.placeholder) || "Choose someone")}</option>
        ${Object.values(people).map((p) => `<option value="${esc(p.id)}"${p.id === el.initial_user ? " selected" : ""}>${esc(p.name)}</option>`).join("")}</select>`;
    } else {
      control = `<span class="unsupported">[${esc(el.type)} input]</span>`;
    }
    return `<div class="input-block" data-block="${esc(block.block_id)}">${label}${control}${hint}${error}</div>`;
  }

  function block(b, ctx) {
    switch (b.type) {
      case "header": return `<h3 class="bk-header">${text(b.text)}</h3>`;
      case "divider": return `<hr>`;
      case "section": {
        const fields = b.fields ? `<div class="fields">${b.fields.map((f) => `<div>${text(f)}</div>`).join("")}</div>` : "";
        const accessory = b.accessory ? `<div class="accessory">${element(b.accessory, b.block_id, ctx)}</div>` : "";
        return `<div class="bk-section"><div class="bk-section-body">${b.text ? `<div>${text(b.text)}</div>` : ""}${fields}</div>${accessory}</div>`;
      }
      case "context": return `<div class="bk-context">${(b.elements || []).map((e) => e.type === "image"
        ? `<img src="${esc(e.image_url)}" alt="${esc(e.alt_text || "")}" class="context-image">` : `<span>${text(e)}</span>`).join("")}</div>`;
      case "image": return `<figure class="bk-image">${b.title ? `<figcaption>${text(b.title)}</figcaption>` : ""}<img src="${esc(b.image_url)}" alt="${esc(b.alt_text || "")}"></figure>`;
      case "actions": return `<div class="bk-actions">${(b.elements || []).map((e) => element(e, b.block_id, ctx)).join("")}</div>`;
      case "rich_text": return `<div class="bk-rich">${richText(b)}</div>`;
      case "input": return input(b, ctx);
      default: return `<p class="unsupported">[${esc(b.type)} block]</p>`;
    }
  }

  function blocks(list, ctx) { return (list || []).map((b) => block(b, ctx)).join(""); }

  return { blocks, mrkdwn, esc, plain, setDirectory, personName };
})();
