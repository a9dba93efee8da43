// Parses an iCalendar file with ical.js (npm; a parser nobody in confhub wrote) and prints its
// events as JSON: uid, start and end as instants (ISO 8601, UTC), the zone each time was resolved
// in (null for a floating time: a VTIMEZONE that ical.js could not use), status, sequence,
// summary, description and location.
//
// Usage: node parse_ical.mjs ICALJS_PACKAGE_DIR FEED.ics
// (ICALJS_PACKAGE_DIR is node_modules/ical.js of `npm install --prefix .cache/icaljs ical.js@2`.)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [packageDir, feedPath] = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
const entry = (manifest.exports && manifest.exports.import) || manifest.main;
const ICAL = (await import(pathToFileURL(join(packageDir, entry)).href)).default;

const calendar = new ICAL.Component(ICAL.parse(readFileSync(feedPath, "utf8")));
const instant = (time) => time.toJSDate().toISOString();
const zone = (time) => (time.zone && time.zone !== ICAL.Timezone.localTimezone ? time.zone.tzid : null);
const events = calendar.getAllSubcomponents("vevent").map((component) => {
  const event = new ICAL.Event(component);
  return {
    uid: event.uid,
    start: instant(event.startDate),
    end: instant(event.endDate),
    start_zone: zone(event.startDate),
    end_zone: zone(event.endDate),
    status: component.getFirstPropertyValue("status"),
    sequence: event.sequence,
    summary: event.summary,
    description: event.description,
    location: event.location,
  };
});
process.stdout.write(
  JSON.stringify({
    version: ICAL.version || manifest.version,
    name: calendar.getFirstPropertyValue("x-wr-calname"),
    timezones: calendar.getAllSubcomponents("vtimezone").map((tz) => tz.getFirstPropertyValue("tzid")),
    events,
  }),
);
