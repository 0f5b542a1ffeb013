//! Which format explains each line, and its header fields normalized: one pass over the lines,
//! each line tried against the formats in the order a sample of the member suggests, the first
//! that matches winning. Fields are spans of the line (no copy) unless a format composes them.
//!
//! Semantics are those of the format definitions in `parsers/*.yaml` (parsers/README.md):
//! - formats seen in a sample of the lines (the first 400, plus 200 from the middle and 200 from
//!   the end of a longer member) are tried first, in priority order, then all others;
//! - a year-less stamp takes the bundle's year, rolls over at each Dec -> Jan jump of more than
//!   half a year (carried from chunk to chunk), and steps back a year when it lands well after
//!   the bundle was collected;
//! - a wrapper line (journald, syslog) that carries a whole line of another format takes that
//!   line's time, zone, level, message and producer; the wrapper is remembered.

use std::collections::{HashMap, HashSet};

use regex::{CaptureLocations, Regex, RegexSet};

use crate::stamps::{Micros, PreparedRule, StampRule, add_years, offset_minutes, settle_leap_day};

/// A value of a text column: nothing, a span of the line, or a text the format composed.
///
/// A composed text is rare and sits behind a thin pointer, so a value takes 16 bytes, not 24:
/// a chunk's rows hold seven per line until its table is built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Val {
    #[default]
    Null,
    Span(u32, u32),
    Owned(Box<String>),
}

