"""One date format per language (settings.FORMAT_MODULE_PATH points here).

Every page shows a day with `DATE_FORMAT`, a moment with `DATETIME_FORMAT`, a month with
`YEAR_MONTH_FORMAT` and a chart's day tick with `MONTH_DAY_FORMAT`; the SHORT_* names are the same
formats, so a template that asks for either gets the one the language uses. What is not set here
(input formats, separators) comes from Django's own locale.
"""
