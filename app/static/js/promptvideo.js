// A question the hiring manager asked on video (or sound): played to the candidate before the
// thinking time, with captions shown from the start; the question's words stay on the page. The
// thinking time starts when it ends, when the candidate skips it (a button, so the keyboard
// reaches it), or at once when it cannot be played.
import { t } from "./i18n.js";

// Play `media` ({id, picture, lang}, from the page's state) in `player` under the candidate's link
// `base`; resolves once it ended, was skipped, or failed to load.
export function playPrompt(player, skip, base, media) {
  return new Promise((resolve) => {
    const track = document.createElement("track");
    track.kind = "captions";
    track.label = t("Captions");
    track.srclang = media.lang || "en";
    track.src = `${base}/prompts/${media.id}/captions.vtt`;
    track.default = true;
    player.replaceChildren(track);
    player.src = `${base}/prompts/${media.id}/video`;
    player.classList.toggle("sound-only", !media.picture);
    player.hidden = false;
    track.track.mode = "showing";
    let over = false;
    const finish = () => {
      if (over) return;
      over = true;
      player.pause();
      player.hidden = true;
      player.dataset.watched = player.ended ? "ended" : "skipped";
      resolve();
    };
    player.onended = finish;
    player.onerror = finish;
    skip.onclick = finish;
    // Started by the candidate's own click (Start the interview, Next); where a browser still
    // refuses to play it unasked, its controls play it.
    player.play().catch(() => {});
  });
}
