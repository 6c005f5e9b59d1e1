// Sensitive words (敏感词): two tabs.
// - Words: the list with level and category filters, add one, delete, import a text file
//   (one word per line, or `word,level,category`), with the server's report.
// - Hits: every hit (who, where, when, from which address, the word, its level, what was
//   done, the text), filtered, exported as CSV; new hits appear live (the page polls the
//   server's in-memory feed of every node every few seconds) and warn hits are highlighted:
//   those are the ones an auditor must look at (block and replace were acted on already).
// Everything from the server is shown as text: Vue escapes it, nothing is rendered as HTML.
import { computed, onBeforeUnmount, onMounted, reactive } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api } from "../api.js";
import { i18n, t } from "../i18n.js";
import { can } from "../session.js";
import { route, setQuery } from "../router.js";

const LEVELS = ["warn", "replace", "block"];
const TARGETS = ["message", "edit", "display_name", "group_name", "announcement"];
const SIZES = [20, 50, 100, 200];
const LIVE_MS = 3000;
const LEVEL_TAG = { warn: "warning", replace: "info", block: "danger" };

function pad(n) {
  return String(n).padStart(2, "0");
}
function formatTime(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const WordsTab = {
  name: "SensitiveWordsTab",
  setup() {
    const writable = computed(() => can("sensitive.write"));
    const filters = reactive({ q: "", level: "", category: "" });
    const list = reactive({ rows: [], total: 0, categories: [], loading: false, page: 1, size: 50 });
    const form = reactive({ word: "", level: "replace", category: "", busy: false });
    const imp = reactive({ level: "warn", category: "", busy: false, report: null });

    async function load() {
      list.loading = true;
      try {
        const page = await api.get("/sensitive-words", {
          q: filters.q.trim() || undefined, level: filters.level || undefined, category: filters.category || undefined,
          offset: (list.page - 1) * list.size, limit: list.size,
        });
        Object.assign(list, { rows: page.words, total: page.total, categories: page.categories });
      } catch {
        /* shown */
      } finally {
        list.loading = false;
      }
    }
    function search() {
      list.page = 1;
      load();
    }
    async function add() {
      if (!form.word.trim()) return;
      form.busy = true;
      try {
        await api.post("/sensitive-words", { word: form.word, level: form.level, category: form.category.trim() || undefined });
        ElMessage.success(t("sensitive.added"));
        form.word = "";
        search();
      } catch {
        /* shown */
      } finally {
        form.busy = false;
      }
    }
    async function remove(row) {
      try {
        await ElMessageBox.confirm(t("sensitive.deleteConfirm", { word: row.word }), t("sensitive.delete"), { type: "warning" });
      } catch {
        return;
      }
      try {
        await api.del(`/sensitive-words/${encodeURIComponent(row.word_id)}`);
        ElMessage.success(t("sensitive.deleted"));
        load();
      } catch {
        /* shown */
      }
    }
    async function pick(uploadFile) {
      const file = uploadFile && (uploadFile.raw || uploadFile);
      if (!file) return;
      imp.busy = true;
      imp.report = null;
      try {
        imp.report = await api.upload("/sensitive-words/import", file, "text/plain", {
          query: { level: imp.level, category: imp.category.trim() || undefined },
        });
        search();
      } catch {
        /* shown */
      } finally {
        imp.busy = false;
      }
    }
    const levelLabel = (l) => t(`sensitive.level.${l}`);
    onMounted(load);
    return { t, i18n, writable, filters, list, form, imp, load, search, add, remove, pick, levelLabel, formatTime, LEVELS, LEVEL_TAG, SIZES };
  },
  template: `
<div data-testid="sw-words">
  <div v-if="writable" class="adm-toolbar" data-testid="sw-add">
    <el-input v-model="form.word" :placeholder="t('sensitive.word')" maxlength="64" style="width: 220px" data-testid="sw-new-word" @keyup.enter="add" />
    <el-select v-model="form.level" style="width: 130px" data-testid="sw-new-level">
      <el-option v-for="l in LEVELS" :key="l" :value="l" :label="levelLabel(l)" :data-testid="'sw-new-level-' + l" />
    </el-select>
    <el-input v-model="form.category" :placeholder="t('sensitive.categoryOptional')" maxlength="32" style="width: 160px" data-testid="sw-new-category" />
    <el-button type="primary" :loading="form.busy" data-testid="sw-add-button" @click="add">{{ t('sensitive.add') }}</el-button>
  </div>
  <el-collapse v-if="writable" class="sm-sw-import">
    <el-collapse-item :title="t('sensitive.import')" name="import" data-testid="sw-import">
      <p class="adm-muted">{{ t('sensitive.importHelp') }}</p>
      <div class="adm-toolbar">
        <span>{{ t('sensitive.defaultLevel') }}</span>
        <el-select v-model="imp.level" style="width: 130px" data-testid="sw-import-level">
          <el-option v-for="l in LEVELS" :key="l" :value="l" :label="levelLabel(l)" />
        </el-select>
        <el-input v-model="imp.category" :placeholder="t('sensitive.categoryOptional')" maxlength="32" style="width: 160px" data-testid="sw-import-category" />
      </div>
      <el-upload drag :auto-upload="false" :show-file-list="false" accept=".txt,.csv,text/plain,text/csv"
        :on-change="pick" data-testid="sw-import-file" v-loading="imp.busy">
        <el-icon class="el-icon--upload"><icon-upload-filled/></el-icon>
        <div class="el-upload__text">{{ t('sensitive.drop') }}</div>
      </el-upload>
      <el-alert v-if="imp.report" type="success" :closable="false" show-icon data-testid="sw-import-report"
        :title="t('sensitive.importReport', { added: imp.report.added, duplicates: imp.report.duplicates, errors: imp.report.errors.length })">
        <div v-for="e in imp.report.errors.slice(0, 20)" :key="e.line" class="sm-small" data-testid="sw-import-error">{{ t('sensitive.line', { line: e.line }) }}: {{ e.message }}</div>
      </el-alert>
    </el-collapse-item>
  </el-collapse>
  <div class="adm-toolbar">
    <el-input v-model="filters.q" clearable :placeholder="t('sensitive.search')" style="width: 200px" data-testid="sw-q" @keyup.enter="search" @clear="search" />
    <el-select v-model="filters.level" clearable :placeholder="t('sensitive.levelCol')" style="width: 130px" data-testid="sw-level" @change="search">
      <el-option v-for="l in LEVELS" :key="l" :value="l" :label="levelLabel(l)" :data-testid="'sw-level-' + l" />
    </el-select>
    <el-select v-model="filters.category" clearable :placeholder="t('sensitive.category')" style="width: 160px" data-testid="sw-category" @change="search">
      <el-option v-for="c in list.categories" :key="c" :value="c" :label="c" />
    </el-select>
    <el-button type="primary" data-testid="sw-search" @click="search">{{ t('sensitive.searchButton') }}</el-button>
  </div>
  <el-table :data="list.rows" v-loading="list.loading" row-key="word_id" data-testid="sw-table" :empty-text="t('sensitive.noWords')">
    <el-table-column :label="t('sensitive.word')" min-width="180">
      <template #default="{ row }"><span data-testid="sw-word">{{ row.word }}</span></template>
    </el-table-column>
    <el-table-column :label="t('sensitive.levelCol')" width="120">
      <template #default="{ row }"><el-tag :type="LEVEL_TAG[row.level]" size="small" data-testid="sw-word-level">{{ levelLabel(row.level) }}</el-tag></template>
    </el-table-column>
    <el-table-column :label="t('sensitive.category')" prop="category" min-width="120" />
    <el-table-column :label="t('sensitive.createdBy')" min-width="140">
      <template #default="{ row }"><span>{{ row.created_by || '—' }}</span><div class="adm-muted sm-small">{{ formatTime(row.created_at) }}</div></template>
    </el-table-column>
    <el-table-column v-if="writable" width="100">
      <template #default="{ row }"><el-button link type="danger" data-testid="sw-delete" @click="remove(row)">{{ t('sensitive.delete') }}</el-button></template>
    </el-table-column>
  </el-table>
  <div class="adm-pager">
    <el-pagination background layout="total, sizes, prev, pager, next" :total="list.total" :page-size="list.size"
      :page-sizes="SIZES" :current-page="list.page" data-testid="sw-pager"
      @current-change="(p) => { list.page = p; load(); }" @size-change="(s) => { list.size = s; list.page = 1; load(); }" />
  </div>
</div>`,
};

const HitsTab = {
  name: "SensitiveHitsTab",
  setup() {
    const filters = reactive({ user_id: "", word: "", level: "", target: "", range: null });
    const list = reactive({ rows: [], total: 0, loading: false, page: 1, size: 50, exporting: false });
    const live = reactive({ on: true, rows: [], after: null, unseen: 0 });
    let timer = null;

    function query() {
      return {
        user_id: filters.user_id.trim() || undefined,
        word: filters.word.trim() || undefined,
        level: filters.level || undefined,
        target: filters.target || undefined,
        from: filters.range ? filters.range[0] : undefined,
        to: filters.range ? filters.range[1] : undefined,
      };
    }
    async function load() {
      list.loading = true;
      try {
        const page = await api.get("/sensitive-hits", { ...query(), offset: (list.page - 1) * list.size, limit: list.size });
        Object.assign(list, { rows: page.hits, total: page.total });
        live.unseen = 0;
      } catch {
        /* shown */
      } finally {
        list.loading = false;
      }
    }
    function search() {
      list.page = 1;
      load();
    }
    function reset() {
      Object.assign(filters, { user_id: "", word: "", level: "", target: "", range: null });
      search();
    }
    async function poll() {
      try {
        const got = await api.get("/sensitive-hits/live", { after: live.after ?? undefined }, { quiet: true });
        const known = new Set(live.rows.map((h) => h.uid));
        const fresh = live.after === null ? [] : got.hits.filter((h) => !known.has(h.uid));
        live.after = got.now - 1000; // overlap: a hit stamped just before `now` on another node
        if (fresh.length) {
          live.rows = [...fresh.reverse(), ...live.rows].slice(0, 50);
          live.unseen += fresh.length;
          const warned = fresh.filter((h) => h.level === "warn");
          if (warned.length) ElMessage.warning(t("sensitive.liveWarn", { n: warned.length }));
        }
      } catch {
        /* the next poll tries again */
      }
    }
    function schedule() {
      clearInterval(timer);
      timer = live.on ? setInterval(() => document.visibilityState === "visible" && poll(), LIVE_MS) : null;
    }
    async function exportCsv() {
      list.exporting = true;
      try {
        await api.download("/sensitive-hits.csv", { ...query(), tz: -new Date().getTimezoneOffset() }, "sensitive-hits.csv");
      } catch {
        /* shown */
      } finally {
        list.exporting = false;
      }
    }
    function only(userId) {
      filters.user_id = userId;
      search();
    }
    const levelLabel = (l) => t(`sensitive.level.${l}`);
    const targetLabel = (x) => (TARGETS.includes(x) ? t(`sensitive.target.${x}`) : x);
    const actionLabel = (a) => t(`sensitive.action.${a}`);
    const rowClass = ({ row }) => (row.level === "warn" ? "sm-sw-warn" : "");
    onMounted(() => {
      load();
      poll();
      schedule();
    });
    onBeforeUnmount(() => clearInterval(timer));
    return { t, i18n, filters, list, live, load, search, reset, exportCsv, only, schedule, levelLabel, targetLabel, actionLabel, rowClass, formatTime, LEVELS, TARGETS, LEVEL_TAG, SIZES };
  },
  template: `
<div data-testid="sw-hits">
  <div class="adm-toolbar">
    <el-input v-model="filters.user_id" clearable :placeholder="t('sensitive.userId')" style="width: 170px" data-testid="sh-user" @keyup.enter="search" />
    <el-input v-model="filters.word" clearable :placeholder="t('sensitive.word')" style="width: 150px" data-testid="sh-word" @keyup.enter="search" />
    <el-select v-model="filters.level" clearable :placeholder="t('sensitive.levelCol')" style="width: 120px" data-testid="sh-level" @change="search">
      <el-option v-for="l in LEVELS" :key="l" :value="l" :label="levelLabel(l)" :data-testid="'sh-level-' + l" />
    </el-select>
    <el-select v-model="filters.target" clearable :placeholder="t('sensitive.targetCol')" style="width: 140px" data-testid="sh-target" @change="search">
      <el-option v-for="x in TARGETS" :key="x" :value="x" :label="targetLabel(x)" />
    </el-select>
    <el-date-picker v-model="filters.range" type="datetimerange" value-format="x" style="width: 340px"
      :start-placeholder="t('sensitive.from')" :end-placeholder="t('sensitive.to')" data-testid="sh-range" @change="search" />
    <el-button type="primary" data-testid="sh-search" @click="search">{{ t('sensitive.searchButton') }}</el-button>
    <el-button data-testid="sh-reset" @click="reset">{{ t('sensitive.reset') }}</el-button>
    <span class="adm-spacer"></span>
    <el-button data-testid="sh-export" :loading="list.exporting" @click="exportCsv">{{ t('sensitive.export') }}</el-button>
  </div>
  <div class="adm-card sm-sw-live" data-testid="sh-live">
    <div class="adm-toolbar">
      <strong>{{ t('sensitive.live') }}</strong>
      <el-switch v-model="live.on" data-testid="sh-live-switch" @change="schedule" />
      <el-badge v-if="live.unseen" :value="live.unseen" data-testid="sh-live-unseen">
        <el-button size="small" data-testid="sh-refresh" @click="load">{{ t('sensitive.refresh') }}</el-button>
      </el-badge>
      <span class="adm-muted sm-small">{{ t('sensitive.liveHelp') }}</span>
    </div>
    <div v-if="!live.rows.length" class="adm-muted sm-small" data-testid="sh-live-empty">{{ t('sensitive.liveEmpty') }}</div>
    <div v-for="h in live.rows" :key="h.uid" class="sm-sw-live-row" :class="{ 'sm-sw-warn': h.level === 'warn' }"
      data-testid="sh-live-row" :data-level="h.level">
      <span class="sm-nowrap">{{ formatTime(h.ts) }}</span>
      <el-tag :type="LEVEL_TAG[h.level]" size="small">{{ levelLabel(h.level) }}</el-tag>
      <strong>{{ h.word }}</strong>
      <span>{{ h.user_id }}</span>
      <span class="adm-muted">{{ targetLabel(h.target) }} · {{ h.ip || '—' }}</span>
      <span class="adm-muted sm-sw-excerpt">{{ h.excerpt }}</span>
    </div>
  </div>
  <el-table :data="list.rows" v-loading="list.loading" row-key="id" :row-class-name="rowClass" data-testid="sh-table" :empty-text="t('sensitive.noHits')">
    <el-table-column :label="t('sensitive.time')" width="170">
      <template #default="{ row }"><span class="sm-nowrap">{{ formatTime(row.ts) }}</span></template>
    </el-table-column>
    <el-table-column :label="t('sensitive.user')" min-width="140">
      <template #default="{ row }"><el-link type="primary" :underline="false" data-testid="sh-user-link" @click="only(row.user_id)">{{ row.user_id }}</el-link></template>
    </el-table-column>
    <el-table-column :label="t('sensitive.word')" min-width="120">
      <template #default="{ row }"><strong data-testid="sh-word-cell">{{ row.word }}</strong><div class="adm-muted sm-small">{{ row.category }}</div></template>
    </el-table-column>
    <el-table-column :label="t('sensitive.levelCol')" width="150">
      <template #default="{ row }">
        <el-tag :type="LEVEL_TAG[row.level]" size="small" data-testid="sh-level-cell">{{ levelLabel(row.level) }}</el-tag>
        <div class="adm-muted sm-small">{{ actionLabel(row.action) }}</div>
      </template>
    </el-table-column>
    <el-table-column :label="t('sensitive.targetCol')" min-width="150">
      <template #default="{ row }">{{ targetLabel(row.target) }}<div class="adm-muted sm-small">{{ row.conv || '' }}</div></template>
    </el-table-column>
    <el-table-column :label="t('sensitive.ip')" min-width="120">
      <template #default="{ row }"><span data-testid="sh-ip-cell">{{ row.ip || '—' }}</span></template>
    </el-table-column>
    <el-table-column :label="t('sensitive.excerpt')" min-width="240" show-overflow-tooltip>
      <template #default="{ row }"><span data-testid="sh-excerpt">{{ row.excerpt }}</span></template>
    </el-table-column>
  </el-table>
  <div class="adm-pager">
    <el-pagination background layout="total, sizes, prev, pager, next" :total="list.total" :page-size="list.size"
      :page-sizes="SIZES" :current-page="list.page" data-testid="sh-pager"
      @current-change="(p) => { list.page = p; load(); }" @size-change="(s) => { list.size = s; list.page = 1; load(); }" />
  </div>
</div>`,
};

const SensitiveWordsPage = {
  name: "SensitiveWordsPage",
  components: { WordsTab, HitsTab },
  setup() {
    const st = reactive({ tab: route.query.tab === "hits" ? "hits" : "words" });
    function tabChange(name) {
      setQuery({ tab: name === "hits" ? "hits" : undefined });
    }
    return { t, st, tabChange };
  },
  template: `
<div class="adm-page" data-testid="sensitive-words-page">
  <div class="adm-card">
    <el-tabs v-model="st.tab" @tab-change="tabChange">
      <el-tab-pane :label="t('sensitive.tabWords')" name="words" data-testid="sw-tab-words"><words-tab v-if="st.tab === 'words'" /></el-tab-pane>
      <el-tab-pane :label="t('sensitive.tabHits')" name="hits" data-testid="sw-tab-hits"><hits-tab v-if="st.tab === 'hits'" /></el-tab-pane>
    </el-tabs>
  </div>
</div>`,
};

const STYLE_ID = "sm-sensitive-words-style";
if (!document.getElementById(STYLE_ID)) {
  const style = document.createElement("style");
  style.id = STYLE_ID;
  style.textContent = `
.sm-sw-import { margin-bottom: 12px; }
.sm-sw-live { margin: 8px 0 12px; max-height: 220px; overflow: auto; }
.sm-sw-live-row { display: flex; gap: 10px; align-items: center; padding: 3px 6px; border-radius: 4px; }
.sm-sw-excerpt { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 420px; }
.sm-sw-warn, .el-table .sm-sw-warn > td.el-table__cell { background: var(--el-color-warning-light-9); }
.sm-small { font-size: 12px; }
.sm-nowrap { white-space: nowrap; }`;
  document.head.append(style);
}

const zh = {
  "sensitive.tabWords": "敏感词库",
  "sensitive.tabHits": "命中记录",
  "sensitive.word": "敏感词",
  "sensitive.levelCol": "级别",
  "sensitive.category": "分类",
  "sensitive.categoryOptional": "分类（可选）",
  "sensitive.createdBy": "添加人",
  "sensitive.add": "添加",
  "sensitive.added": "已添加",
  "sensitive.delete": "删除",
  "sensitive.deleted": "已删除",
  "sensitive.deleteConfirm": "删除敏感词“{word}”？",
  "sensitive.import": "从文本文件导入",
  "sensitive.importHelp": "每行一个词，或“词,级别,分类”（级别：warn 警示、replace 替换、block 拦截）；空行和 # 开头的行会跳过。支持 UTF-8 和 GB18030 编码。",
  "sensitive.defaultLevel": "未注明级别的词",
  "sensitive.drop": "将文件拖到此处，或点击选择",
  "sensitive.importReport": "新增 {added} 个，重复 {duplicates} 个，错误 {errors} 行",
  "sensitive.line": "第 {line} 行",
  "sensitive.search": "搜索敏感词",
  "sensitive.searchButton": "查询",
  "sensitive.reset": "重置",
  "sensitive.noWords": "暂无敏感词",
  "sensitive.level.warn": "警示",
  "sensitive.level.replace": "替换",
  "sensitive.level.block": "拦截",
  "sensitive.userId": "用户 ID",
  "sensitive.targetCol": "位置",
  "sensitive.target.message": "消息",
  "sensitive.target.edit": "消息编辑",
  "sensitive.target.display_name": "昵称",
  "sensitive.target.group_name": "群名称",
  "sensitive.target.announcement": "群公告",
  "sensitive.action.blocked": "已拦截",
  "sensitive.action.replaced": "已替换",
  "sensitive.action.warned": "已放行（警示）",
  "sensitive.from": "开始时间",
  "sensitive.to": "结束时间",
  "sensitive.export": "导出 CSV",
  "sensitive.live": "实时命中",
  "sensitive.liveHelp": "新的命中会出现在这里，警示级别以黄色标出，需要人工关注",
  "sensitive.liveEmpty": "打开本页以来没有新的命中",
  "sensitive.liveWarn": "{n} 条新的警示级命中",
  "sensitive.refresh": "刷新列表",
  "sensitive.time": "时间",
  "sensitive.user": "用户",
  "sensitive.ip": "IP 地址",
  "sensitive.excerpt": "原文",
  "sensitive.noHits": "没有符合条件的命中记录",
};

const en = {
  "sensitive.tabWords": "Word list",
  "sensitive.tabHits": "Hits",
  "sensitive.word": "Word",
  "sensitive.levelCol": "Level",
  "sensitive.category": "Category",
  "sensitive.categoryOptional": "Category (optional)",
  "sensitive.createdBy": "Added by",
  "sensitive.add": "Add",
  "sensitive.added": "Added",
  "sensitive.delete": "Delete",
  "sensitive.deleted": "Deleted",
  "sensitive.deleteConfirm": "Delete the word “{word}”?",
  "sensitive.import": "Import a text file",
  "sensitive.importHelp": "One word per line, or “word,level,category” (level: warn, replace or block); blank lines and lines starting with # are skipped. UTF-8 or GB18030.",
  "sensitive.defaultLevel": "Level of lines that name none",
  "sensitive.drop": "Drop a file here, or click to choose one",
  "sensitive.importReport": "{added} added, {duplicates} duplicates, {errors} lines with errors",
  "sensitive.line": "Line {line}",
  "sensitive.search": "Search words",
  "sensitive.searchButton": "Search",
  "sensitive.reset": "Reset",
  "sensitive.noWords": "No sensitive words",
  "sensitive.level.warn": "Warn",
  "sensitive.level.replace": "Replace",
  "sensitive.level.block": "Block",
  "sensitive.userId": "User ID",
  "sensitive.targetCol": "Where",
  "sensitive.target.message": "Message",
  "sensitive.target.edit": "Message edit",
  "sensitive.target.display_name": "Display name",
  "sensitive.target.group_name": "Group name",
  "sensitive.target.announcement": "Announcement",
  "sensitive.action.blocked": "Blocked",
  "sensitive.action.replaced": "Replaced",
  "sensitive.action.warned": "Delivered (warned)",
  "sensitive.from": "From",
  "sensitive.to": "To",
  "sensitive.export": "Export CSV",
  "sensitive.live": "Live hits",
  "sensitive.liveHelp": "New hits appear here; warn hits are highlighted in yellow: they need a person to look",
  "sensitive.liveEmpty": "No new hits since this page was opened",
  "sensitive.liveWarn": "{n} new warn hit(s)",
  "sensitive.refresh": "Reload list",
  "sensitive.time": "Time",
  "sensitive.user": "User",
  "sensitive.ip": "IP address",
  "sensitive.excerpt": "Text",
  "sensitive.noHits": "No hits match",
};

export default {
  name: "sensitive-words",
  perm: "sensitive.view",
  icon: "Warning",
  component: SensitiveWordsPage,
  messages: { "zh-CN": zh, en },
};
