// My profile (opened from the user menu): the avatar (pick a picture: it is scaled down,
// uploaded with tus and set; or removed), the display name, and the password (old, new,
// confirm: every other signed-in device is signed out, this one stays).
import { computed, reactive, ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { t } from "../i18n.js";
import { client, describeError, state, ui } from "../store.js";
import { changePassword, setMyAvatar, updateMe, userAvatar } from "../stores/profile.js";
import UserAvatar from "./avatar.js";

const MAX_NAME = 128;
const MIN_PASSWORD = 8;
const PICTURES = "image/png,image/jpeg,image/webp,image/gif";

export default {
  name: "ProfileDialog",
  components: { UserAvatar },
  setup() {
    const visible = computed({
      get: () => ui.dialog === "profile",
      set: (v) => {
        if (!v && ui.dialog === "profile") ui.dialog = null;
      },
    });
    const me = computed(() => state.me || { user_id: client.userId, display_name: client.userId });
    const avatarUrl = computed(() => userAvatar(me.value.user_id));
    const name = ref("");
    const nameError = ref("");
    const savingName = ref(false);
    const uploading = ref(false);
    const progress = ref(0);
    const picker = ref(null);
    const pw = reactive({ old: "", next: "", confirm: "" });
    const pwError = ref("");
    const savingPw = ref(false);

    watch(visible, (v) => {
      if (!v) return;
      name.value = me.value.display_name || "";
      nameError.value = pwError.value = "";
      pw.old = pw.next = pw.confirm = "";
      progress.value = 0;
    }, { immediate: true });

    async function saveName() {
      const value = name.value.trim();
      if (!value || value.length > MAX_NAME) {
        nameError.value = t("profile.nameInvalid", { n: MAX_NAME });
        return;
      }
      nameError.value = "";
      savingName.value = true;
      try {
        await updateMe({ display_name: value });
        ElMessage.success(t("profile.saved"));
      } catch (error) {
        nameError.value = describeError(error);
      } finally {
        savingName.value = false;
      }
    }

    function pick() {
      if (picker.value) picker.value.click();
    }
    async function onPicked(e) {
      const file = e.target.files && e.target.files[0];
      e.target.value = "";
      if (!file) return;
      if (!/^image\/(png|jpeg|webp|gif)$/.test(file.type)) {
        ElMessage.error(t("profile.notPicture"));
        return;
      }
      uploading.value = true;
      progress.value = 0;
      try {
        await setMyAvatar(file, (sent, total) => {
          progress.value = total ? Math.round((sent / total) * 100) : 0;
        });
        ElMessage.success(t("profile.avatarSaved"));
      } catch (error) {
        ElMessage.error(describeError(error));
      } finally {
        uploading.value = false;
      }
    }
    async function removeAvatar() {
      try {
        await updateMe({ avatar_file_id: null });
      } catch (error) {
        ElMessage.error(describeError(error));
      }
    }

    async function savePassword() {
      pwError.value = "";
      if (!pw.old) pwError.value = t("profile.oldRequired");
      else if (pw.next.length < MIN_PASSWORD) pwError.value = t("profile.pwTooShort", { n: MIN_PASSWORD });
      else if (pw.next !== pw.confirm) pwError.value = t("profile.pwMismatch");
      if (pwError.value) return;
      savingPw.value = true;
      try {
        await changePassword(pw.old, pw.next);
        pw.old = pw.next = pw.confirm = "";
        ElMessage.success(t("profile.pwChanged"));
      } catch (error) {
        pwError.value = error && error.status === 403 ? t("profile.pwWrong") : describeError(error);
      } finally {
        savingPw.value = false;
      }
    }

    return {
      t, state, visible, me, avatarUrl, name, nameError, savingName, saveName, picker, pick, onPicked, uploading,
      progress, removeAvatar, pw, pwError, savingPw, savePassword, PICTURES, MAX_NAME,
    };
  },
  template: `
    <el-dialog v-model="visible" :title="t('profile.title')" append-to-body :width="state.narrow ? '92%' : '460px'" align-center destroy-on-close>
      <div class="profile-dialog" data-testid="profile-dialog">
        <section class="profile-avatar">
          <user-avatar :id="me.user_id" :name="me.display_name || me.user_id" :size="72" data-testid="profile-avatar" />
          <div class="profile-avatar-actions">
            <input ref="picker" type="file" :accept="PICTURES" style="display:none" @change="onPicked" data-testid="profile-avatar-input" />
            <el-button size="small" type="primary" :loading="uploading" @click="pick" data-testid="profile-avatar-pick">{{ t('profile.changeAvatar') }}</el-button>
            <el-button v-if="avatarUrl && !uploading" size="small" text @click="removeAvatar" data-testid="profile-avatar-remove">{{ t('profile.removeAvatar') }}</el-button>
            <el-progress v-if="uploading" :percentage="progress" :stroke-width="6" style="width:160px" data-testid="profile-avatar-progress" />
            <p class="profile-hint">{{ t('profile.avatarHint') }}</p>
          </div>
        </section>
        <section class="profile-section">
          <label class="profile-label" for="profile-name">{{ t('profile.displayName') }}</label>
          <div class="profile-row">
            <el-input id="profile-name" v-model="name" :maxlength="MAX_NAME" @keyup.enter="saveName" data-testid="profile-name" />
            <el-button type="primary" :loading="savingName" @click="saveName" data-testid="profile-name-save">{{ t('profile.save') }}</el-button>
          </div>
          <p v-if="nameError" class="profile-error" role="alert" data-testid="profile-name-error">{{ nameError }}</p>
          <p class="profile-hint">@{{ me.user_id }}</p>
        </section>
        <section class="profile-section">
          <div class="profile-label">{{ t('profile.password') }}</div>
          <el-input v-model="pw.old" type="password" show-password autocomplete="current-password" :placeholder="t('profile.oldPassword')" :aria-label="t('profile.oldPassword')" data-testid="profile-pw-old" />
          <el-input v-model="pw.next" type="password" show-password autocomplete="new-password" :placeholder="t('profile.newPassword')" :aria-label="t('profile.newPassword')" data-testid="profile-pw-new" />
          <el-input v-model="pw.confirm" type="password" show-password autocomplete="new-password" :placeholder="t('profile.confirmPassword')" :aria-label="t('profile.confirmPassword')" @keyup.enter="savePassword" data-testid="profile-pw-confirm" />
          <p v-if="pwError" class="profile-error" role="alert" data-testid="profile-pw-error">{{ pwError }}</p>
          <p class="profile-hint">{{ t('profile.passwordHint') }}</p>
          <el-button :loading="savingPw" @click="savePassword" data-testid="profile-pw-save">{{ t('profile.changePassword') }}</el-button>
        </section>
      </div>
    </el-dialog>`,
};
