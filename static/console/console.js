// Loopdeck console: small progressive enhancements. Every page works without this script.
"use strict";

function localTimes(root) {
  const fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  root.querySelectorAll("time[datetime]").forEach((el) => {
    const when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when)) { el.title = el.textContent; el.textContent = fmt.format(when); }
  });
}

function csrfToken(form) {
  const input = form.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

// Upload: one request per file, each with its own progress bar and its own error.
function enhanceUpload(form) {
  const list = document.getElementById("upload-list");
  const input = form.querySelector("input[type=file]");
  form.addEventListener("submit", (event) => {
    if (!window.FormData || !input.files.length) return;
    event.preventDefault();
    const files = Array.from(input.files);
    const items = files.map((file) => {
      const li = document.createElement("li");
      li.className = "upload-item";
      const name = document.createElement("span");
      name.className = "upload-name";
      name.textContent = file.name;
      const bar = document.createElement("progress");
      bar.max = 100; bar.value = 0;
      bar.setAttribute("aria-label", interpolate(gettext("Upload progress of %s"), [file.name]));
      const note = document.createElement("span");
      note.className = "upload-note";
      note.textContent = gettext("waiting");
      li.append(name, bar, note);
      list.append(li);
      return { file, bar, note, li };
    });
    let next = 0;
    const maxBytes = Number(form.dataset.maxBytes || 0);
    const sendNext = () => {
      if (next >= items.length) return;
      const item = items[next++];
      if (maxBytes && item.file.size > maxBytes) {
        // The server would refuse it from its size alone: say so now instead of sending it.
        item.li.classList.add("failed");
        item.note.textContent = interpolate(gettext("The file is larger than the %s MiB upload limit."), [Math.floor(maxBytes / 1048576)]);
        item.note.classList.add("error");
        sendNext();
        return;
      }
      const data = new FormData();
      data.append("csrfmiddlewaretoken", csrfToken(form));
      data.append("file", item.file);
      data.append("workflow", form.querySelector("[name=workflow]").value);
      if (files.length === 1) data.append("title", form.querySelector("[name=title]").value);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) { item.bar.value = Math.round((e.loaded / e.total) * 100); item.note.textContent = item.bar.value + "%"; }
      });
      xhr.addEventListener("load", () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
        if (xhr.status === 201) {
          item.bar.value = 100;
          item.li.classList.add("done");
          item.note.textContent = "";
          const link = document.createElement("a");
          link.href = body.url; link.textContent = interpolate(gettext("Uploaded: open “%s”"), [body.title]);
          item.note.append(link);
        } else {
          item.li.classList.add("failed");
          const errors = body.errors ? Object.values(body.errors).flat().join(" ") : interpolate(gettext("Upload failed (HTTP %s)."), [xhr.status]);
          item.note.textContent = errors;
          item.note.classList.add("error");
        }
        sendNext();
      });
      xhr.addEventListener("error", () => { item.note.textContent = gettext("Network error: the file was not uploaded."); item.note.classList.add("error"); sendNext(); });
      item.note.textContent = gettext("uploading");
      xhr.send(data);
    };
    sendNext();
    input.value = "";
  });
}

const LABELS = { WAITING: gettext("Waiting"), PROCESSING: gettext("Processing"), FINISH: gettext("Finished"),
  ABORTED: gettext("Aborted"), SUCCESS: gettext("Success"), FAIL: gettext("Failed"), READY: gettext("Ready"),
  FAILED: gettext("Failed") };

function setStatus(el, status) {
  el.textContent = LABELS[status] || status;
  el.className = "status " + status.toLowerCase();
}

