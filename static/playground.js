// The playground: each way's panel drives that way's real endpoints, as its client would.
//
// Served as a file of the project's own (no inline script: the page's CSP forbids it). A
// header-way client keeps its tokens in memory, in `tokens`, never in localStorage. What
// HttpOnly cookies hold, this page cannot read: it shows what the server says it received.

const page = document.body;
const csrfCookieName = page.dataset.csrfCookie;
const plainCookieName = page.dataset.plainCookie;
const tokens = {}; // way name → {access, refresh}: the header way's client's memory
const copies = {}; // way name → the copy "a thief" took: a token, or the server's copy id
let cartItems = 0;

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function cookieValue(name) {
  const prefix = `${name}=`;
  const found = document.cookie.split("; ").find((cookie) => cookie.startsWith(prefix));
  return found === undefined ? null : decodeURIComponent(found.slice(prefix.length));
}

function scriptsCanRead(name) {
  return cookieValue(name) !== null;
}

async function csrfToken(panel) {
  if (cookieValue(csrfCookieName) === null) {
    // GET on a login URL of a cookie way sets the CSRF cookie, as Django's docs describe.
    await fetch(panel.dataset.login, { credentials: "same-origin" });
  }
  return cookieValue(csrfCookieName) ?? "";
}

async function call(panel, method, path, body, { bearer } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && panel.dataset.transport === "cookie") {
    headers["X-CSRFToken"] = await csrfToken(panel);
  }
  const token = bearer ?? tokens[panel.dataset.way]?.access;
  if (panel.dataset.transport === "header" && token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  let json = null;
  try {
    json = await response.json();
  } catch {
    json = null;
  }
  // Behind the cluster's balancer (make cluster), the node that answered: watch them change.
  return { status: response.status, body: json, node: response.headers.get("X-Served-By") };
}

function log(panel, label, answer) {
  const body = answer.body ?? {};
  const what = [body.code, body.detail].filter(Boolean).join(": ");
  const resource = body.user ? `${body.resource} As ${body.user.username}, through ${body.way}.` : "";
  const summary = what || resource || (body.items ? `${body.items.length} items. ${body.kept}` : "");
  const entry = el(
    "li",
    { class: answer.status < 300 ? "ok" : "refused" },
    el("strong", {}, `${label} → ${answer.status}`),
    summary ? ` ${summary}` : "",
    answer.node ? el("span", { class: "node" }, ` (served by ${answer.node})`) : "",
  );
  entry.dataset.status = String(answer.status);
  if (body.code) entry.dataset.code = body.code;
  panel.querySelector(".answers").prepend(entry);
}

function decodeSegment(segment) {
  try {
    const base64 = segment.replaceAll("-", "+").replaceAll("_", "/");
    return JSON.parse(atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4)));
  } catch {
    return "(does not decode)";
  }
}

function jwtParts(token) {
  const [header, payload, signature] = token.split(".");
  return { header: decodeSegment(header), payload: decodeSegment(payload), signature: `${signature.slice(0, 8)}…` };
}

function partsView(parts) {
  if (!parts) return el("p", {}, "Nothing was sent.");
  const list = el("dl", { class: "parts-list" });
  for (const [name, value] of Object.entries(parts)) {
    const shown = typeof value === "string" ? value : JSON.stringify(value, null, 2);
    list.append(el("dt", { class: `part-${name}` }, name), el("dd", { class: `part-${name}` }, el("pre", {}, shown)));
  }
  return list;
}

function flagsText(cookie) {
  const flags = [
    cookie.http_only ? "HttpOnly" : "not HttpOnly",
    cookie.secure ? "Secure" : "not Secure",
    `SameSite=${cookie.same_site}`,
    `Path=${cookie.path}`,
  ];
  if (cookie.max_age) flags.push(`Max-Age=${cookie.max_age}`);
  return flags.join("; ");
}

