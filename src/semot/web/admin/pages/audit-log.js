// The admin audit log (操作日志): every change an administrator made, newest first, with
// filters (who, what, on what, when) kept in the address so a filtered view can be
// shared, paging, and a before/after comparison of each entry. Values are shown as text
// (Vue escapes them); nothing from an entry is ever rendered as HTML.
import { computed, onMounted, reactive } from "vue";
import { api } from "../api.js";
import { i18n, t } from "../i18n.js";
import { route, setQuery } from "../router.js";
import { can } from "../session.js";
import { formatTime, quietly } from "./admins/common.js";
import { ACTIONS, messages } from "./admins/audit-messages.js";

const STYLES = "/admin/pages/admins/admins.css";
if (!document.querySelector(`link[href="${STYLES}"]`)) {
  document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href: STYLES }));
}
const SIZES = [20, 50, 100, 200];

function show(value) {
  if (value === undefined) return "—";
  if (value === null) return "null";
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 2);
}

/** Rows of a before/after comparison: one per top-level key of either side (or one row
 * for values that are not objects), marked when the two differ. */
export function diffRows(before, after) {
  const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  if ((before === null || before === undefined) && (after === null || after === undefined)) return [];
  if (!isObj(before ?? {}) || !isObj(after ?? {})) {
    return [{ key: "", before: show(before ?? undefined), after: show(after ?? undefined), changed: show(before) !== show(after) }];
  }
  const b = before || {};
  const a = after || {};
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  return keys.map((key) => {
    const x = key in b ? show(b[key]) : "—";
    const y = key in a ? show(a[key]) : "—";
    return { key, before: before === null || before === undefined ? "—" : x, after: after === null || after === undefined ? "—" : y, changed: x !== y };
  });
}

