//! Local time stamps as the formats write them, to microseconds since the epoch (naive local
//! time), with the quirks the parsers rely on: a space-padded day, year-less stamps given the
//! bundle's year, fractions in the producers' own units (Python's `mmm00` is milliseconds x100),
//! and `+0100` / `-03-30` / `+01:00` / `+01` zone offsets.

use std::borrow::Cow;

use chrono::format::{Item, Parsed, StrftimeItems, parse};
use chrono::{Months, NaiveDate};

/// A parsed stamp: microseconds since 1970-01-01T00:00:00 of the local clock.
pub type Micros = i64;

/// How one format's groups make a local time stamp and its UTC offset.
#[derive(Debug, Clone)]
pub struct StampRule {
    /// strftime patterns tried in turn (the first that reads the whole date wins).
    pub patterns: Vec<String>,
    /// Microseconds per unit of the fraction group, if the format has one.
    pub fraction_unit: Option<i64>,
    /// The format states no year: the bundle's year is put in front.
    pub yearless: bool,
    /// The stamp is UTC (epoch seconds): offset 0.
    pub utc: bool,
}

/// A rule ready to read stamps: its patterns parsed once (a pattern chrono cannot read reads
/// nothing, as `NaiveDateTime::parse_from_str` would answer for every stamp).
#[derive(Debug, Clone)]
pub struct PreparedRule {
    pub rule: StampRule,
    items: Vec<Option<Vec<Item<'static>>>>,
    /// Per pattern, the shape read without chrono when a stamp has exactly that shape.
    shapes: Vec<Option<Shape>>,
}

/// A pattern most lines are written in, read by position: `%Y-%m-%d %H:%M:%S` (with `-` or
/// `/` between the date's parts) or the year-less syslog `%b %d %H:%M:%S`. Only a stamp of
/// exactly that shape, naming a valid date and a time before a leap second, is read this way;
/// any other text goes to chrono's parser, so the answer is always chrono's.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Iso(u8),
    Syslog,
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

impl Shape {
    fn of(pattern: &str, yearless: bool) -> Option<Shape> {
        match (pattern, yearless) {
            ("%Y-%m-%d %H:%M:%S", false) => Some(Shape::Iso(b'-')),
            ("%Y/%m/%d %H:%M:%S", false) => Some(Shape::Iso(b'/')),
            ("%b %d %H:%M:%S", true) => Some(Shape::Syslog),
            _ => None,
        }
    }

    /// The local time of `date` (single spaced), or None when it is not of this exact shape.
    fn read(self, date: &[u8], year: i32) -> Option<Micros> {
        let (year, month, day, time) = match self {
            Shape::Iso(sep) => {
                if date.len() != 19 || date[4] != sep || date[7] != sep || date[10] != b' ' {
                    return None;
                }
                let year = i32::try_from(digits(&date[..4])?).ok()?;
                (year, digits(&date[5..7])?, digits(&date[8..10])?, &date[11..])
            }
            // chrono reads the year put in front of a year-less stamp as written: four digits here
            Shape::Syslog if !(1000..=9999).contains(&year) => return None,
            Shape::Syslog => {
                let month = MONTHS.iter().position(|m| date.get(..3) == Some(&m[..]))? as u32 + 1;
                let day_end = 4 + date.get(4..)?.iter().position(|&b| b == b' ')?;
                if date[3] != b' ' || !(5..=6).contains(&day_end) {
                    return None;
                }
                (year, month, digits(&date[4..day_end])?, &date[day_end + 1..])
            }
        };
        if time.len() != 8 || time[2] != b':' || time[5] != b':' {
            return None;
        }
        let (hour, minute, second) = (digits(&time[..2])?, digits(&time[3..5])?, digits(&time[6..])?);
        let at = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(hour, minute, second)?;
        Some(at.and_utc().timestamp_micros())
    }
}

