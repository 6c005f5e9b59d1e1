// The badge on a group's row in the chat list when join requests wait for this user
// (owner and admins; issue 11). Clicking it opens the chat with the list of requests to
// approve or reject (components/group-banner.js). Renders nothing otherwise.
import { computed } from "vue";
import { t } from "../i18n.js";
import { openConv } from "../store.js";
import { openRequests, pendingRequests } from "../stores/groups.js";

const STYLE = "flex-shrink:0;margin-left:6px;border:0;border-radius:9px;padding:0 7px;height:18px;line-height:18px;font-size:11px;"
  + "background:var(--el-color-warning, #e6a23c);color:#fff;cursor:pointer";

export default {
  name: "GroupRequestsBadge",
  props: { conv: { type: String, required: true } },
  setup(props) {
    const n = computed(() => (props.conv.startsWith("g:") ? pendingRequests(props.conv) : 0));
    async function review() {
      openRequests(props.conv);
      await openConv(props.conv);
    }
    return { n, review, t, STYLE };
  },
  template: `
    <button v-if="n" type="button" :style="STYLE" :title="t('groupNotice.requestsBadge', { n })" :aria-label="t('groupNotice.requestsBadge', { n })"
            @click.stop="review" @keydown.stop data-testid="conv-requests">{{ n > 99 ? '99+' : n }}</button>`,
};
