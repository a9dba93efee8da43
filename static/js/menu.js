// On a phone the main menu folds behind a "Menu" button; without this script it simply wraps.
export function enhanceMenu(root) {
  const header = root.querySelector(".site-header");
  const nav = header && header.querySelector("nav.main-nav");
  if (!nav) return;
  nav.id = nav.id || "main-nav";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "menu-toggle";
  button.textContent = nav.dataset.menuLabel || "Menu";
  button.setAttribute("aria-controls", nav.id);
  button.setAttribute("aria-expanded", "false");
  button.addEventListener("click", () => {
    const open = header.classList.toggle("menu-open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
  nav.before(button);
  root.documentElement.classList.add("has-menu-toggle");
}
