/* Workforce Hub: the live room, enhanced. templates/workshops/room.html works without
   this file (plain forms); with it, the page follows the room's socket
   (docs/realtime-protocol.md, "Workshop rooms"): chat, deletions, presence, polls and
   tallies update live, and chat and votes go over the socket.
   No framework, no inline handlers (CSP). */
(function () {
  "use strict";
  var root = document.querySelector("[data-room-id]");
  if (!root || !window.WebSocket || !window.JSON) { return; }

  var roomId = root.getAttribute("data-room-id");
  var lastSeq = parseInt(root.getAttribute("data-seq"), 10) || 0;
  var myId = parseInt(root.getAttribute("data-user-id"), 10);
  var isFacilitator = root.getAttribute("data-facilitator") === "1";
  var ws = null;
  var open = false;
  var stopped = false;
  var delay = 1000;
  var refs = 0;
  var outbox = [];        // chat sends not yet answered: re-sent (same client_id) on reconnect
  var waiting = {};       // ref -> callback(message) for replies and errors
  var early = {};         // seq -> stream event that arrived before the one it follows
  var gapTimer = null;
  var polls = {};         // poll id -> {kind, options: [{id, label}]}

  function $(sel, from) { return (from || document).querySelector(sel); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function clientId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID().replace(/-/g, ""); }
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }
  function status(text) {
    var live = document.getElementById("live-status");
    if (live) { live.textContent = text; }
  }
  function notice(text, id) {
    var box = document.getElementById(id || "room-notice");
    if (!box) {
      box = el("p", { id: id || "room-notice", role: "alert", "class": "notice" });
      var h1 = $("h1", root) || root.firstChild;
      root.insertBefore(box, h1 ? h1.nextSibling : null);
    }
    box.textContent = text;
  }

  // --- the socket ------------------------------------------------------------------------
  function send(type, data, ref) {
    if (!open) { return false; }
    ws.send(JSON.stringify({ type: type, id: ref, data: data || {} }));
    return true;
  }
  function act(type, data, done, ref) {
    ref = ref || "r" + (++refs);
    waiting[ref] = done || function () {};
    if (!send(type, data, ref)) { delete waiting[ref]; return false; }
    return true;
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(proto + location.host + "/ws/workshops/" + roomId + "/?after=" + lastSeq);
    ws.onopen = function () { open = true; delay = 1000; root.setAttribute("data-live", "1"); };
    ws.onmessage = function (e) {
      var msg;
      try { msg = JSON.parse(e.data); } catch (err) { return; }
      if (msg.type === "batch") { msg.data.events.forEach(handle); } else { handle(msg); }
    };
    ws.onclose = function (e) {
      open = false;
      root.removeAttribute("data-live");
      if (stopped) { return; }
      if (e.code === 4401 || e.code === 4403 || e.code === 4404 || e.code === 4409) {
        stop(e.code === 4401 ? "You were signed out. Reload the page to sign in again."
                             : "You can no longer take part in this room.");
        return;
      }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  function stop(text) {
    stopped = true;
    if (ws && open) { ws.close(); }
    notice(text);
    document.querySelectorAll("#chat-form, .vote-form").forEach(function (form) {
      form.querySelectorAll("button, textarea, input").forEach(function (c) { c.disabled = true; });
    });
  }

  // --- incoming ----------------------------------------------------------------------------
  function handle(msg) {
    if (msg.ref !== undefined && waiting[msg.ref] &&
        (msg.type === "reply" || msg.type === "error")) {
      var done = waiting[msg.ref];
      delete waiting[msg.ref];
      done(msg);
      return;
    }
    switch (msg.type) {
      case "hello": resendOutbox(); return;
      case "room.resume": msg.data.events.forEach(stream); return;
      case "room.reload": stopped = true; location.reload(); return;
      case "room.snapshot": lastSeq = Math.max(lastSeq, msg.data.seq); return;
      case "presence": presence(msg.data); return;
      case "poll.tally": tally(msg.data); return;
      case "room.kicked":
        stop(msg.data.reason === "removed" ? "A facilitator removed you from this room."
                                           : "You can no longer take part in this room.");
        return;
      default:
        if (typeof msg.seq === "number") { stream(msg); }
    }
  }

  // Stream events apply in seq order, each once. One that arrives early waits briefly
  // for the missing ones (publishes from two servers may cross), then we ask for them.
  function stream(ev) {
    if (ev.seq <= lastSeq) { return; }
    if (ev.seq > lastSeq + 1) {
      early[ev.seq] = ev;
      if (!gapTimer) {
        gapTimer = setTimeout(function () {
          gapTimer = null;
          if (Object.keys(early).length) { send("sync", { after: lastSeq }, "gap" + (++refs)); }
        }, 400);
      }
      return;
    }
    apply(ev);
    lastSeq = ev.seq;
    while (early[lastSeq + 1]) {
      var next = early[lastSeq + 1];
      delete early[lastSeq + 1];
      apply(next);
      lastSeq = next.seq;
    }
    Object.keys(early).forEach(function (s) { if (+s <= lastSeq) { delete early[s]; } });
    root.setAttribute("data-seq", String(lastSeq));
  }

  function apply(ev) {
    var d = ev.data || {};
    switch (ev.type) {
      case "chat.message": addMessage(d); break;
      case "chat.deleted": removeMessage(d.id); break;
      case "chat.locked":
        setState("chat-locked", d.locked ? "Chat locked: only facilitators can write." : "Chat open.");
        break;
      case "chat.slow_mode":
        setState("slow-mode", d.seconds ? "Slow mode: one message per " + d.seconds +
                 " seconds per member." : "Slow mode off.");
        break;
      case "session.started": setState("status", "Status: Live now"); break;
      case "session.ended": setState("status", "Status: Ended"); break;
      case "participant.muted":
        if (d.user_id === myId) {
          notice(d.muted ? "A facilitator has muted you: you can read and vote, not write."
                         : "A facilitator unmuted you.", "chat-muted-live");
        }
        break;
      case "participant.removed": {
        var person = document.getElementById("person-" + d.user_id);
        if (person) { person.parentNode.removeChild(person); }
        break;
      }
      case "poll.opened": renderPoll(d); break;
      case "poll.closed": renderPoll(d); break;
      case "poll.revealed": renderPoll(d); break;
      default: break;
    }
  }

  function setState(name, text) {
    var span = $('[data-state="' + name + '"]', root);
    if (span) { span.textContent = text; }
  }

  // --- chat ------------------------------------------------------------------------------------
  function addMessage(m) {
    var log = document.getElementById("chat-log");
    if (!log || document.getElementById("msg-" + m.id)) { return; }
    var empty = document.getElementById("chat-empty");
    if (empty) { empty.parentNode.removeChild(empty); }
    var li = el("li", { id: "msg-" + m.id, "data-seq": String(m.seq || "") });
    var meta = el("p", { "class": "meta" });
    meta.appendChild(el("strong", {}, m.author && m.author.name));
    meta.appendChild(document.createTextNode(" "));
    var when = new Date(m.created_at);
    meta.appendChild(el("time", { datetime: m.created_at },
      isNaN(when) ? "" : when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
    li.appendChild(meta);
    var body = el("div", { "class": "chat-body" });
    body.innerHTML = m.html;  // rendered and sanitised by the server's Markdown renderer
    li.appendChild(body);
    if (isFacilitator || (m.author && m.author.id === myId)) {
      var del = el("button", { type: "button", "class": "button secondary", "data-delete": String(m.id) }, "Delete");
      del.appendChild(el("span", { "class": "visually-hidden" }, " the message from " + m.author.name));
      li.appendChild(del);
    }
    log.appendChild(li);
  }
  function removeMessage(id) {
    var li = document.getElementById("msg-" + id);
    if (li) { li.parentNode.removeChild(li); }
  }

  function resendOutbox() {
    outbox.forEach(function (item) { act("chat.send", item.data, item.done, item.ref); });
  }
  function chatError(text) {
    var box = document.getElementById("chat-error");
    var form = document.getElementById("chat-form");
    if (!box && form) {
      box = el("p", { id: "chat-error", role: "alert", "class": "errorlist" });
      form.insertBefore(box, form.firstChild);
    }
    if (box) { box.textContent = text; }
  }

  var chatForm = document.getElementById("chat-form");
  if (chatForm) {
    chatForm.addEventListener("submit", function (e) {
      var area = chatForm.querySelector("textarea[name=body]");
      if (!open || !area) { return; }  // the plain form post still works
      e.preventDefault();
      var body = area.value;
      if (!body.trim()) { chatError("Write a message first."); return; }
      var item = { data: { client_id: clientId(), body: body } };
      item.ref = item.data.client_id;
      item.done = function (msg) {
        outbox = outbox.filter(function (o) { return o !== item; });
        if (msg.type === "error") {
          chatError(msg.data.message + " " + Object.keys(msg.data.fields || {}).map(function (k) {
            return msg.data.fields[k].join(" ");
          }).join(" "));
          if (!area.value) { area.value = body; }
        } else {
          chatError("");
        }
      };
      outbox.push(item);
      area.value = "";
      act("chat.send", item.data, item.done, item.ref);
    });
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("[data-delete]") : null;
    if (!button) { return; }
    act("chat.delete", { id: parseInt(button.getAttribute("data-delete"), 10) }, function (msg) {
      if (msg.type === "error") { chatError(msg.data.message); }
    });
  });
  // The server-rendered delete buttons are forms: send them over the socket when it is up.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var match = /\/chat\/(\d+)\/delete\/$/.exec(form.getAttribute("action") || "");
    if (!match || !open) { return; }
    e.preventDefault();
    act("chat.delete", { id: parseInt(match[1], 10) }, function (msg) {
      if (msg.type === "error") { chatError(msg.data.message); }
    });
  });

  // --- presence -------------------------------------------------------------------------------
  function presence(p) {
    var section = document.getElementById("presence");
    if (!section) { return; }
    var count = $('[data-presence="count"]', section);
    if (count) { count.textContent = p.count === 1 ? "1 person in the room." : p.count + " people in the room."; }
    var facs = $('[data-presence="facilitators"]', section);
    if (facs) {
      var list = el("ul", { "data-presence": "facilitators" });
      p.facilitators.forEach(function (f) {
        var li = el("li", {}, f.name + " ");
        li.appendChild(el("span", { "class": "tag" }, "facilitator"));
        list.appendChild(li);
      });
      if (!p.facilitators.length) {
        list = el("p", { "class": "muted", "data-presence": "facilitators" }, "No facilitator is in the room yet.");
      }
      facs.parentNode.replaceChild(list, facs);
    }
    var members = $('[data-presence="members"]', section);
    if (!members) {
      members = el("ul", { "data-presence": "members" });
      section.appendChild(el("h3", {}, "Participants present"));
      section.appendChild(members);
    }
    var keep = {};
    p.members.forEach(function (m) {
      keep["person-" + m.id] = true;
      if (!document.getElementById("person-" + m.id)) {
        members.appendChild(el("li", { id: "person-" + m.id }, m.name));
      }
    });
    Array.prototype.slice.call(members.children).forEach(function (li) {
      if (!keep[li.id]) { members.removeChild(li); }
    });
  }

  // --- polls --------------------------------------------------------------------------------------
  function optionsOf(id) {
    if (polls[id]) { return polls[id].options; }
    var article = document.getElementById("poll-" + id);
    var options = [];
    if (article) {
      article.querySelectorAll("input[name=choices]").forEach(function (input) {
        var label = $('label[for="' + input.id + '"]', article);
        options.push({ id: parseInt(input.value, 10), label: label ? label.textContent : input.value });
      });
    }
    return options;
  }

  function renderPoll(p) {
    polls[p.id] = { kind: p.kind, options: p.options };
    var section = document.getElementById("polls");
    if (!section) { return; }
    var empty = document.getElementById("polls-empty");
    if (empty) { empty.parentNode.removeChild(empty); }
    var article = document.getElementById("poll-" + p.id);
    if (article && article.getAttribute("data-status") === p.status) {
      // Same stage (e.g. revealed while open): keep the member's form, update the results.
      if (p.tally) { tally(p.tally); }
      return;
    }
    var controls = article ? $(".button-row", article) : null;
    var fresh = el("article", { id: "poll-" + p.id, "data-poll-id": String(p.id),
                                "data-status": p.status, "aria-labelledby": "poll-" + p.id + "-q" });
    fresh.appendChild(el("h3", { id: "poll-" + p.id + "-q" }, p.question));
    fresh.appendChild(el("p", { "class": "meta" }, p.status === "open" ? "Open" : "Closed"));
    if (p.status === "open") { fresh.appendChild(voteForm(p)); }
    if (p.tally) {
      fresh.appendChild(tallyBlock(p.id, p.tally));
    } else if (p.status !== "draft") {
      fresh.appendChild(el("p", { "class": "muted", "data-tally-note": String(p.id) },
        p.results === "on_close" ? "Results are shown when the poll closes."
                                 : (p.results === "hidden" ? "Results are hidden until a facilitator reveals them." : "")));
    }
    if (controls && isFacilitator) { fresh.appendChild(controls); }
    if (article) {
      var old = $("[data-tally]", article);
      if (!p.tally && old && isFacilitator) { fresh.appendChild(old); }
      article.parentNode.replaceChild(fresh, article);
    } else {
      var form = document.getElementById("poll-form");
      section.insertBefore(fresh, form || null);
    }
  }

  function voteForm(p) {
    var form = el("form", { "class": "vote-form", "data-poll": String(p.id) });
    var fieldset = el("fieldset");
    fieldset.appendChild(el("legend", {}, p.kind === "rating" ? "Your rating, from 1 (low) to 5 (high)"
      : (p.kind === "multiple" ? "Your choices (one or more)" : "Your choice")));
    var rows = p.kind === "rating" ? [1, 2, 3, 4, 5].map(function (n) { return { id: n, label: String(n) }; })
                                   : p.options;
    rows.forEach(function (o) {
      var div = el("div");
      var id = "poll-" + p.id + "-c" + o.id;
      div.appendChild(el("input", { type: p.kind === "multiple" ? "checkbox" : "radio", name: "choices",
                                    value: String(o.id), id: id }));
      div.appendChild(document.createTextNode(" "));
      div.appendChild(el("label", { "for": id }, o.label));
      fieldset.appendChild(div);
    });
    form.appendChild(fieldset);
    form.appendChild(el("button", { type: "submit", "class": "button" }, "Vote"));
    return form;
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.classList || !form.classList.contains("vote-form") || !open) { return; }
    var article = form.closest("article[data-poll-id]");
    if (!article) { return; }
    e.preventDefault();
    var pollId = parseInt(article.getAttribute("data-poll-id"), 10);
    var choices = Array.prototype.slice.call(form.querySelectorAll("input[name=choices]:checked"))
      .map(function (input) { return parseInt(input.value, 10); });
    act("poll.vote", { poll_id: pollId, choices: choices }, function (msg) {
      var note = $("[data-vote-status]", form) || el("p", { "data-vote-status": "", role: "status" });
      note.textContent = msg.type === "error" ? msg.data.message + " " +
        ((msg.data.fields || {}).choices || []).join(" ") : "Your vote is recorded.";
      form.appendChild(note);
      var button = $("button[type=submit]", form);
      if (button && msg.type !== "error") { button.textContent = "Change your vote"; }
    });
  });

  function tallyBlock(id, t) {
    var box = el("div", { "class": "tally", "data-tally": String(id), "data-total": String(t.total_votes) });
    box.appendChild(el("h4", {}, "Results"));
    var summary = t.total_votes === 1 ? "1 vote" : t.total_votes + " votes";
    if (t.counts.mean !== undefined && t.counts.mean !== null) { summary += " · average " + t.counts.mean; }
    box.appendChild(el("p", {}, summary));
    var list = el("ul");
    var options = optionsOf(id);
    var keys = Object.keys(t.counts).filter(function (k) { return k !== "mean"; });
    keys.forEach(function (key, i) {
      var option = options.filter(function (o) { return String(o.id) === key; })[0] || options[i];
      var label = option ? option.label : key;
      var n = t.counts[key];
      var pct = t.total_votes ? Math.round(100 * n / t.total_votes) : 0;
      list.appendChild(el("li", { "data-option": key },
        label + ": " + (n === 1 ? "1 vote" : n + " votes") + " (" + pct + "%)"));
    });
    box.appendChild(list);
    return box;
  }

  function tally(t) {
    var article = document.getElementById("poll-" + t.poll_id);
    if (!article) { return; }
    var fresh = tallyBlock(t.poll_id, t);
    var old = $("[data-tally]", article);
    var note = $("[data-tally-note]", article);
    if (note) { note.parentNode.removeChild(note); }
    if (old) { old.parentNode.replaceChild(fresh, old); } else {
      var controls = $(".button-row", article);
      article.insertBefore(fresh, controls);
    }
  }

  connect();
})();
