// Quick phrases (快捷短语) from the client configuration: a composer button opening a
// list; a click (or Enter) puts the phrase into the draft at the caret, to be edited or
// sent. Phrases are the administrator's text: shown with {{ }} only, never as HTML.
import { computed, ref } from "vue";
import { t } from "../i18n.js";
import { clientConfig } from "../stores/client-config.js";

export default {
  name: "QuickPhrases",
  emits: ["pick"],
  setup(_, { emit }) {
    const open = ref(false);
    const phrases = computed(() => clientConfig.quick_phrases || []);
    function pick(p) {
      open.value = false;
      emit("pick", p);
    }
    return { open, phrases, pick, t };
  },
  template: `
    <el-popover v-if="phrases.length" v-model:visible="open" trigger="click" placement="top-start" :width="300" popper-class="quick-phrases-popper">
      <template #reference>
        <button class="tool quick-phrases-btn" type="button" :aria-label="t('phrases.title')" :title="t('phrases.title')" data-testid="quick-phrases-btn">
          <span aria-hidden="true">💬</span>
        </button>
      </template>
      <div class="quick-phrases" role="listbox" :aria-label="t('phrases.title')" data-testid="quick-phrases">
        <p class="quick-phrases-head">{{ t('phrases.title') }}</p>
        <button v-for="(p, i) in phrases" :key="i" type="button" role="option" class="quick-phrase" :title="p"
                @click="pick(p)" data-testid="quick-phrase">{{ p }}</button>
      </div>
    </el-popover>`,
};
