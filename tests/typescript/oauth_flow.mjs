// Signs in to a rendered project's `dev` the way MCP Inspector does (the TypeScript MCP SDK's OAuth
// client: 401, discovery, DCR as a public client, code + PKCE), answers the sandbox's consent page
// over HTTP, then lists the tools and calls one. Usage: node oauth_flow.mjs <mcp url> <store id> <tool>
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, store, tool] = [new URL(process.argv[2]), process.argv[3], process.argv[4]];

class InspectorLikeProvider {
  get redirectUrl() { return "http://localhost:6274/oauth/callback"; }
  get clientMetadata() {
    return {
      client_name: "MCP Inspector", client_uri: "https://github.com/modelcontextprotocol/inspector",
      redirect_uris: [this.redirectUrl], grant_types: ["authorization_code", "refresh_token"],
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
}

function check(condition, message) {
  if (!condition) { console.error(`FAILED: ${message}`); process.exit(1); }
}

const provider = new InspectorLikeProvider();
const connect = async () => {
  const client = new Client({ name: "typescript-check", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }));
  return client;
};

try {
  await connect();
  check(false, "the server admitted a client without a token");
} catch (error) {
  check(error instanceof UnauthorizedError, `expected the OAuth redirect, got ${error}`);
}
check(provider.client?.client_id, "no client registration (DCR)");
check(provider.authorizationUrl, "no authorization redirect");

// The merchant at the browser: the consent page, one store, every permission asked for.
const page = await (await fetch(provider.authorizationUrl)).text();
const consent = page.match(/name="consent" value="([^"]+)"/);
check(consent, `no consent form in the page: ${page.slice(0, 300)}`);
const form = new URLSearchParams({ consent: consent[1], store, decision: "approve" });
for (const [, scope] of page.matchAll(/name="scope" value="([^"]+)"/g)) form.append("scope", scope);
const answer = await fetch(new URL("/oauth/authorize", provider.authorizationUrl), {
  method: "POST", body: form, redirect: "manual",
});
const back = new URL(answer.headers.get("location"));
check(back.searchParams.get("state") === "inspector-state", `state not returned: ${back}`);
check(back.searchParams.get("code"), `no code: ${back}`);

await new StreamableHTTPClientTransport(url, { authProvider: provider }).finishAuth(back.searchParams.get("code"));
const client = await connect();
const listed = await client.listTools();
check(listed.tools.some((t) => t.name === tool), `${tool} not listed`);
const result = await client.callTool({ name: tool, arguments: {} });
check(!result.isError, `${tool} failed: ${JSON.stringify(result.content)}`);
const text = JSON.stringify(result.structuredContent ?? result.content);
check(text.includes(store), `${tool} did not answer for ${store}: ${text.slice(0, 200)}`);
console.log(`ok: registered ${provider.client.client_id}, ${listed.tools.length} tools, ${tool} on ${store}`);
await client.close();
