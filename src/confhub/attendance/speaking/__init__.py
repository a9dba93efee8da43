"""Speaking requests (đăng ký phát biểu): a point asks to speak from its check-in page, the
secretariat accepts, refuses, orders and gives the floor, and the meeting keeps who spoke, when
and for how long. They travel on the attendance log like check-ins (versions, resync, targeted
fan-out: a point sees only its own requests and its place in the queue)."""
