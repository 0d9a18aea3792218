// Grading one candidate: player controls, the transcript that follows the voice, and keyboard
// shortcuts (listed in the help overlay, "?"). Data comes from data-* attributes; no inline code.
import { ApiError, request } from "./api.js";
import { t } from "./i18n.js";

const root = document.querySelector("[data-review]");
const sections = [...document.querySelectorAll("section.answer")];
const live = document.querySelector("[data-live]");
let current = 0;

function say(text) {
  if (live) live.textContent = text;
}

// Players: speed, captions, skip; the transcript highlights the spoken word, a click seeks.
function wirePlayer(box) {
  const media = box.querySelector("video, audio");
  const words = [...box.querySelectorAll(".w[data-start]")];
  const controls = box.querySelector("[data-controls]");
  if (!media) return;
  if (controls) {
    controls.hidden = false;
    controls.addEventListener("click", (e) => {
      const action = e.target.closest("[data-action]")?.dataset.action;
      if (action === "back") skip(media, -10);
      else if (action === "forward") skip(media, 10);
      else if (action === "play") toggle(media);
      else if (action === "captions") captions(media, box);
    });
    controls.querySelector('[data-action="speed"]')?.addEventListener("change", (e) => {
      media.playbackRate = Number(e.target.value);
    });
    media.addEventListener("play", () => label(box, t("Pause")));
    media.addEventListener("pause", () => label(box, t("Play")));
  }
  let lit = null;
  media.addEventListener("timeupdate", () => {
    const t = media.currentTime;
    const now = words.find((w) => t >= Number(w.dataset.start) && t < Number(w.dataset.end));
    if (now === lit) return;
    lit?.classList.remove("now");
    lit?.removeAttribute("aria-current");
    lit = now || null;
    if (lit) {
      lit.classList.add("now");
      lit.setAttribute("aria-current", "true");
    }
  });
  box.querySelector("[data-transcript]")?.addEventListener("click", (e) => {
    const target = e.target.closest("[data-start], [data-seek]");
    if (!target) return;
    media.currentTime = Number(target.dataset.start ?? target.dataset.seek);
    media.play().catch(() => {});
  });
}

function label(box, text) {
  const b = box.querySelector('[data-action="play"]');
  if (b) b.textContent = text;
}

function skip(media, seconds) {
  const end = Number.isFinite(media.duration) ? media.duration : Infinity;
  media.currentTime = Math.max(0, Math.min(end, media.currentTime + seconds));
  say(t("At %(seconds)s seconds", { seconds: Math.round(media.currentTime) }));
}

function toggle(media) {
  if (media.paused) media.play().catch(() => {});
  else media.pause();
}

function captions(media, box) {
  const track = media.textTracks?.[0];
  if (!track) return;
  track.mode = track.mode === "showing" ? "hidden" : "showing";
  box.querySelector('[data-action="captions"]')?.setAttribute("aria-pressed", String(track.mode === "showing"));
  say(track.mode === "showing" ? t("Captions on") : t("Captions off"));
}

function speed(media, box, step) {
  const rates = [0.75, 1, 1.25, 1.5, 1.75, 2];
  const i = rates.findIndex((r) => r >= media.playbackRate - 0.01);
  const next = rates[Math.max(0, Math.min(rates.length - 1, (i < 0 ? 1 : i) + step))];
  media.playbackRate = next;
  const select = box.querySelector('[data-action="speed"]');
  if (select) select.value = String(next);
  say(t("Speed %(rate)s×", { rate: next }));
}

// Questions: one is current; n and p move, a digit scores it and moves on.
function focusQuestion(i) {
  if (!sections.length) return;
  current = Math.max(0, Math.min(sections.length - 1, i));
  sections.forEach((s, k) => s.classList.toggle("current", k === current));
  const s = sections[current];
  s.scrollIntoView({ block: "start" });
  s.querySelector("h2")?.focus({ preventScroll: true });
  say(t("Question %(number)s of %(total)s", { number: current + 1, total: sections.length }));
}

async function score(value) {
  const form = sections[current]?.querySelector("form.score");
  if (!form) return say(t("There is no score to give here."));
  const groups = [...form.querySelectorAll("[data-criterion]")];
  if (groups.length) {
    // One digit per criterion, in order; the score is saved when the last one is given.
    const i = Number(form.dataset.next || 0);
    groups[i].querySelector(`input[value="${value}"]`).checked = true;
    form.dataset.next = String((i + 1) % groups.length);
    if (i + 1 < groups.length) {
      return say(t("%(criterion)s: %(value)s. Next: %(next)s", {
        criterion: groups[i].querySelector("legend").textContent, value,
        next: groups[i + 1].querySelector("legend").textContent }));
    }
  } else {
    const radio = form.querySelector(`input[name="value"][value="${value}"]`);
    if (!radio) return;
    radio.checked = true;
  }
  let data;
  try {
    data = await request("POST", form.action, new FormData(form), () => t("The score could not be saved."));
  } catch (err) {
    return say(err instanceof ApiError ? err.message : t("The score could not be saved."));
  }
  let saved = form.querySelector("[data-saved-score]");
  if (!saved) {
    saved = document.createElement("small");
    form.append(saved);
  }
  saved.dataset.savedScore = String(data.value);
  saved.textContent = t("Saved: %(value)s/5", { value: data.value });
  say(t("Question %(number)s scored %(value)s", { number: current + 1, value: data.value }));
  if (current < sections.length - 1) focusQuestion(current + 1);
  else document.querySelector("#overall")?.scrollIntoView({ block: "start" });
}

