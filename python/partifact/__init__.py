"""partifact: build IVF_PQ vector indexes through a partition artifact, from Python.

A thin layer over libpartifact (ctypes) with numpy arrays in and out::

    import numpy as np, partifact
    x = np.random.default_rng(0).standard_normal((20000, 32), dtype=np.float32)
    model = partifact.Model.train(x, partitions=16, sub_vectors=8, seed=1)
    model.save("model.lance")
    part_ids, codes = model.encode(x)
    with partifact.ArtifactWriter("artifact", model) as w:
        w.append(np.arange(len(x), dtype=np.uint64), part_ids, codes)
    partifact.finalize("artifact", "index")
    ids, dists = partifact.Index.open("index").search(x[:5], k=10, nprobes=4)

Arrays are checked strictly and never converted silently: a wrong dtype is a TypeError, a wrong
rank or length, a non-C-contiguous array or a NaN/Inf value a ValueError, each naming the
argument and what was expected (``numpy.ascontiguousarray(x, dtype=numpy.float32)`` converts).
Arrays of the right dtype that are C-contiguous are passed to the library without a copy.

The library's failures raise a subclass of :class:`Error` per status, carrying the library's
one-line message (naming the file, row or byte offset and what was expected).

Threads: every call into the library releases the GIL (ctypes does so for every call), so
other Python threads run while a model trains, an artifact is written, an index is finalized
or searched. Each class states what may be shared between threads.

Defaults: an argument left as None takes the library's default (the named constants of
partifact.h); the package restates none of them.
"""

import ctypes
import json
import os
import threading

import numpy as np

from . import _lib

__all__ = [
    "Error", "InvalidError", "IoError", "FormatError", "UnsupportedError", "NoMemoryError",
    "RangeError", "StateError", "IncompleteError", "BudgetError", "ExistsError",
    "Model", "ArtifactWriter", "Index", "encode", "finalize", "build", "commit",
    "groundtruth", "recall", "library_version", "library_path",
]

__version__ = "0.2.0"

# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class Error(Exception):
    """A failure the library reported. ``status`` is the pa_status number, ``status_name`` its
    stable name ("invalid", "io", ...), and ``str(e)`` the library's message."""

    status = None

    def __init__(self, message, status=None):
        super().__init__(message)
        if status is not None:
            self.status = status
        self.message = message

    @property
    def status_name(self):
        return _lib.status_name(self.status)

    def __str__(self):
        return self.message


# One class per pa_status: (name, status, builtin base or None, doc). The builtin base lets
# callers catch them as Python's own kinds (ValueError, OSError, ...).
_STATUS_ERRORS = (
    ("InvalidError", _lib.PA_ERR_INVALID, ValueError,
     "a bad argument or bad input data (wrong dimension, NaN, ...)"),
    ("IoError", _lib.PA_ERR_IO, OSError, "the operating system refused a read, write, open, ..."),
    ("FormatError", _lib.PA_ERR_FORMAT, None,
     "a file is truncated, corrupt or not what it claims to be"),
    ("UnsupportedError", _lib.PA_ERR_UNSUPPORTED, None,
     "well-formed, but a version, encoding or type not read"),
    ("NoMemoryError", _lib.PA_ERR_NOMEM, MemoryError, "an allocation failed"),
    ("RangeError", _lib.PA_ERR_RANGE, IndexError, "an index, row range or id is out of bounds"),
    ("StateError", _lib.PA_ERR_STATE, None, "the call is not valid in the object's state"),
    ("IncompleteError", _lib.PA_ERR_INCOMPLETE, None,
     "an artifact or dataset that was never committed"),
    ("BudgetError", _lib.PA_ERR_BUDGET, None, "the work needs more memory than the budget"),
    ("ExistsError", _lib.PA_ERR_EXISTS, FileExistsError,
     "the output exists and replacing it was not asked for"),
)


def _status_class(name, status, base, doc):
    return type(name, (Error,) + ((base,) if base else ()), {
        "status": status, "__module__": __name__,
        "__doc__": "%s (%s): %s." % (name, _lib.status_name(status), doc)})


(InvalidError, IoError, FormatError, UnsupportedError, NoMemoryError, RangeError, StateError,
 IncompleteError, BudgetError, ExistsError) = (_status_class(*e) for e in _STATUS_ERRORS)
_ERRORS = {c.status: c for c in (InvalidError, IoError, FormatError, UnsupportedError,
                                 NoMemoryError, RangeError, StateError, IncompleteError,
                                 BudgetError, ExistsError)}


def _error(st):
    cls = _ERRORS.get(st, Error)
    return cls(_lib.last_error() or _lib.status_name(st), st)


def _check(st):
    if st != _lib.PA_OK:
        raise _error(st)


def library_version():
    """The loaded libpartifact's version string (pa_version)."""
    return _lib.VERSION


