/* The Widget page's preview: follows the colour, position and launcher text as they are typed. */
(function () {
  "use strict";
  var form = document.getElementById("widget-form");
  if (!form) return;
  var preview = document.querySelector(".widget-preview");
  var launcher = document.getElementById("preview-launcher");
  var fallback = launcher.textContent;
  function draw() {
    var colour = form.elements.colour.value;
    document.querySelectorAll("[data-preview-colour]").forEach(function (node) {
      node.style.setProperty("--wc", colour);
    });
    preview.setAttribute("data-side", form.elements.position.value);
    launcher.textContent = form.elements.launcher_text.value.trim() || fallback;
  }
  form.addEventListener("input", draw);
  form.addEventListener("change", draw);
  draw();
})();
