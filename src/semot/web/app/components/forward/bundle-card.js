// A chat history (merged forward, custom type "forward_bundle") in a bubble: its title,
// the first lines ("Alice: hello", "Bob: [图片]") and the count; a click opens the viewer
// (bundle-viewer.js, mounted once per chat by the message list). All text, no HTML.
import { computed } from "vue";
import { t } from "../../i18n.js";
import { itemText, openBundle, readBundle } from "../../stores/bundles.js";
import "./styles.js";

const LINES = 4;

export default {
  name: "BundleCard",
  props: { msg: { type: Object, required: true } },
  setup(props) {
    const bundle = computed(() => readBundle(props.msg.body));
    const lines = computed(() => (bundle.value ? bundle.value.items.slice(0, LINES).map((it) => `${it.name}: ${itemText(it)}`) : []));
    return { bundle, lines, open: () => openBundle(bundle.value), t };
  },
  template: `
    <button v-if="bundle" type="button" class="bundle-card" @click="open" data-testid="bundle-card">
      <span class="bundle-title" data-testid="bundle-title">{{ bundle.title }}</span>
      <span v-for="(l, i) in lines" :key="i" class="bundle-line" data-testid="bundle-line">{{ l }}</span>
      <span class="bundle-foot">{{ t('bundle.label') }} · {{ t('bundle.count', { n: bundle.items.length }) }}</span>
    </button>
    <span v-else class="msg-text muted">{{ t('bundle.invalid') }}</span>`,
};
