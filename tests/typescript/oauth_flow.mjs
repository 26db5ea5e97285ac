// Signs in to a rendered project's `dev` with a TypeScript MCP SDK's OAuth client (401, discovery, DCR
// as a public client, code + PKCE), in one protocol era, answering the sandbox's consent page over
// HTTP as a merchant would, then: tool calls, refused arguments (the connection keeps working), the
// step-up of a permission left unticked (and the grant kept after it), and a token the server no
// longer accepts (401).
//
// usage: node oauth_flow.mjs <sdk|client> <legacy|modern> <mcp url> <store id>
//   sdk:    @modelcontextprotocol/sdk 1.x, which speaks the legacy era only (initialize);
//   client: @modelcontextprotocol/client 2.x, the era chosen by ClientOptions.versionNegotiation:
//           legacy = { mode: "legacy" } (its default), modern = { mode: { pin: "2026-07-28" } }.
// Prints one line per step; exits 1 at the first failure.
import * as sdkClient from "@modelcontextprotocol/sdk/client/index.js";
import * as sdkAuth from "@modelcontextprotocol/sdk/client/auth.js";
import * as sdkHttp from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import * as v2 from "@modelcontextprotocol/client";

const [library, era, mcpUrl, store] = process.argv.slice(2);
if (!["sdk", "client"].includes(library) || !["legacy", "modern"].includes(era) || !store) {
  console.error("usage: node oauth_flow.mjs <sdk|client> <legacy|modern> <mcp url> <store id>");
  process.exit(2);
}
if (library === "sdk" && era === "modern") {
  console.error("@modelcontextprotocol/sdk 1.x speaks the legacy era only");
  process.exit(2);
}
const MODERN = "2026-07-28";
const url = new URL(mcpUrl);
const { Client, StreamableHTTPClientTransport, UnauthorizedError } = library === "sdk"
  ? { ...sdkClient, ...sdkHttp, ...sdkAuth }
  : v2;

function check(condition, message) {
  if (!condition) {
    console.log(`FAILED: ${message}`);
    for (const exchange of wire) console.log(`  seen: ${JSON.stringify(exchange)}`);
    process.exit(1);
  }
}

// Every request to the MCP endpoint, as the server saw it: JSON-RPC method, MCP-Protocol-Version, status.
const wire = [];
async function recordingFetch(input, init) {
  const response = await fetch(input, init);
  if (String(input instanceof Request ? input.url : input).startsWith(url.href)) {
    let method;
    try { method = JSON.parse(init?.body).method; } catch { method = undefined; }
    wire.push({
      http: init?.method ?? "GET", method, version: new Headers(init?.headers).get("mcp-protocol-version"),
      status: response.status, challenge: response.headers.get("www-authenticate") ?? undefined,
    });
  }
  return response;
}

// 1.x cannot step up once it holds a refresh token: on 403 its auth() refreshes (which cannot widen
// a grant), retries, and gives up ("Server returned 403 after trying upscoping"). So, as a client
// that keeps no long-lived credential, it registers without refresh tokens and re-authorizes instead.
// 2.x re-authorizes when the scope it needs goes beyond the token's; it registers as MCP Inspector does.
const grantTypes = library === "sdk" ? ["authorization_code"] : ["authorization_code", "refresh_token"];

class InspectorLikeProvider {
  consents = [];  // the scopes each authorization the merchant had to answer asked for
  get redirectUrl() { return "http://localhost:6274/oauth/callback"; }
  get clientMetadata() {
    return {
      client_name: "MCP Inspector", client_uri: "https://github.com/modelcontextprotocol/inspector",
      redirect_uris: [this.redirectUrl], grant_types: grantTypes,
      response_types: ["code"], token_endpoint_auth_method: "none",
    };
  }
  state() { return "inspector-state"; }
  clientInformation() { return this.client; }
  saveClientInformation(client) { this.client = client; }
  tokens() { return this.saved; }
  saveTokens(tokens) { this.saved = tokens; }
  redirectToAuthorization(authorizationUrl) { this.authorizationUrl = authorizationUrl; }
  saveCodeVerifier(verifier) { this.verifier = verifier; }
  codeVerifier() { return this.verifier; }
  saveDiscoveryState(state) { this.discovery = state; }
  discoveryState() { return this.discovery; }
}
const provider = new InspectorLikeProvider();
const connect = async () => {
  transport = new StreamableHTTPClientTransport(url, { authProvider: provider, fetch: recordingFetch });
  client = library === "sdk"
    ? new Client({ name: "typescript-check", version: "1.0.0" })
    : new Client({ name: "typescript-check", version: "1.0.0" }, {
      versionNegotiation: { mode: era === "modern" ? { pin: MODERN } : "legacy" },
    });
  await client.connect(transport);
};
let transport, client;