const AuditLogPage = {
  name: "AuditLogPage",
  setup() {
    const q = route.query;
    const filters = reactive({
      admin: q.admin || "", action: q.action || "", target: q.target || "",
      range: q.from && q.to ? [Number(q.from), Number(q.to)] : null,
    });
    const list = reactive({
      rows: [], total: 0, loading: false,
      page: Math.max(1, Number(q.page) || 1), size: SIZES.includes(Number(q.size)) ? Number(q.size) : 50,
    });
    const detail = reactive({ open: false, entry: null });
    const admins = reactive({ options: [] });

    const actionLabel = (code) => {
      const known = ACTIONS[code];
      return known ? known[i18n.locale] || known.en : code;
    };
    const actionOptions = computed(() => Object.keys(ACTIONS).map((code) => ({ value: code, label: actionLabel(code) })));

    async function load() {
      list.loading = true;
      const query = {
        admin: filters.admin || undefined, action: filters.action || undefined, target: filters.target.trim() || undefined,
        from: filters.range ? filters.range[0] : undefined, to: filters.range ? filters.range[1] : undefined,
      };
      setQuery({ ...query, page: list.page > 1 ? list.page : undefined, size: list.size !== 50 ? list.size : undefined });
      try {
        const page = await quietly(() => api.get("/audit-log", { ...query, offset: (list.page - 1) * list.size, limit: list.size }));
        if (page) {
          list.rows = page.entries;
          list.total = page.total;
        }
      } finally {
        list.loading = false;
      }
    }

    async function loadAdmins() {
      if (!can("admins.view")) return;
      const page = await api.get("/admins", { limit: 200 }, { quiet: true }).catch(() => null);
      if (page) admins.options = page.admins.map((a) => ({ value: a.user_id, label: a.display_name && a.display_name !== a.username ? `${a.display_name} (${a.username})` : a.username }));
    }

    function search() {
      list.page = 1;
      load();
    }
    function reset() {
      Object.assign(filters, { admin: "", action: "", target: "", range: null });
      search();
    }
    const open = (entry) => Object.assign(detail, { open: true, entry });
    const rows = computed(() => (detail.entry ? diffRows(detail.entry.before, detail.entry.after) : []));
    const pageChange = (p) => {
      list.page = p;
      load();
    };
    const sizeChange = (s) => {
      list.size = s;
      list.page = 1;
      load();
    };
    onMounted(() => {
      load();
      loadAdmins();
    });
    return { t, filters, list, detail, admins, rows, actionOptions, actionLabel, search, reset, open, pageChange, sizeChange, formatTime, SIZES, can };
  },
  template: `
<div class="adm-page" data-testid="audit-log-page">
  <div class="adm-card">
    <div class="adm-toolbar adm-audit-filters">
      <el-select v-if="can('admins.view')" v-model="filters.admin" filterable allow-create clearable default-first-option
        :placeholder="t('audit-log.admin')" data-testid="audit-admin">
        <el-option v-for="o in admins.options" :key="o.value" :value="o.value" :label="o.label" />
      </el-select>
      <el-input v-else v-model="filters.admin" clearable :placeholder="t('audit-log.adminId')" data-testid="audit-admin" />
      <el-select v-model="filters.action" filterable allow-create clearable default-first-option :placeholder="t('audit-log.action')" data-testid="audit-action">
        <el-option v-for="o in actionOptions" :key="o.value" :value="o.value" :label="o.label" />
      </el-select>
      <el-input v-model="filters.target" clearable :placeholder="t('audit-log.target')" data-testid="audit-target" @keyup.enter="search" />
      <el-date-picker v-model="filters.range" type="datetimerange" value-format="x" class="adm-audit-range"
        :start-placeholder="t('audit-log.from')" :end-placeholder="t('audit-log.to')" data-testid="audit-range" />
      <el-button type="primary" data-testid="audit-search" @click="search"><el-icon><icon-search/></el-icon>{{ t('audit-log.search') }}</el-button>
      <el-button data-testid="audit-reset" @click="reset">{{ t('audit-log.reset') }}</el-button>
    </div>
    <el-table :data="list.rows" v-loading="list.loading" row-key="id" data-testid="audit-table" :empty-text="t('audit-log.empty')">
      <el-table-column :label="t('audit-log.time')" width="170">
        <template #default="{ row }">{{ formatTime(row.ts) }}</template>
      </el-table-column>
      <el-table-column :label="t('audit-log.admin')" min-width="140">
        <template #default="{ row }"><span :title="row.admin">{{ row.admin_name || row.admin }}</span></template>
      </el-table-column>
      <el-table-column :label="t('audit-log.action')" min-width="190">
        <template #default="{ row }">
          <div :data-testid="'audit-action-' + row.action">{{ actionLabel(row.action) }}</div>
          <div class="adm-muted adm-audit-action">{{ row.action }}</div>
        </template>
      </el-table-column>
      <el-table-column :label="t('audit-log.target')" min-width="160">
        <template #default="{ row }"><span class="adm-audit-action">{{ row.target }}</span></template>
      </el-table-column>
      <el-table-column :label="t('audit-log.ip')" width="140" prop="ip" />
      <el-table-column :label="t('audit-log.details')" width="110" fixed="right">
        <template #default="{ row }">
          <el-button link type="primary" :data-testid="'audit-open-' + row.id" @click="open(row)">{{ t('audit-log.compare') }}</el-button>
        </template>
      </el-table-column>
    </el-table>
    <div class="adm-pager">
      <el-pagination background layout="total, sizes, prev, pager, next" :total="list.total" :current-page="list.page"
        :page-size="list.size" :page-sizes="SIZES" @current-change="pageChange" @size-change="sizeChange" data-testid="audit-pager" />
    </div>
  </div>
  <el-dialog v-model="detail.open" :title="t('audit-log.diffTitle')" width="760px" data-testid="audit-diff">
    <template v-if="detail.entry">
      <p class="adm-muted">{{ formatTime(detail.entry.ts) }} · {{ detail.entry.admin_name || detail.entry.admin }} · {{ actionLabel(detail.entry.action) }} · {{ detail.entry.target }} · {{ detail.entry.ip }}</p>
      <p v-if="!rows.length" class="adm-muted" data-testid="audit-no-details">{{ t('audit-log.noDetails') }}</p>
      <table v-else class="adm-diff">
        <thead><tr><th>{{ t('audit-log.field') }}</th><th>{{ t('audit-log.before') }}</th><th>{{ t('audit-log.after') }}</th></tr></thead>
        <tbody>
          <tr v-for="r in rows" :key="r.key" :class="{ 'is-changed': r.changed }" :data-testid="'diff-' + (r.key || 'value')">
            <td class="adm-diff-key">{{ r.key || t('audit-log.value') }}</td>
            <td class="adm-diff-before">{{ r.before }}</td>
            <td class="adm-diff-after">{{ r.after }}</td>
          </tr>
        </tbody>
      </table>
    </template>
  </el-dialog>
</div>`,
};

export default {
  name: "audit-log",
  perm: "audit.view",
  icon: "Tickets",
  order: 90,
  title: "menu.audit-log",
  component: AuditLogPage,
  messages,
};
