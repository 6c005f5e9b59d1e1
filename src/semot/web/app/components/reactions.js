// Reactions under a message, and the in-place editor of one's own text message.
// ReactionBar: one chip per emoji (count; highlighted when I reacted; hover, or a long
// press on a phone, tells who), a click toggles my reaction; the add button offers a
// quick set and W7's emoji picker for the rest. Its popover is mounted on the first click:
// one in every row, each measuring its button as the row mounted, slowed scrolling
// (issue 11). MessageEditor: the text in a box, Enter saves, Shift+Enter breaks the line,
// Esc (or Cancel) leaves it as it was.
// Everything shown is text interpolation (names, emoji), never HTML.
import { computed, nextTick, onMounted, ref } from "vue";
import { ElMessage } from "element-plus";
import { t } from "../i18n.js";
import { client, describeError, displayName, me } from "../store.js";
import { QUICK_EMOJI, cancelEdit, reacted, saveEdit, toggleReaction } from "../stores/reactions.js";
import EmojiPicker from "./emoji-picker.js";
import "./extras/styles.js";

const CSS = "/web/app/components/reactions.css"; // linked once, like media/styles.js
if (typeof document !== "undefined" && !document.querySelector(`link[href="${CSS}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = CSS;
  document.head.appendChild(link);
}

const WHO_SHOWN = 10;

function whoText(r) {
  const names = r.users.slice(0, WHO_SHOWN).map((u) => (u === me() ? t("react.you") : displayName(u)));
  const joined = names.join(", ");
  return r.count > names.length ? t("react.andMore", { names: joined, n: r.count, emoji: r.emoji })
    : t("react.who", { names: joined, emoji: r.emoji });
}

export const ReactionBar = {
  name: "ReactionBar",
  components: { EmojiPicker },
  props: { msg: { type: Object, required: true }, conv: { type: Object, required: true } },
  setup(props) {
    const open = ref(false);
    const more = ref(false);
    const list = computed(() => props.msg.reactions || []);
    async function toggle(emoji) {
      open.value = false;
      more.value = false;
      try {
        await toggleReaction(client, props.conv, props.msg, emoji, me());
      } catch (error) {
        ElMessage.error(t("react.failed", { reason: describeError(error) }));
      }
    }
    function showWho(r) {
      ElMessage({ message: whoText(r), type: "info", grouping: true });
    }
    const armed = ref(false);
    const add = ref(null);
    async function arm() {
      if (armed.value) return;
      const focused = add.value && document.activeElement === add.value;
      armed.value = true;
      await nextTick();
      open.value = true;
      if (focused && add.value) add.value.focus(); // the reference is a new element now
    }
    return { open, more, list, armed, add, arm, toggle, showWho, whoText, mine: (e) => reacted(props.msg, e, me()), QUICK_EMOJI, t };
  },
  template: `
    <div class="reaction-bar" :class="{ empty: !list.length }" data-testid="reactions">
      <button v-for="r in list" :key="r.emoji" type="button" class="reaction-chip" :class="{ mine: mine(r.emoji) }"
        :title="whoText(r)" :aria-pressed="mine(r.emoji)" :data-emoji="r.emoji" data-testid="reaction"
        @click="toggle(r.emoji)" @contextmenu.prevent="showWho(r)">
        <span class="reaction-emoji">{{ r.emoji }}</span><span class="reaction-count" data-testid="reaction-count">{{ r.count }}</span>
      </button>
      <button v-if="!armed" ref="add" type="button" class="reaction-add" :aria-label="t('react.add')" :title="t('react.add')" data-testid="reaction-add" @click="arm">☺︎+</button>
      <el-popover v-else v-model:visible="open" trigger="click" placement="top" :width="more ? 340 : 'auto'" popper-class="reaction-popper">
        <template #reference>
          <button ref="add" type="button" class="reaction-add" :aria-label="t('react.add')" :title="t('react.add')" data-testid="reaction-add">☺︎+</button>
        </template>
        <div class="reaction-quick" data-testid="reaction-quick">
          <button v-for="e in QUICK_EMOJI" :key="e" type="button" class="reaction-pick" :class="{ mine: mine(e) }" :data-emoji="e" @click="toggle(e)">{{ e }}</button>
          <button type="button" class="reaction-pick more" :aria-label="t('react.more')" :title="t('react.more')" @click="more = !more">…</button>
        </div>
        <emoji-picker v-if="more" @pick="toggle" @close="open = false" />
      </el-popover>
    </div>`,
};

export const MessageEditor = {
  name: "MessageEditor",
  props: { msg: { type: Object, required: true }, conv: { type: Object, required: true } },
  setup(props) {
    const text = ref(props.msg.body.text || "");
    const box = ref(null);
    const saving = ref(false);
    onMounted(() => nextTick(() => box.value && box.value.focus()));
    async function save() {
      if (saving.value) return;
      if (!text.value.trim()) {
        ElMessage.warning(t("edit.empty"));
        return;
      }
      saving.value = true;
      try {
        await saveEdit(client, props.conv, props.msg, text.value);
      } catch (error) {
        const windowS = (client.serverConfig && client.serverConfig.edit_window_s) || 0;
        const reason = error && error.code === "forbidden" && /within/.test(error.message || "")
          ? t("edit.expired", { n: Math.round(windowS / 60) }) : describeError(error);
        ElMessage.error(t("edit.failed", { reason }));
      } finally {
        saving.value = false;
      }
    }
    function onKeydown(e) {
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        cancelEdit(props.conv);
      } else if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        save();
      }
    }
    return { text, box, saving, save, onKeydown, cancel: () => cancelEdit(props.conv), t };
  },
  template: `
    <div class="msg-editor" data-testid="msg-editor">
      <textarea ref="box" v-model="text" class="msg-editor-box" rows="2" @keydown="onKeydown" data-testid="msg-editor-box"></textarea>
      <div class="msg-editor-foot">
        <span class="msg-editor-hint">{{ t('edit.hint') }}</span>
        <el-button size="small" @click="cancel" data-testid="edit-cancel">{{ t('edit.cancel') }}</el-button>
        <el-button size="small" type="primary" :loading="saving" @click="save" data-testid="edit-save">{{ t('edit.save') }}</el-button>
      </div>
    </div>`,
};
