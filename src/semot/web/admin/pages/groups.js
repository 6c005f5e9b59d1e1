// Groups (群组管理): every group, searchable by name or id, filtered by type and state,
// paged; a drawer per group with its members, the owner's powers exercised by an
// administrator, and its history read-only (pages/groups/*.js). The search, filters,
// page and open group live in the address (#/groups?q=...&group=...), so a link
// reopens the same view.
import { reactive, ref } from "vue";
import { api } from "../api.js";
import { i18n, t } from "../i18n.js";
import { route, setQuery } from "../router.js";
import { can } from "../session.js";
import GroupDrawer from "./groups/drawer.js";
import { quietly } from "./groups/ui.js";
import { formatTime } from "./groups/history.js";
import messages from "./groups/messages.js";

const STYLES = "/admin/pages/groups/groups.css";
if (!document.querySelector(`link[href="${STYLES}"]`)) {
  document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href: STYLES }));
}

const TYPES = ["department", "project", "temporary"];
const STATES = ["all", "live", "dismissed"];
const SIZES = [20, 50, 100];

const GroupsPage = {
  name: "GroupsPage",
  components: { GroupDrawer },
  setup() {
    const q = route.query;
    const filters = reactive({
      q: q.q || "",
      type: TYPES.includes(q.type) ? q.type : "",
      state: STATES.includes(q.state) ? q.state : "all",
    });
    const paging = reactive({ page: Math.max(1, Number(q.page) || 1), size: SIZES.includes(Number(q.size)) ? Number(q.size) : 20 });
    const rows = ref([]);
    const total = ref(0);
    const loading = ref(false);
    const open = ref(q.group || "");
    const tab = ref(q.tab || "overview");

    function remember() {
      setQuery({
        q: filters.q.trim(), type: filters.type, state: filters.state === "all" ? "" : filters.state,
        page: paging.page > 1 ? paging.page : "", size: paging.size === 20 ? "" : paging.size,
        group: open.value, tab: open.value && tab.value !== "overview" ? tab.value : "",
      });
    }

    async function load() {
      loading.value = true;
      remember();
      try {
        const page = await api.get("/groups", {
          q: filters.q.trim(), type: filters.type, state: filters.state,
          offset: (paging.page - 1) * paging.size, limit: paging.size,
        });
        rows.value = page.groups;
        total.value = page.total;
      } finally {
        loading.value = false;
      }
    }

    const reload = () => quietly(load);
    function search() {
      paging.page = 1;
      reload();
    }
    function reset() {
      Object.assign(filters, { q: "", type: "", state: "all" });
      search();
    }
    function show(row, which = "overview") {
      tab.value = which;
      open.value = row.group_id;
      remember();
    }
    function close() {
      open.value = "";
      tab.value = "overview";
      remember();
    }
    function onTab(which) {
      tab.value = which;
      remember();
    }

    reload();
    return {
      t, i18n, can, filters, paging, rows, total, loading, open, tab, TYPES, STATES, SIZES,
      reload, search, reset, show, close, onTab, formatTime,
    };
  },
  template: `
    <div class="adm-page groups-page" data-testid="groups-page">
      <el-form :inline="true" class="groups-filters" @submit.prevent="search">
        <el-form-item>
          <el-input v-model="filters.q" clearable :placeholder="t('groups.search')" maxlength="128" data-testid="groups-search" @clear="search">
            <template #prefix><icon-search /></template>
          </el-input>
        </el-form-item>
        <el-form-item>
          <el-select v-model="filters.type" :placeholder="t('groups.typeAll')" clearable style="width: 140px" data-testid="groups-type" @change="search">
            <el-option v-for="ty in TYPES" :key="ty" :value="ty" :label="t('groups.type.' + ty)" />
          </el-select>
        </el-form-item>
        <el-form-item>
          <el-select v-model="filters.state" style="width: 130px" data-testid="groups-state" @change="search">
            <el-option v-for="st in STATES" :key="st" :value="st" :label="t('groups.state.' + st)" />
          </el-select>
        </el-form-item>
        <el-form-item>
          <el-button type="primary" native-type="submit" data-testid="groups-query">{{ t('groups.query') }}</el-button>
          <el-button @click="reset">{{ t('groups.reset') }}</el-button>
        </el-form-item>
      </el-form>
      <el-table :data="rows" v-loading="loading" row-key="group_id" stripe :empty-text="t('groups.empty')" data-testid="groups-table" @row-dblclick="(row) => show(row)">
        <el-table-column :label="t('groups.name')" min-width="200">
          <template #default="{ row }">
            <div class="groups-name">
              <el-avatar :size="28" :src="row.avatar_url || undefined" shape="square">{{ row.name.slice(0, 1) }}</el-avatar>
              <div><div class="groups-title" data-testid="group-name">{{ row.name }}</div><div class="groups-sub">{{ row.group_id }}</div></div>
            </div>
          </template>
        </el-table-column>
        <el-table-column :label="t('groups.type')" width="100"><template #default="{ row }"><el-tag size="small" effect="plain">{{ t('groups.type.' + row.type) }}</el-tag></template></el-table-column>
        <el-table-column :label="t('groups.owner')" min-width="140">
          <template #default="{ row }"><div>{{ row.owner_name || row.owner }}</div><div class="groups-sub">{{ row.owner }}</div></template>
        </el-table-column>
        <el-table-column :label="t('groups.memberCount')" prop="member_count" width="90" align="right" />
        <el-table-column :label="t('groups.created')" width="170"><template #default="{ row }">{{ formatTime(row.created_at) }}</template></el-table-column>
        <el-table-column :label="t('groups.state')" width="150">
          <template #default="{ row }">
            <el-tag v-if="row.dismissed" size="small" type="info" data-testid="group-dismissed">{{ t('groups.state.dismissed') }}</el-tag>
            <el-tag v-else size="small" type="success">{{ t('groups.state.live') }}</el-tag>
            <el-tag v-if="row.mute_all && !row.dismissed" size="small" type="warning" class="groups-tag" data-testid="group-mute-all-tag">{{ t('groups.muteAll') }}</el-tag>
          </template>
        </el-table-column>
        <el-table-column :label="t('groups.actions')" width="170" fixed="right">
          <template #default="{ row }">
            <el-button link type="primary" size="small" data-testid="group-details" @click="show(row)">{{ t('groups.details') }}</el-button>
            <el-button v-if="can('groups.history')" link type="primary" size="small" data-testid="group-history-open" @click="show(row, 'history')">{{ t('groups.history') }}</el-button>
          </template>
        </el-table-column>
      </el-table>
      <div class="groups-footer">
        <el-pagination v-model:current-page="paging.page" v-model:page-size="paging.size" :total="total" :page-sizes="SIZES"
          layout="total, sizes, prev, pager, next, jumper" background data-testid="groups-pager" @current-change="reload" @size-change="search" />
      </div>
      <group-drawer :group-id="open" :tab="tab" @close="close" @changed="reload" @tab="onTab" />
    </div>`,
};

export default {
  name: "groups",
  perm: "groups.view",
  icon: "ChatDotRound",
  order: 60,
  title: "menu.groups",
  component: GroupsPage,
  messages,
};
