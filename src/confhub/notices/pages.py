"""The notices' pages (filled in below)."""

NOTICE_PAGE_CONTROLLERS: tuple[type, ...] = ()
