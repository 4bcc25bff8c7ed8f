// Dates, relative times and numbers in the agent's language and time zone (Intl, no library).
const root = document.documentElement;

export function formatter(language, timeZone) {
  const lang = language || root.lang || "en";
  const options = timeZone ? { timeZone } : {};
  const dateTime = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short", ...options });
  const time = new Intl.DateTimeFormat(lang, { timeStyle: "short", ...options });
  const day = new Intl.DateTimeFormat(lang, { dateStyle: "medium", ...options });
  const relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto", style: "short" });
  const number = new Intl.NumberFormat(lang);
  const dayKey = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", ...options });

  function relativeText(date) {
    const seconds = Math.round((date.getTime() - Date.now()) / 1000);
    const abs = Math.abs(seconds);
    if (abs < 45) return relative.format(0, "second");
    if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
    if (abs < 86400) return relative.format(Math.round(seconds / 3600), "hour");
    if (abs < 7 * 86400) return relative.format(Math.round(seconds / 86400), "day");
    return day.format(date);
  }

  return {
    number: (n) => number.format(n),
    times(scope = document) {
      for (const element of scope.querySelectorAll("time[datetime]")) {
        const date = new Date(element.getAttribute("datetime"));
        if (Number.isNaN(date.getTime())) continue;
        element.title = dateTime.format(date);
        if (element.dataset.style === "datetime") {
          const today = dayKey.format(new Date()) === dayKey.format(date);
          element.textContent = today ? time.format(date) : dateTime.format(date);
        } else {
          element.textContent = relativeText(date);
        }
      }
    },
  };
}
