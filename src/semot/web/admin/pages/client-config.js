// Client configuration (终端配置): the chat client's branding (product name, tagline,
// login notice, logo uploaded with tus or given as a URL, with a live preview of the
// login page's header), feature switches, self-registration, the direct-message policy,
// the watermark and the upload limit, quick phrases, custom H5 pages and default friend
// groups. One form over GET /api/admin/v1/client-config; "Save and push" (confirmed)
// sends PUT with the version it started from, so another administrator's change in
// between is never overwritten (409: the latest is loaded again). Everything typed here
// is shown as text (Vue escapes it).
import { computed, onMounted, reactive, ref } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api } from "../api.js";
import { client } from "../client.js";
import { i18n, t } from "../i18n.js";
import { FEATURE_NAMES, messages } from "./client-config/messages.js";
import PlacesEditor, { placeErrors, placeToBody, placeToForm } from "./client-config/places.js";

const STYLES = "/admin/pages/client-config/client-config.css";
if (!document.querySelector(`link[href="${STYLES}"]`)) {
  document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href: STYLES }));
}
const MB = 1024 * 1024;
const URL_RE = /^https?:\/\/[^\s/?#@]+[^\s]*$/i;

function formatTime(ms) {
  return ms ? new Date(ms).toLocaleString(i18n.locale === "en" ? "en-GB" : "zh-CN") : "";
}

function clone(v) {
  return JSON.parse(JSON.stringify(v));
}

/** The form's copy of the stored fields (max_upload_bytes in MB for the input). */
function toForm(cfg) {
  const f = clone(cfg);
  f.max_upload_mb = cfg.max_upload_bytes ? Math.round((cfg.max_upload_bytes / MB) * 100) / 100 : 0;
  delete f.max_upload_bytes;
  f.pages = (f.pages || []).map((p) => ({ title: p.title, url: p.url, icon: p.icon || "", open: p.open || "tab" }));
  f.places = (f.places || []).map(placeToForm);
  return f;
}

/** What PUT gets: every field (the server keeps what it is not sent, but the form is whole). */
function toBody(form, version) {
  const body = clone(form);
  delete body.max_upload_mb;
  body.max_upload_bytes = Math.round((Number(form.max_upload_mb) || 0) * MB);
  body.quick_phrases = form.quick_phrases.map((p) => p.trim()).filter(Boolean);
  body.default_friend_groups = form.default_friend_groups.map((g) => g.trim()).filter(Boolean);
  body.pages = form.pages.map((p) => ({ title: p.title.trim(), url: p.url.trim(), icon: p.icon.trim(), open: p.open }));
  body.places = (form.places || []).map(placeToBody);
  body.logo_url = form.logo_url ? form.logo_url.trim() : null;
  body.version = version;
  return body;
}

const ClientConfigPage = {
  name: "ClientConfigPage",
  components: { PlacesEditor },
  setup() {
    const loading = ref(true);
    const saving = ref(false);
    const meta = reactive({ version: 0, updated_at: null, updated_by: null, limits: { file_max_bytes: 0 }, public: null });
    const form = reactive({
      product_name: "", tagline: "", login_notice: "", logo_file_id: null, logo_url: null, features: {},
      default_friend_groups: [], quick_phrases: [], pages: [], self_registration: true,
      direct_message_policy: "anyone", watermark: false, max_upload_mb: 0, places: [],
    });
    const saved = ref("");
    const logo = reactive({ uploading: false, percent: 0, preview: null });
    const draft = reactive({ phrase: "", group: "" });
    const picker = ref(null);

    function take(view) {
      Object.assign(meta, { version: view.version, updated_at: view.updated_at, updated_by: view.updated_by,
        limits: view.limits, public: view.public });
      Object.assign(form, toForm(view.config));
      logo.preview = view.public.logo_url;
      saved.value = JSON.stringify(toBody(form, 0));
    }

    async function load() {
      loading.value = true;
      try {
        take(await api.get("/client-config"));
      } finally {
        loading.value = false;
      }
    }
    onMounted(load);

    const dirty = computed(() => !loading.value && JSON.stringify(toBody(form, 0)) !== saved.value);
    const serverMax = computed(() => `${Math.round((meta.limits.file_max_bytes / MB) * 10) / 10} MB`);
    const previewName = computed(() => form.product_name.trim() || "Semot");
    const previewLogo = computed(() => (form.logo_file_id ? logo.preview : (form.logo_url || "").trim()) || "/web/icons/icon.svg");
    const badUrls = computed(() => {
      const bad = {};
      form.pages.forEach((p, i) => { if (!URL_RE.test(p.url.trim())) bad[i] = true; });
      if (form.logo_url && !URL_RE.test(form.logo_url.trim())) bad.logo = true;
      return bad;
    });
    const badPlaces = computed(() => placeErrors(form.places));
    const valid = computed(() => form.product_name.trim() && !Object.keys(badUrls.value).length
      && form.pages.every((p) => p.title.trim()) && !Object.keys(badPlaces.value).length);

    // --- logo
    function pickLogo() {
      if (picker.value) picker.value.click();
    }
    async function onLogo(e) {
      const file = e.target.files && e.target.files[0];
      e.target.value = "";
      if (!file) return;
      if (file.size > meta.limits.max_logo_bytes) {
        ElMessage.error(t("client-config.logoTooBig"));
        return;
      }
      logo.uploading = true;
      logo.percent = 0;
      try {
        const info = await client.uploadFile(file, { onProgress: (sent, total) => { logo.percent = total ? Math.round((sent / total) * 100) : 0; } });
        form.logo_file_id = info.file_id;
        form.logo_url = null;
        logo.preview = URL.createObjectURL(file);
      } catch (error) {
        ElMessage.error(String((error && error.message) || error));
      } finally {
        logo.uploading = false;
      }
    }
    function removeLogo() {
      form.logo_file_id = null;
      form.logo_url = null;
      logo.preview = null;
    }
    function onLogoUrl() {
      if (form.logo_url) form.logo_file_id = null;
    }

    // --- list editors
    function move(list, i, d) {
      const j = i + d;
      if (j < 0 || j >= list.length) return;
      [list[i], list[j]] = [list[j], list[i]];
    }
    function addPhrase() {
      const p = draft.phrase.trim();
      if (p && !form.quick_phrases.includes(p)) form.quick_phrases.push(p);
      draft.phrase = "";
    }
    function addGroup() {
      const g = draft.group.trim();
      if (g && !form.default_friend_groups.includes(g)) form.default_friend_groups.push(g);
      draft.group = "";
    }
    function addPage() {
      form.pages.push({ title: "", url: "https://", icon: "", open: "tab" });
    }

    // --- saving
    async function save() {
      if (!valid.value || saving.value) return;
      try {
        await ElMessageBox.confirm(t("client-config.confirm"), t("client-config.confirmTitle"), {
          type: "warning", confirmButtonText: t("client-config.save"), customClass: "cc-confirm",
        });
      } catch {
        return; // cancelled
      }
      saving.value = true;
      try {
        const view = await api.put("/client-config", toBody(form, meta.version), { quiet: true });
        take(view);
        ElMessage.success(t("client-config.saved", { v: view.version }));
      } catch (error) {
        if (error && error.code === "conflict") {
          ElMessage.warning(t("client-config.conflict"));
          await load();
        } else {
          const where = error && error.details && error.details.fields;
          ElMessage({ type: "error", showClose: true, duration: 8000,
            message: (where && where.length ? `${where[0].field}: ${where[0].error}` : "") || (error && error.message) || String(error) });
        }
      } finally {
        saving.value = false;
      }
    }
    function discard() {
      load();
    }

    return {
      t, loading, saving, meta, form, logo, draft, picker, dirty, serverMax, previewName, previewLogo, badUrls, valid, badPlaces,
      FEATURE_NAMES, formatTime, pickLogo, onLogo, removeLogo, onLogoUrl, move, addPhrase, addGroup, addPage, save, discard,
    };
  },
  template: `
<div class="adm-page cc-page" data-testid="client-config-page" v-loading="loading">
  <div class="adm-card cc-head">
    <div class="cc-head-text">
      <p class="cc-intro">{{ t('client-config.intro') }}</p>
      <p class="adm-muted" data-testid="cc-meta">
        <template v-if="meta.version">{{ t('client-config.version', { v: meta.version }) }} · {{ t('client-config.updated', { who: meta.updated_by || '—', when: formatTime(meta.updated_at) }) }}</template>
        <template v-else>{{ t('client-config.never') }}</template>
      </p>
    </div>
    <div class="cc-actions">
      <el-tag v-if="dirty" type="warning" data-testid="cc-dirty">{{ t('client-config.unsaved') }}</el-tag>
      <el-button :disabled="!dirty" @click="discard" data-testid="cc-discard">{{ t('client-config.discard') }}</el-button>
      <el-button type="primary" :disabled="!dirty || !valid" :loading="saving" @click="save" data-testid="cc-save">{{ t('client-config.save') }}</el-button>
    </div>
  </div>

  <section class="adm-card" data-testid="cc-branding">
    <h3 class="cc-title">{{ t('client-config.sec.branding') }}</h3>
    <div class="cc-branding">
      <el-form label-position="top" class="cc-form">
        <el-form-item :label="t('client-config.productName')" :error="form.product_name.trim() ? '' : t('client-config.required')">
          <el-input v-model="form.product_name" maxlength="64" show-word-limit data-testid="cc-product-name" />
        </el-form-item>
        <el-form-item :label="t('client-config.tagline')">
          <el-input v-model="form.tagline" maxlength="128" :placeholder="t('client-config.taglineHint')" data-testid="cc-tagline" />
        </el-form-item>
        <el-form-item :label="t('client-config.loginNotice')">
          <el-input v-model="form.login_notice" type="textarea" :rows="2" maxlength="500" :placeholder="t('client-config.loginNoticeHint')" data-testid="cc-login-notice" />
        </el-form-item>
        <el-form-item :label="t('client-config.logo')" :error="badUrls.logo ? t('client-config.badUrl') : ''">
          <div class="cc-logo-row">
            <el-button :loading="logo.uploading" @click="pickLogo" data-testid="cc-logo-upload">{{ logo.uploading ? t('client-config.logoUploading') : t('client-config.logoUpload') }}</el-button>
            <input ref="picker" type="file" accept="image/png,image/jpeg,image/gif,image/webp,image/x-icon" hidden @change="onLogo" data-testid="cc-logo-input">
            <el-input v-model="form.logo_url" class="cc-logo-url" :placeholder="t('client-config.logoUrl')" clearable @input="onLogoUrl" data-testid="cc-logo-url" />
            <el-button text @click="removeLogo" data-testid="cc-logo-remove">{{ t('client-config.logoRemove') }}</el-button>
          </div>
          <el-progress v-if="logo.uploading" :percentage="logo.percent" :stroke-width="6" class="cc-logo-progress" />
          <div class="adm-muted cc-hint">{{ t('client-config.logoHint') }}</div>
        </el-form-item>
      </el-form>
      <div class="cc-preview" :aria-label="t('client-config.preview')" data-testid="cc-preview">
        <div class="adm-muted cc-hint">{{ t('client-config.preview') }}</div>
        <div class="cc-preview-card">
          <img :src="previewLogo" alt="" width="48" height="48" class="cc-preview-logo" data-testid="cc-preview-logo">
          <div>
            <div class="cc-preview-name" data-testid="cc-preview-name">{{ previewName }}</div>
            <div class="cc-preview-tag">{{ form.tagline }}</div>
          </div>
        </div>
        <div v-if="form.login_notice" class="cc-preview-notice">{{ form.login_notice }}</div>
      </div>
    </div>
  </section>

  <section class="adm-card" data-testid="cc-features">
    <h3 class="cc-title">{{ t('client-config.sec.features') }}</h3>
    <p class="adm-muted cc-hint">{{ t('client-config.featuresHint') }}</p>
    <div class="cc-features">
      <label v-for="f in FEATURE_NAMES" :key="f" class="cc-feature">
        <el-switch v-model="form.features[f]" :data-testid="'cc-feature-' + f" />
        <span>{{ t('client-config.f.' + f) }}</span>
      </label>
    </div>
  </section>

  <section class="adm-card" data-testid="cc-access">
    <h3 class="cc-title">{{ t('client-config.sec.access') }}</h3>
    <el-form label-position="left" label-width="180px" class="cc-form">
      <el-form-item :label="t('client-config.selfRegistration')">
        <el-switch v-model="form.self_registration" data-testid="cc-self-registration" />
        <span class="adm-muted cc-inline-hint">{{ t('client-config.selfRegistrationHint') }}</span>
      </el-form-item>
      <el-form-item :label="t('client-config.dmPolicy')">
        <el-radio-group v-model="form.direct_message_policy" data-testid="cc-dm-policy">
          <el-radio v-for="p in ['anyone', 'friends', 'friends_or_colleagues']" :key="p" :value="p" :data-testid="'cc-dm-' + p">{{ t('client-config.dm.' + p) }}</el-radio>
        </el-radio-group>
      </el-form-item>
      <el-form-item :label="t('client-config.watermark')">
        <el-switch v-model="form.watermark" data-testid="cc-watermark" />
        <span class="adm-muted cc-inline-hint">{{ t('client-config.watermarkHint') }}</span>
      </el-form-item>
      <el-form-item :label="t('client-config.maxUpload')">
        <el-input-number v-model="form.max_upload_mb" :min="0" :max="meta.limits.file_max_bytes / 1048576" :step="1" :precision="2" data-testid="cc-max-upload" />
        <span class="adm-muted cc-inline-hint">{{ t('client-config.maxUploadHint', { max: serverMax }) }}</span>
      </el-form-item>
    </el-form>
  </section>

  <section class="adm-card" data-testid="cc-phrases">
    <h3 class="cc-title">{{ t('client-config.sec.phrases') }}</h3>
    <ul class="cc-list">
      <li v-for="(p, i) in form.quick_phrases" :key="i" class="cc-list-item" data-testid="cc-phrase">
        <el-input v-model="form.quick_phrases[i]" type="textarea" :autosize="{ minRows: 1, maxRows: 4 }" maxlength="500" />
        <el-button-group>
          <el-button size="small" :disabled="i === 0" :title="t('client-config.up')" @click="move(form.quick_phrases, i, -1)"><el-icon><icon-arrow-up /></el-icon></el-button>
          <el-button size="small" :disabled="i === form.quick_phrases.length - 1" :title="t('client-config.down')" @click="move(form.quick_phrases, i, 1)"><el-icon><icon-arrow-down /></el-icon></el-button>
          <el-button size="small" type="danger" plain :title="t('client-config.remove')" @click="form.quick_phrases.splice(i, 1)" data-testid="cc-phrase-remove"><el-icon><icon-delete /></el-icon></el-button>
        </el-button-group>
      </li>
      <li v-if="!form.quick_phrases.length" class="adm-muted">{{ t('client-config.none') }}</li>
    </ul>
    <div class="cc-add">
      <el-input v-model="draft.phrase" maxlength="500" :placeholder="t('client-config.phrasePlaceholder')" @keyup.enter="addPhrase" data-testid="cc-phrase-new" />
      <el-button @click="addPhrase" data-testid="cc-phrase-add">{{ t('client-config.add') }}</el-button>
    </div>
  </section>

  <section class="adm-card" data-testid="cc-pages">
    <h3 class="cc-title">{{ t('client-config.sec.pages') }}</h3>
    <p class="adm-muted cc-hint">{{ t('client-config.pagesHint') }}</p>
    <div v-for="(p, i) in form.pages" :key="i" class="cc-page-row" data-testid="cc-page">
      <el-input v-model="p.icon" class="cc-page-icon" maxlength="16" :placeholder="t('client-config.pageIcon')" data-testid="cc-page-icon" />
      <el-input v-model="p.title" class="cc-page-title" maxlength="32" :placeholder="t('client-config.pageTitle')" data-testid="cc-page-title" />
      <el-input v-model="p.url" class="cc-page-url" :class="{ 'is-bad': badUrls[i] }" maxlength="2048" :placeholder="t('client-config.pageUrl')" data-testid="cc-page-url" />
      <el-select v-model="p.open" class="cc-page-open" :aria-label="t('client-config.pageOpen')" data-testid="cc-page-open">
        <el-option value="tab" :label="t('client-config.open.tab')" />
        <el-option value="window" :label="t('client-config.open.window')" />
      </el-select>
      <el-button-group>
        <el-button size="small" :disabled="i === 0" :title="t('client-config.up')" @click="move(form.pages, i, -1)"><el-icon><icon-arrow-up /></el-icon></el-button>
        <el-button size="small" type="danger" plain :title="t('client-config.remove')" @click="form.pages.splice(i, 1)" data-testid="cc-page-remove"><el-icon><icon-delete /></el-icon></el-button>
      </el-button-group>
      <div v-if="badUrls[i]" class="cc-error">{{ t('client-config.badUrl') }}</div>
    </div>
    <el-button :disabled="form.pages.length >= 10" @click="addPage" data-testid="cc-page-add"><el-icon><icon-plus /></el-icon>{{ t('client-config.add') }}</el-button>
  </section>

  <section class="adm-card" data-testid="cc-places">
    <h3 class="cc-title">{{ t('client-config.sec.places') }}</h3>
    <p class="adm-muted cc-hint">{{ t('client-config.placesHint') }}</p>
    <places-editor :places="form.places" :errors="badPlaces" />
  </section>

  <section class="adm-card" data-testid="cc-groups">
    <h3 class="cc-title">{{ t('client-config.sec.groups') }}</h3>
    <p class="adm-muted cc-hint">{{ t('client-config.groupsHint') }}</p>
    <div class="cc-tags">
      <el-tag v-for="(g, i) in form.default_friend_groups" :key="g" closable @close="form.default_friend_groups.splice(i, 1)" data-testid="cc-group">{{ g }}</el-tag>
    </div>
    <div class="cc-add">
      <el-input v-model="draft.group" maxlength="64" :placeholder="t('client-config.groupPlaceholder')" @keyup.enter="addGroup" data-testid="cc-group-new" />
      <el-button @click="addGroup" data-testid="cc-group-add">{{ t('client-config.add') }}</el-button>
    </div>
  </section>
</div>`,
};

export default {
  name: "client-config",
  perm: "config.write",
  icon: "Setting",
  order: 70,
  title: "menu.client-config",
  component: ClientConfigPage,
  messages,
};
