// The chat client's avatar (web/shared/avatar.js): the picture of a user or group comes
// from stores/profile.js (avatar_url, kept current by evt profile / evt group).
import { createAvatar } from "../../shared/avatar.js";
import { groupAvatar, userAvatar } from "../stores/profile.js";

export default createAvatar({ resolve: (id, isGroup) => (isGroup ? groupAvatar(id) : userAvatar(id)) });
