// A real OpenID Connect provider for Semot's SSO tests (tests/sso/test_oidc*.py): the
// certified `oidc-provider` package with its development sign-in pages (a login form
// taking any password, for the accounts listed here), one confidential client, PKCE
// required, and consent granted at once (a first-party client).
//
//   node provider.mjs <port> <config.json>
//   config.json: {"client_id", "client_secret", "redirect_uris": [...],
//                 "accounts": {"<sub>": {"preferred_username", "name", "email", "departments": [...]}}}
//   (the accounts are read again at each sign-in: rewrite the file to change claims)
// Prints "ready <issuer>" once it listens.
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const [port, configPath] = process.argv.slice(2);
const cfg = JSON.parse(readFileSync(configPath, "utf8"));
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: cfg.client_id,
      client_secret: cfg.client_secret,
      redirect_uris: cfg.redirect_uris,
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  pkce: { required: () => true },
  claims: {
    openid: ["sub"],
    profile: ["name", "preferred_username", "departments"],
    email: ["email"],
  },
  cookies: { keys: ["semot-test-oidc-cookie-key"] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, sub) {
    // read again at every sign-in: a test changes a person's claims between sign-ins
    const account = JSON.parse(readFileSync(configPath, "utf8")).accounts[sub];
    if (!account) return undefined;
    return { accountId: sub, async claims() { return { sub, ...account }; } };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid profile email");
    await grant.save();
    return grant;
  },
});
provider.proxy = false;
provider.listen(Number(port), "127.0.0.1", () => console.log(`ready ${issuer}`));
