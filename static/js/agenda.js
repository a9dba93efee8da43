// The agenda editor of the meeting form: "add an item" and "remove" buttons around the rows the
// server rendered (existing items and three empty ones). The server reads rows by the index in
// their field names (agenda-N-time/title/presenter), so a new row only needs a fresh index.
const INDEX = /agenda-\d+-/;

function renumber(row, index) {
  for (const element of row.querySelectorAll("[id], [name], [for]")) {
    for (const attribute of ["id", "name", "for"]) {
      const value = element.getAttribute(attribute);
      if (value) element.setAttribute(attribute, value.replace(INDEX, `agenda-${index}-`));
    }
  }
}

function announce(region, text) {
  region.textContent = "";
  window.setTimeout(() => { region.textContent = text; }, 50);
}

function addRemoveButton(row, list, labels, region) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button-small button-quiet agenda-remove";
  button.textContent = labels.remove;
  button.addEventListener("click", () => {
    if (list.children.length > 1) {
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      next.querySelector("input").focus();
    } else {
      for (const input of row.querySelectorAll("input")) input.value = "";
    }
    announce(region, labels.removed);
  });
  row.append(button);
}

export function enhanceAgenda(root) {
  const labelSource = root.getElementById("agenda-labels");
  if (!labelSource) return;
  const labels = labelSource.dataset;
  for (const list of root.querySelectorAll("[data-agenda]")) {
    const region = document.createElement("p");
    region.className = "visually-hidden";
    region.setAttribute("aria-live", "polite");
    let nextIndex = list.children.length;
    for (const row of list.children) addRemoveButton(row, list, labels, region);
    const add = document.createElement("button");
    add.type = "button";
    add.className = "button-small button-secondary agenda-add";
    add.textContent = labels.add;
    add.addEventListener("click", () => {
      const row = list.lastElementChild.cloneNode(true);
      row.querySelector(".agenda-remove")?.remove();
      renumber(row, nextIndex);
      nextIndex += 1;
      for (const input of row.querySelectorAll("input")) input.value = "";
      addRemoveButton(row, list, labels, region);
      list.append(row);
      row.querySelector("input").focus();
    });
    list.after(add, region);
  }
}
