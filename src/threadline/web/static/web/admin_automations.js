// The automation builder (/app/admin/automations/…): add and remove condition and action rows, and point an
// action's value field at the right suggestions (teams, agents, templates) with a hint of what it takes.
// The form works without this: blank rows are posted and skipped.
const form = document.getElementById("automation-builder");
const params = JSON.parse(document.getElementById("automation-params")?.textContent || "{}");
const lists = { set_team: "automation-teams", assign: "automation-agents", notify: "automation-agents",
  send_reply: "automation-templates" };

function wire(row) {
  const remove = row.querySelector("[data-remove]");
  if (remove) {
    remove.hidden = false;
    remove.addEventListener("click", () => row.remove());
  }
  const type = row.querySelector("[data-action-type]");
  if (type) {
    const update = () => {
      const value = row.querySelector('[name="act_value"]');
      if (lists[type.value]) value.setAttribute("list", lists[type.value]); else value.removeAttribute("list");
      row.querySelector('[name="act_text"]').hidden = type.value !== "notify";
      row.querySelector("[data-hint]").textContent = params[type.value] || "";
    };
    type.addEventListener("change", update);
    update();
  }
}

if (form) {
  form.querySelectorAll("[data-row]").forEach(wire);
  form.querySelectorAll("[data-add]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => {
      const template = document.getElementById(`row-${button.dataset.add}`);
      const row = template.content.firstElementChild.cloneNode(true);
      button.before(row);
      wire(row);
      row.querySelector("input, select")?.focus();
    });
  });
}