def library_path():
    """The file the package loaded libpartifact from."""
    return _lib.LIBRARY_PATH


# ---------------------------------------------------------------------------------------------
# Argument checks (never a silent conversion)
# ---------------------------------------------------------------------------------------------


def _array(a, name, dtype, ndim, finite=False):
    if not isinstance(a, np.ndarray):
        raise TypeError("%s must be a numpy.ndarray of %s, got %s"
                        % (name, np.dtype(dtype).name, type(a).__name__))
    if a.dtype != np.dtype(dtype):
        raise TypeError("%s must have dtype %s, got %s (convert with .astype(numpy.%s))"
                        % (name, np.dtype(dtype).name, a.dtype, np.dtype(dtype).name))
    if a.ndim != ndim:
        raise ValueError("%s must be %d-dimensional, got shape %s" % (name, ndim, a.shape))
    if not a.flags["C_CONTIGUOUS"]:
        raise ValueError("%s must be C-contiguous (use numpy.ascontiguousarray(%s))"
                         % (name, name))
    if finite and a.size and not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ValueError("%s holds a NaN or Inf at %s" % (name, tuple(int(i) for i in bad)))
    return a


def _ptr(a, ctype):
    """A typed ctypes pointer to a's data (for struct fields)."""
    return a.ctypes.data_as(ctypes.POINTER(ctype))


def _addr(a):
    """a's data address (for call arguments): no copy, no ctypes object."""
    return a.__array_interface__["data"][0]


def _path(p, name):
    if isinstance(p, (str, bytes, os.PathLike)):
        return os.fsencode(p)
    raise TypeError("%s must be a path (str, bytes or os.PathLike), got %s"
                    % (name, type(p).__name__))


def _opt_path(p, name):
    return None if p is None else _path(p, name)


def _opt_str(v, name):
    if v is None:
        return None
    if not isinstance(v, str):
        raise TypeError("%s must be a str, got %s" % (name, type(v).__name__))
    return v.encode()


def _count(v, name, ctype_max=2**64 - 1, allow_zero=True):
    """None -> 0 (the library's default); otherwise a non-negative int in range."""
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError("%s must be an int, got %s" % (name, type(v).__name__))
    v = int(v)
    if v < 0 or v > ctype_max or (v == 0 and not allow_zero):
        raise ValueError("%s must be %s and at most %d, got %d"
                         % (name, "non-negative" if allow_zero else "positive", ctype_max, v))
    return v


_U32 = 2**32 - 1
_U64 = 2**64 - 1


def _set(struct, fields):
    """Sets struct.FIELD for each (FIELD, value, argument name, maximum) whose value is not
    None, after checking it; the others keep the library's defaults."""
    for field, value, name, maximum in fields:
        if value is not None:
            setattr(struct, field, _count(value, name, maximum))


def _metric(name):
    """pa_metric for a name; None: the library's default metric (PA_IVFPQ_PARAMS_INIT's)."""
    if name is None:
        return _lib.options(_lib.IvfpqParams, "pa_ivfpq_params_init").metric
    if isinstance(name, bytes):
        name = name.decode()
    if not isinstance(name, str):
        raise TypeError("metric must be a str (\"l2\", \"cosine\" or \"dot\"), got %s"
                        % type(name).__name__)
    m = ctypes.c_int()
    _check(_lib.lib.pa_metric_parse(name.encode(), ctypes.byref(m)))
    return m.value


def _metric_name(m):
    return _lib.lib.pa_metric_name(m).decode()


class _Progress:
    """A progress callable bound for one call: progress(stage, done, total). An exception it
    raises is kept and raised when the call returns (the library's work is not interrupted)."""

    def __init__(self, fn):
        if fn is not None and not callable(fn):
            raise TypeError("progress must be callable (stage, done, total), got %s"
                            % type(fn).__name__)
        self.fn, self.exc = fn, None

        def call(_ctx, stage, done, total):
            if self.exc is None:
                try:
                    self.fn(stage.decode() if stage else "", done, total)
                except BaseException as e:  # raised after the call returns
                    self.exc = e
        self.c = _lib.PROGRESS_FN(call) if fn is not None else _lib.PROGRESS_FN()

    def reraise(self):
        if self.exc is not None:
            raise self.exc


class _VecInput:
    """A pa_vec_input opened for the length of a with block."""

    def __init__(self, path, name, column=None, version=None):
        o = _lib.options(_lib.VecInputOptions, "pa_vec_input_options_init")
        o.column = _opt_str(column, "column")
        o.version = _count(version, "version")
        self.h = ctypes.c_void_p()
        _check(_lib.lib.pa_vec_input_open(ctypes.byref(self.h), _path(path, name),
                                          ctypes.byref(o)))

    def __enter__(self):
        return self

    def __exit__(self, *a):
        _lib.lib.pa_vec_input_free(self.h)
        self.h = None


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------


