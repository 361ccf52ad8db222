// Answers the signing form's proof-of-work puzzle (only while a site switches it on against a
// flood of automated signatures): finds a number whose SHA-256 with the puzzle starts with
// enough zero bits, then sends the form. About a second on a phone.
(function () {
  'use strict';
  var form = document.querySelector('form[data-challenge-bits]');
  if (!form || !window.crypto || !window.crypto.subtle || !window.TextEncoder) return;
  var bits = Number(form.getAttribute('data-challenge-bits'));
  var challenge = form.querySelector('input[name="challenge"]');
  var answer = form.querySelector('input[name="challenge_answer"]');
  var status = form.querySelector('[data-challenge-status]');
  var encoder = new TextEncoder();
  var solving = false;

  function zeroBits(bytes) {
    var zeros = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { zeros += 8; continue; }
      return zeros + Math.clz32(bytes[i]) - 24;
    }
    return zeros;
  }

  function attempt(n) {
    return crypto.subtle.digest('SHA-256', encoder.encode(challenge.value + ':' + n)).then(function (hash) {
      return zeroBits(new Uint8Array(hash)) >= bits;
    });
  }

  function search(start) {
    var batch = [];
    for (var n = start; n < start + 256; n++) batch.push(attempt(n));
    return Promise.all(batch).then(function (results) {
      var hit = results.indexOf(true);
      return hit >= 0 ? start + hit : search(start + 256);
    });
  }

  form.addEventListener('submit', function (event) {
    if (answer.value) return;
    event.preventDefault();
    if (solving) return;
    solving = true;
    if (status) status.textContent = 'Checking your browser before signing…';
    search(0).then(function (n) {
      answer.value = String(n);
      if (status) status.textContent = '';
      form.submit();
    });
  });
})();
