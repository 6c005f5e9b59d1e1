// Sign in / sign up. The login lasts until the user signs out: its refresh token is an
// HttpOnly cookie (out of reach of scripts), and a reload signs in again through it.
// The methods on offer come from GET /api/v1/auth/methods (docs/sso.md): the password
// form (also for LDAP accounts: their directory password), and an OpenID Connect button
// that navigates to the provider; a failed SSO sign-in comes back as #/login?sso_error=.
// With password sign-in off but LDAP on, the form stays as the directory sign-in ("域账号
// 登录"): directory passwords are the company's sign-in, not local ones.
import { onMounted, reactive, ref, watch } from "vue";
import { SemotAPIError } from "semot";
import { MESSAGES, t } from "../i18n.js";
import { describeError, login, register, state } from "../store.js";
import LangSwitch from "./lang-switch.js";
import { clientConfig, logoSrc } from "../stores/client-config.js";

Object.assign(MESSAGES["zh-CN"], {
  "login.sso": "单点登录",
  "login.or": "或",
  "login.ldapHint": "可使用企业目录（LDAP）账号和密码登录",
  "login.passwordOff": "本系统仅支持单点登录",
  "login.sso.denied": "单点登录已取消。",
  "login.sso.not_provisioned": "您的账号尚未在本系统开通，请联系管理员。",
  "login.sso.disabled": "此账号已停用。",
  "login.sso.conflict": "同名账号已存在，且不能绑定到单点登录（它有自己的密码、由域账号管理或已绑定其他身份），请联系管理员。",
  "login.sso.bad_claims": "认证中心未提供可用的用户名，请联系管理员。",
  "login.sso.unavailable": "暂时无法连接认证中心，请稍后重试。",
  "login.sso.failed": "单点登录失败，请重试。",
  "login.passwordDisabled": "本系统已关闭密码登录，请使用单点登录。",
  "login.directoryTitle": "域账号登录",
  "login.directoryUsername": "域账号",
  "login.directoryPassword": "域账号密码",
});
Object.assign(MESSAGES.en, {
  "login.sso": "Sign in with SSO",
  "login.or": "or",
  "login.ldapHint": "Directory (LDAP) accounts sign in with their directory password",
  "login.passwordOff": "This server signs in with single sign-on only",
  "login.sso.denied": "Single sign-on was cancelled.",
  "login.sso.not_provisioned": "Your account has not been set up on this server yet. Ask an administrator.",
  "login.sso.disabled": "This account is disabled.",
  "login.sso.conflict": "An account with your username exists here and cannot be linked to single sign-on (it has a password of its own, the directory manages it, or it is linked to someone else). Ask an administrator.",
  "login.sso.bad_claims": "The sign-in provider sent no usable username. Ask an administrator.",
  "login.sso.unavailable": "The sign-in provider cannot be reached. Try again later.",
  "login.sso.failed": "Single sign-on failed. Try again.",
  "login.passwordDisabled": "Password sign-in is switched off here: use single sign-on.",
  "login.directoryTitle": "Directory account",
  "login.directoryUsername": "Directory username",
  "login.directoryPassword": "Directory password",
});

const SSO_ERROR = /^#\/login\?(.*)$/;

/** What GET /api/v1/auth/methods says (the password form until it answers). */
export const authMethods = reactive({ password: true, oidc: null, ldap: false, loaded: false });

export async function loadAuthMethods() {
  try {
    const resp = await fetch("/api/v1/auth/methods", { headers: { Accept: "application/json" }, cache: "no-cache" });
    if (resp.ok) Object.assign(authMethods, await resp.json(), { loaded: true });
  } catch {
    /* the password form stays */
  }
}

/** A failed SSO sign-in's reason from the address bar (removed from it), or "". */
function takeSsoError() {
  const m = SSO_ERROR.exec(location.hash || "");
  if (!m) return "";
  history.replaceState(history.state, "", location.pathname + location.search);
  const reason = new URLSearchParams(m[1]).get("sso_error") || "failed";
  return t(`login.sso.${reason}`) === `login.sso.${reason}` ? t("login.sso.failed") : t(`login.sso.${reason}`);
}

