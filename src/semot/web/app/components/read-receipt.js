// "N unread / N人未读" (or "All read / 全部已读") under my own group messages; a click
// lists who has read and who has not. Counted on the client from the group's read
// positions (stores/receipts.js); nothing is shown for groups beyond the server's
// read_receipts_max_group, whose read marks the server keeps private. The list's popover
// is mounted on the first click, not with every row (issue 11: per-row popovers, each
// measuring its button as the row mounts, slowed scrolling); a plain button stands in.
import { computed, nextTick, onMounted, ref } from "vue";
import { t } from "../i18n.js";
import { displayName } from "../store.js";
import { loadReads, readersOf, receipts, receiptsLimit } from "../stores/receipts.js";
import UserAvatar from "./avatar.js";
import "./people-styles.js";

export default {
  name: "ReadReceipt",
  components: { UserAvatar },
  props: {
    msg: { type: Object, required: true },
    conv: { type: Object, required: true },
  },
  setup(props) {
    const tooBig = computed(() => (props.conv.memberCount || props.conv.members.length) > receiptsLimit());
    onMounted(() => {
      if (!tooBig.value) loadReads(props.conv.id);
    });
    const who = computed(() => (tooBig.value || receipts.off[props.conv.id] ? null : readersOf(props.conv.id, props.msg.seq, props.msg.from, props.msg.ts)));
    const label = computed(() => {
      const w = who.value;
      if (!w) return "";
      return w.unread.length ? t("people.unread", { n: w.unread.length }) : t("people.allRead");
    });
    const armed = ref(false);
    const open = ref(false);
    const btn = ref(null);
    async function arm() {
      if (armed.value) return;
      const focused = btn.value && document.activeElement === btn.value;
      armed.value = true;
      await nextTick();
      open.value = true;
      if (focused && btn.value) btn.value.focus(); // the reference is a new element now
    }
    const shown = computed(() => !!who.value && (who.value.read.length > 0 || who.value.unread.length > 0));
    return { who, shown, label, armed, open, btn, arm, t, displayName };
  },
  template: `
    <button v-if="shown && !armed" ref="btn" type="button" class="rr-btn" :class="{ 'rr-all': !who.unread.length }" data-testid="read-receipt"
      :data-unread="who.unread.length" @click="arm">{{ label }}</button>
    <el-popover v-else-if="shown" v-model:visible="open" trigger="click" placement="top" :width="300" popper-class="rr-pop">
      <template #reference>
        <button ref="btn" type="button" class="rr-btn" :class="{ 'rr-all': !who.unread.length }" data-testid="read-receipt" :data-unread="who.unread.length">{{ label }}</button>
      </template>
      <div class="rr-cols" data-testid="read-receipt-list">
        <div class="rr-col" data-testid="rr-unread">
          <h4>{{ t('people.unreadList', { n: who.unread.length }) }}</h4>
          <ul><li v-for="u in who.unread" :key="u" data-testid="rr-user" :data-user="u"><user-avatar :id="u" :name="displayName(u)" :size="20" />{{ displayName(u) }}</li></ul>
        </div>
        <div class="rr-col" data-testid="rr-read">
          <h4>{{ t('people.readList', { n: who.read.length }) }}</h4>
          <ul><li v-for="u in who.read" :key="u" data-testid="rr-user" :data-user="u"><user-avatar :id="u" :name="displayName(u)" :size="20" />{{ displayName(u) }}</li></ul>
        </div>
      </div>
    </el-popover>`,
};
