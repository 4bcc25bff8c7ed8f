// The invitation page: preselect the browser's time zone (the server default is the workspace's).
const select = document.querySelector("select[data-browser-time-zone]");
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (select && zone && [...select.options].some((option) => option.value === zone)) {
  select.value = zone;
}
