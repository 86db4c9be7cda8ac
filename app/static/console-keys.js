// Keyboard shortcuts for the console's list of leads (progressive enhancement: every action
// is also a link, a checkbox or a field). j/k move a highlight between rows, o or Enter opens
// the highlighted lead, x ticks its box, / goes to the search, ? shows the shortcuts.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-lead-row]"));
  var help = document.querySelector("[data-key-help]");
  var search = document.querySelector("[data-search]");
  var current = -1;

  // An open dialog keeps its keys; a closed one does not, though the focus may linger on
  // its button for a moment after Escape closed it.
  function typing(target) {
    return target.closest("input, select, textarea, [contenteditable], dialog[open]") !== null;
  }

  function highlight(index) {
    if (!rows.length) return;
    if (current >= 0) rows[current].classList.remove("is-current");
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows[current].classList.add("is-current");
    rows[current].scrollIntoView({ block: "nearest" });
  }

  function open() {
    var link = current >= 0 && rows[current].querySelector("[data-open]");
    if (link) window.location.assign(link.href);
  }

  function toggle() {
    var box = current >= 0 && rows[current].querySelector("input[type=checkbox]");
    if (box) box.checked = !box.checked;
  }

  var keys = {
    j: function () { highlight(current + 1); },
    k: function () { highlight(current - 1); },
    o: open,
    Enter: function (event) {
      // Enter on a focused link or button keeps its own meaning.
      if (event.target.closest("a, button, summary")) return false;
      open();
    },
    x: toggle,
    "/": function () { if (search) search.focus(); },
    "?": function () { if (help && !help.open) help.showModal(); }
  };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var action = keys[event.key];
    if (action && action(event) !== false) event.preventDefault();
  });
})();
