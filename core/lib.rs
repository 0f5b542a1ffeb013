//! `analyzer._core`: the compiled half of ovs-analyzer (a PyO3 extension module).
//!
//! It does the work that touches every line: matching the lines of a member against the log
//! formats of `parsers/*.yaml` and reading their header fields. Python hands it the lines and
//! the compiled-format definitions and gets a table back, both through the Arrow C stream
//! interface; the GIL is released while it works, so the analysis lane runs beside it.

#[cfg(feature = "python")]
mod arrow_io;
pub mod matching;
pub mod stamps;

#[cfg(feature = "python")]
use pyo3::prelude::*;

#[cfg(feature = "python")]
#[pymodule]
mod _core {
    use std::collections::{HashMap, HashSet};
    use std::time::Instant;

    use arrow_array::RecordBatchIterator;
    use arrow_array::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
    use pyo3::exceptions::{PyRuntimeError, PyValueError};
    use pyo3::prelude::*;
    use pyo3::types::{PyCapsule, PyDict};

    use crate::arrow_io::{Lines, fields_batch};
    use crate::matching::{Carry, Dates, FormatDef, Formats, Piece};
    use crate::stamps::StampRule;

    #[pymodule_init]
    fn init(module: &Bound<'_, PyModule>) -> PyResult<()> {
        module.add("SAMPLE_LINES", crate::matching::SAMPLE_LINES)?;
        module.add("NEW_YEAR_JUMP_DAYS", crate::matching::NEW_YEAR_JUMP_DAYS)?;
        // This module's own PanicException type (every PyO3 module has one), so the CLI can list
        // it among internal errors; `match_lines` turns a panic into a RuntimeError first anyway.
        module.add("PanicException", module.py().get_type::<pyo3::panic::PanicException>())
    }

    /// The version of this crate (Cargo.toml's `package.version`), compiled in.
    ///
    /// The Python side reports it beside its own (`ovs-analyzer version`), so a bug report
    /// says which build of the compiled core it ran on.
    #[pyfunction]
    fn version() -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// Carry as Python holds it: per format id (last stamp in microseconds, years added), and
    /// the ids of the formats stepped back a year.
    type CarryState = (HashMap<String, (Option<i64>, i64)>, HashSet<String>);
    /// A composed field as Python describes it: (literal, group) pieces, one of the two set.
    type Template = Vec<(Option<String>, Option<String>)>;

    /// The formats of one parse, compiled once (`analyzer.parsing.matching` keeps one per list).
    #[pyclass(frozen)]
    struct Matcher {
        formats: Formats,
        ids: Vec<String>,
        levels: Vec<String>,
    }

    #[pymethods]
    impl Matcher {
        /// `defs`: one dict per format (see `analyzer.parsing.matching._definition`), in the
        /// order they are tried; `levels`: the level names, lowest first; `spellings`: each way
        /// a producer writes a level word, to its level name.
        #[new]
        fn new(
            defs: Vec<Bound<'_, PyDict>>,
            levels: Vec<String>,
            spellings: HashMap<String, String>,
        ) -> PyResult<Self> {
            let ranks: HashMap<String, u8> = spellings
                .into_iter()
                .filter_map(|(word, level)| levels.iter().position(|l| *l == level).map(|r| (word, r as u8)))
                .chain(levels.iter().enumerate().map(|(r, l)| (l.clone(), r as u8)))
                .collect();
            let defs = defs.iter().map(definition).collect::<PyResult<Vec<_>>>()?;
            let ids = defs.iter().map(|d| d.id.clone()).collect();
            let formats = Formats::compile(defs, ranks).map_err(PyValueError::new_err)?;
            Ok(Matcher { formats, ids, levels })
        }

