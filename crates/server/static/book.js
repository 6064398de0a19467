// Progressive enhancement for /book: show times in the visitor's own zone on the first visit,
// and move focus to a message so that screen readers announce it. The page works without this.
(function () {
  var params = new URLSearchParams(location.search);
  var field = document.getElementById('tz');
  if (!params.has('tz') && field && window.Intl) {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && zone !== field.value) {
      params.set('tz', zone);
      location.replace(location.pathname + '?' + params.toString());
      return;
    }
  }
  var message = document.querySelector('[role=alert]');
  if (message) message.focus();
})();
