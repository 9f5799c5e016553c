"""What a citizen's phone sees of a ticket: the board of the day's tickets behind ``/t/<token>``
(board), the notices sent to a gateway beyond the hall's WiFi (notices), and a ticket's phone link
and QR text (links)."""
