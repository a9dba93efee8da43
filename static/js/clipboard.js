// "Copy" buttons next to read-only link fields (data-copy="FIELD_ID"). Hidden in the HTML and
// shown here, since without JavaScript they could do nothing; the field can still be selected.
async function copyText(field) {
  try {
    await navigator.clipboard.writeText(field.value);
    return true;
  } catch {
    // Plain http outside localhost has no Clipboard API: copy the selection instead.
    field.focus();
    field.select();
    return document.execCommand("copy");
  }
}

export function enhanceCopyButtons(root) {
  for (const button of root.querySelectorAll("button[data-copy]")) {
    const field = root.getElementById(button.dataset.copy);
    if (!field) continue;
    const label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const copied = await copyText(field);
      button.textContent = copied ? button.dataset.copied || "✓" : label;
      window.setTimeout(() => { button.textContent = label; }, 2000);
    });
  }
}
