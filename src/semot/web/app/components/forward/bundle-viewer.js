// The read-only viewer of a chat history (merged forward): every item with its sender,
// time and content as text. File items (image, voice, video, file) are labels: the
// recipient may not read a file that only a custom payload references (stores/bundles.js),
// so the viewer says so rather than loading bytes. A chat history inside one opens on top
// (Back returns). One per chat, mounted by the message list.
import { computed } from "vue";
import { t } from "../../i18n.js";
import { state } from "../../store.js";
import { fullTime } from "../../util.js";
import { backBundle, BUNDLE_TYPE, closeBundles, itemText, openBundle, readBundle, viewing } from "../../stores/bundles.js";
import UserAvatar from "../avatar.js";
import "./styles.js";

const FILE_KINDS = new Set(["image", "voice", "video", "file"]);

export default {
  name: "BundleViewer",
  components: { UserAvatar },
  setup() {
    const top = computed(() => viewing.value[viewing.value.length - 1] || null);
    const visible = computed({ get: () => !!top.value, set: (v) => { if (!v) closeBundles(); } });
    const rows = computed(() => (top.value ? top.value.items.map((it) => ({
      ...it,
      text: itemText(it),
      label: it.kind !== "text",
      nested: it.kind === "custom" && it.body.type === BUNDLE_TYPE ? readBundle(it.body) : null,
    })) : []));
    const hasFiles = computed(() => rows.value.some((r) => FILE_KINDS.has(r.kind)));
    return { top, visible, rows, hasFiles, depth: computed(() => viewing.value.length), backBundle, openBundle, fullTime, state, t };
  },
  template: `
    <el-dialog v-model="visible" :title="top ? top.title : ''" append-to-body :width="state.narrow ? '94%' : '520px'" align-center data-testid="bundle-viewer">
      <ul class="bundle-list" data-testid="bundle-items">
        <li v-for="(r, i) in rows" :key="i" class="bundle-item" data-testid="bundle-item" :data-kind="r.kind">
          <user-avatar :id="r.from" :name="r.name" :size="32" />
          <div class="bundle-item-main">
            <div class="bundle-item-head"><span data-testid="bundle-item-name">{{ r.name }}</span><span>{{ r.ts ? fullTime(r.ts) : '' }}</span></div>
            <button v-if="r.nested" type="button" class="bundle-item-text nested" @click="openBundle(r.nested)" data-testid="bundle-item-text">{{ r.text }}</button>
            <div v-else class="bundle-item-text" :class="{ label: r.label }" data-testid="bundle-item-text">{{ r.text }}</div>
          </div>
        </li>
      </ul>
      <div v-if="hasFiles" class="bundle-note" data-testid="bundle-note">{{ t('bundle.filesNote') }}</div>
      <template #footer>
        <el-button v-if="depth > 1" @click="backBundle" data-testid="bundle-back">{{ t('bundle.back') }}</el-button>
        <el-button type="primary" @click="visible = false" data-testid="bundle-close">{{ t('fwd.close') }}</el-button>
      </template>
    </el-dialog>`,
};
