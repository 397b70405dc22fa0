// The pair page's comparison: the second image's opacity over the first, a difference view, and zoom on both.
// At 100% the pair fits the frame's width and the window's height, and a small picture is never drawn larger
// than its own pixels; zoom magnifies from there.
(function () {
  "use strict";
  const overlay = document.getElementById("overlay");
  if (!overlay) return;
  const compare = document.getElementById("compare");
  const base = compare.querySelector("img");
  const frame = compare.parentElement;
  const opacity = document.getElementById("overlay-opacity");
  const difference = document.getElementById("overlay-difference");
  const zoom = document.getElementById("overlay-zoom");
  const fitted = () => {
    const height = parseFloat(getComputedStyle(frame).maxHeight) || window.innerHeight * 0.8;
    const width = base.naturalWidth || frame.clientWidth;
    const tall = base.naturalHeight ? (width * height) / base.naturalHeight : width;
    return Math.min(frame.clientWidth, width, tall);
  };
  const update = () => {
    overlay.style.opacity = difference.checked ? 1 : opacity.value / 100;
    overlay.style.mixBlendMode = difference.checked ? "difference" : "normal";
    opacity.disabled = difference.checked;
    compare.style.width = (fitted() * zoom.value) / 100 + "px";
  };
  for (const control of [opacity, difference, zoom]) {
    control.addEventListener("input", update);
    control.addEventListener("change", update);
  }
  base.addEventListener("load", update);
  window.addEventListener("resize", update);
  update();
})();
