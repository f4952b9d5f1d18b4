// The live co-teaching room (templates/live/room.html; protocol: portal/live/protocol.py).
//
// Connects to the /live namespace and joins; the join answer carries the whole state of the
// room, from which everything on the page is drawn. Broadcasts are numbered (seq): they are
// applied in order, duplicates are skipped, and a gap that does not fill in quickly (or any
// reconnect) makes the page join again and replace its state. Everything a person sends
// carries a client id (cid) and waits in an outbox until the server acknowledges it, so a
// message re-sent after a reconnect is applied once.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-room]");
  if (!root || typeof window.io !== "function") return;

  var sessionId = Number(root.dataset.sessionId);
  var role = root.dataset.role;
  var S = JSON.parse(root.dataset.strings);
  var LIMITS = JSON.parse(root.dataset.limits);
  var ACK_TIMEOUT = 10000; // ms before an unanswered message is sent again (same cid)
  var GAP_WAIT = 1500; // ms to wait for a missing seq before joining again
  var KIND_EVENT = {
    joined: "presence", left: "presence", chat: "chat", started: "lesson", ended: "lesson",
    timer_started: "lesson", timer_stopped: "lesson", hand_raised: "hands", hand_lowered: "hands",
    hand_answered: "hands", material: "material", page: "material", poll_opened: "poll",
    poll_answered: "poll", poll_closed: "poll", checked_in: "attendance"
  };
  var BROADCASTS = ["chat", "presence", "lesson", "hands", "material", "poll", "attendance"];

  var state = null; // the room as the last join gave it, with broadcasts applied since
  var lastSeq = 0;
  var joined = false;
  var stopped = false; // refused or removed: no more rejoining
  var pending = {}; // seq -> [event name, payload] received ahead of a gap
  var gapTimer = null;
  var outbox = []; // [{event, data, inflight, onAck}]
  var clockOffset = 0; // local clock minus server clock (ms), from the latest event's "at"
  var heartbeat = null;

  // --- helpers ------------------------------------------------------------------------------

  function t(key, params) {
    var text = S[key] || key;
    if (params) {
      Object.keys(params).forEach(function (name) {
        text = text.split("%(" + name + ")s").join(String(params[name]));
      });
    }
    return text;
  }

  function $(selector) { return root.querySelector(selector); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        if (name === "text") node.textContent = attrs[name]; // always text, never HTML
        else if (name === "className") node.className = attrs[name];
        else if (attrs[name] !== null && attrs[name] !== undefined && attrs[name] !== false) node.setAttribute(name, attrs[name]);
      });
    }
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function fill(node, children) {
    if (!node) return;
    while (node.firstChild) node.removeChild(node.firstChild);
    children.forEach(function (child) { if (child) node.appendChild(child); });
  }

  function newCid() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes); // randomUUID needs https; this works on plain http too
    return "c" + Date.now().toString(36) + "-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // The server writes times in the portal's time zone (…T15:23:53+08:00): show that wall clock,
  // as every other page does, whatever the device's own zone.
  function clock(iso) {
    var m = /T(\d\d:\d\d)/.exec(iso || "");
    return m ? m[1] : "";
  }

  function serverNow() { return Date.now() - clockOffset; }

  function alertText(text) {
    var box = $("[data-alert]");
    if (!box) return;
    box.textContent = text || "";
    box.hidden = !text;
  }

  function setConn(status) {
    var node = $("[data-conn]");
    if (!node) return;
    node.dataset.conn = status;
    node.textContent = t(status);
  }

  function myClassroom() {
    var pick = $("[data-my-classroom]");
    if (pick) return Number(pick.value);
    return state && state.you.classroom_ids.length ? state.you.classroom_ids[0] : null;
  }

  function withClassroom(data) {
    // Only an assistant of several receiving classrooms needs to say which one.
    if (role === "assistant" && state && state.you.classroom_ids.length > 1) data.classroom_id = myClassroom();
    return data;
  }

  // --- connection, join, ordered application ---------------------------------------------

  var socket = window.io("/live", { transports: ["websocket", "polling"], reconnectionDelayMax: 10000 });

  function join() {
    if (stopped) return;
    joined = false;
    socket.timeout(ACK_TIMEOUT).emit("join", { session_id: sessionId, last_seq: lastSeq }, function (err, ack) {
      if (err) { if (socket.connected) join(); return; } // no answer: ask again
      if (!ack || !ack.ok) {
        stopped = true;
        setConn("offline");
        alertText((ack && ack.error) || t("refused"));
        return;
      }
      state = ack.state;
      lastSeq = state.seq || 0;
      shownChat = 0; // draw the chat and the poll inputs afresh from the new state
      answerFor = null;
      joined = true;
      setConn("connected");
      alertText("");
      // Broadcasts that arrived while joining and are newer than the state still apply.
      Object.keys(pending).forEach(function (seq) { if (Number(seq) <= lastSeq) delete pending[seq]; });
      drain();
      render();
      flush();
    });
  }

  function receive(name, payload) {
    if (!payload || typeof payload.seq !== "number") return;
    if (payload.at) {
      var at = Date.parse(payload.at);
      if (!isNaN(at)) clockOffset = Date.now() - at;
    }
    if (payload.seq <= lastSeq || pending[payload.seq]) return; // seen already
    pending[payload.seq] = [name, payload];
    if (joined) drain();
  }

  function drain() {
    var changed = false;
    while (pending[lastSeq + 1]) {
      var item = pending[lastSeq + 1];
      delete pending[lastSeq + 1];
      apply(item[0], item[1]);
      lastSeq += 1;
      changed = true;
    }
    var waiting = Object.keys(pending).length > 0;
    if (waiting && !gapTimer) {
      gapTimer = setTimeout(function () {
        gapTimer = null;
        if (Object.keys(pending).length && socket.connected) join(); // a seq never came: start over
      }, GAP_WAIT);
    } else if (!waiting && gapTimer) {
      clearTimeout(gapTimer);
      gapTimer = null;
    }
    if (changed) render();
  }

  function apply(name, p) {
    state.seq = p.seq;
    switch (name) {
      case "chat":
        if (!state.chat.some(function (m) { return m.id === p.id; })) state.chat.push(p);
        break;
      case "presence":
        state.participants = p.participants;
        state.observers = p.observers || [];
        break;
      case "lesson":
        state.started_at = p.started_at;
        state.ended_at = p.ended_at;
        state.timer = p.timer;
        break;
      case "hands":
        state.hands = p.hands;
        break;
      case "material":
        state.material = p.material;
        state.page = p.page;
        break;
      case "poll":
        state.poll = p.poll;
        if (p.closed) {
          state.polls = state.polls.filter(function (old) { return old.id !== p.closed.id; });
          state.polls.push(p.closed);
        }
        break;
      case "attendance":
        state.attendance = p.attendance;
        break;
    }
  }

  BROADCASTS.forEach(function (name) {
    socket.on(name, function (payload) { receive(name, payload); });
  });

  socket.on("connect", function () {
    setConn("connecting");
    join();
  });
  socket.on("disconnect", function (reason) {
    joined = false;
    outbox.forEach(function (item) { item.inflight = false; });
    if (stopped) return;
    setConn("reconnecting");
    // The server closed this socket on purpose (e.g. a restart): socket.io does not retry those.
    if (reason === "io server disconnect") socket.connect();
  });
  socket.on("connect_error", function (err) {
    if (stopped) return;
    if (err && err.message === "unauthorized") { // the login ended: retrying cannot help
      stopped = true;
      setConn("offline");
      alertText(t("login_ended"));
      return;
    }
    setConn("reconnecting"); // socket.io keeps retrying by itself
  });
  socket.on("removed", function () {
    stopped = true;
    joined = false;
    setConn("offline");
    alertText(t("removed"));
  });
  socket.on("session_ended", function () { window.location.reload(); }); // the login ended

  // The heartbeat keeps this console "online"; its answer names the room's last seq, so a broadcast
  // lost on the way (e.g. while the message queue was down) is noticed and the page joins again.
  heartbeat = setInterval(function () {
    if (!joined) return;
    socket.timeout(ACK_TIMEOUT).emit("heartbeat", {}, function (err, ack) {
      if (err || !ack) return;
      if (ack.code === "not_joined") { join(); return; } // the server lost our place (a long stall)
      if (!ack.ok) return;
      if (ack.participants && state) {
        // Presence also changes without an event (a dead process's sockets time out): take it as is.
        state.participants = ack.participants;
        state.observers = ack.observers || [];
        render();
      }
      if (typeof ack.seq !== "number" || ack.seq <= lastSeq) return;
      var behind = ack.seq;
      setTimeout(function () { if (joined && lastSeq < behind) join(); }, GAP_WAIT);
    });
  }, (LIMITS.heartbeat || 20) * 1000);
  window.addEventListener("pagehide", function () { clearInterval(heartbeat); socket.disconnect(); });

  // --- sending ------------------------------------------------------------------------------

  function send(event, data, onAck) {
    data.cid = newCid();
    outbox.push({ event: event, data: data, inflight: false, onAck: onAck });
    flush();
  }

  function flush() {
    if (!joined) return;
    outbox.forEach(function (item) {
      if (item.inflight) return;
      item.inflight = true;
      socket.timeout(ACK_TIMEOUT).emit(item.event, item.data, function (err, ack) {
        item.inflight = false;
        if (err) { // no answer: send again (same cid) while connected, else after the rejoin
          if (joined) flush();
          return;
        }
        outbox.splice(outbox.indexOf(item), 1);
        if (ack && ack.ok) {
          alertText("");
          if (ack.event && KIND_EVENT[ack.event.kind]) receive(KIND_EVENT[ack.event.kind], ack.event);
        } else if (ack && ack.code === "not_joined") {
          outbox.push(item); // the server forgot us (a restart): join again, then resend
          join();
          return;
        } else {
          alertText(t("error", { error: (ack && ack.error) || "?" }));
        }
        if (item.onAck) item.onAck(ack || {});
      });
    });
  }

  // --- drawing --------------------------------------------------------------------------------

  function participant(classroomId) {
    return state.participants.filter(function (p) { return p.classroom_id === classroomId; })[0];
  }

  function roomName(classroomId) {
    var p = participant(classroomId);
    return p ? p.school + " " + p.name : "#" + classroomId;
  }

  function render() {
    if (!state) return;
    renderLesson();
    renderMaterial();
    renderRooms();
    renderHands();
    renderPoll();
    renderChat();
  }

  function renderLesson() {
    var text = state.ended_at ? t("ended", { time: clock(state.ended_at) })
      : state.started_at ? t("running", { time: clock(state.started_at) }) : t("not_started");
    var lesson = $("[data-lesson]");
    if (lesson) {
      lesson.textContent = text;
      lesson.className = "live-lesson status" + (state.started_at && !state.ended_at ? " ok" : "");
    }
    var start = root.querySelector('[data-send="start"]');
    var end = root.querySelector('[data-send="end"]');
    if (start) start.hidden = Boolean(state.started_at);
    if (end) end.hidden = !state.started_at || Boolean(state.ended_at);
    tick();
  }

  function tick() {
    var node = $("[data-timer]");
    if (!node || !state) return;
    if (!state.timer) { node.textContent = t("no_timer"); node.classList.remove("over"); return; }
    var end = Date.parse(state.timer.started_at) + state.timer.minutes * 60000;
    var left = Math.round((end - serverNow()) / 1000);
    var abs = Math.abs(left);
    var mmss = Math.floor(abs / 60) + ":" + ("0" + (abs % 60)).slice(-2);
    node.textContent = left >= 0 ? t("timer_left", { time: mmss }) : t("timer_over", { time: mmss });
    node.classList.toggle("over", left < 0);
  }
  setInterval(tick, 1000);

  function renderMaterial() {
    var material = $("[data-material]");
    if (material) {
      fill(material, [state.material
        ? el("a", { href: root.dataset.resourceUrl.replace(/0$/, String(state.material.resource_id)), target: "_blank", rel: "noopener", text: state.material.title })
        : el("span", { className: "muted", text: t("no_material") })]);
    }
    var page = $("[data-page]");
    if (page) page.textContent = state.page ? t("page", { page: state.page }) : "";
    var input = document.getElementById("live-page");
    if (input && document.activeElement !== input && state.page) input.value = state.page;
  }

  function attendanceOf(classroomId) {
    return state.attendance.filter(function (a) { return a.classroom_id === classroomId; })[0];
  }

  function renderRooms() {
    var list = $("[data-rooms]");
    fill(list, state.participants.map(function (p) {
      var hand = state.hands.some(function (h) { return h.classroom_id === p.classroom_id; });
      var att = attendanceOf(p.classroom_id);
      var size = att ? att.class_size : p.class_size;
      return el("li", { className: "live-room-row" + (p.online ? " online" : ""), "data-classroom": p.classroom_id }, [
        el("span", { className: "live-dot", role: "img", title: p.online ? t("online") : t("offline"), "aria-label": p.online ? t("online") : t("offline") }),
        el("span", { className: "live-room-name" }, [
          el("strong", { text: p.school + " " + p.name }),
          el("span", { className: "hint", text: (p.main ? t("main_room") + " · " : "") + (p.user_name || "") })
        ]),
        hand ? el("span", { className: "tag live-hand-tag", text: t("hand_tag") }) : null,
        p.main ? null : el("span", { className: "live-att", text: att ? t("present_of", { present: att.present, size: att.class_size })
          : (size ? size + " " + t("students") + " · " : "") + t("not_checked_in") })
      ]);
    }));
    var obs = $("[data-observers]");
    if (obs) {
      obs.textContent = state.observers && state.observers.length
        ? t("observers", { names: state.observers.map(function (o) { return o.name; }).join("、") }) : "";
    }
    // Prefill the check-in with what this classroom reported or its class size.
    var mine = myClassroom();
    var present = document.getElementById("live-present");
    var sizeInput = document.getElementById("live-size");
    if (role === "assistant" && mine && sizeInput && !sizeInput.value) {
      var a = attendanceOf(mine);
      var p = participant(mine);
      if (a) { present.value = a.present; sizeInput.value = a.class_size; }
      else if (p && p.class_size) { sizeInput.value = p.class_size; }
    }
  }

  function renderHands() {
    var list = $("[data-hands]");
    var items = state.hands.map(function (h, i) {
      var children = [el("span", { text: (i + 1) + ". " + roomName(h.classroom_id) + " · " + clock(h.at) })];
      if (role === "teacher" && i === 0 && !state.ended_at) {
        children.push(el("button", { type: "button", className: "small primary", "data-answer": h.classroom_id, text: t("answer") }));
      }
      return el("li", null, children);
    });
    if (!items.length) items = [el("li", { className: "muted", text: t("no_hands") })];
    fill(list, items);
    var button = $("[data-hand]");
    if (button) {
      var mine = myClassroom();
      var place = -1;
      state.hands.forEach(function (h, i) { if (h.classroom_id === mine) place = i; });
      button.textContent = place >= 0 ? t("lower_hand") : t("raise_hand");
      button.dataset.raised = place >= 0 ? "1" : "";
      button.disabled = !state.started_at || Boolean(state.ended_at);
      button.title = place >= 0 ? t("hand_up", { place: place + 1 }) : "";
    }
  }

  function pollBlock(poll) {
    var max = Math.max.apply(null, [1].concat(poll.totals));
    var rows = poll.options.map(function (option, i) {
      var bar = el("span", { className: "live-bar" });
      bar.style.width = Math.round(100 * poll.totals[i] / max) + "%"; // CSSOM, allowed by the CSP
      return el("li", null, [
        el("span", { className: "live-option", text: option }),
        el("span", { className: "live-bar-wrap" }, [bar]),
        el("strong", { className: "live-total", text: String(poll.totals[i]) })
      ]);
    });
    var receiving = state.participants.filter(function (p) { return !p.main; }).length;
    var perRoom = poll.answers.map(function (a) {
      return el("li", null, [el("span", { text: roomName(a.classroom_id) }), el("span", { text: a.counts.join(" / ") })]);
    });
    return el("div", { className: "live-poll" + (poll.open ? " open" : "") }, [
      el("p", { className: "live-question" }, [el("strong", { text: poll.question })]),
      el("ol", { className: "live-results" }, rows),
      el("p", { className: "hint", text: t("answered", { done: poll.answers.length, all: receiving }) }),
      perRoom.length ? el("ul", { className: "list live-per-room" }, perRoom) : null
    ]);
  }

  var answerFor = null; // the poll the count inputs were drawn for
  function renderPoll() {
    var box = $("[data-poll]");
    var poll = state.poll;
    var children = poll ? [pollBlock(poll)] : [el("p", { className: "muted", text: t("no_poll") })];
    if (poll && role === "teacher") {
      children.push(el("p", { className: "actions" }, [
        el("button", { type: "button", className: "danger", "data-close-poll": poll.id, text: t("close_poll") })]));
    }
    fill(box, children);
    var form = root.querySelector('[data-form="open_poll"]');
    if (form) form.hidden = Boolean(poll) || !state.started_at || Boolean(state.ended_at);
    var answer = root.querySelector('[data-form="answer_poll"]');
    if (answer) {
      answer.hidden = !poll;
      if (poll && answerFor !== poll.id) {
        answerFor = poll.id;
        var mine = (poll.answers.filter(function (a) { return a.classroom_id === myClassroom(); })[0] || {}).counts;
        fill(answer.querySelector("[data-counts]"), poll.options.map(function (option, i) {
          var id = "live-count-" + i;
          return el("p", { className: "field" }, [
            el("label", { for: id, text: option }),
            el("input", { id: id, name: "count", type: "number", inputmode: "numeric", min: "0",
                          max: String(LIMITS.class_size), required: "required", value: mine ? String(mine[i]) : "0" })
          ]);
        }));
      }
    }
    var history = $("[data-polls]");
    var wrap = $("[data-polls-wrap]");
    if (history && wrap) {
      wrap.hidden = !state.polls.length;
      fill(history, state.polls.slice().reverse().map(pollBlock));
    }
  }

  var shownChat = 0;
  function renderChat() {
    var list = $("[data-chat]");
    if (!list) return;
    if (!state.chat.length) { fill(list, [el("li", { className: "muted", text: t("no_chat") })]); shownChat = 0; return; }
    var atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    if (shownChat === 0 || shownChat > state.chat.length) fill(list, []);
    var start = list.children.length && shownChat ? shownChat : 0;
    state.chat.slice(start).forEach(function (m) {
      var mine = String(m.user_id) === root.dataset.userId;
      list.appendChild(el("li", { className: mine ? "mine" : "" }, [
        el("span", { className: "live-chat-meta", text: m.name + " · " + clock(m.at) }),
        el("span", { className: "live-chat-text", text: m.text })
      ]));
    });
    shownChat = state.chat.length;
    if (atBottom || start === 0) list.scrollTop = list.scrollHeight;
  }

  // --- controls -----------------------------------------------------------------------------

  var pageAsked = 0; // the page of a set_page sent and not yet answered

  root.addEventListener("click", function (event) {
    var target = event.target.closest("button");
    if (!target || !root.contains(target)) return;
    if (target.dataset.send) {
      if (target.dataset.confirm && !window.confirm(target.dataset.confirm)) return;
      send(target.dataset.send, {});
    } else if (target.dataset.pageStep) {
      // Step from the page last asked for while its answer is on the way: two quick clicks
      // on "next" go two pages on, not to the same page twice.
      var from = pageAsked || (state && state.page ? state.page : 1);
      var page = Math.min(LIMITS.page, Math.max(1, from + Number(target.dataset.pageStep)));
      pageAsked = page;
      send("set_page", { page: page }, function () { if (pageAsked === page) pageAsked = 0; });
    } else if (target.dataset.answer) {
      send("answer_hand", { classroom_id: Number(target.dataset.answer) });
    } else if (target.dataset.closePoll) {
      send("close_poll", { poll_id: Number(target.dataset.closePoll) });
    } else if (target.hasAttribute("data-hand")) {
      send(target.dataset.raised ? "lower_hand" : "raise_hand", withClassroom({}));
    }
  });

  function number(form, name) { return Number(form.elements[name].value); }

  root.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-form]");
    if (!form) return;
    event.preventDefault();
    var kind = form.dataset.form;
    var data;
    if (kind === "chat") {
      var text = form.elements.text.value.trim();
      if (!text) return;
      data = { text: text };
      form.elements.text.value = "";
    } else if (kind === "set_page") {
      data = { page: number(form, "page") };
    } else if (kind === "set_material") {
      data = { resource_id: number(form, "resource_id"), page: 1 };
    } else if (kind === "start_timer") {
      data = { minutes: number(form, "minutes") };
    } else if (kind === "open_poll") {
      var options = Array.prototype.map.call(form.querySelectorAll('[name="option"]'), function (input) {
        return input.value.trim();
      }).filter(Boolean);
      data = { question: form.elements.question.value.trim(), options: options };
    } else if (kind === "answer_poll") {
      var counts = Array.prototype.map.call(form.querySelectorAll('[name="count"]'), function (input) {
        return Number(input.value) || 0;
      });
      data = withClassroom({ poll_id: state.poll.id, counts: counts });
    } else if (kind === "check_in") {
      data = withClassroom({ present: number(form, "present"), class_size: number(form, "class_size") });
      var feedback = form.elements.feedback.value.trim();
      if (feedback) data.feedback = feedback;
    } else {
      return;
    }
    send(kind, data);
  });

  var pick = $("[data-my-classroom]");
  if (pick) pick.addEventListener("change", function () { answerFor = null; render(); });
})();