def _train_params(partitions, sub_vectors, metric, seed, bits, max_iters, pq_max_iters):
    """A pa_ivfpq_params of the training options Model.train and Model.train_comm share."""
    p = _lib.options(_lib.IvfpqParams, "pa_ivfpq_params_init")
    p.num_partitions = _count(partitions, "partitions", _U32, allow_zero=False)
    p.num_sub_vectors = _count(sub_vectors, "sub_vectors", _U32, allow_zero=False)
    p.metric = _metric(metric)
    _set(p, [("seed", seed, "seed", _U64)])
    _set(p, [("num_bits", bits, "bits", _U32), ("max_iters", max_iters, "max_iters", _U32),
             ("pq_max_iters", pq_max_iters, "pq_max_iters", _U32)])
    return p


class Model:
    """An IVF_PQ model: coarse centroids (partitions x dim) and a PQ codebook
    (sub_vectors x 2^bits x dim/sub_vectors), float32.

    A model is immutable once made; one model may be used from several threads at once
    (encode, save). ``path`` is the file it was saved to or loaded from (None otherwise); an
    :class:`ArtifactWriter` records that file.
    """

    def __init__(self, handle, path=None):
        self._h = handle
        self.path = path
        bm = _lib.BackendModel()
        _lib.lib.pa_ivfpq_model_arrays(self._h, ctypes.byref(bm))
        self.dim = bm.dim
        self.partitions = bm.num_partitions
        self.sub_vectors = bm.num_sub_vectors
        self.bits = bm.num_bits
        self.metric = _metric_name(bm.metric)
        self._metric = bm.metric

    def __del__(self):
        h, self._h = getattr(self, "_h", None), None
        if h and _lib is not None and _lib.lib is not None:  # (at interpreter exit: gone)
            _lib.lib.pa_ivfpq_model_free(h)

    def __repr__(self):
        return ("partifact.Model(dim=%d, partitions=%d, sub_vectors=%d, bits=%d, metric=%r)"
                % (self.dim, self.partitions, self.sub_vectors, self.bits, self.metric))

    @property
    def code_bytes(self):
        """Bytes of one row's PQ code."""
        return (self.sub_vectors * self.bits + 7) // 8

    @classmethod
    def train(cls, x, partitions, sub_vectors, metric=None, seed=None, bits=None, max_iters=None,
              pq_max_iters=None):
        """Trains on every row of x (n x dim float32): coarse k-means into ``partitions``
        centroids, then PQ codebooks of ``sub_vectors`` sub-spaces (which must divide dim) on
        the residuals (on the vectors for "dot"). The same seed and rows give the same model.
        bits: 8 (the default) or 4 (16 codewords per sub-space, two codes per byte as Lance
        packs them, sub-vector 2j in the low nibble of byte j; sub_vectors must be even).
        Options left None take the library's defaults. Releases the GIL while it trains (no
        progress callback: the library reports none for training)."""
        x = _array(x, "x", np.float32, 2)  # NaN/Inf: the library refuses, naming the row
        p = _train_params(partitions, sub_vectors, metric, seed, bits, max_iters, pq_max_iters)
        s = _lib.stats(_lib.IvfpqTrainStats)
        h = ctypes.c_void_p()
        _check(_lib.lib.pa_ivfpq_train(ctypes.byref(h), _addr(x), x.shape[0],
                                       x.shape[1], ctypes.byref(p), ctypes.byref(s)))
        m = cls(h)
        m.train_stats = _lib.struct_dict(s)
        return m

    @classmethod
    def train_comm(cls, input, rank, size, sum, partitions, sub_vectors, column=None,
                   metric=None, seed=None, sample_rate=None, bits=None, max_iters=None,
                   pq_max_iters=None):
        """One participant of a distributed training (``pa_train_input_comm``): every
        participant calls it with the same input (a vector file or Lance table each can read)
        and options and its own ``rank`` (0 .. size - 1), reads its share of the seeded
        training sample, and all of them end with the same model, byte for byte (one
        participant: the model ``partifact train`` makes). ``sum(v)`` is the engine's
        collective (Ray, Spark, MPI, threads): it adds the float64 array v over all
        participants in place, in a fixed order (participant 0's values plus 1's plus 2's ...,
        associated the same way every time), every participant getting the total; it is
        called on this thread, the same number of times with the same sizes on every
        participant. An exception in sum ends the training and is raised here (the other
        participants are then waiting in their sum: the engine must end them)."""
        if not callable(sum):
            raise TypeError("sum must be callable (a float64 array, summed in place), got %s"
                            % type(sum).__name__)
        p = _train_params(partitions, sub_vectors, metric, seed, bits, max_iters, pq_max_iters)
        _set(p, [("sample_rate", sample_rate, "sample_rate", _U32)])
        exc = []

        def call(_ctx, v, n):
            try:
                sum(np.ctypeslib.as_array(v, (n,)))
                return _lib.PA_OK
            except BaseException as e:  # raised after the call returns
                exc.append(e)
                return _lib.PA_ERR_INVALID
        c = _lib.TrainComm(struct_size=ctypes.sizeof(_lib.TrainComm),
                           rank=_count(rank, "rank", _U32), size=_count(size, "size", _U32),
                           sum=_lib.SUM_FN(call))
        s = _lib.stats(_lib.IvfpqTrainStats)
        h = ctypes.c_void_p()
        with _VecInput(input, "input", column) as vi:
            st = _lib.lib.pa_train_input_comm(ctypes.byref(h), vi.h, ctypes.byref(p),
                                              ctypes.byref(c), ctypes.byref(s))
        if exc:
            if h:
                _lib.lib.pa_ivfpq_model_free(h)
            raise exc[0]
        _check(st)
        m = cls(h)
        m.train_stats = _lib.struct_dict(s)
        return m

    @classmethod
    def from_arrays(cls, centroids, codebook, metric):
        """A model from arrays another trainer made (copied): centroids float32
        (partitions, dim), codebook float32 (sub_vectors, 2^bits, dim / sub_vectors)."""
        c = _array(centroids, "centroids", np.float32, 2, finite=True)
        b = _array(codebook, "codebook", np.float32, 3, finite=True)
        P_, dim = c.shape
        M, K, sub = b.shape
        if K < 2 or K & (K - 1):
            raise ValueError("codebook.shape[1] must be 2^bits (256 for 8-bit codes), got %d" % K)
        if M * sub != dim:
            raise ValueError("codebook shape %s does not fit dimension %d: sub_vectors (%d) x "
                             "sub-vector width (%d) must equal centroids.shape[1]"
                             % (b.shape, dim, M, sub))
        bm = _lib.BackendModel(dim=dim, num_partitions=P_, num_sub_vectors=M,
                               num_bits=K.bit_length() - 1, metric=_metric(metric),
                               centroids=_ptr(c, ctypes.c_float),
                               codebook=_ptr(b, ctypes.c_float))
        h = ctypes.c_void_p()
        _check(_lib.lib.pa_ivfpq_model_from_arrays(ctypes.byref(h), ctypes.byref(bm)))
        return cls(h)

    @classmethod
    def load(cls, path):
        """Loads a model file (a Lance file written by save or ``partifact train``)."""
        h = ctypes.c_void_p()
        _check(_lib.lib.pa_ivfpq_model_load(ctypes.byref(h), _path(path, "path")))
        return cls(h, os.fspath(path))

    def save(self, path, replace=False):
        """Saves the model as a Lance file (written under a temporary name and renamed into
        place; an existing file raises ExistsError unless replace). Sets ``self.path``."""
        _check(_lib.lib.pa_ivfpq_model_save_ex(self._h, _path(path, "path"), int(bool(replace))))
        self.path = os.fspath(path)

    def _arrays(self):
        bm = _lib.BackendModel()
        _lib.lib.pa_ivfpq_model_arrays(self._h, ctypes.byref(bm))
        return bm

    @property
    def centroids(self):
        """A copy of the coarse centroids, float32 (partitions, dim)."""
        bm = self._arrays()
        n = self.partitions * self.dim
        return np.ctypeslib.as_array(bm.centroids, (n,)).reshape(self.partitions,
                                                                 self.dim).copy()

    @property
    def codebook(self):
        """A copy of the PQ codebook, float32 (sub_vectors, 2^bits, dim / sub_vectors)."""
        bm = self._arrays()
        K = 1 << self.bits
        sub = self.dim // self.sub_vectors
        return np.ctypeslib.as_array(bm.codebook, (self.sub_vectors * K * sub,)).reshape(
            self.sub_vectors, K, sub).copy()

    def encode(self, x):
        """For each row of x (n x dim float32): its nearest centroid and PQ code. Returns
        (part_ids uint32 (n,), codes uint8 (n, code_bytes)). Runs on all cores, GIL released.
        """
        x = _array(x, "x", np.float32, 2)  # NaN/Inf: the library refuses, naming the row
        if x.shape[1] != self.dim:
            raise ValueError("x has dimension %d, the model has dimension %d"
                             % (x.shape[1], self.dim))
        n = x.shape[0]
        part_ids = np.empty(n, dtype=np.uint32)
        codes = np.empty((n, self.code_bytes), dtype=np.uint8)
        if n:
            _check(_lib.lib.pa_ivfpq_assign_encode(self._h, _addr(x), n,
                                                   _addr(part_ids),
                                                   _addr(codes)))
        return part_ids, codes


