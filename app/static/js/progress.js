// Answers still being processed on the grader's page: ask the server where each one is every
// few seconds, tick off the steps as they finish, and offer the answer once it is ready. The
// page is never reloaded by itself, so a score or comment being typed is never lost.
import { request } from "./api.js";
import { t } from "./i18n.js";

const boxes = [...document.querySelectorAll("[data-progress][data-status-url]")];
const live = document.querySelector("[data-live]");
const EVERY_MS = 3000;
const GIVE_UP_MS = 30 * 60 * 1000; // a stuck answer is the reconciler's business, not the page's
const started = Date.now();

function say(text) {
  if (live) live.textContent = text;
}

function tick(box, steps) {
  steps.forEach((step, i) => {
    const li = box.querySelector(`[data-step="${i}"]`);
    if (!li || !step.done || li.hasAttribute("data-done")) return;
    li.setAttribute("data-done", "");
    li.querySelector("[aria-hidden]").textContent = "✓";
    const note = document.createElement("span");
    note.className = "visually-hidden";
    note.textContent = ` ${t("(done)")}`;
    li.append(note);
  });
}

function settle(box, body) {
  const text = box.querySelector("[data-progress-text]");
  const question = box.closest("section.answer")?.querySelector("h2")?.textContent?.trim() || t("An answer");
  if (body.status === "ready") {
    text.textContent = `${t("This answer is ready.")} `;
    const link = document.createElement("a");
    link.href = box.dataset.showUrl;
    link.textContent = t("Show it");
    link.setAttribute("data-show-answer", "");
    // Same page, new anchor: reload so the player and transcript are drawn by the server.
    link.addEventListener("click", (e) => {
      e.preventDefault();
      window.location.assign(box.dataset.showUrl);
      window.location.reload();
    });
    text.append(link);
    say(t("%(question)s: ready to watch.", { question }));
  } else {
    text.textContent = t("Processing failed: %(reason)s. Reload the page to retry it.",
                         { reason: body.failure_reason || t("no reason was given") });
    text.setAttribute("role", "alert");
  }
  box.removeAttribute("data-progress");
}

async function poll() {
  const waiting = boxes.filter((b) => b.hasAttribute("data-progress"));
  if (!waiting.length || Date.now() - started > GIVE_UP_MS) return;
  await Promise.all(waiting.map(async (box) => {
    try {
      const body = await request("GET", box.dataset.statusUrl);
      tick(box, body.steps || []);
      if (body.status === "ready" || body.status === "failed") settle(box, body);
    } catch {
      // Offline for a moment, or a refusal: the next round asks again.
    }
  }));
  setTimeout(poll, EVERY_MS);
}

if (boxes.length) setTimeout(poll, EVERY_MS);
