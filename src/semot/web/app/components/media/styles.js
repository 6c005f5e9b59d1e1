// The media bubbles' and the forward dialog's stylesheet (media.css), linked once from
// the first module that needs it: the page itself (index.html, app.css) stays as it is.
const HREF = "/web/app/components/media/media.css";

if (typeof document !== "undefined" && !document.querySelector(`link[href="${HREF}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = HREF;
  document.head.appendChild(link);
}
