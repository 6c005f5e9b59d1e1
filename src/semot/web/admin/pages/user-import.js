// Bulk user import (批量导入): download a template, pick or drop a CSV / XLSX file, see
// what it would do (the server's dry run: the first rows as read, every error with its
// line), import it as a background job with a progress bar, then the result and its
// report (CSV, with the one-time set-password links when asked for). The file is sent
// as it is; the server reads it (encodings, XLSX) and checks every row. Everything from
// the file is shown as text: Vue escapes it, nothing is rendered as HTML.
import { onUnmounted, reactive } from "vue";
import { api } from "../api.js";
import { t } from "../i18n.js";

const STYLES = "/admin/pages/user-import/user-import.css";
if (!document.querySelector(`link[href="${STYLES}"]`)) {
  document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href: STYLES }));
}

const PREVIEW_ROWS = 200;
const POLL_MS = 500;
const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/** The content type to send: the browser's guess is unreliable for CSV (Windows says
 * "application/vnd.ms-excel"), so the name decides; the server also sniffs the bytes. */
export function contentType(file) {
  const name = (file && file.name || "").toLowerCase();
  if (name.endsWith(".xlsx")) return XLSX;
  if (name.endsWith(".csv") || name.endsWith(".txt")) return "text/csv";
  return (file && file.type) || "application/octet-stream";
}

