"""Record a Bluesky RunEngine's documents live in a Resonance beamtime.

    from resonance_bluesky import Recorder
    RE.subscribe(Recorder("/data/beamtimes"))          # <folder>/<today>.db, or a .db path

Each document goes, as one JSON line, to a `resonance ingest DEST -` child process, which
records it (crash-safe: a killed process loses at most the last second). numpy arrays and
scalars are sent losslessly (integers stay integers, floats keep every digit, NaN and
infinities as Python's json writes them). If the child dies, the next document raises
RecorderError (the RunEngine then ends the run as failed); the child is closed at exit.
"""
import atexit
import json
import math
import os
import shutil
import subprocess

__all__ = ["Recorder", "RecorderError"]


class RecorderError(RuntimeError):
    """The `resonance ingest` child is gone: documents are no longer recorded."""


def _plain(value):
    """json.dumps' default for numpy values: arrays as nested lists, scalars as Python numbers."""
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        return tolist()
    item = getattr(value, "item", None)
    if item is not None:
        return item()
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class Recorder:
    """A RunEngine callback that records every document in a Resonance beamtime.

    dest: a beamtime .db (created if missing) or a folder (the beamtime <label>.db in it).
    label: the beamtime label when dest is a folder (default: today's date).
    sample: the sample of runs whose start document names none.
    executable: the `resonance` program (default: $RESONANCE_EXECUTABLE, else `resonance` on PATH).
    stdout: where the child's summary goes (default: inherited); its errors go to stderr.
    """

    def __init__(self, dest, label=None, sample=None, executable=None, stdout=None):
        exe = executable or os.environ.get("RESONANCE_EXECUTABLE") or shutil.which("resonance")
        if not exe:
            raise RecorderError("the resonance executable was not found: pass executable= or set RESONANCE_EXECUTABLE")
        args = [exe, "ingest", os.fspath(dest), "-"]
        if label:
            args += ["--label", label]
        if sample:
            args += ["--sample", sample]
        self.args = args
        self._proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=stdout)
        self._closed = False
        atexit.register(self.close)

    @property
    def pid(self):
        return self._proc.pid

    def __call__(self, name, doc):
        if self._closed:
            raise RecorderError("the Recorder is closed")
        status = self._proc.poll()
        if status is not None:
            raise RecorderError(f"`{' '.join(self.args)}` exited with status {status}; "
                                f"the {name} document and those after it are not recorded")
        line = json.dumps([name, doc], default=_plain, allow_nan=True) + "\n"
        try:
            self._proc.stdin.write(line.encode())
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError) as error:
            raise RecorderError(f"`{' '.join(self.args)}` stopped reading ({error}); "
                                f"the {name} document and those after it are not recorded") from error

    def close(self, timeout=60):
        """Ends the input and waits for the child to commit; returns its exit status."""
        if self._closed:
            return self._proc.returncode
        self._closed = True
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.terminate()
            return self._proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
