// The language menu (简体中文 / English), shown on the login page and in the user menu
// (the component is shared with the admin console: web/shared/lang-switch.js).
import { createLangSwitch } from "../../shared/lang-switch.js";
import { LOCALES, i18n, setLocale, t } from "../i18n.js";

export default createLangSwitch({ i18n, setLocale, t, locales: LOCALES });
