// veille — keyboard shortcuts of the workspace (progressive enhancement: every action
// stays a plain form POST without this file).
//   j / k   next / previous mention        o   open the chosen mention
//   t e x   mark « traité », « en cours », « exclu »       ?   show or hide the help
"use strict";

(function () {
  var STATUS_KEYS = { t: "traité", e: "en cours", x: "exclu" };

  function typing(event) {
    var target = event.target;
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr.rangee[data-mention-id]"));
  }

  function current() {
    return document.querySelector("tr.rangee.courante");
  }

  function choose(row) {
    var before = current();
    if (before) {
      before.classList.remove("courante");
      before.removeAttribute("aria-current");
    }
    if (!row) return;
    row.classList.add("courante");
    row.setAttribute("aria-current", "true");
    var link = row.querySelector("a.lien-mention");
    if (link) link.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var index = all.indexOf(current());
    var next = index < 0 ? (step > 0 ? 0 : all.length - 1) : index + step;
    choose(all[Math.max(0, Math.min(all.length - 1, next))]);
  }

  function open() {
    var row = current();
    var link = row && row.querySelector("a.lien-mention");
    if (link) window.location.href = link.href;
  }

  // In the inbox: the bulk form with only the chosen row ticked and the status set.
  function markRow(status) {
    var row = current();
    var form = document.getElementById("form-lot");
    if (!row || !form) return false;
    var boxes = form.querySelectorAll('input[type="checkbox"][name="ids"]');
    Array.prototype.forEach.call(boxes, function (box) {
      box.checked = box.value === row.getAttribute("data-mention-id");
    });
    form.querySelector('[name="status"]').value = status;
    var assignee = form.querySelector('[name="assignee"]');
    if (assignee) assignee.value = "-";
    ["add_tag", "remove_tag"].forEach(function (name) {
      var field = form.querySelector('[name="' + name + '"]');
      if (field) field.value = "";
    });
    form.requestSubmit ? form.requestSubmit() : form.submit();
    return true;
  }

  // On a mention's page: the status form's button.
  function markPage(status) {
    var button = document.querySelector('#form-statut button[data-status="' + status + '"]');
    if (button && !button.disabled) {
      button.click();
      return true;
    }
    return false;
  }

  function toggleHelp() {
    var help = document.getElementById("aide-clavier");
    if (!help) return;
    help.open = !help.open;
    if (help.open) help.querySelector("summary").focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
    var key = event.key;
    if (key === "j") move(1);
    else if (key === "k") move(-1);
    else if (key === "o" || (key === "Enter" && current() && event.target === document.body)) open();
    else if (key === "?") toggleHelp();
    else if (STATUS_KEYS[key]) {
      if (!markRow(STATUS_KEYS[key]) && !markPage(STATUS_KEYS[key])) return;
    } else return;
    event.preventDefault();
  });

  // A click on a row (outside its links and boxes) chooses it.
  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("tr.rangee");
    if (row && !event.target.closest("a, input, button, label")) choose(row);
  });
})();
