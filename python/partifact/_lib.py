"""Loading libpartifact and declaring its C API for ctypes (internal).

The structs below mirror include/partifact.h (and pa_backend_model, partifact_backend.h);
tests/test_structs.py compiles a C program that checks every field's offset and size.

Everything that mirrors include/partifact.h lives in this file: the structs, the prototypes and
the status codes. The public module (partifact/__init__.py) declares no struct or prototype.

Options and stats structs are bound through their size: every struct starts with
``size_t struct_size``, options are filled by the library's ``pa_x_options_init(o, size)``
before the package sets the fields it knows, and stats carry the size the package declares.
A library with fields appended after this package was written still gets a struct it
understands (the fields the package lacks take the library's defaults).
"""

import ctypes
import os
import sys

# ---------------------------------------------------------------------------------------------
# Finding the library
# ---------------------------------------------------------------------------------------------

#: Environment variable naming the shared library file to load (overrides the search).
LIBRARY_ENV = "PARTIFACT_LIBRARY"
#: Environment variable naming a build directory to look in (after the installed copies).
BUILD_DIR_ENV = "PARTIFACT_BUILD_DIR"

_SONAMES = ("libpartifact.so.0", "libpartifact.so")


def _candidates():
    """The places looked in, in order: (description, path or soname)."""
    explicit = os.environ.get(LIBRARY_ENV)
    if explicit:
        # An explicit choice is the only candidate: falling back would hide a wrong path.
        return [("$" + LIBRARY_ENV, explicit)]
    out = []
    # 1. installed copies: the dynamic loader's own search (LD_LIBRARY_PATH, ld.so.cache, /lib,
    #    /usr/lib), then the prefixes `cmake --install` uses, which need no ldconfig.
    for name in _SONAMES:
        out.append(("the dynamic loader's search path", name))
    prefixes = []
    for p in (sys.prefix, "/usr/local", "/usr"):
        if p not in prefixes:
            prefixes.append(p)
    for p in prefixes:
        for sub in ("lib", "lib64", "lib/x86_64-linux-gnu", "lib/aarch64-linux-gnu"):
            out.append(("installed", os.path.join(p, sub, _SONAMES[0])))
    # 2. the build tree: $PARTIFACT_BUILD_DIR, then <source root>/build beside this package.
    here = os.path.dirname(os.path.abspath(__file__))
    builds = []
    if os.environ.get(BUILD_DIR_ENV):
        builds.append(os.environ[BUILD_DIR_ENV])
    builds.append(os.path.join(os.path.dirname(os.path.dirname(here)), "build"))
    for b in builds:
        out.append(("build tree", os.path.join(b, _SONAMES[0])))
    return out


def _load():
    tried = []
    for how, path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (absent)")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append("%s (%s: %s)" % (path, how, e))
    raise ImportError(
        "partifact: libpartifact not found; looked in: " + "; ".join(tried)
        + ". Install it (make install), build it (make build), or set $" + LIBRARY_ENV
        + " to the library file.")


def _file_of(handle, name):
    """The file the loader mapped for handle (dladdr of its pa_version), else name."""
    class DlInfo(ctypes.Structure):
        _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                    ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]
    try:
        dladdr = ctypes.CDLL(None).dladdr
        info = DlInfo()
        addr = ctypes.cast(handle.pa_version, ctypes.c_void_p)
        if dladdr(addr, ctypes.byref(info)) and info.dli_fname:
            return os.fsdecode(info.dli_fname)
    except (AttributeError, OSError):
        pass
    return name


lib, LIBRARY_PATH = _load()
LIBRARY_PATH = _file_of(lib, LIBRARY_PATH)

# ---------------------------------------------------------------------------------------------
# Status codes (pa_status)
# ---------------------------------------------------------------------------------------------

PA_OK = 0
PA_ERR_INVALID = 1
PA_ERR_IO = 2
PA_ERR_FORMAT = 3
PA_ERR_UNSUPPORTED = 4
PA_ERR_NOMEM = 5
PA_ERR_RANGE = 6
PA_ERR_STATE = 7
PA_ERR_INCOMPLETE = 8
PA_ERR_BUDGET = 9
PA_ERR_EXISTS = 10
PA_END = 11  # not an error: an iterator has nothing more (the package calls none)

# pa_index_search_options.fast_scan
PA_FAST_SCAN_AUTO = 0
PA_FAST_SCAN_OFF = 1

c_status = ctypes.c_int
c_floatp = ctypes.POINTER(ctypes.c_float)

PROGRESS_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint64,
                               ctypes.c_uint64)


def _fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


def has(name):
    """Whether the loaded library exports name."""
    return hasattr(lib, name)