impl Val {
    pub fn text<'a>(&'a self, line: &'a str) -> Option<&'a str> {
        match self {
            Val::Null => None,
            Val::Span(a, b) => line.get(*a as usize..*b as usize),
            Val::Owned(s) => Some(s),
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    fn owned(text: &str) -> Val {
        Val::Owned(Box::new(text.to_string()))
    }

    /// A value found inside `outer` (a span of the line, or a composed text), as a value of the line.
    fn within(self, outer: &Val, line: &str) -> Val {
        match (self, outer) {
            (Val::Span(a, b), Val::Span(start, _)) => Val::Span(start + a, start + b),
            (Val::Span(a, b), Val::Owned(text)) => Val::owned(text.get(a as usize..b as usize).unwrap_or_default()),
            (Val::Span(a, b), Val::Null) => Val::owned(line.get(a as usize..b as usize).unwrap_or_default()),
            (other, _) => other,
        }
    }
}

/// The text columns a format fills, in this order in `Row::vals`.
pub const TEXT_FIELDS: [&str; 7] = ["host", "pid", "thread", "component", "message", "service", "level_raw"];
const HOST: usize = 0;
const PID: usize = 1;
const THREAD: usize = 2;
const COMPONENT: usize = 3;
const MESSAGE: usize = 4;
const LEVEL_RAW: usize = 6;
/// Lines at the start of a member the format sampler looks at (all of them in a member this
/// short; a longer one adds half as many from its middle and from its end).
pub const SAMPLE_LINES: usize = 400;
/// `Row::format` of a line no format explains.
pub const NONE: u16 = u16::MAX;
/// `Row::level` where there is none.
pub const NO_LEVEL: u8 = u8::MAX;
/// A year-less stamp this many days before the one read before it crossed a New Year.
pub const NEW_YEAR_JUMP_DAYS: i64 = 180;
const NEW_YEAR_JUMP: Micros = NEW_YEAR_JUMP_DAYS * 86_400 * 1_000_000;
const FUTURE_SLACK: Micros = 60 * 86_400 * 1_000_000;
/// A member's first year-less stamp later than the collection by more than this was written the
/// year before: a log was not written after it was collected. Two days cover any two zones (26
/// hours apart at most) between the log's clock and the collection time's, which falls back to a
/// member's modification time read in the analysing machine's zone.
const FIRST_STAMP_SLACK: Micros = 2 * 86_400 * 1_000_000;

/// A piece of a composed field (`compose: {component: "{source}/{name}"}`).
#[derive(Debug, Clone)]
pub enum Piece {
    Lit(String),
    Group(String),
}

/// A form of a capture the regex engine runs without backtracking (see `OnePassForm` in
/// analyzer/parsing/formats.py): its pattern, the groups read minus one trailing space, and the
/// groups a hit needs to end with a suffix (after at least one character).
pub type OnePassDef = (String, Vec<String>, Vec<(String, String)>);

/// One format as the Python side describes it (from `parsers/<id>.yaml`), before compiling.
#[derive(Debug, Clone)]
pub struct FormatDef {
    pub id: String,
    pub producer: String,
    /// The pattern to run: the header, or its prefix with the whole prefix as group `_head`.
    pub capture: String,
    /// A form of `capture` the regex engine runs without backtracking, tried first.
    pub one_pass: Option<OnePassDef>,
    /// Per text field (TEXT_FIELDS order but level_raw): a template when the format composes it.
    pub compose: HashMap<String, Vec<Piece>>,
    pub continuation: bool,
    pub stamp: Option<(StampRule, String, Option<String>, Option<String>)>,
    pub producer_by: Option<(String, HashMap<String, String>, String)>,
    pub wraps: bool,
    pub wraps_component: Option<String>,
}

enum Field {
    Group(usize),
    Template(Vec<(Option<String>, Option<usize>)>),
}

/// A compiled format.
pub struct Format {
    pub id: String,
    /// The one-pass form first, where the format has one, then the capture as written.
    patterns: Vec<Pattern>,
    producer: Producer,
    pub continuation: bool,
    stamp: Option<PreparedRule>,
    pub wraps: bool,
    wraps_component: Option<Regex>,
}

/// A thread's copy of a pattern's regex and the capture locations it fills.
type Searcher = (Regex, CaptureLocations);

/// One regex of a format and where its groups are.
struct Pattern {
    regex: Regex,
    head: Option<usize>,
    message: Option<usize>,
    fields: [Option<Field>; 6],
    level: Option<usize>,
    producer: Option<usize>,
    date: Option<usize>,
    fraction: Option<usize>,
    offset: Option<usize>,
    /// Groups read minus one trailing space.
    trimmed: Vec<usize>,
    /// A line is a hit only if these groups end with the suffix after at least one character.
    suffixes: Vec<(usize, String)>,
}

enum Producer {
    Fixed(u16),
    By { map: HashMap<String, u16>, default: u16 },
}

/// Every format of one parse, compiled once; the producer names they can give, interned.
pub struct Formats {
    pub formats: Vec<Format>,
    pub producers: Vec<String>,
    levels: HashMap<String, u8>,
    /// Every pattern of every format at once: a line the likeliest format does not explain is
    /// scanned once to learn which formats could, instead of once per format.
    any: RegexSet,
    /// The format of each pattern of `any`.
    owner: Vec<usize>,
}

/// The parse's dates: the year a year-less stamp takes, and when the bundle was collected.
#[derive(Debug, Clone, Copy)]
pub struct Dates {
    pub year: i32,
    /// Set when the year was guessed from the collection time: a stamp after it steps back.
    pub collected_at: Option<Micros>,
}

/// What one chunk of a member hands the next: per year-less format, the last stamp read and the
/// years added so far; the formats whose stamps were moved back a year.
#[derive(Debug, Clone, Default)]
pub struct Carry {
    pub years: HashMap<String, (Option<Micros>, i64)>,
    pub stepped_back: HashSet<String>,
}

/// One line's reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub format: u16,
    pub wrapper: u16,
    pub vals: [Val; 7],
    pub level: u8,
    pub producer: Option<u16>,
    pub ts: Option<Micros>,
    pub offset: Option<i16>,
    pub continuation: Option<bool>,
    /// A year-less stamp naming Feb 29, read as Feb 28 until `roll_years` settles its year.
    leap_day: bool,
}

impl Row {
    fn unexplained() -> Row {
        Row {
            format: NONE,
            wrapper: NONE,
            vals: Default::default(),
            level: NO_LEVEL,
            producer: None,
            ts: None,
            offset: None,
            continuation: None,
            leap_day: false,
        }
    }
}

impl Formats {
    /// Compile every definition; `levels` maps each spelling of a level word to its rank.
    pub fn compile(defs: Vec<FormatDef>, levels: HashMap<String, u8>) -> Result<Formats, String> {
        let mut producers: Vec<String> = Vec::new();
        let mut intern = |name: &str| -> u16 {
            if let Some(i) = producers.iter().position(|p| p == name) {
                return i as u16;
            }
            producers.push(name.to_string());
            (producers.len() - 1) as u16
        };
        let mut formats = Vec::with_capacity(defs.len());
        for def in defs {
            let fail = |what: String| format!("{}: {what}", def.id);
            let mut patterns = Vec::with_capacity(2);
            if let Some((pattern, trimmed, suffixes)) = &def.one_pass {
                patterns.push(Pattern::compile(pattern, &def, trimmed, suffixes).map_err(fail)?);
            }
            patterns.push(Pattern::compile(&def.capture, &def, &[], &[]).map_err(fail)?);
            let producer = match &def.producer_by {
                None => Producer::Fixed(intern(&def.producer)),
                Some((_, map, default)) => Producer::By {
                    map: map.iter().map(|(k, v)| (k.clone(), intern(v))).collect(),
                    default: intern(default),
                },
            };
            let wraps_component = match &def.wraps_component {
                None => None,
                Some(p) => Some(Regex::new(p).map_err(|e| fail(e.to_string()))?),
            };
            formats.push(Format {
                patterns,
                producer,
                continuation: def.continuation,
                stamp: def.stamp.as_ref().map(|(rule, ..)| rule.clone().prepared()),
                wraps: def.wraps,
                wraps_component,
                id: def.id,
            });
        }
        let owner: Vec<usize> = formats
            .iter()
            .enumerate()
            .flat_map(|(i, f)| f.patterns.iter().map(move |_| i))
            .collect();
        let any = RegexSet::new(formats.iter().flat_map(|f| f.patterns.iter().map(|p| p.regex.as_str())))
            .map_err(|e| e.to_string())?;
        Ok(Formats {
            formats,
            producers,
            levels,
            any,
            owner,
        })
    }

