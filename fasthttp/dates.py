"""HTTP dates (RFC 9110 §5.6.7): formatting the IMF-fixdate and reading all three forms.

Strategy: one writer and one reader for every field that carries a date (``Date``,
``Last-Modified``, ``Expires`` of a cookie, ``If-Modified-Since``, ``If-Range``, ...). The
writer emits the IMF-fixdate only, with the fixed English day and month names of
:mod:`fasthttp._grammar` (never ``strftime``, which follows the process locale). The reader
accepts the IMF-fixdate and the two obsolete forms a recipient must still read (rfc850-date and
asctime-date), each matched whole by one regular expression; the names are case-sensitive.
An invalid date is ``None``, never an exception: recipients ignore invalid dates (RFC 9110
§13.1.3) and the caller decides what that means.

The writer kernel keeps its own once-a-second ``Date`` cache for the response head; this
module is for the message model.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
import time

from ._grammar import DAYS, MONTHS

__all__ = ("format_http_date", "parse_http_date")

_MONTH_NUMBER = {m: i + 1 for i, m in enumerate(MONTHS)}
_D = "|".join(DAYS)
_M = "|".join(MONTHS)
# rfc850-date spells the day in full (RFC 9110 §5.6.7: day-name-l).
_DL = "|".join(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))
# RFC 9110 §5.6.7: recipients accept all three forms; the names are case-sensitive.
_IMF_FIXDATE = re.compile(rf"(?:{_D}), (\d\d) ({_M}) (\d{{4}}) (\d\d):(\d\d):(\d\d) GMT")
_RFC850_DATE = re.compile(rf"(?:{_DL}), (\d\d)-({_M})-(\d\d) (\d\d):(\d\d):(\d\d) GMT")
_ASCTIME_DATE = re.compile(rf"(?:{_D}) ({_M}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{{4}})")


def format_http_date(timestamp: float | _dt.datetime) -> str:
    """An IMF-fixdate (RFC 9110 §5.6.7): ``Sun, 06 Nov 1994 08:49:37 GMT``.

    *timestamp* is POSIX seconds (the fraction is dropped) or a ``datetime`` (a naive one is
    taken as UTC). Day and month names are fixed English, whatever the locale.
    """
    if isinstance(timestamp, _dt.datetime):
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=_dt.timezone.utc)
        timestamp = timestamp.timestamp()
    t = time.gmtime(int(timestamp))
    return "%s, %02d %s %04d %02d:%02d:%02d GMT" % (
        DAYS[t.tm_wday],
        t.tm_mday,
        MONTHS[t.tm_mon - 1],
        t.tm_year,
        t.tm_hour,
        t.tm_min,
        t.tm_sec,
    )


def parse_http_date(value: str | bytes | None) -> int | None:
    """POSIX seconds for an HTTP-date in any of its three forms (RFC 9110 §5.6.7), or ``None``
    when *value* is not one (recipients ignore an invalid date; callers decide what that means).

    A two-digit rfc850 year more than 50 years in the future is the most recent past year with
    those digits (RFC 9110 §5.6.7).
    """
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("latin-1")
    value = value.strip(" \t")
    m = _IMF_FIXDATE.fullmatch(value)
    if m is not None:
        day, month, year, hh, mm, ss = m.groups()
    else:
        m = _RFC850_DATE.fullmatch(value)
        if m is not None:
            day, month, yy, hh, mm, ss = m.groups()
            this_year = time.gmtime().tm_year
            year = this_year - this_year % 100 + int(yy)
            if year > this_year + 50:
                year -= 100
        else:
            m = _ASCTIME_DATE.fullmatch(value)
            if m is None:
                return None
            month, day, hh, mm, ss, year = m.groups()
    try:
        # datetime validates the calendar (no 31 Feb); a leap second (:60) counts as :59.
        when = _dt.datetime(int(year), _MONTH_NUMBER[month], int(day), int(hh), int(mm), min(int(ss), 59))
    except ValueError:
        return None
    return calendar.timegm(when.timetuple())
