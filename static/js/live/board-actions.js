// The secretariat's actions on the live board, through the JSON API with the session cookie:
// starting and ending the rehearsal, and recording a point's roll call for a chair who calls in
// by phone (the server writes it to the meeting's log). The board itself changes when the
// resulting deltas arrive over the websocket.
import { fill, newKey } from "./format.js";

async function postJson(url, body, M) {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
    let data = null;
    try {
      data = await response.json();
    } catch {
      // no JSON body
    }
    if (response.ok) return { ok: true, data };
    // Told by the status code: the API's `detail` is English, this page is not.
    let reason = response.status >= 500 ? M.server_unavailable : M.not_accepted;
    if (response.status === 409) reason = M.not_open;
    else if (response.status === 401 || response.status === 403) reason = M.not_allowed;
    return { ok: false, reason };
  } catch {
    return { ok: false, reason: M.network_error };
  }
}

export function setupRehearsal(root, meetingId, M, manages) {
  const section = document.getElementById("rehearsal");
  const badge = document.getElementById("rehearsal-badge");
  const buttons = section ? Array.from(section.querySelectorAll("button[data-rehearsal]")) : [];

  function changed(running) {
    if (badge) badge.hidden = !running;
    if (!section) return;
    document.getElementById("rehearsal-state").textContent = running ? M.rehearsal_on : M.rehearsal_off;
    for (const button of buttons) button.hidden = (button.dataset.rehearsal === "start") === running;
  }

  if (section && manages) {
    const message = document.getElementById("rehearsal-message");
    document.getElementById("rehearsal-actions").hidden = false;
    for (const button of buttons) {
      button.addEventListener("click", async () => {
        button.disabled = true;
        message.textContent = "";
        const action = button.dataset.rehearsal;
        const result = await postJson(`/api/v1/meetings/${meetingId}/rehearsal`, { action }, M);
        button.disabled = false;
        if (result.ok) changed(Boolean(result.data?.meeting?.rehearsal));
        else message.textContent = fill(M.rehearsal_failed, { reason: result.reason });
      });
    }
  }
  return { changed };
}

export function setupRollCallDialog(root, meetingId, M, list, pointData) {
  const dialog = document.getElementById("roll-call-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;
  const form = document.getElementById("dialog-form");
  const message = document.getElementById("dialog-message");
  const delegates = document.getElementById("dialog-delegates");
  const reason = document.getElementById("dialog-reason");
  const note = document.getElementById("dialog-note");
  const phone = dialog.querySelector('[data-field="phone"]');
  let pointId = null;
  let opener = null;
  let key = null; // kept while the same answer is retried, so a retry never stores twice
  let sentBody = "";

  const chosen = () => form.querySelector("input[name=status]:checked")?.value || "";

  function showFields() {
    document.getElementById("dialog-delegates-field").hidden = chosen() === "absent";
    document.getElementById("dialog-reason-field").hidden = chosen() === "present";
  }

  function open(id, button) {
    const point = pointData(id);
    if (!point) return;
    pointId = id;
    opener = button;
    key = null;
    dialog.querySelector('[data-field="name"]').textContent = point.name;
    dialog.querySelector('[data-field="chair"]').textContent = point.chair || M.no_chair;
    phone.hidden = !point.chair_phone;
    if (point.chair_phone) {
      phone.href = `tel:${point.chair_phone.replace(/\s+/g, "")}`;
      phone.textContent = `☎ ${point.chair_phone}`;
    }
    for (const radio of form.querySelectorAll("input[name=status]")) radio.checked = radio.value === point.status;
    delegates.value = point.delegates_present ?? "";
    reason.value = point.reason ?? "";
    note.value = "";
    message.textContent = "";
    showFields();
    dialog.showModal();
  }

  function answer() {
    const status = chosen();
    if (status === "present") {
      const text = delegates.value.trim();
      // The meeting's bounds are the field's own (as the server checks them).
      const least = Number(delegates.min || 0);
      const most = Math.min(Number(delegates.max || 100000), 100000);
      if (!/^\d{1,6}$/.test(text) || Number(text) < least || Number(text) > most) return { error: M.delegates_required, field: delegates };
      return { status, delegates_present: Number(text) };
    }
    if (status === "absent") {
      if (!reason.value.trim()) return { error: M.reason_required, field: reason };
      return { status, reason: reason.value.trim() };
    }
    return { error: M.status_required, field: form.querySelector("input[name=status]") };
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action='checkin']");
    if (button) open(Number(button.closest(".tile").dataset.pointId), button);
  });
  form.addEventListener("change", (event) => {
    if (event.target.name === "status") showFields();
  });
  dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => opener?.focus());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const given = answer();
    if (given.error) {
      message.textContent = given.error;
      given.field.focus();
      return;
    }
    const body = { point_id: pointId, ...given, note: note.value.trim() || null };
    const signature = JSON.stringify(body);
    if (!key || signature !== sentBody) key = newKey();
    sentBody = signature;
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    const result = await postJson(`/api/v1/meetings/${meetingId}/checkins`, { ...body, idempotency_key: key }, M);
    submit.disabled = false;
    if (!result.ok) {
      message.textContent = fill(M.save_failed, { reason: result.reason });
      return;
    }
    message.textContent = M.saved;
    window.setTimeout(() => dialog.close(), 600);
  });
}
