// The upload page with JavaScript. The form works without this script (it
// takes several files, and the server answers with a summary page); with
// it:
// - one file chosen and submitted goes through XMLHttpRequest so a progress
//   bar can move, and the browser then shows whatever page the server
//   answered (confirmation or try-again), as a plain submission would;
// - several files, or files dropped anywhere on the page, get a row each
//   with its own progress bar and outcome, updated in place: each file is
//   its own POST (so each is judged on its own), a few at a time.
(function () {
  var form = document.getElementById("upload-form");
  var input = document.getElementById("artwork");
  var bar = document.getElementById("upload-progress");
  var rows = document.getElementById("upload-rows");
  if (!form || !input || !bar || !rows || !window.XMLHttpRequest || !window.FormData || !window.DOMParser) return;
  var AT_ONCE = 3;
  var queue = [];
  var running = 0;

  function post(file, onprogress, onload, onerror) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) onprogress(Math.round((e.loaded / e.total) * 100));
    };
    xhr.onload = function () { onload(xhr); };
    xhr.onerror = onerror;
    var data = new FormData();
    data.append("artwork", file, file.name);
    xhr.send(data);
  }

  // The confirmation page's address names the new artwork.
  function accepted(xhr) {
    var m = xhr.responseURL && xhr.responseURL.match(/\/uploaded\/([^/?#]+)/);
    return m ? m[1] : null;
  }

  // The try-again page's reason, read from the page the server answered.
  function reason(xhr) {
    var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var el = doc.querySelector(".reason") || doc.querySelector("main p") || doc.querySelector("h1");
    return el ? el.textContent.trim() : "The upload failed (" + xhr.status + ").";
  }

  function row(file) {
    var li = document.createElement("li");
    var name = document.createElement("span");
    name.className = "filename";
    name.textContent = file.name;
    var progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute("aria-label", "Uploading " + file.name);
    var outcome = document.createElement("span");
    outcome.className = "outcome";
    outcome.textContent = "Waiting…";
    li.append(name, " ", progress, " ", outcome);
    rows.append(li);
    return { li: li, progress: progress, outcome: outcome, file: file };
  }

  function finish(job, id, text) {
    job.progress.remove();
    job.li.className = id ? "accepted" : "refused";
    job.outcome.textContent = id ? "Uploaded. " : "Please try again: " + text;
    if (id) {
      var a = document.createElement("a");
      a.href = "/artworks/" + id;
      a.textContent = "See its page";
      job.outcome.append(a);
    }
    running -= 1;
    next();
  }

  function next() {
    while (running < AT_ONCE && queue.length) {
      var job = queue.shift();
      running += 1;
      job.outcome.textContent = "Uploading…";
      (function (job) {
        post(job.file,
          function (pct) { job.progress.value = pct; },
          function (xhr) {
            var id = accepted(xhr);
            finish(job, id, id ? "" : reason(xhr));
          },
          function () { finish(job, null, "the upload did not reach Easel. Check your connection."); });
      })(job);
    }
  }

  function add(files) {
    for (var i = 0; i < files.length; i++) queue.push(row(files[i]));
    next();
  }

  form.addEventListener("submit", function (ev) {
    var files = input.files;
    if (!files || files.length === 0) return; // the server says no file was chosen
    ev.preventDefault();
    if (files.length > 1) {
      add(files);
      input.value = "";
      return;
    }
    bar.hidden = false;
    post(files[0],
      function (pct) { bar.value = pct; },
      function (xhr) {
        if (accepted(xhr)) {
          window.location.assign(xhr.responseURL);
        } else {
          document.open();
          document.write(xhr.responseText);
          document.close();
        }
      },
      function () { form.submit(); });
  });

  // Files dropped anywhere on the page.
  var depth = 0;
  document.addEventListener("dragenter", function (ev) {
    ev.preventDefault();
    depth += 1;
    document.body.classList.add("dropping");
  });
  document.addEventListener("dragleave", function () {
    depth = Math.max(0, depth - 1);
    if (depth === 0) document.body.classList.remove("dropping");
  });
  document.addEventListener("dragover", function (ev) { ev.preventDefault(); });
  document.addEventListener("drop", function (ev) {
    ev.preventDefault();
    depth = 0;
    document.body.classList.remove("dropping");
    if (ev.dataTransfer && ev.dataTransfer.files.length) add(ev.dataTransfer.files);
  });
})();