_fn("pa_last_error", ctypes.c_char_p)
_fn("pa_status_name", ctypes.c_char_p, c_status)
_fn("pa_version", ctypes.c_char_p)
_fn("pa_metric_parse", c_status, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int))
_fn("pa_metric_name", ctypes.c_char_p, ctypes.c_int)

VERSION = lib.pa_version().decode()
#: The library versions (major, minor) this package binds: 0.2's structs start with struct_size.
API_VERSION = (0, 2)
if tuple(int(p) for p in VERSION.split(".")[:2]) != API_VERSION:
    raise ImportError("partifact: the package binds libpartifact %d.%d, but %s is %s"
                      % (API_VERSION + (LIBRARY_PATH, VERSION)))

# ---------------------------------------------------------------------------------------------
# Structs
# ---------------------------------------------------------------------------------------------


def _struct(name, fields, sized=True):
    """A ctypes struct; options and stats structs start with size_t struct_size."""
    if sized:
        fields = [("struct_size", ctypes.c_size_t)] + fields
    return type(name, (ctypes.Structure,), {"_fields_": fields})


def options(cls, init_name):
    """A new options struct holding the library's defaults (via pa_x_options_init where the
    library has it; all zero, which means the defaults, otherwise)."""
    o = cls()
    st = getattr(lib, init_name)(ctypes.byref(o), ctypes.sizeof(cls))
    if st:
        raise RuntimeError("partifact: %s failed: %s" % (init_name, last_error()))
    return o


def stats(cls):
    """A zeroed stats struct carrying its size."""
    s = cls()
    s.struct_size = ctypes.sizeof(cls)
    return s


BackendModel = _struct("pa_backend_model", [
    ("dim", ctypes.c_uint32), ("num_partitions", ctypes.c_uint32),
    ("num_sub_vectors", ctypes.c_uint32), ("num_bits", ctypes.c_uint32),
    ("metric", ctypes.c_int32), ("centroids", c_floatp), ("codebook", c_floatp),
], sized=False)

IvfpqParams = _struct("pa_ivfpq_params", [
    ("num_partitions", ctypes.c_uint32), ("num_sub_vectors", ctypes.c_uint32),
    ("num_bits", ctypes.c_uint32), ("metric", ctypes.c_int), ("max_iters", ctypes.c_uint32),
    ("sample_rate", ctypes.c_uint32), ("seed", ctypes.c_uint64),
    ("pq_max_iters", ctypes.c_uint32),
])

IvfpqTrainStats = _struct("pa_ivfpq_train_stats", [
    ("sample_rows", ctypes.c_uint64), ("ivf_iters", ctypes.c_uint32),
    ("pq_iters", ctypes.c_uint32), ("empty_repaired", ctypes.c_uint32),
    ("ivf_seconds", ctypes.c_double), ("pq_seconds", ctypes.c_double),
    ("sample_skipped_invalid", ctypes.c_uint64), ("sample_seconds", ctypes.c_double),
    ("sample_wanted_rows", ctypes.c_uint64),
    ("ivf_work_share", ctypes.c_double), ("pq_work_share", ctypes.c_double),
])

ArtifactParams = _struct("pa_artifact_params", [
    ("num_partitions", ctypes.c_uint32), ("num_buckets", ctypes.c_uint32),
    ("code_bytes", ctypes.c_uint32), ("num_bits", ctypes.c_uint32),
    ("dimension", ctypes.c_uint32), ("metric", ctypes.c_int), ("model", ctypes.c_char_p),
    ("memory_bytes", ctypes.c_uint64), ("expected_rows", ctypes.c_uint64),
    ("max_buffer_rows", ctypes.c_uint64), ("replace", ctypes.c_int),
    ("coverage", ctypes.c_char_p), ("no_sync", ctypes.c_int),
])

ArtifactWriteStats = _struct("pa_artifact_write_stats", [
    ("rows", ctypes.c_uint64), ("flushes", ctypes.c_uint64), ("ranges", ctypes.c_uint64),
    ("bytes_written", ctypes.c_uint64), ("buffer_bytes", ctypes.c_uint64),
])

VecInputOptions = _struct("pa_vec_input_options", [
    ("column", ctypes.c_char_p), ("skip_invalid", ctypes.c_int), ("version", ctypes.c_uint64),
    ("fragments", ctypes.POINTER(ctypes.c_uint64)), ("num_fragments", ctypes.c_size_t),
    ("row_begin", ctypes.c_uint64), ("row_end", ctypes.c_uint64),
])

FinalizeOptions = _struct("pa_index_finalize_options", [
    ("memory_bytes", ctypes.c_uint64), ("tmp_dir", ctypes.c_char_p),
    ("num_threads", ctypes.c_uint32), ("progress", PROGRESS_FN),
    ("progress_ctx", ctypes.c_void_p), ("source", ctypes.c_char_p), ("replace", ctypes.c_int),
])

