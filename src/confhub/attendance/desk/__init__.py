"""The meeting's help desk on the live channel: a point's incident reports (picture, sound or
link lost) to the province's technician, and the secretariat's announcements to the points."""
