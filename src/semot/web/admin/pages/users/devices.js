// The devices drawer: a user's live logins (platform, address, when signed in, last
// connected, online now) with a button that ends one ("sign out": its tokens stop
// working and its sockets close on every node), and the devices connected right now.
import { ref, watch } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { api } from "../../api.js";
import { t } from "../../i18n.js";
import { can } from "../../session.js";
import { formatTime, platformName } from "./common.js";

export default {
  name: "DevicesDrawer",
  props: { user: { type: Object, default: null } },
  emits: ["close", "changed"],
  setup(props, { emit }) {
    const data = ref(null);
    const loading = ref(false);

    async function load() {
      if (!props.user) return;
      loading.value = true;
      try {
        data.value = await api.get(`/users/${encodeURIComponent(props.user.user_id)}/devices`);
      } catch {
        /* shown */
      } finally {
        loading.value = false;
      }
    }

    async function kick(login) {
      try {
        await ElMessageBox.confirm(t("users.kickConfirm"), t("users.confirmTitle"), { type: "warning" });
      } catch {
        return; // cancelled
      }
      try {
        await api.del(`/users/${encodeURIComponent(props.user.user_id)}/devices/${encodeURIComponent(login.login_id)}`);
        ElMessage({ type: "success", message: t("users.kicked") });
        emit("changed");
      } catch {
        /* shown */
      }
      await load();
    }

    watch(() => props.user && props.user.user_id, (id) => {
      data.value = null;
      if (id) load();
    }, { immediate: true });

    return { data, loading, load, kick, can, formatTime, platformName, t };
  },
  template: `
    <el-drawer :model-value="!!user" :title="user ? t('users.devicesTitle', { name: user.display_name }) : ''" size="min(720px, 100%)"
      append-to-body @close="$emit('close')" data-testid="devices-drawer">
      <div v-loading="loading" class="users-devices">
        <div class="users-devices-head">
          <el-tag v-if="data && data.online" type="success" data-testid="devices-online">{{ t('users.devicesOnline', { n: data.connections.length }) }}</el-tag>
          <el-tag v-else-if="data" type="info" data-testid="devices-offline">{{ t('users.devicesOffline') }}</el-tag>
          <span class="adm-spacer"></span>
          <el-button size="small" data-testid="devices-refresh" @click="load"><icon-refresh style="width: 1em; height: 1em" />&nbsp;{{ t('users.refresh') }}</el-button>
        </div>
        <h3 class="users-devices-title">{{ t('users.logins') }}</h3>
        <el-table v-if="data" :data="data.logins" row-key="login_id" :empty-text="t('users.noLogins')" size="small" data-testid="devices-logins">
          <el-table-column type="expand">
            <template #default="{ row }">
              <el-table :data="row.devices" size="small" class="users-subtable">
                <el-table-column :label="t('users.device')" prop="device_id" min-width="160" />
                <el-table-column :label="t('users.platform')" width="90"><template #default="{ row: d }">{{ platformName(d.platform) }}</template></el-table-column>
                <el-table-column :label="t('users.ip')" prop="ip" width="130" />
                <el-table-column :label="t('users.lastActive')" width="170"><template #default="{ row: d }">{{ formatTime(d.last_seen) }}</template></el-table-column>
                <el-table-column width="80"><template #default="{ row: d }"><el-tag v-if="d.online" size="small" type="success">{{ t('users.online') }}</el-tag></template></el-table-column>
              </el-table>
            </template>
          </el-table-column>
          <el-table-column :label="t('users.platform')" width="100">
            <template #default="{ row }"><span data-testid="login-platform">{{ platformName(row.platform) }}</span></template>
          </el-table-column>
          <el-table-column :label="t('users.ip')" min-width="120"><template #default="{ row }">{{ row.ip || t('users.unknown') }}</template></el-table-column>
          <el-table-column :label="t('users.loginAt')" width="165"><template #default="{ row }">{{ formatTime(row.created_at) }}</template></el-table-column>
          <el-table-column :label="t('users.lastActive')" width="165"><template #default="{ row }">{{ row.last_seen ? formatTime(row.last_seen) : formatTime(row.refreshed_at) }}</template></el-table-column>
          <el-table-column width="80">
            <template #default="{ row }"><el-tag v-if="row.online" size="small" type="success" data-testid="login-online">{{ t('users.online') }}</el-tag></template>
          </el-table-column>
          <el-table-column v-if="can('users.write')" width="100" fixed="right">
            <template #default="{ row }">
              <el-button link type="danger" size="small" data-testid="login-kick" @click="kick(row)">{{ t('users.kick') }}</el-button>
            </template>
          </el-table-column>
        </el-table>
        <h3 class="users-devices-title">{{ t('users.connections') }}</h3>
        <el-table v-if="data" :data="data.connections" row-key="device_id" :empty-text="t('users.noConnections')" size="small" data-testid="devices-connections">
          <el-table-column :label="t('users.device')" prop="device_id" min-width="180" />
          <el-table-column :label="t('users.platform')" width="100"><template #default="{ row }">{{ platformName(row.platform) }}</template></el-table-column>
          <el-table-column :label="t('users.ip')" width="140"><template #default="{ row }">{{ row.ip || t('users.unknown') }}</template></el-table-column>
        </el-table>
      </div>
    </el-drawer>`,
};