// Processing tab: move progress bars from status.json until every task is final.
function pollTasks(container) {
  const url = container.dataset.statusUrl;
  const final = (s) => s === "SUCCESS" || s === "FAIL";
  const videoStatus = document.getElementById("video-status");
  let lastFinalCount = -1;
  const tick = async () => {
    let data;
    try { data = await (await fetch(url, { headers: { Accept: "application/json" } })).json(); }
    catch (e) { setTimeout(tick, 5000); return; }
    let finalCount = 0, open = data.video.status === "PROCESSING", unknown = false;
    if (videoStatus) setStatus(videoStatus, data.video.status);
    for (const task of data.tasks) {
      const el = container.querySelector(`[data-task="${task.task_id}"]`);
      if (!el) { unknown = true; continue; }
      const taskStatus = el.querySelector("[data-role=task-status]");
      if (taskStatus) setStatus(taskStatus, task.result === "FAIL" ? "FAIL" : task.status);
      for (const out of task.outputs) {
        const row = el.querySelector(`[data-output="${out.id}"]`);
        if (!row) continue;
        row.querySelector("progress").value = out.progress;
        setStatus(row.querySelector("[data-role=output-status]"), out.status);
        row.querySelector("[data-role=output-error]").textContent = out.error_code ? out.error_code + ": " + out.error_message : "";
        if (final(out.status)) finalCount++; else open = true;
      }
    }
    if ((lastFinalCount >= 0 && finalCount !== lastFinalCount) || unknown) {
      // Something finished or appeared: refresh the list so retry buttons and links show.
      const html = await (await fetch(location.href)).text();
      const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("task-list");
      if (fresh) { container.innerHTML = fresh.innerHTML; localTimes(container); }
    }
    lastFinalCount = finalCount;
    // Half a second: an operator waiting for a 2 s render sees it within a quarter of that.
    if (open) setTimeout(tick, 500);
  };
  tick();
}

function enhanceCopy(root) {
  root.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy], [data-copy-from]");
    if (!button) return;
    let text = button.dataset.copy;
    if (button.dataset.copyFrom) text = document.getElementById(button.dataset.copyFrom).value;
    else if (button.hasAttribute("data-absolute")) text = new URL(text, location.href).href;
    try { await navigator.clipboard.writeText(text); button.textContent = gettext("Copied"); }
    catch (e) { window.prompt(gettext("Copy this:"), text); }
  });
}

function enhanceSteps(tbody) {
  const renumber = () => tbody.querySelectorAll("[data-step]").forEach((row, i) => {
    row.querySelector("[data-step-number]").textContent = i + 1;
    row.querySelectorAll("select, input, label").forEach((el) => {
      for (const attr of ["id", "for"]) {
        if (el.hasAttribute(attr)) el.setAttribute(attr, el.getAttribute(attr).replace(/-\d+$/, "-" + (i + 1)));
      }
    });
  });
  document.querySelector("[data-add-step]").addEventListener("click", () => {
    const rows = tbody.querySelectorAll("[data-step]");
    const copy = rows[rows.length - 1].cloneNode(true);
    copy.querySelectorAll("input").forEach((el) => { el.value = ""; });
    copy.querySelectorAll("select").forEach((el) => { el.selectedIndex = 0; });
    copy.querySelectorAll(".error").forEach((el) => el.remove());
    tbody.append(copy);
    renumber();
  });
  tbody.addEventListener("click", (event) => {
    if (!event.target.matches("[data-remove-step]")) return;
    const rows = tbody.querySelectorAll("[data-step]");
    const row = event.target.closest("[data-step]");
    if (rows.length > 1) row.remove(); else row.querySelectorAll("input, select").forEach((el) => { el.value = ""; });
    renumber();
  });
}

// Subscription form: only the events the chosen payload shape can carry are offered.
function enhanceShapes(form) {
  const shape = form.querySelector("select[name=shape]");
  const note = form.querySelector("[data-shape-note]");
  const apply = () => {
    const hidden = [];
    form.querySelectorAll("[data-shapes]").forEach((wrap) => {
      const carried = wrap.dataset.shapes.split(" ").includes(shape.value);
      wrap.hidden = !carried;
      wrap.querySelectorAll("input").forEach((input) => { input.disabled = !carried; });
      if (!carried) hidden.push(wrap.querySelector("label").textContent.replace(/ \(.*\)$/, ""));
    });
    note.hidden = !hidden.length;
    note.textContent = hidden.length ? interpolate(gettext("Not offered: the %s shape has no event for %s."), [shape.selectedOptions[0].textContent, hidden.join(", ").toLowerCase()]) : "";
  };
  shape.addEventListener("change", apply);
  apply();
}

