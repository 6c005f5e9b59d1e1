// Sign-in methods (登录方式, docs/sso.md): the login-method switch (password, single
// sign-on only, both, or the server's setting), what the login pages offer now, and the
// OpenID Connect provider's settings (read-only: they live in the server's settings;
// the client secret is never shown). GET/PUT /api/admin/v1/sso.
import { computed, onMounted, reactive } from "vue";
import { ElMessage } from "element-plus";
import { api } from "../api.js";
import { t } from "../i18n.js";
import { can } from "../session.js";

const MODES = ["", "password", "sso", "both"];

const SsoPage = {
  name: "SsoPage",
  setup() {
    const writable = computed(() => can("sso.write"));
    const view = reactive({ data: null, loading: false, saving: false, choice: "" });

    async function load() {
      view.loading = true;
      try {
        view.data = await api.get("/sso");
        view.choice = view.data.login_methods;
      } catch {
        /* shown by the API module */
      } finally {
        view.loading = false;
      }
    }

    async function save() {
      view.saving = true;
      try {
        view.data = await api.put("/sso", { login_methods: view.choice });
        view.choice = view.data.login_methods;
        ElMessage.success(t("sso.saved"));
      } catch {
        /* shown */
      } finally {
        view.saving = false;
      }
    }

    const modeLabel = (m) => t(`sso.mode.${m || "default"}`);
    const yes = (b) => (b ? t("sso.yes") : t("sso.no"));
    onMounted(load);
    return { t, view, writable, save, MODES, modeLabel, yes };
  },
  template: `
    <div class="adm-page" v-loading="view.loading">
      <el-card v-if="view.data" shadow="never" data-testid="sso-switch">
        <template #header>{{ t('sso.switch') }}</template>
        <p class="adm-muted">{{ t('sso.switchHelp') }}</p>
        <el-radio-group v-model="view.choice" :disabled="!writable" data-testid="sso-mode">
          <el-radio v-for="m in MODES" :key="m" :value="m" :data-testid="'sso-mode-' + (m || 'default')"
            :disabled="m === 'sso' && !view.data.oidc.configured">
            {{ m ? modeLabel(m) : t('sso.mode.default', { mode: modeLabel(view.data.setting) }) }}
          </el-radio>
        </el-radio-group>
        <div style="margin-top: 12px">
          <el-button v-if="writable" type="primary" :loading="view.saving" :disabled="view.choice === view.data.login_methods" @click="save" data-testid="sso-save">{{ t('sso.save') }}</el-button>
        </div>
        <el-descriptions :column="1" border style="margin-top: 16px" :title="t('sso.effective')">
          <el-descriptions-item :label="t('sso.password')"><span data-testid="sso-eff-password">{{ yes(view.data.effective.password) }}</span></el-descriptions-item>
          <el-descriptions-item :label="t('sso.oidc')"><span data-testid="sso-eff-oidc">{{ yes(!!view.data.effective.oidc) }}</span></el-descriptions-item>
          <el-descriptions-item :label="t('sso.ldap')">{{ yes(view.data.effective.ldap) }}</el-descriptions-item>
        </el-descriptions>
        <p class="adm-muted">{{ t('sso.breakGlass') }}</p>
      </el-card>
      <el-card v-if="view.data" shadow="never" style="margin-top: 16px" data-testid="sso-oidc">
        <template #header>{{ t('sso.oidcTitle') }}</template>
        <el-alert v-if="!view.data.oidc.configured" type="info" :closable="false" :title="t('sso.notConfigured')" />
        <el-descriptions :column="1" border style="margin-top: 8px">
          <el-descriptions-item :label="t('sso.issuer')">{{ view.data.oidc.issuer || '—' }}</el-descriptions-item>
          <el-descriptions-item :label="t('sso.clientId')">{{ view.data.oidc.client_id || '—' }}</el-descriptions-item>
          <el-descriptions-item :label="t('sso.clientSecret')">{{ yes(view.data.oidc.client_secret_set) }}</el-descriptions-item>
          <el-descriptions-item :label="t('sso.redirectUri')"><code data-testid="sso-redirect">{{ view.data.oidc.redirect_uri }}</code></el-descriptions-item>
          <el-descriptions-item :label="t('sso.scopes')">{{ view.data.oidc.scopes }}</el-descriptions-item>
          <el-descriptions-item :label="t('sso.claims')">{{ view.data.oidc.username_claim }} / {{ view.data.oidc.display_name_claim }} / {{ view.data.oidc.departments_claim || '—' }}</el-descriptions-item>
          <el-descriptions-item :label="t('sso.autoCreate')">{{ yes(view.data.oidc.auto_create) }}</el-descriptions-item>
          <el-descriptions-item :label="t('sso.label')">{{ view.data.oidc.button_label || t('sso.defaultLabel') }}</el-descriptions-item>
        </el-descriptions>
        <p class="adm-muted">{{ t('sso.settingsHelp') }}</p>
      </el-card>
    </div>`,
};