# ---------------------------------------------------------------------------------------------
# Artifact writer
# ---------------------------------------------------------------------------------------------


class ArtifactWriter:
    """Writes a partition artifact at ``path`` from batches of (row_ids, part_ids, codes) that
    any backend produced, for :func:`finalize`.

    ``model`` is a :class:`Model` that was saved or loaded (its file is recorded, with its
    hash, and finalize checks it) or the model file's path. ``buckets`` bucket files (None:
    the library's default), ``memory`` bytes for the writer's buffers (None: the library's
    default), ``expected_rows`` (if known) reserves the table of ranges up front, and
    ``replace`` replaces an existing artifact atomically at commit. ``coverage`` (a dict, or
    None) records the rows the artifact holds, for :func:`finalize` over the shards of one
    build, which refuses overlapping shards: a file's ``{"input": path, "input_rows": n,
    "row_begin": first, "row_end": end}``, or a table's source record (what ``partifact
    encode --fragments`` writes).

    Used as a context manager, the artifact is committed when the block exits cleanly and
    aborted (nothing left that looks complete) when it raises. Without one, call
    :meth:`commit` or :meth:`abort`; an object dropped uncommitted is aborted.

    A writer is not for concurrent use: its calls are serialised by a lock, so threads may
    share it, but they append one at a time. Each append releases the GIL.
    """

    def __init__(self, path, model, buckets=None, memory=None, expected_rows=None,
                 replace=False, max_buffer_rows=None, coverage=None):
        if isinstance(model, Model):
            if model.path is None:
                raise ValueError("model has no file: save it first (model.save(path)); the "
                                 "artifact records the model file finalize checks")
            model_obj, model_path = model, model.path
        else:
            model_path = os.fspath(model)
            model_obj = Model.load(model_path)
        self.model = model_obj
        self.path = os.fspath(path)
        self.code_bytes = model_obj.code_bytes
        self._lock = threading.Lock()
        self._model_path = _path(model_path, "model")
        p = _lib.options(_lib.ArtifactParams, "pa_artifact_params_init")
        p.num_partitions = model_obj.partitions
        p.code_bytes = model_obj.code_bytes
        p.num_bits = model_obj.bits
        p.dimension = model_obj.dim
        p.metric = model_obj._metric
        p.model = self._model_path
        _set(p, [("num_buckets", buckets, "buckets", _U32),
                 ("memory_bytes", memory, "memory", _U64),
                 ("expected_rows", expected_rows, "expected_rows", _U64),
                 ("max_buffer_rows", max_buffer_rows, "max_buffer_rows", _U64)])
        p.replace = int(bool(replace))
        if coverage is not None:
            if not isinstance(coverage, dict):
                raise TypeError("coverage must be a dict, got %s" % type(coverage).__name__)
            self._coverage = json.dumps(coverage).encode()
            p.coverage = self._coverage
        self._h = ctypes.c_void_p()
        _check(_lib.lib.pa_artifact_writer_create(ctypes.byref(self._h),
                                                  _path(path, "path"), ctypes.byref(p)))
        self.committed = False

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.abort()
        return False

    def __del__(self):
        h, self._h = getattr(self, "_h", None), None
        if h and _lib is not None and _lib.lib is not None:  # (at interpreter exit: gone)
            _lib.lib.pa_artifact_writer_free(h)  # aborts an unfinished writer

    def _handle(self):
        if not self._h:
            raise StateError("the artifact writer for %s is closed (committed or aborted)"
                             % self.path, _lib.PA_ERR_STATE)
        return self._h

    def append(self, row_ids, part_ids, codes):
        """Appends a batch: row_ids uint64 (n,), part_ids uint32 (n,), codes uint8
        (n, code_bytes). A refused batch (a part id out of range, ...) appends nothing."""
        row_ids = _array(row_ids, "row_ids", np.uint64, 1)
        part_ids = _array(part_ids, "part_ids", np.uint32, 1)
        codes = _array(codes, "codes", np.uint8, 2)
        n = row_ids.shape[0]
        if part_ids.shape[0] != n or codes.shape[0] != n:
            raise ValueError("row_ids, part_ids and codes must have the same length, got %d, "
                             "%d and %d" % (n, part_ids.shape[0], codes.shape[0]))
        if codes.shape[1] != self.code_bytes:
            raise ValueError("codes must have %d bytes per row (the model's code width), got %d"
                             % (self.code_bytes, codes.shape[1]))
        with self._lock:
            _check(_lib.lib.pa_artifact_writer_append(
                self._handle(), _addr(row_ids), n,
                _addr(part_ids), n, _addr(codes), codes.size))

    @property
    def stats(self):
        """rows, flushes, ranges, bytes_written, buffer_bytes so far."""
        s = _lib.stats(_lib.ArtifactWriteStats)
        with self._lock:
            _check(_lib.lib.pa_artifact_writer_stats(self._handle(), ctypes.byref(s)))
        return _lib.struct_dict(s)

    def commit(self):
        """Flushes the buffers, closes the bucket files and commits the manifest. The writer
        is closed afterwards, also when the commit fails (then nothing is left)."""
        with self._lock:
            h = self._handle()
            try:
                _check(_lib.lib.pa_artifact_writer_finish(h))
                self.committed = True
            finally:
                self._h = None
                _lib.lib.pa_artifact_writer_free(h)

    def abort(self):
        """Removes everything written; the writer is closed. Safe to call twice."""
        with self._lock:
            h, self._h = self._h, None
            if h:
                _lib.lib.pa_artifact_writer_abort(h)
                _lib.lib.pa_artifact_writer_free(h)


