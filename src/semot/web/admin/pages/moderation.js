// Moderation (内容审核): messages held by groups with pre-moderation on (docs/moderation.md).
// The pending queue oldest first, each with the group's recent history beside it (the
// groups page's read-only history: reading it needs groups.history and is audited);
// approve or reject one message or a selection, with a reason the sender sees; filters
// by status and group; and the timeout setting (what happens to a message nobody reviewed).
// Message bodies are untrusted text: shown through Vue's interpolation only.
import { computed, onMounted, reactive, ref } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api } from "../api.js";
import { i18n, t } from "../i18n.js";
import { route, setQuery } from "../router.js";
import GroupHistory, { formatTime } from "./groups/history.js";
import groupMessages from "./groups/messages.js";

const SIZES = [20, 50, 100, 200];
const STATUSES = ["pending", "approved", "rejected", "all"];

/** A one-line rendering of a held message (text as is; other kinds by kind). */
export function contentOf(item) {
  const b = item.body || {};
  if (item.kind === "text") return typeof b.text === "string" ? b.text : "";
  if (item.kind === "file") return `[${t("moderation.kind.file")}] ${b.name || ""}`;
  if (item.kind === "location") return `[${t("moderation.kind.location")}] ${b.title || b.address || ""}`;
  const key = `moderation.kind.${item.kind}`;
  const label = t(key);
  return `[${label === key ? item.kind : label}]`;
}