export default {
  name: "LoginView",
  components: { LangSwitch },
  setup() {
    const mode = ref("login");
    const busy = ref(false);
    const form = reactive({ username: "", password: "", password2: "", displayName: "" });
    const errors = reactive({ username: "", password: "", password2: "", form: "" });

    function clear() {
      errors.username = errors.password = errors.password2 = errors.form = "";
    }

    function validate() {
      clear();
      const u = form.username.trim();
      if (mode.value === "register") {
        if (!/^[A-Za-z0-9_.-]{2,32}$/.test(u)) errors.username = t("login.usernameRule");
        if (form.password.length < 8) errors.password = t("login.passwordRule");
        if (form.password2 !== form.password) errors.password2 = t("login.passwordMismatch");
      } else {
        if (!u) errors.username = t("login.usernameRule");
        if (!form.password) errors.password = t("login.passwordRule");
      }
      return !errors.username && !errors.password && !errors.password2;
    }

    async function submit() {
      if (busy.value || !validate()) return;
      busy.value = true;
      state.loginNotice = "";
      try {
        if (mode.value === "register") await register(form.username.trim(), form.password, form.displayName.trim());
        else await login(form.username.trim(), form.password);
        form.password = form.password2 = "";
      } catch (error) {
        if (error instanceof SemotAPIError && error.code === "password_login_disabled") {
          errors.form = t("login.passwordDisabled");
          if (mode.value === "register") mode.value = "login"; // no self-registration without password sign-in
          loadAuthMethods();
        } else if (error instanceof SemotAPIError && error.code === "unauthorized") errors.form = t("login.badCredentials");
        else if (error instanceof SemotAPIError && error.code === "conflict") errors.username = t("login.taken");
        else if (error instanceof SemotAPIError && error.code === "forbidden")
          errors.form = mode.value === "register" ? t("login.registrationClosed") : t("login.disabled");
        else errors.form = describeError(error);
      } finally {
        busy.value = false;
      }
    }

    function toggle() {
      mode.value = mode.value === "login" ? "register" : "login";
      clear();
    }

    // self-registration switched off by the administrator: back to signing in
    watch(() => clientConfig.self_registration, (on) => on === false && mode.value === "register" && toggle());
    watch(() => authMethods.password, (on) => on === false && mode.value === "register" && toggle());
    // password sign-in off, LDAP on: the form is the directory's only
    const directoryOnly = () => !authMethods.password && authMethods.ldap;

    const ssoError = takeSsoError();
    if (ssoError) errors.form = ssoError;
    onMounted(loadAuthMethods);
    function sso() {
      if (authMethods.oidc) location.assign(authMethods.oidc.start_url);
    }

    return { mode, busy, form, errors, submit, toggle, t, state, clientConfig, logoSrc, authMethods, sso, directoryOnly };
  },
  template: `
    <div class="login-page">
      <header class="login-top">
        <lang-switch />
      </header>
      <main class="login-main">
        <section class="login-card" :aria-label="mode === 'login' ? t('login.title') : t('login.register')">
          <div class="brand">
            <img :src="logoSrc()" alt="" class="brand-logo" :class="{ custom: !!clientConfig.logo_url }" width="48" height="48" data-testid="brand-logo">
            <div>
              <h1 class="brand-name" data-testid="brand-name">{{ t('appName') }}</h1>
              <p class="brand-tag">{{ t('tagline') }}</p>
            </div>
          </div>
          <h2 class="login-heading">{{ mode === 'login' ? t('login.title') : t('login.register') }}</h2>
          <el-alert v-if="clientConfig.login_notice" :title="clientConfig.login_notice" type="info" :closable="false" class="login-notice" data-testid="login-notice" />
          <el-alert v-if="state.loginNotice" :title="state.loginNotice" type="warning" :closable="false" show-icon class="login-alert" />
          <el-alert v-if="errors.form" :title="errors.form" type="error" :closable="false" show-icon class="login-alert" role="alert" data-testid="login-error" />
          <template v-if="authMethods.oidc && mode === 'login'">
            <el-button size="large" class="wide" type="primary" :plain="authMethods.password || authMethods.ldap" @click="sso" data-testid="oidc-login">{{ authMethods.oidc.label || t('login.sso') }}</el-button>
            <div v-if="authMethods.password || authMethods.ldap" class="login-or" aria-hidden="true">{{ t('login.or') }}</div>
          </template>
          <p v-if="!authMethods.password && !authMethods.ldap && mode === 'login'" class="login-sso-only" data-testid="sso-only">{{ t('login.passwordOff') }}</p>
          <h3 v-if="directoryOnly() && mode === 'login'" class="login-directory" data-testid="directory-title">{{ t('login.directoryTitle') }}</h3>
          <el-form v-if="authMethods.password || authMethods.ldap || mode === 'register'" label-position="top" @submit.prevent="submit" novalidate data-testid="password-form">
            <el-form-item :label="directoryOnly() && mode === 'login' ? t('login.directoryUsername') : t('login.username')" :error="errors.username" for="login-username">
              <el-input id="login-username" v-model="form.username" name="username" autocomplete="username" autocapitalize="off" spellcheck="false" size="large" :placeholder="mode === 'register' ? t('login.usernameRule') : ''" data-testid="username" />
            </el-form-item>
            <el-form-item v-if="mode === 'register'" :label="t('login.displayName')" for="login-display">
              <el-input id="login-display" v-model="form.displayName" name="display_name" autocomplete="nickname" size="large" maxlength="128" data-testid="display-name" />
            </el-form-item>
            <el-form-item :label="directoryOnly() && mode === 'login' ? t('login.directoryPassword') : t('login.password')" :error="errors.password" for="login-password">
              <el-input id="login-password" v-model="form.password" type="password" show-password name="password" size="large" :autocomplete="mode === 'login' ? 'current-password' : 'new-password'" :placeholder="mode === 'register' ? t('login.passwordRule') : ''" data-testid="password" />
            </el-form-item>
            <el-form-item v-if="mode === 'register'" :label="t('login.password2')" :error="errors.password2" for="login-password2">
              <el-input id="login-password2" v-model="form.password2" type="password" show-password name="password2" size="large" autocomplete="new-password" data-testid="password2" />
            </el-form-item>
            <el-button type="primary" native-type="submit" size="large" class="wide" :loading="busy" data-testid="submit">
              {{ mode === 'login' ? t('login.submit') : t('login.submitRegister') }}
            </el-button>
            <p v-if="authMethods.ldap && authMethods.password && mode === 'login'" class="login-ldap" data-testid="ldap-hint">{{ t('login.ldapHint') }}</p>
          </el-form>
          <div v-if="(clientConfig.self_registration && authMethods.password) || mode === 'register'" class="login-switch">
            <el-button link type="primary" @click="toggle" data-testid="toggle-mode">{{ mode === 'login' ? t('login.toRegister') : t('login.toLogin') }}</el-button>
          </div>
        </section>
      </main>
      <footer class="login-footer">
        <span>{{ t('login.footer') }}</span>
        <span aria-hidden="true">·</span>
        <a href="/docs" target="_blank" rel="noopener" data-testid="api-docs">{{ t('login.apiDocs') }}</a>
        <span aria-hidden="true">·</span>
        <a href="/healthz" target="_blank" rel="noopener">{{ t('login.health') }}</a>
      </footer>
    </div>`,
};
