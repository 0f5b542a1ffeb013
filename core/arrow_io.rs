//! Arrow in and out: the lines arrive from Polars through the Arrow C stream interface, and the
//! fields leave the same way, as string views into the very buffers the lines came in (a field
//! is a span of its line, so no text is copied but what a format composes).

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Int16Builder, StringViewBuilder, TimestampMicrosecondBuilder};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, GenericStringArray, OffsetSizeTrait, RecordBatch, StringViewArray, UInt32Array};
use arrow_buffer::Buffer;
use arrow_schema::{ArrowError, DataType, Field, Schema};

use crate::matching::{NO_LEVEL, NONE, Row, TEXT_FIELDS, Val};

/// Where each line's bytes live, so a span of it can become a view without a copy.
enum Home {
    /// Offsets into one values buffer (Utf8, LargeUtf8).
    Offsets { block: Buffer, starts: Vec<usize> },
    /// Views: long lines point into data buffers, short ones are inline in their view.
    Views { array: StringViewArray },
}

/// A column of lines as they came from Polars (one array: the caller rechunks).
pub struct Lines {
    array: ArrayRef,
    home: Home,
}

impl Lines {
    pub fn new(array: ArrayRef) -> Result<Lines, ArrowError> {
        let home = match array.data_type() {
            DataType::Utf8View => Home::Views {
                array: array.as_string_view().clone(),
            },
            DataType::Utf8 => offsets_home(array.as_string::<i32>()),
            DataType::LargeUtf8 => offsets_home(array.as_string::<i64>()),
            other => {
                return Err(ArrowError::InvalidArgumentError(format!(
                    "lines must be strings, not {other}"
                )));
            }
        };
        Ok(Lines { array, home })
    }

    pub fn len(&self) -> usize {
        self.array.len()
    }

    pub fn get(&self, i: usize) -> Option<&str> {
        if self.array.is_null(i) {
            return None;
        }
        Some(match &self.home {
            Home::Views { array } => array.value(i),
            Home::Offsets { .. } => match self.array.data_type() {
                DataType::Utf8 => self.array.as_string::<i32>().value(i),
                _ => self.array.as_string::<i64>().value(i),
            },
        })
    }
}

/// The lines of a Utf8 or LargeUtf8 array: one values buffer, a start offset per line.
fn offsets_home<O: OffsetSizeTrait>(array: &GenericStringArray<O>) -> Home {
    Home::Offsets {
        block: array.values().clone(),
        starts: array.value_offsets().iter().map(|o| o.as_usize()).collect(),
    }
}

/// A string-view column whose values are spans of the lines or texts of their own.
///
/// Only a column of long values (the message) points into the lines' buffers: an array holds
/// every buffer it was given, so a column of short fields (a host, a pid) that did would keep a
/// whole chunk of text alive in any small frame filtered from it. Short fields are copied.
struct ViewColumn<'a> {
    builder: StringViewBuilder,
    lines: &'a Lines,
    /// The lines' buffers as blocks of this column, when its values point into them.
    blocks: Option<Vec<u32>>,
}