/// The number written by `text`, only ASCII digits.
fn digits(text: &[u8]) -> Option<u32> {
    text.iter()
        .try_fold(0u32, |n, &b| b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0')))
}

impl StampRule {
    /// The patterns as they are tried, parsed once: a space-padded day (`Mar  4`) is read as
    /// `Mar 4`, and a year-less stamp gets the year in front.
    pub fn prepared(self) -> PreparedRule {
        let items = self
            .patterns
            .iter()
            .map(|p| {
                let single = p.replace("  ", " ");
                let pattern = if self.yearless { format!("%Y {single}") } else { single };
                StrftimeItems::new(&pattern).parse_to_owned().ok()
            })
            .collect();
        let shapes = self.patterns.iter().map(|p| Shape::of(p, self.yearless)).collect();
        PreparedRule {
            rule: self,
            items,
            shapes,
        }
    }
}

impl PreparedRule {
    /// The local time of `date` (+ `fraction`), or None when no pattern reads it.
    pub fn local(&self, date: &str, fraction: Option<&str>, year: i32) -> Option<Micros> {
        let date = if date.contains("  ") {
            Cow::Owned(date.replace("  ", " "))
        } else {
            Cow::Borrowed(date)
        };
        let mut text: Option<String> = None; // the text chrono reads, built only if it has to
        let micros = self.items.iter().zip(&self.shapes).find_map(|(items, shape)| {
            if let Some(micros) = shape.and_then(|s| s.read(date.as_bytes(), year)) {
                return Some(micros);
            }
            let text = text.get_or_insert_with(|| {
                if self.rule.yearless {
                    format!("{year} {date}")
                } else {
                    date.to_string()
                }
            });
            let mut parsed = Parsed::new();
            parse(&mut parsed, text, items.as_ref()?.iter()).ok()?;
            Some(
                parsed
                    .to_naive_datetime_with_offset(0)
                    .ok()?
                    .and_utc()
                    .timestamp_micros(),
            )
        })?;
        let extra = match (self.rule.fraction_unit, fraction) {
            (Some(unit), Some(f)) => f.parse::<i64>().ok().map_or(0, |v| v.saturating_mul(unit)),
            _ => 0,
        };
        micros.checked_add(extra)
    }

    /// This rule read by chrono alone, with no shape read by position: the reference the
    /// shapes are checked against (the unit tests and the `stamps` fuzz target).
    pub fn by_chrono_only(mut self) -> PreparedRule {
        self.shapes.fill(None);
        self
    }

    /// A year-less stamp read in `year`, and whether it names Feb 29. A leap day is read as Feb 28
    /// of `year` at its time (ordered among its neighbours whether `year` has the day or not) and
    /// put back on the 29th by `settle_leap_day` once the member's roll-overs and the collection
    /// time have settled its year: `year` is only a guess, so a common guessed year must not cost
    /// the record its time, nor a leap guessed year, later moved, put it on the 28th.
    pub fn yearless_local(&self, date: &str, fraction: Option<&str>, year: i32) -> (Option<Micros>, bool) {
        if let Some(ts) = self.local(date, fraction, year) {
            return match leap_day_start(year) {
                Some(start) if (start..start + DAY).contains(&ts) => (Some(ts - DAY), true),
                _ => (Some(ts), false),
            };
        }
        match (self.local(date, fraction, A_LEAP_YEAR), leap_day_start(A_LEAP_YEAR)) {
            (Some(ts), Some(start)) if (start..start + DAY).contains(&ts) => {
                (add_years(ts - DAY, i64::from(year) - i64::from(A_LEAP_YEAR)), true)
            }
            _ => (None, false),
        }
    }

    pub fn yearless(&self) -> bool {
        self.rule.yearless
    }

    pub fn utc(&self) -> bool {
        self.rule.utc
    }
}

/// `+0100` -> 60, `-0500` -> -300; the C++ `-03-30` quirk, `+01:00` and a bare `+01` too.
/// Sign, two hour digits, then the minutes as the last two characters (where there are more than
/// three), as the volumedriver's and Python's writers put them. No zone on Earth is further than
/// `MAX_OFFSET_MINUTES` from UTC: a zone text beyond that, or with 60 minutes or more (a damaged
/// line), says nothing, and the record takes its member's zone like a record that states none.
pub fn offset_minutes(text: &str) -> Option<i16> {
    let hours: i32 = slice_chars(text, 1, 2).parse().ok()?;
    let minutes: i32 = if text.len() > 3 {
        let n = text.chars().count();
        slice_chars(text, n.saturating_sub(2), 2).parse().unwrap_or(0)
    } else {
        0
    };
    let total = hours * 60 + minutes;
    if minutes >= 60 || total > MAX_OFFSET_MINUTES {
        return None;
    }
    let sign = if text.starts_with('-') { -1 } else { 1 };
    i16::try_from(sign * total).ok()
}

/// The furthest any time zone is from UTC: UTC+14:00 (the Line Islands); the furthest west is -12:00.
pub const MAX_OFFSET_MINUTES: i32 = 14 * 60;

fn slice_chars(text: &str, start: usize, len: usize) -> &str {
    let mut indices = text.char_indices().map(|(i, _)| i).chain(std::iter::once(text.len()));
    let from = indices.nth(start).unwrap_or(text.len());
    let to = indices.nth(len.saturating_sub(1)).unwrap_or(text.len());
    &text[from..to.max(from)]
}

const DAY: Micros = 86_400 * 1_000_000;

/// Any leap year, to read a Feb 29 that the guessed year has not got (its year is set later).
const A_LEAP_YEAR: i32 = 2000;

/// Midnight starting Feb 29 of `year`, or None in a common year.
fn leap_day_start(year: i32) -> Option<Micros> {
    if year % 4 != 0 {
        return None; // most years, and no date to build for them
    }
    let day = NaiveDate::from_ymd_opt(year, 2, 29)?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros())
}

