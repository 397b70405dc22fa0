// The upload page: gathers files from drops, "Select files" and "Select folder" into one list with previews,
// keeps each file's folder path (sent as a "paths" field beside it), and shows the upload's progress.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  const fileInput = document.getElementById("id_files");
  const folderInput = document.getElementById("folder-input");
  const dropzone = document.getElementById("dropzone");
  const selection = document.getElementById("selection");
  const previews = document.getElementById("previews");
  const summary = document.getElementById("selection-summary");
  const pathFields = document.getElementById("paths");
  const progress = document.getElementById("upload-progress");
  const limit = document.getElementById("selection-limit");
  const submit = form.querySelector("button[type=submit]");
  const viewable = /\.(jpe?g|png|gif|webp|bmp)$/i;
  let entries = [];  // {file, path}

  function formatSize(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(0) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  function add(found) {
    const known = new Set(entries.map((entry) => entry.path + ":" + entry.file.size));
    for (const entry of found) {
      const hidden = entry.path.split("/").some((part) => part.startsWith("."));
      if (!hidden && !known.has(entry.path + ":" + entry.file.size)) entries.push(entry);
    }
    entries.sort((a, b) => a.path.localeCompare(b.path));
    render();
  }

  function render() {
    // the form sends what the list shows: the file input holds every file, in the same order as the paths
    const transfer = new DataTransfer();
    pathFields.replaceChildren();
    for (const entry of entries) {
      transfer.items.add(entry.file);
      const field = document.createElement("input");
      field.type = "hidden";
      field.name = "paths";
      field.value = entry.path;
      pathFields.append(field);
    }
    fileInput.files = transfer.files;

    for (const img of previews.querySelectorAll("img")) URL.revokeObjectURL(img.src);
    previews.replaceChildren(...entries.map(preview));
    const bytes = entries.reduce((sum, entry) => sum + entry.file.size, 0);
    summary.textContent = entries.length + " file" + (entries.length === 1 ? "" : "s") + ", " + formatSize(bytes);
    selection.hidden = entries.length === 0;
    // the server refuses these too; saying so now saves a long upload
    const maxFiles = Number(form.dataset.maxFiles);
    const maxBytes = Number(form.dataset.maxBytes);
    const over = [];
    if (entries.length > maxFiles) over.push("at most " + maxFiles + " files");
    if (bytes > maxBytes) over.push("at most " + formatSize(maxBytes));
    limit.textContent = over.length ? "Too much for one analysis: " + over.join(" and ") + "." : "";
    limit.hidden = over.length === 0;
    submit.disabled = over.length > 0;
  }

  function preview(entry) {
    const item = document.createElement("li");
    if (viewable.test(entry.path)) {
      const img = document.createElement("img");
      img.src = URL.createObjectURL(entry.file);
      img.alt = "";  // the name beside it says what it is
      img.loading = "lazy";
      img.addEventListener("error", () => img.replaceWith(fileIcon("?")));
      item.append(img);
    } else {
      item.append(fileIcon((entry.path.split(".").pop() || "file").toUpperCase()));
    }
    const name = document.createElement("span");
    name.textContent = entry.path + " · " + formatSize(entry.file.size);
    item.append(name);
    return item;
  }

  function fileIcon(label) {
    const icon = document.createElement("span");
    icon.className = "file-icon";
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = label;
    return icon;
  }

  function readAll(reader) {
    // a directory reader hands out its entries in batches until an empty one
    return new Promise((resolve, reject) => {
      const all = [];
      const next = () => reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all); else { all.push(...batch); next(); }
      }, reject);
      next();
    });
  }

  async function walk(entry) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      return [{file, path: entry.fullPath.replace(/^\//, "")}];
    }
    const children = await readAll(entry.createReader());
    return (await Promise.all(children.map(walk))).flat();
  }

  fileInput.addEventListener("change", () => {
    const chosen = Array.from(fileInput.files).map((file) => ({file, path: file.name}));
    fileInput.files = new DataTransfer().files;
    add(chosen);
  });
  folderInput.addEventListener("change", () => {
    add(Array.from(folderInput.files).map((file) => ({file, path: file.webkitRelativePath || file.name})));
    folderInput.value = "";
  });
  document.getElementById("clear-selection").addEventListener("click", () => { entries = []; render(); });

  for (const type of ["dragenter", "dragover"]) {
    dropzone.addEventListener(type, (event) => { event.preventDefault(); dropzone.classList.add("over"); });
  }
  dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
  dropzone.addEventListener("drop", async (event) => {
    event.preventDefault();
    dropzone.classList.remove("over");
    const items = Array.from(event.dataTransfer.items || []);
    const roots = items.map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry()).filter(Boolean);
    if (roots.length) {
      add((await Promise.all(roots.map(walk))).flat());
    } else {
      add(Array.from(event.dataTransfer.files).map((file) => ({file, path: file.name})));
    }
  });

  form.addEventListener("htmx:xhr:progress", (event) => {
    if (!event.detail.lengthComputable) return;
    progress.hidden = false;
    progress.value = Math.round((100 * event.detail.loaded) / event.detail.total);
  });
  form.addEventListener("htmx:afterRequest", () => { progress.hidden = true; });
})();
