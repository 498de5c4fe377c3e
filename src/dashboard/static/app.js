// frontdesk dashboard: the little the pages need from the browser.
// Actions post JSON to the staff API with the session's CSRF token; the
// queue listens to the task event stream and re-reads its server-rendered
// rows and card; transcripts play the recording from a clicked turn.
(function () {
  'use strict';
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.content : '';
  var statusBox = document.getElementById('status');

  function say(text, ok) {
    if (!statusBox) { return; }
    statusBox.textContent = text;
    statusBox.className = 'status shown ' + (ok ? 'ok' : 'error');
  }

  function signedOut(response) {
    // A page request without a live session is sent to the sign-in page.
    if (response.status === 401 || (response.redirected && new URL(response.url).pathname === '/')) {
      window.location.href = '/?expired=1';
      return true;
    }
    return false;
  }

  function post(url, body, method) {
    return fetch(url, {
      method: method || 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      if (signedOut(r)) { throw new Error('Your session ended; sign in again.'); }
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!r.ok) {
          var message = data && data.error && data.error.message;
          var err = new Error(message || ('The server refused (' + r.status + ').'));
          err.status = r.status;
          throw err;
        }
        return data;
      });
    });
  }

  function getHtml(url) {
    return fetch(url, { credentials: 'same-origin' }).then(function (r) {
      if (signedOut(r)) { throw new Error('Your session ended; sign in again.'); }
      return r.text().then(function (text) { return { status: r.status, html: text }; });
    });
  }

  function fields(form) {
    var body = {};
    new FormData(form).forEach(function (value, key) {
      if (typeof value === 'string' && value.trim() !== '') { body[key] = value; }
    });
    // A checkbox says yes or no, not "on" or nothing.
    form.querySelectorAll('input[type="checkbox"][name]').forEach(function (box) {
      body[box.name] = box.checked;
    });
    return body;
  }

  // ---- the queue: live rows and the open card
  var list = document.getElementById('task-list');
  var card = document.getElementById('card');
  var openTask = card ? card.getAttribute('data-task') : null;
  var listTimer = null;

  function refreshList() {
    if (!list) { return Promise.resolve(); }
    var query = list.getAttribute('data-query') || '';
    if (openTask) { query += '&task=' + encodeURIComponent(openTask); }
    return getHtml('/queue/list?' + query).then(function (r) {
      if (r.status !== 200) { return; }
      list.innerHTML = r.html;
      var update = list.querySelector('template#incoming-update');
      if (update) {
        var region = document.querySelector('section.incoming');
        if (!region) {
          region = document.createElement('section');
          region.className = 'incoming';
          region.setAttribute('aria-label', 'Incoming transfers');
          var main = document.getElementById('main');
          main.insertBefore(region, main.firstChild);
        }
        region.innerHTML = update.innerHTML;
        update.remove();
      }
      document.body.setAttribute('data-list-refreshed', String(Date.now()));
    }).catch(function (e) { say(e.message, false); });
  }

  function scheduleList() {
    if (listTimer) { return; }
    listTimer = setTimeout(function () { listTimer = null; refreshList(); }, 150);
  }

  function refreshCard() {
    if (!card || !openTask) { return Promise.resolve(); }
    return getHtml('/queue/tasks/' + encodeURIComponent(openTask)).then(function (r) {
      if (r.status === 200) {
        card.innerHTML = r.html;
      } else if (r.status === 403) {
        card.innerHTML = '<p class="hint">This task is no longer yours to see.</p>';
      }
    }).catch(function (e) { say(e.message, false); });
  }

  function openCard(id) {
    openTask = id;
    card.setAttribute('data-task', id);
    var rows = document.querySelectorAll('tr.task');
    rows.forEach(function (row) { row.classList.toggle('open', row.getAttribute('data-task-id') === id); });
    var url = new URL(window.location.href);
    url.searchParams.set('task', id);
    window.history.replaceState(null, '', url.toString());
    return refreshCard().then(function () {
      var heading = card.querySelector('h2');
      if (heading) { heading.setAttribute('tabindex', '-1'); heading.focus(); }
    });
  }

  if (list && card) {
    document.addEventListener('click', function (event) {
      var link = event.target.closest('a.open-task');
      if (link && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        openCard(link.getAttribute('data-task-id'));
      }
    });
    if (window.EventSource) {
      var live = document.createElement('span');
      live.className = 'live';
      live.setAttribute('aria-live', 'polite');
      live.textContent = 'connecting…';
      var header = document.querySelector('header.top');
      if (header) { header.insertBefore(live, header.querySelector('.who')); }
      // The browser reconnects by itself and sends Last-Event-ID, so the
      // server replays what was missed.
      var events = new EventSource('/api/v1/tasks/events');
      events.addEventListener('open', function () {
        live.textContent = 'live';
        live.className = 'live on';
        scheduleList();
      });
      events.addEventListener('error', function () {
        live.textContent = 'reconnecting…';
        live.className = 'live off';
      });
      events.addEventListener('task', function (event) {
        var task = null;
        try { task = JSON.parse(event.data); } catch (e) { task = null; }
        scheduleList();
        if (task && task.id === openTask) { refreshCard(); }
      });
    }
    // Due times move on even when nothing happens.
    setInterval(scheduleList, 60000);
  }

  // ---- actions through the staff API
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains('act')) { return; }
    event.preventDefault();
    var body = fields(form);
    if (form.hasAttribute('data-with-patient')) {
      var pick = document.getElementById('patient-pick');
      if (!pick || !pick.value) { say('Find and choose the patient first.', false); return; }
      body.patient_id = pick.value;
    }
    var button = form.querySelector('button[type="submit"]');
    if (button) { button.disabled = true; }
    post(form.getAttribute('data-api'), body, form.getAttribute('data-method')).then(function (data) {
      say(form.getAttribute('data-done') || 'Done.', true);
      var state = form.querySelector('#availability-state');
      if (state && data) {
        state.textContent = data.available && data.phone
          ? 'Taking transfers on ' + data.phone + '.' : 'Not taking transfers.';
      }
      if (form.hasAttribute('data-reload')) { window.location.reload(); return; }
      refreshCard();
      refreshList();
    }).catch(function (e) {
      say((e.status === 409 ? 'Conflict: ' : '') + e.message, false);
      if (form.hasAttribute('data-reload')) { return; }
      refreshCard();
      refreshList();
    }).then(function () { if (button) { button.disabled = false; } });
  });

  // ---- patient search on the schedule
  document.addEventListener('click', function (event) {
    var find = event.target.closest('button.find-patient');
    if (!find) { return; }
    var form = find.closest('form');
    var name = form.querySelector('[name="patient_name"]').value.trim();
    var dob = form.querySelector('[name="patient_dob"]').value.trim();
    var params = new URLSearchParams();
    if (name) { params.set('name', name); }
    if (dob) { params.set('date_of_birth', dob); }
    fetch('/api/v1/patients?' + params.toString(), { credentials: 'same-origin' })
      .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, data: d }; }); })
      .then(function (r) {
        var select = form.querySelector('select[name="patient_id"]');
        select.innerHTML = '';
        var found = (r.ok && r.data.patients) || [];
        found.forEach(function (p) {
          var option = document.createElement('option');
          option.value = p.id;
          option.textContent = p.name + ' (born ' + p.date_of_birth + ')';
          select.appendChild(option);
        });
        say(found.length ? found.length + ' patient(s) found.' : 'No patient found.', found.length > 0);
      })
      .catch(function (e) { say(e.message, false); });
  });

  // ---- copy a number
  document.addEventListener('click', function (event) {
    var button = event.target.closest('button.copy');
    if (!button) { return; }
    var text = button.getAttribute('data-copy');
    var done = function () { say('Copied ' + text + '.', true); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { say('Select the number and copy it: ' + text, false); });
    } else {
      say('Select the number and copy it: ' + text, false);
    }
  });

  // ---- recordings: play from a clicked turn, follow the playing turn.
  // The recording is fetched once as a blob before the first jump: a blob
  // seeks anywhere, whatever the server says about byte ranges.
  var recordingReady = null;
  function seekable(audio) {
    if (!recordingReady) {
      recordingReady = fetch(audio.currentSrc || audio.src, { credentials: 'same-origin' })
        .then(function (r) {
          if (!r.ok) { throw new Error('The recording could not be loaded (' + r.status + ').'); }
          return r.blob();
        })
        .then(function (blob) {
          return new Promise(function (resolve) {
            audio.addEventListener('loadedmetadata', function () { resolve(); }, { once: true });
            audio.src = URL.createObjectURL(blob);
          });
        });
      recordingReady.catch(function () { recordingReady = null; });
    }
    return recordingReady;
  }
  document.addEventListener('click', function (event) {
    var turn = event.target.closest('button.turn-play');
    if (!turn) { return; }
    var audio = document.getElementById('recording');
    if (!audio) { return; }
    var at = Number(turn.getAttribute('data-at-ms')) / 1000;
    seekable(audio).then(function () {
      audio.currentTime = at;
      return audio.play();
    }).catch(function (e) { say('The recording would not play: ' + e.message, false); });
  });
  document.addEventListener('timeupdate', function (event) {
    var audio = event.target;
    if (!audio || audio.id !== 'recording') { return; }
    var ms = audio.currentTime * 1000;
    var current = null;
    document.querySelectorAll('button.turn-play').forEach(function (b) {
      b.closest('li').classList.remove('playing');
      if (Number(b.getAttribute('data-at-ms')) <= ms) { current = b; }
    });
    if (current) { current.closest('li').classList.add('playing'); }
  }, true);
})();
