// One point's notice state in words, as templates/attendance/_labels.html's notice_text says it:
// the chair's answer with the delegates expected or the reason, a failure with its reason (given
// to the secretariat only), or a delivered invitation still waiting for its answer.

export function noticeText(M, p, number) {
  const label = M.notice_states[p.notice_state] || p.notice_state;
  const ack = p.acknowledgement;
  if (ack && ack.status === "received" && ack.delegates_expected != null) {
    return `${label} · ${String(M.expected).replace("{count}", number(ack.delegates_expected))}`;
  }
  if (ack && ack.reason) return `${label}: ${ack.reason}`;
  if (p.notice_state === "failed" && p.notice_failure) return `${label}: ${(M.failures || {})[p.notice_failure] || p.notice_failure}`;
  if (p.notice_state === "delivered" && M.no_reply) return `${label} · ${M.no_reply}`;
  return label;
}
