// One message: a bubble (text, image, video, voice, file, location, contact card, ...),
// a tombstone (recalled, burned) or a centred system notice. Everything a user wrote is
// rendered as text: mustache interpolation only, never v-html; links are http(s) URLs as
// anchors. Media bubbles live in components/media/, the Forward dialog too.
import { computed, nextTick, ref } from "vue";
import { ElMessage } from "element-plus";
import { t } from "../i18n.js";
import { client, describeError, discard, displayName, me, recall, retry, startDirect, state, summary } from "../store.js";
import { clock, fullTime, segments } from "../util.js";
import UserAvatar from "./avatar.js";
import { FireGlyph } from "./glyphs.js";
import { Share } from "@element-plus/icons-vue";
import { canForward as forwardable } from "../stores/forward.js";
import { groups as groupStore } from "../stores/groups.js";
import MediaImage from "./media/image.js";
import MediaVideo from "./media/video.js";
import MediaVoice from "./media/voice.js";
import MediaFile from "./media/file-card.js";
import ForwardDialog from "./media/forward-dialog.js";
import ProfileCard from "./profile-card.js"; // W6: the sender's card on avatar/name click
import ReadReceipt from "./read-receipt.js"; // W6: "N unread" under my group messages
import "./media/styles.js";
import MessageQuote from "./quote.js"; // W3: the quoted message above a reply
import { canReply as replyable, jumpToQuote, quoteOf, startReply } from "../stores/replies.js"; // W3
import { mapUrl } from "./location/map-link.js";
import { MessageEditor, ReactionBar } from "./reactions.js"; // W4: edits and reactions
import { canEdit as editable, isEditing, startEdit } from "../stores/reactions.js"; // W4
import BundleCard from "./forward/bundle-card.js"; // multi-select and merged forward
import { isBundle } from "../stores/bundles.js";
import { AppCard, isAppCard } from "../bridge/card.js"; // issue 14: a card sent by an app (bridge)
import ServiceContextCard, { isContextCard } from "./service/context-card.js"; // issue 15: a visitor's product/order
import { startSelect } from "../stores/selection.js";
import ReviewStatus from "./moderation/review-status.js"; // pre-moderation: under review / rejected

// The "more" glyph of the row's menu button (icons-vue's MoreFilled, as el-icon renders
// it) as static markup: two components fewer in every row rendered while scrolling.
const MORE_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1024 1024"><path fill="currentColor" d="M176 416a112 112 0 1 1 0 224 112 112 0 0 1 0-224m336 0a112 112 0 1 1 0 224 112 112 0 0 1 0-224m336 0a112 112 0 1 1 0 224 112 112 0 0 1 0-224"/></svg>';

