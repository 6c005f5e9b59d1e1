// The bar at the bottom of a chat in selection mode (message menu -> Select): how many
// messages are picked, "Forward one by one", "Merged forward" and Cancel (or Esc).
// It also hosts the Forward dialog for the selection: a row's dialog would vanish with
// the row when the virtual list scrolls it away.
import { computed, onBeforeUnmount, onMounted, ref, shallowRef } from "vue";
import { t } from "../../i18n.js";
import { state } from "../../store.js";
import { bundleProblem, makeBundle, MAX_ITEMS, viewing } from "../../stores/bundles.js";
import { endSelect, pickedMessages, selection } from "../../stores/selection.js";
import ForwardDialog from "../media/forward-dialog.js";
import "./styles.js";

export default {
  name: "SelectionBar",
  components: { ForwardDialog },
  props: { conv: { type: Object, required: true } },
  setup(props) {
    const picked = computed(() => {
      selection.seqs.size; // eslint-disable-line no-unused-expressions
      return pickedMessages(props.conv);
    });
    const count = computed(() => picked.value.length);
    const bundle = computed(() => (count.value ? makeBundle(props.conv, picked.value) : null));
    const problem = computed(() => (bundle.value ? bundleProblem(bundle.value, count.value) : ""));
    // what the open dialog sends, frozen when it opened: {msgs} or {msg}
    const job = shallowRef(null);
    const sentSome = ref(false);

    function forwardEachOne() {
      if (!count.value) return;
      sentSome.value = false;
      job.value = { msgs: picked.value.slice() };
    }
    function forwardMerged() {
      if (!count.value || problem.value) return;
      sentSome.value = false;
      job.value = { msg: { kind: "custom", body: bundle.value } };
    }
    function onSent(r) {
      if (r && (r.sent || r.queued)) sentSome.value = true;
    }
    function onDialogClosed() {
      job.value = null;
      if (sentSome.value) endSelect(); // done: back to the chat as it was
    }

    function onKey(e) {
      if (e.key !== "Escape" || job.value || viewing.value.length) return;
      // another dialog (a lightbox, a profile) takes its own Esc
      if ([...document.querySelectorAll(".el-overlay")].some((el) => el.getClientRects().length > 0)) return;
      e.preventDefault();
      endSelect();
    }
    onMounted(() => document.addEventListener("keydown", onKey));
    onBeforeUnmount(() => document.removeEventListener("keydown", onKey));

    return { count, problem, job, forwardEachOne, forwardMerged, onSent, onDialogClosed, endSelect, MAX_ITEMS, state, t };
  },
  template: `
    <div class="sel-bar" role="toolbar" :aria-label="t('sel.bar')" data-testid="sel-bar">
      <span class="sel-count" aria-live="polite" data-testid="sel-count">{{ t('sel.count', { n: count }) }}</span>
      <span v-if="!state.narrow" class="sel-hint">{{ t('sel.hint') }}</span>
      <el-button :disabled="!count" @click="forwardEachOne" data-testid="sel-each">{{ t('sel.each') }}</el-button>
      <el-button type="primary" :disabled="!count || !!problem" :title="problem || undefined" @click="forwardMerged" data-testid="sel-merged">{{ t('sel.merged') }}</el-button>
      <el-button @click="endSelect" data-testid="sel-cancel">{{ t('common.cancel') }}</el-button>
      <div v-if="problem" class="sel-problem" role="alert" data-testid="sel-problem">{{ problem }}</div>
      <forward-dialog v-if="job" :msg="job.msg || null" :msgs="job.msgs || null" @sent="onSent" @close="onDialogClosed" />
    </div>`,
};
