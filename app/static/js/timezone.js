// The candidate's time zone, as their browser names it (an IANA name such as Europe/Paris): filled into
// the forms that send it (consent, the language switcher) and sent once where the page did not know it
// yet, so that deadlines and receipt times on their pages are in their own time.
import { request } from "./api.js";

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
for (const input of document.querySelectorAll('input[name="time_zone"]')) input.value = zone;
const { timeZoneUrl, timeZone } = document.body.dataset;
if (zone && timeZoneUrl && timeZone !== zone) {
  request("POST", timeZoneUrl, { time_zone: zone }).catch(() => {});
}
