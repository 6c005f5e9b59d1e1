// Invite people to a group by searching for them (name, pinyin, username: people-picker.js)
// rather than typing usernames. Sits in the group panel's invite section; the POST and
// its outcomes (added at once, or waiting for an admin) are the group panel's own.
import { ref } from "vue";
import { ElMessage } from "element-plus";
import { t } from "../i18n.js";
import { describeError, groupApi } from "../store.js";
import PeoplePicker from "./people-picker.js";

export default {
  name: "InvitePicker",
  components: { PeoplePicker },
  props: {
    conv: { type: Object, required: true },
    exclude: { type: Array, default: () => [] }, // current members
  },
  emits: ["invited"],
  setup(props, { emit }) {
    const picked = ref([]);
    const busy = ref(false);
    async function invite() {
      if (!picked.value.length) {
        ElMessage.warning(t("people.pickOne"));
        return;
      }
      busy.value = true;
      try {
        const res = await groupApi(props.conv, "POST", "/members", { user_ids: picked.value });
        picked.value = [];
        ElMessage.success(res && res.pending && res.pending.length ? t("group.invitePending") : t("group.invited"));
        emit("invited", res);
      } catch (error) {
        ElMessage.error(describeError(error));
      } finally {
        busy.value = false;
      }
    }
    return { picked, busy, invite, t };
  },
  template: `
    <div class="invite-picker" data-testid="invite-picker">
      <people-picker v-model="picked" :exclude="exclude" testid="invite-people" />
      <el-button size="small" type="primary" :loading="busy" :disabled="!picked.length" @click="invite" data-testid="invite-picked"
                 style="margin-top: 6px">{{ t('group.inviteBtn') }}<template v-if="picked.length"> ({{ picked.length }})</template></el-button>
    </div>`,
};