// The merchant at the browser: the consent page, the store picked, every permission asked for but `untick`.
async function answerConsent(untick = []) {
  check(provider.authorizationUrl, "the SDK did not send the merchant to the consent page");
  const page = await (await fetch(provider.authorizationUrl)).text();
  const consent = page.match(/name="consent" value="([^"]+)"/);
  check(consent, `no consent form in the page: ${page.slice(0, 300)}`);
  const asked = [...page.matchAll(/name="scope" value="([^"]+)"/g)].map((match) => match[1]);
  provider.consents.push(asked);
  const form = new URLSearchParams({ consent: consent[1], store, decision: "approve" });
  for (const scope of asked) if (!untick.includes(scope)) form.append("scope", scope);
  const answer = await fetch(new URL("/oauth/authorize", provider.authorizationUrl), {
    method: "POST", body: form, redirect: "manual",
  });
  provider.authorizationUrl = undefined;
  const back = new URL(answer.headers.get("location"));
  check(back.searchParams.get("state") === "inspector-state", `state not returned: ${back}`);
  check(back.searchParams.get("code"), `no code: ${back}`);
  await transport.finishAuth(back.searchParams.get("code"));
  return asked;
}

// A call the SDK answers by sending the merchant to the consent page (401 or 403): answer it, call again.
async function callThroughConsent(name, args = {}) {
  try {
    await client.callTool({ name, arguments: args });
    check(false, `${name} answered without a new authorization`);
  } catch (error) {
    check(error instanceof UnauthorizedError, `${name}: expected the OAuth redirect, got ${error}`);
  }
  const asked = await answerConsent();
  return { asked, result: await client.callTool({ name, arguments: args }) };
}

const text = (result) => (result.content ?? []).map((part) => part.text ?? "").join("\n");
async function countProducts(when) {
  const result = await client.callTool({ name: "count_products", arguments: {} });
  check(!result.isError && Number.isInteger(result.structuredContent?.data?.count),
    `count_products ${when}: ${JSON.stringify(result).slice(0, 300)}`);
  return result.structuredContent.data.count;
}
const step = (line) => console.log(`ok: ${line}`);

