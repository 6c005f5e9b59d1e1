// The conversation list: search, new chat / new group, and one row per conversation
// (avatar, title, time, preview, unread badge), most recent activity first.
import { computed } from "vue";
import { t } from "../i18n.js";
import { convTitle, openConv, previewText, sortedConvs, state, ui } from "../store.js";
import { shortTime } from "../util.js";
import UserAvatar from "./avatar.js";
import UserMenu from "./user-menu.js";

export default {
  name: "ConvList",
  components: { UserAvatar, UserMenu },
  setup() {
    const rows = computed(() =>
      sortedConvs().map((c) => ({
        c,
        title: convTitle(c),
        preview: previewText(c),
        time: shortTime(Math.max(c.lastTs || 0, c.pending.length ? c.pending[c.pending.length - 1].ts : 0), state.today),
        failed: c.pending.some((p) => p.status === "failed"),
        sending: c.pending.length > 0,
      })),
    );
    const empty = computed(() => Object.keys(state.convs).length === 0 || !rows.value.length);
    function onCommand(cmd) {
      ui.dialog = cmd;
    }
    function onKey(e, id) {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        openConv(id);
      }
    }
    return { rows, empty, state, t, openConv, onCommand, onKey };
  },
  template: `
    <div class="conv-list-wrap">
      <div class="sidebar-head">
        <user-menu v-if="state.narrow" :size="34" />
        <h1 v-if="state.narrow" class="sidebar-title">{{ t('nav.chats') }}</h1>
        <el-input v-model="state.search" :placeholder="t('list.search')" :aria-label="t('list.searchLabel')" clearable class="conv-search" data-testid="conv-search">
          <template #prefix><el-icon><icon-search /></el-icon></template>
        </el-input>
        <el-dropdown trigger="click" @command="onCommand">
          <el-button class="new-btn" :aria-label="t('list.new')" data-testid="new-menu"><el-icon><icon-plus /></el-icon></el-button>
          <template #dropdown>
            <el-dropdown-menu>
              <el-dropdown-item command="newChat" data-testid="new-chat"><el-icon><icon-user /></el-icon>{{ t('list.newChat') }}</el-dropdown-item>
              <el-dropdown-item command="newGroup" data-testid="new-group"><el-icon><icon-user-filled /></el-icon>{{ t('list.newGroup') }}</el-dropdown-item>
              <el-dropdown-item command="findGroup" data-testid="find-group"><el-icon><icon-search /></el-icon>{{ t('list.findGroup') }}</el-dropdown-item>
            </el-dropdown-menu>
          </template>
        </el-dropdown>
      </div>
      <ul v-show="!empty" class="conv-list" role="list" :aria-label="t('nav.chats')" data-testid="conv-list">
        <li v-for="r in rows" :key="r.c.id" role="listitem">
          <div class="conv-item" :class="{ active: r.c.id === state.activeId }" role="button" tabindex="0"
               :aria-current="r.c.id === state.activeId ? 'true' : undefined"
               :aria-label="r.title + (r.c.unread ? ', ' + t('list.unread', { n: r.c.unread }) : '')"
               :data-conv="r.c.id" data-testid="conv-item"
               @click="openConv(r.c.id)" @keydown="onKey($event, r.c.id)">
            <el-badge :value="r.c.unread" :hidden="!r.c.unread" :max="99" class="conv-badge" data-testid="unread-badge">
              <user-avatar :id="r.c.peer || r.c.id" :name="r.title" :group="r.c.type === 'group'" :size="44" />
            </el-badge>
            <div class="conv-body">
              <div class="conv-top">
                <span class="conv-title" data-testid="conv-title">{{ r.title }}</span>
                <span class="conv-time">{{ r.time }}</span>
              </div>
              <div class="conv-preview">
                <el-icon v-if="r.failed" class="conv-failed"><icon-warning-filled /></el-icon>
                <el-icon v-else-if="r.sending" class="conv-sending"><icon-clock /></el-icon>
                <span v-if="r.c.mentioned" class="conv-mention">{{ t('list.mentioned') }}</span>
                <span v-else-if="r.c.draft && r.c.id !== state.activeId" class="conv-mention">{{ t('list.draft') }}</span>
                <span class="conv-preview-text" data-testid="conv-preview">{{ r.c.draft && r.c.id !== state.activeId ? r.c.draft : r.preview }}</span>
              </div>
            </div>
          </div>
        </li>
      </ul>
      <div v-if="empty" class="conv-empty">
        <template v-if="state.search">{{ t('list.noResults') }}</template>
        <template v-else>
          <p>{{ t('list.empty') }}</p>
          <p class="conv-empty-hint">{{ t('list.emptyHint') }}</p>
        </template>
      </div>
    </div>`,
};
