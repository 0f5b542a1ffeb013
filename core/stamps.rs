//! Local time stamps as the formats write them, to microseconds since the epoch (naive local
//! time), with the quirks the parsers rely on: a space-padded day, year-less stamps given the
//! bundle's year, fractions in the producers' own units (Python's `mmm00` is milliseconds x100),
//! and `+0100` / `-03-30` / `+01:00` / `+01` zone offsets.

use chrono::Months;
use chrono::format::{Item, Parsed, StrftimeItems, parse};

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
        PreparedRule { rule: self, items }
    }
}

impl PreparedRule {
    /// The local time of `date` (+ `fraction`), or None when no pattern reads it.
    pub fn local(&self, date: &str, fraction: Option<&str>, year: i32) -> Option<Micros> {
        let date = date.replace("  ", " ");
        let text = if self.rule.yearless {
            format!("{year} {date}")
        } else {
            date
        };
        let ts = self.items.iter().flatten().find_map(|items| {
            let mut parsed = Parsed::new();
            parse(&mut parsed, &text, items.iter()).ok()?;
            parsed.to_naive_datetime_with_offset(0).ok()
        })?;
        let micros = ts.and_utc().timestamp_micros();
        let extra = match (self.rule.fraction_unit, fraction) {
            (Some(unit), Some(f)) => f.parse::<i64>().ok().map_or(0, |v| v.saturating_mul(unit)),
            _ => 0,
        };
        micros.checked_add(extra)
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
/// three), as the volumedriver's and Python's writers put them.
pub fn offset_minutes(text: &str) -> Option<i16> {
    let hours: i32 = slice_chars(text, 1, 2).parse().ok()?;
    let minutes: i32 = if text.len() > 3 {
        let n = text.chars().count();
        slice_chars(text, n.saturating_sub(2), 2).parse().unwrap_or(0)
    } else {
        0
    };
    let sign = if text.starts_with('-') { -1 } else { 1 };
    i16::try_from(sign * (hours * 60 + minutes)).ok()
}

fn slice_chars(text: &str, start: usize, len: usize) -> &str {
    let mut indices = text.char_indices().map(|(i, _)| i).chain(std::iter::once(text.len()));
    let from = indices.nth(start).unwrap_or(text.len());
    let to = indices.nth(len.saturating_sub(1)).unwrap_or(text.len());
    &text[from..to.max(from)]
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
    fn offsets_in_every_spelling() {
        assert_eq!(offset_minutes("+0100"), Some(60));
        assert_eq!(offset_minutes("-0500"), Some(-300));
        assert_eq!(offset_minutes("-03-30"), Some(-210));
        assert_eq!(offset_minutes("+01:00"), Some(60));
        assert_eq!(offset_minutes("+01"), Some(60));
        assert_eq!(offset_minutes("+x1"), None);
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
