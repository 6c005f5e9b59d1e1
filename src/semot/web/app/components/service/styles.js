// The workbench's stylesheet (service.css), linked once by the first module that needs it.
const HREF = "/web/app/components/service/service.css";

if (typeof document !== "undefined" && !document.querySelector(`link[href="${HREF}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = HREF;
  document.head.appendChild(link);
}
