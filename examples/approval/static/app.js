// The approval page in Semot's client: identity from the bridge, verified by our backend.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const status = (text, error = false) => {
    $("status").textContent = text;
    $("status").className = error ? "error" : "";
  };
  let token = null;
  let me = null;

  // every call to our backend carries the identity token; an expired one is renewed once
  async function api(path, body, retry = true) {
    const resp = await fetch(path, {
      method: "POST",
      headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
    const data = await resp.json().catch(() => ({}));
    if (resp.status === 401 && retry) {
      token = (await SemotBridge.identity()).token;
      return api(path, body, false);
    }
    if (!resp.ok) throw new Error(data.error || "HTTP " + resp.status);
    return data;
  }

  async function start() {
    if (!window.SemotBridge) return status("Semot 不可用（未能加载 semot-bridge.js）", true);
    try {
      token = (await SemotBridge.connect()).token;
      me = (await api("/api/whoami")).user; // the name shown is what Semot verified, not what the browser said
      $("applicant").textContent = me.display_name;
      $("dept").textContent = me.departments.map((d) => d.name).join("、");
    } catch (err) {
      status("无法确认你的身份：" + err.message + "（请在 Semot 客户端中打开本页）", true);
    }
  }

  $("leave").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target.elements;
    const approver = f.approver.value.trim();
    try {
      const { request, url } = await api("/api/requests", {
        kind: f.kind.value, days: Number(f.days.value), reason: f.reason.value, approver,
      });
      status("已提交，等待你确认发送…");
      await SemotBridge.sendCard(approver, {
        title: "请假审批",
        text: request.reason,
        fields: [
          { label: "申请人", value: request.applicant_name },
          { label: "类型", value: request.kind },
          { label: "天数", value: String(request.days) },
        ],
        url,
      });
      status("已发送给审批人");
    } catch (err) {
      status(err.code === "cancelled" ? "已取消发送" : "失败：" + err.message, err.code !== "cancelled");
    }
  });

  $("chat").addEventListener("click", () => {
    const approver = $("leave").elements.approver.value.trim();
    if (!approver) return status("请先填写审批人", true);
    SemotBridge.openChat(approver).catch((err) => status("无法打开会话：" + err.message, true));
  });

  $("ping").addEventListener("click", () => {
    SemotBridge.notify("请假审批", "记得跟进你的申请").then(
      () => status("已提醒"),
      (err) => status("无法提醒：" + err.message, true),
    );
  });

  start();
})();
