"""keep_freed_memory: a freed large block is reused without new page faults (glibc only).

Each case runs in a fresh interpreter: the setting is process-wide and would change the
memory behaviour of the test process itself.
"""

import subprocess
import sys
import textwrap

import pytest

from keras_binary import host_memory

# Minor page faults of the second malloc / memset / free round of a 64 MiB block, with or
# without keep_freed_memory() first.
_PROBE = textwrap.dedent("""
    import ctypes, importlib.util, resource, sys
    # The module alone, without the package (which would import Keras and a backend).
    spec = importlib.util.spec_from_file_location("host_memory", sys.argv[2])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    applied = module.keep_freed_memory() if sys.argv[1] == "keep" else None
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    size = 64 << 20
    faults = []
    for _ in range(2):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        block = libc.malloc(size)
        ctypes.memset(block, 1, size)
        libc.free(block)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    print(applied, faults[1])
""")


def _glibc() -> bool:
    return host_memory._glibc_mallopt() is not None


def _second_round_faults(mode: str) -> tuple[str, int]:
    result = subprocess.run([sys.executable, "-c", _PROBE, mode, host_memory.__file__],
                            capture_output=True,
                            text=True, check=True, timeout=120)
    applied, faults = result.stdout.split()
    return applied, int(faults)


@pytest.mark.skipif(not _glibc(), reason="mallopt settings exist only in glibc")
def test_freed_block_is_reused_without_page_faults():
    _, default_faults = _second_round_faults("default")
    applied, kept_faults = _second_round_faults("keep")
    assert applied == "True"
    # By default glibc unmaps the block on free, and the next one faults in all of its 16384
    # pages (fewer with transparent huge pages); kept, the block is reused as it is.
    assert default_faults >= 16
    assert kept_faults * 8 <= default_faults


def test_other_c_libraries_report_not_applied(monkeypatch):
    monkeypatch.setattr(host_memory, "_glibc_mallopt", lambda: None)
    assert host_memory.keep_freed_memory() is False