impl<'a> ViewColumn<'a> {
    fn new(lines: &'a Lines, capacity: usize, points_into_lines: bool) -> ViewColumn<'a> {
        let mut builder = StringViewBuilder::with_capacity(capacity);
        let blocks = points_into_lines.then(|| match &lines.home {
            Home::Offsets { block, .. } => vec![builder.append_block(block.clone())],
            Home::Views { array } => array
                .data_buffers()
                .iter()
                .map(|b| builder.append_block(b.clone()))
                .collect(),
        });
        ViewColumn { builder, lines, blocks }
    }

    fn push(&mut self, row: usize, value: &Val) -> Result<(), ArrowError> {
        let (a, b) = match value {
            Val::Span(a, b) => (*a, *b),
            Val::Null => {
                self.builder.append_null();
                return Ok(());
            }
            Val::Owned(text) => {
                self.builder.append_value(text.as_str());
                return Ok(());
            }
        };
        let Some(blocks) = &self.blocks else {
            let line = self.lines.get(row).unwrap_or_default();
            self.builder
                .append_value(line.get(a as usize..b as usize).unwrap_or_default());
            return Ok(());
        };
        match &self.lines.home {
            Home::Offsets { starts, .. } => {
                let start = u32::try_from(starts[row]).map_err(|_| too_large())?;
                self.builder.try_append_view(blocks[0], start + a, b - a)
            }
            Home::Views { array } => {
                let view = array.views()[row];
                if view as u32 <= 12 {
                    let line = array.value(row);
                    self.builder
                        .append_value(line.get(a as usize..b as usize).unwrap_or_default());
                    Ok(())
                } else {
                    let buffer = (view >> 64) as u32;
                    let offset = (view >> 96) as u32;
                    self.builder.try_append_view(blocks[buffer as usize], offset + a, b - a)
                }
            }
        }
    }

    fn finish(mut self) -> ArrayRef {
        Arc::new(self.builder.finish())
    }
}

fn too_large() -> ArrowError {
    ArrowError::InvalidArgumentError("a chunk of lines over 4 GiB".into())
}

/// The table of header fields, one row per line, in line order.
pub fn fields_batch<'a>(
    lines: &Lines,
    rows: &[Row],
    formats: &'a [String],
    producers: &'a [String],
    levels: &[String],
) -> Result<RecordBatch, ArrowError> {
    let n = rows.len();
    let mut texts: Vec<ViewColumn> = TEXT_FIELDS
        .iter()
        .map(|f| ViewColumn::new(lines, n, *f == "message"))
        .collect();
    let mut level = StringViewBuilder::with_capacity(n);
    let mut producer = StringViewBuilder::with_capacity(n);
    let mut format = StringViewBuilder::with_capacity(n);
    let mut wrapper = StringViewBuilder::with_capacity(n);
    let mut multiline = BooleanBuilder::with_capacity(n);
    let mut ts = TimestampMicrosecondBuilder::with_capacity(n);
    let mut offset = Int16Builder::with_capacity(n);
    // names are borrowed, not cloned: a String per row and column was a malloc and a free each
    let name = |names: &'a [String], i: u16| names.get(i as usize).map(String::as_str);
    for (i, row) in rows.iter().enumerate() {
        for (column, value) in texts.iter_mut().zip(&row.vals) {
            column.push(i, value)?;
        }
        level.append_option(if row.level == NO_LEVEL {
            None
        } else {
            levels.get(row.level as usize).map(String::as_str)
        });
        producer.append_option(row.producer.and_then(|p| name(producers, p)));
        format.append_option(if row.format == NONE {
            None
        } else {
            name(formats, row.format)
        });
        wrapper.append_option(if row.wrapper == NONE {
            None
        } else {
            name(formats, row.wrapper)
        });
        multiline.append_option(row.continuation);
        ts.append_option(row.ts);
        offset.append_option(row.offset);
    }
    let mut columns: Vec<(&str, ArrayRef)> = vec![("idx", Arc::new(UInt32Array::from_iter_values(0..n as u32)))];
    for (field, column) in TEXT_FIELDS.iter().zip(texts) {
        columns.push((field, column.finish()));
    }
    columns.push(("level", Arc::new(level.finish())));
    columns.push(("producer", Arc::new(producer.finish())));
    columns.push(("format", Arc::new(format.finish())));
    columns.push(("wrapper", Arc::new(wrapper.finish())));
    columns.push(("multiline", Arc::new(multiline.finish())));
    columns.push(("ts_local", Arc::new(ts.finish())));
    columns.push(("utc_offset", Arc::new(offset.finish())));
    let schema = Schema::new(
        columns
            .iter()
            .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(Arc::new(schema), columns.into_iter().map(|(_, a)| a).collect())
}
