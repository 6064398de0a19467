#!/usr/bin/env node
// Reads an iCalendar file with ical.js (the parser Proton's web client uses), independently of
// Guidance's own code, and prints what it read as JSON.
//
// Usage: node check_ics.mjs ICAL_JS FILE.ics
//
// ICAL_JS is the path of ical.js's ES module (tests/browser/node_modules/ical.js/dist/ical.js,
// pinned by tests/browser/package-lock.json). Prints
//   {"method", "name" (X-WR-CALNAME), "refresh" (REFRESH-INTERVAL), "count",
//    "events": {UID: {"sequence", "status", "summary", "start", "end", "location", "url",
//                     "conference"}}}
// Exits non-zero, saying why, when the file does not parse, holds no VCALENDAR, or an event
// lacks a UID or a start: a test that uses this checker then fails.

import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [icalPath, file] = process.argv.slice(2);
if (!icalPath || !file) {
  console.error("usage: node check_ics.mjs ICAL_JS FILE.ics");
  process.exit(2);
}
const ICAL = (await import(pathToFileURL(icalPath).href)).default;

const text = readFileSync(file, "utf8");
const cal = new ICAL.Component(ICAL.parse(text));
if (cal.name !== "vcalendar") {
  console.error(`not a VCALENDAR: ${cal.name}`);
  process.exit(1);
}

const value = (component, name) => {
  const v = component.getFirstPropertyValue(name);
  return v === null || v === undefined ? null : v.toString();
};

const events = {};
const problems = [];
const vevents = cal.getAllSubcomponents("vevent");
for (const vevent of vevents) {
  const event = new ICAL.Event(vevent);
  if (!event.uid) {
    problems.push("an event without a UID");
    continue;
  }
  if (!event.startDate) {
    problems.push(`${event.uid}: no DTSTART`);
    continue;
  }
  events[event.uid] = {
    sequence: event.sequence ?? 0,
    status: value(vevent, "status"),
    summary: event.summary ?? null,
    start: event.startDate.toJSDate().toISOString(),
    end: event.endDate ? event.endDate.toJSDate().toISOString() : null,
    location: event.location ?? null,
    url: value(vevent, "url"),
    conference: value(vevent, "conference"),
  };
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(
  JSON.stringify({
    method: value(cal, "method"),
    name: value(cal, "x-wr-calname"),
    refresh: value(cal, "refresh-interval"),
    count: vevents.length,
    events,
  }),
);
