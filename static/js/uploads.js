// Upload fields check a chosen file's size and type before anything is sent: a file past the
// limit (`data-max-bytes`) or of another type (`accept`) is named beside the field and the form
// is not sent, so what was typed stays. The server checks both again (and answers an over-limit
// file with the form, typed text kept); this only spares a long wait on a slow connection.

function accepted(file, accept) {
  const name = file.name.toLowerCase();
  const type = (file.type || "").toLowerCase();
  return accept.split(",").map((a) => a.trim().toLowerCase()).filter(Boolean).some((a) =>
    a.startsWith(".") ? name.endsWith(a) : a.endsWith("/*") ? type.startsWith(a.slice(0, -1)) : type === a,
  );
}

function problem(input) {
  const file = input.files && input.files[0];
  if (!file) return "";
  const max = Number(input.dataset.maxBytes || 0);
  if (max && file.size > max) {
    const size = (file.size / 1048576).toLocaleString("vi-VN", { maximumFractionDigits: 1 });
    return input.dataset.tooLarge.replace("%(size)s", size);
  }
  if (input.accept && !accepted(file, input.accept)) return input.dataset.wrongType;
  return "";
}

function check(input, message) {
  const text = problem(input);
  message.textContent = text;
  message.hidden = !text;
  input.setAttribute("aria-invalid", text ? "true" : "false");
  input.setCustomValidity(text);
  return !text;
}

export function enhanceUploads(root) {
  for (const input of root.querySelectorAll("input[type=file][data-max-bytes]")) {
    const message = document.createElement("p");
    message.className = "field-error upload-problem";
    message.id = `${input.id}-problem`;
    message.setAttribute("role", "alert");
    message.hidden = true;
    input.after(message);
    input.setAttribute("aria-describedby", `${input.getAttribute("aria-describedby") || ""} ${message.id}`.trim());
    input.addEventListener("change", () => check(input, message));
    input.form.addEventListener("submit", (event) => {
      if (!check(input, message)) {
        event.preventDefault();
        event.stopImmediatePropagation();
        input.focus();
      }
    });
  }
}