    /// The reading of every line (None: a line that carries nothing, explained by no format).
    pub fn match_lines(&self, lines: &[Option<&str>], dates: Dates, mut carry: Option<&mut Carry>) -> Vec<Row> {
        let mut rows = self.match_plain(lines, dates, carry.as_deref_mut(), true);
        let any_wrapper = self.formats.iter().any(|f| f.wraps || f.wraps_component.is_some());
        if any_wrapper {
            self.unwrap(lines, &mut rows, dates, carry);
        }
        rows
    }

    /// The reading of the lines of several members one after the other (`members`: how many
    /// lines each holds, and its dates), each read as a file of its own: formats tried in the
    /// order its own sample suggests, year roll-overs within it only. A count past the end of
    /// `lines` stops at the end.
    pub fn match_members(&self, lines: &[Option<&str>], members: &[(usize, Dates)]) -> Vec<Row> {
        let mut rows = Vec::with_capacity(lines.len());
        let mut start: usize = 0;
        for &(count, dates) in members {
            let end = start.saturating_add(count).min(lines.len());
            rows.extend(self.match_lines(&lines[start..end], dates, None));
            start = end;
        }
        rows
    }

    fn match_plain(&self, lines: &[Option<&str>], dates: Dates, carry: Option<&mut Carry>, wrappers: bool) -> Vec<Row> {
        let candidates: Vec<usize> = (0..self.formats.len())
            .filter(|&i| wrappers || !self.formats[i].wraps)
            .collect();
        let (ordered, seen) = self.order_by_sample(lines, &candidates);
        let mut rows = self.rows_of(lines, &ordered, seen, dates);
        self.roll_years(&mut rows, &ordered, dates, carry);
        rows
    }

    /// Formats whose pattern matches a line of the sample first (each list keeps its order), and
    /// how many of them the sample saw.
    fn order_by_sample(&self, lines: &[Option<&str>], candidates: &[usize]) -> (Vec<usize>, usize) {
        let n = lines.len();
        let mut sample: Vec<&str> = lines.iter().take(SAMPLE_LINES).flatten().copied().collect();
        if n > 2 * SAMPLE_LINES {
            let middle = n / 2;
            sample.extend(
                lines[middle..(middle + SAMPLE_LINES / 2).min(n)]
                    .iter()
                    .flatten()
                    .copied(),
            );
            sample.extend(lines[n - SAMPLE_LINES / 2..].iter().flatten().copied());
        }
        let seen: Vec<bool> = candidates
            .iter()
            .map(|&i| sample.iter().any(|line| self.formats[i].written().regex.is_match(line)))
            .collect();
        let mut ordered: Vec<usize> = candidates
            .iter()
            .zip(&seen)
            .filter(|(_, s)| **s)
            .map(|(i, _)| *i)
            .collect();
        let sampled = ordered.len();
        ordered.extend(candidates.iter().zip(&seen).filter(|(_, s)| !**s).map(|(i, _)| *i));
        (ordered, sampled)
    }

