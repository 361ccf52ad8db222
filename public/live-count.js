// Keeps a petition's signature count up to date while the page is open (Server-Sent Events).
// The page is complete without it: this only refreshes the number and the progress bar.
(function () {
  'use strict';
  var block = document.querySelector('[data-live-count]');
  if (!block || !window.EventSource) return;
  var number = block.querySelector('[data-signature-count]');
  var bar = block.querySelector('.progress-bar');
  var meter = block.querySelector('[role="progressbar"]');
  var source = new EventSource(block.getAttribute('data-live-count'));
  source.addEventListener('count', function (event) {
    var count;
    try {
      count = JSON.parse(event.data).signature_count;
    } catch (e) {
      return;
    }
    if (typeof count !== 'number' || !number) return;
    var locale = document.documentElement.lang || 'en-GB';
    number.textContent = count.toLocaleString(locale);
    var word = block.querySelector('[data-signature-word]');
    if (word) {
      // The page gives the word's plural forms in its own language (Welsh has six).
      try {
        var words = JSON.parse(word.getAttribute('data-words') || '{}');
        var form = words[new Intl.PluralRules(locale).select(count)];
        if (form) word.textContent = form;
      } catch (e) {
        /* keep the word as rendered */
      }
    }
    if (meter && bar) {
      var goal = Number(meter.getAttribute('aria-valuemax'));
      if (goal > 0) {
        meter.setAttribute('aria-valuenow', String(Math.min(count, goal)));
        var step = Math.round(Math.min(100, Math.floor((count / goal) * 100)) / 5) * 5;
        bar.className = bar.className.replace(/\bw-\d+\b/, 'w-' + step);
      }
    }
  });
})();
