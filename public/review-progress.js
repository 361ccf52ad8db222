// On a big petition's signature review, while newer findings are being computed: asks every few
// seconds whether they are ready, and then offers them with a link (never reloading the page by
// itself: the moderator may be filling in the invalidation form). The page says the same without it.
(function () {
  'use strict';
  var status = document.querySelector('[data-review-progress]');
  if (!status || !window.fetch) return;
  var url = status.getAttribute('data-review-progress');
  var shown = status.getAttribute('data-computed-at') || null;
  var started = Date.now();
  function ready() {
    var link = document.createElement('a');
    link.href = window.location.pathname;
    link.textContent = 'Show them';
    status.textContent = (shown ? 'Newer findings are ready. ' : 'The findings are ready. ');
    status.appendChild(link);
  }
  function ask() {
    // Half an hour at most: a job that long overdue is asked for again when the page is reloaded.
    if (Date.now() - started > 30 * 60 * 1000) return;
    fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (!body) return;
        var state = body.data;
        if (state.computedAt && state.computedAt !== shown && !state.updatingSince) ready();
        else window.setTimeout(ask, 3000);
      })
      .catch(function () {
        window.setTimeout(ask, 10000);
      });
  }
  window.setTimeout(ask, 3000);
})();
