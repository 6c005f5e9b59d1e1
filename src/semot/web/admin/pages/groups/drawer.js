// One group in a drawer: overview and changes (name, announcement, mute all, ownership
// transfer, dismiss), members (mute, unmute, remove) and history (read-only). Changes
// need groups.write, history groups.history; the server checks both again.
import { computed, reactive, ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { api } from "../../api.js";
import { t } from "../../i18n.js";
import { can } from "../../session.js";
import GroupHistory, { formatTime } from "./history.js";
import { confirmed, quietly } from "./ui.js";

const MUTES = { "10m": 600e3, "1h": 3600e3, "1d": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3 };

export default {
  name: "GroupDrawer",
  components: { GroupHistory },
  props: { groupId: { type: String, default: "" }, tab: { type: String, default: "overview" } },
  emits: ["close", "changed", "tab"],
  setup(props, { emit }) {
    const group = ref(null);
    const form = reactive({ name: "", announcement: "", owner: "" });
    const members = reactive({ q: "", rows: [], total: 0, page: 1, size: 20, loading: false });
    const picks = ref([]);
    const busy = ref(false);
    const active = ref(props.tab);
    const writable = computed(() => can("groups.write") && group.value && !group.value.dismissed);
    const path = () => `/groups/${encodeURIComponent(props.groupId)}`;

    async function loadGroup() {
      const g = await api.get(path());
      group.value = g;
      form.name = g.name;
      form.announcement = g.announcement || "";
      form.owner = "";
    }

    async function loadMembers() {
      members.loading = true;
      try {
        const page = await api.get(`${path()}/members`, {
          q: members.q.trim(), offset: (members.page - 1) * members.size, limit: members.size,
        });
        members.rows = page.members;
        members.total = page.total;
      } finally {
        members.loading = false;
      }
    }

    async function change(body, done) {
      busy.value = true;
      try {
        group.value = await api.patch(path(), body);
        form.name = group.value.name;
        form.announcement = group.value.announcement || "";
        ElMessage.success(done);
        emit("changed");
      } finally {
        busy.value = false;
      }
    }

    const saveName = () => change({ name: form.name.trim() }, t("groups.saved"));
    const saveAnnouncement = () => change({ announcement: form.announcement }, t("groups.saved"));
    const setMuteAll = (on) => change({ mute_all: on }, t("groups.saved"));

    async function searchMembers(q) {
      const page = await api.get(`${path()}/members`, { q: (q || "").trim(), limit: 20 });
      picks.value = page.members.filter((m) => m.role !== "owner");
    }

    async function transfer() {
      const pick = picks.value.find((m) => m.user_id === form.owner);
      const message = t("groups.transferConfirm", { name: group.value.name, user: pick?.display_name });
      if (!pick || !(await confirmed(message, t("groups.transfer"), t("groups.transferDo"), false))) return;
      await change({ owner: pick.user_id }, t("groups.transferred"));
      await loadMembers();
    }

    async function dismiss() {
      if (!(await confirmed(t("groups.dismissConfirm", { name: group.value.name }), t("groups.dismiss"), t("groups.dismiss")))) return;
      busy.value = true;
      try {
        await api.del(path());
        ElMessage.success(t("groups.dismissed"));
        await loadGroup();
        emit("changed");
      } finally {
        busy.value = false;
      }
    }

    async function mute(m, command) {
      const until = command === "off" ? null : Date.now() + MUTES[command];
      await api.put(`${path()}/members/${encodeURIComponent(m.user_id)}/mute`, { until });
      ElMessage.success(t(until ? "groups.muted" : "groups.unmuted", { user: m.display_name }));
      await Promise.all([loadMembers(), loadGroup()]);
    }

    async function remove(m) {
      const message = t("groups.removeConfirm", { user: m.display_name, name: group.value.name });
      if (!(await confirmed(message, t("groups.remove"), t("groups.remove")))) return;
      await api.del(`${path()}/members/${encodeURIComponent(m.user_id)}`);
      ElMessage.success(t("groups.removed", { user: m.display_name }));
      await Promise.all([loadMembers(), loadGroup()]);
      emit("changed");
    }

    function searchMembersTable() {
      members.page = 1;
      loadMembers();
    }

    watch(() => props.groupId, (id) => {
      group.value = null;
      members.q = "";
      members.page = 1;
      if (id) quietly(() => Promise.all([loadGroup(), loadMembers()]));
    }, { immediate: true });
    watch(() => props.tab, (v) => (active.value = v));
    watch(active, (v) => emit("tab", v));

    const q = (fn) => (...args) => quietly(() => fn(...args));
    return {
      t, can, group, form, members, picks, busy, active, writable, MUTES, formatTime,
      saveName: q(saveName), saveAnnouncement: q(saveAnnouncement), setMuteAll: q(setMuteAll), searchMembers: q(searchMembers),
      transfer: q(transfer), dismiss: q(dismiss), mute: q(mute), remove: q(remove), loadMembers: q(loadMembers),
      searchMembersTable: q(searchMembersTable),
    };
  },
  template: `
    <el-drawer :model-value="!!groupId" size="min(880px, 100%)" :title="group ? group.name : ''" destroy-on-close data-testid="group-drawer" @close="$emit('close')">
      <div v-if="group" class="gd">
        <el-alert v-if="group.dismissed" type="warning" :closable="false" show-icon :title="t('groups.dismissedNote')" class="gd-alert" />
        <el-tabs v-model="active">
          <el-tab-pane :label="t('groups.overview')" name="overview">
            <el-descriptions :column="2" border size="small" data-testid="group-overview">
              <el-descriptions-item :label="t('groups.id')">{{ group.group_id }}</el-descriptions-item>
              <el-descriptions-item :label="t('groups.type')">{{ t('groups.type.' + group.type) }}</el-descriptions-item>
              <el-descriptions-item :label="t('groups.owner')"><span data-testid="group-owner">{{ group.owner_name || group.owner }}</span> <span class="gd-muted">{{ group.owner }}</span></el-descriptions-item>
              <el-descriptions-item :label="t('groups.memberCount')">{{ group.member_count }}</el-descriptions-item>
              <el-descriptions-item :label="t('groups.admins')">{{ group.admin_count }}</el-descriptions-item>
              <el-descriptions-item :label="t('groups.mutedNow')">{{ group.muted_count }}</el-descriptions-item>
              <el-descriptions-item :label="t('groups.created')">{{ formatTime(group.created_at) }}</el-descriptions-item>
              <el-descriptions-item :label="t('groups.pending')">{{ group.pending_requests }}</el-descriptions-item>
              <el-descriptions-item v-if="group.dismissed" :label="t('groups.dismissedAt')">{{ formatTime(group.dismissed_at) }}</el-descriptions-item>
            </el-descriptions>
            <template v-if="writable">
              <el-alert type="info" :closable="false" :title="t('groups.adminNote')" class="gd-alert" />
              <el-form label-position="top" class="gd-form" @submit.prevent>
                <el-form-item :label="t('groups.name')">
                  <div class="gd-row"><el-input v-model="form.name" maxlength="128" data-testid="group-name-input" /><el-button type="primary" :loading="busy" :disabled="!form.name.trim() || form.name.trim() === group.name" data-testid="group-name-save" @click="saveName">{{ t('groups.save') }}</el-button></div>
                </el-form-item>
                <el-form-item :label="t('groups.announcement')">
                  <el-input v-model="form.announcement" type="textarea" :rows="3" maxlength="2000" show-word-limit :placeholder="t('groups.announcementPlaceholder')" data-testid="group-announcement-input" />
                  <el-button class="gd-save" type="primary" :loading="busy" :disabled="form.announcement === (group.announcement || '')" data-testid="group-announcement-save" @click="saveAnnouncement">{{ t('groups.save') }}</el-button>
                </el-form-item>
                <el-form-item :label="t('groups.muteAll')">
                  <el-switch :model-value="group.mute_all" :loading="busy" data-testid="group-mute-all" @change="setMuteAll" />
                  <span class="gd-hint">{{ t('groups.muteAllHint') }}</span>
                </el-form-item>
                <el-form-item :label="t('groups.transfer')">
                  <div class="gd-row">
                    <el-select v-model="form.owner" filterable remote :remote-method="searchMembers" :placeholder="t('groups.transferPick')" data-testid="group-owner-pick" @visible-change="(v) => v && searchMembers('')">
                      <el-option v-for="m in picks" :key="m.user_id" :value="m.user_id" :label="m.display_name + ' (' + (m.username || m.user_id) + ')'" />
                    </el-select>
                    <el-button :disabled="!form.owner" :loading="busy" data-testid="group-transfer" @click="transfer">{{ t('groups.transferDo') }}</el-button>
                  </div>
                </el-form-item>
                <el-form-item :label="t('groups.danger')">
                  <el-button type="danger" plain :loading="busy" data-testid="group-dismiss" @click="dismiss">{{ t('groups.dismiss') }}</el-button>
                </el-form-item>
              </el-form>
            </template>
          </el-tab-pane>
          <el-tab-pane :label="t('groups.members') + ' (' + group.member_count + ')'" name="members">
            <div class="gd-row gd-toolbar">
              <el-input v-model="members.q" clearable :placeholder="t('groups.memberSearch')" data-testid="member-search" @keyup.enter="searchMembersTable" @clear="searchMembersTable" />
              <el-button @click="searchMembersTable">{{ t('groups.query') }}</el-button>
            </div>
            <el-table :data="members.rows" v-loading="members.loading" size="small" row-key="user_id" data-testid="member-table">
              <el-table-column :label="t('groups.members')" min-width="160">
                <template #default="{ row }"><div class="gd-person"><span>{{ row.display_name }}</span><span class="gd-muted">{{ row.username || row.user_id }}</span><el-tag v-if="row.disabled" size="small" type="info">{{ t('groups.disabledUser') }}</el-tag></div></template>
              </el-table-column>
              <el-table-column :label="t('groups.role')" width="90">
                <template #default="{ row }"><el-tag size="small" :type="row.role === 'owner' ? 'danger' : row.role === 'admin' ? 'warning' : 'info'" data-testid="member-role">{{ t('groups.role.' + row.role) }}</el-tag></template>
              </el-table-column>
              <el-table-column :label="t('groups.joined')" width="170"><template #default="{ row }">{{ formatTime(row.joined_at) }}</template></el-table-column>
              <el-table-column :label="t('groups.mutedUntil')" width="170"><template #default="{ row }"><span v-if="row.muted" data-testid="member-muted">{{ formatTime(row.muted_until) }}</span></template></el-table-column>
              <el-table-column v-if="writable" :label="t('groups.actions')" width="170" fixed="right">
                <template #default="{ row }">
                  <template v-if="row.role !== 'owner'">
                    <el-button v-if="row.muted" link type="primary" size="small" data-testid="member-unmute" @click="mute(row, 'off')">{{ t('groups.unmute') }}</el-button>
                    <el-dropdown v-else-if="row.role === 'member'" trigger="click" @command="(c) => mute(row, c)">
                      <el-button link type="primary" size="small" data-testid="member-mute">{{ t('groups.mute') }}</el-button>
                      <template #dropdown><el-dropdown-menu>
                        <el-dropdown-item v-for="(ms, key) in MUTES" :key="key" :command="key" :data-testid="'mute-' + key">{{ t('groups.mute.' + key) }}</el-dropdown-item>
                      </el-dropdown-menu></template>
                    </el-dropdown>
                    <el-button link type="danger" size="small" data-testid="member-remove" @click="remove(row)">{{ t('groups.remove') }}</el-button>
                  </template>
                </template>
              </el-table-column>
            </el-table>
            <el-pagination v-model:current-page="members.page" v-model:page-size="members.size" :total="members.total" :page-sizes="[20, 50, 100]" layout="total, prev, pager, next, sizes" small class="gd-pager" @current-change="loadMembers" @size-change="searchMembersTable" />
          </el-tab-pane>
          <el-tab-pane v-if="can('groups.history')" :label="t('groups.history')" name="history" lazy>
            <group-history :group-id="group.group_id" />
          </el-tab-pane>
        </el-tabs>
      </div>
    </el-drawer>`,
};
