//! `rtfs` for Python: a `Runtime` that evaluates RTFS source and calls RTFS functions,
//! values converted both ways, Python callables registered as RTFS functions and
//! capabilities, RTFS errors raised as `rtfs.RtfsError` (with `kind`, `message`,
//! `location`). The GIL is released while RTFS runs; a Python callback takes it back.

use std::sync::Mutex;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyOverflowError, PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PySet, PyString, PyTuple};

use rtfs_compiler::source::{FileId, Span};
use rtfs_core::{RtError, Value};

create_exception!(
    rtfs,
    RtfsError,
    PyException,
    "An RTFS error: `kind`, `message`, `location`."
);

/// An RTFS keyword (`:name`), distinct from strings on both sides.
#[pyclass(frozen, eq, hash, module = "rtfs")]
#[derive(Clone, PartialEq, Eq, Hash)]
struct Keyword {
    #[pyo3(get)]
    name: String,
}

#[pymethods]
impl Keyword {
    #[new]
    fn new(name: &str) -> Keyword {
        Keyword {
            name: name.strip_prefix(':').unwrap_or(name).to_string(),
        }
    }

    fn __repr__(&self) -> String {
        format!("Keyword({:?})", self.name)
    }

    fn __str__(&self) -> String {
        format!(":{}", self.name)
    }
}

/// An RTFS value Python has no type for (a function, an atom); it can be passed back.
#[pyclass(frozen, module = "rtfs")]
struct Opaque {
    value: Value,
}

#[pymethods]
impl Opaque {
    fn __repr__(&self) -> String {
        format!("<rtfs {}>", self.value.pr_str())
    }
}

fn to_py(py: Python<'_>, v: &Value) -> PyResult<Py<PyAny>> {
    Ok(match v {
        Value::Nil => py.None(),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        Value::Int(i) => i.into_pyobject(py)?.into_any().unbind(),
        Value::Float(f) => f.into_pyobject(py)?.into_any().unbind(),
        Value::Str(s)
        | Value::Symbol(s)
        | Value::Timestamp(s)
        | Value::Uuid(s)
        | Value::Resource(s) => PyString::new(py, s).into_any().unbind(),
        Value::Keyword(k) => Py::new(
            py,
            Keyword {
                name: k.to_string(),
            },
        )?
        .into_any(),
        Value::Vector(items) => {
            let l = PyList::empty(py);
            for x in items.iter() {
                l.append(to_py(py, x)?)?;
            }
            l.into_any().unbind()
        }
        Value::List(items) => {
            let xs = items
                .iter()
                .map(|x| to_py(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyTuple::new(py, xs)?.into_any().unbind()
        }
        Value::Map(m) => {
            let d = PyDict::new(py);
            for (k, v) in m.iter() {
                d.set_item(to_py(py, k)?, to_py(py, v)?)?;
            }
            d.into_any().unbind()
        }
        Value::Set(s) => {
            let set = PySet::empty(py)?;
            for x in s.iter() {
                set.add(to_py(py, x)?)?;
            }
            set.into_any().unbind()
        }
        other => Py::new(
            py,
            Opaque {
                value: other.clone(),
            },
        )?
        .into_any(),
    })
}

fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Nil);
    }
    if obj.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(obj.extract()?));
    }
    if obj.is_instance_of::<PyInt>() {
        return obj
            .extract::<i64>()
            .map(Value::Int)
            .map_err(|_| PyOverflowError::new_err("RTFS integers are 64-bit"));
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Value::Float(obj.extract()?));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(Value::str(obj.extract::<String>()?));
    }
    if let Ok(k) = obj.cast::<Keyword>() {
        return Ok(Value::keyword(k.get().name.clone()));
    }
    if let Ok(o) = obj.cast::<Opaque>() {
        return Ok(o.get().value.clone());
    }
    if obj.is_instance_of::<PyList>() {
        let items = obj
            .try_iter()?
            .map(|x| from_py(&x?))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(Value::vector(items));
    }
    if obj.is_instance_of::<PyTuple>() {
        let items = obj
            .try_iter()?
            .map(|x| from_py(&x?))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(Value::list(items));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut entries = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            entries.push((from_py(&k)?, from_py(&v)?));
        }
        return Ok(Value::map(entries));
    }
    if obj.is_instance_of::<PySet>() || obj.is_instance_of::<PyFrozenSet>() {
        let items = obj
            .try_iter()?
            .map(|x| from_py(&x?))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(Value::set(items));
    }
    Err(PyTypeError::new_err(format!(
        "cannot convert a Python {} to an RTFS value",
        obj.get_type().name()?
    )))
}