// The help overlay, a modal dialog: while open, Tab and Shift+Tab go round its controls only, and
// closing it (Escape, "?", Close, a click outside the card) gives focus back to what opened it.
const help = document.querySelector("[data-help]");
const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"])';
let opener = null;
function showHelp(open) {
  if (!help || open === !help.hidden) return;
  help.hidden = !open;
  if (open) {
    opener = document.activeElement;
    help.querySelector(FOCUSABLE)?.focus();
  } else {
    if (opener?.isConnected && opener !== document.body) opener.focus();
    opener = null;
  }
}
function trapTab(e) {
  const items = [...help.querySelectorAll(FOCUSABLE)];
  const at = items.indexOf(document.activeElement);
  e.preventDefault();
  if (!items.length) return;
  const step = e.shiftKey ? -1 : 1;
  items[at < 0 ? 0 : (at + step + items.length) % items.length].focus();
}
help?.querySelector("button")?.addEventListener("click", () => showHelp(false));
help?.addEventListener("click", (e) => { if (e.target === help) showHelp(false); });
document.querySelector("[data-help-open]")?.addEventListener("click", () => showHelp(true));
// Focus moved out some other way (a click on the page behind, a screen reader) comes back in.
document.addEventListener("focusin", (e) => {
  if (help && !help.hidden && !help.contains(e.target)) help.querySelector(FOCUSABLE)?.focus();
});

function typing(el) {
  if (!el) return false;
  if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
  return el.tagName === "INPUT" && !["radio", "checkbox", "button", "submit"].includes(el.type);
}

function go(selector) {
  const a = document.querySelector(selector);
  if (a?.href) window.location.assign(a.href);
}

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (help && !help.hidden && e.key === "Tab") { trapTab(e); return; }
  if (e.key === "Escape") {
    if (help && !help.hidden) showHelp(false);
    else if (typing(document.activeElement)) document.activeElement.blur();
    return;
  }
  if (typing(e.target)) return;
  if (help && !help.hidden && e.key !== "?") return;
  const box = sections[current]?.querySelector("[data-player]");
  const media = box?.querySelector("video, audio");
  const onControl = ["BUTTON", "A"].includes(e.target.tagName) || e.target.type === "radio";
  let handled = true;
  switch (e.key) {
    case "?": showHelp(help?.hidden); break;
    case " ": case "k":
      if (onControl && e.key === " ") { handled = false; break; }
      if (media) toggle(media); break;
    case "j": case "ArrowLeft": if (media && !onControl) skip(media, -10); else handled = false; break;
    case "l": case "ArrowRight": if (media && !onControl) skip(media, 10); else handled = false; break;
    case "<": if (media) speed(media, box, -1); break;
    case ">": if (media) speed(media, box, 1); break;
    case "c": if (media) captions(media, box); break;
    case "n": focusQuestion(current + 1); break;
    case "p": focusQuestion(current - 1); break;
    case "N": go('[data-nav="next"]'); break;
    case "P": go('[data-nav="previous"]'); break;
    case "g": document.querySelector('#overall input[name="recommendation"]')?.focus(); break;
    case "1": case "2": case "3": case "4": case "5":
      if (e.target.type === "radio" && e.target.name === "recommendation") { handled = false; break; }
      score(e.key); break;
    default: handled = false;
  }
  if (handled) e.preventDefault();
});

document.querySelectorAll("[data-player]").forEach(wirePlayer);
sections.forEach((s, i) => s.addEventListener("focusin", () => { current = i; }));
if (root && sections.length) {
  const fromHash = sections.findIndex((s) => `#${s.id}` === window.location.hash);
  current = Math.max(0, fromHash);
  sections[current].classList.add("current");
}

// Opened from a search hit (?t=seconds#q-...): go to that moment and mark the word said then.
const at = Number(new URLSearchParams(window.location.search).get("t"));
if (root && sections.length && Number.isFinite(at) && window.location.search.includes("t=")) {
  const section = sections[current];
  const media = section.querySelector("video, audio");
  const word = [...section.querySelectorAll(".w[data-start]")].find((w) => Number(w.dataset.start) >= at - 0.01);
  word?.classList.add("now");
  word?.scrollIntoView({ block: "nearest" });
  if (media) {
    const seek = () => { media.currentTime = at; };
    if (media.readyState >= 1) seek();
    else media.addEventListener("loadedmetadata", seek, { once: true });
  }
}

// An AI evaluation's quote: seek this answer's player to the moment it was said (the link's ?t=
// does the same when the page is opened from it).
document.addEventListener("click", (e) => {
  const quote = e.target.closest("[data-ai-seek]");
  const media = quote?.closest("section.answer")?.querySelector("video, audio");
  if (!quote || !media) return;
  e.preventDefault();
  media.currentTime = Number(quote.dataset.aiSeek);
  media.play().catch(() => {});
  say(t("At %(seconds)s seconds", { seconds: Math.round(media.currentTime) }));
});
