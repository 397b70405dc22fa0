// "Copy" buttons: data-copy names the element whose text goes to the clipboard; the button says it worked.
(function () {
  "use strict";
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;  // without this script there is nothing to press
    button.addEventListener("click", async () => {
      const source = document.querySelector(button.dataset.copy);
      const status = document.getElementById(button.getAttribute("aria-describedby"));
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        status.textContent = "Copied.";
      } catch (error) {
        // no clipboard access (a page not served over https): select it for the user to copy
        window.getSelection().selectAllChildren(source);
        status.textContent = "Selected: press Ctrl+C (or Cmd+C) to copy.";
      }
    });
  }
})();
