"""Minutes and news: the record of a meeting (biên bản), its photos, and the articles it becomes
on the province's and every invited unit's public news pages, with their Atom feeds."""
