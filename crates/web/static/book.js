// Enhances the server-rendered /book page with the same Booker as <guidance-booking>: times in
// the visitor's own zone at once, a day picker, inline validation, and sending without leaving
// the page. Without JavaScript the page works as a plain form.
import { Booker } from '/embed/guidance-booking.js';

const texts = JSON.parse(document.getElementById('guidance-texts').textContent);
const zone = new URLSearchParams(location.search).get('tz') || undefined;
new Booker(document, { texts, lang: document.documentElement.lang, zone, level: 1 });
const notice = document.querySelector('.notice:not([hidden])');
if (notice) notice.focus();
