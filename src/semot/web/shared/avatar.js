// A round-square avatar: a picture when there is one, else the initials (or a group
// glyph) coloured per id. A picture that fails to load (an expired link) falls back to
// the initials. Each app makes its own with createAvatar({ resolve }), where
// resolve(id, isGroup) gives the picture it knows for an id (the chat client's comes
// from stores/profile.js, kept current by evt profile / evt group); the default one
// shows only an explicit `src`. Styled by the `.avatar` and `.avatar-img` rules.
import { avatarColor, initials } from "./people.js";

export function createAvatar({ resolve = () => "" } = {}) {
  return {
    name: "UserAvatar",
    props: {
      id: { type: String, default: "" },
      name: { type: String, default: "" },
      size: { type: Number, default: 40 },
      group: { type: Boolean, default: false },
      src: { type: String, default: "" }, // an explicit picture (a preview), else the id's avatar
    },
    data() {
      return { failed: "" };
    },
    computed: {
      isGroup() {
        return this.group || (this.id || "").startsWith("g:");
      },
      url() {
        if (this.src) return this.src;
        return resolve(this.id, this.isGroup) || "";
      },
      showImage() {
        return !!this.url && this.failed !== this.url;
      },
      style() {
        return {
          width: `${this.size}px`,
          height: `${this.size}px`,
          fontSize: `${Math.round(this.size * (this.group ? 0.5 : 0.4))}px`,
          background: this.showImage ? "#e6e8ec" : this.group ? "linear-gradient(135deg,#4f8cff,#2563eb)" : avatarColor(this.id || this.name),
        };
      },
      letters() {
        return initials(this.name || this.id);
      },
    },
    template: `
      <span class="avatar" :style="style" aria-hidden="true" :data-avatar-src="showImage ? url : null">
        <img v-if="showImage" :src="url" alt="" class="avatar-img" loading="lazy" decoding="async" draggable="false" @error="failed = url" />
        <svg v-else-if="group" viewBox="0 0 24 24" width="60%" height="60%" fill="currentColor"><path d="M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm7.5 0a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7zM9 13c-3.3 0-7 1.6-7 4.5V20h14v-2.5C16 14.6 12.3 13 9 13zm7.5 0c-.6 0-1.3.1-1.9.2 1.4.9 2.4 2.3 2.4 4.3V20H23v-2.5c0-2.9-3.6-4.5-6.5-4.5z"/></svg>
        <template v-else>{{ letters }}</template>
      </span>`,
  };
}

export default createAvatar();
