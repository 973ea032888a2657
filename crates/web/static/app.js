// Progressive enhancement: upvote without a page reload. Without
// JavaScript the same forms post and redirect back.
(function () {
  function csrf() {
    var m = document.cookie.match(/(?:^|; )pb_csrf=([^;]+)/);
    return m ? m[1] : "";
  }
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.classList || !form.classList.contains("vote")) return;
    var action = form.getAttribute("action") || "";
    var id = action.replace(/^\/papers\//, "").replace(/\/upvote$/, "");
    var input = form.querySelector('input[name="action"]');
    var adding = !input || input.value !== "remove";
    ev.preventDefault();
    fetch("/api/papers/" + id + "/upvote", {
      method: adding ? "POST" : "DELETE",
      headers: { "X-CSRF-Token": csrf() },
      credentials: "same-origin"
    }).then(function (r) {
      if (r.status === 401) { window.location = "/login?next=" + encodeURIComponent(window.location.pathname); return null; }
      if (!r.ok) { form.submit(); return null; }
      return r.json();
    }).then(function (data) {
      if (!data) return;
      var button = form.querySelector("button");
      form.querySelector(".count").textContent = data.upvotes;
      button.setAttribute("aria-pressed", data.upvoted ? "true" : "false");
      button.setAttribute("aria-label", data.upvotes + " upvotes: " + (data.upvoted ? "remove your upvote" : "upvote"));
      if (input) input.value = data.upvoted ? "remove" : "add";
    }).catch(function () { form.submit(); });
  });
})();