    /// Each line's row; a long list is read on two threads (the GIL is released meanwhile).
    /// `ordered[..sampled]` are the formats the sample saw.
    fn rows_of(&self, lines: &[Option<&str>], ordered: &[usize], sampled: usize, dates: Dates) -> Vec<Row> {
        const PARALLEL_FROM: usize = 16_384;
        if lines.len() < PARALLEL_FROM {
            return self.rows_of_part(lines, ordered, sampled, dates);
        }
        let (first, second) = lines.split_at(lines.len() / 2);
        std::thread::scope(|scope| {
            let later = scope.spawn(|| self.rows_of_part(second, ordered, sampled, dates));
            let mut rows = self.rows_of_part(first, ordered, sampled, dates);
            rows.extend(later.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            rows
        })
    }

    /// Each line is tried against the formats the sample saw, in order (a member holds few, and a
    /// format that does not explain a line fails within its first bytes); only a line none of them
    /// explains is scanned once by the set of every pattern, to learn which other formats could.
    /// The first format in `ordered` that reads the line wins either way.
    fn rows_of_part(&self, lines: &[Option<&str>], ordered: &[usize], sampled: usize, dates: Dates) -> Vec<Row> {
        // this thread's own copy of each regex: a clone has its own pool of search caches, so the
        // threads matching the halves of the lines never wait on one another's
        let mut searchers: Vec<Vec<Searcher>> = self
            .formats
            .iter()
            .map(|f| {
                f.patterns
                    .iter()
                    .map(|p| (p.regex.clone(), p.regex.capture_locations()))
                    .collect()
            })
            .collect();
        let any = self.any.clone();
        let mut could = vec![false; self.formats.len()];
        lines
            .iter()
            .map(|line| {
                let (Some(line), false) = (line, ordered.is_empty()) else {
                    return Row::unexplained();
                };
                // the likeliest format is tried directly even when the sample saw none
                let (seen, others) = ordered.split_at(sampled.max(1));
                if let Some(row) = seen.iter().find_map(|&i| self.read(i, line, &mut searchers[i], dates)) {
                    return row;
                }
                could.fill(false);
                for pattern in any.matches(line).iter() {
                    could[self.owner[pattern]] = true;
                }
                others
                    .iter()
                    .filter(|&&i| could[i])
                    .find_map(|&i| self.read(i, line, &mut searchers[i], dates))
                    .unwrap_or_else(Row::unexplained)
            })
            .collect()
    }

    /// The row of `line` if format `i` explains it (its one-pass form first, where it has one).
    fn read(&self, i: usize, line: &str, searchers: &mut [Searcher], dates: Dates) -> Option<Row> {
        let f = &self.formats[i];
        f.patterns
            .iter()
            .zip(searchers.iter_mut())
            .find_map(|(pattern, searcher)| self.read_with(i, f, pattern, line, searcher, dates))
    }

    fn read_with(
        &self,
        i: usize,
        f: &Format,
        p: &Pattern,
        line: &str,
        (regex, locs): &mut Searcher,
        dates: Dates,
    ) -> Option<Row> {
        regex.captures_read(locs, line)?;
        let at = |g: usize| -> Option<(usize, usize)> {
            let (a, b) = locs.get(g)?;
            let trim = p.trimmed.contains(&g) && b > a && line.as_bytes()[b - 1] == b' ';
            Some((a, if trim { b - 1 } else { b }))
        };
        let span = |g: usize| at(g).map_or(Val::Null, |(a, b)| Val::Span(a as u32, b as u32));
        let text = |g: usize| at(g).map(|(a, b)| &line[a..b]);
        let message = match (p.head, p.message) {
            (Some(h), _) => match locs.get(h) {
                Some((_, end)) => Val::Span(end as u32, line.len() as u32),
                None => Val::Null,
            },
            (None, Some(m)) => span(m),
            (None, None) => Val::Null,
        };
        if message.is_null() {
            return None;
        }
        let suffixed = |(g, suffix): &(usize, String)| {
            text(*g).is_some_and(|v| v.len() > suffix.len() && v.ends_with(suffix.as_str()))
        };
        if !p.suffixes.iter().all(suffixed) {
            return None;
        }
        let mut row = Row::unexplained();
        row.format = i as u16;
        row.continuation = Some(f.continuation);
        for (slot, field) in p.fields.iter().enumerate() {
            row.vals[slot] = match field {
                Some(Field::Template(pieces)) => Val::Owned(Box::new(
                    pieces
                        .iter()
                        .map(|(lit, g)| lit.as_deref().unwrap_or_else(|| g.and_then(text).unwrap_or("")))
                        .collect::<String>(),
                )),
                _ if slot == MESSAGE => message.clone(),
                Some(Field::Group(g)) => span(*g),
                None => Val::Null,
            };
        }
        match p.level {
            Some(g) => {
                row.vals[LEVEL_RAW] = span(g);
                row.level = text(g).and_then(|w| self.levels.get(w)).copied().unwrap_or(NO_LEVEL);
            }
            None => row.level = self.levels.get("info").copied().unwrap_or(NO_LEVEL),
        }
        row.producer = Some(match &f.producer {
            Producer::Fixed(id) => *id,
            Producer::By { map, default } => p
                .producer
                .and_then(text)
                .and_then(|v| map.get(v))
                .copied()
                .unwrap_or(*default),
        });
        if let Some(rule) = &f.stamp {
            let (date, fraction) = (p.date.and_then(text), p.fraction.and_then(text));
            (row.ts, row.leap_day) = match date {
                Some(d) if rule.yearless() => rule.yearless_local(d, fraction, dates.year),
                Some(d) => (rule.local(d, fraction, dates.year), false),
                None => (None, false),
            };
            row.offset = match p.offset {
                Some(g) => text(g).and_then(offset_minutes),
                None if rule.utc() => Some(0),
                None => None,
            };
        }
        Some(row)
    }

    /// Year-less formats: a year added at each Dec -> Jan roll-over, a year back when the guess
    /// lands well after the collection; both carried on from the chunk before.
    fn roll_years(&self, rows: &mut [Row], ordered: &[usize], dates: Dates, mut carry: Option<&mut Carry>) {
        for &i in ordered {
            let f = &self.formats[i];
            if !f.stamp.as_ref().is_some_and(|s| s.yearless()) {
                continue;
            }
            let members: Vec<usize> = (0..rows.len()).filter(|&r| rows[r].format == i as u16).collect();
            if members.is_empty() {
                continue;
            }
            let carried = carry.as_ref().and_then(|c| c.years.get(&f.id)).copied();
            let (before, years) = carried.unwrap_or((None, 0));
            let mut previous = before;
            let mut back = 0i64;
            let mut backs = Vec::with_capacity(members.len());
            for &r in &members {
                let ts = rows[r].ts;
                if let (Some(t), Some(p)) = (ts, previous) {
                    if t - p < -NEW_YEAR_JUMP {
                        back += 1;
                    }
                }
                previous = ts;
                backs.push(back);
            }
            if let Some(c) = carry.as_deref_mut() {
                c.years
                    .insert(f.id.clone(), (rows[*members.last().unwrap_or(&0)].ts, years + back));
            }
            for (&r, b) in members.iter().zip(&backs) {
                rows[r].ts = rows[r].ts.and_then(|t| add_years(t, b + years));
            }
            if let Some(collected) = dates.collected_at {
                // a member is read in chunks (a streamed one as it arrives): its first stamp decides
                // in its first chunk, as it would for the whole; its last only when it is whole
                let first = members.iter().find_map(|&r| rows[r].ts).filter(|_| carried.is_none());
                let last = members.iter().filter_map(|&r| rows[r].ts).max();
                let late = first.is_some_and(|t| t > collected + FIRST_STAMP_SLACK)
                    || last.is_some_and(|l| l > collected + FUTURE_SLACK);
                let stepped = carry.as_ref().is_some_and(|c| c.stepped_back.contains(&f.id));
                if late || stepped {
                    for &r in &members {
                        rows[r].ts = rows[r].ts.and_then(|t| add_years(t, -1));
                    }
                    if let Some(c) = carry.as_deref_mut() {
                        c.stepped_back.insert(f.id.clone());
                    }
                }
            }
            for &r in &members {
                if rows[r].leap_day {
                    rows[r].ts = rows[r].ts.and_then(settle_leap_day);
                }
            }
        }
    }

    /// Wrapper lines that carry a whole line of another format take its fields.
    fn unwrap(&self, lines: &[Option<&str>], rows: &mut [Row], dates: Dates, carry: Option<&mut Carry>) {
        let carries = |row: &Row, line: &str| -> bool {
            let Some(f) = self.formats.get(row.format as usize) else {
                return false;
            };
            f.wraps
                || f.wraps_component
                    .as_ref()
                    .is_some_and(|re| row.vals[COMPONENT].text(line).is_some_and(|c| re.is_match(c)))
        };
        let carried: Vec<Option<&str>> = lines
            .iter()
            .zip(rows.iter())
            .map(|(line, row)| line.filter(|l| carries(row, l)).and_then(|l| row.vals[MESSAGE].text(l)))
            .collect();
        if carried.iter().all(Option::is_none) {
            return;
        }
        let inner = self.match_plain(&carried, dates, carry, false);
        if inner.iter().all(|r| r.format == NONE) {
            return;
        }
        for ((row, found), line) in rows.iter_mut().zip(inner).zip(lines) {
            if found.format == NONE {
                continue;
            }
            let line = line.unwrap_or_default();
            let outer_message = row.vals[MESSAGE].clone();
            let [host, pid, thread, component, message, _, level_raw] =
                found.vals.map(|v| v.within(&outer_message, line));
            if found.ts.is_some() {
                row.ts = found.ts;
                row.offset = found.offset;
            }
            row.level = found.level;
            row.vals[LEVEL_RAW] = level_raw;
            row.vals[MESSAGE] = message;
            row.producer = found.producer;
            for (slot, value) in [(PID, pid), (THREAD, thread), (COMPONENT, component)] {
                if !value.is_null() {
                    row.vals[slot] = value;
                }
            }
            if row.vals[HOST].is_null() {
                row.vals[HOST] = host;
            }
            row.wrapper = row.format;
            row.format = found.format;
        }
    }
}

impl Format {
    /// The capture as the header writes it (the sampler tries formats with it).
    fn written(&self) -> &Pattern {
        self.patterns.last().expect("a format has its capture")
    }
}

impl Pattern {
    fn compile(
        pattern: &str,
        def: &FormatDef,
        trimmed: &[String],
        suffixes: &[(String, String)],
    ) -> Result<Pattern, String> {
        let regex = Regex::new(pattern).map_err(|e| e.to_string())?;
        let group = |name: &str| regex.capture_names().position(|n| n == Some(name));
        let fields: [Option<Field>; 6] = std::array::from_fn(|i| {
            let name = TEXT_FIELDS[i];
            match def.compose.get(name) {
                Some(pieces) => Some(Field::Template(
                    pieces
                        .iter()
                        .map(|p| match p {
                            Piece::Lit(s) => (Some(s.clone()), None),
                            Piece::Group(g) => (None, group(g)),
                        })
                        .collect(),
                )),
                None => group(name).map(Field::Group),
            }
        });
        let (date, fraction, offset) = match &def.stamp {
            None => (None, None, None),
            Some((_, date, fraction, offset)) => (
                Some(group(date).ok_or_else(|| format!("stamp group {date} not captured"))?),
                fraction.as_deref().and_then(group),
                offset.as_deref().and_then(group),
            ),
        };
        let producer = match &def.producer_by {
            None => None,
            Some((g, ..)) => Some(group(g).ok_or_else(|| format!("producer_by group {g} not captured"))?),
        };
        Ok(Pattern {
            head: group("_head"),
            message: group("message"),
            level: group("level"),
            fields,
            producer,
            date,
            fraction,
            offset,
            trimmed: trimmed.iter().filter_map(|g| group(g)).collect(),
            suffixes: suffixes
                .iter()
                .filter_map(|(g, s)| group(g).map(|i| (i, s.clone())))
                .collect(),
            regex,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels() -> HashMap<String, u8> {
        ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            .iter()
            .enumerate()
            .map(|(r, l)| (l.to_string(), r as u8))
            .collect()
    }

    fn def(id: &str, capture: &str) -> FormatDef {
        FormatDef {
            id: id.into(),
            producer: id.into(),
            capture: capture.into(),
            compose: HashMap::new(),
            continuation: true,
            one_pass: None,
            stamp: None,
            producer_by: None,
            wraps: false,
            wraps_component: None,
        }
    }

    fn rule(pattern: &str, yearless: bool) -> StampRule {
        StampRule {
            patterns: vec![pattern.into()],
            fraction_unit: None,
            yearless,
            utc: false,
        }
    }

    fn syslog() -> FormatDef {
        let rule = rule("%b %d %H:%M:%S", true);
        FormatDef {
            stamp: Some((rule, "date".into(), None, None)),
            wraps: true,
            producer_by: Some((
                "service".into(),
                HashMap::from([("kernel".into(), "kernel".into())]),
                "journal".into(),
            )),
            ..def(
                "syslog",
                r"^(?P<_head>(?P<date>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8}) (?P<host>\S+) (?P<service>[^:\[]+)(?:\[(?P<pid>[0-9]+)\])?: )",
            )
        }
    }

    fn app() -> FormatDef {
        let rule = rule("%Y-%m-%d %H:%M:%S", false);
        FormatDef {
            stamp: Some((rule, "date".into(), None, Some("tz".into()))),
            ..def(
                "app",
                r"^(?P<_head>(?P<date>[0-9-]{10} [0-9:]{8}) (?P<tz>[+-][0-9]{4}) (?P<level>\w+) - )",
            )
        }
    }

    const IN_2017: Dates = Dates {
        year: 2017,
        collected_at: None,
    };

    fn lines<'a>(texts: &'a [&'a str]) -> Vec<Option<&'a str>> {
        texts.iter().map(|t| Some(*t)).collect()
    }

    #[test]
    fn the_first_format_that_matches_wins_and_fields_are_spans_of_the_line() {
        let formats = Formats::compile(
            vec![def("a", r"^a (?P<message>.*)$"), def("any", r"^(?P<message>.*)$")],
            levels(),
        )
        .unwrap();
        let texts = ["a one", "b two"];
        let rows = formats.match_lines(&lines(&texts), IN_2017, None);
        assert_eq!(rows.iter().map(|r| r.format).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(rows[0].vals[MESSAGE], Val::Span(2, 5));
        assert_eq!(rows[1].vals[MESSAGE].text(texts[1]), Some("b two"));
    }

    #[test]
    fn a_wrapper_line_takes_the_time_level_and_message_of_the_line_it_carries() {
        let formats = Formats::compile(vec![syslog(), app()], levels()).unwrap();
        let texts = [
            "Mar 14 10:22:05 n1 svc[7]: 2017-03-14 10:22:05 +0100 error - boom",
            "Mar 14 10:22:06 n1 kernel: plain",
        ];
        let rows = formats.match_lines(&lines(&texts), IN_2017, None);
        assert_eq!((rows[0].format, rows[0].wrapper), (1, 0));
        assert_eq!(rows[0].vals[MESSAGE].text(texts[0]), Some("boom"));
        assert_eq!((rows[0].level, rows[0].offset), (5, Some(60)));
        assert_eq!(rows[0].vals[PID].text(texts[0]), Some("7"));
        assert_eq!((rows[1].format, rows[1].wrapper), (0, NONE));
        assert_eq!(formats.producers[rows[1].producer.unwrap() as usize], "kernel");
    }

    #[test]
    fn a_yearless_stamp_rolls_over_at_new_year_and_steps_back_after_the_collection() {
        let formats = Formats::compile(vec![syslog()], levels()).unwrap();
        let texts = ["Dec 31 23:59:58 n1 a: x", "Jan  1 00:00:02 n1 a: y"];
        let dates = collected(2017, 1, 2);
        let mut carry = Carry::default();
        let rows = formats.match_lines(&lines(&texts), dates, Some(&mut carry));
        let year = |r: &Row| {
            chrono::DateTime::from_timestamp_micros(r.ts.unwrap())
                .unwrap()
                .format("%Y")
                .to_string()
        };
        assert_eq!((year(&rows[0]), year(&rows[1])), ("2016".into(), "2017".into()));
        assert!(carry.stepped_back.contains("syslog"));
    }

    /// The `%Y-%m-%d %H:%M:%S` of every row's time, or "-" for an untimed one.
    fn stamps_of(rows: &[Row]) -> Vec<String> {
        rows.iter()
            .map(|r| {
                r.ts.and_then(chrono::DateTime::from_timestamp_micros)
                    .map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            })
            .collect()
    }

    fn collected(year: i32, month: u32, day: u32) -> Dates {
        let at = chrono::NaiveDate::from_ymd_opt(year, month, day)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        Dates {
            year,
            collected_at: Some(at.and_utc().timestamp_micros()),
        }
    }

    /// The stamps of syslog lines read whole, and again in two chunks cut before line `cut` with the
    /// carry handed over: a chunked member must read as the whole does.
    fn syslog_stamps(texts: &[&str], dates: Dates, cut: usize) -> [Vec<String>; 2] {
        let formats = Formats::compile(vec![syslog()], levels()).unwrap();
        let whole = formats.match_lines(&lines(texts), dates, None);
        let mut carry = Carry::default();
        let mut chunked = formats.match_lines(&lines(&texts[..cut]), dates, Some(&mut carry));
        chunked.extend(formats.match_lines(&lines(&texts[cut..]), dates, Some(&mut carry)));
        [stamps_of(&whole), stamps_of(&chunked)]
    }

    #[test]
    fn a_leap_day_keeps_its_time_when_the_guessed_year_has_none() {
        // collected in January 2025 (a common year, the guess): the log is 2024's, Feb 29 and all
        let texts = [
            "Feb 28 23:00:00 n1 a: x",
            "Feb 29 12:00:00 n1 a: y",
            "Mar  1 01:00:00 n1 a: z",
            "Dec 31 22:00:00 n1 a: v",
            "Jan  2 03:00:00 n1 a: w",
        ];
        let expected = [
            "2024-02-28 23:00:00",
            "2024-02-29 12:00:00",
            "2024-03-01 01:00:00",
            "2024-12-31 22:00:00",
            "2025-01-02 03:00:00",
        ];
        assert_eq!(syslog_stamps(&texts, collected(2025, 1, 15), 2), [expected, expected]);
    }

    #[test]
    fn a_leap_day_after_a_roll_over_lands_on_the_29th_once_the_year_steps_back() {
        // collected in March 2024 (the guess, a leap year): the roll-over first puts Feb 29 in 2025,
        // the step back after the collection returns it to 2024, still on the 29th
        let texts = [
            "Dec 30 23:00:00 n1 a: x",
            "Jan  1 00:00:01 n1 a: y",
            "Feb 29 12:00:00 n1 a: z",
        ];
        let expected = ["2023-12-30 23:00:00", "2024-01-01 00:00:01", "2024-02-29 12:00:00"];
        assert_eq!(syslog_stamps(&texts, collected(2024, 3, 5), 2), [expected, expected]);
    }

    #[test]
    fn a_leap_day_whose_year_settles_on_a_common_one_is_untimed_not_moved_to_the_28th() {
        let texts = ["Feb 29 12:00:00 n1 a: y", "Mar  1 01:00:00 n1 a: z"];
        let expected = ["-", "2025-03-01 01:00:00"];
        assert_eq!(syslog_stamps(&texts, collected(2025, 6, 1), 1), [expected, expected]);
    }

    #[test]
    fn a_member_whose_first_stamp_is_after_the_collection_steps_back_from_its_first_chunk() {
        // collected on Jan 15: February's lines were written the year before, which the first chunk
        // must know without the New Year further on
        let texts = [
            "Feb  1 10:00:00 n1 a: x",
            "Dec 31 10:00:00 n1 a: y",
            "Jan  2 10:00:00 n1 a: z",
        ];
        let expected = ["2024-02-01 10:00:00", "2024-12-31 10:00:00", "2025-01-02 10:00:00"];
        assert_eq!(syslog_stamps(&texts, collected(2025, 1, 15), 1), [expected, expected]);
    }

    #[test]
    fn a_line_takes_the_first_format_in_sampled_then_priority_order_that_reads_it() {
        // the member's sample shows "x" and "y" lines only: "z", first by priority, comes after them
        let formats = Formats::compile(
            vec![
                def("z", r"^(?P<message>.*z.*)$"),
                def("x", r"^x (?P<message>.*)$"),
                def("y", r"^y?[xy] (?P<message>.*)$"),
            ],
            levels(),
        )
        .unwrap();
        let mut texts: Vec<String> = (0..SAMPLE_LINES)
            .map(|i| format!("{} line {i}", ["x", "y"][i % 2]))
            .collect();
        texts.extend(["x and z", "yx and z", "y alone", "z alone", "none"].map(String::from));
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let rows = formats.match_lines(&lines(&refs), IN_2017, None);
        let tail: Vec<u16> = rows[SAMPLE_LINES..].iter().map(|r| r.format).collect();
        assert_eq!(tail, vec![1, 2, 2, 0, NONE]);
        // every line, whichever way it was found, is read by the first of x, y, z that explains it
        for (row, text) in rows.iter().zip(&refs) {
            let first = [1usize, 2, 0]
                .into_iter()
                .find(|&i| formats.formats[i].written().regex.is_match(text));
            assert_eq!(row.format, first.map_or(NONE, |i| i as u16), "{text:?}");
        }
    }

    #[test]
    fn a_line_value_takes_sixteen_bytes() {
        // a chunk's rows hold seven per line: 8 bytes more each were 56 more a line
        assert_eq!(std::mem::size_of::<Val>(), 16);
    }

    #[test]
    fn members_read_together_read_as_each_alone() {
        let formats = Formats::compile(vec![syslog(), app()], levels()).unwrap();
        let first = ["Dec 31 23:59:58 n1 a: x", "Jan  1 00:00:02 n1 a: y"];
        let second = ["Dec 30 10:00:00 n1 b: z", "2017-03-14 10:22:05 +0100 error - boom"];
        let in_2016 = Dates {
            year: 2016,
            collected_at: None,
        };
        let together: Vec<&str> = first.iter().chain(&second).copied().collect();
        let rows = formats.match_members(&lines(&together), &[(2, IN_2017), (2, in_2016)]);
        let alone: Vec<Row> = [(&first, IN_2017), (&second, in_2016)]
            .iter()
            .flat_map(|(texts, dates)| formats.match_lines(&lines(&texts[..]), *dates, None))
            .collect();
        let seen = |rows: &[Row]| rows.iter().map(|r| (r.format, r.ts, r.offset)).collect::<Vec<_>>();
        assert_eq!(seen(&rows), seen(&alone));
        let year = chrono::DateTime::from_timestamp_micros(rows[2].ts.unwrap())
            .unwrap()
            .format("%Y")
            .to_string();
        assert_eq!(
            year, "2016",
            "the second member's December is in its own year, not after the first's January"
        );
    }
}