const UserImportPage = {
  name: "UserImportPage",
  setup() {
    const st = reactive({
      step: "pick", // pick -> preview -> running -> done
      file: null,
      links: false,
      busy: false,
      preview: null, // the dry run's reply
      job: null, // the job as last polled
      failed: "", // a file the server could not read at all
    });
    let timer = null;

    function stopPolling() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    }
    onUnmounted(stopPolling);

    function reset() {
      stopPolling();
      Object.assign(st, { step: "pick", file: null, busy: false, preview: null, job: null, failed: "" });
    }

    async function pick(uploadFile) {
      const file = uploadFile && (uploadFile.raw || uploadFile);
      if (!file) return;
      st.file = file;
      st.failed = "";
      st.busy = true;
      try {
        st.preview = await api.upload("/users/import", file, contentType(file), {
          query: { dry_run: "true", preview: PREVIEW_ROWS }, quiet: true,
        });
        st.step = "preview";
      } catch (error) {
        st.failed = error.serverMessage || error.code || String(error);
        st.step = "pick";
      } finally {
        st.busy = false;
      }
    }

    async function poll() {
      timer = null;
      try {
        st.job = await api.get(`/users/import-jobs/${st.job.job_id}`, null, { quiet: true });
      } catch {
        /* a blip: try again */
      }
      if (st.job.finished) {
        st.step = "done";
      } else {
        timer = setTimeout(poll, POLL_MS);
      }
    }

    async function start() {
      st.busy = true;
      try {
        st.job = await api.upload("/users/import-jobs", st.file, contentType(st.file), {
          query: { links: st.links ? "true" : undefined },
        });
        st.step = "running";
        timer = setTimeout(poll, POLL_MS);
      } catch {
        /* the API module showed it */
      } finally {
        st.busy = false;
      }
    }

    const percent = () => {
      const j = st.job;
      if (!j || !j.total) return 0;
      return Math.min(100, Math.round((j.done / j.total) * 100));
    };
    const template = (fmt) => api.download(`/users/import-template.${fmt}`, null, `users-template.${fmt}`);
    const report = () => api.download(`/users/import-jobs/${st.job.job_id}/report.csv`, null, "import-report.csv");
    const actionType = (a) => ({ create: "success", update: "warning", unchanged: "info", error: "danger" })[a] || "info";
    const yesNo = (v) => (v === true ? t("user-import.yes") : v === false ? t("user-import.no") : "—");
    const canImport = () => st.preview && st.preview.created + st.preview.updated > 0;
    return { t, st, pick, start, reset, percent, template, report, actionType, yesNo, canImport, PREVIEW_ROWS };
  },
  template: `
<div class="adm-page" data-testid="user-import-page">
  <div class="adm-card">
    <div class="adm-toolbar">
      <el-steps :active="['pick','preview','running','done'].indexOf(st.step)" finish-status="success" simple style="flex:1">
        <el-step :title="t('user-import.step.pick')" />
        <el-step :title="t('user-import.step.preview')" />
        <el-step :title="t('user-import.step.import')" />
        <el-step :title="t('user-import.step.result')" />
      </el-steps>
    </div>

    <template v-if="st.step === 'pick'">
      <div class="adm-toolbar">
        <span>{{ t('user-import.templates') }}</span>
        <el-button data-testid="ui-template-csv" @click="template('csv')"><el-icon><icon-download/></el-icon>CSV</el-button>
        <el-button data-testid="ui-template-xlsx" @click="template('xlsx')"><el-icon><icon-download/></el-icon>Excel (XLSX)</el-button>
      </div>
      <p class="adm-muted">{{ t('user-import.help') }}</p>
      <el-upload drag :auto-upload="false" :show-file-list="false" accept=".csv,.xlsx,.txt,text/csv"
        :on-change="pick" data-testid="ui-file" v-loading="st.busy">
        <el-icon class="el-icon--upload"><icon-upload-filled/></el-icon>
        <div class="el-upload__text">{{ t('user-import.drop') }}</div>
        <template #tip><div class="el-upload__tip">{{ t('user-import.limits') }}</div></template>
      </el-upload>
      <el-alert v-if="st.failed" type="error" :closable="false" show-icon data-testid="ui-failed"
        :title="t('user-import.unreadable')" :description="st.failed" />
    </template>

    <template v-if="st.step === 'preview' && st.preview">
      <div class="adm-toolbar" data-testid="ui-summary">
        <strong>{{ st.file && st.file.name }}</strong>
        <el-tag>{{ t('user-import.rows', { n: st.preview.total }) }}</el-tag>
        <el-tag type="success" data-testid="ui-to-create">{{ t('user-import.toCreate', { n: st.preview.created }) }}</el-tag>
        <el-tag type="warning" data-testid="ui-to-update">{{ t('user-import.toUpdate', { n: st.preview.updated }) }}</el-tag>
        <el-tag type="info">{{ t('user-import.unchanged', { n: st.preview.unchanged }) }}</el-tag>
        <el-tag type="danger" data-testid="ui-error-count">{{ t('user-import.errorCount', { n: st.preview.error_count }) }}</el-tag>
        <span class="adm-spacer"></span>
        <el-checkbox v-model="st.links" data-testid="ui-links">{{ t('user-import.links') }}</el-checkbox>
        <el-button data-testid="ui-restart" @click="reset">{{ t('user-import.another') }}</el-button>
        <el-button type="primary" data-testid="ui-import" :disabled="!canImport()" :loading="st.busy" @click="start">
          <el-icon><icon-upload/></el-icon>{{ t('user-import.import') }}
        </el-button>
      </div>
      <p v-if="st.preview.total > PREVIEW_ROWS" class="adm-muted">{{ t('user-import.previewFirst', { n: PREVIEW_ROWS }) }}</p>
      <el-table :data="st.preview.preview || []" data-testid="ui-preview-table" max-height="480" :empty-text="t('user-import.empty')"
        :row-class-name="({ row }) => row.error ? 'ui-row-error' : ''">
        <el-table-column :label="t('user-import.line')" prop="line" width="70" />
        <el-table-column :label="t('user-import.username')" prop="username" min-width="130" />
        <el-table-column :label="t('user-import.displayName')" prop="display_name" min-width="120" />
        <el-table-column :label="t('user-import.department')" prop="department" min-width="150" />
        <el-table-column :label="t('user-import.title')" prop="title" min-width="100" />
        <el-table-column :label="t('user-import.password')" width="90">
          <template #default="{ row }">{{ row.error ? '' : yesNo(row.has_password) }}</template>
        </el-table-column>
        <el-table-column :label="t('user-import.action')" min-width="220">
          <template #default="{ row }">
            <el-tag :type="actionType(row.action)" size="small" data-testid="ui-action">{{ t('user-import.act.' + row.action) }}</el-tag>
            <div v-if="row.error" class="ui-error" data-testid="ui-row-error">{{ row.error }}</div>
          </template>
        </el-table-column>
      </el-table>
      <template v-if="st.preview.errors.length">
        <h4>{{ t('user-import.allErrors') }}</h4>
        <el-table :data="st.preview.errors" data-testid="ui-errors" max-height="300">
          <el-table-column :label="t('user-import.line')" prop="line" width="70" />
          <el-table-column :label="t('user-import.message')" prop="message" />
        </el-table>
      </template>
    </template>

    <template v-if="(st.step === 'running' || st.step === 'done') && st.job">
      <el-progress :percentage="percent()" :status="st.step === 'done' ? (st.job.status === 'done' ? 'success' : 'exception') : ''"
        :stroke-width="18" text-inside data-testid="ui-progress" />
      <div class="adm-toolbar" data-testid="ui-result">
        <el-tag type="success">{{ t('user-import.created', { n: st.job.created }) }}</el-tag>
        <el-tag type="warning">{{ t('user-import.updated', { n: st.job.updated }) }}</el-tag>
        <el-tag type="info">{{ t('user-import.unchanged', { n: st.job.unchanged }) }}</el-tag>
        <el-tag type="danger">{{ t('user-import.errorCount', { n: st.job.error_count }) }}</el-tag>
        <span class="adm-muted">{{ st.job.done }} / {{ st.job.total }}</span>
        <span class="adm-spacer"></span>
        <template v-if="st.step === 'done'">
          <el-button data-testid="ui-report" @click="report"><el-icon><icon-download/></el-icon>{{ t('user-import.report') }}</el-button>
          <el-button type="primary" data-testid="ui-again" @click="reset">{{ t('user-import.another') }}</el-button>
        </template>
      </div>
      <el-alert v-if="st.step === 'done' && st.job.status === 'failed'" type="error" :closable="false" show-icon
        data-testid="ui-job-failed" :title="t('user-import.jobFailed')" :description="st.job.failure || ''" />
      <el-alert v-if="st.step === 'done' && st.job.links.length" type="info" :closable="false" show-icon data-testid="ui-links-note"
        :title="t('user-import.linksMade', { n: st.job.links.length })" />
      <el-table v-if="st.step === 'done' && st.job.errors.length" :data="st.job.errors" data-testid="ui-result-errors" max-height="360">
        <el-table-column :label="t('user-import.line')" prop="line" width="70" />
        <el-table-column :label="t('user-import.message')" prop="message" />
      </el-table>
    </template>
  </div>
</div>`,
};

