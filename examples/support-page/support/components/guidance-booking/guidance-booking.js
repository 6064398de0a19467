// The support page's guidance booking component: loads the <guidance-booking> element from the
// booking service and places it in the page. Import this module lazily (see support-form.js).

/**
 * Loads the element from `service` and mounts it in `container`.
 * @param {HTMLElement} container where the element goes
 * @param {{service: string, lang?: string}} options the booking service's address and language
 * @returns {Promise<HTMLElement>} the element
 */
export async function mountGuidanceBooking(container, { service, lang = 'en' }) {
  const base = service.replace(/\/$/, '');
  await import(`${base}/embed/guidance-booking.js`);
  const element = document.createElement('guidance-booking');
  element.setAttribute('service', base);
  element.setAttribute('lang', lang);
  // Shown only when the service cannot be reached.
  const fallback = document.createElement('a');
  fallback.href = `${base}/book`;
  fallback.textContent = 'Open the booking page';
  element.append(fallback);
  container.replaceChildren(element);
  return element;
}
