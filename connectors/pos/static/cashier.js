// The cashier page's only script: keep a scanner's input out of the amount field,
// send focus back to the lookup with Escape, and stop a double tap submitting twice.
(function () {
  "use strict";
  var lookup = document.getElementById("lookup-q");
  var keys = [];
  // A USB scanner types the whole code and Enter within a few milliseconds a key;
  // nobody types six keys in 150 ms by hand.
  var BURST_KEYS = 6;
  var BURST_MS = 150;

  // What a member card's QR holds: the member code, perhaps with a prefix.
  var CODE = /^(HUB:|MEMBER:)?[0-9A-Z-]{6,20}$/i;

  function looksScanned(target, fast) {
    var value = target.value.trim();
    if (!CODE.test(value)) return false;
    // Letters in an amount field can only be a card's code typed there by a scanner.
    if (/[A-Z]/i.test(value)) return fast || "numeric" in target.dataset;
    // A code of digits only is told from an amount by how fast it came.
    return fast && value.length >= 8;
  }

  function burst() {
    if (keys.length < BURST_KEYS) return false;
    return keys[keys.length - 1] - keys[keys.length - BURST_KEYS] < BURST_MS;
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Escape" && lookup) {
      lookup.focus();
      lookup.select();
      keys = [];
      return;
    }
    if (event.key === "Enter") {
      var fast = burst();
      keys = [];
      if (lookup && target !== lookup && target.tagName === "INPUT" && looksScanned(target, fast)) {
        // The next customer's card was scanned while the cursor sat in another field.
        event.preventDefault();
        lookup.value = target.value;
        target.value = "";
        lookup.form.requestSubmit();
      }
      return;
    }
    if (event.key.length === 1) keys.push(event.timeStamp);
  }, true);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    window.setTimeout(function () {
      Array.prototype.forEach.call(form.querySelectorAll("button"), function (b) {
        b.disabled = true;
      });
    }, 0);
  });
})();
