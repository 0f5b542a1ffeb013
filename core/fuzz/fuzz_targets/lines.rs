//! Any bytes, read as the lines of a member by every shipped format at once: no panic, one row
//! per line, and every field a span that lies on the line's character boundaries. The input is
//! matched whole and again in two chunks with the carry handed over, as a chunked member is.
#![no_main]

use std::sync::LazyLock;

use _core::matching::{Carry, Dates, Formats, NONE, Val};
use libfuzzer_sys::fuzz_target;

#[path = "shipped.rs"]
mod shipped;

static FORMATS: LazyLock<Formats> = LazyLock::new(shipped::formats);

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<Option<&str>> = text
        .split('\n')
        .map(|l| if l == "\u{0}" { None } else { Some(l) })
        .collect();
    let dates = Dates {
        year: 2017,
        collected_at: Some(1_489_483_325_000_000),
    };
    let whole = FORMATS.match_lines(&lines, dates, Some(&mut Carry::default()));
    assert_eq!(whole.len(), lines.len());
    for (row, line) in whole.iter().zip(&lines) {
        if row.format == NONE {
            assert!(
                row.vals.iter().all(|v| *v == Val::Null),
                "an unexplained line has no fields"
            );
            continue;
        }
        let line = line.expect("a null line is explained by no format");
        for value in &row.vals {
            if let Val::Span(a, b) = value {
                assert!(
                    line.get(*a as usize..*b as usize).is_some(),
                    "span {a}..{b} of {line:?}"
                );
            }
        }
    }
    let cut = lines.len() / 2;
    let mut carry = Carry::default();
    let first = FORMATS.match_lines(&lines[..cut], dates, Some(&mut carry));
    let second = FORMATS.match_lines(&lines[cut..], dates, Some(&mut carry));
    assert_eq!(first.len() + second.len(), lines.len());
});
