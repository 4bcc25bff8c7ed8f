// /app/reports: the bar charts, drawn by Chart.js (node_modules/chart.js, served as /static/chart.js/, no CDN).
// The figures come from <script type="application/json" id="report-charts"> (the CSP allows no inline script);
// the tables beside each chart stay the accessible fallback (and the only view without script). Right to left,
// the value axis runs from the right and the legend and tooltips read RTL; a click on a channel's bar drills
// down like its number in the table.
const data = document.getElementById("report-charts");
const Chart = window.Chart;

if (data && Chart) {
  const charts = JSON.parse(data.textContent);
  const rtl = document.documentElement.dir === "rtl";
  const style = getComputedStyle(document.documentElement);
  const accent = style.getPropertyValue("--accent").trim() || "#1d4ed8";
  const muted = style.getPropertyValue("--muted").trim() || "#656b76";
  const number = new Intl.NumberFormat(document.documentElement.lang || "en");
  Chart.defaults.color = muted;
  Chart.defaults.font.family = style.getPropertyValue("font-family") || Chart.defaults.font.family;

  function draw(id, chart, horizontal) {
    const canvas = document.getElementById(id);
    if (!canvas || !chart.values.length) return;
    const valueAxis = {
      beginAtZero: true, reverse: horizontal && rtl, position: horizontal ? "bottom" : (rtl ? "right" : "left"),
      ticks: { precision: 0, callback: (value) => number.format(value) },
    };
    const labelAxis = { reverse: !horizontal && rtl, position: horizontal ? (rtl ? "right" : "left") : "bottom",
      ticks: { autoSkip: true, maxRotation: 0 } };
    new Chart(canvas, {
      type: "bar",
      data: { labels: chart.labels, datasets: [{ label: chart.title, data: chart.values, backgroundColor: accent }] },
      options: {
        indexAxis: horizontal ? "y" : "x", responsive: true, maintainAspectRatio: false, animation: false,
        locale: document.documentElement.lang || "en",
        scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
        plugins: { legend: { display: false }, tooltip: { rtl, textDirection: rtl ? "rtl" : "ltr" } },
        onClick: (_event, elements) => {
          const link = elements.length && chart.links ? chart.links[elements[0].index] : "";
          if (link) window.location.assign(link);
        },
        onHover: (event, elements) => {
          event.native.target.style.cursor = elements.length && chart.links ? "pointer" : "default";
        },
      },
    });
    canvas.closest(".chart").hidden = false;
  }

  draw("chart-channels", charts.channels, true);
  draw("chart-days", charts.days, false);
  draw("chart-agents", charts.agents, true);
  draw("chart-sla", charts.sla, true);
}
