// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // a language <select> submits its form on change, so the "apply" button can hide
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
  // buttons that ask before doing something that cannot be undone (deleting a saved search)
  document.querySelectorAll("[data-confirm]").forEach(function (el) {
    el.addEventListener("click", function (event) {
      if (!window.confirm(el.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
});
