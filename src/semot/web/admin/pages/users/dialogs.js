// The users page's dialogs: create / edit a user, reset a password (set one, or make a
// one-time set-password link shown with a copy button), and move users to a department.
import { computed, reactive, ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { api } from "../../api.js";
import { t } from "../../i18n.js";
import { can, session } from "../../session.js";
import { copyText, formatTime, randomPassword } from "./common.js";

const USERNAME = /^[A-Za-z0-9_.-]{2,32}$/;

export const UserDialog = {
  name: "UserDialog",
  props: { modelValue: Boolean, user: { type: Object, default: null }, tree: { type: Array, default: () => [] } },
  emits: ["update:modelValue", "created", "saved"],
  setup(props, { emit }) {
    const form = reactive({ username: "", display_name: "", password: "", department_id: "", title: "", is_admin: false, disabled: false });
    const errors = reactive({ username: "", display_name: "", password: "", department_id: "" });
    const busy = ref(false);
    const editing = computed(() => !!props.user);
    const limited = computed(() => session.departments !== null && session.departments !== undefined);
    // making administrators: admins.write over the whole organisation (the API checks it)
    const mayAdmin = computed(() => !limited.value && can("admins.write"));

    watch(
      () => props.modelValue,
      (open) => {
        if (!open) return;
        const u = props.user;
        Object.assign(form, {
          username: u ? u.username : "", display_name: u ? u.display_name : "", password: "",
          department_id: "", title: "", is_admin: u ? u.is_admin : false, disabled: u ? u.disabled : false,
        });
        Object.keys(errors).forEach((k) => (errors[k] = ""));
      },
    );

    function validate() {
      errors.username = !editing.value && !USERNAME.test(form.username.trim()) ? t("users.usernameRule") : "";
      errors.display_name = editing.value && !form.display_name.trim() ? t("users.displayNameRule") : "";
      errors.password = form.password && form.password.length < 8 ? t("users.passwordRule") : "";
      errors.department_id = !editing.value && limited.value && !form.department_id ? t("users.pickDepartment") : "";
      return !Object.values(errors).some(Boolean);
    }

    async function save() {
      if (busy.value || !validate()) return;
      busy.value = true;
      try {
        if (editing.value) {
          const u = props.user;
          const body = {};
          if (form.display_name.trim() !== u.display_name) body.display_name = form.display_name.trim();
          if (mayAdmin.value && form.is_admin !== u.is_admin) body.is_admin = form.is_admin;
          if (form.disabled !== u.disabled) body.disabled = form.disabled;
          const changed = Object.keys(body).length ? await api.patch(`/users/${encodeURIComponent(u.user_id)}`, body) : u;
          ElMessage({ type: "success", message: t("users.saved") });
          emit("saved", changed);
        } else {
          const body = { username: form.username.trim() };
          if (form.display_name.trim()) body.display_name = form.display_name.trim();
          if (form.password) body.password = form.password;
          if (form.department_id) body.department_id = form.department_id;
          if (form.department_id && form.title.trim()) body.title = form.title.trim();
          const made = await api.post("/users", body);
          ElMessage({ type: "success", message: t("users.created_ok", { name: body.display_name || body.username }) });
          emit("created", { user_id: made.user_id, username: body.username, display_name: body.display_name || body.username, withoutPassword: !form.password });
        }
        emit("update:modelValue", false);
      } catch {
        /* the API showed the error */
      } finally {
        busy.value = false;
      }
    }

    return { form, errors, busy, editing, limited, mayAdmin, save, t, close: () => emit("update:modelValue", false) };
  },
  template: `
    <el-dialog :model-value="modelValue" :title="editing ? t('users.editTitle') : t('users.createTitle')" width="480px" append-to-body
      @update:model-value="(v) => $emit('update:modelValue', v)" data-testid="user-dialog">
      <el-form label-position="top" @submit.prevent="save" novalidate>
        <el-form-item :label="t('users.username')" :error="errors.username" for="ud-username">
          <el-input id="ud-username" v-model="form.username" :disabled="editing" maxlength="32" autocomplete="off" :placeholder="t('users.usernameRule')" data-testid="ud-username" />
        </el-form-item>
        <el-form-item :label="t('users.displayName')" :error="errors.display_name" for="ud-name">
          <el-input id="ud-name" v-model="form.display_name" maxlength="128" data-testid="ud-name" />
        </el-form-item>
        <template v-if="!editing">
          <el-form-item :label="t('users.initialPassword')" :error="errors.password" for="ud-password">
            <el-input id="ud-password" v-model="form.password" type="password" show-password autocomplete="new-password" :placeholder="t('users.initialPasswordHint')" data-testid="ud-password" />
          </el-form-item>
          <el-form-item :label="t('users.department')" :error="errors.department_id">
            <el-tree-select v-model="form.department_id" :data="tree" check-strictly clearable filterable :render-after-expand="false" :placeholder="t('users.pickDepartment')" style="width: 100%" data-testid="ud-department" />
          </el-form-item>
          <el-form-item v-if="form.department_id" :label="t('users.title')" for="ud-title">
            <el-input id="ud-title" v-model="form.title" maxlength="64" data-testid="ud-title" />
          </el-form-item>
        </template>
        <template v-else>
          <el-form-item v-if="mayAdmin">
            <el-switch v-model="form.is_admin" :active-text="t('users.isAdmin')" data-testid="ud-admin" />
            <div class="adm-muted users-hint">{{ t('users.isAdminHint') }}</div>
          </el-form-item>
          <el-form-item>
            <el-switch v-model="form.disabled" :active-text="t('users.disabledSwitch')" data-testid="ud-disabled" />
          </el-form-item>
        </template>
        <button type="submit" hidden></button>
      </el-form>
      <template #footer>
        <el-button @click="close">{{ t('users.cancel') }}</el-button>
        <el-button type="primary" :loading="busy" data-testid="ud-save" @click="save">{{ t('users.save') }}</el-button>
      </template>
    </el-dialog>`,
};

const TTLS = [
  { value: 86400, label: "users.ttl1" },
  { value: 7 * 86400, label: "users.ttl7" },
  { value: 30 * 86400, label: "users.ttl30" },
];

export const PasswordDialog = {
  name: "PasswordDialog",
  props: { modelValue: Boolean, user: { type: Object, default: null }, autoLink: Boolean },
  emits: ["update:modelValue"],
  setup(props, { emit }) {
    const tab = ref("set");
    const password = ref("");
    const error = ref("");
    const ttl = ref(7 * 86400);
    const link = ref(null);
    const busy = ref(false);
    const linkInput = ref(null);
    const url = computed(() => (link.value ? location.origin + link.value.path : ""));

    watch(
      () => props.modelValue,
      (open) => {
        if (!open) return;
        password.value = "";
        error.value = "";
        link.value = null;
        tab.value = props.autoLink ? "link" : "set";
        if (props.autoLink) makeLink();
      },
    );

    const path = () => `/users/${encodeURIComponent(props.user.user_id)}`;

    async function setPassword() {
      if (busy.value) return;
      error.value = password.value.length < 8 ? t("users.passwordRule") : "";
      if (error.value) return;
      busy.value = true;
      try {
        await api.patch(path(), { password: password.value });
        ElMessage({ type: "success", message: t("users.pwSetOk") });
        emit("update:modelValue", false);
      } catch {
        /* shown */
      } finally {
        busy.value = false;
      }
    }

    async function makeLink() {
      if (busy.value) return;
      busy.value = true;
      try {
        link.value = await api.post(`${path()}/password-link`, { ttl_s: ttl.value });
      } catch {
        /* shown */
      } finally {
        busy.value = false;
      }
    }

    const copy = () => copyText(url.value, linkInput.value && linkInput.value.input);
    const generate = () => (password.value = randomPassword());
    return { tab, password, error, ttl, link, url, busy, linkInput, TTLS, setPassword, makeLink, copy, generate, formatTime, t };
  },
  template: `
    <el-dialog :model-value="modelValue" :title="user ? t('users.pwTitle', { name: user.display_name }) : ''" width="560px" append-to-body
      @update:model-value="(v) => $emit('update:modelValue', v)" data-testid="password-dialog">
      <el-tabs v-model="tab">
        <el-tab-pane :label="t('users.pwSet')" name="set">
          <el-form label-position="top" @submit.prevent="setPassword" novalidate>
            <el-form-item :label="t('users.pwNew')" :error="error" for="pw-new">
              <el-input id="pw-new" v-model="password" type="text" autocomplete="new-password" spellcheck="false" :placeholder="t('users.passwordRule')" data-testid="pw-new">
                <template #append><el-button data-testid="pw-generate" @click="generate">{{ t('users.pwGenerate') }}</el-button></template>
              </el-input>
            </el-form-item>
            <el-alert :title="t('users.pwSetHint')" type="warning" :closable="false" show-icon />
            <div class="users-dialog-actions">
              <el-button type="primary" :loading="busy" data-testid="pw-set" @click="setPassword">{{ t('users.pwSet') }}</el-button>
            </div>
          </el-form>
        </el-tab-pane>
        <el-tab-pane :label="t('users.pwLink')" name="link">
          <p class="adm-muted">{{ t('users.linkHint') }}</p>
          <div class="users-link-row">
            <span>{{ t('users.linkTtl') }}</span>
            <el-select v-model="ttl" style="width: 120px" data-testid="link-ttl">
              <el-option v-for="o in TTLS" :key="o.value" :value="o.value" :label="t(o.label)" />
            </el-select>
            <el-button type="primary" :loading="busy" data-testid="link-make" @click="makeLink">{{ t('users.linkMake') }}</el-button>
          </div>
          <template v-if="link">
            <el-input ref="linkInput" :model-value="url" readonly data-testid="link-url">
              <template #append><el-button data-testid="link-copy" @click="copy"><icon-copy-document style="width: 1em; height: 1em" />&nbsp;{{ t('users.copy') }}</el-button></template>
            </el-input>
            <p class="adm-muted" data-testid="link-expires">{{ t('users.linkReady', { time: formatTime(link.expires_at) }) }}</p>
          </template>
        </el-tab-pane>
      </el-tabs>
    </el-dialog>`,
};

export const MoveDialog = {
  name: "MoveDialog",
  props: { modelValue: Boolean, count: { type: Number, default: 0 }, tree: { type: Array, default: () => [] } },
  emits: ["update:modelValue", "move"],
  setup(props, { emit }) {
    const target = ref("");
    watch(() => props.modelValue, (open) => open && (target.value = ""));
    const go = () => target.value && emit("move", target.value);
    return { target, go, t };
  },
  template: `
    <el-dialog :model-value="modelValue" :title="t('users.moveTitle')" width="440px" append-to-body
      @update:model-value="(v) => $emit('update:modelValue', v)" data-testid="move-dialog">
      <p class="adm-muted">{{ t('users.selected', { n: count }) }} · {{ t('users.moveHint') }}</p>
      <el-tree-select v-model="target" :data="tree" check-strictly filterable :render-after-expand="false" :placeholder="t('users.pickDepartment')" style="width: 100%" data-testid="move-department" />
      <template #footer>
        <el-button @click="$emit('update:modelValue', false)">{{ t('users.cancel') }}</el-button>
        <el-button type="primary" :disabled="!target" data-testid="move-go" @click="go">{{ t('users.bulkMove') }}</el-button>
      </template>
    </el-dialog>`,
};