# ---------------------------------------------------------------------------------------------
# Encode, finalize, build, commit
# ---------------------------------------------------------------------------------------------


def encode(input, model, artifact, buckets=None, memory=None, batch_rows=None, replace=False,
           column=None, progress=None):
    """Encodes every row of the vector file or Lance dataset ``input`` with the built-in CPU
    backend into a new artifact (as ``partifact encode``). ``model`` is a saved Model or a model
    file. Returns the encode stats as a dict. progress(stage, done, total) is called as rows
    are encoded."""
    if isinstance(model, Model):
        if model.path is None:
            raise ValueError("model has no file: save it first (model.save(path))")
        mpath = model.path
    else:
        mpath = os.fspath(model)
        model = Model.load(mpath)
    prog = _Progress(progress)
    o = _lib.options(_lib.EncodeOptions, "pa_encode_options_init")
    _set(o, [("num_buckets", buckets, "buckets", _U32), ("memory_bytes", memory, "memory", _U64),
             ("batch_rows", batch_rows, "batch_rows", _U64)])
    mp = _path(mpath, "model")
    o.model_path = mp
    o.progress = prog.c
    o.replace = int(bool(replace))
    s = _lib.stats(_lib.EncodeStats)
    with _VecInput(input, "input", column) as vi:
        st = _lib.lib.pa_encode_input(vi.h, model._h, None, _path(artifact, "artifact"),
                                      ctypes.byref(o), ctypes.byref(s))
    prog.reraise()
    _check(st)
    return _lib.struct_dict(s)


