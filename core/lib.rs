//! `analyzer._core`: the compiled half of ovs-analyzer (a PyO3 extension module).

use pyo3::prelude::*;

#[pymodule]
mod _core {
    use pyo3::prelude::*;

    /// The version of this crate (Cargo.toml's `package.version`), compiled in.
    ///
    /// The Python side reports it beside its own (`ovs-analyzer version`), so a bug report
    /// says which build of the compiled core it ran on.
    #[pyfunction]
    fn version() -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
}
