// The composer: text with Enter to send (Shift+Enter: new line; never while an input
// method is composing), emoji, burn after reading, location, contact card and @ mentions,
// and files: picked (several at once), pasted, or dropped anywhere on the chat, each with
// an upload bar (progress, pause/resume, cancel; it waits out a network drop and resumes),
// and voice messages recorded with the microphone (click to record and again to send,
// or hold the button and let go to send).
// In a group where the user cannot speak (muted, everyone muted, dismissed, no longer a
// member) it says so in place of the input, instead of letting a send fail.
import { computed, nextTick, onBeforeUnmount, onMounted, ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { t } from "../i18n.js";
import { client, displayName, groupApi, me, sendMessage, state, typing, ui } from "../store.js";
import { EMOJI, insertAt } from "../util.js";
import UserAvatar from "./avatar.js";
import EmojiPicker from "./emoji-picker.js";
import { AtGlyph, FireGlyph, SmileGlyph } from "./glyphs.js";
import { cancelUpload, dismissUpload, pauseUpload, percent, resumeUpload, sendFiles, uploadsOf } from "../stores/uploads.js";
import { canRecord, cancelRecording, clock, recorder, startRecording, stopRecording } from "../stores/recorder.js";
import { cancelReply, replyDraft, takeReply } from "../stores/replies.js";
import MessageQuote from "./quote.js";
import QuickPhrases from "./quick-phrases.js";
import { feature } from "../stores/client-config.js";

const HOLD_MS = 400; // a press longer than this is "hold to talk": letting go sends

const BURN_CHOICES = [5, 10, 30, 60, 300];

export default {
  name: "ComposerBox",
  components: { UserAvatar, SmileGlyph, FireGlyph, AtGlyph, EmojiPicker, MessageQuote, QuickPhrases },
  props: { conv: { type: Object, required: true } },
  setup(props) {
    const input = ref(null);
    const emojiOpen = ref(false);
    const burnOn = ref(false);
    const burnS = ref(10);
    const mention = ref({ open: false, query: "", start: -1, index: 0 });
    const picked = new Map(); // user id ("*": everyone) -> the name inserted after "@"

    const maxChars = computed(() => (client.serverConfig && client.serverConfig.max_text_chars) || 5000);
    const tooLong = computed(() => props.conv.draft.length > maxChars.value);
    const canSend = computed(() => props.conv.draft.trim().length > 0 && !tooLong.value);
    const isGroup = computed(() => props.conv.type === "group");

    // why this user cannot send in this group now: null, or {key, until?}
    const gate = ref(null);
    // "@Everyone" is offered only to who may send it (domain/groups.py check_mention_all:
    // the owner and admins); a plain member's mention_all is refused for good
    const canMentionAll = ref(false);
    const roleKnown = ref(false); // the group's answer came (data-role-known: tests wait on it)
    let roleOf = "";
    let gateSeq = 0;
    let gateTimer = null;
    async function checkGate() {
      clearTimeout(gateTimer);
      const mine = ++gateSeq;
      if (roleOf !== props.conv.id) { // another chat: nothing known of my role there yet
        roleOf = props.conv.id;
        canMentionAll.value = false;
        roleKnown.value = false;
      }
      if (!isGroup.value) {
        gate.value = null;
        canMentionAll.value = false;
        return;
      }
      let g;
      try {
        g = await groupApi(props.conv, "GET");
      } catch {
        return; // offline or gone: a send would still say why
      }
      if (mine !== gateSeq) return;
      const manager = g.my_role === "owner" || g.my_role === "admin";
      canMentionAll.value = manager;
      roleKnown.value = true;
      const mutedUntil = g.my_muted_until || 0;
      if (g.dismissed) gate.value = { key: "chat.gateDismissed" };
      else if (!g.my_role) gate.value = { key: "chat.gateNotMember" };
      else if (manager) gate.value = null;
      else if (mutedUntil > Date.now()) {
        gate.value = { key: "chat.gateMuted", until: new Date(mutedUntil).toLocaleString() };
        gateTimer = setTimeout(checkGate, Math.min(mutedUntil - Date.now() + 500, 2 ** 31 - 1)); // speak again on time
      } else if (g.settings && g.settings.mute_all) gate.value = { key: "chat.gateMuteAll" };
      else gate.value = null;
    }
    // every evt group bumps groupVersion: a mute, an unmute or mute-all shows at once
    watch(() => [props.conv.id, state.groupVersion[props.conv.id]], checkGate, { immediate: true });
    onBeforeUnmount(() => clearTimeout(gateTimer));

    const candidates = computed(() => {
      if (!isGroup.value) return [];
      const q = mention.value.query.toLowerCase();
      // people are picked by name or user id, and mentioned by name, as people say them
      const list = props.conv.members
        .filter((u) => u !== me())
        .map((u) => ({ id: u, label: displayName(u) }))
        .filter((c) => c.id.toLowerCase().includes(q) || c.label.toLowerCase().includes(q));
      const all = t("chat.mentionAll");
      const out = list.slice(0, 8);
      if (canMentionAll.value && (!q || all.toLowerCase().includes(q) || "all".includes(q))) out.unshift({ id: "*", label: all });
      return out;
    });

    // the quote bar: the message the next send answers (stores/replies.js)
    const quoting = computed(() => replyDraft(props.conv));
    watch(() => quoting.value && quoting.value.seq, (seq) => seq && nextTick(() => textarea() && textarea().focus()));
    function stopQuoting() {
      cancelReply(props.conv);
      nextTick(() => textarea() && textarea().focus());
    }

    function textarea() {
      return input.value && (input.value.textarea || input.value.$el.querySelector("textarea"));
    }

    function insert(text) {
      const el = textarea();
      const { value, caret } = insertAt(props.conv.draft, el, text);
      props.conv.draft = value;
      nextTick(() => {
        const ta = textarea();
        if (ta) {
          ta.focus();
          ta.setSelectionRange(caret, caret);
        }
      });
    }

    function pickEmoji(e) {
      insert(e);
      emojiOpen.value = false;
    }

    function send() {
      const raw = props.conv.draft.replace(/\s+$/, "");
      if (!raw.trim()) return;
      if (raw.length > maxChars.value) {
        ElMessage.error(t("chat.tooLong", { n: maxChars.value }));
        return;
      }
      const body = { text: raw };
      if (isGroup.value) {
        // only the picks still in the text (the user may have deleted some)
        const mentions = [...picked].filter(([u, label]) => u !== "*" && raw.includes(`@${label}`)).map(([u]) => u);
        if (mentions.length) body.mentions = mentions;
        if (picked.has("*") && canMentionAll.value && raw.includes(`@${picked.get("*")}`)) body.mention_all = true;
      }
      const replying = replyDraft(props.conv);
      if (replying) body.reply_to = { ...replying }; // the server refills the excerpt from the original
      cancelReply(props.conv);
      sendMessage(props.conv, "text", body, burnOn.value ? { burn_s: burnS.value } : undefined);
      props.conv.draft = "";
      picked.clear();
      mention.value.open = false;
      nextTick(() => textarea() && textarea().focus());
    }

    function onKeydown(e) {
      if (mention.value.open && candidates.value.length) {
        if (e.key === "ArrowDown" || e.key === "ArrowUp") {
          e.preventDefault();
          const n = candidates.value.length;
          mention.value.index = (mention.value.index + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
          return;
        }
        if (e.key === "Enter" || e.key === "Tab") {
          e.preventDefault();
          choose(candidates.value[mention.value.index]);
          return;
        }
        if (e.key === "Escape") {
          mention.value.open = false;
          return;
        }
      }
      if (e.key === "Escape" && quoting.value) {
        e.preventDefault();
        cancelReply(props.conv);
        return;
      }
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        send();
      }
    }

    function onInput() {
      typing(props.conv);
      if (!isGroup.value) return;
      const el = textarea();
      const caret = el ? el.selectionStart : props.conv.draft.length;
      const before = props.conv.draft.slice(0, caret);
      const m = before.match(/(?:^|\s)@([^\s@]{0,32})$/);
      if (m) {
        mention.value = { open: true, query: m[1], start: caret - m[1].length - 1, index: 0 };
      } else {
        mention.value.open = false;
      }
    }

    function choose(c) {
      if (!c) return;
      const el = textarea();
      const caret = el ? el.selectionStart : props.conv.draft.length;
      const start = mention.value.start;
      const label = c.id === "*" ? t("chat.mentionAll") : c.label || c.id;
      const text = props.conv.draft;
      props.conv.draft = `${text.slice(0, start)}@${label} ${text.slice(caret)}`;
      picked.set(c.id, label);
      mention.value.open = false;
      const pos = start + label.length + 2;
      nextTick(() => {
        const ta = textarea();
        if (ta) {
          ta.focus();
          ta.setSelectionRange(pos, pos);
        }
      });
    }

    function startMention() {
      const el = textarea();
      const caret = el ? el.selectionStart : props.conv.draft.length;
      const needsSpace = caret > 0 && !/\s$/.test(props.conv.draft.slice(0, caret));
      insert(needsSpace ? " @" : "@");
      nextTick(onInput);
    }

    // the client configuration: burn-after-reading switched off ends it here; with files off,
    // the picker offers the kinds still allowed (client-config.css hides what is off)
    watch(() => feature("burn"), (on) => { if (!on) burnOn.value = false; });
    const fileAccept = computed(() => (feature("files") ? undefined
      : [feature("images") && "image/*", feature("video") && "video/*", feature("voice") && "audio/*"].filter(Boolean).join(",")));

    function toggleBurn() {
      burnOn.value = !burnOn.value;
      ElMessage({ message: burnOn.value ? t("chat.burnOn", { s: burnS.value }) : t("chat.burnOff"), type: "info", duration: 1800 });
    }

    function openDialog(name) {
      ui.dialog = name;
    }

    // ---------------------------------------------------------------- files
    const fileInput = ref(null);
    const root = ref(null);
    const dragging = ref(false);
    const uploadItems = computed(() => uploadsOf(props.conv.id));

    function addFiles(list) {
      const files = [...(list || [])].filter((f) => f && typeof f.size === "number");
      if (files.length) sendFiles(props.conv, files, { replyTo: takeReply(props.conv) }); // a reply carries the quote
    }
    function pickFiles() {
      if (fileInput.value) fileInput.value.click();
    }
    function onPicked(e) {
      addFiles(e.target.files);
      e.target.value = ""; // the same file can be picked again
    }
    function onPaste(e) {
      const dt = e.clipboardData;
      if (!dt) return;
      let files = [...(dt.files || [])];
      if (!files.length && dt.items) files = [...dt.items].filter((i) => i.kind === "file").map((i) => i.getAsFile()).filter(Boolean);
      if (!files.length) return; // plain text: the textarea takes it
      e.preventDefault();
      addFiles(files);
    }

    // Drag and drop onto the whole chat pane (the composer's parent section).
    let dropZone = null;
    let depth = 0;
    const hasFiles = (e) => !!(e.dataTransfer && [...(e.dataTransfer.types || [])].includes("Files"));
    const onDragEnter = (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth += 1;
      dragging.value = true;
    };
    const onDragOver = (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
    };
    const onDragLeave = () => {
      depth = Math.max(0, depth - 1);
      if (!depth) dragging.value = false;
    };
    const onDrop = (e) => {
      depth = 0;
      dragging.value = false;
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (!gate.value) addFiles(e.dataTransfer.files);
    };
    watch(dragging, (on) => dropZone && dropZone.classList.toggle("drop-active", on));
    onMounted(() => {
      const el = root.value && root.value.closest ? root.value.closest(".chat") : null;
      dropZone = el || (root.value && root.value.parentElement);
      if (!dropZone) return;
      dropZone.addEventListener("dragenter", onDragEnter);
      dropZone.addEventListener("dragover", onDragOver);
      dropZone.addEventListener("dragleave", onDragLeave);
      dropZone.addEventListener("drop", onDrop);
    });
    onBeforeUnmount(() => {
      if (!dropZone) return;
      dropZone.classList.remove("drop-active");
      dropZone.removeEventListener("dragenter", onDragEnter);
      dropZone.removeEventListener("dragover", onDragOver);
      dropZone.removeEventListener("dragleave", onDragLeave);
      dropZone.removeEventListener("drop", onDrop);
    });

    // ---------------------------------------------------------------- voice
    const recordable = canRecord();
    const recordingHere = computed(() => recorder.state !== "idle" && recorder.conv === props.conv.id);
    let pressAt = 0;
    function micDown(e) {
      if (e.button !== undefined && e.button !== 0) return;
      pressAt = performance.now();
      // keep getting this press's pointerup even if the finger slides off the button
      if (e.target && e.target.setPointerCapture && e.pointerId !== undefined) {
        try {
          e.target.setPointerCapture(e.pointerId);
        } catch {
          /* not capturable */
        }
      }
      if (recorder.state === "idle") startRecording(props.conv);
      else pressAt = 0; // a click on the button while recording: the click sends (micUp)
    }
    function micUp() {
      if (recorder.state === "idle") return;
      const held = pressAt && performance.now() - pressAt >= HOLD_MS;
      if (!pressAt || held) stopRecording(true);
      pressAt = 0;
    }
    function micKey(e) {
      if (e.key !== "Enter" && e.key !== " ") return;
      e.preventDefault();
      if (recorder.state === "idle") startRecording(props.conv);
      else stopRecording(true);
    }
    watch(() => recorder.error, (key) => key && ElMessage.error(t(key)));
    watch(() => props.conv.id, () => recordingHere.value || (recorder.state !== "idle" && cancelRecording()));
    onBeforeUnmount(() => recorder.state !== "idle" && cancelRecording());

    return {
      quoting, stopQuoting, canMentionAll, roleKnown, fileAccept, insert,
      input, emojiOpen, EMOJI, pickEmoji, burnOn, burnS, BURN_CHOICES, toggleBurn, send, onKeydown, onInput, canSend, tooLong,
      maxChars, mention, candidates, choose, startMention, isGroup, openDialog, gate, state, t,
      fileInput, root, pickFiles, onPicked, onPaste, dragging, uploadItems, percent, pauseUpload, resumeUpload, cancelUpload,
      dismissUpload, recordable, recorder, recordingHere, micDown, micUp, micKey, clock, stopRecording, cancelRecording,
    };
  },
  template: `
    <div v-if="gate" ref="root" class="composer composer-gate" role="status" data-testid="composer-gate" :data-reason="gate.key">
      {{ t(gate.key, { until: gate.until }) }}
    </div>
    <div v-else ref="root" class="composer" :class="{ 'burn-on': burnOn }" @paste="onPaste" :data-role-known="roleKnown || undefined">
      <div v-if="dragging" class="drop-hint" aria-hidden="true">{{ t('upload.dropHere') }}</div>
      <ul v-if="uploadItems.length" class="upload-list" :aria-label="t('upload.list')" data-testid="uploads">
        <li v-for="u in uploadItems" :key="u.id" class="upload-item" :class="'is-' + u.state" data-testid="upload-item"
            :data-state="u.state" :data-file-id="u.fileId || ''" :data-percent="percent(u)">
          <span class="upload-name" :title="u.name">{{ u.voice ? t('upload.voice') : u.name }}</span>
          <el-progress class="upload-bar" :percentage="percent(u)" :stroke-width="6" :show-text="false"
                       :status="u.state === 'failed' ? 'exception' : undefined" />
          <span class="upload-pct" data-testid="upload-pct">{{ percent(u) }}%</span>
          <span class="upload-state" role="status" data-testid="upload-state">{{ t('upload.state.' + u.state) }}<template v-if="u.error">: {{ u.error }}</template></span>
          <button v-if="u.state === 'uploading' || u.state === 'starting' || u.state === 'offline'" type="button" class="tool"
                  :aria-label="t('upload.pause')" :title="t('upload.pause')" @click="pauseUpload(u)" data-testid="upload-pause"><el-icon><icon-video-pause /></el-icon></button>
          <button v-else-if="u.state === 'paused'" type="button" class="tool" :aria-label="t('upload.resume')" :title="t('upload.resume')"
                  @click="resumeUpload(u)" data-testid="upload-resume"><el-icon><icon-video-play /></el-icon></button>
          <button v-if="u.state === 'failed'" type="button" class="tool" :aria-label="t('upload.dismiss')" :title="t('upload.dismiss')"
                  @click="dismissUpload(u)" data-testid="upload-dismiss"><el-icon><icon-close /></el-icon></button>
          <button v-else-if="u.state !== 'sending'" type="button" class="tool" :aria-label="t('upload.cancel')" :title="t('upload.cancel')"
                  @click="cancelUpload(u)" data-testid="upload-cancel"><el-icon><icon-close /></el-icon></button>
        </li>
      </ul>
      <div v-if="recordingHere" class="rec-bar" role="status" data-testid="voice-recorder" :data-state="recorder.state">
        <span class="rec-dot" aria-hidden="true"></span>
        <span class="rec-label">{{ recorder.state === 'starting' ? t('voice.starting') : t('voice.recording') }}</span>
        <span class="rec-time" data-testid="voice-time">{{ clock(recorder.elapsedMs) }}</span>
        <el-button size="small" @click="cancelRecording" data-testid="voice-cancel">{{ t('voice.cancel') }}</el-button>
        <el-button size="small" type="primary" :disabled="recorder.state !== 'recording'" @click="stopRecording(true)" data-testid="voice-send">{{ t('voice.send') }}</el-button>
      </div>
      <div class="composer-tools" role="toolbar" :aria-label="t('chat.composer')">
        <el-popover v-model:visible="emojiOpen" trigger="click" placement="top-start" :width="340" popper-class="emoji-popper" @after-enter="$refs.emojiPicker && $refs.emojiPicker.focus()">
          <template #reference>
            <button class="tool" type="button" :aria-label="t('chat.emoji')" :title="t('chat.emoji')" data-testid="emoji-btn"><smile-glyph /></button>
          </template>
          <emoji-picker ref="emojiPicker" @pick="pickEmoji" @close="emojiOpen = false" />
        </el-popover>
        <button class="tool" :class="{ on: burnOn }" type="button" :aria-pressed="burnOn ? 'true' : 'false'" :aria-label="t('chat.burn')" :title="t('chat.burn')" @click="toggleBurn" data-testid="burn-btn"><fire-glyph /></button>
        <el-select v-if="burnOn" v-model="burnS" size="small" class="burn-select" :aria-label="t('chat.burn')" data-testid="burn-seconds">
          <el-option v-for="s in BURN_CHOICES" :key="s" :value="s" :label="t('chat.burnSeconds', { s })" />
        </el-select>
        <button class="tool" type="button" :aria-label="t('chat.location')" :title="t('chat.location')" @click="openDialog('location')" data-testid="location-btn"><el-icon><icon-location /></el-icon></button>
        <button class="tool" type="button" :aria-label="t('chat.card')" :title="t('chat.card')" @click="openDialog('card')" data-testid="card-btn"><el-icon><icon-postcard /></el-icon></button>
        <button v-if="isGroup" class="tool" type="button" :aria-label="t('chat.mention')" :title="t('chat.mention')" @click="startMention" data-testid="mention-btn"><at-glyph /></button>
        <button class="tool" type="button" :aria-label="t('upload.pick')" :title="t('upload.pick')" @click="pickFiles" data-testid="file-btn"><el-icon><icon-paperclip /></el-icon></button>
        <input ref="fileInput" type="file" multiple hidden :accept="fileAccept" @change="onPicked" data-testid="file-input">
        <quick-phrases @pick="insert" />
        <button v-if="recordable" class="tool mic" :class="{ on: recordingHere }" type="button" :aria-pressed="recordingHere ? 'true' : 'false'"
                :aria-label="recordingHere ? t('voice.send') : t('voice.record')" :title="t('voice.hint')"
                @pointerdown="micDown" @pointerup="micUp" @keydown="micKey" data-testid="mic-btn"><el-icon><icon-microphone /></el-icon></button>
      </div>
      <div v-if="quoting" class="reply-bar" data-testid="reply-bar" :data-seq="quoting.seq">
        <span class="reply-label">{{ t('reply.action') }}</span>
        <message-quote :quote="quoting" />
        <button type="button" class="reply-cancel" :aria-label="t('reply.cancel')" :title="t('reply.cancel')" @click="stopQuoting" data-testid="reply-cancel"><el-icon><icon-close /></el-icon></button>
      </div>
      <div class="composer-input">
        <ul v-if="mention.open" class="mention-list" role="listbox" :aria-label="t('chat.mention')" data-testid="mention-list">
          <li v-if="!candidates.length" class="mention-empty">{{ t('chat.mentionNone') }}</li>
          <li v-for="(c, i) in candidates" :key="c.id" role="option" :aria-selected="i === mention.index ? 'true' : 'false'"
              :class="{ active: i === mention.index }" @mousedown.prevent="choose(c)" data-testid="mention-option">
            <user-avatar v-if="c.id !== '*'" :id="c.id" :name="c.label" :size="24" />
            <span v-else class="mention-all-icon" aria-hidden="true">@</span>
            <span>{{ c.label }}</span>
            <span v-if="c.id !== '*' && c.label !== c.id" class="mention-id">{{ c.id }}</span>
          </li>
        </ul>
        <el-input ref="input" v-model="conv.draft" type="textarea" resize="none" :autosize="{ minRows: state.narrow ? 1 : 3, maxRows: 8 }"
                  :placeholder="state.narrow ? t('chat.placeholderMobile') : t('chat.placeholder')" :aria-label="t('chat.composer')"
                  @keydown="onKeydown" @input="onInput" data-testid="composer" />
        <div class="composer-foot">
          <span v-if="tooLong" class="composer-warn" role="alert">{{ t('chat.tooLong', { n: maxChars }) }}</span>
          <span v-else-if="burnOn" class="composer-burn"><fire-glyph /> {{ t('chat.burnOn', { s: burnS }) }}</span>
          <el-button type="primary" :disabled="!canSend" @click="send" class="send-btn" data-testid="send">
            <el-icon><icon-promotion /></el-icon><span class="send-label">{{ t('chat.send') }}</span>
          </el-button>
        </div>
      </div>
    </div>`,
};