def finalize(artifact, out, memory=None, model=None, threads=None, replace=False,
             progress=None):
    """Writes the IVF_PQ index directory ``out`` (LanceDB's layout) from the committed
    artifact ``artifact``, or from a list of them: the shards of one build (one model, each
    with its coverage recorded, none overlapping), finalized into one index segment.
    ``model`` None: the model file the artifact records. ``memory``
    bounds the read-ahead (None: the library's default). progress(stage, done, total) is
    called after each partition. Returns the finalize stats as a dict."""
    prog = _Progress(progress)
    o = _lib.options(_lib.FinalizeOptions, "pa_index_finalize_options_init")
    _set(o, [("memory_bytes", memory, "memory", _U64), ("num_threads", threads, "threads", _U32)])
    o.progress = prog.c
    o.replace = int(bool(replace))
    if isinstance(model, Model):
        if model.path is None:
            raise ValueError("model has no file: save it first (model.save(path))")
        model = model.path
    s = _lib.stats(_lib.FinalizeStats)
    if isinstance(artifact, (list, tuple)):
        if not artifact:
            raise ValueError("artifact: an empty list of shards")
        dirs = (ctypes.c_char_p * len(artifact))(*[_path(a, "artifact") for a in artifact])
        st = _lib.lib.pa_index_finalize_artifacts(dirs, len(artifact), _opt_path(model, "model"),
                                                  _path(out, "out"), ctypes.byref(o),
                                                  ctypes.byref(s))
    else:
        st = _lib.lib.pa_index_finalize_artifact(_path(artifact, "artifact"),
                                                 _opt_path(model, "model"), _path(out, "out"),
                                                 ctypes.byref(o), ctypes.byref(s))
    prog.reraise()
    _check(st)
    return _lib.struct_dict(s)