fn rtfs_error(py: Python<'_>, rt: &rtfs_core::Runtime, e: &rtfs_core::Error) -> PyErr {
    let (kind, message, location) = match e {
        rtfs_core::Error::Parse(d) | rtfs_core::Error::Compile(d) => {
            let kind = if matches!(e, rtfs_core::Error::Parse(_)) {
                "parse-error"
            } else {
                "compile-error"
            };
            let first = d.first();
            (
                kind.to_string(),
                first.map_or_else(|| e.to_string(), |d| d.message.clone()),
                first.map(|d| rt.sources().location(d.span)),
            )
        }
        rtfs_core::Error::Runtime(r) => (
            r.kind().to_string(),
            r.message().to_string(),
            r.loc().map(|l| {
                rt.sources()
                    .location(Span::new(FileId(l.file), l.start, l.end))
            }),
        ),
        rtfs_core::Error::Io(m) => ("io-error".to_string(), m.clone(), None),
    };
    let err = RtfsError::new_err(format!("{kind}: {message}"));
    let v = err.value(py);
    let _ = v.setattr("kind", kind);
    let _ = v.setattr("message", message);
    let _ = v.setattr("location", location);
    err
}

/// Errors raised by a Python callback, as the RTFS error the program sees.
fn python_error(py: Python<'_>, e: PyErr) -> RtError {
    let kind = e
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".into());
    RtError::new("python-error", format!("{kind}: {}", e.value(py)))
}

fn callback(
    f: Py<PyAny>,
) -> impl Fn(&mut dyn rtfs_core::Env, &[Value]) -> rtfs_core::RtResult<Value> + Send + Sync + 'static
{
    move |_, args| {
        Python::attach(|py| {
            let py_args = args
                .iter()
                .map(|a| to_py(py, a))
                .collect::<PyResult<Vec<_>>>()
                .map_err(|e| python_error(py, e))?;
            let tuple = PyTuple::new(py, py_args).map_err(|e| python_error(py, e))?;
            let r = f.bind(py).call1(tuple).map_err(|e| python_error(py, e))?;
            from_py(&r).map_err(|e| python_error(py, e))
        })
    }
}

/// One RTFS runtime: its globals persist across `eval` calls.
#[pyclass(module = "rtfs")]
struct Runtime {
    rt: Mutex<rtfs_core::Runtime>,
}

impl Runtime {
    fn with<T>(&self, f: impl FnOnce(&mut rtfs_core::Runtime) -> T) -> PyResult<T> {
        let mut g = self.rt.try_lock().map_err(|_| {
            PyRuntimeError::new_err("the runtime is busy (a callback called back into it)")
        })?;
        Ok(f(&mut g))
    }
}

#[pymethods]
impl Runtime {
    #[new]
    fn new() -> Runtime {
        Runtime {
            rt: Mutex::new(rtfs_core::Runtime::new()),
        }
    }

    /// Evaluates RTFS source and returns its last value.
    fn eval(&self, py: Python<'_>, src: &str) -> PyResult<Py<PyAny>> {
        let mut g = self.rt.try_lock().map_err(|_| {
            PyRuntimeError::new_err("the runtime is busy (a callback called back into it)")
        })?;
        let rt: &mut rtfs_core::Runtime = &mut g;
        let r = py.detach(|| rt.eval_str(src));
        match r {
            Ok(v) => to_py(py, &v),
            Err(e) => Err(rtfs_error(py, rt, &e)),
        }
    }

    /// Calls an RTFS function — a global's name or a function value — with arguments.
    #[pyo3(signature = (function, *args))]
    fn call(
        &self,
        py: Python<'_>,
        function: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        let argv = args
            .iter()
            .map(|a| from_py(&a))
            .collect::<PyResult<Vec<_>>>()?;
        let named = function.extract::<String>().ok();
        let fval = match &named {
            Some(_) => None,
            None => Some(from_py(function)?),
        };
        let mut g = self.rt.try_lock().map_err(|_| {
            PyRuntimeError::new_err("the runtime is busy (a callback called back into it)")
        })?;
        let rt: &mut rtfs_core::Runtime = &mut g;
        let r = py.detach(|| {
            let f = match (named, fval) {
                (Some(name), _) => rt.eval_str(&name)?,
                (None, Some(v)) => v,
                (None, None) => Value::Nil,
            };
            rt.call(&f, &argv)
        });
        match r {
            Ok(v) => to_py(py, &v),
            Err(e) => Err(rtfs_error(py, rt, &e)),
        }
    }

    /// Makes a Python callable an RTFS function `name` taking `min_args` to `max_args`
    /// arguments (`None`: any number).
    #[pyo3(signature = (name, function, min_args = 0, max_args = None))]
    fn register_function(
        &self,
        name: &str,
        function: Py<PyAny>,
        min_args: u16,
        max_args: Option<u16>,
    ) -> PyResult<()> {
        let max = max_args.unwrap_or(rtfs_ir::VARIADIC);
        if max < min_args {
            return Err(PyTypeError::new_err("max_args is below min_args"));
        }
        self.with(|rt| rt.register_fn(name, min_args, max, callback(function)))
    }

    /// Makes `(call :id args...)` call a Python callable.
    fn register_capability(&self, id: &str, function: Py<PyAny>) -> PyResult<()> {
        self.with(|rt| rt.register_capability(id, callback(function)))
    }
}

#[pymodule]
#[pyo3(name = "rtfs")]
fn rtfs_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Runtime>()?;
    m.add_class::<Keyword>()?;
    m.add_class::<Opaque>()?;
    m.add("RtfsError", m.py().get_type::<RtfsError>())?;
    Ok(())
}
