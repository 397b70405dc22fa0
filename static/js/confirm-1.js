// Forms that destroy something ask first: data-confirm holds the question (no inline handler: the CSP forbids them).
document.addEventListener("submit", (event) => {
  "use strict";
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