export default {
  name: "MessageItem",
  components: { UserAvatar, FireGlyph, MediaImage, MediaVideo, MediaVoice, MediaFile, ForwardDialog, IconShare: Share, ProfileCard, ReadReceipt, MessageQuote, MessageEditor, ReactionBar, BundleCard, ReviewStatus, AppCard, ServiceContextCard },
  props: {
    msg: { type: Object, required: true },
    conv: { type: Object, required: true },
    pending: { type: Object, default: null },
  },
  setup(props) {
    const menu = ref(null);
    const mine = computed(() => props.msg.from === me());
    const kind = computed(() => props.msg.kind);
    const tombstone = computed(() => kind.value === "recalled" || kind.value === "burned");
    const system = computed(() => kind.value === "system");
    const showName = computed(() => props.conv.type === "group" && !mine.value);
    const name = computed(() => displayName(props.msg.from));
    const cardName = computed(() => (kind.value === "card" ? displayName(props.msg.body.user_id) : ""));
    const text = computed(() => (kind.value === "text" ? props.msg.body.text : ""));
    const segs = computed(() => {
      if (kind.value !== "text") return [];
      // Without an "@" there is no mention to look for: no list of the group's members and
      // no regular expression of their names per row (a row rendered while scrolling a
      // large group's history paid for both, and re-rendered when a member came or went).
      if (!text.value.includes("@")) return segments(text.value);
      // mentions are written by name (older clients wrote the user id): highlight both
      const named = (props.msg.body.mentions || []).map((u) => displayName(u));
      const names = [...props.conv.members, me(), displayName(me()), ...named, t("chat.mentionAll")];
      return segments(text.value, names);
    });
    const mentionsMe = computed(() => kind.value === "text" && !mine.value
      && (props.msg.body.mention_all || (props.msg.body.mentions || []).includes(me())));
    const burnS = computed(() => (props.msg.opts && props.msg.opts.burn_s) || 0);
    const burnLeft = computed(() => {
      if (!props.msg.burnEndsAt) return null;
      return Math.max(0, Math.ceil((props.msg.burnEndsAt - state.now) / 1000));
    });
    const noticeText = computed(() => summary(props.msg));
    const status = computed(() => {
      if (props.pending && (props.pending.status === "review" || props.pending.status === "rejected")) return props.pending.status;
      if (props.pending) return props.pending.status === "failed" ? "failed" : (state.connection === "open" ? "sending" : "queued");
      if (!mine.value || props.conv.type !== "direct") return "";
      return props.msg.seq <= props.conv.peerRead ? "read" : "unread";
    });
    const recallWindowMs = computed(() => ((client.serverConfig && client.serverConfig.recall_window_s) || 120) * 1000);
    // checked when the menu opens, so that rows do not re-render every second
    const openedAt = ref(Date.now());
    // a group's owner and admins recall members' messages at any time (the server decides whose: docs/protocol.md)
    const manager = computed(() => {
      const g = props.conv.type === "group" && groupStore.info[props.conv.id];
      return !!g && (g.my_role === "owner" || g.my_role === "admin") && !g.dismissed;
    });
    const canRecall = computed(() => !props.pending && props.msg.seq > 0 && !tombstone.value && !system.value
      && (manager.value || (mine.value && openedAt.value - props.msg.ts < recallWindowMs.value)));
    const canCopy = computed(() => kind.value === "text");
    const editWindowS = computed(() => (client.serverConfig && client.serverConfig.edit_window_s) || 0); // W4
    const canEdit = computed(() => editable(props.msg, props.pending, me(), editWindowS.value, openedAt.value));
    const editingNow = computed(() => isEditing(props.conv, props.msg));
    const canForward = computed(() => forwardable(props.msg, props.pending));
    const forwarding = ref(false);
    const quote = computed(() => quoteOf(props.conv, props.msg)); // W3: replies
    const canReply = computed(() => replyable(props.msg, props.pending));
    async function onJump(seq) {
      if (!(await jumpToQuote(props.conv, seq))) ElMessage.info(t("reply.notFound"));
    }
    const hasMenu = computed(() => !tombstone.value && !system.value && (canCopy.value || canForward.value || mine.value || !!props.pending || replyable(props.msg, props.pending)));
    const mapHref = computed(() => {
      if (kind.value !== "location") return "";
      return mapUrl(props.msg.body.lat, props.msg.body.lng); // the server's map_url_template
    });

    async function onCommand(cmd) {
      if (cmd === "copy") {
        try {
          await navigator.clipboard.writeText(text.value);
          ElMessage.success(t("common.copied"));
        } catch {
          ElMessage.error(t("err.generic", { msg: "clipboard" }));
        }
      } else if (cmd === "recall") {
        try {
          await recall(props.conv, props.msg);
        } catch (error) {
          const reason = error && error.code === "forbidden"
            ? t("msg.recallExpired", { n: Math.round(recallWindowMs.value / 60000) })
            : describeError(error);
          ElMessage.error(t("msg.recallFailed", { reason }));
        }
      } else if (cmd === "edit") {
        startEdit(props.conv, props.msg);
      } else if (cmd === "reply") {
        startReply(props.conv, props.msg);
      } else if (cmd === "forward") {
        forwarding.value = true;
      } else if (cmd === "select") {
        startSelect(props.conv, props.msg);
      } else if (cmd === "retry") {
        retry(props.conv, props.pending);
      } else if (cmd === "discard") {
        discard(props.conv, props.pending);
      }
    }

    // W2: the dropdown is mounted on first use (an el-dropdown per row made rendering
    // rows as one scrolls far slower); until then a plain button stands in for it.
    const armed = ref(false);
    async function openMenu(e) {
      if (!hasMenu.value) return;
      if (e) e.preventDefault();
      armed.value = true;
      await nextTick();
      if (!menu.value) return;
      openedAt.value = Date.now();
      menu.value.handleOpen();
    }
    function onVisible(v) {
      if (v) openedAt.value = Date.now();
    }

    function onRetry() {
      if (props.pending && props.pending.status === "failed" && !props.pending.permanent) retry(props.conv, props.pending);
    }

    return {
      menu, mine, kind, tombstone, system, showName, name, cardName, segs, mentionsMe, burnS, burnLeft, noticeText, status,
      quote, canReply, onJump, canEdit, editingNow,
      bundle: computed(() => isBundle(props.msg)),
      appCard: computed(() => isAppCard(props.msg)),
      contextCard: computed(() => isContextCard(props.msg)),
      canRecall, canCopy, canForward, forwarding, hasMenu, armed, onCommand, openMenu, onVisible, onRetry, mapHref, t, clock, fullTime, startDirect, myId: me(),
    };
  },
  template: `
    <div v-if="system" class="notice-row" data-testid="system-notice"><span class="notice">{{ noticeText }}</span></div>
    <div v-else-if="tombstone" class="notice-row" :data-seq="msg.seq" data-testid="tombstone" :data-kind="kind">
      <span class="notice tomb">
        <fire-glyph v-if="kind === 'burned'" class="tomb-fire" />{{ noticeText }}
      </span>
    </div>
    <div v-else class="msg-row" :class="{ mine, 'mentions-me': mentionsMe }" :data-seq="msg.seq || undefined" :data-cid="msg.cid" data-testid="message" :data-status="status || undefined">
      <profile-card v-if="!mine" :user-id="msg.from"><user-avatar :id="msg.from" :name="name" :size="36" class="msg-avatar" /></profile-card>
      <div class="msg-main">
        <div v-if="showName" class="msg-name"><profile-card :user-id="msg.from">{{ name }}</profile-card></div>
        <div class="msg-line">
          <div class="bubble" :class="['kind-' + kind, { burn: burnS }]" tabindex="0" @contextmenu="openMenu" :title="fullTime(msg.ts)" data-testid="bubble">
            <message-quote v-if="quote" :quote="quote" clickable @jump="onJump" />
            <message-editor v-if="editingNow" :msg="msg" :conv="conv" />
            <span v-else-if="kind === 'text'" class="msg-text" data-testid="msg-text"><template v-for="(s, i) in segs" :key="i"><a v-if="s.type === 'link'" :href="s.href" target="_blank" rel="noopener noreferrer nofollow">{{ s.text }}</a><span v-else-if="s.type === 'mention'" class="mention">{{ s.text }}</span><template v-else>{{ s.text }}</template></template></span>
            <a v-else-if="kind === 'location'" class="loc-card" :href="mapHref || undefined" target="_blank" rel="noopener noreferrer" data-testid="location">
              <span class="loc-pin" aria-hidden="true"><el-icon :size="22"><icon-location /></el-icon></span>
              <span class="loc-text">
                <span class="loc-title">{{ msg.body.title || t('msg.locationTitle') }}</span>
                <span v-if="msg.body.address" class="loc-addr">{{ msg.body.address }}</span>
                <span class="loc-coords" data-testid="loc-coords">{{ Number(msg.body.lat).toFixed(5) }}, {{ Number(msg.body.lng).toFixed(5) }}</span>
                <span v-if="mapHref" class="loc-open" data-testid="loc-open">{{ t('msg.openMap') }} ↗</span>
              </span>
            </a>
            <media-image v-else-if="kind === 'image'" :msg="msg" :conv="conv" />
            <media-video v-else-if="kind === 'video'" :msg="msg" :conv="conv" />
            <media-voice v-else-if="kind === 'voice'" :msg="msg" :conv="conv" />
            <media-file v-else-if="kind === 'file'" :msg="msg" :conv="conv" />
            <div v-else-if="kind === 'card'" class="contact-card" data-testid="card">
              <div class="contact-top">
                <user-avatar :id="msg.body.user_id" :name="cardName" :size="40" />
                <div class="contact-text">
                  <span class="contact-name" data-testid="card-name">{{ cardName }}</span>
                  <span class="contact-id">@{{ msg.body.user_id }}</span>
                </div>
              </div>
              <div class="contact-foot">
                <span>{{ t('msg.cardTitle') }}</span>
                <el-button v-if="msg.body.user_id !== myId" size="small" link type="primary" @click="startDirect(msg.body.user_id)">{{ t('msg.cardChat') }}</el-button>
              </div>
            </div>
            <bundle-card v-else-if="bundle" :msg="msg" />
            <app-card v-else-if="appCard" :data="msg.body.data" />
            <service-context-card v-else-if="contextCard" :ctx="msg.body.data" class="in-chat" />
            <span v-else class="msg-text muted">{{ noticeText }}</span>
            <span v-if="burnS" class="burn-tag" :class="{ counting: burnLeft !== null }" data-testid="burn-tag">
              <fire-glyph />
              <template v-if="burnLeft !== null">{{ t('msg.burnCountdown', { s: burnLeft }) }}</template>
              <template v-else>{{ t('msg.burnAfter', { s: burnS }) }}</template>
            </span>
          </div>
          <button v-if="hasMenu && !armed" class="msg-more" type="button" :aria-label="t('chat.openMenu')" data-testid="msg-menu" @click="openMenu"><i class="el-icon">${MORE_SVG}</i></button>
          <el-dropdown v-else-if="hasMenu" ref="menu" trigger="click" @command="onCommand" @visible-change="onVisible" :placement="mine ? 'bottom-end' : 'bottom-start'">
            <button class="msg-more" type="button" :aria-label="t('chat.openMenu')" data-testid="msg-menu"><el-icon><icon-more-filled /></el-icon></button>
            <template #dropdown>
              <el-dropdown-menu>
                <el-dropdown-item v-if="canReply" command="reply" data-testid="reply"><el-icon><icon-chat-line-square /></el-icon>{{ t('reply.action') }}</el-dropdown-item>
                <el-dropdown-item v-if="canEdit" command="edit" data-testid="edit"><el-icon><icon-edit /></el-icon>{{ t('edit.action') }}</el-dropdown-item>
                <el-dropdown-item v-if="canCopy" command="copy"><el-icon><icon-copy-document /></el-icon>{{ t('msg.copy') }}</el-dropdown-item>
                <el-dropdown-item v-if="canForward" command="forward" data-testid="forward"><el-icon><icon-share /></el-icon>{{ t('fwd.action') }}</el-dropdown-item>
                <el-dropdown-item v-if="canForward" command="select" data-testid="select"><el-icon><icon-finished /></el-icon>{{ t('sel.action') }}</el-dropdown-item>
                <el-dropdown-item v-if="canRecall" command="recall" data-testid="recall"><el-icon><icon-refresh-right /></el-icon>{{ t('msg.recall') }}</el-dropdown-item>
                <el-dropdown-item v-if="pending && pending.status === 'failed' && !pending.permanent" command="retry"><el-icon><icon-refresh-right /></el-icon>{{ t('msg.retry') }}</el-dropdown-item>
                <el-dropdown-item v-if="pending" command="discard"><el-icon><icon-delete /></el-icon>{{ t('msg.discard') }}</el-dropdown-item>
              </el-dropdown-menu>
            </template>
          </el-dropdown>
        </div>
        <reaction-bar v-if="!pending && msg.seq > 0" :msg="msg" :conv="conv" />
        <div class="msg-meta">
          <span class="msg-time">{{ clock(msg.ts) }}</span>
          <span v-if="msg.edited_ts" class="edited-tag" :title="t('edit.editedAt', { time: fullTime(msg.edited_ts) })" data-testid="edited">({{ t('edit.edited') }})</span>
          <span v-if="status === 'sending'" class="st st-sending" :title="t('msg.sending')" data-testid="st-sending"><el-icon class="is-loading"><icon-loading /></el-icon>{{ t('msg.sending') }}</span>
          <review-status v-else-if="status === 'review' || status === 'rejected'" :pending="pending" />
          <span v-else-if="status === 'queued'" class="st st-queued" :title="t('msg.queued')" data-testid="st-queued"><el-icon><icon-clock /></el-icon>{{ t('msg.queued') }}</span>
          <span v-else-if="status === 'failed' && pending.permanent" class="st st-failed permanent" role="alert" data-testid="st-failed" data-permanent="true">
            <el-icon><icon-warning-filled /></el-icon>{{ t('sendFailed.permanent') }}<span v-if="pending.error" class="st-reason">({{ pending.error }})</span>
            <button type="button" class="st-delete" @click="onCommand('discard')" data-testid="st-delete">{{ t('sendFailed.delete') }}</button>
          </span>
          <button v-else-if="status === 'failed'" class="st st-failed" type="button" @click="onRetry" :title="pending && pending.error" data-testid="st-failed">
            <el-icon><icon-warning-filled /></el-icon>{{ t('msg.failed') }}<span v-if="pending && pending.error" class="st-reason">({{ pending.error }})</span>
          </button>
          <span v-else-if="status === 'read'" class="st st-read" data-testid="st-read">{{ t('msg.read') }}</span>
          <span v-else-if="status === 'unread'" class="st st-unread" data-testid="st-unread">{{ t('msg.unread') }}</span>
          <read-receipt v-if="mine && conv.type === 'group' && !pending && msg.seq > 0" :msg="msg" :conv="conv" />
        </div>
      </div>
      <user-avatar v-if="mine" :id="msg.from" :name="name" :size="36" class="msg-avatar" />
      <forward-dialog v-if="forwarding" :msg="msg" @close="forwarding = false" />
    </div>`,
};
