// Baton console page: thin views of the JSON API (/api/board, /api/environments/NAME). Text goes into the
// DOM only through textContent, so nothing from the repo is ever parsed as HTML.

const main = document.getElementById("main");
const notice = document.getElementById("notice");
const revisionLabel = document.getElementById("revision");

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

function prLink(change) {
  if (change.pr === undefined) return undefined;
  return change.prUrl ? el("a", { href: change.prUrl, rel: "noreferrer" }, `#${change.pr}`) : el("span", {}, `#${change.pr}`);
}

/** Baton's errors as `baton validate` prints them: code, file: field, message, hint. */
function showErrors(title, errors) {
  main.replaceChildren(el("section", { class: "errors", role: "alert" }, el("h1", {}, title), errorList(errors)));
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({ ok: false, errors: [{ code: "HTTP", message: `${response.status} ${response.statusText}` }] }));
  return body;
}

/** GET /api/session: whether actions are on (not --read-only) and the token every action must carry. */
let session = { actions: false };
async function loadSession() {
  const body = await getJson("/api/session");
  if (body.ok) session = body.session;
}

function errorList(errors) {
  return el("ul", {}, ...errors.map((e) => el("li", { "data-code": e.code },
    el("span", { class: "code" }, e.code), " ",
    [e.file, e.field].filter(Boolean).join(": ") ? el("span", { class: "where" }, `${[e.file, e.field].filter(Boolean).join(": ")}: `) : undefined,
    el("span", { class: "message" }, e.message),
    e.hint ? el("div", { class: "hint muted" }, `hint: ${e.hint}`) : undefined)));
}

/**
 * An action: the same request the CLI command makes, after the person confirms it. The answer (the PR, the
 * pushed commit, or Baton's error with its code and hint) stays above the board until the next action.
 */
async function act(request, command, button) {
  if (!window.confirm(`Run ${command}?\nThis opens a pull request (or pushes a commit where the pipeline allows it); the agent applies it once merged.`)) return;
  button.disabled = true;
  notice.replaceChildren(el("p", { class: "muted", role: "status" }, `running ${command}…`));
  try {
    const response = await fetch("/api/actions", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-Baton-Csrf": session.csrfToken ?? "" },
      body: JSON.stringify(request),
    });
    const body = await response.json().catch(() => ({ ok: false, errors: [{ code: "HTTP", message: `${response.status} ${response.statusText}` }] }));
    if (!body.ok) {
      notice.replaceChildren(el("section", { class: "errors", role: "alert" }, el("h1", {}, `${command} failed`), errorList(body.errors)));
      return;
    }
    const r = body.result;
    const what = r.pull ? [`${r.outcome} pull request `, el("a", { href: r.pull.url, rel: "noreferrer", "data-pr": r.pull.number }, `#${r.pull.number}`), `: ${r.title}`]
      : r.outcome === "pushed" ? [`pushed ${r.commit.slice(0, 7)}: ${r.title}`] : [`nothing to do: ${r.title}`];
    notice.replaceChildren(el("p", { class: "done", role: "status", "data-outcome": r.outcome }, el("code", {}, r.command), " — ", ...what));
  } finally {
    button.disabled = false;
  }
}

function actionButton(label, request, command) {
  if (!session.actions) return undefined;
  const button = el("button", { type: "button", class: "action", "data-action": request.action }, label);
  button.addEventListener("click", () => void act(request, command, button));
  return button;
}

function cell(value) {
  if (!value) return el("td", { class: "muted" }, "–");
  const change = value.lastChange;
  return el("td", { "data-digest": value.digest ?? "" },
    el("span", { class: "digest", title: value.digest ?? "" }, value.short),
    value.tag ? el("span", { class: "tag" }, value.tag) : undefined,
    value.rejected ? el("span", { class: "rejected" }, " rejected") : undefined,
    change ? el("span", { class: "change" }, `${change.kind} ${change.commit.slice(0, 7)} by ${change.author}, ${when(change.time)} `, prLink(change)) : undefined);
}