def build(input, out, partitions=None, sub_vectors=None, metric=None, seed=None, bits=None,
          memory=None, batch_rows=None, buckets=None, work_dir=None, keep_work=False,
          replace=False, column=None, progress=None, accelerator=None, backend_path=None,
          backend_options=None):
    """Builds an IVF_PQ index at ``out`` from every row of ``input`` (a .fvecs, .bvecs, .npy
    file or a Lance dataset): trains on a seeded sample, encodes into an artifact, finalizes.
    partitions / sub_vectors None: the library's defaults for the input's size; bits 8 or 4
    (see Model.train; the index is LanceDB's 4-bit IVF_PQ layout). progress is
    called with stages "train", "encode" (rows) and "finalize" (partitions). Returns the build
    stats as a dict. accelerator names a backend plugin (libpartifact-backend-NAME.so, looked
    for in backend_path, $PARTIFACT_BACKEND_PATH, then the install's lib/partifact); None: the
    built-in CPU backend. backend_options (a dict, or "KEY=VALUE,...") are passed to the
    backend, which refuses a key it does not know."""
    prog = _Progress(progress)
    o = _lib.options(_lib.BuildOptions, "pa_build_options_init")
    acc, bpath = _opt_str(accelerator, "accelerator"), _opt_path(backend_path, "backend_path")
    if acc is not None:
        o.accelerator = acc
    if bpath is not None:
        o.backend_path = bpath
    if isinstance(backend_options, dict):
        backend_options = ",".join("%s=%s" % kv for kv in backend_options.items())
    bopts = _opt_str(backend_options, "backend_options")
    if bopts is not None:
        o.backend_options = bopts
    params = _lib.options(_lib.IvfpqParams, "pa_ivfpq_params_init")
    params.num_partitions = _count(partitions, "partitions", _U32)
    params.num_sub_vectors = _count(sub_vectors, "sub_vectors", _U32)
    params.metric = _metric(metric)
    _set(params, [("seed", seed, "seed", _U64), ("num_bits", bits, "bits", _U32)])
    o.params = ctypes.pointer(params)
    _set(o, [("memory_bytes", memory, "memory", _U64),
             ("batch_rows", batch_rows, "batch_rows", _U64),
             ("num_buckets", buckets, "buckets", _U32)])
    wd = _opt_path(work_dir, "work_dir")
    o.work_dir = wd
    o.keep_work = int(bool(keep_work))
    o.replace = int(bool(replace))
    o.progress = prog.c
    s = _lib.stats(_lib.BuildStats)
    stages = (_lib.stats(_lib.IvfpqTrainStats), _lib.stats(_lib.EncodeStats),
              _lib.stats(_lib.FinalizeStats))
    s.train, s.encode, s.finalize = (ctypes.pointer(x) for x in stages)
    with _VecInput(input, "input", column) as vi:
        st = _lib.lib.pa_build(vi.h, _path(out, "out"), ctypes.byref(o), ctypes.byref(s))
    prog.reraise()
    _check(st)
    return _lib.struct_dict(s)


def commit(index, table, name=None, replace=False):
    """Commits the index directory ``index`` (built from the Lance table ``table``) into the
    table as its next version, as LanceDB commits its own indexes. Returns the commit's result
    (versions, the index's uuid and name, fragments covered) as a dict."""
    o = _lib.options(_lib.TableCommitOptions, "pa_table_commit_options_init")
    nm = _opt_str(name, "name")
    o.name = nm
    o.replace = int(bool(replace))
    r = _lib.stats(_lib.TableCommitResult)
    _check(_lib.lib.pa_table_commit_index(_path(table, "table"), _path(index, "index"),
                                          ctypes.byref(o), ctypes.byref(r)))
    return _lib.struct_dict(r)


# ---------------------------------------------------------------------------------------------
# Index
# ---------------------------------------------------------------------------------------------


