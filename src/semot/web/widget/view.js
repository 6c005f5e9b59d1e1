// DOM helpers of the widget: elements are built with text nodes only (never innerHTML),
// so a message, a name or a product title can never become markup.

/** h("div", {class, onclick, ...attrs}, ...children): an element; null children are skipped. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "hidden" || k === "disabled") el[k] = !!v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return el;
}

export function stateLabel(t, state) {
  return t(state === "online" ? "online" : state === "busy" ? "busy" : "offline");
}

function safeUrl(u) {
  try {
    const url = new URL(String(u), location.href);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/** A product or order card (a `custom` message, or the context a session started with). */
export function card(data, t) {
  const d = data && typeof data === "object" ? data : {};
  const url = d.url ? safeUrl(d.url) : null;
  const img = d.image_url ? safeUrl(d.image_url) : null;
  const lines = [];
  if (d.price !== undefined && d.price !== null && d.price !== "") lines.push(h("span", { class: "w-card-price" }, `${t("price")}: ${d.price}`));
  if (d.order_no) lines.push(h("span", { class: "w-card-line" }, `${t("orderNo")}: ${d.order_no}`));
  if (d.status) lines.push(h("span", { class: "w-card-line", "data-testid": "w-card-status" }, `${t("status")}: ${d.status}`));
  const title = h("span", { class: "w-card-title", "data-testid": "w-card-title" }, String(d.title || d.name || ""));
  const main = h("span", { class: "w-card-main" }, title, ...lines);
  const inner = [img ? h("img", { class: "w-card-img", src: img, alt: "", referrerpolicy: "no-referrer" }) : null, main];
  return url
    ? h("a", { class: "w-card", href: url, target: "_blank", rel: "noopener noreferrer", "data-testid": "w-card" }, ...inner)
    : h("div", { class: "w-card", "data-testid": "w-card" }, ...inner);
}

function cardData(body) {
  const b = body || {};
  const d = b.data && typeof b.data === "object" ? b.data : {};
  // a context card may nest its fields: {type:"cs.context", data:{context:{...}}}
  return d.context && typeof d.context === "object" ? d.context : d;
}

/** One message of the chat: text, image, card, or a notice. */
export function messageRow(m, me, t, nameOf) {
  const mine = m.from === me;
  if (m.kind === "system") {
    return h("div", { class: "w-sys", "data-testid": "w-msg", "data-kind": "system" }, String((m.body && m.body.text) || ""));
  }
  let content;
  if (m.recalled) content = h("span", { class: "w-muted" }, "…");
  else if (m.kind === "text") content = h("span", { class: "w-text", "data-testid": "w-msg-text" }, String(m.body.text || ""));
  else if (m.kind === "image") {
    const src = safeUrl(m.body.thumb_url || m.body.url || "");
    content = src ? h("img", { class: "w-img", src, alt: t("image_msg"), "data-testid": "w-msg-image" }) : h("span", null, t("image_msg"));
  } else if (m.kind === "custom") content = card(cardData(m.body), t);
  else content = h("span", { class: "w-muted" }, t("other_msg"));
  const who = mine ? null : h("div", { class: "w-who" }, nameOf(m.from) || t("agent"));
  return h("div", { class: `w-msg ${mine ? "w-mine" : "w-theirs"}`, "data-testid": "w-msg", "data-kind": m.kind, "data-seq": m.seq },
    who, h("div", { class: "w-bubble" }, content));
}
