/**
 * The admin page: the sessions open now (GET /admin/sessions), each with an End button
 * (POST /admin/sessions/{id}/end), refreshed every 2 s. The admin logs in as on the viewer
 * page: the token from the form is exchanged for the login cookie (POST /login), which the
 * requests carry; the page never keeps the token.
 */

import { logIn } from "./login.js";

const $ = (id) => document.getElementById(id);
const status = $("status");

/** Asks for the token (again): the form shows, with why. */
function askToken(why) {
  $("login").hidden = false;
  status.textContent = why;
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = $("token").value.trim();
  $("token").value = "";
  const { reason } = await logIn(token);
  if (reason) {
    askToken(reason);
    return;
  }
  $("login").hidden = true;
  refresh();
});

/** A request with the login cookie; null (and the form shown) when it is refused. */
async function call(method, path) {
  const response = await fetch(path, { method, credentials: "same-origin", cache: "no-store" });
  if (response.status === 401 || response.status === 403 || response.status === 429) {
    askToken(`${response.status}: ${(await response.text()).trim()}`);
    return null;
  }
  if (!response.ok) {
    status.textContent = `${path}: ${response.status} ${(await response.text()).trim()}`;
    return null;
  }
  return response.json();
}

/** One table cell with `text` (as text, never as markup). */
function cell(text) {
  const td = document.createElement("td");
  td.textContent = text ?? "–";
  return td;
}

async function refresh() {
  let listed;
  try {
    listed = await call("GET", "/admin/sessions");
  } catch (error) {
    status.textContent = `the server did not answer: ${error}`;
    return;
  }
  if (!listed) return;
  const rows = listed.sessions.map((session) => {
    const row = document.createElement("tr");
    row.append(
      cell(String(session.id)),
      cell(session.user),
      cell(session.role),
      cell(session.client),
      cell(session.series),
      cell(session.started.replace("T", " ").replace("Z", "")),
    );
    const end = document.createElement("button");
    end.textContent = "End";
    end.title = `End session ${session.id} of ${session.user}`;
    end.addEventListener("click", async () => {
      if (!confirm(`End session ${session.id} of ${session.user}?`)) return;
      await call("POST", `/admin/sessions/${session.id}/end`);
      refresh();
    });
    const actions = document.createElement("td");
    actions.append(end);
    row.append(actions);
    return row;
  });
  document.querySelector("#sessions tbody").replaceChildren(...rows);
  status.textContent = `${rows.length} session${rows.length === 1 ? "" : "s"} · ${new Date().toLocaleTimeString()}`;
}

refresh();
setInterval(() => {
  if ($("login").hidden) refresh();
}, 2000);
