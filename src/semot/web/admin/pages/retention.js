// Message retention (消息保留, docs/retention.md): the policy (days messages of direct
// chats and of groups are kept; 0 = forever), legal holds (a user, picked by name, or a
// conversation id: never deleted while held) and what the last sweep did. The server
// checks every value and permission; this page hides what retention.view alone may not do.
import { onMounted, reactive } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api, describeError } from "../api.js";
import { t } from "../i18n.js";
import { can } from "../session.js";

function formatTime(ms) {
  return ms ? new Date(ms).toLocaleString() : "";
}

const RetentionPage = {
  name: "RetentionPage",
  setup() {
    const policy = reactive({ direct_days: 0, group_days: 0, enabled: false, last_run: null, interval_s: 0, batch_size: 0,
      updated_at: null, updated_by: null, saving: false, running: false });
    const holds = reactive({ rows: [], loading: false });
    const add = reactive({ kind: "user", user: "", conv: "", reason: "", people: [], searching: false, adding: false });

    function apply(view) {
      Object.assign(policy, view, { direct_days: view.direct_days || 0, group_days: view.group_days || 0 });
    }
    async function load() {
      try {
        apply(await api.get("/retention", undefined, { quiet: true }));
      } catch (e) {
        ElMessage.error(describeError(e));
      }
      holds.loading = true;
      try {
        holds.rows = (await api.get("/legal-holds", undefined, { quiet: true })).holds;
      } catch (e) {
        ElMessage.error(describeError(e));
      } finally {
        holds.loading = false;
      }
    }
    async function save() {
      policy.saving = true;
      try {
        apply(await api.put("/retention", { direct_days: policy.direct_days, group_days: policy.group_days }, { quiet: true }));
        ElMessage.success(t("retention.saved"));
      } catch (e) {
        ElMessage.error(describeError(e));
      } finally {
        policy.saving = false;
      }
    }
    async function runNow() {
      policy.running = true;
      try {
        const run = await api.post("/retention/run", undefined, { quiet: true });
        policy.last_run = run;
        ElMessage.success(t("retention.ran", { n: run.deleted }));
      } catch (e) {
        ElMessage.error(describeError(e));
      } finally {
        policy.running = false;
      }
    }
    async function search(q) {
      const text = String(q || "").trim();
      if (!text) return;
      add.searching = true;
      try {
        if (can("users.view")) add.people = (await api.get("/users", { q: text, limit: 20 }, { quiet: true })).users;
        else add.people = (await api.get("/api/v1/directory/search", { q: text, limit: 20 }, { quiet: true })).results;
      } catch {
        add.people = [];
      } finally {
        add.searching = false;
      }
    }
    async function addHold() {
      const target = add.kind === "user" ? add.user : add.conv.trim();
      if (!target) return ElMessage.warning(t(add.kind === "user" ? "retention.pickUser" : "retention.enterConv"));
      add.adding = true;
      try {
        await api.post("/legal-holds", { kind: add.kind, target, reason: add.reason }, { quiet: true });
        ElMessage.success(t("retention.holdAdded"));
        add.user = add.conv = add.reason = "";
        await load();
      } catch (e) {
        ElMessage.error(describeError(e));
      } finally {
        add.adding = false;
      }
    }
    async function remove(row) {
      try {
        await ElMessageBox.confirm(t("retention.removeConfirm", { target: row.target }), t("retention.remove"), { type: "warning" });
      } catch {
        return;
      }
      try {
        await api.del(`/legal-holds/${encodeURIComponent(row.hold_id)}`, { quiet: true });
        ElMessage.success(t("retention.holdRemoved"));
        await load();
      } catch (e) {
        ElMessage.error(describeError(e));
      }
    }
    const personLabel = (p) => (p.display_name && p.display_name !== p.username ? `${p.display_name} (${p.username})` : p.username || p.user_id);
    onMounted(load);
    return { t, can, policy, holds, add, save, runNow, search, addHold, remove, personLabel, formatTime };
  },
  template: `
<div class="adm-page" data-testid="retention-page">
  <div class="adm-card">
    <h3>{{ t('retention.policy') }}</h3>
    <p class="adm-muted">{{ t('retention.policyHint') }}</p>
    <el-form label-width="200px" data-testid="retention-form">
      <el-form-item :label="t('retention.directDays')">
        <el-input-number v-model="policy.direct_days" :min="0" :max="36500" :disabled="!can('retention.write')" data-testid="retention-direct" />
        <span class="adm-muted">&nbsp;{{ policy.direct_days ? t('retention.days') : t('retention.forever') }}</span>
      </el-form-item>
      <el-form-item :label="t('retention.groupDays')">
        <el-input-number v-model="policy.group_days" :min="0" :max="36500" :disabled="!can('retention.write')" data-testid="retention-group" />
        <span class="adm-muted">&nbsp;{{ policy.group_days ? t('retention.days') : t('retention.forever') }}</span>
      </el-form-item>
      <el-form-item v-if="can('retention.write')">
        <el-button type="primary" :loading="policy.saving" data-testid="retention-save" @click="save">{{ t('retention.save') }}</el-button>
        <el-button :loading="policy.running" data-testid="retention-run" @click="runNow">{{ t('retention.runNow') }}</el-button>
      </el-form-item>
    </el-form>
    <div data-testid="retention-status">
      <el-tag :type="policy.enabled ? 'success' : 'info'" data-testid="retention-enabled">{{ policy.enabled ? t('retention.on') : t('retention.off') }}</el-tag>
      <span class="adm-muted">&nbsp;{{ t('retention.every', { s: policy.interval_s, n: policy.batch_size }) }}</span>
      <div v-if="policy.last_run && policy.last_run.started_at" data-testid="retention-last-run">
        {{ t('retention.lastRun', { time: formatTime(policy.last_run.finished_at || policy.last_run.started_at), n: policy.last_run.deleted }) }}
        <span v-if="policy.last_run.error" class="adm-error">{{ policy.last_run.error }}</span>
      </div>
      <div v-else class="adm-muted" data-testid="retention-never">{{ t('retention.never') }}</div>
    </div>
  </div>
  <div class="adm-card">
    <h3>{{ t('retention.holds') }}</h3>
    <p class="adm-muted">{{ t('retention.holdsHint') }}</p>
    <div v-if="can('retention.write')" class="adm-toolbar" data-testid="hold-add">
      <el-radio-group v-model="add.kind" data-testid="hold-kind">
        <el-radio value="user" data-testid="hold-kind-user">{{ t('retention.kind.user') }}</el-radio>
        <el-radio value="conv" data-testid="hold-kind-conv">{{ t('retention.kind.conv') }}</el-radio>
      </el-radio-group>
      <el-select v-if="add.kind === 'user'" v-model="add.user" filterable remote :remote-method="search" :loading="add.searching"
        :placeholder="t('retention.userPlaceholder')" style="width: 240px" data-testid="hold-user">
        <el-option v-for="p in add.people" :key="p.user_id" :value="p.user_id" :label="personLabel(p)" />
      </el-select>
      <el-input v-else v-model="add.conv" :placeholder="t('retention.convPlaceholder')" style="width: 240px" data-testid="hold-conv" />
      <el-input v-model="add.reason" :placeholder="t('retention.reason')" maxlength="500" style="width: 240px" data-testid="hold-reason" />
      <el-button type="primary" :loading="add.adding" data-testid="hold-submit" @click="addHold">{{ t('retention.addHold') }}</el-button>
    </div>
    <el-table :data="holds.rows" v-loading="holds.loading" row-key="hold_id" data-testid="holds-table" :empty-text="t('retention.noHolds')">
      <el-table-column :label="t('retention.kindCol')" width="120">
        <template #default="{ row }">{{ t('retention.kind.' + row.kind) }}</template>
      </el-table-column>
      <el-table-column :label="t('retention.target')" min-width="200">
        <template #default="{ row }"><span :data-testid="'hold-row-' + row.target">{{ row.target }}</span></template>
      </el-table-column>
      <el-table-column :label="t('retention.reason')" prop="reason" min-width="200" />
      <el-table-column :label="t('retention.created')" width="180">
        <template #default="{ row }"><span class="adm-muted">{{ formatTime(row.created_at) }}</span></template>
      </el-table-column>
      <el-table-column v-if="can('retention.write')" :label="t('retention.actions')" width="100">
        <template #default="{ row }">
          <el-button link type="danger" :data-testid="'hold-remove-' + row.target" @click="remove(row)">{{ t('retention.remove') }}</el-button>
        </template>
      </el-table-column>
    </el-table>
  </div>
</div>`,
};