function envHeader(env) {
  const parts = [el("a", { href: `#/env/${encodeURIComponent(env.name)}` }, env.name)];
  if (env.release) parts.push(el("div", { class: "muted" }, `release: ${env.release.phase}${env.release.step ? ` (${env.release.weight}%, step ${env.release.step}/${env.release.steps})` : ""}`));
  if (env.cluster) {
    parts.push(el("div", { class: env.cluster.ready === "True" ? "health ok" : "health bad" }, `${env.cluster.ready === "True" ? "Ready" : "Not ready"} @ ${(env.cluster.revision ?? "-").slice(0, 7)}`));
    if (env.cluster.drift?.length) parts.push(el("div", { class: "rejected" }, `drift reverted: ${env.cluster.drift.length} object(s)`));
  }
  if (env.deployment) parts.push(el("div", { class: "muted" }, `deployment ${env.deployment.state} @ ${env.deployment.sha.slice(0, 7)}`));
  for (const pull of env.openPulls ?? []) parts.push(el("div", { class: "pull" }, el("a", { href: pull.url, rel: "noreferrer" }, `#${pull.number}`), ` ${pull.title}`));
  if (env.promote) {
    parts.push(el("div", { class: "promote" }, `${env.promote.images.join(", ")} differs from ${env.promote.from}: `, el("code", {}, env.promote.command), " ",
      actionButton(`Promote from ${env.promote.from}`, { action: "promote", from: env.promote.from, to: env.name }, env.promote.command)));
  }
  if (env.release && env.release.step) {
    parts.push(el("div", { class: "release-actions" },
      actionButton("Confirm", { action: "confirm", env: env.name }, `baton confirm ${env.name}`), " ",
      actionButton("Abort", { action: "abort", env: env.name }, `baton abort ${env.name}`)));
  }
  if (env.error) parts.push(el("div", { class: "env-error" }, env.error));
  return el("th", { class: "env", scope: "col", "data-env": env.name }, ...parts);
}

function renderBoard(board) {
  revisionLabel.textContent = `at ${board.revision.slice(0, 7)}`;
  const head = el("tr", {}, el("th", { scope: "col" }, "Image"), ...board.environments.map(envHeader));
  const rows = board.images.map((image) => el("tr", { "data-image": image.key },
    el("th", { scope: "row", title: image.repository }, image.name),
    ...board.environments.map((env) => cell(env.cells[image.key]))));
  main.replaceChildren(el("h1", {}, "Release board"), clusterProblems(board.clusters),
    el("table", { class: "board" }, el("thead", {}, head), el("tbody", {}, ...rows)));
}

/** Clusters that could not be read: named with why, above the board; the others' health still shows. */
function clusterProblems(clusters) {
  const failed = (clusters ?? []).filter((c) => c.error);
  if (failed.length === 0) return undefined;
  return el("ul", { class: "cluster-problems", role: "status" }, ...failed.map((c) => el("li", { "data-cluster": c.name },
    el("strong", {}, `cluster ${c.name}`), `: ${c.error}. The environments it runs show no health until it answers.`)));
}

function table(cls, caption, headers, rows) {
  return el("table", { class: cls },
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows));
}

/** Progressive delivery from git: phase, slots, the steps with their weights, what happens next. */
function releaseSection(env) {
  const r = env.release;
  const images = (list) => list.map((i) => `${i.image}@${i.digest}`).join(", ");
  const steps = r.steps.map((step) => el("tr", { "data-step": step.number, "data-state": step.state, class: step.state === "current" ? "current" : undefined },
    el("td", {}, String(step.number)), el("td", {}, step.label), el("td", {}, `${step.weight}%`),
    el("td", {}, step.state === "current" ? "current" : step.state)));
  return el("section", { class: "release", "aria-labelledby": "release-title" },
    el("h2", { id: "release-title" }, "Release"),
    el("p", { class: "phase" }, el("strong", {}, r.phase), ` — ${r.strategy} on the ${r.router} router, route ${r.route}; candidate ${r.weight}%`),
    el("p", {}, `stable slot ${r.stableSlot}: ${images(r.stable)}`, r.candidate ? el("br") : undefined, r.candidate ? `candidate slot ${r.candidateSlot}: ${images(r.candidate)}` : undefined),
    table("steps", "Steps (from baton.yaml; weights are the candidate's share of traffic)", ["Step", "Action", "Weight", "State"], steps),
    el("p", { class: "next muted" }, `next: ${r.next}`),
    r.candidate ? el("p", { class: "release-actions" },
      el("code", {}, `baton confirm ${env.name}`), " ", actionButton("Confirm", { action: "confirm", env: env.name }, `baton confirm ${env.name}`), " ",
      el("code", {}, `baton abort ${env.name}`), " ", actionButton("Abort", { action: "abort", env: env.name }, `baton abort ${env.name}`)) : undefined);
}

