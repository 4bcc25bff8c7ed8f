// Dates, relative times and numbers in the agent's language and time zone (Intl, no library).
const root = document.documentElement;

export function formatter(language, timeZone, strings = {}) {
  const lang = language || root.lang || "en";
  const options = timeZone ? { timeZone } : {};
  const dateTime = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short", ...options });
  const time = new Intl.DateTimeFormat(lang, { timeStyle: "short", ...options });
  const day = new Intl.DateTimeFormat(lang, { dateStyle: "medium", ...options });
  const relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto", style: "short" });
  const number = new Intl.NumberFormat(lang);
  const dayKey = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", ...options });

  const units = {};
  const unit = (name) => (units[name] ??= new Intl.NumberFormat(lang, { style: "unit", unit: name, unitDisplay: "short" }));

  // A length of time in its largest sensible unit: "45 min", "3 hr", "2 days".
  function duration(seconds) {
    const abs = Math.abs(seconds);
    if (abs < 3600) return unit("minute").format(Math.max(1, Math.round(abs / 60)));
    if (abs < 86400) return unit("hour").format(Math.round(abs / 3600));
    return unit("day").format(Math.round(abs / 86400));
  }

  // An SLA deadline: "due in 12 min" before it, "overdue by 5 min" after (the element is marked overdue).
  function countdown(element, date) {
    const seconds = (date.getTime() - Date.now()) / 1000;
    const overdue = seconds < 0;
    element.dataset.overdue = String(overdue);
    element.closest(".sla")?.classList.toggle("overdue", overdue);
    element.closest(".sla")?.classList.toggle("soon", !overdue && seconds < 1800);
    const template = overdue ? strings.sla_overdue : strings.sla_due;
    return (template || "%(duration)s").replace("%(duration)s", duration(seconds));
  }

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
    duration,
    times(scope = document) {
      for (const element of scope.querySelectorAll("time[datetime]")) {
        const date = new Date(element.getAttribute("datetime"));
        if (Number.isNaN(date.getTime())) continue;
        element.title = dateTime.format(date);
        if (element.dataset.style === "countdown") {
          element.textContent = countdown(element, date);
        } else if (element.dataset.style === "duration") {
          element.textContent = duration((Date.now() - date.getTime()) / 1000);
        } else if (element.dataset.style === "datetime") {
          const today = dayKey.format(new Date()) === dayKey.format(date);
          element.textContent = today ? time.format(date) : dateTime.format(date);
        } else {
          element.textContent = relativeText(date);
        }
      }
    },
  };
}
