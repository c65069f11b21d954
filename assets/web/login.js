// Logging in: a token exchanged for the server's login cookie (HttpOnly: no page script
// holds the token afterwards). Shared by the viewer page and the admin page.

/**
 * POSTs `token` to the server's /login (relative to the page, so a proxy's path prefix
 * stays); `{ who }` (the user and role) when accepted, else `{ reason }` to show.
 */
export async function logIn(token) {
  const response = await fetch(new URL("login", location.href), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token }),
    credentials: "same-origin",
  });
  if (response.ok) return { who: await response.json() };
  const reason = response.status === 429
    ? "too many wrong tokens from this address: wait a minute"
    : (await response.text()).trim() || `refused (${response.status})`;
  return { reason: `${response.status}: ${reason}` };
}
