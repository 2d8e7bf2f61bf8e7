"""The package's ctypes structs match include/partifact.h: every field at the offset and with the
size the C compiler gives it, and every struct of the same size (a C program prints them)."""
import ctypes
import os
import subprocess

import pytest

from partifact import _lib
from conftest import ROOT

STRUCTS = {  # ctypes struct -> C type name
    _lib.BackendModel: "pa_backend_model", _lib.IvfpqParams: "pa_ivfpq_params",
    _lib.IvfpqTrainStats: "pa_ivfpq_train_stats", _lib.ArtifactParams: "pa_artifact_params",
    _lib.ArtifactWriteStats: "pa_artifact_write_stats",
    _lib.VecInputOptions: "pa_vec_input_options",
    _lib.FinalizeOptions: "pa_index_finalize_options",
    _lib.FinalizeStats: "pa_index_finalize_stats", _lib.EncodeOptions: "pa_encode_options",
    _lib.EncodeStats: "pa_encode_stats", _lib.IndexOpenOptions: "pa_index_open_options",
    _lib.IndexInfo: "pa_index_info", _lib.SearchOptions: "pa_index_search_options",
    _lib.SearchStats: "pa_index_search_stats", _lib.BuildOptions: "pa_build_options",
    _lib.BuildStats: "pa_build_stats", _lib.TableCommitOptions: "pa_table_commit_options",
    _lib.TableCommitResult: "pa_table_commit_result", _lib.TrainComm: "pa_train_comm",
}


def test_structs_match_the_header(tmp_path):
    include = os.path.join(ROOT, "include")
    lines = ["#include <stddef.h>", "#include <stdio.h>", '#include "partifact.h"']
    if os.path.exists(os.path.join(include, "partifact_backend.h")):
        lines.append('#include "partifact_backend.h"')
    lines.append("int main(void) {")
    for cls, cname in STRUCTS.items():
        lines.append('printf("%s.sizeof %%zu\\n", sizeof(%s));' % (cname, cname))
        for field, _ in cls._fields_:
            lines.append('printf("%s.%s %%zu %%zu\\n", offsetof(%s, %s), sizeof(((%s *)0)->%s));'
                         % (cname, field, cname, field, cname, field))
    lines.append("return 0; }")
    (tmp_path / "s.c").write_text("\n".join(lines))
    cc = subprocess.run(["cc", "-std=c17", "-I", include, "-o", str(tmp_path / "s"),
                         str(tmp_path / "s.c")], capture_output=True, text=True)
    if cc.returncode != 0 and "No such file" in cc.stderr and "cc" in cc.stderr:
        pytest.skip("no C compiler")
    assert cc.returncode == 0, cc.stderr  # a field the header lacks fails here, by name
    c = subprocess.run([str(tmp_path / "s")], capture_output=True, text=True, check=True).stdout
    want = {}
    for cls, cname in STRUCTS.items():
        want["%s.sizeof" % cname] = "%d" % ctypes.sizeof(cls)
        for field, _ in cls._fields_:
            f = getattr(cls, field)
            want["%s.%s" % (cname, field)] = "%d %d" % (f.offset, f.size)
    got = dict(l.split(" ", 1) for l in c.splitlines())
    assert got == want
