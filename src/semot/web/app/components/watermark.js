// The watermark (水印) the administrator may switch on: the viewer's name and id, faint
// and tilted, over the whole client, so a photo of the screen says whose screen it was.
// Drawn as an SVG background (no DOM per tile, no pointer events); the name is escaped
// for XML and the whole picture URL-encoded, so no name can break out of it.
import { computed } from "vue";
import { state } from "../store.js";
import { clientConfig } from "../stores/client-config.js";

function xml(s) {
  return String(s).replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export default {
  name: "ClientWatermark",
  setup() {
    const text = computed(() => {
      const me = state.me || {};
      const id = me.user_id || me.id || "";
      const name = me.display_name || id;
      return name && id && name !== id ? `${name} ${id}` : name || id;
    });
    const style = computed(() => {
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="260" height="160"><text x="20" y="100" ` +
        `transform="rotate(-22 130 80)" font-family="system-ui,sans-serif" font-size="15" fill="#1f2a44" ` +
        `fill-opacity="0.09">${xml(text.value)}</text></svg>`;
      return { backgroundImage: `url("data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}")` };
    });
    return { clientConfig, text, style };
  },
  template: `<div v-if="clientConfig.watermark && text" class="client-watermark" :style="style" aria-hidden="true" data-testid="watermark" :data-text="text"></div>`,
};
