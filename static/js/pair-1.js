// The pair page's comparison: the second image's opacity over the first, a difference view, and zoom on both.
(function () {
  "use strict";
  const overlay = document.getElementById("overlay");
  if (!overlay) return;
  const compare = document.getElementById("compare");
  const opacity = document.getElementById("overlay-opacity");
  const difference = document.getElementById("overlay-difference");
  const zoom = document.getElementById("overlay-zoom");
  const update = () => {
    overlay.style.opacity = difference.checked ? 1 : opacity.value / 100;
    overlay.style.mixBlendMode = difference.checked ? "difference" : "normal";
    opacity.disabled = difference.checked;
    compare.style.width = zoom.value + "%";
  };
  for (const control of [opacity, difference, zoom]) {
    control.addEventListener("input", update);
    control.addEventListener("change", update);
  }
  update();
})();
