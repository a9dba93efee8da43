// Asks before a destructive form is sent (remove a point, revoke a link, delete a document):
// <form data-confirm="Question?">. Without JavaScript the form is sent directly.
export function enhanceConfirmations(root) {
  for (const form of root.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}
