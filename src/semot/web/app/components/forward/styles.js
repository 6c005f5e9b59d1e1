// The multi-select and chat-history card stylesheet (selection.css), linked once from
// whichever of these components loads first (app.css stays as it is).
const CSS = "/web/app/components/forward/selection.css";
if (typeof document !== "undefined" && !document.querySelector(`link[href="${CSS}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = CSS;
  document.head.appendChild(link);
}
