// The console's sign-in page (POST /api/v1/auth/login, the refresh token as an HttpOnly
// cookie, exactly like the chat client) and the page shown to a signed-in user who is
// not an administrator. Only administrators get past it: anyone else is told so and
// signed out again, so no login is left behind for an account that cannot use it.
//
// Single sign-on (docs/sso.md): GET /api/v1/auth/methods says whether the password form
// and an OpenID Connect button are offered. The button navigates to the provider, which
// comes back through the server to /admin/#/sso?ticket=... (a single-use ticket, redeemed
// here in cookie mode before the console restores its session: this module's top-level
// await runs before main.js's) or to /admin/#/login?sso_error=<reason>. The password form
// always stays (break-glass); with password sign-in off and LDAP on it is labelled as the
// directory sign-in.
import { onMounted, reactive, ref } from "vue";
import { SemotAPIError } from "semot";
import { createLangSwitch } from "/web/shared/lang-switch.js";
import { describeError } from "./api.js";
import { client } from "./client.js";
import { extend, i18n, setLocale, t } from "./i18n.js";
import { NotAdminError, session, signIn, signOut } from "./session.js";

extend({
  "zh-CN": {
    "login.sso": "单点登录",
    "login.or": "或",
    "login.ldapHint": "可使用企业目录（LDAP）账号和密码登录",
    "login.passwordOff": "仅支持单点登录（超级管理员可使用应急密码登录）",
    "login.passwordDisabled": "已关闭密码登录，请使用单点登录",
    "login.directoryOnly": "请使用单点登录或域账号登录（超级管理员可使用应急密码登录）",
    "login.directoryTitle": "域账号登录",
    "login.directoryUsername": "域账号",
    "login.sso.denied": "单点登录已取消",
    "login.sso.not_provisioned": "您的账号尚未开通，请联系管理员",
    "login.sso.disabled": "该账号已被停用",
    "login.sso.conflict": "同名账号已存在且不能绑定到单点登录（有自己的密码、由域账号管理或已绑定其他身份），请联系管理员",
    "login.sso.bad_claims": "认证中心未提供可用的用户名",
    "login.sso.unavailable": "暂时无法连接认证中心，请稍后重试",
    "login.sso.failed": "单点登录失败，请重试",
  },
  en: {
    "login.sso": "Sign in with SSO",
    "login.or": "or",
    "login.ldapHint": "Directory (LDAP) accounts sign in with their directory password",
    "login.passwordOff": "Single sign-on only (super administrators may use their break-glass password)",
    "login.passwordDisabled": "Password sign-in is switched off: use single sign-on",
    "login.directoryOnly": "Single sign-on or your directory account (super administrators may use their break-glass password)",
    "login.directoryTitle": "Directory account",
    "login.directoryUsername": "Directory username",
    "login.sso.denied": "Single sign-on was cancelled",
    "login.sso.not_provisioned": "Your account has not been set up yet. Ask an administrator",
    "login.sso.disabled": "This account is disabled",
    "login.sso.conflict": "An account with your username exists and cannot be linked to single sign-on (it has a password of its own, the directory manages it, or it is linked to someone else). Ask an administrator",
    "login.sso.bad_claims": "The sign-in provider sent no usable username",
    "login.sso.unavailable": "The sign-in provider cannot be reached. Try again later",
    "login.sso.failed": "Single sign-on failed. Try again",
  },
});

const methods = reactive({ password: true, oidc: null, ldap: false });

async function loadMethods() {
  try {
    const resp = await fetch("/api/v1/auth/methods", { headers: { Accept: "application/json" }, cache: "no-cache" });
    if (resp.ok) Object.assign(methods, await resp.json());
  } catch {
    /* the password form stays */
  }
}

/** Back from the provider: redeem the ticket, or say why the sign-in failed. */
async function landSso() {
  const m = /^#\/(sso|login)\?(.*)$/.exec(location.hash || "");
  const params = new URLSearchParams(m ? m[2] : "");
  const ticket = m && m[1] === "sso" ? params.get("ticket") : "";
  const reason = m && m[1] === "login" ? params.get("sso_error") : "";
  if (!ticket && !reason) return; // the SSO page's own deep links (#/sso?...) are left alone
  history.replaceState(history.state, "", location.pathname + location.search);
  window.dispatchEvent(new HashChangeEvent("hashchange")); // the router forgets the landing route
  if (!ticket) {
    session.notice = t(`login.sso.${reason}`) === `login.sso.${reason}` ? t("login.sso.failed") : t(`login.sso.${reason}`);
    return;
  }
  try {
    if (client.userId) await client.logout({ timeout: 3000 }).catch(() => {}); // signing in as the ticket's user wins
    await client.loginWithTicket(ticket);
  } catch (error) {
    session.notice = error instanceof SemotAPIError && error.status === 401 ? t("login.sso.failed") : describeError(error);
  }
}

await landSso();

const LangSwitch = createLangSwitch({ i18n, setLocale, t });