function clusterObject(c) {
  const conditions = c.conditions.map((x) => el("tr", { "data-condition": x.type },
    el("td", {}, x.type), el("td", { class: x.status === "True" ? (x.type === "Ready" ? "health ok" : "") : x.type === "Ready" ? "health bad" : "" }, x.status),
    el("td", {}, x.reason), el("td", {}, x.message), el("td", {}, when(x.lastTransitionTime))));
  const inventory = c.inventory.map((o) => el("tr", { "data-object": `${o.kind}/${o.namespace ?? ""}/${o.name}` },
    el("td", {}, o.kind), el("td", {}, o.namespace ?? "–"), el("td", {}, o.name), el("td", { class: "muted" }, o.apiVersion)));
  const events = c.events.map((e) => el("tr", { "data-reason": e.reason },
    el("td", {}, when(e.time)), el("td", { class: e.type === "Warning" ? "rejected" : "" }, e.type), el("td", {}, e.reason), el("td", {}, e.message), el("td", {}, String(e.count))));
  return el("div", { class: "cluster-object", "data-environment": `${c.namespace}/${c.name}` },
    el("h3", {}, `Environment ${c.namespace}/${c.name}`),
    el("p", { class: "muted" }, `applied ${(c.revision ?? "nothing yet").slice(0, 12)}`,
      c.attemptedRevision && c.attemptedRevision !== c.revision ? `, attempting ${c.attemptedRevision.slice(0, 12)}` : "",
      c.lastReconcileTime ? `, last reconcile ${when(c.lastReconcileTime)}` : "",
      c.release ? `; release as applied: ${c.release.phase}${c.release.step ? ` (${c.release.weight}%, step ${c.release.step}/${c.release.steps})` : ""}` : ""),
    c.drift ? el("p", { class: "rejected" }, `drift reverted ${when(c.drift.detectedAt)}: ${c.drift.objects.join(", ")}`) : undefined,
    conditions.length ? table("conditions", "Conditions", ["Type", "Status", "Reason", "Message", "Since"], conditions) : el("p", { class: "muted" }, "No conditions yet: the agent has not reconciled it."),
    inventory.length ? table("inventory", `Inventory: the ${inventory.length} object(s) it applied`, ["Kind", "Namespace", "Name", "API version"], inventory) : el("p", { class: "muted" }, "Inventory is empty: nothing applied yet."),
    events.length ? table("events", "Recent Events", ["When", "Type", "Reason", "Message", "Count"], events) : el("p", { class: "muted" }, "No recent Events (the API server keeps them about an hour)."));
}

function clusterSection(cluster) {
  const body = cluster.state === "ok" ? cluster.environments.map(clusterObject)
    : [el("div", { class: "cluster-missing", role: "note", "data-state": cluster.state }, el("p", {}, cluster.message), el("p", { class: "hint muted" }, `hint: ${cluster.hint}`))];
  return el("section", { class: "cluster", "aria-labelledby": "cluster-title" }, el("h2", { id: "cluster-title" }, "In the cluster"), ...body);
}

