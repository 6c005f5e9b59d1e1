// The stylesheet of the emoji picker, the location dialog and the own presence dot while
// disconnected (extras.css), linked once from the first module that needs it, like
// media/styles.js: app.css stays as it is.
const HREF = "/web/app/components/extras/extras.css";

if (typeof document !== "undefined" && !document.querySelector(`link[href="${HREF}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = HREF;
  document.head.appendChild(link);
}