const zh = {
  "retention.policy": "保留策略",
  "retention.policyHint": "超过天数的消息会在后台分批删除（连同不再被引用的文件）；0 表示永久保留（默认关闭）。",
  "retention.directDays": "单聊消息保留天数",
  "retention.groupDays": "群聊消息保留天数",
  "retention.days": "天",
  "retention.forever": "永久保留",
  "retention.save": "保存策略",
  "retention.saved": "保留策略已保存",
  "retention.runNow": "立即清理",
  "retention.ran": "清理完成，删除 {n} 条消息",
  "retention.on": "已开启",
  "retention.off": "未开启",
  "retention.every": "每 {s} 秒运行一次，每批 {n} 条",
  "retention.lastRun": "上次运行：{time}，删除 {n} 条消息",
  "retention.never": "尚未运行",
  "retention.holds": "法律保留",
  "retention.holdsHint": "被保留的用户（其所在的全部会话及其发送的消息）和会话不会被清理。",
  "retention.kind.user": "用户",
  "retention.kind.conv": "会话",
  "retention.kindCol": "类型",
  "retention.target": "对象",
  "retention.reason": "原因",
  "retention.created": "添加时间",
  "retention.actions": "操作",
  "retention.userPlaceholder": "搜索用户",
  "retention.convPlaceholder": "会话 ID（如 g:群组ID）",
  "retention.addHold": "添加保留",
  "retention.holdAdded": "已添加法律保留",
  "retention.holdRemoved": "已解除法律保留",
  "retention.remove": "解除",
  "retention.removeConfirm": "解除对 {target} 的法律保留？其过期消息将在下次清理时删除。",
  "retention.noHolds": "没有法律保留",
  "retention.pickUser": "请选择用户",
  "retention.enterConv": "请输入会话 ID",
};

