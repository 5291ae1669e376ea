"""The dates and numbers every input is held to (the API contract, forms and imports share them)."""

from datetime import date

# Dates the services can compute with (a renewal a term later, a month's end, a time zone away); a
# date outside is refused with a message naming the field.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
