// The connection banner: connecting / reconnecting / offline / closed, with the number of
// messages waiting in the outbox and a way to reconnect at once.
import { computed, onBeforeUnmount, ref } from "vue";
import { t } from "../i18n.js";
import { client, state } from "../store.js";

export default {
  name: "ConnBanner",
  setup() {
    // A first "connecting" that is over quickly is not worth a flash of yellow.
    const grace = ref(true);
    const timer = setTimeout(() => (grace.value = false), 800);
    onBeforeUnmount(() => clearTimeout(timer));
    const kind = computed(() => {
      const s = state.connection;
      if (s === "open") return null;
      if (s === "closed") {
        if (state.closeCode === 4409) return "replaced";
        if (state.closeCode === 1008) return "disabled";
        return "closed";
      }
      if (s === "offline") return "offline";
      if (s === "reconnecting") return "reconnecting";
      if (s === "connecting" || s === "idle") return grace.value ? null : "connecting";
      return null;
    });
    const text = computed(() => (kind.value ? t(`conn.${kind.value}`) : ""));
    const action = computed(() => {
      if (kind.value === "replaced") return t("conn.useHere");
      if (kind.value === "reconnecting" || kind.value === "closed" || kind.value === "offline") return t("conn.retry");
      return "";
    });
    function act() {
      client.reconnectNow();
    }
    return { kind, text, action, act, state, t };
  },
  template: `
    <transition name="banner">
      <div v-if="kind" class="conn-banner" :class="'conn-' + kind" role="status" aria-live="polite" data-testid="conn-banner" :data-state="kind">
        <el-icon v-if="kind === 'connecting' || kind === 'reconnecting'" class="is-loading"><icon-loading /></el-icon>
        <el-icon v-else><icon-warning-filled /></el-icon>
        <span class="conn-text">{{ text }}</span>
        <span v-if="state.outboxCount" class="conn-pending">· {{ t('conn.pending', { n: state.outboxCount }) }}</span>
        <el-button v-if="action" size="small" text class="conn-action" @click="act">{{ action }}</el-button>
      </div>
    </transition>`,
};