FinalizeStats = _struct("pa_index_finalize_stats", [
    ("rows", ctypes.c_uint64), ("partitions", ctypes.c_uint32),
    ("max_partition_rows", ctypes.c_uint64), ("bytes_read", ctypes.c_uint64),
    ("bytes_written", ctypes.c_uint64), ("index_bytes", ctypes.c_uint64),
    ("spill_bytes", ctypes.c_uint64), ("spill_runs", ctypes.c_uint32),
    ("seconds", ctypes.c_double),
])

EncodeOptions = _struct("pa_encode_options", [
    ("num_buckets", ctypes.c_uint32), ("memory_bytes", ctypes.c_uint64),
    ("batch_rows", ctypes.c_uint64), ("model_path", ctypes.c_char_p),
    ("progress", PROGRESS_FN), ("progress_ctx", ctypes.c_void_p), ("replace", ctypes.c_int),
    ("no_sync", ctypes.c_int),
])

EncodeStats = _struct("pa_encode_stats", [
    ("rows", ctypes.c_uint64), ("skipped_invalid", ctypes.c_uint64),
    ("bytes", ctypes.c_uint64), ("ranges", ctypes.c_uint64), ("seconds", ctypes.c_double),
    ("read_seconds", ctypes.c_double), ("encode_seconds", ctypes.c_double),
    ("write_seconds", ctypes.c_double),
])

IndexOpenOptions = _struct("pa_index_open_options", [("memory_bytes", ctypes.c_uint64)])

IndexInfo = _struct("pa_index_info", [
    ("dimension", ctypes.c_uint32), ("num_partitions", ctypes.c_uint32),
    ("num_sub_vectors", ctypes.c_uint32), ("num_bits", ctypes.c_uint32),
    ("metric", ctypes.c_int), ("num_rows", ctypes.c_uint64),
    ("max_partition_rows", ctypes.c_uint64), ("bytes", ctypes.c_uint64),
    ("memory_bytes", ctypes.c_uint64), ("cache_bytes", ctypes.c_uint64),
    ("cache_peak_bytes", ctypes.c_uint64), ("cache_reads", ctypes.c_uint64),
])

SearchOptions = _struct("pa_index_search_options", [
    ("k", ctypes.c_uint32), ("nprobes", ctypes.c_uint32), ("refine_factor", ctypes.c_uint32),
    ("refine_input", ctypes.c_void_p), ("num_threads", ctypes.c_uint32),
    ("fast_scan", ctypes.c_uint32), ("rerank_factor", ctypes.c_uint32),
])

SearchStats = _struct("pa_index_search_stats", [
    ("nprobes_used", ctypes.c_uint32), ("codes_scanned", ctypes.c_uint64),
    ("rows_refined", ctypes.c_uint64), ("seconds", ctypes.c_double),
    ("fast_scan_used", ctypes.c_uint32), ("rows_reranked", ctypes.c_uint64),
])

BuildOptions = _struct("pa_build_options", [
    ("params", ctypes.POINTER(IvfpqParams)), ("accelerator", ctypes.c_char_p),
    ("backend_path", ctypes.c_char_p), ("num_buckets", ctypes.c_uint32),
    ("memory_bytes", ctypes.c_uint64), ("batch_rows", ctypes.c_uint64),
    ("work_dir", ctypes.c_char_p), ("keep_work", ctypes.c_int), ("replace", ctypes.c_int),
    ("progress", PROGRESS_FN), ("progress_ctx", ctypes.c_void_p),
    ("backend_options", ctypes.c_char_p),
])

BuildStats = _struct("pa_build_stats", [
    ("num_partitions", ctypes.c_uint32), ("num_sub_vectors", ctypes.c_uint32),
    ("rows", ctypes.c_uint64), ("train_seconds", ctypes.c_double), ("seconds", ctypes.c_double),
    ("train", ctypes.POINTER(IvfpqTrainStats)), ("encode", ctypes.POINTER(EncodeStats)),
    ("finalize", ctypes.POINTER(FinalizeStats)), ("model_seconds", ctypes.c_double),
])

TableCommitOptions = _struct("pa_table_commit_options", [
    ("name", ctypes.c_char_p), ("replace", ctypes.c_int),
])

TableCommitResult = _struct("pa_table_commit_result", [
    ("read_version", ctypes.c_uint64), ("version", ctypes.c_uint64),
    ("built_version", ctypes.c_uint64), ("uuid", ctypes.c_char * 37),
    ("name", ctypes.c_char * 256), ("num_fragments", ctypes.c_uint32),
    ("replaced", ctypes.c_uint32), ("retries", ctypes.c_uint32),
    ("num_segments", ctypes.c_uint32), ("segment_uuids", ctypes.c_void_p),
])

