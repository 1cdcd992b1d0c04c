/* Workforce Hub forums: live topic updates, reply preview, @mention autocomplete and
   draft autosave. Progressive enhancement: every page works without this file. The
   topic socket protocol is in docs/realtime-protocol.md ("Forum topics"). */
(function () {
  "use strict";
  var doc = document;
  var member = doc.body.dataset.member;
  var mentionCount = 0;

  function el(tag, attrs, text) {
    var node = doc.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) { node.textContent = text; }
    return node;
  }
  function csrf() {
    var m = doc.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) { return decodeURIComponent(m[1]); }
    var input = doc.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function send(method, url, body, json) {
    var headers = { "X-CSRFToken": csrf(), "X-Requested-With": "fetch" };
    if (json) { headers["Content-Type"] = "application/json"; body = JSON.stringify(body); }
    return fetch(url, { method: method, body: body, headers: headers, credentials: "same-origin" });
  }
  function debounce(fn, ms) {
    var timer;
    var wrapped = function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
    wrapped.cancel = function () { clearTimeout(timer); };
    return wrapped;
  }

  /* --- live topic -------------------------------------------------------------------- */
  var posts = doc.getElementById("posts");
  if (posts && window.WebSocket && posts.dataset.wsUrl) { liveTopic(posts); }

  function liveTopic(posts) {
    var topicId = posts.dataset.topicId;
    var lastSeq = parseInt(posts.dataset.lastSeq, 10) || 0;
    var lastPage = !doc.querySelector(".pagination a[rel=next]");
    var delay = 1000, ws = null, stopped = false, resuming = false, pinger = null;
    var unseen = [];
    var readUpTo = 0;

    var notice = el("div", { "class": "live-notice", role: "status", "aria-live": "polite" });
    posts.parentNode.insertBefore(notice, posts.nextSibling);
    var newButton = el("button", { type: "button", "class": "button new-replies", hidden: "" });
    doc.body.appendChild(newButton);
    newButton.addEventListener("click", function () {
      if (unseen.length) { unseen[0].scrollIntoView({ block: "start" }); unseen[0].focus(); }
    });

    function say(text, href, linkText) {
      notice.textContent = text;
      if (href) {
        notice.appendChild(doc.createTextNode(" "));
        notice.appendChild(el("a", { href: href }, linkText));
      }
    }
    function post(number) { return doc.getElementById("post-" + number); }
    function updateNewButton() {
      newButton.hidden = unseen.length === 0;
      newButton.textContent = unseen.length === 1 ? "1 new reply" : unseen.length + " new replies";
    }
    var saveRead = debounce(function () {
      if (!member || !readUpTo) { return; }
      send("POST", "/api/v1/forums/t/" + topicId + "/read/", { number: readUpTo }, true)
        .catch(function () { /* the next one will do */ });
    }, 1000);
    function seen(article) {
      var i = unseen.indexOf(article);
      if (i !== -1) { unseen.splice(i, 1); updateNewButton(); }
      var n = parseInt(article.dataset.number, 10);
      if (n > readUpTo) { readUpTo = n; saveRead(); }
    }
    var observer = window.IntersectionObserver ? new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting) { observer.unobserve(e.target); seen(e.target); }
      });
    }) : null;
    function atBottom() { return posts.getBoundingClientRect().bottom <= window.innerHeight + 80; }

    function buildPost(d) {
      var id = "post-" + d.number;
      var article = el("article", {
        "class": "post is-new", id: id, "data-post-id": d.id, "data-number": d.number,
        "aria-labelledby": id + "-by", tabindex: "-1"
      });
      var header = el("header", { "class": "post-header" });
      header.appendChild(el("p", { "class": "post-author", id: id + "-by" }, d.author_name || d.author));
      var meta = el("p", { "class": "meta" });
      meta.appendChild(el("a", { href: "/forums/p/" + d.id + "/", "class": "post-link" }, "#" + d.number));
      meta.appendChild(doc.createTextNode(" "));
      var when = new Date(d.created_at);
      meta.appendChild(el("time", { datetime: d.created_at }, isNaN(when) ? "" :
        when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })));
      if (d.reply_to) { meta.appendChild(doc.createTextNode(" · in reply to #" + d.reply_to)); }
      header.appendChild(meta);
      article.appendChild(header);
      var body = el("div", { "class": "post-body" });
      body.innerHTML = d.html; // sanitised by the server's renderer
      article.appendChild(body);
      var social = el("div", { "class": "post-social", "data-post-social": d.id });
      social.appendChild(el("ul", { "class": "reactions", "aria-label": "Reactions" }));
      var footer = el("footer", { "class": "post-footer" });
      footer.appendChild(social);
      article.appendChild(footer);
      return article;
    }
    // The reply built from the event has no controls; the server's markup of it for this
    // reader (reactions, accept, reply/quote, flag, bookmark) replaces its content in
    // place, so order, focus and the unread tracking keep the same element.
    // Events that change a post bump its version: a fragment fetched before an edit,
    // a reaction or a moderator's action arrived is stale, and is fetched again.
    function changed(number) {
      var a = post(number);
      if (a) { a.dataset.v = String(Number(a.dataset.v || 0) + 1); }
    }
    function withControls(article, d, tries) {
      var back = window.location.pathname + window.location.search;
      var version = article.dataset.v || "0";
      tries = tries || 0;
      fetch("/forums/p/" + d.id + "/html/?back=" + encodeURIComponent(back),
        { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .catch(function () { return ""; })
        .then(function (html) {
          if (!article.isConnected) { return; }
          if ((article.dataset.v || "0") !== version) {
            if (tries < 3) { withControls(article, d, tries + 1); }
            return;
          }
          var t = doc.createElement("template");
          t.innerHTML = html.trim();
          var fresh = t.content.firstElementChild;
          if (!fresh || fresh.tagName !== "ARTICLE") { return; }
          article.innerHTML = fresh.innerHTML;
          fresh.classList.forEach(function (c) { article.classList.add(c); });
        });
    }
    function setBody(number, text) {
      var article = post(number), body = article && article.querySelector(".post-body");
      if (body) { body.textContent = ""; body.appendChild(el("p", { "class": "notice" }, text)); }
      return article;
    }
    function gone(d, cls, text) {
      var a = setBody(d.number, text);
      if (a) { a.classList.add(cls); }
    }
    function badge(article, attr, cls, text, on) {
      if (!article) { return; }
      var old = article.querySelector("[" + attr + "]");
      if (!on) { if (old) { old.remove(); } return; }
      if (old) { return; }
      var holder = article.querySelector(".post-social") || article;
      var b = el("p", { "class": "badge " + cls });
      b.setAttribute(attr, "");
      b.appendChild(el("span", { "aria-hidden": "true" }, cls === "accepted" ? "✓ " : "★ "));
      b.appendChild(doc.createTextNode(text));
      holder.insertBefore(b, holder.firstChild);
    }

    var handlers = {
      "post.created": function (d) {
        if (post(d.number)) { return; }
        if (!lastPage) {
          say("New reply by " + (d.author_name || d.author) + ".", "/forums/p/" + d.id + "/", "Show it");
          return;
        }
        var bottom = atBottom();
        var article = buildPost(d);
        posts.appendChild(article);
        if (doc.body.dataset.member) { withControls(article, d); } // visitors have none
        if (bottom) { seen(article); } else {
          unseen.push(article);
          updateNewButton();
          if (observer) { observer.observe(article); }
        }
      },
      "post.edited": function (d) {
        var article = post(d.number);
        if (!article) { return; }
        article.querySelector(".post-body").innerHTML = d.html; // sanitised by the server
        var meta = article.querySelector(".post-header .meta");
        if (meta && !meta.querySelector(".edited")) { meta.appendChild(el("span", { "class": "edited" }, " · edited")); }
      },
      "post.deleted": function (d) { gone(d, "is-deleted", "This post was deleted."); },
      "post.hidden": function (d) { gone(d, "is-hidden", "This post was hidden by a moderator."); },
      "post.restored": function (d) {
        var a = setBody(d.number, "This post was restored.");
        if (a) {
          a.classList.remove("is-hidden", "is-deleted");
          a.querySelector(".post-body p").appendChild(el("a", { href: "/forums/p/" + d.id + "/" }, " Show it"));
        }
      },
      "post.reactions": function (d) {
        var article = post(d.number), counts = d.counts || {};
        var list = article && article.querySelector(".reactions");
        if (!list) { return; }
        Array.prototype.forEach.call(list.querySelectorAll("[data-kind]"), function (r) {
          var c = r.querySelector("[data-count]");
          if (c) { c.textContent = String(counts[r.dataset.kind] || 0); }
        });
        Object.keys(counts).forEach(function (kind) {
          if (list.querySelector('[data-kind="' + CSS.escape(kind) + '"]')) { return; }
          var li = el("li"), r = el("span", { "class": "reaction", "data-kind": kind }, kind + " ");
          r.appendChild(el("span", { "class": "count", "data-count": "" }, String(counts[kind])));
          li.appendChild(r);
          list.appendChild(li);
        });
      },
      "topic.accepted": function (d) {
        Array.prototype.forEach.call(posts.querySelectorAll(".post.is-accepted"), function (a) {
          a.classList.remove("is-accepted");
          badge(a, "data-accepted", "accepted", "", false);
          var solved = a.querySelector(":scope > .badge.solved");
          if (solved) { solved.remove(); }
        });
        var article = d.number ? post(d.number) : null;
        if (article) { article.classList.add("is-accepted"); }
        badge(article, "data-accepted", "accepted", "Accepted answer", true);
        var state = doc.querySelector(".topic-badges .badge.solved, .topic-badges .badge.question");
        if (state) {
          state.className = "badge " + (d.post_id ? "solved" : "question");
          state.textContent = d.post_id ? "Solved" : "Question";
        }
        if (d.number) { say("Post #" + d.number + " was marked as the accepted answer."); }
      },
      "post.verified": function (d) {
        badge(post(d.number), "data-verified", "verified", "Verified by an expert", !!d.by);
      },
      "topic.updated": function (d) {
        say(d.is_locked ? "This topic is now locked." : d.is_closed ? "This topic is now closed." : "This topic was updated.");
      },
      "topic.moved": function () { say("This topic was moved to another category."); },
      "topic.merged": function (d) {
        stopped = true;
        if (d.into) { say("This topic was merged into another.", d.into, "Go there"); }
        else { say("This topic was merged into another."); }
      },
      "topic.gone": function () { stopped = true; say("This topic is no longer available."); },
      "session.revoked": function () { stopped = true; say("You were signed out. Reload the page."); },
      "reload": function (d) {
        lastSeq = d.last_seq;
        say("Much has changed here.", location.pathname + location.search, "Reload the page");
      }
    };

    function onEvent(msg) {
      if (typeof msg.seq === "number") {
        if (msg.seq <= lastSeq) { return; }
        if (msg.seq > lastSeq + 1) {
          if (!resuming && ws) {
            resuming = true;
            ws.send(JSON.stringify({ type: "resume", id: "resume", data: { after: lastSeq } }));
          }
          return; // the resume brings it, in order
        }
        lastSeq = msg.seq;
      }
      if (msg.type === "reply" && msg.ref === "resume") { resuming = false; }
      var fn = handlers[msg.type];
      if (fn) {
        var data = msg.data || {};
        if (msg.type !== "post.created" && data.number) { changed(data.number); }
        fn(data);
      }
    }

    function connect() {
      var proto = location.protocol === "https:" ? "wss://" : "ws://";
      ws = new WebSocket(proto + location.host + posts.dataset.wsUrl + "?after=" + lastSeq);
      window.hub = window.hub || {};
      window.hub.topic = ws;
      ws.onopen = function () {
        delay = 1000;
        resuming = false;
        clearInterval(pinger);
        pinger = setInterval(function () { if (ws.readyState === 1) { ws.send('{"type":"ping"}'); } }, 30000);
      };
      ws.onmessage = function (e) {
        var msg;
        try { msg = JSON.parse(e.data); } catch (err) { return; }
        onEvent(msg);
      };
      ws.onclose = function (e) {
        clearInterval(pinger);
        if (stopped || e.code === 4401 || e.code === 4403 || e.code === 4404 || e.code === 4409) { return; }
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    connect();
  }

  /* --- preview, mentions and drafts on reply textareas ---------------------------------- */
  Array.prototype.forEach.call(doc.querySelectorAll("textarea[data-preview-url]"), preview);
  Array.prototype.forEach.call(doc.querySelectorAll("textarea[data-mention-url]"), mentions);
  if (posts && member) {
    Array.prototype.forEach.call(doc.querySelectorAll('form[action$="/reply/"] textarea[name=body]'), function (ta) {
      autosave(ta, "/api/v1/forums/drafts/t/" + posts.dataset.topicId + "/");
    });
  }

  function preview(ta) {
    var box = el("div", { "class": "post-preview", "aria-live": "polite", hidden: "" });
    var heading = el("p", { "class": "preview-heading" }, "Preview");
    var body = el("div", { "class": "post-body" });
    box.appendChild(heading);
    box.appendChild(body);
    ta.parentNode.appendChild(box);
    var seq = 0;
    var update = debounce(function () {
      var text = ta.value;
      if (!text.trim()) { box.hidden = true; body.textContent = ""; return; }
      var mine = ++seq;
      var form = new FormData();
      form.append("body", text);
      send("POST", ta.dataset.previewUrl, form).then(function (r) {
        return r.text().then(function (t) { return { ok: r.ok, text: t }; });
      }).then(function (res) {
        if (mine !== seq) { return; }
        box.hidden = false;
        if (res.ok) { body.innerHTML = res.text; } else { body.textContent = res.text; } // sanitised HTML / plain error
      }).catch(function () { /* offline: no preview */ });
    }, 500);
    ta.addEventListener("input", update);
  }

  function autosave(ta, url) {
    var status = el("p", { "class": "helptext draft-status", "aria-live": "polite" });
    ta.parentNode.appendChild(status);
    var form = ta.form;
    var save = debounce(function () {
      var replyTo = form && form.querySelector("input[name=reply_to]");
      var data = { body: ta.value, reply_to: replyTo && replyTo.value ? parseInt(replyTo.value, 10) : null };
      send("PUT", url, data, true).then(function (r) {
        status.textContent = r.ok ? "Draft saved." : "";
      }).catch(function () { status.textContent = ""; });
    }, 2000);
    ta.addEventListener("input", save);
    if (form) { form.addEventListener("submit", save.cancel); }
  }

  function mentions(ta) {
    var id = "mentions-" + (++mentionCount);
    var list = el("ul", { role: "listbox", id: id, "class": "mention-list", hidden: "", "aria-label": "Members" });
    ta.parentNode.insertBefore(list, ta.nextSibling);
    ta.setAttribute("aria-autocomplete", "list");
    ta.setAttribute("aria-controls", id);
    ta.setAttribute("aria-expanded", "false");
    var items = [], active = -1, query = null, token = 0;

    function close() {
      list.hidden = true;
      list.textContent = "";
      items = [];
      active = -1;
      ta.setAttribute("aria-expanded", "false");
      ta.removeAttribute("aria-activedescendant");
    }
    function highlight(i) {
      active = i;
      items.forEach(function (li, j) { li.setAttribute("aria-selected", j === i ? "true" : "false"); });
      if (i >= 0) { ta.setAttribute("aria-activedescendant", items[i].id); } else { ta.removeAttribute("aria-activedescendant"); }
    }
    function choose(i) {
      var name = items[i] && items[i].dataset.username;
      if (!name || !query) { return close(); }
      var end = ta.selectionStart;
      var start = end - query.length - 1;
      ta.value = ta.value.slice(0, start) + "@" + name + " " + ta.value.slice(end);
      ta.selectionStart = ta.selectionEnd = start + name.length + 2;
      close();
      ta.dispatchEvent(new Event("input", { bubbles: true }));
      ta.focus();
    }
    var lookup = debounce(function (q) {
      var mine = ++token;
      fetch(ta.dataset.mentionUrl + encodeURIComponent(q) + "&page_size=8", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) {
          if (mine !== token || query !== q) { return; }
          list.textContent = "";
          items = (data.results || []).map(function (m, i) {
            var li = el("li", { role: "option", id: id + "-" + i, "aria-selected": "false" });
            li.dataset.username = m.username;
            li.appendChild(doc.createTextNode(m.display_name || m.username));
            li.appendChild(el("span", { "class": "meta" }, " @" + m.username));
            li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
            list.appendChild(li);
            return li;
          });
          if (!items.length) { return close(); }
          list.hidden = false;
          ta.setAttribute("aria-expanded", "true");
          highlight(0);
        }).catch(close);
    }, 250);
    ta.addEventListener("input", function () {
      var before = ta.value.slice(0, ta.selectionStart);
      var m = before.match(/(?:^|[\s(])@([\w.-]{1,30})$/);
      query = m ? m[1] : null;
      if (query) { lookup(query); } else { lookup.cancel(); close(); }
    });
    ta.addEventListener("keydown", function (e) {
      if (list.hidden) { return; }
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        var n = items.length;
        highlight((active + (e.key === "ArrowDown" ? 1 : n - 1)) % n);
      } else if (e.key === "Enter" || e.key === "Tab") {
        if (active >= 0) { e.preventDefault(); choose(active); }
      } else if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        close();
      }
    });
    ta.addEventListener("blur", function () { setTimeout(close, 150); });
  }
})();
