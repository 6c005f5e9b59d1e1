// The page a one-time set-password link opens: /#/set-password?token=... (an
// administrator made it in the admin console, or the bulk import did for a new account).
// It says whose account it is, takes the new password twice, sets it through the public
// endpoint (POST /api/v1/auth/set-password: the link is used up and every other login of
// the account ends) and signs in with it. The token lives in the URL's fragment, which
// the browser never sends to any server; it leaves the address bar once used.
import { reactive } from "vue";
import { SemotAPIError } from "semot";
import { MESSAGES, t } from "../i18n.js";
import { client, describeError, enterApp, login, logout, state } from "../store.js";
import LangSwitch from "./lang-switch.js";

Object.assign(MESSAGES["zh-CN"], {
  "setpw.title": "设置密码",
  "setpw.for": "为账号 {name}（{username}）设置登录密码",
  "setpw.checking": "正在检查链接…",
  "setpw.invalid": "此链接无效、已过期或已被使用。请联系管理员重新生成。",
  "setpw.disabled": "该账号已被停用，不能设置密码。",
  "setpw.password": "新密码",
  "setpw.password2": "确认新密码",
  "setpw.rule": "至少 8 个字符",
  "setpw.mismatch": "两次输入的密码不一致",
  "setpw.submit": "设置密码并登录",
  "setpw.expires": "链接有效期至 {time}",
  "setpw.toLogin": "前往登录",
});
Object.assign(MESSAGES.en, {
  "setpw.title": "Set your password",
  "setpw.for": "Choose a password for {name} ({username})",
  "setpw.checking": "Checking the link…",
  "setpw.invalid": "This link is invalid, has expired or was already used. Ask your administrator for a new one.",
  "setpw.disabled": "This account is disabled: its password cannot be set.",
  "setpw.password": "New password",
  "setpw.password2": "Repeat the new password",
  "setpw.rule": "At least 8 characters",
  "setpw.mismatch": "The two passwords differ",
  "setpw.submit": "Set password and sign in",
  "setpw.expires": "The link works until {time}",
  "setpw.toLogin": "Go to sign in",
});

const ROUTE = /^#\/set-password\?(.*)$/;

function tokenFromHash() {
  const m = ROUTE.exec(location.hash || "");
  if (!m) return "";
  return new URLSearchParams(m[1]).get("token") || "";
}

/** The link being shown (its token), or "" when the address is not a set-password link. */
export const passwordLink = reactive({ token: tokenFromHash() });
window.addEventListener("hashchange", () => {
  passwordLink.token = tokenFromHash();
});

/** Leave the link page: the token goes from the address bar and the history entry. A
 * signed-in tab (whose chat was not started under the link page, see main.js) starts it
 * now, unless `resume` is false (a sign-in follows). */
export function leaveLink({ resume = true } = {}) {
  history.replaceState(history.state, "", location.pathname + location.search);
  passwordLink.token = "";
  if (resume && state.phase === "app") enterApp();
}

export default {
  name: "SetPasswordView",
  components: { LangSwitch },
  setup() {
    const view = reactive({ phase: "checking", user: null, expires: 0, busy: false, error: "" });
    const form = reactive({ password: "", password2: "" });
    const errors = reactive({ password: "", password2: "" });

    async function check() {
      view.phase = "checking";
      try {
        const info = await client.http("POST", "/api/v1/auth/set-password/check", { token: passwordLink.token }, { auth: false });
        view.user = info;
        view.expires = info.expires_at;
        view.phase = "form";
      } catch (error) {
        view.phase = error instanceof SemotAPIError && error.status === 403 ? "disabled" : "invalid";
        if (!(error instanceof SemotAPIError) || (error.status !== 404 && error.status !== 403)) view.error = describeError(error);
      }
    }

    function validate() {
      errors.password = form.password.length < 8 ? t("setpw.rule") : "";
      errors.password2 = form.password2 !== form.password ? t("setpw.mismatch") : "";
      return !errors.password && !errors.password2;
    }

    async function submit() {
      if (view.busy || !validate()) return;
      view.busy = true;
      view.error = "";
      try {
        const done = await client.http(
          "POST", "/api/v1/auth/set-password", { token: passwordLink.token, password: form.password }, { auth: false },
        );
        const password = form.password;
        form.password = form.password2 = "";
        try {
          if (client.userId && client.userId !== done.user_id) await logout(); // someone else was signed in here
          await login(done.username, password);
        } catch (error) {
          state.phase = "login";
          state.loginNotice = describeError(error); // the password is set: signing in by hand works
        } finally {
          leaveLink({ resume: false });
        }
      } catch (error) {
        if (error instanceof SemotAPIError && error.status === 404) view.phase = "invalid";
        else if (error instanceof SemotAPIError && error.status === 403) view.phase = "disabled";
        else view.error = describeError(error);
      } finally {
        view.busy = false;
      }
    }

    const when = (ms) => new Date(ms).toLocaleString();
    check();
    return { view, form, errors, submit, leaveLink, when, t };
  },
  template: `
    <div class="login-page" data-testid="set-password-page">
      <header class="login-top"><lang-switch /></header>
      <main class="login-main">
        <section class="login-card" :aria-label="t('setpw.title')">
          <div class="brand">
            <img src="/web/icons/icon.svg" alt="" class="brand-logo" width="48" height="48">
            <div>
              <h1 class="brand-name">{{ t('appName') }}</h1>
              <p class="brand-tag">{{ t('tagline') }}</p>
            </div>
          </div>
          <h2 class="login-heading">{{ t('setpw.title') }}</h2>
          <p v-if="view.phase === 'checking'" data-testid="setpw-checking">{{ t('setpw.checking') }}</p>
          <template v-else-if="view.phase === 'invalid' || view.phase === 'disabled'">
            <el-alert :title="view.phase === 'invalid' ? t('setpw.invalid') : t('setpw.disabled')" type="error" :closable="false" show-icon class="login-alert" role="alert" data-testid="setpw-invalid" />
            <el-button type="primary" size="large" class="wide" data-testid="setpw-to-login" @click="leaveLink()">{{ t('setpw.toLogin') }}</el-button>
          </template>
          <template v-else>
            <p class="setpw-for" data-testid="setpw-for">{{ t('setpw.for', { name: view.user.display_name, username: view.user.username }) }}</p>
            <el-alert v-if="view.error" :title="view.error" type="error" :closable="false" show-icon class="login-alert" role="alert" data-testid="setpw-error" />
            <el-form label-position="top" @submit.prevent="submit" novalidate>
              <input type="text" name="username" autocomplete="username" :value="view.user.username" hidden readonly>
              <el-form-item :label="t('setpw.password')" :error="errors.password" for="setpw-password">
                <el-input id="setpw-password" v-model="form.password" type="password" show-password size="large" autocomplete="new-password" :placeholder="t('setpw.rule')" data-testid="setpw-password" />
              </el-form-item>
              <el-form-item :label="t('setpw.password2')" :error="errors.password2" for="setpw-password2">
                <el-input id="setpw-password2" v-model="form.password2" type="password" show-password size="large" autocomplete="new-password" data-testid="setpw-password2" />
              </el-form-item>
              <el-button type="primary" native-type="submit" size="large" class="wide" :loading="view.busy" data-testid="setpw-submit">{{ t('setpw.submit') }}</el-button>
            </el-form>
            <p class="brand-tag" data-testid="setpw-expires">{{ t('setpw.expires', { time: when(view.expires) }) }}</p>
          </template>
        </section>
      </main>
    </div>`,
};
