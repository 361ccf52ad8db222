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
    number.textContent = count.toLocaleString('en-GB');
    var word = block.querySelector('[data-signature-word]');
    if (word) word.textContent = count === 1 ? 'signature' : 'signatures';
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
