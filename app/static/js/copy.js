// Copy buttons: <button data-copy="#selector"> copies that field's value.
import { t } from "./i18n.js";

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const field = document.querySelector(button.dataset.copy);
    try {
      await navigator.clipboard.writeText(field.value);
      button.textContent = t("Copied");
    } catch {
      field.select();
      button.textContent = t("Press Ctrl+C to copy");
    }
  });
}
