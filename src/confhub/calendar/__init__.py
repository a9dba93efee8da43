"""Calendar feeds (RFC 5545): a province's, a unit's, one meeting's and a person's private feed.

`builder` turns plain feed data into an iCalendar object (no database, no HTTP); `services` decides
which meetings each feed holds and answers its version cheaply; `controllers` serves the feeds with
conditional GET and the profile page with the private feed's address; `links` makes the subscribe,
download, Google and Outlook links the pages show.
"""
