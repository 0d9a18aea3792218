// The page scripts' messages in the page's language. The server renders them as a JSON block
// (base.html, {"locale", "plural", "messages"}) from app/translations/<locale>/LC_MESSAGES/messages.json,
// which `make translations` compiles from the .po files; a message not translated yet stays as written.
// Placeholders are named as in Python (%(name)s); numbers in them are written in the page's locale.

const data = JSON.parse(document.getElementById("i18n")?.textContent || "{}");
const messages = data.messages || {};

// The page's locale as a BCP 47 tag (zh-Hans, pt-BR, ar), for Intl.
export const locale = data.locale || document.documentElement.lang || "en";

const numbers = new Intl.NumberFormat(locale);

// A gettext Plural-Forms expression (the catalogue's, e.g. "n==0 ? 0 : n==1 ? 1 : ...") read by a
// small parser rather than eval, which the page's Content-Security-Policy forbids. Grammar: ?: || &&
// == != < > <= >= + - * / % ! ( ) n and whole numbers, as gettext allows.
function compile(expr) {
  const tokens = expr.match(/\d+|n|&&|\|\||[=!<>]=|[-+*/%<>!?:()]/g) || ["0"];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const BINARY = [["||"], ["&&"], ["==", "!="], ["<", ">", "<=", ">="], ["+", "-"], ["*", "/", "%"]];
  const apply = (op, a, b) => ({
    "||": () => (a || b ? 1 : 0), "&&": () => (a && b ? 1 : 0), "==": () => Number(a === b),
    "!=": () => Number(a !== b), "<": () => Number(a < b), ">": () => Number(a > b),
    "<=": () => Number(a <= b), ">=": () => Number(a >= b), "+": () => a + b, "-": () => a - b,
    "*": () => a * b, "/": () => Math.trunc(a / b), "%": () => a % b,
  })[op]();
  function unary() {
    const t = next();
    if (t === "!") { const f = unary(); return (n) => Number(!f(n)); }
    if (t === "(") { const f = ternary(); next(); return f; }
    if (t === "n") return (n) => n;
    const value = Number(t);
    return () => value;
  }
  function binary(level) {
    if (level === BINARY.length) return unary();
    let left = binary(level + 1);
    while (BINARY[level].includes(peek())) {
      const op = next();
      const a = left;
      const b = binary(level + 1);
      left = (n) => apply(op, a(n), b(n));
    }
    return left;
  }
  function ternary() {
    const test = binary(0);
    if (peek() !== "?") return test;
    next();
    const yes = ternary();
    next(); // ":"
    const no = ternary();
    return (n) => (test(n) ? yes(n) : no(n));
  }
  return ternary();
}

// Which plural form a count takes in this locale, as the catalogue's Plural-Forms says.
export const pluralIndex = compile(data.plural || "n != 1");

function fill(text, values = {}) {
  return text.replace(/%\((\w+)\)[sd]|%%/g, (match, name) => {
    if (match === "%%") return "%";
    const value = values[name];
    return typeof value === "number" ? numbers.format(value) : String(value ?? match);
  });
}

// A message in the page's language: t("Question %(number)s of %(total)s", {number: 1, total: 3}).
export function t(msgid, values) {
  const found = messages[msgid];
  return fill(typeof found === "string" && found ? found : msgid, values);
}

// A message about a count, in the form the locale's plural rules choose (six in Arabic):
// nt("%(num)s take left", "%(num)s takes left", n). `num` is the count, written in the locale.
export function nt(singular, plural, n, values = {}) {
  const forms = messages[singular];
  let text = n === 1 ? singular : plural;
  if (Array.isArray(forms)) {
    const form = forms[pluralIndex(Math.abs(n))];
    if (form) text = form;
  }
  return fill(text, { num: n, ...values });
}

// A number in the page's locale: 123,456 / 123.456 / ١٢٣٬٤٥٦.
export function formatNumber(n) {
  return numbers.format(n);
}

// A size as people read it, in the page's locale ("1.2 MB", "1,2 Mo").
export function formatBytes(size) {
  const units = [[1e9, "gigabyte"], [1e6, "megabyte"], [1e3, "kilobyte"]];
  const [step, unit] = units.find(([s]) => size >= s) || [1, "byte"];
  return new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "short", maximumFractionDigits: 1 })
    .format(size / step);
}

// Text that must read left to right inside a right-to-left sentence (a countdown, a checksum),
// wrapped in Unicode's left-to-right isolate, the plain-text form of <bdi dir="ltr">; a
// left-to-right page needs none.
export function ltr(text) {
  return document.documentElement.dir === "rtl" ? `\u2066${text}\u2069` : text;
}