const zh = {
  "sso.switch": "登录方式",
  "sso.switchHelp": "选择登录页提供的方式。修改立即对所有节点生效。",
  "sso.mode.default": "使用服务器设置（{mode}）",
  "sso.mode.password": "仅密码",
  "sso.mode.sso": "仅单点登录",
  "sso.mode.both": "密码和单点登录",
  "sso.save": "保存",
  "sso.saved": "已保存",
  "sso.effective": "当前生效",
  "sso.password": "密码登录",
  "sso.oidc": "单点登录（OpenID Connect）",
  "sso.ldap": "LDAP 目录账号",
  "sso.yes": "是",
  "sso.no": "否",
  "sso.breakGlass": "关闭密码登录后，超级管理员仍可在管理后台用密码登录（应急通道）。",
  "sso.oidcTitle": "OpenID Connect 认证中心",
  "sso.notConfigured": "尚未配置认证中心：请设置 SEMOT_OIDC_ISSUER 和 SEMOT_OIDC_CLIENT_ID。",
  "sso.issuer": "Issuer",
  "sso.clientId": "Client ID",
  "sso.clientSecret": "已设置 Client secret",
  "sso.redirectUri": "回调地址（在认证中心登记）",
  "sso.scopes": "Scopes",
  "sso.claims": "用户名 / 显示名 / 部门 声明",
  "sso.autoCreate": "首次登录自动创建账号",
  "sso.label": "按钮文字",
  "sso.defaultLabel": "单点登录（默认）",
  "sso.settingsHelp": "这些项在服务器设置中修改（SEMOT_OIDC_*，见 docs/sso.md）。",
};

const en = {
  "sso.switch": "Sign-in methods",
  "sso.switchHelp": "What the login pages offer. A change applies on every node at once.",
  "sso.mode.default": "The server's setting ({mode})",
  "sso.mode.password": "Password only",
  "sso.mode.sso": "Single sign-on only",
  "sso.mode.both": "Password and single sign-on",
  "sso.save": "Save",
  "sso.saved": "Saved",
  "sso.effective": "In force now",
  "sso.password": "Password sign-in",
  "sso.oidc": "Single sign-on (OpenID Connect)",
  "sso.ldap": "LDAP directory accounts",
  "sso.yes": "Yes",
  "sso.no": "No",
  "sso.breakGlass": "With password sign-in off, full super administrators can still sign in to the console with their password (break-glass).",
  "sso.oidcTitle": "OpenID Connect provider",
  "sso.notConfigured": "No provider configured: set SEMOT_OIDC_ISSUER and SEMOT_OIDC_CLIENT_ID.",
  "sso.issuer": "Issuer",
  "sso.clientId": "Client ID",
  "sso.clientSecret": "Client secret set",
  "sso.redirectUri": "Callback URL (register it at the provider)",
  "sso.scopes": "Scopes",
  "sso.claims": "Username / display name / departments claims",
  "sso.autoCreate": "Create accounts at first sign-in",
  "sso.label": "Button text",
  "sso.defaultLabel": "Sign in with SSO (default)",
  "sso.settingsHelp": "These are server settings (SEMOT_OIDC_*, see docs/sso.md).",
};

export default {
  name: "sso",
  perm: ["sso.view", "sso.write"],
  icon: "Key",
  order: 167,
  title: "menu.sso",
  component: SsoPage,
  messages: { "zh-CN": zh, en },
};