const zh = {
  "user-import.step.pick": "选择文件",
  "user-import.step.preview": "预览检查",
  "user-import.step.import": "导入",
  "user-import.step.result": "结果",
  "user-import.templates": "下载模板：",
  "user-import.help": "第一行为表头：username（用户名，必填）、password（密码，留空则用户通过单点登录或一次性设置密码链接登录）、display_name（姓名），可选 department（部门路径，如 总部/研发部）、title（职务）、is_admin、disabled（是/否）。已存在的用户名会被更新。",
  "user-import.drop": "将 CSV 或 Excel（.xlsx）文件拖到此处，或点击选择",
  "user-import.limits": "CSV 支持 UTF-8（含 BOM）与 Excel 另存的 GBK 编码；最多 100,000 行、32 MiB。",
  "user-import.unreadable": "无法读取该文件",
  "user-import.rows": "共 {n} 行",
  "user-import.toCreate": "将新建 {n}",
  "user-import.toUpdate": "将更新 {n}",
  "user-import.unchanged": "无变化 {n}",
  "user-import.errorCount": "错误 {n}",
  "user-import.links": "为无密码的新用户生成一次性设置密码链接",
  "user-import.another": "重新选择文件",
  "user-import.import": "开始导入",
  "user-import.previewFirst": "仅预览前 {n} 行；下方列出全部错误。",
  "user-import.empty": "文件中没有数据行",
  "user-import.line": "行号",
  "user-import.username": "用户名",
  "user-import.displayName": "姓名",
  "user-import.department": "部门",
  "user-import.title": "职务",
  "user-import.password": "密码",
  "user-import.action": "操作",
  "user-import.message": "错误信息",
  "user-import.act.create": "新建",
  "user-import.act.update": "更新",
  "user-import.act.unchanged": "无变化",
  "user-import.act.error": "错误",
  "user-import.allErrors": "全部错误",
  "user-import.yes": "有",
  "user-import.no": "无",
  "user-import.created": "已新建 {n}",
  "user-import.updated": "已更新 {n}",
  "user-import.report": "下载导入报告（CSV）",
  "user-import.jobFailed": "导入中断",
  "user-import.linksMade": "已生成 {n} 个一次性设置密码链接，见导入报告（请妥善保管，每个链接只能使用一次）。",
};

const en = {
  "user-import.step.pick": "Choose a file",
  "user-import.step.preview": "Check",
  "user-import.step.import": "Import",
  "user-import.step.result": "Result",
  "user-import.templates": "Templates:",
  "user-import.help": "The first line is the header: username (required), password (empty: the user signs in through SSO or a one-time set-password link), display_name; optional department (a path like HQ/R&D), title, is_admin, disabled (true/false). Existing usernames are updated.",
  "user-import.drop": "Drop a CSV or Excel (.xlsx) file here, or click to choose one",
  "user-import.limits": "CSV in UTF-8 (with or without BOM) or GBK as Excel saves it; at most 100,000 rows, 32 MiB.",
  "user-import.unreadable": "This file cannot be read",
  "user-import.rows": "{n} rows",
  "user-import.toCreate": "{n} to create",
  "user-import.toUpdate": "{n} to update",
  "user-import.unchanged": "{n} unchanged",
  "user-import.errorCount": "{n} errors",
  "user-import.errorCount#one": "{n} error",
  "user-import.links": "Make one-time set-password links for new users without a password",
  "user-import.another": "Choose another file",
  "user-import.import": "Import",
  "user-import.previewFirst": "Only the first {n} rows are shown; every error is listed below.",
  "user-import.empty": "The file has no data rows",
  "user-import.line": "Line",
  "user-import.username": "Username",
  "user-import.displayName": "Display name",
  "user-import.department": "Department",
  "user-import.title": "Title",
  "user-import.password": "Password",
  "user-import.action": "Action",
  "user-import.message": "Error",
  "user-import.act.create": "Create",
  "user-import.act.update": "Update",
  "user-import.act.unchanged": "Unchanged",
  "user-import.act.error": "Error",
  "user-import.allErrors": "All errors",
  "user-import.yes": "Yes",
  "user-import.no": "No",
  "user-import.created": "{n} created",
  "user-import.updated": "{n} updated",
  "user-import.report": "Download the report (CSV)",
  "user-import.jobFailed": "The import stopped",
  "user-import.linksMade": "{n} one-time set-password links were made: they are in the report (keep it safe; each link works once).",
};

export default {
  name: "user-import",
  perm: "users.import",
  icon: "Upload",
  order: 25,
  title: "menu.user-import",
  component: UserImportPage,
  messages: { "zh-CN": zh, en },
};