const ModerationPage = {
  name: "ModerationPage",
  components: { GroupHistory },
  setup() {
    const q = route.query;
    const filters = reactive({ status: STATUSES.includes(q.status) ? q.status : "pending", group: q.group || "" });
    const list = reactive({
      rows: [], total: 0, loading: false, busy: false,
      page: Math.max(1, Number(q.page) || 1), size: SIZES.includes(Number(q.size)) ? Number(q.size) : 50,
    });
    const selected = ref([]);
    const context = ref(null); // the item whose conversation is shown
    const settings = reactive({ minutes: 0, action: "reject", loading: false, saving: false, updated_by: null, updated_at: null });

    async function load() {
      const group = filters.group.trim().replace(/^g:/, "");
      setQuery({
        status: filters.status !== "pending" ? filters.status : undefined, group: group || undefined,
        page: list.page > 1 ? list.page : undefined, size: list.size !== 50 ? list.size : undefined,
      });
      list.loading = true;
      try {
        const page = await api.get("/moderation", {
          status: filters.status === "all" ? undefined : filters.status,
          conv: group ? `g:${group}` : undefined,
          offset: (list.page - 1) * list.size, limit: list.size,
        });
        list.rows = page.items;
        list.total = page.total;
      } catch {
        /* the API module showed the error */
      } finally {
        list.loading = false;
      }
    }
    async function loadSettings() {
      settings.loading = true;
      try {
        const s = await api.get("/moderation/settings");
        Object.assign(settings, { minutes: Math.round(s.timeout_s / 60), action: s.timeout_action,
          updated_by: s.updated_by, updated_at: s.updated_at });
      } catch {
        /* shown */
      } finally {
        settings.loading = false;
      }
    }
    async function saveSettings() {
      settings.saving = true;
      try {
        const s = await api.put("/moderation/settings", { timeout_s: Math.max(0, Math.round(settings.minutes || 0)) * 60,
          timeout_action: settings.action });
        Object.assign(settings, { updated_by: s.updated_by, updated_at: s.updated_at });
        ElMessage.success(t("moderation.saved"));
      } catch {
        /* shown */
      } finally {
        settings.saving = false;
      }
    }

    async function askReason() {
      try {
        const { value } = await ElMessageBox.prompt(t("moderation.reasonPrompt"), t("moderation.reject"), {
          confirmButtonText: t("moderation.reject"), cancelButtonText: t("common.cancel"),
          inputPlaceholder: t("moderation.reasonPlaceholder"), inputValidator: (v) => (v || "").length <= 500,
          inputErrorMessage: t("moderation.reasonTooLong"), confirmButtonClass: "el-button--danger",
        });
        return { reason: (value || "").trim() || undefined };
      } catch {
        return null; // cancelled
      }
    }
    async function decide(row, action) {
      const extra = action === "reject" ? await askReason() : {};
      if (!extra) return;
      list.busy = true;
      try {
        await api.post(`/moderation/${encodeURIComponent(row.mid)}`, { action, ...extra });
        ElMessage.success(t(action === "approve" ? "moderation.approved" : "moderation.rejected"));
      } catch {
        /* shown (409: somebody else decided it first) */
      } finally {
        list.busy = false;
        load();
      }
    }
    async function decideSelected(action) {
      const mids = selected.value.filter((r) => r.status === "pending").map((r) => r.mid);
      if (!mids.length) return;
      const extra = action === "reject" ? await askReason() : {};
      if (!extra) return;
      list.busy = true;
      try {
        const res = await api.post("/moderation", { mids, action, ...extra });
        const msg = t("moderation.bulkDone", { n: res.decided.length, skipped: res.skipped.length });
        if (res.skipped.length) ElMessage.warning(msg);
        else ElMessage.success(msg);
      } catch {
        /* shown */
      } finally {
        list.busy = false;
        load();
      }
    }

    function search() {
      list.page = 1;
      load();
    }
    function byGroup(row) {
      filters.group = row.group_id || "";
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
    const statusType = (s) => ({ pending: "warning", approved: "success", rejected: "danger" })[s] || "info";
    const reasonText = (r) => (r === "timeout" ? t("moderation.timeoutReason") : r || "");
    const reviewerText = (row) => (row.reviewer === "system" ? t("moderation.system") : row.reviewer_name || row.reviewer || "");
    const pendingSelected = computed(() => selected.value.filter((r) => r.status === "pending").length);
    onMounted(() => {
      load();
      loadSettings();
    });
    return {
      t, i18n, filters, list, selected, context, settings, STATUSES, SIZES, pendingSelected,
      load, search, byGroup, pageChange, sizeChange, decide, decideSelected, saveSettings,
      contentOf, formatTime, statusType, reasonText, reviewerText,
    };
  },
  template: `
<div class="adm-page" data-testid="moderation-page">
  <div class="adm-card" style="margin-bottom:12px" data-testid="mod-settings" v-loading="settings.loading">
    <div class="adm-toolbar" style="align-items:center;flex-wrap:wrap;gap:8px">
      <strong>{{ t('moderation.timeout') }}</strong>
      <el-input-number v-model="settings.minutes" :min="0" :max="43200" :step="5" controls-position="right" data-testid="mod-timeout" />
      <span>{{ t('moderation.minutes') }}</span>
      <el-radio-group v-model="settings.action" data-testid="mod-timeout-action">
        <el-radio value="approve" data-testid="mod-timeout-approve">{{ t('moderation.autoApprove') }}</el-radio>
        <el-radio value="reject" data-testid="mod-timeout-reject">{{ t('moderation.autoReject') }}</el-radio>
      </el-radio-group>
      <el-button type="primary" :loading="settings.saving" data-testid="mod-timeout-save" @click="saveSettings">{{ t('moderation.save') }}</el-button>
      <span class="adm-muted" style="font-size:12px">{{ settings.minutes > 0 ? t('moderation.timeoutHint', { n: settings.minutes }) : t('moderation.timeoutOff') }}</span>
    </div>
  </div>
  <div class="adm-card">
    <div class="adm-toolbar" style="flex-wrap:wrap;gap:8px">
      <el-select v-model="filters.status" style="width:130px" data-testid="mod-status" @change="search">
        <el-option v-for="s in STATUSES" :key="s" :value="s" :label="t('moderation.status.' + s)" :data-testid="'mod-status-' + s" />
      </el-select>
      <el-input v-model="filters.group" clearable style="width:220px" :placeholder="t('moderation.groupId')" data-testid="mod-group" @keyup.enter="search" @clear="search" />
      <el-button type="primary" data-testid="mod-search" @click="search">{{ t('moderation.search') }}</el-button>
      <span class="adm-spacer"></span>
      <el-button type="success" :disabled="!pendingSelected || list.busy" data-testid="mod-bulk-approve" @click="decideSelected('approve')">{{ t('moderation.approveSelected', { n: pendingSelected }) }}</el-button>
      <el-button type="danger" :disabled="!pendingSelected || list.busy" data-testid="mod-bulk-reject" @click="decideSelected('reject')">{{ t('moderation.rejectSelected', { n: pendingSelected }) }}</el-button>
    </div>
    <el-table :data="list.rows" v-loading="list.loading" row-key="mid" data-testid="mod-table" :empty-text="t('moderation.empty')"
              @selection-change="(rows) => (selected = rows)">
      <el-table-column type="selection" width="42" :selectable="(row) => row.status === 'pending'" />
      <el-table-column :label="t('moderation.time')" width="170">
        <template #default="{ row }"><span>{{ formatTime(row.ts) }}</span></template>
      </el-table-column>
      <el-table-column :label="t('moderation.group')" min-width="150">
        <template #default="{ row }">
          <el-link type="primary" :underline="false" data-testid="mod-group-link" @click="byGroup(row)">{{ row.group_name || row.group_id }}</el-link>
          <div class="adm-muted" style="font-size:12px">{{ row.group_id }}</div>
        </template>
      </el-table-column>
      <el-table-column :label="t('moderation.sender')" min-width="130">
        <template #default="{ row }">
          <div>{{ row.sender_name || row.from }}</div>
          <div class="adm-muted" style="font-size:12px">{{ row.sender_username || row.from }}<template v-if="row.ip"> · {{ row.ip }}</template></div>
        </template>
      </el-table-column>
      <el-table-column :label="t('moderation.content')" min-width="260">
        <template #default="{ row }"><span data-testid="mod-content" style="white-space:pre-wrap;word-break:break-word">{{ contentOf(row) }}</span></template>
      </el-table-column>
      <el-table-column :label="t('moderation.state')" min-width="150">
        <template #default="{ row }">
          <el-tag :type="statusType(row.status)" size="small" data-testid="mod-state" :data-status="row.status">{{ t('moderation.status.' + row.status) }}</el-tag>
          <div v-if="row.reason" class="adm-muted" style="font-size:12px" data-testid="mod-reason">{{ reasonText(row.reason) }}</div>
          <div v-if="row.reviewer" class="adm-muted" style="font-size:12px">{{ reviewerText(row) }} · {{ formatTime(row.reviewed_at) }}</div>
        </template>
      </el-table-column>
      <el-table-column :label="t('moderation.actions')" width="230" fixed="right">
        <template #default="{ row }">
          <el-button size="small" link type="primary" data-testid="mod-context" @click="context = row">{{ t('moderation.context') }}</el-button>
          <template v-if="row.status === 'pending'">
            <el-button size="small" type="success" :disabled="list.busy" data-testid="mod-approve" @click="decide(row, 'approve')">{{ t('moderation.approve') }}</el-button>
            <el-button size="small" type="danger" :disabled="list.busy" data-testid="mod-reject" @click="decide(row, 'reject')">{{ t('moderation.reject') }}</el-button>
          </template>
        </template>
      </el-table-column>
    </el-table>
    <div class="adm-pager">
      <el-pagination background layout="total, sizes, prev, pager, next" :total="list.total" :page-size="list.size"
        :page-sizes="SIZES" :current-page="list.page" data-testid="mod-pager" @current-change="pageChange" @size-change="sizeChange" />
    </div>
  </div>
  <el-drawer :model-value="!!context" size="520px" :title="context ? t('moderation.contextTitle', { group: context.group_name || context.group_id }) : ''"
             data-testid="mod-context-drawer" @close="context = null">
    <template v-if="context">
      <div class="adm-card" style="margin-bottom:10px" data-testid="mod-context-item">
        <div class="adm-muted" style="font-size:12px">{{ context.sender_name || context.from }} · {{ formatTime(context.ts) }} · {{ t('moderation.status.' + context.status) }}</div>
        <div style="white-space:pre-wrap;word-break:break-word">{{ contentOf(context) }}</div>
      </div>
      <div class="adm-muted" style="font-size:12px;margin-bottom:6px">{{ t('moderation.contextNote') }}</div>
      <group-history v-if="context.group_id" :key="context.mid" :group-id="context.group_id" />
    </template>
  </el-drawer>
</div>`,
};

const zh = {
  "moderation.timeout": "审核超时",
  "moderation.minutes": "分钟未审核则",
  "moderation.autoApprove": "自动通过",
  "moderation.autoReject": "自动拒绝",
  "moderation.save": "保存",
  "moderation.saved": "已保存",
  "moderation.timeoutHint": "消息提交后 {n} 分钟仍未审核，将按所选方式自动处理",
  "moderation.timeoutOff": "0 表示不自动处理，消息一直等待审核",
  "moderation.status.pending": "待审核",
  "moderation.status.approved": "已通过",
  "moderation.status.rejected": "已拒绝",
  "moderation.status.all": "全部",
  "moderation.groupId": "群 ID",
  "moderation.search": "查询",
  "moderation.approveSelected": "批量通过（{n}）",
  "moderation.rejectSelected": "批量拒绝（{n}）",
  "moderation.empty": "没有待处理的消息",
  "moderation.time": "提交时间",
  "moderation.group": "群组",
  "moderation.sender": "发送者",
  "moderation.content": "内容",
  "moderation.state": "状态",
  "moderation.actions": "操作",
  "moderation.context": "上下文",
  "moderation.contextTitle": "{group} 的聊天记录",
  "moderation.contextNote": "群内最近的消息（待审核的消息不在其中）。查看聊天记录会记入操作日志。",
  "moderation.approve": "通过",
  "moderation.reject": "拒绝",
  "moderation.approved": "已通过，消息已发出",
  "moderation.rejected": "已拒绝，发送者会看到原因",
  "moderation.bulkDone": "已处理 {n} 条，跳过 {skipped} 条（已被他人处理）",
  "moderation.reasonPrompt": "拒绝原因（发送者可见，可不填）",
  "moderation.reasonPlaceholder": "例如：含广告内容",
  "moderation.reasonTooLong": "原因最多 500 个字符",
  "moderation.timeoutReason": "审核超时",
  "moderation.system": "系统（超时）",
  "moderation.kind.image": "图片",
  "moderation.kind.voice": "语音",
  "moderation.kind.video": "视频",
  "moderation.kind.file": "文件",
  "moderation.kind.location": "位置",
  "moderation.kind.card": "名片",
  "moderation.kind.custom": "自定义消息",
};

const en = {
  "moderation.timeout": "Review timeout",
  "moderation.minutes": "minutes unreviewed, then",
  "moderation.autoApprove": "approve",
  "moderation.autoReject": "reject",
  "moderation.save": "Save",
  "moderation.saved": "Saved",
  "moderation.timeoutHint": "A message still unreviewed {n} minutes after it was sent is decided as chosen",
  "moderation.timeoutOff": "0: never decided automatically, messages wait for a reviewer",
  "moderation.status.pending": "Pending",
  "moderation.status.approved": "Approved",
  "moderation.status.rejected": "Rejected",
  "moderation.status.all": "All",
  "moderation.groupId": "Group ID",
  "moderation.search": "Search",
  "moderation.approveSelected": "Approve selected ({n})",
  "moderation.rejectSelected": "Reject selected ({n})",
  "moderation.empty": "Nothing to review",
  "moderation.time": "Sent",
  "moderation.group": "Group",
  "moderation.sender": "Sender",
  "moderation.content": "Content",
  "moderation.state": "Status",
  "moderation.actions": "Actions",
  "moderation.context": "Context",
  "moderation.contextTitle": "History of {group}",
  "moderation.contextNote": "The group's recent messages (held messages are not among them). Reading history is recorded in the audit log.",
  "moderation.approve": "Approve",
  "moderation.reject": "Reject",
  "moderation.approved": "Approved: the message was delivered",
  "moderation.rejected": "Rejected: the sender sees the reason",
  "moderation.bulkDone": "{n} decided, {skipped} skipped (decided by someone else)",
  "moderation.reasonPrompt": "Why (the sender sees it; optional)",
  "moderation.reasonPlaceholder": "e.g. advertising",
  "moderation.reasonTooLong": "At most 500 characters",
  "moderation.timeoutReason": "review timed out",
  "moderation.system": "System (timeout)",
  "moderation.kind.image": "Image",
  "moderation.kind.voice": "Voice",
  "moderation.kind.video": "Video",
  "moderation.kind.file": "File",
  "moderation.kind.location": "Location",
  "moderation.kind.card": "Contact card",
  "moderation.kind.custom": "Custom message",
};

export default {
  name: "moderation",
  perm: "moderation.review",
  icon: "View",
  order: 65,
  title: "menu.moderation",
  component: ModerationPage,
  messages: { "zh-CN": { ...groupMessages["zh-CN"], ...zh }, en: { ...groupMessages.en, ...en } },
};