const en = {
  "retention.policy": "Retention policy",
  "retention.policyHint": "Messages older than this are deleted in the background, in batches (with files nothing references any more); 0 keeps them forever (off by default).",
  "retention.directDays": "Direct chats: keep (days)",
  "retention.groupDays": "Groups: keep (days)",
  "retention.days": "days",
  "retention.forever": "forever",
  "retention.save": "Save policy",
  "retention.saved": "Retention policy saved",
  "retention.runNow": "Run now",
  "retention.ran": "Sweep done: {n} messages deleted",
  "retention.on": "On",
  "retention.off": "Off",
  "retention.every": "runs every {s} s, {n} messages per batch",
  "retention.lastRun": "Last run: {time}, {n} messages deleted",
  "retention.never": "Never run yet",
  "retention.holds": "Legal holds",
  "retention.holdsHint": "Held users (every conversation they are in, and their messages) and held conversations are never deleted.",
  "retention.kind.user": "User",
  "retention.kind.conv": "Conversation",
  "retention.kindCol": "Kind",
  "retention.target": "Held",
  "retention.reason": "Reason",
  "retention.created": "Added",
  "retention.actions": "Actions",
  "retention.userPlaceholder": "Search users",
  "retention.convPlaceholder": "Conversation id (e.g. g:<group id>)",
  "retention.addHold": "Add hold",
  "retention.holdAdded": "Legal hold added",
  "retention.holdRemoved": "Legal hold removed",
  "retention.remove": "Remove",
  "retention.removeConfirm": "Lift the legal hold on {target}? Its expired messages go at the next sweep.",
  "retention.noHolds": "No legal holds",
  "retention.pickUser": "Pick a user",
  "retention.enterConv": "Enter a conversation id",
};

export default {
  name: "retention",
  perm: "retention.view",
  icon: "Timer",
  order: 125,
  title: "menu.retention",
  component: RetentionPage,
  messages: { "zh-CN": zh, en },
};
