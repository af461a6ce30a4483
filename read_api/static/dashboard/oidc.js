// Sign-in through an OpenID Connect provider: the authorization code flow with PKCE (RFC 7636)
// for a public client. The access token it yields is the dashboard's bearer token; the APIs
// check it against the provider's JWKS (SLOTWISE_JWT_JWKS_URL / _FILE).

const PENDING_KEY = "slotwise.oidc-pending";

/** A sign-in that cannot go on, said as a sentence. */
export class SignInError extends Error {}

function base64url(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(size) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

async function getJson(url, init, unreachable) {
  let response;
  try {
    response = await fetch(url, { cache: "no-store", ...init });
  } catch {
    throw new SignInError(unreachable);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return { response, body };
}

/** The provider's discovery document, refused unless it names the issuer we were told to trust. */
export async function discover(issuer) {
  const url = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  const { response, body } = await getJson(
    url,
    { headers: { Accept: "application/json" } },
    `The identity provider at ${issuer} could not be reached.`,
  );
  if (!response.ok || !body) {
    throw new SignInError(`The identity provider's discovery document could not be read (HTTP ${response.status}).`);
  }
  if (body.issuer !== issuer) {
    throw new SignInError(`The identity provider calls itself ${body.issuer}, not ${issuer}: sign-in stopped.`);
  }
  for (const name of ["authorization_endpoint", "token_endpoint"]) {
    if (typeof body[name] !== "string") throw new SignInError(`The identity provider's discovery document lacks ${name}.`);
  }
  const methods = body.code_challenge_methods_supported;
  if (Array.isArray(methods) && !methods.includes("S256")) {
    throw new SignInError("The identity provider does not offer PKCE with S256, which the dashboard needs.");
  }
  return body;
}

/** Send the browser to the provider's sign-in page; it comes back to `redirectUri`. */
export async function beginSignIn(oidc, redirectUri) {
  if (!window.isSecureContext || !crypto.subtle) {
    throw new SignInError("Signing in through the identity provider needs the dashboard on https (or localhost).");
  }
  const found = await discover(oidc.issuer);
  const verifier = randomText(32); // 43 characters, the least RFC 7636 allows
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  const pending = {
    verifier,
    state: randomText(16),
    nonce: randomText(16),
    redirectUri,
    issuer: oidc.issuer,
    clientId: oidc.client_id,
    tokenEndpoint: found.token_endpoint,
  };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const target = new URL(found.authorization_endpoint);
  const params = {
    response_type: "code",
    client_id: oidc.client_id,
    redirect_uri: redirectUri,
    scope: oidc.scope,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: base64url(digest),
    code_challenge_method: "S256",
  };
  for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
  location.assign(target.toString());
}

/** Whether this page was opened by the provider sending the browser back. */
export function isCallback(url) {
  const params = url.searchParams;
  return params.has("state") && (params.has("code") || params.has("error"));
}

/** Finish a sign-in: check the answer belongs to ours, trade code and verifier for tokens. */
export async function finishSignIn(url) {
  const params = url.searchParams;
  const saved = JSON.parse(sessionStorage.getItem(PENDING_KEY) || "null");
  sessionStorage.removeItem(PENDING_KEY); // a code is tried once
  if (!saved || params.get("state") !== saved.state) {
    throw new SignInError("This sign-in answer does not belong to a sign-in started in this tab: sign in again.");
  }
  if (params.has("iss") && params.get("iss") !== saved.issuer) { // RFC 9207
    throw new SignInError("The sign-in answer comes from another identity provider: sign in again.");
  }
  if (params.has("error")) {
    const why = params.get("error_description") || params.get("error");
    throw new SignInError(`The identity provider did not sign you in: ${why}.`);
  }
  const form = new URLSearchParams({
    grant_type: "authorization_code",
    code: params.get("code"),
    redirect_uri: saved.redirectUri,
    client_id: saved.clientId,
    code_verifier: saved.verifier,
  });
  const { response, body } = await getJson(
    saved.tokenEndpoint,
    { method: "POST", headers: { Accept: "application/json" }, body: form },
    "The identity provider's token endpoint could not be reached.",
  );
  if (!response.ok || !body) {
    const why = body && (body.error_description || body.error);
    throw new SignInError(`The identity provider gave no token${why ? `: ${why}` : ` (HTTP ${response.status})`}.`);
  }
  if (typeof body.access_token !== "string" || String(body.token_type).toLowerCase() !== "bearer") {
    throw new SignInError("The identity provider's answer holds no bearer access token.");
  }
  if (body.id_token) checkIdToken(body.id_token, saved);
  return body.access_token;
}

// The ID token came straight from the token endpoint, so its signature need not be checked
// here (OpenID Connect Core 3.1.3.7); it must still be for this client and this sign-in.
// The APIs verify the access token's signature themselves.
function checkIdToken(idToken, saved) {
  let claims;
  try {
    const part = idToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
  } catch {
    throw new SignInError("The identity provider's ID token is not a well-formed JWT.");
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== saved.issuer || !audiences.includes(saved.clientId) || claims.nonce !== saved.nonce) {
    throw new SignInError("The identity provider's ID token is not for this sign-in: sign in again.");
  }
}
