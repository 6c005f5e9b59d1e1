// The Forward dialog: pick one or more conversations or friends (searchable by name or
// id), send a copy of the message to each, and see each target's result (sent, waiting
// for the network, or failed with the reason). Targets that failed can be sent again.
// With `msgs` (multi-select, "forward one by one") it sends each of them, in order, to
// each target; a merged forward passes its chat-history card as `msg`.
import { computed, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { t } from "../../i18n.js";
import { state, summary } from "../../store.js";
import { forwardEach, forwardTargets, forwardTo } from "../../stores/forward.js";
import UserAvatar from "../avatar.js";

const MAX_ROWS = 200;

export default {
  name: "ForwardDialog",
  components: { UserAvatar },
  props: {
    msg: { type: Object, default: null },
    msgs: { type: Array, default: null },
  },
  emits: ["close", "sent"],
  setup(props, { emit }) {
    const visible = ref(true);
    const query = ref("");
    const selected = ref([]);
    const results = reactive({}); // conv id -> {status, error}
    const busy = ref(false);
    const what = computed(() => (props.msgs ? t("fwd.whatEach", { n: props.msgs.length }) : summary(props.msg)));
    // a long list is cut (the search finds the rest): thousands of rows would make typing slow
    const matches = computed(() => forwardTargets(query.value));
    const shown = computed(() => matches.value.slice(0, MAX_ROWS));
    const more = computed(() => matches.value.length - shown.value.length);
    const done = computed(() => selected.value.length > 0 && selected.value.every((id) => results[id] && results[id].status !== "sending" && results[id].status !== "failed"));
    const anyFailed = computed(() => selected.value.some((id) => results[id] && results[id].status === "failed"));

    function toggle(id) {
      if (busy.value || (results[id] && results[id].status !== "failed")) return;
      const i = selected.value.indexOf(id);
      if (i >= 0) selected.value.splice(i, 1);
      else selected.value.push(id);
    }

    async function submit() {
      const targets = selected.value.filter((id) => !results[id] || results[id].status === "failed");
      if (!targets.length || busy.value) return;
      busy.value = true;
      try {
        const report = (id, status, error = "") => {
          results[id] = { status, error };
        };
        const r = props.msgs ? await forwardEach(targets, props.msgs, report) : await forwardTo(targets, props.msg, report);
        emit("sent", r);
        if (r.failed) ElMessage.error(t("fwd.someFailed", { n: r.failed }));
        else if (r.queued) ElMessage({ type: "info", message: t("fwd.queued", { n: r.queued }) });
        else ElMessage.success(t("fwd.done", { n: r.sent }));
      } finally {
        busy.value = false;
      }
    }

    function close() {
      visible.value = false;
    }

    return {
      visible, query, selected, results, busy, what, shown, more, done, anyFailed, toggle, submit, close,
      closed: () => emit("close"), state, t,
    };
  },
  template: `
    <el-dialog v-model="visible" :title="t('fwd.title')" append-to-body :width="state.narrow ? '92%' : '460px'" align-center
               @closed="closed" data-testid="dlg-forward">
      <div class="fwd-what" data-testid="fwd-what">{{ what }}</div>
      <el-input v-model="query" :placeholder="t('fwd.search')" :aria-label="t('fwd.search')" clearable class="fwd-search" data-testid="fwd-search">
        <template #prefix><el-icon><icon-search /></el-icon></template>
      </el-input>
      <ul class="fwd-list" role="listbox" aria-multiselectable="true" :aria-label="t('fwd.targets')" data-testid="fwd-list">
        <li v-for="x in shown" :key="x.id" class="fwd-item" role="option" :aria-selected="selected.includes(x.id) ? 'true' : 'false'"
            :class="{ picked: selected.includes(x.id) }" tabindex="0" :data-conv="x.id" data-testid="fwd-target"
            @click="toggle(x.id)" @keydown.enter.prevent="toggle(x.id)" @keydown.space.prevent="toggle(x.id)">
          <span class="fwd-check" aria-hidden="true">{{ selected.includes(x.id) ? '✓' : '' }}</span>
          <user-avatar :id="x.peer || x.id" :name="x.title" :group="x.group" :size="32" />
          <span class="fwd-text">
            <span class="fwd-title">{{ x.title }}</span>
            <span v-if="x.sub" class="fwd-sub">{{ x.sub }}</span>
          </span>
          <span v-if="results[x.id]" class="fwd-status" :class="'is-' + results[x.id].status" :data-status="results[x.id].status" data-testid="fwd-status">
            <template v-if="results[x.id].status === 'sending'"><el-icon class="is-loading"><icon-loading /></el-icon>{{ t('fwd.sending') }}</template>
            <template v-else-if="results[x.id].status === 'sent'"><el-icon><icon-circle-check /></el-icon>{{ t('fwd.sent') }}</template>
            <template v-else-if="results[x.id].status === 'queued'"><el-icon><icon-clock /></el-icon>{{ t('fwd.waiting') }}</template>
            <template v-else><el-icon><icon-warning-filled /></el-icon>{{ t('fwd.failed', { reason: results[x.id].error }) }}</template>
          </span>
        </li>
        <li v-if="more > 0" class="fwd-empty">{{ t('fwd.more', { n: more }) }}</li>
        <li v-if="!shown.length" class="fwd-empty">{{ query ? t('fwd.noMatch') : t('fwd.none') }}</li>
      </ul>
      <div class="fwd-picked" aria-live="polite" data-testid="fwd-picked">{{ t('fwd.picked', { n: selected.length }) }}</div>
      <template #footer>
        <el-button @click="close" data-testid="fwd-cancel">{{ done ? t('fwd.close') : t('common.cancel') }}</el-button>
        <el-button v-if="!done" type="primary" :loading="busy" :disabled="!selected.length" @click="submit" data-testid="fwd-send">
          {{ anyFailed ? t('fwd.retry') : t('fwd.send', { n: selected.length }) }}
        </el-button>
      </template>
    </el-dialog>`,
};