function renderHolds(panel, inspected) {
  const holds = panel.querySelector(".holds");
  holds.replaceChildren();
  if (panel.dataset.transport === "header") {
    const held = tokens[panel.dataset.way];
    holds.append(
      el(
        "p",
        {},
        "In this page's memory, a JavaScript variable: not in localStorage, which every script " +
          "of the origin can read and which outlives the tab.",
      ),
    );
    if (!held) {
      holds.append(el("p", { class: "held-nothing" }, "No tokens: log in."));
      return;
    }
    const list = el("ul", { class: "held" });
    for (const [name, value] of Object.entries(held)) {
      list.append(el("li", { "data-name": name }, el("code", {}, name), ` ${value.length} bytes`));
    }
    holds.append(list);
    return;
  }
  const list = el("ul", { class: "held" });
  for (const cookie of inspected.browser_sent) {
    const readable = scriptsCanRead(cookie.name);
    const item = el(
      "li",
      { "data-name": cookie.name, "data-readable": String(readable), "data-received": String(cookie.received) },
      el("code", {}, cookie.name),
      cookie.received ? ` ${cookie.bytes} bytes. ` : " not sent with this request. ",
      el("span", { class: "flags" }, flagsText(cookie)),
      ". ",
      readable
        ? "Your scripts can read this."
        : "HttpOnly: your scripts cannot read this — the server shows you what it received.",
    );
    if (!cookie.received && cookie.path !== "/") {
      item.append(` Its Path keeps it to ${cookie.path}.`);
    }
    list.append(item);
  }
  holds.append(list);
}

function renderKeeps(panel, inspected) {
  const keeps = panel.querySelector(".keeps");
  keeps.replaceChildren();
  if (inspected.server_keeps.length === 0) {
    const sent = inspected.browser_sent.some((credential) => credential.received);
    const why =
      sent && panel.dataset.selfContained === "true"
        ? "Nothing: the credential itself is the state, signed by the server."
        : "Nothing for this request: it carried no credential of this way.";
    keeps.append(el("p", { class: "keeps-nothing" }, why));
    return;
  }
  for (const entry of inspected.server_keeps) {
    const { store, ...fields } = entry;
    keeps.append(el("h4", { "data-store": store }, store), partsView(fields));
  }
}

function renderParts(panel, inspected) {
  const parts = panel.querySelector(".parts");
  parts.replaceChildren();
  const held = tokens[panel.dataset.way];
  if (panel.dataset.transport === "header" && held) {
    parts.append(
      el("p", {}, "The access token: anyone who holds it can read its header and payload; only the signature stops them editing it."),
      partsView(jwtParts(held.access)),
    );
    return;
  }
  const sent = inspected.browser_sent.filter((cookie) => cookie.received && cookie.parts);
  if (sent.length === 0) {
    parts.append(el("p", {}, "Nothing was sent to take apart."));
    return;
  }
  for (const cookie of sent) {
    parts.append(el("h4", {}, cookie.name), partsView(cookie.parts));
  }
}

// The plain-cookie way has nothing to inspect on the server: the cookie is all there is, and
// this page reads it as any script can.
function renderPlainHolds(panel) {
  const holds = panel.querySelector(".holds");
  const value = cookieValue(plainCookieName);
  if (value === null) {
    holds.replaceChildren(el("p", { class: "held-nothing" }, `No ${plainCookieName} cookie: log in.`));
    return;
  }
  holds.replaceChildren(
    el(
      "ul",
      { class: "held" },
      el(
        "li",
        { "data-name": plainCookieName, "data-readable": "true", "data-received": "true" },
        el("code", {}, `${plainCookieName}=${value}`),
        " Not signed, not HttpOnly: your scripts can read this and rewrite it, and so can you.",
      ),
    ),
  );
}

function setPlainCookie(value) {
  // What anyone can do in devtools; the page does it so that you can see what follows.
  document.cookie = `${plainCookieName}=${encodeURIComponent(value)}; Path=/; SameSite=Lax`;
}

