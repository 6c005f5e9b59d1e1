// Avatars and my profile: who looks like what (users and groups), kept current by
// `evt profile` and `evt group` (change `avatar`), and the actions of the profile dialog
// (display name, avatar, password). See docs/protocol.md, "Profiles and avatars".
//
// `avatar_url` values are signed URLs the server hands to signed-in users only; they
// load in <img> without a token and expire after a day or two, so the avatar component
// falls back to initials when one fails (and a fresh one comes with the next profile).
import { reactive } from "vue";
import { client, profileChanged, state, wantAvatar } from "../store.js";

// users' avatars live in state.avatars (store.js fetches them with the names, each id
// once); groups' here, from GET /api/v1/groups and `evt group`
export const avatars = reactive({
  groups: {}, // group_id -> avatar_url | null (absent: not known yet)
});

const AVATAR_EDGE = 512; // px: pictures are scaled down before the upload (avatars are shown small)
let session = null;
let groupsAsked = false;

function sameSession() {
  if (session !== client.userId) {
    session = client.userId;
    avatars.groups = {};
    groupsAsked = false;
  }
}

/** Remember what a reply said about users' avatars (profiles, contacts, members...). */
export function rememberAvatars(users) {
  for (const u of users || []) {
    if (u && u.user_id && "avatar_url" in u) state.avatars[u.user_id] = u.avatar_url || null;
  }
}

/** A user's avatar URL, or null; an unknown one is fetched (the view updates). */
export function userAvatar(userId) {
  if (!userId) return null;
  if (userId === client.userId && state.me && "avatar_url" in state.me) return state.me.avatar_url || null;
  if (userId in state.avatars) return state.avatars[userId];
  wantAvatar(userId);
  return null;
}

async function loadGroups() {
  groupsAsked = true;
  try {
    const { groups } = await client.http("GET", "/api/v1/groups");
    for (const g of groups || []) avatars.groups[g.group_id] = g.avatar_url || null;
  } catch {
    groupsAsked = false;
  }
}

/** A group's avatar URL (by group id or its conversation id `g:<id>`), or null. */
export function groupAvatar(id) {
  sameSession();
  const gid = id && id.startsWith("g:") ? id.slice(2) : id;
  if (!gid) return null;
  if (gid in avatars.groups) return avatars.groups[gid];
  if (!groupsAsked && client.userId && state.phase === "app") loadGroups();
  return null;
}

export function setGroupAvatar(groupId, url) {
  avatars.groups[groupId] = url || null;
}

client.on("event", (e) => {
  if (!e || e.t !== "evt") return;
  if (e.evt === "profile") {
    state.avatars[e.user] = e.avatar_url || null;
    if (e.user === client.userId && state.me) state.me = { ...state.me, avatar_url: e.avatar_url || null };
    profileChanged(e.user, e.display_name);
  } else if (e.evt === "contacts" && e.change && e.change.friend) {
    rememberAvatars([e.change.friend]); // friend_added / friend_updated carry avatar_url
  } else if (e.evt === "group" && e.change && e.change.type === "avatar") {
    sameSession();
    setGroupAvatar(e.group_id, e.change.avatar_url);
  }
});

// ------------------------------------------------------------------ my profile

function applyMe(me) {
  state.me = { ...(state.me || {}), ...me };
  state.avatars[me.user_id] = me.avatar_url || null;
  profileChanged(me.user_id, me.display_name);
  return me;
}

/** PATCH /api/v1/me with {display_name?, avatar_file_id?} (null removes the avatar). */
export async function updateMe(fields) {
  return applyMe(await client.updateMe(fields));
}

export function changePassword(oldPassword, newPassword) {
  return client.changePassword(oldPassword, newPassword);
}

/** A picture scaled to fit AVATAR_EDGE (a square crop of its centre), as a JPEG or PNG
 * blob; a GIF or a small picture goes as it is. */
async function shrink(file) {
  if (file.type === "image/gif" || typeof createImageBitmap !== "function") return file;
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return file; // the server decides what it is
  }
  const side = Math.min(bitmap.width, bitmap.height);
  if (bitmap.width <= AVATAR_EDGE && bitmap.height <= AVATAR_EDGE && file.size < 512 * 1024) return file;
  const edge = Math.min(side, AVATAR_EDGE);
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = edge;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, edge, edge);
  const type = file.type === "image/png" ? "image/png" : "image/jpeg";
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, type, 0.9));
  if (!blob) return file;
  const name = (file.name || "avatar").replace(/\.[^.]*$/, "") + (type === "image/png" ? ".png" : ".jpg");
  return new File([blob], name, { type });
}

/** Upload a picture (tus, resumable) and return its file id. */
export async function uploadPicture(file, onProgress) {
  const info = await client.uploadFile(await shrink(file), { onProgress });
  return info.file_id;
}

/** Pick, upload and set my avatar. */
export async function setMyAvatar(file, onProgress) {
  return updateMe({ avatar_file_id: await uploadPicture(file, onProgress) });
}

/** Owner and admins: set (or with null remove) a group's avatar; returns the group. */
export async function updateGroupAvatar(groupId, fileId) {
  const g = await client.http("PATCH", `/api/v1/groups/${encodeURIComponent(groupId)}`, { avatar_file_id: fileId });
  setGroupAvatar(groupId, g.avatar_url);
  return g;
}
