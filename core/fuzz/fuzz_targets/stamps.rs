//! Any text read as a date by every pattern a shipped format uses, with any fraction and zone:
//! no panic, the same answer as chrono's parser alone (the shapes read by position are a
//! shortcut, never a second meaning), and a stamp that is read lies within chrono's range after
//! a year roll.
#![no_main]

use std::sync::LazyLock;

use _core::stamps::{PreparedRule, StampRule, add_years, offset_minutes};
use libfuzzer_sys::fuzz_target;

#[path = "shipped.rs"]
mod shipped;

static REFERENCE: LazyLock<Vec<PreparedRule>> =
    LazyLock::new(|| RULES.iter().map(|r| r.clone().by_chrono_only()).collect());

static RULES: LazyLock<Vec<PreparedRule>> = LazyLock::new(|| {
    shipped::patterns()
        .into_iter()
        .flat_map(|(pattern, yearless)| {
            [None, Some(1), Some(10), Some(100), Some(1000)].map(|unit| {
                StampRule {
                    patterns: vec![pattern.clone()],
                    fraction_unit: unit,
                    yearless,
                    utc: false,
                }
                .prepared()
            })
        })
        .collect()
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\u{1}');
    let (date, fraction, zone) = (parts.next().unwrap_or(""), parts.next(), parts.next().unwrap_or(""));
    let _ = offset_minutes(zone);
    let year = i32::from(data.first().copied().unwrap_or(0)) * 16;
    for (rule, reference) in RULES.iter().zip(REFERENCE.iter()) {
        let read = rule.local(date, fraction, year);
        assert_eq!(read, reference.local(date, fraction, year), "{date:?} in {year}");
        if let Some(ts) = read {
            let _ = add_years(ts, -1);
            let _ = add_years(ts, 3);
        }
    }
});
