// Sign in / sign up. The login lasts until the user signs out: its refresh token is an
// HttpOnly cookie (out of reach of scripts), and a reload signs in again through it.
import { reactive, ref } from "vue";
import { SemotAPIError } from "semot";
import { t } from "../i18n.js";
import { describeError, login, register, state } from "../store.js";
import LangSwitch from "./lang-switch.js";

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
        if (error instanceof SemotAPIError && error.code === "unauthorized") errors.form = t("login.badCredentials");
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

    return { mode, busy, form, errors, submit, toggle, t, state };
  },
  template: `
    <div class="login-page">
      <header class="login-top">
        <lang-switch />
      </header>
      <main class="login-main">
        <section class="login-card" :aria-label="mode === 'login' ? t('login.title') : t('login.register')">
          <div class="brand">
            <img src="/web/icons/icon.svg" alt="" class="brand-logo" width="48" height="48">
            <div>
              <h1 class="brand-name">{{ t('appName') }}</h1>
              <p class="brand-tag">{{ t('tagline') }}</p>
            </div>
          </div>
          <h2 class="login-heading">{{ mode === 'login' ? t('login.title') : t('login.register') }}</h2>
          <el-alert v-if="state.loginNotice" :title="state.loginNotice" type="warning" :closable="false" show-icon class="login-alert" />
          <el-alert v-if="errors.form" :title="errors.form" type="error" :closable="false" show-icon class="login-alert" role="alert" data-testid="login-error" />
          <el-form label-position="top" @submit.prevent="submit" novalidate>
            <el-form-item :label="t('login.username')" :error="errors.username" for="login-username">
              <el-input id="login-username" v-model="form.username" name="username" autocomplete="username" autocapitalize="off" spellcheck="false" size="large" :placeholder="mode === 'register' ? t('login.usernameRule') : ''" data-testid="username" />
            </el-form-item>
            <el-form-item v-if="mode === 'register'" :label="t('login.displayName')" for="login-display">
              <el-input id="login-display" v-model="form.displayName" name="display_name" autocomplete="nickname" size="large" maxlength="128" data-testid="display-name" />
            </el-form-item>
            <el-form-item :label="t('login.password')" :error="errors.password" for="login-password">
              <el-input id="login-password" v-model="form.password" type="password" show-password name="password" size="large" :autocomplete="mode === 'login' ? 'current-password' : 'new-password'" :placeholder="mode === 'register' ? t('login.passwordRule') : ''" data-testid="password" />
            </el-form-item>
            <el-form-item v-if="mode === 'register'" :label="t('login.password2')" :error="errors.password2" for="login-password2">
              <el-input id="login-password2" v-model="form.password2" type="password" show-password name="password2" size="large" autocomplete="new-password" data-testid="password2" />
            </el-form-item>
            <el-button type="primary" native-type="submit" size="large" class="wide" :loading="busy" data-testid="submit">
              {{ mode === 'login' ? t('login.submit') : t('login.submitRegister') }}
            </el-button>
          </el-form>
          <div class="login-switch">
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