async function inspect(panel) {
  if (panel.dataset.kind === "plain") return renderPlainHolds(panel);
  if (page.dataset.playground !== "on") return; // served with DEBUG only, or where set
  const answer = await call(panel, "GET", panel.dataset.inspect);
  if (answer.status !== 200) return;
  renderHolds(panel, answer.body);
  renderKeeps(panel, answer.body);
  renderParts(panel, answer.body);
}

function flipLast(value) {
  return value.slice(0, -1) + (value.endsWith("a") ? "b" : "a");
}

const actions = {
  async resource(panel) {
    return ["GET resource", await call(panel, "GET", panel.dataset.resource)];
  },
  async refresh(panel) {
    const way = panel.dataset.way;
    const body = panel.dataset.transport === "header" ? { refresh: tokens[way]?.refresh ?? "" } : undefined;
    const answer = await call(panel, "POST", panel.dataset.refresh, body);
    if (answer.status === 200 && answer.body.access) tokens[way] = { access: answer.body.access, refresh: answer.body.refresh };
    return ["POST refresh", answer];
  },
  async copy(panel) {
    const way = panel.dataset.way;
    if (panel.dataset.transport === "header") {
      copies[way] = tokens[way]?.access ?? "";
      return ["copy", { status: 200, body: { detail: "The access token, copied from this page's memory." } }];
    }
    const answer = await call(panel, "POST", panel.dataset.copy);
    if (answer.status === 200) copies[way] = answer.body.copy;
    return ["copy", { ...answer, body: { detail: "The server keeps a copy of the cookies it received." } }];
  },
  async logout(panel) {
    const way = panel.dataset.way;
    const body = panel.dataset.transport === "header" ? { refresh: tokens[way]?.refresh ?? "" } : undefined;
    const answer = await call(panel, "POST", panel.dataset.logout, body);
    if (answer.status === 200) delete tokens[way];
    return ["POST logout", answer];
  },
  async replay(panel, tamper = false) {
    const way = panel.dataset.way;
    const label = tamper ? "tampered copy" : "replayed copy";
    if (copies[way] === undefined) {
      return [label, { status: 0, body: { detail: "Take a copy first." } }];
    }
    if (panel.dataset.transport === "header") {
      const token = tamper ? flipLast(copies[way]) : copies[way];
      return [`${label}: GET resource`, await call(panel, "GET", panel.dataset.resource, undefined, { bearer: token })];
    }
    const answer = await call(panel, "POST", panel.dataset.replay, { copy: copies[way], tamper });
    return [`${label}: GET resource`, answer.status === 200 ? answer.body : answer];
  },
  async tamper(panel) {
    return actions.replay(panel, true);
  },
  async cart(panel) {
    cartItems += 1;
    // An item with notes of its own that do not compress, as real ones mostly would not.
    const noise = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(120))));
    const item = `item ${cartItems}: ${noise}`;
    return ["POST cart", await call(panel, "POST", panel.dataset.cart, { item })];
  },
};

const plainActions = {
  resource: actions.resource,
  logout: actions.logout,
  async copy(panel) {
    copies[panel.dataset.way] = cookieValue(plainCookieName) ?? "";
    return ["copy", { status: 200, body: { detail: "The cookie, read by this page's script." } }];
  },
  async replay(panel) {
    const copy = copies[panel.dataset.way];
    if (copy === undefined) return ["replayed copy", { status: 0, body: { detail: "Take a copy first." } }];
    setPlainCookie(copy);
    return ["replayed copy: GET resource", await call(panel, "GET", panel.dataset.resource)];
  },
};

async function forge(panel, form) {
  const userId = new FormData(form).get("user_id");
  setPlainCookie(userId);
  log(panel, `${plainCookieName}=${userId}: GET resource`, await call(panel, "GET", panel.dataset.resource));
  await inspect(panel);
}

async function act(panel, name) {
  const [label, answer] = await (panel.dataset.kind === "plain" ? plainActions : actions)[name](panel);
  log(panel, label, answer);
  await inspect(panel);
}