# pa_train_comm: one participant of a distributed training; sum(ctx, v, count) adds v over all
# participants in place
SUM_FN = ctypes.CFUNCTYPE(c_status, ctypes.c_void_p, ctypes.POINTER(ctypes.c_double),
                          ctypes.c_size_t)
TrainComm = _struct("pa_train_comm", [
    ("rank", ctypes.c_uint32), ("size", ctypes.c_uint32), ("sum", SUM_FN),
    ("ctx", ctypes.c_void_p),
])

# ---------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------

# Arrays are passed as addresses (c_void_p): numpy's data pointer, without a ctypes pointer
# object per call.
P = ctypes.POINTER
vp = ctypes.c_void_p
pp = P(ctypes.c_void_p)

_fn("pa_ivfpq_train", c_status, pp, vp, ctypes.c_uint64, ctypes.c_uint32,
    P(IvfpqParams), P(IvfpqTrainStats))
_fn("pa_ivfpq_assign_encode", c_status, vp, vp, ctypes.c_uint64, vp, vp)
_fn("pa_train_input_comm", c_status, pp, vp, P(IvfpqParams), P(TrainComm), P(IvfpqTrainStats))
_fn("pa_ivfpq_model_arrays", None, vp, P(BackendModel))
_fn("pa_ivfpq_model_from_arrays", c_status, pp, P(BackendModel))
_fn("pa_ivfpq_model_save_ex", c_status, vp, ctypes.c_char_p, ctypes.c_int)
_fn("pa_ivfpq_model_load", c_status, pp, ctypes.c_char_p)
_fn("pa_ivfpq_model_free", None, vp)

_fn("pa_artifact_writer_create", c_status, pp, ctypes.c_char_p, P(ArtifactParams))
_fn("pa_artifact_writer_append", c_status, vp, vp, ctypes.c_size_t, vp,
    ctypes.c_size_t, vp, ctypes.c_size_t)
_fn("pa_artifact_writer_finish", c_status, vp)
_fn("pa_artifact_writer_abort", None, vp)
_fn("pa_artifact_writer_free", None, vp)
_fn("pa_artifact_writer_stats", c_status, vp, P(ArtifactWriteStats))

_fn("pa_vec_input_open", c_status, pp, ctypes.c_char_p, P(VecInputOptions))
_fn("pa_vec_input_dim", ctypes.c_uint32, vp)
_fn("pa_vec_input_num_rows", ctypes.c_uint64, vp)
_fn("pa_vec_input_free", None, vp)

_fn("pa_encode_input", c_status, vp, vp, vp, ctypes.c_char_p, P(EncodeOptions), P(EncodeStats))
_fn("pa_index_finalize_artifact", c_status, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
    P(FinalizeOptions), P(FinalizeStats))
_fn("pa_index_finalize_artifacts", c_status, P(ctypes.c_char_p), ctypes.c_size_t,
    ctypes.c_char_p, ctypes.c_char_p, P(FinalizeOptions), P(FinalizeStats))
_fn("pa_index_open_ex", c_status, pp, ctypes.c_char_p, P(IndexOpenOptions))
_fn("pa_index_free", None, vp)
_fn("pa_index_get_info", c_status, vp, P(IndexInfo))
_fn("pa_index_search", c_status, vp, vp, ctypes.c_uint64, ctypes.c_uint32,
    P(SearchOptions), vp, vp, P(SearchStats))
_fn("pa_groundtruth", c_status, vp, vp, ctypes.c_uint64, ctypes.c_uint32,
    ctypes.c_uint32, ctypes.c_int, vp, vp)
_fn("pa_recall_at_k", c_status, vp, ctypes.c_uint32, vp, ctypes.c_uint32,
    ctypes.c_uint64, ctypes.c_uint32, P(ctypes.c_double))
_fn("pa_build", c_status, vp, ctypes.c_char_p, P(BuildOptions), P(BuildStats))
_fn("pa_table_commit_index", c_status, ctypes.c_char_p, ctypes.c_char_p,
    P(TableCommitOptions), P(TableCommitResult))


def last_error():
    m = lib.pa_last_error()
    return m.decode("utf-8", "replace") if m else ""


def status_name(st):
    n = lib.pa_status_name(st)
    return n.decode() if n else str(st)


def struct_dict(s):
    """A ctypes struct's fields as a dict (nested structs as dicts; struct_size left out)."""
    out = {}
    for name, _ in s._fields_:
        if name == "struct_size" or name.startswith("progress"):
            continue
        v = getattr(s, name)
        if isinstance(v, ctypes._Pointer):
            v = v.contents if v else None
        if isinstance(v, ctypes.Structure):
            v = struct_dict(v)
        elif isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        out[name] = v
    return out
