// Progress for large uploads. The form works without this script; with it,
// the same POST goes through XMLHttpRequest so the bar can move, and the
// browser then shows whatever page the server answered (confirmation or
// try-again), exactly as a plain submission would.
(function () {
  var form = document.getElementById("upload-form");
  var bar = document.getElementById("upload-progress");
  if (!form || !bar || !window.XMLHttpRequest || !window.FormData) return;
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    bar.hidden = false;
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    };
    xhr.onload = function () {
      if (xhr.responseURL && xhr.responseURL.indexOf("/uploaded/") !== -1) {
        window.location.assign(xhr.responseURL);
      } else {
        document.open();
        document.write(xhr.responseText);
        document.close();
      }
    };
    xhr.onerror = function () { form.submit(); };
    xhr.send(new FormData(form));
  });
})();