        /// Read every line of `frame` (a one-column frame of strings: the lines of one or more
        /// members, one after the other) and return the Arrow stream capsule of the fields table,
        /// the carry after these lines, and the seconds spent building the table (the rest of the
        /// call matched the lines: `--timings` shows the two apart). `members`: each member's
        /// number of lines, year and collection time, in order (each is read as a file of its
        /// own); `carry`, what the chunk before handed on, is for one member only (a chunk of a
        /// large one).
        fn match_lines<'py>(
            &self,
            py: Python<'py>,
            frame: &Bound<'py, PyAny>,
            members: Vec<(usize, i32, Option<i64>)>,
            carry: Option<CarryState>,
        ) -> PyResult<(Bound<'py, PyCapsule>, Option<CarryState>, f64)> {
            let lines = import_lines(frame)?;
            if members.iter().map(|m| m.0).sum::<usize>() != lines.len() {
                return Err(PyValueError::new_err(
                    "the members' line counts must add up to the lines",
                ));
            }
            if carry.is_some() && members.len() != 1 {
                return Err(PyValueError::new_err("a carry goes with the lines of one member"));
            }
            let mut carry = carry.map(|(years, stepped_back)| Carry { years, stepped_back });
            let members: Vec<(usize, Dates)> = members
                .into_iter()
                .map(|(count, year, collected_at)| (count, Dates { year, collected_at }))
                .collect();
            // A panic is a bug of the core: it reaches Python as one RuntimeError, never unwinds into it.
            let batch = py.detach(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let texts: Vec<Option<&str>> = (0..lines.len()).map(|i| lines.get(i)).collect();
                    let rows = match (&members[..], carry.as_mut()) {
                        ([(_, dates)], carry) => self.formats.match_lines(&texts, *dates, carry),
                        (members, _) => self.formats.match_members(&texts, members),
                    };
                    let building = Instant::now();
                    let batch = fields_batch(&lines, &rows, &self.ids, &self.formats.producers, &self.levels);
                    drop(rows);
                    batch.map(|batch| (batch, building.elapsed().as_secs_f64()))
                }))
            });
            let (batch, building) = match batch {
                Ok(done) => done.map_err(|e| PyRuntimeError::new_err(e.to_string()))?,
                Err(panic) => {
                    return Err(PyRuntimeError::new_err(format!(
                        "compiled core: {}",
                        panic_text(&panic)
                    )));
                }
            };
            let schema = batch.schema();
            let stream = FFI_ArrowArrayStream::new(Box::new(RecordBatchIterator::new([Ok(batch)], schema)));
            let capsule = PyCapsule::new_with_value(py, stream, c"arrow_array_stream")?;
            Ok((capsule, carry.map(|c| (c.years, c.stepped_back)), building))
        }
    }

    fn panic_text(payload: &Box<dyn std::any::Any + Send>) -> String {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into())
    }

    /// The one string column of a Polars frame, through its Arrow C stream.
    fn import_lines(frame: &Bound<'_, PyAny>) -> PyResult<Lines> {
        let capsule = frame.call_method0("__arrow_c_stream__")?;
        let capsule = capsule.cast::<PyCapsule>()?;
        let pointer = capsule.pointer_checked(Some(c"arrow_array_stream"))?;
        // SAFETY: the capsule holds an FFI_ArrowArrayStream (the Arrow PyCapsule interface);
        // from_raw moves it out and leaves a released stream behind for the capsule to drop.
        let reader = unsafe { ArrowArrayStreamReader::from_raw(pointer.as_ptr().cast::<FFI_ArrowArrayStream>()) }
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let mut batches = reader
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        batches.retain(|b| b.num_rows() > 0);
        let array = match batches.len() {
            0 => arrow_array::new_empty_array(&arrow_schema::DataType::Utf8View),
            1 => batches[0].column(0).clone(),
            n => return Err(PyValueError::new_err(format!("the lines must be one chunk, not {n}"))),
        };
        Lines::new(array).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    fn item<'py, T: for<'a> FromPyObject<'a, 'py>>(dict: &Bound<'py, PyDict>, key: &str) -> PyResult<T> {
        match dict.get_item(key)? {
            Some(value) => value.extract::<T>().map_err(Into::into),
            None => Err(PyValueError::new_err(format!("format definition without {key:?}"))),
        }
    }

    fn definition(dict: &Bound<'_, PyDict>) -> PyResult<FormatDef> {
        let compose: HashMap<String, Template> = item(dict, "compose")?;
        let stamp: Option<Bound<'_, PyDict>> = item(dict, "stamp")?;
        let stamp = match stamp {
            None => None,
            Some(s) => Some((
                StampRule {
                    patterns: item(&s, "patterns")?,
                    fraction_unit: item(&s, "fraction_unit")?,
                    yearless: item(&s, "yearless")?,
                    utc: item(&s, "utc")?,
                },
                item(&s, "date")?,
                item(&s, "fraction")?,
                item(&s, "offset")?,
            )),
        };
        Ok(FormatDef {
            id: item(dict, "id")?,
            producer: item(dict, "producer")?,
            capture: item(dict, "capture")?,
            one_pass: item(dict, "one_pass")?,
            compose: compose
                .into_iter()
                .map(|(field, pieces)| {
                    let pieces = pieces
                        .into_iter()
                        .map(|(lit, group)| match group {
                            Some(g) => Piece::Group(g),
                            None => Piece::Lit(lit.unwrap_or_default()),
                        })
                        .collect();
                    (field, pieces)
                })
                .collect(),
            continuation: item(dict, "continuation")?,
            stamp,
            producer_by: item(dict, "producer_by")?,
            wraps: item(dict, "wraps")?,
            wraps_component: item(dict, "wraps_component")?,
        })
    }
}