async function logIn(panel, form) {
  const data = new FormData(form);
  const answer = await call(panel, "POST", panel.dataset.login, {
    username: data.get("username"),
    password: data.get("password"),
  });
  if (answer.status === 200 && answer.body.access) {
    tokens[panel.dataset.way] = { access: answer.body.access, refresh: answer.body.refresh };
  }
  log(panel, "POST login", answer);
  await inspect(panel);
}

function openPanel() {
  return document.querySelector(".way:not([hidden])");
}

function selectTab(tab) {
  for (const other of document.querySelectorAll("[role=tab]")) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
  }
  tab.focus();
  inspect(openPanel());
}

function wireTabs() {
  const tabs = [...document.querySelectorAll("[role=tab]")];
  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (step === undefined) return;
      event.preventDefault();
      selectTab(tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length]);
    });
  }
  const wanted = document.getElementById(`tab-${location.hash.slice(1)}`);
  if (wanted) selectTab(wanted);
}

function wirePanels() {
  for (const panel of document.querySelectorAll(".way")) {
    panel.querySelector("form.login").addEventListener("submit", (event) => {
      event.preventDefault();
      logIn(panel, event.target);
    });
    panel.querySelector("form.forge")?.addEventListener("submit", (event) => {
      event.preventDefault();
      forge(panel, event.target);
    });
    for (const button of panel.querySelectorAll("[data-action]")) {
      button.addEventListener("click", () => act(panel, button.dataset.action));
    }
  }
}

function wireTheme() {
  const toggle = document.getElementById("theme-toggle");
  toggle.addEventListener("click", () => {
    const theme = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    // Plain, on purpose: no HttpOnly, no signature. The server reads it on the next page.
    document.cookie = `theme=${theme}; Path=/; Max-Age=31536000; SameSite=Lax`;
    document.documentElement.dataset.theme = theme;
    toggle.textContent = `${theme === "dark" ? "light" : "dark"} theme`;
    toggle.setAttribute("aria-pressed", String(theme === "dark"));
  });
}

async function refreshAll() {
  for (const panel of document.querySelectorAll(".way")) await inspect(panel);
}

function sessionRow(entry, form) {
  const end = el("button", { type: "button", "data-end": entry.id }, entry.current ? "end (this one)" : "end");
  end.addEventListener("click", () => endSessions(form, "one", entry.id));
  return el(
    "tr",
    { "data-way": entry.way, "data-current": String(entry.current) },
    el("td", {}, el("code", {}, entry.way)),
    el("td", {}, `${entry.user_agent} (${entry.ip ?? "no address"})`),
    el("td", {}, entry.created_at),
    el("td", {}, entry.last_seen_at),
    el("td", {}, end),
  );
}

async function listSessions(form) {
  const panel = openPanel();
  const answer = await call(panel, "GET", panel.dataset.sessions);
  log(panel, "GET sessions", answer.status === 200 ? { status: 200, body: { detail: `${answer.body.sessions.length} live login sessions.` } } : answer);
  const rows = document.querySelector("table.sessions tbody");
  rows.replaceChildren(...(answer.status === 200 ? answer.body.sessions.map((entry) => sessionRow(entry, form)) : []));
}

async function endSessions(form, scope, id) {
  const panel = openPanel();
  const body = { password: new FormData(form).get("password"), scope, ...(id ? { id } : {}) };
  const answer = await call(panel, "POST", panel.dataset.sessionsEnd, body);
  log(panel, `POST sessions/end (${scope})`, answer.status === 200 ? { status: 200, body: { detail: `ended ${answer.body.ended}` } } : answer);
  await refreshAll();
  await listSessions(form);
}

function wireSessions() {
  const form = document.querySelector("form.sessions-end");
  if (!form) return;
  for (const button of form.querySelectorAll("[data-scope]")) {
    button.addEventListener("click", () =>
      button.dataset.scope === "list" ? listSessions(form) : endSessions(form, button.dataset.scope),
    );
  }
}

wireTabs();
wirePanels();
wireTheme();
wireSessions();
inspect(openPanel());
