// Message audit (消息审计, issue 13): search every conversation by keyword, sender,
// receiver, conversation, type, time range and the sending device's IP address
// (GET /api/admin/v1/messages, perm messages.audit), newest first with offset paging
// and the total; a row opens the conversation around it (messages/context.js); the CSV
// export takes the same filters (GET /api/admin/v1/messages.csv, fetched with the
// console's token like the login logs' export); with messages.recall a row's message can
// be recalled (POST .../conversations/{conv}/messages/{seq}/recall). Filters live in the
// address. Message text is shown as text (Vue escapes it; the keyword marks are
// segments, never HTML).
import { computed, onMounted, reactive } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api } from "../api.js";
import { t } from "../i18n.js";
import { route, setQuery } from "../router.js";
import { can, session } from "../session.js";
import MessageContext from "./messages/context.js";
import {
  KINDS, contentText, convName, convUsers, formatTime, kindLabel, marks, recallable, userName, wantNames,
} from "./messages/common.js";
import { messages } from "./messages/strings.js";

const STYLES = "/admin/pages/messages/messages.css";
if (!document.querySelector(`link[href="${STYLES}"]`)) {
  document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href: STYLES }));
}

const SIZES = [20, 50, 100, 200];
const FIELDS = ["q", "user_id", "receiver", "conv", "kind", "ip"];

