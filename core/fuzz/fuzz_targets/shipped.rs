#![allow(dead_code)] // shared by the targets, each of which uses a part
//! The shipped formats, as `analyzer.parsing.matching` describes them to the core
//! (`formats.json`, written by `export_formats.py`; a test keeps it in step with parsers/).

use std::collections::HashMap;

use _core::matching::{FormatDef, Formats, Piece};
use _core::stamps::StampRule;
use serde_json::Value;

pub fn formats() -> Formats {
    let doc: Value = serde_json::from_str(include_str!("../formats.json")).expect("formats.json");
    let levels: Vec<String> = strings(&doc["levels"]);
    let mut ranks: HashMap<String, u8> = levels.iter().enumerate().map(|(r, l)| (l.clone(), r as u8)).collect();
    for (word, level) in doc["spellings"].as_object().expect("spellings") {
        let rank = levels
            .iter()
            .position(|l| Some(l.as_str()) == level.as_str())
            .expect("level") as u8;
        ranks.insert(word.clone(), rank);
    }
    let defs = doc["formats"]
        .as_array()
        .expect("formats")
        .iter()
        .map(definition)
        .collect();
    Formats::compile(defs, ranks).expect("the shipped formats compile")
}

/// Every strftime pattern a shipped format uses, with whether it is year-less.
pub fn patterns() -> Vec<(String, bool)> {
    let doc: Value = serde_json::from_str(include_str!("../formats.json")).expect("formats.json");
    let mut found = Vec::new();
    for f in doc["formats"].as_array().expect("formats") {
        if let Some(stamp) = f["stamp"].as_object() {
            for p in strings(&stamp["patterns"]) {
                found.push((p, stamp["yearless"].as_bool().unwrap_or(false)));
            }
        }
    }
    found
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(String::from)
}

fn definition(f: &Value) -> FormatDef {
    let stamp = f["stamp"].as_object().map(|s| {
        (
            StampRule {
                patterns: strings(&s["patterns"]),
                fraction_unit: s["fraction_unit"].as_i64(),
                yearless: s["yearless"].as_bool().unwrap_or(false),
                utc: s["utc"].as_bool().unwrap_or(false),
            },
            text(&s["date"]).expect("date group"),
            text(&s["fraction"]),
            text(&s["offset"]),
        )
    });
    let compose = f["compose"]
        .as_object()
        .map(|c| {
            c.iter()
                .map(|(field, pieces)| {
                    let pieces = pieces
                        .as_array()
                        .expect("pieces")
                        .iter()
                        .map(|p| match text(&p[1]) {
                            Some(group) => Piece::Group(group),
                            None => Piece::Lit(text(&p[0]).unwrap_or_default()),
                        })
                        .collect();
                    (field.clone(), pieces)
                })
                .collect()
        })
        .unwrap_or_default();
    let producer_by = f["producer_by"].as_array().map(|by| {
        let map = by[1]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), text(v).unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        (text(&by[0]).expect("group"), map, text(&by[2]).expect("default"))
    });
    FormatDef {
        id: text(&f["id"]).expect("id"),
        producer: text(&f["producer"]).expect("producer"),
        capture: text(&f["capture"]).expect("capture"),
        one_pass: f["one_pass"].as_array().map(|fast| {
            let pairs = fast[2]
                .as_array()
                .map(|s| {
                    s.iter()
                        .map(|p| (text(&p[0]).unwrap_or_default(), text(&p[1]).unwrap_or_default()))
                        .collect()
                })
                .unwrap_or_default();
            (text(&fast[0]).expect("pattern"), strings(&fast[1]), pairs)
        }),
        compose,
        continuation: f["continuation"].as_bool().unwrap_or(true),
        stamp,
        producer_by,
        wraps: f["wraps"].as_bool().unwrap_or(false),
        wraps_component: text(&f["wraps_component"]),
    }
}
