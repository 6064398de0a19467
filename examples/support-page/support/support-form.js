// The support page's script. The guidance booking component is not part of the page's first
// load: it is imported (and with it the <guidance-booking> element from the booking service)
// only when the visitor chooses "Book a guidance session".
const button = document.getElementById('book-session');
const container = document.getElementById('booking');

document.getElementById('support-form').addEventListener('submit', (e) => {
  // A real site sends the message to its help desk here.
  e.preventDefault();
});

button.addEventListener('click', async () => {
  const open = button.getAttribute('aria-expanded') === 'true';
  if (open) {
    button.setAttribute('aria-expanded', 'false');
    container.hidden = true;
    return;
  }
  button.setAttribute('aria-expanded', 'true');
  container.hidden = false;
  if (!container.firstElementChild) {
    const { mountGuidanceBooking } = await import('./components/guidance-booking/guidance-booking.js');
    await mountGuidanceBooking(container, {
      service: button.dataset.guidanceService || location.origin,
      lang: button.dataset.guidanceLang || document.documentElement.lang,
    });
  }
});