const MessagesPage = {
  name: "MessagesPage",
  components: { MessageContext },
  setup() {
    const q = route.query;
    const filters = reactive({
      ...Object.fromEntries(FIELDS.map((k) => [k, typeof q[k] === "string" ? q[k] : ""])),
      range: q.from && q.to ? [Number(q.from), Number(q.to)] : null,
    });
    const list = reactive({
      rows: [], total: 0, capped: false, loading: false, exporting: false, searched: "",
      page: Math.max(1, Number(q.page) || 1), size: SIZES.includes(Number(q.size)) ? Number(q.size) : 50,
    });
    const context = reactive({ hit: null });
    const mayRecall = computed(() => can("messages.recall"));

    function query() {
      const out = {};
      for (const k of FIELDS) out[k] = filters[k].trim() || undefined;
      out.from = filters.range ? filters.range[0] : undefined;
      out.to = filters.range ? filters.range[1] : undefined;
      return out;
    }

    async function load() {
      const filter = query();
      setQuery({ ...filter, page: list.page > 1 ? list.page : undefined, size: list.size !== 50 ? list.size : undefined });
      list.loading = true;
      try {
        const page = await api.get("/messages", { ...filter, offset: (list.page - 1) * list.size, limit: list.size });
        list.rows = page.messages || [];
        list.total = page.total || 0;
        list.capped = !!page.total_capped;
        list.searched = filter.q || "";
        wantNames(list.rows.flatMap((m) => [m.from, ...convUsers(m.conv)]), list.rows.map((m) => m.conv));
      } catch {
        /* the API module showed the error */
      } finally {
        list.loading = false;
      }
    }

    function search() {
      list.page = 1;
      load();
    }
    function reset() {
      for (const k of FIELDS) filters[k] = "";
      filters.range = null;
      search();
    }
    function pageChange(p) {
      list.page = p;
      load();
    }
    function sizeChange(s) {
      list.size = s;
      list.page = 1;
      load();
    }
    function only(field, value) {
      filters[field] = value;
      search();
    }

    async function exportCsv() {
      list.exporting = true;
      try {
        await api.download("/messages.csv", { ...query(), tz: -new Date().getTimezoneOffset() }, "messages.csv");
      } catch {
        /* shown */
      } finally {
        list.exporting = false;
      }
    }

    function openContext(row) {
      context.hit = row;
    }

    async function recall(row) {
      try {
        await ElMessageBox.confirm(
          t("messages.recallConfirm", { who: userName(row.from), text: contentText(row).slice(0, 60) }),
          t("messages.recallTitle"),
          { type: "warning", confirmButtonText: t("messages.recall"), cancelButtonText: t("messages.cancel") },
        );
      } catch {
        return; // cancelled
      }
      try {
        await api.post(`/conversations/${encodeURIComponent(row.conv)}/messages/${row.seq}/recall`, {});
      } catch {
        return; // shown
      }
      row.kind = "recalled";
      row.body = {};
      row.recalled_by = session.user ? session.user.user_id : row.recalled_by;
      ElMessage.success(t("messages.recalled"));
    }

    const totalText = computed(() => (list.capped ? t("messages.totalCapped", { n: list.total }) : t("messages.total", { n: list.total })));
    onMounted(load);
    return {
      t, filters, list, context, mayRecall, totalText, KINDS, SIZES,
      search, reset, pageChange, sizeChange, only, exportCsv, openContext, recall,
      contentText, convName, formatTime, kindLabel, marks, recallable, userName,
    };
  },
  template: `
<div class="adm-page" data-testid="messages-page">
  <div class="adm-card">
    <div class="adm-toolbar sm-msg-filters">
      <el-input v-model="filters.q" clearable :placeholder="t('messages.keyword')" data-testid="msg-q" @keyup.enter="search">
        <template #prefix><el-icon><icon-search/></el-icon></template>
      </el-input>
      <el-input v-model="filters.user_id" clearable :placeholder="t('messages.sender')" data-testid="msg-sender" @keyup.enter="search" />
      <el-input v-model="filters.receiver" clearable :placeholder="t('messages.receiver')" data-testid="msg-receiver" @keyup.enter="search" />
      <el-input v-model="filters.conv" clearable :placeholder="t('messages.conv')" data-testid="msg-conv" @keyup.enter="search" />
      <el-input v-model="filters.ip" clearable :placeholder="t('messages.ip')" data-testid="msg-ip" @keyup.enter="search" />
      <el-select v-model="filters.kind" clearable :placeholder="t('messages.kind')" data-testid="msg-kind" @change="search">
        <el-option v-for="k in KINDS" :key="k" :value="k" :label="kindLabel(k)" :data-testid="'msg-kind-' + k" />
      </el-select>
      <el-date-picker v-model="filters.range" type="datetimerange" value-format="x" class="sm-msg-range"
        :start-placeholder="t('messages.from')" :end-placeholder="t('messages.to')" data-testid="msg-range" @change="search" />
      <el-button type="primary" data-testid="msg-search" @click="search"><el-icon><icon-search/></el-icon>{{ t('messages.search') }}</el-button>
      <el-button data-testid="msg-reset" @click="reset">{{ t('messages.reset') }}</el-button>
      <span class="adm-spacer"></span>
      <el-button data-testid="msg-export" :loading="list.exporting" @click="exportCsv"><el-icon><icon-download/></el-icon>{{ t('messages.export') }}</el-button>
    </div>
    <el-table :data="list.rows" v-loading="list.loading" :row-key="r => r.conv + '#' + r.seq" class="sm-msg-table" data-testid="msg-table"
              :empty-text="t('messages.empty')" @row-click="openContext">
      <el-table-column :label="t('messages.time')" width="170">
        <template #default="{ row }"><span class="sm-nowrap" data-testid="msg-time">{{ formatTime(row.ts) }}</span></template>
      </el-table-column>
      <el-table-column :label="t('messages.convCol')" min-width="170">
        <template #default="{ row }">
          <el-link type="primary" :underline="false" data-testid="msg-conv-link" @click.stop="only('conv', row.conv)">{{ convName(row.conv) }}</el-link>
          <div class="adm-muted sm-small">{{ row.conv.startsWith('g:') ? t('messages.group') : t('messages.direct') }}</div>
        </template>
      </el-table-column>
      <el-table-column :label="t('messages.senderCol')" min-width="140">
        <template #default="{ row }">
          <el-link :underline="false" data-testid="msg-from" :data-user="row.from" @click.stop="only('user_id', row.from)">{{ userName(row.from) }}</el-link>
          <div class="adm-muted sm-small">{{ row.from }}</div>
        </template>
      </el-table-column>
      <el-table-column :label="t('messages.kind')" width="100">
        <template #default="{ row }"><el-tag size="small" :type="row.kind === 'recalled' ? 'danger' : 'info'" data-testid="msg-kind-cell" :data-kind="row.kind">{{ kindLabel(row.kind) }}</el-tag></template>
      </el-table-column>
      <el-table-column :label="t('messages.content')" min-width="280">
        <template #default="{ row }">
          <div class="sm-msg-content" :class="{ 'sm-msg-recalled': row.kind === 'recalled' }" data-testid="msg-content"><template v-for="(s, i) in marks(contentText(row), list.searched)" :key="i"><mark v-if="s.hit" class="sm-msg-mark" data-testid="msg-mark">{{ s.text }}</mark><template v-else>{{ s.text }}</template></template></div>
          <div v-if="row.kind === 'recalled' && row.recalled_by" class="adm-muted sm-small" data-testid="msg-recalled-by">{{ t('messages.recalledBy', { who: userName(row.recalled_by) }) }}</div>
        </template>
      </el-table-column>
      <el-table-column :label="t('messages.ip')" min-width="130">
        <template #default="{ row }">
          <el-link v-if="row.ip" :underline="false" data-testid="msg-ip-cell" @click.stop="only('ip', row.ip)">{{ row.ip }}</el-link>
          <span v-else class="adm-muted">—</span>
        </template>
      </el-table-column>
      <el-table-column :label="t('messages.actions')" width="150" fixed="right">
        <template #default="{ row }">
          <el-button link type="primary" size="small" data-testid="msg-context" @click.stop="openContext(row)">{{ t('messages.context') }}</el-button>
          <el-button v-if="mayRecall" link type="danger" size="small" :disabled="!recallable(row)" data-testid="msg-recall" @click.stop="recall(row)">{{ t('messages.recall') }}</el-button>
        </template>
      </el-table-column>
    </el-table>
    <div class="adm-pager sm-msg-pager">
      <span class="adm-muted sm-small" data-testid="msg-total">{{ totalText }}</span>
      <el-pagination background layout="sizes, prev, pager, next" :total="list.total" :page-size="list.size"
        :page-sizes="SIZES" :current-page="list.page" data-testid="msg-pager"
        @current-change="pageChange" @size-change="sizeChange" />
    </div>
  </div>
  <message-context :hit="context.hit" :q="list.searched" @close="context.hit = null" />
</div>`,
};

export default {
  name: "messages",
  perm: "messages.audit",
  icon: "ChatLineSquare",
  title: "menu.messages",
  component: MessagesPage,
  messages,
};