class Index:
    """An IVF_PQ index opened for search (partifact's or LanceDB's index files).

    One index may be searched from several threads at once; each search releases the GIL.
    Open with :meth:`open`; :meth:`close` (or the with statement) frees it early.
    """

    def __init__(self, handle, path):
        self._h = handle
        self.path = path
        self._lock = threading.Lock()
        self._users = 0

    @classmethod
    def open(cls, path, memory=None):
        """Opens the index directory ``path``. memory None: every row is read into memory;
        otherwise the bytes the index may hold (partitions are then read on demand)."""
        o = _lib.options(_lib.IndexOpenOptions, "pa_index_open_options_init")
        o.memory_bytes = _count(memory, "memory")
        h = ctypes.c_void_p()
        _check(_lib.lib.pa_index_open_ex(ctypes.byref(h), _path(path, "path"), ctypes.byref(o)))
        return cls(h, os.fspath(path))

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def close(self):
        """Frees the index (waits for nothing: do not close while another thread searches)."""
        with self._lock:
            if self._users:
                raise StateError("index %s is being searched by another thread" % self.path,
                                 _lib.PA_ERR_STATE)
            h, self._h = self._h, None
        if h:
            _lib.lib.pa_index_free(h)

    def __del__(self):
        h, self._h = getattr(self, "_h", None), None
        if h and _lib is not None and _lib.lib is not None:  # (at interpreter exit: gone)
            _lib.lib.pa_index_free(h)

    def _acquire(self):
        with self._lock:
            if not self._h:
                raise StateError("index %s is closed" % self.path, _lib.PA_ERR_STATE)
            self._users += 1
            return self._h

    def _release(self):
        with self._lock:
            self._users -= 1

    @property
    def info(self):
        """dimension, num_partitions, num_sub_vectors, num_bits, metric, num_rows,
        max_partition_rows, bytes, memory_bytes; opened with a budget, cache_bytes (the
        partition cache's share of it), cache_peak_bytes (the most it held) and cache_reads."""
        s = _lib.stats(_lib.IndexInfo)
        h = self._acquire()
        try:
            _check(_lib.lib.pa_index_get_info(h, ctypes.byref(s)))
        finally:
            self._release()
        d = _lib.struct_dict(s)
        d["metric"] = _metric_name(d["metric"])
        return d

    def search(self, queries, k=None, nprobes=None, refine_factor=None, input=None,
               threads=None, column=None, fast_scan=True, rerank_factor=None):
        """Searches each row of queries (nq x dim float32, or one query of shape (dim,)).
        Returns (ids uint64 (nq, k), distances float32 (nq, k)), best first; slots the probed
        partitions could not fill have id 2^64-1 and distance inf. Distances: l2 and cosine
        squared Euclidean, dot the negated inner product (smaller is nearer).
        k and nprobes None: the library's defaults. refine_factor R > 1 re-ranks the k*R best by exact
        distance to the original vectors, read from ``input`` (the file or Lance dataset the
        index was built from). A 4-bit index is searched by the fast scan (quantised tables)
        unless fast_scan is False; it re-ranks the k*R*rerank_factor best by exact ADC distance
        (None: the library's default). last_stats["fast_scan_used"] says which scan ran."""
        single = isinstance(queries, np.ndarray) and queries.ndim == 1
        q = _array(queries[None, :] if single else queries, "queries", np.float32, 2,
                   finite=True)
        nq, dim = q.shape
        o = _lib.options(_lib.SearchOptions, "pa_index_search_options_init")
        _set(o, [("k", k, "k", _U32),("nprobes", nprobes, "nprobes", _U32),
                 ("refine_factor", refine_factor, "refine_factor", _U32),
                 ("num_threads", threads, "threads", _U32),
                 ("rerank_factor", rerank_factor, "rerank_factor", _U32)])
        o.fast_scan = _lib.PA_FAST_SCAN_AUTO if fast_scan else _lib.PA_FAST_SCAN_OFF
        if o.k == 0:
            raise ValueError("k must be positive, got 0")
        if o.refine_factor > 1 and input is None:
            raise ValueError("refine_factor > 1 needs input (the original vectors)")
        ids = np.empty((nq, o.k), dtype=np.uint64)
        dists = np.empty((nq, o.k), dtype=np.float32)
        s = _lib.stats(_lib.SearchStats)
        vi = _VecInput(input, "input", column) if input is not None else None
        h = self._acquire()
        try:
            o.refine_input = vi.h if vi else None
            _check(_lib.lib.pa_index_search(h, _addr(q), nq, dim,
                                            ctypes.byref(o), _addr(ids),
                                            _addr(dists), ctypes.byref(s)))
        finally:
            self._release()
            if vi:
                vi.__exit__()
        self.last_stats = _lib.struct_dict(s)
        if single:
            return ids[0], dists[0]
        return ids, dists


# ---------------------------------------------------------------------------------------------
# Ground truth and recall
# ---------------------------------------------------------------------------------------------


def groundtruth(base, queries, k=None, metric=None, column=None):
    """Exact k nearest neighbours of each query (nq x dim float32) among every row of ``base``
    (a vector file or Lance dataset), in bounded memory. Returns (ids uint64 (nq, k),
    distances float32 (nq, k)), distances as for Index.search. k and metric None: the
    library's defaults (those of Index.search and Model.train)."""
    q = _array(queries, "queries", np.float32, 2, finite=True)
    nq, dim = q.shape
    if k is None:
        k = _lib.options(_lib.SearchOptions, "pa_index_search_options_init").k
    k = _count(k, "k", _U32, allow_zero=False)
    m = _metric(metric)
    ids = np.empty((nq, k), dtype=np.uint64)
    dists = np.empty((nq, k), dtype=np.float32)
    with _VecInput(base, "base", column) as vi:
        _check(_lib.lib.pa_groundtruth(vi.h, _addr(q), nq, dim, k, m,
                                       _addr(ids), _addr(dists)))
    return ids, dists


def recall(found, truth, k=None):
    """Mean recall@k of found ids (nq x found_k uint64, best first) against true ids
    (nq x truth_k uint64): per query |found[:k] & truth[:k]| / k. k None: found's width."""
    f = _array(found, "found", np.uint64, 2)
    t = _array(truth, "truth", np.uint64, 2)
    if f.shape[0] != t.shape[0]:
        raise ValueError("found and truth must have the same number of queries, got %d and %d"
                         % (f.shape[0], t.shape[0]))
    k = f.shape[1] if k is None else _count(k, "k", _U32, allow_zero=False)
    r = ctypes.c_double()
    _check(_lib.lib.pa_recall_at_k(_addr(f), f.shape[1],
                                   _addr(t), t.shape[1], f.shape[0], k,
                                   ctypes.byref(r)))
    return r.value
