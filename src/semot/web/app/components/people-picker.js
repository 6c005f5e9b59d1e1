// Pick people by searching, not by typing exact usernames: used for contact cards, group
// invitations, new groups and "add friend". One search box finds
//   - friends, by remark, display name or username (local, at once);
//   - the org directory, by display name, username, full pinyin or initials (张伟: zhangwei,
//     zw), with departments and titles (GET /api/v1/directory/search: what every signed-in
//     user may browse anyway);
//   - anyone by their exact username (GET /api/v1/users?ids=: public profiles), so a
//     server without a directory still finds people.
// No new server search: what one finds is what the directory and profiles already show,
// and whether one may then message or befriend them stays the server's decision.
import { computed, onBeforeUnmount, ref, watch } from "vue";
import { t } from "../i18n.js";
import { client, displayName, me, rememberName, state } from "../store.js";
import { rememberAvatars } from "../stores/profile.js";
import UserAvatar from "./avatar.js";
import "./people-styles.js";

const ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const DELAY = 250; // ms of no typing before asking the server

/** Search people (friends first, then the directory, then an exact username); [{user_id, name, sub}]. */
export async function findPeople(query, { limit = 20 } = {}) {
  const q = query.trim().replace(/^@/, "");
  if (!q) return [];
  const lower = q.toLowerCase();
  const out = new Map();
  for (const f of state.contacts.friends) {
    if ([f.user_id, f.remark, f.display_name].some((x) => x && x.toLowerCase().includes(lower))) {
      out.set(f.user_id, { user_id: f.user_id, name: displayName(f.user_id), sub: `@${f.user_id}`, friend: true });
    }
  }
  const [dir, exact] = await Promise.all([
    client.searchPeople(q.slice(0, 64), limit).catch(() => []),
    ID_RE.test(q) ? client.users([q]).catch(() => []) : Promise.resolve([]),
  ]);
  rememberAvatars(dir);
  rememberAvatars(exact);
  for (const p of [...exact, ...dir]) {
    if (p.display_name) rememberName(p.user_id, p.display_name);
    if (out.has(p.user_id)) continue;
    const dept = (p.departments || []).map((d) => (d.title ? `${d.name} · ${d.title}` : d.name)).join(", ");
    out.set(p.user_id, { user_id: p.user_id, name: p.display_name || p.user_id, sub: dept || `@${p.username || p.user_id}` });
  }
  return [...out.values()].slice(0, limit);
}

export default {
  name: "PeoplePicker",
  components: { UserAvatar },
  props: {
    modelValue: { type: Array, default: () => [] }, // picked user ids
    multiple: { type: Boolean, default: true },
    exclude: { type: Array, default: () => [] }, // not offered (already members, me)
    testid: { type: String, default: "people-picker" },
    inputTestid: { type: String, default: "pp-search" },
    chips: { type: Boolean, default: true }, // show the picked as closable tags (off: the host shows them)
  },
  emits: ["update:modelValue", "pick", "query"],
  setup(props, { emit }) {
    const query = ref("");
    const results = ref([]);
    const searching = ref(false);
    const searched = ref("");
    let timer = null;
    let seq = 0;
    const excluded = computed(() => new Set([me(), ...props.exclude]));
    const shown = computed(() => results.value.filter((r) => !excluded.value.has(r.user_id)));

    async function run(q) {
      const mine = ++seq;
      searching.value = true;
      const found = await findPeople(q);
      if (mine !== seq) return;
      results.value = found;
      searched.value = q;
      searching.value = false;
    }
    watch(query, (q) => {
      emit("query", q);
      clearTimeout(timer);
      if (!q.trim()) {
        seq += 1;
        results.value = [];
        searched.value = "";
        searching.value = false;
        return;
      }
      searching.value = true;
      timer = setTimeout(() => run(q), DELAY);
    });
    onBeforeUnmount(() => clearTimeout(timer));

    function picked(id) {
      return props.modelValue.includes(id);
    }
    function toggle(r) {
      rememberName(r.user_id, r.name);
      if (!props.multiple) {
        emit("update:modelValue", [r.user_id]);
        emit("pick", r);
        return;
      }
      const next = picked(r.user_id) ? props.modelValue.filter((x) => x !== r.user_id) : [...props.modelValue, r.user_id];
      emit("update:modelValue", next);
      emit("pick", r);
    }
    function unpick(id) {
      emit("update:modelValue", props.modelValue.filter((x) => x !== id));
    }
    return { query, shown, searching, searched, picked, toggle, unpick, displayName, t };
  },
  template: `
    <div class="people-picker" :data-testid="testid">
      <div v-if="chips && multiple && modelValue.length" class="pp-chips" data-testid="pp-chips">
        <el-tag v-for="id in modelValue" :key="id" closable @close="unpick(id)" data-testid="pp-chip" :data-user="id">{{ displayName(id) }}</el-tag>
      </div>
      <el-input v-model="query" :placeholder="t('people.search')" :aria-label="t('people.search')" clearable :data-testid="inputTestid">
        <template #prefix><el-icon><icon-search /></el-icon></template>
      </el-input>
      <ul class="pp-results" role="listbox" :aria-multiselectable="multiple" data-testid="pp-results">
        <li v-for="r in shown" :key="r.user_id" class="pp-row" :class="{ picked: picked(r.user_id) }" role="option" :aria-selected="picked(r.user_id)"
            tabindex="0" @click="toggle(r)" @keydown.enter.prevent="toggle(r)" data-testid="pp-result" :data-user="r.user_id">
          <user-avatar :id="r.user_id" :name="r.name" :size="32" />
          <div class="pp-text"><div class="pp-name">{{ r.name }}</div><div class="pp-sub">{{ r.sub }}</div></div>
          <el-icon v-if="picked(r.user_id)" class="pp-check"><icon-check /></el-icon>
        </li>
      </ul>
      <p v-if="searching" class="pp-hint">{{ t('people.searching') }}</p>
      <p v-else-if="searched && !shown.length" class="pp-hint pp-none" data-testid="pp-none">{{ t('people.noOne') }}</p>
      <p v-else-if="!searched" class="pp-hint">{{ t('people.typeToSearch') }}</p>
    </div>`,
};