/// A leap day read by `yearless_local` (as Feb 28) in the year it was finally given: on Feb 29
/// again, or None when that year has no Feb 29 (the record is then untimed, and said to be).
pub fn settle_leap_day(ts: Micros) -> Option<Micros> {
    let date = chrono::DateTime::from_timestamp_micros(ts)?.date_naive();
    date.leap_year().then(|| ts + DAY)
}

/// `ts` moved by `years` calendar years (Feb 29 lands on Feb 28), or None out of range.
pub fn add_years(ts: Micros, years: i64) -> Option<Micros> {
    if years == 0 {
        return Some(ts);
    }
    let when = chrono::DateTime::from_timestamp_micros(ts)?.naive_utc();
    let months = Months::new(u32::try_from(years.unsigned_abs().checked_mul(12)?).ok()?);
    let moved = if years > 0 {
        when.checked_add_months(months)?
    } else {
        when.checked_sub_months(months)?
    };
    Some(moved.and_utc().timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn rule(patterns: &[&str], unit: Option<i64>, yearless: bool) -> PreparedRule {
        StampRule {
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
            fraction_unit: unit,
            yearless,
            utc: false,
        }
        .prepared()
    }

    #[test]
    fn python_milliseconds_x100_become_microseconds() {
        let r = rule(&["%Y-%m-%d %H:%M:%S"], Some(10), false);
        let ts = r.local("2017-03-14 10:22:05", Some("04700"), 0).unwrap();
        assert_eq!(ts % 1_000_000, 47_000);
    }

    #[test]
    fn a_yearless_space_padded_stamp_takes_the_given_year() {
        let r = rule(&["%b %d %H:%M:%S"], None, true);
        let ts = r.local("Mar  4 10:22:05", None, 2017).unwrap();
        assert_eq!(
            chrono::DateTime::from_timestamp_micros(ts).unwrap().to_string(),
            "2017-03-04 10:22:05 UTC"
        );
    }

    #[test]
    fn stamps_read_by_position_read_as_chrono_reads_them() {
        let rules = [
            rule(&["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S"], Some(1), false),
            rule(&["%b %d %H:%M:%S"], None, true),
        ];
        let dates = [
            "2017-03-14 10:22:05",
            "2016/02/29 23:59:59",
            "2017-02-29 10:00:00",
            "2017-13-01 10:00:00",
            "2017-03-14 24:00:00",
            "2017-03-14 10:60:00",
            "2017-03-14 10:00:60",
            "2017-03-14 10:00:6",
            "2017-3-14 10:22:05",
            "2017-03-14T10:22:05",
            "0000-01-01 00:00:00",
            "2017-03-14 10:22:05 ",
            "２017-03-14 10:22:05",
            "Mar  4 10:22:05",
            "Mar 14 10:22:05",
            "Feb 29 10:22:05",
            "Feb 30 10:22:05",
            "mar 4 10:22:05",
            "March 4 10:22:05",
            "Mar 004 10:22:05",
            "Mar 4 7:22:05",
            "Dec 31 23:59:60",
        ];
        for r in rules {
            let reference = r.clone().by_chrono_only();
            for date in dates {
                for year in [2016, 2017, 999, 10_000, -1] {
                    assert_eq!(
                        r.local(date, Some("5"), year),
                        reference.local(date, Some("5"), year),
                        "{date} {year}"
                    );
                }
            }
        }
    }

    #[test]
    fn offsets_in_every_spelling() {
        assert_eq!(offset_minutes("+0100"), Some(60));
        assert_eq!(offset_minutes("-0500"), Some(-300));
        assert_eq!(offset_minutes("-03-30"), Some(-210));
        assert_eq!(offset_minutes("+01:00"), Some(60));
        assert_eq!(offset_minutes("+01"), Some(60));
        assert_eq!(offset_minutes("+x1"), None);
        assert_eq!(offset_minutes("+1400"), Some(840));
        assert_eq!(offset_minutes("-1200"), Some(-720));
    }

    #[test]
    fn a_zone_no_place_on_earth_has_says_nothing() {
        for damaged in ["+9999", "+0160", "+1401", "-1500", "+99:00", "-03-75"] {
            assert_eq!(offset_minutes(damaged), None, "{damaged}");
        }
    }

    #[test]
    fn a_leap_day_moved_a_year_lands_on_the_28th() {
        let leap = NaiveDateTime::parse_from_str("2016-02-29 10:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        let moved = add_years(leap.and_utc().timestamp_micros(), 1).unwrap();
        assert_eq!(
            chrono::DateTime::from_timestamp_micros(moved).unwrap().to_string(),
            "2017-02-28 10:00:00 UTC"
        );
    }
}
