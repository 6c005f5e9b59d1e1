// Small helpers the groups and organisation pages share.
import { ElMessageBox } from "element-plus";
import { SemotAPIError } from "semot";
import { t } from "../../i18n.js";

/** Ask before an action; false when the administrator cancels. */
export async function confirmed(message, title, button, danger = true) {
  try {
    await ElMessageBox.confirm(message, title, {
      type: "warning", confirmButtonText: button, cancelButtonText: t("common.cancel"),
      confirmButtonClass: danger ? "el-button--danger" : "",
    });
    return true;
  } catch {
    return false;
  }
}

/** Run an action whose failure api.js has already shown: nothing more to report. */
export async function quietly(action) {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof SemotAPIError)) throw error;
    return undefined;
  }
}