// Video page player: "Set start" / "Set end" copy the playhead into the offset fields; a tile of
// the strip of thumbnails (one image the server made) seeks the player to the time it shows.
function enhancePlayer(card) {
  const video = card.querySelector("[data-player-video]");
  if (!video) return;
  const playhead = card.querySelector("[data-playhead]");
  const show = () => { playhead.textContent = video.currentTime.toFixed(3); };
  video.addEventListener("timeupdate", show);
  video.addEventListener("seeked", show);
  card.querySelectorAll("[data-set]").forEach((button) => button.addEventListener("click", () => {
    const field = document.getElementById(button.dataset.set === "start" ? "id_start_time_offset" : "id_end_time_offset");
    if (!field) return;
    field.value = video.currentTime.toFixed(3);
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }));
  card.querySelectorAll("[data-thumbstrip] [data-at]").forEach((tile) => tile.addEventListener("click", () => {
    video.currentTime = Number(tile.dataset.at);
  }));
}

// Preview: post the form (or the chosen template and offsets) and show the animation beside it.
function enhancePreview(form) {
  const panel = document.querySelector("[data-preview-panel]");
  const button = form.querySelector("[data-preview]");
  if (!panel || !button) return;
  const part = (name) => panel.querySelector(`[data-preview-${name}]`);
  button.addEventListener("click", async () => {
    const data = new FormData(form);
    if (form.dataset.video) {
      data.set("video", form.dataset.video);
      const checked = form.querySelector("input[name=templates]:checked");
      data.set("template", checked ? checked.value : "");
    }
    part("empty").hidden = true; part("error").hidden = true; part("busy").hidden = false;
    button.disabled = true;
    try {
      const response = await fetch(form.dataset.previewUrl, { method: "POST", body: data, headers: { Accept: "application/json" } });
      const body = await response.json();
      if (!response.ok) {
        const messages = Object.entries(body.errors || {}).map(([field, list]) => (field === "__all__" ? "" : field + ": ") + list.join(" "));
        part("error").textContent = messages.join(" ") || gettext("The preview failed.");
        part("error").hidden = false;
        return;
      }
      part("image").src = body.image;
      part("image").width = body.width; part("image").height = body.height;
      part("size").textContent = interpolate(gettext("Preview %(width)s×%(height)s, %(frames)s frames, %(start)s–%(end)s s: %(size)s. Projected for the full render (%(full_width)s×%(full_height)s, %(start)s–%(full_end)s s): about %(projected)s."),
        { width: body.width, height: body.height, frames: body.frames, start: body.start, end: body.end, size: body.size_label,
          full_width: body.full_width, full_height: body.full_height, full_end: body.full_end, projected: body.projected_label }, true);
      part("result").hidden = false;
    } catch (e) {
      part("error").textContent = interpolate(gettext("The preview failed: %s"), [e]); part("error").hidden = false;
    } finally {
      part("busy").hidden = true; button.disabled = false;
    }
  });
}

// Template form: Alibaba's time range is a mode (end offset, duration, or trim from end) with one
// field each; only the chosen mode's field is shown and sent.
function enhanceRangeMode(root) {
  const radios = root.querySelectorAll("input[name=range_mode]");
  const apply = () => {
    const mode = root.querySelector("input[name=range_mode]:checked").value;
    root.querySelectorAll("[data-range-field]").forEach((wrap) => {
      const on = wrap.dataset.rangeField === mode;
      wrap.hidden = !on;
      wrap.querySelectorAll("input").forEach((input) => { input.disabled = !on; });
    });
  };
  radios.forEach((radio) => radio.addEventListener("change", apply));
  apply();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-player]").forEach(enhancePlayer);
  document.querySelectorAll("form[data-preview-form]").forEach(enhancePreview);
  const rangeMode = document.querySelector("[data-range-mode]");
  if (rangeMode) enhanceRangeMode(rangeMode);
  const subscriptionForm = document.querySelector("form[data-subscription-form]");
  if (subscriptionForm) enhanceShapes(subscriptionForm);
  localTimes(document);
  const upload = document.querySelector("form[data-upload]");
  if (upload) enhanceUpload(upload);
  const tasks = document.querySelector("[data-status-url]");
  if (tasks) pollTasks(tasks);
  enhanceCopy(document);
  const steps = document.querySelector("[data-steps]");
  if (steps) enhanceSteps(steps);
});

// The language switch submits on change (the button stays for browsers without JavaScript).
document.querySelectorAll("[data-autosubmit]").forEach((select) => {
  const button = select.form.querySelector("[data-autosubmit-button]");
  if (button) button.hidden = true;
  select.addEventListener("change", () => select.form.submit());
});