const Frame = {
  name: "LoginFrame",
  components: { LangSwitch },
  setup() {
    return { t, session };
  },
  template: `
    <div class="adm-login">
      <header class="adm-login-top"><lang-switch /></header>
      <main class="adm-login-main">
        <section class="adm-login-card">
          <div class="adm-login-brand">
            <img :src="session.brand.logo || '/web/icons/icon.svg'" alt="" width="44" height="44">
            <div>
              <div class="adm-login-name">{{ session.brand.name || t('app.name') }}</div>
              <div class="adm-login-sub">{{ t('app.console') }}</div>
            </div>
          </div>
          <slot />
        </section>
      </main>
      <footer class="adm-login-footer">
        <span>{{ t('login.footer') }}</span>
        <span aria-hidden="true">·</span>
        <a href="/" data-testid="to-client">{{ t('login.client') }}</a>
      </footer>
    </div>`,
};

export const LoginView = {
  name: "AdminLogin",
  components: { LoginFrame: Frame },
  setup() {
    const busy = ref(false);
    const form = reactive({ username: "", password: "" });
    const errors = reactive({ username: "", password: "", form: "" });

    async function submit() {
      if (busy.value) return;
      errors.username = form.username.trim() ? "" : t("login.usernameRequired");
      errors.password = form.password ? "" : t("login.passwordRequired");
      errors.form = "";
      if (errors.username || errors.password) return;
      busy.value = true;
      session.notice = "";
      try {
        await signIn(form.username.trim(), form.password);
        form.password = "";
      } catch (error) {
        form.password = "";
        const code = error instanceof SemotAPIError ? error.code : "";
        if (error instanceof NotAdminError) errors.form = t("login.notAdmin");
        else if (code === "password_login_disabled") {
          errors.form = t("login.passwordDisabled");
          loadMethods();
        } else if (code === "unauthorized") errors.form = t("login.badCredentials");
        else if (code === "forbidden") errors.form = t("login.disabled");
        else if (code === "rate_limited") errors.form = t("login.tooMany");
        else errors.form = describeError(error);
      } finally {
        busy.value = false;
      }
    }
    onMounted(loadMethods);
    const sso = () => methods.oidc && location.assign(methods.oidc.admin_start_url);
    const directoryOnly = () => !methods.password && methods.ldap;
    return { t, form, errors, busy, submit, session, methods, sso, directoryOnly };
  },
  template: `
    <login-frame>
      <h1 class="adm-login-title">{{ t('login.title') }}</h1>
      <p class="adm-login-hint">{{ t('login.subtitle') }}</p>
      <el-alert v-if="session.notice" :title="session.notice" type="warning" :closable="false" show-icon class="adm-login-alert" data-testid="login-notice" />
      <el-alert v-if="errors.form" :title="errors.form" type="error" :closable="false" show-icon class="adm-login-alert" role="alert" data-testid="login-error" />
      <template v-if="methods.oidc">
        <el-button size="large" class="adm-wide" type="primary" :plain="methods.password" @click="sso" data-testid="oidc-login">{{ methods.oidc.label || t('login.sso') }}</el-button>
        <div v-if="methods.password || methods.ldap" class="adm-login-or" aria-hidden="true">{{ t('login.or') }}</div>
      </template>
      <p v-if="!methods.password && !methods.ldap" class="adm-login-hint" data-testid="sso-only">{{ t('login.passwordOff') }}</p>
      <p v-if="directoryOnly()" class="adm-login-hint" data-testid="directory-only">{{ t('login.directoryOnly') }}</p>
      <el-form label-position="top" @submit.prevent="submit" novalidate data-testid="password-form">
        <el-form-item :label="directoryOnly() ? t('login.directoryUsername') : t('login.username')" :error="errors.username" for="adm-username">
          <el-input id="adm-username" v-model="form.username" name="username" autocomplete="username" autocapitalize="off" spellcheck="false" size="large" data-testid="username">
            <template #prefix><el-icon><icon-user /></el-icon></template>
          </el-input>
        </el-form-item>
        <el-form-item :label="t('login.password')" :error="errors.password" for="adm-password">
          <el-input id="adm-password" v-model="form.password" type="password" show-password name="password" autocomplete="current-password" size="large" data-testid="password">
            <template #prefix><el-icon><icon-lock /></el-icon></template>
          </el-input>
        </el-form-item>
        <el-button type="primary" native-type="submit" size="large" class="adm-wide" :loading="busy" data-testid="submit">{{ t('login.submit') }}</el-button>
        <p v-if="methods.ldap && methods.password" class="adm-login-hint" data-testid="ldap-hint">{{ t('login.ldapHint') }}</p>
      </el-form>
    </login-frame>`,
};

export const DeniedView = {
  name: "AdminDenied",
  components: { LoginFrame: Frame },
  setup() {
    const busy = ref(false);
    async function other() {
      busy.value = true;
      try {
        await signOut();
      } finally {
        busy.value = false;
      }
    }
    const name = () => (session.user ? session.user.display_name || session.user.username : "");
    return { t, other, busy, name };
  },
  template: `
    <login-frame>
      <el-result icon="warning" :title="t('denied.title')" :sub-title="t('denied.body', { name: name() })" data-testid="denied">
        <template #extra>
          <el-button type="primary" :loading="busy" @click="other" data-testid="denied-other">{{ t('denied.other') }}</el-button>
        </template>
      </el-result>
    </login-frame>`,
};
