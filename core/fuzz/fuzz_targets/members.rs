//! Any bytes, cut into up to four members of lines with their own dates, read in one batch
//! (`Formats::match_members`, how small members are parsed together): no panic, and each member's
//! rows exactly those it gives read alone, so batching never changes what a member says.
#![no_main]

use std::sync::LazyLock;

use _core::matching::{Dates, Formats};
use libfuzzer_sys::fuzz_target;

#[path = "shipped.rs"]
mod shipped;

static FORMATS: LazyLock<Formats> = LazyLock::new(shipped::formats);

/// The dates a member may have: a year-less stamp's year, with or without the collection time.
const DATES: [Dates; 4] = [
    Dates {
        year: 2017,
        collected_at: Some(1_489_483_325_000_000),
    },
    Dates {
        year: 2016,
        collected_at: None,
    },
    Dates {
        year: 2024,
        collected_at: Some(1_704_067_200_000_000),
    },
    Dates {
        year: 1970,
        collected_at: None,
    },
];

fuzz_target!(|data: &[u8]| {
    // the first byte says where the members end (two bits a cut) and which dates each takes
    let Some((&shape, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let lines: Vec<Option<&str>> = text
        .split('\n')
        .map(|l| if l == "\u{0}" { None } else { Some(l) })
        .collect();
    let mut members = Vec::new();
    let mut start = 0;
    for i in 0..4 {
        let end = if i == 3 {
            lines.len()
        } else {
            start + (usize::from(shape >> (2 * i)) & 3) * lines.len() / 4
        };
        let end = end.clamp(start, lines.len());
        members.push((end - start, DATES[(usize::from(shape) + i) % DATES.len()]));
        start = end;
    }
    let batched = FORMATS.match_members(&lines, &members);
    assert_eq!(batched.len(), lines.len(), "one row per line");
    let mut at = 0;
    for (count, dates) in members {
        let alone = FORMATS.match_lines(&lines[at..at + count], dates, None);
        assert!(
            batched[at..at + count] == alone[..],
            "a member reads the same batched as alone"
        );
        at += count;
    }
});