try {
  // 1. Sign-in, read:store unticked on the consent page.
  try {
    await connect();
    check(false, "the server admitted a client without a token");
  } catch (error) {
    check(error instanceof UnauthorizedError, `expected the OAuth redirect, got ${error}`);
  }
  check(provider.client?.client_id, "no client registration (DCR)");
  await answerConsent(["read:store"]);
  check(!provider.saved.scope.split(" ").includes("read:store"), `read:store granted anyway: ${provider.saved.scope}`);
  await connect();
  step(`signed in (registered ${provider.client.client_id}), granted ${provider.saved.scope}`);

  // 2. The era, on the wire.
  const signedIn = wire.filter((exchange) => exchange.status !== 401 && exchange.http === "POST");
  if (era === "legacy") {
    check(signedIn[0]?.method === "initialize", "the legacy era starts with initialize");
    check(wire.every((exchange) => exchange.version !== MODERN), `a request claimed ${MODERN}`);
  } else {
    check(wire.every((exchange) => exchange.method !== "initialize"), "initialize sent in the modern era");
    check(signedIn.every((exchange) => exchange.version === MODERN), `a request without MCP-Protocol-Version: ${MODERN}`);
  }
  if (library === "client") check(client.getProtocolEra() === era, `negotiated ${client.getProtocolEra()}`);
  const seen = signedIn.map((exchange) => `${exchange.method} (${exchange.version ?? "no version header"})`);
  step(`${era} era: ${[...new Set(seen)].join(", ")}`);

  // 3. Tools, and the refusals of bad arguments as tool errors; the connection keeps working after each.
  const listed = await client.listTools();
  for (const name of ["get_store", "count_products", "list_products"]) {
    check(listed.tools.some((tool) => tool.name === name), `${name} not listed`);
  }
  const count = await countProducts("after sign-in");
  step(`${listed.tools.length} tools; count_products: ${count}`);

  const unknown = await client.callTool({ name: "count_products", arguments: { bogus: 1 } });
  check(unknown.isError === true, `an unknown argument was not refused: ${JSON.stringify(unknown).slice(0, 300)}`);
  check(text(unknown) === "count_products: unknown argument(s) bogus; it takes status", `refusal text: ${text(unknown)}`);
  await countProducts("after the unknown argument");
  step(`unknown argument: tool error "${text(unknown)}", then count_products answers`);

  const range = await client.callTool({ name: "list_products", arguments: { per_page: 1000 } });
  check(range.isError === true && text(range).includes("per_page"),
    `per_page=1000 not refused: ${JSON.stringify(range).slice(0, 300)}`);
  await countProducts("after the out-of-range value");
  if (era === "legacy") await client.ping();
  step(`out-of-range per_page: tool error naming per_page, then count_products${era === "legacy" ? " and ping" : ""} answer`);

  // 4. Step-up: get_store needs read:store; one consent, and the grant keeps read:products after it.
  const before = wire.length;
  const stepUp = await callThroughConsent("get_store");
  const challenge = wire.slice(before).find((exchange) => exchange.status === 403)?.challenge ?? "";
  check(challenge.includes('error="insufficient_scope"'), `no 403 insufficient_scope challenge: ${challenge}`);
  check(!stepUp.result.isError && JSON.stringify(stepUp.result.structuredContent).includes(store),
    `get_store after the step-up: ${JSON.stringify(stepUp.result).slice(0, 300)}`);
  step(`get_store: 403 (${challenge.match(/scope="([^"]*)"/)?.[1]}), one consent, answers for ${store}`);
  try {
    await countProducts("after the step-up");
  } catch (error) {
    check(!(error instanceof UnauthorizedError), `count_products after the step-up sent the merchant to the consent `
      + `page again: the step-up asked for ${stepUp.asked.join(" ")} only, and the grant lost read:products`);
    throw error;
  }
  check(provider.consents.length === 2 && !provider.authorizationUrl,
    `count_products after the step-up needed another authorization (${provider.consents.length} consents)`);
  step("count_products after the step-up: answers without another consent");

  // 5. A token the server does not accept (revoked, expired): 401 invalid_token, and the SDK signs in again.
  provider.saved = { ...provider.saved, access_token: `revoked-${Date.now()}` };
  const beforeRevoked = wire.length;
  let consentsNeeded = 0;
  if (library === "sdk") {
    // No refresh token: the merchant is asked again.
    const again = await callThroughConsent("count_products");
    check(!again.result.isError, `count_products after signing in again: ${JSON.stringify(again.result).slice(0, 200)}`);
    consentsNeeded = 1;
  } else {
    await countProducts("with a rejected access token and a refresh token");  // refreshed, no consent
  }
  const rejected = wire.slice(beforeRevoked).find((exchange) => exchange.status === 401)?.challenge ?? "";
  check(rejected.includes('error="invalid_token"'), `no 401 invalid_token challenge: ${rejected}`);
  check(provider.consents.length === 2 + consentsNeeded, `${provider.consents.length} consents after the 401`);
  const how = consentsNeeded ? "signed in again (one consent)" : "refreshed without a consent";
  step(`rejected token: 401 invalid_token, ${how}, count_products answers`);
} catch (error) {
  check(false, `unexpected: ${error?.stack ?? error}`);
}
await client.close();
console.log(`ok: ${library} ${era}: ${provider.consents.length} consents in all (Node.js ${process.version})`);