function renderEnvironment(env) {
  const rows = env.timeline.map((t) => el("tr", {},
    el("td", {}, when(t.time)),
    el("td", { class: "digest" }, t.commit.slice(0, 7)),
    el("td", {}, t.author),
    el("td", { class: "kind" }, t.kind + (t.from ? ` from ${t.from}` : "")),
    el("td", {}, prLink(t) ?? "–"),
    el("td", {}, t.changes.map((c) => `${c.repository.split("/").pop()} ${c.from} → ${c.to}`).join(", ")),
    el("td", {}, t.subject),
    el("td", {}, t.rollbackCommand ? el("code", {}, t.rollbackCommand) : "current", " ",
      t.rollbackCommand ? actionButton("Roll back to here", { action: "rollback", env: env.name, to: t.commit.slice(0, 12) }, t.rollbackCommand) : undefined)));
  const title = el("h1", { tabindex: "-1" }, `${env.name} `, el("span", { class: "muted" }, env.path));
  // replaceChildren would print a missing part as the text "undefined": only the parts this page has.
  main.replaceChildren(...[
    el("p", {}, el("a", { href: "#/" }, "← board")),
    title,
    el("p", { class: "muted" }, [env.namespace ? `namespace ${env.namespace}` : "", env.promoteFrom ? `promoted from ${env.promoteFrom}` : ""].filter(Boolean).join(" · ")),
    env.renderError ? el("p", { class: "env-error" }, `does not render: ${env.renderError}`) : undefined,
    env.release ? releaseSection(env) : undefined,
    clusterSection(env.cluster),
    el("section", { class: "history", "aria-labelledby": "history-title" },
      el("h2", { id: "history-title" }, "History (from git)"),
      rows.length === 0 ? el("p", { class: "muted" }, "No commit has changed this environment's images yet.")
        : el("table", { class: "timeline" },
          el("thead", {}, el("tr", {}, ...["When", "Commit", "Author", "Kind", "PR", "Change", "Subject", "Back to here"].map((h) => el("th", { scope: "col" }, h)))),
          el("tbody", {}, ...rows))),
  ].filter(Boolean));
  // Keyboard: the page starts at its title, so Tab moves through this environment, not the previous page.
  title.focus();
}

function renderPromotions(promotions) {
  if (promotions === null) {
    main.replaceChildren(el("h1", {}, "Open promotions"), el("p", { class: "muted" }, "GitHub is not configured: start baton console with GITHUB_TOKEN set to list open PRs and their baton/policy state."));
    return;
  }
  const rows = promotions.map((p) => el("tr", { "data-pr": p.number },
    el("td", {}, el("a", { href: p.url, rel: "noreferrer" }, `#${p.number}`)),
    el("td", { class: "kind" }, p.kind),
    el("td", {}, p.environment ?? "–"),
    el("td", {}, p.title),
    el("td", { class: `policy ${p.policy?.state ?? "none"}` }, p.policy ? `${p.policy.state}: ${p.policy.description}` : "no baton/policy status yet")));
  main.replaceChildren(el("h1", {}, "Open promotions"),
    rows.length === 0 ? el("p", { class: "muted" }, "No open Baton PRs.")
      : el("table", { class: "promotions" },
        el("thead", {}, el("tr", {}, ...["PR", "Kind", "Environment", "Title", "baton/policy"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, ...rows)));
}

/** Live updates: the server pushes the board whenever the clone changes (a new commit, a pull). */
let events;
/** The newest state pushed by the server: it wins over a fetch that answers later. */
let live;
function showLive() {
  if (live.kind === "board") renderBoard(live.board);
  else showErrors("The config repo has problems", live.errors);
}
function listen() {
  if (events) return;
  events = new EventSource("/api/events");
  const onBoardPage = () => !location.hash.startsWith("#/env/") && location.hash !== "#/promotions";
  events.addEventListener("board", (e) => {
    live = { kind: "board", board: JSON.parse(e.data) };
    if (onBoardPage()) showLive();
  });
  events.addEventListener("problems", (e) => {
    live = { kind: "problems", errors: JSON.parse(e.data) };
    if (onBoardPage()) showLive();
  });
}

async function route() {
  listen();
  if (location.hash === "#/promotions") {
    const body = await getJson("/api/promotions");
    if (!body.ok) return showErrors("Cannot list promotions", body.errors);
    return renderPromotions(body.promotions);
  }
  const match = /^#\/env\/(.+)$/.exec(location.hash);
  if (match) {
    const body = await getJson(`/api/environments/${match[1]}`);
    if (!body.ok) return showErrors("Cannot show this environment", body.errors);
    return renderEnvironment(body.environment);
  }
  if (live) return showLive();
  const body = await getJson("/api/board");
  if (live) return showLive();
  if (!body.ok) return showErrors("The config repo has problems", body.errors);
  renderBoard(body.board);
}

window.addEventListener("hashchange", () => void route());
void loadSession().then(route);
