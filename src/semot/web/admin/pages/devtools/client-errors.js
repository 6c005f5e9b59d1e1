// The client errors tab: uncaught errors the web client and the console reported
// (GET /client-errors), newest first, filtered by app, user, text and time, with the
// stack trace of one in a drawer. Reports are untrusted text: interpolation only.
import { reactive } from "vue";
import { api } from "../../api.js";
import { i18n, t } from "../../i18n.js";

export default {
  name: "ClientErrorsTab",
  setup() {
    const state = reactive({
      app: "",
      userId: "",
      q: "",
      range: null,
      rows: [],
      total: 0,
      page: 1,
      size: 20,
      loading: false,
      open: null, // the report shown in the drawer
    });

    async function load() {
      state.loading = true;
      try {
        const [from, to] = state.range || [];
        const reply = await api.get("/client-errors", {
          app: state.app, user_id: state.userId.trim(), q: state.q.trim(),
          from: from ? new Date(from).getTime() : undefined, to: to ? new Date(to).getTime() : undefined,
          offset: (state.page - 1) * state.size, limit: state.size,
        });
        state.rows = reply.errors;
        state.total = reply.total;
      } catch {
        /* shown by api.js */
      } finally {
        state.loading = false;
      }
    }

    function search() {
      state.page = 1;
      load();
    }

    function when(ts) {
      return new Date(ts).toLocaleString(i18n.locale);
    }

    load();
    return { state, t, load, search, when };
  },
  template: `
  <div class="cerr" data-testid="cerr">
    <div class="adm-toolbar">
      <el-select v-model="state.app" clearable :placeholder="t('devtools.cerr.app')" style="width: 140px" @change="search" data-testid="cerr-app">
        <el-option value="web" :label="t('devtools.cerr.appWeb')" />
        <el-option value="admin" :label="t('devtools.cerr.appAdmin')" />
      </el-select>
      <el-input v-model="state.userId" clearable :placeholder="t('devtools.cerr.user')" style="width: 180px" @keyup.enter="search" @clear="search" data-testid="cerr-user" />
      <el-input v-model="state.q" clearable :placeholder="t('devtools.cerr.search')" style="width: 240px" @keyup.enter="search" @clear="search" data-testid="cerr-search">
        <template #prefix><el-icon><icon-search /></el-icon></template>
      </el-input>
      <el-date-picker v-model="state.range" type="datetimerange" :start-placeholder="t('devtools.cerr.from')"
        :end-placeholder="t('devtools.cerr.to')" @change="search" style="width: 340px; flex: none" data-testid="cerr-range" />
      <el-button type="primary" @click="search" data-testid="cerr-go">{{ t('devtools.cerr.go') }}</el-button>
      <span class="adm-spacer"></span>
      <el-button @click="load" :loading="state.loading" data-testid="cerr-refresh">
        <el-icon><icon-refresh /></el-icon><span>{{ t('devtools.cerr.refresh') }}</span>
      </el-button>
    </div>
    <el-table :data="state.rows" v-loading="state.loading" row-key="id" stripe @row-click="(row) => (state.open = row)"
      :empty-text="t('devtools.cerr.empty')" data-testid="cerr-table" class="cerr-table">
      <el-table-column :label="t('devtools.cerr.time')" width="180">
        <template #default="{ row }"><span data-testid="cerr-row" :data-id="row.id">{{ when(row.ts) }}</span></template>
      </el-table-column>
      <el-table-column :label="t('devtools.cerr.app')" width="90">
        <template #default="{ row }"><el-tag size="small" :type="row.app === 'admin' ? 'warning' : 'primary'">{{ row.app }}</el-tag></template>
      </el-table-column>
      <el-table-column :label="t('devtools.cerr.user')" width="160" show-overflow-tooltip>
        <template #default="{ row }">
          <span v-if="row.user_id">{{ row.user_id }}</span><span v-else class="adm-muted">{{ t('devtools.cerr.anonymous') }}</span>
        </template>
      </el-table-column>
      <el-table-column :label="t('devtools.cerr.message')" min-width="260" show-overflow-tooltip>
        <template #default="{ row }"><span class="cerr-message" data-testid="cerr-message">{{ row.message }}</span></template>
      </el-table-column>
      <el-table-column :label="t('devtools.cerr.version')" width="170" show-overflow-tooltip prop="version" />
      <el-table-column :label="t('devtools.cerr.url')" min-width="180" show-overflow-tooltip prop="url" />
    </el-table>
    <div class="adm-pager">
      <el-pagination v-model:current-page="state.page" v-model:page-size="state.size" :total="state.total"
        :page-sizes="[20, 50, 100]" layout="total, sizes, prev, pager, next" @current-change="load" @size-change="search"
        data-testid="cerr-pager" />
    </div>
    <el-drawer :model-value="!!state.open" @update:model-value="(v) => { if (!v) state.open = null }" size="50%"
      :title="t('devtools.cerr.detail')" data-testid="cerr-drawer">
      <template v-if="state.open">
        <el-descriptions :column="1" border size="small">
          <el-descriptions-item :label="t('devtools.cerr.time')">{{ when(state.open.ts) }}</el-descriptions-item>
          <el-descriptions-item :label="t('devtools.cerr.app')">{{ state.open.app }}</el-descriptions-item>
          <el-descriptions-item :label="t('devtools.cerr.user')">{{ state.open.user_id || t('devtools.cerr.anonymous') }}</el-descriptions-item>
          <el-descriptions-item :label="t('devtools.cerr.version')">{{ state.open.version }}</el-descriptions-item>
          <el-descriptions-item :label="t('devtools.cerr.url')">{{ state.open.url }}</el-descriptions-item>
          <el-descriptions-item label="IP">{{ state.open.ip }}</el-descriptions-item>
          <el-descriptions-item :label="t('devtools.cerr.agent')">{{ state.open.user_agent }}</el-descriptions-item>
        </el-descriptions>
        <h4>{{ t('devtools.cerr.message') }}</h4>
        <pre class="cerr-pre" data-testid="cerr-detail-message">{{ state.open.message }}</pre>
        <h4>{{ t('devtools.cerr.stack') }}</h4>
        <pre class="cerr-pre" data-testid="cerr-stack">{{ state.open.stack || t('devtools.cerr.noStack') }}</pre>
      </template>
    </el-drawer>
  </div>`,
};
