// Import the organisation from a CSV or JSON file (POST /directory/import, as `semot
// import-org`): the file is read in the browser, its first lines previewed, then sent
// as text; the reply says what was created and which rows were skipped and why.
import { computed, reactive } from "vue";
import { ElMessage } from "element-plus";
import { api } from "../../api.js";
import { t } from "../../i18n.js";
import { quietly } from "../groups/ui.js";

const PREVIEW = 8;
const MAX_CHARS = 1_000_000;

export default {
  name: "OrgImport",
  props: { modelValue: { type: Boolean, default: false } },
  emits: ["update:modelValue", "imported"],
  setup(props, { emit }) {
    const state = reactive({ name: "", text: "", format: "csv", busy: false, result: null, error: "" });
    const lines = computed(() => state.text.split(/\r?\n/).filter((l) => l.trim()));

    async function pick(file) {
      state.result = null;
      state.error = "";
      const raw = file.raw || file;
      const text = await raw.text();
      if (text.length > MAX_CHARS) {
        state.error = t("error.too_large");
        return;
      }
      state.name = raw.name;
      state.text = text;
      state.format = /\.json$/i.test(raw.name) ? "json" : "csv";
    }

    async function run() {
      state.busy = true;
      try {
        state.result = await api.post("/directory/import", { format: state.format, text: state.text });
        ElMessage.success(t("org.importDone"));
        emit("imported");
      } finally {
        state.busy = false;
      }
    }

    function close() {
      Object.assign(state, { name: "", text: "", result: null, error: "" });
      emit("update:modelValue", false);
    }

    return { t, state, lines, PREVIEW, pick: (f) => quietly(() => pick(f)), run: () => quietly(run), close };
  },
  template: `
    <el-dialog :model-value="modelValue" :title="t('org.importTitle')" width="min(720px, 95vw)" append-to-body data-testid="org-import-dialog" @close="close">
      <p class="org-help">{{ t('org.importHelp') }}</p>
      <el-upload :auto-upload="false" :show-file-list="false" accept=".csv,.json,text/csv,application/json" :on-change="pick" data-testid="org-import-upload">
        <el-button><icon-upload-filled class="org-icon" />{{ t('org.importPick') }}</el-button>
      </el-upload>
      <el-alert v-if="state.error" type="error" :closable="false" :title="state.error" class="org-gap" />
      <template v-if="state.text">
        <div class="org-gap adm-muted" data-testid="org-import-file">{{ t('org.importFile', { name: state.name, n: lines.length }) }}</div>
        <div class="org-gap">{{ t('org.importPreview', { n: Math.min(PREVIEW, lines.length) }) }}</div>
        <pre class="org-preview" data-testid="org-import-preview">{{ lines.slice(0, PREVIEW).join('\\n') }}</pre>
      </template>
      <template v-if="state.result">
        <el-alert type="success" :closable="false" show-icon class="org-gap" data-testid="org-import-result"
          :title="t('org.importResult', { rows: state.result.rows, depts: state.result.departments_created, added: state.result.members_added, updated: state.result.members_updated, skipped: state.result.skipped.length })" />
        <div v-if="state.result.skipped.length" class="org-gap">
          <div>{{ t('org.importSkipped') }}</div>
          <ul class="org-skipped" data-testid="org-import-skipped"><li v-for="(s, i) in state.result.skipped" :key="i">{{ s }}</li></ul>
        </div>
      </template>
      <template #footer>
        <el-button @click="close">{{ t('org.close') }}</el-button>
        <el-button type="primary" :disabled="!state.text || !!state.result" :loading="state.busy" data-testid="org-import-run" @click="run">{{ t('org.importRun') }}</el-button>
      </template>
    </el-dialog>`,
};
