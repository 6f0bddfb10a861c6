// ethnoflow coding app: keyboard shortcuts and sign-in from the link's fragment. No other script runs
// (the Content-Security-Policy allows only this file); every page also works without it.
"use strict";
(function () {
  function signIn() {
    var token = window.location.hash.slice(1);
    if (!token) return;
    history.replaceState(null, "", window.location.pathname);  // the token leaves the address bar
    document.getElementById("token").value = token;
    document.getElementById("login").submit();
  }

  function shortcuts(form) {
    var dirty = form.querySelector("input[name=dirty]");
    var memo = document.getElementById("memo");
    function touched() { if (dirty) dirty.value = "1"; }
    form.addEventListener("change", touched);
    form.addEventListener("input", touched);
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
      var target = event.target;
      if (target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type !== "checkbox")) {
        if (event.key === "Escape") target.blur();
        return;
      }
      var key = event.key === "Enter" ? "n" : event.key.toLowerCase();
      if (key.length !== 1) return;
      var box = form.querySelector('input[type=checkbox][data-key="' + key + '"]');
      if (box) {
        event.preventDefault();
        box.checked = !box.checked;
        touched();
        return;
      }
      if (key === "m" && memo) {
        event.preventDefault();
        memo.focus();
        return;
      }
      var button = form.querySelector('button[data-key="' + key + '"]');
      if (button && !button.disabled) {
        event.preventDefault();
        form.requestSubmit(button);
        return;
      }
      var link = document.querySelector('a[data-key="' + key + '"]');
      if (link) {
        event.preventDefault();
        window.location.assign(link.href);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.body.dataset.page === "login") { signIn(); return; }
    var form = document.getElementById("coding") || document.getElementById("review");
    if (form) { shortcuts(form); return; }
    document.addEventListener("keydown", function (event) {
      var link = document.querySelector('a[data-key="' + event.key.toLowerCase() + '"]');
      if (link && !event.ctrlKey && !event.metaKey && !event.altKey) window.location.assign(link.href);
    });
  });
})();
